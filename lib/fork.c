/* The children a process makes, noted in its report file before the call
 * that made them returns: "child=<pid>-<start>" (docs/report-format.md).
 *
 * A child makes its own file when the runtime starts in it: a fork child
 * in the runtime's atfork handler, a spawned program as its new image
 * starts. Both happen only once the kernel runs the child, which may be
 * after its parent has exited and the asyncleak command has read the
 * report directory: `sh -c 'server &'` exits at once. Without a word from
 * the parent the command would not know the child exists, would remove
 * the directory, and the child's report would be lost without a trace.
 *
 * fork() and posix_spawn() are interposed: the program's calls go through
 * the PLT. What glibc calls inside itself is not seen: daemon() forks
 * inside libc, and is done by the runtime instead (lib/daemon.c), with
 * the interposed fork(); system() and popen() spawn inside libc (their
 * children, waited for by the caller, have made their files by then; a
 * popen() child the program never pcloses may not have). vfork() is
 * left alone: a wrapper that returned in the child would return into a
 * frame the parent then reuses; its child shares the parent's memory
 * and runs no runtime code of its own until it executes a program.
 *
 * fork() may be called from a signal handler: the wrapper makes system
 * calls only, keeps errno, and little stack (a crash reporter forks on
 * an alternate signal stack of a few KiB). Under a seccomp filter that
 * may kill (lib/seccomp.c), the wrappers make no call of their own. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <spawn.h>
#include <unistd.h>

#include "internal.h"

typedef pid_t fork_fn(void);
typedef int spawn_fn(pid_t *, const char *, const posix_spawn_file_actions_t *,
                     const posix_spawnattr_t *, char *const[], char *const[]);

static fork_fn *real_fork;
static spawn_fn *real_spawn, *real_spawnp;

/* Resolved before main: dlsym() is no call for a signal handler. */
__attribute__((constructor)) static void fork_init(void) {
  real_fork = (fork_fn *)dlsym(RTLD_NEXT, "fork");
  real_spawn = (spawn_fn *)dlsym(RTLD_NEXT, "posix_spawn");
  real_spawnp = (spawn_fn *)dlsym(RTLD_NEXT, "posix_spawnp");
}

AL_EXPORT pid_t fork(void) {
  void *page = NULL;
  pid_t pid;
  int slot = -1, saved;

  if (real_fork == NULL)
    fork_init();
  if (real_fork == NULL) {
    errno = ENOSYS;
    return -1;
  }
  /* A worker of a prefork server, for graceful signals (children.c). */
  if (!al_ending_sealed()) {
    saved = errno;
    slot = al_children_fork_begin(&page);
    errno = saved;
  }
  pid = real_fork();
  saved = errno;
  al_children_fork_end(slot, pid, page);
  errno = saved;
  if (pid > 0 && !al_ending_sealed())
    al_reportfile_child(pid, NULL, 0);
  return pid;
}

/* A spawned child runs file at once: it is noted with the program, so
 * that a child that never reached the report directory is judged by what
 * it ran, as an exec is (lib/exec.c). */
static int spawn(spawn_fn *fn, int search_path, pid_t *pid, const char *file,
                 const posix_spawn_file_actions_t *actions,
                 const posix_spawnattr_t *attr, char *const argv[],
                 char *const envp[]) {
  char *path = NULL;
  pid_t child = 0;
  int rc, saved = errno, sealed = al_ending_sealed();

  if (fn == NULL)
    return ENOSYS;
  /* Resolved before the call, from this process's directory and PATH;
   * not under a seccomp filter that may kill, where nothing is noted. */
  if (!sealed && al_reportfile_ready())
    path = al_exec_path_map(file, search_path);
  errno = saved;
  rc = fn(&child, file, actions, attr, argv, envp);
  if (rc == 0) {
    if (!sealed)
      al_reportfile_child(child, path != NULL ? path : "",
                          !al_opt.trace_children);
    if (pid != NULL)
      *pid = child;
  }
  al_exec_path_unmap(path);
  return rc;
}

AL_EXPORT int posix_spawn(pid_t *pid, const char *path,
                          const posix_spawn_file_actions_t *actions,
                          const posix_spawnattr_t *attr, char *const argv[],
                          char *const envp[]) {
  if (real_spawn == NULL)
    fork_init();
  return spawn(real_spawn, 0, pid, path, actions, attr, argv, envp);
}

AL_EXPORT int posix_spawnp(pid_t *pid, const char *file,
                           const posix_spawn_file_actions_t *actions,
                           const posix_spawnattr_t *attr, char *const argv[],
                           char *const envp[]) {
  if (real_spawnp == NULL)
    fork_init();
  return spawn(real_spawnp, 1, pid, file, actions, attr, argv, envp);
}
