/* Isolation of tests: what a test that failed its check left open or
 * pending is set aside, so that the tests after it neither wait for it nor
 * have its callbacks run into them (docs/harness.md). Set aside means two
 * things. The records are left out of every later drain's count of
 * outstanding work: a later teardown does not wait for them. And each
 * handle still active, on a loop the calling thread owns and is not
 * running, is quieted by its shim: stopped when it calls the program back
 * by itself (a timer), else unreferenced, so that it no longer keeps the
 * loop running. Nothing is closed, freed or cancelled: the program may
 * still close, restart or free what it made, as it would have. Handles
 * that lie on the thread's stack (perhaps in a returned test's frame),
 * those of a loop that lies in a returned test's frame, and those of loops
 * other threads run, are not touched, only left out of the drains. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "internal.h"

/* ------------------------------------------------------------ dead stack */

struct al_dead_stack al_dead_stack(uintptr_t from) {
  struct al_dead_stack d = {0, 0, 0};
  pthread_attr_t attr;
  void *lo = NULL;
  size_t size = 0;

  if (pthread_getattr_np(pthread_self(), &attr) != 0)
    return d;
  pthread_attr_getstack(&attr, &lo, &size);
  pthread_attr_destroy(&attr);
  d.lo = (uintptr_t)lo;
  d.hi = from;
  d.top = (uintptr_t)lo + size;
  return d;
}

/* ------------------------------------------------------------ the set */

/* The seqs of the records set aside, sorted. A seq is never given twice,
 * so an entry whose record has since closed is harmless; the set grows
 * only with what failed tests leave, and stops at a bound. */
#define ISOLATED_MAX 65536

static pthread_mutex_t set_lock = PTHREAD_MUTEX_INITIALIZER;
AL_LOCK_REGISTER(AL_LOCK_ISOLATED, set_lock, 0)
static uint64_t *set;
static size_t nset, capset;
static atomic_size_t nset_seen; /* nset, read without the lock */

static int by_seq(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return (x > y) - (x < y);
}

/* Adds seq: 0, or -1 past the bound or without memory. */
static int set_add(uint64_t seq) {
  int rc = 0;

  al_mutex_lock(&set_lock);
  if (nset == capset) {
    size_t cap = capset ? 2 * capset : 64;
    uint64_t *p = cap <= ISOLATED_MAX ? realloc(set, cap * sizeof(*p)) : NULL;
    if (p == NULL) {
      rc = -1;
      goto out;
    }
    set = p;
    capset = cap;
  }
  set[nset++] = seq;
  /* Tests fail one after another: seqs mostly arrive in order. */
  if (nset > 1 && set[nset - 2] > seq)
    qsort(set, nset, sizeof(*set), by_seq);
  atomic_store_explicit(&nset_seen, nset, memory_order_relaxed);
out:
  al_mutex_unlock(&set_lock);
  return rc;
}

int al_isolated(uint64_t seq) {
  int found;

  if (atomic_load_explicit(&nset_seen, memory_order_relaxed) == 0)
    return 0;
  al_mutex_lock(&set_lock);
  found = bsearch(&seq, set, nset, sizeof(*set), by_seq) != NULL;
  al_mutex_unlock(&set_lock);
  return found;
}

/* ------------------------------------------------------------ quieting */

/* Whether the calling thread may act on the loop at addr: it owns it (runs
 * it, or made it and no thread ran it), the loop is the one the record
 * was made on and still alive, outside dead memory, and not running. */
static int loop_ours(uintptr_t addr, const struct al_res *r,
                     const struct al_dead_stack *dead) {
  const struct al_shim *sh = al_shims[r->shim];
  struct al_loop l;
  pid_t owner;

  if (sh == NULL || al_in_dead_stack(dead, addr) ||
      al_loop_get(addr, &l) != 0 || r->seq < l.first_seq ||
      (l.flags & (AL_LOOP_INHERITED | AL_LOOP_REPLACED | AL_LOOP_UNLOADED |
                  AL_LOOP_FREED)))
    return 0;
  owner = l.run_tid ? l.run_tid : l.tid;
  if (owner != al_gettid())
    return 0;
  if (sh->claim != NULL && !sh->claim(addr))
    return 0; /* closed behind our back */
  return !al_run_here(l.shim, addr);
}

/* Quiets one handle: AL_QUIET_*, or -1 when there is nothing to quiet
 * (inactive, closing, or no longer the handle recorded). */
static int quiet(const struct al_res *r, const struct al_dead_stack *dead) {
  const struct al_shim *sh = al_shims[r->shim];
  struct al_state st = {0};

  if (sh == NULL || sh->probe == NULL)
    return -1;
  sh->probe(r, &st);
  if (!st.known || st.internal || st.closing || !st.active)
    return -1;
  /* A handle on the stack may be a returned test's, its memory reused
   * by the frames now there: it is not written to. */
  if (sh->quiet == NULL || al_in_stack(dead, r->addr) ||
      !loop_ours(r->loop, r, dead))
    return AL_QUIET_LEFT;
  return sh->quiet(r->addr);
}

void al_isolate(const struct al_res *res, size_t n,
                const struct al_dead_stack *dead, struct al_isolated *out) {
  *out = (struct al_isolated){0};
  al_init();
  for (size_t i = 0; i < n; i++) {
    const struct al_res *r = &res[i];
    int done;

    if (set_add(r->seq) != 0)
      out->dropped++;
    if (r->state == AL_RES_PENDING) {
      out->requests++;
      continue;
    }
    out->handles++;
    if (r->state != AL_RES_OPEN)
      continue; /* closing: it holds no callback but its close's */
    done = quiet(r, dead);
    if (done == AL_QUIET_STOPPED)
      out->stopped++;
    else if (done == AL_QUIET_UNREFERENCED)
      out->unreferenced++;
    else if (done == AL_QUIET_LEFT)
      out->active++;
  }
}
