/* The program's callbacks that a shim stands in for, for the
 * slow-callback check: libuv keeps a handle's callback in the handle
 * (uv_timer_t's timer_cb...) and calls it from there, so that to time it
 * the shim's stand-in goes in that field, from the start call on, and the
 * program's own is kept here, by the handle's address, until the
 * handle's close completes or its memory is initialised as a handle
 * again.
 *
 * Bounded: a set-associative table, each address going to one set of
 * WAYS entries. An entry is never taken from a handle that still holds
 * the stand-in, which could then no longer find the program's callback:
 * a set that is full keeps what it has, and the shim hands libuv the
 * program's own callback, which is then not timed. Used only while
 * slow_callback_ms is on. */
#include <errno.h>
#include <string.h>

#include "internal.h"

#define SETS 1024
#define WAYS 4

struct standin {
  uintptr_t addr; /* 0: free */
  unsigned which;
  void *cb;
  const struct al_stack *stack;
};

static pthread_mutex_t standins_lock = PTHREAD_MUTEX_INITIALIZER;
AL_LOCK_REGISTER(AL_LOCK_STANDINS, standins_lock, 0)

static struct standin table[SETS][WAYS];
/* Entries in use, read without the lock by al_standin_forget. */
static atomic_long used;

static struct standin *set_of(uintptr_t addr) {
  /* Handles are at least 8-byte aligned; mix the bits above. */
  uint64_t h = (uint64_t)(addr >> 3) * 0x9e3779b97f4a7c15ull;
  return table[h >> 54 & (SETS - 1)];
}

int al_standin_keep(uintptr_t addr, unsigned which, void *cb) {
  int saved = errno, rc = -1;
  struct standin *set, *slot = NULL;

  /* A signal handler inside the runtime does not wait for the lock. */
  if (AL_UNLIKELY(al_locks_held != 0) || addr == 0)
    return -1;
  set = set_of(addr);
  al_mutex_lock(&standins_lock);
  for (int i = 0; i < WAYS; i++) {
    if (set[i].addr == addr && set[i].which == which) {
      slot = &set[i];
      break;
    }
    if (slot == NULL && set[i].addr == 0)
      slot = &set[i];
  }
  if (slot != NULL) {
    if (slot->addr == 0)
      atomic_fetch_add_explicit(&used, 1, memory_order_relaxed);
    slot->addr = addr;
    slot->which = which;
    slot->cb = cb;
    slot->stack = NULL;
    rc = 0;
  }
  al_mutex_unlock(&standins_lock);
  errno = saved;
  return rc;
}

void al_standin_note(uintptr_t addr, unsigned which,
                     const struct al_stack *stack) {
  struct standin *set = set_of(addr);

  if (AL_UNLIKELY(al_locks_held != 0))
    return;
  al_mutex_lock(&standins_lock);
  for (int i = 0; i < WAYS; i++)
    if (set[i].addr == addr && set[i].which == which)
      set[i].stack = stack;
  al_mutex_unlock(&standins_lock);
}

void *al_standin_kept(uintptr_t addr, unsigned *which,
                      const struct al_stack **stack) {
  struct standin *set = set_of(addr);
  void *cb = NULL;

  if (stack != NULL)
    *stack = NULL;
  al_mutex_lock(&standins_lock);
  for (int i = 0; i < WAYS; i++)
    if (set[i].addr == addr &&
        (*which == AL_STANDIN_ANY || set[i].which == *which)) {
      cb = set[i].cb;
      *which = set[i].which;
      if (stack != NULL)
        *stack = set[i].stack;
      break;
    }
  al_mutex_unlock(&standins_lock);
  return cb;
}

void al_standin_forget(uintptr_t addr) {
  int saved = errno;
  struct standin *set;

  if (atomic_load_explicit(&used, memory_order_relaxed) == 0 ||
      AL_UNLIKELY(al_locks_held != 0))
    return;
  set = set_of(addr);
  al_mutex_lock(&standins_lock);
  for (int i = 0; i < WAYS; i++)
    if (set[i].addr == addr) {
      set[i] = (struct standin){0, 0, NULL, NULL};
      atomic_fetch_sub_explicit(&used, 1, memory_order_relaxed);
    }
  al_mutex_unlock(&standins_lock);
  errno = saved;
}

void al_standins_reset(void) {
  al_mutex_lock(&standins_lock);
  memset(table, 0, sizeof(table));
  atomic_store(&used, 0);
  al_mutex_unlock(&standins_lock);
}

/* ------------------------------------------------ stand-ins by function */

/* A loop library that calls a callback with no pointer to what it
 * belongs to (libevent's cb(fd, what, arg)) cannot have a stand-in find
 * the program's callback by the handle's address. Such a shim stands in
 * with one of a fixed set of functions of its own instead, one per
 * callback function of the program's: stand-in i calls what slot i
 * holds. A slot, once given a function, keeps it for the life of the
 * process, so a stand-in is right wherever it is called from, even from
 * a copy of the handle's memory or by the program itself; what a slot
 * holds is a function's address, not a handle's, so nothing of it can
 * go stale. Lock-free: a slot is taken with one compare-and-swap. */
static void *_Atomic fn_slots[AL_FN_SLOTS];
static atomic_int fn_slots_full;

int al_fn_slot(void *fn) {
  uint64_t h = (uint64_t)((uintptr_t)fn >> 2) * 0x9e3779b97f4a7c15ull;
  unsigned first = (unsigned)(h >> 32) % AL_FN_SLOTS;

  if (fn == NULL)
    return -1;
  for (unsigned n = 0; n < AL_FN_SLOTS; n++) {
    unsigned i = (first + n) % AL_FN_SLOTS;
    void *held = atomic_load_explicit(&fn_slots[i], memory_order_acquire);
    if (held == fn)
      return (int)i;
    if (held == NULL &&
        (atomic_compare_exchange_strong(&fn_slots[i], &held, fn) ||
         held == fn))
      return (int)i;
  }
  if (!atomic_exchange(&fn_slots_full, 1))
    al_warn("slow_callback_ms: the program's callbacks fill the %d "
            "stand-ins of the runtime; others are not timed",
            AL_FN_SLOTS);
  return -1;
}

static int stand_in_slot(void *const *stand_ins, void *fn) {
  for (int i = 0; i < AL_FN_SLOTS; i++)
    if (stand_ins[i] == fn)
      return i;
  return -1;
}

void *al_fn_stand_in(void *const *stand_ins, void *fn) {
  int slot;

  if (fn == NULL || stand_in_slot(stand_ins, fn) >= 0)
    return fn;
  slot = al_fn_slot(fn);
  return slot >= 0 ? stand_ins[slot] : fn;
}

void *al_fn_unstand(void *const *stand_ins, void *fn) {
  int slot = fn != NULL ? stand_in_slot(stand_ins, fn) : -1;
  return slot >= 0 ? al_fn_slot_target((unsigned)slot) : fn;
}

void *al_fn_slot_target(unsigned slot) {
  return slot < AL_FN_SLOTS
             ? atomic_load_explicit(&fn_slots[slot], memory_order_acquire)
             : NULL;
}
