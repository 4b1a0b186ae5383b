/* The registry: records, closes, loops, snapshots. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdlib.h>

#include "fake-shim.h"

static uint8_t shim;

static int setup(void **state) {
  (void)state;
  al_init();
  al_registry_reset();
  shim = al_shim_register(&fake_shim);
  return 0;
}

static int teardown(void **state) {
  (void)state;
  al_registry_reset();
  return 0;
}

static size_t open_count(void) {
  struct al_snapshot s;
  size_t n;
  assert_int_equal(al_registry_snapshot(&s), 0);
  n = s.nres;
  al_snapshot_release(&s);
  return n;
}

static void test_registry__open_then_close_forgets(void **state) {
  void *cb = NULL;
  (void)state;
  al_res_open(shim, 0x1000, 0, 0x10, NULL);
  assert_int_equal(open_count(), 1);
  assert_int_not_equal(al_res_closing(0x1000, (void *)0x77), 0);
  /* Closing is not closed: it stays until the close completes. */
  assert_int_equal(open_count(), 1);
  assert_int_equal(al_res_closed(0x1000, &cb), 1);
  assert_ptr_equal(cb, (void *)0x77);
  assert_int_equal(open_count(), 0);
}

static void test_registry__unknown_address_is_not_followed(void **state) {
  void *cb = NULL;
  (void)state;
  assert_int_equal(al_res_closing(0x2000, NULL), 0);
  assert_int_equal(al_res_closed(0x2000, &cb), 0);
}

static void test_registry__close_twice_is_refused(void **state) {
  (void)state;
  al_res_open(shim, 0x1000, 0, 0x10, NULL);
  assert_int_not_equal(al_res_closing(0x1000, NULL), 0);
  assert_int_equal(al_res_closing(0x1000, NULL), 0);
}

static void test_registry__aborted_close_reopens(void **state) {
  void *cb = NULL;
  (void)state;
  al_res_open(shim, 0x1000, 0, 0x10, NULL);
  uint64_t seq = al_res_closing(0x1000, (void *)1);
  assert_int_not_equal(seq, 0);
  al_res_close_aborted(0x1000, seq);
  assert_int_equal(al_res_closed(0x1000, &cb), 0);
  assert_int_equal(open_count(), 1);
}

static void test_registry__reinit_without_close_keeps_both(void **state) {
  void *cb;
  (void)state;
  al_res_open(shim, 0x1000, 0, 0x10, NULL);
  al_res_open(shim, 0x1000, 1, 0x10, NULL);
  assert_int_equal(open_count(), 2);
  /* The newest record is the one a close finds. */
  assert_int_not_equal(al_res_closing(0x1000, NULL), 0);
  assert_int_equal(al_res_closed(0x1000, &cb), 1);
  struct al_snapshot s;
  assert_int_equal(al_registry_snapshot(&s), 0);
  assert_int_equal(s.nres, 1);
  assert_int_equal(s.res[0].type, 0);
  al_snapshot_release(&s);
}

static void test_registry__aborted_close_finds_its_own_record(void **state) {
  struct al_snapshot s;
  void *cb;
  (void)state;
  al_res_open(shim, 0x1000, 0, 0x10, NULL);
  uint64_t old = al_res_closing(0x1000, (void *)1);
  al_res_open(shim, 0x1000, 1, 0x10, NULL); /* shadows the closing one */
  uint64_t seq = al_res_closing(0x1000, (void *)2);
  assert_int_not_equal(old, seq);
  al_res_close_aborted(0x1000, seq);
  /* The older close is still pending, with its own callback. */
  assert_int_equal(al_res_closed(0x1000, &cb), 1);
  assert_ptr_equal(cb, (void *)1);
  assert_int_equal(al_registry_snapshot(&s), 0);
  assert_int_equal(s.nres, 1);
  assert_int_equal(s.res[0].type, 1);
  assert_int_equal(s.res[0].state, AL_RES_OPEN);
  al_snapshot_release(&s);
}

static void test_registry__loop_close_drops_its_records(void **state) {
  struct al_snapshot s;
  (void)state;
  al_loop_open(shim, 0x10, 0, NULL, 1);
  al_loop_open(shim, 0x20, 0, NULL, 1);
  for (uintptr_t i = 0; i < 100; i++)
    al_res_open(shim, 0x100000 + i * 64, 0, i % 2 ? 0x10 : 0x20, NULL);
  al_loop_closed(0x10, 0);
  assert_int_equal(al_registry_snapshot(&s), 0);
  assert_int_equal(s.nres, 50);
  for (size_t i = 0; i < s.nres; i++)
    assert_int_equal(s.res[i].loop, 0x20);
  /* A closed loop is counted, not kept. */
  assert_int_equal(s.nloops, 1);
  assert_int_equal(s.loops[0].addr, 0x20);
  assert_int_equal(s.loops_closed, 1);
  al_snapshot_release(&s);
}

static void test_registry__loop_reopened_at_same_address(void **state) {
  struct al_snapshot s;
  (void)state;
  uint64_t a = al_loop_open(shim, 0x10, AL_LOOP_DEFAULT, NULL, 1);
  /* uv_default_loop after its inner uv_loop_init: the same loop. */
  assert_int_equal(al_loop_open(shim, 0x10, 0, NULL, 0), a);
  al_loop_closed(0x10, 0);
  uint64_t b = al_loop_open(shim, 0x10, 0, NULL, 1);
  assert_int_not_equal(a, b);
  /* A stale serial must not close the new loop. */
  al_loop_closed(0x10, a);
  assert_int_equal(al_loop_serial(0x10), b);
  al_loop_close_busy(0x10);
  assert_int_equal(al_registry_snapshot(&s), 0);
  assert_int_equal(s.nloops, 1);
  assert_int_equal(s.loops[0].busy_closes, 1);
  assert_int_equal(s.loops[0].flags & AL_LOOP_DEFAULT, 0);
  al_snapshot_release(&s);
}

static void test_registry__loop_initialised_over_open_one(void **state) {
  struct al_snapshot s;
  (void)state;
  uint64_t a = al_loop_open(shim, 0x10, 0, NULL, 1);
  al_res_open(shim, 0x1000, 0, 0x10, NULL); /* leaked on the first loop */
  uint64_t b = al_loop_open(shim, 0x10, 0, NULL, 1);
  assert_int_not_equal(a, b);
  al_res_open(shim, 0x2000, 0, 0x10, NULL);
  al_loop_closed(0x10, 0);
  /* Closing the second loop keeps what leaked on the first. */
  assert_int_equal(al_registry_snapshot(&s), 0);
  assert_int_equal(s.nres, 1);
  assert_int_equal(s.res[0].addr, 0x1000);
  assert_int_equal(s.nloops, 1);
  assert_int_equal(s.loops[0].serial, a);
  assert_true(s.loops[0].flags & AL_LOOP_REPLACED);
  al_snapshot_release(&s);
}

static void test_registry__snapshot_gives_up_on_held_locks(void **state) {
  struct al_snapshot s;
  (void)state;
  al_res_open(shim, 0x1000, 0, 0x10, NULL);
  /* As if exit() ran in a signal handler that interrupted this thread
   * inside the registry: every lock the report reads is held by the
   * thread itself, the loops', the 32 stripes' and the shutdown log's. */
  assert_int_equal(al_locks_hold(0), 0);
  assert_int_equal(al_registry_snapshot(&s), 0);
  al_locks_let_go();
  assert_int_equal(s.unreadable, 34);
  assert_int_equal(s.nres, 0);
  al_snapshot_release(&s);
}

static void test_registry__grows_past_initial_buckets(void **state) {
  enum { N = 20000 };
  void *cb;
  (void)state;
  for (uintptr_t i = 0; i < N; i++)
    al_res_open(shim, 0x7000000 + i * 16, 1, 0x10, NULL);
  assert_int_equal(open_count(), N);
  for (uintptr_t i = 0; i < N; i += 2) {
    assert_int_not_equal(al_res_closing(0x7000000 + i * 16, NULL), 0);
    assert_int_equal(al_res_closed(0x7000000 + i * 16, &cb), 1);
  }
  assert_int_equal(open_count(), N / 2);
}

#define THREADS 8
#define PER_THREAD 5000

static void *churn(void *arg) {
  uintptr_t base = 0x10000000 + (uintptr_t)arg * 0x1000000;
  void *cb;
  for (uintptr_t i = 0; i < PER_THREAD; i++) {
    uintptr_t a = base + i * 32;
    al_res_open(shim, a, 0, 0x10, NULL);
    if (!al_res_closing(a, NULL) || !al_res_closed(a, &cb))
      return (void *)1;
  }
  /* Each thread leaves exactly one behind. */
  al_res_open(shim, base, 0, 0x10, NULL);
  return NULL;
}

static void test_registry__threads_lose_nothing(void **state) {
  pthread_t t[THREADS];
  (void)state;
  for (uintptr_t i = 0; i < THREADS; i++)
    pthread_create(&t[i], NULL, churn, (void *)i);
  for (int i = 0; i < THREADS; i++) {
    void *r;
    pthread_join(t[i], &r);
    assert_null(r);
  }
  assert_int_equal(open_count(), THREADS);
}

static void test_registry__fork_child_inherits_silently(void **state) {
  struct al_snapshot s;
  (void)state;
  al_loop_open(shim, 0x10, 0, NULL, 1);
  al_res_open(shim, 0x1000, 0, 0x10, NULL);
  al_locks_fork_prepare(); /* as if in the child */
  al_locks_fork_child();
  al_registry_atfork_child();
  al_locks_fork_done();
  al_res_open(shim, 0x2000, 0, 0x10, NULL);
  assert_int_equal(al_registry_snapshot(&s), 0);
  assert_int_equal(s.nres, 1);
  assert_int_equal(s.res[0].addr, 0x2000);
  assert_true(s.loops[0].flags & AL_LOOP_INHERITED);
  al_snapshot_release(&s);
}

/* A library whose requests are noted on their handle (al_req_start_on),
 * all of them still held. */
static void held_all(uintptr_t handle, const struct al_res *const *reqs,
                     size_t n, int live, unsigned char *pending) {
  (void)handle;
  (void)reqs;
  (void)live;
  memset(pending, 1, n);
}

/* A handle whose close was asked for is initialised again at its address
 * before the close completes: the request noted on the first stays live
 * behind the second record, and goes when the second is closed. */
static void test_registry__noted_requests_follow_a_new_record(void **state) {
  static struct al_shim noting;
  struct al_snapshot s;
  void *cb;
  uint8_t id;
  (void)state;
  noting = fake_shim;
  noting.name = "notinglib";
  noting.req_pending = held_all;
  id = al_shim_register(&noting);
  al_res_open(id, 0x7000, 0, FAKE_LOOP, NULL);
  assert_int_equal(al_req_start_on(id, 0x7100, 0, FAKE_LOOP, 0x7000, NULL), 0);
  al_res_closing(0x7000, NULL);
  al_res_open(id, 0x7000, 0, FAKE_LOOP, NULL); /* initialised again */
  assert_int_equal(al_res_closed(0x7000, &cb), 1);
  assert_int_equal(al_req_pending(0x7100), 1);
  al_res_closing(0x7000, NULL);
  assert_int_equal(al_res_closed(0x7000, &cb), 1);
  /* Its handle's close completed: the request went with it. */
  assert_int_equal(al_registry_snapshot(&s), 0);
  assert_int_equal(s.nres, 0);
  al_snapshot_release(&s);
  assert_int_equal(al_loop_records(FAKE_LOOP), 0);
}

static void test_registry__request_start_done_round_trip(void **state) {
  struct al_snapshot s;
  void *cb = (void *)0x1;
  uint64_t before, after;
  (void)state;
  assert_int_equal(al_req_pending(0x3000), 0);
  before = al_now_ms();
  assert_int_equal(al_req_start(shim, 0x3000, 0, 0x10, (void *)0x55, NULL), 0);
  after = al_now_ms();
  assert_int_equal(al_req_pending(0x3000), 1);
  assert_int_equal(al_req_pending(0x3040), 0);
  assert_int_equal(al_registry_snapshot(&s), 0);
  assert_int_equal(s.nres, 1);
  assert_int_equal(s.res[0].addr, 0x3000);
  assert_int_equal(s.res[0].state, AL_RES_PENDING);
  assert_int_equal(s.res[0].loop, 0x10);
  assert_int_equal(s.res[0].type, 0);
  assert_ptr_equal(s.res[0].cb, (void *)0x55);
  /* Kept modulo 2^32 ms. */
  assert_true((uint32_t)(s.res[0].born_ms - (uint32_t)before) <=
              (uint32_t)(after - before));
  al_snapshot_release(&s);
  /* Done returns the program's callback and forgets the request. */
  assert_int_equal(al_req_done(0x3000, &cb), 1);
  assert_ptr_equal(cb, (void *)0x55);
  assert_int_equal(al_req_pending(0x3000), 0);
  assert_int_equal(open_count(), 0);
  /* Done again finds nothing and leaves cb alone. */
  cb = (void *)0x1;
  assert_int_equal(al_req_done(0x3000, &cb), 0);
  assert_ptr_equal(cb, (void *)0x1);
}

static void test_registry__request_without_callback(void **state) {
  void *cb = (void *)0x1;
  (void)state;
  assert_int_equal(al_req_start(shim, 0x3000, 0, 0x10, NULL, NULL), 0);
  assert_int_equal(al_req_done(0x3000, &cb), 1);
  assert_null(cb);
}

static void test_registry__requests_and_handles_apart(void **state) {
  void *cb = NULL;
  (void)state;
  /* A handle at an address is not a request there, and the other way
   * round: neither done nor close finds the other. */
  al_res_open(shim, 0x1000, 0, 0x10, NULL);
  assert_int_equal(al_req_pending(0x1000), 0);
  assert_int_equal(al_req_done(0x1000, &cb), 0);
  assert_int_equal(al_req_start(shim, 0x2000, 0, 0x10, (void *)0x9, NULL), 0);
  assert_int_equal(al_res_closing(0x2000, NULL), 0);
  assert_int_equal(al_res_closed(0x2000, &cb), 0);
  assert_int_equal(al_req_pending(0x2000), 1);
  assert_int_equal(open_count(), 2);
}

static void test_registry__request_restarted_from_its_callback(void **state) {
  struct al_snapshot s;
  void *cb = NULL;
  (void)state;
  assert_int_equal(al_req_start(shim, 0x3000, 0, 0x10, (void *)0x61, NULL), 0);
  /* Its callback is about to run... */
  assert_int_equal(al_req_done(0x3000, &cb), 1);
  assert_ptr_equal(cb, (void *)0x61);
  /* ...and starts the same request again, with another callback. */
  assert_int_equal(al_req_start(shim, 0x3000, 0, 0x10, (void *)0x62, NULL), 0);
  assert_int_equal(al_req_pending(0x3000), 1);
  assert_int_equal(al_registry_snapshot(&s), 0);
  assert_int_equal(s.nres, 1);
  assert_int_equal(s.res[0].state, AL_RES_PENDING);
  assert_ptr_equal(s.res[0].cb, (void *)0x62);
  assert_int_equal(s.requests, 2);
  al_snapshot_release(&s);
  assert_int_equal(al_req_done(0x3000, &cb), 1);
  assert_ptr_equal(cb, (void *)0x62);
  assert_int_equal(al_req_pending(0x3000), 0);
  assert_int_equal(open_count(), 0);
}

static void test_registry__newest_request_done_first(void **state) {
  void *cb = NULL;
  (void)state;
  /* Started again before the first completion was seen: the newest is
   * the one a completion finds, the older one stays. */
  assert_int_equal(al_req_start(shim, 0x3000, 0, 0x10, (void *)0x71, NULL), 0);
  assert_int_equal(al_req_start(shim, 0x3000, 0, 0x10, (void *)0x72, NULL), 0);
  assert_int_equal(open_count(), 2);
  assert_int_equal(al_req_done(0x3000, &cb), 1);
  assert_ptr_equal(cb, (void *)0x72);
  assert_int_equal(al_req_pending(0x3000), 1);
  assert_int_equal(al_req_done(0x3000, &cb), 1);
  assert_ptr_equal(cb, (void *)0x71);
  assert_int_equal(al_req_pending(0x3000), 0);
}

static int by_res_addr(const void *a, const void *b) {
  const struct al_res *x = a, *y = b;
  return (x->addr > y->addr) - (x->addr < y->addr);
}

static void test_registry__on_loop_by_state(void **state) {
  struct al_res *out;
  size_t n;
  uint64_t mid;
  (void)state;
  al_res_open(shim, 0x1000, 0, 0x10, NULL);       /* open */
  al_res_open(shim, 0x1100, 1, 0x10, NULL);       /* closing */
  assert_int_not_equal(al_res_closing(0x1100, NULL), 0);
  al_res_open(shim, 0x1200, 0, 0x20, NULL);       /* another loop's */
  assert_int_equal(al_req_start(shim, 0x2000, 0, 0x10, NULL, NULL), 0);
  assert_int_equal(al_req_start(shim, 0x2100, 0, 0x20, NULL, NULL), 0);
  mid = al_res_next_seq();
  assert_int_equal(al_req_start(shim, 0x2200, 0, 0x10, NULL, NULL), 0);
  al_res_open(shim, 0x1300, 1, 0x10, NULL);

  n = al_res_on_loop(0x10, 0, 1u << AL_RES_PENDING, &out);
  assert_int_equal(n, 2);
  qsort(out, n, sizeof(*out), by_res_addr);
  assert_int_equal(out[0].addr, 0x2000);
  assert_int_equal(out[1].addr, 0x2200);
  assert_int_equal(out[0].state, AL_RES_PENDING);
  assert_int_equal(out[1].state, AL_RES_PENDING);
  free(out);

  n = al_res_on_loop(0x10, 0, 1u << AL_RES_OPEN, &out);
  assert_int_equal(n, 2);
  qsort(out, n, sizeof(*out), by_res_addr);
  assert_int_equal(out[0].addr, 0x1000);
  assert_int_equal(out[1].addr, 0x1300);
  assert_int_equal(out[0].state, AL_RES_OPEN);
  assert_int_equal(out[1].state, AL_RES_OPEN);
  free(out);

  n = al_res_on_loop(0x10, 0, 1u << AL_RES_CLOSING, &out);
  assert_int_equal(n, 1);
  assert_int_equal(out[0].addr, 0x1100);
  free(out);

  n = al_res_on_loop(0x10, 0,
                     1u << AL_RES_OPEN | 1u << AL_RES_CLOSING |
                         1u << AL_RES_PENDING, &out);
  assert_int_equal(n, 5);
  free(out);

  /* From first_seq on only. */
  n = al_res_on_loop(0x10, mid, 1u << AL_RES_PENDING, &out);
  assert_int_equal(n, 1);
  assert_int_equal(out[0].addr, 0x2200);
  free(out);
  n = al_res_on_loop(0x10, mid, 1u << AL_RES_OPEN, &out);
  assert_int_equal(n, 1);
  assert_int_equal(out[0].addr, 0x1300);
  free(out);

  n = al_res_on_loop(0x20, 0, 1u << AL_RES_PENDING, &out);
  assert_int_equal(n, 1);
  assert_int_equal(out[0].addr, 0x2100);
  free(out);
  n = al_res_on_loop(0x30, 0, 1u << AL_RES_OPEN | 1u << AL_RES_PENDING,
                     &out);
  assert_int_equal(n, 0);
  free(out);
}

static void test_registry__snapshot_counts_handles_and_requests(void **state) {
  struct al_snapshot s;
  void *cb;
  (void)state;
  assert_int_equal(al_registry_snapshot(&s), 0);
  assert_int_equal(s.created, 0);
  assert_int_equal(s.requests, 0);
  al_snapshot_release(&s);

  al_res_open(shim, 0x1000, 0, 0x10, NULL);
  al_res_open(shim, 0x1100, 0, 0x10, NULL);
  al_res_open(shim, 0x1200, 1, 0x10, NULL);
  assert_int_equal(al_req_start(shim, 0x2000, 0, 0x10, NULL, NULL), 0);
  assert_int_equal(al_req_start(shim, 0x2100, 0, 0x10, NULL, NULL), 0);
  assert_int_equal(al_registry_snapshot(&s), 0);
  assert_int_equal(s.created, 3);
  assert_int_equal(s.requests, 2);
  assert_int_equal(s.nres, 5);
  assert_int_equal(s.shims_seen, 1u << shim);
  al_snapshot_release(&s);

  /* Totals since start: what completed or closed still counts. */
  assert_int_equal(al_req_done(0x2000, &cb), 1);
  assert_int_not_equal(al_res_closing(0x1000, NULL), 0);
  assert_int_equal(al_res_closed(0x1000, &cb), 1);
  assert_int_equal(al_req_start(shim, 0x2000, 0, 0x10, NULL, NULL), 0);
  assert_int_equal(al_registry_snapshot(&s), 0);
  assert_int_equal(s.created, 3);
  assert_int_equal(s.requests, 3);
  assert_int_equal(s.nres, 4);
  al_snapshot_release(&s);

  /* A fork child counts its own only. */
  al_locks_fork_prepare();
  al_locks_fork_child();
  al_registry_atfork_child();
  al_locks_fork_done();
  assert_int_equal(al_req_start(shim, 0x2200, 0, 0x10, NULL, NULL), 0);
  assert_int_equal(al_registry_snapshot(&s), 0);
  assert_int_equal(s.created, 0);
  assert_int_equal(s.requests, 1);
  assert_int_equal(s.nres, 1);
  assert_int_equal(s.res[0].addr, 0x2200);
  al_snapshot_release(&s);
}

static void test_registry__loop_close_drops_its_requests(void **state) {
  void *cb;
  (void)state;
  al_loop_open(shim, 0x10, 0, NULL, 1);
  assert_int_equal(al_req_start(shim, 0x2000, 0, 0x10, NULL, NULL), 0);
  assert_int_equal(al_req_start(shim, 0x2100, 0, 0x20, NULL, NULL), 0);
  al_loop_closed(0x10, 0);
  assert_int_equal(al_req_pending(0x2000), 0);
  assert_int_equal(al_req_done(0x2000, &cb), 0);
  assert_int_equal(al_req_pending(0x2100), 1);
}

/* The count of records per loop, which lets a drain skip reading the
 * registry: it follows every record made and freed, and a loop moved. */
static void test_registry__records_per_loop(void **state) {
  void *cb;
  (void)state;
  assert_int_equal(al_loop_records(0x40), 0);
  al_res_open(shim, 0x400, 0, 0x40, NULL);
  al_res_open(shim, 0x410, 0, 0x40, NULL);
  assert_int_equal(al_req_start(shim, 0x420, 0, 0x40, NULL, NULL), 0);
  al_res_open(shim, 0x500, 0, 0x50, NULL);
  assert_int_equal(al_loop_records(0x40), 3);
  assert_int_equal(al_loop_records(0x50), 1);
  /* Closing is still a record; closed is none. */
  assert_true(al_res_closing(0x400, NULL) != 0);
  assert_int_equal(al_loop_records(0x40), 3);
  assert_int_equal(al_res_closed(0x400, &cb), 1);
  assert_int_equal(al_req_done(0x420, &cb), 1);
  assert_int_equal(al_loop_records(0x40), 1);
  /* Moved to another loop (libevent's event_base_set). */
  assert_true(al_res_update(0x410, -1, 0x50) >= 0);
  assert_int_equal(al_loop_records(0x40), 0);
  assert_int_equal(al_loop_records(0x50), 2);
  /* Nothing on the loop: its copy is empty at once. */
  struct al_res *out = (struct al_res *)1;
  assert_int_equal(al_res_on_loop(0x40, 0, 1u << AL_RES_OPEN, &out), 0);
  assert_null(out);
  assert_int_equal(al_res_forget(0x410), 1);
  assert_int_equal(al_res_forget(0x500), 1);
  assert_int_equal(al_loop_records(0x50), 0);
}

/* A loop's close frees its records, and their count with them. */
static void test_registry__records_per_loop_closed(void **state) {
  (void)state;
  assert_int_equal(al_loop_open(shim, 0x60, 0, NULL, 1), 1);
  al_res_open(shim, 0x600, 0, 0x60, NULL);
  assert_int_equal(al_req_start(shim, 0x610, 0, 0x60, NULL, NULL), 0);
  assert_int_equal(al_loop_records(0x60), 2);
  al_loop_closed(0x60, 0);
  assert_int_equal(al_loop_records(0x60), 0);
}

/* ------------------------------------------------ many loops, by address */

/* Loops spaced as a program's loops in an array are (a uv_loop_t is
 * 1,000 bytes or so), so that their hashes differ only in a few bits. */
#define MANY 5000u
#define LOOP_AT(i) ((uintptr_t)0x7f0000100000u + (uintptr_t)(i) * 0x3d0u)

/* Whether every loop in [0, n) whose serial is given is found with it. */
static void assert_all_found(const uint64_t *serial, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (serial[i] != 0)
      assert_int_equal(al_loop_serial(LOOP_AT(i)), serial[i]);
}

/* Thousands of loops opened, each found right after it and after every
 * growth of the index; replaced, freed and closed in mixed order, each
 * lookup still finding the one open at its address, and the report's list
 * still in order of creation. */
static void test_registry__many_loops_found(void **state) {
  uint64_t *serial = calloc(MANY, sizeof(*serial));
  uint64_t *replaced = calloc(MANY, sizeof(*replaced));
  struct al_snapshot s;
  size_t nreplaced = 0, nclosed = 0;
  (void)state;

  assert_non_null(serial);
  assert_non_null(replaced);
  for (unsigned i = 0; i < MANY; i++) {
    serial[i] = al_loop_open(shim, LOOP_AT(i), 0, NULL, 1);
    assert_int_equal(serial[i], i + 1);
    assert_int_equal(al_loop_serial(LOOP_AT(i)), serial[i]);
    /* The index grows when it holds as many loops as buckets, a power of
     * two: every loop is looked up again right after. */
    if (((i + 1) & i) == 0)
      assert_all_found(serial, i + 1);
  }
  assert_all_found(serial, MANY);
  assert_int_equal(al_loop_serial(LOOP_AT(MANY)), 0);
  assert_int_equal(al_loop_serial(LOOP_AT(0) + 8), 0);

  /* Every third loop initialised again without a close: the new one is
   * found, the old one stays listed. Every seventh, freed: found no more. */
  for (unsigned i = 0; i < MANY; i += 3) {
    replaced[nreplaced++] = serial[i];
    serial[i] = al_loop_open(shim, LOOP_AT(i), 0, NULL, 1);
    assert_true(serial[i] > MANY);
  }
  for (unsigned i = 1; i < MANY; i += 7) {
    replaced[nreplaced++] = serial[i];
    al_loop_freed(LOOP_AT(i));
    serial[i] = 0;
    assert_int_equal(al_loop_serial(LOOP_AT(i)), 0);
  }
  assert_all_found(serial, MANY);

  /* Closed in an order unlike that of creation, half of them with their
   * serial, after a stale serial that must not close them. */
  for (unsigned k = 0; k < MANY; k++) {
    unsigned i = (unsigned)(((uint64_t)k * 2903u) % MANY);
    if (serial[i] == 0 || i % 5 == 0)
      continue; /* freed, or kept open */
    if (k % 2) {
      al_loop_closed(LOOP_AT(i), serial[i] + 1);
      assert_int_equal(al_loop_serial(LOOP_AT(i)), serial[i]);
      al_loop_closed(LOOP_AT(i), serial[i]);
    } else {
      al_loop_closed(LOOP_AT(i), 0);
    }
    assert_int_equal(al_loop_serial(LOOP_AT(i)), 0);
    serial[i] = 0;
    nclosed++;
    if (k % 500 == 0)
      assert_all_found(serial, MANY);
  }
  assert_all_found(serial, MANY);

  /* The list: the replaced and freed loops, and those kept open, in order
   * of creation. */
  assert_int_equal(al_registry_snapshot(&s), 0);
  assert_int_equal(s.loops_closed, nclosed + (MANY + 6) / 7);
  {
    size_t open = 0, old = 0;
    for (size_t i = 0; i < s.nloops; i++) {
      if (i > 0)
        assert_true(s.loops[i].serial > s.loops[i - 1].serial);
      if (s.loops[i].flags & AL_LOOP_REPLACED)
        old++;
      else
        open++;
    }
    assert_int_equal(old, nreplaced);
    for (unsigned i = 0; i < MANY; i++)
      open -= serial[i] != 0;
    assert_int_equal(open, 0);
  }
  al_snapshot_release(&s);

  /* Gone with a reset, index and all; opened again from the start. */
  al_registry_reset();
  for (unsigned i = 0; i < MANY; i += 97)
    assert_int_equal(al_loop_serial(LOOP_AT(i)), 0);
  assert_int_equal(al_loop_open(shim, LOOP_AT(1), 0, NULL, 1), 1);
  assert_int_equal(al_loop_serial(LOOP_AT(1)), 1);
  free(serial);
  free(replaced);
}

/* A loop made again at the address of a closed one, among many: the new
 * loop is found, with its own serial, records and calls on it. */
static void test_registry__loop_made_again_where_one_closed(void **state) {
  struct al_loop l;
  struct al_snapshot s;
  uint64_t first, again;
  (void)state;

  for (unsigned i = 0; i < 300; i++)
    assert_int_not_equal(al_loop_open(shim, LOOP_AT(i), 0, NULL, 1), 0);
  first = al_loop_serial(LOOP_AT(150));
  al_loop_close_busy(LOOP_AT(150));
  al_loop_closed(LOOP_AT(150), first);
  assert_int_equal(al_loop_get(LOOP_AT(150), &l), -ENOENT);
  again = al_loop_open(shim, LOOP_AT(150), 0, NULL, 1);
  assert_true(again > first);
  assert_int_equal(al_loop_get(LOOP_AT(150), &l), 0);
  assert_int_equal(l.serial, again);
  assert_int_equal(l.busy_closes, 0);
  /* The copy carries none of the registry's links. */
  assert_null(l.next);
  assert_null(l.link);
  assert_null(l.chain);
  /* Its neighbours are untouched. */
  assert_int_equal(al_loop_serial(LOOP_AT(149)), first - 1);
  assert_int_equal(al_loop_serial(LOOP_AT(151)), first + 1);
  /* Last in the list now: the list is the order of creation. */
  assert_int_equal(al_registry_snapshot(&s), 0);
  assert_int_equal(s.nloops, 300);
  assert_int_equal(s.loops[299].addr, LOOP_AT(150));
  assert_int_equal(s.loops[299].serial, again);
  al_snapshot_release(&s);
  /* A fork child's loops are inherited, and still found. */
  al_registry_atfork_child();
  assert_int_equal(al_loop_get(LOOP_AT(150), &l), 0);
  assert_true(l.flags & AL_LOOP_INHERITED);
  assert_int_equal(al_loop_serial(LOOP_AT(299)), 300);
}

/* A loop's close drops the records made on it, whether or not its
 * address has a count of records (past 256 addresses it has none). */
static void test_registry__loop_close_drops_records_of_many(void **state) {
  struct al_snapshot s;
  (void)state;

  for (unsigned i = 0; i < 600; i++) {
    assert_int_not_equal(al_loop_open(shim, LOOP_AT(i), 0, NULL, 1), 0);
    al_res_open(shim, 0x900000 + (uintptr_t)i * 64, 0, LOOP_AT(i), NULL);
  }
  for (unsigned i = 0; i < 600; i += 2)
    al_loop_closed(LOOP_AT(i), 0);
  assert_int_equal(al_registry_snapshot(&s), 0);
  assert_int_equal(s.nres, 300);
  for (size_t i = 0; i < s.nres; i++)
    assert_int_equal((s.res[i].loop - LOOP_AT(0)) / 0x3d0u % 2, 1);
  al_snapshot_release(&s);
  /* One closed with nothing left on it: the others' records stay. */
  assert_int_equal(al_res_forget(0x900000 + 1 * 64), 1);
  al_loop_closed(LOOP_AT(1), 0);
  assert_int_equal(open_count(), 299);
}

int main(void) {
  const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
      T(test_registry__open_then_close_forgets),
      T(test_registry__unknown_address_is_not_followed),
      T(test_registry__close_twice_is_refused),
      T(test_registry__aborted_close_reopens),
      T(test_registry__aborted_close_finds_its_own_record),
      T(test_registry__reinit_without_close_keeps_both),
      T(test_registry__loop_close_drops_its_records),
      T(test_registry__loop_reopened_at_same_address),
      T(test_registry__loop_initialised_over_open_one),
      T(test_registry__snapshot_gives_up_on_held_locks),
      T(test_registry__grows_past_initial_buckets),
      T(test_registry__threads_lose_nothing),
      T(test_registry__fork_child_inherits_silently),
      T(test_registry__request_start_done_round_trip),
      T(test_registry__noted_requests_follow_a_new_record),
      T(test_registry__request_without_callback),
      T(test_registry__requests_and_handles_apart),
      T(test_registry__request_restarted_from_its_callback),
      T(test_registry__newest_request_done_first),
      T(test_registry__on_loop_by_state),
      T(test_registry__snapshot_counts_handles_and_requests),
      T(test_registry__loop_close_drops_its_requests),
      T(test_registry__records_per_loop),
      T(test_registry__records_per_loop_closed),
      /* Last: they use more loop addresses than are counted. */
      T(test_registry__many_loops_found),
      T(test_registry__loop_made_again_where_one_closed),
      T(test_registry__loop_close_drops_records_of_many),
#undef T
  };
  return cmocka_run_group_tests_name("registry", tests, NULL, NULL);
}
