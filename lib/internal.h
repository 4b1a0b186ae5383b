/* This file is private to asyncleak: the interface between the loop-neutral
 * core (lib/) and the interposers (shim/). Nothing here is exported.
 */
#ifndef ASYNCLEAK_INTERNAL_H_
#define ASYNCLEAK_INTERNAL_H_

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "findings.h"
#include "libnames.h"
#include "signals.h"
#include "syntax.h"

#define AL_EXPORT __attribute__((visibility("default")))
#define AL_TLS __thread __attribute__((tls_model("initial-exec")))
#define AL_LIKELY(x) __builtin_expect(!!(x), 1)
#define AL_UNLIKELY(x) __builtin_expect(!!(x), 0)

/* ------------------------------------------------------------- options */

#define AL_OPTION_STR_MAX 4096
#define AL_FIELD_INT(name) int name
#define AL_FIELD_BOOL(name) int name
#define AL_FIELD_STR(name) char name[AL_OPTION_STR_MAX]
#define AL_FIELD_LIST(name) char name[AL_OPTION_STR_MAX] /* '\n' between */
#define AL_FIELD_ENUM(name) int name /* index of the value */

struct al_options {
#define AL_OPTION(kind, name, dflt, lo, hi, flag, arg, group, help)          \
  AL_FIELD_##kind(name);
#define AL_CLI_OPTION(kind, name, dflt, lo, hi, flag, arg, group, help)
#include "options.inc"
#undef AL_CLI_OPTION
#undef AL_OPTION
};

/* The values of the color option. */
enum { AL_COLOR_AUTO, AL_COLOR_ALWAYS, AL_COLOR_NEVER };

extern struct al_options al_opt;

/* Parses ASYNCLEAK_OPTIONS-style text into `opt`, printing one warning line
 * for each unknown key or malformed value to fd 2. Never fails: a bad entry
 * is skipped and the default kept. Returns the number of bad entries. */
int al_options_parse(struct al_options *opt, const char *text);
void al_options_defaults(struct al_options *opt);
/* Writes the option table with defaults and help to fd. */
void al_options_print_help(int fd);

/* ------------------------------------------------------------- stacks */

/* A deduplicated creation stack. Stacks are never freed; the pointer is a
 * stable identity for grouping. */
struct al_stack {
  struct al_stack *next; /* hash chain */
  uint32_t hash;
  uint32_t depth;
  uintptr_t pc[];
};

/* The deepest stack_depth, and room for asyncleak's own frames above the
 * program's. */
#define AL_STACK_DEPTH_MAX 64
#define AL_SELF_FRAMES_MAX 8

/* Whether captures keep a per-thread cache of the stacks they unwound
 * (lib/capture.c says why only on x86-64 and not under ThreadSanitizer).
 * Without it there is no lock for the caches of ended threads
 * (AL_LOCK_CAPTURE_CACHES). */
#if defined(__x86_64__) && !defined(__SANITIZE_THREAD__)
#define AL_CACHE_STACKS 1
#else
#define AL_CACHE_STACKS 0
#endif

/* Captures the calling thread's stack, leaving out asyncleak's own frames,
 * up to al_opt.stack_depth frames, and returns its deduplicated copy, or
 * NULL when no frame could be captured. Thread-safe; no malloc, and no
 * unwinding when the thread captured the same stack before (capture.c). */
const struct al_stack *al_stack_capture(void);
/* Captures without the per-thread cache; for tests and benchmarks. */
const struct al_stack *al_stack_capture_uncached(void);
/* Counts of the calling thread's captures served by its cache and
 * unwound; for tests. */
void al_capture_stats(uint64_t *hits, uint64_t *misses);
/* check_stacks: the captures of every thread that the cache served and a
 * full unwind checked, and how many of them differed. */
void al_capture_checked(uint64_t *checked, uint64_t *differed);
/* check_stacks: fills f with the finding of the captures that differed
 * (the first one's two stacks, their count); 0 when none did. */
int al_capture_check_finding(struct al_finding *f);
/* Forgets the counts and the finding: in a fork child, and between the
 * harness's tests, as findings are. */
void al_capture_check_reset(void);
/* For tests only: makes every stack the calling thread's cache holds
 * serve `stack` instead, as a cache gone wrong would; NULL empties the
 * cache. */
void al_capture_spoil_for_test(const struct al_stack *stack);
/* Return addresses of the calling thread, innermost first: the unwinder's
 * own. Returns how many it stored in buf, at most want. */
int al_stack_unwind(void **buf, int want);
/* Unwinds with libunwind's cursor, which tells where each return address
 * was read. From the frame whose return address is stored at `from` on,
 * stores up to want return addresses in pc and their slots in slot.
 * Costs microseconds: for filling caches. Returns how many, or -1 when
 * `from` was not met, or a signal frame came (x86-64 only). */
int al_stack_unwind_slots(const uintptr_t *from, uintptr_t *pc,
                          uintptr_t *slot, int want);
/* Whether pc is in asyncleak's own code. */
extern uintptr_t al_self_lo, al_self_hi;
static inline int al_stack_is_self(uintptr_t pc) {
  return pc >= al_self_lo && pc < al_self_hi;
}
/* Whether a return address of the calling thread's stack falls in the
 * function at [lo, hi): whether that function is on the stack. */
int al_stack_contains(uintptr_t lo, uintptr_t hi);
/* Deduplicates `depth` frames; exposed for tests. */
const struct al_stack *al_stack_intern(const uintptr_t *pc, uint32_t depth);
/* Number of distinct stacks and bytes the depot holds. */
void al_stack_stats(size_t *stacks, size_t *bytes);
/* Frames with a pc in [lo, hi) are asyncleak's own and left out. */
void al_stack_set_self_range(uintptr_t lo, uintptr_t hi);

/* ------------------------------------------------------------- shims */

/* The contract between the core and a loop library. */
#include "loop.h"

/* A probe round: between al_probe_round_begin and al_probe_round_end the
 * calling thread probes resources and runs none of the program's code, so
 * what a shim learns of a loop once (the events a libevent base holds)
 * answers every probe of the round. Rounds nest. al_probe_round is 0
 * outside a round, else a number no other round had. */
void al_probe_round_begin(void);
void al_probe_round_end(void);
uint64_t al_probe_round(void);

/* ------------------------------------------------------------- registry */

enum al_res_state {
  AL_RES_OPEN = 0,    /* a handle */
  AL_RES_CLOSING = 1, /* a handle whose close callback has not run */
  AL_RES_PENDING = 2, /* a request whose callback has not run */
  AL_RES_LINK = 3     /* the registry's own: a handle's note of a request
                         started on it (al_req_start_on); never copied out */
};

/* One tracked handle or request: 56 bytes, the most of what asyncleak
 * keeps for each (docs/performance.md). */
struct al_res {
  uintptr_t addr;
  struct al_res *next;
  const struct al_stack *stack;
  void *cb;         /* the program's close callback while closing, a
                       request's callback while pending, or the handle it
                       was started on (al_req_start_on); for an open
                       handle with such requests, the registry's count
                       at which to forget those completed */
  uintptr_t loop;   /* address of the loop it belongs to */
  uint64_t seq;     /* creation order, process-wide */
  uint32_t born_ms; /* a request: al_now_ms() when it was started, modulo
                       2^32, which tells ages up to 49 days; an open
                       handle: how many requests are noted on it */
  unsigned tid : 22;  /* creating thread (Linux's ids are below 2^22) */
  unsigned type : AL_RES_TYPE_BITS; /* the loop library's own type number */
  unsigned state : 2;                /* enum al_res_state */
  unsigned shim : AL_RES_SHIM_BITS;  /* index into al_shims */
};
_Static_assert(sizeof(struct al_res) == 56 || sizeof(void *) != 8,
               "a record is 56 bytes");

enum {
  AL_LOOP_DEFAULT = 1,   /* the library's default loop */
  AL_LOOP_INHERITED = 2, /* made before fork, in the parent */
  AL_LOOP_REPLACED = 4,  /* initialised again at its address, never closed */
  AL_LOOP_UNLOADED = 8,  /* its library was unloaded (dlclose) while open */
  AL_LOOP_FREED = 16     /* freed, with resources of the program's still on
                            it (libevent's event_base_free): kept for them */
};

/* What a loop keeps for its shutdown: a function to call (run_finally),
 * a resource to close unless closed (ensure_closure), a handle or request
 * the shutdown waits for (shutdown_waits_for), or an order between two
 * functions to call (finally_after). */
enum al_fin_kind { AL_FIN_CALL, AL_FIN_ENSURE, AL_FIN_WAIT, AL_FIN_AFTER };

struct al_fin {
  struct al_fin *next;
  void (*fn)(void *loop, void *arg); /* AL_FIN_CALL; AL_FIN_AFTER: the later */
  void *arg;                         /* its argument, the resource, or the
                                        handle or request waited for */
  void (*before_fn)(void *loop, void *arg); /* AL_FIN_AFTER: the earlier */
  void *before_arg;                         /* AL_FIN_AFTER */
  int (*is_closed)(void *resource);  /* AL_FIN_ENSURE */
  void (*close)(void *resource);     /* AL_FIN_ENSURE */
  const struct al_stack *stack;      /* AL_FIN_ENSURE: where registered */
  uint8_t kind;                      /* enum al_fin_kind */
  uint8_t what;                      /* AL_FIN_WAIT: enum al_kind */
};

/* One loop not closed yet. A loop that closes is counted and freed. */
struct al_loop {
  struct al_loop *next;  /* the registry's, in order of creation */
  struct al_loop **link; /* what points at it in that order */
  struct al_loop *chain; /* the next in its bucket of the open loops */
  uintptr_t addr;
  const struct al_stack *stack;
  uint64_t serial;      /* 1, 2, ... in order of creation */
  uint64_t first_seq;   /* resources made on it have a seq from here on */
  pid_t tid;            /* creating thread */
  pid_t run_tid;        /* the thread that last began running it, or 0 */
  unsigned flags;
  unsigned busy_closes; /* closes that failed because handles were open */
  uint8_t shim;
  uint8_t shut_down;    /* a shutdown ran and drained it */
  unsigned nfins;       /* entries in fins */
  unsigned sweep_at;    /* nfins at which closed resources are forgotten */
  struct al_fin *fins;  /* AL_FIN_CALL and AL_FIN_ENSURE, newest first */
  struct al_fin *waits; /* AL_FIN_WAIT */
  struct al_fin *afters; /* AL_FIN_AFTER */
};

#define AL_MAX_SHIMS (1 << AL_RES_SHIM_BITS)
extern const struct al_shim *al_shims[AL_MAX_SHIMS];
/* Registers a shim once and returns its index. */
uint8_t al_shim_register(const struct al_shim *s);
/* Whether the handle at addr, made on loop, is still open: the shim's
 * handle_open, or its record and probe (lib/finally.c). */
int al_handle_open(const struct al_shim *sh, uintptr_t loop, uintptr_t addr);

/* Records a resource the program created. `stack` may be NULL. */
void al_res_open(uint8_t shim, uintptr_t addr, unsigned type, uintptr_t loop,
                 const struct al_stack *stack);
/* The program asked to close addr. Returns the record's seq and stores cb
 * when addr is tracked and open, 0 when it is not ours to follow. */
uint64_t al_res_closing(uintptr_t addr, void *cb);
/* Changes the open record at addr: its type unless type < 0, its loop
 * unless loop is 0. Returns its type before, or -1 when none is open. */
int al_res_update(uintptr_t addr, int type, uintptr_t loop);
/* Forgets the open record at addr, as a close that completed at once
 * would: 1, or 0 when none was open. */
int al_res_forget(uintptr_t addr);
/* A close that al_res_closing accepted (and numbered seq) did not happen. */
void al_res_close_aborted(uintptr_t addr, uint64_t seq);
/* Closing finished: forgets addr and returns the program's callback in
 * *cb. Returns 0 when no closing record was found. */
int al_res_closed(uintptr_t addr, void **cb);

/* Records a request the program started, whose callback cb (NULL when it
 * has none) has not run. Returns 0, or -1 when no record could be made:
 * then the request is not to be followed. */
int al_req_start(uint8_t shim, uintptr_t addr, unsigned type, uintptr_t loop,
                 void *cb, const struct al_stack *stack);
/* Records a request started on the open handle at `handle` whose
 * completion its shim learns from that handle (req_pending), the call
 * that started it having returned: the program's callback stays in the
 * request, and the record is forgotten once the shim finds it completed,
 * which the registry asks whenever it is read (lookups, copies,
 * snapshots), when another request is started on the handle, and when
 * the handle's close completes. Returns 0, or -1 when the handle is not
 * open in the registry or no record could be made: then the request is
 * not followed. */
int al_req_start_on(uint8_t shim, uintptr_t addr, unsigned type,
                    uintptr_t loop, uintptr_t handle,
                    const struct al_stack *stack);
/* Whether a request of the program's on the loop is pending: one made
 * from seq on, or with seq 0, one made on the loop open at addr (not on
 * an older loop at the same address). */
int al_req_pending_on(uintptr_t loop, uint64_t seq);
/* An upper bound of the records on the loop at addr, the handles' notes
 * of their requests and records of older loops at that address included:
 * 0 when there is none, -1 when it is not known. Lock-free. */
long al_loop_records(uintptr_t loop);
/* How many records the registry holds, the handles' notes of their
 * requests included; for tests. */
size_t al_registry_records(void);
/* The request at addr completed (its callback is about to run, or it
 * never started): forgets it and returns the program's callback in *cb.
 * Returns 0 when no pending request was found. */
int al_req_done(uintptr_t addr, void **cb);
/* Whether a request is pending at addr. */
int al_req_pending(uintptr_t addr);
/* Copies the newest pending request at addr into *out: 0, or -ENOENT. */
int al_req_get(uintptr_t addr, struct al_res *out);
/* The same, and also a request settled by its handle (al_req_start_on)
 * that its library let go of: for the callback of that request, which
 * the library calls once it has let go. */
int al_req_get_called(uintptr_t addr, struct al_res *out);
/* The same for the newest open record at addr. */
int al_res_get(uintptr_t addr, struct al_res *out);
/* The same for the newest record at addr in the given state. */
int al_res_get_state(uintptr_t addr, enum al_res_state state,
                     struct al_res *out);

/* Records a loop. A fresh loop (the library initialised the memory) is a
 * new loop even where one is open at addr, which then stays reported as
 * never closed. Otherwise an open loop at addr is completed with flags, and
 * with stack if it has none. Returns the loop's serial. */
uint64_t al_loop_open(uint8_t shim, uintptr_t addr, unsigned flags,
                      const struct al_stack *stack, int fresh);
/* Notes that the calling thread runs the loop at addr. */
void al_loop_ran(uint8_t shim, uintptr_t addr);
/* The child of a fork took over the loop at addr, made in the parent
 * (uv_loop_fork, libevent's event_reinit, ev_loop_fork): it is the
 * child's to close and report from here on, and its graceful wake-up is
 * the child's. */
void al_loop_adopt(uintptr_t addr);
/* A close of the loop failed because handles were still open. */
void al_loop_close_busy(uintptr_t addr);
/* The loop library freed the loop with records of the program's still on
 * it: they stay, reported, and the loop counts as closed (AL_LOOP_FREED).
 * A loop made at addr later is another. */
void al_loop_freed(uintptr_t addr);
/* The shim's library was unloaded: its loops still open are flagged
 * AL_LOOP_UNLOADED, and nothing is done with them any more. */
void al_loops_unloaded(uint8_t shim);
/* The loop closed: it and every record still on it are gone. serial 0
 * means whatever loop is open at addr. */
void al_loop_closed(uintptr_t addr, uint64_t serial);
/* Serial of the open loop at addr, 0 if none. */
uint64_t al_loop_serial(uintptr_t addr);

/* Finalizers, kept on the loop they belong to. add returns 0, or -ENOENT
 * when no loop is open at addr; *sweep is set when the loop holds so many
 * that closed resources should be forgotten (al_loop_fin_take, then put
 * back what stays). remove takes the newest AL_FIN_CALL of fn with arg:
 * 0 or -ENOENT. */
int al_loop_fin_add(uintptr_t addr, struct al_fin *f, int *sweep);
int al_loop_fin_remove(uintptr_t addr, void (*fn)(void *, void *), void *arg);
/* Detaches the loop's finalizers, newest first. */
struct al_fin *al_loop_fin_take(uintptr_t addr);
/* Frees a list of finalizers. */
void al_fins_free(struct al_fin *f);
/* Detaches the loop's newest finalizer, or returns NULL. */
struct al_fin *al_loop_fin_pop(uintptr_t addr);
/* Calls visit(loop, ctx) with the loops locked, for the open loop at
 * addr, and returns what it returns, or -ENOENT: for the finalizers'
 * order (finally.c, finorder.c), which reads and changes the loop's
 * fins, nfins and afters. visit must not call back into the loops; it
 * may ask the records. */
int al_loop_fins_visit(uintptr_t addr, int (*visit)(struct al_loop *l, void *ctx),
                       void *ctx);
/* After a sweep: the next comes when the loop holds twice what is left. */
void al_loop_sweep_done(uintptr_t addr);
/* Forgets the protected handles for which open(loop, addr) is 0, and the
 * protected requests no longer pending. */
void al_loop_waits_prune(uintptr_t addr, int (*open)(uintptr_t, uintptr_t));
/* Copies the addresses of up to max handles or requests (what; both for
 * AL_KIND_NONE) the loop's shutdown waits for into out; returns how
 * many. */
size_t al_loop_waits(uintptr_t addr, enum al_kind what, uintptr_t *out,
                     size_t max);
/* Notes that the loop at addr had its shutdown: another one runs only for
 * finalizers registered since. */
void al_loop_shut_down(uintptr_t addr);
/* The loop at addr, made known to the registry if a loop library claims
 * it: a program that only links libasyncleak (through a library) calls
 * libuv directly, so its loops were never seen being made. 0 and a copy
 * in *out, or -ENOENT. */
int al_loop_known(uintptr_t addr, struct al_loop *out);
/* Copies the open loop at addr into *out (lists left out): 0, or -ENOENT. */
int al_loop_get(uintptr_t addr, struct al_loop *out);
/* Copies every loop (lists left out) into a malloc'd array; never waits
 * long for the lock (exit may come from a signal handler). Returns the
 * count, or (size_t)-1 when the list could not be read. */
size_t al_loop_list(struct al_loop **out);
/* Copies the records on the loop made from first_seq on, in one of the
 * states of the mask (1 << enum al_res_state), into a malloc'd array;
 * returns the count. */
size_t al_res_on_loop(uintptr_t loop, uint64_t first_seq, unsigned states,
                      struct al_res **out);
/* The next record's seq: what is made from now on has this one or more. */
uint64_t al_res_next_seq(void);
/* Whether a record at addr with this seq is still open or closing. */
int al_res_alive(uintptr_t addr, uint64_t seq);

/* A consistent copy of the registry for reporting. */
struct al_snapshot {
  struct al_res *res;    /* open records, inherited ones left out */
  size_t nres;
  struct al_loop *loops; /* loops not closed, inherited ones included */
  size_t nloops;
  uint64_t loops_closed; /* since start (or fork) */
  uint64_t created;      /* handles recorded since start (or fork) */
  uint64_t requests;     /* requests recorded since start (or fork) */
  unsigned shims_seen;   /* bit per shim that saw a loop or a resource */
  unsigned unreadable;   /* parts of the registry whose lock was never free */
  struct al_shutdown_entry *shutdowns; /* what the shutdowns did */
  size_t nshutdowns;
  size_t shutdowns_dropped; /* more than were kept */
  struct al_note *notes;    /* resources closed for the program */
  size_t nnotes;
  size_t notes_dropped;
  size_t notes_dropped_kind[3]; /* of those, by enum al_note_kind */
  struct al_finding *findings;  /* of the debug checks, by group */
  size_t nfindings;
  uint64_t findings_dropped;    /* findings that found no group */
};

/* Never waits long for a lock: exit() may come from a signal handler that
 * interrupted this very thread inside the registry. What stays locked is
 * counted in s->unreadable. Returns -1 when out of memory. */
int al_registry_snapshot(struct al_snapshot *s);
/* The same with the records made before a fork, in the parent, which a
 * live query lists: they are what the child holds too. Those have a seq
 * below al_registry_inherited_below(). */
int al_registry_snapshot_live(struct al_snapshot *s);
uint64_t al_registry_inherited_below(void);
void al_snapshot_release(struct al_snapshot *s);

/* In a fork child, its locks free again (lib/locks.c): records made
 * before the fork are marked inherited. */
void al_registry_atfork_child(void);
/* Whether the calling thread forks for daemon() (lib/daemon.c): in the
 * child, the records made before the fork stay its own. */
int al_daemon_forking(void);
/* In daemon()'s child: what the forking thread (old_tid) made is now the
 * child's main thread's (new_tid). */
void al_registry_daemon_child(pid_t old_tid, pid_t new_tid);
/* Forgets everything; for unit tests, and for daemon()'s parent, which
 * hands all it has to the child. */
void al_registry_reset(void);

/* ------------------------------------------------------------- shutdown */

/* What started a loop's shutdown. */
enum al_why {
  AL_WHY_CLOSE,  /* the program closed the loop */
  AL_WHY_CALL,   /* asyncleak_loop_close */
  AL_WHY_EXIT,   /* the process exited with the loop open */
  AL_WHY_SIGNAL  /* graceful_signals: SIGINT or SIGTERM */
};

/* Why a loop's finalizers did not run. */
enum al_skip {
  AL_SKIP_NONE,
  AL_SKIP_IN_CALLBACK, /* the loop was running on this thread's stack */
  AL_SKIP_THREAD       /* exit came on a thread that does not run it */
};

/* What became of the handles open when a shutdown began. */
struct al_verdicts {
  unsigned at_start;
  unsigned by_finalizer; /* closed while a finalizer ran */
  unsigned by_program;   /* closed by the program's callbacks meanwhile */
  unsigned by_force;     /* closed by force_close */
  unsigned still_open;   /* open when the deadline passed */
  unsigned cancelled;    /* requests cancelled by force_close */
};

#define AL_FIN_NAMED 8

/* A finalizer a shutdown ran, for the report. */
struct al_fin_ran {
  void *fn;
  void *held_by;    /* it ran at the deadline, its prerequisite fn's work
                       not done; else NULL */
  uint32_t work_ms; /* from its call to its work done */
  uint8_t done;     /* its work was done (work_ms holds) */
};

/* One loop's shutdown, kept for the report. */
struct al_shutdown_entry {
  uint64_t serial;
  uintptr_t loop;
  const struct al_stack *stack; /* where the loop was made */
  uint8_t shim;
  uint8_t why;       /* enum al_why */
  uint8_t skip;      /* enum al_skip */
  uint8_t timed_out; /* the drain reached drain_timeout_ms */
  uint8_t forced;    /* force_close was on */
  unsigned nran;     /* finalizers that ran */
  struct al_fin_ran ran[AL_FIN_NAMED]; /* the first of them, in order */
  struct al_verdicts v;
};

/* A resource asyncleak closed because the program had not. */
enum al_note_kind { AL_NOTE_FORCED, AL_NOTE_ENSURED, AL_NOTE_CANCELLED };

struct al_note {
  uintptr_t addr;
  const struct al_stack *stack; /* forced, cancelled: creation; ensured:
                                   registration */
  void *fn;                     /* ensured: the close function */
  uint64_t serial;              /* the loop's */
  pid_t tid;                    /* forced, cancelled: the creating thread */
  uint16_t type;
  uint8_t shim;
  uint8_t kind; /* enum al_note_kind */
};

/* Runs the loop's shutdown: its finalizers (newest first, in rounds while
 * they register more), a drain of their work, then, with force_close and
 * only on a graceful signal or in asyncleak_loop_close, a close of every
 * handle left open and another drain, all within drain_timeout_ms.
 * Returns 0 (also when there was nothing to do), -ENOENT for an unknown
 * loop, -EDEADLK when the loop is running on this thread's stack (nothing
 * runs; the finalizers stay), -ETIMEDOUT, or AL_SHUTDOWN_CLOSED when a
 * finalizer or a callback closed the loop meanwhile: its memory may be
 * freed, and the caller must not touch it. */
#define AL_SHUTDOWN_CLOSED 1
int al_shutdown(uintptr_t loop, enum al_why why);
/* The program, a finalizer or force began closing the handle at addr of
 * the loop: for the verdicts of a shutdown under way on this thread. */
void al_shutdown_saw_close(uintptr_t loop, uintptr_t addr);
/* A finalizer of a shutdown under way on this thread asked it to wait for
 * the handle or request at addr: that is the finalizer's work. */
void al_shutdown_saw_wait(uintptr_t loop, uintptr_t addr, enum al_kind what);
/* Whether a handle the loop's shutdown waits for is still open, or a
 * request it waits for still pending. */
int al_shutdown_holds(uintptr_t loop);
/* Whether force_close closed the handle at addr: a later close of it by
 * the program must not reach the loop library (it would abort). */
int al_shutdown_forced(uintptr_t addr);
/* Makes sure loops left open get their shutdown at exit, before the
 * libraries' destructors. Called when a loop gets something to shut down
 * and when a loop first runs: exit handlers registered from main run
 * before the loader's, those from constructors after. */
enum { AL_ARM_API = 1, AL_ARM_RUN = 2 };
void al_shutdown_arm(unsigned from);
/* Copies the shutdown log into s, waiting for its lock while *budget
 * (in ms) lasts. */
void al_shutdown_log_copy(struct al_snapshot *s, int *budget);
void al_shutdown_atfork_child(void);
/* Forgets the log; for unit tests. */
void al_shutdown_log_reset(void);

/* graceful_signals: SIGINT and SIGTERM stop the loops instead of killing. */
void al_graceful_install(void);
/* The signal that asked for a graceful shutdown, or 0. A caller that gets
 * one takes the shutdown on: it stops its loop and has its shutdown. */
int al_graceful_signal(void);
/* The same, without taking it on: for the exit, to end by it. */
int al_graceful_requested(void);
/* A loop began or ended running, for al_graceful_end to wait for. */
void al_graceful_running(int delta);
/* After a loop's graceful shutdown: once every running loop has had its
 * own (or drain_timeout_ms passed), writes the report and ends the
 * process as that signal would. */
void al_graceful_end(void);
void al_graceful_atfork_child(void);

/* ------------------------------------------------------------- symbols */

struct al_frame {
  uintptr_t pc;         /* the return address the frame was found from */
  const char *function; /* NULL when unknown; C++ names demangled */
  const char *symbol;   /* the name as linked (C++ mangled), or function */
  const char *file;     /* NULL without debug info */
  const char *dir;      /* where file was compiled, for a relative file;
                           NULL if unknown */
  int line;
  int body_line;        /* line less the line declaring the function, or
                           -1 when either is unknown */
  int inlined;          /* inlined into the next frame, at the same pc */
  uintptr_t sym_offset; /* with symbol, pc - the symbol's address */
  const char *module;   /* base name of the object, NULL if unmapped */
  uintptr_t offset;     /* pc - module load address */
  const char *near;     /* with no function, the nearest symbol before pc
                           in the module, or NULL */
  uintptr_t near_offset; /* pc - near's address */
};

struct al_buf;
struct al_symbolizer;
struct al_symbolizer *al_symbolizer_new(void);
/* Fills f for a return address (looked up at pc - 1): the innermost frame
 * there, inlined or not. Strings live as long as the symbolizer. */
void al_symbolize(struct al_symbolizer *s, uintptr_t pc, struct al_frame *f);
/* Fills up to max frames (max > 0) for a return address: the functions
 * inlined there, innermost first, each marked inlined, then the function
 * the code belongs to. Returns the number filled, at least 1. */
size_t al_symbolize_inlined(struct al_symbolizer *s, uintptr_t pc,
                            struct al_frame *f, size_t max);
void al_symbolizer_free(struct al_symbolizer *s);
/* An object dlclose unloaded, from its path, load bias and the span of
 * its segments: frames in it are still symbolized from its file. */
void al_symbolize_note_unloaded(const char *path, uintptr_t base,
                                uintptr_t lo, uintptr_t hi);
/* Writes, once, why some of the frames the symbolizer was asked for could
 * not be named (files it could not open, memory it could not get); nothing
 * when all could. Call after the last frame is symbolized. */
void al_symbolizer_put_note(struct al_buf *b, struct al_symbolizer *s);

/* Opens, while they can still be reached, the files the symbolizer reads
 * at exit: each loaded object's, its debug file's and its dwz file's
 * (lib/symfiles.c). To be called before the program gives them up: a
 * chroot, a seccomp filter that may refuse open(). May be called again;
 * keeps errno; takes a lock and allocates, so never from a signal
 * handler or a _Fork copy. */
void al_symbolize_prepare(void);
struct al_symfile;
/* The object prepared that the loader knows as loaded_as ("" for the
 * executable) at that load bias, or NULL. Takes no lock. */
const struct al_symfile *al_symfile_find(const char *loaded_as,
                                         uintptr_t bias);
/* Whether anything was prepared. */
int al_symfiles_any(void);
/* The descriptors held for the prepared files, up to max of them, into
 * out: how many. Takes no lock: for a report copy, which keeps them. */
size_t al_symfiles_fds(int *out, size_t max);
/* Its real path: the name of the module in the report. */
const char *al_symfile_name(const struct al_symfile *f);
/* A new descriptor on its file, for the caller to close; -1 when it
 * cannot be read any more. */
int al_symfile_open(const struct al_symfile *f);
/* A new descriptor on its debug file, or, asked with link and no crc as
 * libdwfl asks for a dwz file, on the dwz file of that name; -1 when none.
 * *path, when given, gets a malloc'ed copy of the file's name. */
int al_symfile_open_debug(const struct al_symfile *f, const char *link,
                          unsigned crc, char **path);

/* ------------------------------------------------------------- suppressions */

struct al_supp {
  struct al_supp_rule rule;
  const char *file; /* where it was read */
  unsigned line;
};

/* Reads the suppression files (paths separated by '\n'), warning about
 * each malformed line and unreadable file, which are left out. Returns the
 * number of those. */
int al_suppressions_load(const char *paths);
/* Adds the rules of one suppressions file's text, len bytes that need not
 * be terminated, as al_suppressions_load does for each file it reads. The
 * rules and the warnings name the file name, which must outlive the rules.
 * Returns the number of lines left out. */
int al_suppressions_parse(const char *name, const char *text, size_t len);
/* The rules read, in the order read. */
size_t al_suppressions(const struct al_supp **out);
/* The index of the first rule covering a leak of this kind and type whose
 * pattern matches one of its frames, or -1. */
long al_suppression_find(int is_request, const char *type,
                         const struct al_frame *frames, size_t n);
/* Reads a baseline file, warning about what is wrong with it. Returns the
 * number of problems. */
int al_baseline_load(const char *path);
/* Whether fp (AL_FINGERPRINT_LEN hex digits) is in the baseline. */
int al_baseline_has(const char *fp);
/* Forgets both; for unit tests. */
void al_suppress_reset(void);

/* ------------------------------------------------------------- sites */

struct al_buf;

/* A leak group's creation site, symbolized, and what the user's files say
 * of it. */
struct al_site {
  struct al_frame frames[64];
  uint32_t depth;
  int own;      /* the first frame with a file in the program's own code
                   (not the C library's, the loader's, asyncleak's or the
                   loop library's), or -1 */
  long supp;    /* the suppression covering it, or -1 */
  int baselined;
  char fingerprint[AL_FINGERPRINT_LEN + 1];
};

/* Symbolizes stack (NULL when none was captured), inlined calls expanded
 * into frames of their own, and judges it. Its fingerprint hashes the
 * kind, the type and, for each frame down to main but the C library's and
 * the loader's, what tells the call site apart without moving with edits
 * elsewhere: the function's linkage name and the call's line counted from
 * the function's own line, or the callee's name without debug info, or the
 * module and the offset from the nearest symbol without a name (see
 * docs/design.md, Stacks). */
/* Whether a module (a file's base name) is the C library, one of its
 * companions or the loader: never the program's code. */
int al_module_is_system(const char *module);
void al_site_judge(struct al_symbolizer *sym, const struct al_stack *stack,
                   int is_request, const char *type, struct al_site *out);
/* Judges out's frames (frames and depth filled in), as al_site_judge does
 * once it has symbolized them. */
void al_site_judge_frames(int is_request, const char *type,
                          struct al_site *out);
/* The line --gen-suppressions prints for it: "uv_timer:^start_timer$",
 * the kind al_supp_kind_of(type) (type as al_site_judge was given it),
 * then the program's own frame, else the narrowest frame that is not the
 * C library's, the loader's or asyncleak's, else a comment. */
void al_site_put_suppression(struct al_buf *b, const struct al_site *s,
                             const char *type);
/* The frames of s, a line each, for the asyncleak command: head, then
 * the fields of a "frame" line, separated by tabs. */
void al_site_put_frames_as(struct al_buf *b, const char *head,
                           const struct al_site *s);
/* The record of a leak group for the asyncleak command (<pid>.rec): a
 * "leak" line and a "frame" line per frame, inlined ones included, fields
 * separated by tabs. */
void al_site_put_record(struct al_buf *b, const char *state,
                        const char *type, size_t count,
                        const struct al_site *s);
/* Its "frame" lines alone. */
void al_site_put_frames(struct al_buf *b, const struct al_site *s);
/* Its frames as the text report writes a stack ("    #0 0x... in f
 * file:line"), escaped (lib/report.c). */
void al_report_put_frames(struct al_buf *b, const struct al_site *s);

/* ------------------------------------------------------------- report */

struct al_buf {
  char *data;
  size_t len, cap;
  int failed; /* an allocation failed; contents are truncated */
};

void al_buf_printf(struct al_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Appends s, text the program controls, escaped by al_escape(); "?" for
 * NULL. */
void al_buf_put_text(struct al_buf *b, const char *s);
void al_buf_release(struct al_buf *b);

struct al_report_totals {
  size_t open;       /* the program's handles open */
  size_t closing;    /* its handles whose close did not complete */
  size_t pending;    /* the program's requests pending */
  size_t forced;     /* handles closed by force_close */
  size_t cancelled;  /* requests cancelled by force_close */
  size_t ensured;    /* resources closed by ensure_closure */
  size_t suppressed; /* handles and requests a suppression covered */
  size_t suppressed_groups;
  size_t baselined;  /* those the baseline covered */
  size_t baselined_groups;
  size_t groups;     /* creation sites, of handles and of requests */
  size_t req_groups; /* of requests */
  size_t closing_groups; /* of handles closing */
  size_t loops;
  size_t loops_unclosed;
  unsigned unreadable;
  uint64_t findings;  /* of the debug checks, at exit only */
  size_t finding_groups;
  uint64_t findings_dropped; /* counted, not kept */
  uint64_t created;  /* handles */
  uint64_t requests; /* requests */
  unsigned shims_seen;
};

/* How a process ends: exit() or a return from main, or, without exit's
 * handlers, _exit(), a signal it does not handle, or a crash. */
enum al_end_kind { AL_END_EXIT, AL_END_EXIT_NOW, AL_END_SIGNAL, AL_END_CRASH };
struct al_ending {
  enum al_end_kind kind;
  int signal; /* AL_END_SIGNAL, AL_END_CRASH */
  int status; /* AL_END_EXIT_NOW */
};

/* Where the report goes. */
struct al_report_out {
  int color;          /* escape sequences in the text */
  struct al_buf *rec; /* the records for the asyncleak command, or NULL */
  const struct al_ending *ending; /* NULL: at exit */
  /* When not NULL, *listed gets a malloc'd copy of the records the
   * report lists (none hidden by a suppression or the baseline), and
   * *nlisted their count; NULL and 0 when there are none, or no memory. */
  struct al_res **listed;
  size_t *nlisted;
};

/* A report on part of the registry, in the middle of the program. */
struct al_report_scope {
  uint64_t since; /* only what was made from this seq on */
};

/* Formats the report of snapshot s into b (nothing when nothing is open)
 * and fills totals. With a scope, only what it covers of the handles and
 * requests, without loops or shutdowns: a check, not the exit report.
 * Leaks the user's suppressions or baseline cover are left out of the
 * totals. out, when given, asks for colour and for the records.
 * Returns 0, or -1 when out of memory (the totals or text incomplete). */
int al_report_format(struct al_snapshot *s, struct al_buf *b,
                     struct al_report_totals *t,
                     const struct al_report_scope *scope,
                     const struct al_report_out *out);
/* The handles and requests of the totals that fail the run: left open or
 * pending, closed or cancelled by force, with fail_on_closing those whose
 * close did not complete, and with fail_on_findings the findings of the
 * debug checks. */
size_t al_report_failing(const struct al_report_totals *t);
/* Whether a report written to fd gets colour: the color option, which by
 * default means on a terminal unless NO_COLOR is set. */
int al_report_color(int fd);

/* Whether the program's calls to a loop library bypass the runtime, which
 * then sees none of them (lib/linkorder.c): -1, after writing why and the
 * fix to out unless it is NULL, or 0. Keeps errno. Not for signal
 * handlers. */
int al_link_bypassed(FILE *out);

/* ------------------------------------------------------------- isolation */

/* The calling thread's stack, [lo, top), and the part of it below from
 * (a frame address of the caller's), [lo, hi): frames that have returned,
 * whose memory is gone or reused. Empty when the stack cannot be known. */
struct al_dead_stack {
  uintptr_t lo, hi, top;
};
struct al_dead_stack al_dead_stack(uintptr_t from);
static inline int al_in_dead_stack(const struct al_dead_stack *d,
                                   uintptr_t addr) {
  return addr >= d->lo && addr < d->hi;
}
static inline int al_in_stack(const struct al_dead_stack *d, uintptr_t addr) {
  return addr >= d->lo && addr < d->top;
}

/* What al_isolate did. */
struct al_isolated {
  size_t handles, stopped, unreferenced, active; /* active: left so */
  size_t requests;                               /* pending, left so */
  size_t dropped; /* beyond what the set holds: later drains count them */
};

/* Sets aside the n records a failed check listed, so that they no longer
 * affect the tests that follow (docs/harness.md): each is left out of
 * later drains, and each active handle whose loop the calling thread
 * owns and is not running, whose loop lies outside the dead part of the
 * stack and whose memory lies outside the stack, is quieted by its shim.
 * Nothing is closed or cancelled. */
void al_isolate(const struct al_res *res, size_t n,
                const struct al_dead_stack *dead, struct al_isolated *out);
/* asyncleak_check_since, then, when it fails, al_isolate of what it
 * listed, told on out after the report; the stack below live_from is
 * dead (al_dead_stack). */
struct asyncleak_snapshot;
size_t al_check_and_isolate(const struct asyncleak_snapshot *s, FILE *out,
                            uintptr_t live_from);
/* Whether the record of this seq was set aside. */
int al_isolated(uint64_t seq);

/* ------------------------------------------------------------- runtime */

/* Makes sure the runtime is initialised; cheap after the first call. */
void al_init_slow(void);
extern atomic_int al_ready;
static inline void al_init(void) {
  if (AL_UNLIKELY(!atomic_load_explicit(&al_ready, memory_order_acquire)))
    al_init_slow();
}

/* Takes the verdict and writes the report, once per process. */
void al_report_write(void);
/* Whether the report has been written (or is being written). */
int al_report_written(void);
/* In a copy of process pid, made as it ends another way than exit():
 * writes its report, with pid's name (lib/ending.c). */
void al_report_write_as(pid_t pid, const struct al_ending *how);
/* The pid the report speaks for: this process's, or the one a copy
 * writes for. */
pid_t al_pid(void);

/* Moves fd, the runtime's own, close-on-exec, to the first free number
 * from the top of what the program is likely to use (its soft limit on
 * open files, at most 1024) less room, or at least above 2 (lib/fds.c).
 * Returns the number it has now; fd itself when it cannot be moved. */
int al_fd_move_high(int fd, int room);

/* Graceful signals in a prefork server (lib/children.c). Around the
 * program's fork: begin reserves the child's slot (-1: not followed) in
 * the page it shares with the parent, end keeps the child's pidfd in the
 * parent, and the slot in the child. */
int al_children_fork_begin(void **parent_page);
void al_children_fork_end(int slot, pid_t pid, void *parent_page);
void al_children_atfork_child(void);
/* This process, a followed fork child, made or took over a loop: it is a
 * worker, which a graceful signal is passed on to; or it executes
 * another program, and is not. */
void al_children_made_loop(void);
void al_children_exec(void);
void al_children_exec_failed(void);
/* Passes a graceful signal on to the workers (returns how many), and
 * waits up to ms for them to end. */
unsigned al_children_signal(int sig);
void al_children_wait(unsigned ms);
/* Children of this process that could not be followed. */
unsigned al_children_unfollowed(void);

/* The report file (lib/reportfile.c): the one file in the report
 * directory through which the process tells the asyncleak command what it
 * runs, which loop libraries it uses and, at exit, its report. Created as
 * the runtime starts in a process (forked_from 0) or in a fork child
 * (forked_from: the parent), and kept open for the life of the process.
 * All of these use system calls only: they run in fork children, report
 * copies and signal handlers, and keep errno. */
void al_reportfile_start(pid_t forked_from);
/* The descriptor the file is held at, unchecked, or -1: for a report
 * copy, which closes every other. */
int al_reportfile_fd(void);
/* Whether the asyncleak command asked for one (report_dir is set). */
int al_reportfile_ready(void);
/* A process the runtime did not see start (made with clone() or _Fork()
 * by the program) gets its own file before its report. */
void al_reportfile_claim(void);
/* Its name in the report directory, for messages; NULL when none. */
const char *al_reportfile_name(void);
/* Why the process has no file (an errno value), or 0. */
int al_reportfile_errno(void);
/* Whether the report file at fd ends with a finished report: its blocks
 * are walked by their lengths, and the "@sum" block is the last one a
 * process writes. Lines of any length; reads of 255 bytes at most. */
int al_reportfile_finished(int fd);
/* Writes text, whole lines, in one system call: 0, or -1 with errno.
 * Nothing is written once the ending is sealed (al_ending_sealed). */
int al_reportfile_put(const char *text, size_t len);
/* The same from up to 4 pieces. */
struct iovec;
int al_reportfile_putv(const struct iovec *iov, int n);
/* Writes "@kind <len>\n", the data and a newline in one system call: 0, or
 * -1 with errno. */
int al_reportfile_block(const char *kind, const char *data, size_t len);
/* Writes a "key=value" line; newlines in value become spaces. */
void al_reportfile_line(const char *key, const char *value);
/* "uses=<library>": the first time the program uses that library. */
void al_reportfile_uses(const char *library);
/* "key=<before><n><after>". */
void al_reportfile_line_n(const char *key, const char *before,
                          unsigned long long n, const char *after);
/* file, found along PATH as execvp() would when search_path is set, made
 * absolute, into out (lib/exec.c): out, or NULL when file is NULL. */
const char *al_exec_path(const char *file, int search_path, char *out,
                         size_t size);
/* The same into a page of its own, off the stack: NULL when file is NULL
 * or there is no memory. Given back with al_exec_path_unmap (NULL too). */
char *al_exec_path_map(const char *file, int search_path);
void al_exec_path_unmap(char *path);
/* "child=<pid>-<start>", or with exec "child=<pid>-<start> <exec>" (or
 * "child_untraced=..." when untraced): a child this process just made, so
 * that the command knows of it before the child can make its own file. */
void al_reportfile_child(pid_t pid, const char *exec, int untraced);
/* "error=<before><n><after>": why the report will not be complete. */
void al_reportfile_error_n(const char *before, unsigned long long n,
                           const char *after);

/* The ends without exit() (lib/ending.c): _exit(), _Exit() and the signals
 * whose default action kills. Installs the runtime's handlers where the
 * program has none. */
void al_ending_init(void);
void al_ending_atfork_child(void);
/* Installs sa for sig if its disposition is the default, and hides it from
 * the program: 0, or -1 when the program's disposition stays. */
int al_signal_take(int sig, const struct sigaction *sa);
/* The name of sig after "SIG" ("TERM", "RTMIN+3") and its description
 * ("Terminated", "Real-time signal 3"), in buf when libc has none. */
const char *al_signal_abbrev(int sig, char *buf, size_t len);
const char *al_signal_descr(int sig, char *buf, size_t len);
/* The program installs a seccomp filter (lib/seccomp.c): from now on the
 * runtime writes no report and keeps no handler of its own on the deadly
 * signals, which it gives back to their default action. Returns 1 when
 * this call sealed the ending, 0 when it already was. Not for signal
 * handlers. */
int al_ending_seal(void);
/* The filter was not installed after all: the handlers come back. */
void al_ending_unseal(void);
/* Whether the ending is sealed: no system call at exit that the program
 * would not have made. Async-signal-safe. */
int al_ending_sealed(void);
/* Why this process will leave no report, as a phrase ("seccomp filter
 * installed by the program"), or NULL to withdraw it (lib/cause.c). Static
 * text only: it is kept, not copied. */
void al_report_cause(const char *cause);
const char *al_report_cause_told(void);
/* Ends the process by sig with its default action, now. */
__attribute__((noreturn)) void al_die_by_signal(int sig);
/* libc's _exit(), without a report. */
__attribute__((noreturn)) void al_exit_now(int status);
/* graceful_signals' handler (lib/graceful.c). */
void al_graceful_handler(int sig, siginfo_t *info, void *context);
/* A deadly signal's end, as without graceful_signals: the report written
 * by a copy of the process, then death by sig. Async-signal-safe. */
__attribute__((noreturn)) void al_ending_signal(int sig);

/* The calling thread's kernel thread id, cached. */
extern AL_TLS pid_t al_tid_cache;
pid_t al_gettid_slow(void);
static inline pid_t al_gettid(void) {
  pid_t tid = al_tid_cache;
  return AL_LIKELY(tid != 0) ? tid : al_gettid_slow();
}
/* In a fork child: the cached id is the parent thread's. */
void al_tid_forget(void);
/* Copies len bytes from addr into dst without faulting. Returns 0 on
 * success, -1 when the memory is not readable. */
int al_safe_read(void *dst, const void *addr, size_t len);
/* The executable segment of a loaded object that holds pc: 0, with its
 * bounds and whether the object is the executable itself; -1 when no
 * loaded object holds pc. */
int al_code_range(uintptr_t pc, uintptr_t *lo, uintptr_t *hi, int *in_exe);
/* The span of the loaded object that holds addr, from its lowest loadable
 * segment to the end of its highest (its data and bss included): 0, or
 * -1 when no loaded object holds addr. */
int al_object_range(uintptr_t addr, uintptr_t *lo, uintptr_t *hi);
/* The symbol name of the object already loaded under that name, unless it
 * is self (our own); NULL when either is not there. */
void *al_dlsym_in(const char *object, const char *name, void *self);
/* Which loop library a loaded object is: al_loop_library_name(), in
 * libnames.h, which the asyncleak command shares. */
/* A loop library's copy inside another loaded object (lib/copies.c),
 * which no interposer can watch. */
struct al_copy {
  const char *library; /* "libuv", "libevent", "libev" */
  char object[512];    /* the object's path */
};
/* Fills found with up to max copies in the loaded objects; returns how
 * many. */
size_t al_copies_find(struct al_copy *found, size_t max);
/* The decimal digits of n into buf (at least 21 bytes), terminated;
 * returns their number. Async-signal-safe. */
size_t al_put_ulong(char *buf, unsigned long long n);

/* Writes all of buf to fd, retrying on EINTR; a file size limit the
 * write meets makes it fail, without the SIGXFSZ that would kill the
 * process. 0, or -1 with errno. */
int al_write_all(int fd, const char *buf, size_t len);
/* The same for up to 4 pieces, in one system call when the file takes
 * them. own: fd is the runtime's own file, for which a soft file size
 * limit is raised to the hard one for the write. */
struct iovec;
int al_writev_all(int fd, const struct iovec *iov, int n, int own);
/* The C library's function name, which the runtime's own (ours)
 * interposes: the next definition after the runtime, or, when the runtime
 * was loaded after the C library, the first that is not ours. */
void *al_next_symbol(const char *name, void *ours);
/* Milliseconds of the monotonic clock, for ages and deadlines: the real
 * clock, never a loop's virtual one. */
uint64_t al_now_ms(void);

/* Virtual time (lib/vtime.c). The C library's clock_gettime, which the
 * runtime's own times use: the runtime exports clock_gettime. */
#include <time.h>
int al_clock_real(clockid_t id, struct timespec *ts);
/* Switches the loop's virtual time on or off: 0, or -ENOSPC when no more
 * loops can have one. On, the calling thread reads the loop's clock. */
int al_vtime_set(uintptr_t loop, int on);
/* A loop new to the registry: it has virtual time when the option says
 * so, and goes on from the clock of the thread that made it. */
void al_vtime_made(uintptr_t loop);
/* A run of loop begins on this thread: its clocks read the loop's time.
 * Returns what they read before, for al_vtime_leave when it ends. */
void *al_vtime_enter(uintptr_t loop);
void al_vtime_leave(void *prev);
/* A drain of the core's runs on this thread until end_ms (real), or
 * ends (0); returns the one it was inside of, to put back. */
uint64_t al_vtime_drain(uint64_t end_ms);
/* The loop library's own wait of timeout_ms, in a run of loop: whether
 * to make it without blocking, and advance the loop's clock by
 * timeout_ms when nothing is ready (al_vtime_advance). */
int al_vtime_skip(uintptr_t loop, uint8_t shim, int timeout_ms);
void al_vtime_advance(uintptr_t loop, int timeout_ms);
/* Some loop ever had virtual time: the waits look further. */
int al_vtime_in_use(void);
struct al_vtime_totals {
  unsigned loops;       /* loops that had virtual time */
  unsigned refused;     /* loops that asked and had none: no slot left */
  unsigned long jumps;  /* waits skipped */
  uint64_t advanced_ns; /* the clocks' offsets, added up */
};
void al_vtime_totals(struct al_vtime_totals *t);
/* For the harness: a mark, then switches off the virtual time that the
 * calling thread switched on through the API since it. */
unsigned long al_vtime_generation(void);
void al_vtime_api_off(unsigned long since);
/* The same, as of the clock's last tick (up to a few ms behind): for
 * times only shown, on hot paths. */
uint64_t al_coarse_ms(void);
/* The runtime's locks, their order and fork (lib/locks.c). */
#include "locks.h"

/* What a shim defers while its thread holds one of the runtime's locks
 * (lib/defer.c). Each returns 0, or -1 when there is no room: the event
 * is then counted as not followed. */
int al_defer_open(uint8_t shim, uintptr_t addr, unsigned type,
                  uintptr_t loop);
int al_defer_closed(uintptr_t addr);
/* A finding (lib/findings.c) of a signal handler's: its stack is taken
 * now, the rest copied. */
int al_defer_finding(const struct al_finding *f);
/* Counts what a signal handler made that could be neither followed nor
 * deferred. */
void al_defer_missed(void);
/* Events of signal handlers that interrupted the runtime and were lost. */
unsigned long al_defer_lost(void);

/* ------------------------------------------------------ live queries */

/* A run of a loop on some thread, and what that thread is doing: waiting
 * in the loop library's poll, or not (its callbacks and the library's own
 * work between them), since since_ms (al_coarse_ms). */
struct al_run_info {
  uintptr_t loop;
  uint64_t since_ms;
  pid_t tid;
  uint8_t shim;
  uint8_t waiting;
};
/* The runs in progress on every thread, up to max of them (lib/run.c);
 * al_run_unlisted() counts those the table had no room for. */
size_t al_run_list(struct al_run_info *out, size_t max);
unsigned al_run_unlisted(void);
/* Around a wait of the calling thread in poll, epoll_wait or select,
 * called from pc (lib/waits.c; NULL when the caller cannot be told, behind
 * another interposer): when the thread is inside a run and the call is
 * the loop library's, its run is waiting until al_run_wait_end is
 * given what al_run_wait_begin returned. Loads and stores only, for any
 * context. */
int al_run_wait_begin(const void *pc);
void al_run_wait_end(int slot);
/* The thread that answers `asyncleak ps` (lib/live.c), started once the
 * program has a loop; nothing with live=0. */
void al_live_start(void);
/* The answer to a live query: records of the loops, their runs and what
 * is open and pending on them (lib/livedump.c). */
void al_live_dump(struct al_buf *b);
/* The program is about to put itself under a seccomp filter that may
 * kill on a call the thread would make: the thread ends first. */
void al_live_stop(void);
/* The process is ending, and about to be copied with _Fork(): the live
 * thread takes no more questions, and the one it is answering, or its
 * birth, is waited for up to budget_ms. Async-signal-safe. */
void al_live_quiesce(unsigned budget_ms);
/* The program is about to make a call (AL_CALL_*) with flags that only a
 * process of one thread may make: the thread ends first, for good. */
enum { AL_CALL_UNSHARE = 1, AL_CALL_SETNS = 2 };
void al_live_single_threaded(long call, long flags);

/* Prints "asyncleak: <message>\n" to fd 2 in one write. */
void al_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif /* ASYNCLEAK_INTERNAL_H_ */
