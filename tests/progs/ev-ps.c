/* A libevent program asked `asyncleak ps` while it runs (tests/cli/ps.sh):
 *
 *   ev-ps serve STOPFILE | ev-ps stuck
 *
 * serve: a persistent timer event keeps the base running (start_ticker)
 * and an event made but never added (make_idle) keeps nothing running; it
 * prints "ready PID" and runs until STOPFILE exists. stuck: a timer's
 * callback (sleepy_callback) prints "stuck PID" and sleeps 3 s. Either
 * way it then frees everything and exits 0.
 *
 * RUN-BY: tests/cli/ps.sh
 */
#include <event2/event.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static struct event *ticker, *idle, *once;
static const char *stop_file;

static void on_tick(evutil_socket_t fd, short what, void *base) {
  (void)fd;
  (void)what;
  if (stop_file != NULL && access(stop_file, F_OK) == 0)
    event_base_loopbreak(base);
}

static void sleepy_callback(evutil_socket_t fd, short what, void *base) {
  (void)fd;
  (void)what;
  printf("stuck %d\n", (int)getpid());
  sleep(3);
  event_base_loopbreak(base);
}

static void start_ticker(struct event_base *base) {
  const struct timeval every = {0, 20000};
  ticker = event_new(base, -1, EV_PERSIST, on_tick, base); /* @ticker */
  event_add(ticker, &every);
}

static void make_idle(struct event_base *base) {
  idle = event_new(base, -1, 0, on_tick, base); /* @idle */
}

int main(int argc, char **argv) {
  struct event_base *base = event_base_new();
  const struct timeval soon = {0, 50000};

  setvbuf(stdout, NULL, _IONBF, 0);
  start_ticker(base);
  make_idle(base);
  once = event_new(base, -1, 0, sleepy_callback, base);
  if (argc > 1 && strcmp(argv[1], "stuck") == 0) {
    event_add(once, &soon);
  } else {
    stop_file = argc > 2 ? argv[2] : NULL;
    printf("ready %d\n", (int)getpid());
  }
  event_base_dispatch(base);
  event_free(ticker);
  event_free(idle);
  event_free(once);
  event_base_free(base);
  printf("done\n");
  return 0;
}
