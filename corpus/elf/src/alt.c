/* libalt.so: a replacement for libdemo.so that answers differently. */
int demo_value(void) { return 43; }
