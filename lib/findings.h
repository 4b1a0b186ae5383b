/* This file is private to asyncleak, included by internal.h: the findings
 * of the debug checks (lib/findings.c), and the table of handles whose
 * close was asked for that the use-after-close check reads (lib/closes.c).
 *
 * A finding is a call the program made that its loop library forbids or
 * that shows a bug, noticed as it happened: not a leak. Findings are
 * grouped by check, by the call, by the type of the handle and by both
 * stacks, and each group counts its findings and keeps their largest
 * value. Every check adds to the same table, which the exit report and the
 * command's machine-readable reports list apart from the leaks
 * (docs/debug-checks.md).
 */
#ifndef ASYNCLEAK_FINDINGS_H_
#define ASYNCLEAK_FINDINGS_H_

#include <stddef.h>
#include <stdint.h>

struct al_stack;

/* The checks. Each names what its second stack is. */
enum al_check {
  /* Use after close: a second close of a handle, or a start of one whose
   * close was asked for. The second stack: where it was first closed. */
  AL_CHECK_CLOSED,
  /* The wrong thread: a call on a loop, or on one of its handles, from a
   * thread other than the one running that loop right now. The second
   * stack: where that thread began its run of the loop. */
  AL_CHECK_THREAD,
  /* A callback of the program's that held its loop longer than
   * slow_callback_ms: the stack is the creation stack of the handle or
   * request the callback belongs to, the second a one-frame stack of the
   * callback function's address, value the longest time in ms. */
  AL_CHECK_SLOW,
  /* check_stacks: a creation stack the per-thread cache served that
   * differed from a full unwind made at the same call (lib/capture.c).
   * A finding about asyncleak, not the program: the stack is the one
   * served, the second the unwound one, which is what was recorded. */
  AL_CHECK_STACK,
  AL_CHECKS
};

struct al_finding {
  const struct al_stack *stack; /* the call that was wrong, or NULL */
  const struct al_stack *other; /* what explains it (see enum al_check),
                                   or NULL when it is not known */
  const char *call;  /* the function the program called: static text */
  uint64_t count;    /* findings of the group */
  uint64_t value;    /* the largest value of the group's findings (a time
                        in ms), 0 for a check that measures nothing */
  int32_t tid;       /* wrong-thread: the thread that called, and the */
  int32_t other_tid; /* one running the loop, of the group's first
                        finding; 0 for the other checks */
  uint16_t type;     /* the loop library's type number, or AL_TYPE_LOOP */
  uint8_t check;     /* enum al_check */
  uint8_t shim;      /* index into al_shims */
  uint8_t request;   /* type is a request type */
};

/* The type of a finding about the loop itself (a run, a close of the
 * loop), not one of its handles. */
#define AL_TYPE_LOOP 0xffff

/* The groups a process keeps: past them, findings are counted only. */
#define AL_FINDINGS_MAX 256

/* Records a finding of the calling thread's, with the stack of its call
 * captured here: what is in f but its stack and count. Keeps errno. From
 * any thread; a signal handler's, made while its thread holds one of the
 * runtime's locks, is deferred until the thread releases its last
 * (lib/defer.c), as the registry's events are. */
void al_finding_here(const struct al_finding *f);
/* Adds f (stack included, count at least 1) to its group. Takes the
 * findings' lock: not with a lock of a higher rank held. */
void al_finding_add(const struct al_finding *f);
/* Copies the groups into a malloc'd array, waiting for the lock while
 * *budget (in ms) lasts: their number, with *out NULL when there are none
 * or no memory. *dropped gets the findings that found no room. */
size_t al_findings_copy(struct al_finding **out, uint64_t *dropped,
                        int *budget);
/* The check's name in records and machine-readable reports
 * ("use-after-close"), and its title in the text report ("Use after
 * close"). */
const char *al_check_name(unsigned check);
const char *al_check_title(unsigned check);
/* In a fork child: the parent's findings are the parent's to report. */
void al_findings_atfork_child(void);
/* Forgets every finding; for unit tests, and for daemon()'s parent. */
void al_findings_reset(void);
/* How many findings the process made, dropped ones included. Lock-free,
 * async-signal-safe: for the note before an exec, which takes the report
 * of them with the old image. */
unsigned long long al_findings_made(void);

/* ---------------------------------------- the wrong thread (threads.c) */

/* The program called `call` on the loop, or on one of its handles of the
 * given type (AL_TYPE_LOOP for the loop itself; request: a request type):
 * a finding when another thread is running that loop right now, with the
 * call's stack and the stack where that thread began its run. Calls made
 * while no thread runs the loop are none: the program may hand a loop
 * between threads under its own locks. The shims call it only while
 * check_threads is on, only for the program's own calls, and never for
 * the calls their library documents as thread-safe. Keeps errno; loads
 * only until there is a finding. */
void al_thread_check(uint8_t shim, uintptr_t loop, const char *call,
                     unsigned type, int request);

/* ------------------------------------- in the report (findings-report.c) */

struct al_buf;
struct al_snapshot;
struct al_symbolizer;
struct al_report_totals;

/* Fills the totals' findings from the snapshot's. */
void al_findings_totals(const struct al_snapshot *s,
                        struct al_report_totals *t);
/* The text report's section: each group with both its stacks symbolized,
 * title and off around each group's first line (colour). Nothing when
 * there are none. */
void al_findings_put(struct al_buf *b, struct al_symbolizer *sym,
                     const struct al_snapshot *s, const char *title,
                     const char *off);
/* Their records for the asyncleak command: a "finding" line per group,
 * then a "finding_frame" line per frame of each stack
 * (docs/report-format.md). */
void al_findings_put_records(struct al_buf *rec, struct al_symbolizer *sym,
                             const struct al_snapshot *s);

/* --------------------------------------------- handles closed (closes.c) */

/* The program asked to close the handle at addr, which was not closed
 * before: keeps the stack of the call, until al_close_forget (replacing
 * what was kept of an older handle at addr). A bounded table:
 * the oldest entries make room for new ones. Keeps errno. A thread
 * inside the runtime (a signal handler) keeps nothing. */
void al_close_note(uintptr_t addr);
/* Whether a close of the handle at addr is kept: 1, with the stack of
 * that first close in *stack (NULL when none could be captured), or 0. */
int al_close_lookup(uintptr_t addr, const struct al_stack **stack);
/* The memory at addr became a handle again (initialised): whatever was
 * closed there before is forgotten. */
void al_close_forget(uintptr_t addr);
/* Empties the table; for unit tests. */
void al_closes_reset(void);

/* ------------------------------------------ slow callbacks (slow.c) */

/* One call of a program's callback timed by the slow-callback check
 * (slow_callback_ms). What the report needs of the handle or request is
 * taken before the call: the callback may close it, free it, or start a
 * new one at the same address. */
struct al_slow {
  uint64_t start; /* CLOCK_MONOTONIC, ns; 0: not timed */
  const struct al_stack *stack; /* the record's creation stack, or NULL */
  const char *call; /* what set the callback up: static text */
  void *fn;         /* the callback function, or NULL */
  uint16_t type;
  uint8_t shim;
  uint8_t request;
};

/* Before the program's callback fn, set up by call, of the handle or
 * request at addr of the loop library shim: looks up its record in the
 * given state (enum al_res_state: open, closing or pending) and starts
 * the clock. type is used when the runtime has no record of it; fn may
 * be set in s afterwards, before the call. Keeps errno. Only while
 * slow_callback_ms is on: the shims test it. */
void al_slow_begin(struct al_slow *s, const char *call, uint8_t shim,
                   unsigned type, int state, uintptr_t addr, void *fn);
/* After the callback returned: a finding when it took longer than
 * slow_callback_ms. Reads nothing of the handle. Keeps errno. */
void al_slow_end(const struct al_slow *s);

/* ------------------------------- the program's callbacks (standins.c) */

/* Where a shim stands in for a callback of the program's that the loop
 * library keeps in the handle, the program's own is kept here, by the
 * handle's address and which of its callbacks it is (a stream has its
 * read and its connection callbacks). A bounded table: 0 when cb is
 * kept, -1 when there is no room, and then the shim must hand the loop
 * library the program's callback itself. Keeps errno. */
int al_standin_keep(uintptr_t addr, unsigned which, void *cb);
/* Keeps with the entry the creation stack of the handle, for a stand-in
 * that may be called once the runtime has forgotten the handle's record
 * (libev's one-shot timer, stopped by libev before its callback). */
void al_standin_note(uintptr_t addr, unsigned which,
                     const struct al_stack *stack);
/* The program's callback kept for the handle as *which, or NULL; with
 * the stack noted, in *stack unless stack is NULL. *which
 * AL_STANDIN_ANY finds whichever is kept, and is set to it. */
#define AL_STANDIN_ANY (~0u)
void *al_standin_kept(uintptr_t addr, unsigned *which,
                      const struct al_stack **stack);
/* The handle at addr is gone (its close completed) or its memory was
 * initialised again: what was kept of it is forgotten. Cheap when the
 * table is empty. */
void al_standin_forget(uintptr_t addr);
/* Empties the table; for unit tests. */
void al_standins_reset(void);

/* Stand-ins by callback function, for a library that calls a callback
 * without what it belongs to (libevent): the slot of fn, taken for it
 * on first use and kept for good, or -1 when every slot is taken by
 * other functions (said once). A shim has a stand-in per slot, which
 * calls al_fn_slot_target(slot). Lock-free; keeps errno. */
#define AL_FN_SLOTS 256
int al_fn_slot(void *fn);
void *al_fn_slot_target(unsigned slot);
/* With a shim's stand-ins, stand_ins[0..AL_FN_SLOTS): what to hand the
 * library for the program's callback fn (its stand-in, or fn itself when
 * it is NULL, a stand-in already, or no slot is left); and the program's
 * function for what the library holds (fn, or what its stand-in calls).
 * The shim leaves its library's own callbacks alone. */
void *al_fn_stand_in(void *const *stand_ins, void *fn);
void *al_fn_unstand(void *const *stand_ins, void *fn);
/* X(i) for i in 00..ff, two hex digits: a shim's stand-ins are made with
 * it, stand-in 0x##i calling slot 0x##i. */
#define AL_FN_SLOT_ROW(X, hi)                                                 \
  X(hi##0) X(hi##1) X(hi##2) X(hi##3) X(hi##4) X(hi##5) X(hi##6) X(hi##7)     \
  X(hi##8) X(hi##9) X(hi##a) X(hi##b) X(hi##c) X(hi##d) X(hi##e) X(hi##f)
#define AL_FN_SLOTS_EACH(X)                                                   \
  AL_FN_SLOT_ROW(X, 0) AL_FN_SLOT_ROW(X, 1) AL_FN_SLOT_ROW(X, 2)             \
  AL_FN_SLOT_ROW(X, 3) AL_FN_SLOT_ROW(X, 4) AL_FN_SLOT_ROW(X, 5)             \
  AL_FN_SLOT_ROW(X, 6) AL_FN_SLOT_ROW(X, 7) AL_FN_SLOT_ROW(X, 8)             \
  AL_FN_SLOT_ROW(X, 9) AL_FN_SLOT_ROW(X, a) AL_FN_SLOT_ROW(X, b)             \
  AL_FN_SLOT_ROW(X, c) AL_FN_SLOT_ROW(X, d) AL_FN_SLOT_ROW(X, e)             \
  AL_FN_SLOT_ROW(X, f)

#endif /* ASYNCLEAK_FINDINGS_H_ */
