/* A shared library from outside any wheel: the extension module below links it, and
 * `auditwheel repair` has to graft it into the wheel. */
int shenzidemo_answer(int x) { return 40 + x; }
