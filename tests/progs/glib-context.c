/* Sources on contexts of the program's own. The program leaves its
 * timeout attached to its private context and never unrefs the context:
 * the timeout is reported, on a loop never closed.
 *
 * [unref]: the program unrefs the context with the timeout still
 * attached. The last unref destroys every source still attached, runs
 * their destroy notifies and frees them: GLib's documented end of a
 * context, which GLib's own tests use. Nothing is reported, and the
 * context is closed. [clean] destroys the timeout first.
 *
 * [finally]: a finalizer registered on the private context runs at the
 * program's last g_main_context_unref, before GLib frees the context,
 * while it can still be iterated: it destroys the timeout and waits for
 * a goodbye idle.
 *
 * CHECK: ==[0-9]+==ERROR: asyncleak: 1 handle left open at exit$
 * CHECK: ^1 handle of type timeout source, created at:$
 * CHECK: #0 0x[0-9a-f]+ in main .*glib-context.c:%line(attach)$
 * CHECK: on loop 1, thread [0-9]+ \(main\), attached: every 5 ms$
 * CHECK: ^  loop 1 \(GLib 0x[0-9a-f]+\) created in main .*glib-context.c:%line(new) by thread [0-9]+ \(main\): never closed$
 * EXIT: 23
 *
 * [unref] RUN: unref
 * [unref] CHECK: ^ran 2 times$
 * [unref] CHECK: ^notified$
 * [unref] CHECK-NOT: ERROR
 * [unref] CHECK: ^asyncleak: no leaks: 1 loop\(s\), 1 handle\(s\) created, all closed$
 * [unref] EXIT: 0
 *
 * [clean] RUN: clean
 * [clean] CHECK: ^ran 2 times$
 * [clean] CHECK: ^notified$
 * [clean] CHECK-NOT: ERROR
 * [clean] CHECK: ^asyncleak: no leaks: 1 loop\(s\), 1 handle\(s\) created, all closed$
 * [clean] EXIT: 0
 *
 * [finally] RUN: finally
 * [finally] CHECK: ^ran 2 times$
 * [finally] CHECK: ^finalizer$
 * [finally] CHECK: ^notified$
 * [finally] CHECK: ^goodbye$
 * [finally] CHECK: ^unreffed$
 * [finally] CHECK-NOT: ERROR
 * [finally] CHECK: ^asyncleak: no leaks: 1 loop\(s\), 2 handle\(s\) created, all closed$
 * [finally] EXIT: 0
 *
 * [finally-close]: the finalizer also calls asyncleak_loop_close on the
 * context, from inside the program's own last unref, which gives the
 * reference back itself: the context is freed once.
 * [finally-close] RUN: finally-close
 * [finally-close] CHECK: ^finalizer$
 * [finally-close] CHECK: ^goodbye$
 * [finally-close] CHECK: ^unreffed$
 * [finally-close] CHECK-NOT: ERROR
 * [finally-close] CHECK: ^asyncleak: no leaks: 1 loop\(s\), 2 handle\(s\) created, all closed$
 * [finally-close] EXIT: 0
 *
 * [close]: asyncleak_loop_close gives back the program's reference,
 * which is the last: the context is closed.
 * [close] RUN: close
 * [close] CHECK: ^closed: 0$
 * [close] CHECK-NOT: ERROR
 * [close] CHECK: ^asyncleak: no leaks: 1 loop\(s\), 1 handle\(s\) created, all closed$
 * [close] EXIT: 0
 *
 * [pop-default]: the default context pushed as the thread's and popped
 * again, which neither refs nor unrefs it: its finalizer runs at exit, not
 * at the pop, and it is the default loop throughout.
 * [pop-default] RUN: pop-default
 * [pop-default] CHECK: ^popped$
 * [pop-default] CHECK: ^finalizer$
 * [pop-default] CHECK: ^goodbye$
 * [pop-default] CHECK-NOT: ERROR
 * [pop-default] CHECK: ^asyncleak: no leaks: 1 loop\(s\), 2 handle\(s\) created, all closed; 1 loop\(s\) never closed$
 * [pop-default] EXIT: 0
 *
 * [fds]: a program on a private context only: the runtime makes no
 * default context of its own accord (GLib's has a descriptor).
 * [fds] RUN: fds
 * [fds] CHECK: ^eventfds: 1$
 * [fds] CHECK-NOT: ERROR
 * [fds] EXIT: 0
 *
 * [owned]: another thread owns the context (it pushed it as its
 * thread-default) and runs nothing when the program exits with a
 * finalizer's idle to wait for: the shutdown cannot iterate it, waits
 * out its deadline, and the process ends.
 * [owned] RUN: owned
 * [owned] ENV: ASYNCLEAK_OPTIONS=drain_timeout_ms=300
 * [owned] CHECK: ^finalizer$
 * [owned] CHECK-NOT: goodbye
 * [owned] CHECK: ==[0-9]+==ERROR: asyncleak: 1 handle left open at exit$
 * [owned] CHECK: ^1 handle of type idle source, created at:$
 * [owned] EXIT: 23
 *
 * [threads]: one context per thread, four threads, each running a loop on
 * its own context (g_main_context_push_thread_default) until a timeout
 * quits it; each leaves an idle attached to its context, which it never
 * unrefs: four idles reported, each on its own loop. [threads-clean]
 * removes them and unrefs its context.
 *
 * [threads] RUN: threads
 * [threads] CHECK: ==[0-9]+==ERROR: asyncleak: 4 handles left open at exit$
 * [threads] CHECK: ^4 handles of type idle source, created at:$
 * [threads] CHECK: #0 0x[0-9a-f]+ in worker .*glib-context.c:%line(idle)$
 * [threads] CHECK-COUNT-4: on loop [1-4], thread [0-9]+, attached$
 * [threads] CHECK: ^Loops \(GLib\): 4 seen, 0 closed, 4 not closed:$
 * [threads] EXIT: 23
 *
 * [threads-clean] RUN: threads-clean
 * [threads-clean] CHECK-NOT: ERROR
 * [threads-clean] CHECK: ^asyncleak: no leaks: 4 loop\(s\), 8 handle\(s\) created, all closed$
 * [threads-clean] EXIT: 0
 */
#include <glib.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "asyncleak.h"

static int runs;
static int clean;
static GSource *timer;

static void notified(gpointer data) {
  (void)data;
  printf("notified\n");
}

static gboolean goodbye(gpointer data) {
  (void)data;
  printf("goodbye\n");
  return G_SOURCE_REMOVE;
}

static void finalizer(void *ctx, void *arg) {
  GSource *bye = g_idle_source_new();

  (void)arg;
  printf("finalizer\n");
  g_source_destroy(timer);
  g_source_set_callback(bye, goodbye, NULL, NULL);
  g_source_attach(bye, ctx);
  asyncleak_shutdown_waits_for(ctx, bye);
  g_source_unref(bye);
}

static gboolean tick(gpointer loop) {
  if (++runs == 2)
    g_main_loop_quit(loop);
  return G_SOURCE_CONTINUE;
}

static gboolean idle(gpointer data) {
  (void)data;
  return G_SOURCE_CONTINUE;
}

static gboolean quit(gpointer loop) {
  g_main_loop_quit(loop);
  return G_SOURCE_REMOVE;
}

static void *worker(void *arg) {
  GMainContext *ctx = g_main_context_new();
  GMainLoop *loop = g_main_loop_new(ctx, FALSE);
  GSource *s = g_idle_source_new();
  GSource *t = g_timeout_source_new(20);

  (void)arg;
  g_main_context_push_thread_default(ctx);
  g_source_set_callback(s, idle, NULL, NULL);
  g_source_attach(s, ctx); /* @idle */
  g_source_set_callback(t, quit, loop, NULL);
  g_source_attach(t, ctx);
  g_main_loop_run(loop);
  if (clean)
    g_source_destroy(s);
  g_source_unref(s);
  g_source_unref(t);
  g_main_context_pop_thread_default(ctx);
  g_main_loop_unref(loop);
  if (clean)
    g_main_context_unref(ctx);
  return NULL;
}

static void close_too(void *ctx, void *arg) {
  finalizer(ctx, arg);
  asyncleak_loop_close(ctx);
}

/* Counts the program's eventfds: each GMainContext has one. */
static int eventfds(void) {
  char path[64], link[64];
  int n = 0;

  for (int fd = 0; fd < 1024; fd++) {
    ssize_t len;
    snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
    if ((len = readlink(path, link, sizeof(link) - 1)) < 0)
      continue;
    link[len] = '\0';
    if (strstr(link, "eventfd") != NULL)
      n++;
  }
  return n;
}

static GMainContext *owned_ctx;
static pthread_mutex_t owned_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t owned_cond = PTHREAD_COND_INITIALIZER;
static int owned;

static void *owner(void *arg) {
  (void)arg;
  g_main_context_push_thread_default(owned_ctx);
  pthread_mutex_lock(&owned_lock);
  owned = 1;
  pthread_cond_signal(&owned_cond);
  pthread_mutex_unlock(&owned_lock);
  for (;;)
    pause();
  return NULL;
}

int main(int argc, char **argv) {
  const char *mode = argc > 1 ? argv[1] : "leak";
  GMainContext *ctx;
  GMainLoop *loop;
  GSource *s;

  setvbuf(stdout, NULL, _IONBF, 0);
  if (strncmp(mode, "threads", 7) == 0) {
    pthread_t t[4];
    clean = strcmp(mode, "threads-clean") == 0;
    for (int i = 0; i < 4; i++)
      pthread_create(&t[i], NULL, worker, NULL);
    for (int i = 0; i < 4; i++)
      pthread_join(t[i], NULL);
    return 0;
  }
  if (strcmp(mode, "pop-default") == 0) {
    GSource *idle = g_idle_source_new();
    ctx = g_main_context_default();
    g_main_context_push_thread_default(ctx);
    asyncleak_run_finally(ctx, finalizer, NULL);
    g_source_set_callback(idle, goodbye, NULL, NULL);
    g_source_attach(idle, ctx);
    g_source_unref(idle);
    timer = g_idle_source_new(); /* destroyed by the finalizer */
    g_main_context_pop_thread_default(ctx);
    printf("popped\n");
    /* The goodbye idle ran: the finalizer's waits for its own. */
    while (g_main_context_iteration(NULL, FALSE))
      ;
    return 0;
  }
  if (strcmp(mode, "fds") == 0) {
    ctx = g_main_context_new();
    s = g_idle_source_new();
    g_source_set_callback(s, idle, NULL, NULL);
    g_source_attach(s, ctx);
    g_main_context_iteration(ctx, FALSE);
    printf("eventfds: %d\n", eventfds());
    g_source_destroy(s);
    g_source_unref(s);
    g_main_context_unref(ctx);
    return 0;
  }
  if (strcmp(mode, "owned") == 0) {
    pthread_t t;
    owned_ctx = ctx = g_main_context_new();
    timer = g_idle_source_new(); /* destroyed by the finalizer */
    asyncleak_run_finally(ctx, finalizer, NULL);
    pthread_create(&t, NULL, owner, NULL);
    pthread_mutex_lock(&owned_lock);
    while (!owned)
      pthread_cond_wait(&owned_cond, &owned_lock);
    pthread_mutex_unlock(&owned_lock);
    return 0;
  }
  ctx = g_main_context_new(); /* @new */
  loop = g_main_loop_new(ctx, FALSE);
  timer = s = g_timeout_source_new(5);
  g_source_set_callback(s, tick, loop, notified);
  g_source_attach(s, ctx); /* @attach */
  if (strcmp(mode, "finally") == 0)
    asyncleak_run_finally(ctx, finalizer, NULL);
  if (strcmp(mode, "finally-close") == 0)
    asyncleak_run_finally(ctx, close_too, NULL);
  g_main_loop_run(loop);
  printf("ran %d times\n", runs);
  if (strcmp(mode, "clean") == 0)
    g_source_destroy(s);
  g_source_unref(s);
  g_main_loop_unref(loop);
  if (strcmp(mode, "close") == 0) {
    printf("closed: %d\n", asyncleak_loop_close(ctx));
  } else if (strcmp(mode, "leak") != 0) {
    g_main_context_unref(ctx);
    printf("unreffed\n");
  }
  return 0;
}
