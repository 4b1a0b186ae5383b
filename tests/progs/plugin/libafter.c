/* A library whose exit handler runs after asyncleak's report: it registers
 * it with on_exit() from its constructor, which runs before the runtime's
 * (the runtime is initialised after the libraries the program needs), and
 * on_exit() ties it to no library, so it runs late in exit(), in reverse
 * order of registration. The handler uses libuv then, and may end the
 * process its own way. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

static char how[16];

void after_arm(const char *mode);
void after_arm(const char *mode) {
  snprintf(how, sizeof(how), "%s", mode);
}

static void after_report(int status, void *unused) {
  uv_loop_t loop;
  uv_timer_t closed, left;
  int rc;

  (void)unused;
  uv_loop_init(&loop);
  uv_timer_init(&loop, &closed);
  uv_timer_init(&loop, &left); /* made after the report: never in it */
  uv_close((uv_handle_t *)&closed, NULL);
  uv_run(&loop, UV_RUN_NOWAIT);
  rc = uv_loop_close(&loop);
  fprintf(stderr, "late handler: status %d, loop_close: %s\n", status,
          rc == 0 ? "0" : uv_err_name(rc));
  if (strcmp(how, "late-exit") == 0)
    _exit(7);
  if (strcmp(how, "late-term") == 0)
    raise(SIGTERM);
}

__attribute__((constructor)) static void after_start(void) {
  on_exit(after_report, NULL);
}
