/* A loop library that exists only in the unit tests: resource states are
 * whatever the test sets in fake_state. */
#ifndef FAKE_SHIM_H_
#define FAKE_SHIM_H_

#include "internal.h"

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

static const struct al_shim fake_shim = {
    "fakelib", fake_type_name, fake_probe, fake_is_running, fake_drain,
    fake_close,
};

#endif
