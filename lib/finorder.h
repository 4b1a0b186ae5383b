/* The order of a shutdown's finalizers (asyncleak_finally_after), and
 * when each one's work is done. Loop-neutral; shutdown.c runs the
 * finalizers and the loop, this decides which goes next. */
#ifndef ASYNCLEAK_FINORDER_H
#define ASYNCLEAK_FINORDER_H

#include <stddef.h>
#include <stdint.h>

#include "internal.h"

/* Closes and waits followed one by one per finalizer; past them, its
 * work counts as done when no close on the loop is unfinished and nothing
 * the shutdown waits for is left. */
#define AL_FIN_WORK 8

/* One finalizer a shutdown called, and the work it started: the requests
 * made on the loop while it ran (their seq in [from, to)), the handles
 * whose close it began, and what it asked the shutdown to wait for
 * (asyncleak_shutdown_waits_for). */
struct al_fin_run {
  void (*fn)(void *loop, void *arg); /* a run_finally's pair, or NULL */
  void *arg;
  void *named;      /* what the report calls it: fn, or an ensure's close */
  void *held_by;    /* ran at the deadline, this prerequisite not done */
  uint64_t from, to;
  uint64_t started_ms, done_ms;
  uintptr_t work[AL_FIN_WORK];
  uint8_t work_kind[AL_FIN_WORK]; /* enum al_kind: a wait's, or NONE for a
                                     close */
  uint8_t nwork;
  uint8_t work_lost; /* more than AL_FIN_WORK */
  uint8_t done;
};

/* One shutdown's finalizers, in the order they were called. */
struct al_fin_runs {
  uintptr_t loop;
  const struct al_shim *sh;
  struct al_fin_run *v;
  size_t n, cap;
  size_t untracked; /* called, but no memory to follow them */
  size_t first_busy; /* the runs before it are all done */
  struct al_fin_run *running; /* while its function is called */
};

/* Takes the finalizer to call next: the newest whose prerequisites
 * (asyncleak_finally_after) have all been called and their work done.
 * With `late` (the deadline passed), work not done no longer holds one
 * back, and *held_by names the prerequisite whose work it did not wait
 * for. Returns NULL when none is left, or, with *waiting set, when each
 * one left waits for work under way: the caller runs the loop with
 * al_finorder_progress, then asks again. */
struct al_fin *al_finorder_next(struct al_fin_runs *rs, int late,
                                int *waiting, void **held_by);
/* Around the call of a finalizer's function (fn, arg: its pair; named:
 * what the report calls it). */
void al_finorder_call(struct al_fin_runs *rs,
                      void (*fn)(void *loop, void *arg), void *arg,
                      void *named, void *held_by);
void al_finorder_returned(struct al_fin_runs *rs);
/* A close on the loop began (what AL_KIND_NONE), or the shutdown was
 * asked to wait for a handle or request (AL_KIND_HANDLE, _REQUEST): it is
 * the running finalizer's work. */
void al_finorder_saw(struct al_fin_runs *rs, uintptr_t addr,
                     enum al_kind what);
/* Looks whose work is done now. Returns 1 when some finalizer's work
 * became done, or none is under way: for al_run_until. */
int al_finorder_progress(uintptr_t loop, void *runs);
/* The first AL_FIN_NAMED of them into e->ran, then frees them, and forgets
 * the loop's orders of finalizers no longer registered. */
void al_finorder_end(struct al_fin_runs *rs, struct al_shutdown_entry *e);

/* asyncleak_finally_after's order, added to the loop l (loops held):
 * 0, -ENOENT when either pair is not registered, -ELOOP for a cycle,
 * -ENOMEM. Takes edge, or leaves it to the caller to free on error. */
int al_finorder_add(struct al_loop *l, struct al_fin *edge);
/* Forgets the orders naming fn with arg once it has no registration
 * left on l (loops held). */
void al_finorder_forget(struct al_loop *l, void (*fn)(void *, void *),
                        void *arg);

#endif
