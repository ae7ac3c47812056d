/* Needed by libshenzitest.so: found through the run's LD_LIBRARY_PATH, so the bundle must carry
   it and an rpath to it. */
int shenzi_dep_base(void) { return 40; }
