/* What libevent calls back once: evdns lookups, evhttp requests, and the
 * events of event_base_once.
 *
 * evdns and event_base_once keep the program's callback in libevent's
 * private memory. Each call the program makes is handed a trampoline
 * instead, with a small record of ours as its argument holding the
 * program's callback and argument; the record's address is what is
 * followed. When libevent calls back, the trampoline ends the request and
 * calls the program's callback with the program's argument: the program
 * sees what it would without asyncleak.
 *
 * evhttp frees every request once it is done with it, the program's
 * callback run (or never to run, when its connection is freed), unless
 * the program took it over in its callback (evhttp_request_own): a request
 * is followed from evhttp_make_request until then. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <event2/dns.h>
#include <event2/event.h>
#include <event2/http.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "event-shim.h"

const char *al_ev_req_type_name(unsigned type) {
  switch (type) {
  case R_RESOLVE:
    return "evdns request";
  case R_GETADDRINFO:
    return "evdns_getaddrinfo request";
  case R_HTTP:
    return "evhttp request";
  default:
    return NULL;
  }
}

/* ------------------------------------------------------------- our records */

/* One call the program made, that libevent will call back. */
struct call {
  void *cb;                /* the program's callback */
  void *arg;               /* and its argument */
  uintptr_t base;          /* the event_base it runs on */
  struct evdns_base *dns;  /* evdns: the resolver it was asked of, */
  uint64_t dns_seq;        /* and its record's number */
  _Atomic(void *) handle;  /* what libevent returned, to cancel it */
  atomic_int refs;         /* the call and the callback, each holds one */
  char what[80];           /* evdns: the call, as the report says it */
};

static struct call *call_new(void *cb, void *arg, uintptr_t base) {
  struct call *c = calloc(1, sizeof(*c));

  if (c == NULL)
    return NULL;
  c->cb = cb;
  c->arg = arg;
  c->base = base;
  atomic_init(&c->refs, 2);
  return c;
}

static void call_unref(struct call *c) {
  if (atomic_fetch_sub_explicit(&c->refs, 1, memory_order_acq_rel) == 1)
    free(c);
}

/* Starts following a request; 0 when it could not be. */
static int request_start(struct call *c, unsigned type) {
  int saved = errno, ok;

  ok = al_ev_may_record() &&
       al_req_start(al_ev_shim_id, (uintptr_t)c, type, c->base, c->cb,
                    al_stack_capture()) == 0;
  errno = saved;
  return ok;
}

static void request_end(uintptr_t addr) {
  int saved = errno;
  void *cb;

  if (al_ev_may_record())
    al_req_done(addr, &cb);
  errno = saved;
}

/* ------------------------------------------------------- event_base_once */

/* The slow-callback check (slow_callback_ms): the trampolines here call
 * the program's callback themselves, and time it, the record's creation
 * stack taken before the record ends. state: the record's (enum
 * al_res_state); addr: the record's, cb: the program's callback. */
static void slow_begin(struct al_slow *s, const char *call, unsigned type,
                       int state, const void *addr, void *cb) {
  if (AL_UNLIKELY(al_opt.slow_callback_ms > 0))
    al_slow_begin(s, call, al_ev_shim_id, type, state, (uintptr_t)addr, cb);
  else
    s->start = 0;
}

/* An event_base_once of the program's: the trampoline's argument, made
 * for each call and freed as it fires. Small, and not zeroed: each field
 * is set (its cost was most of what asyncleak added to a call). */
struct once {
  event_callback_fn cb; /* the program's callback */
  void *arg;            /* and its argument */
  uintptr_t base;       /* the event_base it runs on */
  evutil_socket_t fd;   /* for the report */
  short events;
};

static void once_fired(evutil_socket_t fd, short what, void *arg) {
  struct once *o = arg;
  event_callback_fn cb = o->cb;
  void *cb_arg = o->arg;
  struct al_call_scope scope;
  struct al_slow slow;

  slow_begin(&slow, "event_base_once", T_ONCE, AL_RES_OPEN, o, (void *)cb);
  al_ev_forget((uintptr_t)o, o->base);
  free(o);
  al_call_callback_begin(&al_ev_calls, &scope);
  cb(fd, what, cb_arg);
  al_call_callback_end(&al_ev_calls, &scope);
  al_slow_end(&slow);
}

/* libevent frees the event once it fired. One still pending when its base
 * is freed is freed without its callback: its record is then reported,
 * and kept. One with a callback of libevent's is libevent's own
 * (event_base_loopexit and event_loopexit reach here by a tail call, with
 * the program's return address). */
AL_EXPORT int event_base_once(struct event_base *base, evutil_socket_t fd,
                              short events, event_callback_fn cb, void *arg,
                              const struct timeval *tv) {
  __typeof__(&event_base_once) fn = REAL(event_base_once);
  struct once *o = NULL;
  int program, rc, saved;

  if (fn == NULL)
    return -1;
  program = enter(NULL);
  saved = errno;
  if (program && base != NULL && cb != NULL && FOLLOWED(event_base_once) &&
      !al_ev_code_is_libevent((const void *)cb) && al_ev_may_record() &&
      (o = malloc(sizeof(*o))) != NULL) {
    *o = (struct once){cb, arg, (uintptr_t)base, fd, events};
    /* Before: another thread running the base may fire it at once. */
    al_res_open(al_ev_shim_id, (uintptr_t)o, T_ONCE, (uintptr_t)base,
                al_stack_capture());
  }
  errno = saved;
  rc = o ? fn(base, fd, events, once_fired, o, tv)
         : fn(base, fd, events, cb, arg, tv);
  leave();
  if (o != NULL && rc != 0) {
    saved = errno;
    al_res_forget((uintptr_t)o);
    free(o);
    errno = saved;
  }
  return rc;
}

void al_ev_once_state_text(const struct al_res *r, char *buf, size_t len) {
  struct once o;

  if (al_safe_read(&o, (const void *)r->addr, sizeof(o)) != 0) {
    snprintf(buf, len, "added once");
    return;
  }
  if (o.events & (EV_READ | EV_WRITE))
    snprintf(buf, len, "added once: fd %d%s%s", (int)o.fd,
             o.events & EV_READ ? " read" : "",
             o.events & EV_WRITE ? " write" : "");
  else
    snprintf(buf, len, "added once: timer");
}

/* ------------------------------------------------------------------- evdns */

/* The event_base an evdns_base of the program's runs on, and its record's
 * number; 0 for one not followed (made before asyncleak, or by
 * libevent), or freed. */
static uintptr_t dns_loop(struct evdns_base *dns, uint64_t *seq) {
  struct al_res r;

  if (dns != NULL && al_res_get((uintptr_t)dns, &r) == 0 &&
      r.type == T_EVDNS_BASE) {
    *seq = r.seq;
    return r.loop;
  }
  return 0;
}

/* A call of the program's to follow: NULL when it is not. */
static struct call *dns_call(int program, int followed,
                             struct evdns_base *dns, void *cb, void *arg,
                             unsigned type, const char *fmt, const char *what,
                             const char *name) {
  uintptr_t base;
  uint64_t seq;
  struct call *c;
  int saved = errno;

  if (!program || !followed || cb == NULL ||
      (base = dns_loop(dns, &seq)) == 0 ||
      (c = call_new(cb, arg, base)) == NULL) {
    errno = saved;
    return NULL;
  }
  c->dns = dns;
  c->dns_seq = seq;
  snprintf(c->what, sizeof(c->what), fmt, what, name ? name : "");
  if (!request_start(c, type)) {
    free(c);
    c = NULL;
  }
  errno = saved;
  return c;
}

/* After the call: keeps libevent's handle, to cancel it; a call that
 * returned none never calls back (resolve), or already did
 * (getaddrinfo). */
static void dns_started(struct call *c, void *handle, int called_back) {
  if (c == NULL)
    return;
  if (handle != NULL) {
    atomic_store_explicit(&c->handle, handle, memory_order_release);
  } else if (!called_back) {
    request_end((uintptr_t)c);
    call_unref(c); /* the callback's */
  }
  call_unref(c);
}

static void resolved(int result, char type, int count, int ttl,
                     void *addresses, void *arg) {
  struct call *c = arg;
  evdns_callback_type cb = (evdns_callback_type)c->cb;
  void *cb_arg = c->arg;
  struct al_call_scope scope;
  struct al_slow slow;

  slow_begin(&slow, "evdns_base_resolve_*", R_RESOLVE, AL_RES_PENDING, c, c->cb);
  request_end((uintptr_t)c);
  call_unref(c);
  al_call_callback_begin(&al_ev_calls, &scope);
  cb(result, type, count, ttl, addresses, cb_arg);
  al_call_callback_end(&al_ev_calls, &scope);
  al_slow_end(&slow);
}

static void got_addrinfo(int result, struct evutil_addrinfo *res, void *arg) {
  struct call *c = arg;
  evdns_getaddrinfo_cb cb = (evdns_getaddrinfo_cb)c->cb;
  void *cb_arg = c->arg;
  struct al_call_scope scope;
  struct al_slow slow;

  slow_begin(&slow, "evdns_getaddrinfo", R_GETADDRINFO, AL_RES_PENDING, c,
             c->cb);
  request_end((uintptr_t)c);
  call_unref(c);
  /* Answered at once, this runs inside our interposer. */
  al_call_callback_begin(&al_ev_calls, &scope);
  cb(result, res, cb_arg);
  al_call_callback_end(&al_ev_calls, &scope);
  al_slow_end(&slow);
}

#define RESOLVE(name, in_t, fmt, show)                                           \
  AL_EXPORT struct evdns_request *name(struct evdns_base *dns, in_t in,       \
                                       int flags, evdns_callback_type cb,     \
                                       void *arg) {                           \
    __typeof__(&name) fn = REAL(name);                                        \
    struct evdns_request *req;                                                \
    struct call *c;                                                           \
    char text[INET6_ADDRSTRLEN];                                              \
    int program, saved;                                                       \
    const char *shown = NULL;                                                 \
    if (fn == NULL)                                                           \
      return NULL;                                                            \
    program = enter(NULL);                                                    \
    saved = errno;                                                            \
    if (program && FOLLOWED(name))                                            \
      shown = show(in, text);                                                 \
    errno = saved;                                                            \
    c = dns_call(program, FOLLOWED(name), dns, (void *)cb, arg, R_RESOLVE,    \
                 fmt, #name, shown);                                          \
    req = c ? fn(dns, in, flags, resolved, c) : fn(dns, in, flags, cb, arg);  \
    leave();                                                                  \
    dns_started(c, req, 0);                                                   \
    return req;                                                               \
  }

static const char *quoted(const char *name, char *text) {
  (void)text;
  return name;
}

static const char *ipv4_text(const struct in_addr *in, char *text) {
  return in ? inet_ntop(AF_INET, in, text, INET6_ADDRSTRLEN) : NULL;
}

static const char *ipv6_text(const struct in6_addr *in, char *text) {
  return in ? inet_ntop(AF_INET6, in, text, INET6_ADDRSTRLEN) : NULL;
}

RESOLVE(evdns_base_resolve_ipv4, const char *, "%s '%s'", quoted)
RESOLVE(evdns_base_resolve_ipv6, const char *, "%s '%s'", quoted)
RESOLVE(evdns_base_resolve_reverse, const struct in_addr *, "%s %s",
        ipv4_text)
RESOLVE(evdns_base_resolve_reverse_ipv6, const struct in6_addr *, "%s %s",
        ipv6_text)

AL_EXPORT struct evdns_getaddrinfo_request *
evdns_getaddrinfo(struct evdns_base *dns, const char *nodename,
                  const char *servname, const struct evutil_addrinfo *hints,
                  evdns_getaddrinfo_cb cb, void *arg) {
  __typeof__(&evdns_getaddrinfo) fn = REAL(evdns_getaddrinfo);
  struct evdns_getaddrinfo_request *req;
  struct call *c;
  int program;

  if (fn == NULL)
    return NULL;
  program = enter(NULL);
  c = dns_call(program, FOLLOWED(evdns_getaddrinfo), dns, (void *)cb, arg,
               R_GETADDRINFO, "%s '%s'", "evdns_getaddrinfo", nodename);
  /* Answered at once (a number, /etc/hosts, an error): the callback has
   * run when it returns NULL. */
  req = c ? fn(dns, nodename, servname, hints, got_addrinfo, c)
          : fn(dns, nodename, servname, hints, cb, arg);
  leave();
  dns_started(c, req, 1);
  return req;
}

/* ------------------------------------------------------------------ evhttp */

AL_EXPORT int evhttp_make_request(struct evhttp_connection *evcon,
                                  struct evhttp_request *req,
                                  enum evhttp_cmd_type type, const char *uri) {
  __typeof__(&evhttp_make_request) fn = REAL(evhttp_make_request);
  __typeof__(&evhttp_connection_get_base) get_base;
  struct event_base *base;
  int program, followed = 0, rc;

  if (fn == NULL)
    return -1;
  program = enter(req);
  if (program && evcon != NULL && req != NULL &&
      FOLLOWED(evhttp_make_request) &&
      (get_base = USE(evhttp_connection_get_base)) != NULL &&
      (base = get_base(evcon)) != NULL && al_ev_may_record()) {
    int saved = errno;
    /* Before: a failure frees the request inside the call. */
    followed = al_req_start(al_ev_shim_id, (uintptr_t)req, R_HTTP,
                            (uintptr_t)base, NULL, al_stack_capture()) == 0;
    errno = saved;
  }
  rc = fn(evcon, req, type, uri);
  leave();
  if (followed && rc != 0)
    request_end((uintptr_t)req);
  return rc;
}

AL_EXPORT void evhttp_request_free(struct evhttp_request *req) {
  __typeof__(&evhttp_request_free) fn = REAL(evhttp_request_free);

  if (fn == NULL)
    return;
  enter(req);
  if (req != NULL && FOLLOWED(evhttp_request_free))
    request_end((uintptr_t)req);
  fn(req);
  leave();
}

/* From the request's callback: the program keeps the request, done. */
AL_EXPORT void evhttp_request_own(struct evhttp_request *req) {
  __typeof__(&evhttp_request_own) fn = REAL(evhttp_request_own);

  if (fn == NULL)
    return;
  enter(req);
  fn(req);
  leave();
  if (req != NULL && FOLLOWED(evhttp_request_own))
    request_end((uintptr_t)req);
}

/* ------------------------------------------------------------ the report */

void al_ev_req_probe(const struct al_res *r, struct al_state *st) {
  (void)r;
  /* Every end is seen: a record is a request pending, or an
   * event_base_once not fired. */
  st->known = 1;
  st->active = 1;
  st->referenced = 1;
}

void al_ev_req_describe(const struct al_res *r, char *buf, size_t len) {
  struct call c;

  buf[0] = '\0';
  if ((r->type != R_RESOLVE && r->type != R_GETADDRINFO) ||
      al_safe_read(&c, (const void *)r->addr, sizeof(c)) != 0)
    return;
  c.what[sizeof(c.what) - 1] = '\0';
  snprintf(buf, len, "%s", c.what);
}

/* --force-close: the callback runs, cancelled, at the next turn of the
 * base; an evhttp request is freed, and its callback never runs. An evdns
 * request whose resolver is freed is not libevent's to cancel any more:
 * its callback runs with DNS_ERR_SHUTDOWN, or never. */
int al_ev_req_cancel(uintptr_t addr) {
  struct al_res r;
  void *handle;

  if (al_req_get(addr, &r) != 0)
    return -ENOENT;
  al_call_own_begin(&al_ev_calls);
  if (r.type == R_HTTP) {
    __typeof__(&evhttp_cancel_request) cancel = USE(evhttp_cancel_request);
    if (cancel != NULL)
      cancel((struct evhttp_request *)addr);
    al_call_own_end(&al_ev_calls);
    return cancel != NULL ? 0 : -ENOSYS;
  }
  {
    const struct call *c = (const struct call *)addr;
    uint64_t seq;
    if (dns_loop(c->dns, &seq) == 0 || seq != c->dns_seq) {
      al_call_own_end(&al_ev_calls);
      return -ENOENT;
    }
  }
  handle = atomic_load_explicit(&((struct call *)addr)->handle,
                                memory_order_acquire);
  if (handle != NULL && r.type == R_RESOLVE) {
    __typeof__(&evdns_cancel_request) cancel = USE(evdns_cancel_request);
    if (cancel == NULL)
      handle = NULL;
    else
      cancel(NULL, handle);
  } else if (handle != NULL && r.type == R_GETADDRINFO) {
    __typeof__(&evdns_getaddrinfo_cancel) cancel =
        USE(evdns_getaddrinfo_cancel);
    if (cancel == NULL)
      handle = NULL;
    else
      cancel(handle);
  }
  al_call_own_end(&al_ev_calls);
  return handle != NULL ? 0 : -ENOSYS;
}

void al_ev_dns_dropped(struct evdns_base *dns, uintptr_t base,
                       uint64_t seq) {
  struct al_res *res;
  struct al_loop l;
  size_t n;
  int saved = errno;

  if (al_loop_get(base, &l) != 0) {
    errno = saved;
    return;
  }
  n = al_res_on_loop(base, l.first_seq, 1u << AL_RES_PENDING, &res);
  for (size_t i = 0; i < n; i++) {
    struct call c;
    if ((res[i].type != R_RESOLVE && res[i].type != R_GETADDRINFO) ||
        al_safe_read(&c, (const void *)res[i].addr, sizeof(c)) != 0 ||
        c.dns != dns || c.dns_seq != seq)
      continue;
    /* Its callback will never run. The record of ours stays allocated:
     * a reply libevent had already scheduled would still call back. */
    request_end(res[i].addr);
  }
  free(res);
  errno = saved;
}
