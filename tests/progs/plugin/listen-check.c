/* What a socket-activated program checks before it takes its sockets, as
 * sd_listen_fds() does: LISTEN_PID is its own pid, LISTEN_FDS how many
 * descriptors from 3 on it was given. Prints what it sees, then does the
 * same in a child it forks and executes ("child"), which is not the
 * process the sockets were meant for and must not see its own pid there;
 * exits 0 only when the descriptors are its own. Used by
 * tests/cli/listen-pid.sh. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv) {
  const char *pid = getenv("LISTEN_PID"), *fds = getenv("LISTEN_FDS");
  const char *mark = getenv("ASYNCLEAK_LISTEN_PID");
  int child = argc > 1 && !strcmp(argv[1], "child");
  int own = pid != NULL && atol(pid) == (long)getpid();
  int status;
  pid_t p;

  printf("%s: LISTEN_PID %s, LISTEN_FDS=%s, fd 3 %s, mark %s\n",
         child ? "child" : "program", pid == NULL ? "unset" : own ? "is "
         "its own pid" : "is another pid", fds != NULL ? fds : "unset",
         fcntl(3, F_GETFD) >= 0 ? "open" : "closed", mark ? mark : "unset");
  fflush(stdout);
  if (child)
    return own;
  p = fork();
  if (p == 0) {
    execl("/proc/self/exe", argv[0], "child", (char *)NULL);
    _exit(127);
  }
  if (p < 0 || waitpid(p, &status, 0) != p || !WIFEXITED(status) ||
      WEXITSTATUS(status) != 0)
    return 2;
  return own ? 0 : 1;
}
