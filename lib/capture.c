/* Capturing creation stacks, and remembering them per thread so that a
 * stack seen before costs a comparison instead of an unwind.
 *
 * Unwinding 16 frames with libunwind costs about 80 ns here: more than the
 * libuv calls being watched (a timer's init, start and close take 30 ns
 * together). But a program makes its handles and requests from a few
 * places, and at each place the frames above are most often the very ones
 * seen last time: the same return addresses in the same stack slots. So
 * each thread keeps the last stacks it captured, each with the slots its
 * return addresses were read from. A capture compares those words with
 * what the stack holds now, one load per frame, and unwinds only when one
 * differs.
 *
 * Why equal words mean an equal stack: each slot is where a call stored a
 * return address, the word just below the caller's canonical frame address
 * (CFA). The CFA of a frame of fixed size follows from the code it runs and
 * the frame below; so when the program's call site sits in the same slot
 * with the same return address, its caller's return address is stored
 * where it was last time, and so on up, each word checked. A frame of
 * variable size (alloca, a variable-length array, realignment) breaks the
 * chain: a different caller, reached through a function pointer from the
 * same place, can put the call site back in the same slot while the old
 * slots above fall in uninitialised space that still holds the old return
 * addresses. That takes a variable frame, an indirect call and stale
 * words lining up; the stack served is then the earlier caller's.
 *
 * The slots come from libunwind's cursor, which reads the CFA of every
 * frame from the DWARF call frame information. It is exact, and slow
 * (about 5 us for 16 frames, against 80 ns for libunwind's own cached
 * backtrace), so a stack is cached only where the program's call site was
 * met twice in the same slot, and a thread spends at most one such unwind
 * per 64 captures. (Searching the stack for each return address is no
 * substitute: a frame may hold a copy of one, and a copy does not move
 * when the caller changes.)
 *
 * The slot of the program's call site is found by following asyncleak's
 * own frame pointers (the runtime is built with them) from this function
 * up to the first return address outside asyncleak. Every read stays
 * within the thread's own stack; a capture on another stack (sigaltstack,
 * a coroutine's) is not cached.
 *
 * A thread's first capture sets its cache up (pthread_getattr_np, mmap):
 * not async-signal-safe, should that capture be made in a signal handler.
 *
 * x86-64 only, where a call stores its return address on the stack.
 * ThreadSanitizer tears a thread down before its thread-specific-data
 * destructors run, so a sanitized thread build does without. So does a
 * program under valgrind, whose memcheck would take each look at a word
 * the program never wrote for a bug. */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/mman.h>

#include "internal.h"

#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#define UNDER_VALGRIND() RUNNING_ON_VALGRIND
#else
#define UNDER_VALGRIND() 0
#endif

#define CACHE_STACKS AL_CACHE_STACKS

/* Enough for the frames behind stack_depth kept ones, asyncleak's own
 * among them (uv_run's, below a callback). */
#define RAW_MAX (AL_STACK_DEPTH_MAX + AL_SELF_FRAMES_MAX)

/* Keeps the first stack_depth of raw[0..n) that are not asyncleak's
 * frames, in pc; returns how many, and sets *last to the index in raw of
 * the last one kept. */
static int keep_frames(const uintptr_t *raw, int n, uintptr_t *pc,
                       int *last) {
  int kept = 0;
  for (int i = 0; i < n && kept < al_opt.stack_depth; i++) {
    if (!al_stack_is_self(raw[i])) {
      pc[kept++] = raw[i];
      *last = i;
    }
  }
  return kept;
}

/* Unwinds the calling thread and keeps up to stack_depth frames that are
 * not asyncleak's, from the first one at or above `from`: the return
 * address into the capturing function's caller. */
static const struct al_stack *unwind(uintptr_t from) {
  uintptr_t buf[RAW_MAX], pc[AL_STACK_DEPTH_MAX];
  int want = al_opt.stack_depth + AL_SELF_FRAMES_MAX;
  int n, first = 0, kept, last;

  if (want > RAW_MAX)
    want = RAW_MAX;
  n = al_stack_unwind((void **)buf, want);
  /* The unwinder's frames and this file's come first. */
  for (int i = 0; i < n && i <= 4; i++) {
    if (buf[i] == from) {
      first = i;
      break;
    }
  }
  kept = keep_frames(buf + first, n - first, pc, &last);
  return kept ? al_stack_intern(pc, (uint32_t)kept) : NULL;
}

#if CACHE_STACKS

#define ENTRIES 8
/* Captures a thread makes for each cursor unwind it may spend. */
#define CREDIT_PER_FILL 64

/* A frame's return address and its slot side by side, and the first
 * frames in the entry's first cache line: a hit touches few lines. */
struct frame {
  uintptr_t pc;
  uintptr_t off; /* its slot: bytes above slot0 */
};

enum { ENTRY_EMPTY, ENTRY_SEEN, ENTRY_FILLED };

struct entry {
  uintptr_t slot0; /* where the call site's return address was */
  uintptr_t pc0;   /* and that return address */
  const struct al_stack *stack;
  uint8_t state;
  uint8_t depth;   /* stack_depth when filled */
  uint16_t n;      /* raw frames compared, the call site's included */
  uint16_t hits;   /* since filled, and misses, saturating: */
  uint16_t misses; /* refilled when misses pass hits */
  struct frame f[RAW_MAX];
} __attribute__((aligned(64)));

struct cache {
  struct cache *next_free;
  uintptr_t lo, hi; /* the thread's stack */
  volatile sig_atomic_t busy; /* a capture is under way: a signal
                                 handler's does without the cache */
  unsigned credit;  /* captures made since the last cursor unwind */
  uint64_t hits, misses;
  struct entry e[ENTRIES];
};

static AL_TLS struct cache *tcache;
/* 0: no cache yet; 1: tcache is ready; 2: the thread does without. */
static AL_TLS unsigned char tstate;

/* Caches of threads that ended, for threads to come. */
static pthread_mutex_t free_lock = PTHREAD_MUTEX_INITIALIZER;
AL_LOCK_REGISTER(AL_LOCK_CAPTURE_CACHES, free_lock, 0)
static struct cache *free_caches;
static pthread_key_t cache_key;
static pthread_once_t key_once = PTHREAD_ONCE_INIT;
static int key_ok;

/* Runs on the thread that ends. A destructor that runs after this one
 * may still capture: the thread then does without. */
static void cache_release(void *p) {
  struct cache *c = p;
  tcache = NULL;
  tstate = 2;
  al_mutex_lock(&free_lock);
  c->next_free = free_caches;
  free_caches = c;
  al_mutex_unlock(&free_lock);
}

static void make_key(void) {
  key_ok = pthread_key_create(&cache_key, cache_release) == 0;
}

/* The thread's cache, made on its first capture; NULL when it cannot
 * have one. */
static struct cache *thread_cache(void) {
  pthread_attr_t attr;
  void *addr;
  size_t size;
  struct cache *c;

  if (AL_LIKELY(tstate == 1))
    return tcache;
  if (tstate == 2)
    return NULL;
  tstate = 2;
  pthread_once(&key_once, make_key);
  if (!key_ok || UNDER_VALGRIND() ||
      pthread_getattr_np(pthread_self(), &attr) != 0)
    return NULL;
  if (pthread_attr_getstack(&attr, &addr, &size) != 0)
    size = 0;
  pthread_attr_destroy(&attr);
  if (size == 0)
    return NULL;
  al_mutex_lock(&free_lock);
  if ((c = free_caches) != NULL)
    free_caches = c->next_free;
  al_mutex_unlock(&free_lock);
  if (c == NULL) {
    c = mmap(NULL, sizeof(*c), PROT_READ | PROT_WRITE,
             MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (c == MAP_FAILED)
      return NULL;
  }
  memset(c, 0, sizeof(*c));
  c->credit = CREDIT_PER_FILL;
  c->lo = (uintptr_t)addr;
  c->hi = (uintptr_t)addr + size;
  if (pthread_setspecific(cache_key, c) != 0) {
    cache_release(c);
    return NULL;
  }
  tcache = c;
  tstate = 1;
  return c;
}

/* The slot of the program's call site: up asyncleak's frame pointers from
 * fp to the first return address that is not ours. NULL if the chain
 * leaves the stack or goes astray. */
static const uintptr_t *call_site_slot(const uintptr_t *fp,
                                       const struct cache *c) {
  for (int i = 0; i <= AL_SELF_FRAMES_MAX; i++) {
    uintptr_t at = (uintptr_t)fp;
    if (at < c->lo || at > c->hi - 2 * sizeof(*fp) || (at & 7))
      return NULL;
    if (!al_stack_is_self(fp[1]))
      return &fp[1];
    if (fp[0] <= at)
      return NULL;
    fp = (const uintptr_t *)fp[0];
  }
  return NULL;
}

/* The reads below go through other functions' frames, their padding and
 * redzones included: looked at, never trusted. */
#define RAW_READS __attribute__((no_sanitize_address, noinline))

RAW_READS static int still_there(const struct entry *e,
                                 const uintptr_t *slot0) {
  const char *base = (const char *)slot0;
  for (uint32_t i = 1; i < e->n; i++)
    if (*(const uintptr_t *)(base + e->f[i].off) != e->f[i].pc)
      return 0;
  return 1;
}

/* Fills e from an exact unwind: the stack for slot0, and the slots of its
 * raw frames. 0, or -1 when it cannot be cached. */
static int fill(struct entry *e, const uintptr_t *slot0,
                const struct cache *c) {
  uintptr_t pc[RAW_MAX], at[RAW_MAX], kept_pc[AL_STACK_DEPTH_MAX];
  int want = al_opt.stack_depth + AL_SELF_FRAMES_MAX, n, kept, last = 0;

  if (want > RAW_MAX)
    want = RAW_MAX;
  n = al_stack_unwind_slots(slot0, pc, at, want);
  if (n <= 0 || al_stack_is_self(pc[0]))
    return -1;
  kept = keep_frames(pc, n, kept_pc, &last);
  /* A stack cut short by the frame budget depends on nothing further. */
  if (kept == al_opt.stack_depth)
    n = last + 1;
  e->stack = al_stack_intern(kept_pc, (uint32_t)kept);
  if (e->stack == NULL)
    return -1;
  /* Every slot a hit will read lies in this thread's stack, above the
   * one before. */
  for (int i = 1; i < n; i++)
    if (at[i] <= at[i - 1] || at[i] > c->hi - sizeof(uintptr_t))
      return -1;
  for (int i = 0; i < n; i++) {
    e->f[i].pc = pc[i];
    e->f[i].off = at[i] - (uintptr_t)slot0;
  }
  e->n = (uint16_t)n;
  e->depth = (uint8_t)al_opt.stack_depth;
  return 0;
}

static inline struct entry *entry_for(struct cache *c, const uintptr_t *slot0) {
  uint64_t h = ((uintptr_t)slot0 >> 3) ^ *slot0;
  h *= 0x9e3779b97f4a7c15ull;
  return &c->e[h >> 61];
}

_Static_assert(ENTRIES == 8, "entry_for takes the top 3 bits");

/* Whether the cursor unwind e wants may be spent now. */
static int may_fill(struct cache *c, const struct entry *e) {
  if (e->state == ENTRY_FILLED && e->misses <= e->hits)
    return 0;
  if (c->credit < CREDIT_PER_FILL)
    return 0;
  c->credit -= CREDIT_PER_FILL;
  return 1;
}

/* check_stacks: what the checks found, every thread's together. The first
 * pair that differed is kept for the report; later ones are counted. */
static atomic_ullong checked, differed;
static _Atomic(const struct al_stack *) first_served, first_unwound;
static atomic_flag first_claimed = ATOMIC_FLAG_INIT;

/* Checks a stack the cache served against a full unwind made from the same
 * place, and returns the unwound one: what is recorded is exact either
 * way. An unwind that gave nothing (no memory for its stack) checks
 * nothing. No lock, no allocation: a capture may be made in a signal
 * handler. */
static const struct al_stack *check_served(const struct al_stack *served,
                                           const struct al_stack *full) {
  if (full == NULL)
    return served;
  atomic_fetch_add_explicit(&checked, 1, memory_order_relaxed);
  /* Stacks are interned: equal frames, one pointer. */
  if (full == served)
    return full;
  /* The first pair is in place before the first count is seen. */
  if (!atomic_flag_test_and_set(&first_claimed)) {
    atomic_store(&first_served, served);
    atomic_store(&first_unwound, full);
  }
  atomic_fetch_add(&differed, 1);
  return full;
}

__attribute__((noinline)) const struct al_stack *al_stack_capture(void) {
  struct cache *c;
  const struct al_stack *stack;
  const uintptr_t *slot0;
  struct entry *e;

  /* Under a seccomp filter that may kill nothing is recorded, and an
   * unwind makes calls of its own (libunwind checks addresses with
   * mincore or a write to a pipe; a first cache, mmap). */
  if (AL_UNLIKELY(al_ending_sealed()))
    return NULL;
  c = thread_cache();
  if (c == NULL || c->busy)
    goto plain;
  slot0 = call_site_slot(__builtin_frame_address(0), c);
  if (slot0 == NULL)
    goto plain;
  c->busy = 1;
  atomic_signal_fence(memory_order_seq_cst);
  if (c->credit < CREDIT_PER_FILL)
    c->credit++;
  e = entry_for(c, slot0);
  if (e->slot0 != (uintptr_t)slot0 || e->pc0 != *slot0) {
    /* A call site not met here lately: remembered, not yet cached. */
    e->slot0 = (uintptr_t)slot0;
    e->pc0 = *slot0;
    e->state = ENTRY_SEEN;
  } else if (e->state == ENTRY_FILLED &&
             e->depth == (uint8_t)al_opt.stack_depth && still_there(e, slot0)) {
    if (e->hits < UINT16_MAX)
      e->hits++;
    c->hits++;
    stack = e->stack;
    atomic_signal_fence(memory_order_seq_cst);
    c->busy = 0;
    if (AL_UNLIKELY(al_opt.check_stacks))
      return check_served(stack,
                          unwind((uintptr_t)__builtin_return_address(0)));
    return stack;
  } else {
    if (e->state == ENTRY_FILLED && e->misses < UINT16_MAX)
      e->misses++;
    if (e->depth != (uint8_t)al_opt.stack_depth)
      e->misses = UINT16_MAX;
    if (may_fill(c, e)) {
      if (fill(e, slot0, c) == 0) {
        e->state = ENTRY_FILLED;
        e->hits = e->misses = 0;
        c->misses++;
        atomic_signal_fence(memory_order_seq_cst);
        c->busy = 0;
        return e->stack;
      }
      e->state = ENTRY_SEEN;
    }
  }
  c->misses++;
  stack = unwind((uintptr_t)__builtin_return_address(0));
  atomic_signal_fence(memory_order_seq_cst);
  c->busy = 0;
  return stack;

plain:
  return unwind((uintptr_t)__builtin_return_address(0));
}

void al_capture_stats(uint64_t *hits, uint64_t *misses) {
  struct cache *c = tstate == 1 ? tcache : NULL;
  *hits = c ? c->hits : 0;
  *misses = c ? c->misses : 0;
}

void al_capture_spoil_for_test(const struct al_stack *stack) {
  struct cache *c = tstate == 1 ? tcache : NULL;

  for (int i = 0; c != NULL && i < ENTRIES; i++) {
    if (stack == NULL)
      c->e[i].state = ENTRY_EMPTY;
    else if (c->e[i].state == ENTRY_FILLED)
      c->e[i].stack = stack;
  }
}

#else /* !CACHE_STACKS */

__attribute__((noinline)) const struct al_stack *al_stack_capture(void) {
  if (AL_UNLIKELY(al_ending_sealed())) /* as above */
    return NULL;
  return unwind((uintptr_t)__builtin_return_address(0));
}

void al_capture_stats(uint64_t *hits, uint64_t *misses) {
  *hits = *misses = 0;
}

void al_capture_spoil_for_test(const struct al_stack *stack) {
  (void)stack;
}

static const struct al_stack *first_served, *first_unwound;
static uint64_t checked, differed;

#endif

void al_capture_checked(uint64_t *n, uint64_t *diff) {
  *n = checked;
  *diff = differed;
}

int al_capture_check_finding(struct al_finding *f) {
  uint64_t n = differed;

  if (n == 0)
    return 0;
  memset(f, 0, sizeof(*f));
  f->check = AL_CHECK_STACK;
  f->call = "a creation stack";
  f->type = AL_TYPE_LOOP;
  f->count = n;
  f->stack = first_served;
  f->other = first_unwound;
  return 1;
}

void al_capture_check_reset(void) {
  checked = 0;
  differed = 0;
  first_served = NULL;
  first_unwound = NULL;
#if CACHE_STACKS
  atomic_flag_clear(&first_claimed);
#endif
}

__attribute__((noinline)) const struct al_stack *
al_stack_capture_uncached(void) {
  return unwind((uintptr_t)__builtin_return_address(0));
}
