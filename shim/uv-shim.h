/* What the libuv interposers share: libuv's description for the core,
 * which finds its real functions on first use and tells the program's
 * calls from libuv's own. Private to shim/uv*.c. */
#ifndef ASYNCLEAK_UV_SHIM_H_
#define ASYNCLEAK_UV_SHIM_H_

#include <errno.h>
#include <stdatomic.h>
#include <stdint.h>
#include <uv.h>

#include "calls.h"
#include "internal.h"

/* libuv's private handle flags (src/uv-common.h), stable across 1.x. They
 * are read only to describe a handle in the report. */
enum {
  UV__CLOSING = 0x01,
  UV__CLOSED = 0x02,
  UV__ACTIVE = 0x04,
  UV__REF = 0x08,
  UV__INTERNAL = 0x10,
};

/* ---------------------------------------------------------- real functions */

#define UV_FUNCS(X)                                                           \
  X(uv_loop_init) X(uv_loop_new) X(uv_default_loop) X(uv_run)                 \
  X(uv_loop_close) X(uv_loop_delete) X(uv_tcp_init) X(uv_tcp_init_ex)         \
  X(uv_udp_init) X(uv_udp_init_ex) X(uv_tty_init) X(uv_pipe_init)             \
  X(uv_poll_init) X(uv_poll_init_socket) X(uv_prepare_init)                   \
  X(uv_check_init) X(uv_idle_init) X(uv_async_init) X(uv_timer_init)          \
  X(uv_fs_poll_init) X(uv_fs_poll_start) X(uv_signal_init)                    \
  X(uv_fs_event_init) X(uv_spawn) X(uv_close) X(uv_tcp_close_reset)        \
  X(uv_loop_fork)

/* The starts the use-after-close check follows, in shim/uv-closed.c. */
#define UV_START_FUNCS(X)                                                     \
  X(uv_timer_start) X(uv_timer_again) X(uv_idle_start) X(uv_prepare_start)    \
  X(uv_check_start) X(uv_poll_start) X(uv_poll_stop) X(uv_signal_start)       \
  X(uv_signal_start_oneshot) X(uv_read_start) X(uv_listen)                    \
  X(uv_udp_recv_start) X(uv_fs_event_start)

/* The stops the wrong-thread check follows, in shim/uv-closed.c. */
#define UV_STOP_FUNCS(X)                                                      \
  X(uv_timer_stop) X(uv_idle_stop) X(uv_prepare_stop) X(uv_check_stop)       \
  X(uv_signal_stop) X(uv_read_stop) X(uv_udp_recv_stop) X(uv_fs_event_stop)  \
  X(uv_fs_poll_stop)

/* Requests, in shim/uv-req.c. */
#define UV_REQ_FUNCS(X)                                                       \
  X(uv_write) X(uv_write2) X(uv_shutdown) X(uv_tcp_connect)                   \
  X(uv_pipe_connect) X(uv_udp_send) X(uv_getaddrinfo) X(uv_getnameinfo)       \
  X(uv_queue_work) X(uv_random) UV_FS_FUNCS(X)

#define UV_FS_FUNCS(X)                                                        \
  X(uv_fs_close) X(uv_fs_open) X(uv_fs_read) X(uv_fs_unlink) X(uv_fs_write)   \
  X(uv_fs_copyfile) X(uv_fs_mkdir) X(uv_fs_mkdtemp) X(uv_fs_mkstemp)          \
  X(uv_fs_rmdir) X(uv_fs_scandir) X(uv_fs_opendir) X(uv_fs_readdir)           \
  X(uv_fs_closedir) X(uv_fs_stat) X(uv_fs_fstat) X(uv_fs_rename)              \
  X(uv_fs_fsync) X(uv_fs_fdatasync) X(uv_fs_ftruncate) X(uv_fs_sendfile)      \
  X(uv_fs_access) X(uv_fs_chmod) X(uv_fs_utime) X(uv_fs_futime)               \
  X(uv_fs_lutime) X(uv_fs_lstat) X(uv_fs_link) X(uv_fs_symlink)               \
  X(uv_fs_readlink) X(uv_fs_realpath) X(uv_fs_fchmod) X(uv_fs_chown)          \
  X(uv_fs_fchown) X(uv_fs_lchown) X(uv_fs_statfs)

/* Called by the runtime, never interposed. */
#define UV_USED(X)                                                            \
  X(uv_hrtime) X(uv_update_time) X(uv_stop) X(uv_unref) X(uv_cancel)          \
  X(uv_is_active)

enum {
#define X(name) F_##name,
  UV_FUNCS(X) UV_START_FUNCS(X) UV_STOP_FUNCS(X) UV_REQ_FUNCS(X) UV_USED(X)
#undef X
  F_COUNT
};

/* libuv as the core knows it: where its functions are, and its code. */
extern struct al_loopsyms al_uv_lib;

#define REAL(name)                                                            \
  ((__typeof__(&name))al_loopsyms_get(&al_uv_lib, F_##name, (void *)&name))
/* For functions the runtime does not define: typeof takes no address. */
#define USE(name) ((__typeof__(&name))al_loopsyms_get(&al_uv_lib, F_##name, NULL))

/* ------------------------------------------------------------ the shim */

/* Our index among the loop libraries. */
extern uint8_t al_uv_shim_id;

/* This thread's interposers on its stack (lib/calls.h). */
extern AL_TLS struct al_calls al_uv_calls;

static inline void al_uv_shim_ensure(void) {
  al_loopsyms_ensure(&al_uv_lib);
}

/* Enters an interposer; returns 1 when the program called it directly. */
static inline int al_uv_enter(void) {
  return al_call_enter(&al_uv_calls, &al_uv_lib, NULL, NULL);
}

/* The same, for a call about handle obj, judged also by where it came
 * from (a signal handler's call about another handle is the program's). */
#define al_uv_enter_obj(obj)                                                  \
  al_call_enter(&al_uv_calls, &al_uv_lib, __builtin_return_address(0), (obj))

static inline void al_uv_leave(void) {
  al_call_leave(&al_uv_calls);
}

/* The use-after-close check (check_closes), of the program's call named
 * call about h, made before libuv gets it: a finding when h's close was
 * asked for already. closes: the call closes h, and when it is a first
 * close, its stack is kept for the findings to come. */
void al_uv_close_check(const char *call, const uv_handle_t *h, int closes);

/* The wrong-thread check (check_threads), of the program's call named
 * call on loop, or on a handle (type) or request (request set) of it. Of
 * libuv, only uv_async_send is documented as safe from any thread, and the
 * runtime does not interpose it; the synchronous forms of the fs, DNS and
 * random calls (no callback) never touch the loop and are not checked. */
#define AL_UV_THREAD_CHECK(call, loop, type, request)                         \
  do {                                                                        \
    if (AL_UNLIKELY(al_opt.check_threads))                                    \
      al_thread_check(al_uv_shim_id, (uintptr_t)(loop), call, (type),         \
                      (request));                                             \
  } while (0)

/* The slow-callback check (shim/uv-slow.c): the handle callbacks a start
 * call may stand in for, and which of a handle's callbacks each is in the
 * table of the program's callbacks (a stream has two). */
enum al_uv_cb {
  AL_UV_CB_TIMER, AL_UV_CB_IDLE, AL_UV_CB_PREPARE, AL_UV_CB_CHECK,
  AL_UV_CB_ASYNC, AL_UV_CB_POLL, AL_UV_CB_SIGNAL, AL_UV_CB_READ,
  AL_UV_CB_CONNECTION, AL_UV_CB_UDP_RECV, AL_UV_CB_FS_EVENT,
  AL_UV_CB_FS_POLL, AL_UV_CB_KINDS
};
enum { AL_UV_CB_MAIN, AL_UV_CB_LISTEN };

/* The callback to hand libuv for the program's cb of handle h, started
 * by the program while slow_callback_ms is on: the runtime's stand-in,
 * which times cb, or cb itself when it is not to be timed. */
void *al_uv_stand_in(enum al_uv_cb kind, const void *h, void *cb);
/* The same for the callback of a stream request (uv_write, uv_write2,
 * uv_shutdown, uv_tcp_connect, uv_pipe_connect), which libuv calls as
 * cb(req, status) from the request's public field. */
void *al_uv_req_stand_in(void *cb);

/* Names of handle types and request types. */
const char *al_uv_type_name(unsigned type);
const char *al_uv_req_type_name(unsigned type);

/* ------------------------------------------------------------ requests */

/* The report's view of a pending request, and its details. */
void al_uv_req_probe(const struct al_res *r, struct al_state *st);
void al_uv_req_describe(const struct al_res *r, char *buf, size_t len);
int al_uv_req_cancel(uintptr_t addr);
/* Which of a stream's requests it still holds (al_shim.req_pending). */
void al_uv_req_pending(uintptr_t handle, const struct al_res *const *reqs,
                       size_t n, int live, unsigned char *pending);

#endif /* ASYNCLEAK_UV_SHIM_H_ */
