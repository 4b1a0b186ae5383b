/* Drain and check, for test harnesses: run a loop until the program's
 * work on it is done, and report what was made since a moment and is
 * still open or pending. Loop-neutral: the loop's shim runs it. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "asyncleak.h"
#include "internal.h"

struct asyncleak_snapshot {
  uint64_t since;
};

/* ------------------------------------------------------------------ drain */

/* The program's work on the loop: handles active and referenced, closes
 * not finished, requests pending; none of what a failed test left, which
 * was set aside (lib/isolate.c). */
static size_t outstanding(uintptr_t loop, uint64_t first_seq,
                          const struct al_shim *sh) {
  struct al_res *res;
  size_t count = 0;
  size_t n = al_res_on_loop(loop, first_seq,
                            1u << AL_RES_OPEN | 1u << AL_RES_CLOSING |
                                1u << AL_RES_PENDING,
                            &res);

  al_probe_round_begin();
  for (size_t i = 0; i < n; i++) {
    struct al_state st = {0};
    if (al_isolated(res[i].seq))
      continue;
    if (res[i].state != AL_RES_OPEN) {
      count++;
      continue;
    }
    sh->probe(&res[i], &st);
    if (st.known && !st.internal && st.active && st.referenced)
      count++;
  }
  al_probe_round_end();
  free(res);
  return count;
}

struct drain_goal {
  uint64_t first_seq;
  const struct al_shim *sh;
};

static int drained(uintptr_t loop, void *arg) {
  const struct drain_goal *g = arg;
  return outstanding(loop, g->first_seq, g->sh) == 0;
}

/* The loop at addr, known to the registry and alive. */
static int live_loop(uintptr_t addr, struct al_loop *l) {
  const struct al_shim *sh;

  if (al_loop_known(addr, l) != 0)
    return -ENOENT;
  sh = al_shims[l->shim];
  if (sh->claim != NULL && !sh->claim(addr))
    return -ENOENT; /* closed behind our back */
  if (al_run_here(l->shim, addr))
    return -EDEADLK;
  return 0;
}

AL_EXPORT size_t asyncleak_drain(void *loop, unsigned timeout_ms) {
  struct drain_goal g;
  struct al_loop l;
  int rc;

  if (loop == NULL) {
    errno = EINVAL;
    return (size_t)-1;
  }
  al_init();
  if ((rc = live_loop((uintptr_t)loop, &l)) != 0) {
    errno = -rc;
    return (size_t)-1;
  }
  g.first_seq = l.first_seq;
  g.sh = al_shims[l.shim];
  al_run_until(l.shim, (uintptr_t)loop, timeout_ms, drained, &g);
  return outstanding((uintptr_t)loop, l.first_seq, g.sh);
}

/* ------------------------------------------------------- cancel and wait */

struct done_goal {
  uintptr_t addr;
  uint64_t seq;
};

static int callback_ran(uintptr_t loop, void *arg) {
  const struct done_goal *g = arg;
  (void)loop;
  return !al_res_alive(g->addr, g->seq);
}

AL_EXPORT int asyncleak_cancel_and_wait(void *request, unsigned timeout_ms) {
  const struct al_shim *sh;
  struct done_goal g;
  struct al_res r;
  struct al_loop l;
  int rc;

  if (request == NULL)
    return -EINVAL;
  al_init();
  if (al_req_get((uintptr_t)request, &r) != 0)
    return -ENOENT;
  if ((rc = live_loop(r.loop, &l)) != 0)
    return rc;
  if (r.seq < l.first_seq)
    return -ENOENT; /* of an older loop, initialised over without a close */
  sh = al_shims[l.shim];
  if (sh->cancel == NULL)
    return -ENOSYS;
  if ((rc = sh->cancel((uintptr_t)request)) != 0)
    return rc;
  g.addr = r.addr;
  g.seq = r.seq;
  return al_run_until(l.shim, r.loop, timeout_ms, callback_ran, &g);
}

/* --------------------------------------------------------------- ignores */

#define MAX_IGNORED 64

static pthread_mutex_t ignored_lock = PTHREAD_MUTEX_INITIALIZER;
AL_LOCK_REGISTER(AL_LOCK_IGNORED, ignored_lock, 0)
static char *ignored[MAX_IGNORED];
static size_t nignored;

AL_EXPORT int asyncleak_ignore_creator(const char *function) {
  char *copy;
  int rc = 0;

  if (function == NULL || function[0] == '\0')
    return -EINVAL;
  if ((copy = strdup(function)) == NULL)
    return -ENOMEM;
  al_mutex_lock(&ignored_lock);
  if (nignored < MAX_IGNORED)
    ignored[nignored++] = copy;
  else
    rc = -ENOSPC;
  al_mutex_unlock(&ignored_lock);
  if (rc != 0)
    free(copy);
  return rc;
}

static int is_ignored(const char *function) {
  int found = 0;

  al_mutex_lock(&ignored_lock);
  for (size_t i = 0; i < nignored && !found; i++)
    found = strcmp(ignored[i], function) == 0;
  al_mutex_unlock(&ignored_lock);
  return found;
}

/* Leaves the records of ignored creators out of the snapshot. */
static void drop_ignored(struct al_snapshot *s) {
  struct al_symbolizer *sym;
  size_t kept = 0;

  al_mutex_lock(&ignored_lock);
  kept = nignored;
  al_mutex_unlock(&ignored_lock);
  if (kept == 0 || (sym = al_symbolizer_new()) == NULL)
    return;
  kept = 0;
  for (size_t i = 0; i < s->nres; i++) {
    const struct al_stack *st = s->res[i].stack;
    struct al_frame f = {0};
    if (st != NULL && st->depth > 0)
      al_symbolize(sym, st->pc[0], &f);
    if (f.function != NULL && is_ignored(f.function))
      continue;
    s->res[kept++] = s->res[i];
  }
  s->nres = kept;
  al_symbolizer_free(sym);
}

/* ----------------------------------------------------------------- check */

AL_EXPORT asyncleak_snapshot *asyncleak_snapshot_take(void) {
  asyncleak_snapshot *s = malloc(sizeof(*s));

  if (s != NULL)
    s->since = al_res_next_seq();
  return s;
}

AL_EXPORT void asyncleak_snapshot_free(asyncleak_snapshot *s) {
  free(s);
}

/* One line on what was set aside, after the report that listed it. */
static void put_isolated(struct al_buf *b, const struct al_isolated *x) {
  const char *sep = " (";

  al_buf_printf(b, "asyncleak: set aside for the tests that follow:");
  if (x->handles > 0) {
    al_buf_printf(b, " %zu handle%s", x->handles, x->handles == 1 ? "" : "s");
    if (x->stopped > 0)
      al_buf_printf(b, "%s%zu stopped", sep, x->stopped), sep = ", ";
    if (x->unreferenced > 0)
      al_buf_printf(b, "%s%zu unreferenced", sep, x->unreferenced), sep = ", ";
    if (x->active > 0)
      al_buf_printf(b, "%s%zu still active", sep, x->active), sep = ", ";
    if (sep[0] == ',')
      al_buf_printf(b, ")");
  }
  if (x->requests > 0)
    al_buf_printf(b, "%s %zu request%s pending", x->handles > 0 ? "," : "",
                  x->requests, x->requests == 1 ? "" : "s");
  al_buf_printf(b, "\n");
  if (x->dropped > 0)
    al_buf_printf(b, "asyncleak: %zu of them could not be noted: later "
                     "drains still wait for them\n", x->dropped);
}

/* dead: for isolate, the stack below the public function's frame, NULL
 * for a check alone. */
static size_t check(uint64_t since, FILE *out,
                    const struct al_dead_stack *dead) {
  struct al_report_scope scope = {since};
  struct al_report_totals t;
  struct al_snapshot snap;
  struct al_buf text = {0};
  struct al_report_out how = {0};
  struct al_res *listed = NULL;
  size_t nlisted = 0, failing;
  int rc;

  al_init();
  if (al_link_bypassed(out) != 0) {
    errno = ENOTSUP;
    return (size_t)-1;
  }
  how.color = out != NULL && al_report_color(fileno(out));
  if (dead != NULL) {
    how.listed = &listed;
    how.nlisted = &nlisted;
  }
  if (al_registry_snapshot(&snap) != 0)
    return (size_t)-1;
  drop_ignored(&snap);
  rc = al_report_format(&snap, &text, &t, &scope, &how);
  al_snapshot_release(&snap);
  /* Never a count of 0 that was not taken. The verdict is the exit
   * report's: a close that did not complete fails only with
   * fail_on_closing. */
  failing = rc == 0 ? al_report_failing(&t) : (size_t)-1;
  if (dead != NULL && failing != 0 && failing != (size_t)-1 && nlisted > 0) {
    struct al_isolated x;
    al_isolate(listed, nlisted, dead, &x);
    put_isolated(&text, &x);
  }
  free(listed);
  if (out != NULL && text.len > 0) {
    fwrite(text.data, 1, text.len, out);
    fflush(out);
  }
  al_buf_release(&text);
  return failing;
}

AL_EXPORT size_t asyncleak_check_since(const asyncleak_snapshot *s,
                                       FILE *out) {
  return check(s != NULL ? s->since : 0, out, NULL);
}

AL_EXPORT size_t asyncleak_check(FILE *out) {
  return check(0, out, NULL);
}

size_t al_check_and_isolate(const asyncleak_snapshot *s, FILE *out,
                            uintptr_t live_from) {
  struct al_dead_stack dead = al_dead_stack(live_from);

  return check(s != NULL ? s->since : 0, out, &dead);
}

/* Not inlined: the stack below its frame belongs to calls that have
 * returned. */
__attribute__((noinline)) AL_EXPORT size_t
asyncleak_check_and_isolate(const asyncleak_snapshot *s, FILE *out) {
  return al_check_and_isolate(s, out, (uintptr_t)__builtin_frame_address(0));
}
