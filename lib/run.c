/* Runs of the program's loops, for every loop library: which loops run on
 * this thread and on any, what a graceful signal does to a run, and the
 * drain that runs a loop until some work is done.
 *
 * A shim's interposer of its library's run function brackets the real
 * call with al_run_begin and al_run_end; the core keeps the rest. Which
 * runs are on a thread's stack is recorded, not inferred: each run is kept
 * in a per-thread stack with the address of al_run_begin's frame, which
 * lies at the depth of the library's run function itself, so that code
 * running inside the run has a frame below it. A run that a longjmp left
 * (a test framework's failed assertion in a callback) is found gone when
 * code asks from above that frame, when a new run begins at or above it,
 * when a harness's setup or teardown says it is above it
 * (al_run_left_below), or when the guard the interposer keeps on its
 * stack no longer matches; a run not found gone counts as running, the
 * safe answer, since running a loop inside its own run is what must never
 * happen. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <link.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "internal.h"
#include "locks.h"
#include "loopsyms.h"
#include "wake.h"

/* ----------------------------------------------------- this thread's runs */

#define MAX_NESTED_RUNS 8

static AL_TLS struct {
  uintptr_t loop;
  uintptr_t frame;           /* al_run_begin's frame */
  const uintptr_t *guard_at; /* where the interposer keeps its guard */
  uintptr_t guard;
  int slot;
  uint8_t shim;
  void *vt_prev; /* the clock the thread read before (lib/vtime.c) */
} stack[MAX_NESTED_RUNS];
/* Runs on this thread's stack; past MAX_NESTED_RUNS only counted. */
static AL_TLS unsigned depth;
static AL_TLS uintptr_t next_guard;
/* The loop this thread last began to run, and the forget count then: a
 * run of the same loop notes nothing new. */
static AL_TLS uintptr_t last_run;
static AL_TLS unsigned last_epoch;
/* Whether the last loop run here has no wake-up for graceful signals. */
static AL_TLS int last_blind;
/* Counts loops forgotten, so that every thread notes a loop made anew at
 * the address it last ran. */
static atomic_uint epoch;
/* Whether a shim's interposer of its run function has ever been called:
 * until then, a run may have gone straight to the library. */
static atomic_int runs_seen[AL_MAX_SHIMS];

/* --------------------------------------------------- runs on any thread */

/* A slot per run, taken and given back with atomic operations only; runs
 * that find no slot make every loop count as running somewhere. */
#define RUN_SLOTS 64
static _Atomic uintptr_t slots[RUN_SLOTS];
static atomic_uint slots_lost;
/* Slots held, on every thread, counted only while check_threads is on
 * (options never change once read): when all are this thread's, no other
 * thread runs anything, which the wrong-thread check learns with one
 * load instead of a walk of the slots. */
static atomic_uint slots_held;
/* What the thread of each slot's run is doing, for live queries
 * (lib/live.c): waiting in the loop library's poll, or not (running the
 * program's callbacks, or the library's work between them), since when.
 * Written by that thread only, read by any. */
static _Atomic pid_t slot_tid[RUN_SLOTS];
static atomic_uchar slot_waiting[RUN_SLOTS];
static _Atomic uint64_t slot_since[RUN_SLOTS];
static atomic_uint slot_shim[RUN_SLOTS];
/* Where the slot's run began, for the wrong-thread check: captured only
 * while check_threads is on (the runtime cannot take another thread's
 * current stack without a signal), else NULL. */
static const struct al_stack *_Atomic slot_begun[RUN_SLOTS];

/* The calling thread's id for its slot, with no system call the
 * program's seccomp filter may kill on (lib/seccomp.c): then 0, unknown,
 * which no live query can ask about anyway. */
static pid_t slot_thread(int fork_child) {
  if (al_ending_sealed())
    return fork_child ? 0 : al_tid_cache;
  return fork_child ? al_gettid_slow() : al_gettid();
}

/* Three times a run: the coarse clock, which is all a live query's
 * "for N ms" needs, costs a fraction of the fine one. */
static void slot_doing(int slot, int waiting) {
  atomic_store_explicit(&slot_since[slot], al_coarse_ms(),
                        memory_order_relaxed);
  atomic_store_explicit(&slot_waiting[slot], (unsigned char)waiting,
                        memory_order_release);
}

static int slot_take(uintptr_t loop, const struct al_stack *begun) {
  unsigned first = (unsigned)(loop >> 6) % RUN_SLOTS;

  for (unsigned n = 0; n < RUN_SLOTS; n++) {
    unsigned i = (first + n) % RUN_SLOTS;
    uintptr_t none = 0;
    if (atomic_load_explicit(&slots[i], memory_order_relaxed) == 0 &&
        atomic_compare_exchange_strong(&slots[i], &none, loop)) {
      atomic_store_explicit(&slot_begun[i], begun, memory_order_relaxed);
      if (AL_UNLIKELY(al_opt.check_threads))
        atomic_fetch_add_explicit(&slots_held, 1, memory_order_relaxed);
      /* The thread last: a reader takes a slot without one as not yet
       * begun (al_run_list, al_run_elsewhere). */
      slot_doing((int)i, 0);
      atomic_store_explicit(&slot_tid[i], slot_thread(0),
                            memory_order_release);
      return (int)i;
    }
  }
  atomic_fetch_add(&slots_lost, 1);
  return -1;
}

static void slot_give(int slot) {
  if (slot >= 0) {
    atomic_store(&slot_tid[slot], 0);
    atomic_store(&slots[slot], 0);
    if (AL_UNLIKELY(al_opt.check_threads))
      atomic_fetch_sub_explicit(&slots_held, 1, memory_order_relaxed);
  } else
    atomic_fetch_sub(&slots_lost, 1);
}

int al_run_anywhere(uintptr_t loop) {
  if (atomic_load(&slots_lost) > 0)
    return 1;
  for (int i = 0; i < RUN_SLOTS; i++)
    if (atomic_load(&slots[i]) == loop)
      return 1;
  return 0;
}

/* The slots this thread's runs hold. */
static unsigned slots_mine(void) {
  unsigned n = depth < MAX_NESTED_RUNS ? depth : MAX_NESTED_RUNS, mine = 0;

  for (unsigned i = 0; i < n; i++)
    mine += stack[i].slot >= 0;
  return mine;
}

pid_t al_run_elsewhere(uintptr_t loop, const struct al_stack **begun) {
  pid_t me = 0;

  *begun = NULL;
  /* The common case: no run anywhere, or only this thread's. */
  if (atomic_load_explicit(&slots_held, memory_order_relaxed) <=
      slots_mine())
    return 0;
  for (int i = 0; i < RUN_SLOTS; i++) {
    pid_t tid;

    if (atomic_load_explicit(&slots[i], memory_order_acquire) != loop)
      continue;
    /* Under the program's seccomp filter, no system call: the cached id,
     * or none, when nothing can be said. */
    if (me == 0)
      me = slot_thread(0);
    if (me == 0)
      return 0;
    /* 0: a run begun under a seccomp filter, whose thread is not known. */
    tid = atomic_load_explicit(&slot_tid[i], memory_order_acquire);
    if (tid == 0 || tid == me)
      continue;
    *begun = atomic_load_explicit(&slot_begun[i], memory_order_relaxed);
    /* Given back meanwhile: that run is over. */
    if (atomic_load_explicit(&slots[i], memory_order_acquire) == loop)
      return tid;
    *begun = NULL;
  }
  return 0;
}

size_t al_run_list(struct al_run_info *out, size_t max) {
  size_t n = 0;

  for (int i = 0; i < RUN_SLOTS && n < max; i++) {
    uintptr_t loop = atomic_load_explicit(&slots[i], memory_order_acquire);
    if (loop == 0)
      continue;
    out[n].loop = loop;
    out[n].tid = atomic_load_explicit(&slot_tid[i], memory_order_acquire);
    if (out[n].tid == 0)
      continue; /* beginning, or ending */
    out[n].shim = (uint8_t)atomic_load_explicit(&slot_shim[i],
                                                memory_order_relaxed);
    out[n].waiting = atomic_load_explicit(&slot_waiting[i],
                                          memory_order_acquire);
    out[n].since_ms = atomic_load_explicit(&slot_since[i],
                                           memory_order_relaxed);
    /* Given back meanwhile: not listed. */
    if (atomic_load_explicit(&slots[i], memory_order_acquire) == loop)
      n++;
  }
  return n;
}

unsigned al_run_unlisted(void) {
  return atomic_load(&slots_lost);
}

/* ------------------------------------------------------ push, pop, prune */

static void push(uint8_t shim, uintptr_t loop, uintptr_t frame,
                 struct al_run *run, const struct al_stack *begun) {
  run->loop = loop;
  run->shim = shim;
  run->guard = ++next_guard;
  /* A run past the stack's end takes no slot: one it kept could not be
   * given back if a longjmp left the run (drop_top). */
  if (depth < MAX_NESTED_RUNS) {
    run->slot = slot_take(loop, begun);
    if (run->slot >= 0)
      atomic_store_explicit(&slot_shim[run->slot], shim,
                            memory_order_relaxed);
  } else {
    run->slot = -1;
    atomic_fetch_add(&slots_lost, 1);
  }
  if (depth < MAX_NESTED_RUNS) {
    stack[depth].loop = loop;
    stack[depth].frame = frame;
    stack[depth].guard_at = &run->guard;
    stack[depth].guard = run->guard;
    stack[depth].slot = run->slot;
    stack[depth].shim = shim;
    /* The loop's clock is the one its run reads. */
    stack[depth].vt_prev = al_vtime_enter(loop);
  }
  depth++;
}


/* Whether the run at stack[i] is gone, seen from a frame at `here`. */
static int gone(unsigned i, uintptr_t here) {
  uintptr_t guard;

  if (stack[i].frame <= here)
    return 1; /* code runs above the run's own depth: it has returned */
  /* Read without faulting and without a sanitizer's say: the frame may
   * be another's by now. */
  return al_safe_read(&guard, stack[i].guard_at, sizeof(guard)) != 0 ||
         guard != stack[i].guard;
}

/* The innermost run kept. */
static unsigned top(void) {
  return depth <= MAX_NESTED_RUNS ? depth - 1 : MAX_NESTED_RUNS - 1;
}

/* Forgets the innermost run kept, and the runs past the stack's end,
 * which began inside it. */
static void drop_top(void) {
  unsigned t = top();

  while (depth > t + 1) {
    depth--;
    slot_give(-1);
  }
  depth--;
  slot_give(stack[depth].slot);
  al_vtime_leave(stack[depth].vt_prev);
}

/* Forgets the runs, innermost first, that a longjmp left. */
static void prune(uintptr_t here) {
  while (depth > 0 && gone(top(), here))
    drop_top();
}

static void pop(struct al_run *run) {
  /* Unless found gone meanwhile: a run that returns is the innermost, or
   * a kept one with runs past the stack's end left inside it by a
   * longjmp, or one past the end itself. */
  if (depth > 0 && stack[top()].guard_at == &run->guard) {
    drop_top();
  } else if (depth > MAX_NESTED_RUNS && run->slot < 0) {
    depth--;
    slot_give(-1);
  }
  run->guard = 0;
}

/* Whether the library's real run function is on the calling thread's
 * stack: an unwind, only for a library whose runs never came through the
 * interposer, where nothing was recorded. */
static int real_run_on_stack(const struct al_shim *sh) {
  void *fn = sh->run_function != NULL ? sh->run_function() : NULL;
  const ElfW(Sym) *sym = NULL;
  Dl_info info;

  if (fn == NULL)
    return 0;
  if (!dladdr1(fn, &info, (void **)&sym, RTLD_DL_SYMENT) || sym == NULL)
    return 1; /* cannot tell: say running, the safe answer */
  return al_stack_contains((uintptr_t)fn, (uintptr_t)fn + sym->st_size);
}

void al_run_left_below(uintptr_t frame) {
  while (depth > 0 && stack[top()].frame < frame)
    drop_top();
}

int al_run_here(uint8_t shim, uintptr_t loop) {
  unsigned n;

  prune((uintptr_t)__builtin_frame_address(0));
  n = depth < MAX_NESTED_RUNS ? depth : MAX_NESTED_RUNS;
  for (unsigned i = 0; i < n; i++)
    if (stack[i].loop == loop)
      return 1;
  if (depth > MAX_NESTED_RUNS)
    return 1; /* deeper than kept: say running, the safe answer */
  if (!atomic_load_explicit(&runs_seen[shim], memory_order_relaxed) &&
      al_shims[shim] != NULL)
    return real_run_on_stack(al_shims[shim]);
  return 0;
}

void *al_run_object(uintptr_t loop) {
  unsigned n;

  prune((uintptr_t)__builtin_frame_address(0));
  n = depth < MAX_NESTED_RUNS ? depth : MAX_NESTED_RUNS;
  while (n-- > 0)
    if (stack[n].loop == loop)
      return ((const struct al_run *)((uintptr_t)stack[n].guard_at -
                                      offsetof(struct al_run, guard)))
          ->object;
  return NULL;
}

uintptr_t al_run_innermost(uint8_t shim) {
  unsigned n;

  prune((uintptr_t)__builtin_frame_address(0));
  if (depth == 0 || depth > MAX_NESTED_RUNS)
    return 0; /* none, or the innermost is not kept */
  n = depth - 1;
  return stack[n].shim == shim ? stack[n].loop : 0;
}

/* ------------------------------------------------------- graceful stop */

/* A graceful signal came: shut the loop down and end the process, unless
 * the loop still runs further down this thread's stack, which must return
 * first. */
static void graceful_stop(uint8_t shim, uintptr_t loop) {
  unsigned top;

  if (al_run_here(shim, loop)) {
    al_shims[shim]->stop(loop);
    return;
  }
  al_shutdown(loop, AL_WHY_SIGNAL);
  if (depth > 0 && depth <= MAX_NESTED_RUNS) {
    /* Run from another loop's callback: that loop ends the process once
     * its own run has returned and it has had its shutdown. */
    top = depth - 1;
    al_shims[stack[top].shim]->stop(stack[top].loop);
    return;
  }
  if (depth > 0)
    return; /* deeper than kept: the runs below end it */
  al_graceful_running(-1);
  al_graceful_end();
}

/* ------------------------------------------------------------ a run */

/* The first run of a loop on this thread, or the first since a loop was
 * forgotten: noted, armed for the shutdown at exit, and watched for
 * graceful signals. */
static void first_run(uint8_t shim, uintptr_t loop, int graceful) {
  al_live_start();
  al_loop_ran(shim, loop);
  al_shutdown_arm(AL_ARM_RUN);
  last_blind = graceful && al_wake_watch(shim, loop) != 0;
  last_run = loop;
  last_epoch = atomic_load_explicit(&epoch, memory_order_relaxed);
}

__attribute__((noinline)) int al_run_begin(uint8_t shim, uintptr_t loop,
                                           struct al_run *run) {
  uintptr_t frame = (uintptr_t)__builtin_frame_address(0);
  const struct al_stack *begun = NULL;
  int saved = errno;

  run->graceful = al_opt.graceful_signals && loop != 0;
  run->blind = 0;
  if (AL_UNLIKELY(!atomic_load_explicit(&runs_seen[shim],
                                        memory_order_relaxed)))
    atomic_store(&runs_seen[shim], 1);
  /* A run that begins here, at or above a run still kept, is not inside
   * it: a longjmp left it. Guards are read (a system call each) only when
   * the stack is full, where a run left below would take the new one's
   * place; otherwise a run left deeper is found by the next question. */
  while (depth > 0 && stack[top()].frame <= frame)
    drop_top();
  if (AL_UNLIKELY(depth >= MAX_NESTED_RUNS))
    prune(frame);
  if (AL_UNLIKELY(loop != last_run ||
                  last_epoch != atomic_load_explicit(&epoch,
                                                     memory_order_relaxed)) &&
      loop != 0)
    first_run(shim, loop, run->graceful);
  if (run->graceful) {
    run->blind = (uint8_t)last_blind;
    al_graceful_running(1);
    if (run->blind)
      al_wake_blind(1);
    if (AL_UNLIKELY(al_graceful_signal() != 0)) {
      if (run->blind)
        al_wake_blind(-1);
      graceful_stop(shim, loop); /* ends the process unless nested */
      al_graceful_running(-1);
      errno = saved;
      return 1;
    }
  }
  /* Where this thread began the run, which the wrong-thread check shows
   * beside another thread's call on the loop: the program's frames only,
   * and none from a signal handler that interrupted the runtime. */
  if (AL_UNLIKELY(al_opt.check_threads) && al_locks_held == 0)
    begun = al_stack_capture();
  push(shim, loop, frame, run, begun);
  errno = saved;
  return 0;
}

void al_run_end(struct al_run *run) {
  int saved = errno;

  pop(run);
  if (run->graceful) {
    if (run->blind)
      al_wake_blind(-1);
    if (AL_UNLIKELY(al_graceful_signal() != 0))
      graceful_stop(run->shim, run->loop);
    al_graceful_running(-1);
  }
  errno = saved;
}

/* -------------------------------------------------- waiting in the loop */

/* Whether a wait called from pc (NULL: any) is the innermost kept run's
 * own: only the library's own wait is the loop's, and a callback that
 * polls is still inside its callback. Its main object's bounds are all
 * that is looked at, with loads only: a signal handler may be here. */
static int own_wait(const void *pc) {
  const struct al_shim *sh;

  /* Outside every run: the common case of a program's own poll. */
  if (AL_LIKELY(depth == 0) || depth > MAX_NESTED_RUNS)
    return 0;
  sh = al_shims[stack[depth - 1].shim];
  return sh != NULL &&
         (pc == NULL ||
          (sh->syms != NULL && al_loopsyms_main_owns(sh->syms, pc)));
}

int al_run_wait_begin(const void *pc) {
  int slot;

  /* Nothing is kept when no live query can ask. */
  if (!al_opt.live || !own_wait(pc) ||
      (slot = stack[depth - 1].slot) < 0)
    return -1;
  slot_doing(slot, 1);
  /* A fork child that goes on inside its parent's run answers too. */
  al_live_start();
  return slot;
}

void al_run_wait_end(int slot) {
  if (slot >= 0)
    slot_doing(slot, 0);
}

uintptr_t al_run_own_wait(const void *pc, uint8_t *shim) {
  if (!own_wait(pc))
    return 0;
  *shim = stack[depth - 1].shim;
  return stack[depth - 1].loop;
}

/* ----------------------------------------------------------- the drain */

static atomic_ulong run_until_calls;

unsigned long al_run_until_calls(void) {
  return atomic_load(&run_until_calls);
}

__attribute__((noinline)) int
al_run_until(uint8_t shim, uintptr_t loop, unsigned timeout_ms,
             int (*done)(uintptr_t, void *), void *arg) {
  const struct al_shim *sh = al_shims[shim];
  uintptr_t frame = (uintptr_t)__builtin_frame_address(0);
  struct al_run run = {0};
  uint64_t end, drain_prev;
  void *timer;
  int rc = 0;

  atomic_fetch_add(&run_until_calls, 1);
  /* Nothing of the program's runs when there is nothing to wait for, or
   * no time to. */
  if (done(loop, arg))
    return 0;
  if (timeout_ms == 0)
    return -ETIMEDOUT;
  end = al_now_ms() + timeout_ms;
  /* The core's own timer bounds each blocking turn by the deadline. */
  timer = sh->timer_new(loop);
  if (timer == NULL)
    return -ENOMEM;
  /* Running it, as far as a drain or a close from its callbacks asks. */
  push(shim, loop, frame, &run, NULL);
  drain_prev = al_vtime_drain(end);
  while (!done(loop, arg)) {
    uint64_t now = al_now_ms();
    if (now >= end) {
      rc = -ETIMEDOUT;
      break;
    }
    sh->timer_arm(timer, (unsigned)(end - now));
    sh->run_once(loop, AL_RUN_WAIT);
    /* Stopped, it keeps no loop alive for done() to see. */
    sh->timer_stop(timer);
  }
  /* Deliver what the last writes made ready elsewhere on the loop. */
  sh->run_once(loop, AL_RUN_NOWAIT);
  sh->timer_free(timer);
  al_vtime_drain(drain_prev);
  pop(&run);
  return rc;
}

/* ----------------------------------------------------------- bookkeeping */

void al_run_forget(uintptr_t loop, int alive) {
  int saved = errno;

  atomic_fetch_add(&epoch, 1);
  al_wake_forget(loop, alive);
  errno = saved;
}

/* The only thread of a fork child is the one that forked, inside the runs
 * it was in (a fork from a callback): those it keeps, the other threads'
 * are gone. Their loops' wake-ups are the parent's: each graceful run on
 * the stack is blind from here on. Its next run notes its loop anew. */
static void run_atfork_child(void) {
  unsigned n = depth < MAX_NESTED_RUNS ? depth : MAX_NESTED_RUNS, blind = 0;

  for (int i = 0; i < RUN_SLOTS; i++)
    atomic_store(&slots[i], 0);
  atomic_store(&slots_held, 0);
  atomic_store(&slots_lost, depth - n);
  for (unsigned i = 0; i < n; i++) {
    struct al_run *run = (struct al_run *)((uintptr_t)stack[i].guard_at -
                                           offsetof(struct al_run, guard));
    if (stack[i].slot >= 0) {
      atomic_store(&slots[stack[i].slot], stack[i].loop);
      atomic_fetch_add(&slots_held, 1);
      atomic_store(&slot_tid[stack[i].slot], slot_thread(1));
    }
    else
      atomic_fetch_add(&slots_lost, 1);
    if (run->graceful) {
      run->blind = 1;
      blind++;
    }
  }
  al_wake_atfork_child(blind);
  last_run = 0;
}

__attribute__((constructor)) static void run_init(void) {
  al_on_fork_child(run_atfork_child);
}
