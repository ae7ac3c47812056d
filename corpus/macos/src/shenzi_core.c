/* shenzifix/.dylibs/libshenzi_core.dylib: re-exports libshenzi_util (LC_REEXPORT_DYLIB), and
   carries the same LC_RPATH twice. */
int shenzi_core_version(void) { return 3; }
