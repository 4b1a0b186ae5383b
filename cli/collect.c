/* Reading what the processes of the run left in the report directory: one
 * file each, <pid>-<start>[-<n>].report, which the runtime creates as it
 * starts in the process and keeps open: lines saying what the process is
 * and does, then at exit its report in blocks, the text, the records and
 * last the totals, the sign that the report is complete
 * (docs/report-format.md). Then the verdict on each process that left no
 * complete report. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

/* How long processes still running when the program has ended are waited
 * for, in milliseconds. */
enum { GRACE_MS = 200 };
/* The most read of one report file: a report of a million leaks is far
 * smaller; more is a process writing its file without end, and is read
 * as a report cut short. */
#define REPORT_FILE_MAX ((size_t)64 << 20)

static const char suffix[] = ".report";

/* A child a process noted as it made it ("child=" lines): the command may
 * read the directory before the child has made its own file, and must
 * not take its silence for absence. */
struct child {
  pid_t pid, parent;
  unsigned long long start;  /* 0 when its parent could not read it */
  struct timespec noted;     /* when its parent's file last changed */
  char *exec;                /* what a spawned child runs; NULL: a fork */
  int untraced;              /* spawned with trace_children=no */
  int running;               /* as for cli_proc; -2: not looked at yet */
  char *error;               /* why a fork child made no file of its own
                                ("child_error="), or NULL */
};

struct children {
  struct child *list;
  size_t n, alloc;
  struct cli_pidindex index; /* of list */
};

/* Reads a decimal number without leading zeros at *p, moving past it;
 * -1 when there is none or it is too large. */
static int name_number(const char **p, unsigned long long max,
                       unsigned long long *n) {
  const char *s = *p;

  *n = 0;
  if (*s < '0' || *s > '9' || (s[0] == '0' && s[1] >= '0' && s[1] <= '9'))
    return -1;
  for (; *s >= '0' && *s <= '9'; s++) {
    *n = *n * 10 + (unsigned long long)(*s - '0');
    if (*n > max)
      return -1;
  }
  *p = s;
  return 0;
}

/* Accepts "<pid>-<start>.report" and "<pid>-<start>-<n>.report" only, the
 * numbers without leading zeros, so that each process has one name. */
static int parse_name(const char *name, pid_t *pid,
                      unsigned long long *start) {
  unsigned long long n, k;
  const char *p = name;

  if (name_number(&p, INT_MAX, &n) != 0 || n == 0 || *p++ != '-' ||
      name_number(&p, ULLONG_MAX / 10, start) != 0)
    return -1;
  if (*p == '-' && (p++, name_number(&p, 1000, &k) != 0 || k == 0))
    return -1;
  if (strcmp(p, suffix) != 0)
    return -1;
  *pid = (pid_t)n;
  return 0;
}

/* Reads a whole regular file, refusing links and anything else a process
 * could have put there; O_NONBLOCK keeps a FIFO from holding up the open
 * before it is refused. Past REPORT_FILE_MAX, what was read is returned
 * with *capped set. */
static char *slurp(int dirfd, const char *name, size_t *len, int *capped) {
  int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  size_t used = 0, size = 0;
  char *buf = NULL;
  struct stat st;

  *capped = 0;
  if (fd < 0)
    return NULL;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
    goto fail;
  for (;;) {
    ssize_t n;

    if (used >= REPORT_FILE_MAX) {
      *capped = 1;
      break;
    }
    if (size - used < 2) {
      size_t bigger = size ? size * 2 : 4096;
      char *grown = realloc(buf, bigger);
      if (grown == NULL)
        goto fail;
      buf = grown;
      size = bigger;
    }
    n = read(fd, buf + used, (size - used - 1 < REPORT_FILE_MAX - used
                                  ? size - used - 1
                                  : REPORT_FILE_MAX - used));
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
    COUNTER(closing_fails),   COUNTER(findings),
    COUNTER(findings_dropped), COUNTER(findings_fail),
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
    if (*value != '\0' && !p->used_loop)
      snprintf(p->uses, sizeof(p->uses), "%.*s", (int)strcspn(value, ","),
               value);
    p->used_loop |= *value != '\0';
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

static void replace(char **field, const char *value) {
  free(*field);
  *field = strdup(value);
}

/* The lines a process writes as it goes. Keys it does not know are left
 * alone: the runtime may add some. */
static void start_pair(struct cli_proc *p, const char *key, char *value) {
  if (!strcmp(key, "ppid")) {
    p->ppid = (pid_t)number(value);
  } else if (!strcmp(key, "forked")) {
    p->forked_from = (pid_t)number(value);
  } else if (!strcmp(key, "exe")) {
    /* A new image of the process, which reached its file: what it uses
     * from now on is its own, and the exec it came from is done. */
    replace(&p->exe, value);
    free(p->exec);
    p->exec = NULL;
    p->findings_exec_last = 0; /* that exec is done */
    p->used_loop_before_exec |= p->used_loop;
    p->used_loop = 0;
    p->uses[0] = '\0';
  } else if (!strcmp(key, "exec") || !strcmp(key, "exec_untraced")) {
    replace(&p->exec, value);
    p->exec_untraced = !strcmp(key, "exec_untraced");
    p->findings_exec_last = 0; /* its findings_at_exec, if any, follows */
  } else if (!strcmp(key, "exec_failed")) {
    free(p->exec);
    p->exec = NULL;
    /* The image that failed to exec runs on, and reports them itself. */
    p->findings_exec -= p->findings_exec_last < p->findings_exec
                            ? p->findings_exec_last
                            : p->findings_exec;
    p->findings_exec_last = 0;
  } else if (!strcmp(key, "findings_at_exec")) {
    p->findings_exec_last = number(value);
    p->findings_exec += p->findings_exec_last;
  } else if (!strcmp(key, "findings_exec_fail")) {
    p->findings_exec_fail = 1;
  } else if (!strcmp(key, "uses")) {
    if (!p->used_loop)
      snprintf(p->uses, sizeof(p->uses), "%s", value);
    p->used_loop = 1;
  } else if (!strcmp(key, "error")) {
    replace(&p->error, value);
  }
}

size_t cli_split(char *line, char **field, size_t max) {
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

int cli_frame_parse(char **f, size_t n, struct cli_frame *out) {
  if (n < 7 || strcmp(f[0], "frame") != 0)
    return -1;
  *out = (struct cli_frame){f[1], f[2], f[3], f[5], f[6],
                            (unsigned)number(f[4]),
                            n >= 8 && !strcmp(f[7], "1"),
                            n >= 9 ? f[8] : f[3]};
  return 0;
}

/* The records of <pid>.rec, pointing into its text, which p keeps. Lines
 * it does not know are left alone: the runtime may add some. */
static int parse_rec(struct cli_proc *p, char *text) {
  size_t groups_alloc = 0, supps_alloc = 0, frames_alloc = 0;
  size_t finds_alloc = 0, fframes_alloc[2] = {0, 0};
  char *line, *save = NULL, *f[11];

  p->rec = text;
  for (line = strtok_r(text, "\n", &save); line != NULL;
       line = strtok_r(NULL, "\n", &save)) {
    size_t n = cli_split(line, f, CLI_ARRAY_SIZE(f));

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
      cli_frame_parse(f, n, &g->frames[g->nframes++]);
    } else if (!strcmp(f[0], "finding") && (n == 8 || n == 10)) {
      /* The threads came with the wrong-thread check. */
      if (grow((void **)&p->finds, &finds_alloc, p->nfinds,
               sizeof(p->finds[0])) != 0)
        return -1;
      p->finds[p->nfinds++] = (struct cli_finding){
          f[1], f[2], f[3], f[6], number(f[4]), number(f[5]), atoi(f[7]),
          n == 10 ? atol(f[8]) : 0, n == 10 ? atol(f[9]) : 0,
          {NULL, NULL}, {0, 0}};
      fframes_alloc[0] = fframes_alloc[1] = 0;
    } else if (!strcmp(f[0], "finding_frame") && n >= 8 && p->nfinds > 0 &&
               (!strcmp(f[1], "0") || !strcmp(f[1], "1"))) {
      struct cli_finding *g = &p->finds[p->nfinds - 1];
      int k = f[1][0] - '0';

      if (grow((void **)&g->frames[k], &fframes_alloc[k], g->nframes[k],
               sizeof(g->frames[k][0])) != 0)
        return -1;
      /* After the stack's number, the fields of a "frame" line. */
      f[1] = (char *)"frame";
      cli_frame_parse(f + 1, n - 1, &g->frames[k][g->nframes[k]++]);
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

/* Adds a process to r, and to x, its index by pid. */
static struct cli_proc *proc_add(struct cli_reports *r,
                                 struct cli_pidindex *x, const char *file,
                                 pid_t pid, unsigned long long start) {
  struct cli_proc *p;

  if (r->nr == r->alloc) {
    size_t alloc = r->alloc ? r->alloc * 2 : 16;
    struct cli_proc *grown = realloc(r->procs, alloc * sizeof(*grown));
    if (grown == NULL)
      return NULL;
    r->procs = grown;
    r->alloc = alloc;
  }
  p = &r->procs[r->nr];
  memset(p, 0, sizeof(*p));
  p->file = strdup(file);
  if (p->file == NULL)
    return NULL;
  if (cli_pidindex_add(x, pid) != 0) {
    free(p->file);
    return NULL;
  }
  p->pid = pid;
  p->start = start;
  p->running = -1;
  r->nr++;
  return p;
}

static long long nanoseconds(const struct timespec *t) {
  return t->tv_sec * 1000000000LL + t->tv_nsec;
}

/* Whether the process of pid that started at start (clock ticks after
 * boot, from its file's name) is still running: 1, 0, or -1 when that
 * cannot be told (no /proc). A process with that pid and another start
 * time is another one, given the pid of one that had ended; a zombie has
 * ended too. A file whose name has no start time (its process could not
 * read /proc) is judged by its last change: a process that started after
 * it is another one, with 50 ms of slack for the coarse clocks. */
static int still_running(pid_t pid, unsigned long long start,
                         const struct timespec *noted) {
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
  if (start != 0)
    return ticks == start;
  /* Its start time counts from boot: now, less the time since then. */
  if (clock_gettime(CLOCK_REALTIME, &now) != 0 ||
      clock_gettime(CLOCK_BOOTTIME, &boot) != 0)
    return -1;
  started = nanoseconds(&now) - nanoseconds(&boot) +
            (long long)(ticks / (unsigned long)hz) * 1000000000LL +
            (long long)(ticks % (unsigned long)hz) * 1000000000LL / hz;
  return started <= nanoseconds(noted) + 50000000LL;
}

/* Notes which processes are still running; returns how many. */
static size_t note_running(struct cli_reports *r, int dir) {
  size_t running = 0;

  for (size_t i = 0; i < r->nr; i++) {
    struct cli_proc *p = &r->procs[i];
    struct stat st;

    /* A process that has ended stays ended: its pid and start time are
     * never another's. */
    if (p->running == 0 ||
        fstatat(dir, p->file, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
        !S_ISREG(st.st_mode))
      continue;
    p->running = still_running(p->pid, p->start, &st.st_mtim);
    running += p->running == 1;
  }
  return running;
}

static char *copy_of(const char *data, size_t len) {
  char *c = malloc(len + 1);

  if (c != NULL) {
    memcpy(c, data, len);
    c[len] = '\0';
  }
  return c;
}

/* One block of the report: "@kind <len>\n", len bytes and a newline. */
static void block(struct cli_proc *p, const char *kind, const char *data,
                  size_t len) {
  char *c = copy_of(data, len);

  if (c == NULL) {
    cli_warning("out of memory: part of the report of process %d is left "
                "out", (int)p->pid);
    return;
  }
  if (!strcmp(kind, "txt") && p->text == NULL) {
    p->text = c;
    p->text_len = len;
  } else if (!strcmp(kind, "rec") && p->rec == NULL) {
    if (parse_rec(p, c) != 0)
      cli_warning("out of memory: leaks of process %d are left out of "
                  "the machine-readable reports", (int)p->pid);
  } else if (!strcmp(kind, "sum")) {
    each_pair(p, c, sum_pair);
    p->has_sum = 1;
    free(c);
  } else {
    free(c);
  }
}

/* "child=<pid>-<start>[ <exec>]" of parent p, the file last changed at
 * noted: added to c unless there already. */
static void add_child(struct children *c, const struct cli_proc *p,
                      const struct timespec *noted, const char *key,
                      char *value) {
  unsigned long long pid, start;
  const char *v = value, *exec = NULL;
  struct child *k;

  if (name_number(&v, INT_MAX, &pid) != 0 || pid == 0 || *v++ != '-' ||
      name_number(&v, ULLONG_MAX / 10, &start) != 0 ||
      (*v != '\0' && *v != ' '))
    return;
  if (*v == ' ')
    exec = v + 1;
  for (size_t it = cli_pidindex_first(&c->index, (pid_t)pid); it != 0;
       it = cli_pidindex_next(&c->index, it))
    if (c->list[it - 1].start == start)
      return;
  if (grow((void **)&c->list, &c->alloc, c->n, sizeof(*k)) != 0)
    return;
  k = &c->list[c->n];
  *k = (struct child){(pid_t)pid, p->pid, start, *noted, NULL,
                      !strcmp(key, "child_untraced"), -2, NULL};
  if (exec != NULL && (k->exec = strdup(exec)) == NULL)
    return;
  if (cli_pidindex_add(&c->index, (pid_t)pid) != 0) {
    free(k->exec);
    return;
  }
  c->n++;
}

/* "child_error=<pid>-<start> <why>" of parent p: a fork child that could
 * not make its own file said why through its parent's. It may come
 * before the parent's "child=" line for it: the child is then added. */
static void child_error(struct children *c, const struct cli_proc *p,
                        const struct timespec *noted, char *value) {
  unsigned long long pid, start;
  const char *v = value;
  struct child *k = NULL;
  char id[48];

  if (name_number(&v, INT_MAX, &pid) != 0 || pid == 0 || *v++ != '-' ||
      name_number(&v, ULLONG_MAX / 10, &start) != 0 || *v != ' ')
    return;
  for (size_t i = 0; i < c->n && k == NULL; i++)
    if (c->list[i].pid == (pid_t)pid && c->list[i].start == start)
      k = &c->list[i];
  if (k == NULL) {
    snprintf(id, sizeof(id), "%llu-%llu", pid, start);
    add_child(c, p, noted, "child", id);
    for (size_t i = 0; i < c->n && k == NULL; i++)
      if (c->list[i].pid == (pid_t)pid && c->list[i].start == start)
        k = &c->list[i];
  }
  if (k != NULL && k->error == NULL)
    k->error = strdup(v + 1);
}

/* The lines and blocks of a report file, in the order written, into p
 * when parse is set, and the children it names into c. A line without its
 * newline was cut short, and a block shorter than it says was: the report
 * is then incomplete. */
static void walk_file(struct cli_proc *p, char *buf, size_t len, int parse,
                      struct children *c, const struct timespec *noted) {
  size_t at = 0;

  while (at < len) {
    char *line = buf + at, *nl = memchr(line, '\n', len - at), *end;

    if (nl == NULL) {
      p->cut |= parse;
      break;
    }
    if (line[0] == '@') {
      char *sp = memchr(line, ' ', (size_t)(nl - line));
      size_t body = (size_t)(nl - buf) + 1;
      unsigned long long n;

      if (sp == NULL || sp[1] < '0' || sp[1] > '9') {
        at = body;
        continue;
      }
      n = strtoull(sp + 1, &end, 10);
      if (end != nl || n >= len - body || buf[body + n] != '\n') {
        p->cut |= parse;
        break;
      }
      *sp = '\0';
      if (parse)
        block(p, line + 1, buf + body, (size_t)n);
      at = body + (size_t)n + 1;
      continue;
    }
    *nl = '\0';
    at = (size_t)(nl - buf) + 1;
    end = strchr(line, '=');
    if (end == NULL)
      continue;
    *end++ = '\0';
    if (!strcmp(line, "child") || !strcmp(line, "child_untraced"))
      add_child(c, p, noted, line, end);
    else if (!strcmp(line, "child_error"))
      child_error(c, p, noted, end);
    else if (parse)
      start_pair(p, line, end);
  }
}

static void set_cause(struct cli_proc *p, enum cli_missing m,
                      const char *fmt, ...) CLI_PRINTF(3, 4);

static void set_cause(struct cli_proc *p, enum cli_missing m,
                      const char *fmt, ...) {
  char text[1024];
  va_list ap;

  va_start(ap, fmt);
  vsnprintf(text, sizeof(text), fmt, ap);
  va_end(ap);
  p->missing = m;
  free(p->cause);
  p->cause = strdup(text);
}

/* The verdict on a process without a complete report: whether a loop
 * library's report was lost with it, and what is known of why. */
static void judge(struct cli_proc *p) {
  char lib[sizeof(p->uses)];

  if (p->has_sum) {
    p->missing = CLI_MISSING_NONE;
    return;
  }
  if (cli_proc_running(p)) {
    p->missing = CLI_MISSING_RUNNING;
    return;
  }
  if (!p->started && p->exec == NULL && p->error != NULL) {
    /* It said why it made no file ("child_error="): it ran on, its
     * report nowhere. It carries what its parent used. */
    if (p->uses[0] != '\0')
      set_cause(p, CLI_MISSING_FAILS, "it could not make its report file "
                "(%s): its parent had changed user or root directory before "
                "forking it, and it ran on with the %s its parent used, "
                "whose handles it may have left open unseen", p->error,
                p->uses);
    else
      set_cause(p, CLI_MISSING_NOTED, "it could not make its report file "
                "(%s): its parent had changed user or root directory before "
                "forking it; its parent had used no loop library, and "
                "whether it used one itself cannot be told", p->error);
    p->unchecked = p->uses[0] == '\0';
    return;
  }
  if (!p->started && p->exec == NULL) {
    /* A fork child runs the runtime's atfork handler, which makes its
     * file, before fork() returns in it: it ran none of its own code. */
    set_cause(p, CLI_MISSING_NOTED, "it ended before the runtime made its "
              "file: it was killed as it was forked by process %d, or "
              "could not reach the report directory (its parent had changed "
              "user or root directory); what it inherited is its parent's, "
              "whether it used a loop library itself cannot be told",
              (int)p->ppid);
    p->unchecked = 1;
    return;
  }
  if (p->exec != NULL && p->exec_untraced) {
    int uses = cli_elf_uses_loop(p->exec, lib, sizeof(lib));

    if (uses == 1)
      set_cause(p, CLI_MISSING_UNTRACED, "executed '%s', which uses %s "
                "and was not checked (--trace-children=no)", p->exec, lib);
    else if (uses < 0)
      set_cause(p, CLI_MISSING_UNTRACED, "executed '%s', which was not "
                "checked (--trace-children=no); whether it uses a loop "
                "library cannot be told", p->exec);
    else
      set_cause(p, CLI_MISSING_UNTRACED, "executed '%s', which uses no "
                "loop library (--trace-children=no)", p->exec);
    p->unchecked = uses != 0;
    return;
  }
  if (p->exec != NULL) {
    switch (cli_elf_uses_loop(p->exec, lib, sizeof(lib))) {
    case 1:
      set_cause(p, CLI_MISSING_FAILS, "it executed '%s', which uses %s, "
                "and that program wrote nothing: it ran without the "
                "runtime, or could not reach the report directory (the "
                "process had changed user or root directory)", p->exec, lib);
      snprintf(p->uses, sizeof(p->uses), "%s", lib);
      return;
    case 0:
      set_cause(p, CLI_MISSING_NOTED, "it executed '%s', which uses no "
                "loop library and wrote nothing (it ran without the runtime, "
                "or could not reach the report directory); nothing was lost",
                p->exec);
      return;
    default:
      set_cause(p, CLI_MISSING_NOTED, "it executed '%s', which wrote "
                "nothing; whether that program uses a loop library cannot be "
                "told", p->exec);
      p->unchecked = 1;
      return;
    }
  }
  if (p->used_loop || p->text != NULL || p->rec != NULL) {
    if (p->uses[0] == '\0')
      snprintf(p->uses, sizeof(p->uses), "a loop library");
    if (p->error != NULL)
      set_cause(p, CLI_MISSING_FAILS, "%s", p->error);
    else if (p->cut)
      set_cause(p, CLI_MISSING_FAILS, "its report was cut short: a write "
                "failed part way (a full disk, or a file size limit)");
    else if (p->text != NULL || p->rec != NULL)
      set_cause(p, CLI_MISSING_FAILS, "it ended while writing its report");
    else if (p->running == -1)
      set_cause(p, CLI_MISSING_FAILS, "it was killed, or is still running "
                "where asyncleak cannot see it");
    else
      set_cause(p, CLI_MISSING_FAILS, "it was killed by a signal the "
                "runtime cannot catch or does not handle, its report did not "
                "finish in time, or it could not be written (a full disk, a "
                "file size limit)");
    return;
  }
  if (p->error != NULL)
    set_cause(p, CLI_MISSING_NOTED, "%s; it had used no loop library",
              p->error);
  else if (p->running == -1)
    set_cause(p, CLI_MISSING_NOTED, "it was killed, or is still running "
              "where asyncleak cannot see it, having used no loop library");
  else
    set_cause(p, CLI_MISSING_NOTED, "it ended having used no loop library; "
              "nothing was lost");
}

static int by_pid(const void *a, const void *b) {
  const struct cli_proc *x = a, *y = b;

  if (x->pid != y->pid)
    return (x->pid > y->pid) - (x->pid < y->pid);
  if (x->start != y->start)
    return (x->start > y->start) - (x->start < y->start);
  return strcmp(x->file, y->file);
}

static void proc_free(struct cli_proc *p) {
  for (size_t k = 0; k < p->ngroups; k++)
    free(p->groups[k].frames);
  free(p->groups);
  free(p->supps);
  for (size_t k = 0; k < p->nfinds; k++) {
    free(p->finds[k].frames[0]);
    free(p->finds[k].frames[1]);
  }
  free(p->finds);
  for (size_t k = 0; k < p->ncopies; k++) {
    free(p->copies[k].library);
    free(p->copies[k].object);
  }
  free(p->copies);
  free(p->rec);
  free(p->exe);
  free(p->exec);
  free(p->error);
  free(p->cause);
  free(p->file);
  free(p->text);
}

/* Adds the files of the directory not already in r, whose index is x. */
static void scan(struct cli_reports *r, struct cli_pidindex *x, DIR *d) {
  struct dirent *e;

  rewinddir(d);
  while ((e = readdir(d)) != NULL) {
    unsigned long long start;
    pid_t pid;
    size_t it;

    if (parse_name(e->d_name, &pid, &start) != 0)
      continue;
    for (it = cli_pidindex_first(x, pid);
         it != 0 && strcmp(r->procs[it - 1].file, e->d_name);
         it = cli_pidindex_next(x, it))
      ;
    if (it != 0)
      continue;
    if (proc_add(r, x, e->d_name, pid, start) == NULL) {
      cli_warning("out of memory: some reports are left out");
      break;
    }
  }
}

/* The children that the file of p names, into c. */
static void read_children(struct cli_proc *p, int dir, struct children *c) {
  struct stat st;
  size_t len;
  char *text;
  int capped;

  if (fstatat(dir, p->file, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
      (text = slurp(dir, p->file, &len, &capped)) == NULL)
    return;
  walk_file(p, text, len, 0, c, &st.st_mtim);
  free(text);
}

/* The process of r, whose index is x, that child k is, or NULL while it
 * has no file. */
static const struct cli_proc *child_proc(const struct cli_reports *r,
                                         const struct cli_pidindex *x,
                                         const struct child *k) {
  for (size_t it = cli_pidindex_first(x, k->pid); it != 0;
       it = cli_pidindex_next(x, it)) {
    const struct cli_proc *p = &r->procs[it - 1];

    if (k->start == 0 || p->start == 0 || p->start == k->start)
      return p;
  }
  return NULL;
}

/* Notes which children without a file yet are still running; returns
 * how many. */
static size_t note_children(const struct cli_reports *r,
                            const struct cli_pidindex *x,
                            struct children *c) {
  size_t running = 0;

  for (size_t i = 0; i < c->n; i++) {
    struct child *k = &c->list[i];

    /* Ended, it makes no file any more (as in note_running). */
    if (k->running == 0 || child_proc(r, x, k) != NULL)
      continue;
    k->running = still_running(k->pid, k->start, &k->noted);
    running += k->running == 1;
  }
  return running;
}

/* Each child that made no file, as a process of r without one: still
 * running (it may make it yet), or ended before the runtime made it. */
static void add_fileless(struct cli_reports *r, struct cli_pidindex *x,
                         struct children *c) {
  for (size_t i = 0; i < c->n; i++) {
    struct child *k = &c->list[i];
    struct cli_proc *p;
    size_t it;

    if (child_proc(r, x, k) != NULL)
      continue;
    if (k->running == -2)
      k->running = still_running(k->pid, k->start, &k->noted);
    p = proc_add(r, x, "", k->pid, k->start);
    if (p == NULL) {
      cli_warning("out of memory: some processes are left out");
      return;
    }
    p->running = k->running;
    p->ppid = k->parent;
    p->forked_from = k->exec == NULL ? k->parent : 0;
    p->exec = k->exec;
    p->exec_untraced = k->untraced;
    p->error = k->error;
    k->exec = k->error = NULL;
    /* A fork child runs what its parent ran, and carries the loop
     * library its parent used. */
    for (it = cli_pidindex_first(x, k->parent); p->exec == NULL && it != 0;
         it = cli_pidindex_next(x, it))
      if (&r->procs[it - 1] != p && r->procs[it - 1].started) {
        if (r->procs[it - 1].exe != NULL)
          p->exe = strdup(r->procs[it - 1].exe);
        if (r->procs[it - 1].used_loop)
          memcpy(p->uses, r->procs[it - 1].uses, sizeof(p->uses));
        break;
      }
    if (p->exec != NULL)
      p->exe = strdup(p->exec);
  }
}

static long long monotonic_ms(void) {
  struct timespec t;

  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1000LL + t.tv_nsec / 1000000;
}

/* Indexes the processes of r anew into x, after some were dropped. */
static void reindex(const struct cli_reports *r, struct cli_pidindex *x) {
  cli_pidindex_release(x);
  for (size_t i = 0; i < r->nr; i++)
    if (cli_pidindex_add(x, r->procs[i].pid) != 0) {
      cli_warning("out of memory: some processes are left out");
      break;
    }
}

void cli_reports_read(struct cli_reports *r, const char *dir) {
  struct children c;
  struct cli_pidindex x;
  size_t kept = 0, read = 0;
  long long deadline;
  DIR *d;

  memset(&c, 0, sizeof(c));
  memset(&x, 0, sizeof(x));

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
   * run for ever, and gets no more. A child its parent named may not have
   * made its file yet: it gets the same moment to make it, and is looked
   * for again. The moment is counted by the clock: reading many files
   * takes time of its own. */
  deadline = monotonic_ms() + GRACE_MS;
  for (;;) {
    size_t running;

    scan(r, &x, d);
    for (; read < r->nr; read++)
      read_children(&r->procs[read], dirfd(d), &c);
    running = note_running(r, dirfd(d)) + note_children(r, &x, &c);
    if (running == 0 || monotonic_ms() >= deadline)
      break;
    nanosleep(&(struct timespec){0, 10000000}, NULL);
  }
  for (size_t i = 0; i < r->nr; i++) {
    struct cli_proc *p = &r->procs[i];
    struct stat st;
    size_t len;
    int capped;
    char *text = slurp(dirfd(d), p->file, &len, &capped);

    /* Links, FIFOs and whatever else is not a regular file go. */
    if (text == NULL) {
      proc_free(p);
      continue;
    }
    p->started = 1;
    /* Children named since are added: a running process goes on making
     * them. */
    if (fstatat(dirfd(d), p->file, &st, AT_SYMLINK_NOFOLLOW) != 0)
      st.st_mtim = (struct timespec){0, 0};
    walk_file(p, text, len, 1, &c, &st.st_mtim);
    free(text);
    /* Whatever it held after the cut is not known. */
    if (capped) {
      p->cut = 1;
      p->has_sum = 0;
      if (p->error == NULL)
        p->error = strdup("its report file is larger than asyncleak "
                          "reads (64 MiB): it was cut short");
    }
    r->procs[kept++] = *p;
  }
  r->nr = kept;
  closedir(d);
  reindex(r, &x);
  add_fileless(r, &x, &c);
  cli_pidindex_release(&x);
  for (size_t i = 0; i < c.n; i++) {
    free(c.list[i].exec);
    free(c.list[i].error);
  }
  free(c.list);
  cli_pidindex_release(&c.index);
  if (r->nr > 0)
    qsort(r->procs, r->nr, sizeof(r->procs[0]), by_pid);
  for (size_t i = 0; i < r->nr; i++) {
    judge(&r->procs[i]);
    r->running += cli_proc_running(&r->procs[i]);
  }
}

size_t cli_reports_unwatched(const struct cli_reports *r) {
  size_t n = 0;

  for (size_t i = 0; i < r->nr; i++)
    n += r->procs[i].ncopies > 0;
  return n;
}

size_t cli_reports_missing(const struct cli_reports *r) {
  size_t n = 0;

  for (size_t i = 0; i < r->nr; i++)
    n += r->procs[i].missing == CLI_MISSING_FAILS;
  return n;
}

const struct cli_proc *cli_reports_main(const struct cli_reports *r,
                                        pid_t pid) {
  const struct cli_proc *found = NULL;

  for (size_t i = 0; i < r->nr; i++) {
    const struct cli_proc *p = &r->procs[i];

    if (p->pid != pid || p->forked_from != 0)
      continue;
    if (p->ppid == getpid())
      return p;
    if (found == NULL)
      found = p;
  }
  return found;
}

int cli_proc_running(const struct cli_proc *p) {
  return !p->has_sum && p->running == 1;
}

void cli_reports_prune(const struct cli_reports *r) {
  int fd = cli_reportdir_fd(r->dir); /* as in cli_reports_read */

  if (fd < 0)
    return;
  for (size_t i = 0; i < r->nr; i++)
    if (!cli_proc_running(&r->procs[i]) && r->procs[i].file[0] != '\0')
      unlinkat(fd, r->procs[i].file, 0);
  close(fd);
}

unsigned long long cli_proc_findings(const struct cli_proc *p) {
  return p->findings + p->findings_exec;
}

unsigned long long cli_proc_findings_failing(const struct cli_proc *p) {
  /* Those before an exec fail as the image that made them was told, the
   * new image's report (and its word) being possibly none. */
  return (p->findings_fail ? p->findings : 0) +
         (p->findings_fail || p->findings_exec_fail ? p->findings_exec : 0);
}

size_t cli_reports_findings_exec(const struct cli_reports *r) {
  size_t n = 0;

  for (size_t i = 0; i < r->nr; i++)
    n += r->procs[i].findings_exec > 0;
  return n;
}

int cli_group_fails(const struct cli_proc *p, const struct cli_group *g) {
  if (!strcmp(g->state, "closing"))
    return !g->baselined && p->closing_fails;
  return !g->baselined && strcmp(g->state, "ensured") != 0;
}

void cli_reports_release(struct cli_reports *r) {
  for (size_t i = 0; i < r->nr; i++)
    proc_free(&r->procs[i]);
  free(r->procs);
  memset(r, 0, sizeof(*r));
}
