/* lib-dynload/_hashlib.cpython-311-darwin.so: libcrypto only; Python symbols are looked up
   at load time (-undefined dynamic_lookup, as CPython builds its modules). */
typedef struct _object PyObject;
PyObject *PyModule_Create2(void *def, int api);
int EVP_MD_get_size(const void *md);
static char moduledef[128];
__attribute__((visibility("default"))) PyObject *PyInit__hashlib(void) {
    return EVP_MD_get_size(0) ? PyModule_Create2(moduledef, 1013) : 0;
}
