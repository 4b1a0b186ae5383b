/* The report file: the one file through which a process tells the
 * asyncleak command what it is, what it uses and, at exit, its report.
 *
 * It is created when the runtime starts in the process, not when the
 * process ends: by then the program may have changed user, lowered its
 * limit on open files, installed a seccomp filter, entered a chroot or
 * closed its descriptors, and a report opened by name at exit would be
 * lost. The descriptor is kept for the life of the process, at a high
 * number so that the program's own numbers do not shift.
 *
 * Everything here may run in a fork child, in a copy of the process made
 * to write its report (lib/ending.c), or in a signal handler: system calls
 * only, and no locks. The format is private between the runtime and the
 * command; docs/report-format.md describes it. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "internal.h"

/* Names tried when a fresh process meets a file of its own name: another
 * process of the same pid and start time (a pid reused within one clock
 * tick, or /proc unreadable), or its own earlier image's finished file. */
enum { MAX_SUFFIX = 64 };
/* The fd is moved to the first free number from the top of what the
 * program is likely to use less ROOM (lib/fds.c). */
enum { FD_ROOM = 24 };

static atomic_int file_fd = -1;
static dev_t file_dev;
static ino_t file_ino;
/* The process the file is for; any other (a vfork child sharing this
 * memory, a process made with clone() behind libc's back) writes nothing. */
static pid_t file_owner;
static char file_name[64];
/* Why there is no file, for the warning at exit; 0 when there is one. */
static int file_errno;

/* Appends s to buf of size, always terminated; returns the new length. */
static size_t put_str(char *buf, size_t used, size_t size, const char *s) {
  while (*s != '\0' && used + 1 < size)
    buf[used++] = *s++;
  buf[used] = '\0';
  return used;
}

/* Field 22 of /proc/<pid>/stat (pid 0: this process), the process's start
 * time in clock ticks after boot: exec keeps it, a new process with a
 * reused pid differs. 0 when /proc cannot be read. */
static unsigned long long start_time(pid_t pid) {
  /* Field 22 comes before the 512th byte: the name is at most 16 bytes,
   * and fields 3 to 21 are numbers of at most 20 digits. */
  char buf[512], path[48] = "/proc/self/stat";
  const char *p;
  ssize_t n;
  int fd;

  if (pid > 0) {
    size_t len = put_str(path, 0, sizeof(path), "/proc/");
    len += al_put_ulong(path + len, (unsigned long long)pid);
    put_str(path, len, sizeof(path), "/stat");
  }
  fd = open(path, O_RDONLY | O_CLOEXEC);

  if (fd < 0)
    return 0;
  n = read(fd, buf, sizeof(buf) - 1);
  close(fd);
  if (n <= 0)
    return 0;
  buf[n] = '\0';
  /* The command's name may hold anything: fields count from the last ')',
   * which ends field 2. */
  p = strrchr(buf, ')');
  for (int field = 2; p != NULL && field < 22; field++) {
    p = strchr(p + 1, ' ');
  }
  if (p == NULL || p[1] < '0' || p[1] > '9')
    return 0;
  unsigned long long t = 0;
  for (p++; *p >= '0' && *p <= '9'; p++)
    t = t * 10 + (unsigned long long)(*p - '0');
  return t;
}

/* The report directory, opened and checked: it must be a directory of
 * this user or root that nobody else may write to (the command makes it
 * 0700). -1 with errno set otherwise; a refused place is said. */
static int open_dir(int warn) {
  struct stat st;
  int fd = open(al_opt.report_dir,
                O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

  if (fd < 0)
    return -1;
  if (fstat(fd, &st) != 0) {
    int saved = errno;
    close(fd);
    errno = saved;
    return -1;
  }
  if ((st.st_uid != geteuid() && st.st_uid != 0) ||
      (st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
    if (warn)
      al_warn("refusing the report directory '%s': %s", al_opt.report_dir,
              (st.st_mode & (S_IWGRP | S_IWOTH)) != 0
                  ? "others may write to it"
                  : "it belongs to another user");
    close(fd);
    errno = EPERM;
    return -1;
  }
  return fd;
}

int al_reportfile_finished(int fd) {
  char buf[256];
  off_t at = 0;
  /* Inside a line longer than buf: what follows is not a line's start. */
  int within = 0;

  for (;;) {
    ssize_t n = pread(fd, buf, sizeof(buf) - 1, at);
    char *nl;

    if (n <= 0)
      return 0;
    buf[n] = '\0';
    nl = memchr(buf, '\n', (size_t)n);
    if (nl == NULL) {
      /* A block's head is short: one this long is no head. */
      if (!within && buf[0] == '@')
        return 0;
      within = 1;
      at += n;
      continue;
    }
    if (!within && buf[0] == '@') {
      const char *len = strchr(buf, ' ');
      unsigned long long skip = 0;

      if (len == NULL || len > nl)
        return 0;
      if (!strncmp(buf, "@sum ", 5))
        return 1;
      for (len++; *len >= '0' && *len <= '9'; len++)
        skip = skip * 10 + (unsigned long long)(*len - '0');
      /* The block, and the newline after it. */
      at += (off_t)skip + 1;
    }
    within = 0;
    at += nl - buf + 1;
  }
}

/* Opens name in dir for this process: a new file, or, for a new image of
 * a process that has one, that file unless its report is finished. */
static int open_file(int dir, const char *name, int fresh, int *created) {
  int fd = openat(dir, name,
                  O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_APPEND |
                      O_CLOEXEC,
                  0600);
  struct stat st;

  *created = fd >= 0;
  if (fd >= 0 || errno != EEXIST || fresh)
    return fd;
  fd = openat(dir, name,
              O_RDWR | O_APPEND | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0)
    return -1;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_nlink != 1 ||
      al_reportfile_finished(fd)) {
    close(fd);
    errno = EEXIST;
    return -1;
  }
  return fd;
}

/* The executable's path, read as the file is made. Not on the stack:
 * this runs in fork children, which may be made from a signal handler
 * on a small alternate stack. Only one thread runs here at a time: the
 * runtime's start, or a fork child's only one. */
static char exe[1024];

/* Writes the lines that start a process's part of the file. */
static void start_lines(int fd, pid_t forked_from, int created) {
  ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
  char head[96];
  size_t used = 0;
  struct iovec iov[3];

  exe[n > 0 ? n : 0] = '\0';
  head[0] = '\0';
  if (created) {
    used = put_str(head, used, sizeof(head), "pid=");
    used += al_put_ulong(head + used, (unsigned long long)getpid());
    used = put_str(head, used, sizeof(head), "\nppid=");
    used += al_put_ulong(head + used, (unsigned long long)getppid());
    used = put_str(head, used, sizeof(head), "\nforked=");
    used += al_put_ulong(head + used, (unsigned long long)forked_from);
    used = put_str(head, used, sizeof(head), "\n");
  }
  used = put_str(head, used, sizeof(head), "exe=");
  for (char *c = exe; *c != '\0'; c++)
    if (*c == '\n')
      *c = ' ';
  iov[0] = (struct iovec){head, used};
  iov[1] = (struct iovec){exe, strlen(exe)};
  iov[2] = (struct iovec){"\n", 1};
  al_writev_all(fd, iov, 3, 1);
}

/* A fork child that cannot make its own file (its parent changed user or
 * root directory before forking) says so through its parent's, the
 * descriptor old, with why (err), before it lets go of it: otherwise the
 * command would know of it only that it made no file, and could not tell
 * that it ran on with its parent's loop library. One write(); strerrordesc_np
 * reads no locale, and is safe here. */
static void say_no_file(int old, int err) {
  char line[160];
  const char *why = strerrordesc_np(err);
  size_t n = put_str(line, 0, sizeof(line) - 1, "child_error=");

  n += al_put_ulong(line + n, (unsigned long long)getpid());
  line[n++] = '-';
  n += al_put_ulong(line + n, start_time(0));
  line[n++] = ' ';
  n = put_str(line, n, sizeof(line) - 1, why != NULL ? why : "error");
  line[n++] = '\n';
  if (write(old, line, n) < 0) {
    /* The parent's file is all there is: nothing more to try. */
  }
}

void al_reportfile_start(pid_t forked_from) {
  unsigned long long start;
  int saved = errno, dir, fd = -1, created = 0, old;
  char name[sizeof(file_name)];
  struct stat st;

  /* What the parent held is the parent's: a fork child gets its own. The
   * number stays if it can, so a child sees the fds its parent saw; but
   * only if it is still the runtime's, not a file the program put there. */
  old = atomic_exchange(&file_fd, -1);
  if (old >= 0 && (fstat(old, &st) != 0 || st.st_dev != file_dev ||
                   st.st_ino != file_ino))
    old = -1;
  file_owner = getpid();
  file_name[0] = '\0';
  file_errno = 0;
  if (al_opt.report_dir[0] == '\0') {
    if (old >= 0)
      close(old);
    return;
  }
  dir = open_dir(forked_from == 0);
  if (dir < 0) {
    file_errno = errno;
    if (old >= 0) {
      say_no_file(old, file_errno);
      close(old);
    }
    errno = saved;
    return;
  }
  start = start_time(0);
  for (unsigned k = 0; fd < 0 && k < MAX_SUFFIX; k++) {
    size_t n = al_put_ulong(name, (unsigned long long)getpid());

    name[n++] = '-';
    n += al_put_ulong(name + n, start);
    if (k > 0) {
      name[n++] = '-';
      n += al_put_ulong(name + n, k);
    }
    put_str(name, n, sizeof(name), ".report");
    /* Only a new image of a process may find its file already there,
     * under the first name not taken by a finished report. */
    fd = open_file(dir, name, forked_from != 0, &created);
    if (fd < 0 && errno != EEXIST)
      break;
  }
  if (fd < 0) {
    file_errno = errno;
    close(dir);
    if (old >= 0) {
      say_no_file(old, file_errno);
      close(old);
    }
    errno = saved;
    return;
  }
  close(dir);
  if (old >= 0 && dup3(fd, old, O_CLOEXEC) == old) {
    close(fd);
    fd = old;
  } else {
    if (old >= 0)
      close(old);
    fd = al_fd_move_high(fd, FD_ROOM);
  }
  if (fstat(fd, &st) == 0) {
    file_dev = st.st_dev;
    file_ino = st.st_ino;
  }
  memcpy(file_name, name, sizeof(name));
  atomic_store(&file_fd, fd);
  start_lines(fd, forked_from, created);
  errno = saved;
}

/* Opens the file again by its name, when the program closed the
 * descriptor or put another file at its number: only the same file. */
static int reopen(int stale) {
  struct stat st;
  int dir = open_dir(0), fd;

  if (dir < 0)
    return -1;
  fd = openat(dir, file_name,
              O_WRONLY | O_APPEND | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  close(dir);
  if (fd < 0)
    return -1;
  if (fstat(fd, &st) != 0 || st.st_dev != file_dev ||
      st.st_ino != file_ino) {
    close(fd);
    errno = ENOENT;
    return -1;
  }
  fd = al_fd_move_high(fd, FD_ROOM);
  /* Another thread may have done the same: one of them wins. */
  if (!atomic_compare_exchange_strong(&file_fd, &stale, fd)) {
    close(fd);
    fd = stale;
  }
  return fd;
}

/* The descriptor of this process's file, checked: -1, errno set, when
 * there is none. */
static int current_fd(void) {
  int fd = atomic_load(&file_fd);
  struct stat st;

  /* Under a seccomp filter that may kill, the file is closed to the
   * runtime: not even fstat() or getpid() (lib/seccomp.c). */
  if (al_ending_sealed()) {
    errno = EPERM;
    return -1;
  }
  if (al_pid() != file_owner) {
    errno = ESRCH;
    return -1;
  }
  if (fd < 0 || file_name[0] == '\0') {
    errno = file_errno != 0 ? file_errno : ENOENT;
    return -1;
  }
  /* Still the file, and still in the directory: a file the user removed
   * (with the directory kept for a daemon) would swallow the report. */
  if (fstat(fd, &st) == 0 && st.st_dev == file_dev &&
      st.st_ino == file_ino && st.st_nlink > 0)
    return fd;
  return reopen(fd);
}

int al_reportfile_fd(void) {
  return atomic_load(&file_fd);
}

int al_reportfile_ready(void) {
  return al_opt.report_dir[0] != '\0';
}

const char *al_reportfile_name(void) {
  return file_name[0] != '\0' ? file_name : NULL;
}

int al_reportfile_put(const char *text, size_t len) {
  struct iovec iov = {(void *)text, len};

  return al_reportfile_putv(&iov, 1);
}

int al_reportfile_putv(const struct iovec *iov, int n) {
  int fd = current_fd();

  return fd < 0 ? -1 : al_writev_all(fd, iov, n, 1);
}

int al_reportfile_block(const char *kind, const char *data, size_t len) {
  char head[48];
  size_t n = put_str(head, 0, sizeof(head), "@");
  struct iovec iov[3];
  int fd = current_fd();

  if (fd < 0)
    return -1;
  n = put_str(head, n, sizeof(head), kind);
  head[n++] = ' ';
  n += al_put_ulong(head + n, len);
  head[n++] = '\n';
  iov[0] = (struct iovec){head, n};
  iov[1] = (struct iovec){(void *)data, len};
  /* A block always ends a line, so that lines written after it by
   * another thread start on their own. */
  iov[2] = (struct iovec){"\n", 1};
  return al_writev_all(fd, iov, 3, 1);
}

void al_reportfile_line(const char *key, const char *value) {
  char line[1200];
  size_t n;
  int saved = errno;

  if (!al_reportfile_ready())
    return;
  n = put_str(line, 0, sizeof(line) - 1, key);
  n = put_str(line, n, sizeof(line) - 1, "=");
  for (const char *v = value; *v != '\0' && n < sizeof(line) - 2; v++)
    line[n++] = *v == '\n' ? ' ' : *v;
  line[n++] = '\n';
  al_reportfile_put(line, n);
  errno = saved;
}

void al_reportfile_uses(const char *library) {
  al_reportfile_line("uses", library);
}

void al_reportfile_line_n(const char *key, const char *before,
                          unsigned long long n, const char *after) {
  char text[256], num[24];
  size_t used = put_str(text, 0, sizeof(text), before);

  al_put_ulong(num, n);
  used = put_str(text, used, sizeof(text), num);
  put_str(text, used, sizeof(text), after);
  al_reportfile_line(key, text);
}

void al_reportfile_error_n(const char *before, unsigned long long n,
                           const char *after) {
  al_reportfile_line_n("error", before, n, after);
}

void al_reportfile_claim(void) {
  if (getpid() != file_owner && al_pid() == getpid())
    al_reportfile_start(getppid());
}

int al_reportfile_errno(void) {
  return file_errno;
}

/* Whether this process's children are born into another pid namespace
 * (after unshare(CLONE_NEWPID)): such a child names its file by the pid
 * it has there, which is not the one fork() returned. */
static int children_elsewhere(void) {
  char own[64], children[64];
  ssize_t a = readlink("/proc/self/ns/pid", own, sizeof(own));
  ssize_t b = readlink("/proc/self/ns/pid_for_children", children,
                       sizeof(children));

  return a > 0 && b > 0 && (a != b || memcmp(own, children, (size_t)a));
}

void al_reportfile_child(pid_t pid, const char *exec, int untraced) {
  char head[80];
  struct iovec iov[3];
  size_t n;
  int saved = errno;

  /* Sealed, not even the reads of /proc below (lib/seccomp.c). */
  if (!al_reportfile_ready() || pid <= 0 || al_ending_sealed() ||
      children_elsewhere()) {
    errno = saved;
    return;
  }
  n = put_str(head, 0, sizeof(head), untraced ? "child_untraced=" : "child=");
  n += al_put_ulong(head + n, (unsigned long long)pid);
  head[n++] = '-';
  /* The child's identity, as in the name of the file it makes: the
   * command tells it from a later process given the same pid. */
  n += al_put_ulong(head + n, start_time(pid));
  iov[0] = (struct iovec){head, n};
  /* The program it runs, from al_exec_path(), which leaves no newline. */
  if (exec != NULL) {
    head[n++] = ' ';
    iov[0].iov_len = n;
    iov[1] = (struct iovec){(void *)exec, strcspn(exec, "\n")};
  } else {
    iov[1] = (struct iovec){NULL, 0};
  }
  iov[2] = (struct iovec){"\n", 1};
  al_reportfile_putv(iov, 3);
  errno = saved;
}
