/* A program that becomes a daemon with daemon(3), run by
 * tests/cli/daemon.sh:
 *
 *   uv-daemon-call STATE_DIR leak|clean
 *
 * The program makes a loop and a timer, then calls daemon(): the parent
 * exits at once, from inside libc, and the child carries the loop and the
 * timer on. The daemon writes its pid to STATE_DIR/daemon.pid, runs its
 * loop until STATE_DIR/release exists or STATE_DIR is gone (at most 10
 * seconds), then closes the timer (clean) or leaves it open (leak), says
 * "daemon PID: done" in STATE_DIR/daemon.log, and exits.
 *
 * RUN-BY: tests/cli/daemon.sh
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <uv.h>

static char state[4096];
static uv_timer_t carried, watch;
static int leak, ticks;

static void on_watch(uv_timer_t *t) {
  char path[4200];
  struct stat st;

  snprintf(path, sizeof(path), "%s/release", state);
  if (stat(path, &st) != 0 && stat(state, &st) == 0 && ++ticks < 500)
    return;
  uv_close((uv_handle_t *)t, NULL);
  if (!leak)
    uv_close((uv_handle_t *)&carried, NULL);
}

static void make_carried_timer(uv_loop_t *loop) {
  uv_timer_init(loop, &carried); /* @carried */
}

/* Writes text to STATE_DIR/name, whole. */
static int put(const char *name, const char *text) {
  char path[4200];
  size_t len = strlen(text);
  int fd;

  snprintf(path, sizeof(path), "%s/%s", state, name);
  fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0)
    return -1;
  if (write(fd, text, len) != (ssize_t)len) {
    close(fd);
    return -1;
  }
  return close(fd);
}

int main(int argc, char **argv) {
  char line[64];
  uv_loop_t loop;

  if (argc < 3 || realpath(argv[1], state) == NULL) {
    fprintf(stderr, "usage: uv-daemon-call STATE_DIR leak|clean\n");
    return 2;
  }
  leak = strcmp(argv[2], "clean") != 0;
  uv_loop_init(&loop);
  make_carried_timer(&loop);
  if (daemon(0, 0) != 0) {
    perror("daemon");
    return 1;
  }
  snprintf(line, sizeof(line), "%d\n", (int)getpid());
  if (put("daemon.log", "") != 0 || put("daemon.pid", line) != 0)
    _exit(1);
  uv_timer_init(&loop, &watch);
  uv_timer_start(&watch, on_watch, 20, 20);
  uv_run(&loop, UV_RUN_DEFAULT);
  if (!leak)
    uv_loop_close(&loop);
  snprintf(line, sizeof(line), "daemon %d: done\n", (int)getpid());
  put("daemon.log", line);
  return 0;
}
