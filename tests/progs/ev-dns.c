/* evdns lookups left pending. The program is its own resolver: a UDP
 * socket on 127.0.0.1, watched by an event of its own, is the only
 * nameserver of its evdns_base. It looks up one name with
 * evdns_base_resolve_ipv4 and one with evdns_getaddrinfo. RUN: MODE, one
 * of pending (the default), answered, cancel, dns-free, numeric and
 * signal (as pending, but the program raises SIGTERM in its loop once
 * both queries arrived).
 *
 * pending: the server drops the queries; once both have arrived the
 * program exits without freeing its evdns_base or its base: both lookups
 * are reported pending, with their calls, and the evdns_base as open.
 * evdns's own events are not reported.
 * CHECK-COUNT-1: ^server: query for example\.test, dropped$
 * CHECK-COUNT-1: ^server: query for other\.test, dropped$
 * CHECK: ==[0-9]+==ERROR: asyncleak: 1 handle left open at exit$
 * CHECK: ==[0-9]+==ERROR: asyncleak: 2 requests pending at exit$
 * CHECK: ^1 handle of type evdns_base, created at:$
 * CHECK: ^    #0 0x[0-9a-f]+ in main .*ev-dns.c:%line(dnsbase)$
 * CHECK: ^  0x[0-9a-f]+ on loop 1, thread [0-9]+ \(main\), not freed$
 * CHECK: ^1 request of type evdns request pending, created at:$
 * CHECK: ^    #0 0x[0-9a-f]+ in main .*ev-dns.c:%line(resolve)$
 * CHECK: ^  0x[0-9a-f]+ on loop 1, thread [0-9]+ \(main\), pending for [0-9.]+ m?s: evdns_base_resolve_ipv4 'example\.test'$
 * CHECK: ^1 request of type evdns_getaddrinfo request pending, created at:$
 * CHECK: ^    #0 0x[0-9a-f]+ in main .*ev-dns.c:%line(gai)$
 * CHECK: ^  0x[0-9a-f]+ on loop 1, thread [0-9]+ \(main\), pending for [0-9.]+ m?s: evdns_getaddrinfo 'other\.test'$
 * CHECK: ^Loops \(libevent\): 1 seen, 0 closed, 1 not closed:$
 * CHECK: ^  loop 1 \(libevent 0x[0-9a-f]+\) created in main .*ev-dns.c:%line(base) by thread [0-9]+ \(main\): never closed$
 * CHECK: ^SUMMARY: asyncleak: 1 handle left open \(1 evdns_base\) from 1 creation site; 2 requests pending \(1 evdns request, 1 evdns_getaddrinfo request\) from 2 creation sites; 1 of 1 loop not closed$
 * CHECK-COUNT-1: handle of type
 * CHECK-COUNT-2: request of type
 * CHECK-NOT: ^resolve:|^getaddrinfo:|deadline
 * EXIT: 23
 *
 * [answered]: the server answers each query with 127.0.0.2; each callback
 * runs once with it, and the program frees everything.
 * [answered] RUN: answered
 * [answered] CHECK-COUNT-1: ^resolve: result 0, type 1, 1 address 127\.0\.0\.2, ttl 60$
 * [answered] CHECK-COUNT-1: ^getaddrinfo: result 0, 127\.0\.0\.2$
 * [answered] CHECK: ^freed$
 * [answered] CHECK-NOT: ERROR
 * [answered] CHECK-NOT: deadline
 * [answered] CHECK: ^asyncleak: no leaks: 1 loop\(s\), [0-9]+ handle\(s\) created, all closed; 2 request\(s\), all completed$
 * [answered] EXIT: 0
 *
 * [cancel]: the queries arrive, unanswered; the program cancels both
 * lookups, whose callbacks each run once with the cancel error, and frees
 * everything.
 * [cancel] RUN: cancel
 * [cancel] CHECK-COUNT-1: ^resolve: result 69, type 0, 0 addresses$
 * [cancel] CHECK-COUNT-1: ^getaddrinfo: result -90001, no address$
 * [cancel] CHECK: ^freed$
 * [cancel] CHECK-NOT: ERROR
 * [cancel] CHECK-NOT: deadline
 * [cancel] CHECK: ^asyncleak: no leaks: 1 loop\(s\), [0-9]+ handle\(s\) created, all closed; 2 request\(s\), all completed$
 * [cancel] EXIT: 0
 *
 * [force]: --force-close with --graceful-signals: once both queries
 * arrived, the program raises SIGTERM inside its loop. The base is stopped
 * and shut down with force: the lookups left pending are cancelled, and
 * their callbacks run, cancelled, before the report; the program's two
 * events still added are deleted. The evdns_base is the program's memory:
 * it is not freed, and stays reported. Then SIGTERM ends the program.
 * [force] CLI: --graceful-signals --force-close
 * [force] RUN: signal
 * [force] CHECK-COUNT-1: ^resolve: result 69, type 0, 0 addresses$
 * [force] CHECK-COUNT-1: ^getaddrinfo: result -90001, no address$
 * [force] CHECK: ==[0-9]+==ERROR: asyncleak: 1 handle left open at exit$
 * [force] CHECK: ==[0-9]+==ERROR: asyncleak: 2 handles left open, closed by force at shutdown$
 * [force] CHECK: ==[0-9]+==ERROR: asyncleak: 2 requests left pending, cancelled by force at shutdown$
 * [force] CHECK: ^1 handle of type evdns_base, created at:$
 * [force] CHECK: ^    #0 0x[0-9a-f]+ in main .*ev-dns.c:%line(dnsbase)$
 * [force] CHECK-COUNT-2: ^1 handle of type event \(added\) closed by force at shutdown, created at:$
 * [force] CHECK: ^1 request of type evdns request cancelled by force at shutdown, created at:$
 * [force] CHECK: ^1 request of type evdns_getaddrinfo request cancelled by force at shutdown, created at:$
 * [force] CHECK: ^  loop 1, created in main .*ev-dns.c:%line(base), on a graceful signal:$
 * [force] CHECK: ^    3 handles open when it began: 0 closed by a finalizer, 0 closed by the program, 2 closed by force, 1 still open$
 * [force] CHECK: ^SUMMARY: asyncleak: 1 handle left open \(1 evdns_base\) from 1 creation site; 1 of 1 loop not closed; 2 closed by force; 2 requests cancelled by force$
 * [force] CHECK: was killed by signal 15 \(SIGTERM
 * [force] CHECK-NOT: Force mode left these
 * [force] EXIT: 143
 *
 * [force-exit]: --force-close alone, as in pending: at exit force leaves
 * everything to the program, and says so.
 * [force-exit] CLI: --force-close
 * [force-exit] RUN: pending
 * [force-exit] CHECK: ==[0-9]+==ERROR: asyncleak: 1 handle left open at exit$
 * [force-exit] CHECK: ==[0-9]+==ERROR: asyncleak: 2 requests pending at exit$
 * [force-exit] CHECK: ^Force mode left these to the program
 * [force-exit] CHECK-NOT: ^resolve:|^getaddrinfo:
 * [force-exit] CHECK-NOT: by force
 * [force-exit] EXIT: 23
 *
 * [dns-free]: the queries arrive, unanswered; evdns_base_free(dns, 0)
 * drops the lookups without calling back, as the program asked, and the
 * base is freed: nothing is left.
 * [dns-free] RUN: dns-free
 * [dns-free] CHECK: ^freed$
 * [dns-free] CHECK-NOT: ERROR
 * [dns-free] CHECK-NOT: ^resolve:|^getaddrinfo:|deadline
 * [dns-free] CHECK: ^asyncleak: no leaks: 1 loop\(s\), [0-9]+ handle\(s\) created, all closed; 2 request\(s\), all completed$
 * [dns-free] EXIT: 0
 *
 * [numeric]: evdns_getaddrinfo of a number calls back before it returns,
 * inside asyncleak's interposer: what the program makes in that callback
 * is its own, and reported (an event never freed).
 * [numeric] RUN: numeric
 * [numeric] CHECK: ^numeric: result 0, 127\.0\.0\.3$
 * [numeric] CHECK: ==[0-9]+==ERROR: asyncleak: 1 handle left open at exit$
 * [numeric] CHECK: ^1 handle of type event \(never freed\), created at:$
 * [numeric] CHECK: ^    #0 0x[0-9a-f]+ in on_numeric .*ev-dns.c:%line(in-callback)$
 * [numeric] CHECK: ^SUMMARY: asyncleak: 1 handle left open \(1 event \(never freed\)\) from 1 creation site$
 * [numeric] EXIT: 23
 */
#define _POSIX_C_SOURCE 200809L
#include <arpa/inet.h>
#include <event2/dns.h>
#include <event2/event.h>
#include <event2/util.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static struct event_base *base;
static int answer, queries, callbacks, by_signal;
/* The names looked up; each is its callback's argument. */
static char name_a[] = "example.test", name_gai[] = "other.test";

/* The tiny DNS server: reads a query; answers it with one A record,
 * 127.0.0.2, or drops it. */
static void on_query(evutil_socket_t fd, short what, void *arg) {
  unsigned char msg[512];
  struct sockaddr_in from;
  socklen_t len = sizeof(from);
  ssize_t n = recvfrom(fd, msg, sizeof(msg), 0, (struct sockaddr *)&from, &len);
  static const unsigned char record[] = {
      0xc0, 12,         /* the name: the question's */
      0, 1, 0, 1,       /* type A, class IN */
      0, 0, 0, 60,      /* ttl */
      0, 4, 127, 0, 0, 2};
  char name[256];
  size_t at = 12, out = 0;

  (void)what;
  (void)arg;
  if (n < 12)
    return;
  /* The question: its name, as labels, then its type and class. */
  while (at < (size_t)n && msg[at] != 0 && out + msg[at] + 1 < sizeof(name)) {
    if (out > 0)
      name[out++] = '.';
    memcpy(name + out, msg + at + 1, msg[at]);
    out += msg[at];
    at += msg[at] + 1;
  }
  name[out] = '\0';
  at += 5;
  if (at > (size_t)n || at + sizeof(record) > sizeof(msg))
    return;
  printf("server: query for %s, %s\n", name, answer ? "answered" : "dropped");
  if (++queries == 2 && by_signal)
    raise(SIGTERM);
  else if (queries == 2 && !answer)
    event_base_loopbreak(base);
  if (!answer)
    return;
  msg[2] = 0x80 | (msg[2] & 0x01); /* QR, and RD as asked */
  msg[3] = 0x80;                   /* RA, no error */
  msg[6] = 0, msg[7] = 1;          /* one answer */
  memset(msg + 8, 0, 4);           /* and nothing else */
  memcpy(msg + at, record, sizeof(record));
  sendto(fd, msg, at + sizeof(record), 0, (struct sockaddr *)&from, len);
}

static void on_deadline(evutil_socket_t fd, short what, void *arg) {
  (void)fd;
  (void)what;
  (void)arg;
  printf("deadline passed: %d queries, %d callbacks\n", queries, callbacks);
  exit(2);
}

static void done(void) {
  if (++callbacks == 2)
    event_base_loopbreak(base);
}

static void on_resolve(int result, char type, int count, int ttl,
                       void *addresses, void *arg) {
  char text[INET_ADDRSTRLEN] = "";

  if (count == 1 && type == DNS_IPv4_A)
    inet_ntop(AF_INET, addresses, text, sizeof(text));
  printf("resolve: result %d, type %d, %d address%s%s%s", result, type, count,
         count == 1 ? " " : "es", text, arg == name_a ? "" : " wrong arg");
  if (count > 0)
    printf(", ttl %d", ttl);
  printf("\n");
  done();
}

static void on_addrinfo(int result, struct evutil_addrinfo *res, void *arg) {
  char text[INET_ADDRSTRLEN] = "no address";

  if (res != NULL && res->ai_family == AF_INET)
    inet_ntop(AF_INET, &((struct sockaddr_in *)res->ai_addr)->sin_addr, text,
              sizeof(text));
  printf("getaddrinfo: result %d, %s%s\n", result, text,
         arg == name_gai ? "" : " wrong arg");
  if (res != NULL)
    evutil_freeaddrinfo(res);
  done();
}

static struct event *made_in_callback;

static void on_numeric(int result, struct evutil_addrinfo *res, void *arg) {
  char text[INET_ADDRSTRLEN] = "no address";

  (void)arg;
  if (res != NULL && res->ai_family == AF_INET)
    inet_ntop(AF_INET, &((struct sockaddr_in *)res->ai_addr)->sin_addr, text,
              sizeof(text));
  printf("numeric: result %d, %s\n", result, text);
  if (res != NULL)
    evutil_freeaddrinfo(res);
  made_in_callback = event_new(base, -1, 0, on_deadline, NULL); /* @in-callback */
}

int main(int argc, char **argv) {
  const char *mode = argc > 1 ? argv[1] : "pending";
  struct sockaddr_in sin = {.sin_family = AF_INET};
  socklen_t len = sizeof(sin);
  struct evutil_addrinfo hints = {.ai_family = AF_INET,
                                  .ai_socktype = SOCK_STREAM};
  struct timeval second = {1, 0};
  struct evdns_base *dns;
  struct evdns_request *req;
  struct evdns_getaddrinfo_request *gai;
  struct event *server, *deadline;
  int fd = socket(AF_INET, SOCK_DGRAM, 0);

  setvbuf(stdout, NULL, _IONBF, 0);
  answer = strcmp(mode, "answered") == 0;
  by_signal = strcmp(mode, "signal") == 0;
  sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd < 0 || bind(fd, (struct sockaddr *)&sin, sizeof(sin)) != 0 ||
      getsockname(fd, (struct sockaddr *)&sin, &len) != 0)
    return 1;
  base = event_base_new(); /* @base */
  if (base == NULL)
    return 1;
  server = event_new(base, fd, EV_READ | EV_PERSIST, on_query, NULL);
  deadline = event_new(base, -1, 0, on_deadline, NULL);
  event_add(server, NULL);
  event_add(deadline, &second);

  dns = evdns_base_new(base, 0); /* @dnsbase */
  if (dns == NULL ||
      evdns_base_nameserver_sockaddr_add(dns, (struct sockaddr *)&sin, len,
                                         0) != 0 ||
      evdns_base_set_option(dns, "timeout:", "5") != 0 ||
      evdns_base_set_option(dns, "attempts:", "1") != 0 ||
      evdns_base_set_option(dns, "randomize-case:", "0") != 0)
    return 1;
  if (strcmp(mode, "numeric") == 0) {
    /* Answered before it returns: NULL. */
    if (evdns_getaddrinfo(dns, "127.0.0.3", NULL, &hints, on_numeric, NULL) !=
            NULL ||
        made_in_callback == NULL)
      return 1;
    evdns_base_free(dns, 0);
    event_free(server);
    event_free(deadline);
    close(fd);
    event_base_free(base);
    return 0;
  }
  /* @resolve */ req = evdns_base_resolve_ipv4(dns, name_a, DNS_QUERY_NO_SEARCH,
                                                on_resolve, name_a);
  /* @gai */ gai = evdns_getaddrinfo(dns, name_gai, NULL, &hints, on_addrinfo,
                                     name_gai);
  if (req == NULL || gai == NULL)
    return 1;
  /* Until both queries arrived (silent), or both callbacks ran. */
  event_base_dispatch(base);

  if (strcmp(mode, "cancel") == 0) {
    evdns_cancel_request(dns, req);
    evdns_getaddrinfo_cancel(gai);
    if (callbacks < 2)
      event_base_dispatch(base);
    /* What libevent still has to run, its own. */
    event_base_loop(base, EVLOOP_NONBLOCK);
  }
  event_free(server);
  event_free(deadline);
  close(fd);
  if (strcmp(mode, "pending") == 0)
    return 0;
  evdns_base_free(dns, 0);
  event_base_free(base);
  printf("freed\n");
  return 0;
}
