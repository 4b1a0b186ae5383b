/* dl_iterate_phdr(), interposed: no thread is inside it when the process
 * forks.
 *
 * glibc's dl_iterate_phdr holds the loader's lock while it calls back, and
 * fork() does not take that lock: a child made while another thread was
 * inside it finds it held by a thread it does not have, and its first
 * dl_iterate_phdr waits forever. The runtime calls it all the time, from
 * other threads than the forking one (libunwind does, for each stack not
 * seen before; so do the symbolizer and the link-order check), and the
 * child calls it as soon as it records a handle. So calls go through a
 * gate, which fork's prepare handler closes (rank AL_LOCK_PHDR) once no
 * call is under way, and which the parent and the child open again.
 * Calls the C library makes inside itself are not seen.
 *
 * The runtime's own unwinds pass the same gate (al_gate_enter): libunwind
 * holds a lock of its own, for its cache, as it steps through frames,
 * which a fork child would find held in the same way. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <link.h>
#include <stdatomic.h>
#include <time.h>

#include "internal.h"

typedef int iterate_fn(int (*)(struct dl_phdr_info *, size_t, void *),
                       void *);

/* Calls under way, and whether a fork closed the gate. */
static atomic_uint inside;
static atomic_int closed;
/* This thread's calls under way (a callback may call again), and whether
 * it closed the gate: it passes, whatever it does meanwhile. */
static AL_TLS unsigned depth;
static AL_TLS int closer;

static iterate_fn *real(void) {
  static _Atomic(iterate_fn *) fn;
  iterate_fn *f = atomic_load_explicit(&fn, memory_order_acquire);

  if (f == NULL) {
    f = (iterate_fn *)dlsym(RTLD_NEXT, "dl_iterate_phdr");
    atomic_store_explicit(&fn, f, memory_order_release);
  }
  return f;
}

/* Waits while a fork has the gate closed: as long as the fork takes,
 * bounded by its budget. Spins before it sleeps; only spins under the
 * program's seccomp filter, which may refuse a system call. */
static void enter(void) {
  const struct timespec nap = {0, 50000};

  for (unsigned tries = 0;; tries++) {
    atomic_fetch_add(&inside, 1);
    if (!atomic_load(&closed))
      return;
    atomic_fetch_sub(&inside, 1);
    while (atomic_load(&closed)) {
      if (tries++ < 1024 || al_ending_sealed())
        __asm__ volatile("" ::: "memory");
      else
        nanosleep(&nap, NULL);
    }
  }
}

void al_gate_enter(void) {
  if (depth++ == 0 && !closer)
    enter();
}

void al_gate_leave(void) {
  if (--depth == 0 && !closer)
    atomic_fetch_sub(&inside, 1);
}

AL_EXPORT int dl_iterate_phdr(int (*cb)(struct dl_phdr_info *, size_t,
                                        void *),
                              void *data) {
  iterate_fn *f = real();
  int rc;

  if (f == NULL)
    return 0;
  al_gate_enter();
  rc = f(cb, data);
  al_gate_leave();
  return rc;
}

/* The gate as a lock (lib/locks.c): taken once closed with no call under
 * way but the calling thread's own. */
static int gate_try(void) {
  int expected = 0;

  if (!closer) {
    if (!atomic_compare_exchange_strong(&closed, &expected, 1))
      return 0; /* another thread's fork has it */
    closer = 1;
  }
  return atomic_load(&inside) == (depth > 0 ? 1u : 0u);
}

static void gate_open(void) {
  if (closer) {
    closer = 0;
    atomic_store(&closed, 0);
  }
}

/* In the child, the calls of the threads it does not have are not under
 * way. */
static void gate_child(void) {
  atomic_store(&inside, depth > 0 ? 1u : 0u);
}

/* The real function is found now: libunwind calls it from signal
 * handlers (lib/defer.c), where dlsym is not safe. */
__attribute__((constructor)) static void register_gate(void) {
  real();
  al_lock_register_gate(AL_LOCK_PHDR, gate_try, gate_open, gate_child,
                        "dl_iterate_phdr", AL_LOCK_FOR_REPORT);
}
