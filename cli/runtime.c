/* Finding the runtime (libasyncleak.so.0) and handing it to the program
 * through its environment. */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "runtime-path.h"

/* Sets path to dir/name with dir made absolute and canonical; the name
 * itself stays, so that the soname's link is what LD_PRELOAD holds. Returns
 * 0 when that is a regular file, or a link to one. */
static int runtime_in(const char *dir, const char *name, char *path,
                      size_t size) {
  char real[PATH_MAX];
  struct stat st;

  if (realpath(dir, real) == NULL ||
      (size_t)snprintf(path, size, "%s/%s", real, name) >= size)
    return -1;
  return stat(path, &st) == 0 && S_ISREG(st.st_mode) ? 0 : -1;
}

/* The runtime sits in ../lib from the command's own directory (build/bin
 * and build/lib in the build tree, PREFIX/bin and PREFIX/lib once
 * installed), or where LIBDIR is from BINDIR when make install was given
 * others (/usr/bin and /usr/lib/x86_64-linux-gnu). */
int cli_find_runtime(char *path, size_t size) {
  char self[PATH_MAX], dir[PATH_MAX + 32], tried[PATH_MAX + 64];
  char other[PATH_MAX + 64] = "";
  const char *name = ASYNCLEAK_RUNTIME_SONAME;
  int found;

  if (realpath("/proc/self/exe", self) == NULL) {
    cli_error("cannot find the runtime: '/proc/self/exe': %s",
              strerror(errno));
    return CLI_EXIT_FAILURE;
  }
  *strrchr(self, '/') = '\0';
  snprintf(dir, sizeof(dir), "%s/../lib", self);
  snprintf(tried, sizeof(tried), "%s/%s", dir, name);
  found = size >= PATH_MAX && runtime_in(dir, name, path, size) == 0;
  if (!found && strcmp(ASYNCLEAK_LIBDIR_FROM_BINDIR, "../lib") != 0) {
    snprintf(dir, sizeof(dir), "%s/%s", self, ASYNCLEAK_LIBDIR_FROM_BINDIR);
    snprintf(other, sizeof(other), " or '%s/%s'", dir, name);
    found = size >= PATH_MAX && runtime_in(dir, name, path, size) == 0;
  }
  if (!found) {
    cli_error("cannot find the runtime '%s'%s", tried, other);
    return CLI_EXIT_FAILURE;
  }
  /* The loader splits LD_PRELOAD at colons and spaces, with no quoting. */
  for (const char *p = path; *p != '\0'; p++) {
    if (*p == ':' || isspace((unsigned char)*p)) {
      cli_error("the runtime '%s' cannot go into LD_PRELOAD: its path holds "
                "a colon or a space", path);
      return CLI_EXIT_FAILURE;
    }
  }
  return 0;
}

/* Appends item to the colon-separated list in the variable name, so that
 * what the user put there still applies. */
static int append_env(const char *name, const char *item) {
  const char *old = getenv(name);
  char *value;
  size_t len;
  int rc;

  if (old == NULL || *old == '\0')
    return setenv(name, item, 1);
  len = strlen(old) + 1 + strlen(item) + 1;
  value = malloc(len);
  if (value == NULL)
    return -1;
  snprintf(value, len, "%s:%s", old, item);
  rc = setenv(name, value, 1);
  free(value);
  return rc;
}

/* The flags meant for the runtime, as ASYNCLEAK_OPTIONS entries. They come
 * after the user's entries, so that a flag overrides what the environment
 * says. */
static int append_runtime_options(const struct cli_options *opt) {
  for (size_t i = 0; i < opt->nruntime; i++)
    if (append_env("ASYNCLEAK_OPTIONS", opt->runtime[i]) != 0)
      return -1;
  /* The reports reach the user through the command, which knows where
   * they go; the runtime only ever sees its files. */
  if (opt->color == CLI_COLOR_ALWAYS &&
      append_env("ASYNCLEAK_OPTIONS", "color=always") != 0)
    return -1;
  if (opt->color == CLI_COLOR_NEVER && opt->env_color &&
      append_env("ASYNCLEAK_OPTIONS", "color=never") != 0)
    return -1;
  return 0;
}

/* A program started by systemd-socket-activate, or by systemd itself,
 * through the command finds LISTEN_PID naming the command, not itself,
 * and sd_listen_fds() refuses the sockets. The mark names the command, so
 * that the runtime in its direct child, and only there, puts the child's
 * own pid in LISTEN_PID (lib/runtime.c). A mark the command was itself
 * given is not its own and goes. */
static int mark_listen_pid(void) {
  const char *listen_pid = getenv("LISTEN_PID");
  char self[32];

  snprintf(self, sizeof(self), "%d", (int)getpid());
  if (listen_pid != NULL && !strcmp(listen_pid, self))
    return setenv("ASYNCLEAK_LISTEN_PID", self, 1);
  return unsetenv("ASYNCLEAK_LISTEN_PID");
}

/* AddressSanitizer refuses to start ("ASan runtime does not come first in
 * initial library list") when a preloaded library comes before its own
 * runtime, which the runtime in LD_PRELOAD always does for a program built
 * with -fsanitize=address. Putting the sanitizer's runtime first in
 * LD_PRELOAD would also preload it into every program the one watched
 * executes, sanitizer-built or not, and change how they behave (their
 * leaks would be checked, their exit status changed). Instead the check
 * is turned off, for every AddressSanitizer program of the run, which
 * ASan provides for libraries preloaded system-wide: the order of symbol
 * lookup still puts ASan's malloc before the C library's, as it comes
 * among the program's own libraries, before the runtime's. Programs
 * built without ASan never read the variable. */
static int asan_accepts_preload(void) {
  return append_env("ASAN_OPTIONS", "verify_asan_link_order=0");
}

int cli_setup_env(const char *runtime, const char *report_dir,
                  const struct cli_options *opt) {
  char option[PATH_MAX + 32];

  /* The runtime reads its options left to right, so report_dir, last,
   * overrides any the user gave. */
  snprintf(option, sizeof(option), "report_dir='%s'", report_dir);
  if (append_env("LD_PRELOAD", runtime) != 0 ||
      append_runtime_options(opt) != 0 ||
      append_env("ASYNCLEAK_OPTIONS", option) != 0 ||
      asan_accepts_preload() != 0 || mark_listen_pid() != 0) {
    cli_error("cannot set up the environment: %s", strerror(errno));
    return CLI_EXIT_FAILURE;
  }
  return 0;
}
