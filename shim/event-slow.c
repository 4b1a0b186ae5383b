/* The slow-callback check of libevent (slow_callback_ms,
 * docs/debug-checks.md) for an event's own callback. libevent keeps it in
 * the event (ev_callback) and calls it as cb(fd, what, arg), with nothing
 * of the event: a stand-in could not find the program's callback by the
 * event's address, and the runtime leaves the argument alone (a program
 * reads ev_arg, and libevent compares it for event_self_cbarg()). So,
 * while the check is on, the program's event_new, event_assign and
 * event_set hand libevent a stand-in per callback function instead: one
 * of AL_FN_SLOTS functions here, stand-in i calling the function in the
 * core's slot i (lib/standins.c), which never changes. A stand-in is
 * therefore right wherever it is called from, a copy of the event or the
 * program itself included.
 *
 * The event being called back is the one libevent says is running on the
 * base of the innermost run on this thread (event_base_get_running_event):
 * its record gives the creation stack, looked up before the call, which
 * may free the event. A stand-in called by anything but libevent's
 * dispatch is still timed, with no creation stack.
 *
 * The getters give the program its own callback back (event_get_callback,
 * event_get_assignment). A program that reads ev_callback straight from
 * the event (event2/event_struct.h) finds the stand-in there, which calls
 * its function. With the check off nothing is stood in for. A callback of
 * libevent's, an event libevent makes itself (bufferevents, listeners),
 * and callbacks past the AL_FN_SLOTS-th function are not timed. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <event2/event.h>
#include <event2/event_struct.h>

#include "event-shim.h"

/* libevent's event_base_get_running_event, when it is the one of the
 * libevent whose event_base_loop runs (an older libevent, 1.4 or 2.0, has
 * none, and another's must not be called on its base); else NULL. */
static __typeof__(&event_base_get_running_event) running_event(void) {
  static atomic_int usable = -1;
  __typeof__(&event_base_get_running_event) fn =
      USE(event_base_get_running_event);
  int u = atomic_load_explicit(&usable, memory_order_relaxed);

  if (u < 0) {
    void *loop = (void *)REAL(event_base_loop);
    Dl_info a, b;
    u = fn != NULL && loop != NULL && dladdr((void *)fn, &a) &&
        dladdr(loop, &b) && a.dli_fbase == b.dli_fbase;
    atomic_store_explicit(&usable, u, memory_order_relaxed);
  }
  return u ? fn : NULL;
}

/* caller: where the stand-in was called from. Only libevent's dispatch
 * has a running event: a stand-in the program calls itself is timed with
 * no creation stack. So is one under a seccomp filter that may kill,
 * where finding the innermost run could make a system call the program
 * does not make (lib/seccomp.c). */
static void stood_in(unsigned slot, const void *caller, evutil_socket_t fd,
                     short what, void *arg) {
  event_callback_fn cb = (event_callback_fn)al_fn_slot_target(slot);
  __typeof__(&event_base_get_running_event) running;
  uintptr_t base = 0;
  struct event *ev = NULL;
  struct al_slow s;
  int saved = errno;

  if (AL_LIKELY(al_locks_held == 0) && !al_ending_sealed() &&
      al_ev_code_is_libevent(caller) && (running = running_event()) != NULL &&
      (base = al_run_innermost(al_ev_shim_id)) != 0)
    ev = running((struct event_base *)base);
  errno = saved; /* the callback finds what libevent left */
  al_slow_begin(&s, "event_new", al_ev_shim_id, T_NEW, AL_RES_OPEN,
                (uintptr_t)ev, (void *)cb);
  if (s.type == T_ASSIGNED)
    s.call = "event_assign";
  cb(fd, what, arg);
  al_slow_end(&s);
}

/* AL_FN_SLOTS stand-ins, stand_in_00 to stand_in_ff. */
#define STAND_IN(i)                                                           \
  static void stand_in_##i(evutil_socket_t fd, short what, void *arg) {      \
    stood_in(0x##i, __builtin_return_address(0), fd, what, arg);              \
  }
AL_FN_SLOTS_EACH(STAND_IN)
#define ENTRY(i) (void *)stand_in_##i,
static void *const stand_ins[] = {AL_FN_SLOTS_EACH(ENTRY)};
_Static_assert(sizeof(stand_ins) / sizeof(stand_ins[0]) == AL_FN_SLOTS,
               "a stand-in per slot");

al_ev_callback_fn al_ev_stand_in(al_ev_callback_fn cb) {
  /* libevent's own callback is left alone. */
  if (cb == NULL || al_ev_code_is_libevent((const void *)cb))
    return cb;
  return (al_ev_callback_fn)al_fn_stand_in(stand_ins, (void *)cb);
}

static event_callback_fn program_cb(event_callback_fn cb) {
  if (AL_LIKELY(al_opt.slow_callback_ms <= 0))
    return cb;
  return (event_callback_fn)al_fn_unstand(stand_ins, (void *)cb);
}

AL_EXPORT event_callback_fn event_get_callback(const struct event *ev) {
  __typeof__(&event_get_callback) fn = REAL(event_get_callback);

  return fn != NULL ? program_cb(fn(ev)) : NULL;
}

AL_EXPORT void event_get_assignment(const struct event *event,
                                    struct event_base **base_out,
                                    evutil_socket_t *fd_out,
                                    short *events_out,
                                    event_callback_fn *callback_out,
                                    void **arg_out) {
  __typeof__(&event_get_assignment) fn = REAL(event_get_assignment);

  if (fn == NULL)
    return;
  fn(event, base_out, fd_out, events_out, callback_out, arg_out);
  if (callback_out != NULL)
    *callback_out = program_cb(*callback_out);
}
