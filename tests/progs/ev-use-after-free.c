/* The use-after-close check for libevent (check_closes, --debug-checks):
 * an event's close is event_free, and an event_add, an event_del or a
 * second event_free of a freed event is reported with the stack of the
 * call and of the free. The program's allocator, given to libevent, keeps
 * what libevent frees, so that these calls, wrong as they are, read
 * memory that is still there.
 *
 * RUN: add
 * CLI: --debug-checks
 * CHECK: WARNING: asyncleak: 2 findings of the debug checks \(not a failure\)
 * CHECK: ^Use after close: event_add on an event already closed, 1 time, at:$
 * CHECK: #0 0x[0-9a-f]+ in add_again .*ev-use-after-free.c:%line(add)$
 * CHECK: ^  closed first at:$
 * CHECK: #0 0x[0-9a-f]+ in free_event .*ev-use-after-free.c:%line(free)$
 * CHECK: ^Use after close: event_del on an event already closed, 1 time, at:$
 * CHECK: #0 0x[0-9a-f]+ in main .*ev-use-after-free.c:%line(del)$
 * CHECK: #0 0x[0-9a-f]+ in free_event .*ev-use-after-free.c:%line(free)$
 * CHECK: 2 finding\(s\) of the debug checks in 1 process\(es\); not a failure
 * EXIT: 0
 *
 * A second event_free.
 * [twice] RUN: twice
 * [twice] CLI: --debug-checks --fail-on-findings
 * [twice] CHECK: ERROR: asyncleak: 1 finding of the debug checks$
 * [twice] CHECK: ^Use after close: event_free on an event already closed, 1 time, at:$
 * [twice] CHECK: #0 0x[0-9a-f]+ in main .*ev-use-after-free.c:%line(twice)$
 * [twice] CHECK: #0 0x[0-9a-f]+ in free_event .*ev-use-after-free.c:%line(free)$
 * [twice] EXIT: 23
 *
 * Off unless asked for.
 * [off] RUN: add
 * [off] CHECK-NOT: finding
 * [off] CHECK-NOT: Use after close
 * [off] EXIT: 0
 *
 * The negative control: the memory made an event again (event_assign)
 * before it is added: no finding.
 * [reuse] RUN: reuse
 * [reuse] CLI: --debug-checks --fail-on-findings
 * [reuse] CHECK-NOT: finding
 * [reuse] CHECK-NOT: Use after close
 * [reuse] CHECK: no leaks: 1 loop\(s\), [0-9]+ handle\(s\) created, all closed
 * [reuse] EXIT: 0
 */
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Frees nothing: the memory of a freed event stays readable. */
static void *keep_malloc(size_t n) {
  return malloc(n);
}

static void *keep_realloc(void *p, size_t n) {
  return realloc(p, n);
}

static void keep_free(void *p) {
  (void)p;
}

static void fired(evutil_socket_t fd, short what, void *arg) {
  (void)fd;
  (void)what;
  (void)arg;
}

__attribute__((noinline)) static void free_event(struct event *ev) {
  event_free(ev); /* @free */
}

__attribute__((noinline)) static int add_again(struct event *ev) {
  struct timeval tv = {3600, 0};
  return event_add(ev, &tv); /* @add */
}

int main(int argc, char **argv) {
  const char *mode = argc > 1 ? argv[1] : "add";
  struct event_base *base;
  struct event *ev;

  event_set_mem_functions(keep_malloc, keep_realloc, keep_free);
  base = event_base_new();
  ev = evtimer_new(base, fired, NULL);
  free_event(ev);
  if (!strcmp(mode, "twice")) {
    event_free(ev); /* @twice */
  } else if (!strcmp(mode, "add")) {
    add_again(ev);
    event_del(ev); /* @del */
  } else {
    struct timeval tv = {0, 1000};
    evtimer_assign(ev, base, fired, NULL);
    evtimer_add(ev, &tv);
    event_base_dispatch(base);
    event_del(ev);
  }
  event_base_free(base);
  return 0;
}
