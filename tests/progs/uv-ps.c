/* A libuv program asked `asyncleak ps` while it runs (tests/cli/ps.sh):
 *
 *   uv-ps serve|stuck
 *
 * serve: a repeating timer keeps the loop running (start_ticker); a timer
 * made and closed (closed_timer) is gone; a timer started and then
 * unreferenced (start_unreferenced) and an idle made but never started
 * (make_idle) are open but keep nothing running. It prints "ready PID"
 * and runs until the file named by its second argument exists, then
 * closes everything and exits 0.
 * stuck: a timer's callback (sleepy_callback) prints "stuck PID" and
 * sleeps 3 s, then everything is closed and it exits 0.
 *
 * RUN-BY: tests/cli/ps.sh
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

static uv_timer_t ticker, closed, unreferenced, once;
static uv_idle_t idle;
static const char *stop_file;

static void close_all(void) {
  uv_close((uv_handle_t *)&ticker, NULL);
  uv_close((uv_handle_t *)&unreferenced, NULL);
  uv_close((uv_handle_t *)&idle, NULL);
  uv_close((uv_handle_t *)&once, NULL);
}

static void on_tick(uv_timer_t *t) {
  (void)t;
  if (stop_file != NULL && access(stop_file, F_OK) == 0)
    close_all();
}

static void nothing(uv_timer_t *t) {
  (void)t;
}

static void start_ticker(uv_loop_t *loop) {
  uv_timer_init(loop, &ticker); /* @ticker */
  uv_timer_start(&ticker, on_tick, 20, 20);
}

static void closed_timer(uv_loop_t *loop) {
  uv_timer_init(loop, &closed); /* @closed */
  uv_close((uv_handle_t *)&closed, NULL);
}

static void start_unreferenced(uv_loop_t *loop) {
  uv_timer_init(loop, &unreferenced); /* @unreferenced */
  uv_timer_start(&unreferenced, nothing, 100000, 0);
  uv_unref((uv_handle_t *)&unreferenced);
}

static void make_idle(uv_loop_t *loop) {
  uv_idle_init(loop, &idle); /* @idle */
}

static void sleepy_callback(uv_timer_t *t) {
  (void)t;
  printf("stuck %d\n", (int)getpid());
  sleep(3);
  close_all();
}

int main(int argc, char **argv) {
  uv_loop_t *loop = uv_default_loop();

  setvbuf(stdout, NULL, _IONBF, 0);
  start_ticker(loop);
  closed_timer(loop);
  start_unreferenced(loop);
  make_idle(loop);
  uv_timer_init(loop, &once);
  if (argc > 1 && strcmp(argv[1], "stuck") == 0) {
    uv_timer_start(&once, sleepy_callback, 50, 0);
  } else {
    stop_file = argc > 2 ? argv[2] : NULL;
    printf("ready %d\n", (int)getpid());
  }
  uv_run(loop, UV_RUN_DEFAULT);
  uv_loop_close(loop);
  printf("done\n");
  return 0;
}
