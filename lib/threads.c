/* The wrong-thread check (check_threads, docs/debug-checks.md): a call
 * on a loop or on one of its handles, made by a thread other than the one
 * running that loop right now, is a finding. libuv, libev and libevent
 * without its locks are not thread-safe: such a call races with the
 * loop's own thread over the loop's lists, which shows as a crash or a
 * lost event long after, nowhere near the call.
 *
 * Which thread runs which loop is lib/run.c's table of runs, read with
 * loads only; the shims decide which calls are the program's and which
 * of them their library documents as safe from any thread. */
#include <errno.h>

#include "internal.h"

void al_thread_check(uint8_t shim, uintptr_t loop, const char *call,
                     unsigned type, int request) {
  struct al_finding f = {0};
  const struct al_stack *begun;
  pid_t runner;
  int saved;

  if (loop == 0)
    return;
  runner = al_run_elsewhere(loop, &begun);
  if (AL_LIKELY(runner == 0))
    return;
  saved = errno;
  f.call = call;
  f.check = AL_CHECK_THREAD;
  f.shim = shim;
  f.type = (uint16_t)type;
  f.request = (uint8_t)(request != 0);
  f.other = begun;
  f.tid = al_tid_cache; /* al_run_elsewhere's answer needed it */
  f.other_tid = runner;
  al_finding_here(&f);
  errno = saved;
}
