/* event-once: the libevent counterpart of requests.c. A steady stream of
 * event_base_once timeouts of 0, which asyncleak follows as requests from
 * the call to the callback: IN_FLIGHT outstanding at all times, each
 * callback asking for the next, until N have run. Prints the time per
 * request.
 *
 *   event-once [N] */
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define IN_FLIGHT 64

static const struct timeval zero;
static long started, done, wanted, failed;

static void on_once(evutil_socket_t fd, short what, void *arg) {
  struct event_base *base = arg;

  (void)fd;
  (void)what;
  done++;
  if (started < wanted) {
    started++;
    if (event_base_once(base, -1, EV_TIMEOUT, on_once, base, &zero) != 0)
      failed++;
  }
}

int main(int argc, char **argv) {
  struct event_base *base = event_base_new();
  struct timespec t0, t1;

  wanted = argc > 1 ? atol(argv[1]) : 1000000;
  if (base == NULL || wanted <= 0)
    return 1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  for (int i = 0; i < IN_FLIGHT && started < wanted; i++) {
    started++;
    if (event_base_once(base, -1, EV_TIMEOUT, on_once, base, &zero) != 0)
      return 1;
  }
  if (event_base_dispatch(base) < 0)
    return 1;
  clock_gettime(CLOCK_MONOTONIC, &t1);
  if (failed != 0 || done != wanted) {
    fprintf(stderr, "event-once: %ld of %ld failed, %ld done\n", failed, wanted,
            done);
    return 1;
  }
  double ns = (t1.tv_sec - t0.tv_sec) * 1e9 + (t1.tv_nsec - t0.tv_nsec);
  printf("event-once n=%ld ns_per_request=%.1f\n", wanted, ns / wanted);
  event_base_free(base);
  return 0;
}
