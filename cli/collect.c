/* Reading what the processes of the run left in the report directory:
 * <pid>.txt, the report to print, then <pid>.sum, its totals, written last
 * as the sign that the report is complete. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

/* Accepts "<pid>.txt" and "<pid>.sum" only, the pid without leading zeros so
 * that each pid has one name. */
static int parse_name(const char *name, pid_t *pid, int *is_sum) {
  long n = 0;
  const char *p = name;

  if (*p < '1' || *p > '9')
    return -1;
  for (; *p >= '0' && *p <= '9'; p++) {
    n = n * 10 + (*p - '0');
    if (n > INT_MAX)
      return -1;
  }
  if (strcmp(p, ".txt") != 0 && strcmp(p, ".sum") != 0)
    return -1;
  *pid = (pid_t)n;
  *is_sum = p[1] == 's';
  return 0;
}

/* Reads a whole regular file, refusing links and anything else a process
 * could have put there; O_NONBLOCK keeps a FIFO from holding up the open
 * before it is refused. */
static char *slurp(int dirfd, const char *name, size_t *len) {
  int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  size_t used = 0, size = 0;
  char *buf = NULL;
  struct stat st;

  if (fd < 0)
    return NULL;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
    goto fail;
  for (;;) {
    ssize_t n;

    if (size - used < 2) {
      size_t bigger = size ? size * 2 : 4096;
      char *grown = realloc(buf, bigger);
      if (grown == NULL)
        goto fail;
      buf = grown;
      size = bigger;
    }
    n = read(fd, buf + used, size - used - 1);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      goto fail;
    if (n == 0)
      break;
    used += (size_t)n;
  }
  buf[used] = '\0';
  *len = used;
  close(fd);
  return buf;
fail:
  free(buf);
  close(fd);
  return NULL;
}

static unsigned long long number(const char *s) {
  char *end;
  unsigned long long n;

  if (*s < '0' || *s > '9')
    return 0;
  n = strtoull(s, &end, 10);
  return *end == '\0' ? n : 0;
}

/* Keys it does not know are left alone: the runtime may add some. */
static void parse_sum(struct cli_proc *p, char *text) {
  char *line, *save = NULL;

  for (line = strtok_r(text, "\n", &save); line != NULL;
       line = strtok_r(NULL, "\n", &save)) {
    char *value = strchr(line, '=');

    if (value == NULL)
      continue;
    *value++ = '\0';
    if (!strcmp(line, "libs"))
      p->used_loop = *value != '\0';
    else if (!strcmp(line, "loops"))
      p->loops = number(value);
    else if (!strcmp(line, "loops_unclosed"))
      p->loops_unclosed = number(value);
    else if (!strcmp(line, "handles_created"))
      p->handles_created = number(value);
    else if (!strcmp(line, "handles_open"))
      p->handles_open = number(value);
    else if (!strcmp(line, "requests_created"))
      p->requests_created = number(value);
    else if (!strcmp(line, "requests_pending"))
      p->requests_pending = number(value);
    else if (!strcmp(line, "requests_cancelled"))
      p->requests_cancelled = number(value);
    else if (!strcmp(line, "handles_forced"))
      p->handles_forced = number(value);
    else if (!strcmp(line, "resources_ensured"))
      p->resources_ensured = number(value);
  }
  p->has_sum = 1;
}

static struct cli_proc *proc_of(struct cli_reports *r, pid_t pid) {
  for (size_t i = 0; i < r->nr; i++)
    if (r->procs[i].pid == pid)
      return &r->procs[i];
  if (r->nr == r->alloc) {
    size_t alloc = r->alloc ? r->alloc * 2 : 16;
    struct cli_proc *grown = realloc(r->procs, alloc * sizeof(*grown));
    if (grown == NULL)
      return NULL;
    r->procs = grown;
    r->alloc = alloc;
  }
  memset(&r->procs[r->nr], 0, sizeof(r->procs[0]));
  r->procs[r->nr].pid = pid;
  return &r->procs[r->nr++];
}

static int by_pid(const void *a, const void *b) {
  pid_t x = ((const struct cli_proc *)a)->pid;
  pid_t y = ((const struct cli_proc *)b)->pid;

  return (x > y) - (x < y);
}

void cli_reports_read(struct cli_reports *r, const char *dir) {
  DIR *d;
  struct dirent *e;

  memset(r, 0, sizeof(*r));
  d = opendir(dir);
  if (d == NULL) {
    cli_warning("cannot read the reports in '%s': %s", dir, strerror(errno));
    return;
  }
  while ((e = readdir(d)) != NULL) {
    struct cli_proc *p;
    size_t len;
    char *text;
    pid_t pid;
    int is_sum;

    if (parse_name(e->d_name, &pid, &is_sum) != 0)
      continue;
    text = slurp(dirfd(d), e->d_name, &len);
    if (text == NULL)
      continue;
    p = proc_of(r, pid);
    if (p == NULL) {
      free(text);
      cli_warning("out of memory: some reports are left out");
      break;
    }
    if (is_sum) {
      parse_sum(p, text);
      free(text);
    } else {
      p->text = text;
      p->text_len = len;
    }
  }
  closedir(d);
  if (r->nr > 0)
    qsort(r->procs, r->nr, sizeof(r->procs[0]), by_pid);
}

void cli_reports_release(struct cli_reports *r) {
  for (size_t i = 0; i < r->nr; i++)
    free(r->procs[i].text);
  free(r->procs);
  memset(r, 0, sizeof(*r));
}
