/* A server that drops its privileges and forks libuv workers, run as
 * root by tests/cli/fork-lost.sh:
 *
 *   fork-setuid after|before leak|clean
 *
 * It makes a loop and a timer and closes them, then changes to user and
 * group 65534 and forks (after), or forks and then changes user (before).
 * The child makes a loop and a timer of its own, leaves the timer open
 * (leak) or closes it (clean), and exits; the parent waits for it and
 * exits 0. With after, the child cannot reach the report directory, which
 * belongs to root: its report is lost.
 */
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <uv.h>

static void on_tick(uv_timer_t *t) {
  (void)t;
}

/* A loop and a timer, left open unless clean. */
static void loop_and_timer(int clean) {
  static uv_loop_t loop;
  static uv_timer_t timer;

  uv_loop_init(&loop);
  uv_timer_init(&loop, &timer);
  uv_timer_start(&timer, on_tick, 60000, 0);
  uv_run(&loop, UV_RUN_NOWAIT);
  if (clean) {
    uv_close((uv_handle_t *)&timer, NULL);
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
  }
}

static int drop(void) {
  if (setgid(65534) != 0 || setuid(65534) != 0) {
    perror("setuid");
    return -1;
  }
  return 0;
}

int main(int argc, char **argv) {
  int after, status;
  pid_t child;

  if (argc < 3) {
    fprintf(stderr, "usage: fork-setuid after|before leak|clean\n");
    return 2;
  }
  after = !strcmp(argv[1], "after");
  loop_and_timer(1);
  if (after && drop() != 0)
    return 1;
  fflush(stdout);
  child = fork();
  if (child == 0) {
    loop_and_timer(!strcmp(argv[2], "clean"));
    return 0;
  }
  if (child < 0 || (!after && drop() != 0))
    return 1;
  if (waitpid(child, &status, 0) != child || !WIFEXITED(status) ||
      WEXITSTATUS(status) != 0)
    return 1;
  printf("the worker ended\n");
  return 0;
}
