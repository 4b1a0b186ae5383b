/* The registry: every loop and every open resource the interposers told us
 * about. It, not the program's memory, is the source of truth, because the
 * program may free or reuse a handle's memory at any time.
 *
 * Resources live in a hash table keyed by address, split into stripes with
 * a lock each so that threads with their own loops rarely meet. Records come
 * from per-stripe free lists refilled from mmap'd slabs: no malloc on the
 * hot path. */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "internal.h"

/* Enough for threads with their own loops to rarely meet; few enough that
 * fork's prepare handler, which holds them all, stays within what
 * ThreadSanitizer's deadlock detector can follow (64 locks). */
#define STRIPE_BITS 5
#define STRIPES (1u << STRIPE_BITS)
#define SLAB_BYTES (64u * 1024)
#define MIN_BUCKETS 16u

struct stripe {
  al_spin_t lock;
  struct al_res **buckets;
  size_t nbuckets; /* a power of two, or 0 before first use */
  size_t count;
  struct al_res *free;
} __attribute__((aligned(64)));

static struct stripe stripes[STRIPES] = {
#define S0 {AL_SPIN_INIT, NULL, 0, 0, NULL}
#define S4 S0, S0, S0, S0
#define S16 S4, S4, S4, S4
    S16, S16,
#undef S16
#undef S4
#undef S0
};
_Static_assert(STRIPES == 32, "the initializer above assumes 32 stripes");

static _Atomic uint64_t next_seq = 1;
/* Requests started since start (or fork); the other records are handles. */
static _Atomic uint64_t requests_started;
/* In a fork child, records with a smaller seq came from the parent. */
static uint64_t inherited_below = 1;
static _Atomic unsigned shims_seen;

static pthread_mutex_t loops_lock = PTHREAD_MUTEX_INITIALIZER;
static struct al_loop *loops_head, **loops_tail = &loops_head;
static uint64_t loop_serial;
static uint64_t loops_closed;

const struct al_shim *al_shims[AL_MAX_SHIMS];
static pthread_mutex_t shims_lock = PTHREAD_MUTEX_INITIALIZER;

uint8_t al_shim_register(const struct al_shim *s) {
  uint8_t i;
  al_mutex_lock(&shims_lock);
  for (i = 0; i < AL_MAX_SHIMS && al_shims[i] != NULL; i++)
    if (al_shims[i] == s)
      break;
  if (i == AL_MAX_SHIMS)
    abort(); /* more loop libraries than AL_MAX_SHIMS: a build mistake */
  al_shims[i] = s;
  al_mutex_unlock(&shims_lock);
  return i;
}

static inline uint64_t mix(uintptr_t addr) {
  return (uint64_t)(addr >> 3) * 0x9e3779b97f4a7c15ull;
}

static inline struct stripe *stripe_of(uint64_t h) {
  return &stripes[h >> (64 - STRIPE_BITS)];
}

static inline struct al_res **bucket_of(struct stripe *st, uint64_t h) {
  return &st->buckets[(h >> 16) & (st->nbuckets - 1)];
}

static void *map(size_t bytes) {
  void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  return p == MAP_FAILED ? NULL : p;
}

/* Grows the bucket array when chains get longer than two records on
 * average: a bucket costs 4 to 8 bytes per record, not 8 to 16. Lock held.
 * A failed grow leaves the table as it was: slower, never wrong. */
static void maybe_grow(struct stripe *st) {
  size_t n = st->nbuckets ? st->nbuckets * 2 : MIN_BUCKETS;
  struct al_res **nb;

  if (st->nbuckets != 0 && st->count < 2 * st->nbuckets)
    return;
  nb = map(n * sizeof(*nb));
  if (nb == NULL)
    return;
  for (size_t i = 0; i < st->nbuckets; i++) {
    struct al_res *r = st->buckets[i], *next;
    /* Keep chain order (newest first) by appending at each tail. */
    for (; r != NULL; r = next) {
      struct al_res **tail = &nb[(mix(r->addr) >> 16) & (n - 1)];
      next = r->next;
      while (*tail != NULL)
        tail = &(*tail)->next;
      r->next = NULL;
      *tail = r;
    }
  }
  if (st->buckets != NULL)
    munmap(st->buckets, st->nbuckets * sizeof(*nb));
  st->buckets = nb;
  st->nbuckets = n;
}

static struct al_res *res_alloc(struct stripe *st) {
  struct al_res *r = st->free;
  if (r == NULL) {
    struct al_res *slab = map(SLAB_BYTES);
    size_t n = SLAB_BYTES / sizeof(*slab);
    if (slab == NULL)
      return NULL;
    for (size_t i = 0; i < n; i++) {
      slab[i].next = r;
      r = &slab[i];
    }
  }
  st->free = r->next;
  return r;
}

static void res_free(struct stripe *st, struct al_res *r) {
  r->next = st->free;
  st->free = r;
}

/* The first loop or resource of a library in this process: the asyncleak
 * command learns it at once, so that a process that dies before its
 * report is known to have used one. Once per library per process, by
 * whichever thread sets the bit. */
static void shim_seen(uint8_t shim) {
  if (!(atomic_fetch_or(&shims_seen, 1u << shim) & 1u << shim) &&
      al_shims[shim] != NULL)
    al_reportfile_uses(al_shims[shim]->name);
}

/* Adds a record; 0, or -1 when out of memory. */
static int record(uint8_t shim, uintptr_t addr, unsigned type, uintptr_t loop,
                  const struct al_stack *stack, uint8_t state, void *cb,
                  uint64_t born_ms) {
  uint64_t h = mix(addr);
  struct stripe *st = stripe_of(h);
  struct al_res *r;
  uint64_t seq;
  pid_t tid;

  /* Under a seccomp filter that may kill, no report is written: nothing
   * is recorded, for recording makes calls the filter may refuse
   * (gettid, mmap). */
  if (AL_UNLIKELY(al_ending_sealed()))
    return -1;
  seq = atomic_fetch_add_explicit(&next_seq, 1, memory_order_relaxed);
  tid = al_gettid();

  /* After the seq: a snapshot in between counts one handle too many for
   * a moment, never one too few (which would wrap). */
  if (state == AL_RES_PENDING)
    atomic_fetch_add_explicit(&requests_started, 1, memory_order_relaxed);
  if (!(atomic_load_explicit(&shims_seen, memory_order_relaxed) & 1u << shim))
    shim_seen(shim);
  al_spin_lock(&st->lock);
  maybe_grow(st);
  r = st->nbuckets ? res_alloc(st) : NULL;
  if (r != NULL) {
    struct al_res **b = bucket_of(st, h);
    r->addr = addr;
    r->stack = stack;
    r->cb = cb;
    r->loop = loop;
    r->seq = seq;
    r->born_ms = (uint32_t)born_ms;
    r->tid = (unsigned)tid;
    r->type = type;
    r->state = state;
    r->shim = shim;
    /* Newest first: a handle initialised again at the same address without
     * a close shadows the old record, which stays reported as open; a
     * request started again from its own callback is found first. */
    r->next = *b;
    *b = r;
    st->count++;
  }
  al_spin_unlock(&st->lock);
  return r ? 0 : -1;
}

void al_res_open(uint8_t shim, uintptr_t addr, unsigned type, uintptr_t loop,
                 const struct al_stack *stack) {
  record(shim, addr, type, loop, stack, AL_RES_OPEN, NULL, 0);
}

int al_req_start(uint8_t shim, uintptr_t addr, unsigned type, uintptr_t loop,
                 void *cb, const struct al_stack *stack) {
  return record(shim, addr, type, loop, stack, AL_RES_PENDING, cb,
                al_now_ms());
}

/* Finds the newest record at addr in the given state. Lock held. */
static struct al_res **lookup(struct stripe *st, uint64_t h, uintptr_t addr,
                              int state) {
  struct al_res **p;
  if (st->nbuckets == 0)
    return NULL;
  for (p = bucket_of(st, h); *p != NULL; p = &(*p)->next)
    if ((*p)->addr == addr && (*p)->state == state)
      return p;
  return NULL;
}

uint64_t al_res_closing(uintptr_t addr, void *cb) {
  uint64_t h = mix(addr);
  struct stripe *st = stripe_of(h);
  struct al_res **p;
  uint64_t seq = 0;

  al_spin_lock(&st->lock);
  p = lookup(st, h, addr, AL_RES_OPEN);
  if (p != NULL) {
    (*p)->state = AL_RES_CLOSING;
    (*p)->cb = cb;
    seq = (*p)->seq;
  }
  al_spin_unlock(&st->lock);
  return seq;
}

int al_res_update(uintptr_t addr, int type, uintptr_t loop) {
  uint64_t h = mix(addr);
  struct stripe *st = stripe_of(h);
  struct al_res **p;
  int was = -1;

  al_spin_lock(&st->lock);
  p = lookup(st, h, addr, AL_RES_OPEN);
  if (p != NULL) {
    was = (int)(*p)->type;
    if (type >= 0)
      (*p)->type = (unsigned)type & (AL_RES_TYPES - 1);
    if (loop != 0)
      (*p)->loop = loop;
  }
  al_spin_unlock(&st->lock);
  return was;
}


void al_res_close_aborted(uintptr_t addr, uint64_t seq) {
  uint64_t h = mix(addr);
  struct stripe *st = stripe_of(h);

  al_spin_lock(&st->lock);
  for (struct al_res *r = st->nbuckets ? *bucket_of(st, h) : NULL; r != NULL;
       r = r->next) {
    if (r->addr == addr && r->seq == seq && r->state == AL_RES_CLOSING) {
      r->state = AL_RES_OPEN;
      r->cb = NULL;
      break;
    }
  }
  al_spin_unlock(&st->lock);
}

/* Forgets the newest record at addr in the given state, handing back its
 * callback: 1, or 0 when there is none. */
static int take(uintptr_t addr, int state, void **cb) {
  uint64_t h = mix(addr);
  struct stripe *st = stripe_of(h);
  struct al_res **p, *r = NULL;

  al_spin_lock(&st->lock);
  p = lookup(st, h, addr, state);
  if (p != NULL) {
    r = *p;
    *p = r->next;
    *cb = r->cb;
    st->count--;
    res_free(st, r);
  }
  al_spin_unlock(&st->lock);
  return r != NULL;
}

int al_res_closed(uintptr_t addr, void **cb) {
  return take(addr, AL_RES_CLOSING, cb);
}

int al_req_done(uintptr_t addr, void **cb) {
  return take(addr, AL_RES_PENDING, cb);
}

int al_res_forget(uintptr_t addr) {
  void *cb;
  return take(addr, AL_RES_OPEN, &cb);
}

int al_req_pending(uintptr_t addr) {
  uint64_t h = mix(addr);
  struct stripe *st = stripe_of(h);
  int found;

  al_spin_lock(&st->lock);
  found = lookup(st, h, addr, AL_RES_PENDING) != NULL;
  al_spin_unlock(&st->lock);
  return found;
}

/* Copies the newest record at addr in the given state. */
static int get(uintptr_t addr, int state, struct al_res *out) {
  uint64_t h = mix(addr);
  struct stripe *st = stripe_of(h);
  struct al_res **p;

  al_spin_lock(&st->lock);
  p = lookup(st, h, addr, state);
  if (p != NULL) {
    *out = **p;
    out->next = NULL;
  }
  al_spin_unlock(&st->lock);
  return p ? 0 : -ENOENT;
}

int al_req_get(uintptr_t addr, struct al_res *out) {
  return get(addr, AL_RES_PENDING, out);
}

int al_res_get(uintptr_t addr, struct al_res *out) {
  return get(addr, AL_RES_OPEN, out);
}

uint64_t al_res_next_seq(void) {
  return atomic_load(&next_seq);
}

size_t al_res_on_loop(uintptr_t loop, uint64_t first_seq, unsigned states,
                      struct al_res **out) {
  struct al_res *copy = NULL;
  size_t n = 0, cap = 0;

  for (unsigned i = 0; i < STRIPES; i++) {
    struct stripe *st = &stripes[i];
    al_spin_lock(&st->lock);
    for (size_t b = 0; st->count > 0 && b < st->nbuckets; b++) {
      for (struct al_res *r = st->buckets[b]; r != NULL; r = r->next) {
        if (r->loop != loop || r->seq < first_seq ||
            !(states & 1u << r->state))
          continue;
        if (n == cap) {
          size_t ncap = cap ? cap * 2 : 16;
          struct al_res *p = realloc(copy, ncap * sizeof(*p));
          if (p == NULL)
            break; /* what fits is what gets a verdict */
          copy = p;
          cap = ncap;
        }
        copy[n++] = *r;
      }
    }
    al_spin_unlock(&st->lock);
  }
  *out = copy;
  return n;
}

int al_res_alive(uintptr_t addr, uint64_t seq) {
  uint64_t h = mix(addr);
  struct stripe *st = stripe_of(h);
  int alive = 0;

  al_spin_lock(&st->lock);
  for (struct al_res *r = st->nbuckets ? *bucket_of(st, h) : NULL; r != NULL;
       r = r->next)
    if (r->addr == addr && r->seq == seq)
      alive = 1;
  al_spin_unlock(&st->lock);
  return alive;
}

/* ----------------------------------------------------------------- loops */

/* Lock held. The newest loop at addr that has not been replaced. */
static struct al_loop *find_open_loop(uintptr_t addr) {
  struct al_loop *found = NULL;
  for (struct al_loop *l = loops_head; l != NULL; l = l->next)
    if (l->addr == addr && !(l->flags & AL_LOOP_REPLACED))
      found = l;
  return found;
}

uint64_t al_loop_open(uint8_t shim, uintptr_t addr, unsigned flags,
                      const struct al_stack *stack, int fresh) {
  struct al_loop *l, *old;
  uint64_t serial = 0;

  if (AL_UNLIKELY(al_ending_sealed())) /* as in record() */
    return 0;
  al_mutex_lock(&loops_lock);
  old = find_open_loop(addr);
  l = old;
  if (old != NULL && fresh) {
    /* The program initialised a loop over one it never closed: the old
     * loop and its handles are lost, and stay reported. */
    old->flags |= AL_LOOP_REPLACED;
    l = NULL;
  }
  if (l == NULL && (l = calloc(1, sizeof(*l))) != NULL) {
    l->addr = addr;
    l->shim = shim;
    l->tid = al_gettid();
    l->serial = ++loop_serial;
    l->first_seq = atomic_load(&next_seq);
    *loops_tail = l;
    loops_tail = &l->next;
  }
  if (l != NULL) {
    /* An outer call (uv_default_loop) knows the program's call site better
     * than the inner uv_loop_init it made, which records none. */
    if (l->stack == NULL)
      l->stack = stack;
    l->flags |= flags;
    serial = l->serial;
  }
  al_mutex_unlock(&loops_lock);
  if (!(atomic_load_explicit(&shims_seen, memory_order_relaxed) & 1u << shim))
    shim_seen(shim);
  return serial;
}

void al_loop_ran(uint8_t shim, uintptr_t addr) {
  struct al_loop *l;
  pid_t tid;

  if (AL_UNLIKELY(al_ending_sealed())) /* as in record() */
    return;
  tid = al_gettid();

  al_mutex_lock(&loops_lock);
  l = find_open_loop(addr);
  if (l != NULL)
    l->run_tid = tid;
  al_mutex_unlock(&loops_lock);
  if (l == NULL) { /* a loop made before asyncleak was loaded */
    al_loop_open(shim, addr, 0, NULL, 0);
    al_mutex_lock(&loops_lock);
    if ((l = find_open_loop(addr)) != NULL)
      l->run_tid = tid;
    al_mutex_unlock(&loops_lock);
  }
}

void al_loop_adopt(uintptr_t addr) {
  struct al_loop *l;
  pid_t tid = al_gettid();

  al_mutex_lock(&loops_lock);
  l = find_open_loop(addr);
  if (l != NULL && (l->flags & AL_LOOP_INHERITED)) {
    l->flags &= ~(unsigned)AL_LOOP_INHERITED;
    l->tid = tid;
    l->run_tid = 0;
  }
  al_mutex_unlock(&loops_lock);
}

void al_loop_freed(uintptr_t addr) {
  struct al_loop *l;

  al_mutex_lock(&loops_lock);
  l = find_open_loop(addr);
  if (l != NULL) {
    l->flags |= AL_LOOP_FREED | AL_LOOP_REPLACED;
    if (!(l->flags & AL_LOOP_INHERITED))
      loops_closed++;
  }
  al_mutex_unlock(&loops_lock);
}

void al_loop_close_busy(uintptr_t addr) {
  struct al_loop *l;

  al_mutex_lock(&loops_lock);
  l = find_open_loop(addr);
  if (l != NULL)
    l->busy_closes++;
  al_mutex_unlock(&loops_lock);
}

void al_loops_unloaded(uint8_t shim) {
  al_mutex_lock(&loops_lock);
  for (struct al_loop *l = loops_head; l != NULL; l = l->next)
    if (l->shim == shim)
      l->flags |= AL_LOOP_UNLOADED;
  al_mutex_unlock(&loops_lock);
}

void al_fins_free(struct al_fin *f) {
  while (f != NULL) {
    struct al_fin *next = f->next;
    free(f);
    f = next;
  }
}

/* Closed resources are looked for once a loop holds this many. */
#define FIRST_SWEEP 64u

int al_loop_fin_add(uintptr_t addr, struct al_fin *f, int *sweep) {
  struct al_loop *l;
  pid_t tid = al_gettid();

  *sweep = 0;
  al_mutex_lock(&loops_lock);
  l = find_open_loop(addr);
  if (l != NULL && f->kind == AL_FIN_WAIT) {
    f->next = l->waits;
    l->waits = f;
  } else if (l != NULL) {
    f->next = l->fins;
    l->fins = f;
    if (++l->nfins >= (l->sweep_at ? l->sweep_at : FIRST_SWEEP) &&
        (tid == l->tid || tid == l->run_tid)) {
      /* Only the loop's own thread may ask its resources. */
      *sweep = 1;
      l->sweep_at = 2 * l->nfins;
    }
  }
  al_mutex_unlock(&loops_lock);
  return l ? 0 : -ENOENT;
}

int al_loop_fin_remove(uintptr_t addr, void (*fn)(void *, void *),
                       void *arg) {
  struct al_loop *l;
  struct al_fin *f = NULL, **p;

  al_mutex_lock(&loops_lock);
  l = find_open_loop(addr);
  for (p = l ? &l->fins : NULL; p != NULL && *p != NULL; p = &(*p)->next) {
    if ((*p)->kind == AL_FIN_CALL && (*p)->fn == fn && (*p)->arg == arg) {
      f = *p;
      *p = f->next;
      l->nfins--;
      break;
    }
  }
  al_mutex_unlock(&loops_lock);
  free(f);
  return f ? 0 : -ENOENT;
}

struct al_fin *al_loop_fin_take(uintptr_t addr) {
  struct al_loop *l;
  struct al_fin *f = NULL;

  al_mutex_lock(&loops_lock);
  l = find_open_loop(addr);
  if (l != NULL) {
    f = l->fins;
    l->fins = NULL;
    l->nfins = 0;
  }
  al_mutex_unlock(&loops_lock);
  return f;
}

struct al_fin *al_loop_fin_pop(uintptr_t addr) {
  struct al_loop *l;
  struct al_fin *f = NULL;

  al_mutex_lock(&loops_lock);
  l = find_open_loop(addr);
  if (l != NULL && (f = l->fins) != NULL) {
    l->fins = f->next;
    l->nfins--;
    f->next = NULL;
  }
  al_mutex_unlock(&loops_lock);
  return f;
}

void al_loop_sweep_done(uintptr_t addr) {
  struct al_loop *l;

  al_mutex_lock(&loops_lock);
  if ((l = find_open_loop(addr)) != NULL)
    l->sweep_at = 2 * l->nfins > FIRST_SWEEP ? 2 * l->nfins : FIRST_SWEEP;
  al_mutex_unlock(&loops_lock);
}

void al_loop_waits_prune(uintptr_t addr, int (*open)(uintptr_t, uintptr_t)) {
  struct al_loop *l;
  struct al_fin *gone = NULL;

  al_mutex_lock(&loops_lock);
  l = find_open_loop(addr);
  for (struct al_fin **p = l ? &l->waits : NULL; p != NULL && *p != NULL;) {
    struct al_fin *f = *p;
    int gone_now = f->what == AL_KIND_REQUEST
                       ? !al_req_pending((uintptr_t)f->arg)
                       : !open(addr, (uintptr_t)f->arg);
    if (gone_now) {
      *p = f->next;
      f->next = gone;
      gone = f;
    } else {
      p = &f->next;
    }
  }
  al_mutex_unlock(&loops_lock);
  al_fins_free(gone);
}

size_t al_loop_waits(uintptr_t addr, enum al_kind what, uintptr_t *out,
                     size_t max) {
  struct al_loop *l;
  size_t n = 0;

  al_mutex_lock(&loops_lock);
  l = find_open_loop(addr);
  for (struct al_fin *f = l ? l->waits : NULL; f != NULL && n < max;
       f = f->next)
    if (what == AL_KIND_NONE || f->what == what)
      out[n++] = (uintptr_t)f->arg;
  al_mutex_unlock(&loops_lock);
  return n;
}

void al_loop_shut_down(uintptr_t addr) {
  struct al_loop *l;

  al_mutex_lock(&loops_lock);
  if ((l = find_open_loop(addr)) != NULL)
    l->shut_down = 1;
  al_mutex_unlock(&loops_lock);
}

static void copy_loop(struct al_loop *dst, const struct al_loop *l) {
  *dst = *l;
  dst->next = NULL;
  dst->fins = NULL;
  dst->waits = NULL;
}

int al_loop_get(uintptr_t addr, struct al_loop *out) {
  struct al_loop *l;

  al_mutex_lock(&loops_lock);
  l = find_open_loop(addr);
  if (l != NULL)
    copy_loop(out, l);
  al_mutex_unlock(&loops_lock);
  return l ? 0 : -ENOENT;
}

size_t al_loop_list(struct al_loop **out) {
  struct al_loop *copy;
  size_t n = 0;
  int budget = 1000;

  *out = NULL;
  if (al_lock_briefly(&loops_lock, &budget) != 0)
    return (size_t)-1;
  for (struct al_loop *l = loops_head; l != NULL; l = l->next)
    n++;
  copy = malloc((n ? n : 1) * sizeof(*copy));
  if (copy != NULL) {
    n = 0;
    for (struct al_loop *l = loops_head; l != NULL; l = l->next)
      copy_loop(&copy[n++], l);
  }
  al_mutex_unlock(&loops_lock);
  *out = copy;
  return copy ? n : (size_t)-1;
}


uint64_t al_loop_serial(uintptr_t addr) {
  struct al_loop l;
  return al_loop_get(addr, &l) == 0 ? l.serial : 0;
}

void al_loop_closed(uintptr_t addr, uint64_t serial) {
  struct al_loop *l = NULL, **p, **link = NULL;
  uint64_t first_seq = 0;

  al_mutex_lock(&loops_lock);
  for (p = &loops_head; *p != NULL; p = &(*p)->next)
    if ((*p)->addr == addr && !((*p)->flags & AL_LOOP_REPLACED))
      link = p; /* keep the newest */
  l = link ? *link : NULL;
  if (l != NULL && (serial == 0 || l->serial == serial)) {
    *link = l->next;
    if (loops_tail == &l->next)
      loops_tail = link;
    first_seq = l->first_seq;
    if (!(l->flags & AL_LOOP_INHERITED))
      loops_closed++;
    al_fins_free(l->fins);
    al_fins_free(l->waits);
    free(l);
  } else {
    l = NULL;
  }
  al_mutex_unlock(&loops_lock);
  if (l == NULL)
    return;

  /* The loop library closed the loop, so it holds no handle of the
   * program's any more: whatever we still have on it closed in a way we
   * did not see, or was the library's own. Records from an older loop at
   * the same address, replaced without a close, predate first_seq. */
  for (unsigned i = 0; i < STRIPES; i++) {
    struct stripe *st = &stripes[i];
    al_spin_lock(&st->lock);
    for (size_t b = 0; st->count > 0 && b < st->nbuckets; b++) {
      struct al_res **q = &st->buckets[b];
      while (*q != NULL) {
        struct al_res *r = *q;
        if (r->loop == addr && r->seq >= first_seq) {
          *q = r->next;
          st->count--;
          res_free(st, r);
        } else {
          q = &r->next;
        }
      }
    }
    al_spin_unlock(&st->lock);
  }
}

/* -------------------------------------------------------------- snapshot */

int al_registry_snapshot(struct al_snapshot *s) {
  size_t cap = 0, n = 0;
  struct al_res *res = NULL;
  int budget = 1000;

  memset(s, 0, sizeof(*s));
  for (unsigned i = 0; i < STRIPES; i++) {
    struct stripe *st = &stripes[i];
    if (al_spin_lock_briefly(&st->lock, &budget) != 0) {
      s->unreadable++;
      continue;
    }
    if (n + st->count > cap) {
      size_t ncap = (n + st->count) * 2;
      struct al_res *p = realloc(res, ncap * sizeof(*p));
      if (p == NULL) {
        al_spin_unlock(&st->lock);
        free(res);
        return -1;
      }
      res = p;
      cap = ncap;
    }
    for (size_t b = 0; b < st->nbuckets; b++)
      for (struct al_res *r = st->buckets[b]; r != NULL; r = r->next)
        if (r->seq >= inherited_below)
          res[n++] = *r;
    al_spin_unlock(&st->lock);
  }
  s->res = res;
  s->nres = n;

  if (al_lock_briefly(&loops_lock, &budget) != 0) {
    s->unreadable++;
  } else {
    for (struct al_loop *l = loops_head; l != NULL; l = l->next)
      s->nloops++;
    s->loops = calloc(s->nloops ? s->nloops : 1, sizeof(*s->loops));
    if (s->loops == NULL) {
      al_mutex_unlock(&loops_lock);
      free(res);
      return -1;
    }
    n = 0;
    for (struct al_loop *l = loops_head; l != NULL; l = l->next)
      copy_loop(&s->loops[n++], l);
    s->loops_closed = loops_closed;
    al_mutex_unlock(&loops_lock);
  }

  s->requests = atomic_load(&requests_started);
  s->created = atomic_load(&next_seq) - inherited_below - s->requests;
  s->shims_seen = atomic_load(&shims_seen);
  al_shutdown_log_copy(s, &budget);
  return 0;
}

void al_snapshot_release(struct al_snapshot *s) {
  free(s->res);
  free(s->loops);
  free(s->shutdowns);
  free(s->notes);
  memset(s, 0, sizeof(*s));
}

/* ------------------------------------------------- the copy at the end */

/* The locks that the thread ending the process took for its copy, to let
 * go of in both processes. Taken and released without the count of
 * al_locks_held: the thread may be in a signal handler, and what it
 * holds here is not the program's business nor the deferred events'. */
static int held_loops;
static unsigned char held_stripes[STRIPES];

/* Tries lock until it is free or *budget_us is spent, in 100 us naps
 * after a moment's spinning. */
static int take_spin_within(al_spin_t *l, long *budget_us) {
  const struct timespec nap = {0, 100000};
  for (;;) {
    for (int i = 0; i < 256; i++)
      if (atomic_load_explicit(&l->held, memory_order_relaxed) == 0 &&
          al_spin_take(l))
        return 0;
    if (*budget_us <= 0)
      return -1;
    *budget_us -= 100;
    nanosleep(&nap, NULL);
  }
}

static int take_mutex_within(pthread_mutex_t *m, long *budget_us) {
  const struct timespec nap = {0, 100000};
  for (;;) {
    if (pthread_mutex_trylock(m) == 0)
      return 0;
    if (*budget_us <= 0)
      return -1;
    *budget_us -= 100;
    nanosleep(&nap, NULL);
  }
}

unsigned al_registry_hold(unsigned budget_ms) {
  long budget = (long)budget_ms * 1000;
  unsigned missed = 0;

  /* In the order of fork's prepare handler: the loops, then the stripes
   * (al_loop_waits_prune takes a stripe with the loops held). */
  held_loops = take_mutex_within(&loops_lock, &budget) == 0;
  missed += !held_loops;
  for (unsigned i = 0; i < STRIPES; i++) {
    held_stripes[i] = take_spin_within(&stripes[i].lock, &budget) == 0;
    missed += !held_stripes[i];
  }
  return missed;
}

void al_registry_let_go(void) {
  for (unsigned i = STRIPES; i-- > 0;)
    if (held_stripes[i]) {
      held_stripes[i] = 0;
      atomic_store_explicit(&stripes[i].lock.held, 0, memory_order_release);
    }
  if (held_loops) {
    held_loops = 0;
    pthread_mutex_unlock(&loops_lock);
  }
}

/* ------------------------------------------------------------------ fork */

void al_registry_atfork_prepare(void) {
  al_stack_atfork_prepare();
  al_mutex_lock(&loops_lock);
  for (unsigned i = 0; i < STRIPES; i++)
    al_spin_lock(&stripes[i].lock);
}

void al_registry_atfork_parent(void) {
  for (unsigned i = 0; i < STRIPES; i++)
    al_spin_unlock(&stripes[i].lock);
  al_mutex_unlock(&loops_lock);
  al_stack_atfork_parent();
}

void al_registry_atfork_child(void) {
  /* Only this thread exists in the child, and it holds every lock. */
  for (unsigned i = 0; i < STRIPES; i++)
    al_spin_unlock(&stripes[i].lock);
  al_mutex_unlock(&loops_lock);
  al_stack_atfork_child();
  /* daemon()'s child carries on with everything: its parent ends now. */
  if (al_daemon_forking())
    return;
  /* What the parent made is the parent's to report. */
  inherited_below = atomic_load(&next_seq);
  atomic_store(&requests_started, 0);
  loops_closed = 0;
  for (struct al_loop *l = loops_head; l != NULL; l = l->next) {
    l->flags |= AL_LOOP_INHERITED;
    /* The parent's goodbyes are not the child's to send. */
    al_fins_free(l->fins);
    al_fins_free(l->waits);
    l->fins = l->waits = NULL;
    l->nfins = 0;
  }
}

void al_registry_daemon_child(pid_t old_tid, pid_t new_tid) {
  for (unsigned i = 0; i < STRIPES; i++) {
    struct stripe *st = &stripes[i];
    al_spin_lock(&st->lock);
    for (size_t b = 0; st->count > 0 && b < st->nbuckets; b++)
      for (struct al_res *r = st->buckets[b]; r != NULL; r = r->next)
        if (r->tid == ((unsigned)old_tid & 0x3fffffu))
          r->tid = (unsigned)new_tid;
    al_spin_unlock(&st->lock);
  }
  al_mutex_lock(&loops_lock);
  for (struct al_loop *l = loops_head; l != NULL; l = l->next) {
    if (l->tid == old_tid)
      l->tid = new_tid;
    if (l->run_tid == old_tid)
      l->run_tid = new_tid;
  }
  al_mutex_unlock(&loops_lock);
}

void al_registry_reset(void) {
  for (unsigned i = 0; i < STRIPES; i++) {
    struct stripe *st = &stripes[i];
    al_spin_lock(&st->lock);
    for (size_t b = 0; b < st->nbuckets; b++) {
      while (st->buckets[b] != NULL) {
        struct al_res *r = st->buckets[b];
        st->buckets[b] = r->next;
        res_free(st, r);
      }
    }
    st->count = 0;
    al_spin_unlock(&st->lock);
  }
  al_mutex_lock(&loops_lock);
  while (loops_head != NULL) {
    struct al_loop *l = loops_head;
    loops_head = l->next;
    al_fins_free(l->fins);
    al_fins_free(l->waits);
    free(l);
  }
  loops_tail = &loops_head;
  loop_serial = 0;
  loops_closed = 0;
  al_mutex_unlock(&loops_lock);
  inherited_below = atomic_load(&next_seq);
  atomic_store(&requests_started, 0);
  atomic_store(&shims_seen, 0);
}
