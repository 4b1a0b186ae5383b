/* daemon(3): the process forks, the parent ends with _exit(0) and the
 * child, in a new session, carries on with everything the program made.
 * For any other fork, what the parent made is the parent's to report and
 * the child reports only what it makes itself. Here the parent ends at
 * once, from inside libc where the runtime never sees its _exit: its
 * report was lost, and the handles the daemon went on with were nobody's.
 *
 * So daemon() is done here, as glibc does it, with the runtime's part at
 * each end: the child keeps the parent's records as its own; the parent,
 * which carries nothing any more, writes an empty report and ends. It
 * waits first, briefly, for the child to have said it runs with the
 * runtime, so that the asyncleak command knows of the daemon before the
 * program it started is gone. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "internal.h"

/* Set in the thread that forks for daemon(), and so in the child, whose
 * only thread it is: the registry's fork handler then keeps the parent's
 * records as the child's. Another thread's fork at the same moment does
 * not see it. */
static AL_TLS int forking;

int al_daemon_forking(void) {
  return forking;
}

/* The parent: waits for the child's word (or for its end), within
 * report_timeout_ms, then ends with nothing to report. */
__attribute__((noreturn)) static void parent_ends(int ready) {
  struct al_ending how = {AL_END_EXIT_NOW, 0, 0};
  struct pollfd p = {ready, POLLIN, 0};
  int ms = al_opt.report_timeout_ms;

  if (ready >= 0) {
    while (poll(&p, 1, ms) < 0 && errno == EINTR)
      continue;
    close(ready);
  }
  al_registry_reset();
  al_findings_reset();
  al_report_write_as(getpid(), &how);
  al_exit_now(0);
}

/* stdin, stdout and stderr to /dev/null, as daemon() does unless told
 * not to: 0, or -1 when /dev/null is missing or is not the null device. */
static int to_dev_null(void) {
  struct stat st;
  int fd = open("/dev/null", O_RDWR | O_CLOEXEC);

  if (fd < 0)
    return -1;
  if (fstat(fd, &st) != 0 || !S_ISCHR(st.st_mode) ||
      st.st_rdev != makedev(1, 3)) {
    close(fd);
    errno = ENODEV;
    return -1;
  }
  /* A program that closed stdin first gets /dev/null there from open()
   * itself: it must be inherited by what the daemon executes, as dup2()
   * makes the others. */
  if (fd <= 2 && fcntl(fd, F_SETFD, 0) != 0) {
    int saved = errno;
    close(fd);
    errno = saved;
    return -1;
  }
  for (int i = 0; i <= 2; i++)
    if (fd != i && dup2(fd, i) < 0) {
      int saved = errno;
      close(fd);
      errno = saved;
      return -1;
    }
  if (fd > 2)
    close(fd);
  return 0;
}

AL_EXPORT int daemon(int nochdir, int noclose) {
  pid_t before = al_gettid(), child;
  int ready[2] = {-1, -1};

  al_init();
  /* Best effort: without the pipe the parent only does not wait. */
  if (pipe2(ready, O_CLOEXEC) != 0)
    ready[0] = ready[1] = -1;
  forking = 1;
  child = fork();
  forking = 0;
  if (child < 0) {
    int saved = errno;
    if (ready[0] >= 0) {
      close(ready[0]);
      close(ready[1]);
    }
    errno = saved;
    return -1;
  }
  if (child > 0) {
    if (ready[1] >= 0)
      close(ready[1]);
    parent_ends(ready[0]);
  }
  /* The child: its start note is written (the fork handler did it); the
   * parent may go. */
  if (ready[0] >= 0) {
    close(ready[0]);
    close(ready[1]);
  }
  al_registry_daemon_child(before, al_gettid());
  if (setsid() < 0)
    return -1;
  if (!nochdir && chdir("/") != 0) {
    /* daemon() goes on where it cannot change directory. */
  }
  if (!noclose && to_dev_null() != 0)
    return -1;
  return 0;
}
