/* Finding a loop library's real functions, and knowing its code: written
 * once for every shim. A shim describes its library in one struct
 * al_loopsyms (its name, the objects that hold it, the names of the
 * functions it needs, whether it may be loaded on demand); the core finds
 * the functions, remembers them, warns once per name it cannot find, tells
 * whether an address lies in the library's code, and forgets all of it
 * when the library is unloaded. Private to the runtime. */
#ifndef ASYNCLEAK_LOOPSYMS_H_
#define ASYNCLEAK_LOOPSYMS_H_

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "internal.h"

/* Code ranges a library remembers, each its own or not. */
#define AL_CODE_RANGES 16

enum {
  /* The library's names are its own: a definition found in any loaded
   * object is the library's, and that object's code is its code (libuv,
   * also when another object carries it). Without it, only objects its
   * name matches are (libev exports libevent's 1.x names). */
  AL_SYMS_ANY_OBJECT = 1,
  /* The library calls its own public functions from code that runs
   * outside any interposer (libevent's loop makes and adds events of its
   * own for bufferevents, evhttp and evdns): a call from its code is its
   * own even with no interposer on the stack. Without it, the outermost
   * call is the program's wherever it comes from (libuv: a program that
   * carries its own copy of libuv, exported, calls it from the same code
   * that holds the copy). */
  AL_SYMS_CALLS_ITSELF = 2,
};

/* What the core keeps of one of the library's functions. */
struct al_loopsym {
  _Atomic(void *) real; /* the function found, or NULL */
  atomic_int own;       /* found in the library's own object */
  atomic_int warned;    /* warned about as missing */
};

/* One loop library. The description is the shim's, set statically; the
 * array syms is the shim's too, nfuncs long and zero-initialised; every
 * other member is the core's and starts zeroed. */
struct al_loopsyms {
  /* ------------------------------------------------- the description */
  const char *name;           /* "libuv", in messages */
  int id;                     /* AL_LIB_*: objects so named are its own;
                                 AL_LIB_OTHER: none by name */
  const char *const *objects; /* its objects, searched in order when
                                 dlsym(RTLD_NEXT) finds nothing;
                                 NULL-terminated */
  const char *load;           /* the object to load when no loaded object
                                 has a function (a program linked with
                                 libasyncleak, its calls all bound to the
                                 runtime, lost its dependency on the
                                 library); NULL: never loaded */
  const char *const *funcs;   /* the functions' names, nfuncs of them */
  unsigned nfuncs;
  unsigned flags;             /* AL_SYMS_* */
  const char *missing;        /* what a function not found means for the
                                 program's call: "the call fails" */
  void (*init)(void);         /* the shim's set-up, run once before the
                                 first call is judged (al_loopsyms_ensure) */
  struct al_loopsym *syms;    /* one for each of funcs */

  /* ------------------------------------------------- the core's state */
  pthread_once_t once;
  atomic_int ready;
  /* The library's main object's code, from the first of its own
   * functions found: the first place looked at, and what tells that the
   * library was unloaded. 0 until known. */
  _Atomic uintptr_t lo, hi;
  /* Other code ranges looked at already, each the library's or not, so
   * that telling the program's calls from the library's costs a few
   * compares. Added to under busy, never waited for: a thread that finds
   * it taken (a signal handler on a thread in the middle of adding, or a
   * fork child of one) answers without caching. */
  struct {
    _Atomic uintptr_t lo, hi;
    atomic_int own;
  } range[AL_CODE_RANGES];
  atomic_int nranges;
  atomic_int busy;
};

/* Runs the library's init once, before anything else of it is used; any
 * thread may call it, from any interposer. Keeps errno. */
void al_loopsyms_init(struct al_loopsyms *s);

static inline void al_loopsyms_ensure(struct al_loopsyms *s) {
  if (AL_UNLIKELY(!atomic_load_explicit(&s->ready, memory_order_acquire)))
    al_loopsyms_init(s);
}

/* Finds the library's function number i and remembers it: the next
 * definition after the runtime's (dlsym(RTLD_NEXT)); else the one in the
 * library's objects (a library loaded into a local scope, by
 * dlopen(RTLD_LOCAL) or Lua's require "luv", is not "next"); else, with
 * AL_SYMS_ANY_OBJECT, the one in any loaded object; else the one in
 * s->load, loaded for it and never unloaded. Never self, the runtime's
 * own definition. NULL, with a warning once per name, when none is found.
 * May call into the loader: not async-signal-safe, like the first call of
 * any function through the PLT. */
void *al_loopsyms_resolve(struct al_loopsyms *s, unsigned i, void *self);

/* The function number i, found on first use. */
static inline void *al_loopsyms_get(struct al_loopsyms *s, unsigned i,
                                    void *self) {
  void *p = atomic_load_explicit(&s->syms[i].real, memory_order_acquire);
  return AL_LIKELY(p != NULL) ? p : al_loopsyms_resolve(s, i, self);
}

/* Whether function number i, once found, is the library's own (and not a
 * definition of the same name in another library's object: libev's
 * event_set for libevent's). 0 until found. */
static inline int al_loopsyms_own(const struct al_loopsyms *s, unsigned i) {
  return atomic_load_explicit(&s->syms[i].own, memory_order_relaxed);
}

/* Whether pc lies in the library's code: in the object its own functions
 * were found in, or in an object named as the library (s->id). 0 for an
 * address no loaded object holds (generated code). Cached; keeps errno. */
int al_loopsyms_owns(struct al_loopsyms *s, const void *pc);

/* Whether pc lies in the code of the object the library's own functions
 * were found in, as far as known already: loads only, for any context,
 * a signal handler's included. */
static inline int al_loopsyms_main_owns(const struct al_loopsyms *s,
                                        const void *pc) {
  uintptr_t a = (uintptr_t)pc,
            lo = atomic_load_explicit(&s->lo, memory_order_acquire);

  return lo != 0 && a >= lo &&
         a < atomic_load_explicit(&s->hi, memory_order_relaxed);
}

/* After a dlclose: whether the library's main object is gone. Then every
 * function found and every code range is forgotten, to be found again if
 * the library is loaded anew. Another thread calling the library while it
 * is unloaded is the program's own fault. */
int al_loopsyms_unloaded(struct al_loopsyms *s);

#endif /* ASYNCLEAK_LOOPSYMS_H_ */
