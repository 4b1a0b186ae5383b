/* What a live query answers (lib/live.c): the process's loops, the
 * threads running them and what each is doing, and what is open and
 * pending on each loop, grouped by creation site, in four classes:
 *
 *   alive    handles that keep their loop running (armed and referenced)
 *   pending  requests whose callback has not run
 *   open     handles that are open but keep nothing running (stopped,
 *            unreferenced)
 *   closing  handles whose close has not completed
 *   unknown  handles whose memory no longer holds them (freed or reused
 *            without a close)
 *
 * The answer is records, one per line with tab-separated fields, as the
 * report's <pid>.rec; the asyncleak command writes them as text or JSON
 * (cli/ps.c). docs/report-format.md lists them. The program runs on
 * meanwhile: what its loop threads change while the answer is made may
 * show either way, and a handle is probed with the shims' probes, which
 * never fault on memory the program freed. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"
#include "live.h"
#include "verdict.h"

enum cls { CLS_ALIVE, CLS_PENDING, CLS_OPEN, CLS_CLOSING, CLS_UNKNOWN };
static const char *const cls_name[] = {"alive", "pending", "open",
                                       "closing", "unknown"};

#define MAX_RUNS 64

/* A record as its probe found it: with the type it is known by now, as
 * the verdict has it (lib/verdict.c), for the shim's words on its
 * state. */
struct item {
  struct al_res r;
  struct al_state st;
  uint8_t cls;
  uint8_t type;
  uint8_t inherited; /* made before a fork, in the parent */
};

static int by_group(const void *a, const void *b) {
  const struct item *x = a, *y = b;

  if (x->r.loop != y->r.loop)
    return x->r.loop < y->r.loop ? -1 : 1;
  if (x->cls != y->cls)
    return x->cls - y->cls;
  if (x->inherited != y->inherited)
    return x->inherited - y->inherited;
  if (x->r.shim != y->r.shim)
    return x->r.shim - y->r.shim;
  if (x->type != y->type)
    return x->type - y->type;
  if (x->r.stack != y->r.stack)
    return (uintptr_t)x->r.stack < (uintptr_t)y->r.stack ? -1 : 1;
  /* Oldest first: the group's age is its first's. */
  return x->r.seq < y->r.seq ? -1 : x->r.seq > y->r.seq;
}

static int same_group(const struct item *x, const struct item *y) {
  return x->r.loop == y->r.loop && x->cls == y->cls &&
         x->inherited == y->inherited &&
         x->r.shim == y->r.shim && x->type == y->type &&
         x->r.stack == y->r.stack;
}

/* What the report would say of a handle's state, or of a request. */
static void put_detail(struct al_buf *b, const struct item *it,
                       uint64_t now) {
  const struct al_shim *sh = al_shims[it->r.shim];
  char text[320];

  text[0] = '\0';
  if (it->cls == CLS_PENDING) {
    al_buf_printf(b, "\t%lu\t",
                  (unsigned long)((uint32_t)now - it->r.born_ms));
    if (sh != NULL && sh->describe != NULL)
      sh->describe(&it->r, text, sizeof(text));
  } else {
    al_buf_printf(b, "\t\t");
    if (sh != NULL && sh->state_text != NULL)
      sh->state_text(&it->r, &it->st, text, sizeof(text));
    else if (!it->st.known)
      snprintf(text, sizeof(text), "state unknown");
    else if (it->st.closing)
      snprintf(text, sizeof(text), "closing");
    else
      snprintf(text, sizeof(text), "%s, %s",
               it->st.active ? "active" : "inactive",
               it->st.referenced ? "referenced" : "unreferenced");
  }
  al_buf_put_text(b, text);
}

static void put_loops(struct al_buf *b, struct al_symbolizer *sym,
                      const struct al_snapshot *s) {
  struct al_site site;

  for (size_t i = 0; i < s->nloops; i++) {
    const struct al_loop *l = &s->loops[i];
    const struct al_shim *sh = al_shims[l->shim];

    al_buf_printf(b, "loop\t%#lx\t%s\t%lu\t%d\t%d\t%d\n",
                  (unsigned long)l->addr, sh != NULL ? sh->name : "",
                  (unsigned long)l->serial, !!(l->flags & AL_LOOP_DEFAULT),
                  (int)l->tid, !!(l->flags & AL_LOOP_INHERITED));
    al_site_judge(sym, l->stack, 0, "loop", &site);
    al_site_put_frames(b, &site);
  }
}

static void put_runs(struct al_buf *b) {
  struct al_run_info runs[MAX_RUNS];
  size_t n = al_run_list(runs, MAX_RUNS);
  unsigned lost = al_run_unlisted();
  /* The clock the runs were timed with (lib/run.c). */
  uint64_t now = al_coarse_ms();

  for (size_t i = 0; i < n; i++)
    al_buf_printf(b, "run\t%#lx\t%d\t%s\t%lu\t%s\n",
                  (unsigned long)runs[i].loop, (int)runs[i].tid,
                  runs[i].waiting ? "waiting" : "callbacks",
                  (unsigned long)(now > runs[i].since_ms
                                      ? now - runs[i].since_ms
                                      : 0),
                  runs[i].shim < AL_MAX_SHIMS && al_shims[runs[i].shim]
                      ? al_shims[runs[i].shim]->name
                      : "");
  if (lost > 0)
    al_buf_printf(b, "runs_unlisted\t%u\n", lost);
}

static void put_groups(struct al_buf *b, struct al_symbolizer *sym,
                       const struct al_snapshot *s, uint64_t now) {
  struct item *it = calloc(s->nres + 1, sizeof(*it));
  uint64_t inherited_below = al_registry_inherited_below();
  struct al_site site;
  size_t n = 0;

  if (it == NULL) {
    b->failed = 1;
    return;
  }
  al_probe_round_begin();
  for (size_t i = 0; i < s->nres; i++) {
    const struct al_res *r = &s->res[i];
    const struct al_shim *sh = al_shims[r->shim];
    struct item *x = &it[n];

    x->r = *r;
    memset(&x->st, 0, sizeof(x->st));
    if (sh != NULL && sh->probe != NULL)
      sh->probe(r, &x->st);
    if (x->st.known && (x->st.internal || x->st.idle))
      continue;
    if (x->st.type != 0)
      x->r.type = x->st.type;
    x->type = (uint8_t)x->r.type;
    x->inherited = r->seq < inherited_below;
    if (al_res_is_request(r))
      x->cls = CLS_PENDING;
    else if (r->state == AL_RES_CLOSING || (x->st.known && x->st.closing))
      x->cls = CLS_CLOSING;
    else if (!x->st.known)
      x->cls = CLS_UNKNOWN; /* its memory was freed or reused */
    else if (x->st.active && x->st.referenced)
      x->cls = CLS_ALIVE;
    else
      x->cls = CLS_OPEN;
    n++;
  }
  al_probe_round_end();
  if (n > 1)
    qsort(it, n, sizeof(*it), by_group);
  for (size_t i = 0, first = 0; i < n; i++) {
    if (i + 1 < n && same_group(&it[i + 1], &it[first]))
      continue;
    /* it[first..i] is one group. */
    {
      const struct item *x = &it[first];
      int req = x->cls == CLS_PENDING;
      const char *type = req ? al_req_type_name(x->r.shim, x->type)
                             : al_type_name(x->r.shim, x->type);

      al_site_judge(sym, x->r.stack, req, type, &site);
      al_buf_printf(b, "group\t%#lx\t%s\t", (unsigned long)x->r.loop,
                    cls_name[x->cls]);
      al_buf_put_text(b, type);
      al_buf_printf(b, "\t%zu", i - first + 1);
      put_detail(b, x, now);
      al_buf_printf(b, "\t%s\t%d\t%d\n", site.fingerprint, site.own,
                    x->inherited);
      al_site_put_frames(b, &site);
    }
    first = i + 1;
  }
  free(it);
}

void al_live_dump(struct al_buf *b) {
  struct al_snapshot s;
  struct al_symbolizer *sym;
  uint64_t now = al_now_ms();

  al_buf_printf(b, "%s\n", AL_LIVE_ANSWER);
  al_buf_printf(b, "process\t%d\t%d\n", (int)getpid(), (int)al_pid());
  if (al_registry_snapshot_live(&s) != 0) {
    al_buf_printf(b, "error\tout of memory\n");
    return;
  }
  sym = al_symbolizer_new();
  put_loops(b, sym, &s);
  put_runs(b);
  put_groups(b, sym, &s, now);
  if (s.unreadable > 0)
    al_buf_printf(b, "unreadable\t%u\n", s.unreadable);
  if (al_defer_lost() > 0)
    al_buf_printf(b, "missed\t%lu\n", al_defer_lost());
  al_buf_printf(b, "end\n");
  if (sym != NULL)
    al_symbolizer_free(sym);
  al_snapshot_release(&s);
}
