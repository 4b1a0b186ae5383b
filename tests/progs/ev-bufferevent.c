/* bufferevents left behind: one on a socket, a pair, and a filter that
 * owns the socket bufferevent under it (BEV_OPT_CLOSE_ON_FREE). Each is
 * reported once, as a bufferevent: not the events libevent made for it,
 * nor the bufferevent the filter owns. One freed by the program is not
 * reported, nor one whose last reference it gives up (bufferevent_decref).
 * Its argument: leak (the default), clean or base-free.
 *
 * CHECK: ==[0-9]+==ERROR: asyncleak: 4 handles left open at exit$
 * CHECK: ^2 handles of type bufferevent, created at:$
 * CHECK: #0 0x[0-9a-f]+ in main .*ev-bufferevent.c:%line(pair)$
 * CHECK-COUNT-2: on loop 1, thread [0-9]+ \(main\), not freed, pair, enabled: write$
 * CHECK: ^1 handle of type bufferevent, created at:$
 * CHECK: #0 0x[0-9a-f]+ in main .*ev-bufferevent.c:%line(socket)$
 * CHECK: on loop 1, thread [0-9]+ \(main\), not freed, socket, enabled: read write, fd [0-9]+$
 * CHECK: ^1 handle of type bufferevent, created at:$
 * CHECK: #0 0x[0-9a-f]+ in main .*ev-bufferevent.c:%line(filter)$
 * CHECK: on loop 1, thread [0-9]+ \(main\), not freed, filter, enabled: write$
 * CHECK: ^SUMMARY: asyncleak: 4 handles left open \(4 bufferevent\) from 3 creation sites; 1 of 1 loop not closed$
 * CHECK-NOT: ev-bufferevent.c:%line(under)$
 * CHECK-NOT: ev-bufferevent.c:%line(freed)$
 * CHECK-NOT: of type event
 * EXIT: 23
 *
 * [clean] RUN: clean
 * [clean] CHECK: ^read 'ping'$
 * [clean] CHECK-NOT: ERROR
 * [clean] CHECK: ^asyncleak: no leaks: 1 loop\(s\), 6 handle\(s\) created, all closed$
 * [clean] EXIT: 0
 *
 * The base freed under them: they stay reported, not freed, and the base
 * is listed as freed with them on it.
 * [base-free] RUN: base-free
 * [base-free] CHECK: ==[0-9]+==ERROR: asyncleak: 4 handles left open at exit$
 * [base-free] CHECK: ^Loops \(libevent\): 1 seen, 1 closed, 1 freed with what was on it:$
 * [base-free] CHECK: ^SUMMARY: asyncleak: 4 handles left open \(4 bufferevent\) from 3 creation sites$
 * [base-free] CHECK-NOT: of type event
 * [base-free] EXIT: 23
 *
 * --force-close at exit leaves everything to the program (and would leave
 * bufferevents alone anyway: their memory is the program's, which may
 * still free it; see ev-dns.c's evdns_base). They stay reported, still
 * open.
 * [force] CLI: --force-close
 * [force] CHECK: ==[0-9]+==ERROR: asyncleak: 4 handles left open at exit$
 * [force] CHECK: ^Force mode left these to the program
 * [force] CHECK-NOT: closed by force
 * [force] EXIT: 23
 */
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

static void on_read(struct bufferevent *bev, void *arg) {
  char text[16];
  size_t n = bufferevent_read(bev, text, sizeof(text) - 1);

  text[n] = '\0';
  printf("read '%s'\n", text);
  event_base_loopbreak(arg);
}

static enum bufferevent_filter_result pass(struct evbuffer *src,
                                           struct evbuffer *dst,
                                           ev_ssize_t limit,
                                           enum bufferevent_flush_mode mode,
                                           void *ctx) {
  (void)limit;
  (void)mode;
  (void)ctx;
  evbuffer_add_buffer(dst, src);
  return BEV_OK;
}

int main(int argc, char **argv) {
  const char *mode = argc > 1 ? argv[1] : "leak";
  int clean = strcmp(mode, "clean") == 0;
  struct event_base *base = event_base_new();
  struct bufferevent *reader, *writer, *pair[2], *under, *filter;
  int fds[2], more[2];

  if (base == NULL || socketpair(AF_UNIX, SOCK_STREAM, 0, fds) != 0 ||
      socketpair(AF_UNIX, SOCK_STREAM, 0, more) != 0)
    return 1;
  reader = bufferevent_socket_new(base, fds[0], BEV_OPT_CLOSE_ON_FREE); /* @socket */
  writer = bufferevent_socket_new(base, fds[1], BEV_OPT_CLOSE_ON_FREE); /* @freed */
  if (bufferevent_pair_new(base, 0, pair) != 0) /* @pair */
    return 1;
  under = bufferevent_socket_new(base, more[0], BEV_OPT_CLOSE_ON_FREE); /* @under */
  filter = bufferevent_filter_new(under, pass, pass, BEV_OPT_CLOSE_ON_FREE, /* @filter */
                                  NULL, NULL);
  if (!reader || !writer || !under || !filter)
    return 1;
  bufferevent_setcb(reader, on_read, NULL, NULL, base);
  bufferevent_enable(reader, EV_READ);
  bufferevent_write(writer, "ping", 4);
  event_base_dispatch(base);
  fflush(stdout);
  bufferevent_decref(writer); /* its last reference: freed */
  if (clean) {
    bufferevent_free(reader);
    bufferevent_free(pair[0]);
    bufferevent_free(pair[1]);
    bufferevent_free(filter); /* and under with it */
  }
  if (clean || strcmp(mode, "base-free") == 0)
    event_base_free(base);
  return 0;
}
