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
/* Every loop kept, in order of creation, which the report follows. */
static struct al_loop *loops_head, **loops_tail = &loops_head;
static uint64_t loop_serial;
static uint64_t loops_closed;

/* The open loops by address: each loop of the list that is not
 * AL_LOOP_REPLACED, which is at most one per address, chained through
 * `chain` in a table that doubles when it holds as many loops as
 * buckets. The first buckets are static, so that a loop can always be
 * indexed; a table that cannot grow gets longer chains, never wrong
 * answers. Under loops_lock. */
#define LOOP_BUCKETS_FIRST 64u
static struct al_loop *loop_buckets_first[LOOP_BUCKETS_FIRST];
static struct al_loop **loop_buckets = loop_buckets_first;
static size_t loop_nbuckets = LOOP_BUCKETS_FIRST; /* a power of two */
static size_t loops_indexed;

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

/* The stripes after the loops: al_loop_waits_prune asks whether a request
 * is pending with the loops held. The report copy reads both. */
__attribute__((constructor)) static void register_locks(void) {
  al_lock_register_mutex(AL_LOCK_SHIMS, &shims_lock, "shims_lock", 0);
  al_lock_register_mutex(AL_LOCK_LOOPS, &loops_lock, "loops_lock",
                         AL_LOCK_FOR_REPORT);
  al_lock_register_spins(AL_LOCK_STRIPES, &stripes[0].lock, STRIPES,
                         sizeof(stripes[0]), "stripes", AL_LOCK_FOR_REPORT);
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
    /* A chain splits in two (n is twice nbuckets), each keeping its order
     * (newest first, a handle's notes of its requests right after it):
     * appended at tails kept, so that a long chain costs its length. */
    struct al_res **tail[2] = {&nb[i], &nb[i + st->nbuckets]};
    struct al_res *r = st->buckets[i], *next;
    for (; r != NULL; r = next) {
      int hi = ((mix(r->addr) >> 16) & (n - 1)) != i;
      next = r->next;
      r->next = NULL;
      *tail[hi] = r;
      tail[hi] = &r->next;
    }
  }
  if (st->buckets != NULL)
    munmap(st->buckets, st->nbuckets * sizeof(*nb));
  st->buckets = nb;
  st->nbuckets = n;
}

/* ------------------------------------------------- records per loop */

/* How many records each loop has, so that a drain asking every turn
 * whether anything is left on a loop need not read the whole registry
 * when nothing is. Counted where a record gets its loop and where it is
 * freed, and nowhere else, so the count cannot drift. A loop address is
 * given a slot once and keeps it; records of an older loop at the same
 * address count too, so a count is an upper bound and only 0 is an
 * answer. Past LOOP_SLOTS addresses, a loop has no count and is read
 * as before. Atomic operations only: counted under a stripe's lock. */
#define LOOP_SLOTS 256

static struct {
  _Atomic uintptr_t loop;
  atomic_long records;
} per_loop[LOOP_SLOTS];
/* A loop found no slot: a loop without one may have records. */
static atomic_int per_loop_full;

static atomic_long *loop_count(uintptr_t loop, int add) {
  unsigned first = (unsigned)(mix(loop) % LOOP_SLOTS);

  for (unsigned n = 0; n < LOOP_SLOTS; n++) {
    unsigned i = (first + n) % LOOP_SLOTS;
    uintptr_t l = atomic_load_explicit(&per_loop[i].loop,
                                       memory_order_acquire);
    if (l == loop)
      return &per_loop[i].records;
    if (l == 0) {
      if (!add)
        return NULL;
      if (atomic_compare_exchange_strong(&per_loop[i].loop, &l, loop) ||
          l == loop)
        return &per_loop[i].records;
    }
  }
  if (add)
    atomic_store(&per_loop_full, 1);
  return NULL;
}

/* A record counted on loop (delta 1) or no longer (-1). */
static void count_on(uintptr_t loop, long delta) {
  atomic_long *c = loop != 0 ? loop_count(loop, delta > 0) : NULL;

  if (c != NULL)
    atomic_fetch_add_explicit(c, delta, memory_order_relaxed);
}

long al_loop_records(uintptr_t loop) {
  atomic_long *c = loop_count(loop, 0);

  if (loop == 0)
    return -1;
  /* Never given a slot: no record was ever made on it, unless the table
   * was full then. */
  if (c == NULL)
    return atomic_load(&per_loop_full) ? -1 : 0;
  return atomic_load_explicit(c, memory_order_relaxed);
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
  count_on(r->loop, -1);
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

/* Adds a record, numbered *seq_out when given; 0, or -1 when out of
 * memory. */
static int record(uint8_t shim, uintptr_t addr, unsigned type, uintptr_t loop,
                  const struct al_stack *stack, uint8_t state, void *cb,
                  uint64_t born_ms, uint64_t *seq_out) {
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
    count_on(loop, 1);
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
  if (seq_out != NULL)
    *seq_out = seq;
  return r ? 0 : -1;
}

void al_res_open(uint8_t shim, uintptr_t addr, unsigned type, uintptr_t loop,
                 const struct al_stack *stack) {
  record(shim, addr, type, loop, stack, AL_RES_OPEN, NULL, 0, NULL);
}

int al_req_start(uint8_t shim, uintptr_t addr, unsigned type, uintptr_t loop,
                 void *cb, const struct al_stack *stack) {
  return record(shim, addr, type, loop, stack, AL_RES_PENDING, cb,
                al_now_ms(), NULL);
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

/* ------------------------------------------ requests settled by handle */

/* A request recorded with al_req_start_on completes without a word to the
 * runtime: its shim tells, from the handle it was started on, whether the
 * handle still holds it (req_pending). The handle's record is followed in
 * its bucket by a link for each such request (AL_RES_LINK: addr is the
 * handle's, cb the request's address, seq the request's), newest first.
 * Records are only ever added at the head of a bucket, and links right
 * after their handle's record, so that a link follows the record it was
 * made for as long as that record is there: a link is live when the
 * nearest record before it that is not a link is its handle's, open or
 * closing. Once the handle's close completed, its record is gone and its
 * requests completed with it (libuv calls a stream's requests back as it
 * destroys the stream, before the close callback).
 *
 * What the registry reads settles these requests first: its copies
 * (snapshots, al_res_on_loop) and its lookups leave out those that
 * completed. Their records are forgotten when the handle's close
 * completes, and when a request is started on a handle that has gathered
 * twice as many since the last time (at least PRUNE_FIRST): that costs
 * the handle's records and the requests it holds, and no more than a
 * constant for each request started. */
#define PRUNE_FIRST 16u

static int link_live(const struct al_res *prev, const struct al_res *link) {
  return prev != NULL && prev->addr == link->addr &&
         (prev->state == AL_RES_OPEN || prev->state == AL_RES_CLOSING);
}

/* One such request, as the registry settles it. */
struct lazy {
  uintptr_t handle, addr;
  uint64_t seq;
  unsigned type : AL_RES_TYPE_BITS;
  unsigned shim : AL_RES_SHIM_BITS;
  unsigned live : 1;    /* its handle is open or closing */
  unsigned pending : 1; /* the verdict */
};

struct lazies {
  struct lazy *v;
  size_t n, cap;
  int failed; /* out of memory: some are missing, and taken as pending */
};

static void lazies_add(struct lazies *z, const struct al_res *link,
                       int live) {
  if (z->n == z->cap) {
    size_t ncap = z->cap ? 2 * z->cap : 16;
    struct lazy *p = realloc(z->v, ncap * sizeof(*p));
    if (p == NULL) {
      z->failed = 1;
      return;
    }
    z->v = p;
    z->cap = ncap;
  }
  z->v[z->n++] = (struct lazy){link->addr, (uintptr_t)link->cb, link->seq,
                               link->type, link->shim, (unsigned)live, 1};
}

static int by_handle(const void *a, const void *b) {
  const struct lazy *x = a, *y = b;
  if (x->handle != y->handle)
    return x->handle < y->handle ? -1 : 1;
  if (x->addr != y->addr)
    return x->addr < y->addr ? -1 : 1;
  return (x->seq > y->seq) - (x->seq < y->seq);
}

static int by_request(const void *a, const void *b) {
  const struct lazy *x = a, *y = b;
  if (x->addr != y->addr)
    return x->addr < y->addr ? -1 : 1;
  return (x->seq > y->seq) - (x->seq < y->seq);
}

/* Asks the shims which of the handle's requests v[0..n), all on one
 * handle and sorted by address, the handle still holds. */
static void ask(struct lazy *v, size_t n, int live_mem, struct al_res *views,
                const struct al_res **ptrs, unsigned char *pending) {
  const struct al_shim *sh = al_shims[v[0].shim];
  size_t m = 0;

  for (size_t k = 0; k < n; k++) {
    if (!v[k].live) {
      v[k].pending = 0;
      continue;
    }
    memset(&views[m], 0, sizeof(views[m]));
    views[m].addr = v[k].addr;
    views[m].cb = (void *)v[k].handle;
    views[m].seq = v[k].seq;
    views[m].type = v[k].type;
    views[m].shim = v[k].shim;
    views[m].state = AL_RES_PENDING;
    ptrs[m] = &views[m];
    pending[m++] = 1;
  }
  if (m == 0 || sh == NULL || sh->req_pending == NULL)
    return;
  sh->req_pending(v[0].handle, ptrs, m, live_mem, pending);
  m = 0;
  for (size_t k = 0; k < n; k++)
    if (v[k].live)
      v[k].pending = pending[m++] != 0;
}

/* Gives each of z's requests its verdict, a handle at a time, and leaves
 * z sorted by request. A request started again at the same address ended
 * the one before: a request is never held twice. */
static void judge(struct lazies *z, int live_mem) {
  struct al_res *views;
  const struct al_res **ptrs;
  unsigned char *pending;

  if (z->n == 0)
    return;
  qsort(z->v, z->n, sizeof(*z->v), by_handle);
  views = malloc(z->n * sizeof(*views));
  ptrs = malloc(z->n * sizeof(*ptrs));
  pending = malloc(z->n);
  for (size_t i = 0, j; views && ptrs && pending && i < z->n; i = j) {
    for (j = i + 1; j < z->n && z->v[j].handle == z->v[i].handle; j++)
      continue;
    ask(&z->v[i], j - i, live_mem, views, ptrs, pending);
  }
  free(views);
  free(ptrs);
  free(pending);
  qsort(z->v, z->n, sizeof(*z->v), by_request);
  for (size_t i = 0; i + 1 < z->n; i++)
    if (z->v[i].addr == z->v[i + 1].addr)
      z->v[i].pending = 0;
}

/* Whether z, judged, says that the request (addr, seq) completed. */
static int judged_done(const struct lazies *z, uintptr_t addr, uint64_t seq) {
  struct lazy key = {0};
  const struct lazy *found;

  key.addr = addr;
  key.seq = seq;
  found = z->n ? bsearch(&key, z->v, z->n, sizeof(key), by_request) : NULL;
  return found != NULL && !found->pending;
}

/* Leaves out of res[0..n), in order, the requests z says completed;
 * returns how many are left. Frees z. */
static size_t settle_copy(struct al_res *res, size_t n, struct lazies *z) {
  size_t k = 0;

  judge(z, 0);
  for (size_t i = 0; i < n; i++)
    if (res[i].state != AL_RES_PENDING ||
        !judged_done(z, res[i].addr, res[i].seq))
      res[k++] = res[i];
  free(z->v);
  return k;
}

/* Forgets the pending record (addr, seq), if it is there. */
static void forget_request(uintptr_t addr, uint64_t seq) {
  uint64_t h = mix(addr);
  struct stripe *st = stripe_of(h);

  al_spin_lock(&st->lock);
  for (struct al_res **p = st->nbuckets ? bucket_of(st, h) : NULL;
       p != NULL && *p != NULL; p = &(*p)->next) {
    struct al_res *r = *p;
    if (r->addr == addr && r->seq == seq && r->state == AL_RES_PENDING) {
      *p = r->next;
      st->count--;
      res_free(st, r);
      break;
    }
  }
  al_spin_unlock(&st->lock);
}

/* Forgets the links of handle that are not live, or only the one of the
 * request (addr, seq) when addr is not 0, and their requests' records. */
static void drop_links(uintptr_t handle, uintptr_t addr, uint64_t seq) {
  uint64_t h = mix(handle);
  struct stripe *st = stripe_of(h);
  struct {
    uintptr_t addr;
    uint64_t seq;
  } gone[32];
  size_t k;

  do {
    struct al_res **p, *prev = NULL;
    k = 0;
    al_spin_lock(&st->lock);
    p = st->nbuckets ? bucket_of(st, h) : NULL;
    while (p != NULL && *p != NULL && k < 32) {
      struct al_res *r = *p;
      if (r->state != AL_RES_LINK) {
        prev = r;
      } else if (r->addr == handle &&
                 (addr != 0 ? (uintptr_t)r->cb == addr && r->seq == seq
                            : !link_live(prev, r))) {
        gone[k].addr = (uintptr_t)r->cb;
        gone[k++].seq = r->seq;
        *p = r->next;
        st->count--;
        res_free(st, r);
        continue;
      }
      p = &r->next;
    }
    al_spin_unlock(&st->lock);
    for (size_t i = 0; i < k; i++)
      if (addr == 0)
        forget_request(gone[i].addr, gone[i].seq);
  } while (k == 32);
}

/* Forgets the handle's requests that completed, and sets when to look
 * again. The calling thread is in the program's call on the handle. */
static void prune(uintptr_t handle) {
  uint64_t h = mix(handle);
  struct stripe *st = stripe_of(h);
  struct lazies z = {0};
  struct al_res *prev = NULL, **p, *hr;
  uint32_t left = 0;

  al_spin_lock(&st->lock);
  for (struct al_res *r = st->nbuckets ? *bucket_of(st, h) : NULL; r != NULL;
       r = r->next) {
    if (r->state != AL_RES_LINK)
      prev = r;
    else if (r->addr == handle)
      lazies_add(&z, r, link_live(prev, r));
  }
  al_spin_unlock(&st->lock);
  if (!z.failed)
    judge(&z, 1);
  else
    z.n = 0; /* nothing is forgotten, and it is tried again later */

  al_spin_lock(&st->lock);
  p = st->nbuckets ? bucket_of(st, h) : NULL;
  while (p != NULL && *p != NULL) {
    struct al_res *r = *p;
    if (r->state == AL_RES_LINK && r->addr == handle) {
      if (judged_done(&z, (uintptr_t)r->cb, r->seq)) {
        *p = r->next;
        st->count--;
        res_free(st, r);
        continue;
      }
      left++;
    }
    p = &r->next;
  }
  p = lookup(st, h, handle, AL_RES_OPEN);
  if (p != NULL) {
    hr = *p;
    hr->born_ms = left;
    hr->cb = (void *)(uintptr_t)(2 * left > PRUNE_FIRST ? 2 * left
                                                         : PRUNE_FIRST);
  }
  al_spin_unlock(&st->lock);
  for (size_t i = 0; i < z.n; i++)
    if (!z.v[i].pending)
      forget_request(z.v[i].addr, z.v[i].seq);
  free(z.v);
}

int al_req_start_on(uint8_t shim, uintptr_t addr, unsigned type,
                    uintptr_t loop, uintptr_t handle,
                    const struct al_stack *stack) {
  uint64_t h = mix(handle);
  struct stripe *st = stripe_of(h);
  struct al_res **p, *link = NULL;
  uint64_t seq;
  int full = 0;

  if (record(shim, addr, type, loop, stack, AL_RES_PENDING, (void *)handle,
             al_now_ms(), &seq) != 0)
    return -1;
  al_spin_lock(&st->lock);
  maybe_grow(st);
  p = lookup(st, h, handle, AL_RES_OPEN);
  if (p != NULL && (link = res_alloc(st)) != NULL) {
    struct al_res *hr = *p;
    memset(link, 0, sizeof(*link));
    link->addr = handle;
    link->cb = (void *)addr;
    link->loop = loop;
    count_on(loop, 1);
    link->seq = seq;
    link->type = type;
    link->state = AL_RES_LINK;
    link->shim = shim;
    link->next = hr->next;
    hr->next = link;
    st->count++;
    hr->born_ms++;
    full = hr->born_ms >= (hr->cb ? (uintptr_t)hr->cb : PRUNE_FIRST);
  }
  al_spin_unlock(&st->lock);
  if (link == NULL) {
    forget_request(addr, seq);
    return -1;
  }
  if (full)
    prune(handle);
  return 0;
}

/* Whether r, a copy of a pending record, is a request settled by its
 * handle that completed. newer: a newer record at its address is pending,
 * which ends it if it is such a request. */
static int settled(const struct al_res *r, int newer) {
  const struct al_shim *sh = al_shims[r->shim];
  uintptr_t handle = (uintptr_t)r->cb;
  uint64_t h = mix(handle);
  struct stripe *st = stripe_of(h);
  struct al_res *prev = NULL, view = *r;
  const struct al_res *ptr = &view;
  int found = 0, live = 0;
  unsigned char pending = 1;

  if (r->state != AL_RES_PENDING || sh == NULL || sh->req_pending == NULL)
    return 0;
  al_spin_lock(&st->lock);
  for (struct al_res *l = st->nbuckets ? *bucket_of(st, h) : NULL;
       l != NULL && !found; l = l->next) {
    if (l->state != AL_RES_LINK) {
      prev = l;
    } else if (l->addr == handle && (uintptr_t)l->cb == r->addr &&
               l->seq == r->seq) {
      found = 1;
      live = link_live(prev, l);
    }
  }
  al_spin_unlock(&st->lock);
  if (!found)
    return 0;
  if (newer || !live)
    return 1;
  view.next = NULL;
  sh->req_pending(handle, &ptr, 1, 0, &pending);
  return !pending;
}

size_t al_registry_records(void) {
  size_t n = 0;

  for (unsigned i = 0; i < STRIPES; i++) {
    al_spin_lock(&stripes[i].lock);
    n += stripes[i].count;
    al_spin_unlock(&stripes[i].lock);
  }
  return n;
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
    if (loop != 0 && loop != (*p)->loop) {
      count_on((*p)->loop, -1);
      (*p)->loop = loop;
      count_on(loop, 1);
    }
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
 * callback: 1, or 0 when there is none. A handle's requests settled by it
 * go with it; a request settled by its handle leaves its handle. */
static int take(uintptr_t addr, int state, void **cb) {
  uint64_t h = mix(addr);
  struct stripe *st = stripe_of(h);
  struct al_res **p, *r = NULL;
  uintptr_t handle = 0;
  uint64_t seq = 0;
  int settles = 0, noted = 0;

  al_spin_lock(&st->lock);
  p = lookup(st, h, addr, state);
  if (p != NULL) {
    r = *p;
    *p = r->next;
    *cb = r->cb;
    handle = (uintptr_t)r->cb;
    seq = r->seq;
    settles = al_shims[r->shim] != NULL &&
              al_shims[r->shim]->req_pending != NULL;
    /* A handle's count of requests noted on it: never below the links
     * that follow it (a prune sets it to those left), so 0 means none,
     * and its bucket need not be read again. */
    noted = state != AL_RES_PENDING && r->born_ms != 0;
    if (noted) {
      /* A newer record at the address (the handle initialised again
       * before its close completed) now stands before the links that
       * stay live, and takes their count. */
      struct al_res **q = lookup(st, h, addr, AL_RES_OPEN);

      if (q == NULL)
        q = lookup(st, h, addr, AL_RES_CLOSING);
      if (q != NULL)
        (*q)->born_ms += r->born_ms;
    }
    st->count--;
    res_free(st, r);
  }
  al_spin_unlock(&st->lock);
  if (settles && noted)
    drop_links(addr, 0, 0);
  else if (settles && handle != 0)
    drop_links(handle, addr, seq);
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
  struct al_res r;
  return al_req_get(addr, &r) == 0;
}

/* Copies the newest record at addr in the given state; a request settled
 * by its handle that completed is not there. */
static int get(uintptr_t addr, int state, struct al_res *out, int settle) {
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
  return p != NULL && !(settle && settled(out, 0)) ? 0 : -ENOENT;
}

int al_req_get(uintptr_t addr, struct al_res *out) {
  return get(addr, AL_RES_PENDING, out, 1);
}

int al_req_get_called(uintptr_t addr, struct al_res *out) {
  return get(addr, AL_RES_PENDING, out, 0);
}

int al_res_get(uintptr_t addr, struct al_res *out) {
  return get(addr, AL_RES_OPEN, out, 1);
}

int al_res_get_state(uintptr_t addr, enum al_res_state state,
                     struct al_res *out) {
  return get(addr, (int)state, out, 1);
}

uint64_t al_res_next_seq(void) {
  return atomic_load(&next_seq);
}

size_t al_res_on_loop(uintptr_t loop, uint64_t first_seq, unsigned states,
                      struct al_res **out) {
  struct al_res *copy = NULL;
  size_t n = 0, cap = 0;

  struct lazies z = {0};

  /* A drain asks every turn: nothing on the loop is answered at once. */
  if (al_loop_records(loop) == 0) {
    *out = NULL;
    return 0;
  }
  for (unsigned i = 0; i < STRIPES; i++) {
    struct stripe *st = &stripes[i];
    al_spin_lock(&st->lock);
    for (size_t b = 0; st->count > 0 && b < st->nbuckets; b++) {
      struct al_res *prev = NULL;
      for (struct al_res *r = st->buckets[b]; r != NULL; r = r->next) {
        if (r->state == AL_RES_LINK) {
          if (r->loop == loop && (states & 1u << AL_RES_PENDING))
            lazies_add(&z, r, link_live(prev, r));
          continue;
        }
        prev = r;
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
  return settle_copy(copy, n, &z);
}

int al_req_pending_on(uintptr_t loop, uint64_t seq) {
  struct al_res *res;
  struct al_loop l;
  size_t n;

  if (seq == 0) {
    if (al_loop_get(loop, &l) != 0)
      return 0;
    seq = l.first_seq;
  }
  n = al_res_on_loop(loop, seq, 1u << AL_RES_PENDING, &res);
  free(res);
  return n > 0;
}

int al_res_alive(uintptr_t addr, uint64_t seq) {
  uint64_t h = mix(addr);
  struct stripe *st = stripe_of(h);
  struct al_res found;
  int alive = 0, newer = 0;

  al_spin_lock(&st->lock);
  for (struct al_res *r = st->nbuckets ? *bucket_of(st, h) : NULL;
       r != NULL && !alive; r = r->next) {
    if (r->addr != addr || r->state == AL_RES_LINK)
      continue;
    if (r->seq == seq) {
      alive = 1;
      found = *r;
    } else if (r->state == AL_RES_PENDING && r->seq > seq) {
      newer = 1;
    }
  }
  al_spin_unlock(&st->lock);
  return alive && !settled(&found, newer);
}

/* ----------------------------------------------------------------- loops */

static inline struct al_loop **loop_bucket(uintptr_t addr) {
  return &loop_buckets[(mix(addr) >> 32) & (loop_nbuckets - 1)];
}

/* Doubles the index when it holds as many loops as buckets. Lock held. */
static void loops_index_grow(void) {
  size_t n = 2 * loop_nbuckets;
  struct al_loop **nb;

  if (loops_indexed < loop_nbuckets || n > SIZE_MAX / sizeof(*nb))
    return;
  nb = map(n * sizeof(*nb));
  if (nb == NULL)
    return;
  for (size_t i = 0; i < loop_nbuckets; i++) {
    struct al_loop *l = loop_buckets[i], *next;
    for (; l != NULL; l = next) {
      struct al_loop **b = &nb[(mix(l->addr) >> 32) & (n - 1)];
      next = l->chain;
      l->chain = *b;
      *b = l;
    }
  }
  if (loop_buckets != loop_buckets_first)
    munmap(loop_buckets, loop_nbuckets * sizeof(*nb));
  loop_buckets = nb;
  loop_nbuckets = n;
}

/* Lock held: the loop open at addr, the one not replaced. */
static struct al_loop *find_open_loop(uintptr_t addr) {
  struct al_loop *l = *loop_bucket(addr);
  while (l != NULL && l->addr != addr)
    l = l->chain;
  return l;
}

/* A loop kept, open at its address: appended to the list and indexed.
 * Lock held; no other loop is open at its address. */
static void loop_add(struct al_loop *l) {
  struct al_loop **b;

  l->next = NULL;
  l->link = loops_tail;
  *loops_tail = l;
  loops_tail = &l->next;
  loops_index_grow();
  b = loop_bucket(l->addr);
  l->chain = *b;
  *b = l;
  loops_indexed++;
}

/* The loop at its address is no longer open (replaced, freed or closed):
 * out of the index, still in the list. Lock held. */
static void loop_unindex(struct al_loop *l) {
  for (struct al_loop **p = loop_bucket(l->addr); *p != NULL;
       p = &(*p)->chain) {
    if (*p == l) {
      *p = l->chain;
      l->chain = NULL;
      loops_indexed--;
      return;
    }
  }
}

/* Out of the list, once out of the index. Lock held. */
static void loop_unlink(struct al_loop *l) {
  *l->link = l->next;
  if (l->next != NULL)
    l->next->link = l->link;
  else
    loops_tail = l->link;
}

uint64_t al_loop_open(uint8_t shim, uintptr_t addr, unsigned flags,
                      const struct al_stack *stack, int fresh) {
  struct al_loop *l, *old;
  uint64_t serial = 0;
  int made = 0;

  if (AL_UNLIKELY(al_ending_sealed())) /* as in record() */
    return 0;
  if (fresh)
    al_run_forget(addr, 0); /* what the memory held before is gone */
  al_mutex_lock(&loops_lock);
  old = find_open_loop(addr);
  l = old;
  if (old != NULL && fresh) {
    /* The program initialised a loop over one it never closed: the old
     * loop and its handles are lost, and stay reported. */
    old->flags |= AL_LOOP_REPLACED;
    loop_unindex(old);
    l = NULL;
  }
  if (l == NULL && (l = calloc(1, sizeof(*l))) != NULL) {
    l->addr = addr;
    l->shim = shim;
    l->tid = al_gettid();
    l->serial = ++loop_serial;
    l->first_seq = atomic_load(&next_seq);
    loop_add(l);
    made = 1;
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
  /* A loop new here has virtual time when the option gives it to every
   * loop, and not because one at its address had it. */
  if (made) {
    al_vtime_made(addr);
    al_children_made_loop(); /* a fork child with a loop: a worker */
  }
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
  int adopted = 0;

  al_mutex_lock(&loops_lock);
  l = find_open_loop(addr);
  if (l != NULL && (l->flags & AL_LOOP_INHERITED)) {
    l->flags &= ~(unsigned)AL_LOOP_INHERITED;
    l->tid = tid;
    l->run_tid = 0;
    adopted = 1;
  }
  al_mutex_unlock(&loops_lock);
  if (adopted) {
    /* Its wake-up for graceful signals watched the parent's pipe: made
     * anew for the child at its next run (lib/wake.c). */
    al_run_forget(addr, 1);
    al_children_made_loop();
  }
}

void al_loop_freed(uintptr_t addr) {
  struct al_loop *l;

  al_run_forget(addr, 0);
  al_mutex_lock(&loops_lock);
  l = find_open_loop(addr);
  if (l != NULL) {
    l->flags |= AL_LOOP_FREED | AL_LOOP_REPLACED;
    loop_unindex(l);
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

int al_loop_fins_visit(uintptr_t addr,
                       int (*visit)(struct al_loop *l, void *ctx), void *ctx) {
  struct al_loop *l;
  int rc = -ENOENT;

  al_mutex_lock(&loops_lock);
  if ((l = find_open_loop(addr)) != NULL)
    rc = visit(l, ctx);
  al_mutex_unlock(&loops_lock);
  return rc;
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
  dst->link = NULL;
  dst->chain = NULL;
  dst->fins = NULL;
  dst->waits = NULL;
  dst->afters = NULL;
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
  struct al_loop *l;
  uint64_t first_seq = 0;

  al_mutex_lock(&loops_lock);
  l = find_open_loop(addr);
  if (l != NULL && (serial == 0 || l->serial == serial)) {
    loop_unindex(l);
    loop_unlink(l);
    first_seq = l->first_seq;
    if (!(l->flags & AL_LOOP_INHERITED))
      loops_closed++;
    al_fins_free(l->fins);
    al_fins_free(l->waits);
    al_fins_free(l->afters);
    free(l);
  } else {
    l = NULL;
  }
  al_mutex_unlock(&loops_lock);
  if (l != NULL || serial == 0)
    al_run_forget(addr, 0);
  /* Nothing recorded on it, the common case: the registry need not be
   * read. A loop with no count of its records (past the addresses
   * counted) is read as before. */
  if (l == NULL || al_loop_records(addr) == 0)
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

static int snapshot(struct al_snapshot *s, int inherited);

int al_registry_snapshot(struct al_snapshot *s) {
  return snapshot(s, 0);
}

int al_registry_snapshot_live(struct al_snapshot *s) {
  return snapshot(s, 1);
}

uint64_t al_registry_inherited_below(void) {
  return inherited_below;
}

static int snapshot(struct al_snapshot *s, int inherited) {
  size_t cap = 0, n = 0;
  struct al_res *res = NULL;
  struct lazies z = {0};
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
        free(z.v);
        return -1;
      }
      res = p;
      cap = ncap;
    }
    for (size_t b = 0; b < st->nbuckets; b++) {
      struct al_res *prev = NULL;
      for (struct al_res *r = st->buckets[b]; r != NULL; r = r->next) {
        if (r->state == AL_RES_LINK) {
          lazies_add(&z, r, link_live(prev, r));
          continue;
        }
        prev = r;
        if (inherited || r->seq >= inherited_below)
          res[n++] = *r;
      }
    }
    al_spin_unlock(&st->lock);
  }
  s->res = res;
  s->nres = settle_copy(res, n, &z);

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
  s->nfindings = al_findings_copy(&s->findings, &s->findings_dropped,
                                  &budget);
  return 0;
}

void al_snapshot_release(struct al_snapshot *s) {
  free(s->res);
  free(s->loops);
  free(s->shutdowns);
  free(s->notes);
  free(s->findings);
  memset(s, 0, sizeof(*s));
}

/* ------------------------------------------------------------------ fork */

/* In the child, with every lock free again (lib/locks.c). */
void al_registry_atfork_child(void) {
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
    al_fins_free(l->afters);
    l->fins = l->waits = l->afters = NULL;
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
    al_fins_free(l->afters);
    free(l);
  }
  loops_tail = &loops_head;
  if (loop_buckets != loop_buckets_first)
    munmap(loop_buckets, loop_nbuckets * sizeof(*loop_buckets));
  memset(loop_buckets_first, 0, sizeof(loop_buckets_first));
  loop_buckets = loop_buckets_first;
  loop_nbuckets = LOOP_BUCKETS_FIRST;
  loops_indexed = 0;
  loop_serial = 0;
  loops_closed = 0;
  al_mutex_unlock(&loops_lock);
  inherited_below = atomic_load(&next_seq);
  atomic_store(&requests_started, 0);
  atomic_store(&shims_seen, 0);
}
