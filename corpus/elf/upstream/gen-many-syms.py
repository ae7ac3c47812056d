#!/usr/bin/env python3
"""Writes many-syms.c (a library of N functions and N data words) and many-syms-main.c (a
program that uses all of them and checks the sum), for the symbol-rename tests."""
import sys

out, n = sys.argv[1], int(sys.argv[2])
with open(f"{out}/many-syms.c", "w") as f:
    for i in range(n):
        f.write(f"int many_data_{i} = {i};\n")
        f.write(f"int many_fn_{i}(void) {{ return many_data_{i} + 1; }}\n")
with open(f"{out}/many-syms-main.c", "w") as f:
    f.write("#include <stdio.h>\n")
    for i in range(n):
        f.write(f"extern int many_data_{i}; int many_fn_{i}(void);\n")
    f.write("int main(void) {\n  long s = 0;\n")
    for i in range(n):
        f.write(f"  s += many_fn_{i}() + many_data_{i};\n")
    f.write('  printf("many:%ld\\n", s);\n  return 0;\n}\n')
