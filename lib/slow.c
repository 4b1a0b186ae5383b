/* The slow-callback check (slow_callback_ms, docs/debug-checks.md): a
 * callback of the program's that holds its loop longer than the option is
 * a finding, grouped by the creation stack of the handle or request it
 * belongs to and by the callback function, with the count and the
 * longest time.
 *
 * The shims bracket the program's callback with al_slow_begin and
 * al_slow_end where they already stand in front of it (a request's
 * completion, a close callback, GLib's callback pair) or, only while the
 * check is on, where they stand in for it (libuv's handle callbacks). The
 * time is the wall-clock time between the two: a callback that is
 * preempted, or waits for a lock, holds its loop all the same. A loop
 * that runs another loop inside a callback has the inner callbacks timed
 * too, each apart: the outer one's time includes theirs. */
#include <errno.h>
#include <time.h>

#include "internal.h"

static uint64_t now_ns(void) {
  struct timespec ts;
  al_clock_real(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void al_slow_begin(struct al_slow *s, const char *call, uint8_t shim,
                   unsigned type, int state, uintptr_t addr, void *fn) {
  int saved = errno;
  struct al_res r;

  s->start = 0;
  s->stack = NULL;
  s->call = call;
  s->fn = fn;
  s->type = (uint16_t)type;
  s->shim = shim;
  s->request = state == AL_RES_PENDING;
  /* A callback run while the thread is inside the runtime (a loop run by
   * a shutdown's finalizers from a signal handler) is not timed: the
   * registry's locks may not be waited for. */
  if (AL_UNLIKELY(al_locks_held != 0)) {
    errno = saved;
    return;
  }
  if ((state == AL_RES_PENDING ? al_req_get_called(addr, &r)
                               : al_res_get_state(addr,
                                                  (enum al_res_state)state,
                                                  &r)) == 0 &&
      r.shim == shim) {
    s->stack = r.stack;
    s->type = (uint16_t)r.type;
  }
  s->start = now_ns();
  if (s->start == 0)
    s->start = 1;
  errno = saved;
}

void al_slow_end(const struct al_slow *s) {
  int saved = errno;
  uint64_t took, limit = (uint64_t)al_opt.slow_callback_ms * 1000000u;
  struct al_finding f = {0};
  uintptr_t pc;

  if (s->start == 0 || al_opt.slow_callback_ms <= 0)
    return;
  took = now_ns() - s->start;
  if (took <= limit || AL_UNLIKELY(al_locks_held != 0)) {
    errno = saved;
    return;
  }
  f.stack = s->stack;
  /* The callback as a one-frame stack. Frames are return addresses,
   * which the symbolizer looks up one byte back: the address after the
   * function's first byte names the function and its first line. The
   * report shows the function's own address (findings-report.c). */
  if (s->fn != NULL) {
    pc = (uintptr_t)s->fn + 1;
    f.other = al_stack_intern(&pc, 1);
  }
  f.call = s->call;
  f.count = 1;
  f.value = took / 1000000u;
  f.type = s->type;
  f.check = AL_CHECK_SLOW;
  f.shim = s->shim;
  f.request = s->request;
  al_finding_add(&f);
  errno = saved;
}
