/* Teardown in dependency order on GLib's default main context: `second`
 * is registered last, so it would run first, but it follows `first`,
 * whose work is a 100 ms timeout source the shutdown waits for. The
 * shutdown at exit runs first, lets the timeout fire, then runs second.
 * [none]: the negative control without the order: newest first.
 *
 * ENV: ASYNCLEAK_OPTIONS=verbosity=1
 * CHECK: ^order: 0$
 * CHECK: ^main returns$
 * CHECK: ^first: adding the timeout$
 * CHECK: ^first: timeout fired$
 * CHECK: ^second: ran$
 * CHECK: ^    finalizers run: first, second$
 * CHECK: ^    their work took: first [1-9][0-9]+ ms, second [0-9]+ ms$
 * CHECK-NOT: ERROR
 * EXIT: 0
 *
 * [none] RUN: none
 * [none] ENV: ASYNCLEAK_OPTIONS=verbosity=1
 * [none] CHECK: ^second: ran$
 * [none] CHECK: ^first: adding the timeout$
 * [none] CHECK: ^first: timeout fired$
 * [none] CHECK: ^    finalizers run: second, first$
 * [none] CHECK-NOT: ERROR
 * [none] EXIT: 0
 */
#include <glib.h>
#include <stdio.h>
#include <string.h>

#include "asyncleak.h"

static gboolean on_work(gpointer data) {
  (void)data;
  printf("first: timeout fired\n");
  return G_SOURCE_REMOVE;
}

static void first(void *ctx, void *arg) {
  GSource *work = g_timeout_source_new(100);

  (void)arg;
  printf("first: adding the timeout\n");
  g_source_set_callback(work, on_work, NULL, NULL);
  g_source_attach(work, ctx);
  asyncleak_shutdown_waits_for(ctx, work);
  g_source_unref(work);
}

static void second(void *ctx, void *arg) {
  (void)ctx;
  (void)arg;
  printf("second: ran\n");
}

int main(int argc, char **argv) {
  GMainContext *ctx = g_main_context_default();

  setvbuf(stdout, NULL, _IONBF, 0);
  asyncleak_run_finally(ctx, first, NULL);
  asyncleak_run_finally(ctx, second, NULL);
  if (argc < 2 || strcmp(argv[1], "none") != 0)
    printf("order: %d\n",
           asyncleak_finally_after(ctx, second, NULL, first, NULL));
  g_main_context_iteration(ctx, FALSE);
  printf("main returns\n");
  return 0;
}
