/* The loop library's waits for events: poll, epoll_wait and select, as
 * libuv, libevent, libev and GLib call them from the C library. A run
 * whose thread is in one of them is waiting in its loop; a run whose
 * thread is elsewhere is running the program's callbacks. `asyncleak ps`
 * tells the two apart from this alone (lib/run.c keeps it per run).
 *
 * Every call of the process to these functions comes through here: the
 * program's own, other libraries', from any thread and from signal
 * handlers. Each goes on to the C library's function unchanged, with its
 * result and errno; what is done around it is a few loads and stores,
 * and two reads of the clock when the call is a loop's wait. The one
 * exception is a loop's own wait under virtual time (lib/vtime.c), made
 * without blocking. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/select.h>

#include "internal.h"

typedef int poll_fn(struct pollfd *, nfds_t, int);
typedef int ppoll_fn(struct pollfd *, nfds_t, const struct timespec *,
                     const sigset_t *);
typedef int epoll_wait_fn(int, struct epoll_event *, int, int);
typedef int epoll_pwait_fn(int, struct epoll_event *, int, int,
                           const sigset_t *);
typedef int select_fn(int, fd_set *, fd_set *, fd_set *, struct timeval *);
typedef int pselect_fn(int, fd_set *, fd_set *, fd_set *,
                       const struct timespec *, const sigset_t *);

static poll_fn *real_poll;
static ppoll_fn *real_ppoll;
static epoll_wait_fn *real_epoll_wait;
static epoll_pwait_fn *real_epoll_pwait;
static select_fn *real_select;
static pselect_fn *real_pselect;

/* Objects that interpose these functions in front of the runtime (a
 * sanitizer's runtime, another preloaded library): a call that comes
 * through one of them has its code as caller, not the loop library's, and
 * is taken as the loop's wait when a run is in progress. */
#define MAX_FRONTS 4
static struct {
  uintptr_t lo, hi;
} fronts[MAX_FRONTS];
static int nfronts;

static void note_front(const char *name, void *ours) {
  void *first = dlsym(RTLD_DEFAULT, name);
  uintptr_t lo, hi;

  if (first == NULL || first == ours || nfronts == MAX_FRONTS ||
      al_code_range((uintptr_t)first, &lo, &hi, NULL) != 0)
    return;
  for (int i = 0; i < nfronts; i++)
    if (fronts[i].lo == lo)
      return;
  fronts[nfronts].lo = lo;
  fronts[nfronts].hi = hi;
  nfronts++;
}

/* Resolved before main: dlsym() is no call for a signal handler. */
__attribute__((constructor)) static void waits_init(void) {
  real_poll = (poll_fn *)dlsym(RTLD_NEXT, "poll");
  real_ppoll = (ppoll_fn *)dlsym(RTLD_NEXT, "ppoll");
  real_epoll_wait = (epoll_wait_fn *)dlsym(RTLD_NEXT, "epoll_wait");
  real_epoll_pwait = (epoll_pwait_fn *)dlsym(RTLD_NEXT, "epoll_pwait");
  real_select = (select_fn *)dlsym(RTLD_NEXT, "select");
  real_pselect = (pselect_fn *)dlsym(RTLD_NEXT, "pselect");
  note_front("poll", (void *)poll);
  note_front("epoll_wait", (void *)epoll_wait);
  note_front("epoll_pwait", (void *)epoll_pwait);
  note_front("select", (void *)select);
}

/* The caller to judge: NULL, any, when it is an interposer in front. */
static const void *caller(const void *pc) {
  for (int i = 0; i < nfronts; i++)
    if ((uintptr_t)pc >= fronts[i].lo && (uintptr_t)pc < fronts[i].hi)
      return NULL;
  return pc;
}

/* A call before the constructor ran (another library's constructor):
 * found now, as the loader would have. */
#define REAL_OF(fn, type)                                                    \
  (real_##fn != NULL ? real_##fn : (real_##fn = (type *)dlsym(RTLD_NEXT, #fn)))

#define NO_FUNCTION()                                                        \
  do {                                                                       \
    errno = ENOSYS;                                                          \
    return -1;                                                               \
  } while (0)

/* The wait itself, with the run marked waiting around it; errno is the
 * wait's. */
#define AROUND(call)                                                         \
  do {                                                                       \
    int slot_ = al_run_wait_begin(caller(__builtin_return_address(0))),    \
        rc_,                                                                 \
        errno_;                                                              \
    rc_ = (call);                                                            \
    errno_ = errno;                                                          \
    al_run_wait_end(slot_);                                                  \
    errno = errno_;                                                          \
    return rc_;                                                              \
  } while (0)

/* Virtual time (lib/vtime.c): the loop library's own wait for timeout_ms,
 * in a run of a loop whose time is virtual. Returns that loop when the
 * wait is to be made without blocking, and its clock advanced by
 * timeout_ms when nothing is ready; else 0, to wait as usual. Never from
 * inside the runtime (a signal handler's wait): the check reads the
 * records. */
static uintptr_t virtual_wait(const void *pc, int timeout_ms) {
  uintptr_t loop;
  uint8_t shim;
  int saved;

  if (AL_LIKELY(!al_vtime_in_use()) || timeout_ms <= 0 || al_locks_held != 0)
    return 0;
  saved = errno;
  loop = al_run_own_wait(caller(pc), &shim);
  if (loop != 0 && !al_vtime_skip(loop, shim, timeout_ms))
    loop = 0;
  errno = saved;
  return loop;
}

/* The wait, made without blocking; when nothing was ready, the time it
 * would have waited passes on the loop's clock. */
#define VIRTUALLY(loop, timeout_ms, call)                                    \
  do {                                                                       \
    int rc_ = (call);                                                        \
    if (rc_ == 0)                                                            \
      al_vtime_advance((loop), (timeout_ms));                                \
    return rc_;                                                              \
  } while (0)

AL_EXPORT int poll(struct pollfd *fds, nfds_t n, int timeout) {
  poll_fn *real = REAL_OF(poll, poll_fn);
  uintptr_t vloop;
  if (real == NULL)
    NO_FUNCTION();
  if (AL_UNLIKELY(vloop = virtual_wait(__builtin_return_address(0), timeout)))
    VIRTUALLY(vloop, timeout, real(fds, n, 0));
  AROUND(real(fds, n, timeout));
}

/* A timespec's milliseconds, rounded up as the C library does; -1 for
 * none (forever), and at most INT_MAX. */
static int ts_ms(const struct timespec *t) {
  long long ms;

  if (t == NULL)
    return -1;
  ms = (long long)t->tv_sec * 1000 + (t->tv_nsec + 999999) / 1000000;
  return ms > INT_MAX ? INT_MAX : (int)ms;
}

AL_EXPORT int ppoll(struct pollfd *fds, nfds_t n, const struct timespec *t,
                    const sigset_t *mask) {
  static const struct timespec zero = {0, 0};
  ppoll_fn *real = REAL_OF(ppoll, ppoll_fn);
  uintptr_t vloop;
  if (real == NULL)
    NO_FUNCTION();
  if (AL_UNLIKELY(vloop = virtual_wait(__builtin_return_address(0),
                                       ts_ms(t))))
    VIRTUALLY(vloop, ts_ms(t), real(fds, n, &zero, mask));
  AROUND(real(fds, n, t, mask));
}

AL_EXPORT int epoll_wait(int ep, struct epoll_event *ev, int max,
                         int timeout) {
  epoll_wait_fn *real = REAL_OF(epoll_wait, epoll_wait_fn);
  uintptr_t vloop;
  if (real == NULL)
    NO_FUNCTION();
  if (AL_UNLIKELY(vloop = virtual_wait(__builtin_return_address(0), timeout)))
    VIRTUALLY(vloop, timeout, real(ep, ev, max, 0));
  AROUND(real(ep, ev, max, timeout));
}

AL_EXPORT int epoll_pwait(int ep, struct epoll_event *ev, int max,
                          int timeout, const sigset_t *mask) {
  epoll_pwait_fn *real = REAL_OF(epoll_pwait, epoll_pwait_fn);
  uintptr_t vloop;
  if (real == NULL)
    NO_FUNCTION();
  if (AL_UNLIKELY(vloop = virtual_wait(__builtin_return_address(0), timeout)))
    VIRTUALLY(vloop, timeout, real(ep, ev, max, 0, mask));
  AROUND(real(ep, ev, max, timeout, mask));
}

AL_EXPORT int select(int n, fd_set *r, fd_set *w, fd_set *x,
                     struct timeval *t) {
  select_fn *real = REAL_OF(select, select_fn);
  if (real == NULL)
    NO_FUNCTION();
  AROUND(real(n, r, w, x, t));
}

AL_EXPORT int pselect(int n, fd_set *r, fd_set *w, fd_set *x,
                      const struct timespec *t, const sigset_t *mask) {
  pselect_fn *real = REAL_OF(pselect, pselect_fn);
  if (real == NULL)
    NO_FUNCTION();
  AROUND(real(n, r, w, x, t, mask));
}
