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

/* Whether the directory dir lies on /proc, whose links (/proc/self/fd/1)
 * stand for open files rather than names: only the kernel can follow
 * them. */
static int on_proc(int dir) {
  struct statfs fs;

  return fstatfs(dir, &fs) == 0 && fs.f_type == PROC_SUPER_MAGIC;
}

static int open_dir(int at, const char *name, int flags) {
  return openat(at, name, O_PATH | O_DIRECTORY | O_CLOEXEC | flags);
}

/* Walks path one component at a time, through descriptors: each
 * directory is opened from the one before without following a link, so
 * that no directory on the way can be swapped for a link between the
 * check and the use. A symbolic link met on the way is followed by hand,
 * once its owner is checked. Returns the descriptor of the directory that
 * holds the last component, which goes into last; *follow is set when
 * that is a link of /proc, which the open must follow itself. -1 with the
 * reason in why. */
static int walk(const char *path, char *last, size_t lastsize, int *follow,
                char *why, size_t whysize) {
  char work[PATH_MAX], next[PATH_MAX], target[PATH_MAX];
  const char *p = work;
  int dir, links = 0;

  *follow = 0;
  if (snprintf(work, sizeof(work), "%s", path) >= (int)sizeof(work))
    goto too_long;
  dir = open_dir(AT_FDCWD, work[0] == '/' ? "/" : ".", 0);
  if (dir < 0)
    goto failed;
  for (;;) {
    const char *end, *rest;
    struct stat st;
    char comp[NAME_MAX + 1];
    ssize_t n;
    int sub;

    while (*p == '/')
      p++;
    if (*p == '\0') {
      errno = EISDIR;
      goto failed_dir;
    }
    end = strchr(p, '/');
    if (end == NULL)
      end = p + strlen(p);
    if ((size_t)(end - p) > NAME_MAX)
      goto too_long_dir;
    memcpy(comp, p, (size_t)(end - p));
    comp[end - p] = '\0';
    rest = end;
    while (*rest == '/')
      rest++;
    if (fstatat(dir, comp, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
        S_ISLNK(st.st_mode)) {
      if (!trusted(st.st_uid)) {
        snprintf(why, whysize, "the symbolic link '%.*s' belongs to user "
                 "%u: asyncleak follows only links of its own user or of "
                 "root", (int)(end - work), work, (unsigned)st.st_uid);
        close(dir);
        return -1;
      }
      if (on_proc(dir)) {
        /* A link of /proc names no path: its owner is checked, and the
         * kernel follows it, with what comes after it. */
        if (*rest == '\0') {
          *follow = 1;
          break;
        }
        sub = open_dir(dir, comp, 0);
        if (sub < 0)
          goto failed_dir;
        close(dir);
        dir = sub;
        p = rest;
        continue;
      }
      if (++links > MAX_LINKS) {
        errno = ELOOP;
        goto failed_dir;
      }
      n = readlinkat(dir, comp, target, sizeof(target) - 1);
      if (n < 0)
        goto failed_dir;
      target[n] = '\0';
      /* The link's target, then the rest of the path; a relative target
       * starts from the link's directory, where dir stays. */
      if (snprintf(next, sizeof(next), "%s%s%s", target,
                   *end != '\0' ? "/" : "", rest) >= (int)sizeof(next))
        goto too_long_dir;
      memcpy(work, next, sizeof(work));
      p = work;
      if (target[0] == '/') {
        close(dir);
        dir = open_dir(AT_FDCWD, "/", 0);
        if (dir < 0)
          goto failed;
      }
      continue;
    }
    if (*end == '\0')
      break; /* the file itself, there or to create */
    /* A directory on the way, opened without following a link: one that
     * appeared since is refused (ENOTDIR or ELOOP). */
    sub = open_dir(dir, comp, O_NOFOLLOW);
    if (sub < 0) {
      if (errno == ELOOP || errno == ENOTDIR) {
        if (fstatat(dir, comp, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
            S_ISLNK(st.st_mode)) {
          snprintf(why, whysize, "a symbolic link appeared at '%.*s'",
                   (int)(end - work), work);
          close(dir);
          return -1;
        }
      }
      goto failed_dir;
    }
    close(dir);
    dir = sub;
    p = rest;
  }
  if (snprintf(last, lastsize, "%.*s", (int)strcspn(p, "/"), p) >=
      (int)lastsize)
    goto too_long_dir;
  return dir;

too_long_dir:
  close(dir);
too_long:
  snprintf(why, whysize, "%s", strerror(ENAMETOOLONG));
  return -1;
failed_dir:
  {
    int err = errno;
    close(dir);
    errno = err;
  }
failed:
  snprintf(why, whysize, "%s", strerror(errno));
  return -1;
}

/* protected_regular: an existing file of someone else's in a sticky
 * directory that others can write to (/tmp) may have been put there for
 * asyncleak to fill. */
static int planted(int dir, const struct stat *st) {
  struct stat dst;

  if (!S_ISREG(st->st_mode) && !S_ISFIFO(st->st_mode))
    return 0;
  if (fstat(dir, &dst) != 0)
    return 0;
  return (dst.st_mode & S_ISVTX) && (dst.st_mode & (S_IWGRP | S_IWOTH)) &&
         st->st_uid != geteuid() && st->st_uid != dst.st_uid;
}

int cli_output_open(const char *path, mode_t mode, struct cli_outfile *out,
                    char *why, size_t whysize) {
  int follow, fd;
  struct stat st, was;

  out->created = 0;
  out->dir = walk(path, out->name, sizeof(out->name), &follow, why,
                  whysize);
  if (out->dir < 0) {
    if (errno == 0)
      errno = EPERM;
    return -1;
  }
  if (follow) {
    fd = openat(out->dir, out->name, O_WRONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
      snprintf(why, whysize, "%s", strerror(errno));
    return fd;
  }
  /* Created anew, never through a link; else opened where the walk found
   * it, and only there. */
  fd = openat(out->dir, out->name,
              O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
  if (fd >= 0) {
    out->created = 1;
    return fd;
  }
  if (errno == EEXIST) {
    if (fstatat(out->dir, out->name, &was, AT_SYMLINK_NOFOLLOW) != 0)
      was.st_ino = 0;
    fd = openat(out->dir, out->name,
                O_WRONLY | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW);
    if (fd >= 0 && fstat(fd, &st) == 0 &&
        (st.st_ino != was.st_ino || st.st_dev != was.st_dev ||
         planted(out->dir, &st))) {
      close(fd);
      snprintf(why, whysize, "'%s' belongs to user %u, in a directory "
               "others can write to", path, (unsigned)st.st_uid);
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

void cli_output_remove(struct cli_outfile *out) {
  if (out->dir >= 0 && out->created)
    unlinkat(out->dir, out->name, 0);
  out->created = 0;
}

void cli_output_release(struct cli_outfile *out) {
  if (out->dir >= 0)
    close(out->dir);
  out->dir = -1;
}

/* ------------------------------------------------------------ the log */

static int log_failed;
static char log_path[PATH_MAX];

int cli_log_open(const char *path) {
  char why[PATH_MAX + 128];
  struct cli_outfile where;
  struct stat st;
  int fd = cli_output_open(path, 0644, &where, why, sizeof(why));

  cli_output_release(&where);
  if (fd >= 0 && !where.created && fstat(fd, &st) == 0 &&
      S_ISREG(st.st_mode) &&
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
