/* Finding a loop library's real functions and knowing its code
 * (loopsyms.h), for every shim alike. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <link.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>

#include "libnames.h"
#include "loopsyms.h"

void al_loopsyms_init(struct al_loopsyms *s) {
  int saved = errno;

  pthread_once(&s->once, s->init);
  atomic_store_explicit(&s->ready, 1, memory_order_release);
  errno = saved;
}

/* Whether the object holding addr is, by its name, the library (libuv.so.1,
 * libevent_core-2.1.so.7 ...). A program's own libevent_bus.so is not. */
static int named_own(const struct al_loopsyms *s, const void *addr) {
  Dl_info info;

  if (s->id == AL_LIB_OTHER || !dladdr(addr, &info) || info.dli_fname == NULL)
    return 0;
  return al_loop_library_name(info.dli_fname) == s->id;
}

#define MAX_OBJECTS 512

struct objects {
  const char *name[MAX_OBJECTS];
  int n;
};

static int collect_object(struct dl_phdr_info *info, size_t size, void *arg) {
  struct objects *o = arg;

  (void)size;
  if (info->dlpi_name != NULL && info->dlpi_name[0] != '\0' &&
      o->n < MAX_OBJECTS)
    o->name[o->n++] = info->dlpi_name;
  return 0;
}

/* The definition of name in any loaded object but self's, the executable
 * excepted (its definitions are reached by dlsym(RTLD_NEXT) or not at
 * all). */
static void *in_any_object(const char *name, void *self) {
  struct objects o;
  void *p = NULL;

  o.n = 0;
  dl_iterate_phdr(collect_object, &o);
  for (int k = 0; k < o.n && p == NULL; k++)
    p = al_dlsym_in(o.name[k], name, self);
  return p;
}

/* Remembers the code holding fn as the library's main object's, once. */
static void note_main_object(struct al_loopsyms *s, void *fn) {
  uintptr_t lo, hi;

  if (atomic_load_explicit(&s->lo, memory_order_relaxed) != 0 ||
      al_code_range((uintptr_t)fn, &lo, &hi, NULL) != 0)
    return;
  atomic_store_explicit(&s->hi, hi, memory_order_relaxed);
  atomic_store_explicit(&s->lo, lo, memory_order_release);
}

void *al_loopsyms_resolve(struct al_loopsyms *s, unsigned i, void *self) {
  const char *name = s->funcs[i];
  void *p = dlsym(RTLD_NEXT, name);
  int own;

  if (p == self)
    p = NULL;
  for (size_t k = 0; p == NULL && s->objects[k] != NULL; k++)
    p = al_dlsym_in(s->objects[k], name, self);
  if (p == NULL && (s->flags & AL_SYMS_ANY_OBJECT))
    p = in_any_object(name, self);
  if (p == NULL && s->load != NULL) {
    /* Loaded into a scope of its own, so that it binds nothing the
     * program already has; never unloaded. */
    void *h = dlopen(s->load, RTLD_NOW | RTLD_LOCAL);
    if (h != NULL && (p = dlsym(h, name)) == self)
      p = NULL;
  }
  if (p == NULL) {
    if (!atomic_exchange(&s->syms[i].warned, 1))
      al_warn("cannot find %s's '%s'; %s", s->name, name, s->missing);
    return NULL;
  }
  own = (s->flags & AL_SYMS_ANY_OBJECT) || named_own(s, p);
  if (own)
    note_main_object(s, p);
  atomic_store_explicit(&s->syms[i].own, own, memory_order_relaxed);
  atomic_store_explicit(&s->syms[i].real, p, memory_order_release);
  return p;
}

/* Adds a range, unless the cache is full or another adder is at it. */
static void remember(struct al_loopsyms *s, uintptr_t lo, uintptr_t hi,
                     int own) {
  int n;

  if (atomic_exchange_explicit(&s->busy, 1, memory_order_acquire))
    return;
  n = atomic_load_explicit(&s->nranges, memory_order_relaxed);
  if (n < AL_CODE_RANGES) {
    atomic_store_explicit(&s->range[n].own, own, memory_order_relaxed);
    atomic_store_explicit(&s->range[n].hi, hi, memory_order_relaxed);
    atomic_store_explicit(&s->range[n].lo, lo, memory_order_relaxed);
    atomic_store_explicit(&s->nranges, n + 1, memory_order_release);
  }
  atomic_store_explicit(&s->busy, 0, memory_order_release);
}

int al_loopsyms_owns(struct al_loopsyms *s, const void *pc) {
  uintptr_t a = (uintptr_t)pc, lo, hi;
  int n = atomic_load_explicit(&s->nranges, memory_order_acquire);
  int saved, own;

  lo = atomic_load_explicit(&s->lo, memory_order_acquire);
  if (lo != 0 && a >= lo && a < atomic_load_explicit(&s->hi,
                                                     memory_order_relaxed))
    return 1;
  for (int i = 0; i < n; i++) {
    lo = atomic_load_explicit(&s->range[i].lo, memory_order_relaxed);
    if (a >= lo &&
        a < atomic_load_explicit(&s->range[i].hi, memory_order_relaxed))
      return atomic_load_explicit(&s->range[i].own, memory_order_relaxed);
  }
  /* The loader's answers, once per object. */
  saved = errno;
  if (al_code_range(a, &lo, &hi, NULL) != 0) {
    errno = saved;
    return 0;
  }
  own = named_own(s, pc);
  remember(s, lo, hi, own);
  errno = saved;
  return own;
}

int al_loopsyms_unloaded(struct al_loopsyms *s) {
  uintptr_t lo = atomic_load_explicit(&s->lo, memory_order_relaxed), a, b;

  if (lo == 0 || al_code_range(lo, &a, &b, NULL) == 0)
    return 0;
  for (unsigned i = 0; i < s->nfuncs; i++) {
    atomic_store_explicit(&s->syms[i].real, NULL, memory_order_relaxed);
    atomic_store_explicit(&s->syms[i].own, 0, memory_order_relaxed);
  }
  atomic_store_explicit(&s->lo, 0, memory_order_relaxed);
  atomic_store_explicit(&s->hi, 0, memory_order_relaxed);
  /* An adder holds it for four stores: wait that out, a bounded while (in
   * a fork child, an adder that was copied holding it never lets go). */
  for (int i = 0; i < 1000 && atomic_exchange_explicit(&s->busy, 1,
                                                       memory_order_acquire);
       i++)
    sched_yield();
  atomic_store_explicit(&s->nranges, 0, memory_order_release);
  atomic_store_explicit(&s->busy, 0, memory_order_release);
  return 1;
}
