/* Drain and check for test harnesses, and the cmocka fixtures, on the fake
 * loop library: what a drain counts, what cancel_and_wait answers, what a
 * check reports since a snapshot, ignored creators, and the fixtures. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "asyncleak.h"
#include "asyncleak_cmocka.h"
#include "fake-shim.h"

#define LOOP ((void *)FAKE_LOOP)
/* Another loop, and an address where no loop is. */
#define OTHER_LOOP ((uintptr_t)0x20)
#define NO_LOOP ((void *)0x99)

#define RULE "=================================================================\n"

static uint8_t shim;
/* Names this file gave asyncleak_ignore_creator successfully: the list is
 * process-wide and never cleared. */
static size_t names_ignored;

static int setup(void **state) {
  (void)state;
  shim = fake_reset();
  al_opt.stack_depth = 16;
  al_opt.max_addresses = 4;
  assert_int_equal(al_loop_open(shim, FAKE_LOOP, 0, NULL, 1), 1);
  return 0;
}

static int teardown(void **state) {
  (void)state;
  al_registry_reset();
  al_shutdown_log_reset();
  return 0;
}

/* What a check writes, as a string; its count in *count. s NULL:
 * asyncleak_check. */
/* The whole report of a check that finds the handle 0x200 (fake_b_t, no
 * stack) on loop 1, made by this thread, followed by tail. */
static void assert_one_handle_report_then(const char *text,
                                          const char *tail) {
  char expected[1024];
  int pid = (int)getpid();

  assert_true(snprintf(expected, sizeof(expected),
      RULE
      "==%d==ERROR: asyncleak: 1 handle left open\n"
      "\n"
      "1 handle of type fake_b_t, created at:\n"
      "    <no stack>\n"
      "  0x200 on loop 1, thread %d (main), active, referenced\n"
      /* FNV-1a of "handle", "fake_b_t": no frames to add. */
      "  fingerprint 6ff46221167bfec8\n"
      "\n"
      "SUMMARY: asyncleak: 1 handle left open (1 fake_b_t) from 1 creation "
      "site\n%s",
      pid, pid, tail) < (int)sizeof(expected));
  assert_string_equal(text, expected);
}

static void assert_one_handle_report(const char *text) {
  assert_one_handle_report_then(text, "");
}

/* The line a failed test's teardown adds after the report. */
#define STOPPED_ONE                                                           \
  "asyncleak: set aside for the tests that follow: 1 handle (1 stopped)\n"

static char *check_text(const asyncleak_snapshot *s, size_t *count) {
  char *text = NULL;
  size_t len = 0;
  FILE *out = open_memstream(&text, &len);
  assert_non_null(out);
  *count = s != NULL ? asyncleak_check_since(s, out) : asyncleak_check(out);
  assert_int_equal(fclose(out), 0);
  assert_non_null(text);
  assert_int_equal(strlen(text), len);
  return text;
}

/* What the program writes to fd 1 and fd 2 between capture_begin and
 * capture_end. */
struct capture {
  FILE *file[2];
  int saved[2];
};

static void capture_begin(struct capture *c) {
  fflush(stdout);
  fflush(stderr);
  for (int i = 0; i < 2; i++) {
    c->file[i] = tmpfile();
    assert_non_null(c->file[i]);
    c->saved[i] = dup(i + 1);
    assert_true(c->saved[i] >= 0);
    assert_true(dup2(fileno(c->file[i]), i + 1) == i + 1);
  }
}

/* Restores fd 1 and 2 and returns what was written to them. */
static void capture_end(struct capture *c, char **out, char **err) {
  char **text[2] = {out, err};
  fflush(stdout);
  fflush(stderr);
  for (int i = 0; i < 2; i++) {
    dup2(c->saved[i], i + 1);
    close(c->saved[i]);
  }
  for (int i = 0; i < 2; i++) {
    FILE *f = c->file[i];
    long len;
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    len = ftell(f);
    assert_true(len >= 0);
    rewind(f);
    *text[i] = calloc(1, (size_t)len + 1);
    assert_non_null(*text[i]);
    assert_int_equal(fread(*text[i], 1, (size_t)len, f), (size_t)len);
    fclose(f);
  }
}

/* ----------------------------------------------------------------- drain */

static void test_drain__bad_arguments(void **state) {
  (void)state;
  errno = 0;
  assert_true(asyncleak_drain(NULL, 10) == (size_t)-1);
  assert_int_equal(errno, EINVAL);
  errno = 0;
  assert_true(asyncleak_drain(NO_LOOP, 10) == (size_t)-1);
  assert_int_equal(errno, ENOENT);
  /* Known to the registry, but closed behind its back: the memory no
   * longer holds a loop. */
  fake_closes = 1;
  errno = 0;
  assert_true(asyncleak_drain(LOOP, 10) == (size_t)-1);
  assert_int_equal(errno, ENOENT);
  assert_int_equal(fake_drains, 0);
}

static void test_drain__refused_inside_the_loop(void **state) {
  (void)state;
  al_res_open(shim, 0x100, 0, FAKE_LOOP, NULL);
  FAKE_RUN_BEGIN();
  errno = 0;
  assert_true(asyncleak_drain(LOOP, 10) == (size_t)-1);
  assert_int_equal(errno, EDEADLK);
  assert_int_equal(fake_drains, 0);
  /* Out of the callback, the same call runs the loop. */
  FAKE_RUN_END();
  assert_int_equal(asyncleak_drain(LOOP, 10), 1);
  assert_int_equal(fake_drains, 1);
}

static void test_drain__nothing_to_do_is_zero(void **state) {
  (void)state;
  errno = 0;
  assert_int_equal(asyncleak_drain(LOOP, 10), 0);
  assert_int_equal(errno, 0);
  assert_int_equal(fake_drains, 1);
}

static void test_drain__counts_that_loops_work_only(void **state) {
  (void)state;
  /* On the loop: a handle open, one closing, a request pending. */
  al_res_open(shim, 0x100, 0, FAKE_LOOP, NULL);
  al_res_open(shim, 0x140, 1, FAKE_LOOP, NULL);
  assert_int_not_equal(al_res_closing(0x140, NULL), 0);
  assert_int_equal(al_req_start(shim, 0x600, 0, FAKE_LOOP, NULL, NULL), 0);
  /* On another loop: a handle and a request. */
  assert_int_equal(al_loop_open(shim, OTHER_LOOP, 0, NULL, 1), 2);
  al_res_open(shim, 0x200, 0, OTHER_LOOP, NULL);
  assert_int_equal(al_req_start(shim, 0x700, 0, OTHER_LOOP, NULL, NULL), 0);
  /* On no loop asyncleak knows. */
  al_res_open(shim, 0x300, 0, 0x30, NULL);

  assert_int_equal(asyncleak_drain(LOOP, 10), 3);
  assert_int_equal(fake_drains, 1);
  fake_claimable = OTHER_LOOP;
  assert_int_equal(asyncleak_drain((void *)OTHER_LOOP, 10), 2);
  assert_int_equal(fake_drains, 2);
  /* The request completes, the close finishes: the handle is left. */
  void *cb;
  assert_int_equal(al_req_done(0x600, &cb), 1);
  assert_int_equal(al_res_closed(0x140, &cb), 1);
  assert_int_equal(asyncleak_drain(LOOP, 10), 1);
}

static void test_drain__idle_handles_not_counted(void **state) {
  (void)state;
  al_res_open(shim, 0x100, 0, FAKE_LOOP, NULL);
  al_res_open(shim, 0x140, 1, FAKE_LOOP, NULL);
  assert_int_equal(asyncleak_drain(LOOP, 10), 2);
  fake_state.active = 0;
  assert_int_equal(asyncleak_drain(LOOP, 10), 0);
  fake_state.active = 1;
  fake_state.referenced = 0;
  assert_int_equal(asyncleak_drain(LOOP, 10), 0);
  fake_state.referenced = 1;
  fake_state.internal = 1;
  assert_int_equal(asyncleak_drain(LOOP, 10), 0);
  fake_state.internal = 0;
  fake_state.known = 0;
  assert_int_equal(asyncleak_drain(LOOP, 10), 0);
  fake_state.known = 1;
  assert_int_equal(asyncleak_drain(LOOP, 10), 2);
  assert_int_equal(fake_drains, 6);
}

static void test_drain__closing_and_pending_counted_whatever_probe(
    void **state) {
  (void)state;
  al_res_open(shim, 0x100, 0, FAKE_LOOP, NULL);
  al_res_open(shim, 0x140, 0, FAKE_LOOP, NULL);
  assert_int_not_equal(al_res_closing(0x140, NULL), 0);
  assert_int_equal(al_req_start(shim, 0x600, 0, FAKE_LOOP, NULL, NULL), 0);
  fake_state = (struct al_state){.known = 1, .active = 0, .referenced = 0};
  assert_int_equal(asyncleak_drain(LOOP, 10), 2);
}

static void test_drain__replaced_loops_records_not_counted(void **state) {
  (void)state;
  al_res_open(shim, 0x100, 0, FAKE_LOOP, NULL);
  assert_int_equal(al_req_start(shim, 0x600, 0, FAKE_LOOP, NULL, NULL), 0);
  /* Initialised again at the same address without a close. */
  assert_int_equal(al_loop_open(shim, FAKE_LOOP, 0, NULL, 1), 2);
  al_res_open(shim, 0x140, 0, FAKE_LOOP, NULL);
  assert_int_equal(asyncleak_drain(LOOP, 10), 1);
}

/* ------------------------------------------------------- cancel and wait */

static void test_cancel__bad_arguments(void **state) {
  void *cb;
  (void)state;
  assert_int_equal(asyncleak_cancel_and_wait(NULL, 10), -EINVAL);
  /* Nothing there, a handle, a request that completed. */
  assert_int_equal(asyncleak_cancel_and_wait((void *)0x600, 10), -ENOENT);
  al_res_open(shim, 0x100, 0, FAKE_LOOP, NULL);
  assert_int_equal(asyncleak_cancel_and_wait((void *)0x100, 10), -ENOENT);
  assert_int_equal(al_req_start(shim, 0x640, 0, FAKE_LOOP, NULL, NULL), 0);
  assert_int_equal(al_req_done(0x640, &cb), 1);
  assert_int_equal(asyncleak_cancel_and_wait((void *)0x640, 10), -ENOENT);
  /* A request on a loop asyncleak does not know. */
  assert_int_equal(al_req_start(shim, 0x680, 0, (uintptr_t)NO_LOOP, NULL,
                                NULL), 0);
  assert_int_equal(asyncleak_cancel_and_wait((void *)0x680, 10), -ENOENT);
  assert_int_equal(al_req_pending(0x680), 1);
  assert_int_equal(fake_ncancelled, 0);
  assert_int_equal(fake_drains, 0);
}

static void test_cancel__refused_inside_the_loop(void **state) {
  (void)state;
  assert_int_equal(al_req_start(shim, 0x600, 0, FAKE_LOOP, NULL, NULL), 0);
  FAKE_RUN_BEGIN();
  assert_int_equal(asyncleak_cancel_and_wait((void *)0x600, 10), -EDEADLK);
  FAKE_RUN_END();
  assert_int_equal(fake_ncancelled, 0);
  assert_int_equal(al_req_pending(0x600), 1);
  assert_int_equal(fake_drains, 0);
}

static void test_cancel__librarys_refusal_returned(void **state) {
  (void)state;
  assert_int_equal(al_req_start(shim, 0x600, 0, FAKE_LOOP, NULL, NULL), 0);
  fake_cancel_rc = -EBUSY; /* already running in the thread pool */
  assert_int_equal(asyncleak_cancel_and_wait((void *)0x600, 10), -EBUSY);
  assert_int_equal(al_req_pending(0x600), 1);
  fake_cancel_rc = -EINVAL; /* a kind that cannot be cancelled */
  assert_int_equal(asyncleak_cancel_and_wait((void *)0x600, 10), -EINVAL);
  assert_int_equal(al_req_pending(0x600), 1);
  assert_int_equal(fake_ncancelled, 0);
  assert_int_equal(fake_drains, 0);
}

static void test_cancel__cancels_and_waits(void **state) {
  (void)state;
  assert_int_equal(al_req_start(shim, 0x600, 0, FAKE_LOOP, NULL, NULL), 0);
  assert_int_equal(al_req_start(shim, 0x640, 0, FAKE_LOOP, NULL, NULL), 0);
  assert_int_equal(asyncleak_cancel_and_wait((void *)0x600, 10), 0);
  assert_int_equal(fake_ncancelled, 1);
  assert_int_equal(fake_cancelled[0], 0x600);
  assert_int_equal(fake_drains, 1);
  assert_int_equal(al_req_pending(0x600), 0);
  assert_int_equal(al_req_pending(0x640), 1);
  /* Done: nothing pending there any more. */
  assert_int_equal(asyncleak_cancel_and_wait((void *)0x600, 10), -ENOENT);
  assert_int_equal(fake_ncancelled, 1);
  assert_int_equal(fake_drains, 1);
}

static void test_cancel__timeout_returned(void **state) {
  (void)state;
  assert_int_equal(al_req_start(shim, 0x600, 0, FAKE_LOOP, NULL, NULL), 0);
  fake_drain_rc = -ETIMEDOUT;
  assert_int_equal(asyncleak_cancel_and_wait((void *)0x600, 10), -ETIMEDOUT);
  assert_int_equal(fake_ncancelled, 1);
  assert_int_equal(fake_drains, 1);
}

/* ----------------------------------------------------------------- check */

static void test_check__since_snapshot_only(void **state) {
  asyncleak_snapshot *s;
  char expected[1024];
  size_t n;
  int pid = (int)getpid();
  (void)state;
  al_res_open(shim, 0x100, 0, FAKE_LOOP, NULL); /* before: not reported */
  s = asyncleak_snapshot_take();
  assert_non_null(s);
  al_res_open(shim, 0x200, 1, FAKE_LOOP, NULL);

  char *text = check_text(s, &n);
  assert_int_equal(n, 1);
  assert_one_handle_report(text);
  assert_null(strstr(text, " at exit"));
  free(text);

  /* No file: the same count, nothing written anywhere. */
  struct capture c;
  char *out, *err;
  capture_begin(&c);
  n = asyncleak_check_since(s, NULL);
  capture_end(&c, &out, &err);
  assert_int_equal(n, 1);
  assert_string_equal(out, "");
  assert_string_equal(err, "");
  free(out);
  free(err);

  /* Everything since start. */
  text = check_text(NULL, &n);
  assert_int_equal(n, 2);
  assert_true(snprintf(expected, sizeof(expected),
      "==%d==ERROR: asyncleak: 2 handles left open\n", pid) <
      (int)sizeof(expected));
  assert_non_null(strstr(text, expected));
  assert_null(strstr(text, " at exit"));
  assert_null(strstr(text, "Loops ("));
  assert_non_null(strstr(text, "\n1 handle of type fake_a_t, created at:\n"
                               "    <no stack>\n  0x100 on loop 1, "));
  assert_non_null(strstr(text, "\n1 handle of type fake_b_t, created at:\n"
                               "    <no stack>\n  0x200 on loop 1, "));
  assert_non_null(strstr(text, "\nSUMMARY: asyncleak: 2 handles left open (1 "
                               "fake_a_t, 1 fake_b_t) from 2 creation "
                               "sites\n"));
  free(text);
  assert_int_equal(asyncleak_check(NULL), 2);
  /* No snapshot: everything, as asyncleak_check. */
  assert_int_equal(asyncleak_check_since(NULL, NULL), 2);
  asyncleak_snapshot_free(s);
}

static void test_check__requests_since_snapshot(void **state) {
  asyncleak_snapshot *s;
  char line[128];
  size_t n;
  int pid = (int)getpid();
  (void)state;
  assert_int_equal(al_req_start(shim, 0x600, 0, FAKE_LOOP, NULL, NULL), 0);
  s = asyncleak_snapshot_take();
  assert_non_null(s);
  assert_int_equal(al_req_start(shim, 0x640, 0, FAKE_LOOP, NULL, NULL), 0);

  char *text = check_text(s, &n);
  assert_int_equal(n, 1);
  snprintf(line, sizeof(line), RULE "==%d==ERROR: asyncleak: 1 request "
                               "pending\n\n", pid);
  assert_true(strncmp(text, line, strlen(line)) == 0);
  assert_non_null(strstr(text, "\n1 request of type fake_req_t pending, "
                               "created at:\n    <no stack>\n"));
  snprintf(line, sizeof(line), "\n  0x640 on loop 1, thread %d (main), "
                               "pending for ", pid);
  assert_non_null(strstr(text, line));
  assert_null(strstr(text, "0x600"));
  assert_null(strstr(text, "at exit"));
  assert_non_null(strstr(text, "\nSUMMARY: asyncleak: 0 handles left open; 1 "
                               "request pending (1 fake_req_t) from 1 "
                               "creation site\n"));
  free(text);
  assert_int_equal(asyncleak_check(NULL), 2);
  asyncleak_snapshot_free(s);
}

static void test_check__snapshot_after_everything_is_clean(void **state) {
  asyncleak_snapshot *s;
  void *cb;
  size_t n;
  (void)state;
  al_res_open(shim, 0x100, 0, FAKE_LOOP, NULL);
  assert_int_equal(al_req_start(shim, 0x600, 0, FAKE_LOOP, NULL, NULL), 0);
  s = asyncleak_snapshot_take();
  assert_non_null(s);
  /* Made and closed, started and completed since: nothing left. */
  al_res_open(shim, 0x200, 0, FAKE_LOOP, NULL);
  assert_int_not_equal(al_res_closing(0x200, NULL), 0);
  assert_int_equal(al_res_closed(0x200, &cb), 1);
  assert_int_equal(al_req_start(shim, 0x640, 0, FAKE_LOOP, NULL, NULL), 0);
  assert_int_equal(al_req_done(0x640, &cb), 1);

  char *text = check_text(s, &n);
  assert_int_equal(n, 0);
  assert_string_equal(text, "");
  free(text);
  assert_int_equal(asyncleak_check(NULL), 2);
  asyncleak_snapshot_free(s);
}

/* A close that did not complete is shown, apart, and fails only with
 * fail_on_closing. */
static void test_check__closing_handle_shown_not_counted(void **state) {
  asyncleak_snapshot *s;
  size_t n;
  (void)state;
  s = asyncleak_snapshot_take();
  assert_non_null(s);
  al_res_open(shim, 0x200, 0, FAKE_LOOP, NULL);
  assert_int_not_equal(al_res_closing(0x200, NULL), 0);
  fake_state.closing = 1;
  char *text = check_text(s, &n);
  assert_int_equal(n, 0);
  assert_non_null(strstr(text, "WARNING: asyncleak: 1 handle closing: the "
                               "close was asked for"));
  assert_non_null(strstr(text, "1 handle of type fake_a_t closing, created "
                               "at:\n"));
  assert_non_null(strstr(text, ", closing (the loop did not run again to "
                               "finish it)\n"));
  assert_null(strstr(text, "SUMMARY"));
  free(text);
  al_opt.fail_on_closing = 1;
  text = check_text(s, &n);
  al_opt.fail_on_closing = 0;
  assert_int_equal(n, 1);
  assert_non_null(strstr(text, "ERROR: asyncleak: 1 handle closing, the "
                               "close never completed"));
  assert_non_null(strstr(text, "SUMMARY: asyncleak: 0 handles left open; 1 "
                               "closing (1 fake_a_t)\n"));
  free(text);
  /* What the loop library made for itself is not counted. */
  fake_state = (struct al_state){.known = 1, .internal = 1, .active = 1,
                                 .referenced = 1};
  text = check_text(s, &n);
  assert_int_equal(n, 0);
  assert_string_equal(text, "");
  free(text);
  asyncleak_snapshot_free(s);
}

struct other_thread {
  pid_t tid;
};

/* Opens a loop and a handle on it from another thread. */
static void *make_elsewhere(void *arg) {
  struct other_thread *t = arg;
  t->tid = al_gettid();
  al_loop_open(shim, OTHER_LOOP, 0, NULL, 1);
  al_res_open(shim, 0x300, 1, OTHER_LOOP, NULL);
  return NULL;
}

static void test_check__any_loop_any_thread(void **state) {
  struct other_thread t = {0};
  pthread_t th;
  asyncleak_snapshot *s;
  char line[128];
  size_t n;
  (void)state;
  s = asyncleak_snapshot_take();
  assert_non_null(s);
  assert_int_equal(pthread_create(&th, NULL, make_elsewhere, &t), 0);
  assert_int_equal(pthread_join(th, NULL), 0);
  assert_true(t.tid != 0 && t.tid != getpid());
  char *text = check_text(s, &n);
  assert_int_equal(n, 1);
  snprintf(line, sizeof(line), "\n  0x300 on loop 2, thread %d, active, "
                               "referenced\n", (int)t.tid);
  assert_non_null(strstr(text, line));
  free(text);
  asyncleak_snapshot_free(s);
}

/* --------------------------------------------------------------- fixtures */

/* Runs the teardown with fd 1 and 2 captured: returns what went to fd 2,
 * and asserts nothing went to fd 1. */
static char *teardown_stderr(void **mine, int *rc) {
  struct capture c;
  char *out, *err;
  capture_begin(&c);
  *rc = asyncleak_cmocka_teardown(mine);
  capture_end(&c, &out, &err);
  assert_string_equal(out, "");
  free(out);
  return err;
}

static void test_cmocka__clean_test_passes(void **state) {
  int sentinel = 42;
  void *mine = &sentinel;
  int rc;
  (void)state;
  al_res_open(shim, 0x100, 0, FAKE_LOOP, NULL); /* before the test began */
  assert_int_equal(asyncleak_cmocka_setup(&mine), 0);
  assert_ptr_equal(mine, &sentinel);
  al_res_open(shim, 0x200, 0, FAKE_LOOP, NULL);
  assert_int_not_equal(al_res_closing(0x200, NULL), 0);
  void *cb;
  assert_int_equal(al_res_closed(0x200, &cb), 1);
  char *text = teardown_stderr(&mine, &rc);
  assert_string_equal(text, "");
  free(text);
  assert_int_equal(rc, 0);
  assert_ptr_equal(mine, &sentinel);
  assert_int_equal(sentinel, 42);
  /* It drained this thread's loop, once. */
  assert_int_equal(fake_drains, 1);
}

static void test_cmocka__leak_fails_with_report(void **state) {
  int sentinel = 42;
  void *mine = &sentinel;
  int rc;
  (void)state;
  al_res_open(shim, 0x100, 0, FAKE_LOOP, NULL); /* before the test began */
  assert_int_equal(asyncleak_cmocka_setup(&mine), 0);
  al_res_open(shim, 0x200, 1, FAKE_LOOP, NULL);
  char *text = teardown_stderr(&mine, &rc);
  assert_one_handle_report_then(text, STOPPED_ONE);
  free(text);
  assert_int_equal(rc, -1);
  assert_ptr_equal(mine, &sentinel);
  assert_int_equal(sentinel, 42);
  assert_int_equal(fake_drains, 1);
}

static void test_cmocka__pending_request_fails(void **state) {
  void *mine = NULL;
  char line[96];
  int rc;
  (void)state;
  assert_int_equal(asyncleak_cmocka_setup(&mine), 0);
  assert_int_equal(al_req_start(shim, 0x600, 0, FAKE_LOOP, NULL, NULL), 0);
  char *text = teardown_stderr(&mine, &rc);
  snprintf(line, sizeof(line), "==%d==ERROR: asyncleak: 1 request pending\n",
           (int)getpid());
  assert_non_null(strstr(text, line));
  free(text);
  assert_int_equal(rc, -1);
  assert_null(mine);
}

/* Opens a loop on another thread: the calling thread neither made nor
 * ran it. */
static void *open_other_loop(void *arg) {
  (void)arg;
  al_loop_open(shim, OTHER_LOOP, 0, NULL, 1);
  return NULL;
}

static void test_cmocka__drains_this_threads_loops_only(void **state) {
  pthread_t th;
  void *mine = NULL;
  int rc;
  (void)state;
  assert_int_equal(pthread_create(&th, NULL, open_other_loop, NULL), 0);
  assert_int_equal(pthread_join(th, NULL), 0);
  fake_claimable = OTHER_LOOP; /* a drain of it would count */
  assert_int_equal(asyncleak_cmocka_setup(&mine), 0);
  char *text = teardown_stderr(&mine, &rc);
  free(text);
  assert_int_equal(rc, 0);
  assert_int_equal(fake_drains, 1);
  /* Once this thread runs it, it is this thread's to drain. */
  al_loop_ran(shim, OTHER_LOOP);
  assert_int_equal(asyncleak_cmocka_setup(&mine), 0);
  text = teardown_stderr(&mine, &rc);
  free(text);
  assert_int_equal(rc, 0);
  assert_int_equal(fake_drains, 3);
}

static void test_cmocka__replaced_and_inherited_loops_not_run(void **state) {
  void *mine = NULL;
  char *text;
  int rc;
  (void)state;
  /* Initialised again at its address without a close: the old loop is
   * not drained, the new one is, once. */
  assert_int_equal(al_loop_open(shim, FAKE_LOOP, 0, NULL, 1), 2);
  assert_int_equal(asyncleak_cmocka_setup(&mine), 0);
  text = teardown_stderr(&mine, &rc);
  free(text);
  assert_int_equal(rc, 0);
  assert_int_equal(fake_drains, 1);
  /* In a fork child, the parent's loops are not the child's to run. */
  al_locks_fork_prepare();
  al_locks_fork_child();
  al_registry_atfork_child();
  al_locks_fork_done();
  assert_int_equal(asyncleak_cmocka_setup(&mine), 0);
  text = teardown_stderr(&mine, &rc);
  free(text);
  assert_int_equal(rc, 0);
  assert_int_equal(fake_drains, 1);
}

/* A loop in a frame that has returned: its memory is gone. The address
 * is taken from the frame pointer rather than a local's, which a
 * sanitizer may move off the stack. */
static __attribute__((noinline)) uintptr_t loop_in_dead_frame(void) {
  uintptr_t addr = (uintptr_t)__builtin_frame_address(0) - 32;
  al_loop_open(shim, addr, 0, NULL, 1);
  return addr;
}

/* The teardown is called from the test function itself, as cmocka calls
 * it from its runner: a helper's frame in between would be live and could
 * overlap the returned frame's memory. */
static void test_cmocka__loop_of_returned_frame_not_run(void **state) {
  volatile char live[256];
  struct capture c;
  char *out, *err;
  void *mine = NULL;
  int rc;
  (void)state;
  live[0] = 0;
  fake_claimable = loop_in_dead_frame();
  assert_int_equal(asyncleak_cmocka_setup(&mine), 0);
  capture_begin(&c);
  rc = asyncleak_cmocka_teardown(&mine);
  capture_end(&c, &out, &err);
  assert_string_equal(out, "");
  assert_string_equal(err, "asyncleak: loop 2 holds memory of a test that "
                           "has returned; it is not drained\n");
  free(out);
  free(err);
  assert_int_equal(rc, 0);
  assert_int_equal(fake_drains, 1); /* FAKE_LOOP only */
  /* One in a frame still live (this one) is drained. */
  fake_claimable = (uintptr_t)&live[128];
  al_loop_open(shim, fake_claimable, 0, NULL, 1);
  assert_int_equal(asyncleak_cmocka_setup(&mine), 0);
  rc = asyncleak_cmocka_teardown(&mine);
  assert_int_equal(rc, 0);
  assert_int_equal(fake_drains, 3);
}

/* A handle made in a frame that has returned, on a loop that lives on: the
 * loop is not run (libuv would walk the handle's memory), and the handle
 * is reported. */
static __attribute__((noinline)) uintptr_t handle_in_dead_frame(void) {
  uintptr_t addr = (uintptr_t)__builtin_frame_address(0) - 32;
  al_res_open(shim, addr, 0, FAKE_LOOP, NULL);
  return addr;
}

static void test_cmocka__handle_of_returned_frame_not_run(void **state) {
  struct capture c;
  char *out, *err;
  void *mine = NULL;
  int rc;
  (void)state;
  assert_int_equal(asyncleak_cmocka_setup(&mine), 0);
  handle_in_dead_frame();
  capture_begin(&c);
  rc = asyncleak_cmocka_teardown(&mine);
  capture_end(&c, &out, &err);
  assert_string_equal(out, "");
  assert_non_null(strstr(err, "asyncleak: loop 1 holds memory of a test "
                              "that has returned; it is not drained\n"));
  assert_non_null(strstr(err, "\n1 handle of type fake_a_t, created at:\n"));
  free(out);
  free(err);
  assert_int_equal(rc, -1);
  assert_int_equal(fake_drains, 0);
}

/* ------------------------------------------------------------- isolation */

/* What a failed test left is set aside: its handle quieted, and the next
 * test's drain does not count it; that test passes. */
static void test_isolate__failed_tests_leak_set_aside(void **state) {
  void *mine = NULL;
  char *text;
  int rc;
  (void)state;
  assert_int_equal(asyncleak_cmocka_setup(&mine), 0);
  al_res_open(shim, 0x200, 1, FAKE_LOOP, NULL);
  assert_int_equal(asyncleak_drain(LOOP, 0), 1);
  text = teardown_stderr(&mine, &rc);
  assert_one_handle_report_then(text, STOPPED_ONE);
  free(text);
  assert_int_equal(rc, -1);
  assert_int_equal(fake_nquieted, 1);
  assert_true(fake_quieted[0] == 0x200);
  /* The fake library still says active: only the set keeps it out. */
  assert_int_equal(asyncleak_drain(LOOP, 0), 0);
  assert_int_equal(asyncleak_cmocka_setup(&mine), 0);
  text = teardown_stderr(&mine, &rc);
  assert_string_equal(text, "");
  free(text);
  assert_int_equal(rc, 0);
  assert_int_equal(fake_nquieted, 1);
  /* The whole-run check and the exit report still list it: it is open. */
  size_t n;
  text = check_text(NULL, &n);
  assert_int_equal(n, 1);
  free(text);
  /* A handle made since is counted as ever. */
  al_res_open(shim, 0x300, 1, FAKE_LOOP, NULL);
  assert_int_equal(asyncleak_drain(LOOP, 0), 1);
}

/* A check alone sets nothing aside. */
static void test_isolate__check_alone_acts_on_nothing(void **state) {
  asyncleak_snapshot *s = asyncleak_snapshot_take();
  size_t n;
  char *text;
  (void)state;
  al_res_open(shim, 0x200, 1, FAKE_LOOP, NULL);
  text = check_text(s, &n);
  assert_int_equal(n, 1);
  assert_one_handle_report(text);
  free(text);
  assert_int_equal(fake_nquieted, 0);
  assert_int_equal(asyncleak_drain(LOOP, 0), 1);
  asyncleak_snapshot_free(s);
}

/* asyncleak_check_and_isolate: what the teardown does, for any harness;
 * nothing found, nothing done. */
static void test_isolate__public_function(void **state) {
  asyncleak_snapshot *s = asyncleak_snapshot_take();
  char *text = NULL;
  size_t len = 0, n;
  FILE *out;
  (void)state;
  out = open_memstream(&text, &len);
  assert_non_null(out);
  assert_int_equal(asyncleak_check_and_isolate(s, out), 0);
  assert_int_equal(fclose(out), 0);
  assert_string_equal(text, "");
  free(text);
  al_res_open(shim, 0x200, 1, FAKE_LOOP, NULL);
  out = open_memstream(&text, &len);
  assert_non_null(out);
  n = asyncleak_check_and_isolate(s, out);
  assert_int_equal(fclose(out), 0);
  assert_int_equal(n, 1);
  assert_one_handle_report_then(text, STOPPED_ONE);
  free(text);
  assert_int_equal(asyncleak_drain(LOOP, 0), 0);
  asyncleak_snapshot_free(s);
}

/* Not quieted, only left out of the drains: a handle that is inactive, or
 * on the stack, or on a loop another thread runs, or that the library
 * could not stop; a request pending. */
static void *open_other_loop_handle(void *arg) {
  (void)arg;
  al_loop_open(shim, OTHER_LOOP, 0, NULL, 1);
  al_loop_ran(shim, OTHER_LOOP);
  al_res_open(shim, 0x700, 1, OTHER_LOOP, NULL);
  return NULL;
}

static void test_isolate__what_is_left_alone(void **state) {
  asyncleak_snapshot *s = asyncleak_snapshot_take();
  char on_stack[16]; /* a handle's memory, on the stack */
  pthread_t th;
  char *text = NULL;
  size_t len = 0;
  FILE *out;
  (void)state;
  fake_claimable = OTHER_LOOP;
  al_res_open(shim, (uintptr_t)on_stack, 1, FAKE_LOOP, NULL);
  assert_int_equal(pthread_create(&th, NULL, open_other_loop_handle, NULL),
                   0);
  assert_int_equal(pthread_join(th, NULL), 0);
  assert_int_equal(al_req_start(shim, 0x600, 0, FAKE_LOOP, NULL, NULL), 0);
  out = open_memstream(&text, &len);
  assert_non_null(out);
  assert_int_equal(asyncleak_check_and_isolate(s, out), 3);
  assert_int_equal(fclose(out), 0);
  assert_non_null(strstr(text, "\nasyncleak: set aside for the tests that "
                               "follow: 2 handles (2 still active), 1 "
                               "request pending\n"));
  free(text);
  assert_int_equal(fake_nquieted, 0);
  assert_int_equal(asyncleak_drain(LOOP, 0), 0);
  asyncleak_snapshot_free(s);

  /* Inactive: nothing to do; and what the library could only
   * unreference. */
  s = asyncleak_snapshot_take();
  al_res_open(shim, 0x800, 1, FAKE_LOOP, NULL);
  fake_quiet_rc = AL_QUIET_UNREFERENCED;
  out = open_memstream(&text, &len);
  assert_non_null(out);
  assert_int_equal(asyncleak_check_and_isolate(s, out), 1);
  assert_int_equal(fclose(out), 0);
  assert_non_null(strstr(text, "\nasyncleak: set aside for the tests that "
                               "follow: 1 handle (1 unreferenced)\n"));
  free(text);
  asyncleak_snapshot_free(s);
  s = asyncleak_snapshot_take();
  al_res_open(shim, 0x900, 1, FAKE_LOOP, NULL);
  fake_state.active = 0;
  out = open_memstream(&text, &len);
  assert_non_null(out);
  assert_int_equal(asyncleak_check_and_isolate(s, out), 1);
  assert_int_equal(fclose(out), 0);
  assert_non_null(strstr(text, "\nasyncleak: set aside for the tests that "
                               "follow: 1 handle\n"));
  free(text);
  assert_int_equal(fake_nquieted, 1);
  asyncleak_snapshot_free(s);
}

/* ---------------------------------------------------------------- ignores
 * Last: the list of ignored creators is never cleared. */

static __attribute__((noinline)) void check_ignored_creator(uintptr_t addr) {
  al_res_open(shim, addr, 0, FAKE_LOOP, al_stack_capture());
}

static __attribute__((noinline)) void check_ignored_requester(uintptr_t addr) {
  assert_int_equal(
      al_req_start(shim, addr, 0, FAKE_LOOP, NULL, al_stack_capture()), 0);
}

static __attribute__((noinline)) void check_kept_creator(uintptr_t addr) {
  al_res_open(shim, addr, 1, FAKE_LOOP, al_stack_capture());
}

/* The kept creator's caller: its second frame. */
static __attribute__((noinline)) void check_kept_caller(uintptr_t addr) {
  check_kept_creator(addr);
}

static int ignore(const char *name) {
  int rc = asyncleak_ignore_creator(name);
  if (rc == 0)
    names_ignored++;
  return rc;
}

/* The first frame line of the group that begins with head. */
static void assert_first_frame(const char *text, const char *head,
                               const char *function) {
  const char *g = strstr(text, head);
  char frame[512], want[128];
  const char *end;
  assert_non_null(g);
  g += strlen(head);
  assert_true(strncmp(g, "    #0 0x", 9) == 0);
  end = strchr(g, '\n');
  assert_non_null(end);
  assert_true((size_t)(end - g) < sizeof(frame));
  memcpy(frame, g, (size_t)(end - g));
  frame[end - g] = '\0';
  snprintf(want, sizeof(want), " in %s ", function);
  assert_non_null(strstr(frame, want));
  assert_non_null(strstr(frame, "test-check.c:"));
}

static void test_ignore__bad_arguments(void **state) {
  (void)state;
  assert_int_equal(ignore(NULL), -EINVAL);
  assert_int_equal(ignore(""), -EINVAL);
  assert_int_equal(names_ignored, 0);
}

static void test_ignore__first_frame_left_out(void **state) {
  asyncleak_snapshot *s;
  struct al_snapshot snap;
  struct al_report_totals t;
  struct al_buf b = {0};
  size_t n;
  (void)state;
  s = asyncleak_snapshot_take();
  assert_non_null(s);
  check_ignored_creator(0x100);
  check_ignored_requester(0x600);
  check_kept_caller(0x200);

  /* Before: all three, named by their creating function. */
  char *text = check_text(s, &n);
  assert_int_equal(n, 3);
  assert_first_frame(text, "\n1 handle of type fake_a_t, created at:\n",
                     "check_ignored_creator");
  assert_first_frame(text, "\n1 handle of type fake_b_t, created at:\n",
                     "check_kept_creator");
  assert_first_frame(text, "\n1 request of type fake_req_t pending, created "
                           "at:\n", "check_ignored_requester");
  free(text);

  /* A function further down the stack is not the creator, nor is a part
   * of its name. */
  assert_int_equal(ignore("check_kept_caller"), 0);
  assert_int_equal(ignore("check_kept_creato"), 0);
  assert_int_equal(ignore("kept_creator"), 0);
  assert_int_equal(asyncleak_check_since(s, NULL), 3);

  assert_int_equal(ignore("check_ignored_creator"), 0);
  assert_int_equal(ignore("check_ignored_requester"), 0);
  text = check_text(s, &n);
  assert_int_equal(n, 1);
  assert_non_null(strstr(text, "==ERROR: asyncleak: 1 handle left open\n"));
  assert_first_frame(text, "\n1 handle of type fake_b_t, created at:\n",
                     "check_kept_creator");
  assert_null(strstr(text, "fake_a_t"));
  assert_null(strstr(text, "request"));
  assert_null(strstr(text, "check_ignored_"));
  assert_non_null(strstr(text, "\nSUMMARY: asyncleak: 1 handle left open (1 "
                               "fake_b_t) from 1 creation site\n"));
  free(text);
  assert_int_equal(asyncleak_check(NULL), 1);

  /* Not the exit report. */
  assert_int_equal(al_registry_snapshot(&snap), 0);
  al_report_format(&snap, &b, &t, NULL, NULL);
  al_snapshot_release(&snap);
  assert_int_equal(t.open, 2);
  assert_int_equal(t.pending, 1);
  al_buf_release(&b);
  asyncleak_snapshot_free(s);
}

static void test_ignore__at_most_64_names(void **state) {
  char name[32];
  int rc = 0;
  size_t added = 0;
  (void)state;
  for (int i = 0; i < 100 && rc == 0; i++) {
    snprintf(name, sizeof(name), "no_such_function_%d", i);
    if ((rc = ignore(name)) == 0)
      added++;
  }
  assert_int_equal(rc, -ENOSPC);
  assert_int_equal(names_ignored, 64);
  assert_true(added > 0);
  /* Refused names leave the others in force. */
  assert_int_equal(ignore("check_kept_creator"), -ENOSPC);
  check_kept_creator(0x200);
  check_ignored_creator(0x100);
  assert_int_equal(asyncleak_check(NULL), 1);
}

int main(void) {
  const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
      T(test_drain__bad_arguments),
      T(test_drain__refused_inside_the_loop),
      T(test_drain__nothing_to_do_is_zero),
      T(test_drain__counts_that_loops_work_only),
      T(test_drain__idle_handles_not_counted),
      T(test_drain__closing_and_pending_counted_whatever_probe),
      T(test_drain__replaced_loops_records_not_counted),
      T(test_cancel__bad_arguments),
      T(test_cancel__refused_inside_the_loop),
      T(test_cancel__librarys_refusal_returned),
      T(test_cancel__cancels_and_waits),
      T(test_cancel__timeout_returned),
      T(test_check__since_snapshot_only),
      T(test_check__requests_since_snapshot),
      T(test_check__snapshot_after_everything_is_clean),
      T(test_check__closing_handle_shown_not_counted),
      T(test_check__any_loop_any_thread),
      T(test_cmocka__clean_test_passes),
      T(test_cmocka__leak_fails_with_report),
      T(test_cmocka__pending_request_fails),
      T(test_cmocka__drains_this_threads_loops_only),
      T(test_cmocka__replaced_and_inherited_loops_not_run),
      T(test_cmocka__loop_of_returned_frame_not_run),
      T(test_cmocka__handle_of_returned_frame_not_run),
      T(test_isolate__failed_tests_leak_set_aside),
      T(test_isolate__check_alone_acts_on_nothing),
      T(test_isolate__public_function),
      T(test_isolate__what_is_left_alone),
      /* Last: ignored names stay for the rest of the process. */
      T(test_ignore__bad_arguments),
      T(test_ignore__first_frame_left_out),
      T(test_ignore__at_most_64_names),
#undef T
  };
  return cmocka_run_group_tests_name("check", tests, NULL, NULL);
}
