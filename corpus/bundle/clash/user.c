/* liba.so / libb.so: each built against its own libclash.so (absolute run path). */
int clash_value(void);
int USER_FN(void) { return 100 + clash_value(); }
