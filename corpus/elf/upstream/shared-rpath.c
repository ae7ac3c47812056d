/* A library whose rpath string is also the name of one of its symbols: the linker stores the
   two as one string of .dynstr. */
int a_symbol_name;

int shared_rpath_value(void) { return a_symbol_name + 7; }
