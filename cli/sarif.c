/* The run's report as SARIF 2.1.0, for code-scanning services: one result
 * a leak group that fails the run, placed at the line of the program's own
 * code that created it, and a note for each group of handles whose close
 * did not complete. Baselined groups and those asyncleak_ensure_closure
 * closed fail nothing and are left out. */
#include <string.h>

#include "emit.h"

/* The texts are the same for every loop library: a rule holds for
 * libuv's handles and requests as for libevent's events and objects, so
 * it names none, and each result's message names the type. */
static const struct rule {
  const char *state, *id, *name, *text;
} rules[] = {
    {"open", "asyncleak/handle-left-open", "HandleLeftOpen",
     "A handle of the program's event loop was still open when the "
     "program exited."},
    {"pending", "asyncleak/request-pending", "RequestPending",
     "A request the program started on its event loop was still pending, "
     "its callback not yet called, when the program exited."},
    {"closing", "asyncleak/handle-closing", "HandleClosing",
     "A handle's close was asked for, but the loop did not run again "
     "before exit to complete it."},
    {"forced", "asyncleak/handle-closed-by-force", "HandleClosedByForce",
     "A handle the program left open was closed by force at shutdown."},
    {"cancelled", "asyncleak/request-cancelled", "RequestCancelled",
     "A request the program left pending was cancelled at shutdown."},
    /* The debug checks' findings, by check. */
    {"use-after-close", "asyncleak/use-after-close", "UseAfterClose",
     "A handle was closed again, or started, after its close was asked "
     "for."},
    {"wrong-thread", "asyncleak/wrong-thread", "WrongThread",
     "A loop, or one of its handles, was called from a thread other than "
     "the one running that loop."},
    {"slow-callback", "asyncleak/slow-callback", "SlowCallback",
     "A callback of the program's held its event loop longer than "
     "slow_callback_ms."},
    {"stack-capture", "asyncleak/stack-capture", "StackCapture",
     "A creation stack asyncleak served from its per-thread cache differed "
     "from a full unwind made at the same call (check_stacks); the "
     "unwound one was recorded."},
};

/* The first rule of a debug check: its findings are warnings unless they
 * fail the run. */
#define FIRST_CHECK_RULE 5

/* A close that did not complete fails nothing by default: a note. */
static const char *rule_level(const struct rule *r) {
  if (r >= &rules[FIRST_CHECK_RULE])
    return "warning";
  return strcmp(r->state, "closing") ? "error" : "note";
}

static int rule_of(const char *state) {
  for (size_t i = 0; i < CLI_ARRAY_SIZE(rules); i++)
    if (!strcmp(state, rules[i].state))
      return (int)i;
  return -1;
}

static void put_text(struct cli_json *j, const char *key, const char *text) {
  cli_json_object(j, key);
  cli_json_string(j, "text", text);
  cli_json_close_object(j);
}

static void put_driver(struct cli_json *j) {
  cli_json_object(j, "tool");
  cli_json_object(j, "driver");
  cli_json_string(j, "name", "asyncleak");
  cli_json_string(j, "version", ASYNCLEAK_VERSION);
  cli_json_array(j, "rules");
  for (size_t i = 0; i < CLI_ARRAY_SIZE(rules); i++) {
    cli_json_object(j, NULL);
    cli_json_string(j, "id", rules[i].id);
    cli_json_string(j, "name", rules[i].name);
    put_text(j, "shortDescription", rules[i].text);
    cli_json_object(j, "defaultConfiguration");
    cli_json_string(j, "level", rule_level(&rules[i]));
    cli_json_close_object(j);
    cli_json_close_object(j);
  }
  cli_json_close_array(j);
  cli_json_close_object(j);
  cli_json_close_object(j);
}

/* A path as a URI reference (RFC 3986): every byte but the unreserved
 * ones and the slashes percent-encoded, a colon included, which would
 * otherwise read as the end of a scheme. An absolute path becomes a
 * file: URI. Returns -1 when it does not fit. */
static int path_uri(const char *path, char *uri, size_t size) {
  static const char hex[] = "0123456789ABCDEF";
  size_t used = 0;

  if (path[0] == '/') {
    memcpy(uri, "file://", 7);
    used = 7;
  }
  for (const unsigned char *p = (const unsigned char *)path; *p; p++) {
    if (size - used < 4)
      return -1;
    if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
        (*p >= '0' && *p <= '9') || strchr("-._~/", *p) != NULL) {
      uri[used++] = (char)*p;
    } else {
      uri[used++] = '%';
      uri[used++] = hex[*p >> 4];
      uri[used++] = hex[*p & 15];
    }
  }
  uri[used] = '\0';
  return 0;
}

/* Relative paths are as the compiler was given them: relative to where
 * the program was built, which SRCROOT stands for. */
static void put_physical(struct cli_json *j, const struct cli_frame *f) {
  char uri[3 * 4096 + 8];

  if (path_uri(f->file, uri, sizeof(uri)) != 0)
    return;
  cli_json_object(j, "physicalLocation");
  cli_json_object(j, "artifactLocation");
  cli_json_string(j, "uri", uri);
  if (f->file[0] != '/')
    cli_json_string(j, "uriBaseId", "SRCROOT");
  cli_json_close_object(j);
  if (f->line > 0) {
    cli_json_object(j, "region");
    cli_json_uint(j, "startLine", f->line);
    cli_json_close_object(j);
  }
  cli_json_close_object(j);
}

static void put_locations(struct cli_json *j, const struct cli_group *g) {
  const struct cli_frame *own = cli_group_own(g);

  if (own == NULL || own->file[0] == '\0')
    return;
  cli_json_array(j, "locations");
  cli_json_object(j, NULL);
  put_physical(j, own);
  cli_json_close_object(j);
  cli_json_close_array(j);
}

/* The rest of the creation stack in the same module as the program's own
 * frame, each frame with its number and function, where they have a
 * source file. Other modules' sources (the C library's, built elsewhere)
 * are not under SRCROOT; the JSON report has every frame. */
static void put_related(struct cli_json *j, const struct cli_group *g) {
  const struct cli_frame *own = cli_group_own(g);
  int any = 0;

  for (size_t i = 0; own != NULL && i < g->nframes; i++) {
    const struct cli_frame *f = &g->frames[i];
    char text[600];

    if (f == own || f->file[0] == '\0' || strcmp(f->module, own->module))
      continue;
    if (!any++)
      cli_json_array(j, "relatedLocations");
    cli_json_object(j, NULL);
    cli_json_uint(j, "id", i);
    snprintf(text, sizeof(text), "#%zu %s", i,
             *f->function ? f->function : f->pc);
    put_text(j, "message", text);
    put_physical(j, f);
    cli_json_close_object(j);
  }
  if (any)
    cli_json_close_array(j);
}

static void put_message(struct cli_json *j, const struct cli_group *g) {
  const struct cli_frame *f = cli_group_frame(g);
  char text[1024];
  size_t len;

  cli_group_message(g, text, sizeof(text));
  len = strlen(text);
  if (f != NULL)
    snprintf(text + len, sizeof(text) - len, ", created in %s", f->function);
  put_text(j, "message", text);
}

static void put_result(struct cli_json *j, const struct cli_group *g, int rule,
                       pid_t pid, int fails) {
  cli_json_object(j, NULL);
  cli_json_string(j, "ruleId", rules[rule].id);
  cli_json_int(j, "ruleIndex", rule);
  cli_json_string(j, "level", fails ? "error" : "note");
  put_message(j, g);
  put_locations(j, g);
  put_related(j, g);
  cli_json_object(j, "partialFingerprints");
  cli_json_string(j, "asyncleakFingerprint/v2", g->fingerprint);
  cli_json_close_object(j);
  cli_json_object(j, "properties");
  cli_json_uint(j, "count", g->count);
  cli_json_int(j, "pid", pid);
  cli_json_close_object(j);
  cli_json_close_object(j);
}

/* A finding, placed at the program's call, with the frames of its second
 * stack (the first close) as related locations. */
static void put_finding(struct cli_json *j, const struct cli_finding *f,
                        const struct cli_proc *p) {
  struct cli_group call = cli_finding_group(f, 0);
  struct cli_group other = cli_finding_group(f, 1);
  const struct cli_frame *own = cli_group_own(&other);
  int rule = rule_of(f->check);
  char text[1024];

  if (rule < FIRST_CHECK_RULE)
    return;
  cli_json_object(j, NULL);
  cli_json_string(j, "ruleId", rules[rule].id);
  cli_json_int(j, "ruleIndex", rule);
  cli_json_string(j, "level",
                  cli_proc_findings_failing(p) ? "error" : "warning");
  put_text(j, "message", cli_finding_message(f, text, sizeof(text)));
  put_locations(j, &call);
  if (own != NULL && own->file[0] != '\0') {
    cli_json_array(j, "relatedLocations");
    cli_json_object(j, NULL);
    cli_json_uint(j, "id", 0);
    snprintf(text, sizeof(text), "%s %s", cli_finding_other(f),
             *own->function ? own->function : own->pc);
    put_text(j, "message", text);
    put_physical(j, own);
    cli_json_close_object(j);
    cli_json_close_array(j);
  }
  cli_json_object(j, "partialFingerprints");
  cli_json_string(j, "asyncleakFingerprint/v2", f->fingerprint);
  cli_json_close_object(j);
  cli_json_object(j, "properties");
  cli_json_uint(j, "count", f->count);
  /* A check that measures something: its largest value (a time in ms). */
  if (f->value > 0)
    cli_json_uint(j, "value", f->value);
  cli_json_int(j, "pid", p->pid);
  if (f->thread != 0) {
    cli_json_int(j, "thread", f->thread);
    cli_json_int(j, "loopThread", f->loop_thread);
  }
  cli_json_close_object(j);
  cli_json_close_object(j);
}

static void put_results(struct cli_json *j, const struct cli_reports *r) {
  cli_json_array(j, "results");
  for (size_t i = 0; i < r->nr; i++) {
    const struct cli_proc *p = &r->procs[i];

    for (size_t k = 0; k < p->ngroups; k++) {
      int rule = rule_of(p->groups[k].state);

      int fails = cli_group_fails(p, &p->groups[k]);

      /* Closes that did not complete are shown, as notes unless they
       * fail the run; what the baseline covers is not. */
      if (rule >= 0 && (fails || (!strcmp(p->groups[k].state, "closing") &&
                                  !p->groups[k].baselined)))
        put_result(j, &p->groups[k], rule, p->pid, fails);
    }
    for (size_t k = 0; k < p->nfinds; k++)
      put_finding(j, &p->finds[k], p);
  }
  cli_json_close_array(j);
}

/* Copies of loop libraries that could not be watched are no result at a
 * line of code, but the run's own failing: tool execution notifications,
 * errors. */
static void put_unwatched(struct cli_json *j, const struct cli_reports *r) {
  char text[2048];

  if (cli_reports_unwatched(r) == 0 && cli_reports_missing(r) == 0 &&
      cli_reports_findings_exec(r) == 0)
    return;
  cli_json_array(j, "toolExecutionNotifications");
  /* Reports lost with what they held: as much the run's own failing. */
  for (size_t i = 0; i < r->nr; i++) {
    const struct cli_proc *p = &r->procs[i];

    if (p->missing != CLI_MISSING_FAILS)
      continue;
    snprintf(text, sizeof(text), "process %d used %s and left no complete "
             "report: %s", (int)p->pid, p->uses,
             p->cause != NULL ? p->cause : "cause not known");
    cli_json_object(j, NULL);
    cli_json_string(j, "level", "error");
    put_text(j, "message", text);
    cli_json_object(j, "properties");
    cli_json_string(j, "kind", "missing-report");
    cli_json_int(j, "pid", p->pid);
    cli_json_close_object(j);
    cli_json_close_object(j);
  }
  /* Findings whose report an exec took: counted, no result to place. */
  for (size_t i = 0; i < r->nr; i++) {
    const struct cli_proc *p = &r->procs[i];

    if (p->findings_exec == 0)
      continue;
    snprintf(text, sizeof(text), "process %d made %llu finding(s) of the "
             "debug checks before it executed another program: counted, "
             "not shown", (int)p->pid, p->findings_exec);
    cli_json_object(j, NULL);
    cli_json_string(j, "level",
                    cli_proc_findings_failing(p) ? "error" : "warning");
    put_text(j, "message", text);
    cli_json_object(j, "properties");
    cli_json_string(j, "kind", "findings-before-exec");
    cli_json_int(j, "pid", p->pid);
    cli_json_close_object(j);
    cli_json_close_object(j);
  }
  for (size_t i = 0; i < r->nr; i++)
    for (size_t k = 0; k < r->procs[i].ncopies; k++) {
      const struct cli_copy *c = &r->procs[i].copies[k];

      snprintf(text, sizeof(text), "process %d carries its own copy of %s, "
               "in '%s': asyncleak cannot watch it, and nothing made with "
               "it was checked", (int)r->procs[i].pid, c->library,
               c->object);
      cli_json_object(j, NULL);
      cli_json_string(j, "level", "error");
      put_text(j, "message", text);
      cli_json_object(j, "properties");
      cli_json_string(j, "library", c->library);
      cli_json_string(j, "object", c->object);
      cli_json_int(j, "pid", r->procs[i].pid);
      cli_json_close_object(j);
      cli_json_close_object(j);
    }
  cli_json_close_array(j);
}

/* Statuses from 125 up are asyncleak's own failures or a program that
 * could not run or died of a signal: its leaks are not all known. */
static void put_invocation(struct cli_json *j, const struct cli_run *run) {
  cli_json_array(j, "invocations");
  cli_json_object(j, NULL);
  cli_json_array(j, "arguments");
  for (char **arg = run->argv; *arg != NULL; arg++)
    cli_json_string(j, NULL, *arg);
  cli_json_close_array(j);
  cli_json_bool(j, "executionSuccessful", run->status < CLI_EXIT_FAILURE);
  cli_json_int(j, "exitCode", run->status);
  put_unwatched(j, run->reports);
  cli_json_close_object(j);
  cli_json_close_array(j);
}

int cli_write_sarif(FILE *out, const struct cli_run *run) {
  struct cli_json j;

  cli_json_begin(&j, out);
  cli_json_object(&j, NULL);
  cli_json_string(&j, "$schema",
                  "https://json.schemastore.org/sarif-2.1.0.json");
  cli_json_string(&j, "version", "2.1.0");
  cli_json_array(&j, "runs");
  cli_json_object(&j, NULL);
  put_driver(&j);
  put_invocation(&j, run);
  put_results(&j, run->reports);
  cli_json_close_object(&j);
  cli_json_close_array(&j);
  cli_json_close_object(&j);
  return cli_json_end(&j);
}
