/* Printing the run's reports and the lines that sum them up. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"
#include "../lib/signals.h"

struct totals {
  unsigned long long open, pending, loops, loops_unclosed, created, requests,
      forced, cancelled, ensured, suppressed, baselined, closing,
      closing_failing, findings, findings_failing;
  size_t leaking;  /* processes with handles open */
  size_t waiting;  /* processes with requests pending */
  size_t forcing;  /* processes with handles closed or requests cancelled
                      by force */
  size_t closers;  /* processes with closes not completed */
  size_t finders;  /* processes with findings of the debug checks */
  int used_loop;   /* some process used a loop library */
  int used_before_exec; /* some image did, then executed another program */
  int incomplete;  /* some process left no report, or half of one, that
                      may have held leaks */
  size_t missing;  /* processes whose lost report fails the run */
  size_t unchecked; /* processes noted, whose use of a loop library was
                       not or could not be checked */
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
    t->findings += cli_proc_findings(p);
    t->findings_failing += cli_proc_findings_failing(p);
    t->finders += cli_proc_findings(p) > 0;
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
    t->used_before_exec |= p->used_loop_before_exec;
    t->unwatched += p->ncopies > 0;
    /* A report cut short, or none from a process the runtime ran in,
     * unless it is known to have used no loop library. */
    t->incomplete |= p->missing == CLI_MISSING_FAILS ||
                     p->missing == CLI_MISSING_RUNNING;
    t->unchecked += p->unchecked;
    t->missing += p->missing == CLI_MISSING_FAILS;
  }
}

/* An incomplete report is printed even when quiet: it is all there is of a
 * process that died while writing it. */
static void print_proc(int fd, const struct cli_proc *p, int quiet,
                       int color) {
  if (p->text == NULL)
    return;
  if (!p->has_sum)
    cli_say(fd, "process %d left an incomplete report", (int)p->pid);
  else if (quiet)
    return;
  /* The runtime escapes what it writes; a process could have written its
   * file itself. */
  cli_write_text(fd, p->text, p->text_len, color);
  /* Nor does a block that does not end its last line run into the
   * lines after it. */
  if (p->text_len > 0 && p->text[p->text_len - 1] != '\n')
    cli_write_all(fd, "\n", 1);
}

/* Findings whose report went with an exec: counted, and said. */
static void say_findings_exec(int fd, const struct cli_proc *p) {
  if (p->findings_exec > 0)
    cli_say(fd, "process %d made %llu finding(s) of the debug checks before "
            "it executed another program: they are counted, but not shown "
            "(a process writes its findings as it ends)", (int)p->pid,
            p->findings_exec);
}

/* main_proc is what the program itself reported, or NULL. With graceful
 * signals it writes its whole report before dying of SIGINT or SIGTERM:
 * then there is nothing missing to excuse. The signal named is the one
 * the wait status gives. */
static void say_killed(int fd, const struct cli_child *c,
                       const struct cli_proc *main_proc) {
  int sig = WTERMSIG(c->status);
  const char *tail;
  char name[32];

  cli_signame(sig, name, sizeof(name));
  cli_say(fd, "'%s' (pid %d) was killed by signal %d (%s: %s)", c->name,
          (int)c->pid, sig, name, strsignal(sig));
  if (main_proc != NULL && main_proc->has_sum)
    return;
  /* Known to have used no loop library: nothing was lost with it. */
  tail = main_proc != NULL && main_proc->missing == CLI_MISSING_NOTED &&
                 main_proc->exec == NULL
             ? "it had used no loop library, so nothing was lost"
             : "handles open at that moment are not listed";
  if (main_proc != NULL && main_proc->error != NULL)
    cli_say(fd, "it was killed before it could write its report: %s; %s",
            main_proc->error, tail);
  else if (sig == SIGKILL || sig == SIGSTOP)
    cli_say(fd, "it was killed before it could write its report: %s "
            "cannot be caught; %s", name, tail);
  else if (al_signal_caught(sig))
    cli_say(fd, "it was killed before it could write its report (%s: a "
            "handler of its own, --handle-signals=no, or a report slower "
            "than report_timeout_ms); %s", name, tail);
  else
    cli_say(fd, "it was killed before it could write its report: the "
            "runtime does not catch %s; %s", name, tail);
}

/* The processes that had not written a complete report, by the verdict
 * collect.c took: those still running write it later, into the
 * directory, which is kept for them (main.c); those whose loop library's
 * report was lost fail the run, unless warn; the others are noted. */
static void say_missing(int fd, const struct cli_reports *r,
                        const struct cli_child *c,
                        const struct cli_proc *main_proc, int quiet,
                        int warn) {
  for (size_t i = 0; i < r->nr; i++) {
    const struct cli_proc *p = &r->procs[i];
    const char *exe = p->exe != NULL && p->exe[0] != '\0' ? p->exe : "?";
    char who[PATH_MAX + 64];

    if (p == main_proc)
      snprintf(who, sizeof(who), "'%s' (pid %d)", c->name, (int)p->pid);
    else
      snprintf(who, sizeof(who), "process %d (%s)", (int)p->pid, exe);
    switch (p->missing) {
    case CLI_MISSING_NONE:
      break;
    case CLI_MISSING_RUNNING:
      if (p->file[0] != '\0')
        cli_say(fd, "%s is still running: when it exits it writes its "
                "report, if it leaks, to '%s/%s'; that directory is kept",
                who, r->dir, p->file);
      else
        cli_say(fd, "%s is still running: when it exits it writes its "
                "report, if it leaks, to '%s/%d-*.report'; that directory "
                "is kept", who, r->dir, (int)p->pid);
      break;
    case CLI_MISSING_FAILS:
      /* A killed program was said above, with its signal. */
      if (p == main_proc && WIFSIGNALED(c->status) && p->exec == NULL)
        break;
      cli_say(fd, "%s%s used %s and left no complete report: %s",
              warn ? "warning: " : "", who, p->uses, p->cause);
      break;
    case CLI_MISSING_NOTED:
      if (!quiet && !(p == main_proc && WIFSIGNALED(c->status) &&
                      p->exec == NULL))
        cli_say(fd, "note: %s left no report: %s", who, p->cause);
      break;
    case CLI_MISSING_UNTRACED:
      /* Left alone as asked: said only when a loop library may have run
       * unchecked there. */
      if (!quiet && p->unchecked)
        cli_say(fd, "note: %s %s", who, p->cause);
      break;
    }
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

/* Everything that fails the run. Handles closed and requests cancelled by
 * force were left so by the program: leaks too. Findings of the debug
 * checks count when the processes were told to fail on them. */
static unsigned long long leaks(const struct totals *t) {
  return t->open + t->pending + t->forced + t->cancelled +
         t->closing_failing + t->findings_failing;
}

/* Never "no leaks" when no loop library was seen: nothing was checked.
 * Nor a bare "no leaks" when a process noted above may have run a loop
 * library unchecked. */
static void say_clean(int fd, const struct cli_child *c,
                      const struct totals *t) {
  char requests[64] = "", loops[64] = "", hidden[96] = "";
  char unchecked[96] = "";

  if (t->unchecked > 0)
    snprintf(unchecked, sizeof(unchecked), "; %zu process(es) not checked "
             "(noted above)", t->unchecked);

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
  if (!t->used_loop && t->used_before_exec) {
    cli_say(fd, "a loop library was used, then the process executed "
            "another program, which used none: what was open at the exec "
            "was not checked (docs/exit-paths.md)%s",
            unchecked);
    return;
  }
  if (!t->used_loop) {
    cli_say(fd, "no supported event loop library (libuv, libevent, libev, GLib) was used "
            "by '%s'%s; nothing was checked%s", c->name,
            t->unchecked > 0 ? " or the processes traced" : "", unchecked);
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
  if (hidden[0] != '\0' || t->closing > 0 || unchecked[0] != '\0')
    cli_say(fd, "no leaks reported: %llu loop(s), %llu handle(s) "
            "created%s%s%s%s", t->loops, t->created, requests, loops, hidden,
            unchecked);
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
  /* Findings are not leaks: said apart, and a failure only when asked. */
  if (t->findings_failing > 0)
    cli_say(fd, "%llu finding(s) of the debug checks in %zu process(es)",
            t->findings, t->finders);
  else if (t->findings > 0 && !quiet)
    cli_say(fd, "%llu finding(s) of the debug checks in %zu process(es); "
            "not a failure (--fail-on-findings makes it one)", t->findings,
            t->finders);
  if (leaks(t) - t->findings_failing == 0 && clean)
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
  int color = opt->color == CLI_COLOR_ALWAYS;
  struct totals t;

  add_up(r, &t);
  /* Leaks are printed, quiet or not, handles closed by force included. */
  quiet = opt->quiet && leaks(&t) == 0;
  main_proc = cli_reports_main(r, c->pid);
  if (main_proc != NULL)
    print_proc(fd, main_proc, quiet, color);
  for (size_t i = 0; i < r->nr; i++)
    if (&r->procs[i] != main_proc)
      print_proc(fd, &r->procs[i], quiet, color);

  if (killed)
    say_killed(fd, c, main_proc);
  else if (main_proc == NULL)
    cli_say(fd, "'%s' (pid %d) left no report (setuid, statically linked, "
            "or it executed a program asyncleak does not trace)", c->name,
            (int)c->pid);
  say_missing(fd, r, c, main_proc, opt->quiet, opt->missing_warn);
  cli_reaper_say(fd);
  say_copies(fd, r);
  for (size_t i = 0; i < r->nr; i++)
    say_findings_exec(fd, &r->procs[i]);
  if (t.missing > 0)
    cli_say(fd, "%s%zu process(es) used a loop library and left no "
            "complete report: what they leaked is not known%s",
            opt->missing_warn ? "warning: " : "", t.missing,
            opt->missing_warn ? " (--missing-reports=warn)"
                              : "; the run fails (--missing-reports=warn "
                                "only warns)");

  /* Saying that nothing leaked, or that no loop was used, needs every
   * report of the run, the program's first. A program killed by a signal
   * has one only when it wrote it before dying (graceful signals). */
  complete = main_proc != NULL && main_proc->has_sum && !t.incomplete;
  say_totals(fd, c, &t, complete && (!quiet || t.unwatched > 0), quiet);

  if (fd != STDERR_FILENO)
    cli_log_close(fd);
  return leaks(&t);
}
