/* A GLib program asked `asyncleak ps` while it runs (tests/cli/ps.sh):
 *
 *   glib-ps serve|stuck STOPFILE
 *
 * serve: a repeating timeout source keeps the main loop going
 * (start_ticker); it prints "ready PID" and runs until STOPFILE exists.
 * stuck: a timeout's callback (sleepy_callback) prints "stuck PID" and
 * sleeps until STOPFILE exists (30 s at most). Either way it then removes its sources and exits 0.
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
  if (access(stop_file, F_OK) == 0) {
    ticker = 0;
    g_main_loop_quit(main_loop);
    return G_SOURCE_REMOVE;
  }
  return G_SOURCE_CONTINUE;
}

static gboolean sleepy_callback(gpointer unused) {
  (void)unused;
  printf("stuck %d\n", (int)getpid());
  for (int i = 0; i < 600 && access(stop_file, F_OK) != 0; i++)
    usleep(50000);
  g_main_loop_quit(main_loop);
  return G_SOURCE_REMOVE;
}

static void start_ticker(void) {
  ticker = g_timeout_add(100, on_tick, NULL); /* @ticker */
}

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IONBF, 0);
  main_loop = g_main_loop_new(NULL, FALSE);
  start_ticker();
  stop_file = argc > 2 ? argv[2] : "/nonexistent";
  if (argc > 1 && strcmp(argv[1], "stuck") == 0) {
    g_timeout_add(50, sleepy_callback, NULL);
  } else {
    printf("ready %d\n", (int)getpid());
  }
  g_main_loop_run(main_loop);
  if (ticker != 0)
    g_source_remove(ticker);
  g_main_loop_unref(main_loop);
  printf("done\n");
  return 0;
}
