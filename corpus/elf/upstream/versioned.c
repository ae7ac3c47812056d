int versioned_value(void) { return 5; }
int versioned_other(void) { return 6; }
