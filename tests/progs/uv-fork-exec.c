/* fork, then exec of another libuv program (uv-exec-leaf): the parent
 * keeps its loop running, with a timer and an async handle of its own,
 * until the child has ended. The child starts with the parent's records,
 * and exec replaces them with nothing: what the executed program leaks is
 * reported under its own stack, never the parent's handles. The parent
 * closes its handles and reaps the child, whose status it prints.
 *
 * RUN: leak
 * CHECK: ^leaf [0-9]+: leaked$
 * CHECK: ^parent: child [0-9]+ exited with status 7 after [0-9]+ tick\(s\)$
 * CHECK-COUNT-1: ERROR: asyncleak: 1 handle left open at exit$
 * CHECK-COUNT-1: ^1 handle of type uv_timer_t, created at:$
 * CHECK: ^    #0 0x[0-9a-f]+ in start_leaf_timer .*uv-exec-leaf.c:[0-9]+$
 * CHECK-NOT: start_parent_handles
 * CHECK-NOT: uv_async_t
 * CHECK-NOT: no report
 * CHECK-NOT: still running
 * CHECK: ^asyncleak: 1 handle\(s\) left open in 1 process\(es\)$
 * EXIT: 23
 *
 * [clean] RUN: clean
 * [clean] CHECK: ^leaf [0-9]+: clean$
 * [clean] CHECK: ^parent: child [0-9]+ exited with status 7 after [0-9]+ tick\(s\)$
 * [clean] CHECK-NOT: ERROR
 * [clean] CHECK-NOT: no report
 * [clean] CHECK: ^asyncleak: no leaks: 2 loop\(s\), 3 handle\(s\) created, all closed$
 * [clean] EXIT: 0
 *
 * The parent leaks its async handle too: two reports, each with its own.
 * [both] RUN: leak parent-leaks
 * [both] CHECK: ^parent: child [0-9]+ exited with status 7 after [0-9]+ tick\(s\)$
 * [both] CHECK-COUNT-2: ERROR: asyncleak: 1 handle left open at exit
 * [both] CHECK-COUNT-1: ^    #0 0x[0-9a-f]+ in start_parent_handles .*uv-fork-exec.c:%line(async)$
 * [both] CHECK-COUNT-1: ^    #0 0x[0-9a-f]+ in start_leaf_timer .*uv-exec-leaf.c:[0-9]+$
 * [both] CHECK: ^asyncleak: 2 handle\(s\) left open in 2 process\(es\)$
 * [both] EXIT: 23
 *
 * Without tracing children, the executed program runs without the runtime:
 * the fork child said it started, and asyncleak says once that what it
 * executed uses libuv and was not checked: not that it left no report,
 * nor that it may still be running, nor a bare "no leaks".
 * [untraced] RUN: leak
 * [untraced] CLI: --trace-children=no
 * [untraced] CHECK: ^parent: child [0-9]+ exited with status 7 after [0-9]+ tick\(s\)$
 * [untraced] CHECK-NOT: ERROR
 * [untraced] CHECK-COUNT-1: ^asyncleak: note: process [0-9]+ \(.*uv-fork-exec\) executed '.*uv-exec-leaf', which uses libuv and was not checked \(--trace-children=no\)$
 * [untraced] CHECK-COUNT-1: uv-exec-leaf
 * [untraced] CHECK-NOT: left no report
 * [untraced] CHECK-NOT: still running
 * [untraced] CHECK: ^asyncleak: no leaks reported: 1 loop\(s\), [0-9]+ handle\(s\) created.*; 1 process\(es\) not checked \(noted above\)$
 * [untraced] CHECK-NOT: no leaks:
 * [untraced] EXIT: 0
 */
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <uv.h>

static uv_timer_t poll_timer;
static uv_async_t wakeup;
static pid_t child;
static int child_status, ticks, parent_leaks;

static void on_wakeup(uv_async_t *a) {
  (void)a;
}

/* Reaps the child from the loop, which runs until then. */
static void on_tick(uv_timer_t *t) {
  ticks++;
  if (waitpid(child, &child_status, WNOHANG) != child)
    return;
  uv_close((uv_handle_t *)t, NULL);
  if (!parent_leaks)
    uv_close((uv_handle_t *)&wakeup, NULL);
  else
    uv_unref((uv_handle_t *)&wakeup);
}

static void start_parent_handles(uv_loop_t *loop) {
  uv_timer_init(loop, &poll_timer);
  uv_timer_start(&poll_timer, on_tick, 5, 5);
  uv_async_init(loop, &wakeup, on_wakeup); /* @async */
}

int main(int argc, char **argv) {
  const char *mode = argc > 1 ? argv[1] : "leak";
  char leaf[4096];
  uv_loop_t loop;

  parent_leaks = argc > 2 && !strcmp(argv[2], "parent-leaks");
  snprintf(leaf, sizeof(leaf), "%s/uv-exec-leaf", dirname(strdup(argv[0])));
  uv_loop_init(&loop);
  start_parent_handles(&loop);
  fflush(stdout);
  child = fork();
  if (child == 0) {
    execl(leaf, leaf, mode, (char *)NULL);
    perror(leaf);
    _exit(127);
  }
  if (child < 0) {
    perror("fork");
    return 1;
  }
  uv_run(&loop, UV_RUN_DEFAULT);
  if (!parent_leaks)
    uv_loop_close(&loop);
  printf("parent: child %d exited with status %d after %d tick(s)\n",
         (int)child, WEXITSTATUS(child_status), ticks);
  return 0;
}
