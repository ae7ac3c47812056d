/* libdemo.so: the library the corpus program needs. Uses libm so the library has needs too. */
#include <math.h>

int demo_value(void) {
    volatile double x = 1764.0;
    return (int)sqrt(x);
}
