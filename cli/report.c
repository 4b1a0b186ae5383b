/* Printing the run's reports and the lines that sum them up. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"

struct totals {
  unsigned long long open, pending, loops, loops_unclosed, created, requests,
      forced, cancelled, ensured, suppressed, baselined, closing,
      closing_failing;
  size_t leaking;  /* processes with handles open */
  size_t waiting;  /* processes with requests pending */
  size_t forcing;  /* processes with handles closed or requests cancelled
                      by force */
  size_t closers;  /* processes with closes not completed */
  int used_loop;   /* some process used a loop library */
  int incomplete;  /* some process left no report, or half of one */
  size_t unwatched; /* processes carrying their own copy of a loop
                       library */
};

/* Opens the log file, %p in its name standing for pid; stderr when there is
 * none or it cannot be opened. */
static int open_output(const char *pattern, pid_t pid) {
  char path[4096];
  size_t used = 0;
  int fd;

  if (pattern == NULL)
    return STDERR_FILENO;
  path[0] = '\0';
  for (const char *p = pattern; *p != '\0'; p++) {
    int n;

    if (p[0] == '%' && p[1] == 'p') {
      n = snprintf(path + used, sizeof(path) - used, "%d", (int)pid);
      p++;
    } else {
      n = snprintf(path + used, sizeof(path) - used, "%c", *p);
    }
    if (n < 0 || (size_t)n >= sizeof(path) - used) {
      cli_error("cannot open '%s': %s", pattern, strerror(ENAMETOOLONG));
      return STDERR_FILENO;
    }
    used += (size_t)n;
  }
  fd = cli_log_open(path);
  return fd < 0 ? STDERR_FILENO : fd;
}

static void add_up(const struct cli_reports *r, struct totals *t) {
  memset(t, 0, sizeof(*t));
  for (size_t i = 0; i < r->nr; i++) {
    const struct cli_proc *p = &r->procs[i];

    t->open += p->handles_open;
    t->closing += p->handles_closing;
    t->closing_failing += p->closing_fails ? p->handles_closing : 0;
    t->closers += p->handles_closing > 0;
    t->pending += p->requests_pending;
    t->cancelled += p->requests_cancelled;
    t->waiting += p->requests_pending > 0;
    t->loops += p->loops;
    t->loops_unclosed += p->loops_unclosed;
    t->created += p->handles_created;
    t->requests += p->requests_created;
    t->forced += p->handles_forced;
    t->ensured += p->resources_ensured;
    t->suppressed += p->suppressed;
    t->baselined += p->baselined;
    t->leaking += p->handles_open > 0;
    t->forcing += p->handles_forced + p->requests_cancelled > 0;
    t->used_loop |= p->used_loop;
    t->unwatched += p->ncopies > 0;
    /* A report cut short, or none from a process the runtime ran in. */
    t->incomplete |= (p->text != NULL || p->started) && !p->has_sum;
  }
}

/* An incomplete report is printed even when quiet: it is all there is of a
 * process that died while writing it. */
static void print_proc(int fd, const struct cli_proc *p, int quiet) {
  if (p->text == NULL)
    return;
  if (!p->has_sum)
    cli_say(fd, "process %d left an incomplete report", (int)p->pid);
  else if (quiet)
    return;
  cli_write_all(fd, p->text, p->text_len);
}

/* main_proc is what the program itself reported, or NULL. With graceful
 * signals it writes its whole report before dying of SIGINT or SIGTERM:
 * then there is nothing missing to excuse. */
static void say_killed(int fd, const struct cli_child *c,
                       const struct cli_proc *main_proc) {
  int sig = WTERMSIG(c->status);
  char name[32];

  cli_say(fd, "'%s' (pid %d) was killed by signal %d (%s: %s)", c->name,
          (int)c->pid, sig, cli_signame(sig, name, sizeof(name)),
          strsignal(sig));
  if (main_proc != NULL && main_proc->has_sum)
    return;
  cli_say(fd, "it was killed before it could write its report (SIGKILL, a "
          "signal it handles itself, --handle-signals=no, or a report slower "
          "than report_timeout_ms); handles open at that moment are not "
          "listed");
}

/* The other processes the runtime started in that had not written a
 * report: those still running write it later, into the directory, which
 * is kept for them (main.c). */
static void say_missing(int fd, const struct cli_reports *r,
                        const struct cli_child *c) {
  for (size_t i = 0; i < r->nr; i++) {
    const struct cli_proc *p = &r->procs[i];
    const char *exe = p->exe != NULL && p->exe[0] != '\0' ? p->exe : "?";

    if (p->pid == c->pid || p->has_sum || p->text != NULL || !p->started)
      continue;
    if (cli_proc_running(p))
      cli_say(fd, "process %d (%s) is still running: when it exits it "
              "writes its report, if it leaks, to '%s/%d.txt'; that "
              "directory is kept", (int)p->pid, exe, r->dir, (int)p->pid);
    else if (p->running == 0)
      cli_say(fd, "process %d (%s) ended without a report: it was killed "
              "before it could write one, or executed a program asyncleak "
              "does not trace", (int)p->pid, exe);
    else
      cli_say(fd, "process %d (%s) left no report: it was killed before it "
              "could write one, executed a program asyncleak does not "
              "trace, or is still running", (int)p->pid, exe);
  }
}

/* Each copy of a loop library a process carries, which no interposer
 * reaches. Said even when quiet: the run does not pass. */
static void say_copies(int fd, const struct cli_reports *r) {
  for (size_t i = 0; i < r->nr; i++) {
    const struct cli_proc *p = &r->procs[i];

    for (size_t k = 0; k < p->ncopies; k++)
      cli_say(fd, "process %d carries its own copy of %s, in '%s': "
              "asyncleak cannot watch it, and nothing made with it was "
              "checked", (int)p->pid, p->copies[k].library,
              p->copies[k].object);
  }
}

/* Everything the program left behind. Handles closed and requests
 * cancelled by force were left so by the program: leaks too. */
static unsigned long long leaks(const struct totals *t) {
  return t->open + t->pending + t->forced + t->cancelled +
         t->closing_failing;
}

/* Never "no leaks" when no loop library was seen: nothing was checked. */
static void say_clean(int fd, const struct cli_child *c,
                      const struct totals *t) {
  char requests[64] = "", loops[64] = "", hidden[96] = "";

  if (t->unwatched > 0 && !t->used_loop) {
    cli_say(fd, "nothing was checked: '%s' carries its own copy of a loop "
            "library, which asyncleak cannot watch", c->name);
    return;
  }
  if (t->unwatched > 0) {
    cli_say(fd, "the check is incomplete: no leaks in what could be "
            "watched (%llu loop(s), %llu handle(s) created), but the "
            "copies of a loop library named above were not checked",
            t->loops, t->created);
    return;
  }
  if (!t->used_loop) {
    cli_say(fd, "no supported event loop library (libuv, libevent) was used by '%s'; "
            "nothing was checked", c->name);
    return;
  }
  if (t->requests > 0)
    snprintf(requests, sizeof(requests), "; %llu request(s)%s", t->requests,
             t->suppressed + t->baselined > 0 ? "" : ", all completed");
  if (t->loops_unclosed > 0)
    snprintf(loops, sizeof(loops), "; %llu loop(s) never closed",
             t->loops_unclosed);
  /* What the user's files hid was left behind all the same: never "all
   * closed" then. */
  if (t->suppressed > 0 && t->baselined > 0)
    snprintf(hidden, sizeof(hidden), "; %llu suppressed, %llu in the "
             "baseline", t->suppressed, t->baselined);
  else if (t->suppressed > 0)
    snprintf(hidden, sizeof(hidden), "; %llu suppressed", t->suppressed);
  else if (t->baselined > 0)
    snprintf(hidden, sizeof(hidden), "; %llu in the baseline",
             t->baselined);
  if (hidden[0] != '\0' || t->closing > 0)
    cli_say(fd, "no leaks reported: %llu loop(s), %llu handle(s) "
            "created%s%s%s", t->loops, t->created, requests, loops, hidden);
  else
    cli_say(fd, "no leaks: %llu loop(s), %llu handle(s) created, all "
            "closed%s%s", t->loops, t->created, requests, loops);
}

/* The lines that add the run up; clean says whether "no leaks" may be said,
 * quiet that nothing but failures and warnings is. Handles closed by force
 * are handles the program left open, so they are leaks and rule that line
 * out just as open ones do. */
static void say_totals(int fd, const struct cli_child *c,
                       const struct totals *t, int clean, int quiet) {
  if (t->open > 0)
    cli_say(fd, "%llu handle(s) left open in %zu process(es)", t->open,
            t->leaking);
  if (t->pending > 0)
    cli_say(fd, "%llu request(s) pending in %zu process(es)", t->pending,
            t->waiting);
  if (t->forced > 0)
    cli_say(fd, "%llu handle(s) closed by force at shutdown in %zu "
            "process(es)", t->forced, t->forcing);
  if (t->cancelled > 0)
    cli_say(fd, "%llu request(s) cancelled by force at shutdown in %zu "
            "process(es)", t->cancelled, t->forcing);
  /* The program asked for these to be closed and exited before its loop
   * completed the close: said apart, and not a failure unless asked. */
  if (t->closing_failing > 0)
    cli_say(fd, "%llu handle(s) closing at exit in %zu process(es), the "
            "close never completed", t->closing, t->closers);
  else if (t->closing > 0 && !quiet)
    cli_say(fd, "%llu handle(s) closing at exit in %zu process(es): the "
            "close was asked for, but the loop did not run again to "
            "complete it; not a failure (--fail-on-closing makes it one)",
            t->closing, t->closers);
  if (leaks(t) == 0 && clean)
    say_clean(fd, c, t);
  /* Not a failure: the program handed these to asyncleak_ensure_closure,
   * which did its job, but it did not close them itself. Said even when
   * quiet, and to the log file with the other lines about the run, which
   * cli_warning() cannot do. */
  if (t->ensured > 0)
    cli_say(fd, "warning: %llu resource(s) were closed at shutdown by "
            "asyncleak_ensure_closure", t->ensured);
}

unsigned long long cli_report(const struct cli_reports *r,
                              const struct cli_child *c,
                              const struct cli_options *opt) {
  const struct cli_proc *main_proc = NULL;
  int fd = open_output(opt->log_file, c->pid);
  int killed = WIFSIGNALED(c->status);
  int quiet, complete;
  struct totals t;

  add_up(r, &t);
  /* Leaks are printed, quiet or not, handles closed by force included. */
  quiet = opt->quiet && leaks(&t) == 0;
  for (size_t i = 0; i < r->nr; i++)
    if (r->procs[i].pid == c->pid)
      main_proc = &r->procs[i];
  if (main_proc != NULL)
    print_proc(fd, main_proc, quiet);
  for (size_t i = 0; i < r->nr; i++)
    if (&r->procs[i] != main_proc)
      print_proc(fd, &r->procs[i], quiet);

  if (killed)
    say_killed(fd, c, main_proc);
  else if (main_proc == NULL ||
           (!main_proc->has_sum && main_proc->text == NULL))
    cli_say(fd, "'%s' (pid %d) left no report (setuid, statically linked, "
            "or it executed a program asyncleak does not trace)", c->name,
            (int)c->pid);
  say_missing(fd, r, c);
  cli_reaper_say(fd);
  say_copies(fd, r);

  /* Saying that nothing leaked, or that no loop was used, needs every
   * report of the run, the program's first. A program killed by a signal
   * has one only when it wrote it before dying (graceful signals). */
  complete = main_proc != NULL && main_proc->has_sum && !t.incomplete;
  say_totals(fd, c, &t, complete && (!quiet || t.unwatched > 0), quiet);

  if (fd != STDERR_FILENO)
    cli_log_close(fd);
  return leaks(&t);
}
