/* The slow-callback check for GLib (slow_callback_ms, --slow-callback): a
 * source's callback that holds its context longer than the limit is a
 * finding, named by the call that set it, with the source's creation
 * stack and the callback function.
 *
 * g_timeout_add with a callback that sleeps 300 ms, twice.
 * RUN: slow
 * CLI: --slow-callback=100
 * CHECK: WARNING: asyncleak: 2 findings of the debug checks \(not a failure\)
 * CHECK: ^Slow callback: g_timeout_add callback on a timeout source held its loop, 2 times, the longest ([3-9]|[1-9][0-9]+)[0-9][0-9] ms, created at:$
 * CHECK: #0 0x[0-9a-f]+ in add_timeout .*glib-slow-callback.c:%line(add)$
 * CHECK: ^  the callback:$
 * CHECK: #0 0x[0-9a-f]+ in slow_timeout .*glib-slow-callback.c:%line(slow)$
 * CHECK: 2 finding\(s\) of the debug checks in 1 process\(es\)
 * EXIT: 0
 *
 * A source the program made and gave its callback before attaching it
 * (the callback is then named by the attach), and an idle callback run
 * inside the slow one, which iterates the context: each is timed apart,
 * and the quick one is no finding.
 * [source] RUN: source
 * [source] CLI: --slow-callback=100
 * [source] CHECK: ^Slow callback: g_source_attach callback on a timeout source held its loop, 1 time, the longest ([3-9]|[1-9][0-9]+)[0-9][0-9] ms, created at:$
 * [source] CHECK: #0 0x[0-9a-f]+ in attach_source .*glib-slow-callback.c:%line(attach)$
 * [source] CHECK: #0 0x[0-9a-f]+ in nesting_timeout .*glib-slow-callback.c:%line(nesting)$
 * [source] CHECK-NOT: g_idle_add callback
 * [source] EXIT: 0
 *
 * Off unless asked for.
 * [off] RUN: slow
 * [off] CHECK-NOT: Slow callback
 * [off] CHECK-NOT: finding
 * [off] EXIT: 0
 *
 * The negative control: a fast callback.
 * [fast] RUN: fast
 * [fast] CLI: --slow-callback=100 --fail-on-findings
 * [fast] CHECK-NOT: Slow callback
 * [fast] CHECK-NOT: finding
 * [fast] EXIT: 0
 */
#include <glib.h>
#include <string.h>
#include <time.h>

static GMainLoop *main_loop;
static int fired;

static void pause_ms(int ms) {
  struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};
  while (nanosleep(&ts, &ts) != 0)
    ;
}

static gboolean slow_timeout(gpointer data) { /* @slow */
  (void)data;
  pause_ms(300);
  if (++fired < 2)
    return G_SOURCE_CONTINUE;
  g_main_loop_quit(main_loop);
  return G_SOURCE_REMOVE;
}

static gboolean fast_timeout(gpointer data) {
  (void)data;
  if (++fired < 2)
    return G_SOURCE_CONTINUE;
  g_main_loop_quit(main_loop);
  return G_SOURCE_REMOVE;
}

static gboolean quick_idle(gpointer data) {
  *(int *)data = 1;
  return G_SOURCE_REMOVE;
}

/* Runs an idle callback of its own from inside, then sleeps. */
static gboolean nesting_timeout(gpointer data) { /* @nesting */
  int idled = 0;

  (void)data;
  g_idle_add(quick_idle, &idled);
  while (!idled)
    g_main_context_iteration(NULL, TRUE);
  pause_ms(300);
  g_main_loop_quit(main_loop);
  return G_SOURCE_REMOVE;
}

__attribute__((noinline)) static void add_timeout(GSourceFunc fn) {
  g_timeout_add(1, fn, NULL); /* @add */
}

__attribute__((noinline)) static void attach_source(void) {
  GSource *s = g_timeout_source_new(1);

  g_source_set_callback(s, nesting_timeout, NULL, NULL);
  g_source_attach(s, NULL); /* @attach */
  g_source_unref(s);
}

int main(int argc, char **argv) {
  const char *mode = argc > 1 ? argv[1] : "slow";

  main_loop = g_main_loop_new(NULL, FALSE);
  if (!strcmp(mode, "source"))
    attach_source();
  else
    add_timeout(!strcmp(mode, "slow") ? slow_timeout : fast_timeout);
  g_main_loop_run(main_loop);
  g_main_loop_unref(main_loop);
  return 0;
}
