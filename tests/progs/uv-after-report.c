/* Code that runs after the report: libafter.so's exit handler, registered
 * before the runtime's, makes a loop and two timers, closes one, and may
 * then end the process with _exit() or SIGTERM. Its calls must work as
 * they would without asyncleak; what it makes is not in the report, which
 * was written already; and a later _exit() or signal ends the process as
 * it says, without a second report.
 *
 * CHECK: ^late handler: status 0, loop_close: EBUSY$
 * CHECK-NOT: ERROR
 * CHECK-NOT: handle of type
 * EXIT: 0
 *
 * [leak] RUN: leak
 * [leak] CHECK: ^late handler: status 0, loop_close: EBUSY$
 * [leak] CHECK: ==[0-9]+==ERROR: asyncleak: 1 handle left open at exit$
 * [leak] CHECK: ^1 handle of type uv_timer_t, created at:$
 * [leak] CHECK: #0 0x[0-9a-f]+ in main .*uv-after-report.c:%line(leak)$
 * [leak] CHECK: ^Loops \(libuv\): 1 seen, 0 closed, 1 not closed:$
 * [leak] CHECK: ^SUMMARY: asyncleak: 1 handle left open \(1 uv_timer_t\) from 1 creation site; 1 of 1 loop not closed$
 * [leak] CHECK-NOT: after_report
 * [leak] EXIT: 23
 *
 * [late-exit] RUN: late-exit
 * [late-exit] CHECK: ^late handler: status 0, loop_close: EBUSY$
 * [late-exit] CHECK: ==[0-9]+==ERROR: asyncleak: 1 handle left open at exit$
 * [late-exit] CHECK: #0 0x[0-9a-f]+ in main .*uv-after-report.c:%line(leak)$
 * [late-exit] CHECK-COUNT-1: ERROR: asyncleak
 * [late-exit] CHECK-NOT: _exit\(7\)
 * [late-exit] EXIT: 7
 *
 * [late-exit-clean] RUN: late-exit clean
 * [late-exit-clean] CHECK: ^late handler: status 0, loop_close: EBUSY$
 * [late-exit-clean] CHECK-NOT: ERROR
 * [late-exit-clean] EXIT: 7
 *
 * [late-term] RUN: late-term
 * [late-term] CHECK: ^late handler: status 0, loop_close: EBUSY$
 * [late-term] CHECK: ==[0-9]+==ERROR: asyncleak: 1 handle left open at exit$
 * [late-term] CHECK-COUNT-1: ERROR: asyncleak
 * [late-term] CHECK: was killed by signal 15 \(SIGTERM: Terminated\)$
 * [late-term] CHECK-NOT: when SIGTERM ended
 * [late-term] EXIT: 143
 */
#include <stdio.h>
#include <string.h>
#include <uv.h>

void after_arm(const char *mode);

int main(int argc, char **argv) {
  static uv_timer_t timer;
  const char *mode = argc > 1 ? argv[1] : "";
  int clean = argc > 2 && strcmp(argv[2], "clean") == 0;

  after_arm(mode);
  uv_timer_init(uv_default_loop(), &timer); /* @leak */
  if (strcmp(mode, "") == 0 || clean) {
    uv_close((uv_handle_t *)&timer, NULL);
    uv_run(uv_default_loop(), UV_RUN_DEFAULT);
    uv_loop_close(uv_default_loop());
  }
  return 0;
}
