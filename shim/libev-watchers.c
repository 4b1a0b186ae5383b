/* libev's watchers: the start and stop interposers of every type, ev_once,
 * ev_unref, and the report's view of what they recorded.
 *
 * A watcher is the program's memory, and ev_TYPE_init is a macro: a
 * watcher's record is made when it starts (its creation site is where it
 * was first started since its last stop), and forgotten when it stops,
 * whoever stops it (libev stops an expired one-shot timer itself).
 *
 * libev.so.4 calls its own public functions through the PLT, so its own
 * watchers reach these interposers too, and not always from inside
 * another of them: the signal pipe is started again by ev_run after a
 * fork, an ev_stat's timer from its callbacks. Nor does the return
 * address tell: the program's callbacks that end with a tail call to
 * ev_io_start have one inside libev. So libev's own are told by their
 * ADDRESS: inside the loop's struct, inside libev's own memory (the
 * default loop, its SIGCHLD watcher), or inside a started ev_stat or
 * ev_embed of the program's; and starts nested in another interposer of
 * this shim (ev_once's two, ev_stat_start's timer) are libev's by
 * lib/calls.h's rule. */
#define _GNU_SOURCE
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "libev-shim.h"

/* ----------------------------------------------------------- libev's memory */

/* Where libev's object lies in memory, its data and bss included: the
 * default loop's struct and the SIGCHLD watcher are statics there. */
static _Atomic uintptr_t libev_lo, libev_hi;
/* How far a loop's struct reaches, where libev keeps its pipe, signalfd,
 * timerfd and inotify watchers. ev.h keeps struct ev_loop opaque; its
 * size depends on the version and its configuration: 0x508 bytes in
 * libev 4.33 as Debian builds it for 64-bit systems (what ev_loop_new
 * allocates). Another version gets a bound past every member that build
 * has, which a watcher of the program's cannot lie in unless it sits
 * right after a loop made by ev_loop_new. */
static _Atomic uintptr_t loop_span = 0x600;
/* Once the program started an ev_stat or an ev_embed, the watchers libev
 * starts inside them are looked for. */
static atomic_int has_parents;

void al_libev_learn_layout(void) {
  __typeof__(&ev_version_major) major = USE(ev_version_major);
  __typeof__(&ev_version_minor) minor = USE(ev_version_minor);
  void *run = (void *)REAL(ev_run);
  uintptr_t lo, hi;

  if (run != NULL && al_loopsyms_own(&al_libev_lib, F_ev_run) &&
      al_object_range((uintptr_t)run, &lo, &hi) == 0) {
    atomic_store(&libev_hi, hi);
    atomic_store(&libev_lo, lo);
  }
  if (major != NULL && minor != NULL && major() == 4 && minor() == 33 &&
      sizeof(void *) == 8)
    atomic_store(&loop_span, 0x508);
}

/* Whether a record of type type is open at addr. */
static int started_as(uintptr_t addr, unsigned type) {
  struct al_res r;
  return al_res_get(addr, &r) == 0 && r.type == type;
}

/* Whether the watcher at w, started on loop, is libev's own, by where it
 * lies. deep: the registry may be asked (no lock of the runtime held). */
static int libev_own(uintptr_t loop, uintptr_t w, unsigned type, int deep) {
  uintptr_t lo = atomic_load_explicit(&libev_lo, memory_order_acquire);

  if (w >= loop && w < loop + atomic_load_explicit(&loop_span,
                                                   memory_order_relaxed))
    return 1;
  if (lo != 0 && w >= lo &&
      w < atomic_load_explicit(&libev_hi, memory_order_relaxed))
    return 1;
  if (!deep || !atomic_load_explicit(&has_parents, memory_order_relaxed))
    return 0;
  switch (type) {
  case T_TIMER:
    return started_as(w - offsetof(ev_stat, timer), T_STAT);
  case T_IO:
    return started_as(w - offsetof(ev_embed, io), T_EMBED);
  case T_PREPARE:
    return started_as(w - offsetof(ev_embed, prepare), T_EMBED);
  case T_FORK:
    return started_as(w - offsetof(ev_embed, fork), T_EMBED);
  default:
    return 0;
  }
}

/* ------------------------------------------------------ ev_unref's marks */

/* Watchers a program's ev_unref was attributed to. libev counts its
 * references per loop, not per watcher; the documented idiom is an
 * ev_unref right after the start of the watcher that is not to keep the
 * loop alive, so that start is the one an ev_unref is for. Set, read and
 * cleared with atomic operations only: a report copy reads them. */
#define MARKS 256
static _Atomic uintptr_t marks[MARKS];
static atomic_int nmarks;

static void mark_set(uintptr_t w) {
  for (int i = 0; i < MARKS; i++) {
    uintptr_t expected = 0;
    if (atomic_compare_exchange_strong(&marks[i], &expected, w)) {
      atomic_fetch_add(&nmarks, 1);
      return;
    }
  }
  /* Full: this one is reported as referenced. */
}

static int mark_has(uintptr_t w) {
  if (atomic_load_explicit(&nmarks, memory_order_relaxed) == 0)
    return 0;
  for (int i = 0; i < MARKS; i++)
    if (atomic_load_explicit(&marks[i], memory_order_relaxed) == w)
      return 1;
  return 0;
}

static void mark_clear(uintptr_t w) {
  if (atomic_load_explicit(&nmarks, memory_order_relaxed) == 0)
    return;
  for (int i = 0; i < MARKS; i++) {
    uintptr_t expected = w;
    if (atomic_compare_exchange_strong(&marks[i], &expected, 0))
      atomic_fetch_sub(&nmarks, 1);
  }
}

/* The program's last start on this thread, while no other call to libev
 * came after it: what its next ev_unref is for. */
static AL_TLS uintptr_t last_start, last_start_loop;
/* Inside the real ev_once on this thread: the timer it starts comes by a
 * tail call, with this shim's return address, and would pass for a call
 * of the program's about another watcher. */
static AL_TLS int in_once;

void al_libev_no_last_start(void) {
  last_start = 0;
}

/* ---------------------------------------------------------- start and stop */

/* After a start: records the watcher when the program started it and it
 * went from stopped to started. */
static void started(int outer, struct ev_loop *loop, void *w, unsigned type,
                    int was_active) {
  uintptr_t a = (uintptr_t)w, l = (uintptr_t)loop;
  int saved;

  al_libev_leave();
  last_start = 0;
  if (!outer || in_once || was_active || !((ev_watcher *)w)->active)
    return;
  saved = errno;
  /* The registry is not asked from a signal handler that interrupted the
   * runtime: al_made defers the record then. */
  if (!libev_own(l, a, type, al_locks_held == 0)) {
    mark_clear(a);
    al_made(al_libev_shim_id, a, type, l);
    if (type == T_STAT || type == T_EMBED)
      atomic_store_explicit(&has_parents, 1, memory_order_relaxed);
    last_start = a;
    last_start_loop = l;
  }
  errno = saved;
}

/* After a stop, whoever called it: a watcher that went from started to
 * stopped is forgotten. */
static void stopped(struct ev_loop *loop, void *w, int was_active) {
  uintptr_t a = (uintptr_t)w, l = (uintptr_t)loop;
  int saved;

  al_libev_leave();
  last_start = 0;
  if (!was_active || ((ev_watcher *)w)->active)
    return;
  if (a >= l && a < l + atomic_load_explicit(&loop_span,
                                             memory_order_relaxed))
    return; /* libev's own, never recorded */
  saved = errno;
  if (AL_UNLIKELY(al_locks_held != 0)) {
    al_defer_closed(a);
  } else if (al_res_forget(a)) {
    mark_clear(a);
    al_shutdown_saw_close(l, a);
  }
  errno = saved;
}

/* The slow-callback check (shim/libev-slow.c), after a start: a started
 * watcher of the program's gets the stand-in. */
static void slow_started(int outer, struct ev_loop *loop, void *w,
                         unsigned type) {
  if (outer && !in_once && ((ev_watcher *)w)->active &&
      !libev_own((uintptr_t)loop, (uintptr_t)w, type, al_locks_held == 0))
    al_libev_stand_in(w, type);
}

#define START_STOP(name, type)                                                \
  AL_EXPORT void ev_##name##_start(struct ev_loop *loop, ev_##name *w) {     \
    __typeof__(&ev_##name##_start) real = REAL(ev_##name##_start);           \
    int outer, was;                                                           \
    if (real == NULL)                                                         \
      return;                                                                 \
    outer = al_libev_enter(w);                                                \
    if (outer)                                                                \
      AL_LIBEV_THREAD_CHECK("ev_" #name "_start", loop, type);                \
    was = w->active;                                                          \
    last_start = 0;                                                           \
    real(loop, w);                                                            \
    if (AL_UNLIKELY(al_opt.slow_callback_ms > 0))                             \
      slow_started(outer, loop, w, type);                                     \
    started(outer, loop, w, type, was);                                       \
  }                                                                           \
  AL_EXPORT void ev_##name##_stop(struct ev_loop *loop, ev_##name *w) {      \
    __typeof__(&ev_##name##_stop) real = REAL(ev_##name##_stop);             \
    int was;                                                                  \
    if (real == NULL)                                                         \
      return;                                                                 \
    if (al_libev_enter(w))                                                    \
      AL_LIBEV_THREAD_CHECK("ev_" #name "_stop", loop, type);                 \
    was = w->active;                                                          \
    last_start = 0;                                                           \
    real(loop, w);                                                            \
    /* Before stopped(), which forgets the record. */                         \
    if (AL_UNLIKELY(al_opt.slow_callback_ms > 0))                             \
      al_libev_put_back(w, type);                                      \
    stopped(loop, w, was);                                                    \
  }

LIBEV_WATCHERS(START_STOP)
#undef START_STOP

/* They start the watcher (through the PLT, inside this interposer, where
 * that start counts as libev's) or stop it. */
#define AGAIN(name, type)                                                     \
  AL_EXPORT void ev_##name##_again(struct ev_loop *loop, ev_##name *w) {     \
    __typeof__(&ev_##name##_again) real = REAL(ev_##name##_again);           \
    int outer, was;                                                           \
    if (real == NULL)                                                         \
      return;                                                                 \
    outer = al_libev_enter(w);                                                \
    if (outer)                                                                \
      AL_LIBEV_THREAD_CHECK("ev_" #name "_again", loop, type);                \
    was = w->active;                                                          \
    last_start = 0;                                                           \
    real(loop, w);                                                            \
    if (was && !w->active) {                                                  \
      if (AL_UNLIKELY(al_opt.slow_callback_ms > 0))                           \
        al_libev_put_back(w, type);                                    \
      stopped(loop, w, was);                                                  \
    } else {                                                                  \
      if (AL_UNLIKELY(al_opt.slow_callback_ms > 0))                           \
        slow_started(outer, loop, w, type);                                   \
      started(outer, loop, w, type, was);                                     \
    }                                                                         \
  }

AGAIN(timer, T_TIMER)
AGAIN(periodic, T_PERIODIC)
#undef AGAIN

/* An ev_unref of the program's right after a start of its own on that
 * loop: that watcher no longer keeps the loop alive, and the report says
 * so. libev's own come inside another interposer (ev_cleanup_start's,
 * by a tail call) or right after a start of its own (its signal pipe,
 * started again by ev_run after a fork), which forgot the program's. */
AL_EXPORT void ev_unref(struct ev_loop *loop) {
  __typeof__(&ev_unref) real = REAL(ev_unref);
  uintptr_t w = last_start;
  int outer = al_call_outside(&al_libev_calls);

  if (real == NULL)
    return;
  last_start = 0;
  al_libev_enter(NULL);
  real(loop);
  al_libev_leave();
  if (outer && w != 0 && last_start_loop == (uintptr_t)loop &&
      ((ev_watcher *)w)->active)
    mark_set(w);
}

/* -------------------------------------------------------------- ev_once */

/* What ev_once was given: the runtime's callback stands in for the
 * program's, and learns when the request completes. */
struct once_call {
  void (*cb)(int revents, void *arg);
  void *arg;
  double timeout;
  int fd, events;
};

static void once_fired(int revents, void *arg) {
  struct once_call *c = arg;
  void (*cb)(int, void *) = c->cb;
  void *cb_arg = c->arg;
  struct al_call_scope scope;
  void *done;
  int saved = errno, once = in_once;

  struct al_slow slow = {.start = 0};

  /* Timed (slow_callback_ms) with the request still recorded, for its
   * creation stack. */
  if (AL_UNLIKELY(al_opt.slow_callback_ms > 0))
    al_slow_begin(&slow, "ev_once", al_libev_shim_id, R_ONCE, AL_RES_PENDING,
                  (uintptr_t)c, (void *)cb);
  al_req_done((uintptr_t)c, &done);
  free(c);
  errno = saved;
  /* libev calls back from inside ev_once when it has no memory. */
  al_call_callback_begin(&al_libev_calls, &scope);
  in_once = 0;
  cb(revents, cb_arg);
  in_once = once;
  al_call_callback_end(&al_libev_calls, &scope);
  al_slow_end(&slow);
}

/* Pending from the call until its callback runs. With no descriptor and
 * no timeout libev starts nothing: it never fires, and stays pending. */
AL_EXPORT void ev_once(struct ev_loop *loop, int fd, int events,
                       ev_tstamp timeout, void (*cb)(int revents, void *arg),
                       void *arg) {
  __typeof__(&ev_once) real = REAL(ev_once);
  struct once_call *c = NULL;
  int outer, saved;

  if (real == NULL)
    return;
  outer = al_libev_enter(NULL);
  if (outer)
    AL_LIBEV_THREAD_CHECK("ev_once", loop, AL_TYPE_LOOP);
  saved = errno;
  if (outer && cb != NULL && AL_LIKELY(al_locks_held == 0) &&
      (c = malloc(sizeof(*c))) != NULL) {
    *c = (struct once_call){cb, arg, timeout, fd, events};
    if (al_req_start(al_libev_shim_id, (uintptr_t)c, R_ONCE, (uintptr_t)loop,
                     (void *)cb, al_stack_capture()) != 0) {
      free(c);
      c = NULL;
    }
  }
  errno = saved;
  in_once++;
  if (c != NULL)
    real(loop, fd, events, timeout, once_fired, c);
  else
    real(loop, fd, events, timeout, cb, arg);
  in_once--;
  al_libev_leave();
}

/* ------------------------------------------------------------ the report */

static const char *const type_names[] = {
#define NAME(name, type) [type] = "ev_" #name,
    LIBEV_WATCHERS(NAME)
#undef NAME
};

static const char *const destroyed_names[] = {
#define NAME(name, type)                                                      \
  [type] = "ev_" #name " (started when its loop was destroyed)",
    LIBEV_WATCHERS(NAME)
#undef NAME
};

const char *al_libev_type_name(unsigned type) {
  if (type >= T_IO && type <= T_LAST)
    return type_names[type];
  if (type >= T_IO + T_DESTROYED && type <= T_LAST + T_DESTROYED)
    return destroyed_names[type - T_DESTROYED];
  return NULL;
}

/* A watcher started when its loop was destroyed is the leak of one left
 * started, seen at another moment: one fingerprint, one suppression. */
const char *al_libev_type_identity(unsigned type) {
  return al_libev_type_name(type >= T_DESTROYED ? type - T_DESTROYED : type);
}

const char *al_libev_req_type_name(unsigned type) {
  return type == R_ONCE ? "ev_once" : NULL;
}

/* Whether an ev_once can still fire: libev started a watcher for it. */
static int once_fires(const struct once_call *c) {
  return c->fd >= 0 || c->timeout >= 0.;
}

void al_libev_probe(const struct al_res *r, struct al_state *st) {
  ev_watcher w;

  if (r->state == AL_RES_PENDING) {
    struct once_call c;
    st->known = 1;
    st->active = 1;
    st->referenced = al_safe_read(&c, (const void *)r->addr, sizeof(c)) != 0 ||
                     once_fires(&c);
    return;
  }
  if (r->type >= T_DESTROYED) {
    /* A verdict taken at ev_loop_destroy: the loop is gone. */
    st->known = 1;
    st->active = 1;
    st->referenced = !mark_has(r->addr);
    return;
  }
  if (al_safe_read(&w, (const void *)r->addr, sizeof(w)) != 0)
    return;
  st->known = 1;
  if (!w.active) {
    /* Stopped some way the interposers did not see: nothing held. */
    st->idle = 1;
    return;
  }
  st->active = 1;
  /* An ev_cleanup holds no reference: ev_cleanup_start takes it away. */
  st->referenced = r->type != T_CLEANUP && !mark_has(r->addr);
}

void al_libev_state_text(const struct al_res *r, const struct al_state *st,
                         char *buf, size_t len) {
  snprintf(buf, len, "%s%s",
           r->type >= T_DESTROYED ? "started when its loop was destroyed"
                                  : "started",
           st->referenced ? "" : ", unreferenced");
}

void al_libev_describe(const struct al_res *r, char *buf, size_t len) {
  struct once_call c;

  if (al_safe_read(&c, (const void *)r->addr, sizeof(c)) != 0)
    return;
  if (!once_fires(&c))
    snprintf(buf, len, "ev_once with no descriptor and no timeout: "
                       "never called back");
  else if (c.fd >= 0 && c.timeout >= 0.)
    snprintf(buf, len, "ev_once on fd %d%s%s, timeout %g s", c.fd,
             c.events & EV_READ ? " read" : "",
             c.events & EV_WRITE ? " write" : "", c.timeout);
  else if (c.fd >= 0)
    snprintf(buf, len, "ev_once on fd %d%s%s", c.fd,
             c.events & EV_READ ? " read" : "",
             c.events & EV_WRITE ? " write" : "");
  else
    snprintf(buf, len, "ev_once timeout %g s", c.timeout);
}

int al_libev_requests(uintptr_t loop) {
  struct al_res *res;
  struct al_loop l;
  size_t n;
  int fires = 0;

  /* Not those of a loop destroyed before at the same address. */
  if (al_loop_get(loop, &l) != 0)
    return 0;
  n = al_res_on_loop(loop, l.first_seq, 1u << AL_RES_PENDING, &res);

  for (size_t i = 0; i < n && !fires; i++) {
    struct once_call c;
    fires = al_safe_read(&c, (const void *)res[i].addr, sizeof(c)) != 0 ||
            once_fires(&c);
  }
  free(res);
  return fires;
}

/* Whether a timer of the program's may be what a wait of the loop ends
 * at: an ev_timer started, or an ev_once pending. libev bounds every
 * wait (MAX_BLOCKTIME, about a minute) even with no timer at all, so
 * that virtual time must not take a finite wait for a timer's. An
 * ev_periodic follows the wall clock, which virtual time leaves alone. */
int al_libev_timed(uintptr_t loop) {
  struct al_res *res;
  struct al_loop l;
  size_t n;
  int timed = 0;

  if (al_loop_get(loop, &l) != 0)
    return 0;
  n = al_res_on_loop(loop, l.first_seq,
                     1u << AL_RES_OPEN | 1u << AL_RES_PENDING, &res);
  for (size_t i = 0; i < n && !timed; i++) {
    ev_watcher w;
    if (res[i].state == AL_RES_PENDING)
      timed = 1;
    else if (res[i].type == T_TIMER &&
             al_safe_read(&w, (const void *)res[i].addr, sizeof(w)) == 0)
      timed = w.active != 0;
  }
  free(res);
  return timed;
}

/* ---------------------------------------------------- what the core does */

int al_libev_stop_watcher(uintptr_t addr, int quiet_only) {
  struct ev_loop *loop;
  struct al_res r;

  if (al_res_get(addr, &r) != 0 || r.type > T_LAST)
    return 0; /* a loop destroyed under it cannot stop it */
  loop = (struct ev_loop *)r.loop;
  switch (r.type) {
#define STOP(name, type)                                                      \
  case type:                                                                  \
    if (quiet_only && type != T_TIMER && type != T_PERIODIC &&                \
        type != T_IDLE && type != T_PREPARE && type != T_CHECK)               \
      return 0;                                                               \
    ev_##name##_stop(loop, (ev_##name *)addr);                                \
    return 1;
    LIBEV_WATCHERS(STOP)
#undef STOP
  default:
    return 0;
  }
}

void al_libev_forget_cleanups(uintptr_t loop) {
  struct al_res *res;
  struct al_loop l;
  size_t n;

  if (al_loop_get(loop, &l) != 0)
    return;
  n = al_res_on_loop(loop, l.first_seq, 1u << AL_RES_OPEN, &res);
  for (size_t i = 0; i < n; i++)
    if (res[i].type == T_CLEANUP)
      al_res_forget(res[i].addr);
  free(res);
}
