/* A libuv program asked `asyncleak ps` while it runs (tests/cli/ps.sh):
 *
 *   uv-ps serve|fork|stuck [STOPFILE]
 *
 * serve: a repeating timer keeps the loop running (start_ticker); a timer
 * made and closed (closed_timer) is gone; a timer started and then
 * unreferenced (start_unreferenced) and an idle made but never started
 * (make_idle) are open but keep nothing running; a uv_queue_work request
 * (start_work) is pending until the stop file exists. It prints "ready
 * PID" and runs until the file named by its second argument exists, then
 * closes everything and exits 0.
 * fork: as serve without the work request, and a timer's callback
 * forks: the child goes on
 * running the loop inside its parent's uv_run, prints "child PID", and
 * ends as the parent does, at the stop file.
 * stuck: a timer's callback (sleepy_callback) prints "stuck PID" and
 * sleeps until the stop file exists (30 s at most), then everything is
 * closed and it exits 0.
 *
 * RUN-BY: tests/cli/ps.sh
 */
#include <stdio.h>
#include <string.h>
#include <sys/types.h>
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
  uv_timer_start(&ticker, on_tick, 100, 100);
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

static uv_work_t work;

static void wait_for_stop(uv_work_t *w) {
  (void)w;
  for (int i = 0; i < 3000 && access(stop_file, F_OK) != 0; i++)
    usleep(10000);
}

static void work_done(uv_work_t *w, int status) {
  (void)w;
  (void)status;
}

static void start_work(uv_loop_t *loop) {
  uv_queue_work(loop, &work, wait_for_stop, work_done); /* @work */
}

static void fork_here(uv_timer_t *t) {
  (void)t;
  if (fork() == 0)
    printf("child %d\n", (int)getpid());
}

/* Stuck until the stop file exists (30 s at most). */
static void sleepy_callback(uv_timer_t *t) {
  (void)t;
  printf("stuck %d\n", (int)getpid());
  for (int i = 0; i < 600 && access(stop_file, F_OK) != 0; i++)
    usleep(50000);
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
  stop_file = argc > 2 ? argv[2] : "/nonexistent";
  if (argc > 1 && strcmp(argv[1], "stuck") == 0) {
    uv_timer_start(&once, sleepy_callback, 50, 0);
  } else {
    /* No work request with fork: the child has no thread pool to
     * complete the copy it would inherit. */
    if (argc > 1 && strcmp(argv[1], "fork") == 0)
      uv_timer_start(&once, fork_here, 50, 0);
    else
      start_work(loop);
    printf("ready %d\n", (int)getpid());
  }
  uv_run(loop, UV_RUN_DEFAULT);
  uv_loop_close(loop);
  printf("done\n");
  return 0;
}
