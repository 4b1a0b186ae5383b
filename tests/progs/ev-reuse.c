/* Memory of the program's that held an event, then something else: the
 * program assigns events in records of a pool of its own, two fire (and
 * libevent deletes them), one it deletes, frees the records, and
 * allocates them again for other data, which happens to hold the base's
 * address where an event's base is and an added event's flags where its
 * flags are. None is the program's event any more, and none is reported:
 * not when the base is freed, not at exit with the base never freed, and
 * not at an exit() from a callback, while the base runs and cannot be
 * asked which events it holds. The third record's data is a copy of an
 * added event, which only the base can tell from one: it is left out at
 * the exit() from a callback. RUN: MODE [added], MODE one of free (the
 * default), exit and callback; with "added", one more event of the pool
 * is really still added, and is the one reported.
 *
 * CHECK: ^reused 3 records$
 * CHECK-NOT: ERROR
 * CHECK-NOT: event \(added
 * CHECK: ^asyncleak: no leaks: 1 loop\(s\), [0-9]+ handle\(s\) created, all closed$
 * EXIT: 0
 *
 * [free-added] RUN: free added
 * [free-added] CHECK: ^reused 3 records$
 * [free-added] CHECK: ==[0-9]+==ERROR: asyncleak: 1 handle left open at exit$
 * [free-added] CHECK-COUNT-1: ^1 handle of type event \(added when its base was freed\), created at:$
 * [free-added] CHECK: #0 0x[0-9a-f]+ in main .*ev-reuse.c:%line(added)$
 * [free-added] CHECK: on loop 1, thread [0-9]+ \(main\), deleted by event_base_free$
 * [free-added] CHECK: ^SUMMARY: asyncleak: 1 handle left open \(1 event \(added when its base was freed\)\) from 1 creation site$
 * [free-added] EXIT: 23
 *
 * [exit] RUN: exit
 * [exit] CHECK: ^reused 3 records$
 * [exit] CHECK-NOT: ERROR
 * [exit] CHECK-NOT: event \(added
 * [exit] CHECK: ^asyncleak: no leaks: 1 loop\(s\), [0-9]+ handle\(s\) created, all closed; 1 loop\(s\) never closed$
 * [exit] EXIT: 0
 *
 * [exit-added] RUN: exit added
 * [exit-added] CHECK: ^reused 3 records$
 * [exit-added] CHECK: ==[0-9]+==ERROR: asyncleak: 1 handle left open at exit$
 * [exit-added] CHECK-COUNT-1: ^1 handle of type event \(added\), created at:$
 * [exit-added] CHECK: #0 0x[0-9a-f]+ in main .*ev-reuse.c:%line(added)$
 * [exit-added] CHECK: on loop 1, thread [0-9]+ \(main\), added: fd [0-9]+ read$
 * [exit-added] CHECK: ^SUMMARY: asyncleak: 1 handle left open \(1 event \(added\)\) from 1 creation site; 1 of 1 loop not closed$
 * [exit-added] EXIT: 23
 *
 * [callback] RUN: callback
 * [callback] CHECK: ^reused 2 records$
 * [callback] CHECK-NOT: ERROR
 * [callback] CHECK-NOT: event \(added
 * [callback] CHECK: ^asyncleak: no leaks: 1 loop\(s\), [0-9]+ handle\(s\) created, all closed; 1 loop\(s\) never closed$
 * [callback] EXIT: 0
 *
 * [callback-added] RUN: callback added
 * [callback-added] CHECK: ^reused 2 records$
 * [callback-added] CHECK: ==[0-9]+==ERROR: asyncleak: 1 handle left open at exit$
 * [callback-added] CHECK-COUNT-1: ^1 handle of type event \(added\), created at:$
 * [callback-added] CHECK: #0 0x[0-9a-f]+ in main .*ev-reuse.c:%line(added)$
 * [callback-added] CHECK: on loop 1, thread [0-9]+ \(main\), added: fd [0-9]+ read$
 * [callback-added] CHECK: ^SUMMARY: asyncleak: 1 handle left open \(1 event \(added\)\) from 1 creation site; 1 of 1 loop not closed$
 * [callback-added] EXIT: 23
 */
#include <event2/event.h>
#include <event2/event_struct.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The program's allocator: a fixed pool whose freed records are handed
 * out again last in, first out, so that reuse is certain. */
#define RECORDS 5
static union {
  struct event ev;
  unsigned char bytes[sizeof(struct event)];
  max_align_t align;
} pool[RECORDS];
static int free_list[RECORDS], nfree;

static void *record_alloc(void) {
  return nfree > 0 ? &pool[free_list[--nfree]] : NULL;
}

static void record_free(void *p) {
  free_list[nfree++] = (int)((unsigned char *)p - pool[0].bytes) /
                       (int)sizeof(pool[0]);
}

/* Other data of the program's, in a record that held an event: words
 * from a fixed sequence, but for the base's address and an added event's
 * flags where an event has them. */
static void fill_other(void *p, struct event_base *base, short flags,
                       uint32_t seed) {
  unsigned char *b = p;

  for (size_t i = 0; i < sizeof(struct event); i++) {
    seed = seed * 1103515245u + 12345u;
    b[i] = (unsigned char)(seed >> 16);
  }
  memcpy(b + offsetof(struct event, ev_base), &base, sizeof(base));
  memcpy(b + offsetof(struct event, ev_evcallback.evcb_flags), &flags,
         sizeof(flags));
}

static void on_fire(evutil_socket_t fd, short what, void *arg) {
  (void)fd;
  (void)what;
  (void)arg;
}

/* What an event of the base added for fd looks like, flags and all, in
 * another record: libevent's closure of a persistent event is 2. */
static void fill_copy(void *p, struct event_base *base, int fd) {
  struct event *ev = p;

  memset(ev, 0, sizeof(*ev));
  ev->ev_base = base;
  ev->ev_fd = fd;
  ev->ev_events = EV_READ | EV_PERSIST;
  ev->ev_evcallback.evcb_flags = EVLIST_INIT | EVLIST_INSERTED;
  ev->ev_evcallback.evcb_closure = 2;
  ev->ev_evcallback.evcb_cb_union.evcb_callback = on_fire;
}

static void on_exit_now(evutil_socket_t fd, short what, void *arg) {
  (void)fd;
  (void)what;
  (void)arg;
  exit(0);
}

int main(int argc, char **argv) {
  const char *mode = argc > 1 ? argv[1] : "free";
  int added = argc > 2 && strcmp(argv[2], "added") == 0;
  struct event_base *base = event_base_new(); /* @base */
  struct timeval now = {0, 0};
  int callback = strcmp(mode, "callback") == 0;
  struct event *fired, *fired2, *deleted, *kept, *quit;
  void *a, *b, *c;
  int fds[2];

  for (int i = RECORDS - 1; i >= 0; i--)
    free_list[nfree++] = i;
  if (base == NULL || pipe(fds) != 0)
    return 1;
  if (added) {
    kept = record_alloc();
    event_assign(kept, base, fds[0], EV_READ, on_fire, NULL); /* @added */
    event_add(kept, NULL);
  }
  /* Timers that fire: libevent deletes them. */
  fired = record_alloc();
  event_assign(fired, base, -1, 0, on_fire, NULL);
  event_add(fired, &now);
  fired2 = record_alloc();
  event_assign(fired2, base, -1, 0, on_fire, NULL);
  event_add(fired2, &now);
  event_base_loop(base, EVLOOP_ONCE);
  /* An event the program deletes. */
  deleted = record_alloc();
  event_assign(deleted, base, fds[0], EV_READ | EV_PERSIST, on_fire, NULL);
  event_add(deleted, NULL);
  event_del(deleted);
  record_free(deleted);
  record_free(fired);
  a = record_alloc();
  b = record_alloc();
  if (a != (void *)fired || b != (void *)deleted)
    return 2;
  fill_other(a, base, EVLIST_INIT | EVLIST_TIMEOUT, 1);
  fill_other(b, base, EVLIST_INIT | EVLIST_INSERTED, 2);
  if (!callback) {
    record_free(fired2);
    c = record_alloc();
    if (c != (void *)fired2)
      return 2;
    fill_copy(c, base, fds[0]);
  }
  printf("reused %d records\n", callback ? 2 : 3);
  fflush(stdout);
  if (callback) {
    quit = record_alloc();
    event_assign(quit, base, -1, 0, on_exit_now, NULL);
    event_add(quit, &now);
    event_base_dispatch(base);
    return 3;
  }
  if (strcmp(mode, "free") == 0) {
    event_base_free(base);
    close(fds[0]);
    close(fds[1]);
  }
  return 0;
}
