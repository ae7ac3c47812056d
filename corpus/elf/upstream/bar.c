int bar(void) { return 34; }
