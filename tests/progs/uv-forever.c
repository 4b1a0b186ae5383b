/* A program that would run for ever, for --timeout (tests/cli/timeout.sh):
 *
 *   uv-forever run|ignore|quick|child
 *
 * run: a repeating timer of its own, started by a helper, keeps the
 * default loop running; on SIGTERM (with --graceful-signals) a finalizer
 * says so. ignore: the same, with SIGTERM ignored, so that only SIGKILL
 * ends it. quick: the timer stops the loop on its first tick. child: as
 * run, and a forked child runs a loop of its own with a repeating timer
 * (start_child_ticker) for ever too.
 *
 * RUN-BY: tests/cli/timeout.sh
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

#include "asyncleak.h"

static uv_timer_t ticker;
static int quick;

static void on_tick(uv_timer_t *t) {
  if (quick) {
    uv_close((uv_handle_t *)t, NULL);
    return;
  }
}

static void start_ticker(uv_loop_t *loop) {
  uv_timer_init(loop, &ticker); /* @ticker */
  uv_timer_start(&ticker, on_tick, 10, 10);
}

static uv_timer_t child_ticker;

static void start_child_ticker(uv_loop_t *loop) {
  uv_timer_init(loop, &child_ticker); /* @child_ticker */
  uv_timer_start(&child_ticker, on_tick, 10, 10);
}

/* A child with a loop of its own, which also never ends. */
static void fork_child(void) {
  uv_loop_t child_loop;

  if (fork() != 0)
    return;
  uv_loop_init(&child_loop);
  start_child_ticker(&child_loop);
  printf("child %d running\n", (int)getpid());
  uv_run(&child_loop, UV_RUN_DEFAULT);
  _exit(0);
}

static void finalizer(void *loop, void *arg) {
  (void)loop;
  (void)arg;
  printf("finalizer: closing the ticker\n");
  uv_close((uv_handle_t *)&ticker, NULL);
}

int main(int argc, char **argv) {
  const char *mode = argc > 1 ? argv[1] : "run";
  uv_loop_t *loop = uv_default_loop();

  /* Line-buffered, so that each line is one write: unbuffered, puts
     writes a line and its newline apart, and the forked child's line
     could land between them. */
  setvbuf(stdout, NULL, _IOLBF, 0);
  quick = strcmp(mode, "quick") == 0;
  if (strcmp(mode, "ignore") == 0)
    signal(SIGTERM, SIG_IGN);
  if (strcmp(mode, "child") == 0)
    fork_child();
  start_ticker(loop);
  if (!quick)
    asyncleak_run_finally(loop, finalizer, NULL);
  printf("running\n");
  uv_run(loop, UV_RUN_DEFAULT);
  uv_loop_close(loop);
  printf("done\n");
  return 0;
}
