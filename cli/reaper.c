/* The report directory of a run whose processes outlived the program (a
 * daemon): kept for the reports they write when they exit, and then
 * removed by a reaper, a small process asyncleak leaves behind in a
 * session of its own, holding nothing of the run but the directory.
 *
 * It waits for those processes to end, at most REAP_MAX_MS after the run.
 * Once they have all ended it removes the directory at once, unless one of
 * them left a report of leaks there (the text of a report in its file,
 * which asyncleak named as the place to read it): that one stays until
 * REAP_MAX_MS have passed.
 * Then the directory goes whatever is in it or still running, so that
 * nothing is left in TMPDIR for good. A directory the user removed
 * meanwhile ends the reaper within a second. A reaper takes no lock and no
 * file; killing it leaves the directory, as asyncleak did before it had
 * one.
 *
 * Why a reaper rather than the next run of asyncleak sweeping TMPDIR: it
 * knows exactly which processes it waits for (a pidfd is not fooled by a
 * pid given to another process), it needs no next run in the same TMPDIR,
 * and it never has to decide whether a directory it finds is some other
 * run's, still in use. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

#define REAP_MAX_MS (24LL * 60 * 60 * 1000)
#define POLL_MS 1000

static long long now_ms(void) {
  struct timespec ts;

  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Whether the directory was removed by someone else (rm -rf of the
 * TMPDIR around it): there is nothing left for the reaper to do. Its link
 * count says so; inotify would not, while the reaper holds it open. */
static int dir_gone(int dirfd) {
  struct stat st;

  return fstat(dirfd, &st) != 0 || st.st_nlink == 0;
}

/* Sleeps for ms, or until deadline when that is sooner. */
static void nap(long long ms, long long deadline) {
  long long left = deadline - now_ms();
  struct timespec ts;

  if (left < ms)
    ms = left;
  if (ms <= 0)
    return;
  ts = (struct timespec){(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
    ;
}

/* Whether pid is still there; without a pidfd, kill() may be fooled by
 * a pid given to another process, which only delays the removal. */
static int alive(pid_t pid) {
  return kill(pid, 0) == 0 || errno == EPERM;
}

/* Waits for the processes to end, until deadline or until the directory
 * goes; it looks at the directory every POLL_MS. */
static void wait_all(const pid_t *pids, size_t n, long long deadline,
                     int dirfd) {
  struct pollfd fds[64];
  size_t nfds = 0, left;
  int pidfds = n <= CLI_ARRAY_SIZE(fds);

  /* A pidfd becomes readable when its process ends. */
  for (size_t i = 0; pidfds && i < n; i++) {
    int fd = (int)syscall(SYS_pidfd_open, pids[i], 0);

    if (fd >= 0)
      fds[nfds++] = (struct pollfd){.fd = fd, .events = POLLIN};
    else if (errno != ESRCH) /* ESRCH: it has ended already */
      pidfds = 0;
  }
  if (!pidfds) {
    for (size_t i = 0; i < nfds; i++)
      close(fds[i].fd);
    for (size_t i = 0; i < n; i++)
      while (alive(pids[i]) && now_ms() < deadline && !dir_gone(dirfd))
        nap(POLL_MS, deadline);
    return;
  }
  for (left = nfds; left > 0 && now_ms() < deadline && !dir_gone(dirfd);) {
    long long wait = deadline - now_ms();

    if (poll(fds, nfds, wait > POLL_MS ? POLL_MS : (int)wait) < 0 &&
        errno != EINTR)
      return;
    for (size_t i = 0; i < nfds; i++)
      if (fds[i].fd >= 0 && fds[i].revents != 0) {
        close(fds[i].fd);
        fds[i].fd = -1; /* poll() passes over it */
        left--;
      }
  }
}

/* Its standard streams on /dev/null and every other descriptor closed but
 * the directory's: a pipe of the caller's held open would keep its
 * reader waiting for a day. */
static void detach(int keep) {
  int null = open("/dev/null", O_RDWR | O_CLOEXEC);

  for (int fd = 0; fd <= 2; fd++)
    if (null >= 0)
      dup2(null, fd);
  if (syscall(SYS_close_range, 3, keep - 1, 0) != 0 ||
      syscall(SYS_close_range, keep + 1, ~0U, 0) != 0) {
    long max = sysconf(_SC_OPEN_MAX);
    for (int fd = 3; fd < (max > 0 && max < 65536 ? max : 65536); fd++)
      if (fd != keep)
        close(fd);
  }
  if (chdir("/") != 0)
    return;
}

/* The reaper started, or why none could be, for the report to say. */
static pid_t reaper;
static int reaper_error;
static char reaper_dir[PATH_MAX];

void cli_reaper_say(int fd) {
  if (reaper > 0)
    cli_say(fd, "'%s' is removed by process %d once they have ended, or 24 "
            "hours after this run when one of them leaves a report of leaks "
            "there", reaper_dir, (int)reaper);
  else if (reaper_error != 0)
    cli_say(fd, "warning: cannot start a process to remove '%s' later: %s; "
            "remove it once they have ended", reaper_dir,
            strerror(reaper_error));
}

/* Whether a process left the text of a report, which it writes only when
 * it leaked, in its file there. */
static int holds_leak_report(const char *dir) {
  struct cli_reports r;
  int found = 0;

  cli_reports_read(&r, dir);
  for (size_t i = 0; i < r.nr && !found; i++)
    found = r.procs[i].text != NULL;
  cli_reports_release(&r);
  return found;
}

pid_t cli_reaper_start(const char *dir, const pid_t *pids, size_t n) {
  long long deadline = now_ms() + REAP_MAX_MS;
  int keep = cli_reportdir_held();
  struct sigaction dfl;
  sigset_t none;
  pid_t pid;

  snprintf(reaper_dir, sizeof(reaper_dir), "%s", dir);
  pid = keep < 0 ? (errno = EBADF, -1) : fork();
  if (pid != 0) {
    reaper = pid;
    reaper_error = pid < 0 ? errno : 0;
    return pid;
  }
  /* Out of the run's process group and terminal: a signal meant for the
   * run (Ctrl-C, timeout(1)) is not meant for it. */
  setsid();
  memset(&dfl, 0, sizeof(dfl));
  dfl.sa_handler = SIG_DFL;
  for (int sig = 1; sig < NSIG; sig++)
    sigaction(sig, &dfl, NULL);
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
  detach(keep);

  wait_all(pids, n, deadline, keep);
  if (holds_leak_report(dir))
    while (now_ms() < deadline && !dir_gone(keep))
      nap(POLL_MS, deadline);
  if (!dir_gone(keep))
    cli_reportdir_remove(dir);
  _exit(0);
}
