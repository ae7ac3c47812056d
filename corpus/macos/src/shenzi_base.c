/* shenzifix/.dylibs/libshenzi_base.dylib: found by the @rpath of a loader up the chain. */
int shenzi_base_value(void) { return 42; }
