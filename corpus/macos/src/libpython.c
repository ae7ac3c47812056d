/* Stand-in for the CPython 3.11 shared library (the framework's `Python`, or
   libpython3.11.dylib): the entry points the interpreter, the launcher and the extension
   modules use. */
void *dlopen(const char *path, int mode);
int puts(const char *s);

typedef struct _object { long ob_refcnt; void *ob_type; } PyObject;
typedef struct PyModuleDef PyModuleDef;

PyObject _Py_NoneStruct = {1, 0};
static PyObject module_obj = {1, 0};
const char *Py_GetVersion(void) { return PY_VERSION " (main, Apr  2 2024, 08:56:16)"; }
const char *Py_GetPlatform(void) { return "darwin"; }
PyObject *PyModule_Create2(PyModuleDef *def, int api) { (void)def; (void)api; return &module_obj; }
PyObject *PyLong_FromLong(long v) { (void)v; return &_Py_NoneStruct; }
int PyModule_AddIntConstant(PyObject *m, const char *n, long v) { (void)m; (void)n; (void)v; return 0; }
void PyErr_SetString(PyObject *t, const char *msg) { (void)t; puts(msg); }
PyObject *PyExc_ImportError = &_Py_NoneStruct;

/* Imports an extension the way CPython does: dlopen(RTLD_NOW), then PyInit_<name>. */
static void *load_extension(const char *path) { return dlopen(path, 2); }

int Py_BytesMain(int argc, char **argv) {
    (void)argc;
    if (!load_extension(argv[0])) puts("could not load");
    return 0;
}
