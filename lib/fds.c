/* Descriptors the runtime keeps for the life of a process: the report
 * file (lib/reportfile.c) and the symbolizer's files (lib/symfiles.c).
 *
 * The program counts on the numbers it gets from open(): the lowest free
 * ones, 0 to 2 among them when it closed its standard streams first (a
 * daemon that will open /dev/null as its stdin). A descriptor of the
 * runtime's left at a low number would shift every number the program
 * gets after it. So each is moved near the top of what the program is
 * likely to use, and never below 3.
 *
 * System calls only: this runs in fork children. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include "internal.h"

/* The soft limit counts up to this at most: the kernel grows a process's
 * table of descriptors to the highest number used, and one allowed a
 * million files must not pay for a table that large. */
enum { FD_CAP = 1024 };

int al_fd_move_high(int fd, int room) {
  struct rlimit rl;
  int saved = errno, high = -1;
  long floor = 3;

  if (fd < 0)
    return fd;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
    long top = rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > FD_CAP
                   ? FD_CAP
                   : (long)rl.rlim_cur;
    if (top - room > floor)
      floor = top - room;
  }
  if (fd >= floor) {
    errno = saved;
    return fd;
  }
  high = fcntl(fd, F_DUPFD_CLOEXEC, (int)floor);
  /* No free number that high: any number above the standard streams. */
  if (high < 0 && fd < 3)
    high = fcntl(fd, F_DUPFD_CLOEXEC, 3);
  if (high >= 0) {
    close(fd);
    fd = high;
  }
  errno = saved;
  return fd;
}
