/* Capturing stacks through the per-thread cache: a stack served from the
 * cache must be the one an unwind gives, whatever moved on the stack. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <alloca.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define NOINLINE __attribute__((noinline))
/* Keeps a call from being a tail call, which would drop its frame. */
#define KEEP_FRAME() __asm__ volatile("" ::: "memory")

static int setup(void **state) {
  (void)state;
  al_init();
  al_opt.stack_depth = 16;
  return 0;
}

static uint64_t hits(void) {
  uint64_t h, m;
  al_capture_stats(&h, &m);
  return h;
}

/* Whether this thread's captures go through the cache (not under
 * valgrind, ThreadSanitizer, or off x86-64). */
static int cache_on(void) {
  uint64_t h, m;
  al_capture_stats(&h, &m);
  return h + m > 0;
}

/* Both capture the same way from the same frames; only the return
 * address into this function differs, the first frame. */
static NOINLINE void leaf(const struct al_stack **cached,
                          const struct al_stack **unwound) {
  *cached = al_stack_capture();
  *unwound = al_stack_capture_uncached();
  KEEP_FRAME();
}

/* The cached stack is the unwound one, but for its first frame. */
static void assert_same_above(const struct al_stack *a,
                              const struct al_stack *b) {
  assert_non_null(a);
  assert_non_null(b);
  assert_int_equal(a->depth, b->depth);
  assert_memory_equal(a->pc + 1, b->pc + 1, (a->depth - 1) * sizeof(*a->pc));
}

static NOINLINE void via_x(const struct al_stack **c,
                           const struct al_stack **u) {
  leaf(c, u);
  KEEP_FRAME();
}

static NOINLINE void via_y(const struct al_stack **c,
                           const struct al_stack **u) {
  leaf(c, u);
  KEEP_FRAME();
}

static void test_capture__repeat_is_served_and_equal(void **state) {
  const struct al_stack *c, *u, *first = NULL;
  (void)state;
  via_x(&c, &u); /* the cache is made on the first capture */
  uint64_t before = hits();
  for (int i = 0; i < 100; i++) {
    via_x(&c, &u);
    assert_same_above(c, u);
    if (first == NULL)
      first = c;
    assert_ptr_equal(c, first);
  }
  if (cache_on())
    assert_true(hits() - before >= 99);
}

/* The same call site reached from two callers at the same depth: the
 * slots hold different return addresses, and the stacks differ. */
static void test_capture__callers_told_apart(void **state) {
  const struct al_stack *cx, *ux, *cy, *uy;
  (void)state;
  for (int i = 0; i < 50; i++) {
    via_x(&cx, &ux);
    via_y(&cy, &uy);
    assert_same_above(cx, ux);
    assert_same_above(cy, uy);
    assert_ptr_not_equal(cx, cy);
  }
}

/* Recursion puts the same return address in one slot after another. */
static NOINLINE void recurse(int n, const struct al_stack **c,
                             const struct al_stack **u) {
  if (n == 0)
    leaf(c, u);
  else
    recurse(n - 1, c, u);
  KEEP_FRAME();
}

static void test_capture__recursion_depths(void **state) {
  const int depths[] = {3, 5, 3, 0, 5, 4, 4, 1};
  const struct al_stack *seen[6] = {0};
  (void)state;
  for (size_t i = 0; i < sizeof(depths) / sizeof(depths[0]); i++) {
    const struct al_stack *c, *u;
    recurse(depths[i], &c, &u);
    assert_same_above(c, u);
    if (seen[depths[i]] != NULL)
      assert_ptr_equal(c, seen[depths[i]]);
    seen[depths[i]] = c;
  }
  assert_ptr_not_equal(seen[3], seen[4]);
  assert_ptr_not_equal(seen[4], seen[5]);
}

/* A frame of variable size moves every slot below it. */
static NOINLINE void sized(size_t bytes, const struct al_stack **c,
                           const struct al_stack **u) {
  volatile char *room = alloca(bytes);
  room[0] = 1;
  leaf(c, u);
  KEEP_FRAME();
}

static NOINLINE void sized_via_x(size_t bytes, const struct al_stack **c,
                                 const struct al_stack **u) {
  sized(bytes, c, u);
  KEEP_FRAME();
}

static NOINLINE void sized_via_y(size_t bytes, const struct al_stack **c,
                                 const struct al_stack **u) {
  sized(bytes, c, u);
  KEEP_FRAME();
}

static void test_capture__variable_frames(void **state) {
  const size_t sizes[] = {16, 4096, 16, 48, 4096, 16};
  (void)state;
  for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
    const struct al_stack *cx, *ux, *cy, *uy;
    sized_via_x(sizes[i], &cx, &ux);
    sized_via_y(sizes[i], &cy, &uy);
    assert_same_above(cx, ux);
    assert_same_above(cy, uy);
    assert_ptr_not_equal(cx, cy);
  }
}

/* A stack captured with one depth is not served for another. */
static void test_capture__depth_option_followed(void **state) {
  const struct al_stack *c, *u;
  (void)state;
  for (int i = 0; i < 3; i++) {
    al_opt.stack_depth = 2;
    recurse(6, &c, &u);
    assert_int_equal(c->depth, 2);
    assert_same_above(c, u);
    al_opt.stack_depth = 16;
    recurse(6, &c, &u);
    assert_true(c->depth > 6);
    assert_same_above(c, u);
  }
}

/* A capture on a signal's own stack is unwound, not cached, and right. */
static const struct al_stack *sig_cached, *sig_unwound;
static uint64_t sig_hits_before, sig_hits_after;

static void on_signal(int signo) {
  (void)signo;
  sig_hits_before = hits();
  leaf(&sig_cached, &sig_unwound);
  sig_hits_after = hits();
}

static void test_capture__alternate_signal_stack(void **state) {
  stack_t ss = {0}, old;
  struct sigaction sa, old_sa;
  (void)state;
  ss.ss_size = 64 * 1024;
  ss.ss_sp = malloc(ss.ss_size);
  assert_non_null(ss.ss_sp);
  assert_int_equal(sigaltstack(&ss, &old), 0);
  memset(&sa, 0, sizeof(sa));
  sa.sa_handler = on_signal;
  sa.sa_flags = SA_ONSTACK;
  assert_int_equal(sigaction(SIGUSR1, &sa, &old_sa), 0);
  for (int i = 0; i < 3; i++) {
    raise(SIGUSR1);
    assert_same_above(sig_cached, sig_unwound);
    assert_true(sig_hits_after == sig_hits_before);
  }
  sigaction(SIGUSR1, &old_sa, NULL);
  ss.ss_flags = SS_DISABLE;
  sigaltstack(&ss, NULL);
  free(ss.ss_sp);
}

/* Threads come and go; each gets a cache, and gives it back. */
static void *one_thread(void *arg) {
  const struct al_stack *c, *u;
  for (int i = 0; i < 20; i++) {
    via_x(&c, &u);
    if (c == NULL || u == NULL || c->depth != u->depth ||
        memcmp(c->pc + 1, u->pc + 1, (c->depth - 1) * sizeof(*c->pc)))
      return arg;
  }
  return NULL;
}

static void test_capture__threads_come_and_go(void **state) {
  (void)state;
  for (int i = 0; i < 64; i++) {
    pthread_t t;
    void *failed = NULL;
    assert_int_equal(pthread_create(&t, NULL, one_thread, &failed), 0);
    assert_int_equal(pthread_join(t, &failed), 0);
    assert_null(failed);
  }
}

/* check_stacks: a stack the cache serves is compared with a full unwind
 * from the same call, and the unwound one is what the capture returns. A
 * cache made to serve a wrong stack is caught, and the finding names both
 * stacks; with the check off the wrong stack is served. Every capture is
 * made from the one call below, so that all are of one stack. */
static void test_capture__check_mode_catches_a_wrong_stack(void **state) {
  const struct al_stack *c, *u, *right = NULL, *wrong;
  struct al_finding f;
  uint64_t n, diff;
  (void)state;
  via_y(&wrong, &u);
  if (!cache_on())
    skip();
  al_capture_check_reset();
  al_opt.check_stacks = 1;
  /* A thread spends one unwind filling its cache per 64 captures. */
  for (int i = 0; i < 204; i++) {
    if (i == 200) {
      /* The cache, spoiled, serves another caller's stack... */
      al_capture_checked(&n, &diff);
      assert_true(n >= 100);
      assert_int_equal(diff, 0);
      assert_int_equal(al_capture_check_finding(&f), 0);
      al_capture_spoil_for_test(wrong);
      al_opt.check_stacks = 0;
    }
    if (i == 201)
      al_opt.check_stacks = 1;
    via_x(&c, &u);
    assert_same_above(i == 200 ? right : c, u);
    if (i == 200)
      assert_ptr_equal(c, wrong); /* ...which the check off lets by */
    else if (i > 0)
      assert_ptr_equal(c, right);
    right = i == 0 ? c : right;
  }
  assert_ptr_not_equal(wrong, right);
  al_capture_checked(&n, &diff);
  assert_int_equal(diff, 3);
  assert_int_equal(al_capture_check_finding(&f), 1);
  assert_int_equal(f.check, AL_CHECK_STACK);
  assert_int_equal(f.count, 3);
  assert_ptr_equal(f.stack, wrong);
  assert_ptr_equal(f.other, right);
  assert_string_equal(al_check_name(f.check), "stack-capture");

  al_opt.check_stacks = 0;
  al_capture_check_reset();
  al_capture_checked(&n, &diff);
  assert_int_equal(n + diff, 0);
  al_capture_spoil_for_test(NULL); /* empties the cache */
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup(test_capture__repeat_is_served_and_equal,
                             setup),
      cmocka_unit_test_setup(test_capture__callers_told_apart, setup),
      cmocka_unit_test_setup(test_capture__recursion_depths, setup),
      cmocka_unit_test_setup(test_capture__variable_frames, setup),
      cmocka_unit_test_setup(test_capture__depth_option_followed, setup),
      cmocka_unit_test_setup(test_capture__alternate_signal_stack, setup),
      cmocka_unit_test_setup(test_capture__threads_come_and_go, setup),
      cmocka_unit_test_setup(test_capture__check_mode_catches_a_wrong_stack,
                             setup),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
