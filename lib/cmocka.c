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
/* And virtual time's mark then (lib/vtime.c). */
static AL_TLS unsigned long began_vtime;

/* A suite whose libuv calls bypass the runtime would pass every check:
 * each test fails its setup instead, saying why and what to change. */
AL_EXPORT int asyncleak_cmocka_setup(void **state) {
  (void)state;
  al_init();
  al_run_left_below((uintptr_t)__builtin_frame_address(0));
  if (al_link_bypassed(stderr) != 0)
    return -1;
  asyncleak_snapshot_free(began);
  began = asyncleak_snapshot_take();
  began_vtime = al_vtime_generation();
  return began != NULL ? 0 : -1;
}

/* Whether the loop, or something of the program's on it, lived in a
 * returned test's frame: that memory is gone, and running the loop would
 * have libuv walk it. What was there is reported, not run. */
static int touches_dead_stack(const struct al_loop *l,
                              const struct al_dead_stack *d) {
  struct al_res *res;
  size_t n;
  int dead = al_in_dead_stack(d, l->addr);

  if (dead)
    return 1;
  n = al_res_on_loop(l->addr, l->first_seq,
                     1u << AL_RES_OPEN | 1u << AL_RES_CLOSING |
                         1u << AL_RES_PENDING,
                     &res);
  for (size_t i = 0; i < n && !dead; i++)
    dead = al_in_dead_stack(d, res[i].addr);
  free(res);
  return dead;
}

/* Drains this thread's loops within one drain_timeout_ms in all. */
static void drain_mine(uintptr_t live_from) {
  struct al_dead_stack dead = al_dead_stack(live_from);
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

/* A test that fails has what it left set aside: the tests after it
 * neither wait for it nor get its callbacks (lib/isolate.c). */
AL_EXPORT int asyncleak_cmocka_teardown(void **state) {
  uintptr_t frame = (uintptr_t)__builtin_frame_address(0);
  size_t left;

  (void)state;
  al_init();
  /* A failed assertion in a callback of the test's jumped out of a run. */
  al_run_left_below(frame);
  drain_mine(frame);
  /* Virtual time the test switched on is its own: the next test begins
   * in real time. What the option gives every loop stays. */
  if (began_vtime != 0)
    al_vtime_api_off(began_vtime);
  left = al_check_and_isolate(began, stderr, frame);
  asyncleak_snapshot_free(began);
  began = NULL;
  return left == 0 ? 0 : -1;
}
