/* The stack depot: capture and deduplication. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>

#include "internal.h"

static int setup(void **state) {
  (void)state;
  al_init();
  al_opt.stack_depth = 16;
  return 0;
}

static void test_stack__equal_frames_share_one_copy(void **state) {
  uintptr_t a[] = {1, 2, 3}, b[] = {1, 2, 3}, c[] = {1, 2, 4};
  (void)state;
  const struct al_stack *x = al_stack_intern(a, 3);
  const struct al_stack *y = al_stack_intern(b, 3);
  const struct al_stack *z = al_stack_intern(c, 3);
  const struct al_stack *w = al_stack_intern(a, 2);
  assert_non_null(x);
  assert_ptr_equal(x, y);
  assert_ptr_not_equal(x, z);
  assert_ptr_not_equal(x, w);
  assert_int_equal(x->depth, 3);
  assert_int_equal(x->pc[2], 3);
}

static __attribute__((noinline)) const struct al_stack *site_one(void) {
  return al_stack_capture();
}

static __attribute__((noinline)) const struct al_stack *site_two(void) {
  return al_stack_capture();
}

static void test_stack__same_site_same_stack(void **state) {
  const struct al_stack *s[4];
  (void)state;
  for (int i = 0; i < 2; i++)
    s[i] = site_one();
  s[2] = site_two();
  assert_non_null(s[0]);
  assert_ptr_equal(s[0], s[1]);
  assert_ptr_not_equal(s[0], s[2]);
}

static __attribute__((noinline)) const struct al_stack *deep(int n) {
  const struct al_stack *s = n == 0 ? al_stack_capture() : deep(n - 1);
  __asm__ volatile("" ::: "memory"); /* no tail call */
  return s;
}

static void test_stack__depth_is_capped(void **state) {
  (void)state;
  al_opt.stack_depth = 5;
  assert_int_equal(deep(20)->depth, 5);
  al_opt.stack_depth = 64;
  assert_true(deep(20)->depth > 20);
}

static void *capture_many(void *arg) {
  const struct al_stack **out = arg;
  for (int i = 0; i < 10000; i++) {
    const struct al_stack *s = site_one();
    if (i == 0)
      *out = s;
    else if (s != *out)
      return (void *)1;
  }
  return NULL;
}

static void test_stack__threads_agree(void **state) {
  pthread_t t[4];
  const struct al_stack *got[4];
  (void)state;
  for (int i = 0; i < 4; i++)
    pthread_create(&t[i], NULL, capture_many, &got[i]);
  for (int i = 0; i < 4; i++) {
    void *r;
    pthread_join(t[i], &r);
    assert_null(r);
  }
  /* Same site, same thread entry: one stack for all four threads. */
  for (int i = 1; i < 4; i++)
    assert_ptr_equal(got[0], got[i]);
}

static void test_stack__stats_count_distinct(void **state) {
  size_t n0, b0, n1, b1;
  uintptr_t pc[] = {0xdead, 0xbeef};
  (void)state;
  al_stack_stats(&n0, &b0);
  al_stack_intern(pc, 2);
  al_stack_intern(pc, 2);
  al_stack_stats(&n1, &b1);
  assert_int_equal(n1, n0 + 1);
  assert_true(b1 > b0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup(test_stack__equal_frames_share_one_copy, setup),
      cmocka_unit_test_setup(test_stack__same_site_same_stack, setup),
      cmocka_unit_test_setup(test_stack__depth_is_capped, setup),
      cmocka_unit_test_setup(test_stack__threads_agree, setup),
      cmocka_unit_test_setup(test_stack__stats_count_distinct, setup),
  };
  return cmocka_run_group_tests_name("stack", tests, NULL, NULL);
}
