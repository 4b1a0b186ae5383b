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

static const struct al_shim fake_shim = {"fakelib", fake_type_name,
                                         fake_probe};

#endif
