/* The contract between the core and a loop library.
 *
 * A shim (shim/) maps one loop library onto this contract and holds no
 * policy: it finds the library's functions (lib/loopsyms.h), interposes
 * the calls that make, close, start and stop what the program owns, and
 * records them in the registry; and it answers the core's questions below
 * in the library's own terms. What to report, when a loop may be run,
 * stopped, drained or closed, what a graceful signal does, and when the
 * process ends, the core decides, once for every library (lib/run.c,
 * lib/shutdown.c, lib/check.c, lib/verdict.c).
 *
 * Every operation below is called by the core on a thread that may be any
 * of the program's, never from a signal handler, and with none of the
 * runtime's locks held, unless it says otherwise. Operations that read the
 * program's memory read it through al_safe_read and must not fault on
 * memory the program freed. An operation the library cannot do is NULL
 * where that is allowed. docs/design.md ("The loop contract") tells how to
 * add a library. Private to the runtime. */
#ifndef ASYNCLEAK_LOOP_H_
#define ASYNCLEAK_LOOP_H_

#include <stddef.h>
#include <stdint.h>

struct al_res;
struct al_loopsyms;

/* A record keeps its loop library's index and its type number in 8 bits:
 * room for 8 loop libraries of up to 32 types each (a library's handle
 * types and its request types are counted apart). */
#define AL_RES_SHIM_BITS 3
#define AL_RES_TYPE_BITS 5
#define AL_RES_TYPES (1 << AL_RES_TYPE_BITS)

/* A resource's live state in neutral terms, as probe reads it. */
struct al_state {
  unsigned known : 1;    /* the memory still holds this resource */
  unsigned internal : 1; /* the loop library made it for itself */
  unsigned active : 1;   /* armed: started, added, watching */
  unsigned referenced : 1; /* keeps its loop running */
  unsigned closing : 1;  /* a close was asked that has not completed */
  unsigned idle : 1;     /* holds nothing, so left nothing open: a libevent
                            event of the program's memory, not added */
  unsigned type : AL_RES_TYPE_BITS; /* when not 0, the type it is reported under: what
                            it is now (a libevent event still added, or only
                            never freed) */
};

/* What asyncleak_shutdown_waits_for was given. */
enum al_kind { AL_KIND_NONE = 0, AL_KIND_HANDLE = 1, AL_KIND_REQUEST = 2 };

/* How run_once runs the loop. */
enum al_run_mode {
  AL_RUN_WAIT,   /* one turn, waiting for something to happen */
  AL_RUN_NOWAIT, /* one turn, calling back what is ready, not waiting */
};

/* What at_free says of a handle that outlives its loop. */
#define AL_AT_FREE_KEEP (-1)

/* What quiet did to a handle. */
enum { AL_QUIET_LEFT, AL_QUIET_STOPPED, AL_QUIET_UNREFERENCED };

/* One loop library, as the core sees it. */
struct al_shim {
  /* ---------------------------------------------------------- names */
  const char *name; /* "libuv", in messages */
  /* Its functions, as lib/loopsyms.h finds them; also where its code
   * lies, which tells the library's own calls from the program's. */
  struct al_loopsyms *syms;
  /* Names of the library's handle and request types, NULL if unknown. */
  const char *(*type_name)(unsigned type);
  const char *(*req_type_name)(unsigned type);
  /* The name a handle of this type is known by in fingerprints and
   * suppressions, where it is not type_name's: one name for one leak,
   * whatever moment its verdict was taken at (libevent's "event (added
   * when its base was freed)" is the "event (added)" it was). NULL, or
   * NULL returned, for type_name's. */
  const char *(*type_identity)(unsigned type);

  /* ---------------------------------------------------- what it holds */
  /* Reads the live state of r. Must not fault. */
  void (*probe)(const struct al_res *r, struct al_state *st);
  /* What a pending request is doing, for the report ("uv_fs_open
   * 'path'"); empty when nothing more is known. Must not fault. */
  void (*describe)(const struct al_res *r, char *buf, size_t len);
  /* The state of a handle as the report says it, when the library's words
   * are not libuv's ("active, referenced"); NULL for those. Must not
   * fault. */
  void (*state_text)(const struct al_res *r, const struct al_state *st,
                     char *buf, size_t len);
  /* Whether a close is unfinished on the loop, and whether a request is
   * in flight, the library's own and those not followed included. */
  int (*closing)(uintptr_t loop);
  int (*requests)(uintptr_t loop);
  /* Whether the loop waits for work in other threads (libuv's thread
   * pool), which virtual time waits for in real time; NULL: never. */
  int (*offloaded)(uintptr_t loop);
  /* Whether a finite wait of the loop may end at a timer of the
   * program's; NULL: every finite wait does (the library waits for ever
   * when it has no timer). */
  int (*timed)(uintptr_t loop);
  /* Whether the memory at loop holds a live loop of this library, for a
   * loop the interposers did not see made. Must not fault; NULL when the
   * library's loops cannot be told from memory. */
  int (*claim)(uintptr_t loop);
  /* Whether addr is a handle or a request of the loop. Must not fault.
   * NULL: the registry's records answer (a handle open on the loop, a
   * request pending on it). */
  enum al_kind (*kind)(uintptr_t loop, uintptr_t addr);
  /* Whether the handle at addr, made on loop, is still open. NULL: while
   * its record is open and probe finds it armed. */
  int (*handle_open)(uintptr_t loop, uintptr_t addr);
  /* Requests whose completion is learnt from the handle they were started
   * on, not from a callback the runtime stands in for (libuv's stream
   * requests, al_req_start_on). Of reqs[0..n), records of such requests
   * started on the handle at `handle`, which is open or closing, sorted
   * by address, sets pending[i] to 1 for each the handle still holds and
   * to 0 for each it let go of (completed, or about to be called back).
   * `live`: the caller is in a call of the program's on the handle, whose
   * memory is then sound and may be read directly; otherwise it must not
   * fault. Bounded: a request it cannot tell about is pending. NULL when
   * the library has no such requests. */
  void (*req_pending)(uintptr_t handle, const struct al_res *const *reqs,
                      size_t n, int live, unsigned char *pending);

  /* ---------------------------------------------------------- running */
  /* The library's run function itself, found through lib/loopsyms.h:
   * whether it is on a thread's stack is the only sign of a run that
   * did not come through the shim's interposer (a program linked with
   * libasyncleak whose calls bind to the library first). NULL when the
   * library has no such program. */
  void *(*run_function)(void);
  /* Runs the loop on the calling thread, which is not running it, for
   * one turn (enum al_run_mode), as the library's own run would, without
   * passing through the interposer. Returns when the turn is over. */
  void (*run_once)(uintptr_t loop, int mode);
  /* Asks the loop's run to return as soon as the callback that asks has
   * returned; called on the loop's thread, from inside its run. */
  void (*stop)(uintptr_t loop);
  /* A timer of the core's own on the loop, which the program cannot see
   * (its walks pass over it), and which keeps the loop from returning
   * while it is armed, so that a turn waits for it: made stopped, armed to fire once after ms milliseconds from now (the
   * library's clock brought up to date first), stopped again; its firing
   * only ends the turn it fires in. timer_free ends it, running the loop
   * without waiting where the library completes a close on a later turn
   * (libuv). */
  void *(*timer_new)(uintptr_t loop);
  void (*timer_arm)(void *timer, unsigned ms);
  void (*timer_stop)(void *timer);
  void (*timer_free)(void *timer);
  /* Watches the core's descriptor fd on loop, which the program cannot
   * see and which does not keep the loop running: once fd is readable,
   * stops watching it and calls ready(loop) from inside the loop's run.
   * Returns what unwatch is given, or NULL when it could not. */
  void *(*watch)(uintptr_t loop, int fd, void (*ready)(uintptr_t loop));
  /* Gives back what watch made. alive: the library is about to free the
   * loop (al_loop_freeing), which may still be told; else the loop is
   * gone (closed, or its memory initialised again), and must not be
   * touched. */
  void (*unwatch)(void *watch, int alive);

  /* When the library frees a loop with the program's resources still on
   * it (libevent's event_base_free, libev's ev_loop_destroy), the core
   * takes their verdict then (al_loop_freeing): one the library no longer
   * holds (its probe says unknown, idle or the library's own) is
   * forgotten, a pending request stays as it is, and a handle still
   * armed is reported under the type at_free gives for its type (libevent's
   * "event (added when its base was freed)"), one not armed under its
   * probe's type (an event_new'd event never freed). AL_AT_FREE_KEEP:
   * a handle whose memory is not the loop's (a bufferevent) stays as it
   * is. NULL when the library never frees a loop with resources on it. */
  int (*at_free)(unsigned type);

  /* -------------------------------------------------------- acting */
  /* Closes the loop as the program's own close call would. */
  int (*close)(uintptr_t loop);
  /* Closes the program's handle at addr as the program would. */
  void (*close_handle)(uintptr_t addr);
  /* Cancels the pending request at addr: 0 when its callback will run
   * with a cancelled status, a negative errno value when it cannot be
   * cancelled (it is running, or of a kind that cannot be). */
  int (*cancel)(uintptr_t addr);
  /* Quiets the program's active handle at addr, which the core found
   * sound, on a loop of the calling thread that is not running, without
   * closing it: stops it where it calls the program back by itself (a
   * timer, an idle, a libevent timer or fd event), else takes away its
   * reference where the library has one, so that it no longer keeps the
   * loop running. Returns what it did (AL_QUIET_*). NULL for a library
   * that can do neither. */
  int (*quiet)(uintptr_t addr);

  /* ----------------------------------------------------------- life */
  /* After a dlclose: whether the library is gone from the process. It then
   * forgets what it knew of it, to find it again if it is loaded anew. */
  int (*unloaded)(void);
};

/* ------------------------------------------ what the core does for shims */

/* A run of a loop, from the interposer of the library's run function. The
 * interposer keeps it on its own stack, which is how the core knows exactly
 * which runs are still on a thread's stack: one a longjmp left without
 * returning is found gone, never guessed from an unwind. */
struct al_run {
  uintptr_t loop;
  void *object;    /* the library's own object for this run, which stop
                      acts on (GLib's GMainLoop), set by the interposer
                      before al_run_begin; NULL when it has none */
  uintptr_t guard; /* the thread's record of it matches while it runs */
  int slot;        /* in the table of runs on every thread, or -1 */
  uint8_t shim;
  uint8_t graceful; /* graceful signals are on */
  uint8_t blind;    /* and this loop has no wake-up for them */
};

/* The program's run of loop begins: notes it, watches for graceful
 * signals, and registers the run. Returns 0 for the run to go on, or 1
 * when a graceful signal came first and the run must return at once (the
 * shutdown was done, or is left to a run further down the stack). Keeps
 * errno. */
int al_run_begin(uint8_t shim, uintptr_t loop, struct al_run *run);
/* The run begun by al_run_begin returned; a graceful signal that came
 * meanwhile is acted on here (this may end the process). Keeps errno. */
void al_run_end(struct al_run *run);
/* Whether the calling thread is inside a run of the loop, where running
 * it again is not allowed. */
int al_run_here(uint8_t shim, uintptr_t loop);
/* The object of the innermost run of the loop on the calling thread that
 * is still on its stack (al_run.object), or NULL: for a shim's stop. */
void *al_run_object(uintptr_t loop);
/* The loop of the innermost run on the calling thread that is still on
 * its stack, when it is a run of this library's; else 0. For a stand-in
 * of a callback the library calls with nothing of its loop: the loop
 * dispatching it is the innermost run. */
uintptr_t al_run_innermost(uint8_t shim);
/* The caller, whose frame is at `frame`, is inside no run of this thread
 * (a test harness's setup or teardown, which the framework calls between
 * tests): runs recorded below it were left by a longjmp, and are gone. */
void al_run_left_below(uintptr_t frame);
/* Whether any thread is inside a run of the loop: its lists change under
 * a reader. Lock-free; may say so of a loop that no longer runs, the safe
 * answer. */
int al_run_anywhere(uintptr_t loop);
/* The thread running the loop now, when it is not the calling thread: its
 * id, with in *begun the stack where it began that run (captured only
 * while check_threads is on, else NULL). 0 when no other thread is known
 * to run it. Loads only, lock-free: for the wrong-thread check
 * (lib/threads.c). */
pid_t al_run_elsewhere(uintptr_t loop, const struct al_stack **begun);
/* Runs the loop on the calling thread until done(loop, arg) is true, or
 * until timeout_ms passed: 0, -ETIMEDOUT, or -ENOMEM when no timer could
 * be made. done is asked before each turn. The loop must not be running
 * here (al_run_here). */
int al_run_until(uint8_t shim, uintptr_t loop, unsigned timeout_ms,
                 int (*done)(uintptr_t loop, void *arg), void *arg);
/* The program's own call asks the library to close or free the loop (not
 * asyncleak_loop_close's, which ran the shutdown first): the loop's
 * shutdown runs now, while it is alive, as the program's own code (the
 * handles its finalizers close and make are followed). Returns 1 when a
 * finalizer closed the loop meanwhile: the program's call is then done,
 * and must not reach the library. Keeps errno. */
int al_loop_closing(uintptr_t loop);
/* The library is about to free the loop, the program having asked, with
 * whatever is still on it: takes their verdict (al_shim.at_free).
 * Returns how many records stay, for al_loop_gone. The loop must still be
 * readable. */
size_t al_loop_freeing(uintptr_t loop);
/* The library freed the loop: kept records stay reported on it
 * (al_loop_freed), else it is closed (al_loop_closed). Keeps errno. */
void al_loop_gone(uintptr_t loop, size_t kept);

/* What a shim's interposer tells the core of what the program made, after
 * the library's call succeeded: a handle or watcher (with the creating
 * stack), and a loop (with_stack: the program's own call made it, not one
 * of the library's for it; fresh: the library initialised its memory).
 * Recorded now, or, from a signal handler that interrupted the runtime,
 * deferred until its thread leaves the runtime, or counted as missed.
 * Keep errno. */
void al_made(uint8_t shim, uintptr_t addr, unsigned type, uintptr_t loop);
void al_loop_made(uint8_t shim, uintptr_t loop, unsigned flags,
                  int with_stack, int fresh);

/* The loop whose run is innermost on this thread, when pc (the caller of
 * a wait; NULL: any) is the loop library's own code: its wait. 0 when
 * there is none; *shim is set when there is. */
uintptr_t al_run_own_wait(const void *pc, uint8_t *shim);
/* How many times al_run_until was called; for tests. */
unsigned long al_run_until_calls(void);
/* The loop is about to be freed (alive: al_loop_freeing), or is gone
 * (closed, or its memory initialised anew): what the core keeps for it to
 * run is given back. Keeps errno. */
void al_run_forget(uintptr_t loop, int alive);

#endif /* ASYNCLEAK_LOOP_H_ */
