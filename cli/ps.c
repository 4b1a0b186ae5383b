/* `asyncleak ps PID`: why a process running asyncleak is still running,
 * asked while it runs and without changing what it does.
 *
 * The runtime in the process answers on its socket (lib/live.c) with
 * records (lib/livedump.c): its loops, the threads running them, waiting
 * for events or inside a callback and since when, and what is open and
 * pending on each loop, grouped by creation site. This file asks, checks
 * that the answer comes from the process asked, adds the current stack of
 * each thread that has been inside a callback for a while
 * (threadstack.c), and writes it all as text or as JSON. --timeout asks
 * the same before it ends the program (spawn.c). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "../lib/live.h"
#include "cli.h"
#include "emit.h"

/* A thread inside a callback for this long has its stack read. */
enum { STUCK_MS = 100 };
/* How long the process may take to answer: its first answer symbolizes
 * every stack it lists, which for a large program takes a while. */
enum { ANSWER_TIMEOUT_MS = 30000 };
enum { MAX_STACK = 64 };

struct frames {
  struct cli_frame *f;
  size_t n, alloc;
};

struct ps_loop {
  const char *addr, *library;
  unsigned long serial; /* 0: not known to the registry */
  int is_default;
  long tid;
  int inherited; /* made before a fork, in the parent */
  struct frames made;
};

struct ps_run {
  const char *loop, *library;
  long tid;
  int waiting;
  unsigned long ms;
  int tried; /* its stack was asked for */
  struct cli_stack stack;
  char why[256];
};

struct ps_group {
  const char *loop, *cls, *type, *detail, *fingerprint;
  unsigned long long count;
  long long age_ms; /* a request's, else -1 */
  struct frames frames;
};

struct ps_answer {
  pid_t pid;
  char *text;
  struct ps_loop *loops;
  size_t nloops;
  struct ps_run *runs;
  size_t nruns;
  struct ps_group *groups;
  size_t ngroups;
  unsigned long runs_unlisted, unreadable, missed;
  int complete; /* the "end" record came */
};

/* ------------------------------------------------------------- asking */

static long long now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* Why pid did not answer, from what /proc shows of it. */
static void no_answer(pid_t pid, int err, char *why, size_t len) {
  char path[64], line[PATH_MAX + 128];
  FILE *maps;
  int runtime = 0;

  if (kill(pid, 0) != 0 && errno == ESRCH) {
    snprintf(why, len, "no process %d", (int)pid);
    return;
  }
  snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
  maps = fopen(path, "re");
  if (maps == NULL) {
    snprintf(why, len, "process %d may not be inspected by this user (%s)",
             (int)pid, strerror(errno));
    return;
  }
  while (!runtime && fgets(line, sizeof(line), maps) != NULL)
    runtime = strstr(line, "/libasyncleak.so") != NULL;
  /* Empty for a process of another user: the kernel hides it. */
  if (ferror(maps) || (line[0] == '\0' && !runtime))
    runtime = -1;
  fclose(maps);
  if (runtime == 0)
    snprintf(why, len, "process %d is not running asyncleak", (int)pid);
  else
    snprintf(why, len,
             "process %d does not answer (%s): it has run no loop yet, "
             "runs with live=0, or put itself under a seccomp filter",
             (int)pid, strerror(err));
}

/* Reads the answer of pid into a->text: 0, or -1 with why set. */
static int ask(pid_t pid, struct ps_answer *a, char *why, size_t len) {
  struct sockaddr_un addr;
  socklen_t alen = al_live_address(pid, &addr);
  struct ucred cred;
  socklen_t clen = sizeof(cred);
  size_t used = 0, size = 0;
  long long end;
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

  if (fd < 0) {
    snprintf(why, len, "cannot make a socket: %s", strerror(errno));
    return -1;
  }
  if (connect(fd, (struct sockaddr *)&addr, alen) != 0) {
    no_answer(pid, errno, why, len);
    close(fd);
    return -1;
  }
  /* An abstract name is anyone's to take: only pid's answer counts. */
  if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) != 0 ||
      cred.pid != pid) {
    snprintf(why, len, "the socket of process %d is held by process %d: "
                       "its answer is not taken",
             (int)pid, (int)cred.pid);
    close(fd);
    return -1;
  }
  if (send(fd, AL_LIVE_REQUEST, strlen(AL_LIVE_REQUEST), MSG_NOSIGNAL) < 0) {
    no_answer(pid, errno, why, len);
    close(fd);
    return -1;
  }
  end = now_ms() + ANSWER_TIMEOUT_MS;
  for (;;) {
    struct pollfd p = {fd, POLLIN, 0};
    long long left = end - now_ms();
    ssize_t n;

    if (left <= 0) {
      snprintf(why, len, "process %d did not answer within %d s", (int)pid,
               ANSWER_TIMEOUT_MS / 1000);
      break;
    }
    if (poll(&p, 1, (int)left) < 0 && errno != EINTR)
      break;
    if (used + 4096 + 1 > size) {
      char *more = realloc(a->text, size = size ? size * 2 : 65536);
      if (more == NULL) {
        snprintf(why, len, "out of memory");
        break;
      }
      a->text = more;
    }
    n = recv(fd, a->text + used, size - used - 1, MSG_DONTWAIT);
    if (n < 0 && (errno == EINTR || errno == EAGAIN))
      continue;
    if (n < 0) {
      snprintf(why, len, "reading the answer of process %d: %s", (int)pid,
               strerror(errno));
      break;
    }
    if (n == 0) {
      close(fd);
      a->text[used] = '\0';
      return 0;
    }
    used += (size_t)n;
  }
  close(fd);
  return -1;
}

/* ------------------------------------------------------------ reading */

static int grow(void **array, size_t *alloc, size_t used, size_t size) {
  void *more;

  if (used < *alloc)
    return 0;
  more = realloc(*array, (*alloc = *alloc ? *alloc * 2 : 8) * size);
  if (more == NULL)
    return -1;
  *array = more;
  return 0;
}

static int add_frame(struct frames *fr, char **f, size_t n) {
  if (grow((void **)&fr->f, &fr->alloc, fr->n, sizeof(*fr->f)) != 0)
    return -1;
  if (cli_frame_parse(f, n, &fr->f[fr->n]) == 0)
    fr->n++;
  return 0;
}

static struct ps_loop *loop_of(struct ps_answer *a, const char *addr) {
  for (size_t i = 0; i < a->nloops; i++)
    if (!strcmp(a->loops[i].addr, addr))
      return &a->loops[i];
  return NULL;
}

/* The records, pointing into a->text. Lines not known are left alone:
 * a later runtime may add some. */
static int parse(struct ps_answer *a, char *why, size_t len) {
  size_t aloops = 0, aruns = 0, agroups = 0;
  struct frames *last = NULL;
  char *line, *save = NULL, *f[10];

  line = strtok_r(a->text, "\n", &save);
  if (line == NULL || strcmp(line, AL_LIVE_ANSWER) != 0) {
    if (line != NULL && !strncmp(line, "refused\t", 8))
      snprintf(why, len, "process %d refused: %s", (int)a->pid, line + 8);
    else
      snprintf(why, len, "process %d answered in a form this asyncleak does "
                         "not know (another version?)", (int)a->pid);
    return -1;
  }
  while ((line = strtok_r(NULL, "\n", &save)) != NULL) {
    size_t n = cli_split(line, f, CLI_ARRAY_SIZE(f));

    if (!strcmp(f[0], "frame")) {
      if (last != NULL && add_frame(last, f, n) != 0)
        return -1;
      continue;
    }
    last = NULL;
    if (!strcmp(f[0], "loop") && n >= 6) {
      struct ps_loop *l;
      if (grow((void **)&a->loops, &aloops, a->nloops, sizeof(*l)) != 0)
        return -1;
      l = &a->loops[a->nloops++];
      *l = (struct ps_loop){f[1], f[2], strtoul(f[3], NULL, 10),
                            !strcmp(f[4], "1"), strtol(f[5], NULL, 10),
                            n >= 7 && !strcmp(f[6], "1"), {0}};
      last = &l->made;
    } else if (!strcmp(f[0], "run") && n >= 6) {
      struct ps_run *r;
      if (grow((void **)&a->runs, &aruns, a->nruns, sizeof(*r)) != 0)
        return -1;
      r = &a->runs[a->nruns++];
      memset(r, 0, sizeof(*r));
      r->loop = f[1];
      r->tid = strtol(f[2], NULL, 10);
      r->waiting = !strcmp(f[3], "waiting");
      r->ms = strtoul(f[4], NULL, 10);
      r->library = f[5];
    } else if (!strcmp(f[0], "group") && n >= 9) {
      struct ps_group *g;
      if (grow((void **)&a->groups, &agroups, a->ngroups, sizeof(*g)) != 0)
        return -1;
      g = &a->groups[a->ngroups++];
      *g = (struct ps_group){f[1], f[2], f[3], f[6], f[7],
                             strtoull(f[4], NULL, 10),
                             f[5][0] != '\0' ? strtoll(f[5], NULL, 10) : -1,
                             {0}};
      last = &g->frames;
    } else if (!strcmp(f[0], "runs_unlisted") && n >= 2) {
      a->runs_unlisted = strtoul(f[1], NULL, 10);
    } else if (!strcmp(f[0], "unreadable") && n >= 2) {
      a->unreadable = strtoul(f[1], NULL, 10);
    } else if (!strcmp(f[0], "missed") && n >= 2) {
      a->missed = strtoul(f[1], NULL, 10);
    } else if (!strcmp(f[0], "end")) {
      a->complete = 1;
    }
  }
  /* A run of a loop the registry does not hold (made before the
   * runtime could see it) is listed all the same. */
  for (size_t i = 0; i < a->nruns; i++) {
    struct ps_loop *l;
    if (loop_of(a, a->runs[i].loop) != NULL)
      continue;
    if (grow((void **)&a->loops, &aloops, a->nloops, sizeof(*l)) != 0)
      return -1;
    l = &a->loops[a->nloops++];
    *l = (struct ps_loop){a->runs[i].loop, a->runs[i].library, 0, 0, 0, 0,
                          {0}};
  }
  return 0;
}

static void take_stacks(struct ps_answer *a) {
  for (size_t i = 0; i < a->nruns; i++) {
    struct ps_run *r = &a->runs[i];
    if (r->waiting || r->ms < STUCK_MS)
      continue;
    r->tried = 1;
    if (cli_thread_stack(a->pid, (pid_t)r->tid, &r->stack, MAX_STACK, r->why,
                         sizeof(r->why)) != 0)
      cli_stack_release(&r->stack);
  }
}

static void answer_release(struct ps_answer *a) {
  for (size_t i = 0; i < a->nloops; i++)
    free(a->loops[i].made.f);
  for (size_t i = 0; i < a->nruns; i++)
    cli_stack_release(&a->runs[i].stack);
  for (size_t i = 0; i < a->ngroups; i++)
    free(a->groups[i].frames.f);
  free(a->loops);
  free(a->runs);
  free(a->groups);
  free(a->text);
  memset(a, 0, sizeof(*a));
}

/* Asks pid and reads its answer, with the stacks of its stuck threads. */
static int query(pid_t pid, struct ps_answer *a, char *why, size_t len) {
  memset(a, 0, sizeof(*a));
  a->pid = pid;
  if (ask(pid, a, why, len) != 0 || parse(a, why, len) != 0) {
    answer_release(a);
    return -1;
  }
  take_stacks(a);
  return 0;
}

/* --------------------------------------------------------------- text */

static const struct {
  const char *cls, *title;
} classes[] = {
    {"alive", "keeping it running"},
    {"pending", "pending"},
    {"open", "open, not keeping it running"},
    {"closing", "closing"},
};

static void put_duration(FILE *out, unsigned long long ms) {
  if (ms < 1000)
    fprintf(out, "%llu ms", ms);
  else
    fprintf(out, "%llu.%llu s", ms / 1000, ms % 1000 / 100);
}

static void put_frames(FILE *out, const struct frames *fr) {
  for (size_t i = 0; i < fr->n; i++) {
    const struct cli_frame *f = &fr->f[i];
    fprintf(out, "      #%zu %s", i, f->pc);
    if (f->function[0] != '\0')
      fprintf(out, " in %s", f->function);
    if (f->source[0] != '\0')
      fprintf(out, " %s:%u", f->source, f->line);
    else if (f->module[0] != '\0')
      fprintf(out, " (%s+%s)", f->module, f->offset);
    fprintf(out, "%s\n", f->inlined ? " (inlined)" : "");
  }
}

static void put_stack(FILE *out, const struct cli_stack *s) {
  for (size_t i = 0; i < s->n; i++) {
    const struct cli_stack_frame *f = &s->frames[i];
    fprintf(out, "      #%zu 0x%012lx", i, f->pc);
    if (f->function != NULL)
      fprintf(out, " in %s", f->function);
    if (f->file != NULL)
      fprintf(out, " %s:%u", f->file, f->line);
    else if (f->module != NULL)
      fprintf(out, " (%s)", f->module);
    fprintf(out, "\n");
  }
}

/* Where a loop was made: its creation stack's first frame, the call
 * that made it. */
static void put_made_at(FILE *out, const struct frames *fr) {
  const struct cli_frame *f = fr->n > 0 ? &fr->f[0] : NULL;

  if (f == NULL)
    return;
  fprintf(out, ", made at %s", f->function[0] ? f->function : f->pc);
  if (f->source[0] != '\0')
    fprintf(out, " (%s:%u)", f->source, f->line);
  else if (f->module[0] != '\0')
    fprintf(out, " (%s+%s)", f->module, f->offset);
}

static void put_thread(FILE *out, const struct ps_answer *a, long tid) {
  fprintf(out, "thread %ld%s", tid, tid == a->pid ? " (main)" : "");
}

static void put_run(FILE *out, const struct ps_answer *a,
                    const struct ps_run *r, const char *bold,
                    const char *off) {
  fprintf(out, "  ");
  put_thread(out, a, r->tid);
  if (r->waiting) {
    fprintf(out, " runs it: waiting for events, for ");
    put_duration(out, r->ms);
    fprintf(out, "\n");
    return;
  }
  fprintf(out, " runs it: %sinside a callback for ", bold);
  put_duration(out, r->ms);
  fprintf(out, "%s", off);
  if (r->stack.n > 0) {
    fprintf(out, ", now at:\n");
    put_stack(out, &r->stack);
  } else if (r->tried) {
    fprintf(out, " (its stack could not be read: %s)\n", r->why);
  } else {
    fprintf(out, "\n");
  }
}

static unsigned long long class_count(const struct ps_answer *a,
                                      const char *loop, const char *cls) {
  unsigned long long n = 0;
  for (size_t i = 0; i < a->ngroups; i++)
    if (!strcmp(a->groups[i].loop, loop) && !strcmp(a->groups[i].cls, cls))
      n += a->groups[i].count;
  return n;
}

static void put_groups(FILE *out, const struct ps_answer *a,
                       const struct ps_loop *l) {
  for (size_t c = 0; c < CLI_ARRAY_SIZE(classes); c++) {
    unsigned long long n = class_count(a, l->addr, classes[c].cls);
    int req = !strcmp(classes[c].cls, "pending");

    if (n == 0)
      continue;
    fprintf(out, "  %s: %llu %s\n", classes[c].title, n,
            req ? (n == 1 ? "request" : "requests")
                : (n == 1 ? "handle" : "handles"));
    for (size_t i = 0; i < a->ngroups; i++) {
      const struct ps_group *g = &a->groups[i];
      if (strcmp(g->loop, l->addr) != 0 || strcmp(g->cls, classes[c].cls))
        continue;
      fprintf(out, "    %llu %s (", g->count, g->type);
      if (g->age_ms >= 0) {
        fprintf(out, "pending for ");
        put_duration(out, (unsigned long long)g->age_ms);
        if (g->detail[0] != '\0')
          fprintf(out, ": %s", g->detail);
      } else {
        fprintf(out, "%s", g->detail);
      }
      fprintf(out, "), made at:\n");
      put_frames(out, &g->frames);
    }
  }
}

static void put_text(FILE *out, const struct ps_answer *a, int color) {
  const char *bold = color ? "\033[1m" : "", *off = color ? "\033[0m" : "";

  fprintf(out, "%sProcess %d%s: %zu loop%s\n", bold, (int)a->pid, off,
          a->nloops, a->nloops == 1 ? "" : "s");
  for (size_t i = 0; i < a->nloops; i++) {
    const struct ps_loop *l = &a->loops[i];
    int runs = 0, held = 0;

    fprintf(out, "\n%sLoop", bold);
    if (l->serial > 0)
      fprintf(out, " %lu", l->serial);
    fprintf(out, " (%s%s%s) at %s%s", l->library,
            l->is_default ? ", the default loop" : "",
            l->inherited ? ", inherited from the parent process" : "",
            l->addr, off);
    put_made_at(out, &l->made);
    fprintf(out, "\n");
    for (size_t k = 0; k < a->nruns; k++)
      if (!strcmp(a->runs[k].loop, l->addr)) {
        put_run(out, a, &a->runs[k], bold, off);
        runs++;
      }
    if (runs == 0)
      fprintf(out, "  no thread runs it\n");
    for (size_t k = 0; k < a->ngroups; k++)
      held += !strcmp(a->groups[k].loop, l->addr);
    if (held == 0)
      fprintf(out, "  nothing of the program's is open on it\n");
    put_groups(out, a, l);
  }
  if (a->runs_unlisted > 0)
    fprintf(out, "\n%lu more runs of loops could not be listed\n",
            a->runs_unlisted);
  if (a->unreadable > 0)
    fprintf(out, "\nIncomplete: %lu parts of the registry stayed locked\n",
            a->unreadable);
  if (a->missed > 0)
    fprintf(out, "\nIncomplete: %lu events of signal handlers could not be "
                 "followed\n", a->missed);
  if (!a->complete)
    fprintf(out, "\nIncomplete: the answer was cut short\n");
}

/* --------------------------------------------------------------- JSON */

static void json_frames(struct cli_json *j, const char *key,
                        const struct frames *fr) {
  cli_json_array(j, key);
  for (size_t i = 0; i < fr->n; i++)
    cli_json_frame(j, &fr->f[i]);
  cli_json_close_array(j);
}

static void json_stack(struct cli_json *j, const struct cli_stack *s) {
  char pc[32];

  cli_json_array(j, "stack");
  for (size_t i = 0; i < s->n; i++) {
    const struct cli_stack_frame *f = &s->frames[i];
    snprintf(pc, sizeof(pc), "%#lx", f->pc);
    cli_json_object(j, NULL);
    cli_json_string(j, "pc", pc);
    cli_json_string(j, "function", f->function);
    cli_json_string(j, "file", f->file);
    if (f->line > 0)
      cli_json_uint(j, "line", f->line);
    else
      cli_json_null(j, "line");
    cli_json_string(j, "module", f->module);
    cli_json_close_object(j);
  }
  cli_json_close_array(j);
}

static void json_run(struct cli_json *j, const struct ps_run *r) {
  cli_json_object(j, NULL);
  cli_json_int(j, "thread", r->tid);
  cli_json_string(j, "state", r->waiting ? "waiting" : "callback");
  cli_json_uint(j, "for_ms", r->ms);
  if (r->stack.n > 0)
    json_stack(j, &r->stack);
  else
    cli_json_null(j, "stack");
  cli_json_string(j, "stack_error", r->tried && r->stack.n == 0 ? r->why
                                                                  : NULL);
  cli_json_close_object(j);
}

static void json_group(struct cli_json *j, const struct ps_group *g) {
  cli_json_object(j, NULL);
  cli_json_string(j, "class", g->cls);
  cli_json_bool(j, "keeps_loop_running", !strcmp(g->cls, "alive"));
  cli_json_string(j, "kind", strcmp(g->cls, "pending") ? "handle"
                                                        : "request");
  cli_json_string(j, "type", g->type);
  cli_json_uint(j, "count", g->count);
  cli_json_string(j, "state", g->detail[0] ? g->detail : NULL);
  if (g->age_ms >= 0)
    cli_json_uint(j, "pending_ms", (unsigned long long)g->age_ms);
  else
    cli_json_null(j, "pending_ms");
  cli_json_string(j, "fingerprint", g->fingerprint);
  json_frames(j, "stack", &g->frames);
  cli_json_close_object(j);
}

static void put_json(struct cli_json *j, const struct ps_answer *a) {
  cli_json_object(j, NULL);
  cli_json_int(j, "pid", a->pid);
  cli_json_bool(j, "complete", a->complete && a->unreadable == 0 &&
                                   a->missed == 0 && a->runs_unlisted == 0);
  cli_json_array(j, "loops");
  for (size_t i = 0; i < a->nloops; i++) {
    const struct ps_loop *l = &a->loops[i];

    cli_json_object(j, NULL);
    cli_json_string(j, "address", l->addr);
    cli_json_string(j, "library", l->library);
    if (l->serial > 0)
      cli_json_uint(j, "number", l->serial);
    else
      cli_json_null(j, "number");
    cli_json_bool(j, "default", l->is_default);
    cli_json_bool(j, "inherited", l->inherited);
    json_frames(j, "created_at", &l->made);
    cli_json_array(j, "runs");
    for (size_t k = 0; k < a->nruns; k++)
      if (!strcmp(a->runs[k].loop, l->addr))
        json_run(j, &a->runs[k]);
    cli_json_close_array(j);
    cli_json_array(j, "groups");
    for (size_t k = 0; k < a->ngroups; k++)
      if (!strcmp(a->groups[k].loop, l->addr))
        json_group(j, &a->groups[k]);
    cli_json_close_array(j);
    cli_json_close_object(j);
  }
  cli_json_close_array(j);
  cli_json_close_object(j);
}

/* ---------------------------------------------------------- the command */

int cli_ps_explain(FILE *out, pid_t pid, int color) {
  struct ps_answer a;
  char why[512];

  if (query(pid, &a, why, sizeof(why)) != 0) {
    fprintf(out, "asyncleak: cannot tell: %s\n", why);
    return -1;
  }
  put_text(out, &a, color);
  answer_release(&a);
  return 0;
}

static int parse_pid(const char *s, pid_t *pid) {
  char *end;
  long v;

  errno = 0;
  v = strtol(s, &end, 10);
  if (errno != 0 || end == s || *end != '\0' || v <= 0 || v > INT_MAX)
    return -1;
  *pid = (pid_t)v;
  return 0;
}

static void ps_usage(FILE *out) {
  fprintf(out, "usage: asyncleak ps [--json] PID...\n"
               "Prints, for each process PID running asyncleak, its loops, "
               "what the threads\nrunning them are doing, and what is open "
               "and pending on each, grouped by\ncreation site.\n");
}

int cli_ps_main(int argc, char **argv) {
  struct cli_json j;
  int json = 0, rc = 0, first = 1, npids = 0;

  for (int i = 1; i < argc; i++) {
    pid_t pid;
    if (!strcmp(argv[i], "--json"))
      json = 1;
    else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
      ps_usage(stdout);
      return 0;
    } else if (parse_pid(argv[i], &pid) != 0) {
      cli_error("ps: '%s' is not a process id", argv[i]);
      ps_usage(stderr);
      return CLI_EXIT_FAILURE;
    } else
      npids++;
  }
  if (npids == 0) {
    ps_usage(stderr);
    return CLI_EXIT_FAILURE;
  }
  if (json) {
    cli_json_begin(&j, stdout);
    cli_json_object(&j, NULL);
    cli_json_string(&j, "schema", "asyncleak-ps");
    cli_json_int(&j, "version", 1);
    cli_json_array(&j, "processes");
  }
  for (int i = 1; i < argc; i++) {
    struct ps_answer a;
    char why[512];
    pid_t pid;

    if (parse_pid(argv[i], &pid) != 0)
      continue;
    if (query(pid, &a, why, sizeof(why)) != 0) {
      cli_error("ps: %s", why);
      rc = CLI_EXIT_FAILURE;
      continue;
    }
    if (json) {
      put_json(&j, &a);
    } else {
      if (!first)
        fputc('\n', stdout);
      put_text(stdout, &a, isatty(STDOUT_FILENO) &&
                               (getenv("NO_COLOR") == NULL ||
                                *getenv("NO_COLOR") == '\0'));
    }
    first = 0;
    answer_release(&a);
  }
  if (json) {
    cli_json_close_array(&j);
    cli_json_close_object(&j);
    if (cli_json_end(&j) != 0)
      rc = CLI_EXIT_FAILURE;
  } else if (fflush(stdout) != 0) {
    rc = CLI_EXIT_FAILURE;
  }
  return rc;
}
