/* The verdict on a snapshot, apart from its text (lib/verdict.c): which
 * records are leaks, how they group, what a scope leaves out, and the
 * totals that decide the exit status. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "fake-shim.h"
#include "verdict.h"

static uint8_t shim;

static int setup(void **state) {
  (void)state;
  al_init();
  al_registry_reset();
  al_opt.stack_depth = 16;
  al_opt.fail_on_closing = 0;
  shim = al_shim_register(&fake_shim);
  fake_state = (struct al_state){.known = 1, .active = 1, .referenced = 1};
  al_loop_open(shim, FAKE_LOOP, 0, NULL, 1);
  return 0;
}

static int teardown(void **state) {
  (void)state;
  al_registry_reset();
  return 0;
}

static __attribute__((noinline)) void make_here(uintptr_t addr,
                                                unsigned type) {
  al_res_open(shim, addr, type, FAKE_LOOP, al_stack_capture());
}

static __attribute__((noinline)) void make_there(uintptr_t addr) {
  al_res_open(shim, addr, 0, FAKE_LOOP, al_stack_capture());
}

static struct al_snapshot snap;

/* Takes the verdict on the registry as it is now; done() lets it go. */
static void take(const struct al_report_scope *scope,
                 struct al_report_totals *t, struct al_verdict *v) {
  assert_int_equal(al_registry_snapshot(&snap), 0);
  assert_int_equal(al_verdict_take(&snap, scope, t, v), 0);
}

static void done(struct al_verdict *v) {
  al_verdict_free(v);
  al_snapshot_release(&snap);
}

static void test_verdict__groups_by_site_and_type(void **state) {
  struct al_report_totals t;
  struct al_verdict v;
  (void)state;
  for (uintptr_t i = 0; i < 3; i++)
    make_here(0x5000 + 64 * i, 0);
  make_here(0x6000, 1); /* same site, another type: a group of its own */
  make_there(0x7000);
  take(NULL, &t, &v);

  assert_int_equal(t.open, 5);
  assert_int_equal(t.groups, 3);
  assert_int_equal(v.ng, 3);
  assert_int_equal(v.nl, 3);
  assert_int_equal(v.visible, 3);
  /* Most frequent first. */
  assert_int_equal(v.g[0].count, 3);
  assert_string_equal(v.l[0].type, "fake_a_t");
  assert_string_equal(v.l[0].state, "open");
  assert_int_equal(v.l[0].supp, -1);
  assert_int_equal(al_report_failing(&t), 5);
  done(&v);
}

/* What the library made for itself is no one's leak. */
static void test_verdict__internal_left_out(void **state) {
  struct al_report_totals t;
  struct al_verdict v;
  (void)state;
  fake_state.internal = 1;
  make_here(0x5000, 0);
  take(NULL, &t, &v);
  assert_int_equal(t.created, 1);
  assert_int_equal(t.open, 0);
  assert_int_equal(v.n, 0);
  assert_int_equal(v.nl, 0);
  assert_int_equal(al_report_failing(&t), 0);
  done(&v);
}

/* A close the probe sees asked for is closing, listed after the leaks,
 * and fails the run only with fail_on_closing. */
static void test_verdict__closing_after_and_not_failing(void **state) {
  struct al_report_totals t;
  struct al_verdict v;
  (void)state;
  make_there(0x7000);
  take(NULL, &t, &v);
  done(&v);
  fake_state.closing = 1;
  take(NULL, &t, &v);
  assert_int_equal(t.open, 0);
  assert_int_equal(t.closing, 1);
  assert_int_equal(t.closing_groups, 1);
  assert_string_equal(v.l[0].state, "closing");
  assert_int_equal(v.g[0].after, 1);
  assert_int_equal(al_report_failing(&t), 0);
  done(&v);
  al_opt.fail_on_closing = 1;
  take(NULL, &t, &v);
  assert_int_equal(v.g[0].after, 0);
  assert_int_equal(al_report_failing(&t), 1);
  done(&v);
}

/* A check's scope keeps only what was made since, and no loops. */
static void test_verdict__scope_since(void **state) {
  struct al_report_totals t;
  struct al_verdict v;
  struct al_report_scope scope;
  (void)state;
  make_here(0x5000, 0);
  scope.since = al_res_next_seq();
  make_there(0x7000);
  take(&scope, &t, &v);
  assert_int_equal(t.open, 1);
  assert_int_equal(t.loops, 0);
  assert_int_equal(v.n, 1);
  assert_int_equal(v.e[0].r.addr, 0x7000);
  done(&v);
}

/* More loop libraries than the four two bits held: each record keeps its
 * own library's index, and its type is named by that library. */
static const char *other_type_name(unsigned type) {
  return type == 3 ? "other_t" : NULL;
}

static void test_verdict__eight_loop_libraries(void **state) {
  static struct al_shim others[AL_MAX_SHIMS];
  struct al_report_totals t;
  struct al_verdict v;
  uint8_t last = shim;
  (void)state;
  assert_int_equal(AL_MAX_SHIMS, 8);
  for (size_t i = 0; i < AL_MAX_SHIMS; i++) {
    others[i] = fake_shim;
    others[i].type_name = other_type_name;
    if (al_shims[AL_MAX_SHIMS - 1] != NULL)
      break;
    last = al_shim_register(&others[i]);
  }
  assert_int_equal(last, AL_MAX_SHIMS - 1);
  al_loop_open(last, 0x20, 0, NULL, 1);
  al_res_open(last, 0x8000, 3, 0x20, al_stack_capture());
  make_there(0x7000);
  take(NULL, &t, &v);
  assert_int_equal(t.open, 2);
  assert_int_equal(v.ng, 2);
  assert_int_equal(t.shims_seen, (1u << shim) | (1u << last));
  for (size_t i = 0; i < v.n; i++)
    if (v.e[i].r.addr == 0x8000) {
      assert_int_equal(v.e[i].r.shim, last);
      assert_int_equal(v.e[i].r.type, 3);
    }
  assert_true(!strcmp(v.l[0].type, "other_t") ||
              !strcmp(v.l[1].type, "other_t"));
  done(&v);
}

int main(void) {
  const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
      T(test_verdict__groups_by_site_and_type),
      T(test_verdict__internal_left_out),
      T(test_verdict__closing_after_and_not_failing),
      T(test_verdict__scope_since),
      T(test_verdict__eight_loop_libraries),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
