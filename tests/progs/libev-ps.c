/* A libev program asked `asyncleak ps` while it runs (tests/cli/ps.sh):
 *
 *   libev-ps serve STOPFILE | libev-ps stuck
 *
 * serve: a repeating timer keeps the default loop running (start_ticker)
 * and a started timer made unreferenced with ev_unref (start_unreferenced)
 * keeps nothing running; it prints "ready PID" and runs until STOPFILE
 * exists. stuck: a timer's callback (sleepy_callback) prints "stuck PID"
 * and sleeps 3 s. Either way it then stops everything and exits 0.
 *
 * RUN-BY: tests/cli/ps.sh
 */
#include <ev.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static ev_timer ticker, unreferenced, once;
static const char *stop_file;

static void stop_all(struct ev_loop *loop) {
  ev_timer_stop(loop, &ticker);
  ev_ref(loop);
  ev_timer_stop(loop, &unreferenced);
  ev_timer_stop(loop, &once);
}

static void on_tick(struct ev_loop *loop, ev_timer *w, int revents) {
  (void)w;
  (void)revents;
  if (stop_file != NULL && access(stop_file, F_OK) == 0)
    stop_all(loop);
}

static void sleepy_callback(struct ev_loop *loop, ev_timer *w, int revents) {
  (void)w;
  (void)revents;
  printf("stuck %d\n", (int)getpid());
  sleep(3);
  stop_all(loop);
}

static void start_ticker(struct ev_loop *loop) {
  ev_timer_init(&ticker, on_tick, 0.02, 0.02);
  ev_timer_start(loop, &ticker); /* @ticker */
}

static void start_unreferenced(struct ev_loop *loop) {
  ev_timer_init(&unreferenced, on_tick, 1000., 0.);
  ev_timer_start(loop, &unreferenced); /* @unreferenced */
  ev_unref(loop);
}

int main(int argc, char **argv) {
  struct ev_loop *loop = ev_default_loop(0);

  setvbuf(stdout, NULL, _IONBF, 0);
  start_ticker(loop);
  start_unreferenced(loop);
  if (argc > 1 && strcmp(argv[1], "stuck") == 0) {
    ev_timer_init(&once, sleepy_callback, 0.05, 0.);
    ev_timer_start(loop, &once);
  } else {
    stop_file = argc > 2 ? argv[2] : NULL;
    printf("ready %d\n", (int)getpid());
  }
  ev_run(loop, 0);
  ev_loop_destroy(loop);
  printf("done\n");
  return 0;
}
