/* The GLib interposers for contexts and their runs, and GLib as the core
 * sees it (lib/loop.h). Sources are in shim/glib-sources.c.
 *
 * The core's loop is a GMainContext. The default context is recorded when
 * the program first uses it, a context of the program's when it makes it,
 * and one GLib or GIO made when the program first attaches a source to it
 * or runs it. GLib's and GIO's own calls (a file monitor's source on the
 * worker context, GDBus's worker, the private context of a synchronous
 * call) make nothing the program is answerable for: calls from GLib's
 * libraries are GLib's own (AL_SYMS_CALLS_ITSELF), and so are their runs
 * of contexts other than the default one. */
#define _GNU_SOURCE
#include <stdlib.h>
#include <time.h>

#include "glib-shim.h"

/* ---------------------------------------------------------- real functions */

static const char *const func_names[F_COUNT] = {
#define X(name) #name,
    GLIB_FUNCS(X) GLIB_USED(X)
#undef X
};

static const char *const objects[] = {"libglib-2.0.so.0", NULL};
static struct al_loopsym syms[F_COUNT];
static void shim_init(void);

struct al_loopsyms al_glib_lib = {
    .name = "GLib",
    .id = AL_LIB_GLIB,
    .objects = objects,
    .load = "libglib-2.0.so.0",
    .funcs = func_names,
    .nfuncs = F_COUNT,
    /* GIO and GObject call GLib's public functions through the PLT from
     * code of their own, with no interposer on the stack. */
    .flags = AL_SYMS_CALLS_ITSELF,
    .missing = "the call does nothing",
    .init = shim_init,
    .syms = syms,
    .once = PTHREAD_ONCE_INIT,
};

AL_TLS struct al_calls al_glib_calls;
uint8_t al_glib_shim_id;

/* -------------------------------------------------------------- contexts */

/* The default context, once known, and whether it is recorded. GLib
 * makes it on first use, with a descriptor of its own: the runtime never
 * asks for it before the program does, and learns it where the program
 * gets it (a NULL context given to GLib, g_main_context_default,
 * g_main_context_ref_thread_default). */
static _Atomic(GMainContext *) default_context;
static atomic_int default_recorded;

static void default_is(GMainContext *ctx) {
  if (ctx != NULL &&
      atomic_load_explicit(&default_context, memory_order_relaxed) == NULL)
    atomic_store_explicit(&default_context, ctx, memory_order_release);
}

/* For a NULL the program gives GLib, which GLib takes for the default
 * context, making it if need be: asking for it then makes nothing GLib
 * would not have. */
GMainContext *al_glib_context(GMainContext *ctx) {
  __typeof__(&g_main_context_default) get = REAL(g_main_context_default);

  if (ctx != NULL)
    return ctx;
  ctx = atomic_load_explicit(&default_context, memory_order_acquire);
  if (AL_LIKELY(ctx != NULL) || get == NULL)
    return ctx;
  ctx = get();
  default_is(ctx);
  return ctx;
}

int al_glib_is_default(GMainContext *ctx) {
  return ctx != NULL &&
         ctx == atomic_load_explicit(&default_context, memory_order_acquire);
}

/* The program asks for the default context to use it (a finalizer to
 * register on it, a source to attach): it is recorded then. */
AL_EXPORT GMainContext *g_main_context_default(void) {
  __typeof__(&g_main_context_default) real = REAL(g_main_context_default);
  GMainContext *ctx;
  int outer;

  if (real == NULL)
    return NULL;
  outer = al_glib_enter(NULL);
  ctx = real();
  al_glib_leave();
  default_is(ctx);
  if (outer) {
    int saved = errno;
    al_glib_context_used(ctx);
    errno = saved;
  }
  return ctx;
}

/* A loop on NULL runs the default context, which GLib makes then. */
AL_EXPORT GMainLoop *g_main_loop_new(GMainContext *context,
                                     gboolean is_running) {
  __typeof__(&g_main_loop_new) real = REAL(g_main_loop_new);
  __typeof__(&g_main_loop_get_context) get = USE(g_main_loop_get_context);
  GMainLoop *loop;

  if (real == NULL)
    return NULL;
  loop = real(context, is_running);
  if (context == NULL && loop != NULL && get != NULL)
    default_is(get(loop));
  return loop;
}

/* The thread's default context, or the default one when none is pushed. */
AL_EXPORT GMainContext *g_main_context_ref_thread_default(void) {
  __typeof__(&g_main_context_ref_thread_default) real =
      REAL(g_main_context_ref_thread_default);
  __typeof__(&g_main_context_get_thread_default) pushed =
      USE(g_main_context_get_thread_default);
  GMainContext *ctx;

  if (real == NULL)
    return NULL;
  ctx = real();
  if (pushed != NULL && pushed() == NULL)
    default_is(ctx);
  return ctx;
}

/* The context this thread last found recorded, and the count of ended
 * contexts then: a program that iterates its own context asks at every
 * turn, which must stay cheap. */
static AL_TLS GMainContext *last_used;
static AL_TLS unsigned last_ends;
static atomic_uint ends;

/* Not fresh: a context recorded already is completed, not made anew, so
 * that two threads may record it at once. */
void al_glib_context_used(GMainContext *ctx) {
  unsigned n = atomic_load_explicit(&ends, memory_order_acquire);
  struct al_loop l;

  if (ctx == NULL || AL_UNLIKELY(al_locks_held != 0))
    return;
  if (al_glib_is_default(ctx)) {
    if (!atomic_load_explicit(&default_recorded, memory_order_relaxed) &&
        !atomic_exchange(&default_recorded, 1))
      al_loop_made(al_glib_shim_id, (uintptr_t)ctx, AL_LOOP_DEFAULT, 0, 0);
    return;
  }
  if (ctx == last_used && n == last_ends)
    return;
  if (al_loop_get((uintptr_t)ctx, &l) != 0)
    al_loop_made(al_glib_shim_id, (uintptr_t)ctx, 0, 0, 0);
  last_used = ctx;
  last_ends = n;
}

void al_glib_context_ended(void) {
  atomic_fetch_add_explicit(&ends, 1, memory_order_release);
}

/* A context of the program's, recorded with where it was made: a new
 * one, even at the address of one freed with none of the program's
 * sources on it, whose end was not seen. */
static GMainContext *made(GMainContext *ctx, int outer) {
  if (ctx != NULL && outer && AL_LIKELY(al_locks_held == 0))
    al_loop_made(al_glib_shim_id, (uintptr_t)ctx, 0, 1, 1);
  return ctx;
}

AL_EXPORT GMainContext *g_main_context_new(void) {
  __typeof__(&g_main_context_new) real = REAL(g_main_context_new);
  GMainContext *ctx;
  int outer, saved;

  if (real == NULL)
    return NULL;
  outer = al_glib_enter(NULL);
  ctx = real();
  al_glib_leave();
  saved = errno;
  made(ctx, outer);
  errno = saved;
  return ctx;
}

AL_EXPORT GMainContext *g_main_context_new_with_flags(GMainContextFlags flags) {
  __typeof__(&g_main_context_new_with_flags) real =
      REAL(g_main_context_new_with_flags);
  GMainContext *ctx;
  int outer, saved;

  if (real == NULL)
    return NULL;
  outer = al_glib_enter(NULL);
  ctx = real(flags);
  al_glib_leave();
  saved = errno;
  made(ctx, outer);
  errno = saved;
  return ctx;
}

/* ------------------------------------------------------ a context's end */

/* Where a GMainContext keeps its reference count: GLib keeps the struct
 * private, so it is learnt once, from a context of the runtime's own,
 * made and freed through GLib directly: the one int that
 * g_main_context_ref takes from 1 to 2. -1 until learnt, -2 when it
 * could not be. */
#define CONTEXT_SPAN 128
static atomic_int refs_at = -1;

static void learn_refs(void) {
  __typeof__(&g_main_context_new) make = REAL(g_main_context_new);
  __typeof__(&g_main_context_ref) ref = USE(g_main_context_ref);
  __typeof__(&g_main_context_unref) unref = REAL(g_main_context_unref);
  int before[CONTEXT_SPAN / sizeof(int)], after[CONTEXT_SPAN / sizeof(int)];
  int found = -2, saved = errno;
  GMainContext *ctx;

  if (make == NULL || ref == NULL || unref == NULL || (ctx = make()) == NULL)
    goto out;
  if (al_safe_read(before, ctx, sizeof(before)) == 0) {
    ref(ctx);
    if (al_safe_read(after, ctx, sizeof(after)) == 0)
      for (size_t i = 0; i < sizeof(before) / sizeof(before[0]); i++)
        if (before[i] == 1 && after[i] == 2)
          found = found == -2 ? (int)(i * sizeof(int)) : -3;
    unref(ctx);
  }
  unref(ctx);
out:
  atomic_store(&refs_at, found >= 0 ? found : -2);
  errno = saved;
}

/* The reference count of ctx, or -1 when it is not known. */
static int context_refs(GMainContext *ctx) {
  int at = atomic_load_explicit(&refs_at, memory_order_relaxed), n;

  if (at == -1) {
    learn_refs();
    at = atomic_load(&refs_at);
  }
  if (at < 0 || al_safe_read(&n, (const char *)ctx + at, sizeof(n)) != 0)
    return -1;
  return n;
}

/* GMainLoop's struct, private but the same since GLib 2.0. */
struct main_loop {
  GMainContext *context;
  gboolean is_running;
  gint ref_count;
};

/* Whether the unref about to be done is the last of the context, which is
 * recorded; a context the runtime never recorded is not asked about, and
 * the default one GLib never frees. */
static int last_ref(GMainContext *ctx) {
  struct al_loop l;

  return ctx != NULL && !al_glib_is_default(ctx) &&
         AL_LIKELY(al_locks_held == 0) &&
         al_loop_get((uintptr_t)ctx, &l) == 0 && context_refs(ctx) == 1;
}

/* The context whose last unref the program's call on this thread is in,
 * its shutdown running: an asyncleak_loop_close of it from a finalizer
 * gives back nothing more, the program's own call doing that next. */
static AL_TLS GMainContext *ending;

/* unref(obj) gives back the last reference of ctx, the program's (or
 * GIO's, GObject's ...). When it is the program's, the shutdown runs
 * first, while the context is alive; then GLib destroys its sources and
 * frees it, and it is closed, unless the first of the program's sources
 * to go closed it already, or a finalizer took a reference meanwhile.
 * Its memory is not read once freed: the loop's serial tells whether the
 * record is still the one of the context that was freed. */
static void context_ends(GMainContext *ctx, int program, void (*unref)(void *),
                         void *obj) {
  uint64_t serial = al_loop_serial((uintptr_t)ctx);
  GMainContext *outer = ending;
  int saved = errno;

  if (program) {
    ending = ctx;
    al_loop_closing((uintptr_t)ctx);
    ending = outer;
    if (!last_ref(ctx)) {
      errno = saved;
      unref(obj);
      return;
    }
  }
  errno = saved;
  unref(obj);
  saved = errno;
  if (serial != 0 && al_loop_serial((uintptr_t)ctx) == serial)
    al_glib_context_gone(ctx);
  errno = saved;
}

AL_EXPORT void g_main_context_unref(GMainContext *context) {
  __typeof__(&g_main_context_unref) real = REAL(g_main_context_unref);
  int program;

  if (real == NULL)
    return;
  program = al_glib_enter(context);
  al_glib_leave();
  if (!last_ref(context)) {
    real(context);
    return;
  }
  context_ends(context, program, (void (*)(void *))real, context);
}

/* The loop's last unref unrefs its context. */
AL_EXPORT void g_main_loop_unref(GMainLoop *loop) {
  __typeof__(&g_main_loop_unref) real = REAL(g_main_loop_unref);
  struct main_loop m;
  int program;

  if (real == NULL)
    return;
  program = al_glib_enter(loop);
  al_glib_leave();
  if (loop == NULL || al_safe_read(&m, loop, sizeof(m)) != 0 ||
      m.ref_count != 1 || !last_ref(m.context)) {
    real(loop);
    return;
  }
  context_ends(m.context, program, (void (*)(void *))real, loop);
}

/* The pop gives back the reference its push took. */
AL_EXPORT void g_main_context_pop_thread_default(GMainContext *context) {
  __typeof__(&g_main_context_pop_thread_default) real =
      REAL(g_main_context_pop_thread_default);
  __typeof__(&g_main_context_get_thread_default) pushed =
      USE(g_main_context_get_thread_default);
  int program;

  if (real == NULL)
    return;
  program = al_glib_enter(context);
  al_glib_leave();
  /* Only the context on top of the thread's stack is popped (GLib refuses
   * another, and says so). */
  if (pushed == NULL || pushed() != context || !last_ref(context)) {
    real(context);
    return;
  }
  context_ends(context, program, (void (*)(void *))real, context);
}

/* ------------------------------------------------------------------- runs */

/* Whether the run is the program's to follow: the program's call, or any
 * run of the default context (GApplication runs it from GIO). */
static int program_run(GMainContext *ctx, const void *caller) {
  return al_glib_is_default(ctx) ||
         !al_loopsyms_owns(&al_glib_lib, caller);
}

AL_EXPORT void g_main_loop_run(GMainLoop *loop) {
  __typeof__(&g_main_loop_run) real = REAL(g_main_loop_run);
  __typeof__(&g_main_loop_get_context) get = USE(g_main_loop_get_context);
  GMainContext *ctx;
  struct al_run run = {.object = NULL};

  if (real == NULL)
    return;
  al_glib_ensure();
  ctx = loop != NULL && get != NULL ? get(loop) : NULL;
  if (ctx == NULL || !program_run(ctx, __builtin_return_address(0))) {
    real(loop);
    return;
  }
  al_glib_context_used(ctx);
  run.object = loop;
  if (al_run_begin(al_glib_shim_id, (uintptr_t)ctx, &run))
    return;
  real(loop);
  al_run_end(&run);
}

AL_EXPORT gboolean g_main_context_iteration(GMainContext *context,
                                            gboolean may_block) {
  __typeof__(&g_main_context_iteration) real = REAL(g_main_context_iteration);
  GMainContext *ctx;
  struct al_run run = {.object = NULL};
  gboolean rc;

  if (real == NULL)
    return FALSE;
  al_glib_ensure();
  ctx = al_glib_context(context);
  if (ctx == NULL || !program_run(ctx, __builtin_return_address(0)))
    return real(context, may_block);
  al_glib_context_used(ctx);
  if (al_run_begin(al_glib_shim_id, (uintptr_t)ctx, &run))
    return FALSE;
  rc = real(context, may_block);
  al_run_end(&run);
  return rc;
}

/* ------------------------------------------------------- the contract */

static void *shim_run_function(void) {
  return (void *)REAL(g_main_loop_run);
}

/* Only while the calling thread owns the context: GLib's iteration of a
 * context another thread owns (one that pushed it as its thread-default
 * and runs nothing) waits for it with no end, which no timer of the
 * core's could cut short. The turn then only lets a moment pass. */
static void shim_run_once(uintptr_t loop, int mode) {
  __typeof__(&g_main_context_iteration) iterate =
      REAL(g_main_context_iteration);
  __typeof__(&g_main_context_acquire) acquire = USE(g_main_context_acquire);
  __typeof__(&g_main_context_release) release = USE(g_main_context_release);
  GMainContext *ctx = (GMainContext *)loop;
  const struct timespec moment = {0, 1000000};

  if (iterate == NULL || acquire == NULL || release == NULL)
    return;
  if (!acquire(ctx)) {
    if (mode == AL_RUN_WAIT)
      nanosleep(&moment, NULL);
    return;
  }
  iterate(ctx, mode == AL_RUN_WAIT);
  release(ctx);
}

/* The innermost run of the context on this thread returns: a
 * g_main_loop_run is quit (its GMainLoop is the run's object); an
 * iteration returns after this dispatch by itself. */
static void shim_stop(uintptr_t loop) {
  __typeof__(&g_main_loop_quit) quit = USE(g_main_loop_quit);
  GMainLoop *run = al_run_object(loop);

  if (run != NULL && quit != NULL)
    quit(run);
}

/* The core's timer and descriptor watch: sources of the runtime's own,
 * made and attached through GLib's functions directly, so that no
 * interposer follows them, and held by the runtime until it frees them. */
struct own {
  GMainContext *ctx;
  GSource *source;
  void (*ready)(uintptr_t loop);
};

static void own_drop(struct own *o) {
  __typeof__(&g_source_destroy) destroy = USE(g_source_destroy);
  __typeof__(&g_source_unref) unref = USE(g_source_unref);

  if (o->source == NULL || destroy == NULL || unref == NULL)
    return;
  /* One its context's last unref destroyed already has nothing of the
   * context's: destroying it again would only mark it, and GLib would
   * never let go of its callback. */
  if (o->source->context != NULL)
    destroy(o->source);
  unref(o->source);
  o->source = NULL;
}

static gboolean own_timer_fired(gpointer data) {
  (void)data;
  return G_SOURCE_REMOVE;
}

static void *shim_timer_new(uintptr_t loop) {
  struct own *o = calloc(1, sizeof(*o));

  if (o != NULL)
    o->ctx = (GMainContext *)loop;
  return o;
}

/* A timeout's interval is fixed when it is made: each arming makes one. */
static void shim_timer_arm(void *timer, unsigned ms) {
  __typeof__(&g_timeout_source_new) timeout = USE(g_timeout_source_new);
  __typeof__(&g_source_set_callback) set_callback = REAL(g_source_set_callback);
  __typeof__(&g_source_attach) attach = REAL(g_source_attach);
  struct own *o = timer;

  own_drop(o);
  if (timeout == NULL || set_callback == NULL || attach == NULL ||
      (o->source = timeout(ms)) == NULL)
    return;
  set_callback(o->source, own_timer_fired, NULL, NULL);
  attach(o->source, o->ctx);
}

static void shim_timer_stop(void *timer) {
  own_drop(timer);
}

static void shim_timer_free(void *timer) {
  if (timer == NULL)
    return;
  own_drop(timer);
  free(timer);
}

static gboolean own_watch_ready(gint fd, GIOCondition cond, gpointer data) {
  struct own *o = data;

  (void)fd;
  (void)cond;
  o->ready((uintptr_t)o->ctx);
  return G_SOURCE_REMOVE;
}

static void *shim_watch(uintptr_t loop, int fd, void (*ready)(uintptr_t)) {
  __typeof__(&g_unix_fd_source_new) fd_source = USE(g_unix_fd_source_new);
  __typeof__(&g_source_set_callback) set_callback = REAL(g_source_set_callback);
  __typeof__(&g_source_attach) attach = REAL(g_source_attach);
  struct own *o;

  if (fd_source == NULL || set_callback == NULL || attach == NULL ||
      (o = calloc(1, sizeof(*o))) == NULL)
    return NULL;
  o->ctx = (GMainContext *)loop;
  o->ready = ready;
  if ((o->source = fd_source(fd, G_IO_IN)) == NULL) {
    free(o);
    return NULL;
  }
  set_callback(o->source, (GSourceFunc)(void (*)(void))own_watch_ready, o,
               NULL);
  attach(o->source, o->ctx);
  return o;
}

/* The runtime holds its source: it may be destroyed and let go of even
 * when its context is gone. */
static void shim_unwatch(void *watch, int alive) {
  (void)alive;
  if (watch == NULL)
    return;
  own_drop(watch);
  free(watch);
}

/* At a context's last unref its sources are probed: each is being
 * destroyed with the context (GLib's cleanup, not a leak), and forgotten.
 * A GTask still pending stays pending. */
static int shim_at_free(unsigned type) {
  return (int)type;
}

/* GLib has no close that completes later. */
static int shim_closing(uintptr_t loop) {
  (void)loop;
  return 0;
}

/* asyncleak_loop_close: the program's reference, given back. */
static int shim_close(uintptr_t loop) {
  __typeof__(&g_main_context_unref) unref = REAL(g_main_context_unref);
  GMainContext *ctx = (GMainContext *)loop;

  if (unref == NULL)
    return -ENOSYS;
  if (al_glib_is_default(ctx))
    return -EBUSY; /* GLib never frees its default context */
  if (ctx == ending)
    return 0;
  if (last_ref(ctx))
    context_ends(ctx, 0, (void (*)(void *))unref, ctx);
  else
    unref(ctx);
  return 0;
}

/* A context recorded is live until its end is seen, and the default
 * context, once the program has shown it, is GLib's for good:
 * asyncleak_run_finally may name it before anything is attached. */
static int shim_claim(uintptr_t loop) {
  struct al_loop l;

  return al_glib_is_default((GMainContext *)loop) ||
         al_loop_get(loop, &l) == 0;
}

static int shim_cancel(uintptr_t addr) {
  (void)addr;
  return -ENOTSUP;
}

static int shim_unloaded(void) {
  if (!al_loopsyms_unloaded(&al_glib_lib))
    return 0;
  atomic_store(&default_context, NULL);
  atomic_store(&default_recorded, 0);
  return 1;
}

static const struct al_shim glib_shim = {
    .name = "GLib",
    .syms = &al_glib_lib,
    .type_name = al_glib_type_name,
    .req_type_name = al_glib_req_type_name,
    .type_identity = NULL,
    .probe = al_glib_probe,
    .describe = NULL,
    .state_text = al_glib_state_text,
    .closing = shim_closing,
    .requests = al_glib_requests,
    /* A task may run in another thread (g_task_run_in_thread). */
    .offloaded = al_glib_requests,
    .claim = shim_claim,
    .kind = NULL,
    .handle_open = NULL,
    .req_pending = NULL,
    .run_function = shim_run_function,
    .run_once = shim_run_once,
    .stop = shim_stop,
    .timer_new = shim_timer_new,
    .timer_arm = shim_timer_arm,
    .timer_stop = shim_timer_stop,
    .timer_free = shim_timer_free,
    .watch = shim_watch,
    .unwatch = shim_unwatch,
    .at_free = shim_at_free,
    .close = shim_close,
    .close_handle = al_glib_destroy_source,
    .cancel = shim_cancel,
    .quiet = al_glib_quiet_source,
    .unloaded = shim_unloaded,
};

static void shim_init(void) {
  al_init();
  al_glib_shim_id = al_shim_register(&glib_shim);
}
