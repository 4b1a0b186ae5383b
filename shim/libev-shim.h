/* What the libev interposers share: libev's description for the core,
 * which finds its real functions on first use and tells the program's
 * calls from libev's own, and the watcher types as the registry numbers
 * them. Private to shim/libev*.c. */
#ifndef ASYNCLEAK_LIBEV_SHIM_H_
#define ASYNCLEAK_LIBEV_SHIM_H_

#include <errno.h>
#include <ev.h>
#include <stdatomic.h>
#include <stdint.h>

#include "calls.h"
#include "internal.h"

/* ---------------------------------------------------------- real functions */

/* The thirteen watcher types, with their record type numbers. */
#define LIBEV_WATCHERS(X)                                                     \
  X(io, T_IO) X(timer, T_TIMER) X(periodic, T_PERIODIC) X(signal, T_SIGNAL)   \
  X(child, T_CHILD) X(stat, T_STAT) X(idle, T_IDLE) X(prepare, T_PREPARE)     \
  X(check, T_CHECK) X(embed, T_EMBED) X(fork, T_FORK) X(cleanup, T_CLEANUP)   \
  X(async, T_ASYNC)

/* Interposed. */
#define LIBEV_FUNCS(X)                                                        \
  X(ev_default_loop) X(ev_loop_new) X(ev_loop_destroy) X(ev_run)              \
  X(ev_loop_fork) X(ev_once) X(ev_unref) X(ev_timer_again)                    \
  X(ev_periodic_again)

/* Called by the runtime, never interposed. */
#define LIBEV_USED(X)                                                         \
  X(ev_ref) X(ev_break) X(ev_now_update) X(ev_version_major)                  \
  X(ev_version_minor)

enum {
#define X(name) F_##name,
  LIBEV_FUNCS(X)
#define W(name, type) X(ev_##name##_start) X(ev_##name##_stop)
  LIBEV_WATCHERS(W)
#undef W
  LIBEV_USED(X)
#undef X
  F_COUNT
};

/* libev as the core knows it. */
extern struct al_loopsyms al_libev_lib;

#define REAL(name)                                                            \
  ((__typeof__(&name))al_loopsyms_get(&al_libev_lib, F_##name, (void *)&name))
/* For functions the runtime does not define: typeof takes no address. */
#define USE(name)                                                             \
  ((__typeof__(&name))al_loopsyms_get(&al_libev_lib, F_##name, NULL))

/* ------------------------------------------------------------ the shim */

/* Record types: a watcher started (its first start is where it was
 * made), the same watcher seen started when ev_loop_destroy destroyed
 * its loop (T_DESTROYED more), and the one request, ev_once. 0 is
 * nobody's: al_state.type 0 means "as recorded". */
enum {
  T_IO = 1,
  T_TIMER,
  T_PERIODIC,
  T_SIGNAL,
  T_CHILD,
  T_STAT,
  T_IDLE,
  T_PREPARE,
  T_CHECK,
  T_EMBED,
  T_FORK,
  T_CLEANUP,
  T_ASYNC,
  T_LAST = T_ASYNC,
  T_DESTROYED = 16, /* T_IO + T_DESTROYED ... T_ASYNC + T_DESTROYED */
};
_Static_assert(T_LAST + T_DESTROYED < AL_RES_TYPES,
               "a record keeps a type in AL_RES_TYPE_BITS bits");

enum { R_ONCE = 1 };

/* Our index among the loop libraries. */
extern uint8_t al_libev_shim_id;

/* The wrong-thread check (check_threads, lib/threads.c) of the program's
 * call on loop, or on a watcher of that type. libev documents only
 * ev_async_send and ev_feed_signal as safe from any thread: neither is
 * interposed. */
#define AL_LIBEV_THREAD_CHECK(call, loop, type)                               \
  do {                                                                        \
    if (AL_UNLIKELY(al_opt.check_threads))                                    \
      al_thread_check(al_libev_shim_id, (uintptr_t)(loop), call, (type), 0);  \
  } while (0)

/* This thread's interposers on its stack (lib/calls.h). */
extern AL_TLS struct al_calls al_libev_calls;

static inline void al_libev_ensure(void) {
  al_loopsyms_ensure(&al_libev_lib);
}

/* Enters an interposer about obj; 1 when the program called it. */
#define al_libev_enter(obj)                                                   \
  al_call_enter(&al_libev_calls, &al_libev_lib, __builtin_return_address(0), \
                (obj))

static inline void al_libev_leave(void) {
  al_call_leave(&al_libev_calls);
}

/* ------------------------------------------------------ shim/libev-watchers.c */

/* Names of the types. */
const char *al_libev_type_name(unsigned type);
const char *al_libev_type_identity(unsigned type);
const char *al_libev_req_type_name(unsigned type);
/* The report's view of a record, and of a pending ev_once. */
void al_libev_probe(const struct al_res *r, struct al_state *st);
void al_libev_state_text(const struct al_res *r, const struct al_state *st,
                         char *buf, size_t len);
void al_libev_describe(const struct al_res *r, char *buf, size_t len);
/* Whether ev_once requests of the program's that can still fire are
 * pending on the loop. */
int al_libev_requests(uintptr_t loop);
int al_libev_timed(uintptr_t loop);
/* Stops the program's watcher at addr as its type's stop would, when the
 * record is of a type quiet (only) lists: 1 when it was stopped. */
int al_libev_stop_watcher(uintptr_t addr, int quiet_only);
/* Learns where libev keeps its own memory (its default loop, its SIGCHLD
 * watcher), once its functions are found. */
void al_libev_learn_layout(void);
/* The loop at addr is about to be destroyed: its ev_cleanup watchers,
 * which libev calls back now, have done their job and are forgotten. */
void al_libev_forget_cleanups(uintptr_t loop);
/* Forgets what this thread knew of its last start (ev_run began). */
void al_libev_no_last_start(void);

/* ------------------------------------------------------ shim/libev-slow.c */

/* The slow-callback check: after a start of the program's watcher of
 * type type, while slow_callback_ms is on, the runtime's stand-in goes
 * in its callback field. */
void al_libev_stand_in(void *w, unsigned type);
/* After a stop of the watcher, while slow_callback_ms is on: the
 * program's callback goes back into it, but into an expired one-shot
 * timer or periodic that libev stopped, and calls back next. */
void al_libev_put_back(void *w, unsigned type);
/* Around the program's ev_run, while slow_callback_ms is on. */
void al_libev_slow_run(int begin);

#endif /* ASYNCLEAK_LIBEV_SHIM_H_ */
