/* Stand-in for macOS libSystem (install name /usr/lib/libSystem.B.dylib): just the symbols the
   corpus programs import, so they link without an Apple SDK. Never run. */
void dyld_stub_binder(void) __asm__("dyld_stub_binder");
void dyld_stub_binder(void) {}
int printf(const char *fmt, ...) { (void)fmt; return 0; }
int snprintf(char *s, unsigned long n, const char *fmt, ...) { (void)s; (void)n; (void)fmt; return 0; }
int puts(const char *s) { (void)s; return 0; }
void *malloc(unsigned long n) { (void)n; return 0; }
void *calloc(unsigned long n, unsigned long m) { (void)n; (void)m; return 0; }
void free(void *p) { (void)p; }
unsigned long strlen(const char *s) { unsigned long n = 0; while (s[n]) n++; return n; }
char *strrchr(const char *s, int c) { (void)s; (void)c; return 0; }
void *memcpy(void *d, const void *s, unsigned long n) { (void)s; (void)n; return d; }
int memcmp(const void *a, const void *b, unsigned long n) { (void)a; (void)b; (void)n; return 0; }
char *getenv(const char *k) { (void)k; return 0; }
int setenv(const char *k, const char *v, int o) { (void)k; (void)v; (void)o; return 0; }
int execv(const char *p, char *const argv[]) { (void)p; (void)argv; return -1; }
int _NSGetExecutablePath(char *buf, unsigned int *size) { (void)buf; (void)size; return -1; }
char *realpath(const char *p, char *r) { (void)p; return r; }
void *dlopen(const char *p, int mode) { (void)p; (void)mode; return 0; }
void *dlsym(void *h, const char *s) { (void)h; (void)s; return 0; }
const char *dlerror(void) { return 0; }
void abort(void) { for (;;) {} }
void exit(int code) { (void)code; for (;;) {} }
void __stack_chk_fail(void) { for (;;) {} }
unsigned long __stack_chk_guard = 0x5eed;
