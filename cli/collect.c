/* Reading what the processes of the run left in the report directory:
 * <pid>.start when the runtime started in it, then at exit <pid>.txt, the
 * report to print, <pid>.rec, its leak groups, and <pid>.sum, its totals,
 * written last as the sign that the report is complete. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

enum file_kind { FILE_TXT, FILE_SUM, FILE_REC, FILE_START };

/* How long processes still running when the program has ended are waited
 * for, in milliseconds. */
enum { GRACE_MS = 200 };

static const char *const suffixes[] = {
    [FILE_TXT] = ".txt", [FILE_SUM] = ".sum", [FILE_REC] = ".rec",
    [FILE_START] = ".start"};

/* Accepts "<pid>.<suffix>" only, the pid without leading zeros so that each
 * pid has one name. */
static int parse_name(const char *name, pid_t *pid, enum file_kind *kind) {
  long n = 0;
  const char *p = name;

  if (*p < '1' || *p > '9')
    return -1;
  for (; *p >= '0' && *p <= '9'; p++) {
    n = n * 10 + (*p - '0');
    if (n > INT_MAX)
      return -1;
  }
  for (size_t k = 0; k < CLI_ARRAY_SIZE(suffixes); k++)
    if (!strcmp(p, suffixes[k])) {
      *pid = (pid_t)n;
      *kind = (enum file_kind)k;
      return 0;
    }
  return -1;
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

/* Calls pair(p, key, value) for each "key=value" line of text. */
static void each_pair(struct cli_proc *p, char *text,
                      void (*pair)(struct cli_proc *, const char *, char *)) {
  char *line, *save = NULL;

  for (line = strtok_r(text, "\n", &save); line != NULL;
       line = strtok_r(NULL, "\n", &save)) {
    char *value = strchr(line, '=');

    if (value == NULL)
      continue;
    *value++ = '\0';
    pair(p, line, value);
  }
}

/* The totals of <pid>.sum the command uses. */
static const struct {
  const char *key;
  size_t offset;
} counters[] = {
#define COUNTER(name) {#name, offsetof(struct cli_proc, name)}
    COUNTER(loops),           COUNTER(loops_unclosed),
    COUNTER(handles_created), COUNTER(handles_open),
    COUNTER(requests_created), COUNTER(requests_pending),
    COUNTER(requests_cancelled), COUNTER(handles_forced),
    COUNTER(resources_ensured), COUNTER(suppressed),
    COUNTER(baselined),       COUNTER(handles_closing),
    COUNTER(closing_fails),
#undef COUNTER
};

/* "library:object", one copy= line. */
static void add_copy(struct cli_proc *p, const char *value) {
  const char *colon = strchr(value, ':');
  struct cli_copy *grown;

  if (colon == NULL || colon == value)
    return;
  grown = realloc(p->copies, (p->ncopies + 1) * sizeof(*grown));
  if (grown == NULL)
    return;
  p->copies = grown;
  grown[p->ncopies].library = strndup(value, (size_t)(colon - value));
  grown[p->ncopies].object = strdup(colon + 1);
  if (grown[p->ncopies].library == NULL ||
      grown[p->ncopies].object == NULL) {
    free(grown[p->ncopies].library);
    free(grown[p->ncopies].object);
    return;
  }
  p->ncopies++;
}

/* Keys it does not know are left alone: the runtime may add some. */
static void sum_pair(struct cli_proc *p, const char *key, char *value) {
  if (!strcmp(key, "libs")) {
    p->used_loop = *value != '\0';
    return;
  }
  if (!strcmp(key, "copy")) {
    add_copy(p, value);
    return;
  }
  for (size_t i = 0; i < CLI_ARRAY_SIZE(counters); i++)
    if (!strcmp(key, counters[i].key))
      *(unsigned long long *)((char *)p + counters[i].offset) =
          number(value);
}

static void start_pair(struct cli_proc *p, const char *key, char *value) {
  if (!strcmp(key, "ppid")) {
    p->ppid = (pid_t)number(value);
  } else if (!strcmp(key, "forked")) {
    p->forked_from = (pid_t)number(value);
  } else if (!strcmp(key, "exe")) {
    /* The last: what the process executed last. */
    free(p->exe);
    p->exe = strdup(value);
  }
}

/* Splits line at tabs into at most max fields; returns how many. */
static size_t split(char *line, char **field, size_t max) {
  size_t n = 0;

  while (n < max) {
    field[n++] = line;
    line = strchr(line, '\t');
    if (line == NULL)
      break;
    *line++ = '\0';
  }
  return n;
}

static int grow(void **array, size_t *alloc, size_t used, size_t size) {
  void *grown;
  size_t more;

  if (used < *alloc)
    return 0;
  more = *alloc ? *alloc * 2 : 8;
  grown = realloc(*array, more * size);
  if (grown == NULL)
    return -1;
  *array = grown;
  *alloc = more;
  return 0;
}

/* The records of <pid>.rec, pointing into its text, which p keeps. Lines
 * it does not know are left alone: the runtime may add some. */
static int parse_rec(struct cli_proc *p, char *text) {
  size_t groups_alloc = 0, supps_alloc = 0, frames_alloc = 0;
  char *line, *save = NULL, *f[8];

  p->rec = text;
  for (line = strtok_r(text, "\n", &save); line != NULL;
       line = strtok_r(NULL, "\n", &save)) {
    size_t n = split(line, f, CLI_ARRAY_SIZE(f));

    if (!strcmp(f[0], "leak") && n == 7) {
      struct cli_group *g;

      if (grow((void **)&p->groups, &groups_alloc, p->ngroups,
               sizeof(*g)) != 0)
        return -1;
      g = &p->groups[p->ngroups++];
      *g = (struct cli_group){f[1], f[2], f[4], number(f[3]),
                              atoi(f[5]), !strcmp(f[6], "1"), NULL, 0};
      frames_alloc = 0;
    } else if (!strcmp(f[0], "frame") && n >= 7 && p->ngroups > 0) {
      struct cli_group *g = &p->groups[p->ngroups - 1];

      if (grow((void **)&g->frames, &frames_alloc, g->nframes,
               sizeof(g->frames[0])) != 0)
        return -1;
      g->frames[g->nframes++] = (struct cli_frame){
          f[1], f[2], f[3], f[5], f[6], (unsigned)number(f[4]),
          n >= 8 && !strcmp(f[7], "1")};
    } else if (!strcmp(f[0], "suppression") && n == 6) {
      if (grow((void **)&p->supps, &supps_alloc, p->nsupps,
               sizeof(p->supps[0])) != 0)
        return -1;
      p->supps[p->nsupps++] = (struct cli_supp){
          f[3], f[5], (unsigned)number(f[4]), number(f[1]), number(f[2])};
    }
  }
  return 0;
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
  r->procs[r->nr].running = -1;
  return &r->procs[r->nr++];
}

static long long nanoseconds(const struct timespec *t) {
  return t->tv_sec * 1000000000LL + t->tv_nsec;
}

/* Whether the process that last wrote its <pid>.start at noted is still
 * running: 1, 0, or -1 when that cannot be told (no /proc). A process
 * with that pid that started later is another one, given the pid of one
 * that had ended; a zombie has ended too. Start times are in clock ticks
 * and file times come from a coarse clock: 50 ms of slack. */
static int still_running(pid_t pid, const struct timespec *noted) {
  long hz = sysconf(_SC_CLK_TCK);
  struct timespec now, boot;
  unsigned long long ticks;
  long long started;
  char path[64], buf[1024];
  const char *p;
  ssize_t n;
  int fd;

  if (kill(pid, 0) != 0 && errno == ESRCH)
    return 0;
  snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
  fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return kill(pid, 0) != 0 && errno == ESRCH ? 0 : -1;
  n = read(fd, buf, sizeof(buf) - 1);
  close(fd);
  buf[n > 0 ? n : 0] = '\0';
  /* The command's name, in parentheses, may hold anything: the fields
   * start after the last ')', with the state, field 3. */
  p = strrchr(buf, ')');
  if (p == NULL || p[1] != ' ' || hz <= 0)
    return -1;
  p += 2;
  if (*p == 'Z' || *p == 'X')
    return 0;
  for (int field = 3; field < 22 && p != NULL; field++) {
    p = strchr(p, ' ');
    if (p != NULL)
      p++;
  }
  if (p == NULL || *p < '0' || *p > '9')
    return -1;
  ticks = strtoull(p, NULL, 10);
  /* Its start time counts from boot: now, less the time since then. */
  if (clock_gettime(CLOCK_REALTIME, &now) != 0 ||
      clock_gettime(CLOCK_BOOTTIME, &boot) != 0)
    return -1;
  started = nanoseconds(&now) - nanoseconds(&boot) +
            (long long)(ticks / (unsigned long)hz) * 1000000000LL +
            (long long)(ticks % (unsigned long)hz) * 1000000000LL / hz;
  return started <= nanoseconds(noted) + 50000000LL;
}

/* Notes which processes that left a <pid>.start are still running;
 * returns how many. */
static size_t note_running(struct cli_reports *r, DIR *d) {
  struct dirent *e;
  size_t running = 0;

  rewinddir(d);
  while ((e = readdir(d)) != NULL) {
    struct cli_proc *p;
    struct stat st;
    pid_t pid;
    enum file_kind kind;

    if (parse_name(e->d_name, &pid, &kind) != 0 || kind != FILE_START ||
        fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
        !S_ISREG(st.st_mode))
      continue;
    p = proc_of(r, pid);
    if (p == NULL)
      break;
    p->running = still_running(pid, &st.st_mtim);
    running += p->running == 1;
  }
  return running;
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
  r->dir = dir;
  d = cli_reportdir_open(dir); /* the directory made, not what the name
                                  leads to now (reportdir.c) */
  if (d == NULL) {
    cli_warning("cannot read the reports in '%s': %s", dir, strerror(errno));
    return;
  }
  /* First which processes are still running, then the files: one that
   * had ended by then has written all it ever will. A child the program
   * did not wait for may be ending too, and gets a moment; a daemon may
   * run for ever, and gets no more. */
  for (int waited = 0; note_running(r, d) > 0 && waited < GRACE_MS;
       waited += 10)
    nanosleep(&(struct timespec){0, 10000000}, NULL);
  rewinddir(d);
  while ((e = readdir(d)) != NULL) {
    struct cli_proc *p;
    size_t len;
    char *text;
    pid_t pid;
    enum file_kind kind;

    if (parse_name(e->d_name, &pid, &kind) != 0)
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
    switch (kind) {
    case FILE_SUM:
      each_pair(p, text, sum_pair);
      p->has_sum = 1;
      free(text);
      break;
    case FILE_START:
      each_pair(p, text, start_pair);
      p->started = 1;
      free(text);
      break;
    case FILE_REC:
      if (parse_rec(p, text) != 0)
        cli_warning("out of memory: leaks of process %d are left out of "
                    "the machine-readable reports", (int)pid);
      break;
    case FILE_TXT:
      p->text = text;
      p->text_len = len;
      break;
    }
  }
  closedir(d);
  if (r->nr > 0)
    qsort(r->procs, r->nr, sizeof(r->procs[0]), by_pid);
  for (size_t i = 0; i < r->nr; i++)
    r->running += cli_proc_running(&r->procs[i]);
}

size_t cli_reports_unwatched(const struct cli_reports *r) {
  size_t n = 0;

  for (size_t i = 0; i < r->nr; i++)
    n += r->procs[i].ncopies > 0;
  return n;
}

int cli_proc_running(const struct cli_proc *p) {
  return p->started && !p->has_sum && p->running == 1;
}

void cli_reports_prune(const struct cli_reports *r) {
  int fd = cli_reportdir_fd(r->dir); /* as in cli_reports_read */
  char name[32];

  if (fd < 0)
    return;
  for (size_t i = 0; i < r->nr; i++) {
    if (cli_proc_running(&r->procs[i]))
      continue;
    for (size_t k = 0; k < CLI_ARRAY_SIZE(suffixes); k++) {
      snprintf(name, sizeof(name), "%d%s", (int)r->procs[i].pid,
               suffixes[k]);
      unlinkat(fd, name, 0);
    }
  }
  close(fd);
}

int cli_group_fails(const struct cli_proc *p, const struct cli_group *g) {
  if (!strcmp(g->state, "closing"))
    return !g->baselined && p->closing_fails;
  return !g->baselined && strcmp(g->state, "ensured") != 0;
}

void cli_reports_release(struct cli_reports *r) {
  for (size_t i = 0; i < r->nr; i++) {
    struct cli_proc *p = &r->procs[i];

    for (size_t k = 0; k < p->ngroups; k++)
      free(p->groups[k].frames);
    free(p->groups);
    free(p->supps);
    for (size_t k = 0; k < p->ncopies; k++) {
      free(p->copies[k].library);
      free(p->copies[k].object);
    }
    free(p->copies);
    free(p->rec);
    free(p->exe);
    free(p->text);
  }
  free(r->procs);
  memset(r, 0, sizeof(*r));
}
