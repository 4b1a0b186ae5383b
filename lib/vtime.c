/* Virtual time: a loop whose clock jumps to its next timer whenever it
 * would block waiting for it, with nothing ready and no work in other
 * threads it must wait for. A test of a one-hour timeout takes
 * milliseconds; its timers fire in the same order and at the same times
 * of the loop's clock.
 *
 * Loop-neutral. Each loop library reads the time with clock_gettime from
 * the C library and waits with poll or epoll_wait (lib/waits.c), so both
 * are done here. The clock a thread reads is the monotonic clock plus the
 * offset of the loop it runs; outside runs, the loop library's own reads
 * (uv_update_time, uv_hrtime, g_get_monotonic_time) get the offset of the
 * last virtual loop the thread switched on or ran, so that a loop's time
 * stays its own between its runs, and the program's own reads get none.
 * The loop library's own wait, inside a run of a virtual loop, is first
 * made without blocking: when nothing is ready, the loop's offset grows
 * by the wait's timeout instead. A shim says only whether the loop has
 * work in other threads (al_shim.offloaded), which is waited for in real
 * time, and whether a finite wait may be for a timer (al_shim.timed).
 *
 * Offsets only grow, and a loop's slot is never given to another, so
 * that the clock a thread reads never goes back while it stays with one
 * loop. The program's other clocks (CLOCK_REALTIME, gettimeofday) are
 * not changed. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "asyncleak.h"
#include "internal.h"
#include "loopsyms.h"

#define VT_LOOPS 256

struct vt_loop {
  _Atomic uintptr_t loop;
  _Atomic int64_t offset_ns;
  atomic_int on;
  atomic_ulong jumps;
  _Atomic int64_t jumped_ns; /* what the jumps added up to */
  /* Switched on through the API: when (al_vtime_generation), and by
   * which thread; 0 otherwise. For the harness's teardown. */
  atomic_ulong api_gen;
  _Atomic pid_t api_tid;
};

static struct vt_loop vt[VT_LOOPS];
static atomic_int vt_used;     /* some loop was switched on: look further */
static atomic_uint vt_refused; /* loops that found no slot */
static atomic_ulong vt_gen = 1;  /* counts switches on through the API */

/* The offset this thread's monotonic clocks read in a run (NULL for a
 * loop without virtual time), how many runs deep it is, and the offset
 * the loop library's reads get outside runs. */
static AL_TLS _Atomic int64_t *vt_run;
static AL_TLS unsigned vt_depth;
static AL_TLS _Atomic int64_t *vt_thread;

/* ---------------------------------------------------------- the clock */

/* An object that interposes clock_gettime in front of the runtime (a
 * sanitizer's runtime): its code is the caller of every read, which then
 * cannot be told the loop library's from the program's. */
static uintptr_t front_lo, front_hi;

__attribute__((constructor)) static void vtime_init(void) {
  void *first = dlsym(RTLD_DEFAULT, "clock_gettime");

  if (first != NULL && first != (void *)clock_gettime &&
      al_code_range((uintptr_t)first, &front_lo, &front_hi, NULL) != 0)
    front_lo = front_hi = 0;
}

static int monotonic(clockid_t id) {
  return id == CLOCK_MONOTONIC || id == CLOCK_MONOTONIC_COARSE ||
         id == CLOCK_MONOTONIC_RAW || id == CLOCK_BOOTTIME;
}

/* Whether pc is a loop library's code (loads only); a front's counts as
 * any. */
static int loop_code(const void *pc) {
  if ((uintptr_t)pc >= front_lo && (uintptr_t)pc < front_hi)
    return 1;
  for (int i = 0; i < AL_MAX_SHIMS && al_shims[i] != NULL; i++)
    if (al_shims[i]->syms != NULL &&
        al_loopsyms_main_owns(al_shims[i]->syms, pc))
      return 1;
  return 0;
}

/* The offset the calling thread's clock gets now, read by code at pc. */
static _Atomic int64_t *offset_here(const void *pc) {
  if (vt_depth > 0)
    return vt_run;
  return vt_thread != NULL && loop_code(pc) ? vt_thread : NULL;
}

AL_EXPORT int clock_gettime(clockid_t id, struct timespec *ts) {
  int rc = al_clock_real(id, ts);
  _Atomic int64_t *off =
      AL_UNLIKELY(vt_thread != NULL || vt_run != NULL)
          ? offset_here(__builtin_return_address(0))
          : NULL;

  if (AL_UNLIKELY(off != NULL) && rc == 0 && monotonic(id)) {
    int64_t ns = (int64_t)ts->tv_nsec +
                 atomic_load_explicit(off, memory_order_relaxed);
    ts->tv_sec += (time_t)(ns / 1000000000);
    ts->tv_nsec = (long)(ns % 1000000000);
  }
  return rc;
}

/* --------------------------------------------------------- the loops */

/* The loop's slot, made when `make`; NULL when it has none. */
static struct vt_loop *slot_of(uintptr_t loop, int make) {
  unsigned first = (unsigned)(((uint64_t)loop >> 4) * 0x9e3779b97f4a7c15ull >>
                              56) % VT_LOOPS;

  for (unsigned n = 0; n < VT_LOOPS; n++) {
    struct vt_loop *s = &vt[(first + n) % VT_LOOPS];
    uintptr_t l = atomic_load_explicit(&s->loop, memory_order_acquire);
    if (l == loop)
      return s;
    if (l == 0) {
      if (!make)
        return NULL;
      if (atomic_compare_exchange_strong(&s->loop, &l, loop) || l == loop)
        return s;
    }
  }
  return NULL;
}

int al_vtime_set(uintptr_t loop, int on) {
  struct vt_loop *s = slot_of(loop, on);

  if (s == NULL) {
    if (!on)
      return 0;
    atomic_fetch_add(&vt_refused, 1);
    return -ENOSPC;
  }
  if (on && !atomic_load(&s->on)) {
    /* Starts where the thread's clock is, so that it does not go back. */
    _Atomic int64_t *mine = vt_depth > 0 ? vt_run : vt_thread;
    int64_t from = mine != NULL ? atomic_load(mine) : 0;
    if (atomic_load(&s->offset_ns) < from)
      atomic_store(&s->offset_ns, from);
  }
  atomic_store(&s->on, on);
  if (on) {
    atomic_store(&vt_used, 1);
    vt_thread = &s->offset_ns;
  }
  return 0;
}

void al_vtime_made(uintptr_t loop) {
  _Atomic int64_t *cur = vt_depth > 0 ? vt_run : vt_thread;
  struct vt_loop *s;

  if (!al_opt.virtual_time && cur == NULL) {
    /* Not because a loop at its address had it. */
    if ((s = slot_of(loop, 0)) != NULL)
      atomic_store(&s->on, 0);
    return;
  }
  /* Made on a thread whose clock is virtual: the library read that clock
   * to set the loop's time, which its runs must go on from. */
  if ((s = slot_of(loop, 1)) == NULL) {
    atomic_fetch_add(&vt_refused, 1);
    return;
  }
  if (cur != NULL && atomic_load(&s->offset_ns) < atomic_load(cur))
    atomic_store(&s->offset_ns, atomic_load(cur));
  atomic_store(&s->on, al_opt.virtual_time);
  atomic_store(&vt_used, 1);
  if (al_opt.virtual_time && vt_depth == 0)
    vt_thread = &s->offset_ns;
}

void *al_vtime_enter(uintptr_t loop) {
  _Atomic int64_t *prev = vt_run;
  struct vt_loop *s;

  vt_depth++;
  if (AL_LIKELY(!atomic_load_explicit(&vt_used, memory_order_relaxed)))
    return prev;
  s = slot_of(loop, 0);
  vt_run = s != NULL ? &s->offset_ns : NULL;
  /* Between runs, the library's reads go on with this loop's clock. */
  if (s != NULL && atomic_load_explicit(&s->on, memory_order_relaxed))
    vt_thread = &s->offset_ns;
  return prev;
}

void al_vtime_leave(void *prev) {
  vt_run = prev;
  if (vt_depth > 0)
    vt_depth--;
}

/* A drain of the core's on this thread (al_run_until): its deadline, in
 * real milliseconds, or 0. */
static AL_TLS uint64_t drain_end;

uint64_t al_vtime_drain(uint64_t end_ms) {
  uint64_t prev = drain_end;

  drain_end = end_ms;
  return prev;
}

int al_vtime_skip(uintptr_t loop, uint8_t shim, int timeout_ms) {
  const struct al_shim *sh = al_shims[shim];
  struct vt_loop *s;

  if (timeout_ms <= 0 || (s = slot_of(loop, 0)) == NULL ||
      !atomic_load_explicit(&s->on, memory_order_relaxed))
    return 0;
  /* In a drain, a wait as long as what is left of it waits for the
   * drain's own deadline, not a timer of the program's: it is waited in
   * real time, for the work of other processes to come. */
  if (drain_end != 0) {
    uint64_t now = al_now_ms();
    if ((uint64_t)timeout_ms + 1 >= (now < drain_end ? drain_end - now : 0))
      return 0;
  }
  /* A finite wait that is not for a timer, and work in other threads,
   * are waited for in real time. */
  if (sh != NULL && sh->timed != NULL && !sh->timed(loop))
    return 0;
  return sh == NULL || sh->offloaded == NULL || !sh->offloaded(loop);
}

void al_vtime_advance(uintptr_t loop, int timeout_ms) {
  struct vt_loop *s = slot_of(loop, 0);

  if (s == NULL)
    return;
  atomic_fetch_add(&s->offset_ns, (int64_t)timeout_ms * 1000000);
  atomic_fetch_add(&s->jumped_ns, (int64_t)timeout_ms * 1000000);
  atomic_fetch_add(&s->jumps, 1);
}

int al_vtime_in_use(void) {
  return atomic_load_explicit(&vt_used, memory_order_relaxed);
}

void al_vtime_totals(struct al_vtime_totals *t) {
  *t = (struct al_vtime_totals){0};
  t->refused = atomic_load(&vt_refused);
  for (unsigned i = 0; i < VT_LOOPS; i++) {
    if (atomic_load(&vt[i].loop) == 0 ||
        (atomic_load(&vt[i].jumps) == 0 && !atomic_load(&vt[i].on) &&
         atomic_load(&vt[i].api_gen) == 0))
      continue;
    t->loops++;
    t->jumps += atomic_load(&vt[i].jumps);
    t->advanced_ns += (uint64_t)atomic_load(&vt[i].jumped_ns);
  }
}

/* ------------------------------------------------------------ the API */

AL_EXPORT int asyncleak_virtual_time(void *loop, int on) {
  struct vt_loop *s;
  struct al_loop l;
  int rc;

  if (loop == NULL)
    return -EINVAL;
  al_init();
  if ((rc = al_loop_known((uintptr_t)loop, &l)) != 0)
    return rc;
  if ((rc = al_vtime_set((uintptr_t)loop, on != 0)) != 0)
    return rc;
  if ((s = slot_of((uintptr_t)loop, 0)) != NULL) {
    atomic_store(&s->api_tid, on ? al_gettid() : 0);
    atomic_store(&s->api_gen, on ? atomic_fetch_add(&vt_gen, 1) : 0);
  }
  return 0;
}

unsigned long al_vtime_generation(void) {
  return atomic_load(&vt_gen);
}

void al_vtime_api_off(unsigned long since) {
  pid_t self = al_gettid();

  /* What the option gives every loop stays. */
  if (al_opt.virtual_time)
    return;

  for (unsigned i = 0; i < VT_LOOPS; i++) {
    struct vt_loop *s = &vt[i];
    if (atomic_load(&s->api_gen) >= since && atomic_load(&s->api_tid) == self &&
        atomic_load(&s->loop) != 0) {
      atomic_store(&s->on, 0);
      atomic_store(&s->api_gen, 0);
      atomic_store(&s->api_tid, 0);
    }
  }
}
