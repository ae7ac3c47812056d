/* Stand-in for macOS libSystem: only the symbols the corpus programs import. */
/* dyld_stub_binder has no leading underscore in the symbol table. */
void dyld_stub_binder(void) __asm__("dyld_stub_binder");
void dyld_stub_binder(void) {}
int printf(const char *fmt, ...) { (void)fmt; return 0; }
void *malloc(unsigned long n) { (void)n; return 0; }
void free(void *p) { (void)p; }
int puts(const char *s) { (void)s; return 0; }
void abort(void) { for (;;) {} }
int weak_hook(int x) { return x; }
