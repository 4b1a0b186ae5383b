/* chroot(): the program's files and /proc are about to leave its view.
 * The symbolizer's files are opened first (lib/symfiles.c), so that the
 * report names its frames as it would without the chroot. Objects the
 * program loads later are read by the path the loader used, which is then
 * a path inside the new root: right for them.
 *
 * A program that makes the system call itself (syscall(SYS_chroot)) is not
 * seen: its frames are shown as module+offset, and the report says why. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "internal.h"

AL_EXPORT int chroot(const char *path) {
  static int (*real)(const char *);

  if (real == NULL)
    real = (int (*)(const char *))dlsym(RTLD_NEXT, "chroot");
  al_symbolize_prepare();
  if (real == NULL)
    return (int)syscall(SYS_chroot, path);
  return real(path);
}
