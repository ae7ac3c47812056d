// C++ with exceptions, RTTI and a static constructor: exercises __unwind_info LSDA entries,
// personality pointers, __mod_init_func / __init_offsets and typeinfo pointers.
#include <stddef.h>
struct Base { virtual ~Base() {} virtual int f() const { return 1; } };
struct Derived : Base { int f() const override { return 2; } };
extern "C" int puts(const char *);
static int initialized = 0;
struct Init { Init() { initialized = puts("init"); } } init_instance;
extern "C" int cxx_check(int x) {
    Derived d;
    const Base &b = d;
    int r = 0;
    try {
        if (x > 3) throw x;
        r = b.f();
    } catch (int v) {
        r = v;
    }
    return r + initialized + (dynamic_cast<const Derived *>(&b) ? 1 : 0);
}
