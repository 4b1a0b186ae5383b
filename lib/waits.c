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
 * and two reads of the clock when the call is a loop's wait. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
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

/* Resolved before main: dlsym() is no call for a signal handler. */
__attribute__((constructor)) static void waits_init(void) {
  real_poll = (poll_fn *)dlsym(RTLD_NEXT, "poll");
  real_ppoll = (ppoll_fn *)dlsym(RTLD_NEXT, "ppoll");
  real_epoll_wait = (epoll_wait_fn *)dlsym(RTLD_NEXT, "epoll_wait");
  real_epoll_pwait = (epoll_pwait_fn *)dlsym(RTLD_NEXT, "epoll_pwait");
  real_select = (select_fn *)dlsym(RTLD_NEXT, "select");
  real_pselect = (pselect_fn *)dlsym(RTLD_NEXT, "pselect");
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
    int slot_ = al_run_wait_begin(__builtin_return_address(0)), rc_,        \
        errno_;                                                              \
    rc_ = (call);                                                            \
    errno_ = errno;                                                          \
    al_run_wait_end(slot_);                                                  \
    errno = errno_;                                                          \
    return rc_;                                                              \
  } while (0)

AL_EXPORT int poll(struct pollfd *fds, nfds_t n, int timeout) {
  poll_fn *real = REAL_OF(poll, poll_fn);
  if (real == NULL)
    NO_FUNCTION();
  AROUND(real(fds, n, timeout));
}

AL_EXPORT int ppoll(struct pollfd *fds, nfds_t n, const struct timespec *t,
                    const sigset_t *mask) {
  ppoll_fn *real = REAL_OF(ppoll, ppoll_fn);
  if (real == NULL)
    NO_FUNCTION();
  AROUND(real(fds, n, t, mask));
}

AL_EXPORT int epoll_wait(int ep, struct epoll_event *ev, int max,
                         int timeout) {
  epoll_wait_fn *real = REAL_OF(epoll_wait, epoll_wait_fn);
  if (real == NULL)
    NO_FUNCTION();
  AROUND(real(ep, ev, max, timeout));
}

AL_EXPORT int epoll_pwait(int ep, struct epoll_event *ev, int max,
                          int timeout, const sigset_t *mask) {
  epoll_pwait_fn *real = REAL_OF(epoll_pwait, epoll_pwait_fn);
  if (real == NULL)
    NO_FUNCTION();
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
