/* Whose call is it (calls.h). */
#include <errno.h>

#include "calls.h"

/* Asking where the caller's code lies may call into the loader, which
 * may set errno: the program's is kept here. */
int al_call_enter_judged(struct al_calls *t, struct al_loopsyms *lib,
                         const void *caller, const void *obj) {
  int saved = errno, program;

  if (t->depth++ == 0) {
    t->outer = obj;
    program = caller == NULL || !(lib->flags & AL_SYMS_CALLS_ITSELF) ||
              !al_loopsyms_owns(lib, caller);
  } else {
    program = caller != NULL && obj != t->outer &&
              !al_loopsyms_owns(lib, caller);
  }
  errno = saved;
  return program;
}
