/* Whose call is it: the program's, or the loop library's own? Written once
 * for every shim.
 *
 * Loop libraries call their own public functions through the PLT, so the
 * interposers see the library's internal calls too (uv_loop_init making
 * the loop's own handles, event_new calling event_assign). Each thread
 * counts, per library, the interposers on its stack and remembers the
 * object the outermost is about:
 *
 * - the outermost call is the program's; with AL_SYMS_CALLS_ITSELF, not
 *   when it comes from the library's code;
 * - a nested call is the library's own, unless it is about another object
 *   and does not come from the library's code: then a signal handler
 *   interrupted the program's call and made a call of its own. A nested
 *   call about the same object is the library's even with the program's
 *   return address (a tail call leaves it);
 * - a callback of the program's that the library runs inside an
 *   interposer starts afresh (al_call_callback_begin), and the count is
 *   given back after it.
 *
 * errno is the program's throughout: al_call_enter keeps it. Private to
 * the runtime. */
#ifndef ASYNCLEAK_CALLS_H_
#define ASYNCLEAK_CALLS_H_

#include "loopsyms.h"

/* One thread's count for one library: an AL_TLS variable of the shim's,
 * zero-initialised. */
struct al_calls {
  unsigned depth;    /* interposers of the library on the thread's stack */
  const void *outer; /* the object the outermost is about, or NULL */
};

/* The judgement of al_call_enter, for every call but the common one. */
int al_call_enter_judged(struct al_calls *t, struct al_loopsyms *lib,
                         const void *caller, const void *obj);

/* Enters an interposer of lib about obj (NULL: none in particular),
 * called from caller (the interposer's return address; NULL: judge by the
 * count only). Runs the library's init first. Returns 1 when the program
 * made this call, 0 when the library did. Every call is matched by one
 * al_call_leave. Keeps errno. Inline for the common case, the outermost
 * call of a library that does not call itself: a handful of
 * instructions on the path of every call the program makes. */
static inline int al_call_enter(struct al_calls *t, struct al_loopsyms *lib,
                                const void *caller, const void *obj) {
  al_loopsyms_ensure(lib);
  if (AL_LIKELY(t->depth == 0) &&
      (caller == NULL || !(lib->flags & AL_SYMS_CALLS_ITSELF))) {
    t->depth = 1;
    t->outer = obj;
    return 1;
  }
  return al_call_enter_judged(t, lib, caller, obj);
}

static inline void al_call_leave(struct al_calls *t) {
  t->depth--;
}

/* Around the runtime's own calls into the library (a drain's timer, a
 * forced close): what they make is not the program's. */
static inline void al_call_own_begin(struct al_calls *t) {
  t->depth++;
}

static inline void al_call_own_end(struct al_calls *t) {
  t->depth--;
}

/* Whether no interposer of the library is on the thread's stack: a call
 * arriving now is the program's. */
static inline int al_call_outside(const struct al_calls *t) {
  return t->depth == 0;
}

/* Around a callback of the program's that the library runs inside one of
 * the interposers (an evdns_getaddrinfo answered at once): the program's
 * calls in it are its own. begin saves the count in *s and clears it; end
 * puts it back. */
struct al_call_scope {
  unsigned depth;
  const void *outer;
};

static inline void al_call_callback_begin(struct al_calls *t,
                                          struct al_call_scope *s) {
  s->depth = t->depth;
  s->outer = t->outer;
  t->depth = 0;
  t->outer = NULL;
}

static inline void al_call_callback_end(struct al_calls *t,
                                        const struct al_call_scope *s) {
  t->depth = s->depth;
  t->outer = s->outer;
}

#endif /* ASYNCLEAK_CALLS_H_ */
