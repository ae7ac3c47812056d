/* A small dylib: exported functions, a function-pointer table (rebases), calls into libSystem
 * (binds and lazy binds), a weak import (weak bind) and a weak definition. */
#include <stddef.h>
extern int printf(const char *, ...);
extern void *malloc(unsigned long);
extern void free(void *);
extern int weak_hook(int) __attribute__((weak_import));

int foo_triple(int x) { return x * 3; }
int foo_square(int x) { return x * x; }
__attribute__((weak)) int foo_weak(int x) { return x + 7; }

static int (*table[])(int) = { foo_triple, foo_square, foo_weak };
const char *names[] = { "triple", "square", "weak" };
void *hooks[] = { (void *)&printf, (void *)&malloc };

int foo_apply(int i, int x) {
    void *p = malloc(16);
    free(p);
    if (weak_hook) x = weak_hook(x);
    printf("%s\n", names[i % 3]);
    return table[i % 3](x);
}
