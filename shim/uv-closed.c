/* The use-after-close check of libuv (check_closes, docs/debug-checks.md):
 * a second uv_close of a handle, or a start of a handle whose close was
 * asked for, is a finding, with the stack of the call and of the first
 * close. libuv's own answer is an assertion that names neither
 * ("!uv__is_closing(handle)") or, for most starts, an error code or
 * nothing at all: uv_idle_start on a closing handle puts it back on the
 * loop's queue, whose memory the program frees once its close callback
 * has run.
 *
 * The starts followed are those of libuv 1.x that arm a handle: the
 * timer's (uv_timer_again restarts one), the loop watchers', poll,
 * signal, the stream's reads, listens and requests (shim/uv-req.c),
 * UDP's receives and the file system watchers'. Stops are not followed
 * by it: libuv stops a handle as it closes it, and a stop of a closed
 * handle does nothing; but uv_poll_stop, on which libuv asserts as on
 * uv_poll_start. The stops are followed by the wrong-thread check.
 *
 * libuv keeps UV_HANDLE_CLOSING, then UV_HANDLE_CLOSED too, in the
 * handle's flags from the close on, until the memory is initialised
 * again: those flags decide; the table of closes (lib/closes.c) only
 * names where the close was. The same interposers serve the wrong-thread
 * check (check_threads, lib/threads.c). With both checks off, each costs
 * one test of the options on top of the call. */
#include "uv-shim.h"

void al_uv_close_check(const char *call, const uv_handle_t *h, int closes) {
  struct al_finding f = {0};

  if (!(h->flags & (UV__CLOSING | UV__CLOSED))) {
    if (closes)
      al_close_note((uintptr_t)h);
    return;
  }
  f.call = call;
  f.check = AL_CHECK_CLOSED;
  f.shim = al_uv_shim_id;
  f.type = (uint16_t)h->type;
  al_close_lookup((uintptr_t)h, &f.other);
  al_finding_here(&f);
}

/* One start: libuv gets the call unchanged, after the check. With
 * slow_callback_ms on, a start that takes a callback (START_CB) hands
 * libuv the runtime's stand-in for it instead (shim/uv-slow.c). */
#define START_CB(name, params, args, h, cb, kind)                             \
  AL_EXPORT int name params {                                                 \
    __typeof__(&name) real = REAL(name);                                      \
    int outer, rc;                                                            \
    if (real == NULL)                                                         \
      return UV_ENOSYS;                                                       \
    if (AL_LIKELY(!(al_opt.check_closes | al_opt.check_threads |             \
                    al_opt.slow_callback_ms)))                                \
      return real args;                                                       \
    outer = al_uv_enter_obj(h);                                               \
    if (outer && al_opt.check_closes)                                         \
      al_uv_close_check(#name, (const uv_handle_t *)(h), 0);                  \
    if (outer)                                                                \
      AL_UV_THREAD_CHECK(#name, (h)->loop, (h)->type, 0);                     \
    if (outer && al_opt.slow_callback_ms > 0)                                 \
      cb = (__typeof__(cb))al_uv_stand_in((kind), (h), (void *)(cb));         \
    rc = real args;                                                           \
    al_uv_leave();                                                            \
    return rc;                                                                \
  }

#define START(name, params, args, h)                                          \
  AL_EXPORT int name params {                                                 \
    __typeof__(&name) real = REAL(name);                                      \
    int rc;                                                                   \
    if (real == NULL)                                                         \
      return UV_ENOSYS;                                                       \
    /* One test for both checks: their flags are ored, not each tested */  \
    if (AL_LIKELY(!(al_opt.check_closes | al_opt.check_threads)))             \
      return real args;                                                       \
    if (al_uv_enter_obj(h)) {                                                 \
      if (al_opt.check_closes)                                                \
        al_uv_close_check(#name, (const uv_handle_t *)(h), 0);                \
      AL_UV_THREAD_CHECK(#name, (h)->loop, (h)->type, 0);                     \
    }                                                                         \
    rc = real args;                                                           \
    al_uv_leave();                                                            \
    return rc;                                                                \
  }

/* A stop: the wrong-thread check alone. A stop of a closed handle does
 * nothing in libuv, so the use-after-close check has no part here. */
#define STOP(name, htype)                                                     \
  AL_EXPORT int name(htype *h) {                                              \
    __typeof__(&name) real = REAL(name);                                      \
    int rc;                                                                   \
    if (real == NULL)                                                         \
      return UV_ENOSYS;                                                       \
    if (AL_LIKELY(!al_opt.check_threads))                                     \
      return real(h);                                                         \
    if (al_uv_enter_obj(h))                                                   \
      AL_UV_THREAD_CHECK(#name, h->loop, h->type, 0);                         \
    rc = real(h);                                                             \
    al_uv_leave();                                                            \
    return rc;                                                                \
  }

/* uv_timer_again restarts the timer with the callback in the handle: the
 * stand-in, when the last start stood in. */
START_CB(uv_timer_start,
         (uv_timer_t * h, uv_timer_cb cb, uint64_t timeout, uint64_t repeat),
         (h, cb, timeout, repeat), h, cb, AL_UV_CB_TIMER)
START(uv_timer_again, (uv_timer_t * h), (h), h)
START_CB(uv_idle_start, (uv_idle_t * h, uv_idle_cb cb), (h, cb), h, cb,
         AL_UV_CB_IDLE)
START_CB(uv_prepare_start, (uv_prepare_t * h, uv_prepare_cb cb), (h, cb), h,
         cb, AL_UV_CB_PREPARE)
START_CB(uv_check_start, (uv_check_t * h, uv_check_cb cb), (h, cb), h, cb,
         AL_UV_CB_CHECK)
START_CB(uv_poll_start, (uv_poll_t * h, int events, uv_poll_cb cb),
         (h, events, cb), h, cb, AL_UV_CB_POLL)
START(uv_poll_stop, (uv_poll_t * h), (h), h)
START_CB(uv_signal_start, (uv_signal_t * h, uv_signal_cb cb, int signum),
         (h, cb, signum), h, cb, AL_UV_CB_SIGNAL)
START_CB(uv_signal_start_oneshot,
         (uv_signal_t * h, uv_signal_cb cb, int signum), (h, cb, signum), h,
         cb, AL_UV_CB_SIGNAL)
START_CB(uv_read_start,
         (uv_stream_t * h, uv_alloc_cb alloc_cb, uv_read_cb read_cb),
         (h, alloc_cb, read_cb), h, read_cb, AL_UV_CB_READ)
START_CB(uv_listen, (uv_stream_t * h, int backlog, uv_connection_cb cb),
         (h, backlog, cb), h, cb, AL_UV_CB_CONNECTION)
START_CB(uv_udp_recv_start,
         (uv_udp_t * h, uv_alloc_cb alloc_cb, uv_udp_recv_cb recv_cb),
         (h, alloc_cb, recv_cb), h, recv_cb, AL_UV_CB_UDP_RECV)
START_CB(uv_fs_event_start,
         (uv_fs_event_t * h, uv_fs_event_cb cb, const char *path,
          unsigned int flags),
         (h, cb, path, flags), h, cb, AL_UV_CB_FS_EVENT)

STOP(uv_timer_stop, uv_timer_t)
STOP(uv_idle_stop, uv_idle_t)
STOP(uv_prepare_stop, uv_prepare_t)
STOP(uv_check_stop, uv_check_t)
STOP(uv_signal_stop, uv_signal_t)
STOP(uv_read_stop, uv_stream_t)
STOP(uv_udp_recv_stop, uv_udp_t)
STOP(uv_fs_event_stop, uv_fs_event_t)
STOP(uv_fs_poll_stop, uv_fs_poll_t)
