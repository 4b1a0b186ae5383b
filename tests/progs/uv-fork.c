/* fork: the child starts with the parent's records, which are the
 * parent's to answer for, and reports only what it made itself. The
 * parent closes its timer after the fork and leaves nothing. A child that
 * ends with _exit writes its report all the same.
 *
 * CHECK: ^parent done, child status 0$
 * CHECK-COUNT-1: ^1 handle of type uv_timer_t, created at:$
 * CHECK: ^    #0 0x[0-9a-f]+ in start_child_timer .*uv-fork.c:%line(child)$
 * CHECK-NOT: in start_parent_timer
 * CHECK-NOT: left no report
 * CHECK: ^asyncleak: 1 handle\(s\) left open in 1 process\(es\)$
 * EXIT: 23
 *
 * [exit] RUN: _exit
 * [exit] CHECK: ^parent done, child status 0$
 * [exit] CHECK: ==[0-9]+==ERROR: asyncleak: 1 handle left open at _exit\(0\)$
 * [exit] CHECK-COUNT-1: ^1 handle of type uv_timer_t, created at:$
 * [exit] CHECK: ^    #0 0x[0-9a-f]+ in start_child_timer .*uv-fork.c:%line(child)$
 * [exit] CHECK-NOT: in start_parent_timer
 * [exit] CHECK-NOT: left no report
 * [exit] CHECK: ^asyncleak: 1 handle\(s\) left open in 1 process\(es\)$
 * [exit] EXIT: 23
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <uv.h>

static uv_timer_t parent_timer, child_timer;

static void start_parent_timer(uv_loop_t *loop) {
  uv_timer_init(loop, &parent_timer); /* @parent */
}

static void start_child_timer(uv_loop_t *loop) {
  uv_timer_init(loop, &child_timer); /* @child */
}

static void child(int use_exit) {
  uv_loop_t loop;

  uv_loop_init(&loop);
  start_child_timer(&loop);
  uv_run(&loop, UV_RUN_NOWAIT);
  if (use_exit)
    _exit(0);
  exit(0);
}

int main(int argc, char **argv) {
  uv_loop_t loop;
  int status = -1;
  pid_t pid;

  uv_loop_init(&loop);
  start_parent_timer(&loop);
  fflush(stdout);
  pid = fork();
  if (pid == 0)
    child(argc > 1 && !strcmp(argv[1], "_exit"));
  uv_close((uv_handle_t *)&parent_timer, NULL);
  uv_run(&loop, UV_RUN_DEFAULT);
  uv_loop_close(&loop);
  waitpid(pid, &status, 0);
  printf("parent done, child status %d\n", WEXITSTATUS(status));
  return 0;
}
