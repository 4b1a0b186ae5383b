/* The program asks to close its handles and exits without running the
 * loop again, as Node.js, kresd and uvloop do at exit: the closes never
 * complete, but the program did its part. They are listed apart, as
 * closing, and do not fail the run.
 *
 * CHECK: WARNING: asyncleak: 3 handles closing at exit: the close was asked for, but the loop did not run again to complete it \(not a failure\)
 * CHECK: ^1 handle of type uv_timer_t closing, created at:
 * CHECK: #0 0x[0-9a-f]+ in main .*uv-close-no-run.c:%line(timer)$
 * CHECK: on loop 1, thread [0-9]+ \(main\), closing \(the loop did not run again to finish it\)$
 * CHECK: ^1 handle of type uv_idle_t closing, created at:
 * CHECK: #0 0x[0-9a-f]+ in main .*uv-close-no-run.c:%line(idle)$
 * CHECK: ^1 handle of type uv_check_t closing, created at:
 * CHECK: 3 handle\(s\) closing at exit in 1 process\(es\): the close was asked for, but the loop did not run again to complete it; not a failure
 * CHECK: no leaks reported: 1 loop\(s\), 3 handle\(s\) created
 * CHECK-NOT: ERROR
 * CHECK-NOT: SUMMARY
 * CHECK-NOT: left open
 * EXIT: 0
 *
 * With --fail-on-closing they fail it.
 * [strict] CLI: --fail-on-closing
 * [strict] CHECK: ERROR: asyncleak: 3 handles closing at exit, the close never completed
 * [strict] CHECK: ^1 handle of type uv_timer_t closing, created at:
 * [strict] CHECK: SUMMARY: asyncleak: 0 handles left open; 3 closing \(1 uv_check_t, 1 uv_idle_t, 1 uv_timer_t\); 1 of 1 loop not closed$
 * [strict] CHECK: 3 handle\(s\) closing at exit in 1 process\(es\), the close never completed
 * [strict] EXIT: 23
 *
 * Quiet: nothing fails, so nothing is said.
 * [quiet] CLI: -q
 * [quiet] CHECK-NOT: .
 * [quiet] EXIT: 0
 *
 * A handle never closed beside them still fails the run, alone.
 * [leak] RUN: leak
 * [leak] CHECK: ERROR: asyncleak: 1 handle left open at exit
 * [leak] CHECK: WARNING: asyncleak: 2 handles closing at exit
 * [leak] CHECK: ^1 handle of type uv_check_t, created at:
 * [leak] CHECK: #0 0x[0-9a-f]+ in main .*uv-close-no-run.c:%line(check)$
 * [leak] CHECK: ^1 handle of type uv_timer_t closing, created at:
 * [leak] CHECK: SUMMARY: asyncleak: 1 handle left open \(1 uv_check_t\) from 1 creation site; 2 closing \(1 uv_idle_t, 1 uv_timer_t\), not failing; 1 of 1 loop not closed$
 * [leak] CHECK: 1 handle\(s\) left open in 1 process\(es\)
 * [leak] EXIT: 23
 *
 * The negative control runs the loop once more, and the closes complete.
 * [clean] RUN: clean
 * [clean] CHECK: no leaks: 1 loop\(s\), 3 handle\(s\) created, all closed
 * [clean] CHECK-NOT: closing
 * [clean] CHECK-NOT: ERROR
 * [clean] CHECK-NOT: WARNING
 * [clean] EXIT: 0
 */
#include <stdlib.h>
#include <string.h>
#include <uv.h>

static int closed;

static void on_close(uv_handle_t *h) {
  (void)h;
  closed++;
}

int main(int argc, char **argv) {
  const char *mode = argc > 1 ? argv[1] : "";
  uv_loop_t *loop = uv_default_loop();
  static uv_timer_t timer;
  static uv_idle_t idle;
  static uv_check_t check;

  uv_timer_init(loop, &timer); /* @timer */
  uv_timer_start(&timer, (uv_timer_cb)abort, 60000, 0);
  uv_idle_init(loop, &idle); /* @idle */
  uv_check_init(loop, &check); /* @check */
  uv_close((uv_handle_t *)&timer, on_close);
  uv_close((uv_handle_t *)&idle, NULL);
  if (strcmp(mode, "leak") != 0)
    uv_close((uv_handle_t *)&check, on_close);
  else
    uv_check_start(&check, (uv_check_cb)abort);
  if (strcmp(mode, "clean") == 0) {
    uv_run(loop, UV_RUN_DEFAULT);
    if (closed != 2 || uv_loop_close(loop) != 0)
      abort();
  }
  return 0;
}
