/* The libuv request interposers: every request the program starts is
 * followed until libuv completes it.
 *
 * The program's callback stays in its request's callback field for as
 * long as the request is pending: programs read that field (to tell
 * requests apart, or to compare), and must find there what they put.
 * The one exception is the slow-callback check, asked for: a stream
 * request's field then holds a stand-in that times the program's
 * callback (shim/uv-slow.c).
 * asyncleak learns of the completion another way, which depends on how
 * libuv completes the request:
 *
 * - Thread-pool requests (fs calls, getaddrinfo, getnameinfo, work,
 *   random) end in the done function of the work item libuv keeps inside
 *   the request (work_req.done, a private field), which libuv calls on
 *   the loop's thread before it calls the program's callback. Once the
 *   real call has queued the work, the interposer records the request and
 *   puts a trampoline in that private field; the trampoline forgets the
 *   request and hands over to libuv's done function, which calls the
 *   program's callback from its own field. A libuv that completes an fs
 *   call without its thread pool (io_uring, libuv 1.45 and later) leaves
 *   no done function: such a request gets the callback trampoline below.
 *
 * - A UDP send keeps its callback in a private field on Unix (send_cb);
 *   the trampoline goes there, and the public field is left alone.
 *
 * - Stream requests (write, shutdown, connect) are completed by libuv
 *   through the public callback field alone, and their memory is often
 *   freed or reused by the program in that callback, so that the request
 *   cannot tell afterwards that it completed. Their stream can: libuv
 *   keeps a pending connect in the stream's connect_req, a pending
 *   shutdown in its shutdown_req, and a pending write linked in its
 *   write_queue or write_completed_queue (private fields, stable across
 *   libuv 1.x), and lets go of each before it calls the callback. The
 *   program's callback goes to libuv as it is; once the call has
 *   returned, the request is recorded on its stream (al_req_start_on),
 *   and the registry asks al_uv_req_pending whenever it needs to know
 *   whether the request is still pending. A stream whose close completed
 *   holds nothing: libuv called its requests back, cancelled, as it
 *   destroyed it. A request on a stream the runtime does not know (one
 *   made before the runtime was there to see it) is not followed.
 *
 * A request started without a callback is followed too when libuv still
 * completes it later (writes, connects, work); an fs, getaddrinfo,
 * getnameinfo or random call without one is synchronous and never
 * pending. libuv's own requests (uv_fs_poll's stat) carry a callback of
 * libuv's and are left alone. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "uv-shim.h"

/* ------------------------------------------------------------ libuv's own */

/* Whether cb is code of libuv's: then the request is libuv's own. */
static int libuv_own(void *cb) {
  return al_loopsyms_owns(&al_uv_lib, cb);
}

/* ------------------------------------------------------------- following */

enum { ASYNC_ALWAYS = 0, SYNC_WITHOUT_CB = 1 };

/* Whether a request the program started with callback cb is to be
 * followed: a call of the program's own (outer) that libuv completes
 * later, with a callback that is not libuv's. */
static int wanted(int outer, void *cb, int sync) {
  if (!outer || (cb == NULL && sync == SYNC_WITHOUT_CB) ||
      (cb != NULL && libuv_own(cb)))
    return 0;
  if (AL_UNLIKELY(al_locks_held != 0)) {
    al_defer_missed(); /* a signal handler's, inside the runtime */
    return 0;
  }
  return 1;
}

/* Records a request that completes through its callback field, before
 * the real call. Returns the callback to hand libuv: the trampoline when
 * followed, which *followed says. */
static void *follow(int outer, uv_loop_t *loop, void *req, unsigned type,
                    void *cb, void *trampoline, int sync, int *followed) {
  int saved;

  *followed = 0;
  if (!wanted(outer, cb, sync))
    return cb;
  saved = errno;
  *followed = al_req_start(al_uv_shim_id, (uintptr_t)req, type,
                           (uintptr_t)loop, cb, al_stack_capture()) == 0;
  errno = saved;
  return *followed ? trampoline : cb;
}

/* On leaving: a call that failed never calls back. */
static void finish(int followed, void *req, int rc) {
  al_uv_leave();
  if (followed && rc < 0) {
    int saved = errno;
    void *cb;
    al_req_done((uintptr_t)req, &cb);
    errno = saved;
  }
}

/* The request's callback came: forgets the request and finds the
 * program's callback. 0 when the request was never seen, which cannot
 * happen while the trampoline is only handed out for recorded requests;
 * the callback is then lost, and said so. */
static int completed(void *req, void **cb) {
  int saved = errno;
  int found = al_req_done((uintptr_t)req, cb);

  errno = saved;
  if (!found)
    al_warn("lost track of request %p; its callback is skipped", req);
  return found;
}

/* ---------------------------------------------------- thread-pool work */

typedef void (*work_done_fn)(struct uv__work *w, int status);

enum { POOL_FS, POOL_GETADDRINFO, POOL_GETNAMEINFO, POOL_WORK, POOL_RANDOM,
       POOL_KINDS };

/* libuv's done function for each kind of thread-pool request, the same
 * for every request of the kind: stored before any trampoline is handed
 * out, so that libuv's part of a completion runs even when the request's
 * record is gone. */
static _Atomic(work_done_fn) pool_real_done[POOL_KINDS];

/* After the real call: when libuv queued req's work item w on its thread
 * pool, records the request with libuv's done function and puts the
 * trampoline in the work item. libuv calls done functions on the loop's
 * thread, from uv_run, and requests are started on that thread too (libuv
 * requires it): the work item cannot complete before the trampoline is in.
 * Returns 0 when no work was queued (an fs call libuv completes through
 * io_uring): then nothing was done. */
static int pool_follow(uv_loop_t *loop, void *req, unsigned type,
                       struct uv__work *w, int kind, work_done_fn trampoline) {
  work_done_fn done = w->done;
  int saved;

  if (done == NULL || !libuv_own((void *)done))
    return 0;
  atomic_store_explicit(&pool_real_done[kind], done, memory_order_release);
  saved = errno;
  if (al_req_start(al_uv_shim_id, (uintptr_t)req, type, (uintptr_t)loop,
                   (void *)done, al_stack_capture()) == 0)
    w->done = trampoline;
  errno = saved;
  return 1;
}

/* Before an fs call: no done function from the request's last use. */
static void pool_clear(struct uv__work *w) {
  w->done = NULL;
}

/* The work item of req is done: forgets req, puts libuv's done function
 * back and returns it. libuv's function then completes the request and
 * calls the program's callback, from the program's own field. */
static work_done_fn pool_completed(void *req, struct uv__work *w, int kind) {
  int saved = errno;
  void *done = NULL;

  if (!al_req_done((uintptr_t)req, &done) || done == NULL)
    done = (void *)atomic_load_explicit(&pool_real_done[kind],
                                        memory_order_acquire);
  errno = saved;
  if (done == NULL)
    abort(); /* a trampoline is never handed out before the store */
  w->done = (work_done_fn)done;
  return w->done;
}

static const char *fs_name(uv_fs_type t);

/* The program's callback of a thread-pool request is called by libuv's
 * done function: with slow_callback_ms on, the two are timed together,
 * which is the program's callback and a few instructions of libuv's. The
 * request's creation stack is taken before, while it is recorded. */
#define POOL_DONE(fn, req_t, kind, type, call, cb)                            \
  static void fn(struct uv__work *w, int status) {                            \
    req_t *req = (req_t *)(void *)((char *)w - offsetof(req_t, work_req));    \
    struct al_slow slow;                                                      \
    if (AL_LIKELY(al_opt.slow_callback_ms <= 0)) {                            \
      pool_completed(req, w, kind)(w, status);                                \
      return;                                                                 \
    }                                                                         \
    al_slow_begin(&slow, (call), al_uv_shim_id, (type), AL_RES_PENDING,       \
                  (uintptr_t)req, (void *)req->cb);                           \
    pool_completed(req, w, kind)(w, status);                                  \
    al_slow_end(&slow);                                                       \
  }

POOL_DONE(fs_work_done, uv_fs_t, POOL_FS, UV_FS, fs_name(req->fs_type), cb)
POOL_DONE(getaddrinfo_work_done, uv_getaddrinfo_t, POOL_GETADDRINFO,
          UV_GETADDRINFO, "uv_getaddrinfo", cb)
POOL_DONE(getnameinfo_work_done, uv_getnameinfo_t, POOL_GETNAMEINFO,
          UV_GETNAMEINFO, "uv_getnameinfo", getnameinfo_cb)
POOL_DONE(work_work_done, uv_work_t, POOL_WORK, UV_WORK, "uv_queue_work",
          after_work_cb)
POOL_DONE(random_work_done, uv_random_t, POOL_RANDOM, UV_RANDOM, "uv_random",
          cb)

/* ------------------------------------------------------------ trampolines */

/* A UDP send's callback, from the private field libuv keeps it in on
 * Unix (send_cb): the public one is left alone. */
static void send_done(uv_udp_send_t *req, int status) {
  struct al_slow slow = {.start = 0};
  void *cb;

  if (AL_UNLIKELY(al_opt.slow_callback_ms > 0))
    al_slow_begin(&slow, "uv_udp_send", al_uv_shim_id, UV_UDP_SEND,
                  AL_RES_PENDING, (uintptr_t)req, NULL);
  if (!completed(req, &cb))
    return;
  req->send_cb = (uv_udp_send_cb)cb;
  if (cb != NULL) {
    slow.fn = cb;
    ((uv_udp_send_cb)cb)(req, status);
    al_slow_end(&slow);
  }
}

/* An fs call libuv completes without its thread pool calls req->cb. */
static void fs_done(uv_fs_t *req) {
  struct al_slow slow = {.start = 0};
  void *cb;

  if (AL_UNLIKELY(al_opt.slow_callback_ms > 0))
    al_slow_begin(&slow, fs_name(req->fs_type), al_uv_shim_id, UV_FS,
                  AL_RES_PENDING, (uintptr_t)req, NULL);
  if (!completed(req, &cb))
    return;
  req->cb = (uv_fs_cb)cb;
  slow.fn = cb;
  ((uv_fs_cb)cb)(req);
  al_slow_end(&slow);
}

/* An fs call that libuv did not queue on its thread pool: the callback
 * trampoline goes into req->cb, once the call returned. */
static void fs_follow_cb(uv_loop_t *loop, uv_fs_t *req, uv_fs_cb cb) {
  int saved = errno;

  if (al_req_start(al_uv_shim_id, (uintptr_t)req, UV_FS, (uintptr_t)loop,
                   (void *)cb, al_stack_capture()) == 0)
    req->cb = fs_done;
  errno = saved;
}

/* ----------------------------------------------------------- interposers */

/* One interposer: `loop` and `req` name the parameters holding them, cb
 * the program's callback, cb_t its type; the call passes CB where the
 * callback goes. */
#define REQUEST(name, params, loop, req, type, cb, cb_t, done, sync, call)    \
  AL_EXPORT int name params {                                                 \
    __typeof__(&name) real = REAL(name);                                      \
    int outer, followed, rc;                                                  \
    cb_t CB;                                                                  \
    if (real == NULL)                                                         \
      return UV_ENOSYS;                                                       \
    outer = al_uv_enter();                                                    \
    if (outer)                                                                \
      AL_UV_THREAD_CHECK(#name, loop, type, 1);                               \
    CB = (cb_t)follow(outer, loop, req, type, (void *)cb, (void *)done, sync, \
                      &followed);                                             \
    rc = real call;                                                           \
    finish(followed, req, rc);                                                \
    return rc;                                                                \
  }

REQUEST(uv_udp_send,
        (uv_udp_send_t * req, uv_udp_t *h, const uv_buf_t bufs[],
         unsigned int nbufs, const struct sockaddr *addr, uv_udp_send_cb cb),
        h->loop, req, UV_UDP_SEND, cb, uv_udp_send_cb, send_done,
        ASYNC_ALWAYS, (req, h, bufs, nbufs, addr, CB))

/* ------------------------------------------------------ stream requests */

/* Whether this libuv keeps stream requests where al_uv_req_pending looks
 * for them: asked of the first request recorded, once. */
enum { LAYOUT_UNKNOWN, LAYOUT_KNOWN, LAYOUT_OTHER };
static atomic_int stream_layout;

static int layout_holds(void *req, unsigned type, uv_stream_t *h) {
  struct al_res r = {0};
  const struct al_res *p = &r;
  unsigned char pending = 0;

  r.addr = (uintptr_t)req;
  r.type = type;
  /* Read with care: what this libuv keeps there is not known yet. */
  al_uv_req_pending((uintptr_t)h, &p, 1, 0, &pending);
  return pending;
}

/* After a stream request the program started with callback cb: records
 * it on its stream when libuv took it (ok). */
static void stream_follow(int outer, int ok, void *req, unsigned type,
                          uv_stream_t *h, void *cb) {
  int saved, layout;

  if (!ok || !wanted(outer, cb, ASYNC_ALWAYS))
    return;
  layout = atomic_load_explicit(&stream_layout, memory_order_relaxed);
  if (layout == LAYOUT_OTHER)
    return;
  saved = errno;
  if (layout == LAYOUT_UNKNOWN) {
    layout = layout_holds(req, type, h) ? LAYOUT_KNOWN : LAYOUT_OTHER;
    if (layout == LAYOUT_OTHER)
      al_warn("this libuv keeps stream requests where asyncleak does not "
              "look; writes, shutdowns and connects are not followed");
    atomic_store_explicit(&stream_layout, layout, memory_order_relaxed);
  }
  if (layout == LAYOUT_KNOWN)
    (void)al_req_start_on(al_uv_shim_id, (uintptr_t)req, type,
                          (uintptr_t)h->loop, (uintptr_t)h,
                          al_stack_capture());
  errno = saved;
}

/* One interposer: the program's callback cb goes to libuv unchanged,
 * unless the slow-callback check is on (shim/uv-slow.c). */
#define STREAM_REQUEST(name, params, req, type, h, cb, call)                  \
  AL_EXPORT int name params {                                                 \
    __typeof__(&name) real = REAL(name);                                      \
    void *program_cb = (void *)cb;                                            \
    int outer, rc;                                                            \
    if (real == NULL)                                                         \
      return UV_ENOSYS;                                                       \
    outer = al_uv_enter();                                                    \
    if (outer && AL_UNLIKELY(al_opt.check_closes))                            \
      al_uv_close_check(#name, (const uv_handle_t *)(h), 0);                  \
    if (outer)                                                                \
      AL_UV_THREAD_CHECK(#name, (h)->loop, type, 1);                          \
    if (outer && AL_UNLIKELY(al_opt.slow_callback_ms > 0))                    \
      cb = (__typeof__(cb))al_uv_req_stand_in(program_cb);                    \
    rc = real call;                                                           \
    stream_follow(outer, rc >= 0, req, type, (uv_stream_t *)(h), program_cb); \
    al_uv_leave();                                                            \
    return rc;                                                                \
  }

STREAM_REQUEST(uv_write,
               (uv_write_t * req, uv_stream_t *h, const uv_buf_t bufs[],
                unsigned int nbufs, uv_write_cb cb),
               req, UV_WRITE, h, cb, (req, h, bufs, nbufs, cb))
STREAM_REQUEST(uv_write2,
               (uv_write_t * req, uv_stream_t *h, const uv_buf_t bufs[],
                unsigned int nbufs, uv_stream_t *send_handle, uv_write_cb cb),
               req, UV_WRITE, h, cb, (req, h, bufs, nbufs, send_handle, cb))
STREAM_REQUEST(uv_shutdown,
               (uv_shutdown_t * req, uv_stream_t *h, uv_shutdown_cb cb), req,
               UV_SHUTDOWN, h, cb, (req, h, cb))
STREAM_REQUEST(uv_tcp_connect,
               (uv_connect_t * req, uv_tcp_t *h, const struct sockaddr *addr,
                uv_connect_cb cb),
               req, UV_CONNECT, h, cb, (req, h, addr, cb))

/* It returns nothing: a failure comes through the callback, and the
 * request is pending until then. */
AL_EXPORT void uv_pipe_connect(uv_connect_t *req, uv_pipe_t *h,
                               const char *name, uv_connect_cb cb) {
  __typeof__(&uv_pipe_connect) real = REAL(uv_pipe_connect);
  int outer;

  if (real == NULL)
    return;
  outer = al_uv_enter();
  if (outer)
    AL_UV_THREAD_CHECK("uv_pipe_connect", h->loop, UV_CONNECT, 1);
  real(req, h, name,
       outer && AL_UNLIKELY(al_opt.slow_callback_ms > 0)
           ? (uv_connect_cb)al_uv_req_stand_in((void *)cb)
           : cb);
  stream_follow(outer, 1, req, UV_CONNECT, (uv_stream_t *)h, (void *)cb);
  al_uv_leave();
}

/* Most nodes a stream's write queue is followed through: far more than a
 * program queues, and a bound should the list be broken. */
#define WALK_MAX (1u << 20)

/* Reads len bytes at addr: directly when the memory is known sound. */
static int peek(void *dst, const void *addr, size_t len, int live) {
  if (live) {
    memcpy(dst, addr, len);
    return 0;
  }
  return al_safe_read(dst, addr, len);
}

/* Marks pending every write of reqs[0..n) (sorted by address) at addr. */
static void mark_write(const struct al_res *const *reqs, size_t n,
                       uintptr_t addr, unsigned char *pending) {
  size_t lo = 0, hi = n;

  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (reqs[mid]->addr < addr)
      lo = mid + 1;
    else
      hi = mid;
  }
  for (; lo < n && reqs[lo]->addr == addr; lo++)
    if (reqs[lo]->type == UV_WRITE)
      pending[lo] = 1;
}

/* Walks a stream's write queue, whose head is at head and whose first
 * link is first, marking the writes of reqs found in it: 0, or -1 when it
 * could not be followed to its end. */
static int walk_writes(uintptr_t head, void *const first[2],
                       const struct al_res *const *reqs, size_t n, int live,
                       unsigned char *pending) {
  void *q = first[0];

  for (unsigned steps = 0; (uintptr_t)q != head; steps++) {
    void *node[2];
    if (q == NULL || steps == WALK_MAX || peek(node, q, sizeof(node), live))
      return -1;
    mark_write(reqs, n, (uintptr_t)q - offsetof(uv_write_t, queue), pending);
    q = node[0];
  }
  return 0;
}

void al_uv_req_pending(uintptr_t handle, const struct al_res *const *reqs,
                       size_t n, int live, unsigned char *pending) {
  uv_stream_t s;
  int writes = 0;

  if (peek(&s, (const void *)handle, sizeof(s), live) != 0)
    return; /* unreadable: nothing can be told, and all stay pending */
  for (size_t i = 0; i < n; i++) {
    uintptr_t addr = reqs[i]->addr;
    switch (reqs[i]->type) {
    case UV_CONNECT:
      pending[i] = (uintptr_t)s.connect_req == addr;
      break;
    case UV_SHUTDOWN:
      pending[i] = (uintptr_t)s.shutdown_req == addr;
      break;
    case UV_WRITE:
      pending[i] = 0;
      writes = 1;
      break;
    default:
      break;
    }
  }
  if (writes &&
      (walk_writes(handle + offsetof(uv_stream_t, write_queue), s.write_queue,
                   reqs, n, live, pending) != 0 ||
       walk_writes(handle + offsetof(uv_stream_t, write_completed_queue),
                   s.write_completed_queue, reqs, n, live, pending) != 0))
    for (size_t i = 0; i < n; i++)
      if (reqs[i]->type == UV_WRITE)
        pending[i] = 1; /* a queue not followed to its end */
}

/* A thread-pool request: the program's callback goes to libuv as it is,
 * and the request is followed through its work item once queued. `fs`
 * says whether the call may complete without the thread pool. */
#define POOL(name, params, loop, req, type, cb, kind, done, sync, fs, call)   \
  AL_EXPORT int name params {                                                 \
    __typeof__(&name) real = REAL(name);                                      \
    int outer, rc;                                                            \
    if (real == NULL)                                                         \
      return UV_ENOSYS;                                                       \
    outer = al_uv_enter();                                                    \
    /* Synchronous without a callback: the loop is not touched. */           \
    if (outer && (cb) != NULL)                                                \
      AL_UV_THREAD_CHECK(#name, loop, type, 1);                               \
    /* libuv's fs calls leave work_req as it was: a request used again */    \
    /* still holds the done function of its last thread-pool call, which */  \
    /* an io_uring completion (libuv 1.45+) must not be taken for. */        \
    if (fs)                                                                   \
      pool_clear(&(req)->work_req);                                           \
    rc = real call;                                                           \
    if (rc >= 0 && wanted(outer, (void *)cb, sync) &&                         \
        !pool_follow(loop, req, type, &(req)->work_req, kind, done) && fs)    \
      fs_follow_cb(loop, (uv_fs_t *)(void *)(req), (uv_fs_cb)(void *)cb);     \
    al_uv_leave();                                                            \
    return rc;                                                                \
  }

POOL(uv_queue_work,
     (uv_loop_t * loop, uv_work_t *req, uv_work_cb work_cb,
      uv_after_work_cb cb),
     loop, req, UV_WORK, cb, POOL_WORK, work_work_done, ASYNC_ALWAYS, 0,
     (loop, req, work_cb, cb))
POOL(uv_getaddrinfo,
     (uv_loop_t * loop, uv_getaddrinfo_t *req, uv_getaddrinfo_cb cb,
      const char *node, const char *service, const struct addrinfo *hints),
     loop, req, UV_GETADDRINFO, cb, POOL_GETADDRINFO, getaddrinfo_work_done,
     SYNC_WITHOUT_CB, 0, (loop, req, cb, node, service, hints))
POOL(uv_getnameinfo,
     (uv_loop_t * loop, uv_getnameinfo_t *req, uv_getnameinfo_cb cb,
      const struct sockaddr *addr, int flags),
     loop, req, UV_GETNAMEINFO, cb, POOL_GETNAMEINFO, getnameinfo_work_done,
     SYNC_WITHOUT_CB, 0, (loop, req, cb, addr, flags))
POOL(uv_random,
     (uv_loop_t * loop, uv_random_t *req, void *buf, size_t buflen,
      unsigned int flags, uv_random_cb cb),
     loop, req, UV_RANDOM, cb, POOL_RANDOM, random_work_done, SYNC_WITHOUT_CB,
     0, (loop, req, buf, buflen, flags, cb))

/* The fs calls: (loop, req, ..., cb), synchronous without a callback. */
#define FS(name, params, ...)                                                 \
  POOL(name, params, loop, req, UV_FS, cb, POOL_FS, fs_work_done,             \
       SYNC_WITHOUT_CB, 1, (loop, req, __VA_ARGS__, cb))
#define FS_PARAMS(...) (uv_loop_t * loop, uv_fs_t * req, __VA_ARGS__, uv_fs_cb cb)

FS(uv_fs_close, FS_PARAMS(uv_file file), file)
FS(uv_fs_open, FS_PARAMS(const char *path, int flags, int mode), path, flags,
   mode)
FS(uv_fs_read,
   FS_PARAMS(uv_file file, const uv_buf_t bufs[], unsigned int nbufs,
             int64_t offset),
   file, bufs, nbufs, offset)
FS(uv_fs_unlink, FS_PARAMS(const char *path), path)
FS(uv_fs_write,
   FS_PARAMS(uv_file file, const uv_buf_t bufs[], unsigned int nbufs,
             int64_t offset),
   file, bufs, nbufs, offset)
FS(uv_fs_copyfile, FS_PARAMS(const char *path, const char *new_path, int flags),
   path, new_path, flags)
FS(uv_fs_mkdir, FS_PARAMS(const char *path, int mode), path, mode)
FS(uv_fs_mkdtemp, FS_PARAMS(const char *tpl), tpl)
FS(uv_fs_mkstemp, FS_PARAMS(const char *tpl), tpl)
FS(uv_fs_rmdir, FS_PARAMS(const char *path), path)
FS(uv_fs_scandir, FS_PARAMS(const char *path, int flags), path, flags)
FS(uv_fs_opendir, FS_PARAMS(const char *path), path)
FS(uv_fs_readdir, FS_PARAMS(uv_dir_t *dir), dir)
FS(uv_fs_closedir, FS_PARAMS(uv_dir_t *dir), dir)
FS(uv_fs_stat, FS_PARAMS(const char *path), path)
FS(uv_fs_fstat, FS_PARAMS(uv_file file), file)
FS(uv_fs_rename, FS_PARAMS(const char *path, const char *new_path), path,
   new_path)
FS(uv_fs_fsync, FS_PARAMS(uv_file file), file)
FS(uv_fs_fdatasync, FS_PARAMS(uv_file file), file)
FS(uv_fs_ftruncate, FS_PARAMS(uv_file file, int64_t offset), file, offset)
FS(uv_fs_sendfile,
   FS_PARAMS(uv_file out_fd, uv_file in_fd, int64_t in_offset, size_t length),
   out_fd, in_fd, in_offset, length)
FS(uv_fs_access, FS_PARAMS(const char *path, int mode), path, mode)
FS(uv_fs_chmod, FS_PARAMS(const char *path, int mode), path, mode)
FS(uv_fs_utime, FS_PARAMS(const char *path, double atime, double mtime), path,
   atime, mtime)
FS(uv_fs_futime, FS_PARAMS(uv_file file, double atime, double mtime), file,
   atime, mtime)
FS(uv_fs_lutime, FS_PARAMS(const char *path, double atime, double mtime), path,
   atime, mtime)
FS(uv_fs_lstat, FS_PARAMS(const char *path), path)
FS(uv_fs_link, FS_PARAMS(const char *path, const char *new_path), path,
   new_path)
FS(uv_fs_symlink, FS_PARAMS(const char *path, const char *new_path, int flags),
   path, new_path, flags)
FS(uv_fs_readlink, FS_PARAMS(const char *path), path)
FS(uv_fs_realpath, FS_PARAMS(const char *path), path)
FS(uv_fs_fchmod, FS_PARAMS(uv_file file, int mode), file, mode)
FS(uv_fs_chown, FS_PARAMS(const char *path, uv_uid_t uid, uv_gid_t gid), path,
   uid, gid)
FS(uv_fs_fchown, FS_PARAMS(uv_file file, uv_uid_t uid, uv_gid_t gid), file,
   uid, gid)
FS(uv_fs_lchown, FS_PARAMS(const char *path, uv_uid_t uid, uv_gid_t gid), path,
   uid, gid)
FS(uv_fs_statfs, FS_PARAMS(const char *path), path)

/* ------------------------------------------------------------ the report */

void al_uv_req_probe(const struct al_res *r, struct al_state *st) {
  uv_req_t req;

  if (al_safe_read(&req, (const void *)r->addr, sizeof(req)) != 0 ||
      (unsigned)req.type != r->type)
    return;
  st->known = 1;
  st->active = 1;
  st->referenced = 1;
}

static const char *fs_name(uv_fs_type t) {
  switch (t) {
#define N(uc, lc)                                                             \
  case UV_FS_##uc:                                                            \
    return "uv_fs_" #lc;
    N(OPEN, open) N(CLOSE, close) N(READ, read) N(WRITE, write)
    N(SENDFILE, sendfile) N(STAT, stat) N(LSTAT, lstat) N(FSTAT, fstat)
    N(FTRUNCATE, ftruncate) N(UTIME, utime) N(FUTIME, futime)
    N(ACCESS, access) N(CHMOD, chmod) N(FCHMOD, fchmod) N(FSYNC, fsync)
    N(FDATASYNC, fdatasync) N(UNLINK, unlink) N(RMDIR, rmdir)
    N(MKDIR, mkdir) N(MKDTEMP, mkdtemp) N(RENAME, rename)
    N(SCANDIR, scandir) N(LINK, link) N(SYMLINK, symlink)
    N(READLINK, readlink) N(CHOWN, chown) N(FCHOWN, fchown)
    N(REALPATH, realpath) N(COPYFILE, copyfile) N(LCHOWN, lchown)
    N(OPENDIR, opendir) N(READDIR, readdir) N(CLOSEDIR, closedir)
    N(STATFS, statfs) N(MKSTEMP, mkstemp) N(LUTIME, lutime)
#undef N
  default:
    return "uv_fs";
  }
}

/* Copies the string at p into buf without faulting: a piece at a time,
 * then a byte at a time, so that a string ending near the end of its
 * mapping is still read. */
static void read_string(const char *p, char *buf, size_t len) {
  size_t n = 0;

  while (p != NULL && n + 1 < len) {
    char piece[16];
    size_t k = len - 1 - n < sizeof(piece) ? len - 1 - n : sizeof(piece);
    if (al_safe_read(piece, p + n, k) != 0) {
      k = 1;
      if (al_safe_read(piece, p + n, 1) != 0)
        break;
    }
    for (size_t i = 0; i < k; i++) {
      if (piece[i] == '\0') {
        buf[n] = '\0';
        return;
      }
      buf[n++] = piece[i];
    }
  }
  buf[n] = '\0';
}

/* The stream or socket a request works on: "on uv_tcp_t 0x...". */
static void describe_handle(uv_handle_t *hp, char *buf, size_t len) {
  uv_handle_t h;
  const char *name = NULL;

  if (hp != NULL && al_safe_read(&h, hp, sizeof(h)) == 0)
    name = al_uv_type_name(h.type);
  snprintf(buf, len, "on %s %p", name ? name : "handle", (void *)hp);
}

void al_uv_req_describe(const struct al_res *r, char *buf, size_t len) {
  union {
    uv_fs_t fs;
    uv_write_t write;
    uv_connect_t connect;
    uv_shutdown_t shutdown;
    uv_udp_send_t send;
    uv_getaddrinfo_t gai;
  } u;
  char path[256], host[128];

  buf[0] = '\0';
  switch (r->type) {
  case UV_FS:
    if (al_safe_read(&u.fs, (const void *)r->addr, sizeof(u.fs)) != 0)
      return;
    read_string(u.fs.path, path, sizeof(path));
    if (path[0] != '\0')
      snprintf(buf, len, "%s '%s'", fs_name(u.fs.fs_type), path);
    else
      snprintf(buf, len, "%s", fs_name(u.fs.fs_type));
    break;
  case UV_WRITE:
    if (al_safe_read(&u.write, (const void *)r->addr, sizeof(u.write)) == 0)
      describe_handle((uv_handle_t *)u.write.handle, buf, len);
    break;
  case UV_CONNECT:
    if (al_safe_read(&u.connect, (const void *)r->addr,
                     sizeof(u.connect)) == 0)
      describe_handle((uv_handle_t *)u.connect.handle, buf, len);
    break;
  case UV_SHUTDOWN:
    if (al_safe_read(&u.shutdown, (const void *)r->addr,
                     sizeof(u.shutdown)) == 0)
      describe_handle((uv_handle_t *)u.shutdown.handle, buf, len);
    break;
  case UV_UDP_SEND:
    if (al_safe_read(&u.send, (const void *)r->addr, sizeof(u.send)) == 0)
      describe_handle((uv_handle_t *)u.send.handle, buf, len);
    break;
  case UV_GETADDRINFO:
    if (al_safe_read(&u.gai, (const void *)r->addr, sizeof(u.gai)) != 0)
      return;
    read_string(u.gai.hostname, host, sizeof(host));
    if (host[0] != '\0')
      snprintf(buf, len, "'%s'", host);
    break;
  default:
    break;
  }
}

/* libuv's error numbers are negated errno values on Unix. */
int al_uv_req_cancel(uintptr_t addr) {
  __typeof__(&uv_cancel) cancel = USE(uv_cancel);
  return cancel != NULL ? cancel((uv_req_t *)addr) : -ENOSYS;
}
