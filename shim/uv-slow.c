/* The slow-callback check of libuv (slow_callback_ms,
 * docs/debug-checks.md) for the callbacks libuv keeps in a handle: the
 * timer's, the loop watchers', poll, signal, the stream's reads and
 * connections, UDP's receives, the file system watchers' and the async's.
 * libuv calls them from the handle's field, where nothing of the runtime
 * stands: so, while the check is on, the start call (uv_timer_start...,
 * or uv_async_init) hands libuv a stand-in of the runtime's, and the
 * program's callback is kept in the core's table (lib/standins.c) until
 * the handle's close completes or its memory is initialised again. The
 * stand-in times the program's callback. In between, the handle's
 * callback field holds the stand-in: a program that reads it there
 * (uv_timer_t's timer_cb) finds the runtime's function.
 *
 * With the check off nothing is stood in for, and each start costs one
 * test of the options (shim/uv-closed.c). A start made by libuv itself
 * (uv_fs_poll's timer) or with a callback of libuv's is left alone, and
 * so is one for which the table has no room: that callback is not timed.
 * Thread-pool requests, UDP sends and close callbacks are timed where the
 * runtime already stands in front of their callbacks (shim/uv-req.c,
 * shim/uv.c).
 *
 * A stream request (write, shutdown, connect) is called back as
 * cb(req, status) from its public field, once libuv has let go of it,
 * and the program often frees or reuses the request in that callback, so
 * nothing may be kept by the request's address. While the check is on,
 * the start call hands libuv a stand-in per callback function instead
 * (the core's slots, lib/standins.c): stand-in i calls the function slot
 * i holds, for good. Between the start and the callback, the request's
 * cb field holds the stand-in. */
#include "uv-shim.h"

/* The program's callback could not be found: the table lost it, which
 * cannot happen while an entry is kept for as long as its handle holds
 * the stand-in. Said, and the callback is skipped. */
static void lost(const void *h) {
  al_warn("lost the callback of handle %p; it is skipped", (void *)h);
}

/* One stand-in: finds the program's callback of handle h, times it.
 * Nothing of the handle is read after the call, which may have freed it
 * (in a close callback it set, run later, but also a read callback that
 * gets EOF). */
#define STANDIN(fn, which, call, params, h, args)                       \
  static void fn params {                                                     \
    unsigned w = (which);                                                     \
    void *cb = al_standin_kept((uintptr_t)(h), &w, NULL);                     \
    struct al_slow s;                                                         \
    if (cb == NULL) {                                                         \
      lost(h);                                                                \
      return;                                                                 \
    }                                                                         \
    al_slow_begin(&s, (call), al_uv_shim_id,                                  \
                  (unsigned)((const uv_handle_t *)(h))->type, AL_RES_OPEN,    \
                  (uintptr_t)(h), cb);                                        \
    ((__typeof__(&fn))cb) args;                                               \
    al_slow_end(&s);                                                          \
  }

STANDIN(timer_standin, AL_UV_CB_MAIN, "uv_timer_start",
        (uv_timer_t * h), h, (h))
STANDIN(idle_standin, AL_UV_CB_MAIN, "uv_idle_start",
        (uv_idle_t * h), h, (h))
STANDIN(prepare_standin, AL_UV_CB_MAIN, "uv_prepare_start",
        (uv_prepare_t * h), h, (h))
STANDIN(check_standin, AL_UV_CB_MAIN, "uv_check_start",
        (uv_check_t * h), h, (h))
STANDIN(async_standin, AL_UV_CB_MAIN, "uv_async_init",
        (uv_async_t * h), h, (h))
STANDIN(poll_standin, AL_UV_CB_MAIN, "uv_poll_start",
        (uv_poll_t * h, int status, int events), h, (h, status, events))
STANDIN(signal_standin, AL_UV_CB_MAIN, "uv_signal_start",
        (uv_signal_t * h, int signum), h, (h, signum))
STANDIN(read_standin, AL_UV_CB_MAIN, "uv_read_start",
        (uv_stream_t * h, ssize_t nread, const uv_buf_t *buf), h,
        (h, nread, buf))
STANDIN(connection_standin, AL_UV_CB_LISTEN, "uv_listen",
        (uv_stream_t * h, int status), h, (h, status))
STANDIN(udp_recv_standin, AL_UV_CB_MAIN, "uv_udp_recv_start",
        (uv_udp_t * h, ssize_t nread, const uv_buf_t *buf,
         const struct sockaddr *addr, unsigned flags),
        h, (h, nread, buf, addr, flags))
STANDIN(fs_event_standin, AL_UV_CB_MAIN, "uv_fs_event_start",
        (uv_fs_event_t * h, const char *filename, int events, int status), h,
        (h, filename, events, status))
STANDIN(fs_poll_standin, AL_UV_CB_MAIN, "uv_fs_poll_start",
        (uv_fs_poll_t * h, int status, const uv_stat_t *prev,
         const uv_stat_t *curr),
        h, (h, status, prev, curr))

static void *const standins[AL_UV_CB_KINDS] = {
    [AL_UV_CB_TIMER] = (void *)timer_standin,
    [AL_UV_CB_IDLE] = (void *)idle_standin,
    [AL_UV_CB_PREPARE] = (void *)prepare_standin,
    [AL_UV_CB_CHECK] = (void *)check_standin,
    [AL_UV_CB_ASYNC] = (void *)async_standin,
    [AL_UV_CB_POLL] = (void *)poll_standin,
    [AL_UV_CB_SIGNAL] = (void *)signal_standin,
    [AL_UV_CB_READ] = (void *)read_standin,
    [AL_UV_CB_CONNECTION] = (void *)connection_standin,
    [AL_UV_CB_UDP_RECV] = (void *)udp_recv_standin,
    [AL_UV_CB_FS_EVENT] = (void *)fs_event_standin,
    [AL_UV_CB_FS_POLL] = (void *)fs_poll_standin,
};

void *al_uv_stand_in(enum al_uv_cb kind, const void *h, void *cb) {
  void *standin = standins[kind];
  unsigned which =
      kind == AL_UV_CB_CONNECTION ? AL_UV_CB_LISTEN : AL_UV_CB_MAIN;

  /* None (libuv refuses it), libuv's own, or already the stand-in (the
   * program passing back what it read from the handle). */
  if (cb == NULL || cb == standin || al_loopsyms_owns(&al_uv_lib, cb))
    return cb;
  return al_standin_keep((uintptr_t)h, which, cb) == 0 ? standin : cb;
}

/* ------------------------------------------------- stream requests */

static const char *stream_call(const uv_req_t *req) {
  const uv_connect_t *c = (const uv_connect_t *)req;

  switch (req->type) {
  case UV_WRITE:
    return ((const uv_write_t *)req)->send_handle != NULL ? "uv_write2"
                                                          : "uv_write";
  case UV_SHUTDOWN:
    return "uv_shutdown";
  case UV_CONNECT:
    return c->handle != NULL && c->handle->type == UV_NAMED_PIPE
               ? "uv_pipe_connect"
               : "uv_tcp_connect";
  default:
    return "a stream request";
  }
}

/* Times the function in slot for req. The request is read before the
 * call only: the callback may free it. */
static void req_stood_in(unsigned slot, uv_req_t *req, int status) {
  void (*cb)(uv_req_t *, int) =
      (void (*)(uv_req_t *, int))al_fn_slot_target(slot);
  struct al_slow s;

  al_slow_begin(&s, stream_call(req), al_uv_shim_id, (unsigned)req->type,
                AL_RES_PENDING, (uintptr_t)req, (void *)cb);
  cb(req, status);
  al_slow_end(&s);
}

#define REQ_STAND_IN(i)                                                       \
  static void req_stand_in_##i(uv_req_t *req, int status) {                  \
    req_stood_in(0x##i, req, status);                                         \
  }
AL_FN_SLOTS_EACH(REQ_STAND_IN)
#define REQ_ENTRY(i) (void *)req_stand_in_##i,
static void *const req_stand_ins[] = {AL_FN_SLOTS_EACH(REQ_ENTRY)};
_Static_assert(sizeof(req_stand_ins) / sizeof(req_stand_ins[0]) ==
                   AL_FN_SLOTS,
               "a stand-in per slot");

void *al_uv_req_stand_in(void *cb) {
  /* None (libuv's own requests carry one of libuv's), or libuv's. */
  if (cb == NULL || al_loopsyms_owns(&al_uv_lib, cb))
    return cb;
  return al_fn_stand_in(req_stand_ins, cb);
}
