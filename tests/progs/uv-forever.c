/* A program that would run for ever, for --timeout (tests/cli/timeout.sh):
 *
 *   uv-forever run|ignore|quick
 *
 * run: a repeating timer of its own, started by a helper, keeps the
 * default loop running; on SIGTERM (with --graceful-signals) a finalizer
 * says so. ignore: the same, with SIGTERM ignored, so that only SIGKILL
 * ends it. quick: the timer stops the loop on its first tick.
 *
 * RUN-BY: tests/cli/timeout.sh
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
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

static void finalizer(void *loop, void *arg) {
  (void)loop;
  (void)arg;
  printf("finalizer: closing the ticker\n");
  uv_close((uv_handle_t *)&ticker, NULL);
}

int main(int argc, char **argv) {
  const char *mode = argc > 1 ? argv[1] : "run";
  uv_loop_t *loop = uv_default_loop();

  setvbuf(stdout, NULL, _IONBF, 0);
  quick = strcmp(mode, "quick") == 0;
  if (strcmp(mode, "ignore") == 0)
    signal(SIGTERM, SIG_IGN);
  start_ticker(loop);
  if (!quick)
    asyncleak_run_finally(loop, finalizer, NULL);
  printf("running\n");
  uv_run(loop, UV_RUN_DEFAULT);
  uv_loop_close(loop);
  printf("done\n");
  return 0;
}
