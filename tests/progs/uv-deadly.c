/* Signals beyond the usual few whose default action ends the process: an
 * alarm() nobody waits for, a write to a pipe nobody reads, a real-time
 * signal. With a timer left open, each gets its report, which names the
 * signal, and the program still dies of it. RUN: alarm|pipe|rt|handled
 * [clean]; clean closes the timer first, and then nothing is reported.
 * handled: the program catches SIGALRM itself, and runs on as it would
 * without asyncleak.
 *
 * [alarm] RUN: alarm
 * [alarm] CHECK: ^waiting for SIGALRM$
 * [alarm] CHECK: ==[0-9]+==ERROR: asyncleak: 1 handle left open when SIGALRM ended the program$
 * [alarm] CHECK: ^The program was ended by signal 14 \(SIGALRM: Alarm clock\), which it does not handle\.
 * [alarm] CHECK: #0 0x[0-9a-f]+ in leave_open .*uv-deadly.c:%line(leak)$
 * [alarm] CHECK: was killed by signal 14 \(SIGALRM: Alarm clock\)$
 * [alarm] CHECK-NOT: killed before it could write its report
 * [alarm] CHECK-NOT: after the signal
 * [alarm] EXIT: 142
 *
 * [alarm-clean] RUN: alarm clean
 * [alarm-clean] CHECK: ^waiting for SIGALRM$
 * [alarm-clean] CHECK: was killed by signal 14 \(SIGALRM: Alarm clock\)$
 * [alarm-clean] CHECK-NOT: ERROR
 * [alarm-clean] CHECK-NOT: killed before it could write its report
 * [alarm-clean] EXIT: 142
 *
 * [pipe] RUN: pipe
 * [pipe] CHECK: ==[0-9]+==ERROR: asyncleak: 1 handle left open when SIGPIPE ended the program$
 * [pipe] CHECK: ^The program was ended by signal 13 \(SIGPIPE: Broken pipe\), which it does not handle\.
 * [pipe] CHECK: #0 0x[0-9a-f]+ in leave_open .*uv-deadly.c:%line(leak)$
 * [pipe] CHECK: was killed by signal 13 \(SIGPIPE: Broken pipe\)$
 * [pipe] CHECK-NOT: killed before it could write its report
 * [pipe] CHECK-NOT: after the signal
 * [pipe] EXIT: 141
 *
 * [pipe-clean] RUN: pipe clean
 * [pipe-clean] CHECK: was killed by signal 13 \(SIGPIPE: Broken pipe\)$
 * [pipe-clean] CHECK-NOT: ERROR
 * [pipe-clean] CHECK-NOT: killed before it could write its report
 * [pipe-clean] CHECK-NOT: after the signal
 * [pipe-clean] EXIT: 141
 *
 * [rt] RUN: rt
 * [rt] CHECK: ==[0-9]+==ERROR: asyncleak: 1 handle left open when SIGRTMIN\+2 ended the program$
 * [rt] CHECK: #0 0x[0-9a-f]+ in leave_open .*uv-deadly.c:%line(leak)$
 * [rt] CHECK-NOT: killed before it could write its report
 * [rt] CHECK-NOT: after the signal
 * [rt] CHECK: was killed by signal 36 \(SIGRTMIN\+2: Real-time signal 2\)$
 * [rt] EXIT: 164
 *
 * [handled] RUN: handled
 * [handled] CHECK: ^SIGALRM: default$
 * [handled] CHECK: ^handled SIGALRM$
 * [handled] CHECK-NOT: ERROR
 * [handled] CHECK-NOT: killed
 * [handled] EXIT: 0
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

static uv_timer_t timer;
static volatile sig_atomic_t alarmed;

static void on_tick(uv_timer_t *t) {
  (void)t;
}

static void leave_open(uv_loop_t *loop) {
  uv_timer_init(loop, &timer); /* @leak */
  uv_timer_start(&timer, on_tick, 60000, 0);
}

static void on_alarm(int sig) {
  (void)sig;
  alarmed = 1;
}

int main(int argc, char **argv) {
  const char *how = argc > 1 ? argv[1] : "alarm";
  int clean = argc > 2 && strcmp(argv[2], "clean") == 0;
  uv_loop_t *loop = uv_default_loop();

  leave_open(loop);
  uv_run(loop, UV_RUN_NOWAIT);
  if (clean || strcmp(how, "handled") == 0) {
    uv_close((uv_handle_t *)&timer, NULL);
    uv_run(loop, UV_RUN_DEFAULT);
    uv_loop_close(loop);
  }
  if (strcmp(how, "alarm") == 0) {
    printf("waiting for SIGALRM\n");
    fflush(stdout);
    alarm(1);
    for (int i = 0; i < 100; i++)
      pause();
  } else if (strcmp(how, "pipe") == 0) {
    int fds[2];

    fflush(stdout);
    if (pipe(fds) != 0)
      return 1;
    close(fds[0]);
    if (write(fds[1], "x", 1) < 0)
      perror("write");
  } else if (strcmp(how, "rt") == 0) {
    fflush(stdout);
    raise(SIGRTMIN + 2);
  } else if (strcmp(how, "handled") == 0) {
    struct sigaction sa;

    sigaction(SIGALRM, NULL, &sa);
    printf("SIGALRM: %s\n", !(sa.sa_flags & SA_SIGINFO) &&
                                    sa.sa_handler == SIG_DFL
                                ? "default"
                                : "something else");
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_alarm;
    sigaction(SIGALRM, &sa, NULL);
    alarm(1);
    while (!alarmed)
      pause();
    printf("handled SIGALRM\n");
    return 0;
  }
  printf("after the signal\n");
  return 0;
}
