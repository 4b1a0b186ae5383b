/* What a signal handler does while its thread is inside the runtime.
 *
 * A handler that makes or closes a handle (on a loop of its own, say) may
 * interrupt its thread while that thread holds one of the runtime's locks.
 * Waiting for the lock would wait forever, and so would interning the
 * creation stack. So the shim writes the event here instead: the stack as
 * raw return addresses, unwound with libunwind's local unwinder, which is
 * safe in a signal handler; nothing else. When the thread releases its last
 * lock (al_held_less), it records the events as if they had just happened.
 *
 * A few events fit per thread: a handler runs to completion before the
 * thread goes on, so only handlers nested in handlers add more. Events
 * that find no room are counted, and the report says how many. */
#include <errno.h>
#include <stdatomic.h>
#include <string.h>

#include "internal.h"

#define SLOTS 4
#define FRAMES 32

enum { EMPTY, WRITING, OPEN, CLOSED, FINDING };

struct event {
  unsigned char kind, shim;
  unsigned type;
  int depth;
  uintptr_t addr, loop;
  struct al_finding finding; /* FINDING: all but its stack */
  uintptr_t pc[FRAMES];
};

static AL_TLS struct event events[SLOTS];
static AL_TLS volatile unsigned running;
static atomic_ulong lost;

/* A slot is claimed by a handler that may itself be interrupted by another
 * handler; each writes its own slot, and only then makes it count. */
static struct event *claim(void) {
  for (int i = 0; i < SLOTS; i++)
    if (events[i].kind == EMPTY) {
      events[i].kind = WRITING;
      atomic_signal_fence(memory_order_seq_cst);
      return &events[i];
    }
  atomic_fetch_add_explicit(&lost, 1, memory_order_relaxed);
  return NULL;
}

static void publish(void) {
  atomic_signal_fence(memory_order_seq_cst);
  al_deferred++;
}

/* The calling thread's stack, less asyncleak's frames, into e. */
static void unwind_into(struct event *e) {
  void *raw[FRAMES + AL_SELF_FRAMES_MAX];
  int n, kept = 0;

  n = al_stack_unwind(raw, (int)(sizeof(raw) / sizeof(raw[0])));
  for (int i = 0; i < n && kept < FRAMES && kept < al_opt.stack_depth; i++)
    if (!al_stack_is_self((uintptr_t)raw[i]))
      e->pc[kept++] = (uintptr_t)raw[i];
  e->depth = kept;
}

int al_defer_open(uint8_t shim, uintptr_t addr, unsigned type,
                  uintptr_t loop) {
  struct event *e = claim();

  if (e == NULL)
    return -1;
  unwind_into(e);
  e->shim = shim;
  e->type = type;
  e->addr = addr;
  e->loop = loop;
  atomic_signal_fence(memory_order_seq_cst);
  e->kind = OPEN;
  publish();
  return 0;
}

int al_defer_closed(uintptr_t addr) {
  struct event *e = claim();

  if (e == NULL)
    return -1;
  e->addr = addr;
  atomic_signal_fence(memory_order_seq_cst);
  e->kind = CLOSED;
  publish();
  return 0;
}

int al_defer_finding(const struct al_finding *f) {
  struct event *e = claim();

  if (e == NULL)
    return -1;
  unwind_into(e);
  e->finding = *f;
  atomic_signal_fence(memory_order_seq_cst);
  e->kind = FINDING;
  publish();
  return 0;
}

void al_defer_missed(void) {
  atomic_fetch_add_explicit(&lost, 1, memory_order_relaxed);
}

unsigned long al_defer_lost(void) {
  return atomic_load_explicit(&lost, memory_order_relaxed);
}

/* Runs with no lock held, on the thread whose handler deferred. Events are
 * taken one at a time: recording one takes locks, and a handler may defer
 * more meanwhile. */
void al_deferred_run(void) {
  if (running)
    return;
  running = 1;
  while (al_deferred != 0) {
    struct event e;
    int found = 0;

    for (int i = 0; i < SLOTS && !found; i++) {
      if (events[i].kind == EMPTY || events[i].kind == WRITING)
        continue;
      atomic_signal_fence(memory_order_seq_cst);
      e = events[i];
      atomic_signal_fence(memory_order_seq_cst);
      events[i].kind = EMPTY;
      al_deferred--;
      found = 1;
    }
    if (!found)
      break;
    if (e.kind == OPEN) {
      const struct al_stack *stack =
          e.depth > 0 ? al_stack_intern(e.pc, (uint32_t)e.depth) : NULL;
      al_res_open(e.shim, e.addr, e.type, e.loop, stack);
    } else if (e.kind == FINDING) {
      e.finding.stack =
          e.depth > 0 ? al_stack_intern(e.pc, (uint32_t)e.depth) : NULL;
      e.finding.count = 1;
      al_finding_add(&e.finding);
    } else {
      void *cb;
      if (al_res_closing(e.addr, NULL) != 0)
        al_res_closed(e.addr, &cb);
    }
  }
  running = 0;
}

/* ------------------------------------------ what the shims tell the core */

void al_made(uint8_t shim, uintptr_t addr, unsigned type, uintptr_t loop) {
  int saved = errno;

  if (AL_UNLIKELY(al_locks_held != 0))
    al_defer_open(shim, addr, type, loop);
  else
    al_res_open(shim, addr, type, loop, al_stack_capture());
  errno = saved;
}

void al_loop_made(uint8_t shim, uintptr_t loop, unsigned flags,
                  int with_stack, int fresh) {
  int saved = errno;

  /* Not deferred: a loop made by a signal handler inside the runtime is
   * rare enough to be counted only. */
  if (AL_UNLIKELY(al_locks_held != 0))
    al_defer_missed();
  else
    al_loop_open(shim, loop, flags, with_stack ? al_stack_capture() : NULL,
                 fresh);
  errno = saved;
}
