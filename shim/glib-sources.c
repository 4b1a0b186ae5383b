/* GLib's sources: the attach interposers, the convenience functions that
 * make and attach one, and the report's view of what they recorded.
 *
 * Debian's libglib is linked with -Bsymbolic-functions: its calls to
 * itself never reach an interposer. g_timeout_add attaches its source
 * inside GLib, and a source whose callback returns G_SOURCE_REMOVE is
 * destroyed there too. So:
 *
 * - The convenience functions (g_timeout_add and the others) are done
 *   here as GLib does them, through GLib's own public calls: make the
 *   source, set its priority, its callback, attach it, drop the
 *   reference. The runtime holds the source from its making to its
 *   attach, and records it before any other thread can see it.
 * - A source's removal is learnt from its callback. GLib keeps a source's
 *   callback as a reference-counted pair of data and functions
 *   (GSourceCallbackFuncs) and lets go of it exactly when the source is
 *   destroyed, however that happens (g_source_remove, g_source_destroy,
 *   a callback returning G_SOURCE_REMOVE, its context's last unref). The
 *   runtime's own callback pair stands in front of the program's: it hands
 *   GLib the program's function and data whenever GLib asks, and passes
 *   on the program's destroy notify when GLib lets go. A source the
 *   program attaches with no callback gets one that gives none.
 *
 * A context's last g_main_context_unref destroys every source still
 * attached to it, runs their destroy notifies and frees them: GLib's
 * documented way to end a private context, which its own tests use, and
 * no leak. GLib first sets the context of each of its sources to NULL,
 * then lets go of their callbacks one by one, while all of them are still
 * in memory. The context is closed, with its sources (al_loop_freeing),
 * its GTasks still pending staying pending, by whichever comes first: the
 * last unref seen (shim/glib.c), or the first of the program's sources
 * let go with a NULL context, for a last unref inside libglib.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "glib-shim.h"

/* ------------------------------------------------------------- the kinds */

/* GLib's GSourceFuncs of each kind, where GLib itself refers to them (a
 * program's copy relocation moves them into the executable). */
static _Atomic(const GSourceFuncs *) kinds[T_LAST];
static atomic_int kinds_known;

static void learn_kinds(void) {
  static const char *const names[T_LAST] = {
      [T_TIMEOUT - 1] = "g_timeout_funcs",
      [T_IDLE - 1] = "g_idle_funcs",
      [T_IO - 1] = "g_io_watch_funcs",
      [T_CHILD - 1] = "g_child_watch_funcs",
      [T_SIGNAL - 1] = "g_unix_signal_funcs",
      [T_FD - 1] = "g_unix_fd_source_funcs",
  };

  for (int i = 0; i < T_LAST; i++)
    if (names[i] != NULL)
      atomic_store(&kinds[i], dlsym(RTLD_DEFAULT, names[i]));
  atomic_store_explicit(&kinds_known, 1, memory_order_release);
}

static unsigned kind_of(const GSourceFuncs *funcs) {
  if (!atomic_load_explicit(&kinds_known, memory_order_acquire))
    learn_kinds();
  for (unsigned i = 0; i < T_LAST; i++)
    if (funcs != NULL &&
        atomic_load_explicit(&kinds[i], memory_order_relaxed) == funcs)
      return i + 1;
  return T_SOURCE;
}

/* ------------------------------------------------------- the callback pair */

enum cb_mode {
  CB_FORWARD,  /* the program's pair (g_source_set_callback_indirect's, or
                  GLib's own made by g_source_set_callback), passed on */
  CB_DIRECT,   /* a function, its data and its destroy notify */
  CB_NONE,     /* the program gave the source no callback */
  CB_ONCE,     /* g_timeout_add_once, g_idle_add_once: a GSourceOnceFunc */
};

struct cb {
  atomic_uint refs;
  enum cb_mode mode;
  GSource *source;
  GMainContext *context;
  gpointer data;                /* CB_FORWARD's, CB_DIRECT's, CB_ONCE's */
  GSourceCallbackFuncs *funcs;  /* CB_FORWARD */
  GSourceFunc fn;               /* CB_DIRECT, CB_ONCE */
  GDestroyNotify notify;        /* CB_DIRECT */
  atomic_int quiet;             /* set aside by a failed test's isolation */
  const char *call;             /* what set the callback: static text */
};

static void cb_ref(gpointer p);
static void cb_unref(gpointer p);
static void cb_get(gpointer p, GSource *source, GSourceFunc *fn,
                   gpointer *data);
static GSourceCallbackFuncs cb_funcs = {cb_ref, cb_unref, cb_get};

static struct cb *cb_new(enum cb_mode mode, GSource *source,
                         GMainContext *context) {
  struct cb *c = calloc(1, sizeof(*c));

  if (c != NULL) {
    atomic_init(&c->refs, 1);
    c->mode = mode;
    c->source = source;
    c->context = context;
  }
  return c;
}

/* ------------------------------------------------ the slow-callback check */

/* GLib dispatches a source on the thread that runs its context: it takes
 * a reference of the source's callback pair, gets the function and data
 * from it, calls the source's dispatch function (which calls the
 * program's), then lets go of its reference. With slow_callback_ms on,
 * the get that follows a reference on the same thread starts the clock
 * and the unref stops it: the program's callback and the few
 * instructions of GLib's dispatch function around it. What GLib calls is
 * not changed. A get without the reference before it is GLib looking for
 * a source by its data, and no dispatch; an unref while the source is
 * still the one GLib says it is dispatching is the program's, inside its
 * callback (another callback set), and ends nothing. Dispatches nest
 * (a callback that iterates a context): the innermost DISPATCHES are
 * timed. */
#define DISPATCHES 4

struct dispatch {
  struct cb *c;
  struct al_slow slow;
};

static AL_TLS struct cb *referenced;
static AL_TLS struct dispatch dispatches[DISPATCHES];
static AL_TLS unsigned ndispatches;

static void dispatch_begin(struct cb *c, GSource *source, GSourceFunc fn) {
  struct dispatch *d;
  void *what = (void *)fn;

  if (ndispatches == DISPATCHES)
    return;
  d = &dispatches[ndispatches++];
  d->c = c;
  /* The program's function, not the runtime's trampoline; a source with
   * no callback is its own dispatch function. */
  if (c->mode == CB_ONCE)
    what = (void *)c->fn;
  else if (c->mode == CB_NONE && source->source_funcs != NULL)
    what = (void *)source->source_funcs->dispatch;
  al_slow_begin(&d->slow, c->call != NULL ? c->call : "g_source_attach",
                al_glib_shim_id, kind_of(source->source_funcs), AL_RES_OPEN,
                (uintptr_t)source, what);
}

static void dispatch_end(struct cb *c) {
  __typeof__(&g_main_current_source) current = USE(g_main_current_source);

  if (ndispatches == 0 || dispatches[ndispatches - 1].c != c ||
      (current != NULL && current() == c->source))
    return;
  ndispatches--;
  al_slow_end(&dispatches[ndispatches].slow);
}

static void cb_ref(gpointer p) {
  struct cb *c = p;

  atomic_fetch_add_explicit(&c->refs, 1, memory_order_relaxed);
  if (AL_UNLIKELY(al_opt.slow_callback_ms > 0))
    referenced = c;
}

static gboolean once_trampoline(gpointer p) {
  struct cb *c = p;

  ((GSourceOnceFunc)(void (*)(void))c->fn)(c->data);
  return G_SOURCE_REMOVE;
}

/* What a quieted timeout or idle calls instead of the program's function:
 * nothing, and it stays attached, as the program left it. */
static gboolean quieted(gpointer p) {
  (void)p;
  return G_SOURCE_CONTINUE;
}

/* Whatever GLib asks, it gets the program's function and data, unless
 * the source was quieted. */
static void cb_get(gpointer p, GSource *source, GSourceFunc *fn,
                   gpointer *data) {
  struct cb *c = p;

  switch (c->mode) {
  case CB_FORWARD:
    c->funcs->get(c->data, source, fn, data);
    break;
  case CB_DIRECT:
    *fn = c->fn;
    *data = c->data;
    break;
  case CB_ONCE:
    *fn = once_trampoline;
    *data = c;
    break;
  case CB_NONE:
    /* No function; for data, a pointer no program holds, so that
     * g_main_context_find_source_by_user_data never finds the source by
     * the data it has not got (GLib's own tests look for NULL). */
    *fn = NULL;
    *data = c;
    break;
  }
  /* The data stays the program's: g_source_remove_by_user_data still
   * finds a quieted source. */
  if (atomic_load_explicit(&c->quiet, memory_order_relaxed))
    *fn = quieted;
  if (AL_UNLIKELY(al_opt.slow_callback_ms > 0)) {
    if (referenced == c)
      dispatch_begin(c, source, *fn);
    referenced = NULL;
  }
}

/* The context's last reference went: it is closed, with its sources,
 * once. Its memory is not read. */
void al_glib_context_gone(GMainContext *ctx) {
  uintptr_t l = (uintptr_t)ctx;
  struct al_loop loop;

  if (al_loop_get(l, &loop) == 0) {
    al_glib_context_ended();
    al_loop_gone(l, al_loop_freeing(l));
  }
}

/* GLib let go of the callback: the source was destroyed, or the program
 * gave it another callback (which is the runtime's again, set_callback
 * below). The source is still in memory: GLib lets go of a callback
 * while it holds the source (destroying it, dispatching it, or setting
 * another callback on it). */
static void cb_dropped(struct cb *c) {
  uintptr_t addr = (uintptr_t)c->source;
  int saved = errno;

  if (c->source->flags & G_HOOK_FLAG_ACTIVE && c->source->context != NULL)
    return; /* another callback */
  if (AL_UNLIKELY(al_locks_held != 0)) {
    /* A signal handler that interrupted the runtime destroyed it. */
    if (c->source->context != NULL)
      al_defer_closed(addr);
    else
      al_defer_missed();
  } else if (c->source->context == NULL) {
    /* Destroyed with its context; the first to go closes it. */
    al_glib_context_gone(c->context);
  } else {
    /* Where it was destroyed, for the use-after-close check: GLib lets
     * go of the callback inside the program's g_source_destroy or
     * g_source_remove, or as its callback returned G_SOURCE_REMOVE. */
    if (AL_UNLIKELY(al_opt.check_closes))
      al_close_note(addr);
    if (al_res_forget(addr))
      al_shutdown_saw_close((uintptr_t)c->context, addr);
  }
  errno = saved;
}

static void cb_unref(gpointer p) {
  struct cb *c = p;

  if (AL_UNLIKELY(al_opt.slow_callback_ms > 0))
    dispatch_end(c);
  if (atomic_fetch_sub_explicit(&c->refs, 1, memory_order_acq_rel) != 1)
    return;
  cb_dropped(c);
  /* What GLib's own callback would do now: the program's destroy notify
   * runs, on the thread that let go, once. */
  if (c->mode == CB_FORWARD && c->funcs->unref != NULL)
    c->funcs->unref(c->data);
  else if (c->mode == CB_DIRECT && c->notify != NULL)
    c->notify(c->data);
  free(c);
}

/* Puts the runtime's pair in front of the source's own, which the program
 * made and holds, not yet attached. */
static struct cb *cb_front(GSource *s, GMainContext *ctx) {
  struct cb *c = cb_new(s->callback_funcs != NULL ? CB_FORWARD : CB_NONE, s,
                        ctx);

  if (c == NULL)
    return NULL;
  c->data = s->callback_data;
  c->funcs = s->callback_funcs;
  c->call = "g_source_attach";
  s->callback_data = c;
  s->callback_funcs = &cb_funcs;
  return c;
}

static int followed(const GSource *s) {
  return s != NULL && s->callback_funcs == &cb_funcs;
}

/* ----------------------------------------------------------------- attach */

/* The program's source, not attached yet, is about to be attached to ctx
 * (NULL for the default): records it and puts the runtime's callback in
 * front of its own. Returns 0 when it is followed. */
static int follow(GSource *s, GMainContext *ctx) {
  GMainContext *c = al_glib_context(ctx);
  unsigned type;

  if (c == NULL || s == NULL || s->context != NULL ||
      !(s->flags & G_HOOK_FLAG_ACTIVE) || followed(s) ||
      AL_UNLIKELY(al_locks_held != 0))
    return -1;
  type = kind_of(s->source_funcs);
  al_glib_context_used(c);
  if (cb_front(s, c) == NULL)
    return -1;
  al_made(al_glib_shim_id, (uintptr_t)s, type, (uintptr_t)c);
  return 0;
}

/* The use-after-close check (check_closes, docs/debug-checks.md). A
 * source's close is its destroy; a second destroy is allowed (GLib says
 * so), but an attach of a destroyed source is refused with a critical
 * warning that names neither call. GLib keeps the source's active flag
 * cleared from the destroy on: that flag decides, and the table of closes
 * names where it was destroyed, for the sources whose destroy the runtime
 * saw (cb_dropped). */
static void destroyed_check(GSource *s) {
  struct al_finding f = {0};

  if (s == NULL || (s->flags & G_HOOK_FLAG_ACTIVE))
    return;
  f.call = "g_source_attach";
  f.check = AL_CHECK_CLOSED;
  f.shim = al_glib_shim_id;
  f.type = (uint16_t)kind_of(s->source_funcs);
  al_close_lookup((uintptr_t)s, &f.other);
  al_finding_here(&f);
}

AL_EXPORT guint g_source_attach(GSource *source, GMainContext *context) {
  __typeof__(&g_source_attach) real = REAL(g_source_attach);
  guint id;
  int outer;

  if (real == NULL)
    return 0;
  outer = al_glib_enter(source);
  if (outer && AL_UNLIKELY(al_opt.check_closes))
    destroyed_check(source);
  if (outer) {
    int saved = errno;
    follow(source, context);
    errno = saved;
  }
  id = real(source, context);
  al_glib_leave();
  return id;
}

/* A followed source given another callback: the new one goes behind a
 * pair of the runtime's too, and GLib lets go of the old pair, which
 * finds the source still attached. */
static struct cb *refollow(GSource *s, enum cb_mode mode) {
  struct al_res r;
  struct cb *c;

  /* Its context from its record, not from its pair, which another thread
   * destroying the source may be letting go of. */
  if (!followed(s) || al_res_get((uintptr_t)s, &r) != 0 ||
      (c = cb_new(mode, s, (GMainContext *)r.loop)) == NULL)
    return NULL;
  return c;
}

AL_EXPORT void g_source_set_callback(GSource *source, GSourceFunc func,
                                     gpointer data, GDestroyNotify notify) {
  __typeof__(&g_source_set_callback) real = REAL(g_source_set_callback);
  __typeof__(&g_source_set_callback_indirect) indirect =
      REAL(g_source_set_callback_indirect);
  struct cb *c;

  if (real == NULL || indirect == NULL)
    return;
  al_glib_ensure();
  if ((c = refollow(source, CB_DIRECT)) == NULL) {
    real(source, func, data, notify);
    return;
  }
  c->fn = func;
  c->data = data;
  c->notify = notify;
  c->call = "g_source_set_callback";
  indirect(source, c, &cb_funcs);
}

AL_EXPORT void g_source_set_callback_indirect(GSource *source, gpointer data,
                                              GSourceCallbackFuncs *funcs) {
  __typeof__(&g_source_set_callback_indirect) real =
      REAL(g_source_set_callback_indirect);
  struct cb *c;

  if (real == NULL)
    return;
  al_glib_ensure();
  /* No funcs takes the callback away: the source stays followed, with a
   * pair that gives none. */
  if ((c = refollow(source, funcs != NULL ? CB_FORWARD : CB_NONE)) == NULL) {
    real(source, data, funcs);
    return;
  }
  if (funcs != NULL) {
    c->data = data;
    c->funcs = funcs;
  }
  c->call = "g_source_set_callback_indirect";
  real(source, c, &cb_funcs);
}

/* ---------------------------------------------- the convenience functions */

/* What each of them does, in GLib's own calls: the source made, its
 * priority where it is not the kind's, its callback, attached to the
 * default context, the reference dropped. mode: CB_DIRECT or CB_ONCE. */
static guint add(const char *call, GSource *s, struct cb *c, gint priority,
                 gint kind_priority, GSourceFunc fn, gpointer data,
                 GDestroyNotify notify) {
  __typeof__(&g_source_set_priority) set_priority = USE(g_source_set_priority);
  __typeof__(&g_source_attach) attach = REAL(g_source_attach);
  __typeof__(&g_source_unref) unref = USE(g_source_unref);
  int saved = errno;
  guint id;

  if (s == NULL || set_priority == NULL || attach == NULL || unref == NULL) {
    free(c);
    return 0;
  }
  if (priority != kind_priority)
    set_priority(s, priority);
  c->source = s;
  c->call = call;
  c->fn = fn;
  c->data = data;
  c->notify = notify;
  s->callback_data = c;
  s->callback_funcs = &cb_funcs;
  al_glib_context_used(c->context);
  al_made(al_glib_shim_id, (uintptr_t)s, kind_of(s->source_funcs),
          (uintptr_t)c->context);
  errno = saved;
  id = attach(s, NULL);
  unref(s);
  return id;
}

/* The runtime's pair for a convenience function's source, made first: a
 * call it cannot follow (no memory, or a signal handler inside the
 * runtime) is GLib's own, and the program's callback is never lost. */
static struct cb *pair_for_default(enum cb_mode mode) {
  GMainContext *ctx;
  int saved = errno;
  struct cb *c = NULL;

  if (AL_LIKELY(al_locks_held == 0) && (ctx = al_glib_context(NULL)) != NULL)
    c = cb_new(mode, NULL, ctx);
  errno = saved;
  return c;
}

/* Each convenience function: GLib's own when GLib calls it, when its
 * argument is one GLib refuses (which says so), or when it cannot be
 * followed; else done as above. */
#define CONVENIENCE(ret, name, params, args, check, make, prio, kprio, mode,  \
                    fn, data, notify)                                         \
  AL_EXPORT ret name params {                                                 \
    __typeof__(&name) real = REAL(name);                                      \
    struct cb *c = NULL;                                                      \
    ret id;                                                                   \
    if (real == NULL)                                                         \
      return 0;                                                               \
    if (!al_glib_enter(NULL) || !(check) ||                                   \
        (c = pair_for_default(mode)) == NULL) {                               \
      id = real args;                                                         \
    } else {                                                                  \
      GSource *s = (make);                                                    \
      id = add(#name, s, c, prio, kprio, (GSourceFunc)(void (*)(void))(fn),   \
               data, notify);                                                 \
    }                                                                         \
    al_glib_leave();                                                          \
    return id;                                                                \
  }

#define MAKE(name, ...)                                                       \
  (USE(name) != NULL ? USE(name)(__VA_ARGS__) : NULL)

CONVENIENCE(guint, g_timeout_add_full,
            (gint priority, guint interval, GSourceFunc function,
             gpointer data, GDestroyNotify notify),
            (priority, interval, function, data, notify), function != NULL,
            MAKE(g_timeout_source_new, interval), priority,
            G_PRIORITY_DEFAULT, CB_DIRECT, function, data, notify)
CONVENIENCE(guint, g_timeout_add,
            (guint32 interval, GSourceFunc function, gpointer data),
            (interval, function, data), function != NULL,
            MAKE(g_timeout_source_new, interval), G_PRIORITY_DEFAULT,
            G_PRIORITY_DEFAULT, CB_DIRECT, function, data, NULL)
CONVENIENCE(guint, g_timeout_add_once,
            (guint32 interval, GSourceOnceFunc function, gpointer data),
            (interval, function, data), function != NULL,
            MAKE(g_timeout_source_new, interval), G_PRIORITY_DEFAULT,
            G_PRIORITY_DEFAULT, CB_ONCE, function, data, NULL)
CONVENIENCE(guint, g_timeout_add_seconds_full,
            (gint priority, guint32 interval, GSourceFunc function,
             gpointer data, GDestroyNotify notify),
            (priority, interval, function, data, notify), function != NULL,
            MAKE(g_timeout_source_new_seconds, interval), priority,
            G_PRIORITY_DEFAULT, CB_DIRECT, function, data, notify)
CONVENIENCE(guint, g_timeout_add_seconds,
            (guint interval, GSourceFunc function, gpointer data),
            (interval, function, data), function != NULL,
            MAKE(g_timeout_source_new_seconds, interval), G_PRIORITY_DEFAULT,
            G_PRIORITY_DEFAULT, CB_DIRECT, function, data, NULL)
CONVENIENCE(guint, g_idle_add_full,
            (gint priority, GSourceFunc function, gpointer data,
             GDestroyNotify notify),
            (priority, function, data, notify), function != NULL,
            MAKE(g_idle_source_new), priority, G_PRIORITY_DEFAULT_IDLE,
            CB_DIRECT, function, data, notify)
CONVENIENCE(guint, g_idle_add, (GSourceFunc function, gpointer data),
            (function, data), function != NULL, MAKE(g_idle_source_new),
            G_PRIORITY_DEFAULT_IDLE, G_PRIORITY_DEFAULT_IDLE, CB_DIRECT,
            function, data, NULL)
CONVENIENCE(guint, g_idle_add_once, (GSourceOnceFunc function, gpointer data),
            (function, data), function != NULL, MAKE(g_idle_source_new),
            G_PRIORITY_DEFAULT_IDLE, G_PRIORITY_DEFAULT_IDLE, CB_ONCE,
            function, data, NULL)
CONVENIENCE(guint, g_io_add_watch_full,
            (GIOChannel * channel, gint priority, GIOCondition condition,
             GIOFunc func, gpointer data, GDestroyNotify notify),
            (channel, priority, condition, func, data, notify),
            channel != NULL, MAKE(g_io_create_watch, channel, condition),
            priority, G_PRIORITY_DEFAULT, CB_DIRECT, func, data, notify)
CONVENIENCE(guint, g_io_add_watch,
            (GIOChannel * channel, GIOCondition condition, GIOFunc func,
             gpointer data),
            (channel, condition, func, data), channel != NULL,
            MAKE(g_io_create_watch, channel, condition), G_PRIORITY_DEFAULT,
            G_PRIORITY_DEFAULT, CB_DIRECT, func, data, NULL)
CONVENIENCE(guint, g_child_watch_add_full,
            (gint priority, GPid pid, GChildWatchFunc function,
             gpointer data, GDestroyNotify notify),
            (priority, pid, function, data, notify),
            function != NULL && pid > 0, MAKE(g_child_watch_source_new, pid),
            priority, G_PRIORITY_DEFAULT, CB_DIRECT, function, data, notify)
CONVENIENCE(guint, g_child_watch_add,
            (GPid pid, GChildWatchFunc function, gpointer data),
            (pid, function, data), function != NULL && pid > 0,
            MAKE(g_child_watch_source_new, pid), G_PRIORITY_DEFAULT,
            G_PRIORITY_DEFAULT, CB_DIRECT, function, data, NULL)
/* GLib refuses a signal it does not watch (its source is NULL). */
#define WATCHED_SIGNAL(n)                                                     \
  ((n) == SIGHUP || (n) == SIGINT || (n) == SIGTERM || (n) == SIGUSR1 ||      \
   (n) == SIGUSR2 || (n) == SIGWINCH)
CONVENIENCE(guint, g_unix_signal_add_full,
            (gint priority, gint signum, GSourceFunc handler,
             gpointer data, GDestroyNotify notify),
            (priority, signum, handler, data, notify),
            WATCHED_SIGNAL(signum),
            MAKE(g_unix_signal_source_new, signum), priority,
            G_PRIORITY_DEFAULT, CB_DIRECT, handler, data, notify)
CONVENIENCE(guint, g_unix_signal_add,
            (gint signum, GSourceFunc handler, gpointer data),
            (signum, handler, data), WATCHED_SIGNAL(signum),
            MAKE(g_unix_signal_source_new, signum), G_PRIORITY_DEFAULT,
            G_PRIORITY_DEFAULT, CB_DIRECT, handler, data, NULL)
CONVENIENCE(guint, g_unix_fd_add_full,
            (gint priority, gint fd, GIOCondition condition,
             GUnixFDSourceFunc function, gpointer data,
             GDestroyNotify notify),
            (priority, fd, condition, function, data, notify),
            function != NULL, MAKE(g_unix_fd_source_new, fd, condition),
            priority, G_PRIORITY_DEFAULT, CB_DIRECT, function, data, notify)
CONVENIENCE(guint, g_unix_fd_add,
            (gint fd, GIOCondition condition, GUnixFDSourceFunc function,
             gpointer data),
            (fd, condition, function, data), function != NULL,
            MAKE(g_unix_fd_source_new, fd, condition), G_PRIORITY_DEFAULT,
            G_PRIORITY_DEFAULT, CB_DIRECT, function, data, NULL)

/* ------------------------------------------------------------ force */

/* Reads the source at addr into *s: 0 when it is a followed source still
 * attached, the only kind force and quiet act on (GLib's refusal of
 * another would be a message the program never caused). */
static int attached_source(uintptr_t addr, GSource *s) {
  return al_safe_read(s, (const void *)addr, sizeof(*s)) == 0 &&
                 s->ref_count != 0 && (s->flags & G_HOOK_FLAG_ACTIVE) &&
                 s->context != NULL && s->callback_funcs == &cb_funcs
             ? 0
             : -1;
}

void al_glib_destroy_source(uintptr_t addr) {
  __typeof__(&g_source_destroy) destroy = USE(g_source_destroy);
  GSource s;

  if (destroy == NULL || attached_source(addr, &s) != 0)
    return;
  al_call_own_begin(&al_glib_calls);
  destroy((GSource *)addr);
  al_call_own_end(&al_glib_calls);
}

/* ------------------------------------------------------------ quiet */

/* GLib has no way to stop a source but to destroy it, and no reference of
 * a source's on its loop: a g_main_loop_run runs until it is quit. What
 * the runtime can do without destroying is keep the program's callback
 * from running. It does that for the kinds that call back by themselves,
 * a timeout and an idle, whose callback is a GSourceFunc: the runtime's
 * callback pair, in front of the program's, hands GLib a function that
 * does nothing and keeps the source attached. The source wakes its
 * context as it did (an idle still keeps it from sleeping); the program
 * may still remove it, and its destroy notify runs then. A callback the
 * program sets anew comes back. Any other kind (an io watch, a child
 * watch, a signal) answers an event, which its callback may be the one to
 * consume: it is left as it is. */
int al_glib_quiet_source(uintptr_t addr) {
  enum cb_mode mode;
  GSource s;
  struct cb *c;
  unsigned type;

  if (attached_source(addr, &s) != 0)
    return AL_QUIET_LEFT;
  type = kind_of(s.source_funcs);
  c = s.callback_data;
  if ((type != T_TIMEOUT && type != T_IDLE) ||
      al_safe_read(&mode, &c->mode, sizeof(mode)) != 0 ||
      (mode != CB_FORWARD && mode != CB_DIRECT && mode != CB_ONCE))
    return AL_QUIET_LEFT;
  atomic_store_explicit(&c->quiet, 1, memory_order_relaxed);
  return AL_QUIET_STOPPED;
}

/* ------------------------------------------------------------ the report */

static const char *const type_names[] = {
    [T_TIMEOUT] = "timeout source",  [T_IDLE] = "idle source",
    [T_IO] = "io watch",             [T_CHILD] = "child watch",
    [T_SIGNAL] = "unix signal source", [T_FD] = "unix fd source",
    [T_SOURCE] = "GSource",
};

const char *al_glib_type_name(unsigned type) {
  return type >= T_TIMEOUT && type <= T_LAST ? type_names[type] : NULL;
}

void al_glib_probe(const struct al_res *r, struct al_state *st) {
  GSource s;

  if (r->state == AL_RES_PENDING) {
    /* A GTask, forgotten as it returns or goes away. */
    st->known = 1;
    st->active = 1;
    st->referenced = 1;
    return;
  }
  if (al_safe_read(&s, (const void *)r->addr, sizeof(s)) != 0 ||
      s.ref_count == 0)
    return;
  st->known = 1;
  /* Destroyed, or being destroyed with its context (which set it NULL):
   * nothing is held. */
  if (!(s.flags & G_HOOK_FLAG_ACTIVE) || s.context == NULL) {
    st->idle = 1;
    return;
  }
  st->active = 1;
  st->referenced = 1;
}

/* What follows GSource in each kind's struct, the same in every GLib 2
 * release: a timeout's interval (then whether it counts in seconds),
 * an io watch's GPollFD, a child watch's pid, a signal's number, a unix
 * fd source's descriptor. */
union detail {
  struct {
    guint interval;
    gboolean seconds;
  } timeout;
  GPollFD io;
  GPid pid;
  int signum;
  gint fd;
};

static void conditions(char *buf, size_t len, unsigned cond) {
  static const struct {
    unsigned bit;
    const char *name;
  } names[] = {{G_IO_IN, "in"},   {G_IO_OUT, "out"}, {G_IO_PRI, "pri"},
               {G_IO_ERR, "err"}, {G_IO_HUP, "hup"}, {G_IO_NVAL, "nval"}};
  size_t n = 0;

  buf[0] = '\0';
  for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
    if ((cond & names[i].bit) && n < len)
      n += (size_t)snprintf(buf + n, len - n, "%s%s", n ? "|" : "",
                            names[i].name);
}

/* Whether name is the one GLib gives every source of the kind: it says
 * nothing the kind does not. */
static int default_name(unsigned type, const char *name) {
  static const char *const defaults[] = {
      [T_TIMEOUT] = "GTimeoutSource",   [T_IDLE] = "GIdleSource",
      [T_IO] = "GIOChannel (Unix)",     [T_CHILD] = "GChildWatchSource",
      [T_SIGNAL] = "GUnixSignalSource", [T_FD] = "GUnixFDSource",
  };
  const char *d = type < sizeof(defaults) / sizeof(defaults[0])
                      ? defaults[type]
                      : NULL;

  /* A signal source's is followed by ": SIGTERM". */
  return d != NULL && strncmp(name, d, strlen(d)) == 0 &&
         (name[strlen(d)] == '\0' ||
          (type == T_SIGNAL && name[strlen(d)] == ':'));
}

void al_glib_state_text(const struct al_res *r, const struct al_state *st,
                        char *buf, size_t len) {
  struct {
    GSource s;
    union detail d;
  } m;
  char what[96] = "", name[48] = "", cond[40];
  unsigned type = r->type;

  (void)st;
  if (al_safe_read(&m, (const void *)r->addr, sizeof(m)) != 0) {
    snprintf(buf, len, "attached");
    return;
  }
  switch (type) {
  case T_TIMEOUT:
    snprintf(what, sizeof(what), ": every %u %s", m.d.timeout.interval,
             m.d.timeout.seconds ? "s" : "ms");
    break;
  case T_IO:
    conditions(cond, sizeof(cond), m.d.io.events);
    snprintf(what, sizeof(what), ": fd %d, %s", m.d.io.fd, cond);
    break;
  case T_CHILD:
    snprintf(what, sizeof(what), ": pid %d", (int)m.d.pid);
    break;
  case T_SIGNAL:
    snprintf(what, sizeof(what), ": signal %d (%s)", m.d.signum,
             sigabbrev_np(m.d.signum) ? sigabbrev_np(m.d.signum) : "?");
    break;
  case T_FD:
    snprintf(what, sizeof(what), ": fd %d", m.d.fd);
    break;
  default:
    break;
  }
  if (m.s.name != NULL &&
      al_safe_read(name, m.s.name, sizeof(name) - 1) == 0) {
    name[sizeof(name) - 1] = '\0';
    if (default_name(type, name))
      name[0] = '\0';
    /* Unprintable bytes are not the report's. */
    for (char *p = name; *p; p++)
      if ((unsigned char)*p < 0x20 || *p == '"')
        *p = '?';
  }
  snprintf(buf, len, "attached%s%s%s%s", what, name[0] ? ", named \"" : "",
           name, name[0] ? "\"" : "");
}
