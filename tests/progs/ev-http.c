/* An evhttp server and its client in one program, on 127.0.0.1: the
 * server answers /fast at once and keeps /slow unanswered. RUN: MODE, one
 * of leak (the default), clean and listener. A timer stops the loop
 * after a second whatever happens; it is always deleted.
 *
 * leak: the client's /fast request is answered, its callback runs and
 * libevent frees it: not reported. The program returns as soon as the
 * server has /slow, freeing nothing: the client's /slow request is still
 * pending, and the evhttp and the evhttp_connection are not freed. What
 * libevent made for them (the server's listener, the connections' own
 * bufferevents and events) is not reported.
 *
 * CHECK: ^fast: 200$
 * CHECK: ^server has /slow$
 * CHECK: ==[0-9]+==ERROR: asyncleak: 2 handles left open at exit$
 * CHECK: ==[0-9]+==ERROR: asyncleak: 1 request pending at exit$
 * CHECK: ^1 handle of type evhttp, created at:$
 * CHECK: #0 0x[0-9a-f]+ in main .*ev-http.c:%line(http)$
 * CHECK: on loop 1, thread [0-9]+ \(main\), not freed$
 * CHECK: ^1 handle of type evhttp_connection, created at:$
 * CHECK: #0 0x[0-9a-f]+ in main .*ev-http.c:%line(connection)$
 * CHECK: on loop 1, thread [0-9]+ \(main\), not freed$
 * CHECK: ^1 request of type evhttp request pending, created at:$
 * CHECK: #0 0x[0-9a-f]+ in main .*ev-http.c:%line(slow-request)$
 * CHECK: on loop 1, thread [0-9]+ \(main\), pending for [0-9]+ ms$
 * CHECK: ^Loops \(libevent\): 1 seen, 0 closed, 1 not closed:$
 * CHECK: ^  loop 1 \(libevent 0x[0-9a-f]+\) created in main .*ev-http.c:%line(base) by thread [0-9]+ \(main\): never closed$
 * CHECK: ^SUMMARY: asyncleak: 2 handles left open \(1 evhttp, 1 evhttp_connection\) from 2 creation sites; 1 request pending \(1 evhttp request\) from 1 creation site; 1 of 1 loop not closed$
 * CHECK-COUNT-1: ^1 request of type
 * CHECK-NOT: ev-http.c:%line(fast-request)$
 * CHECK-NOT: of type (event|bufferevent|evconnlistener)
 * CHECK-NOT: ^slow:
 * CHECK-NOT: timed out
 * EXIT: 23
 *
 * clean: the server answers /slow too, a little later; both callbacks
 * run, and the program frees the connection, the evhttp (and its virtual
 * host with it) and the base.
 * [clean] RUN: clean
 * [clean] CHECK: ^fast: 200$
 * [clean] CHECK: ^server has /slow$
 * [clean] CHECK: ^slow: 200$
 * [clean] CHECK-NOT: ERROR
 * [clean] CHECK-NOT: timed out
 * [clean] CHECK: ^asyncleak: no leaks: 1 loop\(s\), [0-9]+ handle\(s\) created, all closed; 2 request\(s\), all completed$
 * [clean] CHECK-NOT: ev-http.c:%line(vhost)$
 * [clean] EXIT: 0
 *
 * listener: as clean, the server bound to a listener of the program's
 * given to evhttp_bind_listener (evhttp's from then on, freed with it),
 * and another listener never freed: only that one is reported, and the
 * base is freed with its event still on it.
 * [listener] RUN: listener
 * [listener] CHECK: ^fast: 200$
 * [listener] CHECK: ^slow: 200$
 * [listener] CHECK: ==[0-9]+==ERROR: asyncleak: 1 handle left open at exit$
 * [listener] CHECK: ^1 handle of type evconnlistener, created at:$
 * [listener] CHECK: #0 0x[0-9a-f]+ in main .*ev-http.c:%line(listener)$
 * [listener] CHECK: on loop 1, thread [0-9]+ \(main\), not freed$
 * [listener] CHECK: ^Loops \(libevent\): 1 seen, 1 closed, 1 freed with what was on it:$
 * [listener] CHECK: ^  loop 1 .* freed with what is listed above still on it$
 * [listener] CHECK: ^SUMMARY: asyncleak: 1 handle left open \(1 evconnlistener\) from 1 creation site$
 * [listener] CHECK-NOT: ev-http.c:%line(handed)$
 * [listener] CHECK-NOT: of type (evhttp|event|bufferevent)
 * [listener] CHECK-NOT: timed out
 * [listener] EXIT: 23
 */
#include <arpa/inet.h>
#include <event2/event.h>
#include <event2/event_struct.h>
#include <event2/http.h>
#include <event2/listener.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

static struct event_base *base;
static struct evhttp_request *slow; /* the server's, kept unanswered */
static struct event answer, guard;
static int leak;

/* The server. */
static void on_answer(evutil_socket_t fd, short what, void *arg) {
  (void)fd;
  (void)what;
  (void)arg;
  evhttp_send_reply(slow, 200, "OK", NULL);
  slow = NULL;
}

static void on_request(struct evhttp_request *req, void *arg) {
  const char *path = evhttp_request_get_uri(req);
  struct timeval later = {0, 20000};
  (void)arg;
  if (strcmp(path, "/fast") == 0) {
    evhttp_send_reply(req, 200, "OK", NULL);
    return;
  }
  slow = req;
  printf("server has /slow\n");
  if (leak)
    event_base_loopbreak(base);
  else
    event_add(&answer, &later);
}

/* The client. */
static void on_response(struct evhttp_request *req, void *arg) {
  printf("%s: %d\n", (const char *)arg,
         req ? evhttp_request_get_response_code(req) : -1);
  if (strcmp(arg, "slow") == 0)
    event_base_loopbreak(base);
}

static void on_guard(evutil_socket_t fd, short what, void *arg) {
  (void)fd;
  (void)what;
  (void)arg;
  printf("timed out\n");
  event_base_loopbreak(base);
}

static void on_accept(struct evconnlistener *lev, evutil_socket_t fd,
                      struct sockaddr *sa, int len, void *arg) {
  (void)lev;
  (void)sa;
  (void)len;
  (void)arg;
  evutil_closesocket(fd);
}

/* A client request for path; its callback prints the answer. */
static struct evhttp_request *request(const char *path) {
  struct evhttp_request *req =
      evhttp_request_new(on_response, (void *)(path + 1));
  evhttp_add_header(evhttp_request_get_output_headers(req), "Host",
                    "127.0.0.1");
  return req;
}

int main(int argc, char **argv) {
  const char *mode = argc > 1 ? argv[1] : "leak";
  const char *host = "127.0.0.1";
  int listener = strcmp(mode, "listener") == 0;
  struct sockaddr_in sin;
  socklen_t len = sizeof(sin);
  unsigned flags = LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE;
  struct timeval second = {1, 0};
  struct evhttp *http;
  struct evhttp_connection *conn;
  struct evconnlistener *lev;
  struct evhttp_request *fast, *req;
  evutil_socket_t fd;
  ev_uint16_t port;

  setvbuf(stdout, NULL, _IONBF, 0);
  leak = strcmp(mode, "leak") == 0;
  base = event_base_new(); /* @base */
  if (base == NULL)
    return 1;
  memset(&sin, 0, sizeof(sin));
  sin.sin_family = AF_INET;
  sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  http = evhttp_new(base); /* @http */
  evhttp_set_gencb(http, on_request, NULL);
  /* A virtual host is its parent's, freed with it: never reported. */
  if (evhttp_add_virtual_host(http, "v.test", evhttp_new(base)) != 0) /* @vhost */
    return 1;
  if (listener) {
    struct sockaddr *sa = (struct sockaddr *)&sin;
    /* Never freed. */
    lev = evconnlistener_new_bind(base, on_accept, NULL, flags, /* @listener */
                                  -1, sa, sizeof(sin));
    /* evhttp's, once bound. */
    lev = evconnlistener_new_bind(base, NULL, NULL, flags, /* @handed */
                                  -1, sa, sizeof(sin));
    if (lev == NULL || evhttp_bind_listener(http, lev) == NULL)
      return 1;
    fd = evconnlistener_get_fd(lev);
  } else {
    struct evhttp_bound_socket *bound =
        evhttp_bind_socket_with_handle(http, host, 0);
    if (bound == NULL)
      return 1;
    fd = evhttp_bound_socket_get_fd(bound);
  }
  if (getsockname(fd, (struct sockaddr *)&sin, &len) != 0)
    return 1;
  port = ntohs(sin.sin_port);
  conn = evhttp_connection_base_new(base, NULL, host, port); /* @connection */
  /* Sent one after the other on the connection. */
  fast = request("/fast");
  evhttp_make_request(conn, fast, EVHTTP_REQ_GET, "/fast"); /* @fast-request */
  req = request("/slow");
  evhttp_make_request(conn, req, EVHTTP_REQ_GET, "/slow"); /* @slow-request */
  evtimer_assign(&answer, base, on_answer, NULL);
  evtimer_assign(&guard, base, on_guard, NULL);
  event_add(&guard, &second);
  event_base_dispatch(base);
  /* The guard is not what this is about. */
  event_del(&guard);
  if (leak)
    return 0;
  evhttp_connection_free(conn);
  evhttp_free(http);
  event_base_free(base);
  return 0;
}
