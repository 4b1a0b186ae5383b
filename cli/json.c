/* The run's report as one JSON document, whose every field
 * docs/report-format.md describes and docs/report.schema.json checks.
 * Keys come in a fixed order, and a field that is not known is null
 * rather than absent, so that the document has one shape. */
#include <sys/wait.h>

#include "emit.h"

/* The records leave unknown strings empty. */
static const char *or_null(const char *s) {
  return s != NULL && *s != '\0' ? s : NULL;
}

static void put_pid(struct cli_json *j, const char *key, pid_t pid) {
  if (pid > 0)
    cli_json_int(j, key, pid);
  else
    cli_json_null(j, key);
}

static void put_program(struct cli_json *j, const struct cli_child *c) {
  char name[32];

  cli_json_object(j, "program");
  cli_json_int(j, "pid", c->pid);
  if (WIFEXITED(c->status))
    cli_json_int(j, "exit_code", WEXITSTATUS(c->status));
  else
    cli_json_null(j, "exit_code");
  if (WIFSIGNALED(c->status))
    cli_json_string(j, "signal",
                    cli_signame(WTERMSIG(c->status), name, sizeof(name)));
  else
    cli_json_null(j, "signal");
  cli_json_close_object(j);
}

static void put_totals(struct cli_json *j, const struct cli_proc *p) {
  cli_json_object(j, "totals");
  cli_json_uint(j, "loops", p->loops);
  cli_json_uint(j, "loops_unclosed", p->loops_unclosed);
  cli_json_uint(j, "handles_created", p->handles_created);
  cli_json_uint(j, "requests_created", p->requests_created);
  cli_json_uint(j, "handles_open", p->handles_open);
  cli_json_uint(j, "handles_closing", p->handles_closing);
  cli_json_uint(j, "requests_pending", p->requests_pending);
  cli_json_uint(j, "handles_forced", p->handles_forced);
  cli_json_uint(j, "requests_cancelled", p->requests_cancelled);
  cli_json_uint(j, "resources_ensured", p->resources_ensured);
  cli_json_uint(j, "suppressed", p->suppressed);
  cli_json_uint(j, "baselined", p->baselined);
  cli_json_uint(j, "findings", cli_proc_findings(p));
  /* Those made before an exec are counted only, as the dropped are. */
  cli_json_uint(j, "findings_dropped", p->findings_dropped + p->findings_exec);
  cli_json_close_object(j);
}

void cli_json_frame(struct cli_json *j, const struct cli_frame *f) {
  cli_json_object(j, NULL);
  cli_json_string(j, "pc", or_null(f->pc));
  cli_json_string(j, "function", or_null(f->function));
  cli_json_string(j, "file", or_null(f->file));
  if (f->line > 0)
    cli_json_uint(j, "line", f->line);
  else
    cli_json_null(j, "line");
  cli_json_string(j, "module", or_null(f->module));
  cli_json_string(j, "offset", or_null(f->offset));
  cli_json_bool(j, "inlined", f->inlined);
  cli_json_close_object(j);
}

static void put_group(struct cli_json *j, const struct cli_proc *p,
                      const struct cli_group *g) {
  cli_json_object(j, NULL);
  cli_json_string(j, "fingerprint", g->fingerprint);
  cli_json_string(j, "state", g->state);
  cli_json_string(j, "kind", cli_group_kind(g));
  cli_json_string(j, "type", g->type);
  cli_json_uint(j, "count", g->count);
  cli_json_bool(j, "baselined", g->baselined);
  cli_json_bool(j, "fails", cli_group_fails(p, g));
  if (cli_group_own(g) != NULL)
    cli_json_int(j, "own_frame", g->own);
  else
    cli_json_null(j, "own_frame");
  cli_json_array(j, "frames");
  for (size_t i = 0; i < g->nframes; i++)
    cli_json_frame(j, &g->frames[i]);
  cli_json_close_array(j);
  cli_json_close_object(j);
}

static void put_frames(struct cli_json *j, const char *key,
                       const struct cli_frame *f, size_t n) {
  cli_json_array(j, key);
  for (size_t i = 0; i < n; i++)
    cli_json_frame(j, &f[i]);
  cli_json_close_array(j);
}

static void put_finding(struct cli_json *j, const struct cli_proc *p,
                        const struct cli_finding *f) {
  cli_json_object(j, NULL);
  cli_json_string(j, "fingerprint", f->fingerprint);
  cli_json_string(j, "check", f->check);
  cli_json_string(j, "call", f->call);
  cli_json_string(j, "type", f->type);
  cli_json_uint(j, "count", f->count);
  cli_json_uint(j, "value", f->value);
  cli_json_bool(j, "fails", cli_proc_findings_failing(p) > 0);
  if (f->thread != 0)
    cli_json_int(j, "thread", f->thread);
  else
    cli_json_null(j, "thread");
  if (f->loop_thread != 0)
    cli_json_int(j, "loop_thread", f->loop_thread);
  else
    cli_json_null(j, "loop_thread");
  if (f->own >= 0 && (size_t)f->own < f->nframes[0])
    cli_json_int(j, "own_frame", f->own);
  else
    cli_json_null(j, "own_frame");
  put_frames(j, "frames", f->frames[0], f->nframes[0]);
  put_frames(j, "related_frames", f->frames[1], f->nframes[1]);
  cli_json_close_object(j);
}

static void put_supp(struct cli_json *j, const struct cli_supp *s) {
  cli_json_object(j, NULL);
  cli_json_string(j, "rule", s->rule);
  cli_json_string(j, "file", s->file);
  cli_json_uint(j, "line", s->line);
  cli_json_uint(j, "groups", s->groups);
  cli_json_uint(j, "resources", s->resources);
  cli_json_close_object(j);
}

/* The verdict on a report that is not complete (collect.c), or null. */
static void put_missing(struct cli_json *j, const struct cli_proc *p) {
  static const char *const verdicts[] = {
      [CLI_MISSING_RUNNING] = "running", [CLI_MISSING_FAILS] = "fails",
      [CLI_MISSING_NOTED] = "noted"};

  if (p->missing == CLI_MISSING_NONE ||
      p->missing == CLI_MISSING_UNTRACED) {
    cli_json_null(j, "missing");
    return;
  }
  cli_json_object(j, "missing");
  cli_json_string(j, "verdict", verdicts[p->missing]);
  cli_json_string(j, "cause", or_null(p->cause));
  cli_json_close_object(j);
}

static void put_proc(struct cli_json *j, const struct cli_proc *p,
                     const struct cli_child *c) {
  cli_json_object(j, NULL);
  cli_json_int(j, "pid", p->pid);
  put_pid(j, "ppid", p->ppid);
  put_pid(j, "forked_from", p->forked_from);
  cli_json_string(j, "exe", or_null(p->exe));
  cli_json_bool(j, "main", p->pid == c->pid);
  cli_json_string(j, "report", cli_proc_report(p));
  put_missing(j, p);
  cli_json_array(j, "copies");
  for (size_t i = 0; i < p->ncopies; i++) {
    cli_json_object(j, NULL);
    cli_json_string(j, "library", p->copies[i].library);
    cli_json_string(j, "object", p->copies[i].object);
    cli_json_close_object(j);
  }
  cli_json_close_array(j);
  put_totals(j, p);
  cli_json_array(j, "leaks");
  for (size_t i = 0; i < p->ngroups; i++)
    put_group(j, p, &p->groups[i]);
  cli_json_close_array(j);
  cli_json_array(j, "findings");
  for (size_t i = 0; i < p->nfinds; i++)
    put_finding(j, p, &p->finds[i]);
  cli_json_close_array(j);
  cli_json_array(j, "suppressions");
  for (size_t i = 0; i < p->nsupps; i++)
    put_supp(j, &p->supps[i]);
  cli_json_close_array(j);
  cli_json_close_object(j);
}

int cli_write_json(FILE *out, const struct cli_run *run) {
  const struct cli_reports *r = run->reports;
  struct cli_json j;

  cli_json_begin(&j, out);
  cli_json_object(&j, NULL);
  cli_json_string(&j, "schema", "asyncleak-report");
  cli_json_int(&j, "version", 3);
  cli_json_object(&j, "tool");
  cli_json_string(&j, "name", "asyncleak");
  cli_json_string(&j, "version", ASYNCLEAK_VERSION);
  cli_json_close_object(&j);
  cli_json_array(&j, "command");
  for (char **arg = run->argv; *arg != NULL; arg++)
    cli_json_string(&j, NULL, *arg);
  cli_json_close_array(&j);
  put_program(&j, run->child);
  cli_json_int(&j, "status", run->status);
  cli_json_uint(&j, "leaks", run->leaks);
  cli_json_array(&j, "processes");
  for (size_t i = 0; i < r->nr; i++)
    put_proc(&j, &r->procs[i], run->child);
  cli_json_close_array(&j);
  cli_json_close_object(&j);
  return cli_json_end(&j);
}
