/* Every way a program ends, with a timer left open: the report is written
 * whichever it takes, and the program ends exactly as it would have, with
 * its own status or its own signal. RUN: PATH [clean]; clean closes the
 * timer first, and then nothing is reported. AddressSanitizer handles SIGSEGV
 * itself, so a sanitizer build skips the runs about it.
 *
 * [return] RUN: return
 * [return] CHECK: ^ending by return$
 * [return] CHECK: ==[0-9]+==ERROR: asyncleak: 1 handle left open at exit$
 * [return] CHECK: #0 0x[0-9a-f]+ in leave_open .*uv-exit-paths.c:%line(leak)$
 * [return] CHECK-NOT: did not run
 * [return] EXIT: 23
 *
 * [exit] RUN: exit
 * [exit] CHECK: ^ending by exit$
 * [exit] CHECK: ==[0-9]+==ERROR: asyncleak: 1 handle left open at exit$
 * [exit] CHECK: #0 0x[0-9a-f]+ in leave_open .*uv-exit-paths.c:%line(leak)$
 * [exit] EXIT: 23
 *
 * [exit-now] RUN: _exit
 * [exit-now] CHECK: ^ending by _exit$
 * [exit-now] CHECK: ==[0-9]+==ERROR: asyncleak: 1 handle left open at _exit\(7\)$
 * [exit-now] CHECK: ^The program ended with _exit\(7\): atexit handlers and finalizers did not run, and no loop was drained\.$
 * [exit-now] CHECK: ^1 handle of type uv_timer_t, created at:$
 * [exit-now] CHECK: #0 0x[0-9a-f]+ in leave_open .*uv-exit-paths.c:%line(leak)$
 * [exit-now] CHECK: #1 0x[0-9a-f]+ in main .*uv-exit-paths.c:%line(call)$
 * [exit-now] CHECK: ^SUMMARY: asyncleak: 1 handle left open \(1 uv_timer_t\) from 1 creation site; 1 of 1 loop not closed$
 * [exit-now] CHECK-NOT: atexit handler ran
 * [exit-now] EXIT: 7
 *
 * [exit-now-clean] RUN: _exit clean
 * [exit-now-clean] CHECK: ^ending by _exit$
 * [exit-now-clean] CHECK-NOT: ERROR
 * [exit-now-clean] CHECK-NOT: handle of type
 * [exit-now-clean] EXIT: 7
 *
 * [c-exit] RUN: _Exit
 * [c-exit] CHECK: ^ending by _Exit$
 * [c-exit] CHECK: ==[0-9]+==ERROR: asyncleak: 1 handle left open at _exit\(7\)$
 * [c-exit] CHECK: #0 0x[0-9a-f]+ in leave_open .*uv-exit-paths.c:%line(leak)$
 * [c-exit] CHECK-NOT: atexit handler ran
 * [c-exit] EXIT: 7
 *
 * [abort] RUN: abort
 * [abort] CHECK: ^ending by abort$
 * [abort] CHECK: ==[0-9]+==ERROR: asyncleak: 1 handle left open when the program crashed \(SIGABRT\)$
 * [abort] CHECK: ^The program crashed on signal 6 \(SIGABRT: Aborted\), which it does not handle\.
 * [abort] CHECK: #0 0x[0-9a-f]+ in leave_open .*uv-exit-paths.c:%line(leak)$
 * [abort] CHECK: ^asyncleak: '.*uv-exit-paths' \(pid [0-9]+\) was killed by signal 6 \(SIGABRT: Aborted\)$
 * [abort] CHECK-NOT: killed before it could write its report
 * [abort] CHECK-NOT: atexit handler ran
 * [abort] EXIT: 134
 *
 * [segv] SANITIZED: skip
 * [segv] RUN: segv
 * [segv] CHECK: ^ending by segv$
 * [segv] CHECK: ==[0-9]+==ERROR: asyncleak: 1 handle left open when the program crashed \(SIGSEGV\)$
 * [segv] CHECK: ^The program crashed on signal 11 \(SIGSEGV: Segmentation fault\), which it does not handle\.
 * [segv] CHECK: ^1 handle of type uv_timer_t, created at:$
 * [segv] CHECK: #0 0x[0-9a-f]+ in leave_open .*uv-exit-paths.c:%line(leak)$
 * [segv] CHECK: on loop 1, thread [0-9]+ \(main\), active, referenced$
 * [segv] CHECK: ^asyncleak: '.*uv-exit-paths' \(pid [0-9]+\) was killed by signal 11 \(SIGSEGV: Segmentation fault\)$
 * [segv] CHECK-NOT: killed before it could write its report
 * [segv] CHECK-NOT: after the fault
 * [segv] EXIT: 139
 *
 * [segv-clean] SANITIZED: skip
 * [segv-clean] RUN: segv clean
 * [segv-clean] CHECK: ^ending by segv$
 * [segv-clean] CHECK: was killed by signal 11 \(SIGSEGV: Segmentation fault\)$
 * [segv-clean] CHECK-NOT: ERROR
 * [segv-clean] CHECK-NOT: handle of type
 * [segv-clean] EXIT: 139
 *
 * [term] RUN: sigterm
 * [term] CHECK: ^ending by sigterm$
 * [term] CHECK: ==[0-9]+==ERROR: asyncleak: 1 handle left open when SIGTERM ended the program$
 * [term] CHECK: ^The program was ended by signal 15 \(SIGTERM: Terminated\), which it does not handle\.
 * [term] CHECK: #0 0x[0-9a-f]+ in leave_open .*uv-exit-paths.c:%line(leak)$
 * [term] CHECK: was killed by signal 15 \(SIGTERM: Terminated\)$
 * [term] EXIT: 143
 *
 * [int] RUN: sigint
 * [int] CHECK: ^ending by sigint$
 * [int] CHECK: ==[0-9]+==ERROR: asyncleak: 1 handle left open when SIGINT ended the program$
 * [int] CHECK: #0 0x[0-9a-f]+ in leave_open .*uv-exit-paths.c:%line(leak)$
 * [int] CHECK: was killed by signal 2 \(SIGINT: Interrupt\)$
 * [int] EXIT: 130
 *
 * [int-clean] RUN: sigint clean
 * [int-clean] CHECK: ^ending by sigint$
 * [int-clean] CHECK: was killed by signal 2 \(SIGINT: Interrupt\)$
 * [int-clean] CHECK-NOT: ERROR
 * [int-clean] EXIT: 130
 *
 * Without the handlers, a signal leaves no report, as before.
 * [off] RUN: sigterm
 * [off] CLI: --handle-signals=no
 * [off] CHECK: ^ending by sigterm$
 * [off] CHECK: ^asyncleak: it was killed before it could write its report \(SIGTERM: a handler of its own, --handle-signals=no, or a report slower than report_timeout_ms\)
 * [off] CHECK-NOT: ERROR
 * [off] EXIT: 143
 *
 * The program sees the default disposition, as it would without asyncleak.
 * [query] SANITIZED: skip
 * [query] RUN: query
 * [query] CHECK: ^SIGSEGV: default$
 * [query] CHECK: ^SIGTERM: default$
 * [query] CHECK: ^SIGTERM after signal\(SIG_DFL\): default, was default$
 * [query] CHECK: ^SIGUSR1: default$
 * [query] CHECK: ==[0-9]+==ERROR: asyncleak: 1 handle left open when SIGTERM ended the program$
 * [query] EXIT: 143
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

static uv_timer_t timer;

static void on_tick(uv_timer_t *t) {
  (void)t;
}

static void leave_open(uv_loop_t *loop) {
  uv_timer_init(loop, &timer); /* @leak */
  uv_timer_start(&timer, on_tick, 60000, 0);
}

static void said_at_exit(void) {
  printf("atexit handler ran\n");
}

static const char *disposition(int sig) {
  struct sigaction sa;

  if (sigaction(sig, NULL, &sa) != 0)
    return "error";
  if (!(sa.sa_flags & SA_SIGINFO) && sa.sa_handler == SIG_DFL)
    return "default";
  if (!(sa.sa_flags & SA_SIGINFO) && sa.sa_handler == SIG_IGN)
    return "ignored";
  return "a handler";
}

static void query(void) {
  void (*was)(int);

  printf("SIGSEGV: %s\n", disposition(SIGSEGV));
  printf("SIGTERM: %s\n", disposition(SIGTERM));
  was = signal(SIGTERM, SIG_DFL);
  printf("SIGTERM after signal(SIG_DFL): %s, was %s\n",
         disposition(SIGTERM), was == SIG_DFL ? "default" : "something else");
  printf("SIGUSR1: %s\n", disposition(SIGUSR1));
  fflush(stdout);
}

int main(int argc, char **argv) {
  const char *how = argc > 1 ? argv[1] : "return";
  uv_loop_t *loop = uv_default_loop();

  atexit(said_at_exit);
  leave_open(loop); /* @call */
  uv_run(loop, UV_RUN_NOWAIT);
  if (argc > 2 && strcmp(argv[2], "clean") == 0) {
    uv_close((uv_handle_t *)&timer, NULL);
    uv_run(loop, UV_RUN_DEFAULT);
    uv_loop_close(loop);
  }
  printf("ending by %s\n", how);
  fflush(stdout);
  if (strcmp(how, "exit") == 0)
    exit(0);
  if (strcmp(how, "_exit") == 0)
    _exit(7);
  if (strcmp(how, "_Exit") == 0)
    _Exit(7);
  if (strcmp(how, "abort") == 0)
    abort();
  if (strcmp(how, "segv") == 0) {
    volatile int *nowhere = NULL;
    *nowhere = 1;
    printf("after the fault\n");
  }
  if (strcmp(how, "sigterm") == 0)
    raise(SIGTERM);
  if (strcmp(how, "sigint") == 0)
    kill(getpid(), SIGINT);
  if (strcmp(how, "query") == 0) {
    query();
    raise(SIGTERM);
  }
  return 0;
}
