/* A loop library that exists only in the unit tests: resource states are
 * whatever the test sets in fake_state. */
#ifndef FAKE_SHIM_H_
#define FAKE_SHIM_H_

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

static int fake_drain(uintptr_t loop, unsigned timeout_ms) {
  (void)loop;
  (void)timeout_ms;
  fake_drains++;
  return fake_drain_rc;
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

static const struct al_shim fake_shim = {
    "fakelib",  fake_type_name,   fake_probe, fake_is_running,
    fake_drain, fake_close,       fake_claim, fake_kind,
    fake_handle_open, fake_close_handle, NULL,
};

#endif
