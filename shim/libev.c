/* The libev 4 interposers for loops, and libev as the core sees it
 * (lib/loop.h). Watchers are in shim/libev-watchers.c.
 *
 * libev.so.4 is found by its name only: libev exports libevent 1.x's
 * event_* names too, and an ev_* definition in another object (rxvt-unicode's
 * executable, Perl's EV.so) is a copy of libev of its own, which these
 * interposers never see called. gevent loads libev.so.4 into a local
 * scope (RTLD_LOCAL), where dlsym(RTLD_NEXT) does not look: the core
 * looks in the object by name then (lib/loopsyms.c). */
#define _GNU_SOURCE
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "libev-shim.h"

/* ---------------------------------------------------------- real functions */

static const char *const func_names[F_COUNT] = {
#define X(name) #name,
    LIBEV_FUNCS(X)
#define W(name, type) X(ev_##name##_start) X(ev_##name##_stop)
    LIBEV_WATCHERS(W)
#undef W
    LIBEV_USED(X)
#undef X
};

static const char *const objects[] = {"libev.so.4", NULL};
static struct al_loopsym syms[F_COUNT];
static void shim_init(void);

struct al_loopsyms al_libev_lib = {
    .name = "libev",
    .id = AL_LIB_LIBEV,
    .objects = objects,
    .load = NULL,
    .funcs = func_names,
    .nfuncs = F_COUNT,
    .flags = 0,
    .missing = "the call does nothing",
    .init = shim_init,
    .syms = syms,
    .once = PTHREAD_ONCE_INIT,
};

AL_TLS struct al_calls al_libev_calls;
uint8_t al_libev_shim_id;

/* The default loop once recorded: programs call ev_default_loop before
 * nearly every call (EV_DEFAULT), which must stay cheap. */
static _Atomic(struct ev_loop *) known_default;

/* ----------------------------------------------------------------- loops */

/* A loop libev made and initialised. */
static void loop_made(int outer, struct ev_loop *loop, unsigned flags) {
  int saved = errno;

  if (AL_UNLIKELY(al_locks_held != 0)) {
    al_defer_missed();
    return;
  }
  al_loop_open(al_libev_shim_id, (uintptr_t)loop, flags,
               outer ? al_stack_capture() : NULL, 1);
  errno = saved;
}

/* Its struct is libev's static memory, initialised again by the first
 * call after an ev_loop_destroy of it: a new loop at the same address. */
AL_EXPORT struct ev_loop *ev_default_loop(unsigned int flags) {
  __typeof__(&ev_default_loop) real = REAL(ev_default_loop);
  struct ev_loop *loop, *known;
  int outer;

  if (real == NULL)
    return NULL;
  outer = al_libev_enter(NULL);
  loop = real(flags);
  al_libev_leave();
  known = atomic_load_explicit(&known_default, memory_order_relaxed);
  if (AL_LIKELY(loop == known) || loop == NULL)
    return loop;
  /* The first of two threads asking at once records it. */
  if (atomic_compare_exchange_strong(&known_default, &known, loop))
    loop_made(outer, loop, AL_LOOP_DEFAULT);
  return loop;
}

AL_EXPORT struct ev_loop *ev_loop_new(unsigned int flags) {
  __typeof__(&ev_loop_new) real = REAL(ev_loop_new);
  struct ev_loop *loop;
  int outer;

  if (real == NULL)
    return NULL;
  outer = al_libev_enter(NULL);
  loop = real(flags);
  al_libev_leave();
  if (loop != NULL)
    loop_made(outer, loop, 0);
  return loop;
}

/* libev stops none of the program's watchers: they stay started in
 * memory, the loop gone. The core's shutdown runs first, on the loop
 * still alive; then every watcher of the program's still started on it
 * becomes "started when its loop was destroyed", a pending ev_once stays
 * pending (libev frees neither), and the loop is freed with them, or
 * closed. The loop is not read once libev has destroyed it. */
static void destroy_loop(struct ev_loop *loop, int program) {
  __typeof__(&ev_loop_destroy) real = REAL(ev_loop_destroy);
  uintptr_t l = (uintptr_t)loop;
  int followed = loop != NULL && AL_LIKELY(al_locks_held == 0);
  size_t kept = 0;
  int saved = errno;

  if (real == NULL)
    return;
  if (followed) {
    /* A finalizer that destroyed the loop did what the program asked. */
    if (program && al_shutdown(l, AL_WHY_CLOSE) == AL_SHUTDOWN_CLOSED) {
      errno = saved;
      return;
    }
    kept = al_libev_destroy_verdict(l);
  }
  errno = saved;
  al_call_own_begin(&al_libev_calls);
  real(loop);
  al_call_own_end(&al_libev_calls);
  if (followed) {
    struct ev_loop *expected = loop;
    saved = errno;
    if (kept > 0)
      al_loop_freed(l);
    else
      al_loop_closed(l, 0);
    al_run_forget(l);
    atomic_compare_exchange_strong(&known_default, &expected, NULL);
    errno = saved;
  }
}

AL_EXPORT void ev_loop_destroy(struct ev_loop *loop) {
  al_libev_ensure();
  destroy_loop(loop, al_call_outside(&al_libev_calls));
}

/* After fork, the child that calls ev_loop_fork takes the loop over: made
 * in the parent, it is now the child's to destroy, and its report's. */
AL_EXPORT void ev_loop_fork(struct ev_loop *loop) {
  __typeof__(&ev_loop_fork) real = REAL(ev_loop_fork);
  int outer, saved;

  if (real == NULL)
    return;
  outer = al_libev_enter(NULL);
  real(loop);
  al_libev_leave();
  if (outer && loop != NULL && AL_LIKELY(al_locks_held == 0)) {
    saved = errno;
    al_loop_adopt((uintptr_t)loop);
    errno = saved;
  }
}

/* ------------------------------------------------------------------- run */

/* No depth here: the program's callbacks run inside. */
AL_EXPORT int ev_run(struct ev_loop *loop, int flags) {
  __typeof__(&ev_run) real = REAL(ev_run);
  struct al_run run;
  int rc;

  if (real == NULL)
    return 0;
  al_libev_ensure();
  al_libev_no_last_start();
  if (al_run_begin(al_libev_shim_id, (uintptr_t)loop, &run))
    return 0;
  rc = real(loop, flags);
  al_run_end(&run);
  return rc;
}

/* ------------------------------------------------------- the contract */

static void shim_run_once(uintptr_t loop, int mode) {
  __typeof__(&ev_run) run = REAL(ev_run);

  if (run != NULL)
    run((struct ev_loop *)loop, mode == AL_RUN_WAIT ? EVRUN_ONCE
                                                    : EVRUN_NOWAIT);
}

static void shim_stop(uintptr_t loop) {
  __typeof__(&ev_break) brk = USE(ev_break);

  if (brk != NULL)
    brk((struct ev_loop *)loop, EVBREAK_ONE);
}

/* The core's timer and descriptor watcher: watchers of the runtime's own
 * memory, started and stopped through libev directly, so that no
 * interposer records them, and unreferenced while started (ev_unref
 * after the start, ev_ref before the stop, as libev's documentation
 * says), so that they keep no loop alive. libev stops an expired timer
 * itself, taking a reference away: the callback gives it back. */
struct own_watcher {
  union {
    ev_timer timer;
    ev_io io;
  } w;
  struct ev_loop *loop;
  void (*ready)(uintptr_t loop);
  int armed; /* started, its reference taken away */
};

static void own_disarm(struct own_watcher *o, int is_timer) {
  __typeof__(&ev_ref) ref = USE(ev_ref);
  __typeof__(&ev_timer_stop) timer_stop = REAL(ev_timer_stop);
  __typeof__(&ev_io_stop) io_stop = REAL(ev_io_stop);

  if (ref == NULL || timer_stop == NULL || io_stop == NULL)
    return;
  if (o->armed) {
    ref(o->loop);
    o->armed = 0;
  }
  /* Also takes it off the pending list, when it fired in this turn. */
  if (is_timer)
    timer_stop(o->loop, &o->w.timer);
  else
    io_stop(o->loop, &o->w.io);
}

static void own_timer_fired(struct ev_loop *loop, ev_timer *w, int revents) {
  struct own_watcher *o = (struct own_watcher *)w;
  __typeof__(&ev_ref) ref = USE(ev_ref);

  (void)loop;
  (void)revents;
  if (o->armed && ref != NULL) {
    ref(o->loop);
    o->armed = 0;
  }
}

static void *shim_timer_new(uintptr_t loop) {
  struct own_watcher *o = calloc(1, sizeof(*o));

  if (o == NULL)
    return NULL;
  ev_init(&o->w.timer, own_timer_fired);
  o->loop = (struct ev_loop *)loop;
  return o;
}

static void shim_timer_arm(void *timer, unsigned ms) {
  struct own_watcher *o = timer;
  __typeof__(&ev_now_update) now_update = USE(ev_now_update);
  __typeof__(&ev_timer_start) start = REAL(ev_timer_start);
  __typeof__(&ev_unref) unref = REAL(ev_unref);

  if (now_update == NULL || start == NULL || unref == NULL)
    return;
  own_disarm(o, 1);
  now_update(o->loop);
  ev_timer_set(&o->w.timer, ms / 1000., 0.);
  start(o->loop, &o->w.timer);
  unref(o->loop);
  o->armed = 1;
}

static void shim_timer_stop(void *timer) {
  own_disarm(timer, 1);
}

static void shim_timer_free(void *timer) {
  if (timer == NULL)
    return;
  own_disarm(timer, 1);
  free(timer);
}

static void own_io_ready(struct ev_loop *loop, ev_io *w, int revents) {
  struct own_watcher *o = (struct own_watcher *)w;

  (void)revents;
  own_disarm(o, 0);
  o->ready((uintptr_t)loop);
}

static void *shim_watch(uintptr_t loop, int fd, void (*ready)(uintptr_t)) {
  struct own_watcher *o;
  __typeof__(&ev_io_start) start = REAL(ev_io_start);
  __typeof__(&ev_unref) unref = REAL(ev_unref);

  if (start == NULL || unref == NULL || (o = calloc(1, sizeof(*o))) == NULL)
    return NULL;
  ev_io_init(&o->w.io, own_io_ready, fd, EV_READ);
  o->loop = (struct ev_loop *)loop;
  o->ready = ready;
  start(o->loop, &o->w.io);
  unref(o->loop);
  o->armed = 1;
  return o;
}

/* The loop is gone: its memory is not touched. */
static void shim_unwatch(void *watch) {
  free(watch);
}

/* libev has no close that completes later. */
static int shim_closing(uintptr_t loop) {
  (void)loop;
  return 0;
}

static enum al_kind shim_kind(uintptr_t loop, uintptr_t addr) {
  struct al_res r;

  if (al_res_get(addr, &r) == 0 && r.loop == loop)
    return AL_KIND_HANDLE;
  if (al_req_get(addr, &r) == 0 && r.loop == loop)
    return AL_KIND_REQUEST;
  return AL_KIND_NONE;
}

static int shim_handle_open(uintptr_t loop, uintptr_t addr) {
  struct al_state st = {0};
  struct al_res r;

  if (al_res_get(addr, &r) != 0 || r.loop != loop)
    return 0;
  al_libev_probe(&r, &st);
  return st.known && st.active;
}

/* asyncleak_loop_close, which has run the shutdown already. */
static int shim_close(uintptr_t loop) {
  al_libev_ensure();
  destroy_loop((struct ev_loop *)loop, 0);
  return 0;
}

/* Force: the watcher's type's stop, as the program's would be. */
static void shim_close_handle(uintptr_t addr) {
  (void)al_libev_stop_watcher(addr, 0);
}

/* libev cannot take an ev_once back. */
static int shim_cancel(uintptr_t addr) {
  (void)addr;
  return -ENOTSUP;
}

/* Isolation of a failed test: the watchers that call back by themselves,
 * on the loop's clock or at every turn, are stopped; the others are left
 * as they are (libev's references are the loop's, not a watcher's). */
static int shim_quiet(uintptr_t addr) {
  return al_libev_stop_watcher(addr, 1) ? AL_QUIET_STOPPED : AL_QUIET_LEFT;
}

static int shim_unloaded(void) {
  if (!al_loopsyms_unloaded(&al_libev_lib))
    return 0;
  atomic_store(&known_default, NULL);
  return 1;
}

/* STAND-IN until the core's lib/run.c: today's core asks these. Loops of
 * libev have no wake-up from a signal handler here, so a graceful signal
 * ends the process as it would without graceful_signals. */
static int stand_in_running(uintptr_t loop) {
  return al_run_here(al_libev_shim_id, loop);
}

static int stand_in_run_until(uintptr_t loop, unsigned timeout_ms,
                              int (*done)(uintptr_t, void *), void *arg) {
  return al_run_until(al_libev_shim_id, loop, timeout_ms, done, arg);
}

static int stand_in_cannot_stop(void) {
  return 1;
}

static const struct al_shim libev_shim = {
    .name = "libev",
    .type_name = al_libev_type_name,
    .req_type_name = al_libev_req_type_name,
    .type_identity = al_libev_type_identity,
    .probe = al_libev_probe,
    .describe = al_libev_describe,
    .state_text = al_libev_state_text,
    .closing = shim_closing,
    .requests = al_libev_requests,
    .claim = NULL,
    .kind = shim_kind,
    .handle_open = shim_handle_open,
    .req_pending = NULL,
    .run_function = NULL,
    .run_once = shim_run_once,
    .stop = shim_stop,
    .timer_new = shim_timer_new,
    .timer_arm = shim_timer_arm,
    .timer_stop = shim_timer_stop,
    .timer_free = shim_timer_free,
    .watch = shim_watch,
    .unwatch = shim_unwatch,
    .close = shim_close,
    .close_handle = shim_close_handle,
    .cancel = shim_cancel,
    .quiet = shim_quiet,
    .unloaded = shim_unloaded,
    .running = stand_in_running,
    .run_until = stand_in_run_until,
    .wake = NULL,
    .cannot_stop = stand_in_cannot_stop,
};

static void shim_init(void) {
  al_init();
  al_libev_shim_id = al_shim_register(&libev_shim);
  al_libev_learn_layout();
}
