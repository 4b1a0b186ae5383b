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
#include <sys/mman.h>
#include <sys/uio.h>
#include <unistd.h>

#include "internal.h"

extern char **environ;

typedef int execve_fn(const char *, char *const[], char *const[]);
typedef int fexecve_fn(int, char *const[], char *const[]);

static execve_fn *real_execve, *real_execvpe;
static fexecve_fn *real_fexecve;

/* Resolved before main: dlsym() is no call for a vfork child or a signal
 * handler. A wrapper called earlier, from another library's constructor,
 * resolves them itself. */
__attribute__((constructor)) static void exec_init(void) {
  real_execve = (execve_fn *)dlsym(RTLD_NEXT, "execve");
  real_execvpe = (execve_fn *)dlsym(RTLD_NEXT, "execvpe");
  real_fexecve = (fexecve_fn *)dlsym(RTLD_NEXT, "fexecve");
}

/* Copies s into out of size, cut short if need be: its length. */
static size_t copy(char *out, size_t size, const char *s) {
  size_t len = strnlen(s, size - 1);

  memcpy(out, s, len);
  out[len] = '\0';
  return len;
}

/* The file execvp() would run, into out: the first executable of that
 * name along PATH. 0 when there is none: file is run as it is. */
static int search(const char *file, char *out, size_t size) {
  const char *dirs = getenv("PATH");
  size_t flen = strlen(file);

  if (dirs == NULL)
    dirs = "/bin:/usr/bin";
  while (*dirs != '\0') {
    size_t len = strcspn(dirs, ":");

    if ((len > 0 ? len : 1) + flen + 2 <= size) {
      memcpy(out, len > 0 ? dirs : ".", len > 0 ? len : 1);
      len = len > 0 ? len : 1;
      out[len] = '/';
      memcpy(out + len + 1, file, flen + 1);
      if (access(out, X_OK) == 0)
        return 1;
    }
    dirs += strcspn(dirs, ":");
    if (*dirs == ':')
      dirs++;
  }
  return 0;
}

/* out, a path of len bytes, made absolute in place: the directory is put
 * in front, the path moved to the end of out for the while. One buffer,
 * for these run on whatever stack the program has (an 8 KiB alternate
 * signal stack). Left relative when the directory cannot be had. */
static void make_absolute(char *out, size_t size, size_t len) {
  char *tail;
  size_t dir;

  if (out[0] == '/' || len + 2 >= size)
    return;
  tail = out + size - len - 1;
  memmove(tail, out, len + 1);
  if (getcwd(out, size - len - 2) == NULL) {
    memmove(out, tail, len + 1);
    return;
  }
  dir = strlen(out);
  out[dir++] = '/';
  memmove(out + dir, tail, len + 1);
}

const char *al_exec_path(const char *file, int search_path, char *out,
                         size_t size) {
  size_t len;

  if (file == NULL || size < 2)
    return NULL;
  if (search_path && strchr(file, '/') == NULL && file[0] != '\0' &&
      search(file, out, size))
    len = strlen(out);
  else
    len = copy(out, size, file);
  /* The command reads the file later, as another process: this one's
   * own program, or the file behind one of its descriptors (fexecve), is
   * named by its path. */
  if (!strcmp(out, "/proc/self/exe") ||
      !strncmp(out, "/proc/self/fd/", 14)) {
    ssize_t n = readlink(file, out, size - 1);

    len = n > 0 ? (size_t)n : copy(out, size, file);
    out[len] = '\0';
  }
  make_absolute(out, size, len);
  /* A line of the report file holds no newline. */
  for (char *c = out; *c != '\0'; c++)
    if (*c == '\n')
      *c = ' ';
  return out;
}

/* Room for a path, out of the stack: these run wherever the program calls
 * them, in a signal handler on an 8 KiB alternate stack too, where the
 * kernel's signal frame alone may take 3 KiB. mmap() is safe there, and
 * in a fork child; the pages are the process's own in a vfork child,
 * which gives them back before its exec. NULL when there is no memory. */
char *al_exec_path_map(const char *file, int search_path) {
  char *out;

  if (file == NULL)
    return NULL;
  out = mmap(NULL, PATH_MAX, PROT_READ | PROT_WRITE,
             MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (out == MAP_FAILED)
    return NULL;
  al_exec_path(file, search_path, out, PATH_MAX);
  return out;
}

void al_exec_path_unmap(char *path) {
  if (path != NULL)
    munmap(path, PATH_MAX);
}

/* Notes path, which holds no newline, as what the process executes. */
static void note(const char *path) {
  unsigned long long findings = al_findings_made();
  struct iovec iov[3];

  if (al_opt.trace_children)
    iov[0] = (struct iovec){"exec=", 5};
  else
    iov[0] = (struct iovec){"exec_untraced=", 14};
  iov[1] = (struct iovec){(void *)path, strlen(path)};
  iov[2] = (struct iovec){"\n", 1};
  al_reportfile_putv(iov, 3);
  /* The findings of the debug checks are written as the process ends:
   * this image's end is the exec, which takes them. Their number is
   * noted, for the command to count them (and to give them back should
   * the exec fail). */
  if (findings > 0) {
    al_reportfile_line_n("findings_at_exec", "", findings, "");
    /* The new image may write no report to say so for them. */
    if (al_opt.fail_on_findings)
      al_reportfile_line("findings_exec_fail", "1");
  }
}

/* Notes file, found as execvp() would when search_path is set, as what
 * the process executes. Under a seccomp filter that may kill
 * (lib/seccomp.c) nothing is noted, and no call made: not even getcwd()
 * or access(). */
static void note_exec(const char *file, int search_path) {
  char *path;
  int saved = errno;

  al_children_exec(); /* a program of its own, not a worker */
  if (!al_reportfile_ready() || file == NULL || al_ending_sealed())
    return;
  path = al_exec_path_map(file, search_path);
  if (path != NULL)
    note(path);
  al_exec_path_unmap(path);
  errno = saved;
}

/* What the process is told when the exec failed: it runs on. */
static void note_failed(void) {
  int saved = errno;

  al_children_exec_failed(); /* a worker still */

  al_reportfile_line_n("exec_failed", "", (unsigned long long)saved, "");
  errno = saved;
}

AL_EXPORT int execve(const char *path, char *const argv[],
                     char *const envp[]) {
  if (real_execve == NULL)
    exec_init();
  if (real_execve == NULL) {
    errno = ENOSYS;
    return -1;
  }
  note_exec(path, 0);
  real_execve(path, argv, envp);
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
  if (real_execvpe == NULL)
    exec_init();
  if (real_execvpe == NULL) {
    errno = ENOSYS;
    return -1;
  }
  note_exec(file, 1);
  real_execvpe(file, argv, envp);
  note_failed();
  return -1;
}

AL_EXPORT int execvp(const char *file, char *const argv[]) {
  return execvpe(file, argv, environ);
}

AL_EXPORT int fexecve(int fd, char *const argv[], char *const envp[]) {
  char link[32] = "/proc/self/fd/";
  size_t n = strlen(link);
  int saved = errno;

  if (real_fexecve == NULL)
    exec_init();
  if (real_fexecve == NULL) {
    errno = ENOSYS;
    return -1;
  }
  al_children_exec();
  /* The fd's number, then what it is: the command reads that file. */
  if (al_reportfile_ready() && !al_ending_sealed()) {
    al_put_ulong(link + n, fd >= 0 ? (unsigned long long)fd : 0);
    /* The link's target, an absolute path, as an exec of it notes it. */
    char *path = al_exec_path_map(link, 0);
    if (path != NULL && path[0] == '/' && strcmp(path, link) != 0)
      note(path);
    al_exec_path_unmap(path);
  }
  errno = saved;
  real_fexecve(fd, argv, envp);
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
