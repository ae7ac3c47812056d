/* Two different libraries with the same file name, libclash.so: CLASH_VALUE differs. */
int clash_value(void) { return CLASH_VALUE; }
