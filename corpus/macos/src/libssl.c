/* Stand-in for OpenSSL 3's libssl.3.dylib (links libcrypto.3.dylib). */
void *CRYPTO_malloc(unsigned long n, const char *file, int line);
void *SSL_CTX_new(const void *method) { (void)method; return CRYPTO_malloc(64, "ssl_lib.c", 1); }
void *SSL_new(void *ctx) { (void)ctx; return CRYPTO_malloc(64, "ssl_lib.c", 2); }
const void *TLS_method(void) { return 0; }
