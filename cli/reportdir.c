/* The private directory where the runtime of each process of the run leaves
 * its report. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

int cli_reportdir_create(char *dir, size_t size) {
  const char *tmp = getenv("TMPDIR");

  /* The path goes into ASYNCLEAK_OPTIONS between single quotes, and the
   * program may change directory before it writes there: only an absolute
   * path without quotes will do. */
  if (tmp == NULL || tmp[0] != '/' || strpbrk(tmp, "'\"") != NULL)
    tmp = "/tmp";
  if ((size_t)snprintf(dir, size, "%s/asyncleak.XXXXXX", tmp) >= size) {
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
  return 0;
}

void cli_reportdir_remove(const char *dir) {
  DIR *d = opendir(dir);
  struct dirent *e;

  if (d != NULL) {
    while ((e = readdir(d)) != NULL)
      if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
        unlinkat(dirfd(d), e->d_name, 0);
    closedir(d);
  }
  /* A process that outlived the program may still be writing here. */
  if (rmdir(dir) != 0)
    cli_warning("cannot remove '%s': %s", dir, strerror(errno));
}
