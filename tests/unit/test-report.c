/* Report grouping and layout, on records made by the fake loop library. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fake-shim.h"

static uint8_t shim;

static int setup(void **state) {
  (void)state;
  al_init();
  al_registry_reset();
  al_opt.stack_depth = 16;
  al_opt.max_addresses = 4;
  shim = al_shim_register(&fake_shim);
  fake_state = (struct al_state){.known = 1, .active = 1, .referenced = 1};
  return 0;
}

static int teardown(void **state) {
  (void)state;
  al_registry_reset();
  return 0;
}

static __attribute__((noinline)) void create_rarely(uintptr_t addr) {
  al_res_open(shim, addr, 1, 0x10, al_stack_capture());
}

static __attribute__((noinline)) void create_often(uintptr_t addr) {
  al_res_open(shim, addr, 0, 0x10, al_stack_capture());
}

/* Formats the current registry. */
static char *report(struct al_report_totals *t) {
  struct al_snapshot s;
  struct al_buf b = {0};
  assert_int_equal(al_registry_snapshot(&s), 0);
  al_report_format(&s, &b, t, NULL, NULL);
  al_snapshot_release(&s);
  al_buf_printf(&b, "%s", ""); /* always a terminated string */
  return b.data;
}

static void test_report__groups_by_site_most_frequent_first(void **state) {
  struct al_report_totals t;
  (void)state;
  al_loop_open(shim, 0x10, 0, NULL, 1);
  create_rarely(0x5000);
  for (uintptr_t i = 0; i < 6; i++)
    create_often(0x6000 + i * 64);
  char *text = report(&t);

  assert_int_equal(t.open, 7);
  assert_int_equal(t.groups, 2);
  char *often = strstr(text, "6 handles of type fake_a_t, created at:\n");
  char *rarely = strstr(text, "1 handle of type fake_b_t, created at:\n");
  assert_non_null(often);
  assert_non_null(rarely);
  assert_true(often < rarely);
  /* The first frame is the creating function, with its file and line. */
  char *frame0 = strstr(often, "#0 0x");
  assert_non_null(frame0);
  *strchr(frame0, '\n') = '\0';
  assert_non_null(strstr(frame0, " in create_often "));
  assert_non_null(strstr(frame0, "test-report.c:"));
  frame0[strlen(frame0)] = '\n';
  assert_non_null(strstr(text, "  ... and 2 more\n"));
  assert_non_null(strstr(text, "==ERROR: asyncleak: 7 handles left open at "
                               "exit\n"));
  assert_non_null(strstr(text, "\nSUMMARY: asyncleak: 7 handles left open (6 "
                               "fake_a_t, 1 fake_b_t) from 2 creation sites; "
                               "1 of 1 loop not closed\n"));
  free(text);
}

static void test_report__internal_ones_are_left_out(void **state) {
  struct al_report_totals t;
  (void)state;
  fake_state.internal = 1;
  create_often(0x6000);
  char *text = report(&t);
  assert_int_equal(t.open, 0);
  assert_int_equal(t.created, 1);
  assert_string_equal(text, "");
  free(text);
}

static void test_report__unknown_state_is_still_a_leak(void **state) {
  struct al_report_totals t;
  (void)state;
  fake_state = (struct al_state){0};
  create_often(0x6000);
  char *text = report(&t);
  assert_int_equal(t.open, 1);
  assert_non_null(strstr(text, "state unknown"));
  free(text);
}

static void test_report__nothing_open_writes_nothing(void **state) {
  struct al_report_totals t;
  (void)state;
  al_loop_open(shim, 0x10, 0, NULL, 1);
  al_loop_closed(0x10, 0);
  char *text = report(&t);
  assert_string_equal(text, "");
  assert_int_equal(t.loops, 1);
  assert_int_equal(t.loops_unclosed, 0);
  assert_int_equal(t.shims_seen, 1u << shim);
  free(text);
}

static void test_report__loops_listed_with_site(void **state) {
  struct al_report_totals t;
  (void)state;
  al_loop_open(shim, 0x10, AL_LOOP_DEFAULT, al_stack_capture(), 1);
  al_loop_close_busy(0x10);
  create_often(0x6000);
  char *text = report(&t);
  assert_non_null(strstr(text, "Loops (fakelib): 1 seen, 0 closed, 1 not closed:\n"));
  assert_non_null(strstr(text, ", default loop) created in "
                               "test_report__loops_listed_with_site "));
  assert_non_null(strstr(text, ": close failed 1 time (handles open or requests pending), never "
                               "closed\n"));
  free(text);
}

static __attribute__((noinline)) void start_request(uintptr_t addr) {
  assert_int_equal(
      al_req_start(shim, addr, 0, 0x10, (void *)0x99, al_stack_capture()), 0);
}

/* Formats the current registry, for a scope when since is not 0. */
static char *report_scoped(struct al_report_totals *t, uint64_t since) {
  struct al_snapshot s;
  struct al_report_scope scope = {since};
  struct al_buf b = {0};
  assert_int_equal(al_registry_snapshot(&s), 0);
  al_report_format(&s, &b, t, &scope, NULL);
  al_snapshot_release(&s);
  al_buf_printf(&b, "%s", "");
  return b.data;
}

/* The age a request's line gives, in ms; asserts the line is there. */
static unsigned long age_in(const char *text, const char *line_start) {
  const char *p = strstr(text, line_start);
  char *end;
  unsigned long ms;
  assert_non_null(p);
  p += strlen(line_start);
  ms = strtoul(p, &end, 10);
  assert_true(end > p);
  assert_true(strncmp(end, " ms: fake details\n", 18) == 0);
  return ms;
}

static void test_report__pending_request_exact_text(void **state) {
  struct al_report_totals t;
  char line[128], expected[1024];
  unsigned long ms;
  int pid = (int)getpid();
  (void)state;
  al_loop_open(shim, 0x10, 0, NULL, 1);
  assert_int_equal(al_req_start(shim, 0x7000, 0, 0x10, NULL, NULL), 0);
  char *text = report(&t);
  snprintf(line, sizeof(line), "  0x7000 on loop 1, thread %d (main), "
                               "pending for ", pid);
  ms = age_in(text, line);
  assert_true(ms < 1000);
  assert_true(snprintf(expected, sizeof(expected),
      "=================================================================\n"
      "==%d==ERROR: asyncleak: 1 request pending at exit\n"
      "\n"
      "1 request of type fake_req_t pending, created at:\n"
      "    <no stack>\n"
      "  0x7000 on loop 1, thread %d (main), pending for %lu ms: fake "
      "details\n"
      /* FNV-1a of "request", "fake_req_t": no frames to add. */
      "  fingerprint eb9ad9919a06aa5f\n"
      "\n"
      "Loops (fakelib): 1 seen, 0 closed, 1 not closed:\n"
      "  loop 1 (fakelib 0x10) created at an unknown place by thread %d "
      "(main): never closed\n"
      "\n"
      "SUMMARY: asyncleak: 0 handles left open; 1 request pending (1 "
      "fake_req_t) from 1 creation site; 1 of 1 loop not closed\n",
      pid, pid, ms, pid) < (int)sizeof(expected));
  assert_string_equal(text, expected);
  assert_int_equal(t.pending, 1);
  assert_int_equal(t.open, 0);
  assert_int_equal(t.groups, 1);
  assert_int_equal(t.req_groups, 1);
  assert_int_equal(t.requests, 1);
  assert_int_equal(t.created, 0);
  free(text);
}

static void test_report__pending_requests_grouped_by_site(void **state) {
  struct al_report_totals t;
  char head[64];
  (void)state;
  al_loop_open(shim, 0x10, 0, NULL, 1);
  for (uintptr_t i = 0; i < 3; i++)
    start_request(0x7000 + i * 64);
  create_often(0x6000);
  char *text = report(&t);
  assert_int_equal(t.pending, 3);
  assert_int_equal(t.open, 1);
  assert_int_equal(t.groups, 2);
  assert_int_equal(t.req_groups, 1);
  snprintf(head, sizeof(head), "==%d==ERROR: asyncleak: ", (int)getpid());
  /* One banner line each, handles first. */
  char *h1 = strstr(text, head), *h2 = h1 ? strstr(h1 + 1, head) : NULL;
  assert_non_null(h1);
  assert_non_null(h2);
  assert_null(strstr(h2 + 1, head));
  assert_true(strncmp(h1 + strlen(head), "1 handle left open at exit\n",
                      27) == 0);
  assert_true(strncmp(h2 + strlen(head), "3 requests pending at exit\n",
                      27) == 0);
  char *group = strstr(text, "\n3 requests of type fake_req_t pending, "
                             "created at:\n    #0 0x");
  assert_non_null(group);
  char *frame0 = strstr(group, "#0 0x");
  *strchr(frame0, '\n') = '\0';
  assert_non_null(strstr(frame0, " in start_request "));
  assert_non_null(strstr(frame0, "test-report.c:"));
  frame0[strlen(frame0)] = '\n';
  char prefix[96];
  for (uintptr_t i = 0; i < 3; i++) {
    snprintf(prefix, sizeof(prefix),
             "  %#lx on loop 1, thread %d (main), pending for ",
             (unsigned long)(0x7000 + i * 64), (int)getpid());
    assert_true(age_in(group, prefix) < 1000);
  }
  assert_non_null(strstr(text, "\n1 handle of type fake_a_t, created at:\n"));
  assert_non_null(strstr(text, "\nSUMMARY: asyncleak: 1 handle left open (1 "
                               "fake_a_t) from 1 creation site; 3 requests "
                               "pending (3 fake_req_t) from 1 creation site; "
                               "1 of 1 loop not closed\n"));
  free(text);
}

static void test_report__same_stack_handle_and_request_apart(void **state) {
  struct al_report_totals t;
  const struct al_stack *st;
  (void)state;
  st = al_stack_capture();
  assert_non_null(st);
  /* Same stack, same type number, one handle and one request: two
   * groups. */
  al_res_open(shim, 0x6000, 0, 0x10, st);
  al_res_open(shim, 0x6040, 0, 0x10, st);
  assert_int_equal(al_req_start(shim, 0x7000, 0, 0x10, NULL, st), 0);
  char *text = report(&t);
  assert_int_equal(t.groups, 2);
  assert_int_equal(t.req_groups, 1);
  assert_int_equal(t.open, 2);
  assert_int_equal(t.pending, 1);
  char *handles = strstr(text, "\n2 handles of type fake_a_t, created at:\n");
  char *requests = strstr(text, "\n1 request of type fake_req_t pending, "
                                "created at:\n");
  assert_non_null(handles);
  assert_non_null(requests);
  /* Each group lists its own only. */
  char *end = requests > handles ? requests : text + strlen(text);
  char *p = strstr(handles, "pending for");
  assert_true(p == NULL || p > end);
  p = strstr(requests, ", active, referenced");
  end = handles > requests ? handles : text + strlen(text);
  assert_true(p == NULL || p > end);
  assert_null(strstr(text, "handles of type fake_req_t"));
  assert_non_null(strstr(text, "\nSUMMARY: asyncleak: 2 handles left open (2 "
                               "fake_a_t) from 1 creation site; 1 request "
                               "pending (1 fake_req_t) from 1 creation "
                               "site\n"));
  free(text);
}

static void test_report__request_age_in_seconds(void **state) {
  struct al_report_totals t;
  struct al_snapshot s;
  struct al_buf b = {0};
  (void)state;
  assert_int_equal(al_req_start(shim, 0x7000, 0, 0x10, NULL, NULL), 0);
  assert_int_equal(al_registry_snapshot(&s), 0);
  assert_int_equal(s.nres, 1);
  s.res[0].born_ms = al_now_ms() - 2340; /* started 2.34 s ago */
  al_report_format(&s, &b, &t, NULL, NULL);
  al_snapshot_release(&s);
  al_buf_printf(&b, "%s", "");
  assert_non_null(strstr(b.data, ", pending for 2.3 s: fake details\n"));
  al_buf_release(&b);
}

static void test_report__scope_leaves_out_older_requests(void **state) {
  struct al_report_totals t;
  uint64_t before, after;
  (void)state;
  al_loop_open(shim, 0x10, 0, NULL, 1);
  before = al_res_next_seq();
  start_request(0x7000);
  after = al_res_next_seq();
  char *text = report_scoped(&t, after);
  assert_string_equal(text, "");
  assert_int_equal(t.pending, 0);
  assert_int_equal(t.groups, 0);
  assert_int_equal(t.req_groups, 0);
  assert_int_equal(t.loops, 0);
  free(text);

  /* From its seq on, it is reported, as a check: not "at exit", and no
   * loops. */
  text = report_scoped(&t, before);
  assert_int_equal(t.pending, 1);
  char head[96];
  snprintf(head, sizeof(head), "==%d==ERROR: asyncleak: 1 request pending\n",
           (int)getpid());
  assert_non_null(strstr(text, head));
  assert_non_null(strstr(text, "\n1 request of type fake_req_t pending, "
                               "created at:\n"));
  assert_null(strstr(text, "at exit"));
  assert_null(strstr(text, "Loops ("));
  assert_non_null(strstr(text, "\nSUMMARY: asyncleak: 0 handles left open; "
                               "1 request pending (1 fake_req_t) from 1 "
                               "creation site\n"));
  free(text);
}

static void test_report__handles_only_has_no_requests(void **state) {
  struct al_report_totals t;
  char expected[1024];
  int pid = (int)getpid();
  (void)state;
  al_loop_open(shim, 0x10, 0, NULL, 1);
  al_res_open(shim, 0x6000, 1, 0x10, NULL);
  al_res_open(shim, 0x6040, 1, 0x10, NULL);
  char *text = report(&t);
  assert_true(snprintf(expected, sizeof(expected),
      "=================================================================\n"
      "==%d==ERROR: asyncleak: 2 handles left open at exit\n"
      "\n"
      "2 handles of type fake_b_t, created at:\n"
      "    <no stack>\n"
      "  0x6000 on loop 1, thread %d (main), active, referenced\n"
      "  0x6040 on loop 1, thread %d (main), active, referenced\n"
      "  fingerprint 6ff46221167bfec8\n"
      "\n"
      "Loops (fakelib): 1 seen, 0 closed, 1 not closed:\n"
      "  loop 1 (fakelib 0x10) created at an unknown place by thread %d "
      "(main): never closed\n"
      "\n"
      "SUMMARY: asyncleak: 2 handles left open (2 fake_b_t) from 1 creation "
      "site; 1 of 1 loop not closed\n",
      pid, pid, pid, pid) < (int)sizeof(expected));
  assert_string_equal(text, expected);
  assert_null(strstr(text, "request"));
  assert_int_equal(t.pending, 0);
  assert_int_equal(t.req_groups, 0);
  assert_int_equal(t.requests, 0);
  assert_int_equal(t.created, 2);
  free(text);

  /* As a check too. */
  text = report_scoped(&t, 1);
  assert_null(strstr(text, "request"));
  assert_non_null(strstr(text, "\nSUMMARY: asyncleak: 2 handles left open (2 "
                               "fake_b_t) from 1 creation site\n"));
  free(text);
}

static void test_report__completed_request_not_reported(void **state) {
  struct al_report_totals t;
  void *cb;
  (void)state;
  start_request(0x7000);
  assert_int_equal(al_req_done(0x7000, &cb), 1);
  char *text = report(&t);
  assert_string_equal(text, "");
  assert_int_equal(t.pending, 0);
  assert_int_equal(t.requests, 1);
  free(text);
}

int main(void) {
  const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
      T(test_report__groups_by_site_most_frequent_first),
      T(test_report__internal_ones_are_left_out),
      T(test_report__unknown_state_is_still_a_leak),
      T(test_report__nothing_open_writes_nothing),
      T(test_report__loops_listed_with_site),
      T(test_report__pending_request_exact_text),
      T(test_report__pending_requests_grouped_by_site),
      T(test_report__same_stack_handle_and_request_apart),
      T(test_report__request_age_in_seconds),
      T(test_report__scope_leaves_out_older_requests),
      T(test_report__handles_only_has_no_requests),
      T(test_report__completed_request_not_reported),
#undef T
  };
  return cmocka_run_group_tests_name("report", tests, NULL, NULL);
}
