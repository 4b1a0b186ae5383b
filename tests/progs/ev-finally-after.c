/* Teardown in dependency order on a libevent base: three services
 * registered in the order they started (stop_http, flush_db, close_pool)
 * tell a peer, a socket the program reads at the end, what they do.
 * A libevent event is a handle, which a drain does not wait for unless
 * asked: each service's work is a one-shot event the shutdown is asked to
 * wait for (asyncleak_shutdown_waits_for), stop_http's due in 100 ms and
 * saying "http stopped", flush_db's in 20 ms saying "flushed". flush_db
 * follows stop_http and close_pool follows flush_db. The shutdown is
 * event_base_free's.
 *
 * Default: each starts once the work of the one it follows is done, as
 * the peer sees; the report (verbosity=1) lists them and their work.
 * [none]: the negative control without orders, newest first. [stuck]:
 * stop_http's event is 10 s away, past drain_timeout_ms: flush_db and
 * close_pool run at the deadline, and the report says what held them;
 * flush_db's too, which ran late: both events are still added when the
 * base is freed, and reported.
 *
 * ENV: ASYNCLEAK_OPTIONS=verbosity=1
 * CHECK: ^order: 0 0$
 * CHECK: ^event_base_free returned$
 * CHECK: ^peer: stop_http: stopping$
 * CHECK: ^peer: stop_http: http stopped$
 * CHECK: ^peer: flush_db: flushing$
 * CHECK: ^peer: flush_db: flushed$
 * CHECK: ^peer: close_pool: closing$
 * CHECK: ^    finalizers run: stop_http, flush_db, close_pool$
 * CHECK: ^    their work took: stop_http ([5-9][0-9]|[1-9][0-9][0-9]+) ms, flush_db [1-9][0-9]* ms, close_pool [0-9]+ ms$
 * CHECK-NOT: ran at the deadline
 * CHECK-NOT: ERROR
 * CHECK: ^asyncleak: no leaks: 1 loop\(s\)
 * EXIT: 0
 *
 * [none] RUN: none
 * [none] ENV: ASYNCLEAK_OPTIONS=verbosity=1
 * [none] CHECK: ^peer: close_pool: closing$
 * [none] CHECK: ^peer: flush_db: flushing$
 * [none] CHECK: ^peer: stop_http: stopping$
 * [none] CHECK: ^peer: flush_db: flushed$
 * [none] CHECK: ^peer: stop_http: http stopped$
 * [none] CHECK: ^    finalizers run: close_pool, flush_db, stop_http$
 * [none] CHECK-NOT: ERROR
 * [none] EXIT: 0
 *
 * [stuck] RUN: stuck
 * [stuck] ENV: ASYNCLEAK_OPTIONS=verbosity=1:drain_timeout_ms=300
 * [stuck] CHECK: ^peer: stop_http: stopping$
 * [stuck] CHECK: ^peer: flush_db: flushing$
 * [stuck] CHECK: ^peer: close_pool: closing$
 * [stuck] CHECK-NOT: http stopped
 * [stuck] CHECK: ERROR: asyncleak: 2 handles left open at exit
 * [stuck] CHECK: ^1 handle of type event \(added when its base was freed\), created at:$
 * [stuck] CHECK: #0 0x[0-9a-f]+ in main .*ev-finally-after.c:%line(event)$
 * [stuck] CHECK: #0 0x[0-9a-f]+ in flush_db .*ev-finally-after.c:%line(flushed)$
 * [stuck] CHECK: ^    finalizers run: stop_http, flush_db, close_pool$
 * [stuck] CHECK: ^    their work took: stop_http \(not done\), flush_db \(not done\), close_pool [0-9]+ ms$
 * [stuck] CHECK: ^    flush_db ran at the deadline: the work of stop_http, which it is to follow, was not done$
 * [stuck] CHECK: ^    close_pool ran at the deadline: the work of flush_db, which it is to follow, was not done$
 * [stuck] EXIT: 23
 */
#include <event2/event.h>
#include <event2/event_struct.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "asyncleak.h"

static int peer[2];
static struct event http_stopped, flushed;
static long http_ms = 100;

static void tell(const char *text) {
  char line[64];
  int n = snprintf(line, sizeof(line), "%s\n", text);

  if (write(peer[0], line, (size_t)n) != n)
    perror("write");
}

static void on_http_stopped(evutil_socket_t fd, short what, void *arg) {
  (void)fd;
  (void)what;
  (void)arg;
  tell("stop_http: http stopped");
}

static void on_flushed(evutil_socket_t fd, short what, void *arg) {
  (void)fd;
  (void)what;
  (void)arg;
  tell("flush_db: flushed");
}

static void stop_http(void *base, void *arg) {
  struct timeval tv = {http_ms / 1000, (http_ms % 1000) * 1000};
  (void)arg;
  tell("stop_http: stopping");
  event_add(&http_stopped, &tv);
  asyncleak_shutdown_waits_for(base, &http_stopped);
}

static void flush_db(void *base, void *arg) {
  struct timeval tv = {0, 20000};
  (void)arg;
  tell("flush_db: flushing");
  event_assign(&flushed, base, -1, 0, on_flushed, NULL); /* @flushed */
  event_add(&flushed, &tv);
  asyncleak_shutdown_waits_for(base, &flushed);
}

static void close_pool(void *base, void *arg) {
  (void)base;
  (void)arg;
  tell("close_pool: closing");
}

int main(int argc, char **argv) {
  const char *mode = argc > 1 ? argv[1] : "";
  struct event_base *base;
  char got[512];
  ssize_t n;

  setvbuf(stdout, NULL, _IOLBF, 0);
  if (socketpair(AF_UNIX, SOCK_STREAM, 0, peer) != 0 ||
      (base = event_base_new()) == NULL)
    return 2;
  if (strcmp(mode, "stuck") == 0)
    http_ms = 10000;
  event_assign(&http_stopped, base, -1, 0, on_http_stopped, NULL); /* @event */
  asyncleak_run_finally(base, stop_http, NULL);
  asyncleak_run_finally(base, flush_db, NULL);
  asyncleak_run_finally(base, close_pool, NULL);
  if (strcmp(mode, "none") != 0)
    printf("order: %d %d\n",
           asyncleak_finally_after(base, flush_db, NULL, stop_http, NULL),
           asyncleak_finally_after(base, close_pool, NULL, flush_db, NULL));
  event_base_free(base);
  printf("event_base_free returned\n");
  while ((n = recv(peer[1], got, sizeof(got) - 1, MSG_DONTWAIT)) > 0) {
    char *line, *save = NULL;
    got[n] = '\0';
    for (line = strtok_r(got, "\n", &save); line != NULL;
         line = strtok_r(NULL, "\n", &save))
      printf("peer: %s\n", line);
  }
  return 0;
}
