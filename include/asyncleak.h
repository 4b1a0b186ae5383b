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
 * finalizer; asyncleak runs it at the loop's shutdown, with the loop
 * alive, then runs the loop until the work the finalizers started is done
 * (no request pending, no close unfinished, no handle of
 * asyncleak_shutdown_waits_for still open) or until drain_timeout_ms
 * passes. A loop's shutdown happens:
 *   - as the program closes the loop (uv_loop_close), before the loop
 *     library's own close, so that a close that would have failed with
 *     UV_EBUSY can succeed;
 *   - at process exit, for a loop never closed, before the libraries'
 *     destructors, on the thread that runs the loop;
 *   - on asyncleak_loop_close;
 *   - with the option graceful_signals, on SIGINT or SIGTERM.
 * It cannot happen while the loop's own run function is on the stack (a
 * close or an exit() from inside its callback): the loop library is not
 * re-entrant, and the report says so.
 *
 * `loop` is the loop library's loop (a uv_loop_t * for libuv). A loop the
 * runtime did not see made (the program only links libasyncleak, through
 * a library) is recognised on first use. Every function returns 0 or a
 * negative errno value: -EINVAL for a NULL argument, -ENOENT for memory
 * that holds no loop asyncleak knows or recognises, -ENOMEM. */

typedef void (*asyncleak_finally_fn)(void *loop, void *arg);

/* Registers fn(loop, arg) to run once at the loop's shutdown. Finalizers
 * run in reverse order of registration, as atexit handlers do, on the
 * thread that shuts the loop down, with the loop alive: they may write,
 * close handles and queue work. Registering the same fn and arg twice runs
 * it twice. */
int asyncleak_run_finally(void *loop, asyncleak_finally_fn fn, void *arg);

/* Removes the most recent registration of fn with arg; -ENOENT if none. */
int asyncleak_cancel_finally(void *loop, asyncleak_finally_fn fn, void *arg);

/* At the loop's shutdown, in turn with the finalizers: when
 * is_closed(resource) is false, calls close(resource) on the live loop and
 * reports a warning with the backtrace of this call. When it is true, the
 * program did its job and nothing is reported. close() must tolerate a
 * resource the program has already closed. On the loop's own thread,
 * is_closed may also be called when a registration finds many on the
 * loop, to forget the resources already closed. */
int asyncleak_ensure_closure(void *loop, void *resource,
                             int (*is_closed)(void *resource),
                             void (*close)(void *resource));

/* Protects a handle or a request of the loop (a uv_handle_t * or a
 * uv_req_t * for libuv): force_close never closes it, and the shutdown's
 * drain waits for a protected handle to be closed, up to
 * drain_timeout_ms. -EINVAL when it is neither a handle of this loop nor a
 * request. */
int asyncleak_shutdown_waits_for(void *loop, void *handle_or_request);

/* Runs the loop's shutdown now, then closes the loop with the loop
 * library (uv_loop_close). Returns what that close returns (UV_EBUSY when
 * handles are still open), -EDEADLK when called from inside the loop's own
 * callback, or -ENOENT for an unknown loop. For programs that want the
 * shutdown without the preloaded runtime intercepting uv_loop_close. */
int asyncleak_loop_close(void *loop);

#ifdef __cplusplus
}
#endif

#endif /* ASYNCLEAK_H_ */
