/* shenzifix/.dylibs/libshenzi_util.dylib: stale absolute id, no header room left, and an
   @rpath dependency it cannot resolve with rpaths of its own (it has none). */
int shenzi_base_value(void);
int shenzi_util_hash(const char *s) {
    int h = shenzi_base_value();
    while (*s) h = h * 31 + *s++;
    return h;
}
