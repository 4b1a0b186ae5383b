/* The wrong-thread check for libevent (check_threads, lib/threads.c).
 *
 * libevent is thread-safe on a base that has a lock: one made after the
 * program turned libevent's threading on (evthread_use_pthreads, or its
 * own callbacks with evthread_set_lock_callbacks) and not asked for
 * without one (EVENT_BASE_FLAG_NOLOCK). Any thread may then add, delete
 * and free that base's events while another runs it. A base made before,
 * or with threading never turned on, has no lock, and a call on it from a
 * thread other than the one running it races with that run.
 *
 * Whether threading was on is asked of libevent as each base is made
 * (evthread_get_lock_callbacks, which libevent 2.1 exports); the bases
 * made with a lock are kept in a small table, read with loads only. A
 * base whose lock cannot be told (the table full, libevent not saying) is
 * taken as locked: no finding, rather than a false one. The flag
 * EVENT_BASE_FLAG_NOLOCK, given through an event_config the runtime does
 * not read, is not seen: such a base counts as locked too. */
#include <event2/event.h>
#include <event2/event_struct.h>
#include <event2/thread.h>

#include "event-shim.h"

#define LOCKED_MAX 64

static _Atomic uintptr_t locked[LOCKED_MAX];
/* Bases made with a lock that found no room: every base is then taken as
 * locked. */
static atomic_uint locked_lost;

static int locking_on(void) {
  __typeof__(&evthread_get_lock_callbacks) get =
      USE(evthread_get_lock_callbacks);
  const struct evthread_lock_callbacks *cbs;

  if (get == NULL)
    return -1;
  cbs = get();
  return cbs != NULL && cbs->alloc != NULL;
}

void al_ev_base_threads(uintptr_t base) {
  int on = locking_on();

  if (on == 0)
    return;
  for (int i = 0; on > 0 && i < LOCKED_MAX; i++) {
    uintptr_t none = 0;
    if (atomic_compare_exchange_strong(&locked[i], &none, base))
      return;
  }
  /* Not known, or no room: say locked. */
  atomic_fetch_add(&locked_lost, 1);
}

void al_ev_base_threads_gone(uintptr_t base) {
  for (int i = 0; i < LOCKED_MAX; i++) {
    uintptr_t was = base;
    if (atomic_compare_exchange_strong(&locked[i], &was, 0))
      return;
  }
}

static int base_locked(uintptr_t base) {
  if (atomic_load_explicit(&locked_lost, memory_order_relaxed) > 0)
    return 1;
  for (int i = 0; i < LOCKED_MAX; i++)
    if (atomic_load_explicit(&locked[i], memory_order_relaxed) == base)
      return 1;
  return 0;
}

void al_ev_thread_check(const char *call, uintptr_t base, unsigned type) {
  if (base != 0 && !base_locked(base))
    al_thread_check(al_ev_shim_id, base, call, type, 0);
}

void al_ev_thread_check_event(const char *call, const struct event *ev) {
  struct event_base *base;

  /* Read without faulting: the event may be one the program freed,
   * which the use-after-close check reports. */
  if (ev != NULL &&
      al_safe_read(&base, &ev->ev_base, sizeof(base)) == 0)
    al_ev_thread_check(call, (uintptr_t)base, T_NEW);
}
