// C++ corpus program: throws across a function boundary and catches, then prints like prog.c.
#include <cmath>
#include <cstdio>
#include <stdexcept>
#include <string>

extern "C" int demo_value(void);

static int checked(int v) {
    if (v != 42 && v != 43) throw std::runtime_error("unexpected " + std::to_string(v));
    throw v;
}

int main(int argc, char **) {
    int got = 0;
    try {
        checked(demo_value());
    } catch (int v) {
        got = v;
    }
    volatile double x = 16.0 * argc;
    std::printf("demo:%d sqrt:%d\n", got, (int)std::sqrt(x));
    return 0;
}
