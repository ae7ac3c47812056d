/* An executable whose program header table will be moved to end where `adjacent` starts (see
   move-pht.py): growing it must move the table, and the kernel must still find it. */
#include <stdio.h>

__attribute__((section(".pht"), used, aligned(16))) const char pht_room[1024] = {0};
__attribute__((section(".adjacent_data"), used, aligned(1)))
const char adjacent[17] = "zzzzzzzzzzzzzzzz";

int main(void) {
    printf("adjacent:%s\n", adjacent);
    return 0;
}
