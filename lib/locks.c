/* The runtime's locks across fork() and the report copy: one table of
 * every lock, by rank (locks.h), taken in that order before the process
 * is copied and released in both processes after.
 *
 * Taking them all before fork() is what makes the child's data whole: no
 * thread is halfway through a change when the memory is copied, so the
 * child releases the locks rather than initialise them again (which would
 * leave whatever another thread was changing half-changed). The locks are
 * taken with a bounded wait, never a plain lock: a fork must not hang
 * because of the runtime, whatever the program does around it. */
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#include "internal.h"

#define SPINS_MAX 32 /* locks of one rank: the registry's stripes */

struct slot {
  _Atomic(void *) first; /* the lock, or the first of the array; NULL
                            until registered */
  const char *name;
  size_t stride;
  unsigned count;
  unsigned char spin; /* al_spin_t, else pthread_mutex_t or a gate */
  unsigned char flags;
  /* A gate (lib/phdr.c), not a lock: */
  int (*try_close)(void);
  void (*open)(void);
  void (*child)(void);
};

static struct slot slots[AL_LOCK_RANKS];

/* A bit per lock of each rank: what this thread took for its fork, and
 * what it found held by itself. Per thread: two threads may fork at once,
 * and each releases what it took. The child is the thread that forked. */
static AL_TLS uint32_t fork_taken[AL_LOCK_RANKS];
static AL_TLS uint32_t fork_mine[AL_LOCK_RANKS];
/* What this thread took for the report copy. */
static AL_TLS uint32_t hold_taken[AL_LOCK_RANKS];

/* In a fork child: the locks it had to initialise again. */
#define LOST_NAMED 8
static const char *lost_names[LOST_NAMED];
static size_t nlost;

#define HOOKS_MAX 8
static _Atomic(void (*)(void)) hooks[HOOKS_MAX];
static atomic_uint nhooks;

static void add(enum al_lock_rank rank, void *first, unsigned count,
                size_t stride, int spin, const char *name, unsigned flags) {
  struct slot *s;

  if ((unsigned)rank >= AL_LOCK_RANKS || count == 0 || count > SPINS_MAX ||
      atomic_load(&slots[rank].first) != NULL)
    abort(); /* a build mistake: a rank has one registration */
  s = &slots[rank];
  s->name = name;
  s->count = count;
  s->stride = stride;
  s->spin = (unsigned char)spin;
  s->flags = (unsigned char)flags;
  atomic_store_explicit(&s->first, first, memory_order_release);
}

void al_lock_register_mutex(enum al_lock_rank rank, pthread_mutex_t *m,
                            const char *name, unsigned flags) {
  add(rank, m, 1, 0, 0, name, flags);
}

void al_lock_register_spins(enum al_lock_rank rank, al_spin_t *spins,
                            unsigned count, size_t stride, const char *name,
                            unsigned flags) {
  add(rank, spins, count, stride, 1, name, flags);
}

static char gate_mark; /* what a gate's slot points at */

void al_lock_register_gate(enum al_lock_rank rank, int (*try_close)(void),
                           void (*open)(void), void (*child)(void),
                           const char *name, unsigned flags) {
  if ((unsigned)rank >= AL_LOCK_RANKS)
    abort();
  slots[rank].try_close = try_close;
  slots[rank].open = open;
  slots[rank].child = child;
  add(rank, &gate_mark, 1, 0, 0, name, flags);
}

int al_lock_registered(enum al_lock_rank rank) {
  return (unsigned)rank < AL_LOCK_RANKS &&
         atomic_load_explicit(&slots[rank].first, memory_order_acquire) !=
             NULL;
}

void al_on_fork_child(void (*fn)(void)) {
  unsigned i = atomic_fetch_add(&nhooks, 1);

  if (i >= HOOKS_MAX)
    abort(); /* a build mistake: more than the table holds */
  atomic_store_explicit(&hooks[i], fn, memory_order_release);
}

static void *lock_at(const struct slot *s, unsigned i) {
  return (char *)atomic_load_explicit(&s->first, memory_order_acquire) +
         (size_t)i * s->stride;
}

/* Waits about 100 us. Under the program's seccomp filter, which may kill
 * the process for a system call of the runtime's (lib/seccomp.c), it
 * spins instead. */
static void nap(void) {
  const struct timespec step = {0, 100000};

  if (al_ending_sealed()) {
    for (int k = 0; k < 20000; k++)
      __asm__ volatile("" ::: "memory");
    return;
  }
  nanosleep(&step, NULL);
}

/* Takes the lock, in 100 us naps after a moment's spinning, until it is
 * free or *budget_us is spent: 1 when taken. Only trylocks: never a wait
 * that cannot end. */
static int take(const struct slot *s, unsigned i, long *budget_us) {
  void *l = lock_at(s, i);

  for (;;) {
    if (s->try_close != NULL) {
      if (s->try_close())
        return 1;
    } else if (s->spin) {
      al_spin_t *sp = l;
      for (int k = 0; k < 256; k++)
        if (atomic_load_explicit(&sp->held, memory_order_relaxed) == 0 &&
            al_spin_take(sp))
          return 1;
    } else if (pthread_mutex_trylock(l) == 0) {
      return 1;
    }
    if (*budget_us <= 0) {
      if (s->open != NULL)
        s->open(); /* a gate closed to no purpose */
      return 0;
    }
    *budget_us -= 100;
    nap();
  }
}

static void release(const struct slot *s, unsigned i) {
  void *l = lock_at(s, i);

  if (s->open != NULL)
    s->open();
  else if (s->spin)
    atomic_store_explicit(&((al_spin_t *)l)->held, 0, memory_order_release);
  else
    pthread_mutex_unlock(l);
}

/* Whether the calling thread holds the busy lock itself. glibc notes a
 * mutex's owner; a spin lock has none, and is the thread's own when it
 * holds any lock, for another thread holds one for nanoseconds. */
static int held_by_me(const struct slot *s, unsigned i, unsigned self) {
  if (self == 0 || s->try_close != NULL)
    return 0;
#ifdef __GLIBC__
  if (!s->spin)
    return ((pthread_mutex_t *)lock_at(s, i))->__data.__owner == al_gettid();
#endif
  return 1;
}

void al_locks_fork_prepare(void) {
  unsigned self = al_locks_held;
  long budget = self > 0 ? 1000 : (long)AL_FORK_BUDGET_MS * 1000;

  /* Counted once for the whole fork: a signal handler that comes before
   * the child or the parent handler has released them defers what it
   * would record, rather than wait for this thread. */
  al_held_more();
  for (unsigned r = 0; r < AL_LOCK_RANKS; r++) {
    const struct slot *s = &slots[r];
    fork_taken[r] = fork_mine[r] = 0;
    if (atomic_load_explicit(&s->first, memory_order_acquire) == NULL)
      continue;
    for (unsigned i = 0; i < s->count; i++) {
      if (take(s, i, &budget))
        fork_taken[r] |= 1u << i;
      else if (held_by_me(s, i, self))
        fork_mine[r] |= 1u << i;
    }
  }
}

/* Releases, in the reverse order, what this thread took for its fork. */
static void release_taken(uint32_t *taken) {
  for (unsigned r = AL_LOCK_RANKS; r-- > 0;) {
    const struct slot *s = &slots[r];
    for (unsigned i = s->count; i-- > 0;)
      if (taken[r] & 1u << i)
        release(s, i);
    taken[r] = 0;
  }
}

void al_locks_fork_parent(void) {
  release_taken(fork_taken);
  al_held_less();
}

void al_locks_fork_child(void) {
  nlost = 0;
  for (unsigned r = 0; r < AL_LOCK_RANKS; r++) {
    const struct slot *s = &slots[r];
    uint32_t left = 0;
    if (atomic_load_explicit(&s->first, memory_order_acquire) == NULL)
      continue;
    for (unsigned i = 0; i < s->count; i++)
      if (!(fork_taken[r] & 1u << i) && !(fork_mine[r] & 1u << i))
        left |= 1u << i;
    for (unsigned i = 0; left != 0 && i < s->count; i++) {
      void *l = lock_at(s, i);
      if (!(left & 1u << i))
        continue;
      /* Held by a thread the child does not have, which never let go
       * within the budget: the only lock set free without being taken. A
       * gate was never closed: nothing to set free (its child function
       * follows). */
      if (s->try_close != NULL)
        ;
      else if (s->spin)
        atomic_store(&((al_spin_t *)l)->held, 0);
      else
        pthread_mutex_init(l, NULL);
    }
    if (left != 0) {
      if (nlost < LOST_NAMED)
        lost_names[nlost] = s->name;
      nlost++;
    }
  }
  release_taken(fork_taken);
  for (unsigned r = 0; r < AL_LOCK_RANKS; r++)
    if (slots[r].child != NULL)
      slots[r].child();
}

void al_locks_fork_done(void) {
  unsigned n = atomic_load(&nhooks);

  for (unsigned i = 0; i < n && i < HOOKS_MAX; i++) {
    void (*fn)(void) = atomic_load_explicit(&hooks[i], memory_order_acquire);
    if (fn != NULL)
      fn();
  }
  al_held_less();
}

size_t al_locks_lost(const char **names, size_t max) {
  for (size_t i = 0; i < max && i < nlost && i < LOST_NAMED; i++)
    names[i] = lost_names[i];
  return nlost;
}

/* ------------------------------------------------- the copy at the end */

unsigned al_locks_hold(unsigned budget_ms) {
  long budget = (long)budget_ms * 1000;
  unsigned missed = 0;

  for (unsigned r = 0; r < AL_LOCK_RANKS; r++) {
    const struct slot *s = &slots[r];
    hold_taken[r] = 0;
    if (atomic_load_explicit(&s->first, memory_order_acquire) == NULL ||
        !(s->flags & AL_LOCK_FOR_REPORT))
      continue;
    for (unsigned i = 0; i < s->count; i++) {
      if (take(s, i, &budget))
        hold_taken[r] |= 1u << i;
      else
        missed++;
    }
  }
  return missed;
}

void al_locks_let_go(void) {
  release_taken(hold_taken);
}
