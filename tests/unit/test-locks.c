/* The table of the runtime's locks (lib/locks.c) and the gate over
 * dl_iterate_phdr (lib/phdr.c). */
#define _GNU_SOURCE
#include <link.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <time.h>

#include "internal.h"

/* Every rank of the core's has its lock: a rank added and never
 * registered would never be taken around a fork. The shims' ranks are
 * registered by shim/, which the unit tests do not link. */
static void test_locks__core_ranks_registered(void **state) {
  (void)state;
  for (int r = 0; r < AL_LOCK_RANKS; r++) {
    if (r == AL_LOCK_LISTING ||
        (r == AL_LOCK_CAPTURE_CACHES && !AL_CACHE_STACKS)) {
      assert_false(al_lock_registered(r));
      continue;
    }
    if (!al_lock_registered(r))
      fail_msg("rank %d has no lock", r);
  }
}

static atomic_long calls;
static atomic_int stop, hold_inside, inside_now;

static int count_call(struct dl_phdr_info *info, size_t size, void *arg) {
  (void)info;
  (void)size;
  (void)arg;
  atomic_fetch_add(&calls, 1);
  atomic_store(&inside_now, 1);
  while (atomic_load(&hold_inside))
    sched_yield();
  return 1;
}

static void *iterate(void *arg) {
  (void)arg;
  while (!atomic_load(&stop))
    dl_iterate_phdr(count_call, NULL);
  return NULL;
}

static void *iterate_once(void *arg) {
  (void)arg;
  dl_iterate_phdr(count_call, NULL);
  return NULL;
}

/* Between fork's prepare handler and its parent handler, no call of
 * dl_iterate_phdr runs; after, they go on. */
static void test_locks__gate_closed_during_fork(void **state) {
  const struct timespec pause = {0, 10000000};
  pthread_t t;
  long before;

  (void)state;
  atomic_store(&stop, 0);
  assert_int_equal(pthread_create(&t, NULL, iterate, NULL), 0);
  while (atomic_load(&calls) == 0)
    sched_yield();
  al_locks_fork_prepare();
  before = atomic_load(&calls);
  nanosleep(&pause, NULL);
  assert_int_equal(atomic_load(&calls), before);
  al_locks_fork_parent();
  while (atomic_load(&calls) == before)
    sched_yield();
  atomic_store(&stop, 1);
  pthread_join(t, NULL);
}

/* The report copy's hold finds the gate busy while a call is under way,
 * and takes it once the call has returned; a thread's own call, from
 * inside a callback, does not keep it from closing. */
static void test_locks__gate_waits_for_calls_under_way(void **state) {
  pthread_t t;

  (void)state;
  atomic_store(&inside_now, 0);
  atomic_store(&hold_inside, 1);
  assert_int_equal(pthread_create(&t, NULL, iterate_once, NULL), 0);
  while (!atomic_load(&inside_now))
    sched_yield();
  assert_int_equal(al_locks_hold(0), 1);
  al_locks_let_go();
  atomic_store(&hold_inside, 0);
  pthread_join(t, NULL);
  assert_int_equal(al_locks_hold(0), 0);
  al_locks_let_go();
}

static int hold_from_inside(struct dl_phdr_info *info, size_t size,
                            void *arg) {
  (void)info;
  (void)size;
  *(unsigned *)arg = al_locks_hold(0);
  al_locks_let_go();
  return 1;
}

static void test_locks__own_call_does_not_hold_the_gate(void **state) {
  unsigned missed = 99;

  (void)state;
  dl_iterate_phdr(hold_from_inside, &missed);
  assert_int_equal(missed, 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_locks__core_ranks_registered),
      cmocka_unit_test(test_locks__gate_closed_during_fork),
      cmocka_unit_test(test_locks__gate_waits_for_calls_under_way),
      cmocka_unit_test(test_locks__own_call_does_not_hold_the_gate),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
