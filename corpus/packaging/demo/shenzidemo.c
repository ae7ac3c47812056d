/* The extension module `shenzidemo`: answer() returns what libshenzidemo computes. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

int shenzidemo_answer(int x);

static PyObject *answer(PyObject *self, PyObject *args) {
    (void)self;
    (void)args;
    return PyLong_FromLong(shenzidemo_answer(2));
}

static PyMethodDef methods[] = {
    {"answer", answer, METH_NOARGS, "The answer, from libshenzidemo."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "shenzidemo", NULL, -1, methods};

PyMODINIT_FUNC PyInit_shenzidemo(void) { return PyModule_Create(&module); }
