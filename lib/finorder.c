/* Teardown in dependency order: a finalizer registered to run after
 * another (asyncleak_finally_after) starts only once the other has been
 * called and its work is done: the requests it made on the loop have
 * called back and the closes it began have completed. Otherwise the
 * newest goes first, as without orders. Whatever still waits when the
 * drain's deadline passes goes then, and the report names what held it.
 *
 * The orders are kept on the loop, with its finalizers, under the
 * registry's loops lock; the runs of one shutdown belong to the thread
 * running it. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "finorder.h"

typedef void (*fin_fn)(void *, void *);

/* ------------------------------------------------------------- orders */

static int registered(const struct al_loop *l, fin_fn fn, void *arg) {
  for (const struct al_fin *f = l->fins; f != NULL; f = f->next)
    if (f->kind == AL_FIN_CALL && f->fn == fn && f->arg == arg)
      return 1;
  return 0;
}

/* Whether the pair (fn, arg) waits, through one order or more, for
 * (goal_fn, goal_arg): a walk of the orders, each followed once. 1, 0,
 * or -ENOMEM. */
static int waits_for(const struct al_loop *l, fin_fn fn, void *arg,
                     fin_fn goal_fn, void *goal_arg) {
  size_t n = 0, top = 0;
  const struct al_fin **edges, **stack;
  unsigned char *seen;
  int found = 0;

  for (const struct al_fin *e = l->afters; e != NULL; e = e->next)
    n++;
  if (n == 0)
    return 0;
  edges = malloc(n * sizeof(*edges));
  stack = malloc(n * sizeof(*stack));
  seen = calloc(n, 1);
  if (edges == NULL || stack == NULL || seen == NULL) {
    free(edges), free(stack), free(seen);
    return -ENOMEM;
  }
  n = 0;
  for (const struct al_fin *e = l->afters; e != NULL; e = e->next)
    edges[n++] = e;
  /* The stack holds orders whose earlier pair is to be looked at. */
  for (;;) {
    for (size_t i = 0; i < n && !found; i++) {
      if (seen[i] || edges[i]->fn != fn || edges[i]->arg != arg)
        continue;
      seen[i] = 1;
      if (edges[i]->before_fn == goal_fn && edges[i]->before_arg == goal_arg)
        found = 1;
      else
        stack[top++] = edges[i];
    }
    if (found || top == 0)
      break;
    top--;
    fn = stack[top]->before_fn;
    arg = stack[top]->before_arg;
  }
  free(edges), free(stack), free(seen);
  return found;
}

int al_finorder_add(struct al_loop *l, struct al_fin *edge) {
  int rc;

  if (!registered(l, edge->fn, edge->arg) ||
      !registered(l, edge->before_fn, edge->before_arg))
    return -ENOENT;
  if (edge->fn == edge->before_fn && edge->arg == edge->before_arg)
    return -ELOOP;
  for (const struct al_fin *e = l->afters; e != NULL; e = e->next) {
    if (e->fn == edge->fn && e->arg == edge->arg &&
        e->before_fn == edge->before_fn && e->before_arg == edge->before_arg) {
      free(edge); /* said before: once is enough */
      return 0;
    }
  }
  rc = waits_for(l, edge->before_fn, edge->before_arg, edge->fn, edge->arg);
  if (rc != 0)
    return rc < 0 ? rc : -ELOOP;
  edge->next = l->afters;
  l->afters = edge;
  return 0;
}

void al_finorder_forget(struct al_loop *l, fin_fn fn, void *arg) {
  struct al_fin **p = &l->afters;

  if (registered(l, fn, arg))
    return;
  while (*p != NULL) {
    struct al_fin *e = *p;
    if ((e->fn == fn && e->arg == arg) ||
        (e->before_fn == fn && e->before_arg == arg)) {
      *p = e->next;
      free(e);
    } else {
      p = &e->next;
    }
  }
}

/* --------------------------------------------------------- which next */

struct pick {
  const struct al_fin_runs *rs;
  int late;
  struct al_fin *f;   /* taken */
  void *held_by;
  int waiting;
};

/* Whether a call of the pair has work not done; its fn when so. */
static void *busy(const struct al_fin_runs *rs, fin_fn fn, void *arg) {
  for (size_t i = rs->first_busy; i < rs->n; i++)
    if (!rs->v[i].done && rs->v[i].fn == fn && rs->v[i].arg == arg)
      return (void *)fn;
  return NULL;
}

/* 1 when f may go now. Else 0, and *held_by says, when it only waits for
 * work under way, whose. */
static int ready(const struct al_loop *l, const struct al_fin *f,
                 const struct al_fin_runs *rs, int late, void **held_by) {
  *held_by = NULL;
  if (f->kind != AL_FIN_CALL)
    return 1;
  for (const struct al_fin *e = l->afters; e != NULL; e = e->next) {
    void *b;
    if (e->fn != f->fn || e->arg != f->arg)
      continue;
    if (registered(l, e->before_fn, e->before_arg))
      return 0; /* not called yet: it goes first, late or not */
    if ((b = busy(rs, e->before_fn, e->before_arg)) != NULL && *held_by == NULL)
      *held_by = b;
  }
  return *held_by == NULL || late;
}

static int take_next(struct al_loop *l, void *arg) {
  struct pick *pk = arg;
  struct al_fin **p;

  for (p = &l->fins; *p != NULL; p = &(*p)->next) {
    void *held;
    if (ready(l, *p, pk->rs, pk->late, &held)) {
      pk->held_by = held;
      break;
    }
    if (held != NULL)
      pk->waiting = 1;
  }
  if (*p == NULL && (pk->waiting || l->fins == NULL))
    return 0;
  /* None may go and none waits for work: the orders would have a cycle,
   * which al_finorder_add refuses. Never leave them uncalled for it. */
  if (*p == NULL)
    p = &l->fins;
  pk->f = *p;
  *p = pk->f->next;
  pk->f->next = NULL;
  l->nfins--;
  return 0;
}

struct al_fin *al_finorder_next(struct al_fin_runs *rs, int late,
                                int *waiting, void **held_by) {
  struct pick pk = {rs, late, NULL, NULL, 0};

  *waiting = 0;
  *held_by = NULL;
  if (al_loop_fins_visit(rs->loop, take_next, &pk) != 0)
    return NULL;
  if (pk.f == NULL && pk.waiting && !late) {
    /* Every one left waits for work under way: the caller runs the loop
     * until some of it is done, unless some is done already. Were none
     * under way, which the orders make impossible, waiting would be for
     * nothing: then they go as at the deadline. */
    if (!al_finorder_progress(rs->loop, rs)) {
      *waiting = 1;
      return NULL;
    }
    return al_finorder_next(rs, rs->first_busy == rs->n, waiting, held_by);
  }
  *held_by = pk.held_by;
  return pk.f;
}

/* ------------------------------------------------------- their work */

void al_finorder_call(struct al_fin_runs *rs, fin_fn fn, void *arg,
                      void *named, void *held_by) {
  struct al_fin_run *r;

  rs->running = NULL;
  if (rs->n == rs->cap) {
    size_t cap = rs->cap ? 2 * rs->cap : 16;
    struct al_fin_run *v = realloc(rs->v, cap * sizeof(*v));
    if (v == NULL) {
      rs->untracked++; /* its work is not waited for: nothing holds */
      return;
    }
    rs->v = v;
    rs->cap = cap;
  }
  r = &rs->v[rs->n++];
  memset(r, 0, sizeof(*r));
  r->fn = fn;
  r->arg = arg;
  r->named = named;
  r->held_by = held_by;
  r->started_ms = al_now_ms();
  r->from = al_res_next_seq();
  rs->running = r;
}

void al_finorder_returned(struct al_fin_runs *rs) {
  if (rs->running == NULL)
    return;
  rs->running->to = al_res_next_seq();
  rs->running = NULL;
  (void)al_finorder_progress(rs->loop, rs);
}

void al_finorder_saw(struct al_fin_runs *rs, uintptr_t addr,
                     enum al_kind what) {
  struct al_fin_run *r = rs->running;

  if (r == NULL)
    return;
  if (r->nwork < AL_FIN_WORK) {
    r->work_kind[r->nwork] = (uint8_t)what;
    r->work[r->nwork++] = addr;
  } else {
    r->work_lost = 1;
  }
}

static int closes_and_waits_done(const struct al_fin_runs *rs,
                                 const struct al_fin_run *r) {
  struct al_res res;

  if (r->work_lost)
    return !rs->sh->closing(rs->loop) && !al_shutdown_holds(rs->loop);
  for (unsigned i = 0; i < r->nwork; i++) {
    uintptr_t a = r->work[i];
    switch (r->work_kind[i]) {
    case AL_KIND_REQUEST:
      if (al_req_pending(a))
        return 0;
      break;
    case AL_KIND_HANDLE:
      if (al_handle_open(rs->sh, rs->loop, a))
        return 0;
      break;
    default:
      if (al_res_get_state(a, AL_RES_CLOSING, &res) == 0)
        return 0;
    }
  }
  return 1;
}

static int requests_done(const struct al_fin_run *r, const struct al_res *res,
                         size_t n) {
  for (size_t i = 0; i < n; i++)
    if (res[i].seq >= r->from && res[i].seq < r->to)
      return 0;
  return 1;
}

int al_finorder_progress(uintptr_t loop, void *runs) {
  struct al_fin_runs *rs = runs;
  struct al_res *res = NULL;
  uint64_t from = UINT64_MAX, now;
  size_t n = 0;
  int changed = 0;

  (void)loop;
  while (rs->first_busy < rs->n && rs->v[rs->first_busy].done)
    rs->first_busy++;
  for (size_t i = rs->first_busy; i < rs->n; i++)
    if (!rs->v[i].done && &rs->v[i] != rs->running && rs->v[i].from < from)
      from = rs->v[i].from;
  if (from == UINT64_MAX)
    return 1;
  /* One read of the loop's pending requests for them all. */
  n = al_res_on_loop(rs->loop, from, 1u << AL_RES_PENDING, &res);
  now = al_now_ms();
  for (size_t i = rs->first_busy; i < rs->n; i++) {
    struct al_fin_run *r = &rs->v[i];
    if (r->done || r == rs->running || !requests_done(r, res, n) ||
        !closes_and_waits_done(rs, r))
      continue;
    r->done = 1;
    r->done_ms = now;
    changed = 1;
  }
  free(res);
  return changed;
}

/* ------------------------------------------------------------ the end */

static int forget_gone(struct al_loop *l, void *unused) {
  struct al_fin **p = &l->afters;

  (void)unused;
  while (*p != NULL) {
    struct al_fin *e = *p;
    if (!registered(l, e->fn, e->arg) ||
        !registered(l, e->before_fn, e->before_arg)) {
      *p = e->next;
      free(e);
    } else {
      p = &e->next;
    }
  }
  return 0;
}

void al_finorder_end(struct al_fin_runs *rs, struct al_shutdown_entry *e) {
  for (size_t i = 0; i < rs->n && i < AL_FIN_NAMED; i++) {
    const struct al_fin_run *r = &rs->v[i];
    uint64_t ms = r->done && r->done_ms > r->started_ms
                      ? r->done_ms - r->started_ms : 0;
    e->ran[i].fn = r->named;
    e->ran[i].held_by = r->held_by;
    e->ran[i].done = r->done;
    e->ran[i].work_ms = ms > UINT32_MAX ? UINT32_MAX : (uint32_t)ms;
  }
  free(rs->v);
  rs->v = NULL;
  rs->n = rs->cap = rs->first_busy = 0;
  (void)al_loop_fins_visit(rs->loop, forget_gone, NULL);
}
