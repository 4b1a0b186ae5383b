/* A program that runs a loop, then makes a call that only a process of
 * one thread may make (tests/cli/unshare.sh):
 *
 *   uv-unshare unshare|syscall|setns|closed
 *
 * unshare: unshare(CLONE_NEWUSER); syscall: the same as a system call;
 * setns: setns() into its own mount namespace; closed: it first closes
 * every descriptor above 2, as a daemon does, then unshare(CLONE_NEWUSER).
 * It prints what the call returned and exits 0. Under asyncleak it must
 * print what it prints bare, and as soon, although the runtime started a
 * thread of its own for live queries at the loop's first run.
 *
 * RUN-BY: tests/cli/unshare.sh
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <uv.h>

int main(int argc, char **argv) {
  const char *how = argc > 1 ? argv[1] : "unshare";
  uv_loop_t *loop = uv_default_loop();
  uv_timer_t t;
  int rc;

  uv_timer_init(loop, &t);
  uv_run(loop, UV_RUN_NOWAIT);
  uv_close((uv_handle_t *)&t, NULL);
  uv_run(loop, UV_RUN_DEFAULT);
  uv_loop_close(loop);
  if (strcmp(how, "syscall") == 0) {
    rc = (int)syscall(SYS_unshare, CLONE_NEWUSER);
  } else if (strcmp(how, "setns") == 0) {
    int fd = open("/proc/self/ns/mnt", O_RDONLY | O_CLOEXEC);
    rc = fd < 0 ? -1 : setns(fd, CLONE_NEWNS);
  } else {
    if (strcmp(how, "closed") == 0)
      for (int fd = 3; fd < 1024; fd++)
        close(fd);
    rc = unshare(CLONE_NEWUSER);
  }
  printf("%d %s\n", rc, rc != 0 ? strerror(errno) : "");
  return 0;
}
