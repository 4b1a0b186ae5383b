/* The findings of the debug checks (lib/findings.c), the table of closes
 * the use-after-close check names them from (lib/closes.c), and the
 * slow-callback check's timing (lib/slow.c) and table of the program's
 * callbacks (lib/standins.c). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

static const struct al_stack *stack_of(uintptr_t pc) {
  uintptr_t frames[2] = {pc, 0x1000};

  return al_stack_intern(frames, 2);
}

static struct al_finding finding(const char *call, uintptr_t pc,
                                 uintptr_t other, uint64_t value) {
  struct al_finding f = {0};

  f.call = call;
  f.check = AL_CHECK_CLOSED;
  f.type = 13;
  f.stack = stack_of(pc);
  f.other = other ? stack_of(other) : NULL;
  f.value = value;
  f.count = 1;
  return f;
}

static size_t copy(struct al_finding **out, uint64_t *dropped) {
  int budget = 100;

  return al_findings_copy(out, dropped, &budget);
}

static int reset(void **state) {
  (void)state;
  al_findings_reset();
  al_closes_reset();
  al_standins_reset();
  al_opt.slow_callback_ms = 0;
  return 0;
}

/* One group per call, stacks and type: counts add up, the value kept is
 * the largest. */
static void test_findings__grouped(void **state) {
  struct al_finding a = finding("uv_timer_start", 0x1111, 0x2222, 5);
  struct al_finding b = finding("uv_timer_start", 0x1111, 0x2222, 300);
  struct al_finding c = finding("uv_close", 0x1111, 0x2222, 0);
  struct al_finding d = finding("uv_timer_start", 0x1111, 0x3333, 0);
  struct al_finding *out;
  uint64_t dropped;
  size_t n;

  (void)state;
  al_finding_add(&a);
  al_finding_add(&b);
  al_finding_add(&c);
  al_finding_add(&d);
  n = copy(&out, &dropped);
  assert_int_equal(n, 3);
  assert_int_equal(dropped, 0);
  assert_string_equal(out[0].call, "uv_timer_start");
  assert_int_equal(out[0].count, 2);
  assert_int_equal(out[0].value, 300);
  assert_int_equal(out[1].count, 1);
  assert_ptr_equal(out[2].other, d.other);
  free(out);
}

/* Past the table, findings are counted as dropped, not lost. */
static void test_findings__bounded(void **state) {
  struct al_finding *out;
  uint64_t dropped;
  size_t n;

  (void)state;
  for (uintptr_t i = 0; i < AL_FINDINGS_MAX + 10; i++) {
    struct al_finding f = finding("uv_close", 0x10000 + i * 16, 0, 0);
    al_finding_add(&f);
  }
  n = copy(&out, &dropped);
  assert_int_equal(n, AL_FINDINGS_MAX);
  assert_int_equal(dropped, 10);
  free(out);
}

/* al_finding_here takes the caller's stack and keeps errno. */
static void test_findings__here_keeps_errno(void **state) {
  struct al_finding f = finding("uv_idle_start", 0, 0, 0);
  struct al_finding *out;
  uint64_t dropped;

  (void)state;
  f.stack = NULL;
  errno = ERANGE;
  al_finding_here(&f);
  assert_int_equal(errno, ERANGE);
  assert_int_equal(copy(&out, &dropped), 1);
  assert_non_null(out[0].stack);
  assert_int_equal(out[0].count, 1);
  free(out);
}

/* A fork child reports what it finds itself, not its parent's. */
static void test_findings__fork_child_forgets(void **state) {
  struct al_finding f = finding("uv_close", 0x4444, 0, 0);
  struct al_finding *out;
  uint64_t dropped;
  int status;
  pid_t pid;

  (void)state;
  al_finding_add(&f);
  pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    al_findings_atfork_child();
    _exit(copy(&out, &dropped) == 0 ? 0 : 1);
  }
  assert_int_equal(waitpid(pid, &status, 0), pid);
  assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  assert_int_equal(copy(&out, &dropped), 1);
  free(out);
}

/* The first close is kept until the memory is a handle again; a close of
 * a new handle there replaces what was kept of the old one. */
static void test_closes__first_close_until_reused(void **state) {
  const struct al_stack *s;
  uintptr_t h = 0x7f0000001000;

  (void)state;
  assert_false(al_close_lookup(h, &s));
  al_close_note(h);
  assert_true(al_close_lookup(h, &s));
  assert_non_null(s);
  al_close_forget(h);
  assert_false(al_close_lookup(h, &s));
  assert_null(s);
}

/* Bounded: the oldest closes make room; the newest are kept. */
static void test_closes__bounded(void **state) {
  const struct al_stack *s;
  uintptr_t base = 0x7f0000100000;
  size_t kept = 0;

  (void)state;
  for (uintptr_t i = 0; i < 100000; i++)
    al_close_note(base + i * 64);
  for (uintptr_t i = 0; i < 100000; i++)
    kept += al_close_lookup(base + i * 64, &s);
  assert_true(kept > 0 && kept <= 4096);
  assert_true(al_close_lookup(base + 99999 * 64, &s));
}

static void pause_ms(long ms) {
  struct timespec ts = {0, ms * 1000000};
  while (nanosleep(&ts, &ts) != 0)
    ;
}

static void some_callback(void) {
}

/* A call longer than the limit is a finding naming the callback as a
 * one-frame stack (its address plus one, a return address's way), with
 * its time; one within the limit is none. errno is kept. */
static void test_slow__longer_than_the_limit(void **state) {
  struct al_finding *out;
  struct al_slow s;
  uint64_t dropped;
  uintptr_t h = 0x7f0000002000;

  (void)state;
  /* No timed assertion: within the limit is a limit no run reaches. */
  al_opt.slow_callback_ms = 600000;
  al_slow_begin(&s, "uv_timer_start", 0, 13, AL_RES_OPEN, h,
                (void *)some_callback);
  pause_ms(25);
  errno = EAGAIN;
  al_slow_end(&s);
  assert_int_equal(errno, EAGAIN);
  assert_int_equal(copy(&out, &dropped), 0);

  al_opt.slow_callback_ms = 20;

  al_slow_begin(&s, "uv_timer_start", 0, 13, AL_RES_OPEN, h,
                (void *)some_callback);
  pause_ms(40);
  al_slow_end(&s);
  al_slow_begin(&s, "uv_timer_start", 0, 13, AL_RES_OPEN, h,
                (void *)some_callback);
  pause_ms(25);
  al_slow_end(&s);
  assert_int_equal(copy(&out, &dropped), 1);
  assert_int_equal(out[0].check, AL_CHECK_SLOW);
  assert_int_equal(out[0].count, 2);
  assert_true(out[0].value >= 40);
  assert_int_equal(out[0].type, 13);
  assert_null(out[0].stack); /* no record at h */
  assert_non_null(out[0].other);
  assert_int_equal(out[0].other->depth, 1);
  assert_int_equal(out[0].other->pc[0], (uintptr_t)some_callback + 1);
  assert_string_equal(al_check_name(out[0].check), "slow-callback");
  free(out);
}

/* The table keeps one callback per handle and kind, replaced by a new
 * start, forgotten with the handle; a full set refuses rather than
 * losing a callback a stand-in still needs. */
static void test_standins__kept_until_forgotten(void **state) {
  uintptr_t h = 0x7f0000003000;
  unsigned which = 0, any = AL_STANDIN_ANY;
  const struct al_stack *st;
  size_t kept = 0;

  (void)state;
  assert_null(al_standin_kept(h, &which, NULL));
  assert_int_equal(al_standin_keep(h, 0, (void *)0x1234), 0);
  assert_int_equal(al_standin_keep(h, 1, (void *)0x5678), 0);
  assert_int_equal(al_standin_keep(h, 0, (void *)0x4321), 0);
  which = 0;
  assert_ptr_equal(al_standin_kept(h, &which, NULL), (void *)0x4321);
  which = 1;
  assert_ptr_equal(al_standin_kept(h, &which, &st), (void *)0x5678);
  assert_null(st);
  al_standin_note(h, 1, stack_of(0x9999));
  assert_ptr_equal(al_standin_kept(h, &which, &st), (void *)0x5678);
  assert_ptr_equal(st, stack_of(0x9999));
  assert_non_null(al_standin_kept(h, &any, NULL));
  al_standin_forget(h);
  which = 0;
  assert_null(al_standin_kept(h, &which, NULL));
  which = 1;
  assert_null(al_standin_kept(h, &which, NULL));

  for (uintptr_t i = 1; i <= 100000; i++)
    kept += al_standin_keep(h + i * 64, 0, (void *)i) == 0;
  assert_true(kept > 0 && kept <= 4096);
  for (uintptr_t i = 1; i <= 100000; i++) {
    void *cb;
    which = 0;
    cb = al_standin_kept(h + i * 64, &which, NULL);
    assert_true(cb == NULL || cb == (void *)i);
    kept -= cb != NULL;
  }
  assert_int_equal(kept, 0);
}

/* Stand-ins by function: a slot per function, for good; a stand-in
 * handed back is itself; past the slots, the function itself. */
static void test_standins__by_function(void **state) {
  static char marks[AL_FN_SLOTS], fns[AL_FN_SLOTS + 50];
  void *stand_ins[AL_FN_SLOTS];
  void *given[AL_FN_SLOTS + 50];
  int stood = 0;
  (void)state;

  for (int i = 0; i < AL_FN_SLOTS; i++)
    stand_ins[i] = &marks[i];
  assert_null(al_fn_stand_in(stand_ins, NULL));
  assert_null(al_fn_unstand(stand_ins, NULL));
  for (int i = 0; i < AL_FN_SLOTS + 50; i++) {
    given[i] = al_fn_stand_in(stand_ins, &fns[i]);
    assert_ptr_equal(al_fn_stand_in(stand_ins, &fns[i]), given[i]);
    assert_ptr_equal(al_fn_stand_in(stand_ins, given[i]), given[i]);
    assert_ptr_equal(al_fn_unstand(stand_ins, given[i]), &fns[i]);
    stood += given[i] != (void *)&fns[i];
  }
  assert_int_equal(stood, AL_FN_SLOTS);
  for (int i = 0; i < AL_FN_SLOTS + 50; i++)
    for (int j = 0; j < i; j++)
      assert_true(given[i] != given[j]);
  assert_int_equal(al_fn_slot(&fns[AL_FN_SLOTS + 49]), -1);
  assert_ptr_equal(al_fn_unstand(stand_ins, &fns[0]), &fns[0]);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup(test_findings__grouped, reset),
      cmocka_unit_test_setup(test_findings__bounded, reset),
      cmocka_unit_test_setup(test_findings__here_keeps_errno, reset),
      cmocka_unit_test_setup(test_findings__fork_child_forgets, reset),
      cmocka_unit_test_setup(test_closes__first_close_until_reused, reset),
      cmocka_unit_test_setup(test_closes__bounded, reset),
      cmocka_unit_test_setup(test_slow__longer_than_the_limit, reset),
      cmocka_unit_test_setup(test_standins__kept_until_forgotten, reset),
      cmocka_unit_test_setup(test_standins__by_function, reset),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
