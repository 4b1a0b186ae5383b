/* A loop's shutdown: its finalizers run with the loop alive, the work they
 * started is drained, and with force_close what the program left open is
 * closed. Every handle open when it began gets a verdict. Loop-neutral: the
 * loop's shim runs the loop and closes handles.
 *
 * It happens as the program closes the loop, at exit for loops never
 * closed, and on a graceful signal. What each shutdown did is kept in a
 * bounded log for the report. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "finorder.h"
#include "internal.h"

/* Finalizers run in one shutdown at most; more stay for the next. */
#define MAX_RUN 65536
#define MAX_ENTRIES 64
#define MAX_NOTES 1024
#define MAX_WAITS 256

/* ------------------------------------------------------------------ log */

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
AL_LOCK_REGISTER(AL_LOCK_SHUTDOWN_LOG, log_lock, AL_LOCK_FOR_REPORT)
static struct al_shutdown_entry entries[MAX_ENTRIES];
static size_t nentries, entries_dropped;
static struct al_note notes[MAX_NOTES];
static size_t nnotes, notes_dropped, notes_dropped_kind[3];

static void log_entry(const struct al_shutdown_entry *e) {
  al_mutex_lock(&log_lock);
  /* A loop skipped as it closed is skipped again at exit: said once. */
  if (e->skip != AL_SKIP_NONE && nentries > 0 &&
      entries[nentries - 1].serial == e->serial &&
      entries[nentries - 1].skip == e->skip)
    ;
  else if (nentries < MAX_ENTRIES)
    entries[nentries++] = *e;
  else
    entries_dropped++;
  al_mutex_unlock(&log_lock);
}

static void log_note(const struct al_note *n) {
  al_mutex_lock(&log_lock);
  if (nnotes < MAX_NOTES)
    notes[nnotes++] = *n;
  else
    notes_dropped++, notes_dropped_kind[n->kind]++;
  al_mutex_unlock(&log_lock);
}

void al_shutdown_log_copy(struct al_snapshot *s, int *budget) {
  if (al_lock_briefly(&log_lock, budget) != 0) {
    s->unreadable++;
    return;
  }
  s->shutdowns = malloc((nentries ? nentries : 1) * sizeof(*s->shutdowns));
  s->notes = malloc((nnotes ? nnotes : 1) * sizeof(*s->notes));
  if (s->shutdowns != NULL && s->notes != NULL) {
    memcpy(s->shutdowns, entries, nentries * sizeof(*entries));
    memcpy(s->notes, notes, nnotes * sizeof(*notes));
    s->nshutdowns = nentries;
    s->nnotes = nnotes;
    s->shutdowns_dropped = entries_dropped;
    s->notes_dropped = notes_dropped;
    memcpy(s->notes_dropped_kind, notes_dropped_kind,
           sizeof(notes_dropped_kind));
  }
  al_mutex_unlock(&log_lock);
}

void al_shutdown_log_reset(void) {
  nentries = entries_dropped = nnotes = notes_dropped = 0;
  memset(notes_dropped_kind, 0, sizeof(notes_dropped_kind));
}

void al_shutdown_atfork_child(void) {
  /* The parent's shutdowns are the parent's to report. */
  al_shutdown_log_reset();
}

/* ------------------------------------------------------------ verdicts */

enum phase { BY_NONE, BY_FINALIZER, BY_PROGRAM, BY_FORCE };

/* A handle open when the shutdown began. */
struct item {
  struct al_res r;
  uint8_t by;     /* enum phase: who began closing it */
  uint8_t forced; /* the type it was reported under when force closed it
                     (al_state.type), or 0 for its own */
};

/* A shutdown under way on this thread; finalizers may shut down another
 * loop inside, hence the chain. */
struct ctx {
  uintptr_t loop;
  struct item *items; /* sorted by address */
  size_t n;
  enum phase phase;
  struct al_fin_runs runs; /* the finalizers called, and their work */
  struct ctx *outer;
};

static AL_TLS struct ctx *current;

static int by_addr(const void *a, const void *b) {
  const struct item *x = a, *y = b;
  return (x->r.addr > y->r.addr) - (x->r.addr < y->r.addr);
}

/* Called for every close during a shutdown: a search, never a scan, so
 * that closing n handles costs n log n. */
void al_shutdown_saw_close(uintptr_t loop, uintptr_t addr) {
  for (struct ctx *c = current; c != NULL; c = c->outer) {
    struct item key, *it;

    if (c->loop != loop)
      continue;
    al_finorder_saw(&c->runs, addr, AL_KIND_NONE);
    key.r.addr = addr;
    it = c->items ? bsearch(&key, c->items, c->n, sizeof(*it), by_addr) : NULL;
    if (it == NULL)
      return;
    /* Handles made again at one address sit side by side. */
    while (it > c->items && it[-1].r.addr == addr)
      it--;
    for (; it < c->items + c->n && it->r.addr == addr; it++)
      if (it->by == BY_NONE)
        it->by = (uint8_t)c->phase;
    return;
  }
}

/* The program's handles on the loop: the loop library's own are not. */
static void collect(struct ctx *c, const struct al_loop *l) {
  struct al_res *res;
  size_t n = al_res_on_loop(l->addr, l->first_seq, 1u << AL_RES_OPEN, &res);
  const struct al_shim *sh = al_shims[l->shim];

  c->items = calloc(n ? n : 1, sizeof(*c->items));
  c->n = 0;
  al_probe_round_begin();
  for (size_t i = 0; c->items != NULL && i < n; i++) {
    struct al_state st = {0};
    sh->probe(&res[i], &st);
    if (st.known && (st.internal || st.closing || st.idle))
      continue;
    c->items[c->n++].r = res[i];
  }
  al_probe_round_end();
  free(res);
  if (c->items != NULL)
    qsort(c->items, c->n, sizeof(*c->items), by_addr);
}

void al_shutdown_saw_wait(uintptr_t loop, uintptr_t addr, enum al_kind what) {
  for (struct ctx *c = current; c != NULL; c = c->outer) {
    if (c->loop == loop) {
      al_finorder_saw(&c->runs, addr, what);
      return;
    }
  }
}

int al_shutdown_forced(uintptr_t addr) {
  int found = 0;

  al_mutex_lock(&log_lock);
  for (size_t i = 0; i < nnotes && !found; i++)
    found = notes[i].kind == AL_NOTE_FORCED && notes[i].addr == addr;
  al_mutex_unlock(&log_lock);
  return found;
}

static int protected(uintptr_t loop, uintptr_t addr) {
  uintptr_t w[MAX_WAITS];
  size_t n = al_loop_waits(loop, AL_KIND_NONE, w, MAX_WAITS);
  for (size_t i = 0; i < n; i++)
    if (w[i] == addr)
      return 1;
  return 0;
}

int al_shutdown_holds(uintptr_t loop) {
  uintptr_t w[MAX_WAITS];
  struct al_loop l;
  size_t n = al_loop_waits(loop, AL_KIND_REQUEST, w, MAX_WAITS);

  for (size_t i = 0; i < n; i++)
    if (al_req_pending(w[i]))
      return 1;
  n = al_loop_waits(loop, AL_KIND_HANDLE, w, MAX_WAITS);
  if (n == 0 || al_loop_get(loop, &l) != 0)
    return 0;
  for (size_t i = 0; i < n; i++)
    if (al_handle_open(al_shims[l.shim], loop, w[i]))
      return 1;
  return 0;
}

static unsigned left(uint64_t end) {
  uint64_t now = al_now_ms();
  return now >= end ? 0 : (unsigned)(end - now);
}

/* Closes what is still open of the program's: not what is closing
 * already (a second close is an error), nor what the program protected.
 * What the deadline leaves unclosed stays open. */
static void force_close(struct ctx *c, const struct al_shim *sh,
                        uint64_t end) {
  c->phase = BY_FORCE;
  /* Closing calls none of the program's callbacks: what the loop listed
   * at the start of the round still holds for the handles not closed. */
  al_probe_round_begin();
  for (size_t i = 0; i < c->n && left(end) > 0; i++) {
    const struct al_res *r = &c->items[i].r;
    struct al_state st = {0};
    if (c->items[i].by != BY_NONE || !al_res_alive(r->addr, r->seq) ||
        protected(c->loop, r->addr))
      continue;
    sh->probe(r, &st);
    if (!st.known || st.closing)
      continue;
    /* Told as what it was: a libevent event still added is closed by
     * force as an "event (added)", the leak a run without force reports. */
    c->items[i].forced = (uint8_t)st.type;
    sh->close_handle(r->addr);
  }
  al_probe_round_end();
}

/* Cancels the program's requests still pending that are not protected;
 * their callbacks run, cancelled, in the next drain. One already running
 * cannot be cancelled and is waited for. Returns the requests it tried,
 * a malloc'd array, for force_cancelled to judge after the drain. */
static size_t force_cancel(const struct al_loop *l, const struct al_shim *sh,
                           struct al_res **tried) {
  size_t n, k = 0;

  *tried = NULL;
  if (sh->cancel == NULL)
    return 0;
  n = al_res_on_loop(l->addr, l->first_seq, 1u << AL_RES_PENDING, tried);
  for (size_t i = 0; i < n; i++) {
    const struct al_res *r = &(*tried)[i];
    if (protected(l->addr, r->addr) || !al_res_alive(r->addr, r->seq))
      continue;
    (void)sh->cancel(r->addr);
    (*tried)[k++] = *r;
  }
  return k;
}

/* The requests force tried to cancel that have ended since, cancelled or,
 * when already running, completed: each was left pending by the program,
 * and counts as cancelled whichever it was, so that the verdict does not
 * depend on whether the thread pool had picked it up. One still pending
 * after the drain is reported as pending, once. */
static void force_cancelled(const struct al_res *tried, size_t n,
                            struct al_shutdown_entry *e) {
  for (size_t i = 0; i < n; i++) {
    const struct al_res *r = &tried[i];
    struct al_note note = {r->addr, r->stack, NULL,   e->serial,
                           r->tid,  r->type,  r->shim, AL_NOTE_CANCELLED};
    if (al_res_alive(r->addr, r->seq))
      continue;
    e->v.cancelled++;
    log_note(&note);
  }
}

static void verdicts(struct ctx *c, struct al_shutdown_entry *e) {
  e->v.at_start = (unsigned)c->n;
  for (size_t i = 0; i < c->n; i++) {
    const struct item *it = &c->items[i];
    if (al_res_alive(it->r.addr, it->r.seq)) {
      e->v.still_open++;
    } else if (it->by == BY_FORCE) {
      uint16_t type = it->forced ? it->forced : it->r.type;
      struct al_note n = {it->r.addr, it->r.stack, NULL,       e->serial,
                          it->r.tid,  type,        it->r.shim, AL_NOTE_FORCED};
      e->v.by_force++;
      log_note(&n);
    } else if (it->by == BY_FINALIZER) {
      e->v.by_finalizer++;
    } else {
      e->v.by_program++;
    }
  }
}

/* ---------------------------------------------------------- the shutdown */

/* Closes an ensure_closure resource the program left open. */
static void ensure(struct ctx *c, const struct al_fin *f,
                   struct al_shutdown_entry *e) {
  struct al_note n = {(uintptr_t)f->arg, f->stack, (void *)f->close,
                      e->serial, 0, 0, e->shim, AL_NOTE_ENSURED};
  if (f->is_closed(f->arg))
    return;
  al_finorder_call(&c->runs, NULL, NULL, (void *)f->close, NULL);
  f->close(f->arg);
  al_finorder_returned(&c->runs);
  e->nran++;
  log_note(&n);
}

/* Whether the loop a shutdown began on is still open: a finalizer, or a
 * callback of the program's during a drain, may close it (and free its
 * memory), and another loop may be made at its address. */
static int still_there(uintptr_t loop, uint64_t serial) {
  return al_loop_serial(loop) == serial;
}

/* Newest first, one at a time from the loop's list, so that a finalizer
 * may cancel one not run yet, and one it registers runs next, as exit
 * handlers registered during exit do; one ordered after another waits
 * for the other's work, the loop running meanwhile (finorder.c). Bounded,
 * against one that registers itself again each time. */
static void run_finalizers(struct ctx *c, const struct al_loop *l,
                           uint64_t end, struct al_shutdown_entry *e) {
  struct al_fin *f;
  int late = 0;

  for (unsigned n = 0; n < MAX_RUN && still_there(l->addr, e->serial);) {
    int waiting;
    void *held_by;

    f = al_finorder_next(&c->runs, late || left(end) == 0, &waiting,
                         &held_by);
    if (f == NULL && waiting) {
      /* What runs now is the program's callbacks, finishing that work. */
      c->phase = BY_PROGRAM;
      late = al_run_until(l->shim, l->addr, left(end), al_finorder_progress,
                          &c->runs) != 0;
      c->phase = BY_FINALIZER;
      continue;
    }
    if (f == NULL)
      break;
    n++;
    if (!still_there(l->addr, e->serial)) {
      free(f);
      break;
    }
    if (f->kind == AL_FIN_ENSURE) {
      ensure(c, f, e);
    } else {
      al_finorder_call(&c->runs, f->fn, f->arg, (void *)f->fn, held_by);
      e->nran++;
      f->fn((void *)l->addr, f->arg);
      al_finorder_returned(&c->runs);
    }
    free(f);
  }
}

/* What a drain waits for: no close unfinished, nothing protected alive,
 * and no request in flight, or, when `since` is not 0, none of the
 * program's made from that seq on: under force_close the requests the
 * program left are cancelled next, not waited for. */
struct goal {
  const struct al_shim *sh;
  uint64_t since;
  struct al_fin_runs *runs; /* whose work is done is noted as it is */
};

static int work_done(uintptr_t loop, void *arg) {
  const struct goal *g = arg;
  (void)al_finorder_progress(loop, g->runs);
  if (g->sh->closing(loop) || al_shutdown_holds(loop))
    return 0;
  if (g->since)
    return !al_req_pending_on(loop, g->since);
  return !g->sh->requests(loop);
}

static int drain(struct ctx *c, uint8_t shim, uint64_t since, uint64_t end) {
  uintptr_t loop = c->loop;
  struct goal g = {al_shims[shim], since, &c->runs};
  return al_run_until(shim, loop, left(end), work_done, &g);
}

static void skipped(const struct al_loop *l, enum al_why why,
                    enum al_skip skip) {
  struct al_shutdown_entry e = {0};
  e.serial = l->serial;
  e.loop = l->addr;
  e.stack = l->stack;
  e.shim = l->shim;
  e.why = (uint8_t)why;
  e.skip = (uint8_t)skip;
  log_entry(&e);
}

/* Force mode acts only where the program can no longer close what it
 * left, and its callbacks are still safe to call: on a graceful signal,
 * which stopped the program in its loop, and in asyncleak_loop_close,
 * which asked for it. Never in the program's own close of the loop (it
 * may close its handles and close again, as luv and neovim do), nor at
 * exit (the program may still close them from its exit handlers, or has
 * torn down what its callbacks use). */
static int forcing(enum al_why why) {
  return al_opt.force_close && (why == AL_WHY_SIGNAL || why == AL_WHY_CALL);
}

int al_loop_closing(uintptr_t loop) {
  int saved = errno, rc = al_shutdown(loop, AL_WHY_CLOSE);

  errno = saved;
  return rc == AL_SHUTDOWN_CLOSED;
}

int al_shutdown(uintptr_t loop, enum al_why why) {
  const struct al_shim *sh;
  struct al_shutdown_entry e = {0};
  struct ctx c = {0};
  struct al_loop l;
  uint64_t end, started;
  int rc = 0, holds, force = forcing(why);

  if (al_loop_get(loop, &l) != 0)
    return -ENOENT;
  sh = al_shims[l.shim];
  /* Once drained (a close that still failed), a loop is not waited for
   * again at exit unless it got new finalizers: never twice the deadline. */
  holds = al_shutdown_holds(loop);
  if (l.nfins == 0 && (l.shut_down || (!force && !holds)))
    return 0;
  if (sh->claim != NULL && !sh->claim(loop)) {
    /* Closed behind our back (calls bound straight to the loop library):
     * its finalizers would touch what the program has freed. */
    al_fins_free(al_loop_fin_take(loop));
    return -ENOENT;
  }
  if (al_run_here(l.shim, loop)) {
    /* libuv is not re-entrant: the finalizers stay for a later close. */
    if (l.nfins > 0)
      skipped(&l, why, AL_SKIP_IN_CALLBACK);
    return -EDEADLK;
  }

  e.serial = l.serial;
  e.loop = loop;
  e.stack = l.stack;
  e.shim = l.shim;
  e.why = (uint8_t)why;
  e.forced = (uint8_t)force;
  end = al_now_ms() + (uint64_t)al_opt.drain_timeout_ms;
  c.loop = loop;
  c.runs.loop = loop;
  c.runs.sh = sh;
  collect(&c, &l);
  if (l.nfins == 0 && c.n == 0 && !holds &&
      !al_req_pending_on(loop, l.first_seq)) {
    free(c.items); /* force_close, and nothing left open or pending */
    return 0;
  }
  c.outer = current;
  current = &c;

  /* Each phase may end with the loop closed: nothing after it touches
   * the loop then. */
  c.phase = BY_FINALIZER;
  started = al_res_next_seq();
  run_finalizers(&c, &l, end, &e);
  c.phase = BY_PROGRAM;
  if (still_there(loop, l.serial))
    rc = drain(&c, l.shim, force ? started : 0, end);
  if (force && still_there(loop, l.serial)) {
    struct al_res *tried;
    size_t ntried;

    force_close(&c, sh, end);
    ntried = force_cancel(&l, sh, &tried);
    c.phase = BY_PROGRAM;
    rc = drain(&c, l.shim, 0, end);
    force_cancelled(tried, ntried, &e);
    free(tried);
  }
  e.timed_out = rc == -ETIMEDOUT;

  current = c.outer;
  if (still_there(loop, l.serial))
    al_loop_shut_down(loop);
  else
    rc = AL_SHUTDOWN_CLOSED;
  verdicts(&c, &e);
  al_finorder_end(&c.runs, &e);
  free(c.items);
  if (e.nran > 0 || (e.forced && e.v.at_start > 0) || e.v.cancelled > 0 ||
      e.timed_out)
    log_entry(&e);
  return rc;
}

/* ------------------------------------------------------------------ exit */

extern int __cxa_atexit(void (*fn)(void *), void *arg, void *dso);
static atomic_uint armed;
static atomic_int exited;

static void at_exit(void *unused) {
  struct al_loop *loops;
  size_t n;
  pid_t self;
  int saved = errno;

  (void)unused;
  if (atomic_exchange(&exited, 1))
    return; /* registered twice: the first to run did it */
  n = al_loop_list(&loops);
  self = al_gettid();
  for (size_t i = 0; n != (size_t)-1 && i < n; i++) {
    const struct al_loop *l = &loops[i];
    pid_t owner = l->run_tid ? l->run_tid : l->tid;
    if (l->flags & (AL_LOOP_INHERITED | AL_LOOP_REPLACED | AL_LOOP_UNLOADED))
      continue;
    if (owner != self) {
      /* Another thread may be running it right now. */
      if (l->nfins > 0)
        skipped(l, AL_WHY_EXIT, AL_SKIP_THREAD);
      continue;
    }
    al_shutdown(l->addr, AL_WHY_EXIT);
  }
  free(loops);
  /* The program reached exit after a graceful signal stopped its loop. */
  if (al_graceful_signal() != 0)
    al_graceful_end();
  errno = saved;
}

void al_shutdown_arm(unsigned from) {
  unsigned was = atomic_load_explicit(&armed, memory_order_relaxed);
  if (AL_LIKELY(was & from))
    return;
  was = atomic_fetch_or(&armed, from);
  if (was & from)
    return;
  /* Handlers run in reverse order of registration: one registered once
   * main is running runs before the loader's, which runs the libraries'
   * destructors (libuv's stops its thread pool). One registered from a
   * constructor would come after them; the second registration, from
   * whichever of the two events comes later, covers that case. */
  __cxa_atexit(at_exit, NULL, NULL);
}
