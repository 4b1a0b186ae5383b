/* This file is private to asyncleak, included by internal.h: every lock of
 * the runtime's, the order they nest in, and what becomes of them across
 * fork() and the _Fork() copy that writes a report (lib/locks.c).
 *
 * Each lock is registered once, under its rank, by the file that owns it
 * (AL_LOCK_REGISTER). A thread that holds a lock takes only locks of a
 * higher rank; fork's prepare handler takes them all in rank order, so
 * that no thread is halfway through what one guards when the process is
 * copied, and releases them in both processes afterwards. No lock is
 * initialised again in a child, unless it could not be taken (see
 * al_locks_fork_child).
 */
#ifndef ASYNCLEAK_LOCKS_H_
#define ASYNCLEAK_LOCKS_H_

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>

/* The ranks, outermost first. The only nestings in the code are
 * loops -> stripes (al_loop_waits_prune asks whether a request is
 * pending) and loops -> listing (it asks the libevent shim whether an
 * event is added); every other lock is a leaf, held around its own data
 * and taking no other lock of the runtime's. The leaves held longest come
 * first, so that fork's prepare handler waits for them before it holds
 * the locks of the hot paths (stripes, stacks), which other threads then
 * wait for only as long as the fork itself. Each says how long it can be
 * held, which is how long a program's fork() may wait for it. */
enum al_lock_rank {
  /* lib/symfiles.c: opening the loaded objects' files and their debug
   * files and reading their notes with libelf, before a chroot or a
   * seccomp filter. Milliseconds; longer on a slow file system. */
  AL_LOCK_SYMFILES,
  /* lib/linkorder.c: judging whether the program's calls bypass the
   * runtime, by reading the loaded objects' dynamic symbols, once per
   * change of the loaded objects (the check API). Milliseconds; it
   * calls dl_iterate_phdr and writes to the program's FILE. */
  AL_LOCK_LINKORDER,
  /* lib/symbolize.c: the objects dlclose unloaded, handed to libdwfl as a
   * report is symbolized. Milliseconds; it calls dl_iterate_phdr. */
  AL_LOCK_GONE,
  /* lib/phdr.c: not a lock but a gate, closed while no call of
   * dl_iterate_phdr and no unwind of the runtime's is under way: glibc's
   * holds the loader's lock, and libunwind a lock of its own, neither of
   * which fork() takes. The three ranks above call dl_iterate_phdr with
   * their lock held. Held, by a call, for as long as its callback takes,
   * by an unwind for as long as it: microseconds. */
  AL_LOCK_PHDR,
  /* lib/check.c: asyncleak_ignore_creator's names. Microseconds. */
  AL_LOCK_IGNORED,
  /* lib/isolate.c: the records set aside by failed checks. Microseconds
   * (a realloc and a sort of at most 65536 numbers). */
  AL_LOCK_ISOLATED,
  /* lib/shutdown.c: the bounded log of shutdowns. Microseconds. */
  AL_LOCK_SHUTDOWN_LOG,
  /* lib/findings.c: the findings of the debug checks. Microseconds (a
   * walk of at most AL_FINDINGS_MAX groups). */
  AL_LOCK_FINDINGS,
  /* lib/closes.c: the handles whose close the program asked for, kept for
   * the use-after-close check. Nanoseconds. */
  AL_LOCK_CLOSES,
  /* lib/standins.c: the program's callbacks the shims stand in for, for
   * the slow-callback check. Nanoseconds. */
  AL_LOCK_STANDINS,
  /* lib/registry.c: the table of loop libraries. Nanoseconds. */
  AL_LOCK_SHIMS,
  /* lib/registry.c: the loops not yet closed. Microseconds: a walk of the
   * open loops, or of the handles a shutdown waits for. */
  AL_LOCK_LOOPS,
  /* shim/event.c: the events a libevent base listed, asked of libevent
   * with its own base lock (taken inside event_base_foreach_event).
   * Microseconds per event of the base. */
  AL_LOCK_LISTING,
  /* lib/registry.c: the stripes of the record table, in index order, one
   * at a time. A few dozen instructions, a calloc when a stripe grows. */
  AL_LOCK_STRIPES,
  /* lib/capture.c: the stack caches of threads that ended. Nanoseconds. */
  AL_LOCK_CAPTURE_CACHES,
  /* lib/stack.c: inserting a stack never seen before into the depot.
   * Nanoseconds, an mmap of 1 MiB now and then. */
  AL_LOCK_STACKS,
  AL_LOCK_RANKS
};

/* How many of the runtime's locks the calling thread holds. A signal
 * handler that calls an interposed function while its thread holds one
 * must not wait for it, for it would wait forever: the shims then defer
 * what they would record (al_defer_*), and the thread's last unlock applies
 * it. Every lock of the core is taken through the functions below. */
extern AL_TLS volatile unsigned al_locks_held;
extern AL_TLS volatile unsigned al_deferred;
void al_deferred_run(void);

static inline void al_held_more(void) {
  al_locks_held++;
  atomic_signal_fence(memory_order_seq_cst);
}
static inline void al_held_less(void) {
  atomic_signal_fence(memory_order_seq_cst);
  if (--al_locks_held == 0 && AL_UNLIKELY(al_deferred != 0))
    al_deferred_run();
}

static inline void al_mutex_lock(pthread_mutex_t *m) {
  al_held_more();
  pthread_mutex_lock(m);
}
static inline void al_mutex_unlock(pthread_mutex_t *m) {
  pthread_mutex_unlock(m);
  al_held_less();
}
/* Locks m, waiting in 1 ms steps while *budget lasts: 0, or -1. */
int al_lock_briefly(pthread_mutex_t *m, int *budget);

/* A lock held for a few dozen instructions at a time, around the
 * registry's hot path: taking it is one atomic exchange and releasing it a
 * plain store, where a mutex costs an atomic operation for each. A waiter
 * spins briefly, then yields the processor to the holder. */
typedef struct {
  atomic_int held;
} al_spin_t;
#define AL_SPIN_INIT {0}

static inline int al_spin_take(al_spin_t *l) {
  return !atomic_exchange_explicit(&l->held, 1, memory_order_acquire);
}
static inline int al_spin_trylock(al_spin_t *l) {
  al_held_more();
  if (al_spin_take(l))
    return 1;
  al_held_less();
  return 0;
}
void al_spin_wait(al_spin_t *l);
static inline void al_spin_lock(al_spin_t *l) {
  al_held_more();
  if (AL_UNLIKELY(!al_spin_take(l)))
    al_spin_wait(l);
}
static inline void al_spin_unlock(al_spin_t *l) {
  atomic_store_explicit(&l->held, 0, memory_order_release);
  al_held_less();
}
/* al_lock_briefly for a spin lock. */
int al_spin_lock_briefly(al_spin_t *l, int *budget);

/* ------------------------------------------------------- registration */

/* The report copy (al_locks_hold) reads what the lock guards. */
#define AL_LOCK_FOR_REPORT 1u

/* Registers the lock of a rank: a mutex, or `count` spin locks `stride`
 * bytes apart from `spins` (locks embedded in an array of structures).
 * name is for messages. Once per rank; called from a constructor
 * (AL_LOCK_REGISTER), before the program can fork. */
void al_lock_register_mutex(enum al_lock_rank rank, pthread_mutex_t *m,
                            const char *name, unsigned flags);
void al_lock_register_spins(enum al_lock_rank rank, al_spin_t *spins,
                            unsigned count, size_t stride, const char *name,
                            unsigned flags);
/* Registers a gate: try closes it, and returns 1 once it is closed to
 * others, else 0 (to be tried again); open opens it again, whether try
 * returned 1 or not; child runs in a fork child after open, to forget
 * what the threads it does not have were doing. */
void al_lock_register_gate(enum al_lock_rank rank, int (*try_close)(void),
                           void (*open)(void), void (*child)(void),
                           const char *name, unsigned flags);
/* Registers a mutex of the file it is written in as it is loaded. */
#define AL_LOCK_REGISTER(rank, mutex, flags)                                 \
  __attribute__((constructor)) static void al_lock_register_##mutex(void) { \
    al_lock_register_mutex(rank, &mutex, #mutex, flags);                     \
  }
/* Whether a rank has its lock registered; for tests. */
int al_lock_registered(enum al_lock_rank rank);

/* A function the child of a fork runs, after the runtime's own, to forget
 * what was the parent's (a shim's wake-up descriptors). Up to 8, for the
 * life of the process; registered once each. The child calls them with
 * every lock free and the thread's count of held locks raised, so that
 * what a signal handler records meanwhile is deferred. */
void al_on_fork_child(void (*fn)(void));

/* Passing the gate of AL_LOCK_PHDR (lib/phdr.c), around a call of
 * dl_iterate_phdr or an unwind: waits while a fork has it closed. Nests.
 * Async-signal-safe. */
void al_gate_enter(void);
void al_gate_leave(void);

/* ------------------------------------------------------------------ fork */

/* fork()'s prepare handler: takes every registered lock in rank order.
 * It never waits forever. A thread that holds none of them waits for
 * each while AL_FORK_BUDGET_MS lasts in all, far more than any is held
 * (above); a thread that holds some itself (fork() called from a signal
 * handler that interrupted the runtime) waits 1 ms, for a lock of its own
 * would never come free. A lock not taken is left as it is. */
#define AL_FORK_BUDGET_MS 2000
void al_locks_fork_prepare(void);
/* In the parent: releases what prepare took. */
void al_locks_fork_parent(void);
/* In the child: releases what prepare took, leaving the count of held
 * locks raised until al_locks_fork_done. A lock prepare could not take
 * that the forking thread holds itself is left alone: the code the
 * signal handler interrupted releases it. One held by another thread,
 * which does not exist in the child, would never come free: it is
 * initialised again, and counted (al_locks_lost), for what it guarded
 * may be half-changed. */
void al_locks_fork_child(void);
/* In the child, last: runs the functions of al_on_fork_child, then lets
 * the count of held locks down, which applies what was deferred. */
void al_locks_fork_done(void);
/* The locks the last fork's child had to initialise again, by name, up
 * to max of them into names; returns how many there were. */
size_t al_locks_lost(const char **names, size_t max);

/* For the copy that reports as the process ends (lib/ending.c), made with
 * _Fork(), which runs no atfork handler: the calling thread takes the
 * locks registered AL_LOCK_FOR_REPORT, in rank order, waiting at most
 * budget_ms in all, so that the copy finds none held by a thread it does
 * not have. Taken without the count of held locks: the thread may be in a
 * signal handler. Returns how many it could not take (their parts may be
 * missing from the report, which then says so). Async-signal-safe.
 * al_locks_let_go releases what was taken, in the process and in the
 * copy. */
unsigned al_locks_hold(unsigned budget_ms);
void al_locks_let_go(void);

#endif /* ASYNCLEAK_LOCKS_H_ */
