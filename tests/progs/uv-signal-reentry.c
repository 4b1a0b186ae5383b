/* Interposed calls from a signal handler that interrupts the runtime: the
 * main thread creates and closes timers without pause while SIGALRM,
 * every millisecond, makes a timer on a loop only the handler uses. The
 * handler's calls must not deadlock on a lock the interrupted code holds,
 * and nothing may be lost: every handle of both loops is closed at the
 * end, so the report has nothing to say. A handler's call that comes while
 * its thread holds one of the runtime's locks is recorded once the thread
 * lets go (lib/defer.c); one that interrupts a libuv call of the program's
 * is the program's, not libuv's own.
 *
 * CHECK: ^main: 20000 timers, handler: [1-9][0-9]* timers$
 * CHECK-NOT: ERROR
 * CHECK-NOT: left open
 * EXIT: 0
 *
 * The last timer is made outside the handler, as a control: it is always
 * recorded.
 * [leak] RUN: leak
 * [leak] CHECK: ^main: 20000 timers, handler: [1-9][0-9]* timers$
 * [leak] CHECK: ==[0-9]+==ERROR: asyncleak: 1 handle left open at exit$
 * [leak] CHECK: ^1 handle of type uv_timer_t, created at:$
 * [leak] CHECK: #0 0x[0-9a-f]+ in leave_one_open .*uv-signal-reentry.c:%line(leak)$
 * [leak] EXIT: 23
 *
 * And _exit from the handler, with the main thread in the middle of its
 * work: the report is written by a copy and the status is the handler's.
 * The handler waits for a moment when the main thread's own timer is not
 * open, so that the count is the same in every run.
 * [exit] RUN: exit-in-handler
 * The handler made 21 timers before its _exit, and each is reported, even
 * those made while the runtime held a lock.
 * [exit] CHECK: ==[0-9]+==ERROR: asyncleak: 22 handles left open at _exit\(5\)$
 * [exit] CHECK: #0 0x[0-9a-f]+ in leave_one_open .*uv-signal-reentry.c:%line(leak)$
 * [exit] CHECK: ^SUMMARY: asyncleak: 22 handles left open \(22 uv_timer_t\)
 * [exit] EXIT: 5
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>
#include <uv.h>

#define MAIN_TIMERS 20000
#define HANDLER_MAX 4096

static uv_loop_t handler_loop;
static uv_timer_t handler_timers[HANDLER_MAX];
static volatile sig_atomic_t handler_made;
static volatile sig_atomic_t exit_in_handler;
static volatile sig_atomic_t main_timer_open;
static uv_timer_t kept;

static void on_alarm(int sig) {
  (void)sig;
  if (exit_in_handler && handler_made > 20) {
    if (!main_timer_open)
      _exit(5);
    return;
  }
  if (handler_made < HANDLER_MAX) {
    uv_timer_init(&handler_loop, &handler_timers[handler_made]);
    handler_made++;
  }
}

static void leave_one_open(uv_loop_t *loop) {
  uv_timer_init(loop, &kept); /* @leak */
}

int main(int argc, char **argv) {
  const char *mode = argc > 1 ? argv[1] : "";
  struct itimerval every_ms = {{0, 1000}, {0, 1000}}, off = {{0, 0}, {0, 0}};
  uv_loop_t loop;
  uv_timer_t t;
  int made = 0;

  exit_in_handler = strcmp(mode, "exit-in-handler") == 0;
  uv_loop_init(&loop);
  uv_loop_init(&handler_loop);
  if (strcmp(mode, "") != 0)
    leave_one_open(&handler_loop);
  signal(SIGALRM, on_alarm);
  setitimer(ITIMER_REAL, &every_ms, NULL);
  for (int round = 0; round < 200; round++)
    for (int i = 0; i < MAIN_TIMERS / 200; i++, made++) {
      main_timer_open = 1;
      uv_timer_init(&loop, &t);
      uv_close((uv_handle_t *)&t, NULL);
      uv_run(&loop, UV_RUN_NOWAIT);
      main_timer_open = 0;
    }
  /* A fast machine: wait for the handler's turn (or for its _exit). */
  while (handler_made == 0 || exit_in_handler)
    usleep(1000);
  setitimer(ITIMER_REAL, &off, NULL);
  printf("main: %d timers, handler: %d timers\n", made, (int)handler_made);
  fflush(stdout);
  for (int i = 0; i < handler_made; i++)
    uv_close((uv_handle_t *)&handler_timers[i], NULL);
  uv_run(&handler_loop, UV_RUN_DEFAULT);
  uv_run(&loop, UV_RUN_DEFAULT);
  uv_loop_close(&loop);
  if (strcmp(mode, "leak") != 0) {
    if (strcmp(mode, "") != 0) {
      uv_close((uv_handle_t *)&kept, NULL);
      uv_run(&handler_loop, UV_RUN_DEFAULT);
    }
    uv_loop_close(&handler_loop);
  }
  return 0;
}
