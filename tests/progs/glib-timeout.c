/* A GLib timeout never removed, added by a helper of its own on the
 * default context, which stays attached at exit: reported with its
 * creation site and its interval. A second timeout quits the loop.
 * RUN: MODE, leak (the default); remove, which removes the timeout by its
 * id (g_source_remove); return, whose timeout callback returns
 * G_SOURCE_REMOVE on its second call; destroy, which destroys the source
 * it made and attached itself (g_timeout_source_new, g_source_attach),
 * and [attached], which leaves that one attached.
 *
 * CHECK: ==[0-9]+==ERROR: asyncleak: 1 handle left open at exit$
 * CHECK: ^1 handle of type timeout source, created at:$
 * CHECK: #0 0x[0-9a-f]+ in start_heartbeat .*glib-timeout.c:%line(add)$
 * CHECK: #1 0x[0-9a-f]+ in main .*glib-timeout.c:%line(call)$
 * CHECK: on loop 1, thread [0-9]+ \(main\), attached: every 250 ms$
 * CHECK: ^  loop 1 \(GLib 0x[0-9a-f]+, default loop\) created at an unknown place by thread [0-9]+ \(main\): never closed$
 * CHECK: ^SUMMARY: asyncleak: 1 handle left open \(1 timeout source\) from 1 creation site
 * CHECK-NOT: idle
 * EXIT: 23
 *
 * [remove] RUN: remove
 * [remove] CHECK: ^quit$
 * [remove] CHECK-NOT: ERROR
 * [remove] CHECK: ^asyncleak: no leaks: 1 loop\(s\), 2 handle\(s\) created, all closed; 1 loop\(s\) never closed$
 * [remove] EXIT: 0
 *
 * [return] RUN: return
 * [return] CHECK: ^beat 1$
 * [return] CHECK: ^beat 2$
 * [return] CHECK: ^quit$
 * [return] CHECK-NOT: ERROR
 * [return] CHECK: ^asyncleak: no leaks: 1 loop\(s\), 2 handle\(s\) created, all closed; 1 loop\(s\) never closed$
 * [return] EXIT: 0
 *
 * [destroy] RUN: destroy
 * [destroy] CHECK-NOT: ERROR
 * [destroy] CHECK: ^asyncleak: no leaks: 1 loop\(s\), 3 handle\(s\) created, all closed; 1 loop\(s\) never closed$
 * [destroy] EXIT: 0
 *
 * [cleared]: as destroy, but the program takes its own source's callback
 * away first (g_source_set_callback_indirect with no functions): the
 * source is still followed, and its destroy seen.
 * [cleared] RUN: cleared
 * [cleared] CHECK-NOT: ERROR
 * [cleared] CHECK: ^asyncleak: no leaks: 1 loop\(s\), 3 handle\(s\) created, all closed; 1 loop\(s\) never closed$
 * [cleared] EXIT: 0
 *
 * [attached] RUN: attached
 * [attached] CHECK: ==[0-9]+==ERROR: asyncleak: 2 handles left open at exit$
 * [attached] CHECK: #0 0x[0-9a-f]+ in main .*glib-timeout.c:%line(own)$
 * [attached] CHECK: attached: every 2 s, named "own timer"$
 * [attached] EXIT: 23
 */
#include <glib.h>
#include <stdio.h>
#include <string.h>

static int beats, until_remove;

static gboolean beat(gpointer data) {
  (void)data;
  printf("beat %d\n", ++beats);
  return until_remove && beats == 2 ? G_SOURCE_REMOVE : G_SOURCE_CONTINUE;
}

static guint start_heartbeat(void) {
  return g_timeout_add(250, beat, NULL); /* @add */
}

static gboolean quit(gpointer loop) {
  printf("quit\n");
  g_main_loop_quit(loop);
  return G_SOURCE_REMOVE;
}

int main(int argc, char **argv) {
  const char *mode = argc > 1 ? argv[1] : "leak";
  GMainLoop *loop = g_main_loop_new(NULL, FALSE);
  GSource *own = NULL;
  int cleared = 0;
  guint id;

  setvbuf(stdout, NULL, _IONBF, 0);
  until_remove = strcmp(mode, "return") == 0;
  id = start_heartbeat(); /* @call */
  if (strcmp(mode, "cleared") == 0)
    mode = "destroy", cleared = 1;
  if (strcmp(mode, "destroy") == 0 || strcmp(mode, "attached") == 0) {
    own = g_timeout_source_new_seconds(2);
    g_source_set_name(own, "own timer");
    g_source_set_callback(own, beat, NULL, NULL);
    g_source_attach(own, NULL); /* @own */
    if (cleared)
      g_source_set_callback_indirect(own, NULL, NULL);
  }
  g_timeout_add(until_remove ? 700 : 30, quit, loop);
  g_main_loop_run(loop);
  if (strcmp(mode, "remove") == 0 || strcmp(mode, "destroy") == 0)
    g_source_remove(id);
  if (strcmp(mode, "destroy") == 0)
    g_source_destroy(own);
  if (own != NULL)
    g_source_unref(own);
  g_main_loop_unref(loop);
  return 0;
}
