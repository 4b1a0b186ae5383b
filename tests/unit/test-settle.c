/* Requests settled by their handle (al_req_start_on): the registry asks
 * the shim whether the handle still holds them whenever it is read,
 * forgets them as their handle closes, and keeps no more of them than a
 * constant times what the handle holds. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>

#include "fake-shim.h"

#define H ((uintptr_t)0x5000)
#define H2 ((uintptr_t)0x6000)

/* What the fake stream holds: request addresses in [held_lo, held_hi),
 * and the calls that asked. */
static uintptr_t held_lo, held_hi;
static unsigned asked;

static void stream_pending(uintptr_t handle, const struct al_res *const *reqs,
                           size_t n, int live, unsigned char *pending) {
  (void)handle;
  (void)live;
  asked++;
  for (size_t i = 0; i < n; i++) {
    if (i > 0)
      assert_true(reqs[i - 1]->addr <= reqs[i]->addr); /* sorted */
    pending[i] = reqs[i]->addr >= held_lo && reqs[i]->addr < held_hi;
  }
}

static const struct al_shim stream_shim = {
    .name = "streamlib",
    .type_name = fake_type_name,
    .req_type_name = fake_req_type_name,
    .probe = fake_probe,
    .describe = fake_describe,
    .req_pending = stream_pending,
};

static uint8_t shim;

static int setup(void **state) {
  (void)state;
  al_init();
  al_registry_reset();
  (void)fake_shim; /* only its functions are borrowed */
  shim = al_shim_register(&stream_shim);
  held_lo = held_hi = 0;
  asked = 0;
  return 0;
}

static int teardown(void **state) {
  (void)state;
  al_registry_reset();
  return 0;
}

static size_t pending_in_snapshot(void) {
  struct al_snapshot s;
  size_t n = 0;
  assert_int_equal(al_registry_snapshot(&s), 0);
  for (size_t i = 0; i < s.nres; i++)
    n += s.res[i].state == AL_RES_PENDING;
  for (size_t i = 0; i < s.nres; i++)
    assert_int_not_equal(s.res[i].state, AL_RES_LINK);
  al_snapshot_release(&s);
  return n;
}

static void test_settle__unknown_handle_is_not_followed(void **state) {
  (void)state;
  assert_int_equal(al_req_start_on(shim, 0x100, 0, 0x10, H, NULL), -1);
  assert_int_equal(al_req_pending(0x100), 0);
  assert_int_equal(al_registry_records(), 0);
}

static void test_settle__reads_ask_the_handle(void **state) {
  struct al_res *res;
  size_t n;
  (void)state;
  al_res_open(shim, H, 0, 0x10, NULL);
  for (uintptr_t a = 0x100; a < 0x400; a += 0x100)
    assert_int_equal(al_req_start_on(shim, a, 0, 0x10, H, NULL), 0);
  held_lo = 0x200;
  held_hi = 0x400; /* 0x100 completed */
  assert_int_equal(pending_in_snapshot(), 2);
  assert_int_equal(al_req_pending(0x100), 0);
  assert_int_equal(al_req_pending(0x200), 1);
  n = al_res_on_loop(0x10, 0, 1u << AL_RES_PENDING, &res);
  assert_int_equal(n, 2);
  assert_int_equal(res[0].addr == 0x100 || res[1].addr == 0x100, 0);
  free(res);
  n = al_res_on_loop(0x10, 0, 1u << AL_RES_OPEN | 1u << AL_RES_PENDING,
                     &res);
  assert_int_equal(n, 3);
  free(res);
  /* The record of what completed stays until it is forgotten, but no
   * read finds it. */
  assert_int_equal(al_registry_records(), 7);
  held_lo = held_hi = 0;
  assert_int_equal(pending_in_snapshot(), 0);
}

static void test_settle__alive_until_the_handle_lets_go(void **state) {
  struct al_res *res;
  uint64_t seq;
  (void)state;
  al_res_open(shim, H, 0, 0x10, NULL);
  assert_int_equal(al_req_start_on(shim, 0x100, 0, 0x10, H, NULL), 0);
  assert_int_equal(al_res_on_loop(0x10, 0, 1u << AL_RES_PENDING, &res), 0);
  free(res);
  held_lo = 0x100;
  held_hi = 0x101;
  assert_int_equal(al_res_on_loop(0x10, 0, 1u << AL_RES_PENDING, &res), 1);
  seq = res[0].seq;
  free(res);
  assert_int_equal(al_res_alive(0x100, seq), 1);
  held_hi = held_lo;
  assert_int_equal(al_res_alive(0x100, seq), 0);
}

static void test_settle__close_forgets_the_handles_requests(void **state) {
  void *cb;
  (void)state;
  al_res_open(shim, H, 0, 0x10, NULL);
  al_res_open(shim, H2, 0, 0x10, NULL);
  held_lo = 0;
  held_hi = 0x10000; /* all pending */
  for (uintptr_t a = 0x100; a < 0x900; a += 0x100)
    assert_int_equal(al_req_start_on(shim, a, 0, 0x10, H, NULL), 0);
  assert_int_equal(al_req_start_on(shim, 0x900, 0, 0x10, H2, NULL), 0);
  assert_int_equal(pending_in_snapshot(), 9);
  assert_int_not_equal(al_res_closing(H, NULL), 0);
  /* Closing: libuv has not called them back yet. */
  assert_int_equal(pending_in_snapshot(), 9);
  assert_int_equal(al_res_closed(H, &cb), 1);
  /* Only the other handle and its request are left. */
  assert_int_equal(al_registry_records(), 3);
  assert_int_equal(pending_in_snapshot(), 1);
  assert_int_equal(al_req_pending(0x900), 1);
  assert_int_equal(al_res_forget(H2), 1);
  assert_int_equal(al_registry_records(), 0);
}

static void test_settle__restarted_at_its_address(void **state) {
  (void)state;
  al_res_open(shim, H, 0, 0x10, NULL);
  held_lo = 0x100;
  held_hi = 0x101;
  /* A request started again from its callback, at the same address: the
   * handle holds one, the newer. */
  assert_int_equal(al_req_start_on(shim, 0x100, 0, 0x10, H, NULL), 0);
  assert_int_equal(al_req_start_on(shim, 0x100, 0, 0x10, H, NULL), 0);
  assert_int_equal(pending_in_snapshot(), 1);
  assert_int_equal(al_req_pending(0x100), 1);
}

static void test_settle__records_bounded_by_what_is_held(void **state) {
  (void)state;
  al_res_open(shim, H, 0, 0x10, NULL);
  /* A million requests, each at its own address; the handle holds the
   * last 100 at any time. */
  for (uintptr_t i = 1; i <= 1000000; i++) {
    uintptr_t a = i * 0x40;
    held_lo = i > 100 ? a - 99 * 0x40 : 0;
    held_hi = a + 1;
    assert_int_equal(al_req_start_on(shim, a, 0, 0x10, H, NULL), 0);
    /* Each request is two records; forgotten when twice as many as held
     * (at least 16) gathered. */
    assert_true(al_registry_records() <= 1 + 2 * (2 * 100 + 1));
  }
  assert_int_equal(pending_in_snapshot(), 100);
  /* Pruned about once every 100 requests, not at each. */
  assert_true(asked < 1000000 / 50);
}

int main(void) {
  const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
      T(test_settle__unknown_handle_is_not_followed),
      T(test_settle__reads_ask_the_handle),
      T(test_settle__alive_until_the_handle_lets_go),
      T(test_settle__close_forgets_the_handles_requests),
      T(test_settle__restarted_at_its_address),
      T(test_settle__records_bounded_by_what_is_held),
#undef T
  };
  return cmocka_run_group_tests_name("settle", tests, NULL, NULL);
}
