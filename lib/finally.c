/* Finalizers: cleanup that needs the loop alive, run as the loop closes,
 * then a bounded drain of the work it started. Loop-neutral: the loop's
 * shim runs the loop. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "asyncleak.h"
#include "internal.h"

/* Finalizers may register more; they run too, this many rounds at most. */
#define MAX_ROUNDS 8

AL_EXPORT int asyncleak_run_finally(void *loop, asyncleak_finally_fn fn,
                                    void *arg) {
  struct al_fin *f;
  int rc;

  if (loop == NULL || fn == NULL)
    return -EINVAL;
  al_init();
  f = malloc(sizeof(*f));
  if (f == NULL)
    return -ENOMEM;
  f->fn = fn;
  f->arg = arg;
  rc = al_loop_fin_add((uintptr_t)loop, f);
  if (rc != 0)
    free(f);
  return rc;
}

AL_EXPORT int asyncleak_cancel_finally(void *loop, asyncleak_finally_fn fn,
                                       void *arg) {
  if (loop == NULL || fn == NULL)
    return -EINVAL;
  return al_loop_fin_remove((uintptr_t)loop, fn, arg);
}

AL_EXPORT int asyncleak_loop_close(void *loop) {
  int shim;

  if (loop == NULL)
    return -EINVAL;
  shim = al_loop_shim((uintptr_t)loop);
  if (shim < 0)
    return shim;
  al_finally_run((uintptr_t)loop);
  return al_shims[shim]->close((uintptr_t)loop);
}

/* Puts back finalizers that could not run, keeping their order. */
static void put_back(uintptr_t loop, struct al_fin *f) {
  if (f == NULL)
    return;
  put_back(loop, f->next);
  if (al_loop_fin_add(loop, f) != 0)
    free(f);
}

int al_finally_run(uintptr_t loop) {
  void *named[AL_FIN_NAMED] = {0};
  const struct al_shim *sh = NULL;
  unsigned nnamed = 0;
  int rc = 0;

  for (int round = 0; round < MAX_ROUNDS; round++) {
    uint8_t shim;
    struct al_fin *f = al_loop_fin_take(loop, &shim);
    if (f == NULL)
      break;
    sh = al_shims[shim];
    if (sh->running(loop)) {
      put_back(loop, f);
      al_loop_fin_outcome(loop, AL_FIN_SKIPPED, named);
      return -EDEADLK;
    }
    while (f != NULL) {
      struct al_fin *next = f->next;
      if (nnamed < AL_FIN_NAMED)
        named[nnamed++] = (void *)f->fn;
      f->fn((void *)loop, f->arg);
      free(f);
      f = next;
    }
  }
  if (sh == NULL)
    return 0;
  rc = sh->drain(loop, (unsigned)al_opt.drain_timeout_ms);
  al_loop_fin_outcome(loop, rc == -ETIMEDOUT ? AL_FIN_TIMEOUT : 0, named);
  return rc;
}
