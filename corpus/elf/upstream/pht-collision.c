/* The program header table is copied into `pht_room` after linking (see build.sh), so that it
   ends exactly where `adjacent` starts: nothing after the table can move to make room. */
__attribute__((section(".pht"), used, aligned(16))) const char pht_room[1024] = {0};
__attribute__((section(".adjacent_data"), used, aligned(1)))
const char adjacent[16] = "zzzzzzzzzzzzzzzz";

int pht_value(void) { return adjacent[0]; }
