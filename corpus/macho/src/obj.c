/* An object file's worth of everything that records a file offset: code and data sections
 * with relocations (calls, global references, a pointer table), a zero-fill section, a
 * data-in-code region (LC_DATA_IN_CODE), linker optimisation hints on arm64 at -O2
 * (LC_LINKER_OPTIMIZATION_HINT), and the symbol and string tables. */
extern int printf(const char *, ...);
extern int obj_external(int);

int obj_counter;                       /* zero-fill (common, or __bss with -fno-common) */
static int obj_values[] = { 3, 5, 7, 11 };
int (*obj_hooks[])(int) = { obj_external };
const char *obj_greeting = "hello from an object file";

/* A jump-table-like data region inside __text. */
__asm__(".text\n"
        ".p2align 2\n"
        ".globl _obj_table\n"
        "_obj_table:\n"
        ".data_region jt32\n"
        ".long 1, 2, 3, 4\n"
        ".end_data_region\n");

int obj_sum(int n) {
    int s = obj_counter;
    for (int i = 0; i < n && i < 4; i++)
        s += obj_values[i];
    obj_counter = s;
    return s;
}

int obj_call(int x) {
    printf("%s %d\n", obj_greeting, x);
    return obj_hooks[0](obj_sum(x));
}
