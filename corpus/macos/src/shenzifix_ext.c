/* shenzifix/_fix.cpython-311-darwin.so: uses libshenzi_core (and, through its re-export,
   libshenzi_util), and an optional weakly linked library that may be absent. */
typedef struct _object PyObject;
PyObject *PyModule_Create2(void *def, int api);
int shenzi_core_version(void);
int shenzi_util_hash(const char *s);
extern int shenzi_optional_feature(void) __attribute__((weak_import));
static char moduledef[128];
__attribute__((visibility("default"))) PyObject *PyInit__fix(void) {
    int v = shenzi_core_version() + shenzi_util_hash("shenzi");
    if (shenzi_optional_feature) v += shenzi_optional_feature();
    return v ? PyModule_Create2(moduledef, 1013) : 0;
}
