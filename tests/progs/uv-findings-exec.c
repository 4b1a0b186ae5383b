/* A finding of the debug checks made before the process executes another
 * program: a process writes its findings as it ends, and an exec ends its
 * image with them. The runtime notes their number before the exec, and
 * the command counts them and says they are not shown: never a run that
 * passes silently with fewer findings than were made.
 *
 * A timer started after its close (the use-after-close check), then an
 * exec of true(1).
 * RUN: exec
 * CLI: --debug-checks
 * CHECK: made 1 finding\(s\) of the debug checks before it executed another program: they are counted, but not shown
 * CHECK: 1 finding\(s\) of the debug checks in 1 process\(es\); not a failure
 * EXIT: 0
 *
 * They fail the run when asked.
 * [failing] RUN: exec
 * [failing] CLI: --debug-checks --fail-on-findings
 * [failing] CHECK: made 1 finding\(s\) of the debug checks before it executed another program
 * [failing] CHECK: ^asyncleak: 1 finding\(s\) of the debug checks in 1 process\(es\)$
 * [failing] EXIT: 23
 *
 * An exec that fails gives them back: the image runs on and reports the
 * finding itself, counted once.
 * [failed] RUN: fail
 * [failed] CLI: --debug-checks
 * [failed] CHECK: ^Use after close: uv_timer_start on a uv_timer_t
 * [failed] CHECK-NOT: before it executed another program
 * [failed] CHECK: 1 finding\(s\) of the debug checks in 1 process\(es\); not a failure
 * [failed] EXIT: 0
 *
 * The same when the new program writes no report of its own to say
 * whether findings fail the run: the image that made them said so.
 * [untraced] RUN: exec
 * [untraced] CLI: --debug-checks --fail-on-findings --trace-children=no
 * [untraced] CHECK: made 1 finding\(s\) of the debug checks before it executed another program
 * [untraced] CHECK: ^asyncleak: 1 finding\(s\) of the debug checks in 1 process\(es\)$
 * [untraced] EXIT: 23
 *
 * An exec that succeeds, then one of the new image's that fails: only the
 * failed one's findings (none) are given back.
 * [chain] RUN: chain
 * [chain] CLI: --debug-checks --fail-on-findings
 * [chain] CHECK: made 1 finding\(s\) of the debug checks before it executed another program
 * [chain] CHECK: ^asyncleak: 1 finding\(s\) of the debug checks in 1 process\(es\)$
 * [chain] EXIT: 23
 *
 * The negative control: no finding, the same exec.
 * [clean] RUN: clean
 * [clean] CLI: --debug-checks --fail-on-findings
 * [clean] CHECK-NOT: finding\(s\)
 * [clean] CHECK: ^asyncleak: a loop library was used, then the process executed another program, which used none: what was open at the exec was not checked
 * [clean] EXIT: 0
 */
#include <string.h>
#include <unistd.h>
#include <uv.h>

int main(int argc, char **argv) {
  const char *mode = argc > 1 ? argv[1] : "exec";
  uv_loop_t *loop = uv_default_loop();
  static uv_timer_t timer;

  uv_timer_init(loop, &timer);
  uv_close((uv_handle_t *)&timer, NULL);
  if (strcmp(mode, "clean") != 0 && strcmp(mode, "failexec") != 0)
    uv_timer_start(&timer, NULL, 0, 0);
  uv_run(loop, UV_RUN_DEFAULT);
  if (!strcmp(mode, "chain")) {
    execl("/proc/self/exe", argv[0], "failexec", (char *)NULL);
    return 1;
  }
  if (!strcmp(mode, "fail") || !strcmp(mode, "failexec")) {
    execl("/nonexistent/asyncleak-test", "x", (char *)NULL);
    return uv_loop_close(loop) != 0;
  }
  execl("/bin/true", "true", (char *)NULL);
  return 1;
}
