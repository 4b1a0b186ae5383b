/* A child that asyncleak can only know of through its parent: the child
 * makes its report file when the runtime starts in it, and that may be
 * after the parent has exited and asyncleak has read the reports. The
 * parent notes each child in its own file as fork() or posix_spawn()
 * returns ("child=<pid>-<start>").
 *
 *   uv-late-child fork|spawn|daemon|killed|dropfork
 *
 * fork: the parent forks and checks that its file names the child before
 * it lets the child go. spawn: it spawns itself as "child" and exits at
 * once; the child's runtime does not start until its standard input is
 * written to or closed (tests/cli/late-child.sh holds it), since the
 * program's preinit function runs before any library's initializer, the
 * runtime's included. daemon: the program calls daemon(), whose parent
 * exits inside it; the daemon waits for its standard input in the same
 * way, then leaks its timer. killed: the spawned child is killed before its
 * runtime starts. dropfork (root only): the parent changes to user 65534
 * and then forks, and the child cannot make its file in the report
 * directory of the user who ran asyncleak.
 *
 * RUN: fork
 * CHECK: ^parent: its file names child [0-9]+ as child=[0-9]+-[0-9]+$
 * CHECK-NOT: left no report
 * CHECK-NOT: still running
 * CHECK: ^asyncleak: no leaks: 1 loop\(s\), 1 handle\(s\) created, all closed$
 * EXIT: 0
 *
 * [killed] RUN: killed
 * [killed] CHECK: ^parent: child [0-9]+ killed before it started$
 * [killed] CHECK: ^asyncleak: process [0-9]+ \(.*uv-late-child\) used libuv and left no complete report: it executed '.*uv-late-child', which uses libuv, and that program wrote nothing
 * [killed] CHECK-NOT: still running
 * [killed] EXIT: 125
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <uv.h>

extern char **environ;

/* In the spawned child, before the runtime starts: waits until its
 * standard input is readable (written to, or closed), 30 s at most. */
static void hold(int argc, char **argv, char **envp) {
  struct pollfd in = {.fd = 0, .events = POLLIN};

  (void)envp;
  if (argc == 2 && !strcmp(argv[1], "child"))
    while (poll(&in, 1, 30000) < 0 && errno == EINTR)
      ;
}

__attribute__((section(".preinit_array"), used)) static void (*const
    preinit)(int, char **, char **) = hold;

/* The report file's contents, read through the runtime's descriptor (the
 * one link in /proc/self/fd to a .report file). */
static int read_own_file(char *buf, size_t size) {
  char link[64], target[4096];

  for (int fd = 3; fd < 1024; fd++) {
    ssize_t n;
    int copy;

    snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
    n = readlink(link, target, sizeof(target) - 1);
    if (n <= 7)
      continue;
    target[n] = '\0';
    if (strcmp(target + n - 7, ".report") != 0)
      continue;
    copy = open(link, O_RDONLY);
    if (copy < 0)
      return -1;
    n = read(copy, buf, size - 1);
    close(copy);
    if (n < 0)
      return -1;
    buf[n] = '\0';
    return 0;
  }
  return -1;
}

static int fork_and_check(void) {
  int go[2];
  static char text[1 << 16];
  char want[64];
  const char *line;
  pid_t pid;
  int status;

  if (pipe(go) != 0)
    return 1;
  pid = fork();
  if (pid < 0)
    return 1;
  if (pid == 0) {
    char c;

    close(go[1]);
    /* Ends once the parent has looked. */
    while (read(go[0], &c, 1) < 0 && errno == EINTR)
      ;
    _exit(0);
  }
  close(go[0]);
  snprintf(want, sizeof(want), "\nchild=%d-", (int)pid);
  if (read_own_file(text, sizeof(text)) != 0)
    printf("parent: cannot read its report file\n");
  else if ((line = strstr(text, want)) == NULL)
    printf("parent: its file does not name child %d\n", (int)pid);
  else
    printf("parent: its file names child %d as %.*s\n", (int)pid,
           (int)strcspn(line + 1, "\n"), line + 1);
  fflush(stdout);
  close(go[1]);
  return waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
                 WEXITSTATUS(status) == 0
             ? 0
             : 1;
}

/* Spawns this program as "child"; with killed, kills it before its
 * runtime starts (its standard input is a pipe nobody writes to). */
static int spawn_child(const char *self, int killed) {
  char *argv[] = {(char *)self, "child", NULL};
  posix_spawn_file_actions_t actions;
  int in[2] = {-1, -1};
  pid_t pid;
  int status;

  posix_spawn_file_actions_init(&actions);
  if (killed) {
    if (pipe(in) != 0)
      return 1;
    posix_spawn_file_actions_adddup2(&actions, in[0], 0);
  }
  if (posix_spawn(&pid, "/proc/self/exe", &actions, NULL, argv, environ) !=
      0)
    return 1;
  posix_spawn_file_actions_destroy(&actions);
  if (!killed) {
    printf("parent: spawned %d\n", (int)pid);
    return 0;
  }
  kill(pid, SIGKILL);
  if (waitpid(pid, &status, 0) != pid)
    return 1;
  printf("parent: child %d killed before it started\n", (int)pid);
  return 0;
}

/* Forks after changing user: the child cannot make a file in the report
 * directory, which belongs to the user who ran asyncleak. */
static int drop_and_fork(void) {
  pid_t pid;
  int status;

  if (setgid(65534) != 0 || setuid(65534) != 0) {
    perror("setuid");
    return 1;
  }
  pid = fork();
  if (pid == 0)
    _exit(0);
  if (pid < 0 || waitpid(pid, &status, 0) != pid)
    return 1;
  printf("parent: child %d ended\n", (int)pid);
  return 0;
}

int main(int argc, char **argv) {
  uv_loop_t loop;
  uv_timer_t timer;
  int rc = 1;

  setvbuf(stdout, NULL, _IOLBF, 0);
  if (argc != 2)
    return 2;
  /* Before the loop: the parent exits inside daemon() with nothing open. */
  if (!strcmp(argv[1], "daemon")) {
    struct pollfd in = {.fd = 0, .events = POLLIN};

    if (daemon(1, 1) != 0)
      return 1;
    while (poll(&in, 1, 30000) < 0 && errno == EINTR)
      ;
    argv[1] = "child";
  }
  uv_loop_init(&loop);
  uv_timer_init(&loop, &timer);
  if (!strcmp(argv[1], "child")) {
    /* The child leaks its timer: its report must reach the directory. */
    printf("child %d: leaked\n", (int)getpid());
    return 0;
  }
  if (!strcmp(argv[1], "fork"))
    rc = fork_and_check();
  else if (!strcmp(argv[1], "spawn"))
    rc = spawn_child(argv[0], 0);
  else if (!strcmp(argv[1], "killed"))
    rc = spawn_child(argv[0], 1);
  else if (!strcmp(argv[1], "dropfork"))
    rc = drop_and_fork();
  uv_close((uv_handle_t *)&timer, NULL);
  uv_run(&loop, UV_RUN_DEFAULT);
  uv_loop_close(&loop);
  return rc;
}
