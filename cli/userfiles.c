/* Checking the files a user hands to the runtime, before the program runs:
 * a mistake in them is the user's to fix, and a run that would quietly
 * ignore a suppression or a baseline line is no use in CI. */
#define _GNU_SOURCE /* getline() */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "cli.h"
#include "../lib/syntax.h"

/* Calls check on each line; stops at the first it refuses. Lines that are
 * entries (check returns 1) count against max. */
static int each_line(const char *path, const char *what, unsigned max,
                     int (*check)(const char *path, unsigned number,
                                  const char *line, size_t len)) {
  /* Not held up by a FIFO: it is refused below. */
  int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  FILE *f = fd >= 0 ? fdopen(fd, "r") : NULL;
  char *line = NULL;
  size_t cap = 0;
  unsigned number = 0, entries = 0;
  ssize_t len;
  struct stat st;
  int rc = 0;

  if (f == NULL || fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
    cli_error("cannot read the %s file '%s': %s", what, path,
              f == NULL ? strerror(errno) : "not a regular file");
    if (f != NULL)
      fclose(f);
    else if (fd >= 0)
      close(fd);
    return -1;
  }
  /* The runtime's own bounds: past them it would leave entries out. */
  if ((size_t)st.st_size > AL_USER_FILE_MAX) {
    cli_error("the %s file '%s' is larger than %u bytes", what, path,
              AL_USER_FILE_MAX);
    fclose(f);
    return -1;
  }
  while (rc >= 0 && (len = getline(&line, &cap, f)) >= 0) {
    if (len > 0 && line[len - 1] == '\n')
      len--;
    rc = check(path, ++number, line, (size_t)len);
    if (rc > 0 && ++entries > max) {
      cli_error("%s:%u: more than %u entries in a %s file", path, number,
                max, what);
      rc = -1;
    }
  }
  free(line);
  fclose(f);
  return rc < 0 ? -1 : 0;
}

static int check_rule(const char *path, unsigned number, const char *line,
                      size_t len) {
  struct al_supp_rule rule;
  const char *why = NULL;

  int rc = al_supp_parse(line, len, &rule, &why);

  if (rc >= 0)
    return rc;
  cli_error("%s:%u: malformed suppression: %s", path, number, why);
  return -1;
}

static int check_fingerprint(const char *path, unsigned number,
                             const char *line, size_t len) {
  char fp[AL_FINGERPRINT_LEN + 1];

  int rc = al_baseline_parse(line, len, fp);

  if (rc >= 0)
    return rc;
  cli_error("%s:%u: malformed baseline line: expected a fingerprint of %d "
            "hex digits", path, number, AL_FINGERPRINT_LEN);
  return -1;
}

int cli_check_suppressions(const char *path) {
  return each_line(path, "suppressions", AL_SUPP_RULES_MAX, check_rule);
}

int cli_check_baseline(const char *path) {
  return each_line(path, "baseline", AL_BASELINE_MAX, check_fingerprint);
}
