/* A loop library that exists only in the unit tests: resource states are
 * whatever the test sets in fake_state. */
#ifndef FAKE_SHIM_H_
#define FAKE_SHIM_H_

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "internal.h"

/* The loop the tests use. */
#define FAKE_LOOP ((uintptr_t)0x10)

static struct al_state fake_state = {.known = 1, .active = 1, .referenced = 1};

static const char *fake_type_name(unsigned type) {
  static const char *const names[] = {"fake_a_t", "fake_b_t"};
  return type < 2 ? names[type] : NULL;
}

static void fake_probe(const struct al_res *r, struct al_state *st) {
  (void)r;
  *st = fake_state;
}

/* What the fake library's loop does when asked to run or close:
 * fake_drain_rc non-zero keeps work pending, so that a drain times out. */
static int fake_drain_rc, fake_closes;
/* The fake library's index, and the core's count of drains at the test's
 * start: fake_drains is how many the test asked of the core. */
static uint8_t fake_id;
static unsigned long fake_drains_base;
#define fake_drains ((int)(al_run_until_calls() - fake_drains_base))
/* What it says of memory it is shown, and the handles it was made to
 * close. */
static uintptr_t fake_claimable;
static enum al_kind fake_kind_is = AL_KIND_HANDLE;
static int fake_handle_is_open;
static uintptr_t fake_closed[8];
static int fake_nclosed;

/* The test's code between these runs as a callback of the fake loop's
 * run on this thread. */
#define FAKE_RUN_BEGIN() FAKE_RUN_BEGIN_WITH(NULL)
/* The same, with the run's object (al_run.object). */
#define FAKE_RUN_BEGIN_WITH(obj)                                              \
  struct al_run fake_run_ = {.object = (obj)};                                \
  assert_int_equal(al_run_begin(fake_id, FAKE_LOOP, &fake_run_), 0)
#define FAKE_RUN_END() al_run_end(&fake_run_)

/* What the program's callbacks do while a drain runs the loop, if
 * anything: called at the first turn of each drain. */
static void (*fake_on_drain)(void);
static int fake_first_turn;
static unsigned fake_armed_ms;
static char fake_timer;

static void fake_run_once(uintptr_t loop, int mode) {
  struct timespec ts;
  unsigned ms;

  (void)loop;
  if (fake_first_turn) {
    fake_first_turn = 0;
    if (fake_on_drain != NULL)
      fake_on_drain();
  }
  if (mode != AL_RUN_WAIT)
    return;
  /* The turn waits for the core's timer when nothing else comes. */
  ms = fake_drain_rc != 0 ? fake_armed_ms : 1;
  ts.tv_sec = ms / 1000;
  ts.tv_nsec = (long)(ms % 1000) * 1000000;
  nanosleep(&ts, NULL);
}

static void fake_stop(uintptr_t loop) {
  (void)loop;
}

static void *fake_timer_new(uintptr_t loop) {
  (void)loop;
  fake_first_turn = 1;
  return &fake_timer;
}

static void fake_timer_arm(void *timer, unsigned ms) {
  (void)timer;
  fake_armed_ms = ms;
}

static void fake_timer_stop(void *timer) {
  (void)timer;
}

static void fake_timer_free(void *timer) {
  (void)timer;
}

static int fake_closing(uintptr_t loop) {
  (void)loop;
  return 0;
}

/* Requests are in flight while the registry has one pending on the loop,
 * or always while fake_drain_rc says work never completes. */
static int fake_requests(uintptr_t loop) {
  return fake_drain_rc != 0 || al_req_pending_on(loop, 0);
}

static const char *fake_req_type_name(unsigned type) {
  return type == 0 ? "fake_req_t" : NULL;
}

/* Requests cancelled, and what cancel answers. */
static uintptr_t fake_cancelled[8];
static int fake_ncancelled, fake_cancel_rc;

static int fake_cancel(uintptr_t addr) {
  void *cb;
  if (fake_cancel_rc != 0)
    return fake_cancel_rc;
  if (fake_ncancelled < 8)
    fake_cancelled[fake_ncancelled++] = addr;
  /* Its callback runs at once, as in the drain, unless work never
   * completes. */
  if (fake_drain_rc == 0)
    al_req_done(addr, &cb);
  return 0;
}

static void fake_describe(const struct al_res *r, char *buf, size_t len) {
  (void)r;
  snprintf(buf, len, "fake details");
}

static int fake_close(uintptr_t loop) {
  fake_closes++;
  al_loop_closed(loop, 0);
  return 0;
}

static int fake_claim(uintptr_t loop) {
  /* A closed loop's memory no longer looks like one. */
  return (loop == FAKE_LOOP && fake_closes == 0) || loop == fake_claimable;
}

static enum al_kind fake_kind(uintptr_t loop, uintptr_t addr) {
  (void)loop;
  (void)addr;
  return fake_kind_is;
}

static int fake_handle_open(uintptr_t loop, uintptr_t addr) {
  (void)loop;
  (void)addr;
  return fake_handle_is_open;
}

/* A close that completes at once, as the loop library's would during the
 * drain. */
static void fake_close_handle(uintptr_t addr) {
  void *cb;
  if (fake_nclosed < 8)
    fake_closed[fake_nclosed++] = addr;
  if (al_res_closing(addr, NULL) != 0) {
    al_shutdown_saw_close(FAKE_LOOP, addr);
    al_res_closed(addr, &cb);
  }
}

/* Handles quieted for a failed test, and what quiet answers. */
static uintptr_t fake_quieted[8];
static int fake_nquieted, fake_quiet_rc;

static int fake_quiet(uintptr_t addr) {
  if (fake_nquieted < 8)
    fake_quieted[fake_nquieted++] = addr;
  return fake_quiet_rc;
}

static const struct al_shim fake_shim = {
    .name = "fakelib",
    .type_name = fake_type_name,
    .req_type_name = fake_req_type_name,
    .probe = fake_probe,
    .describe = fake_describe,
    .run_once = fake_run_once,
    .stop = fake_stop,
    .timer_new = fake_timer_new,
    .timer_arm = fake_timer_arm,
    .timer_stop = fake_timer_stop,
    .timer_free = fake_timer_free,
    .closing = fake_closing,
    .requests = fake_requests,
    .close = fake_close,
    .claim = fake_claim,
    .kind = fake_kind,
    .handle_open = fake_handle_open,
    .close_handle = fake_close_handle,
    .cancel = fake_cancel,
    .quiet = fake_quiet,
};

/* A fresh registry with the fake library registered, its knobs at their
 * defaults; returns the library's index. */
static inline uint8_t fake_reset(void) {
  uint8_t id;

  al_init();
  al_registry_reset();
  al_shutdown_log_reset();
  id = al_shim_register(&fake_shim);
  fake_id = id;
  fake_drain_rc = fake_closes = 0;
  fake_drains_base = al_run_until_calls();
  fake_claimable = 0;
  fake_kind_is = AL_KIND_HANDLE;
  fake_handle_is_open = 0;
  fake_nclosed = 0;
  fake_ncancelled = fake_cancel_rc = 0;
  fake_nquieted = 0;
  fake_quiet_rc = AL_QUIET_STOPPED;
  fake_on_drain = NULL;
  memset(fake_cancelled, 0, sizeof(fake_cancelled));
  fake_state = (struct al_state){.known = 1, .active = 1, .referenced = 1};
  al_opt.force_close = 0;
  return id;
}

#endif
