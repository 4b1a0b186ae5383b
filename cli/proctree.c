/* The processes descending from one, from /proc: those --timeout asks
 * why they still run and ends with it, as timeout(1) ends the whole
 * process group of its command. A snapshot: a process forked meanwhile
 * is not in it. */
#include <ctype.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* The parent of pid, from /proc/PID/stat; 0 when it cannot be read. */
static pid_t parent_of(pid_t pid) {
  char path[64], buf[512], *close;
  FILE *f;
  size_t n;
  int ppid = 0;

  snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
  if ((f = fopen(path, "re")) == NULL)
    return 0;
  n = fread(buf, 1, sizeof(buf) - 1, f);
  fclose(f);
  buf[n] = '\0';
  /* The name, in parentheses, may hold anything: the fields are after
   * its last ')'. */
  close = strrchr(buf, ')');
  if (close == NULL || sscanf(close + 1, " %*c %d", &ppid) != 1)
    return 0;
  return (pid_t)ppid;
}

size_t cli_descendants(pid_t root, pid_t *out, size_t max) {
  struct proc { pid_t pid, ppid; } *all = NULL;
  size_t nall = 0, alloc = 0, n = 0;
  struct dirent *e;
  DIR *d = opendir("/proc");

  if (d == NULL)
    return 0;
  while ((e = readdir(d)) != NULL) {
    pid_t pid;
    if (!isdigit((unsigned char)e->d_name[0]))
      continue;
    pid = (pid_t)atoi(e->d_name);
    if (nall == alloc) {
      struct proc *more = realloc(all, (alloc = alloc ? 2 * alloc : 256) *
                                           sizeof(*all));
      if (more == NULL)
        break;
      all = more;
    }
    all[nall].pid = pid;
    all[nall++].ppid = parent_of(pid);
  }
  closedir(d);
  /* Breadth first from root: each found process's children in turn. */
  for (size_t i = 0; i <= n && i < max; i++) {
    pid_t parent = i == 0 ? root : out[i - 1];
    for (size_t k = 0; k < nall && n < max; k++)
      if (all[k].ppid == parent && all[k].pid != root)
        out[n++] = all[k].pid;
  }
  free(all);
  return n;
}
