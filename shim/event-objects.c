/* What libevent builds on events: bufferevents, listeners, evhttp servers
 * and connections, and evdns resolvers, each open from the program's call
 * that made it until it is freed.
 *
 * Each makes events of its own, which libevent assigns and adds from its
 * own code: those are never reported; a bufferevent left behind is
 * reported once, as the bufferevent. An object that the program hands to
 * another that then owns it (a bufferevent given to a filter with
 * BEV_OPT_CLOSE_ON_FREE or to an evhttp connection, a listener given to
 * evhttp_bind_listener) is the owner's from then on: only the owner is
 * reported.
 *
 * A bufferevent is freed by its last reference, which may come later
 * (deferred callbacks, or bufferevent_incref), and an owner frees what it
 * owns: every call of a free function ends the object, whoever makes it,
 * as the program sees it. */
#define _GNU_SOURCE
#include <event2/bufferevent.h>
#include <event2/bufferevent_struct.h>
#include <event2/dns.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/listener.h>
#include <stdio.h>
#include <string.h>

#include "event-shim.h"

const char *al_ev_obj_type_name(unsigned type) {
  switch (type) {
  case T_BUFFEREVENT:
    return "bufferevent";
  case T_LISTENER:
    return "evconnlistener";
  case T_EVHTTP:
    return "evhttp";
  case T_HTTP_CONNECTION:
    return "evhttp_connection";
  case T_EVDNS_BASE:
    return "evdns_base";
  default:
    return NULL;
  }
}

/* ------------------------------------------------------------- following */

static void obj_made(const void *obj, unsigned type,
                     const struct event_base *base) {
  int saved = errno;

  if (al_ev_may_record()) {
    while (al_res_forget((uintptr_t)obj)) /* freed without us */
      ;
    al_res_open(al_ev_shim_id, (uintptr_t)obj, type, (uintptr_t)base,
                al_stack_capture());
  }
  errno = saved;
}

/* The object at obj is freed, or now owned by another. */
static void obj_gone(const void *obj) {
  struct al_res r;
  int saved = errno;

  if (obj != NULL && al_ev_may_record() &&
      al_res_get((uintptr_t)obj, &r) == 0 && r.type >= T_OBJ_FIRST &&
      r.type <= T_OBJ_LAST)
    al_ev_forget((uintptr_t)obj, r.loop);
  errno = saved;
}

/* The wrong-thread check (check_threads) of the program's call named
 * call on the object at obj, on the base it was made on. */
static void obj_thread_check(const char *call, const void *obj) {
  struct al_res r;
  int saved = errno;

  if (AL_LIKELY(!al_opt.check_threads) || obj == NULL ||
      al_locks_held != 0)
    return;
  if (al_res_get((uintptr_t)obj, &r) == 0 && r.shim == al_ev_shim_id &&
      r.type >= T_OBJ_FIRST && r.type <= T_OBJ_LAST)
    al_ev_thread_check(call, r.loop, r.type);
  errno = saved;
}

/* A constructor: follows what the program's own call made on base. */
#define OBJ_NEW(ret, name, type, params, args, base)                          \
  AL_EXPORT ret *name params {                                                \
    __typeof__(&name) fn = REAL(name);                                        \
    ret *obj;                                                                 \
    int program;                                                              \
    if (fn == NULL)                                                           \
      return NULL;                                                            \
    program = enter(NULL);                                                    \
    if (program && AL_UNLIKELY(al_opt.check_threads))                         \
      al_ev_thread_check(#name, (uintptr_t)(base), (type));                   \
    obj = fn args;                                                            \
    leave();                                                                  \
    if (program && obj != NULL && (base) != NULL && FOLLOWED(name))           \
      obj_made(obj, type, base);                                              \
    return obj;                                                               \
  }

/* A destructor: the object ends before the real call, after which its
 * address may be another thread's new object. */
#define OBJ_FREE(name, params, args, obj)                                     \
  AL_EXPORT void name params {                                                \
    __typeof__(&name) fn = REAL(name);                                        \
    if (fn == NULL)                                                           \
      return;                                                                 \
    if (enter(obj) && FOLLOWED(name))                                         \
      obj_thread_check(#name, (obj));                                         \
    if (FOLLOWED(name))                                                       \
      obj_gone(obj);                                                          \
    fn args;                                                                  \
    leave();                                                                  \
  }

/* ----------------------------------------------------------- bufferevents */

OBJ_NEW(struct bufferevent, bufferevent_socket_new, T_BUFFEREVENT,
        (struct event_base * base, evutil_socket_t fd, int options),
        (base, fd, options), base)

AL_EXPORT int bufferevent_pair_new(struct event_base *base, int options,
                                   struct bufferevent *pair[2]) {
  __typeof__(&bufferevent_pair_new) fn = REAL(bufferevent_pair_new);
  int program, rc;

  if (fn == NULL)
    return -1;
  program = enter(NULL);
  if (program && AL_UNLIKELY(al_opt.check_threads))
    al_ev_thread_check("bufferevent_pair_new", (uintptr_t)base,
                       T_BUFFEREVENT);
  rc = fn(base, options, pair);
  leave();
  if (program && rc == 0 && base != NULL && FOLLOWED(bufferevent_pair_new)) {
    obj_made(pair[0], T_BUFFEREVENT, base);
    obj_made(pair[1], T_BUFFEREVENT, base);
  }
  return rc;
}

AL_EXPORT struct bufferevent *
bufferevent_filter_new(struct bufferevent *underlying,
                       bufferevent_filter_cb input_filter,
                       bufferevent_filter_cb output_filter, int options,
                       void (*free_context)(void *), void *ctx) {
  __typeof__(&bufferevent_filter_new) fn = REAL(bufferevent_filter_new);
  struct bufferevent *bev;
  int program;

  if (fn == NULL)
    return NULL;
  program = enter(NULL);
  if (program)
    obj_thread_check("bufferevent_filter_new", underlying);
  bev = fn(underlying, input_filter, output_filter, options, free_context,
           ctx);
  leave();
  if (program && bev != NULL && FOLLOWED(bufferevent_filter_new)) {
    obj_made(bev, T_BUFFEREVENT, bev->ev_base);
    if (options & BEV_OPT_CLOSE_ON_FREE)
      obj_gone(underlying); /* the filter frees it */
  }
  return bev;
}

OBJ_FREE(bufferevent_free, (struct bufferevent * bev), (bev), bev)

/* What a program does with a bufferevent once made: the wrong-thread
 * check alone, on a base without a lock (event-threads.c). */
#define BEV_CALL(ret, name, params, args, bev, failed)                        \
  AL_EXPORT ret name params {                                                 \
    __typeof__(&name) fn = REAL(name);                                        \
    ret rc;                                                                   \
    if (fn == NULL)                                                           \
      return failed;                                                          \
    if (AL_LIKELY(!al_opt.check_threads))                                     \
      return fn args;                                                         \
    if (enter(bev) && FOLLOWED(name))                                         \
      obj_thread_check(#name, (bev));                                         \
    rc = fn args;                                                             \
    leave();                                                                  \
    return rc;                                                                \
  }

BEV_CALL(int, bufferevent_write,
         (struct bufferevent * bev, const void *data, size_t size),
         (bev, data, size), bev, -1)
BEV_CALL(int, bufferevent_write_buffer,
         (struct bufferevent * bev, struct evbuffer *buf), (bev, buf), bev, -1)
BEV_CALL(size_t, bufferevent_read,
         (struct bufferevent * bev, void *data, size_t size),
         (bev, data, size), bev, 0)
BEV_CALL(int, bufferevent_enable, (struct bufferevent * bev, short event),
         (bev, event), bev, -1)
BEV_CALL(int, bufferevent_disable, (struct bufferevent * bev, short event),
         (bev, event), bev, -1)

AL_EXPORT void bufferevent_setcb(struct bufferevent *bev,
                                 bufferevent_data_cb readcb,
                                 bufferevent_data_cb writecb,
                                 bufferevent_event_cb eventcb, void *cbarg) {
  __typeof__(&bufferevent_setcb) fn = REAL(bufferevent_setcb);

  if (fn == NULL)
    return;
  if (AL_LIKELY(!al_opt.check_threads)) {
    fn(bev, readcb, writecb, eventcb, cbarg);
    return;
  }
  if (enter(bev) && FOLLOWED(bufferevent_setcb))
    obj_thread_check("bufferevent_setcb", bev);
  fn(bev, readcb, writecb, eventcb, cbarg);
  leave();
}

/* The program's last reference, given up without bufferevent_free: known
 * to be the last only once it returns. */
AL_EXPORT int bufferevent_decref(struct bufferevent *bev) {
  __typeof__(&bufferevent_decref) fn = REAL(bufferevent_decref);
  int program, rc;

  if (fn == NULL)
    return -1;
  program = enter(bev);
  rc = fn(bev);
  leave();
  if (program && rc == 1 && FOLLOWED(bufferevent_decref))
    obj_gone(bev);
  return rc;
}

/* -------------------------------------------------------------- listeners */

OBJ_NEW(struct evconnlistener, evconnlistener_new, T_LISTENER,
        (struct event_base * base, evconnlistener_cb cb, void *arg,
         unsigned flags, int backlog, evutil_socket_t fd),
        (base, cb, arg, flags, backlog, fd), base)

OBJ_NEW(struct evconnlistener, evconnlistener_new_bind, T_LISTENER,
        (struct event_base * base, evconnlistener_cb cb, void *arg,
         unsigned flags, int backlog, const struct sockaddr *sa, int socklen),
        (base, cb, arg, flags, backlog, sa, socklen), base)

OBJ_FREE(evconnlistener_free, (struct evconnlistener * lev), (lev), lev)

/* ------------------------------------------------------------------ evhttp */

OBJ_NEW(struct evhttp, evhttp_new, T_EVHTTP, (struct event_base * base),
        (base), base)

OBJ_FREE(evhttp_free, (struct evhttp * http), (http), http)

/* A virtual host is its parent's, which frees it, until removed. */
AL_EXPORT int evhttp_add_virtual_host(struct evhttp *http,
                                      const char *pattern,
                                      struct evhttp *vhost) {
  __typeof__(&evhttp_add_virtual_host) fn = REAL(evhttp_add_virtual_host);
  int rc;

  if (fn == NULL)
    return -1;
  enter(vhost);
  rc = fn(http, pattern, vhost);
  leave();
  if (rc == 0 && FOLLOWED(evhttp_add_virtual_host))
    obj_gone(vhost);
  return rc;
}

AL_EXPORT int evhttp_remove_virtual_host(struct evhttp *http,
                                         struct evhttp *vhost) {
  __typeof__(&evhttp_remove_virtual_host) fn =
      REAL(evhttp_remove_virtual_host);
  struct al_res r;
  int program, rc;

  if (fn == NULL)
    return -1;
  program = enter(vhost);
  rc = fn(http, vhost);
  leave();
  if (program && rc == 0 && FOLLOWED(evhttp_remove_virtual_host)) {
    int saved = errno;
    if (al_ev_may_record() && al_res_get((uintptr_t)http, &r) == 0 &&
        r.type == T_EVHTTP)
      obj_made(vhost, T_EVHTTP, (const struct event_base *)r.loop);
    errno = saved;
  }
  return rc;
}

/* evhttp frees the listener it is given. */
AL_EXPORT struct evhttp_bound_socket *
evhttp_bind_listener(struct evhttp *http, struct evconnlistener *listener) {
  __typeof__(&evhttp_bind_listener) fn = REAL(evhttp_bind_listener);
  struct evhttp_bound_socket *bound;

  if (fn == NULL)
    return NULL;
  enter(listener);
  bound = fn(http, listener);
  leave();
  if (bound != NULL && FOLLOWED(evhttp_bind_listener))
    obj_gone(listener);
  return bound;
}

OBJ_NEW(struct evhttp_connection, evhttp_connection_base_new,
        T_HTTP_CONNECTION,
        (struct event_base * base, struct evdns_base *dnsbase,
         const char *address, ev_uint16_t port),
        (base, dnsbase, address, port), base)

AL_EXPORT struct evhttp_connection *evhttp_connection_base_bufferevent_new(
    struct event_base *base, struct evdns_base *dnsbase,
    struct bufferevent *bev, const char *address, ev_uint16_t port) {
  __typeof__(&evhttp_connection_base_bufferevent_new) fn =
      REAL(evhttp_connection_base_bufferevent_new);
  struct evhttp_connection *evcon;
  int program;

  if (fn == NULL)
    return NULL;
  program = enter(NULL);
  evcon = fn(base, dnsbase, bev, address, port);
  leave();
  if (program && evcon != NULL && base != NULL &&
      FOLLOWED(evhttp_connection_base_bufferevent_new)) {
    obj_made(evcon, T_HTTP_CONNECTION, base);
    obj_gone(bev); /* the connection frees it */
  }
  return evcon;
}

OBJ_FREE(evhttp_connection_free, (struct evhttp_connection * evcon), (evcon),
         evcon)

/* ------------------------------------------------------------------- evdns */

OBJ_NEW(struct evdns_base, evdns_base_new, T_EVDNS_BASE,
        (struct event_base * base, int initialize_nameservers),
        (base, initialize_nameservers), base)

/* Lookups still in flight are failed (fail_requests: their callbacks run,
 * later, with DNS_ERR_SHUTDOWN) or dropped, as the program asked: those
 * end with it (al_ev_dns_dropped). */
AL_EXPORT void evdns_base_free(struct evdns_base *dns, int fail_requests) {
  __typeof__(&evdns_base_free) fn = REAL(evdns_base_free);
  struct al_res r;
  int followed;

  if (fn == NULL)
    return;
  enter(dns);
  followed = dns != NULL && FOLLOWED(evdns_base_free) && al_ev_may_record() &&
             al_res_get((uintptr_t)dns, &r) == 0 && r.type == T_EVDNS_BASE;
  if (followed)
    obj_gone(dns);
  fn(dns, fail_requests);
  leave();
  if (followed && !fail_requests)
    al_ev_dns_dropped(dns, r.loop, r.seq);
}

/* ------------------------------------------------------------ the report */

void al_ev_obj_probe(const struct al_res *r, struct al_state *st) {
  (void)r;
  /* Every free is seen: a record is an object alive. */
  st->known = 1;
  st->active = 1;
  st->referenced = 1;
}

/* The kind of a bufferevent ("socket", "pair", "filter"): the name its
 * operations table starts with (bufferevent-internal.h). */
static void bufferevent_kind(const struct bufferevent *bev, char *out,
                             size_t len) {
  const char *name;
  char text[16];
  size_t i;

  out[0] = '\0';
  if (al_safe_read(&name, (const void *)bev->be_ops, sizeof(name)) != 0 ||
      al_safe_read(text, name, sizeof(text)) != 0)
    return;
  for (i = 0; i < sizeof(text) && ((text[i] >= 'a' && text[i] <= 'z') ||
                                   text[i] == '_');
       i++)
    ;
  if (i == 0 || i == sizeof(text) || text[i] != '\0' || i >= len)
    return;
  if (strcmp(text, "pair_elt") == 0) /* each end of a pair */
    i = 4;
  memcpy(out, text, i);
  out[i] = '\0';
}

void al_ev_obj_state_text(const struct al_res *r, char *buf, size_t len) {
  struct bufferevent bev;
  char kind[16];

  if (r->type != T_BUFFEREVENT ||
      al_safe_read(&bev, (const void *)r->addr, sizeof(bev)) != 0 ||
      (uintptr_t)bev.ev_base != r->loop) {
    snprintf(buf, len, "not freed");
    return;
  }
  bufferevent_kind(&bev, kind, sizeof(kind));
  snprintf(buf, len, "not freed, %s%s%s%s", kind[0] ? kind : "",
           kind[0] ? ", " : "",
           bev.enabled & (EV_READ | EV_WRITE) ? "enabled:" : "disabled",
           bev.enabled & EV_READ ? " read" : "");
  if (bev.enabled & EV_WRITE)
    snprintf(buf + strlen(buf), len - strlen(buf), " write");
  if (bev.ev_read.ev_fd >= 0 && strcmp(kind, "socket") == 0)
    snprintf(buf + strlen(buf), len - strlen(buf), ", fd %d",
             (int)bev.ev_read.ev_fd);
}
