/* What the libuv interposers share: libuv's real functions, found on
 * first use, and the per-thread count that tells the program's calls from
 * libuv's own. Private to shim/uv*.c. */
#ifndef ASYNCLEAK_UV_SHIM_H_
#define ASYNCLEAK_UV_SHIM_H_

#include <errno.h>
#include <stdatomic.h>
#include <stdint.h>
#include <uv.h>

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
  X(uv_fs_event_init) X(uv_spawn) X(uv_close) X(uv_tcp_close_reset)

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
  X(uv_timer_start) X(uv_timer_stop) X(uv_hrtime) X(uv_update_time)           \
  X(uv_stop) X(uv_async_send) X(uv_unref) X(uv_cancel) X(uv_is_active)      \
  X(uv_idle_stop) X(uv_prepare_stop) X(uv_check_stop)

enum {
#define X(name) F_##name,
  UV_FUNCS(X) UV_REQ_FUNCS(X) UV_USED(X)
#undef X
  F_COUNT
};

extern _Atomic(void *) al_uv_real[F_COUNT];
/* Finds libuv's function number i; never our own (self). NULL, with a
 * warning once, when libuv has none. */
void *al_uv_resolve(int i, void *self);

static inline void *al_uv_real_fn(int i, void *self) {
  void *p = atomic_load_explicit(&al_uv_real[i], memory_order_acquire);
  return AL_LIKELY(p != NULL) ? p : al_uv_resolve(i, self);
}

#define REAL(name) ((__typeof__(&name))al_uv_real_fn(F_##name, (void *)&name))
/* For functions the runtime does not define: typeof takes no address. */
#define USE(name) ((__typeof__(&name))al_uv_real_fn(F_##name, NULL))

/* ------------------------------------------------------------ the shim */

/* Our index among the loop libraries. */
extern uint8_t al_uv_shim_id;
/* How many interposers are on this thread's stack: a call arriving while
 * another interposer is on it is libuv's own. */
extern AL_TLS unsigned al_uv_depth;

void al_uv_shim_init(void);
extern atomic_int al_uv_shim_ready;

static inline void al_uv_shim_ensure(void) {
  if (AL_UNLIKELY(!atomic_load_explicit(&al_uv_shim_ready,
                                        memory_order_acquire))) {
    int saved = errno;
    al_uv_shim_init();
    errno = saved;
  }
}

/* Where libuv's code lies, once a real function has been found: a call
 * from there is libuv's own. */
extern _Atomic uintptr_t al_uv_text_lo, al_uv_text_hi;

static inline int al_uv_from_libuv(uintptr_t pc) {
  uintptr_t lo = atomic_load_explicit(&al_uv_text_lo, memory_order_relaxed);
  /* Not known: as before, a nested call is taken for libuv's. */
  return lo == 0 ||
         (pc >= lo &&
          pc < atomic_load_explicit(&al_uv_text_hi, memory_order_relaxed));
}

/* The handle of the program's call this thread is in. */
extern AL_TLS const void *al_uv_outer_obj;

/* Enters an interposer; returns 1 when the program called it directly.
 * Another interposer on the thread's stack means libuv's own call. */
static inline int al_uv_enter(void) {
  al_uv_shim_ensure();
  return al_uv_depth++ == 0;
}

/* The same, for a call about handle obj. A nested call about another
 * handle, from outside libuv, is a signal handler's that interrupted the
 * program's call: the program's own. (libuv reaches some of its functions
 * by a tail call, which leaves the program's return address: the handle is
 * then the same.) */
static inline int al_uv_enter_from(const void *caller, const void *obj) {
  al_uv_shim_ensure();
  if (al_uv_depth++ == 0) {
    al_uv_outer_obj = obj;
    return 1;
  }
  return obj != al_uv_outer_obj && !al_uv_from_libuv((uintptr_t)caller);
}
#define al_uv_enter_obj(obj) \
  al_uv_enter_from(__builtin_return_address(0), (obj))

static inline void al_uv_leave(void) {
  al_uv_depth--;
}

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
