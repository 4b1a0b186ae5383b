/* The handles whose close the program asked for, with the stack of that
 * first close, for the use-after-close check (check_closes). A handle's
 * record in the registry is gone once its close completes, and the
 * mistake this check is about comes later: a start or a second close of
 * the handle, the loop library having long finished with it. So each
 * close the program asks for is kept here until the memory is made a
 * handle again (al_close_forget, from the shims' initialisers), which
 * makes a legitimate reuse of the memory no finding.
 *
 * Bounded: a set-associative table, each address going to one set of
 * WAYS entries, the oldest of which makes room for a new one. A close
 * forgotten so is not a finding lost: the loop library's own flags still
 * tell a closed handle, only the stack of its close is then not known.
 * Used only while check_closes is on. */
#include <errno.h>
#include <string.h>

#include "internal.h"

#define SETS 1024
#define WAYS 4

struct closed {
  uintptr_t addr; /* 0: free */
  const struct al_stack *stack;
  uint64_t age;
};

static pthread_mutex_t closes_lock = PTHREAD_MUTEX_INITIALIZER;
AL_LOCK_REGISTER(AL_LOCK_CLOSES, closes_lock, 0)

static struct closed table[SETS][WAYS];
static uint64_t clock_now;

static struct closed *set_of(uintptr_t addr) {
  /* Handles are at least 8-byte aligned; mix the bits above. */
  uint64_t h = (uint64_t)(addr >> 3) * 0x9e3779b97f4a7c15ull;
  return table[h >> 54 & (SETS - 1)];
}

void al_close_note(uintptr_t addr) {
  int saved = errno;
  const struct al_stack *stack;
  struct closed *set, *slot;

  /* A signal handler inside the runtime: neither the lock nor the stack
   * depot may be waited for. Its close is then not named by a stack. */
  if (AL_UNLIKELY(al_locks_held != 0) || addr == 0)
    return;
  stack = al_stack_capture();
  set = set_of(addr);
  al_mutex_lock(&closes_lock);
  /* An entry of this address is of an older handle there, whose memory
   * was made a handle again without al_close_forget (by a signal
   * handler): this close replaces it. Else a free entry, else the
   * oldest. */
  slot = &set[0];
  for (int i = 0; i < WAYS; i++) {
    if (set[i].addr == addr) {
      slot = &set[i];
      break;
    }
    if (slot->addr != 0 && (set[i].addr == 0 || set[i].age < slot->age))
      slot = &set[i];
  }
  slot->addr = addr;
  slot->stack = stack;
  slot->age = ++clock_now;
  al_mutex_unlock(&closes_lock);
  errno = saved;
}

int al_close_lookup(uintptr_t addr, const struct al_stack **stack) {
  struct closed *set = set_of(addr);
  int found = 0;

  *stack = NULL;
  if (AL_UNLIKELY(al_locks_held != 0))
    return 0;
  al_mutex_lock(&closes_lock);
  for (int i = 0; i < WAYS && !found; i++)
    if (set[i].addr == addr) {
      *stack = set[i].stack;
      found = 1;
    }
  al_mutex_unlock(&closes_lock);
  return found;
}

void al_close_forget(uintptr_t addr) {
  int saved = errno;
  struct closed *set = set_of(addr);

  /* A signal handler inside the runtime does not wait for the lock: the
   * entry stays. It names no finding: a finding needs the loop library's
   * flags to say the handle was closed, and the next close of the new
   * handle replaces the entry. */
  if (AL_UNLIKELY(al_locks_held != 0))
    return;
  al_mutex_lock(&closes_lock);
  for (int i = 0; i < WAYS; i++)
    if (set[i].addr == addr)
      set[i] = (struct closed){0, NULL, 0};
  al_mutex_unlock(&closes_lock);
  errno = saved;
}

void al_closes_reset(void) {
  al_mutex_lock(&closes_lock);
  memset(table, 0, sizeof(table));
  clock_now = 0;
  al_mutex_unlock(&closes_lock);
}
