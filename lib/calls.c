/* Whose call is it (calls.h). */
#include <errno.h>

#include "calls.h"

int al_call_enter(struct al_calls *t, struct al_loopsyms *lib,
                  const void *caller, const void *obj) {
  int saved = errno, program;

  al_loopsyms_ensure(lib);
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
