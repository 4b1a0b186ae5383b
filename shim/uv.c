/* The libuv interposers. Each exported uv_* function here stands in front of
 * libuv's own: it calls the real one and tells the core what happened.
 *
 * libuv calls its own public functions through the PLT, so these see its
 * internal calls too (uv_loop_init making the loop's signal and async
 * handles, uv_tcp_init tail-calling uv_tcp_init_ex, uv_fs_poll_start making
 * a timer). The core tells them apart (lib/calls.h): a call arriving
 * while another interposer is on the thread's stack is libuv's own. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <link.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "uv-shim.h"

/* ---------------------------------------------------------- real functions */

static const char *const func_names[F_COUNT] = {
#define X(name) #name,
    UV_FUNCS(X) UV_START_FUNCS(X) UV_STOP_FUNCS(X) UV_REQ_FUNCS(X) UV_USED(X)
#undef X
};

static const char *const objects[] = {"libuv.so.1", NULL};
static struct al_loopsym syms[F_COUNT];
static void shim_init(void);

/* libuv's names are its own: wherever they are defined, that is libuv.
 * A program linked with libasyncleak can have every uv_* symbol it uses
 * bound to the runtime, and the linker then drops libuv from it: libuv is
 * loaded, which the program clearly wants. */
struct al_loopsyms al_uv_lib = {
    .name = "libuv",
    .id = AL_LIB_LIBUV,
    .objects = objects,
    .load = "libuv.so.1",
    .funcs = func_names,
    .nfuncs = F_COUNT,
    .flags = AL_SYMS_ANY_OBJECT,
    .missing = "the call fails",
    .init = shim_init,
    .syms = syms,
    .once = PTHREAD_ONCE_INIT,
};

static void forget_default_loop(void);

/* A dlclose may have unloaded libuv: the default loop is forgotten too. */
static int uv_unloaded(void) {
  if (!al_loopsyms_unloaded(&al_uv_lib))
    return 0;
  forget_default_loop();
  return 1;
}

/* ----------------------------------------------------------------- the shim */

#define TYPE_NAME(uc, lc)                                                     \
  case UV_##uc:                                                               \
    return "uv_" #lc "_t";

const char *al_uv_type_name(unsigned type) {
  switch (type) {
    UV_HANDLE_TYPE_MAP(TYPE_NAME)
  default:
    return NULL;
  }
}

const char *al_uv_req_type_name(unsigned type) {
  switch (type) {
    UV_REQ_TYPE_MAP(TYPE_NAME)
  default:
    return NULL;
  }
}

#undef TYPE_NAME

_Static_assert(UV_HANDLE_TYPE_MAX <= AL_RES_TYPES &&
                   UV_REQ_TYPE_MAX <= AL_RES_TYPES,
               "a record keeps a type in 6 bits");

static void uv_probe(const struct al_res *r, struct al_state *st) {
  uv_handle_t h;

  if (r->state == AL_RES_PENDING) {
    al_uv_req_probe(r, st);
    return;
  }
  if (al_safe_read(&h, (const void *)r->addr, sizeof(h)) != 0)
    return;
  /* A handle whose memory now says "closed" was never closed through us:
   * its memory was taken over by a newer handle, which closed. */
  if ((uintptr_t)h.loop != r->loop || (unsigned)h.type != r->type ||
      (h.flags & UV__CLOSED))
    return;
  st->known = 1;
  st->internal = (h.flags & UV__INTERNAL) != 0;
  st->closing = (h.flags & UV__CLOSING) != 0;
  st->active = (h.flags & UV__ACTIVE) != 0;
  st->referenced = (h.flags & UV__REF) != 0;
}

/* Whether the memory at addr holds a live loop: its backend is open (a
 * closed loop's is -1) and the first handle on its list (libuv always has
 * its own) points back at it. The lists are read by offset: their type
 * changed across libuv 1.x, their place did not. */
static int uv_claim(uintptr_t addr) {
  uv_loop_t loop;
  uv_handle_t h;
  uintptr_t head = addr + offsetof(uv_loop_t, handle_queue), first;

  if (al_safe_read(&loop, (const void *)addr, sizeof(loop)) != 0 ||
      loop.backend_fd < 0)
    return 0;
  memcpy(&first, (const char *)&loop + offsetof(uv_loop_t, handle_queue),
         sizeof(first));
  if (first == head)
    return 1; /* no handle at all */
  return al_safe_read(&h, (const void *)(first - offsetof(uv_handle_t,
                                                          handle_queue)),
                      sizeof(h)) == 0 &&
         (uintptr_t)h.loop == addr;
}

/* uv_handle_t and uv_req_t both begin with data, then a handle has its
 * loop and type, a request its type. */
static enum al_kind uv_kind(uintptr_t loop, uintptr_t addr) {
  uv_handle_t h;
  uv_req_t r;

  if (al_safe_read(&h, (const void *)addr, sizeof(h)) == 0 &&
      (uintptr_t)h.loop == loop && h.type > UV_UNKNOWN_HANDLE &&
      h.type < UV_HANDLE_TYPE_MAX)
    return AL_KIND_HANDLE;
  if (al_safe_read(&r, (const void *)addr, sizeof(r)) == 0 &&
      r.type > UV_UNKNOWN_REQ && r.type < UV_REQ_TYPE_MAX)
    return AL_KIND_REQUEST;
  return AL_KIND_NONE;
}

static int uv_handle_open(uintptr_t loop, uintptr_t addr) {
  uv_handle_t h;

  return al_safe_read(&h, (const void *)addr, sizeof(h)) == 0 &&
         (uintptr_t)h.loop == loop && !(h.flags & UV__CLOSED);
}

static int uv_close_loop(uintptr_t loop);
static void uv_close_handle(uintptr_t addr);
static int uv_quiet(uintptr_t addr);

uint8_t al_uv_shim_id;

AL_TLS struct al_calls al_uv_calls;
/* What the last uv_loop_close on this thread returned, for uv_loop_delete. */
static AL_TLS int last_close_rc;
#define CLOSE_NOT_SEEN 1
/* The default loop once recorded, to keep uv_default_loop cheap. */
static _Atomic(uv_loop_t *) known_default;

static void forget_default_loop(void) {
  atomic_store(&known_default, NULL);
}

/* Registered at start-up, so that a program that only links libasyncleak
 * (its uv_* calls going straight to libuv) still has its loops claimed. */
__attribute__((constructor)) static void shim_constructor(void) {
  al_uv_shim_ensure();
}

/* Records a handle the program made. errno is the program's: keep it. */
static void handle_made(int outer, int ok, uv_loop_t *loop, void *handle,
                       uv_handle_type type) {
  al_uv_leave();
  /* The memory is a handle again, whoever made it: what was closed there
   * is no longer. */
  if (AL_UNLIKELY(al_opt.check_closes) && ok)
    al_close_forget((uintptr_t)handle);
  if (outer && ok)
    al_made(al_uv_shim_id, (uintptr_t)handle, type, (uintptr_t)loop);
}

/* Before the real init: the memory becomes a handle again, and the
 * program's callbacks kept for an older handle there (slow_callback_ms)
 * are forgotten. */
static void handle_init(void *handle) {
  if (AL_UNLIKELY(al_opt.slow_callback_ms > 0))
    al_standin_forget((uintptr_t)handle);
}

#define INIT(name, type, params, args, loop, handle)                          \
  AL_EXPORT int name params {                                                 \
    __typeof__(&name) real = REAL(name);                                      \
    int outer, rc;                                                            \
    if (real == NULL)                                                         \
      return UV_ENOSYS;                                                       \
    handle_init(handle);                                                      \
    outer = al_uv_enter_obj(handle);                                          \
    if (outer)                                                                \
      AL_UV_THREAD_CHECK(#name, loop, type, 0);                               \
    rc = real args;                                                           \
    handle_made(outer, rc == 0, loop, handle, type);                          \
    return rc;                                                                \
  }

INIT(uv_tcp_init, UV_TCP, (uv_loop_t * l, uv_tcp_t *h), (l, h), l, h)
INIT(uv_tcp_init_ex, UV_TCP, (uv_loop_t * l, uv_tcp_t *h, unsigned int f),
     (l, h, f), l, h)
INIT(uv_udp_init, UV_UDP, (uv_loop_t * l, uv_udp_t *h), (l, h), l, h)
INIT(uv_udp_init_ex, UV_UDP, (uv_loop_t * l, uv_udp_t *h, unsigned int f),
     (l, h, f), l, h)
INIT(uv_tty_init, UV_TTY, (uv_loop_t * l, uv_tty_t *h, uv_file fd, int r),
     (l, h, fd, r), l, h)
INIT(uv_pipe_init, UV_NAMED_PIPE, (uv_loop_t * l, uv_pipe_t *h, int ipc),
     (l, h, ipc), l, h)
INIT(uv_poll_init, UV_POLL, (uv_loop_t * l, uv_poll_t *h, int fd),
     (l, h, fd), l, h)
INIT(uv_poll_init_socket, UV_POLL,
     (uv_loop_t * l, uv_poll_t *h, uv_os_sock_t s), (l, h, s), l, h)
INIT(uv_prepare_init, UV_PREPARE, (uv_loop_t * l, uv_prepare_t *h), (l, h),
     l, h)
INIT(uv_check_init, UV_CHECK, (uv_loop_t * l, uv_check_t *h), (l, h), l, h)
INIT(uv_idle_init, UV_IDLE, (uv_loop_t * l, uv_idle_t *h), (l, h), l, h)

/* Its callback is given here: with slow_callback_ms on, the runtime's
 * stand-in goes to libuv (shim/uv-slow.c). */
AL_EXPORT int uv_async_init(uv_loop_t *l, uv_async_t *h, uv_async_cb cb) {
  __typeof__(&uv_async_init) real = REAL(uv_async_init);
  int outer, rc;

  if (real == NULL)
    return UV_ENOSYS;
  handle_init(h);
  outer = al_uv_enter_obj(h);
  if (outer)
    AL_UV_THREAD_CHECK("uv_async_init", l, UV_ASYNC, 0);
  if (outer && AL_UNLIKELY(al_opt.slow_callback_ms > 0))
    cb = (uv_async_cb)al_uv_stand_in(AL_UV_CB_ASYNC, h, (void *)cb);
  rc = real(l, h, cb);
  handle_made(outer, rc == 0, l, h, UV_ASYNC);
  return rc;
}

INIT(uv_timer_init, UV_TIMER, (uv_loop_t * l, uv_timer_t *h), (l, h), l, h)
INIT(uv_fs_poll_init, UV_FS_POLL, (uv_loop_t * l, uv_fs_poll_t *h), (l, h),
     l, h)
INIT(uv_signal_init, UV_SIGNAL, (uv_loop_t * l, uv_signal_t *h), (l, h), l,
     h)
INIT(uv_fs_event_init, UV_FS_EVENT, (uv_loop_t * l, uv_fs_event_t *h),
     (l, h), l, h)

/* A failed uv_spawn still leaves the handle initialised, to be closed. */
AL_EXPORT int uv_spawn(uv_loop_t *loop, uv_process_t *h,
                       const uv_process_options_t *options) {
  __typeof__(&uv_spawn) real = REAL(uv_spawn);
  int outer, rc;

  if (real == NULL)
    return UV_ENOSYS;
  handle_init(h);
  outer = al_uv_enter();
  if (outer)
    AL_UV_THREAD_CHECK("uv_spawn", loop, UV_PROCESS, 0);
  rc = real(loop, h, options);
  handle_made(outer, 1, loop, h, UV_PROCESS);
  return rc;
}

/* It makes a timer for itself. */
AL_EXPORT int uv_fs_poll_start(uv_fs_poll_t *h, uv_fs_poll_cb cb,
                               const char *path, unsigned int interval) {
  __typeof__(&uv_fs_poll_start) real = REAL(uv_fs_poll_start);
  int rc;

  if (real == NULL)
    return UV_ENOSYS;
  if (al_uv_enter_obj(h)) {
    if (AL_UNLIKELY(al_opt.check_closes))
      al_uv_close_check("uv_fs_poll_start", (uv_handle_t *)h, 0);
    AL_UV_THREAD_CHECK("uv_fs_poll_start", h->loop, UV_FS_POLL, 0);
    if (AL_UNLIKELY(al_opt.slow_callback_ms > 0))
      cb = (uv_fs_poll_cb)al_uv_stand_in(AL_UV_CB_FS_POLL, h, (void *)cb);
  }
  rc = real(h, cb, path, interval);
  al_uv_leave();
  return rc;
}

/* ------------------------------------------------------------------- close */

/* Stands in for the program's close callback, so that we learn when the
 * close has completed; then hands over to the program's own. */
static void close_done(uv_handle_t *h) {
  void *cb = NULL;
  int saved = errno, found;
  struct al_slow slow = {.start = 0};

  /* Timed (slow_callback_ms) with the record still there, for its
   * creation stack. */
  if (AL_UNLIKELY(al_opt.slow_callback_ms > 0)) {
    al_slow_begin(&slow, "uv_close", al_uv_shim_id, (unsigned)h->type,
                  AL_RES_CLOSING, (uintptr_t)h, NULL);
    al_standin_forget((uintptr_t)h);
  }
  found = al_res_closed((uintptr_t)h, &cb);
  errno = saved;
  if (!found) {
    al_warn("lost track of the close of handle %p; its callback is skipped",
            (void *)h);
    return;
  }
  h->close_cb = (uv_close_cb)cb;
  if (cb != NULL) {
    slow.fn = cb;
    ((uv_close_cb)cb)(h);
    al_slow_end(&slow);
  }
}

/* Starts following the close of h when the program asked for it and h is
 * one of its handles; returns the record's seq, or 0. */
static uint64_t closing(int outer, void *h, uv_close_cb cb) {
  int saved = errno;
  uint64_t seq;

  /* A signal handler's, with its thread inside the runtime: taken as
   * closed once the thread is out, and the close is not followed. */
  if (outer && AL_UNLIKELY(al_locks_held != 0)) {
    al_defer_closed((uintptr_t)h);
    errno = saved;
    return 0;
  }
  seq = outer ? al_res_closing((uintptr_t)h, (void *)cb) : 0;
  if (seq != 0)
    al_shutdown_saw_close((uintptr_t)((uv_handle_t *)h)->loop, (uintptr_t)h);
  errno = saved;
  return seq;
}

/* force_close closed h at exit; the program's own cleanup, later, closes
 * it again, which libuv would abort on. */
static int closed_by_force(const uv_handle_t *h) {
  int saved = errno, forced;
  forced = al_opt.force_close && (h->flags & UV__CLOSED) &&
           al_shutdown_forced((uintptr_t)h);
  errno = saved;
  return forced;
}

AL_EXPORT void uv_close(uv_handle_t *h, uv_close_cb cb) {
  __typeof__(&uv_close) real = REAL(uv_close);
  uint64_t seq;
  int outer;

  if (real == NULL || AL_UNLIKELY(closed_by_force(h)))
    return;
  outer = al_uv_enter_obj(h);
  /* Before libuv, which aborts on a second close. */
  if (outer && AL_UNLIKELY(al_opt.check_closes))
    al_uv_close_check("uv_close", h, 1);
  if (outer)
    AL_UV_THREAD_CHECK("uv_close", h->loop, h->type, 0);
  seq = closing(outer, h, cb);
  real(h, seq ? close_done : cb);
  /* A close not followed completes without the runtime: libuv calls none
   * of the handle's callbacks from now on, so what was kept of them goes
   * now. */
  if (seq == 0 && AL_UNLIKELY(al_opt.slow_callback_ms > 0))
    al_standin_forget((uintptr_t)h);
  al_uv_leave();
}

AL_EXPORT int uv_tcp_close_reset(uv_tcp_t *h, uv_close_cb cb) {
  __typeof__(&uv_tcp_close_reset) real = REAL(uv_tcp_close_reset);
  uint64_t seq;
  int outer, rc;

  if (real == NULL)
    return UV_ENOSYS;
  if (AL_UNLIKELY(closed_by_force((uv_handle_t *)h)))
    return 0;
  outer = al_uv_enter_obj(h);
  if (outer && AL_UNLIKELY(al_opt.check_closes))
    al_uv_close_check("uv_tcp_close_reset", (uv_handle_t *)h, 1);
  if (outer)
    AL_UV_THREAD_CHECK("uv_tcp_close_reset", h->loop, UV_TCP, 0);
  seq = closing(outer, h, cb);
  rc = real(h, seq ? close_done : cb);
  if (seq && rc != 0) {
    int saved = errno;
    al_res_close_aborted((uintptr_t)h, seq);
    errno = saved;
  }
  /* As in uv_close. */
  if (seq == 0 && rc == 0 && AL_UNLIKELY(al_opt.slow_callback_ms > 0))
    al_standin_forget((uintptr_t)h);
  al_uv_leave();
  return rc;
}

/* ------------------------------------------------------------------- loops */

/* fresh: libuv has just initialised the loop's memory. */
static void loop_made(int outer, uv_loop_t *loop, unsigned flags, int fresh) {
  al_loop_made(al_uv_shim_id, (uintptr_t)loop, flags, outer, fresh);
}

AL_EXPORT int uv_loop_init(uv_loop_t *loop) {
  __typeof__(&uv_loop_init) real = REAL(uv_loop_init);
  int outer, rc;

  if (real == NULL)
    return UV_ENOSYS;
  outer = al_uv_enter();
  rc = real(loop);
  al_uv_leave();
  /* Also when called by uv_default_loop or uv_loop_new: the loop is real
   * either way; the outer call supplies the stack. */
  if (rc == 0)
    loop_made(outer, loop, 0, 1);
  return rc;
}

/* After fork, the child that calls uv_loop_fork takes the loop over: made
 * in the parent, it is now the child's to close, and its report's, and
 * it has an epoll set of its own, where its graceful wake-up can be. */
AL_EXPORT int uv_loop_fork(uv_loop_t *loop) {
  __typeof__(&uv_loop_fork) real = REAL(uv_loop_fork);
  int outer, rc;

  if (real == NULL)
    return UV_ENOSYS;
  outer = al_uv_enter();
  rc = real(loop);
  al_uv_leave();
  if (outer && rc == 0 && loop != NULL && AL_LIKELY(al_locks_held == 0)) {
    int saved = errno;
    al_loop_adopt((uintptr_t)loop);
    errno = saved;
  }
  return rc;
}

AL_EXPORT uv_loop_t *uv_loop_new(void) {
  __typeof__(&uv_loop_new) real = REAL(uv_loop_new);
  uv_loop_t *loop;
  int outer;

  if (real == NULL)
    return NULL;
  outer = al_uv_enter();
  loop = real();
  al_uv_leave();
  if (loop != NULL)
    loop_made(outer, loop, 0, 0);
  return loop;
}

AL_EXPORT uv_loop_t *uv_default_loop(void) {
  __typeof__(&uv_default_loop) real = REAL(uv_default_loop);
  uv_loop_t *loop;
  int outer;

  if (real == NULL)
    return NULL;
  outer = al_uv_enter();
  loop = real();
  al_uv_leave();
  if (loop != NULL && loop != atomic_load_explicit(&known_default,
                                                   memory_order_relaxed)) {
    loop_made(outer, loop, AL_LOOP_DEFAULT, 0);
    atomic_store(&known_default, loop);
  }
  return loop;
}

/* ------------------------------------------------------------------- run */

AL_EXPORT int uv_run(uv_loop_t *loop, uv_run_mode mode) {
  __typeof__(&uv_run) real = REAL(uv_run);
  struct al_run run = {.object = NULL};
  int rc;

  if (real == NULL)
    return UV_ENOSYS;
  /* A run begun while another thread runs the loop; the runtime's own
   * runs (the drain) do not come here. */
  if (AL_UNLIKELY(al_opt.check_threads) && al_call_outside(&al_uv_calls))
    al_thread_check(al_uv_shim_id, (uintptr_t)loop, "uv_run", AL_TYPE_LOOP,
                    0);
  /* No depth here: the program's callbacks run inside. */
  if (loop != NULL && al_run_begin(al_uv_shim_id, (uintptr_t)loop, &run))
    return 0;
  rc = real(loop, mode);
  if (loop != NULL)
    al_run_end(&run);
  return rc;
}

static void *uv_run_function(void) {
  return (void *)REAL(uv_run);
}

static void uv_run_once(uintptr_t loop, int mode) {
  REAL(uv_run)((uv_loop_t *)loop,
               mode == AL_RUN_WAIT ? UV_RUN_ONCE : UV_RUN_NOWAIT);
}

static void uv_stop_loop(uintptr_t loop) {
  USE(uv_stop)((uv_loop_t *)loop);
}

static int uv_closing(uintptr_t addr) {
  return ((const uv_loop_t *)addr)->closing_handles != NULL;
}

static int uv_requests(uintptr_t addr) {
  return ((const uv_loop_t *)addr)->active_reqs.count > 0;
}

/* Work of the program's in the thread pool, not called back yet. */
static int uv_offloaded(uintptr_t loop) {
  struct al_res *res;
  size_t n = al_res_on_loop(loop, 0, 1u << AL_RES_PENDING, &res);
  int found = 0;

  for (size_t i = 0; i < n && !found; i++)
    found = res[i].type == UV_WORK || res[i].type == UV_FS ||
            res[i].type == UV_GETADDRINFO || res[i].type == UV_GETNAMEINFO ||
            res[i].type == UV_RANDOM;
  free(res);
  return found;
}

/* The core's timer and watch: handles made through libuv directly, so
 * that they are not the program's, and flagged as libuv's own, so that
 * uv_walk, and a program closing every handle it walks, pass over them. */
static void timer_fired(uv_timer_t *t) {
  (void)t;
}

static void *uv_timer_new(uintptr_t loop) {
  uv_timer_t *t = calloc(1, sizeof(*t));

  if (t == NULL || REAL(uv_timer_init)((uv_loop_t *)loop, t) != 0) {
    free(t);
    return NULL;
  }
  t->flags |= UV__INTERNAL;
  return t;
}

static void uv_timer_arm(void *timer, unsigned ms) {
  uv_timer_t *t = timer;

  /* The loop's clock may be stale: aim at what is left, from a fresh
   * clock. */
  USE(uv_update_time)(t->loop);
  REAL(uv_timer_start)(t, timer_fired, ms, 0);
}

static void uv_timer_halt(void *timer) {
  REAL(uv_timer_stop)((uv_timer_t *)timer);
}

static void timer_closed(uv_handle_t *h) {
  h->data = NULL; /* tells uv_timer_free that the close completed */
}

static void uv_timer_free(void *timer) {
  uv_timer_t *t = timer;

  if (t->flags & (UV__CLOSING | UV__CLOSED)) {
    /* Closed by someone else after all: not twice, and its memory is
     * not known to be free of libuv. */
    return;
  }
  t->data = t;
  REAL(uv_close)((uv_handle_t *)t, timer_closed);
  /* A close completes at the end of the next iteration. */
  for (int i = 0; i < 16 && t->data != NULL; i++)
    REAL(uv_run)(t->loop, UV_RUN_NOWAIT);
  if (t->data == NULL)
    free(t);
}

struct watch {
  uv_poll_t poll;
  void (*ready)(uintptr_t loop);
};

static void watch_ready(uv_poll_t *p, int status, int events) {
  struct watch *w = (struct watch *)p;

  (void)status;
  (void)events;
  REAL(uv_poll_stop)(p);
  w->ready((uintptr_t)p->loop);
}

static void *uv_watch(uintptr_t loop, int fd, void (*ready)(uintptr_t)) {
  __typeof__(&uv_poll_start) start = REAL(uv_poll_start);
  struct watch *w = calloc(1, sizeof(*w));

  if (w == NULL || start == NULL ||
      REAL(uv_poll_init)((uv_loop_t *)loop, &w->poll, fd) != 0) {
    free(w);
    return NULL;
  }
  w->ready = ready;
  w->poll.flags |= UV__INTERNAL;
  USE(uv_unref)((uv_handle_t *)&w->poll);
  if (start(&w->poll, UV_READABLE, watch_ready) != 0) {
    /* Never started: nothing of it is on the loop's lists but the
     * handle queue, which a loop close does not read back. */
    w->poll.flags |= UV__CLOSED;
    return NULL;
  }
  return w;
}

/* After uv_loop_close, or a uv_loop_init over the loop: its lists are
 * gone. libuv never frees a loop with handles on it (alive). */
static void uv_unwatch(void *watch, int alive) {
  if (!alive)
    free(watch);
}

static void loop_gone(uv_loop_t *loop, uint64_t serial) {
  int saved = errno;
  al_loop_closed((uintptr_t)loop, serial);
  uv_loop_t *expected = loop;
  atomic_compare_exchange_strong(&known_default, &expected, NULL);
  errno = saved;
}

/* Outside the depth count: the handles its finalizers close and make are
 * followed. Returns whether a finalizer closed the loop meanwhile. */
static int loop_shutdown(uv_loop_t *loop) {
  al_uv_shim_ensure();
  return al_loop_closing((uintptr_t)loop);
}

static int close_loop(uv_loop_t *loop, int program) {
  __typeof__(&uv_loop_close) real = REAL(uv_loop_close);
  int rc;

  if (real == NULL)
    return UV_ENOSYS;
  /* Closed by its own finalizer, which may have freed it too: the close
   * the program asked for is done. */
  if (program && loop_shutdown(loop))
    return 0;
  al_uv_enter();
  rc = real(loop);
  al_uv_leave();
  last_close_rc = rc;
  if (rc == 0) {
    loop_gone(loop, 0);
  } else if (rc == UV_EBUSY) {
    int saved = errno;
    al_loop_close_busy((uintptr_t)loop);
    errno = saved;
  }
  return rc;
}

/* A close that fails with UV_EBUSY is not the verdict: programs such as luv
 * and neovim then close their handles, run the loop and close again.
 * The shutdown comes first, with the loop still alive. */
AL_EXPORT int uv_loop_close(uv_loop_t *loop) {
  int program = al_call_outside(&al_uv_calls);

  if (program)
    AL_UV_THREAD_CHECK("uv_loop_close", loop, AL_TYPE_LOOP, 0);
  return close_loop(loop, program);
}

AL_EXPORT void uv_loop_delete(uv_loop_t *loop) {
  __typeof__(&uv_loop_delete) real = REAL(uv_loop_delete);
  uint64_t serial;

  if (real == NULL)
    return;
  /* Closed by its own finalizer, which owns its memory from then on: a
   * second close would fail libuv's assertion, a free free it twice. */
  if (al_call_outside(&al_uv_calls) && loop_shutdown(loop))
    return;
  al_uv_enter();
  serial = al_loop_serial((uintptr_t)loop);
  last_close_rc = CLOSE_NOT_SEEN;
  real(loop);
  al_uv_leave();
  /* Its inner uv_loop_close normally told us already. If that call did not
   * come through here, libuv closed the loop (it asserts the close worked);
   * the serial keeps a loop made since at the address from being taken for
   * this one. */
  if (last_close_rc == CLOSE_NOT_SEEN)
    loop_gone(loop, serial);
}

/* asyncleak_loop_close, which has run the shutdown already. */
static int uv_close_loop(uintptr_t loop) {
  return close_loop((uv_loop_t *)loop, 0);
}

/* Force: as if the program had called uv_close(h, NULL). */
static void uv_close_handle(uintptr_t addr) {
  uv_close((uv_handle_t *)addr, NULL);
}

/* Isolation of a failed test: the handles that call back by themselves,
 * on the loop's clock or at every turn, are stopped, as the program's own
 * uv_*_stop would; any other still active (a stream, a signal, a
 * process, an async) is unreferenced, as with uv_unref, and calls back
 * only if its event comes while the loop runs for something else. */
static int uv_quiet(uintptr_t addr) {
  uv_handle_t *h = (uv_handle_t *)addr;
  __typeof__(&uv_is_active) is_active = USE(uv_is_active);
  __typeof__(&uv_unref) unref = USE(uv_unref);
  __typeof__(&uv_timer_stop) timer_stop;
  __typeof__(&uv_idle_stop) idle_stop;
  __typeof__(&uv_prepare_stop) prepare_stop;
  __typeof__(&uv_check_stop) check_stop;

  if (is_active == NULL || unref == NULL)
    return AL_QUIET_LEFT;
  switch (h->type) {
  case UV_TIMER:
    if ((timer_stop = REAL(uv_timer_stop)) != NULL)
      timer_stop((uv_timer_t *)h);
    break;
  case UV_IDLE:
    if ((idle_stop = REAL(uv_idle_stop)) != NULL)
      idle_stop((uv_idle_t *)h);
    break;
  case UV_PREPARE:
    if ((prepare_stop = REAL(uv_prepare_stop)) != NULL)
      prepare_stop((uv_prepare_t *)h);
    break;
  case UV_CHECK:
    if ((check_stop = REAL(uv_check_stop)) != NULL)
      check_stop((uv_check_t *)h);
    break;
  default:
    break;
  }
  if (!is_active(h))
    return AL_QUIET_STOPPED;
  unref(h);
  return AL_QUIET_UNREFERENCED;
}

/* ------------------------------------------------ what the core asks of us */

static const struct al_shim uv_shim = {
    .name = "libuv",
    .syms = &al_uv_lib,
    .type_name = al_uv_type_name,
    .req_type_name = al_uv_req_type_name,
    .probe = uv_probe,
    .describe = al_uv_req_describe,
    .closing = uv_closing,
    .requests = uv_requests,
    .offloaded = uv_offloaded,
    .claim = uv_claim,
    .kind = uv_kind,
    .handle_open = uv_handle_open,
    .req_pending = al_uv_req_pending,
    .run_function = uv_run_function,
    .run_once = uv_run_once,
    .stop = uv_stop_loop,
    .timer_new = uv_timer_new,
    .timer_arm = uv_timer_arm,
    .timer_stop = uv_timer_halt,
    .timer_free = uv_timer_free,
    .watch = uv_watch,
    .unwatch = uv_unwatch,
    .close = uv_close_loop,
    .close_handle = uv_close_handle,
    .cancel = al_uv_req_cancel,
    .quiet = uv_quiet,
    .unloaded = uv_unloaded,
};

static void shim_init(void) {
  al_init();
  al_uv_shim_id = al_shim_register(&uv_shim);
}
