/* Finding the program to run, and what the system will let it do. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

/* Returns 0 if execve() would run path, else the errno it would fail with
 * (execve() itself tells a directory or a device by EACCES too). */
static int runnable(const char *path) {
  struct stat st;

  if (stat(path, &st) != 0)
    return errno;
  if (!S_ISREG(st.st_mode))
    return EACCES;
  if (access(path, X_OK) != 0)
    return errno;
  return 0;
}

static int cannot_execute(const char *name, int err) {
  cli_error("cannot execute '%s': %s", name, strerror(err));
  return CLI_EXIT_CANNOT_EXEC;
}

static int not_found(const char *name) {
  cli_error("'%s': command not found", name);
  return CLI_EXIT_NOT_FOUND;
}

/* Tries each directory of PATH in turn; like execvp(), a file found there
 * but not executable fails the search only when no later one will run. */
static int search_path(const char *name, char *path, size_t size) {
  const char *dirs = getenv("PATH");
  int denied = 0;

  if (dirs == NULL)
    dirs = "/bin:/usr/bin";
  for (;;) {
    size_t len = strcspn(dirs, ":");
    int n;

    /* An empty entry is the current directory. */
    if (len == 0)
      n = snprintf(path, size, "./%s", name);
    else
      n = snprintf(path, size, "%.*s/%s", (int)len, dirs, name);
    if (n > 0 && (size_t)n < size) {
      int err = runnable(path);
      if (err == 0)
        return 0;
      if (err == EACCES)
        denied = 1;
    }
    if (dirs[len] == '\0')
      break;
    dirs += len + 1;
  }
  return denied ? cannot_execute(name, EACCES) : not_found(name);
}

int cli_resolve(const char *name, char *path, size_t size) {
  int err;

  if (*name == '\0')
    return not_found(name);
  if (strchr(name, '/') == NULL)
    return search_path(name, path, size);

  err = runnable(name);
  if (err == ENOENT || err == ENOTDIR)
    return not_found(name);
  if (err != 0)
    return cannot_execute(name, err);
  if ((size_t)snprintf(path, size, "%s", name) >= size)
    return cannot_execute(name, ENAMETOOLONG);
  return 0;
}

void cli_warn_setuid(const char *path, const char *name) {
  const mode_t setgid = S_ISGID | S_IXGRP;
  struct stat st;
  const char *what = NULL;

  if (stat(path, &st) != 0)
    return;
  /* The kernel asks the loader for secure mode only when the identity
   * changes; a set-group-ID bit without group execute permission asks for
   * mandatory locking instead. */
  if ((st.st_mode & S_ISUID) && st.st_uid != getuid())
    what = "setuid";
  else if ((st.st_mode & setgid) == setgid && st.st_gid != getgid())
    what = "setgid";
  if (what != NULL)
    cli_warning("'%s' is %s: the loader ignores LD_PRELOAD, nothing will be "
                "seen", name, what);
}
