/* Report grouping and layout, on records made by the fake loop library. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

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
  al_report_format(&s, &b, t, NULL);
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
  assert_non_null(strstr(text, ": close failed 1 time (handles open), never "
                               "closed\n"));
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
#undef T
  };
  return cmocka_run_group_tests_name("report", tests, NULL, NULL);
}
