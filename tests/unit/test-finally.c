/* Finalizers: order, cancellation, loops that cannot run them, drains. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <string.h>

#include "asyncleak.h"
#include "fake-shim.h"

#define LOOP ((void *)0x10)

static uint8_t shim;
static char order[32];
static size_t norder;

static int setup(void **state) {
  (void)state;
  al_init();
  al_registry_reset();
  shim = al_shim_register(&fake_shim);
  fake_running = fake_drain_rc = fake_drains = fake_closes = 0;
  norder = 0;
  memset(order, 0, sizeof(order));
  al_loop_open(shim, (uintptr_t)LOOP, 0, NULL, 1);
  return 0;
}

static int teardown(void **state) {
  (void)state;
  al_registry_reset();
  return 0;
}

static void note(void *loop, void *arg) {
  assert_ptr_equal(loop, LOOP);
  order[norder++] = *(const char *)arg;
}

static void test_finally__reverse_order_once(void **state) {
  (void)state;
  assert_int_equal(asyncleak_run_finally(LOOP, note, "1"), 0);
  assert_int_equal(asyncleak_run_finally(LOOP, note, "2"), 0);
  assert_int_equal(asyncleak_run_finally(LOOP, note, "3"), 0);
  assert_int_equal(al_finally_run((uintptr_t)LOOP), 0);
  assert_string_equal(order, "321");
  assert_int_equal(fake_drains, 1);
  /* Each runs once. */
  assert_int_equal(al_finally_run((uintptr_t)LOOP), 0);
  assert_string_equal(order, "321");
  assert_int_equal(fake_drains, 1);
}

static void test_finally__cancel_removes_most_recent(void **state) {
  (void)state;
  assert_int_equal(asyncleak_run_finally(LOOP, note, "a"), 0);
  assert_int_equal(asyncleak_run_finally(LOOP, note, "b"), 0);
  assert_int_equal(asyncleak_run_finally(LOOP, note, "a"), 0);
  assert_int_equal(asyncleak_cancel_finally(LOOP, note, "a"), 0);
  assert_int_equal(asyncleak_cancel_finally(LOOP, note, "zz"), -ENOENT);
  al_finally_run((uintptr_t)LOOP);
  assert_string_equal(order, "ba");
}

static void test_finally__bad_arguments(void **state) {
  (void)state;
  assert_int_equal(asyncleak_run_finally(NULL, note, "x"), -EINVAL);
  assert_int_equal(asyncleak_run_finally(LOOP, NULL, "x"), -EINVAL);
  assert_int_equal(asyncleak_run_finally((void *)0x99, note, "x"), -ENOENT);
  assert_int_equal(asyncleak_loop_close((void *)0x99), -ENOENT);
}

static void test_finally__running_loop_keeps_them(void **state) {
  struct al_snapshot s;
  (void)state;
  asyncleak_run_finally(LOOP, note, "1");
  asyncleak_run_finally(LOOP, note, "2");
  fake_running = 1;
  assert_int_equal(al_finally_run((uintptr_t)LOOP), -EDEADLK);
  assert_int_equal(norder, 0);
  assert_int_equal(al_registry_snapshot(&s), 0);
  assert_int_equal(s.loops[0].fin_outcome, AL_FIN_SKIPPED);
  al_snapshot_release(&s);
  /* Still registered, still in order, for a later close. */
  fake_running = 0;
  assert_int_equal(al_finally_run((uintptr_t)LOOP), 0);
  assert_string_equal(order, "21");
}

static void register_more(void *loop, void *arg) {
  note(loop, arg);
  asyncleak_run_finally(loop, note, "late");
}

static void test_finally__registered_while_running_also_run(void **state) {
  (void)state;
  asyncleak_run_finally(LOOP, register_more, "x");
  al_finally_run((uintptr_t)LOOP);
  assert_string_equal(order, "xl");
  assert_int_equal(fake_drains, 1);
}

static void test_finally__timeout_names_them(void **state) {
  struct al_snapshot s;
  (void)state;
  asyncleak_run_finally(LOOP, note, "1");
  fake_drain_rc = -ETIMEDOUT;
  assert_int_equal(al_finally_run((uintptr_t)LOOP), -ETIMEDOUT);
  assert_int_equal(al_registry_snapshot(&s), 0);
  assert_int_equal(s.loops[0].fin_outcome, AL_FIN_TIMEOUT);
  assert_ptr_equal(s.loops[0].fin_named[0], (void *)note);
  al_snapshot_release(&s);
}

static void test_finally__loop_close_runs_then_closes(void **state) {
  (void)state;
  asyncleak_run_finally(LOOP, note, "1");
  assert_int_equal(asyncleak_loop_close(LOOP), 0);
  assert_string_equal(order, "1");
  assert_int_equal(fake_closes, 1);
  assert_int_equal(asyncleak_loop_close(LOOP), -ENOENT);
}

static void test_finally__no_finalizers_no_drain(void **state) {
  (void)state;
  assert_int_equal(al_finally_run((uintptr_t)LOOP), 0);
  assert_int_equal(fake_drains, 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
      T(test_finally__reverse_order_once),
      T(test_finally__cancel_removes_most_recent),
      T(test_finally__bad_arguments),
      T(test_finally__running_loop_keeps_them),
      T(test_finally__registered_while_running_also_run),
      T(test_finally__timeout_names_them),
      T(test_finally__loop_close_runs_then_closes),
      T(test_finally__no_finalizers_no_drain),
#undef T
  };
  return cmocka_run_group_tests_name("finally", tests, NULL, NULL);
}
