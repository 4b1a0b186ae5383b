/* Virtual time per test in a cmocka suite: the first test switches it on
 * for its loop, and its timer of an hour fires at once; the teardown
 * switches it off, so that the next test's timer of 100 ms takes 100 ms of
 * real time (CLOCK_REALTIME, which virtual time leaves alone), and so
 * does one on a loop made after it, whose clock goes on from the hour the
 * thread's clock gained (not an hour's wait). The last
 * test leaves a timer of an hour open under virtual time: the teardown
 * reports it, as it would in real time, and fails the test.
 *
 * CHECK: ^\[ RUN      \] test_an_hour_at_once$
 * CHECK: ^hour fired after 3600 s of the loop's clock, in under 5 s$
 * CHECK: ^\[       OK \] test_an_hour_at_once$
 * CHECK: ^\[ RUN      \] test_real_time_again$
 * CHECK: ^100 ms took 100 ms of real time: yes$
 * CHECK: ^\[       OK \] test_real_time_again$
 * CHECK: ^\[ RUN      \] test_new_loop_after_virtual_time$
 * CHECK: ^a new loop's 100 ms took 100 ms of real time: yes$
 * CHECK: ^\[       OK \] test_new_loop_after_virtual_time$
 * CHECK: ^\[ RUN      \] test_leak_under_virtual_time$
 * CHECK: ==[0-9]+==ERROR: asyncleak: 1 handle left open$
 * CHECK: ^    #0 0x[0-9a-f]+ in test_leak_under_virtual_time .*uv-cmocka-vtime.c:%line(leak)$
 * CHECK: ^\[  ERROR   \] test_leak_under_virtual_time$
 * CHECK: ^\[  PASSED  \] 3 test\(s\)\.$
 * EXIT: 1
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <cmocka.h>
#include <uv.h>

#include "asyncleak_cmocka.h"

static uv_loop_t *loop;
static uv_timer_t timer, left_open;

static double real_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void on_timer(uv_timer_t *t) {
  uv_close((uv_handle_t *)t, NULL);
}

static void test_an_hour_at_once(void **state) {
  double r0 = real_s();
  uint64_t t0;
  (void)state;
  assert_int_equal(asyncleak_virtual_time(loop, 1), 0);
  uv_update_time(loop);
  t0 = uv_now(loop);
  uv_timer_init(loop, &timer);
  uv_timer_start(&timer, on_timer, 3600 * 1000, 0);
  uv_run(loop, UV_RUN_DEFAULT);
  assert_true(uv_now(loop) - t0 >= 3600 * 1000);
  assert_true(real_s() - r0 < 5);
  printf("hour fired after %llu s of the loop's clock, in under 5 s\n",
         (unsigned long long)((uv_now(loop) - t0 + 500) / 1000));
}

static void test_real_time_again(void **state) {
  double r0 = real_s();
  (void)state;
  uv_update_time(loop); /* not the time the last test's run ended at */
  uv_timer_init(loop, &timer);
  uv_timer_start(&timer, on_timer, 100, 0);
  uv_run(loop, UV_RUN_DEFAULT);
  printf("100 ms took 100 ms of real time: %s\n",
         real_s() - r0 >= 0.095 ? "yes" : "no");
}

static void test_new_loop_after_virtual_time(void **state) {
  uv_loop_t *fresh = malloc(sizeof(*fresh));
  uv_timer_t t;
  double r0 = real_s();
  (void)state;
  assert_non_null(fresh);
  assert_int_equal(uv_loop_init(fresh), 0);
  uv_timer_init(fresh, &t);
  uv_timer_start(&t, on_timer, 100, 0);
  uv_run(fresh, UV_RUN_DEFAULT);
  printf("a new loop's 100 ms took 100 ms of real time: %s\n",
         real_s() - r0 >= 0.095 && real_s() - r0 < 5 ? "yes" : "no");
  assert_int_equal(uv_loop_close(fresh), 0);
  free(fresh);
}

static void test_leak_under_virtual_time(void **state) {
  (void)state;
  assert_int_equal(asyncleak_virtual_time(loop, 1), 0);
  uv_timer_init(loop, &left_open); /* @leak */
  uv_timer_start(&left_open, on_timer, 3600 * 1000, 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_an_hour_at_once,
                                      asyncleak_cmocka_setup,
                                      asyncleak_cmocka_teardown),
      cmocka_unit_test_setup_teardown(test_real_time_again,
                                      asyncleak_cmocka_setup,
                                      asyncleak_cmocka_teardown),
      cmocka_unit_test_setup_teardown(test_new_loop_after_virtual_time,
                                      asyncleak_cmocka_setup,
                                      asyncleak_cmocka_teardown),
      cmocka_unit_test_setup_teardown(test_leak_under_virtual_time,
                                      asyncleak_cmocka_setup,
                                      asyncleak_cmocka_teardown),
  };
  int failed;

  setvbuf(stdout, NULL, _IOLBF, 0);
  loop = uv_default_loop();
  failed = cmocka_run_group_tests(tests, NULL, NULL);
  return failed;
}
