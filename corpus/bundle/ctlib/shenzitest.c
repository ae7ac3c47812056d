/* Loaded by name with ctypes.CDLL("libshenzitest.so") by the bundle test apps. */
int shenzi_dep_base(void);
int shenzi_answer(int x) { return shenzi_dep_base() + x; }
