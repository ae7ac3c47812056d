/* An extension module that links nothing but libSystem (e.g. lib-dynload/_json): Python's
   symbols are looked up at load time (-undefined dynamic_lookup). MODNAME names it. */
typedef struct _object PyObject;
PyObject *PyModule_Create2(void *def, int api);
static char moduledef[128];
#define CAT(a, b) a##b
#define INIT(n) CAT(PyInit_, n)
__attribute__((visibility("default"))) PyObject *INIT(MODNAME)(void) {
    return PyModule_Create2(moduledef, 1013);
}
