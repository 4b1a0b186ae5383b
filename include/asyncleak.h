/* asyncleak: finds event-loop handles a program leaves open, and where they
 * were created. This is the only public header of libasyncleak.
 *
 * Most programs need no header at all: run them under the asyncleak command,
 * which preloads the runtime. A test harness may instead link libasyncleak
 * (before libuv on the link line, so that its interposers come first). */
#ifndef ASYNCLEAK_H_
#define ASYNCLEAK_H_

#include <stddef.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

#define ASYNCLEAK_VERSION_MAJOR 0
#define ASYNCLEAK_VERSION_MINOR 1
#define ASYNCLEAK_VERSION_PATCH 0

/* The runtime's version, "MAJOR.MINOR.PATCH". */
const char *asyncleak_version(void);

/* Not a function of the runtime's: one a program may define, to give the
 * runtime default options in the syntax of ASYNCLEAK_OPTIONS, which wins
 * over them key by key (like the sanitizers' __asan_default_options). It
 * is called once, early, before main when the runtime is preloaded: it
 * must not depend on anything main sets up. A program linking
 * libasyncleak has it found; one that only gets the runtime preloaded
 * must be linked with -rdynamic. A bad entry is warned about and skipped,
 * as in ASYNCLEAK_OPTIONS. */
const char *__asyncleak_default_options(void);

/* Not a function of the runtime's either: one a program, or a library it
 * links, may define, to ship the suppressions of its known leaks with its
 * code (like LeakSanitizer's __lsan_default_suppressions). It returns
 * rules in the syntax of a suppressions file, one a line, or NULL; they
 * count after those of the files given, for the exit report and for
 * asyncleak_check alike. It is called once, as the runtime starts, when
 * __asyncleak_default_options is. A malformed line is warned about, named
 * "__asyncleak_default_suppressions():LINE", and left out. Found as
 * __asyncleak_default_options is: in a program linking libasyncleak, in a
 * shared library, and, when the runtime is only preloaded, in a program
 * linked with -rdynamic. One definition counts: the first the dynamic
 * linker finds. */
const char *__asyncleak_default_suppressions(void);

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
 * run in reverse order of registration, as atexit handlers do, unless
 * ordered with asyncleak_finally_after, on the thread that shuts the loop
 * down, with the loop alive: they may write, close handles and queue
 * work. Registering the same fn and arg twice runs it twice. */
int asyncleak_run_finally(void *loop, asyncleak_finally_fn fn, void *arg);

/* Removes the most recent registration of fn with arg; -ENOENT if none. */
int asyncleak_cancel_finally(void *loop, asyncleak_finally_fn fn, void *arg);

/* Orders two finalizers registered on the loop with asyncleak_run_finally:
 * at the shutdown, later_fn(loop, later_arg) starts only once
 * earlier_fn(loop, earlier_arg) has run and its work is done: the
 * requests it made on the loop have called back (its writes are done)
 * and the handles it began to close are closed. The loop runs meanwhile.
 * Finalizers that wait for nothing run as before, newest first. One
 * whose prerequisite's work is not done when drain_timeout_ms passes runs
 * then, and the report says which prerequisite held it. The order is
 * between the two (fn, arg) pairs: it holds for each of their
 * registrations, and is forgotten when either has none left (cancelled,
 * or run by a shutdown). Returns 0 (also when said before), -ENOENT when
 * either is not registered on this loop, -ELOOP when earlier_fn already
 * waits, directly or not, for later_fn, or when they are the same. */
int asyncleak_finally_after(void *loop, asyncleak_finally_fn later_fn,
                            void *later_arg, asyncleak_finally_fn earlier_fn,
                            void *earlier_arg);

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
 * uv_req_t * for libuv, once started): force_close never closes or
 * cancels it, and the shutdown's drain waits for a protected handle to be
 * closed and a protected request to complete, up to drain_timeout_ms.
 * -EINVAL when it is neither a handle of this loop nor a request. */
int asyncleak_shutdown_waits_for(void *loop, void *handle_or_request);

/* Runs the loop's shutdown now, then closes the loop with the loop
 * library (uv_loop_close). Returns what that close returns (UV_EBUSY when
 * handles are still open), -EDEADLK when called from inside the loop's own
 * callback, or -ENOENT for an unknown loop. For programs that want the
 * shutdown without the preloaded runtime intercepting uv_loop_close. */
int asyncleak_loop_close(void *loop);

/* ------------------------------------------------------- virtual time
 *
 * For tests of timeouts: with virtual time on, whenever the loop would
 * block waiting for its next timer, with nothing ready and no work of its
 * in other threads (libuv's thread pool, GLib's tasks), its clock jumps to
 * that timer at once. A program whose timers add up to an hour finishes in
 * milliseconds, its timers firing in the same order and at the same times
 * of the loop's clock (uv_now, and uv_hrtime and the monotonic clocks read
 * in its callbacks) as they would in real time. Events on real sockets
 * and pipes are delivered as they come; a reply from another process that
 * has not come when the loop would block loses to a timer due before it,
 * however far ahead. Work in other threads is waited for in real time.
 * The clock only goes forward: switched off, the loop keeps the time it
 * gained and waits in real time again. Each thread reads the loop's clock
 * while it runs the loop; outside runs, the loop library's own reads
 * (uv_hrtime, uv_update_time) on the thread that switched it on or last
 * ran it do; other threads and loops keep real time
 * (docs/virtual-time.md). The option virtual_time=1 (--virtual-time)
 * switches it on for every loop. */

/* Switches virtual time on (on != 0) or off for the loop. Returns 0,
 * -EINVAL for a NULL loop, -ENOENT for memory that holds no loop, or
 * -ENOSPC when 256 loops of the process already had it. */
int asyncleak_virtual_time(void *loop, int on);

/* ----------------------------------------------------- drain and check
 *
 * For test harnesses, like Go's goleak: run the loop until the program's
 * work is done, then ask what is still open or pending. These follow what
 * the program made through the runtime's interposers: a harness linked
 * with libasyncleak (before libuv) or run under the asyncleak command. */

/* Runs the loop until none of the program's handles on it is active and
 * referenced, no close of one is unfinished and none of its requests is
 * pending, or until timeout_ms passed. Returns how many of those are
 * still there (0: drained), or (size_t)-1 with errno set: EINVAL for a
 * NULL loop, ENOENT for memory that holds no loop asyncleak knows or
 * recognises, EDEADLK when called from inside the loop's own callback,
 * where the loop cannot be run again (nothing is run then). Call it on the
 * thread that runs the loop. Nothing is run when nothing is outstanding
 * or timeout_ms is 0. A handle that stays active (a listening server, a
 * repeating timer) keeps it running to the deadline. */
size_t asyncleak_drain(void *loop, unsigned timeout_ms);

/* Cancels a pending request (uv_cancel for libuv: threadpool work, fs,
 * getaddrinfo, getnameinfo and random requests not yet running) and runs
 * its loop until its callback has run, with a cancelled status. Returns 0,
 * or a negative errno value: the loop library's error when it cannot be
 * cancelled (-EBUSY: already running; -EINVAL: a kind that cannot be),
 * -ENOENT when no request asyncleak follows is pending at that address,
 * -EDEADLK from inside its loop's own callback (nothing is cancelled),
 * -ETIMEDOUT when its callback had not run after timeout_ms, or another
 * negative errno value when the loop could not be run (the request is
 * cancelled then; its callback runs when the loop next runs). Call it on
 * the thread that runs the loop. */
int asyncleak_cancel_and_wait(void *request, unsigned timeout_ms);

typedef struct asyncleak_snapshot asyncleak_snapshot;

/* Marks this moment: asyncleak_check_since reports only what was made
 * after it. NULL when out of memory. */
asyncleak_snapshot *asyncleak_snapshot_take(void);
void asyncleak_snapshot_free(asyncleak_snapshot *s);

/* Prints to out (nothing when out is NULL) the report of the handles
 * still open and the requests still pending that were made since the
 * snapshot, on any loop and thread, grouped by creation site with their
 * backtraces, and returns how many there are. Resources of an ignored
 * creator are left out. (size_t)-1 when out of memory, or, with errno
 * ENOTSUP and the reason written to out, when the program's calls to its
 * loop library bypass the runtime (libasyncleak linked after libuv): no
 * check could see them. It does not run any loop: drain first. */
size_t asyncleak_check_since(const asyncleak_snapshot *s, FILE *out);
/* The same, for everything made since the process started (or forked);
 * so is asyncleak_check_since with a NULL snapshot. */
size_t asyncleak_check(FILE *out);
/* asyncleak_check_since for the end of a test: when it finds something,
 * what it reports is also set aside, so that it no longer affects the
 * tests that follow. Later drains do not wait for it, and each handle
 * still active, on a loop the calling thread runs, is stopped if it calls
 * back by itself (a timer, an idle; a GLib timeout or idle source stays
 * attached, its callback no longer called), else unreferenced where the
 * library can; a line after the report says what was done. Nothing is closed or cancelled. Call it on
 * the thread that runs the loops, outside their callbacks. */
size_t asyncleak_check_and_isolate(const asyncleak_snapshot *s, FILE *out);

/* Leaves out of the checks, from now on, what was created by a call from
 * the function of that name (the first frame of its creation backtrace),
 * like goleak's IgnoreTopFunction: known leaks of a library the tests
 * cannot fix. Not the exit report. 0, -EINVAL for a NULL or empty name,
 * -ENOSPC past 64 names, -ENOMEM. */
int asyncleak_ignore_creator(const char *function);

#ifdef __cplusplus
}
#endif

#endif /* ASYNCLEAK_H_ */
