/* The private directory where the runtime of each process of the run leaves
 * its report.
 *
 * asyncleak may run as root, and TMPDIR may be a place other users can
 * write to. Were the directory renamed away by one of them and a symbolic
 * link put in its place, root would read the reports from the link's
 * target and then delete every file in it. So TMPDIR must be safe (no
 * other user can rename what is in it), and the directory is used only
 * through a descriptor held from its creation: the reports are read
 * through it, its files removed through it, and the directory itself
 * removed by name only when the name still leads to it. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

/* The directory, open since it was made, and what it was then. */
static int held = -1;
static struct stat held_st;
static char held_path[PATH_MAX];

/* Whether a directory on the way to the reports is safe: only its user,
 * the user running asyncleak or root, can rename what is in it, unless
 * it is sticky, where each can rename only their own. */
static int unsafe(const struct stat *st) {
  return (st->st_uid != 0 && st->st_uid != geteuid()) ||
         ((st->st_mode & (S_IWGRP | S_IWOTH)) && !(st->st_mode & S_ISVTX));
}

/* Checks tmp and each directory above it; resolves it into real. Returns
 * 0, or the exit status after saying what is wrong. */
static int check_tmp(const char *tmp, char *real) {
  struct stat st;
  size_t len;

  if (realpath(tmp, real) == NULL) {
    cli_error("cannot create a report directory in '%s': %s", tmp,
              strerror(errno));
    return CLI_EXIT_FAILURE;
  }
  len = strlen(real);
  for (size_t end = len;;) {
    const char *place = end == 0 ? "/" : real;
    char c = real[end];

    real[end] = '\0';
    if (stat(place, &st) != 0) {
      cli_error("cannot create a report directory in '%s': %s", tmp,
                strerror(errno));
      return CLI_EXIT_FAILURE;
    }
    if (unsafe(&st)) {
      cli_error("TMPDIR '%s' is not safe for the reports: '%s' %s; set "
                "TMPDIR to a directory of your own", tmp, place,
                st.st_uid != 0 && st.st_uid != geteuid()
                    ? "belongs to another user"
                    : "can be written by others and is not sticky");
      return CLI_EXIT_FAILURE;
    }
    real[end] = c;
    if (end == 0)
      break;
    while (end > 0 && real[--end] != '/')
      ;
  }
  return 0;
}

int cli_reportdir_create(char *dir, size_t size) {
  const char *tmp = getenv("TMPDIR");
  char real[PATH_MAX];
  struct stat st;
  int rc, fd;

  /* The path goes into ASYNCLEAK_OPTIONS between single quotes, and the
   * program may change directory before it writes there: only an absolute
   * path without quotes will do. */
  if (tmp == NULL || tmp[0] != '/' || strpbrk(tmp, "'\"") != NULL)
    tmp = "/tmp";
  if ((rc = check_tmp(tmp, real)) != 0)
    return rc;
  if (strpbrk(real, "'\"") != NULL ||
      (size_t)snprintf(dir, size, "%s/asyncleak.XXXXXX",
                       strcmp(real, "/") == 0 ? "" : real) >= size) {
    cli_error("cannot create a report directory in '%s': %s", tmp,
              strerror(ENAMETOOLONG));
    return CLI_EXIT_FAILURE;
  }
  /* mkdtemp() creates it with mode 0700. */
  if (mkdtemp(dir) == NULL) {
    cli_error("cannot create a report directory in '%s': %s", tmp,
              strerror(errno));
    return CLI_EXIT_FAILURE;
  }
  /* The directory just made, and no other: what the name leads to now,
   * without following a link, is opened the same way and must be it. */
  fd = -1;
  if (lstat(dir, &st) == 0 && S_ISDIR(st.st_mode) &&
      st.st_uid == geteuid() && (st.st_mode & 07777) == 0700)
    fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0 || fstat(fd, &held_st) != 0 || held_st.st_dev != st.st_dev ||
      held_st.st_ino != st.st_ino) {
    cli_error("the report directory '%s' was replaced as it was made", dir);
    if (fd >= 0)
      close(fd);
    return CLI_EXIT_FAILURE;
  }
  held = fd;
  snprintf(held_path, sizeof(held_path), "%s", dir);
  return 0;
}

int cli_reportdir_held(void) {
  return held;
}

int cli_reportdir_fd(const char *dir) {
  int fd;

  if (held < 0 || strcmp(dir, held_path) != 0)
    return open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  fd = fcntl(held, F_DUPFD_CLOEXEC, 0);
  /* A duplicate shares the offset of its directory stream. */
  if (fd >= 0)
    lseek(fd, 0, SEEK_SET);
  return fd;
}

DIR *cli_reportdir_open(const char *dir) {
  int fd = cli_reportdir_fd(dir);
  DIR *d = fd >= 0 ? fdopendir(fd) : NULL;

  if (d == NULL && fd >= 0) {
    int err = errno;
    close(fd);
    errno = err;
  }
  return d;
}

void cli_reportdir_remove(const char *dir) {
  DIR *d = cli_reportdir_open(dir);
  struct dirent *e;
  struct stat st;

  if (d != NULL) {
    while ((e = readdir(d)) != NULL)
      if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
        unlinkat(dirfd(d), e->d_name, 0);
    closedir(d);
  }
  /* By name, the only way, and only while the name leads to it. */
  if (held >= 0 && strcmp(dir, held_path) == 0 &&
      (lstat(dir, &st) != 0 || st.st_dev != held_st.st_dev ||
       st.st_ino != held_st.st_ino)) {
    cli_warning("'%s' is no longer the report directory; it is left alone",
                dir);
    return;
  }
  /* A process that outlived the program may still be writing here. */
  if (rmdir(dir) != 0)
    cli_warning("cannot remove '%s': %s", dir, strerror(errno));
}
