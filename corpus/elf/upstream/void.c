int void_function(void) { return 0; }
