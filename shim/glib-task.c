/* GIO's GTask, as the program's pending work: a task the program made is
 * a request from g_task_new until it returns (any g_task_return_*), or
 * until it is finalized without returning, after which nothing can
 * complete it and GLib says so itself. A task left neither returned nor
 * finalized at exit is reported pending, with where it was made, on the
 * context it will call back on.
 *
 * GIO's own tasks are made and returned inside libgio, whose calls to
 * itself never reach an interposer: they are not followed. A task of the
 * program's that GIO returns itself (g_task_set_return_on_cancel) is
 * learnt of when it is finalized. The finalization is learnt from a weak
 * reference of the runtime's, which GObject calls as it disposes the
 * task, before its memory goes. */
#define _GNU_SOURCE
#include <gio/gio.h>
#include <stdarg.h>

#include "glib-shim.h"

/* The task is done: returned, or going away. */
static void task_done(gpointer task) {
  void *cb;
  int saved = errno;

  if (AL_UNLIKELY(al_locks_held != 0))
    al_defer_closed((uintptr_t)task);
  else
    al_req_done((uintptr_t)task, &cb);
  errno = saved;
}

static void task_finalized(gpointer data, GObject *task) {
  (void)data;
  task_done(task);
}

AL_EXPORT GTask *g_task_new(gpointer source_object, GCancellable *cancellable,
                            GAsyncReadyCallback callback,
                            gpointer callback_data) {
  __typeof__(&g_task_new) real = REAL(g_task_new);
  __typeof__(&g_task_get_context) get_context = USE(g_task_get_context);
  __typeof__(&g_object_weak_ref) weak_ref = USE(g_object_weak_ref);
  GMainContext *ctx;
  GTask *task;
  int outer, saved;

  if (real == NULL)
    return NULL;
  outer = al_glib_enter(NULL);
  task = real(source_object, cancellable, callback, callback_data);
  al_glib_leave();
  if (!outer || task == NULL || get_context == NULL || weak_ref == NULL ||
      AL_UNLIKELY(al_locks_held != 0))
    return task;
  saved = errno;
  ctx = al_glib_context(get_context(task));
  al_glib_context_used(ctx);
  if (al_req_start(al_glib_shim_id, (uintptr_t)task, R_TASK, (uintptr_t)ctx,
                   (void *)callback, al_stack_capture()) == 0)
    weak_ref((GObject *)task, task_finalized, NULL);
  errno = saved;
  return task;
}

/* Each return: the task is done, then GLib's return, which may call the
 * program's callback before it returns (from a later turn of the task's
 * context), where the task must not count as pending any more. A return
 * GLib refuses is of a task returned already. */
#define RETURN(name, params, args)                                            \
  AL_EXPORT void name params {                                                \
    __typeof__(&name) real = REAL(name);                                      \
    if (real == NULL)                                                         \
      return;                                                                 \
    al_glib_ensure();                                                         \
    task_done(task);                                                          \
    real args;                                                                \
  }

RETURN(g_task_return_pointer,
       (GTask * task, gpointer result, GDestroyNotify result_destroy),
       (task, result, result_destroy))
RETURN(g_task_return_boolean, (GTask * task, gboolean result),
       (task, result))
RETURN(g_task_return_int, (GTask * task, gssize result), (task, result))
RETURN(g_task_return_error, (GTask * task, GError *error), (task, error))
RETURN(g_task_return_value, (GTask * task, GValue *result), (task, result))

AL_EXPORT gboolean g_task_return_error_if_cancelled(GTask *task) {
  __typeof__(&g_task_return_error_if_cancelled) real =
      REAL(g_task_return_error_if_cancelled);
  __typeof__(&g_task_get_cancellable) get_cancellable =
      USE(g_task_get_cancellable);
  __typeof__(&g_cancellable_is_cancelled) is_cancelled =
      USE(g_cancellable_is_cancelled);
  gboolean returned;

  if (real == NULL)
    return FALSE;
  al_glib_ensure();
  /* It returns the task when its cancellable is cancelled. */
  if (get_cancellable != NULL && is_cancelled != NULL && task != NULL &&
      is_cancelled(get_cancellable(task)))
    task_done(task);
  returned = real(task);
  return returned;
}

/* Variadic, with no va_list form: done as GIO does it, an error made
 * from the format, then returned. */
AL_EXPORT void g_task_return_new_error(GTask *task, GQuark domain, gint code,
                                       const char *format, ...) {
  __typeof__(&g_error_new_valist) new_error = USE(g_error_new_valist);
  __typeof__(&g_task_return_error) ret = REAL(g_task_return_error);
  GError *error;
  va_list ap;

  if (new_error == NULL || ret == NULL)
    return;
  al_glib_ensure();
  va_start(ap, format);
  error = new_error(domain, code, format, ap);
  va_end(ap);
  task_done(task);
  ret(task, error);
}

const char *al_glib_req_type_name(unsigned type) {
  return type == R_TASK ? "GTask" : NULL;
}

int al_glib_requests(uintptr_t loop) {
  return al_req_pending_on(loop, 0);
}
