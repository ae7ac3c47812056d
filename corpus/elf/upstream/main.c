/* Exits with 46 when libfoo and libbar were found. */
int foo(void);
int main(void) { return foo(); }
