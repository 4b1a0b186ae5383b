/* A library that ships the suppressions of its users' known leaks with
 * its code (tests/cli/default-suppressions.sh). A shared library's
 * functions are in its dynamic symbol table: the preloaded runtime finds
 * this one with no flag at the program's link. */
const char *__asyncleak_default_suppressions(void);
void knownleaks_linked(void);

const char *__asyncleak_default_suppressions(void) {
  return "# known leaks of the programs that use this library\n"
         "event_never_freed:^start_known_event$\n";
}

/* Gives the program a reason to link the library. */
void knownleaks_linked(void) {}
