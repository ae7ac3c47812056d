int bar(void);
int foo(void) { return 12 + bar(); }
