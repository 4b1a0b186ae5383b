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
 * under a seccomp filter, the thread ends (al_live_stop), for good. */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
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
static ino_t listen_ino;
static pthread_t thread;
static atomic_int has_thread;

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

/* Whether the peer may see what this process holds: its own user, or
 * root, as for /proc/PID/maps. */
static int may_ask(int fd) {
  struct ucred cred;
  socklen_t len = sizeof(cred);

  if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0)
    return 0;
  return cred.uid == 0 || cred.uid == geteuid() || cred.uid == getuid();
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
  struct timeval t = {CLIENT_TIMEOUT_S, 0};
  struct al_buf out = {0};
  char req[64];

  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &t, sizeof(t));
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &t, sizeof(t));
  /* The question is read first, also from one refused: closing with it
   * unread would reset the connection before the refusal is read. */
  if (read_request(fd, req, sizeof(req)) != 0)
    return;
  if (!may_ask(fd)) {
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

  for (;;) {
    struct pollfd p = {fd, POLLIN, 0};
    int c;

    if (poll(&p, 1, -1) < 0) {
      if (errno == EINTR)
        continue;
      break;
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
    answer(c);
    close(c);
  }
  return NULL;
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
  if (!atomic_compare_exchange_strong(&state, &expected, LIVE_ON))
    return;
  if (!al_opt.live || al_ending_sealed())
    return;
  saved = errno;
  fd = make_socket();
  if (fd < 0) {
    /* Another process at this name (a squatter), or no sockets: ps says
     * the process does not answer. */
    errno = saved;
    return;
  }
  atomic_store(&listen_fd, fd);
  /* Born with every signal blocked: no signal of the program's is ever
   * delivered to it. */
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  pthread_attr_init(&attr);
  pthread_attr_setstacksize(&attr, 1 << 20);
  if (pthread_create(&thread, &attr, serve, (void *)(intptr_t)fd) == 0) {
    atomic_store(&has_thread, 1);
    pthread_setname_np(thread, "asyncleak-live");
  } else {
    atomic_store(&listen_fd, -1);
    close(fd);
  }
  pthread_attr_destroy(&attr);
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  errno = saved;
}

void al_live_stop(void) {
  int saved = errno, fd;

  if (atomic_exchange(&state, LIVE_STOPPED) != LIVE_ON)
    return;
  fd = atomic_exchange(&listen_fd, -1);
  if (fd >= 0 && still_ours(fd))
    shutdown(fd, SHUT_RDWR); /* wakes its poll */
  if (atomic_exchange(&has_thread, 0) && !pthread_equal(thread,
                                                        pthread_self()))
    pthread_join(thread, NULL);
  if (fd >= 0 && still_ours(fd))
    close(fd);
  errno = saved;
}

/* The child has no such thread, and its copy of the socket is the
 * parent's: closed, or it would keep the parent's name and take its
 * questions. System calls only. */
static void live_atfork_child(void) {
  int fd = atomic_exchange(&listen_fd, -1);

  if (fd >= 0)
    close(fd);
  atomic_store(&has_thread, 0);
  if (atomic_load(&state) == LIVE_ON)
    atomic_store(&state, LIVE_NONE);
}

__attribute__((constructor)) static void live_init(void) {
  al_on_fork_child(live_atfork_child);
}
