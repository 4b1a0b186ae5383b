/* The run's report as JUnit XML, for CI systems that show test results:
 * one test case a process, one failure a leak group that fails the run,
 * an error for a report the process did not finish. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "emit.h"

struct counts {
  size_t tests, failures, errors, skipped;
};

/* A process that used no loop library was not checked: skipped rather
 * than passed. One with a copy of its own that could not be watched
 * fails instead. */
static int proc_skipped(const struct cli_proc *p) {
  /* An image before an exec that used a loop library, or made findings,
   * was checked. */
  if (p->used_loop_before_exec || p->findings_exec > 0)
    return 0;
  return ((p->has_sum && !p->used_loop) ||
          p->missing == CLI_MISSING_NOTED ||
          p->missing == CLI_MISSING_UNTRACED) &&
         p->ncopies == 0;
}

/* Leak groups, and groups of findings when they fail the run. */
static size_t failing_groups(const struct cli_proc *p) {
  size_t n = 0;

  for (size_t i = 0; i < p->ngroups; i++)
    n += cli_group_fails(p, &p->groups[i]);
  return n + (cli_proc_findings_failing(p) > 0
                  ? p->nfinds + (p->findings_exec > 0)
                  : 0);
}

/* A process whose totals fail but whose records list no failing group
 * (they could not be read) still gets a failure. */
static size_t proc_failures(const struct cli_proc *p) {
  size_t n = failing_groups(p);

  return (n == 0 && cli_proc_failed(p) ? 1 : n) + p->ncopies +
         (p->missing == CLI_MISSING_FAILS);
}

static const struct cli_proc *main_proc(const struct cli_run *run) {
  const struct cli_reports *r = run->reports;

  for (size_t i = 0; i < r->nr; i++)
    if (r->procs[i].pid == run->child->pid)
      return &r->procs[i];
  return NULL;
}

/* The program itself gets a test case even when it left nothing in the
 * report directory, so that a run is never an empty suite. */
static void count(const struct cli_run *run, struct counts *c) {
  const struct cli_reports *r = run->reports;

  memset(c, 0, sizeof(*c));
  for (size_t i = 0; i < r->nr; i++) {
    c->tests++;
    c->failures += proc_failures(&r->procs[i]);
    /* A lost report is a failure, a report not written yet an error. */
    c->errors += r->procs[i].missing == CLI_MISSING_RUNNING;
    c->skipped += proc_skipped(&r->procs[i]);
  }
  if (main_proc(run) == NULL) {
    c->tests++;
    c->skipped++;
  }
}

static void put_counts(FILE *out, const struct counts *c) {
  fprintf(out,
          " tests=\"%zu\" failures=\"%zu\" errors=\"%zu\" "
          "skipped=\"%zu\"",
          c->tests, c->failures, c->errors, c->skipped);
}

/* A test case's name must be the same from run to run, for a CI to
 * follow its history: the program as it was typed for the program
 * itself, the program a process ran for the others, and "#2", "#3"...
 * after the name when several processes ran the same program, counted in
 * the order they started. The pid changes with every run: it goes in a
 * property. */
static const char *proc_name(const struct cli_run *run,
                             const struct cli_proc *p) {
  if (p->pid == run->child->pid)
    return run->argv[0];
  return p->exe != NULL && p->exe[0] != '\0' ? p->exe : "?";
}

struct named {
  const char *name;
  unsigned long long start;
  pid_t pid;
  size_t index;
};

static int by_name_then_start(const void *x, const void *y) {
  const struct named *a = x, *b = y;
  int c = strcmp(a->name, b->name);

  if (c != 0)
    return c;
  if (a->start != b->start)
    return a->start < b->start ? -1 : 1;
  return (a->pid > b->pid) - (a->pid < b->pid);
}

/* The ordinal of each process among those named as it is, from 1, by
 * the order of the report's processes; NULL when out of memory (then
 * every name goes without one). */
static size_t *proc_ordinals(const struct cli_run *run) {
  const struct cli_reports *r = run->reports;
  struct named *v;
  size_t *ord;

  if (r->nr == 0)
    return NULL;
  v = malloc(r->nr * sizeof(*v));
  ord = malloc(r->nr * sizeof(*ord));
  if (v == NULL || ord == NULL) {
    free(v);
    free(ord);
    return NULL;
  }
  for (size_t i = 0; i < r->nr; i++)
    v[i] = (struct named){proc_name(run, &r->procs[i]), r->procs[i].start,
                          r->procs[i].pid, i};
  qsort(v, r->nr, sizeof(*v), by_name_then_start);
  for (size_t i = 0; i < r->nr; i++)
    ord[v[i].index] =
        i > 0 && !strcmp(v[i].name, v[i - 1].name) ? ord[v[i - 1].index] + 1
                                                   : 1;
  free(v);
  return ord;
}

static void put_testcase(FILE *out, const char *name, size_t ordinal,
                         pid_t pid) {
  fputs("    <testcase classname=\"asyncleak\" name=\"", out);
  cli_xml_string(out, name, 1);
  if (ordinal > 1)
    fprintf(out, " #%zu", ordinal);
  fprintf(out, "\">\n      <properties><property name=\"pid\" "
          "value=\"%d\"/></properties>\n", (int)pid);
}

/* "#0 function file:line (module)", the way a stack reads in a CI's
 * page; the address stands in for an unknown function. */
static void put_frame(FILE *out, size_t i, const struct cli_frame *f) {
  fprintf(out, "#%zu ", i);
  cli_xml_string(out, *f->function ? f->function : f->pc, 0);
  if (*f->file) {
    fputc(' ', out);
    cli_xml_string(out, f->file, 0);
    if (f->line > 0)
      fprintf(out, ":%u", f->line);
  }
  if (*f->module) {
    fputs(" (", out);
    cli_xml_string(out, f->module, 0);
    fputc(')', out);
  }
  fputc('\n', out);
}

static void put_failure(FILE *out, const struct cli_group *g) {
  char message[512];

  fputs("      <failure message=\"", out);
  cli_xml_string(out, cli_group_message(g, message, sizeof(message)), 1);
  fputs("\" type=\"", out);
  cli_xml_string(out, g->state, 1);
  fputs("\">", out);
  for (size_t i = 0; i < g->nframes; i++)
    put_frame(out, i, &g->frames[i]);
  fprintf(out, "fingerprint %s</failure>\n", g->fingerprint);
}

/* A finding: the call's stack, then the second one (the first close). */
static void put_finding(FILE *out, const struct cli_finding *f) {
  char message[1024];

  fputs("      <failure message=\"", out);
  cli_xml_string(out, cli_finding_message(f, message, sizeof(message)), 1);
  fputs("\" type=\"", out);
  cli_xml_string(out, f->check, 1);
  fputs("\">", out);
  for (size_t i = 0; i < f->nframes[0]; i++)
    put_frame(out, i, &f->frames[0][i]);
  if (f->nframes[1] > 0)
    fprintf(out, "%s:\n", cli_finding_then(f));
  for (size_t i = 0; i < f->nframes[1]; i++)
    put_frame(out, i, &f->frames[1][i]);
  fprintf(out, "fingerprint %s</failure>\n", f->fingerprint);
}

static void put_unlisted(FILE *out, const struct cli_proc *p) {
  fprintf(out,
          "      <failure message=\"%llu handle(s) left open, "
          "%llu request(s) pending, %llu handle(s) closed and %llu "
          "request(s) cancelled by force; the records list none of "
          "them\" type=\"unlisted\"/>\n",
          p->handles_open, p->requests_pending, p->handles_forced,
          p->requests_cancelled);
}

/* A process killed before its report was written has none, or only part
 * of one: what it leaked is not known. */
static void put_error(FILE *out, const struct cli_proc *p) {
  const char *report = cli_proc_report(p);

  fprintf(out,
          "      <error message=\"process %d left %s report; what it "
          "leaked is not known\" type=\"%s\"/>\n",
          (int)p->pid, !strcmp(report, "missing") ? "no" : "an incomplete",
          report);
}

/* Groups that do not fail the run but are the program's all the same:
 * closes that never completed, and findings of the debug checks. */
static void put_system_out(FILE *out, const struct cli_proc *p) {
  char message[1024];
  int any = 0;

  for (size_t i = 0; i < p->nfinds && !cli_proc_findings_failing(p); i++) {
    if (!any++)
      fputs("      <system-out>", out);
    cli_xml_string(out, p->finds[i].check, 0);
    fputs(": ", out);
    cli_xml_string(out, cli_finding_message(&p->finds[i], message,
                                            sizeof(message)), 0);
    fprintf(out, " (not a failure), fingerprint %s\n",
            p->finds[i].fingerprint);
  }

  for (size_t i = 0; i < p->ngroups; i++) {
    const struct cli_group *g = &p->groups[i];

    if (strcmp(g->state, "closing") != 0 || cli_group_fails(p, g))
      continue;
    if (!any++)
      fputs("      <system-out>", out);
    cli_xml_string(out, cli_group_message(g, message, sizeof(message)), 0);
    fprintf(out, " (not a failure), fingerprint %s\n", g->fingerprint);
  }
  if (any)
    fputs("</system-out>\n", out);
}

static void put_system_err(FILE *out, const struct cli_proc *p) {
  if (p->text == NULL)
    return;
  fputs("      <system-err>", out);
  cli_xml_text(out, p->text, p->text_len, 0);
  fputs("</system-err>\n", out);
}

static void put_copy(FILE *out, const struct cli_copy *c) {
  fputs("      <failure message=\"own copy of ", out);
  cli_xml_string(out, c->library, 1);
  fputs(" in ", out);
  cli_xml_string(out, c->object, 1);
  fputs(": asyncleak cannot watch it; nothing made with it was checked\" "
        "type=\"unwatched\"/>\n", out);
}

static void put_proc(FILE *out, const struct cli_run *run,
                     const struct cli_proc *p, size_t ordinal) {
  put_testcase(out, proc_name(run, p), ordinal, p->pid);
  if (proc_skipped(p) && p->missing == CLI_MISSING_NOTED) {
    fputs("      <skipped message=\"left no report: ", out);
    cli_xml_string(out, p->cause, 1);
    fputs("\"/>\n", out);
  } else if (proc_skipped(p) && p->missing == CLI_MISSING_UNTRACED) {
    fputs("      <skipped message=\"", out);
    cli_xml_string(out, p->cause, 1);
    fputs("\"/>\n", out);
  } else if (proc_skipped(p)) {
    fputs("      <skipped message=\"no supported event loop library "
          "(libuv, libevent, libev, GLib) was used; nothing was checked\"/>\n",
          out);
  }
  if (p->missing == CLI_MISSING_RUNNING)
    put_error(out, p);
  if (p->missing == CLI_MISSING_FAILS) {
    fputs("      <failure message=\"", out);
    fprintf(out, "process %d used %s and left no complete report: ",
            (int)p->pid, p->uses);
    cli_xml_string(out, p->cause, 1);
    fputs("\" type=\"missing-report\"/>\n", out);
  }
  for (size_t i = 0; i < p->ncopies; i++)
    put_copy(out, &p->copies[i]);
  for (size_t i = 0; i < p->ngroups; i++)
    if (cli_group_fails(p, &p->groups[i]))
      put_failure(out, &p->groups[i]);
  for (size_t i = 0; cli_proc_findings_failing(p) && i < p->nfinds; i++)
    put_finding(out, &p->finds[i]);
  if (cli_proc_findings_failing(p) && p->findings_exec > 0)
    fprintf(out,
            "      <failure message=\"%llu finding(s) of the debug checks "
            "made before the process executed another program: counted, "
            "not shown\" type=\"findings-before-exec\"/>\n",
            p->findings_exec);
  if (failing_groups(p) == 0 && cli_proc_failed(p))
    put_unlisted(out, p);
  put_system_out(out, p);
  put_system_err(out, p);
  fputs("    </testcase>\n", out);
}

/* Setuid and statically linked programs leave nothing, as report.c says
 * too. */
static void put_absent(FILE *out, const struct cli_run *run) {
  put_testcase(out, run->argv[0], 1, run->child->pid);
  fputs("      <skipped message=\"the program left no report (setuid, "
        "statically linked, or it executed a program asyncleak does not "
        "trace); nothing was checked\"/>\n",
        out);
  fputs("    </testcase>\n", out);
}

int cli_write_junit(FILE *out, const struct cli_run *run) {
  const struct cli_reports *r = run->reports;
  size_t *ordinals = proc_ordinals(run);
  struct counts c;

  count(run, &c);
  fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n", out);
  fputs("<testsuites name=\"asyncleak\"", out);
  put_counts(out, &c);
  fputs(">\n  <testsuite name=\"asyncleak\"", out);
  put_counts(out, &c);
  fputs(">\n", out);
  if (main_proc(run) == NULL)
    put_absent(out, run);
  for (size_t i = 0; i < r->nr; i++)
    put_proc(out, run, &r->procs[i], ordinals != NULL ? ordinals[i] : 1);
  free(ordinals);
  fputs("  </testsuite>\n</testsuites>\n", out);
  return fflush(out) != 0 || ferror(out) ? -1 : 0;
}
