/* libextra.so: announces itself when loaded (for add-needed tests). */
#include <stdio.h>

__attribute__((constructor)) static void announce(void) { printf("extra:loaded\n"); fflush(stdout); }
