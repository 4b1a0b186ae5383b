/* The core's record of runs (lib/run.c): which loops run on this thread
 * and on any, found exactly across nesting and a longjmp out of a
 * callback, and the drain over the contract's run_once and timer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <pthread.h>
#include <string.h>

#include "fake-shim.h"

#define OTHER_LOOP ((uintptr_t)0x20)

static uint8_t shim;

/* Asks as a callback would: from a frame below the run's. */
static __attribute__((noinline)) int here(uintptr_t loop) {
  return al_run_here(shim, loop);
}

static __attribute__((noinline)) void *object_here(uintptr_t loop) {
  return al_run_object(loop);
}

static int setup(void **state) {
  (void)state;
  shim = fake_reset();
  assert_int_equal(al_loop_open(shim, FAKE_LOOP, 0, NULL, 1), 1);
  return 0;
}

static void test_run__here_while_inside(void **state) {
  (void)state;
  assert_false(al_run_here(shim, FAKE_LOOP));
  assert_false(al_run_anywhere(FAKE_LOOP));
  {
    FAKE_RUN_BEGIN();
    assert_true(here(FAKE_LOOP));
    assert_true(al_run_anywhere(FAKE_LOOP));
    assert_false(here(OTHER_LOOP));
    FAKE_RUN_END();
  }
  assert_false(al_run_here(shim, FAKE_LOOP));
  assert_false(al_run_anywhere(FAKE_LOOP));
}

/* A callback of FAKE_LOOP's that runs OTHER_LOOP, and asks inside it. */
static int inner_saw_both;

static __attribute__((noinline)) void run_other(void) {
  struct al_run run;
  assert_int_equal(al_run_begin(shim, OTHER_LOOP, &run), 0);
  inner_saw_both = here(FAKE_LOOP) && here(OTHER_LOOP);
  al_run_end(&run);
}

static void test_run__nested(void **state) {
  (void)state;
  FAKE_RUN_BEGIN();
  run_other();
  assert_true(inner_saw_both);
  assert_true(here(FAKE_LOOP));
  assert_false(here(OTHER_LOOP));
  FAKE_RUN_END();
  assert_false(al_run_here(shim, FAKE_LOOP));
}

/* A test framework's failed assertion in a callback: longjmp out of the
 * run, which never returns through al_run_end. */
static jmp_buf escape;

static __attribute__((noinline)) void run_and_escape(void) {
  struct al_run run;
  assert_int_equal(al_run_begin(shim, FAKE_LOOP, &run), 0);
  longjmp(escape, 1);
}

/* Goes deeper than the run was, and asks from there: the run's frame is
 * another's now. */
static __attribute__((noinline)) int ask_deep(int n) {
  volatile char pad[256];
  memset((char *)pad, 0x5a, sizeof(pad));
  if (n > 0)
    return ask_deep(n - 1) + pad[0] - 0x5a;
  return al_run_here(shim, FAKE_LOOP);
}

/* A harness's teardown, which the framework calls between tests: no run
 * of this thread is under it. */
static __attribute__((noinline)) void teardown_entry(void) {
  al_run_left_below((uintptr_t)__builtin_frame_address(0));
}

static void test_run__longjmp_out_is_gone(void **state) {
  (void)state;
  /* Asked from the level of the jump's target. */
  if (setjmp(escape) == 0)
    run_and_escape();
  assert_false(al_run_here(shim, FAKE_LOOP));
  assert_false(al_run_anywhere(FAKE_LOOP));
  /* Asked from deeper than the run was, after the harness said it is
   * between tests. */
  if (setjmp(escape) == 0)
    run_and_escape();
  teardown_entry();
  assert_false(ask_deep(4));
  assert_false(al_run_anywhere(FAKE_LOOP));
}

/* A run that begins again where a longjmp left one is not inside it. */
static void test_run__new_run_after_longjmp(void **state) {
  (void)state;
  if (setjmp(escape) == 0)
    run_and_escape();
  {
    FAKE_RUN_BEGIN();
    assert_true(here(FAKE_LOOP));
    FAKE_RUN_END();
  }
  assert_false(al_run_here(shim, FAKE_LOOP));
}

/* Leaves a run n frames deeper than its caller. */
static __attribute__((noinline)) void escape_deeper(int n) {
  volatile char pad[256];
  memset((char *)pad, 0x5a, sizeof(pad));
  if (n > 0)
    escape_deeper(n - 1);
  else
    run_and_escape();
}

/* More runs left by a longjmp than the per-thread stack keeps, each one
 * deeper than the one before: a run that begins above them all forgets
 * them, the ones past the stack's end with the last one kept, and gives
 * their slots back. */
static void test_run__more_left_than_kept(void **state) {
  int object;
  (void)state;
  for (int i = 0; i < 12; i++)
    if (setjmp(escape) == 0)
      escape_deeper(i);
  {
    FAKE_RUN_BEGIN_WITH(&object);
    assert_true(here(FAKE_LOOP));
    assert_ptr_equal(object_here(FAKE_LOOP), &object);
    FAKE_RUN_END();
  }
  assert_false(al_run_here(shim, FAKE_LOOP));
  assert_null(al_run_object(FAKE_LOOP));
  assert_false(al_run_anywhere(FAKE_LOOP));
}

/* n runs, one inside the other; in the innermost, a run left by a
 * longjmp back into it. */
static __attribute__((noinline)) void nest_and_escape(int n) {
  struct al_run run = {.object = NULL};
  assert_int_equal(al_run_begin(shim, FAKE_LOOP, &run), 0);
  if (n > 1)
    nest_and_escape(n - 1);
  else if (setjmp(escape) == 0)
    run_and_escape();
  al_run_end(&run);
}

/* As many runs as the stack keeps, and one past its end that a longjmp
 * leaves inside the innermost: when they return, every slot is given
 * back once. */
static void test_run__left_past_the_end(void **state) {
  (void)state;
  nest_and_escape(8);
  assert_false(al_run_here(shim, FAKE_LOOP));
  assert_false(al_run_anywhere(FAKE_LOOP));
  {
    FAKE_RUN_BEGIN();
    assert_true(al_run_anywhere(FAKE_LOOP));
    FAKE_RUN_END();
  }
  assert_false(al_run_anywhere(FAKE_LOOP));
}

static void *other_thread(void *arg) {
  struct al_run run;
  int *seen = arg;

  assert_int_equal(al_run_begin(shim, OTHER_LOOP, &run), 0);
  seen[0] = here(OTHER_LOOP);
  seen[1] = here(FAKE_LOOP);
  al_run_end(&run);
  return NULL;
}

/* Each thread its own runs; any thread's run counts as running
 * somewhere. */
static void test_run__threads(void **state) {
  pthread_t t;
  int seen[2] = {0, 0};
  (void)state;
  FAKE_RUN_BEGIN();
  assert_int_equal(pthread_create(&t, NULL, other_thread, seen), 0);
  assert_int_equal(pthread_join(t, NULL), 0);
  assert_true(seen[0]);
  assert_false(seen[1]);
  assert_true(al_run_anywhere(FAKE_LOOP));
  FAKE_RUN_END();
}

/* What another thread learns of FAKE_LOOP and OTHER_LOOP: who runs
 * them, and where that run began. */
struct elsewhere {
  pid_t fake, other;
  const struct al_stack *begun;
};

static void *ask_elsewhere(void *arg) {
  struct elsewhere *e = arg;
  const struct al_stack *none;

  e->fake = al_run_elsewhere(FAKE_LOOP, &e->begun);
  e->other = al_run_elsewhere(OTHER_LOOP, &none);
  return NULL;
}

/* The wrong-thread check's question: the thread running a loop, when it
 * is not the one asking, with the stack its run began at; nothing once
 * the run is over (the loop may then be handed to another thread). */
static void test_run__elsewhere(void **state) {
  struct elsewhere e = {0, 0, NULL};
  const struct al_stack *begun = NULL;
  pthread_t t;
  (void)state;
  al_opt.check_threads = 1;
  {
    FAKE_RUN_BEGIN();
    assert_int_equal(al_run_elsewhere(FAKE_LOOP, &begun), 0);
    assert_int_equal(pthread_create(&t, NULL, ask_elsewhere, &e), 0);
    assert_int_equal(pthread_join(t, NULL), 0);
    assert_int_equal(e.fake, al_gettid());
    assert_non_null(e.begun);
    assert_int_equal(e.other, 0);
    FAKE_RUN_END();
  }
  assert_int_equal(pthread_create(&t, NULL, ask_elsewhere, &e), 0);
  assert_int_equal(pthread_join(t, NULL), 0);
  assert_int_equal(e.fake, 0);
  assert_null(e.begun);
  al_opt.check_threads = 0;
}

static int turns_done;

static int after_turns(uintptr_t loop, void *arg) {
  (void)loop;
  return turns_done >= *(int *)arg;
}

static void count_turn(void) {
  turns_done++;
}

static void test_run__until_done_or_deadline(void **state) {
  int goal = 1;
  (void)state;
  /* Done before it starts: the loop is not run at all. */
  turns_done = 1;
  assert_int_equal(al_run_until(shim, FAKE_LOOP, 1000, after_turns, &goal),
                   0);
  assert_int_equal(fake_drains, 1);
  /* Done after a turn, in which the callback ran. */
  turns_done = 0;
  fake_on_drain = count_turn;
  assert_int_equal(al_run_until(shim, FAKE_LOOP, 1000, after_turns, &goal),
                   0);
  assert_int_equal(turns_done, 1);
  /* Never done: the deadline. */
  goal = 100;
  fake_drain_rc = -ETIMEDOUT;
  assert_int_equal(al_run_until(shim, FAKE_LOOP, 20, after_turns, &goal),
                   -ETIMEDOUT);
  /* No time given: not run. */
  assert_int_equal(al_run_until(shim, FAKE_LOOP, 0, after_turns, &goal),
                   -ETIMEDOUT);
  assert_int_equal(fake_drains, 4);
  assert_false(al_run_here(shim, FAKE_LOOP));
}

/* Inside a drain the loop is running: a callback cannot drain it again. */
static int inside_drain_running;

static void ask_in_drain(void) {
  inside_drain_running = al_run_here(fake_id, FAKE_LOOP);
}

static void test_run__drain_counts_as_running(void **state) {
  int goal = 1;
  (void)state;
  turns_done = 0;
  fake_on_drain = ask_in_drain;
  fake_drain_rc = -ETIMEDOUT;
  assert_int_equal(al_run_until(shim, FAKE_LOOP, 10, after_turns, &goal),
                   -ETIMEDOUT);
  assert_true(inside_drain_running);
  assert_false(al_run_here(shim, FAKE_LOOP));
}

int main(void) {
#define T(name) cmocka_unit_test_setup(name, setup)
  const struct CMUnitTest tests[] = {
      T(test_run__here_while_inside),
      T(test_run__nested),
      T(test_run__longjmp_out_is_gone),
      T(test_run__new_run_after_longjmp),
      T(test_run__more_left_than_kept),
      T(test_run__left_past_the_end),
      T(test_run__threads),
      T(test_run__elsewhere),
      T(test_run__until_done_or_deadline),
      T(test_run__drain_counts_as_running),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
