/* The finalizer API: what a program or a library asks to have done at its
 * loop's shutdown. Loop-neutral: the registry knows each loop's library.
 * The shutdown itself is in shutdown.c. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "asyncleak.h"
#include "finorder.h"
#include "internal.h"

int al_loop_known(uintptr_t addr, struct al_loop *l) {
  if (al_loop_get(addr, l) == 0)
    return 0;
  for (int i = 0; i < AL_MAX_SHIMS && al_shims[i] != NULL; i++) {
    if (al_shims[i]->claim != NULL && al_shims[i]->claim(addr)) {
      al_loop_open((uint8_t)i, addr, 0, NULL, 0);
      return al_loop_get(addr, l);
    }
  }
  return -ENOENT;
}

/* Forgets the resources of ensure_closure entries that are closed, keeping
 * the order of the rest. Runs on the loop's own thread. */
static void sweep(uintptr_t loop) {
  struct al_fin *f = al_loop_fin_take(loop), *keep = NULL;
  int ignored;

  while (f != NULL) {
    struct al_fin *next = f->next;
    if (f->kind == AL_FIN_ENSURE && f->is_closed(f->arg)) {
      free(f);
    } else {
      f->next = keep;
      keep = f; /* now oldest first */
    }
    f = next;
  }
  while (keep != NULL) {
    struct al_fin *next = keep->next;
    if (al_loop_fin_add(loop, keep, &ignored) != 0)
      free(keep);
    keep = next;
  }
  al_loop_sweep_done(loop);
}

static int add(void *loop, struct al_fin *f) {
  struct al_loop l;
  int rc, due = 0;

  al_init();
  rc = al_loop_known((uintptr_t)loop, &l);
  if (rc == 0)
    rc = al_loop_fin_add((uintptr_t)loop, f, &due);
  if (rc != 0) {
    free(f);
    return rc;
  }
  al_shutdown_arm(AL_ARM_API);
  if (due)
    sweep((uintptr_t)loop);
  return 0;
}

AL_EXPORT int asyncleak_run_finally(void *loop, asyncleak_finally_fn fn,
                                    void *arg) {
  struct al_fin *f;

  if (loop == NULL || fn == NULL)
    return -EINVAL;
  if ((f = calloc(1, sizeof(*f))) == NULL)
    return -ENOMEM;
  f->kind = AL_FIN_CALL;
  f->fn = fn;
  f->arg = arg;
  return add(loop, f);
}

struct forget {
  asyncleak_finally_fn fn;
  void *arg;
};

static int forget_orders(struct al_loop *l, void *arg) {
  const struct forget *f = arg;

  al_finorder_forget(l, f->fn, f->arg);
  return 0;
}

AL_EXPORT int asyncleak_cancel_finally(void *loop, asyncleak_finally_fn fn,
                                       void *arg) {
  struct forget f = {fn, arg};
  int rc;

  if (loop == NULL || fn == NULL)
    return -EINVAL;
  rc = al_loop_fin_remove((uintptr_t)loop, fn, arg);
  if (rc == 0)
    (void)al_loop_fins_visit((uintptr_t)loop, forget_orders, &f);
  return rc;
}

static int add_order(struct al_loop *l, void *edge) {
  return al_finorder_add(l, edge);
}

AL_EXPORT int asyncleak_finally_after(void *loop,
                                      asyncleak_finally_fn later_fn,
                                      void *later_arg,
                                      asyncleak_finally_fn earlier_fn,
                                      void *earlier_arg) {
  struct al_fin *edge;
  struct al_loop l;
  int rc;

  if (loop == NULL || later_fn == NULL || earlier_fn == NULL)
    return -EINVAL;
  al_init();
  if ((rc = al_loop_known((uintptr_t)loop, &l)) != 0)
    return rc;
  if ((edge = calloc(1, sizeof(*edge))) == NULL)
    return -ENOMEM;
  edge->kind = AL_FIN_AFTER;
  edge->fn = later_fn;
  edge->arg = later_arg;
  edge->before_fn = earlier_fn;
  edge->before_arg = earlier_arg;
  rc = al_loop_fins_visit((uintptr_t)loop, add_order, edge);
  if (rc != 0)
    free(edge);
  return rc;
}

AL_EXPORT int asyncleak_ensure_closure(void *loop, void *resource,
                                       int (*is_closed)(void *resource),
                                       void (*close)(void *resource)) {
  struct al_fin *f;

  if (loop == NULL || resource == NULL || is_closed == NULL || close == NULL)
    return -EINVAL;
  if ((f = calloc(1, sizeof(*f))) == NULL)
    return -ENOMEM;
  al_init();
  f->kind = AL_FIN_ENSURE;
  f->arg = resource;
  f->is_closed = is_closed;
  f->close = close;
  f->stack = al_stack_capture();
  return add(loop, f);
}

/* What a library whose records say all answers (al_shim.kind and
 * handle_open left NULL): a handle open on the loop, or a request pending
 * on it; a handle is open while its probe finds it armed. */
static enum al_kind kind_by_records(uintptr_t loop, uintptr_t addr) {
  struct al_res r;

  if (al_res_get(addr, &r) == 0 && r.loop == loop)
    return AL_KIND_HANDLE;
  if (al_req_get(addr, &r) == 0 && r.loop == loop)
    return AL_KIND_REQUEST;
  return AL_KIND_NONE;
}

static int open_by_records(uintptr_t loop, uintptr_t addr) {
  struct al_state st = {0};
  struct al_res r;

  if (al_res_get(addr, &r) != 0 || r.loop != loop || al_shims[r.shim] == NULL)
    return 0;
  al_shims[r.shim]->probe(&r, &st);
  return st.known && st.active;
}

int al_handle_open(const struct al_shim *sh, uintptr_t loop, uintptr_t addr) {
  return (sh->handle_open != NULL ? sh->handle_open : open_by_records)(loop,
                                                                       addr);
}

AL_EXPORT int asyncleak_shutdown_waits_for(void *loop,
                                           void *handle_or_request) {
  const struct al_shim *sh;
  struct al_fin *f;
  struct al_loop l;
  enum al_kind what;
  int rc;

  if (loop == NULL || handle_or_request == NULL)
    return -EINVAL;
  al_init();
  if ((rc = al_loop_known((uintptr_t)loop, &l)) != 0)
    return rc;
  sh = al_shims[l.shim];
  what = (sh->kind != NULL ? sh->kind : kind_by_records)(
      (uintptr_t)loop, (uintptr_t)handle_or_request);
  if (what == AL_KIND_NONE)
    return -EINVAL;
  /* Every request is waited for; a protected one is never cancelled.
   * Handles closed and requests done since their protection need it no
   * longer: the list stays as long as what is protected and alive. */
  al_loop_waits_prune((uintptr_t)loop, sh->handle_open != NULL
                                           ? sh->handle_open
                                           : open_by_records);
  if ((f = calloc(1, sizeof(*f))) == NULL)
    return -ENOMEM;
  f->kind = AL_FIN_WAIT;
  f->what = (uint8_t)what;
  f->arg = handle_or_request;
  if ((rc = add(loop, f)) == 0)
    al_shutdown_saw_wait((uintptr_t)loop, (uintptr_t)handle_or_request,
                         what);
  return rc;
}

AL_EXPORT int asyncleak_loop_close(void *loop) {
  struct al_loop l;
  int rc;

  if (loop == NULL)
    return -EINVAL;
  al_init();
  if ((rc = al_loop_known((uintptr_t)loop, &l)) != 0)
    return rc;
  rc = al_shutdown((uintptr_t)loop, AL_WHY_CALL);
  if (rc == -EDEADLK)
    return rc;
  /* A finalizer closed it, and may have freed its memory. */
  if (rc == AL_SHUTDOWN_CLOSED)
    return 0;
  return al_shims[l.shim]->close((uintptr_t)loop);
}
