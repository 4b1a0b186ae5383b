/* A client library, as a library author would write it with asyncleak: it
 * connects to a server on its user's loop and, since the user may never
 * close it, registers a finalizer that says goodbye and closes the
 * connection while the loop is still alive. */
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "asyncleak.h"

struct client {
  uv_tcp_t tcp;
  uv_connect_t connect;
  uv_write_t write;
  int connected;
};

struct client *client_open(uv_loop_t *loop, const struct sockaddr *addr,
                           int with_finalizer);
int client_connected(const struct client *c);

static void on_goodbye_sent(uv_write_t *req, int status) {
  (void)status;
  uv_close((uv_handle_t *)req->handle, NULL);
}

/* Runs as the loop closes: the loop is alive, so the write can go out. */
static void client_goodbye(void *loop, void *arg) {
  struct client *c = arg;
  static char bye[] = "goodbye";
  uv_buf_t buf = uv_buf_init(bye, sizeof(bye) - 1);
  (void)loop;
  if (uv_write(&c->write, (uv_stream_t *)&c->tcp, &buf, 1,
               on_goodbye_sent) != 0)
    uv_close((uv_handle_t *)&c->tcp, NULL);
}

static void on_connect(uv_connect_t *req, int status) {
  struct client *c = req->data;
  c->connected = status == 0;
}

struct client *client_open(uv_loop_t *loop, const struct sockaddr *addr,
                           int with_finalizer) {
  struct client *c = calloc(1, sizeof(*c));
  if (c == NULL || uv_tcp_init(loop, &c->tcp) != 0)
    abort();
  c->connect.data = c;
  if (uv_tcp_connect(&c->connect, &c->tcp, addr, on_connect) != 0)
    abort();
  if (with_finalizer && asyncleak_run_finally(loop, client_goodbye, c) != 0)
    abort();
  return c;
}

int client_connected(const struct client *c) {
  return c->connected;
}
