/* A daemon's double fork, run by tests/cli/daemon.sh:
 *
 *   uv-daemon STATE_DIR leak|clean [STATUS]
 *
 * The program, with a loop and a timer of its own, forks; the child calls
 * setsid(), forks the daemon and exits. The daemon sends its output to
 * STATE_DIR/daemon.log, starts a loop of its own, with one more timer
 * left open when leaking, and tells the program its pid once it is ready;
 * the program reaps the child, closes its loop and exits with STATUS
 * (default 0) while the daemon runs on, until STATE_DIR/release exists or
 * STATE_DIR is gone (at most 10 seconds).
 *
 * RUN-BY: tests/cli/daemon.sh
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <uv.h>

static const char *state;
static uv_timer_t program_timer, watch_timer, daemon_timer;
static int leak, ticks;

static void on_watch(uv_timer_t *t) {
  char path[4096];
  struct stat st;

  snprintf(path, sizeof(path), "%s/release", state);
  if (stat(path, &st) != 0 && stat(state, &st) == 0 && ++ticks < 500)
    return;
  uv_close((uv_handle_t *)t, NULL);
  if (!leak)
    uv_close((uv_handle_t *)&daemon_timer, NULL);
}

static void start_daemon_timer(uv_loop_t *loop) {
  uv_timer_init(loop, &daemon_timer); /* @daemon */
}

__attribute__((noreturn)) static void run_daemon(int ready) {
  pid_t self = getpid();
  char path[4096];
  uv_loop_t loop;
  ssize_t n;
  int fd;

  snprintf(path, sizeof(path), "%s/daemon.log", state);
  fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0)
    _exit(1);
  dup2(fd, STDOUT_FILENO);
  dup2(fd, STDERR_FILENO);
  close(fd);
  fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    _exit(1);
  dup2(fd, STDIN_FILENO);
  close(fd);
  if (chdir("/") != 0)
    _exit(1);
  uv_loop_init(&loop);
  start_daemon_timer(&loop);
  uv_timer_init(&loop, &watch_timer);
  uv_timer_start(&watch_timer, on_watch, 20, 20);
  n = write(ready, &self, sizeof(self));
  close(ready);
  if (n != sizeof(self))
    _exit(1);
  uv_run(&loop, UV_RUN_DEFAULT);
  if (!leak)
    uv_loop_close(&loop);
  printf("daemon %d: done\n", (int)getpid());
  exit(0);
}

int main(int argc, char **argv) {
  pid_t child, daemon_pid = 0;
  int fds[2], status = -1;
  uv_loop_t loop;
  ssize_t n;

  if (argc < 3) {
    fprintf(stderr, "usage: uv-daemon STATE_DIR leak|clean [STATUS]\n");
    return 2;
  }
  state = argv[1];
  leak = strcmp(argv[2], "clean") != 0;
  uv_loop_init(&loop);
  uv_timer_init(&loop, &program_timer);
  if (pipe(fds) != 0)
    return 1;
  fflush(stdout);
  child = fork();
  if (child == 0) {
    close(fds[0]);
    setsid();
    daemon_pid = fork();
    if (daemon_pid == 0)
      run_daemon(fds[1]);
    exit(daemon_pid > 0 ? 0 : 1);
  }
  close(fds[1]);
  n = read(fds[0], &daemon_pid, sizeof(daemon_pid));
  waitpid(child, &status, 0);
  uv_close((uv_handle_t *)&program_timer, NULL);
  uv_run(&loop, UV_RUN_DEFAULT);
  uv_loop_close(&loop);
  printf("program: daemon %d started, its parent exited with status %d\n",
         n == sizeof(daemon_pid) ? (int)daemon_pid : -1,
         WEXITSTATUS(status));
  return argc > 3 ? atoi(argv[3]) : 0;
}
