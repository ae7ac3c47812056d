/* Three libraries: librpa.so (DT_RPATH to libc's dir) needs librpb.so, which needs librpc.so and
   has no search path of its own: ld.so finds librpc.so only through the DT_RPATH librpb.so
   inherits from its loader, librpa.so. */
#if defined(CHAIN_C)
int chain_c(void) { return 3; }
#elif defined(CHAIN_B)
int chain_c(void);
int chain_b(void) { return 20 + chain_c(); }
#else
int chain_b(void);
int chain_a(void) { return 100 + chain_b(); }
#endif
