/* The libevent 2.1 interposers: event bases are loops, events are
 * handles.
 *
 * An event is left open in two ways. One still added (pending or active)
 * when its base is freed, or at exit, would have fired: the work it stood
 * for never happened. One made by event_new and never given to event_free
 * is memory lost, added or not. An event the program assigned in its own
 * memory (event_assign, event_set) and that is no longer added holds
 * nothing, and is not reported. Which of these an event is, is learnt
 * when the report is written (shim_probe), except at event_base_free,
 * which deletes every event silently: the verdict is taken before it
 * runs. An event is added only if its base lists it (event_added): the
 * program may have freed its memory and reused it for data that reads
 * like an added event.
 *
 * libevent calls its own public functions through the PLT (event_new calls
 * event_assign; bufferevents, evdns and evhttp add and assign events of
 * their own), so a call is libevent's own when it comes from libevent's
 * code, or arrives inside one of these interposers about the same event
 * (a tail call leaves the program's return address).
 *
 * libev exports libevent's 1.x names too (event_init, event_set, ...). The
 * program's calls go to whichever library it bound them to; only
 * libevent's are followed. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <event2/event.h>
#include <event2/event_compat.h>
#include <event2/event_struct.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include "event-shim.h"

/* ---------------------------------------------------------- real functions */

static const char *const func_names[F_COUNT] = {
#define X(name) #name,
    EV_FUNCS(X) EV_OBJ_FUNCS(X) EV_REQ_FUNCS(X) EV_SLOW_FUNCS(X) EV_USED(X)
#undef X
};

static const char *const objects[] = {
    "libevent_core-2.1.so.7", "libevent-2.1.so.7", "libevent_extra-2.1.so.7",
    NULL};
static struct al_loopsym syms[F_COUNT];
static void shim_init(void);

/* libevent's objects are its own by the whole of their names (libev
 * defines some of the same functions), and its loop makes and adds
 * events of its own outside any interposer. A program linked with
 * libasyncleak that uses only the functions the runtime stands in front
 * of (event_base_new, event_new, event_add, event_free) has all of them
 * bound to the runtime, and the linker then drops libevent from it:
 * libevent is loaded, which the program clearly wants. */
struct al_loopsyms al_ev_lib = {
    .name = "libevent",
    .id = AL_LIB_LIBEVENT,
    .objects = objects,
    .load = "libevent-2.1.so.7",
    .funcs = func_names,
    .nfuncs = F_COUNT,
    .flags = AL_SYMS_CALLS_ITSELF,
    .missing = "the call does nothing",
    .init = shim_init,
    .syms = syms,
    .once = PTHREAD_ONCE_INIT,
};

AL_TLS struct al_calls al_ev_calls;
uint8_t al_ev_shim_id;

static inline void shim_ensure(void) {
  al_loopsyms_ensure(&al_ev_lib);
}

/* -------------------------------------------------------------- the events */

static const char *type_name(unsigned type) {
  switch (type) {
  case T_NEW:
  case T_ASSIGNED:
    return "event";
  case T_ADDED:
    return "event (added)";
  case T_UNFREED:
    return "event (never freed)";
  case T_ADDED_AT_FREE:
    return "event (added when its base was freed)";
  case T_ONCE:
    return "event (once)";
  default:
    return al_ev_obj_type_name(type);
  }
}

/* An event added when its base was freed is the leak of one still added,
 * seen at another moment: one fingerprint, one suppression kind, whether
 * the program freed the base, asyncleak_loop_close did, or force deleted
 * the event first. */
static const char *type_identity(unsigned type) {
  return type_name(type == T_ADDED_AT_FREE ? T_ADDED : type);
}

#define ADDED_FLAGS                                                           \
  (EVLIST_INSERTED | EVLIST_TIMEOUT | EVLIST_SIGNAL | EVLIST_ACTIVE |          \
   EVLIST_ACTIVE_LATER)

/* Reads the event at addr; 0 when its memory holds an event of the base.
 * Memory the program freed and reused may read so too: whether the event
 * is added is for event_added to say. */
static int read_event(uintptr_t addr, uintptr_t base, struct event *ev) {
  short flags;

  if (al_safe_read(ev, (const void *)addr, sizeof(*ev)) != 0)
    return -1;
  flags = ev->ev_evcallback.evcb_flags;
  if ((uintptr_t)ev->ev_base != base || !(flags & EVLIST_INIT) ||
      (flags & ~EVLIST_ALL))
    return -1;
  return 0;
}

/* Whether libevent may be asked about the base now: the program made it
 * and has not freed it (base_alive), and no thread runs it (askable); not
 * from a signal handler that interrupted the runtime, nor in the copy of
 * the process that writes the report of a crash, where a lock another
 * thread held stays held. */
static int base_alive(uintptr_t base) {
  struct al_loop l;

  if (base == 0 || al_locks_held != 0 || al_pid() != getpid())
    return 0;
  return al_loop_get(base, &l) == 0 && l.shim == al_ev_shim_id &&
         !(l.flags & (AL_LOOP_INHERITED | AL_LOOP_FREED | AL_LOOP_UNLOADED));
}

static int base_askable(uintptr_t base) {
  /* Found first: whether it is libevent's is known once found. */
  return USE(event_base_foreach_event) != NULL &&
         FOLLOWED(event_base_foreach_event) && base_alive(base) &&
         /* its lists change under a reader while it runs, and are in
          * the middle of a turn when read from its own callback */
         !al_run_anywhere(base);
}

/* The events a base lists as added or active, sorted: taken once per
 * base in a probe round, and once per probe outside one. */
static struct {
  uintptr_t base;
  uint64_t round; /* 0: good for no other probe */
  uintptr_t *ev;
  size_t n, cap;
  int failed;
} listing;
static pthread_mutex_t listing_lock = PTHREAD_MUTEX_INITIALIZER;
AL_LOCK_REGISTER(AL_LOCK_LISTING, listing_lock, AL_LOCK_FOR_REPORT)

static int list_one(const struct event_base *base, const struct event *ev,
                    void *arg) {
  (void)base;
  (void)arg;
  if (listing.n == listing.cap) {
    size_t cap = listing.cap ? 2 * listing.cap : 64;
    uintptr_t *p = realloc(listing.ev, cap * sizeof(*p));
    if (p == NULL) {
      listing.failed = 1;
      return 1;
    }
    listing.ev = p;
    listing.cap = cap;
  }
  listing.ev[listing.n++] = (uintptr_t)ev;
  return 0;
}

static int by_address(const void *a, const void *b) {
  uintptr_t x = *(const uintptr_t *)a, y = *(const uintptr_t *)b;
  return x < y ? -1 : x > y;
}

/* 1 when the base lists the event at addr, 0 when it does not, -1 when
 * it cannot be asked. */
static int base_lists(uintptr_t base, uintptr_t addr) {
  __typeof__(&event_base_foreach_event) each;
  uint64_t round = al_probe_round();
  int saved = errno, found = -1;

  if (!base_askable(base))
    return -1;
  each = USE(event_base_foreach_event);
  /* Counted as the runtime's lock: a signal handler that interrupts the
   * listing and ends the process finds al_locks_held set and falls back
   * to the field check, rather than wait for its own thread. */
  if (al_lock_briefly(&listing_lock, &(int){100}) != 0) {
    errno = saved;
    return -1;
  }
  if (round == 0 || listing.round != round || listing.base != base) {
    listing.n = 0;
    listing.failed = 0;
    listing.round = 0;
    listing.base = base;
    if (each((struct event_base *)base, list_one, NULL) != 0 ||
        listing.failed) {
      listing.base = 0;
      goto out;
    }
    if (listing.n > 1)
      qsort(listing.ev, listing.n, sizeof(*listing.ev), by_address);
    listing.round = round;
  }
  found = listing.n > 0 && bsearch(&addr, listing.ev, listing.n,
                                   sizeof(*listing.ev), by_address) != NULL;
out:
  al_mutex_unlock(&listing_lock);
  errno = saved;
  return found;
}

/* libevent 2.1's closures of an event (event-internal.h): what
 * event_assign chose from its flags, or one of event_finalize's. */
enum {
  CLOSURE_EVENT = 0,
  CLOSURE_SIGNAL = 1,
  CLOSURE_PERSIST = 2,
  CLOSURE_FINALIZE = 5,
  CLOSURE_FINALIZE_FREE = 6
};

/* A common timeout's tv_usec carries a marker and an index above its
 * microseconds (event.c). */
#define COMMON_TIMEOUT_MASK 0xf0000000L
#define COMMON_TIMEOUT_MAGIC 0x50000000L
#define MICROSECONDS_MASK 0x000fffffL

#define EV_KNOWN                                                              \
  (EV_TIMEOUT | EV_READ | EV_WRITE | EV_SIGNAL | EV_PERSIST | EV_ET |         \
   EV_FINALIZE | EV_CLOSED)

/* Whether the event read from memory is one libevent could have made,
 * for when the base cannot be asked: memory freed and reused by the
 * program rarely is, in every field. */
static int plausible(const struct event *ev, uintptr_t base) {
  const struct event_callback *cb = &ev->ev_evcallback;
  __typeof__(&event_base_get_npriorities) npri;
  short events = ev->ev_events, flags = cb->evcb_flags;
  int io = (events & (EV_READ | EV_WRITE | EV_CLOSED)) != 0;
  int sig = (events & EV_SIGNAL) != 0;
  unsigned closure = cb->evcb_closure;
  uintptr_t lo, hi;

  if ((events & ~EV_KNOWN) || (sig && io))
    return 0;
  if (closure != CLOSURE_FINALIZE && closure != CLOSURE_FINALIZE_FREE &&
      closure != (sig                      ? CLOSURE_SIGNAL
                  : events & EV_PERSIST ? CLOSURE_PERSIST
                                           : CLOSURE_EVENT))
    return 0;
  if (((flags & EVLIST_SIGNAL) && !sig) ||
      ((flags & EVLIST_INSERTED) && !io && !sig) ||
      ((flags & EVLIST_ACTIVE) && (flags & EVLIST_ACTIVE_LATER)))
    return 0;
  if ((sig && (ev->ev_fd <= 0 || ev->ev_fd >= NSIG)) || (io && ev->ev_fd < 0))
    return 0;
  if (flags & EVLIST_TIMEOUT) {
    long usec = (long)ev->ev_timeout.tv_usec;
    if ((usec & COMMON_TIMEOUT_MASK) == COMMON_TIMEOUT_MAGIC)
      usec &= MICROSECONDS_MASK;
    if (ev->ev_timeout.tv_sec < 0 || usec < 0 || usec >= 1000000)
      return 0;
  }
  if (cb->evcb_cb_union.evcb_callback == NULL ||
      al_code_range((uintptr_t)cb->evcb_cb_union.evcb_callback, &lo, &hi,
                    NULL) != 0)
    return 0;
  /* Taken under the base's lock, so only from a base known alive. */
  npri = USE(event_base_get_npriorities);
  if (!FOLLOWED(event_base_get_npriorities))
    npri = NULL;
  if (npri != NULL && base_alive(base) &&
      cb->evcb_pri >= npri((struct event_base *)base))
    return 0;
  return 1;
}

/* Whether the event at addr, read into ev, is added to base: listed by
 * the base when it can be asked, else plausible and flagged added. -1
 * when the memory does not hold an event libevent could have made. */
static int event_added(uintptr_t addr, uintptr_t base,
                       const struct event *ev) {
  int listed = base_lists(base, addr);

  if (listed >= 0)
    return listed;
  if (!plausible(ev, base))
    return -1;
  return (ev->ev_evcallback.evcb_flags & ADDED_FLAGS) != 0;
}

static void shim_probe(const struct al_res *r, struct al_state *st) {
  struct event ev;
  short flags;
  int added;

  if (r->state == AL_RES_PENDING || r->type == T_ONCE) {
    al_ev_req_probe(r, st);
    return;
  }
  if (r->type >= T_OBJ_FIRST && r->type <= T_OBJ_LAST) {
    al_ev_obj_probe(r, st);
    return;
  }
  if (r->type == T_ADDED_AT_FREE || r->type == T_ADDED ||
      r->type == T_UNFREED) {
    /* A verdict taken at event_base_free: the base is gone. */
    st->known = 1;
    st->active = r->type != T_UNFREED;
    st->referenced = st->active;
    return;
  }
  if (read_event(r->addr, r->loop, &ev) != 0 ||
      (added = event_added(r->addr, r->loop, &ev)) < 0) {
    /* An event of the program's memory that no longer reads as one was
     * deleted first: libevent would have failed on it otherwise. */
    st->known = r->type == T_ASSIGNED;
    st->idle = st->known;
    return;
  }
  flags = ev.ev_evcallback.evcb_flags;
  st->known = 1;
  st->internal = (flags & EVLIST_INTERNAL) != 0;
  st->active = added;
  st->referenced = st->active;
  if (st->active)
    st->type = T_ADDED;
  else if (r->type == T_NEW)
    st->type = T_UNFREED;
  else
    st->idle = 1;
}

static void shim_state_text(const struct al_res *r, const struct al_state *st,
                            char *buf, size_t len) {
  struct event ev;
  const char *what;

  if (r->type == T_ONCE) {
    al_ev_once_state_text(r, buf, len);
    return;
  }
  if (r->type >= T_OBJ_FIRST && r->type <= T_OBJ_LAST) {
    al_ev_obj_state_text(r, buf, len);
    return;
  }
  if (r->type == T_ADDED_AT_FREE) {
    snprintf(buf, len, "deleted by event_base_free");
    return;
  }
  if (r->type == T_UNFREED && !st->active) {
    snprintf(buf, len, "not added, not freed");
    return;
  }
  if (read_event(r->addr, r->loop, &ev) != 0) {
    snprintf(buf, len, "added");
    return;
  }
  what = ev.ev_events & EV_SIGNAL ? "signal"
         : (ev.ev_events & (EV_READ | EV_WRITE)) ? "fd"
                                                  : "timer";
  if (ev.ev_events & EV_SIGNAL)
    snprintf(buf, len, "added: signal %d%s", (int)ev.ev_fd,
             ev.ev_events & EV_PERSIST ? ", persistent" : "");
  else if (ev.ev_events & (EV_READ | EV_WRITE))
    snprintf(buf, len, "added: %s %d%s%s%s%s", what, (int)ev.ev_fd,
             ev.ev_events & EV_READ ? " read" : "",
             ev.ev_events & EV_WRITE ? " write" : "",
             ev.ev_evcallback.evcb_flags & EVLIST_TIMEOUT ? ", with a timeout"
                                                          : "",
             ev.ev_events & EV_PERSIST ? ", persistent" : "");
  else
    snprintf(buf, len, "added: %s%s",
             ev.ev_evcallback.evcb_flags & EVLIST_ACTIVE ? "active timer"
                                                         : "timer",
             ev.ev_events & EV_PERSIST ? ", persistent" : "");
}

/* Events of the program's memory that fired once and were then freed
 * with the memory, never deleted, are never heard of again: every so many
 * new ones, those on the base that no longer hold anything are forgotten,
 * so that what is kept stays bounded by what is live. */
#define SWEEP_EVERY 4096
static atomic_uint assigned_since_sweep;

static void sweep_idle(uintptr_t base) {
  struct al_res *res;
  struct al_loop l;
  size_t n;

  if (al_loop_get(base, &l) != 0)
    return;
  n = al_res_on_loop(base, l.first_seq, 1u << AL_RES_OPEN, &res);
  al_probe_round_begin();
  for (size_t i = 0; i < n; i++) {
    struct al_state st = {0};
    if (res[i].type != T_ASSIGNED)
      continue;
    shim_probe(&res[i], &st);
    if (st.idle)
      al_res_forget(res[i].addr);
  }
  al_probe_round_end();
  free(res);
}

/* Records an event the program made, replacing what was known at its
 * address: memory given to event_assign again, or freed without us. */
static void event_made(struct event *ev, unsigned type) {
  struct event_base *base;
  int saved = errno;

  if (AL_UNLIKELY(al_locks_held != 0)) {
    al_defer_missed(); /* a signal handler's, inside the runtime */
    errno = saved;
    return;
  }
  base = ev->ev_base;
  if (type == T_ASSIGNED && al_res_update((uintptr_t)ev, -1,
                                          (uintptr_t)base) == T_NEW) {
    errno = saved; /* an event_new'd event assigned again: still that */
    return;
  }
  while (al_res_forget((uintptr_t)ev))
    ;
  al_res_open(al_ev_shim_id, (uintptr_t)ev, type, (uintptr_t)base,
              al_stack_capture());
  if (type == T_ASSIGNED &&
      atomic_fetch_add_explicit(&assigned_since_sweep, 1,
                                memory_order_relaxed) %
              SWEEP_EVERY ==
          SWEEP_EVERY - 1)
    sweep_idle((uintptr_t)base);
  errno = saved;
}

void al_ev_forget(uintptr_t addr, uintptr_t base) {
  int saved = errno;

  if (al_ev_may_record() && al_res_forget(addr))
    al_shutdown_saw_close(base, addr);
  errno = saved;
}

static void event_gone(struct event *ev) {
  al_ev_forget((uintptr_t)ev, (uintptr_t)ev->ev_base);
}

/* The use-after-close check (check_closes, docs/debug-checks.md). An
 * event's close is event_free, which gives its memory back: nothing of
 * libevent's is left there to tell a freed event, so the table of closes
 * (lib/closes.c) alone does. An event made at that address again, by the
 * program or by libevent itself, ends it (made_again). The program's call
 * named call about ev, before libevent gets it: a finding when ev was
 * freed; frees: the call frees it, and its stack is kept. */
static void freed_check(const char *call, const struct event *ev, int frees) {
  struct al_finding f = {0};

  if (ev == NULL)
    return;
  if (!al_close_lookup((uintptr_t)ev, &f.other)) {
    if (frees)
      al_close_note((uintptr_t)ev);
    return;
  }
  f.call = call;
  f.check = AL_CHECK_CLOSED;
  f.shim = al_ev_shim_id;
  f.type = T_NEW;
  al_finding_here(&f);
}

static inline void made_again(const struct event *ev) {
  if (AL_UNLIKELY(al_opt.check_closes) && ev != NULL)
    al_close_forget((uintptr_t)ev);
}

/* The callback to hand libevent for the program's event: a stand-in
 * that times it while the slow-callback check is on (event-slow.c). */
static inline event_callback_fn callback_for(int program, int func,
                                             event_callback_fn cb) {
  if (AL_LIKELY(al_opt.slow_callback_ms <= 0) || !program ||
      !al_loopsyms_own(&al_ev_lib, func))
    return cb;
  return al_ev_stand_in(cb);
}

AL_EXPORT struct event *event_new(struct event_base *base, evutil_socket_t fd,
                                  short events, event_callback_fn cb,
                                  void *arg) {
  __typeof__(&event_new) fn = REAL(event_new);
  struct event *ev;
  int program;

  if (fn == NULL)
    return NULL;
  program = enter(NULL);
  if (program && AL_UNLIKELY(al_opt.check_threads))
    al_ev_thread_check("event_new", (uintptr_t)base, T_NEW);
  ev = fn(base, fd, events, callback_for(program, F_event_new, cb),
          arg);
  leave();
  made_again(ev);
  if (program && ev != NULL && FOLLOWED(event_new))
    event_made(ev, T_NEW);
  return ev;
}

AL_EXPORT int event_assign(struct event *ev, struct event_base *base,
                           evutil_socket_t fd, short events,
                           event_callback_fn cb, void *arg) {
  __typeof__(&event_assign) fn = REAL(event_assign);
  int program, rc;

  if (fn == NULL)
    return -1;
  program = enter(ev);
  if (program && AL_UNLIKELY(al_opt.check_threads))
    al_ev_thread_check("event_assign", (uintptr_t)base, T_NEW);
  rc = fn(ev, base, fd, events,
          callback_for(program, F_event_assign, cb), arg);
  leave();
  made_again(ev);
  if (program && rc == 0 && FOLLOWED(event_assign))
    event_made(ev, T_ASSIGNED);
  return rc;
}

/* The 1.x way: on the base event_init made last. */
AL_EXPORT void event_set(struct event *ev, evutil_socket_t fd, short events,
                         void (*cb)(evutil_socket_t, short, void *),
                         void *arg) {
  __typeof__(&event_set) fn = REAL(event_set);
  int program;

  if (fn == NULL)
    return;
  program = enter(ev);
  fn(ev, fd, events, callback_for(program, F_event_set, cb), arg);
  leave();
  made_again(ev);
  if (program && FOLLOWED(event_set) && ev->ev_base != NULL)
    event_made(ev, T_ASSIGNED);
}

/* After event_set with no event_init (event_set, then event_base_set, as
 * memcached does): the event is known from here. */
AL_EXPORT int event_base_set(struct event_base *base, struct event *ev) {
  __typeof__(&event_base_set) fn = REAL(event_base_set);
  int program, rc;

  if (fn == NULL)
    return -1;
  program = enter(ev);
  if (program && AL_UNLIKELY(al_opt.check_threads))
    al_ev_thread_check("event_base_set", (uintptr_t)base, T_NEW);
  rc = fn(base, ev);
  leave();
  if (program && rc == 0 && FOLLOWED(event_base_set)) {
    int saved = errno;
    if (AL_LIKELY(al_locks_held == 0) &&
        al_res_update((uintptr_t)ev, -1, (uintptr_t)base) < 0)
      event_made(ev, T_ASSIGNED);
    errno = saved;
  }
  return rc;
}

AL_EXPORT void event_free(struct event *ev) {
  __typeof__(&event_free) fn = REAL(event_free);
  int program;

  if (fn == NULL)
    return;
  program = enter(ev);
  /* Before libevent, which frees it: glibc may abort on a double free. */
  if (program && AL_UNLIKELY(al_opt.check_closes))
    freed_check("event_free", ev, 1);
  if (program && AL_UNLIKELY(al_opt.check_threads))
    al_ev_thread_check_event("event_free", ev);
  /* Before: once freed, its address may be another thread's new event. */
  if (program && ev != NULL && FOLLOWED(event_free))
    event_gone(ev);
  fn(ev);
  leave();
}

AL_EXPORT int event_free_finalize(unsigned flags, struct event *ev,
                                  event_finalize_callback_fn cb) {
  __typeof__(&event_free_finalize) fn = REAL(event_free_finalize);
  int program, rc;

  if (fn == NULL)
    return -1;
  program = enter(ev);
  if (program && AL_UNLIKELY(al_opt.check_closes))
    freed_check("event_free_finalize", ev, 1);
  if (program && AL_UNLIKELY(al_opt.check_threads))
    al_ev_thread_check_event("event_free_finalize", ev);
  if (program && ev != NULL && FOLLOWED(event_free_finalize))
    event_gone(ev);
  rc = fn(flags, ev, cb);
  leave();
  return rc;
}

/* An event of the program's memory that it deletes holds nothing more:
 * forgotten, so that memory the program then reuses is not read as it. An
 * event_new'd one stays until freed. */
AL_EXPORT int event_del(struct event *ev) {
  __typeof__(&event_del) fn = REAL(event_del);
  int program, rc;

  if (fn == NULL)
    return -1;
  program = enter(ev);
  if (program && AL_UNLIKELY(al_opt.check_closes))
    freed_check("event_del", ev, 0);
  if (program && AL_UNLIKELY(al_opt.check_threads))
    al_ev_thread_check_event("event_del", ev);
  rc = fn(ev);
  leave();
  if (program && rc == 0 && FOLLOWED(event_del)) {
    int saved = errno;
    if (AL_LIKELY(al_locks_held == 0) &&
        al_res_update((uintptr_t)ev, -1, 0) == T_ASSIGNED)
      event_gone(ev);
    errno = saved;
  }
  return rc;
}

/* Interposed for the debug checks only: with them off, one test of the
 * options on top of the call. */
AL_EXPORT int event_add(struct event *ev, const struct timeval *tv) {
  __typeof__(&event_add) fn = REAL(event_add);
  int rc;

  if (fn == NULL)
    return -1;
  if (AL_LIKELY(!(al_opt.check_closes | al_opt.check_threads)))
    return fn(ev, tv);
  if (enter(ev)) {
    if (al_opt.check_closes)
      freed_check("event_add", ev, 0);
    if (al_opt.check_threads)
      al_ev_thread_check_event("event_add", ev);
  }
  rc = fn(ev, tv);
  leave();
  return rc;
}

/* ---------------------------------------------------------------- the bases */

static void base_made(struct event_base *base) {
  al_loop_made(al_ev_shim_id, (uintptr_t)base, 0, 1, 1);
  al_ev_base_threads((uintptr_t)base);
}

/* The program's own calls only: event_base_new and event_init reach
 * event_base_new_with_config, and record the base with their own site. */
#define BASE_NEW(name, params, args)                                          \
  AL_EXPORT struct event_base *name params {                                  \
    __typeof__(&name) fn = REAL(name);                                        \
    struct event_base *base;                                                  \
    int program;                                                              \
    if (fn == NULL)                                                           \
      return NULL;                                                            \
    program = enter(NULL);                                                    \
    base = fn args;                                                           \
    leave();                                                                  \
    if (program && base != NULL && FOLLOWED(name))                            \
      base_made(base);                                                        \
    return base;                                                              \
  }

BASE_NEW(event_base_new, (void), ())
BASE_NEW(event_base_new_with_config, (const struct event_config *cfg), (cfg))
BASE_NEW(event_init, (void), ())

AL_EXPORT int event_base_loop(struct event_base *base, int flags) {
  __typeof__(&event_base_loop) fn = REAL(event_base_loop);
  struct al_run run = {.object = NULL};
  int followed, rc;

  if (fn == NULL)
    return -1;
  followed = base != NULL && FOLLOWED(event_base_loop);
  if (AL_UNLIKELY(al_opt.check_threads) && al_call_outside(&al_ev_calls))
    al_ev_thread_check("event_base_loop", (uintptr_t)base, AL_TYPE_LOOP);
  if (followed) {
    shim_ensure();
    /* No depth here: the program's callbacks run inside. */
    if (al_run_begin(al_ev_shim_id, (uintptr_t)base, &run))
      return 0;
  }
  rc = fn(base, flags);
  if (followed)
    al_run_end(&run);
  return rc;
}

/* What is still on the base as event_base_free is about to delete it all
 * (al_loop_freeing): an event still added is reported as added then, and
 * so is one of event_base_once's, which libevent frees without calling
 * it; one of the program's memory not added is forgotten, an event_new'd
 * one stays, never freed. A bufferevent, listener, evhttp or evdns object
 * stays as it is: its memory is not the base's, and its callbacks will
 * never run. */
static int shim_at_free(unsigned type) {
  if (type >= T_OBJ_FIRST && type <= T_OBJ_LAST)
    return AL_AT_FREE_KEEP;
  return T_ADDED_AT_FREE;
}

static void free_base(struct event_base *base, int program, int finalize) {
  __typeof__(&event_base_free) fn =
      finalize ? REAL(event_base_free) : REAL(event_base_free_nofinalize);
  int followed = finalize ? FOLLOWED(event_base_free)
                          : FOLLOWED(event_base_free_nofinalize);
  size_t kept = 0;
  int saved = errno;

  if (fn == NULL)
    return;
  if (base != NULL && followed && AL_LIKELY(al_locks_held == 0)) {
    if (program && al_loop_closing((uintptr_t)base))
      return;
    kept = al_loop_freeing((uintptr_t)base);
  }
  errno = saved;
  if (program && AL_UNLIKELY(al_opt.check_threads))
    al_ev_thread_check(finalize ? "event_base_free"
                                : "event_base_free_nofinalize",
                       (uintptr_t)base, AL_TYPE_LOOP);
  al_call_own_begin(&al_ev_calls);
  fn(base);
  al_call_own_end(&al_ev_calls);
  al_ev_base_threads_gone((uintptr_t)base);
  if (base != NULL && followed && AL_LIKELY(al_locks_held == 0))
    al_loop_gone((uintptr_t)base, kept);
}

AL_EXPORT void event_base_free(struct event_base *base) {
  shim_ensure();
  free_base(base, al_call_outside(&al_ev_calls), 1);
}

AL_EXPORT void event_base_free_nofinalize(struct event_base *base) {
  shim_ensure();
  free_base(base, al_call_outside(&al_ev_calls), 0);
}

/* After fork, the child that calls event_reinit takes the base over: made
 * in the parent, it is now the child's to free, and its report's. */
AL_EXPORT int event_reinit(struct event_base *base) {
  __typeof__(&event_reinit) fn = REAL(event_reinit);
  int program, rc;

  if (fn == NULL)
    return -1;
  program = enter(base);
  rc = fn(base);
  leave();
  if (program && rc == 0 && base != NULL && FOLLOWED(event_reinit)) {
    int saved = errno;
    if (al_ev_may_record())
      al_loop_adopt((uintptr_t)base);
    errno = saved;
  }
  return rc;
}

/* ------------------------------------------------ what the core asks of us */

static void *shim_run_function(void) {
  return (void *)REAL(event_base_loop);
}

static void shim_run_once(uintptr_t base, int mode) {
  REAL(event_base_loop)((struct event_base *)base,
                        mode == AL_RUN_WAIT ? EVLOOP_ONCE : EVLOOP_NONBLOCK);
}

static void shim_stop(uintptr_t base) {
  USE(event_base_loopbreak)((struct event_base *)base);
}

/* The core's timer and watch: events of ours, made through libevent
 * directly, so that they are not the program's. */
static void timer_fired(evutil_socket_t fd, short what, void *arg) {
  (void)fd;
  (void)what;
  (void)arg;
}

static void *shim_timer_new(uintptr_t base) {
  struct event *ev;

  al_call_own_begin(&al_ev_calls);
  ev = REAL(event_new)((struct event_base *)base, -1, 0, timer_fired, NULL);
  al_call_own_end(&al_ev_calls);
  return ev;
}

static void shim_timer_arm(void *timer, unsigned ms) {
  struct timeval tv = {(time_t)(ms / 1000), (suseconds_t)(ms % 1000 * 1000)};

  al_call_own_begin(&al_ev_calls);
  REAL(event_add)(timer, &tv);
  al_call_own_end(&al_ev_calls);
}

static void shim_timer_stop(void *timer) {
  al_call_own_begin(&al_ev_calls);
  REAL(event_del)(timer);
  al_call_own_end(&al_ev_calls);
}

static void shim_timer_free(void *timer) {
  al_call_own_begin(&al_ev_calls);
  REAL(event_free)(timer);
  al_call_own_end(&al_ev_calls);
}

struct watch {
  void (*ready)(uintptr_t base);
  uintptr_t base;
  /* then the event, of event_get_struct_event_size() bytes */
};

static struct event *watch_event(struct watch *w) {
  return (struct event *)(w + 1);
}

/* Not persistent: libevent deletes the event as it fires, once. */
static void watch_ready(evutil_socket_t fd, short what, void *arg) {
  struct watch *w = arg;

  (void)fd;
  (void)what;
  w->ready(w->base);
}

/* Flagged as libevent's own, so that it does not keep the base looping. */
static void *shim_watch(uintptr_t base, int fd, void (*ready)(uintptr_t)) {
  __typeof__(&event_assign) assign = REAL(event_assign);
  __typeof__(&event_add) add = REAL(event_add);
  struct watch *w;
  int ok;

  if (assign == NULL || add == NULL)
    return NULL;
  w = calloc(1, sizeof(*w) + sizeof(struct event));
  if (w == NULL)
    return NULL;
  w->ready = ready;
  w->base = base;
  al_call_own_begin(&al_ev_calls);
  ok = assign(watch_event(w), (struct event_base *)base, fd, EV_READ,
              watch_ready, w) == 0;
  if (ok) {
    watch_event(w)->ev_evcallback.evcb_flags |= EVLIST_INTERNAL;
    ok = add(watch_event(w), NULL) == 0;
  }
  al_call_own_end(&al_ev_calls);
  if (!ok) {
    free(w);
    return NULL;
  }
  return w;
}

/* Called as the base is about to be freed (free_base): the event is
 * deleted while the base is there to delete it from. */
static void shim_unwatch(void *watch, int alive) {
  struct watch *w = watch;

  if (alive) {
    al_call_own_begin(&al_ev_calls);
    REAL(event_del)(watch_event(w));
    al_call_own_end(&al_ev_calls);
  }
  free(w);
}

/* libevent has no close that completes later. */
static int shim_closing(uintptr_t base) {
  (void)base;
  return 0;
}

/* Whether a request of the program's is pending on the base: the drain
 * waits for its callback. */
static int shim_requests(uintptr_t base) {
  return al_req_pending_on(base, 0);
}

/* asyncleak_loop_close, which has run the shutdown already. */
static int shim_close(uintptr_t base) {
  free_base((struct event_base *)base, 0, 1);
  return 0;
}

static enum al_kind shim_kind(uintptr_t base, uintptr_t addr) {
  struct event ev;
  struct al_res r;

  if (read_event(addr, base, &ev) == 0)
    return AL_KIND_HANDLE;
  if (al_req_pending(addr))
    return AL_KIND_REQUEST;
  if (al_res_get(addr, &r) == 0 && r.loop == base)
    return AL_KIND_HANDLE;
  return AL_KIND_NONE;
}

/* For asyncleak_shutdown_waits_for: an event is done once not added, a
 * bufferevent, listener, evhttp or evdns object once freed. */
static int shim_handle_open(uintptr_t base, uintptr_t addr) {
  struct event ev;
  struct al_res r;

  if (read_event(addr, base, &ev) == 0)
    return event_added(addr, base, &ev) > 0;
  return al_res_get(addr, &r) == 0 && r.type >= T_OBJ_FIRST &&
         r.type <= T_OBJ_LAST;
}

/* Force: an event still added is deleted, as the program would; an
 * event_new'd one's memory stays the program's to free, and is no longer
 * reported as left added. One not added holds nothing force could end:
 * it is left alone, and one of event_new's stays reported as never
 * freed. Called inside a probe round, so the base is asked once. */
static void shim_close_handle(uintptr_t addr) {
  __typeof__(&event_del) del = REAL(event_del);
  struct event *ev = (struct event *)addr;
  struct event copy;
  struct al_res r;
  int known = al_res_get(addr, &r) == 0;

  /* An object's memory is the program's, which may still free it, or
   * be handed it by a callback: it is left alone, reported still open.
   * An event_base_once's is libevent's. */
  if (del == NULL || (known && ((r.type >= T_OBJ_FIRST &&
                                 r.type <= T_OBJ_LAST) ||
                                r.type == T_ONCE)))
    return;
  if (!known || read_event(addr, r.loop, &copy) != 0 ||
      event_added(addr, r.loop, &copy) <= 0)
    return;
  al_call_own_begin(&al_ev_calls);
  del(ev);
  al_call_own_end(&al_ev_calls);
  event_gone(ev);
}

/* Isolation of a failed test: an event still added is deleted, as the
 * program's own event_del would, so that its callback no longer runs and
 * it no longer keeps the base looping; an event_new'd one's memory stays
 * the program's to free. A signal event is left added: deleting the last
 * one gives the signal back its former disposition, which is more than
 * the loop. Nor is an object (a bufferevent, a listener) or an
 * event_base_once touched: their memory is libevent's or the program's
 * to free. */
static int shim_quiet(uintptr_t addr) {
  __typeof__(&event_del) del = REAL(event_del);
  struct event *ev = (struct event *)addr;
  struct event copy;
  struct al_res r;

  if (del == NULL || al_res_get(addr, &r) != 0 ||
      (r.type != T_NEW && r.type != T_ASSIGNED) ||
      read_event(addr, r.loop, &copy) != 0 || (copy.ev_events & EV_SIGNAL))
    return AL_QUIET_LEFT;
  al_call_own_begin(&al_ev_calls);
  del(ev);
  al_call_own_end(&al_ev_calls);
  if (r.type == T_ASSIGNED)
    event_gone(ev);
  return AL_QUIET_STOPPED;
}

static int shim_unloaded(void) {
  return al_loopsyms_unloaded(&al_ev_lib);
}

static const struct al_shim event_shim = {
    .name = "libevent",
    .syms = &al_ev_lib,
    .type_name = type_name,
    .req_type_name = al_ev_req_type_name,
    .type_identity = type_identity,
    .probe = shim_probe,
    .describe = al_ev_req_describe,
    .state_text = shim_state_text,
    .closing = shim_closing,
    .requests = shim_requests,
    .close = shim_close,
    .claim = NULL,
    .kind = shim_kind,
    .handle_open = shim_handle_open,
    .close_handle = shim_close_handle,
    .cancel = al_ev_req_cancel,
    .run_function = shim_run_function,
    .run_once = shim_run_once,
    .stop = shim_stop,
    .timer_new = shim_timer_new,
    .timer_arm = shim_timer_arm,
    .timer_stop = shim_timer_stop,
    .timer_free = shim_timer_free,
    .watch = shim_watch,
    .unwatch = shim_unwatch,
    .unloaded = shim_unloaded,
    .quiet = shim_quiet,
    .at_free = shim_at_free,
};

static void shim_init(void) {
  al_init();
  al_ev_shim_id = al_shim_register(&event_shim);
}
