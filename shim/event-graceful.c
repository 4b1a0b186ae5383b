/* Graceful signals for libevent: waking the bases the program runs from a
 * signal handler.
 *
 * Nothing of libevent's may be called from a handler. One eventfd for the
 * process is: the handler writes it, which is async-signal-safe. Each
 * base the program runs has an event of ours reading it, flagged
 * EVLIST_INTERNAL as libevent's own events are, so that a base holding
 * only it has nothing to wait for: event_base_dispatch returns when the
 * program's events are gone, as without it. When the eventfd becomes
 * readable every base wakes; each deletes its event and breaks its loop,
 * and event_base_loop's interposer then shuts the base down.
 *
 * A fork child shares the eventfd with its parent: waking it would wake
 * the parent's bases. A child's bases cannot be stopped, and a signal ends
 * the child as it would without graceful signals. */
#define _GNU_SOURCE
#include <event2/event.h>
#include <event2/event_struct.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "event-shim.h"

#define MAX_WAKERS 64
static struct waker {
  _Atomic(struct event_base *) base;
  struct event *ev;
} wakers[MAX_WAKERS];
static struct event_base *const RESERVED = (struct event_base *)1;

static atomic_int wake_fd = -1;
/* A base runs without a waker (the table full, no eventfd), or in a fork
 * child. */
static atomic_int unwakeable;
static atomic_int forked;
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;

static void atfork_child(void) {
  atomic_store(&forked, 1);
}

static void watch_forks(void) {
  al_on_fork_child(atfork_child);
}

static void on_wake(evutil_socket_t fd, short what, void *arg) {
  struct waker *w = arg;
  struct event_base *base = atomic_load(&w->base);
  __typeof__(&event_del) del = REAL(event_del);
  __typeof__(&event_base_loopbreak) brk = USE(event_base_loopbreak);

  (void)fd;
  (void)what;
  al_call_own_begin(&al_ev_calls);
  if (del != NULL)
    del(w->ev); /* once: the drain that follows must not spin on it */
  if (brk != NULL)
    brk(base);
  al_call_own_end(&al_ev_calls);
}

static int the_fd(void) {
  int fd = atomic_load(&wake_fd), expected = -1;

  if (fd >= 0)
    return fd;
  fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (fd < 0)
    return -1;
  if (!atomic_compare_exchange_strong(&wake_fd, &expected, fd)) {
    close(fd);
    fd = expected;
  }
  return fd;
}

static int slot_of(const struct event_base *base) {
  for (int i = 0; i < MAX_WAKERS; i++)
    if (atomic_load(&wakers[i].base) == base)
      return i;
  return -1;
}

void al_ev_waker_add(struct event_base *base) {
  __typeof__(&event_assign) assign = REAL(event_assign);
  __typeof__(&event_add) add = USE(event_add);
  struct event_base *expected;
  struct event *ev;
  int fd, i, saved = errno;

  pthread_once(&atfork_once, watch_forks);
  if (atomic_load(&forked) || slot_of(base) >= 0)
    goto out;
  for (i = 0; i < MAX_WAKERS; i++) {
    expected = NULL;
    if (atomic_compare_exchange_strong(&wakers[i].base, &expected, RESERVED))
      break;
  }
  if (i == MAX_WAKERS) {
    atomic_store(&unwakeable, 1);
    goto out;
  }
  fd = the_fd();
  ev = fd >= 0 && assign && add ? malloc(sizeof(*ev)) : NULL;
  al_call_own_begin(&al_ev_calls);
  if (ev != NULL && assign(ev, base, fd, EV_READ | EV_PERSIST, on_wake,
                           &wakers[i]) == 0) {
    ev->ev_evcallback.evcb_flags |= EVLIST_INTERNAL;
    wakers[i].ev = ev;
    atomic_store(&wakers[i].base, base); /* before the add: on_wake reads it */
    if (add(ev, NULL) != 0) {
      atomic_store(&wakers[i].base, RESERVED);
      free(ev);
      ev = NULL;
    }
  } else {
    free(ev);
    ev = NULL;
  }
  al_call_own_end(&al_ev_calls);
  if (ev == NULL) {
    wakers[i].ev = NULL;
    atomic_store(&wakers[i].base, NULL);
    atomic_store(&unwakeable, 1);
  }
out:
  errno = saved;
}

/* Before the base is freed: libevent's event_base_free passes over
 * internal events. */
void al_ev_waker_remove(struct event_base *base) {
  __typeof__(&event_del) del = REAL(event_del);
  int i = slot_of(base), saved = errno;

  if (i < 0)
    return;
  al_call_own_begin(&al_ev_calls);
  if (del != NULL)
    del(wakers[i].ev);
  al_call_own_end(&al_ev_calls);
  free(wakers[i].ev);
  wakers[i].ev = NULL;
  atomic_store(&wakers[i].base, NULL);
  errno = saved;
}

/* From the signal handler. */
void al_ev_wake(void) {
  int fd = atomic_load(&wake_fd);
  uint64_t one = 1;

  if (fd >= 0 && !atomic_load(&forked))
    (void)!write(fd, &one, sizeof(one));
}

int al_ev_unwakeable(void) {
  return atomic_load(&unwakeable) || atomic_load(&forked);
}
