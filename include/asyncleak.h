/* asyncleak: finds event-loop handles a program leaves open, and where they
 * were created. This is the only public header of libasyncleak.
 *
 * Most programs need no header at all: run them under the asyncleak command,
 * which preloads the runtime. A test harness may instead link libasyncleak
 * (before libuv on the link line, so that its interposers come first). */
#ifndef ASYNCLEAK_H_
#define ASYNCLEAK_H_

#ifdef __cplusplus
extern "C" {
#endif

#define ASYNCLEAK_VERSION_MAJOR 0
#define ASYNCLEAK_VERSION_MINOR 1
#define ASYNCLEAK_VERSION_PATCH 0

/* The runtime's version, "MAJOR.MINOR.PATCH". */
const char *asyncleak_version(void);

/* ------------------------------------------------------------ finalizers
 *
 * Cleanup that needs the loop alive: send a goodbye, flush, close. A
 * library that opened a connection on its user's loop registers a
 * finalizer; asyncleak runs it when the program closes that loop, before
 * libuv's uv_loop_close, then runs the loop until the work the finalizers
 * started is done (no request pending, no close unfinished) or until
 * drain_timeout_ms passes. A close that would have failed with UV_EBUSY
 * can then succeed.
 *
 * `loop` is the loop library's loop (a uv_loop_t * for libuv). Every
 * function returns 0 or a negative errno value: -EINVAL for a NULL loop or
 * function, -ENOENT for a loop asyncleak does not know (one not made through
 * the loop library's dynamic symbols, or already closed), -ENOMEM. */

typedef void (*asyncleak_finally_fn)(void *loop, void *arg);

/* Registers fn(loop, arg) to run once as the loop closes. Finalizers run in
 * reverse order of registration, as atexit handlers do, on the thread that
 * closes the loop, with the loop alive: they may write, close handles and
 * queue work. Registering the same fn and arg twice runs it twice. */
int asyncleak_run_finally(void *loop, asyncleak_finally_fn fn, void *arg);

/* Removes the most recent registration of fn with arg; -ENOENT if none. */
int asyncleak_cancel_finally(void *loop, asyncleak_finally_fn fn, void *arg);

/* Runs the loop's finalizers, drains the loop, then closes it with the
 * loop library (uv_loop_close). Returns what that close returns (UV_EBUSY
 * when handles are still open), or -ENOENT for an unknown loop. For
 * programs that want the finalizers to run without the preloaded runtime
 * intercepting uv_loop_close; when it does, uv_loop_close does the same. */
int asyncleak_loop_close(void *loop);

#ifdef __cplusplus
}
#endif

#endif /* ASYNCLEAK_H_ */
