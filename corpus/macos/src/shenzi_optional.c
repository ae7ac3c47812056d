/* Link-time stand-in for an optional library that the shipped package does not contain:
   shenzifix links it weakly (LC_LOAD_WEAK_DYLIB) and runs without it. */
int shenzi_optional_feature(void) { return 1; }
