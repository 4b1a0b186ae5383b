/* The use-after-close check (check_closes, --debug-checks): a second
 * uv_close of a timer, and a uv_timer_start of a timer whose close
 * completed. Each is reported with the stack of the call and of the first
 * close; the program's calls reach libuv unchanged.
 *
 * RUN: start
 * CLI: --debug-checks
 * CHECK: WARNING: asyncleak: 1 finding of the debug checks \(not a failure\)
 * CHECK: ^Use after close: uv_timer_start on a uv_timer_t already closed, 1 time, at:$
 * CHECK: #0 0x[0-9a-f]+ in start_again .*uv-use-after-close.c:%line(start)$
 * CHECK: ^  closed first at:$
 * CHECK: #0 0x[0-9a-f]+ in close_timer .*uv-use-after-close.c:%line(close)$
 * CHECK: fingerprint [0-9a-f]+
 * CHECK: 1 finding\(s\) of the debug checks in 1 process\(es\); not a failure
 * CHECK-NOT: SUMMARY
 * EXIT: 0
 *
 * With --fail-on-findings the finding fails the run.
 * [failing] RUN: start
 * [failing] CLI: --debug-checks --fail-on-findings
 * [failing] CHECK: ERROR: asyncleak: 1 finding of the debug checks$
 * [failing] CHECK: ^Use after close: uv_timer_start on a uv_timer_t already closed
 * [failing] CHECK: SUMMARY: asyncleak: 0 handles left open; 1 finding of the debug checks$
 * [failing] CHECK: 1 finding\(s\) of the debug checks in 1 process\(es\)$
 * [failing] EXIT: 23
 *
 * A second close: libuv's assertion aborts the program, and the report
 * written as it dies has the finding, both closes named.
 * [twice] RUN: twice
 * [twice] CLI: --debug-checks
 * [twice] SANITIZED: skip
 * [twice] CHECK: ^Use after close: uv_close on a uv_timer_t already closed, 1 time, at:$
 * [twice] CHECK: #0 0x[0-9a-f]+ in close_again .*uv-use-after-close.c:%line(again)$
 * [twice] CHECK: ^  closed first at:$
 * [twice] CHECK: #0 0x[0-9a-f]+ in close_timer .*uv-use-after-close.c:%line(close)$
 * [twice] CHECK: SIGABRT
 * [twice] EXIT: 134
 *
 * The check is off unless asked for: the same start is no finding.
 * [off] RUN: start
 * [off] CHECK-NOT: finding
 * [off] CHECK-NOT: Use after close
 * [off] CHECK: no leaks: 1 loop\(s\), 1 handle\(s\) created, all closed
 * [off] EXIT: 0
 *
 * The negative control: the memory is made a timer again after the close
 * completed, and started: a new handle, no finding.
 * [reuse] RUN: reuse
 * [reuse] CLI: --debug-checks
 * [reuse] CHECK-NOT: finding
 * [reuse] CHECK-NOT: Use after close
 * [reuse] CHECK: no leaks: 1 loop\(s\), 2 handle\(s\) created, all closed
 * [reuse] EXIT: 0
 */
#include <stdio.h>
#include <string.h>
#include <uv.h>

static uv_timer_t timer;

static void fired(uv_timer_t *t) {
  (void)t;
}

__attribute__((noinline)) static void close_timer(void) {
  uv_close((uv_handle_t *)&timer, NULL); /* @close */
}

__attribute__((noinline)) static void close_again(void) {
  uv_close((uv_handle_t *)&timer, NULL); /* @again */
}

__attribute__((noinline)) static int start_again(void) {
  return uv_timer_start(&timer, fired, 10, 0); /* @start */
}

int main(int argc, char **argv) {
  uv_loop_t *loop = uv_default_loop();
  const char *mode = argc > 1 ? argv[1] : "start";

  uv_timer_init(loop, &timer);
  close_timer();
  if (!strcmp(mode, "twice")) {
    close_again();
    return 0;
  }
  uv_run(loop, UV_RUN_DEFAULT);
  if (!strcmp(mode, "start")) {
    /* libuv refuses it: the timer is closed. */
    if (start_again() != UV_EINVAL)
      return 1;
  } else {
    uv_timer_init(loop, &timer);
    if (start_again() != 0)
      return 1;
    uv_run(loop, UV_RUN_DEFAULT);
    uv_close((uv_handle_t *)&timer, NULL);
  }
  uv_run(loop, UV_RUN_DEFAULT);
  return uv_loop_close(loop) == 0 ? 0 : 1;
}
