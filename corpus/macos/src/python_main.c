/* The interpreter executable: Python.app/Contents/MacOS/Python in framework builds,
   bin/python3.11 in shared (pyenv) builds. */
int Py_BytesMain(int argc, char **argv);
int main(int argc, char **argv) { return Py_BytesMain(argc, argv); }
