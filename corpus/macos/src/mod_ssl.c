/* lib-dynload/_ssl.cpython-311-darwin.so: links the Python library and libssl. */
typedef struct _object PyObject;
PyObject *PyModule_Create2(void *def, int api);
void *SSL_CTX_new(const void *method);
const void *TLS_method(void);
static char moduledef[128];
__attribute__((visibility("default"))) PyObject *PyInit__ssl(void) {
    if (!SSL_CTX_new(TLS_method())) return 0;
    return PyModule_Create2(moduledef, 1013);
}
