/* A finalizer on GLib's default context: it removes the program's
 * repeating timeout and says goodbye with a one-shot timeout that the
 * shutdown waits for, so that the context drains before the process
 * ends. Nothing is left, nothing reported. [leak] registers no
 * finalizer: the timeout is still attached at exit.
 *
 * CHECK: ^ticked$
 * CHECK: ^main returns$
 * CHECK: ^finalizer: removing the timeout$
 * CHECK: ^goodbye$
 * CHECK-NOT: ERROR
 * CHECK: ^asyncleak: no leaks: 1 loop\(s\), 2 handle\(s\) created, all closed; 1 loop\(s\) never closed$
 * EXIT: 0
 *
 * [leak] RUN: leak
 * [leak] CHECK: ^ticked$
 * [leak] CHECK-NOT: goodbye
 * [leak] CHECK: ==[0-9]+==ERROR: asyncleak: 1 handle left open at exit$
 * [leak] CHECK: ^1 handle of type timeout source, created at:$
 * [leak] CHECK: #0 0x[0-9a-f]+ in main .*glib-finally.c:%line(tick)$
 * [leak] EXIT: 23
 *
 * [force]: no finalizer, and SIGTERM with --graceful-signals and
 * --force-close: the timeout is destroyed by force at shutdown, as the
 * program's g_source_remove would, and reported so.
 * [force] CLI: --graceful-signals --force-close
 * [force] RUN: graceful-leak
 * [force] CHECK: ^ticked$
 * [force] CHECK: ==[0-9]+==ERROR: asyncleak: 1 handle left open, closed by force at shutdown$
 * [force] CHECK: ^1 handle of type timeout source closed by force at shutdown, created at:$
 * [force] CHECK: #0 0x[0-9a-f]+ in main .*glib-finally.c:%line(tick)$
 * [force] CHECK: was killed by signal 15 \(SIGTERM: Terminated\)$
 * [force] EXIT: 143
 *
 * [graceful]: the timeout raises SIGTERM instead; with --graceful-signals
 * the signal wakes the context, whose loop quits; the finalizer runs and
 * the context drains, then the process ends by SIGTERM, as it would have
 * at once.
 * [graceful] CLI: --graceful-signals
 * [graceful] RUN: graceful
 * [graceful] CHECK: ^ticked$
 * [graceful] CHECK: ^finalizer: removing the timeout$
 * [graceful] CHECK: ^goodbye$
 * [graceful] CHECK-NOT: main returns
 * [graceful] CHECK-NOT: ERROR
 * [graceful] CHECK: was killed by signal 15 \(SIGTERM: Terminated\)$
 * [graceful] EXIT: 143
 *
 * Without --graceful-signals, SIGTERM ends it at once, with the timeout
 * attached.
 * [term] RUN: graceful
 * [term] CHECK: ^ticked$
 * [term] CHECK-NOT: finalizer
 * [term] CHECK: ==[0-9]+==ERROR: asyncleak: 1 handle left open when SIGTERM ended the program$
 * [term] CHECK: was killed by signal 15 \(SIGTERM: Terminated\)$
 * [term] EXIT: 143
 */
#include <glib.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "asyncleak.h"

static guint tick;
static int graceful, raised;

static gboolean on_tick(gpointer loop) {
  printf("ticked\n");
  /* Once: a second SIGTERM ends the process at once, by design. */
  if (graceful && !raised++)
    raise(SIGTERM);
  else if (!graceful)
    g_main_loop_quit(loop);
  return G_SOURCE_CONTINUE;
}

static gboolean on_bye(gpointer data) {
  (void)data;
  printf("goodbye\n");
  return G_SOURCE_REMOVE;
}

static void finalizer(void *ctx, void *arg) {
  GSource *bye = g_timeout_source_new(20);

  (void)arg;
  printf("finalizer: removing the timeout\n");
  g_source_remove(tick);
  g_source_set_callback(bye, on_bye, NULL, NULL);
  g_source_attach(bye, ctx);
  asyncleak_shutdown_waits_for(ctx, bye);
  g_source_unref(bye);
}

int main(int argc, char **argv) {
  GMainLoop *loop = g_main_loop_new(NULL, FALSE);

  setvbuf(stdout, NULL, _IONBF, 0);
  graceful = argc > 1 && strncmp(argv[1], "graceful", 8) == 0;
  tick = g_timeout_add(1, on_tick, loop); /* @tick */
  if (argc < 2 || strstr(argv[1], "leak") == NULL)
    asyncleak_run_finally(g_main_context_default(), finalizer, NULL);
  g_main_loop_run(loop);
  g_main_loop_unref(loop);
  printf("main returns\n");
  return 0;
}
