/* Shutdowns: finalizer order, cancellation, loops that cannot run them,
 * drains, ensure_closure, shutdown_waits_for, force and its verdicts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "asyncleak.h"
#include "fake-shim.h"

#define LOOP ((void *)FAKE_LOOP)

static uint8_t shim;
static char order[32];
static size_t norder;

static int setup(void **state) {
  (void)state;
  shim = fake_reset();
  norder = 0;
  memset(order, 0, sizeof(order));
  al_loop_open(shim, FAKE_LOOP, 0, NULL, 1);
  return 0;
}

static int teardown(void **state) {
  (void)state;
  al_opt.force_close = 0;
  al_opt.drain_timeout_ms = 3000;
  al_registry_reset();
  al_shutdown_log_reset();
  return 0;
}

static void note(void *loop, void *arg) {
  assert_ptr_equal(loop, LOOP);
  order[norder++] = *(const char *)arg;
}

/* The log of shutdowns, as the report sees it. */
static struct al_snapshot snap(void) {
  struct al_snapshot s;
  assert_int_equal(al_registry_snapshot(&s), 0);
  return s;
}

static void test_finally__reverse_order_once(void **state) {
  struct al_snapshot s;
  (void)state;
  assert_int_equal(asyncleak_run_finally(LOOP, note, "1"), 0);
  assert_int_equal(asyncleak_run_finally(LOOP, note, "2"), 0);
  assert_int_equal(asyncleak_run_finally(LOOP, note, "3"), 0);
  assert_int_equal(al_shutdown(FAKE_LOOP, AL_WHY_CLOSE), 0);
  assert_string_equal(order, "321");
  assert_int_equal(fake_drains, 1);
  /* Each runs once. */
  assert_int_equal(al_shutdown(FAKE_LOOP, AL_WHY_CLOSE), 0);
  assert_string_equal(order, "321");
  assert_int_equal(fake_drains, 1);
  s = snap();
  assert_int_equal(s.nshutdowns, 1);
  assert_int_equal(s.shutdowns[0].nran, 3);
  assert_int_equal(s.shutdowns[0].why, AL_WHY_CLOSE);
  assert_int_equal(s.shutdowns[0].skip, AL_SKIP_NONE);
  al_snapshot_release(&s);
}

static void test_finally__cancel_removes_most_recent(void **state) {
  (void)state;
  assert_int_equal(asyncleak_run_finally(LOOP, note, "a"), 0);
  assert_int_equal(asyncleak_run_finally(LOOP, note, "b"), 0);
  assert_int_equal(asyncleak_run_finally(LOOP, note, "a"), 0);
  assert_int_equal(asyncleak_cancel_finally(LOOP, note, "a"), 0);
  assert_int_equal(asyncleak_cancel_finally(LOOP, note, "zz"), -ENOENT);
  al_shutdown(FAKE_LOOP, AL_WHY_CLOSE);
  assert_string_equal(order, "ba");
}

static int never_closed(void *r) {
  (void)r;
  return 0;
}

static void close_note(void *r) {
  order[norder++] = *(const char *)r;
}

static void test_finally__bad_arguments(void **state) {
  (void)state;
  assert_int_equal(asyncleak_run_finally(NULL, note, "x"), -EINVAL);
  assert_int_equal(asyncleak_run_finally(LOOP, NULL, "x"), -EINVAL);
  assert_int_equal(asyncleak_run_finally((void *)0x99, note, "x"), -ENOENT);
  assert_int_equal(asyncleak_loop_close((void *)0x99), -ENOENT);
  assert_int_equal(asyncleak_ensure_closure(LOOP, NULL, never_closed,
                                            close_note), -EINVAL);
  assert_int_equal(asyncleak_ensure_closure(LOOP, "r", NULL, close_note),
                   -EINVAL);
  assert_int_equal(asyncleak_ensure_closure((void *)0x99, "r", never_closed,
                                            close_note), -ENOENT);
  assert_int_equal(asyncleak_shutdown_waits_for(LOOP, NULL), -EINVAL);
  fake_kind_is = AL_KIND_NONE;
  assert_int_equal(asyncleak_shutdown_waits_for(LOOP, "h"), -EINVAL);
}

static void test_finally__unknown_loop_claimed(void **state) {
  (void)state;
  /* A loop made where the interposers did not see it. */
  fake_claimable = 0x20;
  assert_int_equal(asyncleak_run_finally((void *)0x20, note, "c"), 0);
  assert_int_equal(al_loop_serial(0x20), 2);
  assert_int_equal(asyncleak_run_finally((void *)0x30, note, "c"), -ENOENT);
}

static void test_finally__loop_closed_unseen_runs_nothing(void **state) {
  (void)state;
  asyncleak_run_finally(LOOP, note, "1");
  /* The program closed the loop through calls we did not see. */
  fake_closes = 1;
  assert_int_equal(al_shutdown(FAKE_LOOP, AL_WHY_EXIT), -ENOENT);
  assert_int_equal(norder, 0);
  fake_closes = 0;
  assert_int_equal(al_shutdown(FAKE_LOOP, AL_WHY_EXIT), 0);
  assert_int_equal(norder, 0); /* and forgotten */
}

static void test_finally__running_loop_keeps_them(void **state) {
  struct al_snapshot s;
  (void)state;
  asyncleak_run_finally(LOOP, note, "1");
  asyncleak_run_finally(LOOP, note, "2");
  FAKE_RUN_BEGIN();
  assert_int_equal(al_shutdown(FAKE_LOOP, AL_WHY_EXIT), -EDEADLK);
  assert_int_equal(norder, 0);
  assert_int_equal(fake_drains, 0);
  s = snap();
  assert_int_equal(s.nshutdowns, 1);
  assert_int_equal(s.shutdowns[0].skip, AL_SKIP_IN_CALLBACK);
  assert_int_equal(s.shutdowns[0].why, AL_WHY_EXIT);
  al_snapshot_release(&s);
  /* Still registered, still in order, for a later close. */
  FAKE_RUN_END();
  assert_int_equal(al_shutdown(FAKE_LOOP, AL_WHY_CLOSE), 0);
  assert_string_equal(order, "21");
}

static void register_more(void *loop, void *arg) {
  note(loop, arg);
  asyncleak_run_finally(loop, note, "late");
}

static void cancel_b(void *loop, void *arg) {
  note(loop, arg);
  assert_int_equal(asyncleak_cancel_finally(loop, note, "b"), 0);
}

static void test_finally__cancelled_by_an_earlier_one(void **state) {
  (void)state;
  asyncleak_run_finally(LOOP, note, "b");
  asyncleak_run_finally(LOOP, cancel_b, "a");
  al_shutdown(FAKE_LOOP, AL_WHY_CLOSE);
  assert_string_equal(order, "a");
}

static void test_finally__registered_while_running_also_run(void **state) {
  (void)state;
  asyncleak_run_finally(LOOP, register_more, "x");
  al_shutdown(FAKE_LOOP, AL_WHY_CLOSE);
  assert_string_equal(order, "xl");
  assert_int_equal(fake_drains, 1);
}

static void test_finally__timeout_names_them(void **state) {
  struct al_snapshot s;
  (void)state;
  asyncleak_run_finally(LOOP, note, "1");
  fake_drain_rc = -ETIMEDOUT;
  assert_int_equal(al_shutdown(FAKE_LOOP, AL_WHY_CLOSE), -ETIMEDOUT);
  s = snap();
  assert_int_equal(s.nshutdowns, 1);
  assert_true(s.shutdowns[0].timed_out);
  assert_ptr_equal(s.shutdowns[0].ran[0].fn, (void *)note);
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

static void test_finally__loop_close_from_callback_refused(void **state) {
  (void)state;
  asyncleak_run_finally(LOOP, note, "1");
  FAKE_RUN_BEGIN();
  assert_int_equal(asyncleak_loop_close(LOOP), -EDEADLK);
  FAKE_RUN_END();
  assert_int_equal(fake_closes, 0);
  assert_int_equal(norder, 0);
}

static void test_finally__nothing_to_do_no_drain(void **state) {
  struct al_snapshot s;
  (void)state;
  assert_int_equal(al_shutdown(FAKE_LOOP, AL_WHY_CLOSE), 0);
  assert_int_equal(fake_drains, 0);
  s = snap();
  assert_int_equal(s.nshutdowns, 0);
  al_snapshot_release(&s);
}

static int closed_when_upper(void *r) {
  return *(const char *)r >= 'A' && *(const char *)r <= 'Z';
}

static void test_finally__ensure_closes_only_open_ones(void **state) {
  struct al_snapshot s;
  (void)state;
  assert_int_equal(asyncleak_run_finally(LOOP, note, "1"), 0);
  assert_int_equal(
      asyncleak_ensure_closure(LOOP, "o", closed_when_upper, close_note), 0);
  assert_int_equal(
      asyncleak_ensure_closure(LOOP, "C", closed_when_upper, close_note), 0);
  assert_int_equal(al_shutdown(FAKE_LOOP, AL_WHY_EXIT), 0);
  /* Newest first, with the finalizers; "C" was closed: left alone. */
  assert_string_equal(order, "o1");
  s = snap();
  assert_int_equal(s.nnotes, 1);
  assert_int_equal(s.notes[0].kind, AL_NOTE_ENSURED);
  assert_ptr_equal((void *)s.notes[0].addr, "o");
  assert_ptr_equal(s.notes[0].fn, (void *)close_note);
  al_snapshot_release(&s);
}

static void test_finally__ensure_forgets_closed_resources(void **state) {
  static char closed[200];
  struct al_loop l;
  (void)state;
  memset(closed, 'C', sizeof(closed));
  for (int i = 0; i < 200; i++)
    assert_int_equal(asyncleak_ensure_closure(LOOP, &closed[i],
                                              closed_when_upper, close_note),
                     0);
  assert_int_equal(asyncleak_ensure_closure(LOOP, "o", closed_when_upper,
                                            close_note), 0);
  /* Swept as they grew: far fewer kept than registered. */
  assert_int_equal(al_loop_get(FAKE_LOOP, &l), 0);
  assert_true(l.nfins < 64);
  al_shutdown(FAKE_LOOP, AL_WHY_EXIT);
  assert_string_equal(order, "o");
}

/* The program's callback that closes the protected handle. */
static void close_protected(void) {
  fake_handle_is_open = 0;
}

static void test_finally__waits_for_protected_handle(void **state) {
  (void)state;
  assert_int_equal(asyncleak_shutdown_waits_for(LOOP, (void *)0x500), 0);
  /* Nothing registered, but a protected handle open: the drain runs,
   * until a callback closes it. */
  fake_handle_is_open = 1;
  fake_on_drain = close_protected;
  assert_int_equal(al_shutdown_holds(FAKE_LOOP), 1);
  assert_int_equal(al_shutdown(FAKE_LOOP, AL_WHY_CLOSE), 0);
  assert_int_equal(fake_drains, 1);
  /* Drained once: not waited for again (at exit, say), unless something
   * new was registered. */
  assert_int_equal(al_shutdown(FAKE_LOOP, AL_WHY_EXIT), 0);
  assert_int_equal(fake_drains, 1);
  asyncleak_run_finally(LOOP, note, "n");
  assert_int_equal(al_shutdown(FAKE_LOOP, AL_WHY_EXIT), 0);
  assert_int_equal(fake_drains, 2);
  assert_string_equal(order, "n");
  fake_handle_is_open = 0;
  assert_int_equal(al_shutdown_holds(FAKE_LOOP), 0);
}

/* A finalizer that closes the handle at 0x100. */
static void close_first(void *loop, void *arg) {
  (void)loop;
  (void)arg;
  fake_close_handle(0x100);
}

static void test_finally__force_verdicts(void **state) {
  struct al_snapshot s;
  (void)state;
  al_res_open(shim, 0x100, 0, FAKE_LOOP, NULL); /* closed by a finalizer */
  al_res_open(shim, 0x200, 1, FAKE_LOOP, NULL); /* closed by force */
  al_res_open(shim, 0x300, 1, FAKE_LOOP, NULL); /* protected: stays open */
  asyncleak_run_finally(LOOP, close_first, NULL);
  asyncleak_shutdown_waits_for(LOOP, (void *)0x300);
  al_opt.force_close = 1;
  assert_int_equal(al_shutdown(FAKE_LOOP, AL_WHY_CALL), 0);
  assert_int_equal(fake_nclosed, 2);
  assert_true(fake_closed[0] == 0x100 && fake_closed[1] == 0x200);
  assert_int_equal(fake_drains, 2);
  s = snap();
  assert_int_equal(s.nshutdowns, 1);
  assert_int_equal(s.shutdowns[0].v.at_start, 3);
  assert_int_equal(s.shutdowns[0].v.by_finalizer, 1);
  assert_int_equal(s.shutdowns[0].v.by_force, 1);
  assert_int_equal(s.shutdowns[0].v.by_program, 0);
  assert_int_equal(s.shutdowns[0].v.still_open, 1);
  assert_int_equal(s.nnotes, 1);
  assert_int_equal(s.notes[0].kind, AL_NOTE_FORCED);
  assert_int_equal(s.notes[0].addr, 0x200);
  assert_int_equal(s.notes[0].type, 1);
  assert_int_equal(s.nres, 1); /* only the protected one is still open */
  al_snapshot_release(&s);
}

static void test_finally__force_leaves_internal_and_closing(void **state) {
  (void)state;
  al_res_open(shim, 0x100, 0, FAKE_LOOP, NULL);
  al_opt.force_close = 1;
  fake_state.internal = 1;
  assert_int_equal(al_shutdown(FAKE_LOOP, AL_WHY_CALL), 0);
  assert_int_equal(fake_nclosed, 0);
  fake_state.internal = 0;
  fake_state.closing = 1;
  assert_int_equal(al_shutdown(FAKE_LOOP, AL_WHY_CALL), 0);
  assert_int_equal(fake_nclosed, 0);
}

/* Formats the report of the registry as it is. */
static char *report_text(struct al_report_totals *t) {
  struct al_snapshot s = snap();
  struct al_buf b = {0};
  al_report_format(&s, &b, t, NULL, NULL);
  al_snapshot_release(&s);
  al_buf_printf(&b, "%s", "");
  return b.data;
}

static void test_finally__force_cancels_unprotected_requests(void **state) {
  struct al_snapshot s;
  struct al_report_totals t;
  char line[256];
  int pid = (int)getpid();
  (void)state;
  assert_int_equal(al_req_start(shim, 0x600, 0, FAKE_LOOP, (void *)0x61,
                                NULL), 0);
  assert_int_equal(al_req_start(shim, 0x700, 0, FAKE_LOOP, (void *)0x71,
                                NULL), 0);
  fake_kind_is = AL_KIND_REQUEST;
  assert_int_equal(asyncleak_shutdown_waits_for(LOOP, (void *)0x700), 0);
  assert_int_equal(asyncleak_run_finally(LOOP, note, "1"), 0);
  /* The protected one never completes: the shutdown waits out its
   * deadline, and it stays pending. */
  al_opt.drain_timeout_ms = 20;
  al_opt.force_close = 1;
  assert_int_equal(al_shutdown(FAKE_LOOP, AL_WHY_CALL), -ETIMEDOUT);
  assert_string_equal(order, "1");
  /* The unprotected one only. */
  assert_int_equal(fake_ncancelled, 1);
  assert_int_equal(fake_cancelled[0], 0x600);
  assert_int_equal(al_req_pending(0x600), 0);
  assert_int_equal(al_req_pending(0x700), 1);
  assert_int_equal(fake_nclosed, 0);

  s = snap();
  assert_int_equal(s.nnotes, 1);
  assert_int_equal(s.notes[0].kind, AL_NOTE_CANCELLED);
  assert_int_equal(s.notes[0].addr, 0x600);
  assert_int_equal(s.notes[0].type, 0);
  assert_int_equal(s.notes[0].serial, 1);
  assert_int_equal(s.notes[0].tid, pid);
  assert_int_equal(s.notes[0].shim, shim);
  assert_int_equal(s.nshutdowns, 1);
  assert_int_equal(s.shutdowns[0].v.cancelled, 1);
  assert_int_equal(s.shutdowns[0].v.at_start, 0);
  assert_int_equal(s.shutdowns[0].v.by_force, 0);
  assert_true(s.shutdowns[0].forced);
  assert_int_equal(s.nres, 1);
  assert_int_equal(s.res[0].addr, 0x700);
  assert_int_equal(s.res[0].state, AL_RES_PENDING);
  al_snapshot_release(&s);

  char *text = report_text(&t);
  assert_int_equal(t.cancelled, 1);
  assert_int_equal(t.forced, 0);
  assert_int_equal(t.pending, 1);
  snprintf(line, sizeof(line), "==%d==ERROR: asyncleak: 1 request left "
                               "pending, cancelled by force at shutdown\n",
           pid);
  assert_non_null(strstr(text, line));
  snprintf(line, sizeof(line), "\n1 request of type fake_req_t cancelled by "
                               "force at shutdown, created at:\n"
                               "    <no stack>\n"
                               "  0x600 on loop 1, thread %d (main)\n"
                               /* "request", "fake_req_t": no frames. */
                               "  fingerprint eb9ad9919a06aa5f\n\n",
           pid);
  assert_true(strlen(line) < sizeof(line) - 1);
  assert_non_null(strstr(text, line));
  assert_non_null(strstr(text, "\nShutdowns:\n  loop 1, created at an "
                               "unknown place, by asyncleak_loop_close:\n    finalizers run: "
                               "note\n    their work took: note "));
  /* note made no request: its work was done as it returned. */
  assert_non_null(strstr(text, " ms\n    its finalizers' work was not done "
                               "after 20 ms: note\n"
                               "    1 request cancelled by force\n\n"));
  /* The protected one is still pending, and said so. */
  assert_non_null(strstr(text, "\n1 request of type fake_req_t pending, "
                               "created at:\n"));
  snprintf(line, sizeof(line), "\n  0x700 on loop 1, thread %d (main), "
                               "pending for ", pid);
  assert_non_null(strstr(text, line));
  snprintf(line, sizeof(line), "\n  0x600 on loop 1, thread %d (main), "
                               "pending for ", pid);
  assert_null(strstr(text, line));
  assert_non_null(strstr(text, "\nSUMMARY: asyncleak: 0 handles left open; 1 "
                               "request pending (1 fake_req_t) from 1 "
                               "creation site; 1 of 1 loop not closed; 1 "
                               "request cancelled by force\n"));
  free(text);
}

static void test_finally__force_cancel_plural(void **state) {
  struct al_snapshot s;
  struct al_report_totals t;
  (void)state;
  for (uintptr_t i = 0; i < 3; i++)
    assert_int_equal(al_req_start(shim, 0x600 + i * 0x40, 0, FAKE_LOOP, NULL,
                                  NULL), 0);
  asyncleak_run_finally(LOOP, note, "1");
  al_opt.force_close = 1;
  assert_int_equal(al_shutdown(FAKE_LOOP, AL_WHY_CALL), 0);
  assert_int_equal(fake_ncancelled, 3);
  s = snap();
  assert_int_equal(s.nnotes, 3);
  for (size_t i = 0; i < 3; i++)
    assert_int_equal(s.notes[i].kind, AL_NOTE_CANCELLED);
  assert_int_equal(s.shutdowns[0].v.cancelled, 3);
  assert_int_equal(s.nres, 0);
  al_snapshot_release(&s);
  char *text = report_text(&t);
  assert_int_equal(t.cancelled, 3);
  assert_int_equal(t.pending, 0);
  assert_non_null(strstr(text, ": asyncleak: 3 requests left pending, "
                               "cancelled by force at shutdown\n"));
  assert_non_null(strstr(text, "\n3 requests of type fake_req_t cancelled by "
                               "force at shutdown, created at:\n"));
  assert_non_null(strstr(text, "\n    3 requests cancelled by force\n"));
  assert_non_null(strstr(text, "\nSUMMARY: asyncleak: 0 handles left open; 1 "
                               "of 1 loop not closed; 3 requests cancelled "
                               "by force\n"));
  assert_null(strstr(text, "pending at exit"));
  free(text);
}

static void test_finally__force_cancel_refused_still_pending(void **state) {
  struct al_snapshot s;
  struct al_report_totals t;
  (void)state;
  assert_int_equal(al_req_start(shim, 0x600, 0, FAKE_LOOP, NULL, NULL), 0);
  asyncleak_run_finally(LOOP, note, "1");
  al_opt.force_close = 1;
  fake_cancel_rc = -EBUSY; /* running in the thread pool, never done */
  al_opt.drain_timeout_ms = 20;
  assert_int_equal(al_shutdown(FAKE_LOOP, AL_WHY_CALL), -ETIMEDOUT);
  assert_int_equal(fake_ncancelled, 0);
  assert_int_equal(al_req_pending(0x600), 1);
  s = snap();
  assert_int_equal(s.nnotes, 0);
  assert_int_equal(s.nshutdowns, 1); /* for the finalizer */
  assert_int_equal(s.shutdowns[0].v.cancelled, 0);
  assert_int_equal(s.nres, 1);
  al_snapshot_release(&s);
  char *text = report_text(&t);
  assert_int_equal(t.cancelled, 0);
  assert_int_equal(t.pending, 1);
  assert_null(strstr(text, "cancelled"));
  assert_non_null(strstr(text, ": asyncleak: 1 request pending at exit\n"));
  free(text);
}

static void test_finally__no_cancel_without_force(void **state) {
  struct al_snapshot s;
  (void)state;
  assert_int_equal(al_req_start(shim, 0x600, 0, FAKE_LOOP, NULL, NULL), 0);
  asyncleak_run_finally(LOOP, note, "1");
  /* Waited for until the deadline, never cancelled. */
  al_opt.drain_timeout_ms = 20;
  assert_int_equal(al_shutdown(FAKE_LOOP, AL_WHY_EXIT), -ETIMEDOUT);
  assert_string_equal(order, "1");
  assert_int_equal(fake_ncancelled, 0);
  assert_int_equal(al_req_pending(0x600), 1);
  s = snap();
  assert_int_equal(s.nnotes, 0);
  assert_int_equal(s.shutdowns[0].v.cancelled, 0);
  assert_false(s.shutdowns[0].forced);
  al_snapshot_release(&s);
}

/* --------------------------------------------- asyncleak_finally_after */

/* A finalizer whose work is a request of the loop's, done when a drain
 * runs the loop. */
static void start_request(void *loop, void *arg) {
  note(loop, arg);
  assert_int_equal(al_req_start(shim, 0x800, 0, FAKE_LOOP, (void *)0x81,
                                NULL), 0);
}

static int pending_when_later_ran = -1;

static void later(void *loop, void *arg) {
  note(loop, arg);
  pending_when_later_ran = al_req_pending(0x800);
}

static void finish_request(void) {
  void *cb;
  assert_true(al_req_done(0x800, &cb));
}

static void test_finally__after_waits_for_work(void **state) {
  struct al_snapshot s;
  (void)state;
  /* Registered first, so that without the order it would run last. */
  assert_int_equal(asyncleak_run_finally(LOOP, start_request, "a"), 0);
  assert_int_equal(asyncleak_run_finally(LOOP, later, "b"), 0);
  assert_int_equal(asyncleak_run_finally(LOOP, note, "c"), 0);
  assert_int_equal(asyncleak_finally_after(LOOP, later, "b", start_request,
                                           "a"), 0);
  fake_on_drain = finish_request;
  assert_int_equal(al_shutdown(FAKE_LOOP, AL_WHY_CLOSE), 0);
  /* c waits for nothing and is newest: first. b waited for a's request
   * to call back. */
  assert_string_equal(order, "cab");
  assert_int_equal(pending_when_later_ran, 0);
  s = snap();
  assert_int_equal(s.nshutdowns, 1);
  assert_int_equal(s.shutdowns[0].nran, 3);
  assert_ptr_equal(s.shutdowns[0].ran[1].fn, (void *)start_request);
  assert_ptr_equal(s.shutdowns[0].ran[2].fn, (void *)later);
  for (int i = 0; i < 3; i++) {
    assert_int_equal(s.shutdowns[0].ran[i].done, 1);
    assert_null(s.shutdowns[0].ran[i].held_by);
  }
  assert_false(s.shutdowns[0].timed_out);
  al_snapshot_release(&s);
}

static void test_finally__after_chain_and_refusals(void **state) {
  (void)state;
  assert_int_equal(asyncleak_run_finally(LOOP, note, "1"), 0);
  assert_int_equal(asyncleak_run_finally(LOOP, note, "2"), 0);
  assert_int_equal(asyncleak_run_finally(LOOP, note, "3"), 0);
  /* 1 after 2 after 3: the reverse of the usual order, the same here. */
  assert_int_equal(asyncleak_finally_after(LOOP, note, "1", note, "2"), 0);
  assert_int_equal(asyncleak_finally_after(LOOP, note, "2", note, "3"), 0);
  assert_int_equal(asyncleak_finally_after(LOOP, note, "2", note, "3"), 0);
  assert_int_equal(asyncleak_finally_after(LOOP, note, "3", note, "1"),
                   -ELOOP);
  assert_int_equal(asyncleak_finally_after(LOOP, note, "3", note, "2"),
                   -ELOOP);
  assert_int_equal(asyncleak_finally_after(LOOP, note, "3", note, "3"),
                   -ELOOP);
  assert_int_equal(asyncleak_finally_after(LOOP, note, "3", note, "9"),
                   -ENOENT);
  assert_int_equal(asyncleak_finally_after(LOOP, note, "9", note, "3"),
                   -ENOENT);
  assert_int_equal(asyncleak_finally_after((void *)0x99, note, "1", note,
                                           "2"), -ENOENT);
  assert_int_equal(asyncleak_finally_after(NULL, note, "1", note, "2"),
                   -EINVAL);
  assert_int_equal(asyncleak_finally_after(LOOP, NULL, "1", note, "2"),
                   -EINVAL);
  assert_int_equal(asyncleak_finally_after(LOOP, note, "1", NULL, "2"),
                   -EINVAL);
  assert_int_equal(al_shutdown(FAKE_LOOP, AL_WHY_CLOSE), 0);
  assert_string_equal(order, "321");
}

static void test_finally__after_cancelled_prerequisite(void **state) {
  (void)state;
  assert_int_equal(asyncleak_run_finally(LOOP, note, "b"), 0);
  assert_int_equal(asyncleak_run_finally(LOOP, note, "a"), 0);
  assert_int_equal(asyncleak_run_finally(LOOP, note, "c"), 0);
  assert_int_equal(asyncleak_finally_after(LOOP, note, "a", note, "b"), 0);
  assert_int_equal(asyncleak_finally_after(LOOP, note, "c", note, "a"), 0);
  /* b cancelled: a waits for nothing, and its order with b is gone, so
   * that b registered again may follow c, which follows a: no cycle. */
  assert_int_equal(asyncleak_cancel_finally(LOOP, note, "b"), 0);
  assert_int_equal(asyncleak_run_finally(LOOP, note, "b"), 0);
  assert_int_equal(asyncleak_finally_after(LOOP, note, "b", note, "c"), 0);
  assert_int_equal(al_shutdown(FAKE_LOOP, AL_WHY_CLOSE), 0);
  assert_string_equal(order, "acb");
}

static void test_finally__after_deadline_names_prerequisite(void **state) {
  struct al_snapshot s;
  (void)state;
  assert_int_equal(asyncleak_run_finally(LOOP, start_request, "a"), 0);
  assert_int_equal(asyncleak_run_finally(LOOP, later, "b"), 0);
  assert_int_equal(asyncleak_finally_after(LOOP, later, "b", start_request,
                                           "a"), 0);
  /* a's request never calls back. */
  al_opt.drain_timeout_ms = 20;
  assert_int_equal(al_shutdown(FAKE_LOOP, AL_WHY_CLOSE), -ETIMEDOUT);
  assert_string_equal(order, "ab");
  assert_int_equal(pending_when_later_ran, 1);
  s = snap();
  assert_int_equal(s.nshutdowns, 1);
  assert_int_equal(s.shutdowns[0].nran, 2);
  assert_false(s.shutdowns[0].ran[0].done);
  assert_null(s.shutdowns[0].ran[0].held_by);
  assert_ptr_equal(s.shutdowns[0].ran[1].fn, (void *)later);
  assert_ptr_equal(s.shutdowns[0].ran[1].held_by, (void *)start_request);
  assert_true(s.shutdowns[0].ran[1].done);
  assert_true(s.shutdowns[0].timed_out);
  al_snapshot_release(&s);
  finish_request();
}

static void test_finally__force_cancel_spares_other_loops(void **state) {
  struct al_snapshot s;
  (void)state;
  /* On the loop, then on an older loop at the same address replaced
   * without a close, and on another loop. */
  assert_int_equal(al_req_start(shim, 0x600, 0, FAKE_LOOP, NULL, NULL), 0);
  assert_int_equal(al_loop_open(shim, FAKE_LOOP, 0, NULL, 1), 2);
  assert_int_equal(al_req_start(shim, 0x700, 0, FAKE_LOOP, NULL, NULL), 0);
  assert_int_equal(al_req_start(shim, 0x800, 0, 0x20, NULL, NULL), 0);
  asyncleak_run_finally(LOOP, note, "1");
  al_opt.force_close = 1;
  assert_int_equal(al_shutdown(FAKE_LOOP, AL_WHY_CALL), 0);
  assert_int_equal(fake_ncancelled, 1);
  assert_int_equal(fake_cancelled[0], 0x700);
  assert_int_equal(al_req_pending(0x600), 1);
  assert_int_equal(al_req_pending(0x800), 1);
  s = snap();
  assert_int_equal(s.nnotes, 1);
  assert_int_equal(s.notes[0].addr, 0x700);
  assert_int_equal(s.notes[0].serial, 2);
  al_snapshot_release(&s);
}

static void test_finally__force_cancel_with_handles(void **state) {
  struct al_snapshot s;
  struct al_report_totals t;
  (void)state;
  al_res_open(shim, 0x200, 1, FAKE_LOOP, NULL);
  assert_int_equal(al_req_start(shim, 0x600, 0, FAKE_LOOP, NULL, NULL), 0);
  asyncleak_run_finally(LOOP, note, "1");
  al_opt.force_close = 1;
  assert_int_equal(al_shutdown(FAKE_LOOP, AL_WHY_CALL), 0);
  assert_int_equal(fake_nclosed, 1);
  assert_int_equal(fake_ncancelled, 1);
  s = snap();
  assert_int_equal(s.nnotes, 2);
  assert_int_equal(s.shutdowns[0].v.at_start, 1);
  assert_int_equal(s.shutdowns[0].v.by_force, 1);
  assert_int_equal(s.shutdowns[0].v.cancelled, 1);
  al_snapshot_release(&s);
  char *text = report_text(&t);
  assert_int_equal(t.forced, 1);
  assert_int_equal(t.cancelled, 1);
  assert_non_null(strstr(text, "\n    1 handle open when it began: 0 closed "
                               "by a finalizer, 0 closed by the program, 1 "
                               "closed by force, 0 still open\n    1 request "
                               "cancelled by force\n"));
  assert_non_null(strstr(text, "\n1 handle of type fake_b_t closed by force "
                               "at shutdown, created at:\n"));
  assert_non_null(strstr(text, "\n1 request of type fake_req_t cancelled by "
                               "force at shutdown, created at:\n"));
  assert_non_null(strstr(text, "\nSUMMARY: asyncleak: 0 handles left open; 1 "
                               "of 1 loop not closed; 1 closed by force; 1 "
                               "request cancelled by force\n"));
  free(text);
}

static void test_finally__force_cancels_without_finalizers(void **state) {
  (void)state;
  /* Nothing registered, no handle open: force alone is reason enough to
   * shut the loop down when a request is pending. */
  assert_int_equal(al_req_start(shim, 0x600, 0, FAKE_LOOP, NULL, NULL), 0);
  al_opt.force_close = 1;
  assert_int_equal(al_shutdown(FAKE_LOOP, AL_WHY_CALL), 0);
  assert_int_equal(fake_ncancelled, 1);
  assert_int_equal(al_req_pending(0x600), 0);
}

/* A request already running when force cancels it cannot be cancelled:
 * it is waited for, and when it completes in the drain it counts as
 * cancelled all the same, as one still queued would. */
static void complete_0x600(void) {
  void *cb;
  if (fake_drains == 2) /* the drain after force, not the one before */
    al_req_done(0x600, &cb);
}

static void test_finally__force_cancel_refused_then_done(void **state) {
  struct al_snapshot s;
  (void)state;
  assert_int_equal(al_req_start(shim, 0x600, 0, FAKE_LOOP, NULL, NULL), 0);
  al_opt.force_close = 1;
  fake_cancel_rc = -EBUSY;
  fake_on_drain = complete_0x600;
  assert_int_equal(al_shutdown(FAKE_LOOP, AL_WHY_CALL), 0);
  assert_int_equal(al_req_pending(0x600), 0);
  s = snap();
  assert_int_equal(s.nnotes, 1);
  assert_int_equal(s.notes[0].kind, AL_NOTE_CANCELLED);
  assert_int_equal(s.notes[0].addr, 0x600);
  assert_int_equal(s.shutdowns[0].v.cancelled, 1);
  assert_int_equal(s.nres, 0);
  al_snapshot_release(&s);
}

/* Force never acts in the program's own close of the loop (it may close
 * what is left and close again), nor at exit (its exit handlers may still
 * close it, or its teardown has run): only on a graceful signal or in
 * asyncleak_loop_close. */
static void test_finally__no_force_at_close_or_exit(void **state) {
  static const enum al_why whys[] = {AL_WHY_CLOSE, AL_WHY_EXIT};
  struct al_snapshot s;
  (void)state;
  al_res_open(shim, 0x200, 1, FAKE_LOOP, NULL);
  assert_int_equal(al_req_start(shim, 0x600, 0, FAKE_LOOP, NULL, NULL), 0);
  al_opt.force_close = 1;
  for (size_t i = 0; i < 2; i++) {
    assert_int_equal(al_shutdown(FAKE_LOOP, whys[i]), 0);
    assert_int_equal(fake_nclosed, 0);
    assert_int_equal(fake_ncancelled, 0);
    assert_int_equal(fake_drains, 0);
  }
  /* With a finalizer, it runs and its work is drained, until the
   * deadline (the request never completes); still no force. */
  asyncleak_run_finally(LOOP, note, "1");
  al_opt.drain_timeout_ms = 20;
  assert_int_equal(al_shutdown(FAKE_LOOP, AL_WHY_EXIT), -ETIMEDOUT);
  assert_string_equal(order, "1");
  assert_int_equal(fake_drains, 1);
  assert_int_equal(fake_nclosed, 0);
  assert_int_equal(fake_ncancelled, 0);
  s = snap();
  assert_int_equal(s.nnotes, 0);
  assert_int_equal(s.nshutdowns, 1);
  assert_false(s.shutdowns[0].forced);
  assert_int_equal(s.nres, 2);
  al_snapshot_release(&s);
  /* On a graceful signal it does (a new finalizer, for a loop once shut
   * down has its shutdown again only for those). */
  asyncleak_run_finally(LOOP, note, "2");
  assert_int_equal(al_shutdown(FAKE_LOOP, AL_WHY_SIGNAL), 0);
  assert_string_equal(order, "12");
  assert_int_equal(fake_nclosed, 1);
  assert_int_equal(fake_ncancelled, 1);
}

/* A finalizer that closes the loop (and may free it): nothing after it
 * touches the loop, and the caller is told. */
static void close_loop_fin(void *loop, void *arg) {
  (void)arg;
  fake_close((uintptr_t)loop);
}

static void test_finally__finalizer_closes_loop(void **state) {
  struct al_snapshot s;
  (void)state;
  al_res_open(shim, 0x200, 1, FAKE_LOOP, NULL);
  asyncleak_run_finally(LOOP, note, "2");
  asyncleak_run_finally(LOOP, close_loop_fin, NULL);
  al_opt.force_close = 1;
  assert_int_equal(al_shutdown(FAKE_LOOP, AL_WHY_CALL), AL_SHUTDOWN_CLOSED);
  /* Its own finalizers went with it; no drain, no force. */
  assert_string_equal(order, "");
  assert_int_equal(fake_drains, 0);
  assert_int_equal(fake_nclosed, 0);
  assert_int_equal(al_loop_serial(FAKE_LOOP), 0);
  s = snap();
  assert_int_equal(s.nshutdowns, 1);
  assert_int_equal(s.shutdowns[0].nran, 1);
  al_snapshot_release(&s);
  /* asyncleak_loop_close says the close is done, and closes nothing
   * again. */
  assert_int_equal(al_loop_open(shim, FAKE_LOOP, 0, NULL, 1), 2);
  fake_closes = 0;
  asyncleak_run_finally(LOOP, close_loop_fin, NULL);
  assert_int_equal(asyncleak_loop_close(LOOP), 0);
  assert_int_equal(fake_closes, 1);
}

/* A callback of the program's that closes the loop during the drain. */
static void close_loop_in_drain(void) {
  fake_close(FAKE_LOOP);
}

static void test_finally__drain_closes_loop(void **state) {
  (void)state;
  al_res_open(shim, 0x200, 1, FAKE_LOOP, NULL);
  asyncleak_run_finally(LOOP, note, "1");
  /* Something to wait for, so that the drain runs the loop. */
  assert_int_equal(asyncleak_shutdown_waits_for(LOOP, (void *)0x200), 0);
  fake_handle_is_open = 1;
  al_opt.force_close = 1;
  fake_on_drain = close_loop_in_drain;
  assert_int_equal(al_shutdown(FAKE_LOOP, AL_WHY_SIGNAL), AL_SHUTDOWN_CLOSED);
  assert_int_equal(fake_drains, 1);
  assert_int_equal(fake_nclosed, 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
      T(test_finally__reverse_order_once),
      T(test_finally__cancel_removes_most_recent),
      T(test_finally__bad_arguments),
      T(test_finally__unknown_loop_claimed),
      T(test_finally__loop_closed_unseen_runs_nothing),
      T(test_finally__running_loop_keeps_them),
      T(test_finally__registered_while_running_also_run),
      T(test_finally__cancelled_by_an_earlier_one),
      T(test_finally__timeout_names_them),
      T(test_finally__loop_close_runs_then_closes),
      T(test_finally__loop_close_from_callback_refused),
      T(test_finally__nothing_to_do_no_drain),
      T(test_finally__ensure_closes_only_open_ones),
      T(test_finally__ensure_forgets_closed_resources),
      T(test_finally__waits_for_protected_handle),
      T(test_finally__force_verdicts),
      T(test_finally__force_leaves_internal_and_closing),
      T(test_finally__force_cancels_unprotected_requests),
      T(test_finally__force_cancel_plural),
      T(test_finally__force_cancel_refused_still_pending),
      T(test_finally__force_cancel_refused_then_done),
      T(test_finally__no_force_at_close_or_exit),
      T(test_finally__finalizer_closes_loop),
      T(test_finally__drain_closes_loop),
      T(test_finally__no_cancel_without_force),
      T(test_finally__force_cancel_spares_other_loops),
      T(test_finally__after_waits_for_work),
      T(test_finally__after_chain_and_refusals),
      T(test_finally__after_cancelled_prerequisite),
      T(test_finally__after_deadline_names_prerequisite),
      T(test_finally__force_cancel_with_handles),
      T(test_finally__force_cancels_without_finalizers),
#undef T
  };
  return cmocka_run_group_tests_name("finally", tests, NULL, NULL);
}
