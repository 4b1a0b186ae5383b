/* What the libevent interposers share: libevent's real functions, found
 * on first use, telling the program's calls from libevent's own, and the
 * types of what is followed. Private to shim/event*.c. */
#ifndef ASYNCLEAK_EVENT_SHIM_H_
#define ASYNCLEAK_EVENT_SHIM_H_

#include <errno.h>
#include <stdatomic.h>
#include <stdint.h>

#include "calls.h"
#include "internal.h"

struct event_base;
struct evdns_base;

/* ---------------------------------------------------------- real functions */

/* Bases and events, in shim/event.c. */
#define EV_FUNCS(X)                                                           \
  X(event_base_new) X(event_base_new_with_config) X(event_init)               \
  X(event_base_free) X(event_base_free_nofinalize) X(event_base_loop)         \
  X(event_reinit) X(event_new) X(event_assign) X(event_set)                   \
  X(event_base_set) X(event_free) X(event_free_finalize) X(event_del)        \
  X(event_add)

/* What libevent builds on events, in shim/event-objects.c. */
#define EV_OBJ_FUNCS(X)                                                       \
  X(bufferevent_socket_new) X(bufferevent_pair_new)                           \
  X(bufferevent_filter_new) X(bufferevent_free) X(evconnlistener_new)         \
  X(evconnlistener_new_bind) X(evconnlistener_free) X(evhttp_new)             \
  X(evhttp_free) X(evhttp_bind_listener) X(evhttp_connection_base_new) \
  X(evhttp_connection_base_bufferevent_new) X(evhttp_connection_free)         \
  X(evdns_base_new) X(evdns_base_free) X(bufferevent_decref)                 \
  X(evhttp_add_virtual_host) X(evhttp_remove_virtual_host)                   \
  X(bufferevent_write) X(bufferevent_write_buffer) X(bufferevent_read)        \
  X(bufferevent_enable) X(bufferevent_disable) X(bufferevent_setcb)

/* Requests, and event_base_once, in shim/event-req.c. */
#define EV_REQ_FUNCS(X)                                                       \
  X(event_base_once) X(evdns_base_resolve_ipv4) X(evdns_base_resolve_ipv6)    \
  X(evdns_base_resolve_reverse) X(evdns_base_resolve_reverse_ipv6)            \
  X(evdns_getaddrinfo) X(evhttp_make_request) X(evhttp_request_free)          \
  X(evhttp_request_own)

/* The getters of an event's callback, in shim/event-slow.c. */
#define EV_SLOW_FUNCS(X) X(event_get_callback) X(event_get_assignment)

/* Called by the runtime, never interposed. */
#define EV_USED(X)                                                            \
  X(event_base_loopbreak) X(evdns_cancel_request)                            \
  X(evdns_getaddrinfo_cancel) X(evhttp_connection_get_base)             \
  X(evhttp_cancel_request) X(event_base_foreach_event)                      \
  X(event_base_get_npriorities) X(evthread_get_lock_callbacks)             \
  X(event_base_get_running_event)

/* libevent 2.1 exports it without declaring it in a header: the lock
 * callbacks in use, whose alloc is NULL until threading is turned on. */
struct evthread_lock_callbacks *evthread_get_lock_callbacks(void);

enum {
#define X(name) F_##name,
  EV_FUNCS(X) EV_OBJ_FUNCS(X) EV_REQ_FUNCS(X) EV_SLOW_FUNCS(X) EV_USED(X)
#undef X
      F_COUNT
};

/* libevent as the core knows it: where its functions are, and its code. */
extern struct al_loopsyms al_ev_lib;

#define REAL(name)                                                            \
  ((__typeof__(&name))al_loopsyms_get(&al_ev_lib, F_##name, (void *)&name))
/* For functions the runtime does not define: typeof takes no address. */
#define USE(name) ((__typeof__(&name))al_loopsyms_get(&al_ev_lib, F_##name, NULL))
/* Whether the program's calls of name reach libevent (not libev, which
 * exports libevent's 1.x names): only those are followed. */
#define FOLLOWED(name) al_loopsyms_own(&al_ev_lib, F_##name)

/* ---------------------------------------------------------- whose call */

/* Our index among the loop libraries. */
extern uint8_t al_ev_shim_id;

/* ----------------------------------------- the wrong thread (event-threads.c) */

struct event;
/* A base the program made: whether it has a lock, which makes it
 * thread-safe, is noted now; and forgotten as it is freed. */
void al_ev_base_threads(uintptr_t base);
void al_ev_base_threads_gone(uintptr_t base);
/* The program's call on base (of an event: T_NEW; on the base itself:
 * AL_TYPE_LOOP): a finding when the base has no lock and another thread
 * runs it. Only while check_threads is on. */
void al_ev_thread_check(const char *call, uintptr_t base, unsigned type);
/* The same, for a call on the event at ev, whose base it reads. */
void al_ev_thread_check_event(const char *call, const struct event *ev);
/* This thread's interposers on its stack (lib/calls.h). */
extern AL_TLS struct al_calls al_ev_calls;

/* Enters an interposer about obj; returns 1 when the program made this
 * call: it does not come from libevent's code, nor, nested in another
 * interposer, about the same object. Keeps errno. */
#define enter(obj)                                                            \
  al_call_enter(&al_ev_calls, &al_ev_lib, __builtin_return_address(0), (obj))

static inline void leave(void) {
  al_call_leave(&al_ev_calls);
}

/* Whether pc is in libevent's code: a callback of libevent's own. */
static inline int al_ev_code_is_libevent(const void *pc) {
  return al_loopsyms_owns(&al_ev_lib, pc);
}

/* Whether the runtime may record now: not from a signal handler that
 * interrupted it (then the event is counted as missed). Keeps errno. */
static inline int al_ev_may_record(void) {
  if (AL_LIKELY(al_locks_held == 0))
    return 1;
  al_defer_missed();
  return 0;
}

/* ------------------------------------------------------------- the types */

enum {
  T_NEW = 1,          /* made by event_new: open until event_free */
  T_ASSIGNED = 2,     /* in the program's memory: open while added */
  /* As reported: */
  T_ADDED = 3,        /* still added */
  T_UNFREED = 4,      /* never freed, not added */
  T_ADDED_AT_FREE = 5, /* added when event_base_free deleted it */
  T_ONCE = 6,         /* event_base_once's, not fired yet */
  /* What libevent builds on events, open until freed. */
  T_BUFFEREVENT = 7,
  T_LISTENER = 8,
  T_EVHTTP = 9,
  T_HTTP_CONNECTION = 10,
  T_EVDNS_BASE = 11,
  T_OBJ_FIRST = T_BUFFEREVENT,
  T_OBJ_LAST = T_EVDNS_BASE
};
_Static_assert(T_OBJ_LAST < AL_RES_TYPES, "a record holds the event types");

/* Request types. */
enum {
  R_RESOLVE = 1, /* evdns_base_resolve_*() */
  R_GETADDRINFO = 2,
  R_HTTP = 3 /* evhttp_make_request() */
};

/* ----------------------------------------- what the other files provide */

/* shim/event.c: the program is done with the event at ev (freed, or
 * deleted from its memory) on base. */
void al_ev_forget(uintptr_t addr, uintptr_t base);

/* shim/event-slow.c: what to hand libevent for the program's callback
 * cb of an event (the slow-callback check): a stand-in that times it, or
 * cb itself. Only while slow_callback_ms is on. */
typedef void (*al_ev_callback_fn)(int, short, void *);
al_ev_callback_fn al_ev_stand_in(al_ev_callback_fn cb);

/* shim/event-objects.c: names, the report's view and its words. */
const char *al_ev_obj_type_name(unsigned type);
void al_ev_obj_probe(const struct al_res *r, struct al_state *st);
void al_ev_obj_state_text(const struct al_res *r, char *buf, size_t len);

/* shim/event-req.c: the same for requests and event_base_once. */
const char *al_ev_req_type_name(unsigned type);
void al_ev_req_probe(const struct al_res *r, struct al_state *st);
void al_ev_req_describe(const struct al_res *r, char *buf, size_t len);
void al_ev_once_state_text(const struct al_res *r, char *buf, size_t len);
int al_ev_req_cancel(uintptr_t addr);
/* evdns_base_free(dns, 0) dropped the lookups of dns (its record seq), on
 * base. */
void al_ev_dns_dropped(struct evdns_base *dns, uintptr_t base,
                       uint64_t seq);

#endif /* ASYNCLEAK_EVENT_SHIM_H_ */
