/* Stand-in for OpenSSL 3's libcrypto.3.dylib. */
void *malloc(unsigned long n);
void *CRYPTO_malloc(unsigned long n, const char *file, int line) { (void)file; (void)line; return malloc(n); }
unsigned long OpenSSL_version_num(void) { return 0x30300010UL; }
int EVP_MD_get_size(const void *md) { (void)md; return 32; }
