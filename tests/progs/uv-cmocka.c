/* A cmocka suite with asyncleak's fixtures around each test. Only the
 * leaking test fails its teardown, and its failure names the function
 * that created what it left open. A test whose assertion fails inside a
 * callback (cmocka jumps out of uv_run) fails by itself, and the tests
 * after it are still drained. The same suite runs without the asyncleak
 * command in tests/cli/cmocka-linked.sh.
 *
 * CHECK: ^\[ RUN      \] test_clean$
 * CHECK: ^\[       OK \] test_clean$
 * CHECK: ^\[ RUN      \] test_leaky$
 * CHECK: ==[0-9]+==ERROR: asyncleak: 1 handle left open$
 * CHECK: ^1 handle of type uv_timer_t, created at:$
 * CHECK: ^    #0 0x[0-9a-f]+ in start_leaky_timer .*uv-cmocka.c:%line(leak)$
 * CHECK: ^    #1 0x[0-9a-f]+ in test_leaky .*uv-cmocka.c:%line(leaky-call)$
 * CHECK: ^SUMMARY: asyncleak: 1 handle left open \(1 uv_timer_t\) from 1 creation site$
 * CHECK: ^Could not run test: Test teardown failed$
 * CHECK: ^\[  ERROR   \] test_leaky$
 * CHECK: ^\[ RUN      \] test_assert_in_callback$
 * CHECK: ^\[   LINE   \] --- .*uv-cmocka.c:%line(assert): error: Failure!$
 * CHECK: ^\[  FAILED  \] test_assert_in_callback$
 * CHECK: ^\[ RUN      \] test_drained$
 * CHECK: ^stat done: -2$
 * CHECK: ^\[       OK \] test_drained$
 * CHECK: ^\[ RUN      \] test_ignored$
 * CHECK: ^\[       OK \] test_ignored$
 * CHECK: ^\[ RUN      \] test_cancel_and_wait$
 * CHECK: ^after work: -125$
 * CHECK: ^\[       OK \] test_cancel_and_wait$
 * CHECK: ^\[ RUN      \] test_drain_counts$
 * CHECK: ^\[       OK \] test_drain_counts$
 * CHECK: ^\[ RUN      \] test_udp_send$
 * CHECK: ^\[       OK \] test_udp_send$
 * CHECK: ^\[  PASSED  \] 6 test\(s\)\.$
 * CHECK: ^ 2 FAILED TEST\(S\)$
 * CHECK: ^asyncleak: no leaks: 1 loop\(s\), 6 handle\(s\) created, all closed; 4 request\(s\), all completed$
 * CHECK-COUNT-1: ERROR: asyncleak:
 * CHECK-NOT: in known_leak
 * CHECK-NOT: pending$
 * CHECK-NOT: not drained
 * EXIT: 2
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

#include <cmocka.h>

#include "asyncleak_cmocka.h"

static void test_clean(void **state) {
  uv_loop_t *loop = uv_default_loop();
  uv_timer_t t;

  (void)state;
  uv_timer_init(loop, &t);
  uv_close((uv_handle_t *)&t, NULL);
  uv_run(loop, UV_RUN_DEFAULT);
}

static uv_timer_t leaked;

static void start_leaky_timer(uv_loop_t *loop) {
  uv_timer_init(loop, &leaked); /* @leak */
}

static void test_leaky(void **state) {
  (void)state;
  start_leaky_timer(uv_default_loop()); /* @leaky-call */
}

static uv_timer_t asserting;

static void assert_from_callback(uv_timer_t *t) {
  uv_close((uv_handle_t *)t, NULL);
  assert_int_equal(1, 2); /* @assert */
}

/* A failed assertion in a callback: cmocka jumps out of uv_run, which
 * never returns. The next tests' teardowns still drain. */
static void test_assert_in_callback(void **state) {
  (void)state;
  uv_timer_init(uv_default_loop(), &asserting);
  uv_timer_start(&asserting, assert_from_callback, 0, 0);
  uv_run(uv_default_loop(), UV_RUN_DEFAULT);
}

static uv_udp_t udp;
static uv_udp_send_t send_req;
static int sent;

static void on_send(uv_udp_send_t *req, int status) {
  /* The program's request as libuv left it: its callback where libuv
   * keeps it, the public field untouched. */
  sent = status == 0 && req->send_cb == on_send && req->cb == NULL;
  uv_close((uv_handle_t *)req->handle, NULL);
}

static void test_udp_send(void **state) {
  struct sockaddr_in addr;
  int len = sizeof(addr);
  uv_buf_t buf = uv_buf_init("hello", 5);

  (void)state;
  memset(&send_req, 0, sizeof(send_req));
  uv_ip4_addr("127.0.0.1", 0, &addr);
  assert_int_equal(uv_udp_init(uv_default_loop(), &udp), 0);
  assert_int_equal(uv_udp_bind(&udp, (const struct sockaddr *)&addr, 0), 0);
  assert_int_equal(uv_udp_getsockname(&udp, (struct sockaddr *)&addr, &len),
                   0);
  assert_int_equal(uv_udp_send(&send_req, &udp, &buf, 1,
                               (const struct sockaddr *)&addr, on_send),
                   0);
  uv_run(uv_default_loop(), UV_RUN_DEFAULT);
  assert_true(sent);
}

static uv_fs_t stat_req;

static void stat_done(uv_fs_t *req) {
  printf("stat done: %ld\n", (long)req->result);
  fflush(stdout);
  uv_fs_req_cleanup(req);
}

/* Leaves a request pending: the teardown's drain completes it. */
static void test_drained(void **state) {
  (void)state;
  uv_fs_stat(uv_default_loop(), &stat_req, "/nonexistent/asyncleak", stat_done);
}

static uv_timer_t known;

static void known_leak(uv_loop_t *loop) {
  uv_timer_init(loop, &known);
}

static void test_ignored(void **state) {
  (void)state;
  assert_int_equal(asyncleak_ignore_creator("known_leak"), 0);
  known_leak(uv_default_loop());
}

static uv_work_t slow, queued;

static void work(uv_work_t *req) {
  if (req == &slow)
    usleep(200 * 1000);
}

static void after_work(uv_work_t *req, int status) {
  if (req == &queued) {
    printf("after work: %d\n", status);
    fflush(stdout);
  }
}

static void test_cancel_and_wait(void **state) {
  uv_loop_t *loop = uv_default_loop();

  (void)state;
  /* One worker thread: the slow job runs, the other waits behind it. */
  assert_int_equal(uv_queue_work(loop, &slow, work, after_work), 0);
  assert_int_equal(uv_queue_work(loop, &queued, work, after_work), 0);
  usleep(50 * 1000);
  assert_int_equal(asyncleak_cancel_and_wait(&queued, 2000), 0);
  assert_int_equal(asyncleak_cancel_and_wait(&slow, 2000), -EBUSY);
  assert_int_equal(asyncleak_cancel_and_wait(&queued, 2000), -ENOENT);
  assert_int_equal(asyncleak_cancel_and_wait(NULL, 2000), -EINVAL);
}

static uv_timer_t ticking;
static size_t inside;
static int inside_errno;

static void tick(uv_timer_t *t) {
  (void)t;
  inside = asyncleak_drain(t->loop, 10);
  inside_errno = errno;
}

/* A repeating timer keeps the loop busy to the deadline; drain says how
 * much is left, and cannot run the loop from its own callback. */
static void test_drain_counts(void **state) {
  uv_loop_t *loop = uv_default_loop();

  (void)state;
  uv_timer_init(loop, &ticking);
  uv_timer_start(&ticking, tick, 1, 5);
  assert_int_equal(asyncleak_drain(loop, 50), 1);
  assert_int_equal(inside, (size_t)-1);
  assert_int_equal(inside_errno, EDEADLK);
  uv_close((uv_handle_t *)&ticking, NULL);
  assert_int_equal(asyncleak_drain(loop, 1000), 0);
  assert_int_equal(asyncleak_drain(NULL, 10), (size_t)-1);
}

int main(void) {
  const struct CMUnitTest tests[] = {
#define T(name)                                                               \
  cmocka_unit_test_setup_teardown(name, asyncleak_cmocka_setup,               \
                                  asyncleak_cmocka_teardown)
      T(test_clean),           T(test_leaky),
      T(test_assert_in_callback), T(test_drained),
      T(test_ignored),         T(test_cancel_and_wait), T(test_drain_counts),
      T(test_udp_send),
#undef T
  };

  int failed;

  setenv("UV_THREADPOOL_SIZE", "1", 1);
  failed = cmocka_run_group_tests(tests, NULL, NULL);
  /* What the tests left, cleaned up so that the exit report is empty and
   * the report above is the teardown's alone. */
  uv_close((uv_handle_t *)&leaked, NULL);
  uv_close((uv_handle_t *)&known, NULL);
  uv_run(uv_default_loop(), UV_RUN_DEFAULT);
  uv_loop_close(uv_default_loop());
  return failed;
}
