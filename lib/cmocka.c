/* The cmocka fixtures. They need nothing of cmocka's: a fixture is an
 * int (*)(void **), and a teardown that returns non-zero fails its test. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

#include "asyncleak.h"
#include "asyncleak_cmocka.h"
#include "internal.h"

/* The moment the calling thread's test began. */
static AL_TLS asyncleak_snapshot *began;

AL_EXPORT int asyncleak_cmocka_setup(void **state) {
  (void)state;
  asyncleak_snapshot_free(began);
  began = asyncleak_snapshot_take();
  return began != NULL ? 0 : -1;
}

/* The part of this thread's stack below the caller's frame: the frames of
 * tests that have returned, and ours. */
struct dead_stack {
  uintptr_t lo, hi;
};

static struct dead_stack dead_stack(uintptr_t live_from) {
  struct dead_stack d = {0, 0};
  pthread_attr_t attr;
  void *lo = NULL;
  size_t size = 0;

  if (pthread_getattr_np(pthread_self(), &attr) != 0)
    return d;
  pthread_attr_getstack(&attr, &lo, &size);
  pthread_attr_destroy(&attr);
  d.lo = (uintptr_t)lo;
  d.hi = live_from;
  return d;
}

static int in(const struct dead_stack *d, uintptr_t addr) {
  return addr >= d->lo && addr < d->hi;
}

/* Whether the loop, or something of the program's on it, lived in a
 * returned test's frame: that memory is gone, and running the loop would
 * have libuv walk it. What was there is reported, not run. */
static int touches_dead_stack(const struct al_loop *l,
                              const struct dead_stack *d) {
  struct al_res *res;
  size_t n;
  int dead = in(d, l->addr);

  if (dead)
    return 1;
  n = al_res_on_loop(l->addr, l->first_seq,
                     1u << AL_RES_OPEN | 1u << AL_RES_CLOSING |
                         1u << AL_RES_PENDING,
                     &res);
  for (size_t i = 0; i < n && !dead; i++)
    dead = in(d, res[i].addr);
  free(res);
  return dead;
}

/* Drains this thread's loops within one drain_timeout_ms in all. */
static void drain_mine(uintptr_t live_from) {
  struct dead_stack dead = dead_stack(live_from);
  struct al_loop *loops;
  size_t n = al_loop_list(&loops);
  uint64_t end = al_now_ms() + (uint64_t)al_opt.drain_timeout_ms;
  pid_t self = al_gettid();

  for (size_t i = 0; n != (size_t)-1 && i < n; i++) {
    const struct al_loop *l = &loops[i];
    pid_t owner = l->run_tid ? l->run_tid : l->tid;
    uint64_t now = al_now_ms();
    if (owner != self || (l->flags & (AL_LOOP_INHERITED | AL_LOOP_REPLACED)))
      continue;
    if (touches_dead_stack(l, &dead)) {
      al_warn("loop %lu holds memory of a test that has returned; it is "
              "not drained", (unsigned long)l->serial);
      continue;
    }
    if (asyncleak_drain((void *)l->addr,
                        now < end ? (unsigned)(end - now) : 0) ==
            (size_t)-1 &&
        errno == EDEADLK)
      al_warn("loop %lu is running on this thread; it is not drained",
              (unsigned long)l->serial);
  }
  free(loops);
}

AL_EXPORT int asyncleak_cmocka_teardown(void **state) {
  size_t left;

  (void)state;
  al_init();
  drain_mine((uintptr_t)__builtin_frame_address(0));
  left = asyncleak_check_since(began, stderr);
  asyncleak_snapshot_free(began);
  began = NULL;
  return left == 0 ? 0 : -1;
}
