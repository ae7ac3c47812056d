/* A static PIE: relocates itself through _DYNAMIC, so its dynamic table must never move. */
#include <stdio.h>

int main(void) {
    printf("static:ok\n");
    return 0;
}
