/* Opening the files the user names for asyncleak to write (--log-file,
 * --json, --junit, --sarif, --write-baseline) without being turned
 * against the user who runs it, root above all. Another user who can
 * write to a directory on the way (/tmp) could plant a symbolic link
 * where the file will be, aimed at a file of the victim's, which would be
 * emptied. The rules are the kernel's protected_symlinks and
 * protected_regular, made stricter and applied in every directory: a
 * symbolic link is followed only when it belongs to the user running
 * asyncleak or to root (/dev/stdout does), and an existing file in a
 * sticky directory others can write to is opened only when it belongs to
 * that user or to the directory's owner. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "cli.h"

#ifndef PROC_SUPER_MAGIC
#define PROC_SUPER_MAGIC 0x9fa0
#endif

/* As many links as the kernel follows in one path. */
#define MAX_LINKS 40

static int trusted(uid_t uid) {
  return uid == 0 || uid == geteuid();
}

/* Whether path lies on /proc, whose links (/proc/self/fd/1) stand for
 * open files rather than names: only the kernel can follow them. */
static int on_proc(const char *path) {
  struct statfs fs;

  return statfs(path, &fs) == 0 && fs.f_type == PROC_SUPER_MAGIC;
}

/* Follows the symbolic links of path, checking the owner of each, into
 * out. *follow is set when the last one is a link of /proc that open()
 * must follow itself. Returns 0, or -1 with the reason in why. */
static int resolve(const char *path, char *out, size_t size, int *follow,
                   char *why, size_t whysize) {
  char work[PATH_MAX], next[PATH_MAX], target[PATH_MAX];
  size_t done = 0; /* the prefix of work already checked */
  int links = 0;

  *follow = 0;
  if (snprintf(work, sizeof(work), "%s", path) >= (int)sizeof(work))
    goto too_long;
  for (;;) {
    size_t start = done, end;
    struct stat st;
    ssize_t n;

    while (work[start] == '/')
      start++;
    if (work[start] == '\0')
      break;
    end = start;
    while (work[end] != '\0' && work[end] != '/')
      end++;
    /* work[0, end) is the path up to this component. */
    memcpy(next, work, end);
    next[end] = '\0';
    if (lstat(next, &st) != 0 || !S_ISLNK(st.st_mode)) {
      /* Missing (the file to create) or not a link: open() says the
       * rest. */
      done = end;
      continue;
    }
    if (!trusted(st.st_uid)) {
      snprintf(why, whysize, "the symbolic link '%s' belongs to user %u: "
               "asyncleak follows only links of its own user or of root",
               next, (unsigned)st.st_uid);
      return -1;
    }
    if (on_proc(next)) {
      /* A link of /proc names no path. Its owner is checked, and open()
       * follows it, with what comes after it. */
      *follow = 1;
      break;
    }
    if (++links > MAX_LINKS) {
      snprintf(why, whysize, "%s", strerror(ELOOP));
      return -1;
    }
    n = readlink(next, target, sizeof(target) - 1);
    if (n < 0) {
      snprintf(why, whysize, "%s", strerror(errno));
      return -1;
    }
    target[n] = '\0';
    /* The link's target, then the rest of the path; a relative target
     * starts from the link's directory. */
    if (target[0] == '/') {
      if (snprintf(next, sizeof(next), "%s%s", target, work + end) >=
          (int)sizeof(next))
        goto too_long;
      done = 0;
    } else {
      if (snprintf(next, sizeof(next), "%.*s%s%s", (int)start, work, target,
                   work + end) >= (int)sizeof(next))
        goto too_long;
      done = start;
    }
    memcpy(work, next, sizeof(work));
  }
  if (snprintf(out, size, "%s", work) >= (int)size)
    goto too_long;
  return 0;

too_long:
  snprintf(why, whysize, "%s", strerror(ENAMETOOLONG));
  return -1;
}

/* protected_regular: an existing file of someone else's in a sticky
 * directory that others can write to (/tmp) may have been put there for
 * asyncleak to fill. */
static int planted(const char *path, const struct stat *st) {
  char dir[PATH_MAX];
  const char *slash = strrchr(path, '/');
  struct stat dst;

  if (!S_ISREG(st->st_mode) && !S_ISFIFO(st->st_mode))
    return 0;
  if (slash == NULL)
    snprintf(dir, sizeof(dir), ".");
  else
    snprintf(dir, sizeof(dir), "%.*s",
             slash == path ? 1 : (int)(slash - path), path);
  if (stat(dir, &dst) != 0)
    return 0;
  return (dst.st_mode & S_ISVTX) && (dst.st_mode & (S_IWGRP | S_IWOTH)) &&
         st->st_uid != geteuid() && st->st_uid != dst.st_uid;
}

int cli_output_open(const char *path, mode_t mode, int *created, char *why,
                    size_t whysize) {
  char real[PATH_MAX];
  int follow, fd;
  struct stat st, was;

  *created = 0;
  if (resolve(path, real, sizeof(real), &follow, why, whysize) != 0) {
    errno = EPERM;
    return -1;
  }
  /* Created anew, never through a link; else opened where resolve() found
   * it, and only there. */
  fd = open(real, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd >= 0) {
    *created = 1;
    return fd;
  }
  if (errno == EEXIST) {
    int nofollow = follow ? 0 : O_NOFOLLOW;

    if (!follow && lstat(real, &was) != 0)
      was.st_ino = 0;
    fd = open(real, O_WRONLY | O_CLOEXEC | O_NOCTTY | nofollow);
    if (fd >= 0 && fstat(fd, &st) == 0 && !follow &&
        (st.st_ino != was.st_ino || st.st_dev != was.st_dev ||
         planted(real, &st))) {
      close(fd);
      snprintf(why, whysize, "'%s' belongs to user %u, in a directory "
               "others can write to", real, (unsigned)st.st_uid);
      errno = EPERM;
      return -1;
    }
  }
  if (fd < 0)
    snprintf(why, whysize, "%s",
             errno == ELOOP ? "a symbolic link appeared in its place"
                            : strerror(errno));
  return fd;
}

/* ------------------------------------------------------------ the log */

static int log_failed;
static char log_path[PATH_MAX];

int cli_log_open(const char *path) {
  char why[PATH_MAX + 128];
  struct stat st;
  int created, fd = cli_output_open(path, 0644, &created, why, sizeof(why));

  if (fd >= 0 && !created && fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
      ftruncate(fd, 0) != 0) {
    snprintf(why, sizeof(why), "%s", strerror(errno));
    close(fd);
    fd = -1;
  }
  if (fd < 0) {
    cli_error("cannot open '%s': %s; the reports go to stderr", path, why);
    log_failed = 1;
    return -1;
  }
  snprintf(log_path, sizeof(log_path), "%s", path);
  cli_write_watch(fd);
  return fd;
}

int cli_log_close(int fd) {
  int err = cli_write_watch(-1);

  if (close(fd) != 0 && err == 0)
    err = errno;
  if (err != 0) {
    cli_error("cannot write the log file '%s': %s", log_path, strerror(err));
    log_failed = 1;
  }
  return err != 0 ? -1 : 0;
}

int cli_log_failed(void) {
  return log_failed;
}
