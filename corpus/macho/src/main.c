/* A program linked against libfoo: LC_MAIN, imports, a data pointer table. */
extern int foo_apply(int, int);
extern int puts(const char *);
static const char *msgs[] = { "zero", "one", "two" };
int counter = 5;
int *counter_ptr = &counter;
int main(int argc, char **argv) {
    (void)argv;
    puts(msgs[argc % 3]);
    return foo_apply(argc, *counter_ptr);
}
