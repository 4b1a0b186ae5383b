/* What the GLib interposers share: GLib's description for the core, which
 * finds its real functions on first use and tells the program's calls from
 * GLib's own, and the source types as the registry numbers them. Private
 * to shim/glib*.c.
 *
 * GLib's loop is a GMainContext: the core's "loop" is a context, and its
 * "handles" are the sources attached to it. GMainLoop only runs a
 * context. */
#ifndef ASYNCLEAK_GLIB_SHIM_H_
#define ASYNCLEAK_GLIB_SHIM_H_

#include <errno.h>
#include <gio/gio.h>
#include <glib-unix.h>
#include <glib.h>
#include <stdatomic.h>
#include <stdint.h>

#include "calls.h"
#include "internal.h"

/* ---------------------------------------------------------- real functions */

/* Interposed. */
#define GLIB_FUNCS(X)                                                         \
  X(g_main_context_new) X(g_main_context_new_with_flags) X(g_main_loop_run)   \
  X(g_main_context_default) X(g_main_context_ref_thread_default)              \
  X(g_main_loop_new)                                                          \
  X(g_main_context_unref) X(g_main_loop_unref)                                \
  X(g_main_context_pop_thread_default)                                        \
  X(g_main_context_iteration) X(g_source_attach) X(g_source_set_callback)     \
  X(g_source_set_callback_indirect) X(g_timeout_add) X(g_timeout_add_full)    \
  X(g_timeout_add_once) X(g_timeout_add_seconds)                              \
  X(g_timeout_add_seconds_full) X(g_idle_add) X(g_idle_add_full)              \
  X(g_idle_add_once) X(g_io_add_watch) X(g_io_add_watch_full)                 \
  X(g_child_watch_add) X(g_child_watch_add_full) X(g_unix_signal_add)         \
  X(g_unix_signal_add_full) X(g_unix_fd_add) X(g_unix_fd_add_full)         \
  X(g_task_new) X(g_task_return_pointer) X(g_task_return_boolean)             \
  X(g_task_return_int) X(g_task_return_error) X(g_task_return_value)          \
  X(g_task_return_error_if_cancelled)

/* Called by the runtime, never interposed. */
#define GLIB_USED(X)                                                          \
  X(g_main_context_ref) X(g_main_context_get_thread_default)                 \
  X(g_main_context_acquire) X(g_main_context_release)                         \
  X(g_task_get_cancellable) X(g_cancellable_is_cancelled)                     \
  X(g_main_loop_get_context) X(g_main_loop_quit)                              \
  X(g_source_unref) X(g_source_destroy) X(g_source_set_priority)              \
  X(g_timeout_source_new)                                                     \
  X(g_timeout_source_new_seconds) X(g_idle_source_new) X(g_io_create_watch)   \
  X(g_child_watch_source_new) X(g_unix_signal_source_new)                     \
  X(g_unix_fd_source_new) X(g_task_get_context) X(g_object_weak_ref)          \
  X(g_error_new_valist) X(g_main_current_source)

enum {
#define X(name) F_##name,
  GLIB_FUNCS(X) GLIB_USED(X)
#undef X
  F_COUNT
};

/* GLib as the core knows it. */
extern struct al_loopsyms al_glib_lib;

#define REAL(name)                                                            \
  ((__typeof__(&name))al_loopsyms_get(&al_glib_lib, F_##name, (void *)&name))
/* For functions the runtime does not define: typeof takes no address. */
#define USE(name)                                                             \
  ((__typeof__(&name))al_loopsyms_get(&al_glib_lib, F_##name, NULL))

/* ------------------------------------------------------------ the shim */

/* Record types: a source, by kind (its GSourceFuncs). 0 is nobody's:
 * al_state.type 0 means "as recorded". */
enum {
  T_TIMEOUT = 1,
  T_IDLE,
  T_IO,
  T_CHILD,
  T_SIGNAL,
  T_FD,
  T_SOURCE, /* any other kind: the program's own GSourceFuncs, GIO's */
  T_LAST = T_SOURCE,
};

/* The one request type: a GTask of the program's not returned yet. */
enum { R_TASK = 1 };

/* Our index among the loop libraries. */
extern uint8_t al_glib_shim_id;

/* This thread's interposers on its stack (lib/calls.h). */
extern AL_TLS struct al_calls al_glib_calls;

static inline void al_glib_ensure(void) {
  al_loopsyms_ensure(&al_glib_lib);
}

/* Enters an interposer about obj; 1 when the program called it. */
#define al_glib_enter(obj)                                                    \
  al_call_enter(&al_glib_calls, &al_glib_lib, __builtin_return_address(0),  \
                (obj))

static inline void al_glib_leave(void) {
  al_call_leave(&al_glib_calls);
}

/* ------------------------------------------------------------ shim/glib.c */

/* The context a NULL the program gives GLib stands for, the default one
 * (made by GLib then if need be); NULL when GLib is not found. */
GMainContext *al_glib_context(GMainContext *ctx);
/* Whether ctx is the default context, as far as the program has shown
 * it: never made for the asking. */
int al_glib_is_default(GMainContext *ctx);
/* The context is one the program uses: recorded (made by GLib's code
 * or before the runtime came), unless it is known. */
void al_glib_context_used(GMainContext *ctx);
/* A context ended: what threads know of contexts recorded is looked at
 * again. */
void al_glib_context_ended(void);

/* ---------------------------------------------------- shim/glib-sources.c */

/* Names of the types. */
const char *al_glib_type_name(unsigned type);
/* The report's view of a record. */
void al_glib_probe(const struct al_res *r, struct al_state *st);
void al_glib_state_text(const struct al_res *r, const struct al_state *st,
                        char *buf, size_t len);
/* The context's last reference went: it is closed, with its sources,
 * unless it was already. Its memory is not read. */
void al_glib_context_gone(GMainContext *ctx);
/* Destroys the program's source at addr, as g_source_destroy would. */
void al_glib_destroy_source(uintptr_t addr);
/* Keeps the program's timeout or idle at addr from calling it back,
 * without destroying it: AL_QUIET_STOPPED, or AL_QUIET_LEFT for another
 * kind (lib/loop.h, quiet). */
int al_glib_quiet_source(uintptr_t addr);

/* ------------------------------------------------------- shim/glib-task.c */

const char *al_glib_req_type_name(unsigned type);
/* Whether a GTask of the program's is pending on the context. */
int al_glib_requests(uintptr_t loop);

#endif /* ASYNCLEAK_GLIB_SHIM_H_ */
