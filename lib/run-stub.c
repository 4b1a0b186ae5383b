/* STAND-IN for lib/run.c, until the core's run wrapper is merged: the
 * functions of lib/loop.h that a shim calls, doing the least that keeps
 * today's core working. To be deleted when lib/run.c comes. */
#include <errno.h>

#include "internal.h"

int al_run_begin(uint8_t shim, uintptr_t loop, struct al_run *run) {
  int saved = errno;

  run->loop = loop;
  run->guard = 0;
  run->slot = -1;
  run->shim = shim;
  run->graceful = 0;
  al_loop_ran(shim, loop);
  al_shutdown_arm(AL_ARM_RUN);
  errno = saved;
  return 0;
}

void al_run_end(struct al_run *run) {
  (void)run;
}

int al_run_here(uint8_t shim, uintptr_t loop) {
  (void)shim;
  (void)loop;
  return 0;
}

int al_run_anywhere(uintptr_t loop) {
  (void)loop;
  return 0;
}

int al_run_until(uint8_t shim, uintptr_t loop, unsigned timeout_ms,
                 int (*done)(uintptr_t loop, void *arg), void *arg) {
  (void)shim;
  (void)loop;
  (void)timeout_ms;
  (void)done;
  (void)arg;
  return -ENOSYS;
}

void al_run_forget(uintptr_t loop) {
  (void)loop;
}
