/* echo-client: the load generator for echo-server. CONNS connections to
 * 127.0.0.1:PORT each do ROUNDS round trips of SIZE bytes, all at once in
 * one thread with poll(2), and every echo is checked against what was
 * sent. Prints the round trips per second, timed from when every
 * connection is up to when every round is done.
 *
 * Plain sockets, not libuv, so that running the server under asyncleak
 * leaves the client as it is. Exits 1 on a failure or after 60 s, 2 on bad
 * arguments. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_CONNS 1024
#define MAX_SIZE 65536
#define MAX_ROUNDS 1000000000L
#define DEADLINE_S 60.0

struct conn {
  int fd;
  long round;
  size_t sent;
  size_t recvd;
  unsigned char *tx; /* this round's bytes, kept to check the echo */
};

static struct conn *conns;
static struct pollfd *pfds;
static int nconns;
static long rounds;
static size_t size;
static long long done;
static double deadline;
static unsigned char rx[MAX_SIZE];

static void die(const char *fmt, ...) {
  va_list ap;

  fputs("echo-client: ", stderr);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
  exit(1);
}

static double now(void) {
  struct timespec ts;

  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

static long parse(const char *s, long min, long max, const char *name) {
  char *end;
  long v;

  errno = 0;
  v = strtol(s, &end, 10);
  if (errno != 0 || end == s || *end != '\0' || v < min || v > max) {
    fprintf(stderr, "echo-client: %s must be an integer from %ld to %ld, "
                    "got '%s'\n", name, min, max, s);
    exit(2);
  }
  return v;
}

/* The usual soft limit of 1024 descriptors is too few for 1024
 * connections; if raising it fails, socket() says so. */
static void raise_fd_limit(void) {
  struct rlimit rl;

  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
}

/* Waits for events on pfds, or dies at the deadline. */
static void wait_events(void) {
  for (;;) {
    double left = deadline - now();
    int n;

    if (left <= 0)
      die("not finished after %.0f s (%lld of %lld round trips done)",
          DEADLINE_S, done, (long long)nconns * rounds);
    n = poll(pfds, nconns, (int)(left * 1000) + 1);
    if (n > 0)
      return;
    if (n < 0 && errno != EINTR)
      die("poll: %s", strerror(errno));
  }
}

/* The bytes differ by connection and by round, so that an echo sent to
 * the wrong connection or repeated from an earlier round is caught. */
static void fill(struct conn *c, int i) {
  for (size_t k = 0; k < size; k++)
    c->tx[k] = (unsigned char)(i * 131u + c->round * 7u + k);
}

static void connect_all(int port) {
  struct sockaddr_in addr;
  int one = 1;
  int pending = 0;

  memset(&addr, 0, sizeof(addr));
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  for (int i = 0; i < nconns; i++) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

    if (fd < 0)
      die("socket: %s", strerror(errno));
    if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) != 0)
      die("TCP_NODELAY: %s", strerror(errno));
    conns[i].fd = fd;
    pfds[i].fd = -1;
    pfds[i].events = POLLOUT;
    if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) == 0)
      continue;
    if (errno != EINPROGRESS)
      die("connection %d: connect: %s", i, strerror(errno));
    pfds[i].fd = fd;
    pending++;
  }
  while (pending > 0) {
    wait_events();
    for (int i = 0; i < nconns; i++) {
      int err;
      socklen_t len = sizeof(err);

      if (pfds[i].fd < 0 || pfds[i].revents == 0)
        continue;
      if (getsockopt(pfds[i].fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
        die("connection %d: SO_ERROR: %s", i, strerror(errno));
      if (err != 0)
        die("connection %d: connect: %s", i, strerror(err));
      pfds[i].fd = -1;
      pending--;
    }
  }
}

static void send_some(int i) {
  struct conn *c = &conns[i];

  while (c->sent < size) {
    ssize_t n = send(c->fd, c->tx + c->sent, size - c->sent, MSG_NOSIGNAL);

    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK)
        break;
      if (errno == EINTR)
        continue;
      die("connection %d: send: %s", i, strerror(errno));
    }
    c->sent += n;
  }
  pfds[i].events = c->sent < size ? POLLIN | POLLOUT : POLLIN;
}

static void start_round(int i) {
  fill(&conns[i], i);
  conns[i].sent = 0;
  conns[i].recvd = 0;
  send_some(i);
}

/* Reads at most what this round still expects. At the end of a round the
 * next one starts at once; its echo cannot be there yet. Returns how many
 * connections finished their last round: 0 or 1. */
static int receive_some(int i) {
  struct conn *c = &conns[i];

  for (;;) {
    ssize_t n = recv(c->fd, rx, size - c->recvd, 0);

    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK)
        return 0;
      if (errno == EINTR)
        continue;
      die("connection %d: recv: %s", i, strerror(errno));
    }
    if (n == 0)
      die("connection %d: server closed the connection in round %ld", i,
          c->round);
    if (memcmp(rx, c->tx + c->recvd, n) != 0)
      die("connection %d: echo differs from what was sent in round %ld", i,
          c->round);
    c->recvd += n;
    if (c->recvd < size)
      continue;
    done++;
    if (++c->round == rounds) {
      pfds[i].fd = -1;
      return 1;
    }
    start_round(i);
    return 0;
  }
}

int main(int argc, char **argv) {
  int port, running;
  double t0, seconds;
  long long total;

  if (argc != 5) {
    fprintf(stderr, "usage: echo-client PORT CONNS ROUNDS SIZE\n");
    return 2;
  }
  port = parse(argv[1], 1, 65535, "PORT");
  nconns = parse(argv[2], 1, MAX_CONNS, "CONNS");
  rounds = parse(argv[3], 1, MAX_ROUNDS, "ROUNDS");
  size = parse(argv[4], 1, MAX_SIZE, "SIZE");
  deadline = now() + DEADLINE_S;
  raise_fd_limit();

  conns = calloc(nconns, sizeof(*conns));
  pfds = calloc(nconns, sizeof(*pfds));
  if (conns == NULL || pfds == NULL)
    die("out of memory");
  for (int i = 0; i < nconns; i++) {
    conns[i].tx = malloc(size);
    if (conns[i].tx == NULL)
      die("out of memory");
  }
  connect_all(port);

  t0 = now();
  for (int i = 0; i < nconns; i++) {
    pfds[i].fd = conns[i].fd;
    start_round(i);
  }
  running = nconns;
  while (running > 0) {
    wait_events();
    for (int i = 0; i < nconns; i++) {
      short ev = pfds[i].revents;

      if (pfds[i].fd < 0 || ev == 0)
        continue;
      if (ev & POLLOUT)
        send_some(i);
      /* An error or hangup shows as a failed or empty recv. */
      if (ev & (POLLIN | POLLERR | POLLHUP | POLLNVAL))
        running -= receive_some(i);
    }
  }
  seconds = now() - t0;

  for (int i = 0; i < nconns; i++) {
    close(conns[i].fd);
    free(conns[i].tx);
  }
  free(conns);
  free(pfds);
  total = (long long)nconns * rounds;
  printf("requests=%lld seconds=%.6f rps=%.0f\n", total, seconds,
         total / seconds);
  return 0;
}
