/* errors/: an extension module whose dependency (libnowhere, or a hostile dylib) is the
   error the bundler must report. */
typedef struct _object PyObject;
PyObject *PyModule_Create2(void *def, int api);
int broken_dep_value(void);
static char moduledef[128];
#define CAT(a, b) a##b
#define INIT(n) CAT(PyInit_, n)
__attribute__((visibility("default"))) PyObject *INIT(MODNAME)(void) {
    return broken_dep_value() ? PyModule_Create2(moduledef, 1013) : 0;
}
