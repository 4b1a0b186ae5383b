/* The programs a process executes, noted in its report file before the
 * exec: the new image may be unable to reach the report directory (the
 * process changed user, as inetd does before it runs a service), and the
 * command then still knows what ran in the process, and whether that
 * program could have used a loop library.
 *
 * glibc's exec functions call execve() inside libc, where no interposer
 * sees it: each is interposed. The real function does the work; these
 * only note the path first, and "exec_failed=" when it returns. They may
 * run in a vfork child or a signal handler: system calls only, and the
 * report file writes nothing for a process that is not its owner. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

extern char **environ;

typedef int execve_fn(const char *, char *const[], char *const[]);
typedef int execv_fn(const char *, char *const[]);
typedef int fexecve_fn(int, char *const[], char *const[]);

/* Appends s to out at *n, keeping room for a newline and a NUL. */
static void add(char *out, size_t *n, size_t size, const char *s,
                size_t len) {
  if (len > size - 2 - *n)
    len = size - 2 - *n;
  memcpy(out + *n, s, len);
  *n += len;
  out[*n] = '\0';
}

/* path, made absolute, into out: its length. */
static size_t absolute(const char *path, char *out, size_t size) {
  size_t n = 0;

  out[0] = '\0';
  if (path[0] != '/') {
    char cwd[PATH_MAX];

    if (getcwd(cwd, sizeof(cwd)) != NULL) {
      add(out, &n, size, cwd, strlen(cwd));
      add(out, &n, size, "/", 1);
    }
  }
  add(out, &n, size, path, strlen(path));
  return n;
}

/* The file execvp() would run: file itself when it holds a slash, else
 * the first executable of that name along PATH. */
static const char *search(const char *file, char *path, size_t size) {
  const char *dirs = getenv("PATH");

  if (strchr(file, '/') != NULL || file[0] == '\0')
    return file;
  if (dirs == NULL)
    dirs = "/bin:/usr/bin";
  while (*dirs != '\0') {
    size_t len = strcspn(dirs, ":"), flen = strlen(file);

    if (len + flen + 2 <= size) {
      memcpy(path, len > 0 ? dirs : ".", len > 0 ? len : 1);
      len = len > 0 ? len : 1;
      path[len] = '/';
      memcpy(path + len + 1, file, flen + 1);
      if (access(path, X_OK) == 0)
        return path;
    }
    dirs += strcspn(dirs, ":");
    if (*dirs == ':')
      dirs++;
  }
  return file;
}

const char *al_exec_path(const char *file, int search_path, char *out,
                         size_t size) {
  char found[PATH_MAX];

  if (file == NULL || size < 2)
    return NULL;
  if (search_path)
    file = search(file, found, sizeof(found));
  /* The command reads the file later, as another process: this one's
   * own program is named by its path. */
  if (!strcmp(file, "/proc/self/exe")) {
    ssize_t n = readlink(file, found, sizeof(found) - 1);

    if (n > 0) {
      found[n] = '\0';
      file = found;
    }
  }
  absolute(file, out, size);
  return out;
}

/* Notes file, found as execvp() would when search_path is set, as what
 * the process executes. */
static void note_exec(const char *file, int search_path) {
  char line[PATH_MAX + 64];
  size_t n = 0;
  int saved = errno;

  if (!al_reportfile_ready() || file == NULL)
    return;
  if (al_opt.trace_children)
    add(line, &n, sizeof(line), "exec=", 5);
  else
    add(line, &n, sizeof(line), "exec_untraced=", 14);
  al_exec_path(file, search_path, line + n, sizeof(line) - n);
  n += strlen(line + n);
  for (size_t i = 0; i < n; i++)
    if (line[i] == '\n')
      line[i] = ' ';
  line[n++] = '\n';
  al_reportfile_put(line, n);
  errno = saved;
}

/* What the process is told when the exec failed: it runs on. */
static void note_failed(void) {
  int saved = errno;

  al_reportfile_line_n("exec_failed", "", (unsigned long long)saved, "");
  errno = saved;
}

static void *real(const char *name) {
  return dlsym(RTLD_NEXT, name);
}

AL_EXPORT int execve(const char *path, char *const argv[],
                     char *const envp[]) {
  static execve_fn *fn;

  if (fn == NULL)
    fn = (execve_fn *)real("execve");
  if (fn == NULL) {
    errno = ENOSYS;
    return -1;
  }
  note_exec(path, 0);
  fn(path, argv, envp);
  note_failed();
  return -1;
}

AL_EXPORT int execv(const char *path, char *const argv[]) {
  return execve(path, argv, environ);
}

/* The p functions search PATH, as glibc's own, which then calls its
 * internal execve: the file is noted from the same search. */
AL_EXPORT int execvpe(const char *file, char *const argv[],
                      char *const envp[]) {
  static execve_fn *fn;

  if (fn == NULL)
    fn = (execve_fn *)real("execvpe");
  if (fn == NULL) {
    errno = ENOSYS;
    return -1;
  }
  note_exec(file, 1);
  fn(file, argv, envp);
  note_failed();
  return -1;
}

AL_EXPORT int execvp(const char *file, char *const argv[]) {
  return execvpe(file, argv, environ);
}

AL_EXPORT int fexecve(int fd, char *const argv[], char *const envp[]) {
  static fexecve_fn *fn;
  char link[32] = "/proc/self/fd/", path[PATH_MAX];
  size_t n = strlen(link);
  ssize_t len;
  int saved = errno;

  if (fn == NULL)
    fn = (fexecve_fn *)real("fexecve");
  if (fn == NULL) {
    errno = ENOSYS;
    return -1;
  }
  /* The fd's number, then what it is: the command reads that file. */
  char digits[12];
  size_t k = 0;
  unsigned v = fd >= 0 ? (unsigned)fd : 0;
  do
    digits[k++] = (char)('0' + v % 10);
  while ((v /= 10) != 0);
  while (k > 0)
    link[n++] = digits[--k];
  link[n] = '\0';
  len = readlink(link, path, sizeof(path) - 1);
  if (len > 0) {
    path[len] = '\0';
    note_exec(path, 0);
  }
  errno = saved;
  fn(fd, argv, envp);
  note_failed();
  return -1;
}

/* The list functions: their arguments, up to the NULL, as an array. */
#define ARGS_FROM_LIST(first, argv, ap, then)                                \
  size_t count = 1;                                                          \
  va_list ap;                                                                \
  va_start(ap, first);                                                       \
  while (va_arg(ap, const char *) != NULL)                                   \
    count++;                                                                 \
  va_end(ap);                                                                \
  const char *argv[count + 1];                                               \
  argv[0] = first;                                                           \
  va_start(ap, first);                                                       \
  for (size_t i = 1; i <= count; i++)                                        \
    argv[i] = va_arg(ap, const char *);                                      \
  then;                                                                      \
  va_end(ap)

AL_EXPORT int execl(const char *path, const char *arg, ...) {
  ARGS_FROM_LIST(arg, argv, ap, (void)0);
  return execve(path, (char *const *)argv, environ);
}

AL_EXPORT int execlp(const char *file, const char *arg, ...) {
  ARGS_FROM_LIST(arg, argv, ap, (void)0);
  return execvpe(file, (char *const *)argv, environ);
}

AL_EXPORT int execle(const char *path, const char *arg, ...) {
  char *const *envp;

  ARGS_FROM_LIST(arg, argv, ap, envp = va_arg(ap, char *const *));
  return execve(path, (char *const *)argv, envp);
}
