/* The corpus program: prints what its libraries return, so a test can tell which were loaded. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

int demo_value(void);

int main(int argc, char **argv) {
    volatile double x = 16.0 * argc;
    printf("demo:%d sqrt:%d\n", demo_value(), (int)sqrt(x));
    return 0;
}
