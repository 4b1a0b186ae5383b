/* A GLib program asked `asyncleak ps` while it runs (tests/cli/ps.sh):
 *
 *   glib-ps serve STOPFILE | glib-ps stuck
 *
 * serve: a repeating timeout source keeps the main loop going
 * (start_ticker); it prints "ready PID" and runs until STOPFILE exists.
 * stuck: a timeout's callback (sleepy_callback) prints "stuck PID" and
 * sleeps 3 s. Either way it then removes its sources and exits 0.
 *
 * RUN-BY: tests/cli/ps.sh
 */
#include <glib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static GMainLoop *main_loop;
static guint ticker;
static const char *stop_file;

static gboolean on_tick(gpointer unused) {
  (void)unused;
  if (stop_file != NULL && access(stop_file, F_OK) == 0) {
    ticker = 0;
    g_main_loop_quit(main_loop);
    return G_SOURCE_REMOVE;
  }
  return G_SOURCE_CONTINUE;
}

static gboolean sleepy_callback(gpointer unused) {
  (void)unused;
  printf("stuck %d\n", (int)getpid());
  sleep(3);
  g_main_loop_quit(main_loop);
  return G_SOURCE_REMOVE;
}

static void start_ticker(void) {
  ticker = g_timeout_add(20, on_tick, NULL); /* @ticker */
}

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IONBF, 0);
  main_loop = g_main_loop_new(NULL, FALSE);
  start_ticker();
  if (argc > 1 && strcmp(argv[1], "stuck") == 0) {
    g_timeout_add(50, sleepy_callback, NULL);
  } else {
    stop_file = argc > 2 ? argv[2] : NULL;
    printf("ready %d\n", (int)getpid());
  }
  g_main_loop_run(main_loop);
  if (ticker != 0)
    g_source_remove(ticker);
  g_main_loop_unref(main_loop);
  printf("done\n");
  return 0;
}
