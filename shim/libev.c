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
    /* A program linked with libasyncleak before libev can have every
     * ev_* symbol it uses bound to the runtime, and the linker then drops
     * libev from it: libev is loaded, which the program clearly wants. */
    .load = "libev.so.4",
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
    al_loop_made(al_libev_shim_id, (uintptr_t)loop, AL_LOOP_DEFAULT, outer,
                 1);
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
    al_loop_made(al_libev_shim_id, (uintptr_t)loop, 0, outer, 1);
  return loop;
}

/* libev stops none of the program's watchers: they stay started in
 * memory, the loop gone. The core's shutdown runs first, on the loop
 * still alive, then its verdict on what is left (al_loop_freeing): a
 * watcher still started is reported as started when its loop was
 * destroyed, a pending ev_once stays pending (libev frees neither). An
 * ev_cleanup is there to be called back now: its job is done. The loop
 * is not read once libev has destroyed it. */
static void destroy_loop(struct ev_loop *loop, int program) {
  __typeof__(&ev_loop_destroy) real = REAL(ev_loop_destroy);
  uintptr_t l = (uintptr_t)loop;
  int followed = loop != NULL && AL_LIKELY(al_locks_held == 0);
  size_t kept = 0;
  int saved = errno;

  if (real == NULL)
    return;
  if (followed) {
    if (program && al_loop_closing(l))
      return;
    al_libev_forget_cleanups(l);
    kept = al_loop_freeing(l);
  }
  errno = saved;
  al_call_own_begin(&al_libev_calls);
  real(loop);
  al_call_own_end(&al_libev_calls);
  if (followed) {
    struct ev_loop *expected = loop;
    al_loop_gone(l, kept);
    atomic_compare_exchange_strong(&known_default, &expected, NULL);
  }
}

AL_EXPORT void ev_loop_destroy(struct ev_loop *loop) {
  int program;

  al_libev_ensure();
  program = al_call_outside(&al_libev_calls);
  if (program)
    AL_LIBEV_THREAD_CHECK("ev_loop_destroy", loop, AL_TYPE_LOOP);
  destroy_loop(loop, program);
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
  struct al_run run = {.object = NULL};
  int rc;

  if (real == NULL)
    return 0;
  al_libev_ensure();
  al_libev_no_last_start();
  if (AL_UNLIKELY(al_opt.check_threads) && al_call_outside(&al_libev_calls))
    al_thread_check(al_libev_shim_id, (uintptr_t)loop, "ev_run",
                    AL_TYPE_LOOP, 0);
  if (al_run_begin(al_libev_shim_id, (uintptr_t)loop, &run))
    return 0;
  if (AL_UNLIKELY(al_opt.slow_callback_ms > 0))
    al_libev_slow_run(1);
  rc = real(loop, flags);
  if (AL_UNLIKELY(al_opt.slow_callback_ms > 0))
    al_libev_slow_run(0);
  al_run_end(&run);
  return rc;
}

/* ------------------------------------------------------- the contract */

static void *shim_run_function(void) {
  return (void *)REAL(ev_run);
}

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
 * interposer records them. */
struct own_timer {
  ev_timer w;
  struct ev_loop *loop;
};

static void own_timer_fired(struct ev_loop *loop, ev_timer *w, int revents) {
  (void)loop;
  (void)w;
  (void)revents;
}

static void *shim_timer_new(uintptr_t loop) {
  struct own_timer *t = calloc(1, sizeof(*t));

  if (t == NULL)
    return NULL;
  ev_init(&t->w, own_timer_fired);
  t->loop = (struct ev_loop *)loop;
  return t;
}

/* Started, it holds a reference: a turn waits for it. libev stops it as
 * it expires. */
static void shim_timer_arm(void *timer, unsigned ms) {
  struct own_timer *t = timer;
  __typeof__(&ev_now_update) now_update = USE(ev_now_update);
  __typeof__(&ev_timer_start) start = REAL(ev_timer_start);
  __typeof__(&ev_timer_stop) stop = REAL(ev_timer_stop);

  if (now_update == NULL || start == NULL || stop == NULL)
    return;
  stop(t->loop, &t->w);
  now_update(t->loop);
  ev_timer_set(&t->w, ms / 1000., 0.);
  start(t->loop, &t->w);
}

/* Also takes it off the pending list, when it fired in this turn. */
static void shim_timer_stop(void *timer) {
  struct own_timer *t = timer;
  __typeof__(&ev_timer_stop) stop = REAL(ev_timer_stop);

  if (stop != NULL)
    stop(t->loop, &t->w);
}

static void shim_timer_free(void *timer) {
  if (timer == NULL)
    return;
  shim_timer_stop(timer);
  free(timer);
}

/* An io watcher that keeps no loop alive: unreferenced with ev_unref after
 * its start, referenced again with ev_ref before its stop, as libev's
 * documentation says. */
struct own_watch {
  ev_io w;
  struct ev_loop *loop;
  void (*ready)(uintptr_t loop);
  int armed; /* started, its reference taken away */
};

static void own_watch_stop(struct own_watch *o) {
  __typeof__(&ev_ref) ref = USE(ev_ref);
  __typeof__(&ev_io_stop) stop = REAL(ev_io_stop);

  if (!o->armed || ref == NULL || stop == NULL)
    return;
  ref(o->loop);
  stop(o->loop, &o->w);
  o->armed = 0;
}

static void own_watch_ready(struct ev_loop *loop, ev_io *w, int revents) {
  struct own_watch *o = (struct own_watch *)w;

  (void)revents;
  own_watch_stop(o);
  o->ready((uintptr_t)loop);
}

static void *shim_watch(uintptr_t loop, int fd, void (*ready)(uintptr_t)) {
  __typeof__(&ev_io_start) start = REAL(ev_io_start);
  __typeof__(&ev_unref) unref = REAL(ev_unref);
  struct own_watch *o;

  if (start == NULL || unref == NULL || (o = calloc(1, sizeof(*o))) == NULL)
    return NULL;
  ev_io_init(&o->w, own_watch_ready, fd, EV_READ);
  o->loop = (struct ev_loop *)loop;
  o->ready = ready;
  start(o->loop, &o->w);
  unref(o->loop);
  o->armed = 1;
  return o;
}

/* alive: ev_loop_destroy is about to destroy the loop, which may still be
 * told; else it is gone, and not touched. */
static void shim_unwatch(void *watch, int alive) {
  if (alive)
    own_watch_stop(watch);
  free(watch);
}

/* The verdict at ev_loop_destroy: a watcher still started is reported as
 * started when its loop was destroyed. */
static int shim_at_free(unsigned type) {
  return type >= T_IO && type <= T_LAST ? (int)(type + T_DESTROYED)
                                        : AL_AT_FREE_KEEP;
}

/* libev has no close that completes later. */
static int shim_closing(uintptr_t loop) {
  (void)loop;
  return 0;
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

static const struct al_shim libev_shim = {
    .name = "libev",
    .syms = &al_libev_lib,
    .type_name = al_libev_type_name,
    .req_type_name = al_libev_req_type_name,
    .type_identity = al_libev_type_identity,
    .probe = al_libev_probe,
    .describe = al_libev_describe,
    .state_text = al_libev_state_text,
    .closing = shim_closing,
    .requests = al_libev_requests,
    .timed = al_libev_timed,
    .claim = NULL,
    .kind = NULL,
    .handle_open = NULL,
    .req_pending = NULL,
    .run_function = shim_run_function,
    .run_once = shim_run_once,
    .stop = shim_stop,
    .timer_new = shim_timer_new,
    .timer_arm = shim_timer_arm,
    .timer_stop = shim_timer_stop,
    .timer_free = shim_timer_free,
    .watch = shim_watch,
    .unwatch = shim_unwatch,
    .at_free = shim_at_free,
    .close = shim_close,
    .close_handle = shim_close_handle,
    .cancel = shim_cancel,
    .quiet = shim_quiet,
    .unloaded = shim_unloaded,
};

static void shim_init(void) {
  al_init();
  al_libev_shim_id = al_shim_register(&libev_shim);
  al_libev_learn_layout();
}
