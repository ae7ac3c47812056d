/* errors/: the dependency of broken_ext.c (absent from the tree, or truncated there). */
int broken_dep_value(void) { return 7; }
