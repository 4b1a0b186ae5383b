/* One source of each kind GLib's convenience functions make, left
 * attached to the default context at exit, each reported with what it
 * watches: an idle (which keeps the loop busy: it is called back at every
 * turn until the loop quits), an io watch and a unix fd source on a
 * pipe, a child watch of a child that has not exited (it waits for the
 * pipe to close, which our exit does), and a unix signal source.
 * [clean] removes each by its id before exit.
 *
 * CHECK: ==[0-9]+==ERROR: asyncleak: 5 handles left open at exit$
 * CHECK: ^1 handle of type idle source, created at:$
 * CHECK: #0 0x[0-9a-f]+ in main .*glib-kinds.c:%line(idle)$
 * CHECK: on loop 1, thread [0-9]+ \(main\), attached$
 * CHECK: ^1 handle of type io watch, created at:$
 * CHECK: #0 0x[0-9a-f]+ in main .*glib-kinds.c:%line(io)$
 * CHECK: on loop 1, thread [0-9]+ \(main\), attached: fd [0-9]+, in\|hup$
 * CHECK: ^1 handle of type child watch, created at:$
 * CHECK: #0 0x[0-9a-f]+ in main .*glib-kinds.c:%line(child)$
 * CHECK: on loop 1, thread [0-9]+ \(main\), attached: pid [0-9]+$
 * CHECK: ^1 handle of type unix signal source, created at:$
 * CHECK: #0 0x[0-9a-f]+ in main .*glib-kinds.c:%line(signal)$
 * CHECK: on loop 1, thread [0-9]+ \(main\), attached: signal 10 \(USR1\)$
 * CHECK: ^1 handle of type unix fd source, created at:$
 * CHECK: #0 0x[0-9a-f]+ in main .*glib-kinds.c:%line(fd)$
 * CHECK: on loop 1, thread [0-9]+ \(main\), attached: fd [0-9]+$
 * CHECK: ^SUMMARY: asyncleak: 5 handles left open
 * EXIT: 23
 *
 * [clean] RUN: clean
 * [clean] CHECK: ^idle called back$
 * [clean] CHECK-NOT: ERROR
 * [clean] CHECK: ^asyncleak: no leaks: 1 loop\(s\), 6 handle\(s\) created, all closed; 1 loop\(s\) never closed$
 * [clean] EXIT: 0
 */
#include <glib-unix.h>
#include <glib.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static int idles;

static gboolean on_idle(gpointer data) {
  (void)data;
  if (idles++ == 0)
    printf("idle called back\n");
  return G_SOURCE_CONTINUE;
}

static gboolean on_io(GIOChannel *ch, GIOCondition cond, gpointer data) {
  (void)ch;
  (void)cond;
  (void)data;
  return G_SOURCE_CONTINUE;
}

static gboolean on_fd(gint fd, GIOCondition cond, gpointer data) {
  (void)fd;
  (void)cond;
  (void)data;
  return G_SOURCE_CONTINUE;
}

static void on_child(GPid pid, gint status, gpointer data) {
  (void)pid;
  (void)status;
  (void)data;
}

static gboolean on_signal(gpointer data) {
  (void)data;
  return G_SOURCE_CONTINUE;
}

static gboolean quit(gpointer loop) {
  g_main_loop_quit(loop);
  return G_SOURCE_REMOVE;
}

int main(int argc, char **argv) {
  int clean = argc > 1 && strcmp(argv[1], "clean") == 0;
  GMainLoop *loop = g_main_loop_new(NULL, FALSE);
  int fds[2], wake[2];
  guint ids[5];
  GIOChannel *ch;
  char c;
  pid_t child;

  setvbuf(stdout, NULL, _IONBF, 0);
  if (pipe(fds) != 0 || pipe(wake) != 0)
    return 1;
  if ((child = fork()) == 0) {
    /* Ends when the parent's end of the pipe closes, at its exit. */
    close(wake[1]);
    (void)!read(wake[0], &c, 1);
    _exit(0);
  }
  close(wake[0]);
  ch = g_io_channel_unix_new(fds[0]);
  ids[0] = g_idle_add(on_idle, NULL); /* @idle */
  ids[1] = g_io_add_watch(ch, G_IO_IN | G_IO_HUP, on_io, NULL); /* @io */
  ids[2] = g_child_watch_add(child, on_child, NULL); /* @child */
  ids[3] = g_unix_signal_add(SIGUSR1, on_signal, NULL); /* @signal */
  ids[4] = g_unix_fd_add(fds[0], G_IO_IN, on_fd, NULL); /* @fd */
  g_timeout_add(20, quit, loop);
  g_main_loop_run(loop);
  if (clean) {
    for (int i = 0; i < 5; i++)
      g_source_remove(ids[i]);
    close(wake[1]);
    waitpid(child, NULL, 0);
  }
  g_io_channel_unref(ch);
  g_main_loop_unref(loop);
  return 0;
}
