/* echo-server: a libuv TCP echo server for benchmarks, and a program that
 * must leave nothing behind. Accepts NCONN connections on 127.0.0.1 (the
 * port is chosen by the kernel and printed as "port=N"), echoes what each
 * sends, and once all of them have closed, closes every handle and the
 * loop and exits 0: asyncleak must find nothing to report.
 *
 * Exits 1 on an error while serving, 2 on a setup error, 3 when the clients
 * have not finished after 60 s, so that it never hangs a benchmark run. */
#include <arpa/inet.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <uv.h>

#define MAX_CONNS 1024
#define BUF_SIZE 65536
#define DEADLINE_MS 60000

/* The handle comes first so that a handle pointer is a conn pointer. */
struct conn {
  uv_tcp_t tcp;
  int counted; /* one of the NCONN; not a surplus connection hung up on */
  char buf[BUF_SIZE];
};

/* A write owns a copy of the bytes: the connection's buffer is reused by
 * the next read while the write may still be queued. */
struct echo {
  uv_write_t req;
  char data[];
};

static uv_loop_t loop;
static uv_tcp_t listener;
static uv_timer_t deadline;
static long nconn;
static long accepted;
static long closed;
static int stopping;
static int exit_status;

static void on_conn_close(uv_handle_t *h);

static void close_handle(uv_handle_t *h, void *arg) {
  (void)arg;
  if (uv_is_closing(h))
    return;
  if (h == (uv_handle_t *)&listener || h == (uv_handle_t *)&deadline)
    uv_close(h, NULL);
  else
    uv_close(h, on_conn_close);
}

/* Closing every handle lets uv_run return, and the loop then closes. */
static void shut_down(int status) {
  if (stopping)
    return;
  stopping = 1;
  exit_status = status;
  uv_walk(&loop, close_handle, NULL);
}

static void fail(const char *what, int err) {
  fprintf(stderr, "echo-server: %s: %s\n", what, uv_strerror(err));
  shut_down(1);
}

static void on_conn_close(uv_handle_t *h) {
  struct conn *c = (struct conn *)h;

  if (c->counted && ++closed == nconn)
    shut_down(0);
  free(c);
}

static void close_conn(uv_stream_t *s) {
  if (!uv_is_closing((uv_handle_t *)s))
    uv_close((uv_handle_t *)s, on_conn_close);
}

/* A failed write means the client went away: its connection is done.
 * UV_ECANCELED comes from writes still queued when we closed it. */
static void on_write(uv_write_t *req, int status) {
  if (status < 0 && status != UV_ECANCELED)
    close_conn(req->handle);
  free(req);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf) {
  struct conn *c = (struct conn *)h;

  (void)suggested;
  *buf = uv_buf_init(c->buf, sizeof(c->buf));
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf) {
  struct echo *e;
  uv_buf_t out;

  if (nread < 0) {
    close_conn(s);
    return;
  }
  if (nread == 0)
    return;
  e = malloc(sizeof(*e) + nread);
  if (e == NULL) {
    fprintf(stderr, "echo-server: out of memory\n");
    shut_down(1);
    return;
  }
  memcpy(e->data, buf->base, nread);
  out = uv_buf_init(e->data, nread);
  if (uv_write(&e->req, s, &out, 1, on_write) != 0) {
    free(e);
    close_conn(s);
  }
}

static void on_connection(uv_stream_t *server, int status) {
  struct conn *c;
  int err;

  if (status < 0) {
    fail("listen", status);
    return;
  }
  c = malloc(sizeof(*c));
  if (c == NULL) {
    fprintf(stderr, "echo-server: out of memory\n");
    shut_down(1);
    return;
  }
  c->counted = 0;
  uv_tcp_init(server->loop, &c->tcp);
  err = uv_accept(server, (uv_stream_t *)&c->tcp);
  if (err != 0) {
    uv_close((uv_handle_t *)&c->tcp, on_conn_close);
    fail("accept", err);
    return;
  }
  /* Beyond NCONN a client is hung up on, so that it cannot keep us up. */
  if (accepted == nconn) {
    uv_close((uv_handle_t *)&c->tcp, on_conn_close);
    return;
  }
  c->counted = 1;
  accepted++;
  err = uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
  if (err != 0) {
    uv_close((uv_handle_t *)&c->tcp, on_conn_close);
    fail("read", err);
  }
}

static void on_deadline(uv_timer_t *t) {
  (void)t;
  fprintf(stderr,
          "echo-server: clients not finished after %d s "
          "(%ld of %ld accepted, %ld closed)\n",
          DEADLINE_MS / 1000, accepted, nconn, closed);
  shut_down(3);
}

/* The usual soft limit of 1024 descriptors is too few for 1024
 * connections; if raising it fails, accept says so. */
static void raise_fd_limit(void) {
  struct rlimit rl;

  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
}

static int setup_error(const char *what, int err) {
  fprintf(stderr, "echo-server: %s: %s\n", what, uv_strerror(err));
  return 2;
}

int main(int argc, char **argv) {
  struct sockaddr_in addr;
  int len = sizeof(addr);
  char *end;
  int err;

  if (argc != 2) {
    fprintf(stderr, "usage: echo-server NCONN\n");
    return 2;
  }
  errno = 0;
  nconn = strtol(argv[1], &end, 10);
  if (errno != 0 || end == argv[1] || *end != '\0' || nconn < 1 ||
      nconn > MAX_CONNS) {
    fprintf(stderr, "echo-server: NCONN must be an integer from 1 to %d, "
                    "got '%s'\n", MAX_CONNS, argv[1]);
    return 2;
  }
  /* A client that resets while its echo is queued must cost an EPIPE on
   * that connection, not the process. */
  signal(SIGPIPE, SIG_IGN);
  raise_fd_limit();

  if ((err = uv_loop_init(&loop)) != 0)
    return setup_error("loop", err);
  uv_tcp_init(&loop, &listener);
  uv_ip4_addr("127.0.0.1", 0, &addr);
  if ((err = uv_tcp_bind(&listener, (const struct sockaddr *)&addr, 0)) != 0)
    return setup_error("bind", err);
  if ((err = uv_listen((uv_stream_t *)&listener, 128, on_connection)) != 0)
    return setup_error("listen", err);
  err = uv_tcp_getsockname(&listener, (struct sockaddr *)&addr, &len);
  if (err != 0)
    return setup_error("getsockname", err);
  /* Unreferenced: the listener alone decides whether the loop is alive. */
  uv_timer_init(&loop, &deadline);
  uv_timer_start(&deadline, on_deadline, DEADLINE_MS, 0);
  uv_unref((uv_handle_t *)&deadline);

  printf("port=%d\n", ntohs(addr.sin_port));
  if (fflush(stdout) != 0) {
    fprintf(stderr, "echo-server: stdout: %s\n", strerror(errno));
    return 2;
  }

  uv_run(&loop, UV_RUN_DEFAULT);
  err = uv_loop_close(&loop);
  if (err != 0) {
    fprintf(stderr, "echo-server: loop close: %s\n", uv_strerror(err));
    return 1;
  }
  return exit_status;
}
