/* The framework's bin/python3.11: a small stub (like CPython's Mac/Tools/pythonw.c) that
   re-executes Resources/Python.app/Contents/MacOS/Python with __PYVENV_LAUNCHER__ set to
   the path it was started as, so that sys.executable names the stub (or a venv's link). */
int _NSGetExecutablePath(char *buf, unsigned int *size);
int setenv(const char *k, const char *v, int o);
int execv(const char *p, char *const argv[]);
int snprintf(char *s, unsigned long n, const char *fmt, ...);
const char *Py_GetVersion(void);

int main(int argc, char **argv) {
    char self[1024], app[1200];
    unsigned int n = sizeof self;
    (void)argc;
    if (_NSGetExecutablePath(self, &n) != 0) return 1;
    setenv("__PYVENV_LAUNCHER__", self, 1);
    snprintf(app, sizeof app, "%s/../Resources/Python.app/Contents/MacOS/Python", self);
    execv(app, argv);
    return Py_GetVersion() ? 2 : 3;
}
