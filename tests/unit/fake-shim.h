/* A loop library that exists only in the unit tests: resource states are
 * whatever the test sets in fake_state. */
#ifndef FAKE_SHIM_H_
#define FAKE_SHIM_H_

#include <stdio.h>
#include <string.h>

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

/* What the fake library's loop does when asked to run or close. */
static int fake_running, fake_drain_rc, fake_drains, fake_closes;
/* What it says of memory it is shown, and the handles it was made to
 * close. */
static uintptr_t fake_claimable;
static enum al_kind fake_kind_is = AL_KIND_HANDLE;
static int fake_handle_is_open;
static uintptr_t fake_closed[8];
static int fake_nclosed;

static int fake_is_running(uintptr_t loop) {
  (void)loop;
  return fake_running;
}

/* What the program's callbacks do while a drain runs the loop, if
 * anything. */
static void (*fake_on_drain)(void);

/* A drain that does nothing but count, call fake_on_drain and return
 * fake_drain_rc: the loop's work is done at once or never. */
static int fake_run_until(uintptr_t loop, unsigned timeout_ms,
                          int (*done)(uintptr_t, void *), void *arg) {
  (void)timeout_ms;
  (void)done;
  (void)arg;
  (void)loop;
  fake_drains++;
  if (fake_on_drain != NULL)
    fake_on_drain();
  return fake_drain_rc;
}

static int fake_closing(uintptr_t loop) {
  (void)loop;
  return 0;
}

static int fake_requests(uintptr_t loop) {
  (void)loop;
  return fake_drain_rc != 0;
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
  /* Its callback runs at once, as in the drain. */
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
    .running = fake_is_running,
    .run_until = fake_run_until,
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
  fake_running = fake_drain_rc = fake_drains = fake_closes = 0;
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
