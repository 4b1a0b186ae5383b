/* Sources on contexts of the program's own. A context's last unref
 * destroys the sources still attached to it, silently: the one left on
 * the private context is reported as attached when its context was
 * freed, with where it was made; the context is listed as freed with it.
 * [clean] destroys the source before the unref.
 *
 * [threads]: one context per thread, four threads, each running a loop on
 * its own context (g_main_context_push_thread_default) until a timeout
 * quits it; each leaves an idle attached to its context, which it never
 * unrefs: four idles reported, each on its own loop. [threads-clean]
 * removes them and unrefs its context.
 *
 * CHECK: ==[0-9]+==ERROR: asyncleak: 1 handle left open at exit$
 * CHECK: ^1 handle of type timeout source \(attached when its context was freed\), created at:$
 * CHECK: #0 0x[0-9a-f]+ in main .*glib-context.c:%line(attach)$
 * CHECK: on loop 1, thread [0-9]+ \(main\), attached when its context was freed$
 * CHECK: ^  loop 1 \(GLib 0x[0-9a-f]+\) created in main .*glib-context.c:%line(new) by thread [0-9]+ \(main\): freed with what is listed above still on it$
 * EXIT: 23
 *
 * [clean] RUN: clean
 * [clean] CHECK: ^ran 2 times$
 * [clean] CHECK-NOT: ERROR
 * [clean] CHECK: ^asyncleak: no leaks: 1 loop\(s\), 1 handle\(s\) created, all closed$
 * [clean] EXIT: 0
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

static int runs;
static int clean;

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
  ctx = g_main_context_new(); /* @new */
  loop = g_main_loop_new(ctx, FALSE);
  s = g_timeout_source_new(5);
  g_source_set_callback(s, tick, loop, NULL);
  g_source_attach(s, ctx); /* @attach */
  g_main_loop_run(loop);
  printf("ran %d times\n", runs);
  if (strcmp(mode, "clean") == 0)
    g_source_destroy(s);
  g_source_unref(s);
  g_main_loop_unref(loop);
  g_main_context_unref(ctx);
  return 0;
}
