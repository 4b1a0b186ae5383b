/* The stack depot: creation stacks kept once each. Lookups take no lock;
 * inserting a stack never seen before takes one. Stacks are never freed,
 * so a pointer to one is a stable id. Capturing them is capture.c's job. */
#define UNW_LOCAL_ONLY
#include <libunwind.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/mman.h>

#include "internal.h"

#define BUCKETS (1u << 16)
#define CHUNK (1u << 20)

static _Atomic(struct al_stack *) buckets[BUCKETS];
static pthread_mutex_t insert_lock = PTHREAD_MUTEX_INITIALIZER;
AL_LOCK_REGISTER(AL_LOCK_STACKS, insert_lock, 0)
static char *arena_cur, *arena_end;
static size_t nstacks, nbytes;
uintptr_t al_self_lo, al_self_hi;

void al_stack_set_self_range(uintptr_t lo, uintptr_t hi) {
  al_self_lo = lo;
  al_self_hi = hi;
}

static uint32_t hash_frames(const uintptr_t *pc, uint32_t depth) {
  uint64_t h = 0x9e3779b97f4a7c15ull ^ depth;
  for (uint32_t i = 0; i < depth; i++) {
    h ^= pc[i];
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
  }
  return (uint32_t)(h ^ (h >> 32));
}

static const struct al_stack *find(const struct al_stack *s,
                                   const struct al_stack *stop, uint32_t hash,
                                   const uintptr_t *pc, uint32_t depth) {
  for (; s != stop; s = s->next)
    if (s->hash == hash && s->depth == depth &&
        !memcmp(s->pc, pc, depth * sizeof(*pc)))
      return s;
  return NULL;
}

/* Called with insert_lock held. */
static void *arena_alloc(size_t size) {
  size = (size + 15) & ~(size_t)15;
  if ((size_t)(arena_end - arena_cur) < size) {
    void *p = mmap(NULL, CHUNK, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
      return NULL;
    arena_cur = p;
    arena_end = arena_cur + CHUNK;
  }
  void *r = arena_cur;
  arena_cur += size;
  nbytes += size;
  return r;
}

const struct al_stack *al_stack_intern(const uintptr_t *pc, uint32_t depth) {
  uint32_t hash = hash_frames(pc, depth);
  _Atomic(struct al_stack *) *slot = &buckets[hash & (BUCKETS - 1)];
  struct al_stack *head = atomic_load_explicit(slot, memory_order_acquire);
  const struct al_stack *found = find(head, NULL, hash, pc, depth);
  struct al_stack *s;

  if (found != NULL)
    return found;
  al_mutex_lock(&insert_lock);
  /* Another thread may have added it since we looked. */
  struct al_stack *now = atomic_load_explicit(slot, memory_order_relaxed);
  found = find(now, head, hash, pc, depth);
  if (found == NULL) {
    s = arena_alloc(sizeof(*s) + depth * sizeof(*pc));
    if (s != NULL) {
      s->hash = hash;
      s->depth = depth;
      memcpy(s->pc, pc, depth * sizeof(*pc));
      s->next = now;
      atomic_store_explicit(slot, s, memory_order_release);
      nstacks++;
    }
    found = s;
  }
  al_mutex_unlock(&insert_lock);
  return found;
}

#ifdef __SANITIZE_THREAD__
/* libunwind sets itself up in the first unwind, and each later one tells
 * that it did from a flag ThreadSanitizer does not see (libunwind is not
 * instrumented): the setup's writes, to the signal mask its locks use and
 * to its cache's lock, would look unordered with other threads' reads of
 * them. Done under pthread_once, which ThreadSanitizer knows, the setup is
 * ordered before every other unwind. */
static pthread_once_t unwinder_once = PTHREAD_ONCE_INIT;

static void unwinder_setup(void) {
  unw_context_t uc;
  unw_cursor_t cursor;

  if (unw_getcontext(&uc) == 0)
    unw_init_local(&cursor, &uc);
}
#endif

static int unwind_now(void **buf, int want);

/* Return addresses of the calling thread, innermost first. Through the
 * gate fork closes (lib/phdr.c): libunwind holds a lock of its own as it
 * unwinds, which no fork child may find held. */
int al_stack_unwind(void **buf, int want) {
  int n;

  al_gate_enter();
  n = unwind_now(buf, want);
  al_gate_leave();
  return n;
}

static int unwind_now(void **buf, int want) {
#ifdef __SANITIZE_THREAD__
  /* unw_backtrace's per-thread cache is freed by a thread-specific-data
   * destructor that runs after ThreadSanitizer has torn the thread down;
   * the plain unwinder keeps no such cache. */
  unw_context_t uc;
  unw_cursor_t cursor;
  int n = 0;
  pthread_once(&unwinder_once, unwinder_setup);
  if (unw_getcontext(&uc) == 0 && unw_init_local(&cursor, &uc) == 0) {
    unw_word_t ip;
    do {
      if (unw_get_reg(&cursor, UNW_REG_IP, &ip) != 0 || ip == 0)
        break;
      buf[n++] = (void *)ip;
    } while (n < want && unw_step(&cursor) > 0);
  }
  return n;
#else
  return unw_backtrace(buf, want);
#endif
}

static int slots_now(const uintptr_t *from, uintptr_t *pc, uintptr_t *slot,
                     int want);

int al_stack_unwind_slots(const uintptr_t *from, uintptr_t *pc,
                          uintptr_t *slot, int want) {
  int n;

  al_gate_enter(); /* as al_stack_unwind */
  n = slots_now(from, pc, slot, want);
  al_gate_leave();
  return n;
}

static int slots_now(const uintptr_t *from, uintptr_t *pc, uintptr_t *slot,
                     int want) {
#if defined(__x86_64__)
  unw_context_t uc;
  unw_cursor_t cursor;
  int n = 0, found = 0;

  if (unw_getcontext(&uc) != 0 || unw_init_local(&cursor, &uc) != 0)
    return -1;
  for (int steps = 0; steps < want + AL_SELF_FRAMES_MAX; steps++) {
    unw_word_t ip, sp;
    if (unw_get_reg(&cursor, UNW_REG_IP, &ip) != 0 ||
        unw_get_reg(&cursor, UNW_REG_SP, &sp) != 0 || ip == 0)
      break;
    /* A frame's sp is its caller's CFA; the call stored the return
     * address, this frame's ip, just below. */
    uintptr_t at = (uintptr_t)sp - sizeof(uintptr_t);
    if (!found && at == (uintptr_t)from)
      found = 1;
    if (found) {
      if (*(const uintptr_t *)at != ip)
        return -1;
      pc[n] = ip;
      slot[n] = at;
      if (++n == want)
        break;
    }
    /* Past a signal frame, the next ip comes from the saved context, not
     * from a slot. */
    if (unw_is_signal_frame(&cursor) > 0)
      return -1;
    if (unw_step(&cursor) <= 0)
      break;
  }
  return found ? n : -1;
#else
  return -1;
#endif
}

int al_stack_contains(uintptr_t lo, uintptr_t hi) {
  void *buf[256];
  int n = al_stack_unwind(buf, (int)(sizeof(buf) / sizeof(buf[0])));

  for (int i = 0; i < n; i++)
    if ((uintptr_t)buf[i] > lo && (uintptr_t)buf[i] <= hi)
      return 1;
  /* A stack deeper than we looked may hold it further down. */
  return n == (int)(sizeof(buf) / sizeof(buf[0]));
}

void al_stack_stats(size_t *stacks, size_t *bytes) {
  al_mutex_lock(&insert_lock);
  *stacks = nstacks;
  *bytes = nbytes;
  al_mutex_unlock(&insert_lock);
}
