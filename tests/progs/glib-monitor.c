/* A GIO file monitor: GIO attaches sources of its own for it (an inotify
 * source on GLib's worker context, and the one that delivers "changed" on
 * the program's context), which are GIO's, never the program's, and are
 * never reported. The program makes a file in the watched directory, sees
 * the signal, and leaves one timeout of its own attached: only that one
 * is reported. [clean] removes it and unrefs the monitor.
 *
 * CHECK: ^changed: created$
 * CHECK: ==[0-9]+==ERROR: asyncleak: 1 handle left open at exit$
 * CHECK: ^1 handle of type timeout source, created at:$
 * CHECK: #0 0x[0-9a-f]+ in main .*glib-monitor.c:%line(timeout)$
 * CHECK: ^SUMMARY: asyncleak: 1 handle left open \(1 timeout source\) from 1 creation site
 * CHECK-NOT: GSource
 * EXIT: 23
 *
 * [clean] RUN: clean
 * [clean] CHECK: ^changed: created$
 * [clean] CHECK-NOT: ERROR
 * [clean] CHECK: ^asyncleak: no leaks: 1 loop\(s\), 3 handle\(s\) created, all closed; 1 loop\(s\) never closed$
 * [clean] EXIT: 0
 */
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <string.h>

static int seen;

static void on_changed(GFileMonitor *m, GFile *file, GFile *other,
                       GFileMonitorEvent event, gpointer loop) {
  (void)m;
  (void)file;
  (void)other;
  if (event == G_FILE_MONITOR_EVENT_CREATED && !seen++) {
    printf("changed: created\n");
    g_main_loop_quit(loop);
  }
}

static gboolean make_file(gpointer path) {
  g_file_set_contents(path, "x", 1, NULL);
  return G_SOURCE_REMOVE;
}

static gboolean tick(gpointer data) {
  (void)data;
  return G_SOURCE_CONTINUE;
}

static gboolean give_up(gpointer loop) {
  printf("no change seen\n");
  g_main_loop_quit(loop);
  return G_SOURCE_REMOVE;
}

int main(int argc, char **argv) {
  int clean = argc > 1 && strcmp(argv[1], "clean") == 0;
  GMainLoop *loop = g_main_loop_new(NULL, FALSE);
  char *dir = g_dir_make_tmp("glib-monitor-XXXXXX", NULL);
  char *path = g_build_filename(dir, "file", NULL);
  GFile *d = g_file_new_for_path(dir);
  GFileMonitor *m = g_file_monitor_directory(d, G_FILE_MONITOR_NONE, NULL,
                                             NULL);
  guint id, limit;

  setvbuf(stdout, NULL, _IONBF, 0);
  if (m == NULL)
    return 1;
  g_signal_connect(m, "changed", G_CALLBACK(on_changed), loop);
  id = g_timeout_add(60000, tick, NULL); /* @timeout */
  limit = g_timeout_add_seconds(10, give_up, loop);
  g_idle_add(make_file, path);
  g_main_loop_run(loop);
  g_source_remove(limit);
  if (clean) {
    g_source_remove(id);
    g_file_monitor_cancel(m);
    g_object_unref(m);
  }
  g_unlink(path);
  g_rmdir(dir);
  g_object_unref(d);
  g_free(path);
  g_free(dir);
  g_main_loop_unref(loop);
  return 0;
}
