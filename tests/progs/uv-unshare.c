/* A program that runs a loop, then enters a new user namespace, which only
 * a process of one thread may (tests/cli/unshare.sh). It prints what
 * unshare(CLONE_NEWUSER) returned, and exits 0. Under asyncleak it must
 * print what it prints bare, although the runtime started a thread of
 * its own for live queries at the loop's first run.
 *
 * RUN-BY: tests/cli/unshare.sh
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <uv.h>

int main(void) {
  uv_loop_t *loop = uv_default_loop();
  uv_timer_t t;
  int rc;

  uv_timer_init(loop, &t);
  uv_run(loop, UV_RUN_NOWAIT);
  uv_close((uv_handle_t *)&t, NULL);
  uv_run(loop, UV_RUN_DEFAULT);
  rc = unshare(CLONE_NEWUSER);
  printf("%d %s\n", rc, rc != 0 ? strerror(errno) : "");
  uv_loop_close(loop);
  return 0;
}
