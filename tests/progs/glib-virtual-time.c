/* Virtual time on GLib's default main context: a chain of timeouts (5, 10
 * and 15 minutes, each added from the callback of the one before) and a
 * timeout of an hour, added at once. Each callback prints when it fired
 * by g_get_monotonic_time; the run takes well under a second of real time
 * (CLOCK_REALTIME, which virtual time leaves alone). Default: the API;
 * [cli]: --virtual-time. [off]: the negative control, in real time with a
 * minute being 1 ms: the same order, and at least 50 ms.
 *
 * CHECK: ^virtual: 0$
 * CHECK: ^timer a at 5 min$
 * CHECK: ^timer b at 15 min$
 * CHECK: ^timer c at 30 min$
 * CHECK: ^timer hour at 60 min$
 * CHECK: ^real time: under 5 s$
 * CHECK-NOT: ERROR
 * EXIT: 0
 *
 * [cli] RUN: cli
 * [cli] CLI: --virtual-time
 * [cli] CHECK: ^timer a at 5 min$
 * [cli] CHECK: ^timer hour at 60 min$
 * [cli] CHECK: ^real time: under 5 s$
 * [cli] CHECK-NOT: ERROR
 * [cli] EXIT: 0
 *
 * [off] RUN: off
 * [off] CHECK: ^timer a at
 * [off] CHECK: ^timer b at
 * [off] CHECK: ^timer c at
 * [off] CHECK: ^timer hour at
 * [off] CHECK: ^real time: at least 50 ms$
 * [off] CHECK-NOT: ERROR
 * [off] EXIT: 0
 */
#include <glib.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "asyncleak.h"

static GMainLoop *main_loop;
static guint minute_ms = 60000;
static gint64 start;
static int step;

static double real_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void fired(const char *name) {
  printf("timer %s at %.0f min\n", name,
         (double)(g_get_monotonic_time() - start) / 1000.0 / minute_ms);
}

static gboolean on_chain(gpointer data) {
  static const char *const names[] = {"a", "b", "c"};
  (void)data;
  fired(names[step]);
  if (++step < 3)
    g_timeout_add(5 * (step + 1) * minute_ms, on_chain, NULL);
  return G_SOURCE_REMOVE;
}

static gboolean on_hour(gpointer data) {
  (void)data;
  fired("hour");
  g_main_loop_quit(main_loop);
  return G_SOURCE_REMOVE;
}

int main(int argc, char **argv) {
  const char *mode = argc > 1 ? argv[1] : "";
  double r0 = real_s(), took;

  setvbuf(stdout, NULL, _IOLBF, 0);
  main_loop = g_main_loop_new(NULL, FALSE);
  if (strcmp(mode, "off") == 0)
    minute_ms = 1;
  else if (strcmp(mode, "cli") != 0)
    printf("virtual: %d\n",
           asyncleak_virtual_time(g_main_context_default(), 1));
  start = g_get_monotonic_time();
  g_timeout_add(5 * minute_ms, on_chain, NULL);
  g_timeout_add(60 * minute_ms, on_hour, NULL);
  g_main_loop_run(main_loop);
  g_main_loop_unref(main_loop);
  took = real_s() - r0;
  if (strcmp(mode, "off") == 0)
    printf("real time: %s\n", took >= 0.05 ? "at least 50 ms" : "too short");
  else
    printf("real time: %s\n", took < 5 ? "under 5 s" : "5 s or more");
  return 0;
}
