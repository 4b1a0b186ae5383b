/* Live queries: the thread that answers `asyncleak ps PID`.
 *
 * The answer must come while the program's loop thread is stuck inside a
 * callback, and without a signal, which the program may use for itself:
 * so a thread of the runtime's own waits for the question on a socket
 * (lib/live.h names it). It is started at the first run of a loop, so a
 * process that never runs one has no such thread, and with live=0 never.
 * It blocks every signal, so that none of the program's is delivered to
 * it, and it runs none of the program's code: what it reads of the
 * program's memory, it reads through the shims' probes, which never fault
 * (lib/livedump.c).
 *
 * Its socket is a descriptor like the runtime's others: moved high, out
 * of the numbers the program counts on (lib/fds.c), closed on exec, and
 * checked to be still the socket before each accept, since the program
 * may close every descriptor it does not know and open its own at that
 * number. A fork child closes its copy, which is its parent's, and starts
 * its own thread at its own first run. Before the program puts itself
 * under a seccomp filter, or enters a user namespace, which only a
 * process of one thread may, the thread ends (al_live_stop), for good. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "internal.h"
#include "live.h"

/* Never started, running (or tried), or stopped for good. */
enum { LIVE_NONE, LIVE_ON, LIVE_STOPPED };

static atomic_int state = LIVE_NONE;
static atomic_int listen_fd = -1;
/* The connection being answered: a fork child closes its copy, which
 * would keep the asker waiting for the end of the answer. */
static atomic_int answering = -1;
static ino_t listen_ino;
static pthread_t thread;
static atomic_int has_thread;
/* The thread is doing something other than waiting for a question: being
 * born, or answering one. It may then hold the allocator's lock (a
 * sanitizer's, or malloc's), which a copy of the process made with
 * _Fork() at that instant would wait for forever (lib/ending.c). The
 * ending asks for quiet first (al_live_quiesce): the thread then takes no
 * question, and the ending waits, a little, for the one in hand. Set with
 * sequentially consistent operations on both sides, so that either the
 * thread sees the ask or the ending sees it busy. */
static atomic_int busy;
static atomic_int quiet_asked;

/* Starting and stopping, one at a time: a stop that came while the thread
 * was being made must find it. */
static pthread_mutex_t life = PTHREAD_MUTEX_INITIALIZER;

/* How long one question may take to arrive, and one answer to leave: a
 * client that stalls must not hold the thread. */
enum { CLIENT_TIMEOUT_S = 2 };

/* Whether fd is still the socket made for the thread. */
static int still_ours(int fd) {
  struct stat st;
  return fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode) &&
         st.st_ino == listen_ino;
}

static int send_all(int fd, const char *p, size_t len) {
  while (len > 0) {
    ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return -1;
    p += n;
    len -= (size_t)n;
  }
  return 0;
}

/* Whether the peer may see what this process holds, as for
 * /proc/PID/maps: root, or its own user while the process is dumpable (a
 * process that changed its credentials is not, to its old user). */
static int may_ask(int fd) {
  struct ucred cred;
  socklen_t len = sizeof(cred);

  if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0)
    return 0;
  if (cred.uid == 0)
    return 1;
  return (cred.uid == geteuid() || cred.uid == getuid()) &&
         prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) == 1;
}

/* Reads the question: one line, within the timeout. */
static int read_request(int fd, char *buf, size_t size) {
  size_t used = 0;

  while (used + 1 < size) {
    ssize_t n = recv(fd, buf + used, size - 1 - used, 0);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return -1;
    used += (size_t)n;
    buf[used] = '\0';
    if (memchr(buf, '\n', used) != NULL)
      return 0;
  }
  return -1;
}

static void answer(int fd) {
  struct timeval t = {CLIENT_TIMEOUT_S, 0}, brief = {0, 200000};
  struct al_buf out = {0};
  int allowed = may_ask(fd);
  char req[64];

  /* One that may not ask is given little time to say its question. */
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, allowed ? &t : &brief, sizeof(t));
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &t, sizeof(t));
  /* The question is read first, also from one refused: closing with it
   * unread would reset the connection before the refusal is read. */
  if (read_request(fd, req, sizeof(req)) != 0)
    return;
  if (!allowed) {
    send_all(fd, "refused\tnot your process\n", 25);
    return;
  }
  if (strcmp(req, AL_LIVE_REQUEST) != 0) {
    send_all(fd, "refused\tunknown request\n", 24);
    return;
  }
  al_live_dump(&out);
  if (out.failed)
    send_all(fd, "refused\tout of memory\n", 22);
  else
    send_all(fd, out.data, out.len);
  al_buf_release(&out);
}

static void *serve(void *arg) {
  int fd = (int)(intptr_t)arg;
  struct pollfd first = {fd, POLLIN, 0};

  /* One wait that returns at once, while still busy: whatever the wait
   * does for the first time on this thread (a sanitizer's interceptor
   * and the runtime's own, their first calls bound) is done before the
   * thread says it only waits. */
  (void)poll(&first, 1, 0);
  for (;;) {
    struct pollfd p = {fd, POLLIN, 0};
    int c;

    atomic_store(&busy, 0);
    if (poll(&p, 1, -1) < 0) {
      if (errno == EINTR)
        continue;
      break;
    }
    atomic_store(&busy, 1);
    if (atomic_load(&quiet_asked)) {
      /* The process is ending: nothing more, not even this thread's own
       * end, whose freeing could be what the copy of the process finds
       * half done. Every signal is blocked here. */
      atomic_store(&busy, 0);
      for (;;)
        pause();
    }
    if (atomic_load(&state) != LIVE_ON || (p.revents & POLLNVAL) ||
        !still_ours(fd))
      break;
    c = accept4(fd, NULL, NULL, SOCK_CLOEXEC);
    if (c < 0) {
      if (errno == EINTR || errno == ECONNABORTED || errno == EAGAIN)
        continue;
      break;
    }
    if (atomic_load(&state) != LIVE_ON) { /* al_live_stop's wake-up */
      close(c);
      break;
    }
    c = al_fd_move_high(c, 4);
    atomic_store(&answering, c);
    answer(c);
    /* The end of the answer, even where a fork child holds a copy. */
    shutdown(c, SHUT_RDWR);
    atomic_store(&answering, -1);
    close(c);
  }
  return NULL;
}

/* Wakes the thread's poll by asking it, as a client would: its socket
 * keeps its name while the thread polls it, even if the program closed
 * the descriptor. */
static void wake(void) {
  struct sockaddr_un a;
  socklen_t len = al_live_address(getpid(), &a);
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

  if (fd < 0)
    return;
  (void)connect(fd, (struct sockaddr *)&a, len);
  close(fd);
}

/* The socket, bound and listening, moved high; -1 when it cannot be. */
static int make_socket(void) {
  struct sockaddr_un a;
  socklen_t len = al_live_address(getpid(), &a);
  struct stat st;
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

  if (fd < 0)
    return -1;
  if (bind(fd, (struct sockaddr *)&a, len) != 0 || listen(fd, 4) != 0 ||
      (fd = al_fd_move_high(fd, 4)) < 0 || fstat(fd, &st) != 0) {
    if (fd >= 0)
      close(fd);
    return -1;
  }
  listen_ino = st.st_ino;
  return fd;
}

void al_live_start(void) {
  int saved, expected = LIVE_NONE, fd;
  sigset_t all, old;
  pthread_attr_t attr;

  if (AL_LIKELY(atomic_load_explicit(&state, memory_order_relaxed) !=
                LIVE_NONE))
    return;
  saved = errno;
  pthread_mutex_lock(&life);
  if (!atomic_compare_exchange_strong(&state, &expected, LIVE_ON) ||
      !al_opt.live || al_ending_sealed())
    goto out;
  fd = make_socket();
  /* Another process at this name (a squatter), or no sockets: ps says
   * the process does not answer. */
  if (fd < 0)
    goto out;
  atomic_store(&listen_fd, fd);
  /* Born with every signal blocked: no signal of the program's is ever
   * delivered to it. */
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  pthread_attr_init(&attr);
  pthread_attr_setstacksize(&attr, 1 << 20);
  atomic_store(&busy, 1); /* until it first waits for a question */
  if (pthread_create(&thread, &attr, serve, (void *)(intptr_t)fd) == 0) {
    atomic_store(&has_thread, 1);
    pthread_setname_np(thread, "asyncleak-live");
  } else {
    atomic_store(&busy, 0);
    atomic_store(&listen_fd, -1);
    close(fd);
  }
  pthread_attr_destroy(&attr);
  pthread_sigmask(SIG_SETMASK, &old, NULL);
out:
  pthread_mutex_unlock(&life);
  errno = saved;
}

void al_live_stop(void) {
  struct timespec until;
  int saved = errno, fd, joined = 0;

  pthread_mutex_lock(&life);
  if (atomic_exchange(&state, LIVE_STOPPED) != LIVE_ON)
    goto out;
  fd = atomic_exchange(&listen_fd, -1);
  if (atomic_exchange(&has_thread, 0) &&
      !pthread_equal(thread, pthread_self())) {
    wake();
    /* Bounded: an answer in progress takes at most its client's
     * timeouts. A thread still answering after that is left to end by
     * itself: it makes no new call but the answer's. */
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 2 * CLIENT_TIMEOUT_S + 1;
    joined = pthread_timedjoin_np(thread, NULL, &until) == 0;
  } else {
    joined = 1;
  }
  if (joined && fd >= 0 && still_ours(fd))
    close(fd);
out:
  pthread_mutex_unlock(&life);
  errno = saved;
}

/* ------------------------------------------------ single-threaded calls */

/* A process may enter a new user namespace only while it has one thread
 * (unshare(2), setns(2): EINVAL otherwise). The thread ends first, for
 * good, so that a program that had none of its own gets what it would
 * bare. */
typedef int unshare_fn(int);
typedef int setns_fn(int, int);
static unshare_fn *real_unshare;
static setns_fn *real_setns;

void al_live_single_threaded(long call, long flags) {
  /* unshare: a user namespace, or what only one thread may unshare.
   * setns: a user or mount namespace; 0, any kind, those among them. */
  if ((call == AL_CALL_UNSHARE &&
       (flags & (CLONE_NEWUSER | CLONE_THREAD | CLONE_SIGHAND | CLONE_VM))) ||
      (call == AL_CALL_SETNS &&
       (flags == 0 || (flags & (CLONE_NEWUSER | CLONE_NEWNS)))))
    al_live_stop();
}

AL_EXPORT int unshare(int flags) {
  if (real_unshare == NULL)
    real_unshare = (unshare_fn *)dlsym(RTLD_NEXT, "unshare");
  if (real_unshare == NULL) {
    errno = ENOSYS;
    return -1;
  }
  al_live_single_threaded(AL_CALL_UNSHARE, flags);
  return real_unshare(flags);
}

AL_EXPORT int setns(int fd, int nstype) {
  if (real_setns == NULL)
    real_setns = (setns_fn *)dlsym(RTLD_NEXT, "setns");
  if (real_setns == NULL) {
    errno = ENOSYS;
    return -1;
  }
  al_live_single_threaded(AL_CALL_SETNS, nstype);
  return real_setns(fd, nstype);
}

/* The child has no such thread, and its copy of the socket is the
 * parent's: closed, or it would keep the parent's name and take its
 * questions. System calls only. */
static void live_atfork_child(void) {
  int fd = atomic_exchange(&listen_fd, -1), c = atomic_exchange(&answering,
                                                                 -1);

  if (fd >= 0 && still_ours(fd))
    close(fd);
  if (c >= 0)
    close(c);
  atomic_store(&has_thread, 0);
  /* The parent's may have held it: the child's own is free. */
  life = (pthread_mutex_t)PTHREAD_MUTEX_INITIALIZER;
  if (atomic_load(&state) == LIVE_ON)
    atomic_store(&state, LIVE_NONE);
}

__attribute__((constructor)) static void live_init(void) {
  real_unshare = (unshare_fn *)dlsym(RTLD_NEXT, "unshare");
  real_setns = (setns_fn *)dlsym(RTLD_NEXT, "setns");
  al_on_fork_child(live_atfork_child);
}

void al_live_quiesce(unsigned budget_ms) {
  const struct timespec step = {0, 1000000};

  atomic_store(&quiet_asked, 1);
  for (unsigned ms = 0; ms < budget_ms && atomic_load(&busy); ms++)
    nanosleep(&step, NULL);
}
