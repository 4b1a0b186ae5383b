/* The verdict on a snapshot of the registry (lib/verdict.h): what is the
 * program's leak, grouped by where it was made, and what the user's
 * suppressions and baseline hide. The report's text is lib/report.c's. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "verdict.h"

/* Open, closing and pending records are never in one group. */
static int by_site(const void *a, const void *b) {
  const struct al_entry *x = a, *y = b;
  if (x->r.state != y->r.state)
    return (int)x->r.state - (int)y->r.state;
  if (x->r.stack != y->r.stack)
    return (uintptr_t)x->r.stack < (uintptr_t)y->r.stack ? -1 : 1;
  if (x->r.shim != y->r.shim)
    return x->r.shim - y->r.shim;
  if (x->r.type != y->r.type)
    return x->r.type - y->r.type;
  return x->r.seq < y->r.seq ? -1 : x->r.seq > y->r.seq;
}

static int by_loop(const void *a, const void *b) {
  const struct al_res *x = a, *y = b;
  if (x->loop != y->loop)
    return x->loop < y->loop ? -1 : 1;
  return (x->seq > y->seq) - (x->seq < y->seq);
}

static int same_site(const struct al_res *x, const struct al_res *y) {
  return x->stack == y->stack && x->shim == y->shim && x->type == y->type &&
         x->state == y->state;
}

static int by_count(const void *a, const void *b) {
  const struct al_group *x = a, *y = b;
  if (x->after != y->after)
    return x->after - y->after;
  if (x->count != y->count)
    return x->count > y->count ? -1 : 1;
  return x->min_seq < y->min_seq ? -1 : x->min_seq > y->min_seq;
}

const char *al_type_name(uint8_t shim, unsigned type) {
  const struct al_shim *s = shim < AL_MAX_SHIMS ? al_shims[shim] : NULL;
  const char *n = s ? s->type_name(type) : NULL;
  return n ? n : "resource";
}

const char *al_type_identity(uint8_t shim, unsigned type) {
  const struct al_shim *s = shim < AL_MAX_SHIMS ? al_shims[shim] : NULL;
  const char *n = s && s->type_identity ? s->type_identity(type) : NULL;
  return n ? n : al_type_name(shim, type);
}

const char *al_req_type_name(uint8_t shim, unsigned type) {
  const struct al_shim *s = shim < AL_MAX_SHIMS ? al_shims[shim] : NULL;
  const char *n = s && s->req_type_name ? s->req_type_name(type) : NULL;
  return n ? n : "request";
}

/* The state of a record as the records for the command name it. */
static const char *res_state(const struct al_res *r) {
  switch (r->state) {
  case AL_RES_PENDING:
    return "pending";
  case AL_RES_CLOSING:
    return "closing";
  default:
    return "open";
  }
}

const char *al_res_type_name(const struct al_res *r) {
  return al_res_is_request(r) ? al_req_type_name(r->shim, r->type)
                                : al_type_name(r->shim, r->type);
}

static const char *res_type_identity(const struct al_res *r) {
  return al_res_is_request(r) ? al_req_type_name(r->shim, r->type)
                                : al_type_identity(r->shim, r->type);
}

static int by_note(const void *a, const void *b) {
  const struct al_note *x = a, *y = b;
  if (x->kind != y->kind)
    return x->kind - y->kind;
  if (x->stack != y->stack)
    return (uintptr_t)x->stack < (uintptr_t)y->stack ? -1 : 1;
  if (x->fn != y->fn)
    return (uintptr_t)x->fn < (uintptr_t)y->fn ? -1 : 1;
  if (x->type != y->type)
    return x->type - y->type;
  return (x->addr > y->addr) - (x->addr < y->addr);
}

static int same_note_site(const struct al_note *x, const struct al_note *y) {
  return x->kind == y->kind && x->stack == y->stack && x->fn == y->fn &&
         x->type == y->type && x->shim == y->shim;
}

const char *al_fn_name(struct al_symbolizer *sym, void *fn) {
  struct al_frame f;
  al_symbolize(sym, (uintptr_t)fn + 1, &f);
  return f.function ? f.function : "??";
}

/* Handles closed by force, requests cancelled by force and resources
 * closed by ensure_closure, grouped by where they were made (or
 * registered), most frequent first. Returns the number of groups in g. */
static size_t group_notes(struct al_note *n, size_t count, struct al_group *g) {
  size_t ng = 0;

  qsort(n, count, sizeof(*n), by_note);
  for (size_t i = 0; i < count; i++) {
    if (i == 0 || !same_note_site(&n[i], &n[i - 1]))
      g[ng++] = (struct al_group){i, 0, (uint64_t)n[i].kind, 0};
    g[ng - 1].count++;
  }
  qsort(g, ng, sizeof(*g), by_count);
  return ng;
}

int al_shutdown_failed(const struct al_shutdown_entry *e) {
  return e->skip != AL_SKIP_NONE || e->timed_out || e->v.by_force > 0 ||
         e->v.still_open > 0 || e->v.cancelled > 0;
}

static const char *note_state(const struct al_note *n) {
  switch (n->kind) {
  case AL_NOTE_FORCED:
    return "forced";
  case AL_NOTE_CANCELLED:
    return "cancelled";
  default:
    return "ensured";
  }
}

static size_t *count_of(struct al_report_totals *t, const char *state) {
  if (!strcmp(state, "open"))
    return &t->open;
  if (!strcmp(state, "pending"))
    return &t->pending;
  if (!strcmp(state, "closing"))
    return &t->closing;
  if (!strcmp(state, "forced"))
    return &t->forced;
  if (!strcmp(state, "cancelled"))
    return &t->cancelled;
  return &t->ensured;
}

/* Judges every group against the user's suppressions and baseline, and
 * takes those they cover out of the totals. Ensure_closure's are warnings,
 * not leaks: never hidden. */
static void judge(struct al_symbolizer *sym, struct al_leak *l, size_t nl,
                  struct al_entry *e, struct al_report_totals *t,
                  size_t *supp_hits) {
  struct al_site site;

  for (size_t i = 0; i < nl; i++) {
    l[i].supp = -1;
    l[i].baselined = 0;
    if (!strcmp(l[i].state, "ensured"))
      continue;
    al_site_judge(sym, l[i].stack, l[i].is_request, l[i].identity, &site);
    l[i].supp = site.supp;
    l[i].baselined = site.baselined;
    if (site.supp < 0 && !site.baselined)
      continue;
    *count_of(t, l[i].state) -= l[i].g->count;
    if (!l[i].from_notes) {
      t->groups--;
      t->req_groups -= l[i].is_request;
      t->closing_groups -= !strcmp(l[i].state, "closing");
      for (size_t k = 0; k < l[i].g->count; k++)
        e[l[i].g->first + k].hidden = 1;
    }
    if (site.supp >= 0) {
      t->suppressed += l[i].g->count;
      t->suppressed_groups++;
      supp_hits[2 * site.supp]++;
      supp_hits[2 * site.supp + 1] += l[i].g->count;
    } else {
      t->baselined += l[i].g->count;
      t->baselined_groups++;
    }
  }
}

size_t al_report_failing(const struct al_report_totals *t) {
  return t->open + t->pending + t->forced + t->cancelled +
         (al_opt.fail_on_closing ? t->closing : 0) +
         (al_opt.fail_on_findings ? t->findings : 0);
}


int al_verdict_take(struct al_snapshot *s, const struct al_report_scope *scope,
                    struct al_report_totals *t, struct al_verdict *v) {
  const struct al_supp *rules;
  size_t nrules = al_suppressions(&rules);
  uint64_t since = scope ? scope->since : 0;
  struct al_entry *e;
  struct al_group *g;

  memset(v, 0, sizeof(*v));
  memset(t, 0, sizeof(*t));
  t->created = s->created;
  t->requests = s->requests;
  t->shims_seen = s->shims_seen;
  t->unreadable = s->unreadable;
  for (size_t i = 0; i < s->nloops; i++)
    if (!(s->loops[i].flags & (AL_LOOP_INHERITED | AL_LOOP_FREED)))
      t->loops_unclosed++;
  t->loops = t->loops_unclosed + s->loops_closed;
  /* A check in the middle of the program is about what it made since. */
  if (scope != NULL) {
    t->loops = t->loops_unclosed = 0;
    s->nnotes = s->nshutdowns = s->notes_dropped = s->shutdowns_dropped = 0;
    memset(s->notes_dropped_kind, 0, sizeof(s->notes_dropped_kind));
  }
  v->e = e = calloc(s->nres ? s->nres : 1, sizeof(*v->e));
  v->g = g = calloc(s->nres ? s->nres : 1, sizeof(*v->g));
  v->notes = calloc(s->nnotes ? s->nnotes : 1, sizeof(*v->notes));
  v->l = calloc(s->nres + s->nnotes + 1, sizeof(*v->l));
  v->hits = calloc(2 * nrules + 1, sizeof(*v->hits));
  if (e == NULL || g == NULL || v->notes == NULL || v->l == NULL ||
      v->hits == NULL)
    return -1;

  /* What the loop library made for itself is not the program's leak.
   * Probed loop by loop: a loop library may ask each loop once per round
   * for what it holds (libevent's event_base_foreach_event). */
  if (s->nres > 1)
    qsort(s->res, s->nres, sizeof(*s->res), by_loop);
  al_probe_round_begin();
  for (size_t i = 0; i < s->nres; i++) {
    const struct al_shim *sh = al_shims[s->res[i].shim];
    struct al_entry *x = &e[v->n];

    if (s->res[i].seq < since)
      continue;
    x->r = s->res[i];
    x->type = (uint8_t)s->res[i].type;
    memset(&x->st, 0, sizeof(x->st));
    if (sh != NULL && sh->probe != NULL)
      sh->probe(&x->r, &x->st);
    if (x->st.known && (x->st.internal || x->st.idle))
      continue;
    if (x->st.type != 0)
      x->r.type = x->st.type;
    /* A close asked for by a way asyncleak did not follow is a close all
     * the same. */
    if (x->st.known && x->st.closing && !al_res_is_request(&x->r))
      x->r.state = AL_RES_CLOSING;
    if (al_res_is_request(&x->r))
      t->pending++;
    else if (x->r.state == AL_RES_CLOSING)
      t->closing++;
    else
      t->open++;
    v->n++;
  }
  al_probe_round_end();

  qsort(e, v->n, sizeof(*e), by_site);
  for (size_t i = 0; i < v->n; i++) {
    if (i == 0 || !same_site(&e[i].r, &e[i - 1].r)) {
      int closing = e[i].r.state == AL_RES_CLOSING;
      g[v->ng++] = (struct al_group){i, 0, e[i].r.seq,
                                     closing && !al_opt.fail_on_closing};
      t->req_groups += al_res_is_request(&e[i].r);
      t->closing_groups += closing;
    }
    g[v->ng - 1].count++;
  }
  qsort(g, v->ng, sizeof(*g), by_count);
  t->groups = v->ng;

  for (size_t i = 0; i < s->nnotes; i++) {
    if (s->notes[i].kind == AL_NOTE_FORCED)
      t->forced++;
    else if (s->notes[i].kind == AL_NOTE_CANCELLED)
      t->cancelled++;
    else
      t->ensured++;
  }
  /* Those past the log's bound are counted all the same: their stacks
   * alone were not kept. */
  t->forced += s->notes_dropped_kind[AL_NOTE_FORCED];
  t->cancelled += s->notes_dropped_kind[AL_NOTE_CANCELLED];
  t->ensured += s->notes_dropped_kind[AL_NOTE_ENSURED];
  v->nn = group_notes(s->notes, s->nnotes, v->notes);
  for (size_t i = 0; i < s->nshutdowns; i++)
    v->shutdown_failed |= al_shutdown_failed(&s->shutdowns[i]);

  if (v->n > 0 || v->nn > 0)
    v->sym = al_symbolizer_new();
  for (size_t i = 0; i < v->ng; i++) {
    const struct al_res *r = &e[g[i].first].r;
    v->l[v->nl++] = (struct al_leak){.g = &g[i],
                                     .state = res_state(r),
                                     .type = al_res_type_name(r),
                                     .identity = res_type_identity(r),
                                     .stack = r->stack,
                                     .is_request = al_res_is_request(r),
                                     .supp = -1};
  }
  for (size_t i = 0; i < v->nn; i++) {
    const struct al_note *x = &s->notes[v->notes[i].first];
    const char *type = x->kind == AL_NOTE_FORCED
                           ? al_type_name(x->shim, x->type)
                       : x->kind == AL_NOTE_CANCELLED
                           ? al_req_type_name(x->shim, x->type)
                           : al_fn_name(v->sym, x->fn);
    const char *identity = x->kind == AL_NOTE_FORCED
                               ? al_type_identity(x->shim, x->type)
                               : type;
    v->l[v->nl++] = (struct al_leak){.g = &v->notes[i],
                                     .state = note_state(x),
                                     .type = type,
                                     .identity = identity,
                                     .stack = x->stack,
                                     .is_request =
                                         x->kind == AL_NOTE_CANCELLED,
                                     .from_notes = 1,
                                     .supp = -1};
  }
  judge(v->sym, v->l, v->nl, e, t, v->hits);
  for (size_t i = 0; i < v->nl; i++)
    v->visible += v->l[i].supp < 0 && !v->l[i].baselined;
  return 0;
}

void al_verdict_free(struct al_verdict *v) {
  al_symbolizer_free(v->sym);
  free(v->hits);
  free(v->l);
  free(v->notes);
  free(v->g);
  free(v->e);
  memset(v, 0, sizeof(*v));
}

/* ------------------------------------------- a loop freed with resources */

size_t al_loop_freeing(uintptr_t loop) {
  const struct al_shim *sh;
  struct al_res *res;
  struct al_loop l;
  size_t n, kept = 0;

  /* While the library can still take the core's watch off the loop. */
  al_run_forget(loop, 1);
  if (al_loop_get(loop, &l) != 0)
    return 0;
  sh = al_shims[l.shim];
  n = al_res_on_loop(loop, l.first_seq,
                     1u << AL_RES_OPEN | 1u << AL_RES_PENDING, &res);
  al_probe_round_begin();
  for (size_t i = 0; i < n; i++) {
    const struct al_res *r = &res[i];
    struct al_state st = {0};
    int at_free;

    /* Its callback will never run: it stays pending. */
    if (r->state == AL_RES_PENDING) {
      kept++;
      continue;
    }
    at_free = sh->at_free != NULL ? sh->at_free(r->type) : AL_AT_FREE_KEEP;
    if (at_free == AL_AT_FREE_KEEP) {
      kept++;
      continue;
    }
    sh->probe(r, &st);
    /* Unreadable: freed behind our back, or holding nothing. */
    if (!st.known || st.idle || st.internal) {
      al_res_forget(r->addr);
      continue;
    }
    al_res_update(r->addr, st.active ? at_free : (st.type ? st.type : -1),
                  0);
    kept++;
  }
  al_probe_round_end();
  free(res);
  return kept;
}

void al_loop_gone(uintptr_t loop, size_t kept) {
  int saved = errno;

  if (kept > 0)
    al_loop_freed(loop);
  else
    al_loop_closed(loop, 0);
  errno = saved;
}
