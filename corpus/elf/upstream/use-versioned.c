#include <stdio.h>
int versioned_value(void);
int versioned_other(void);
int main(void) { printf("versioned:%d\n", versioned_value() + versioned_other()); return 0; }
