/* GTasks of the program's: one made by a helper and never returned is
 * pending at exit, reported with where it was made. The loop quits on a
 * timeout. RUN: MODE, leak (the default); clean, which returns the task
 * from an idle (its callback runs); thread, which runs it in GIO's thread
 * pool, its worker returning it; dropped, whose task is unreffed without
 * returning (finalized: nothing can complete it any more, and GLib's own
 * warnings are GLib's business).
 *
 * CHECK: ==[0-9]+==ERROR: asyncleak: 1 request pending at exit$
 * CHECK: ^1 request of type GTask pending, created at:$
 * CHECK: #0 0x[0-9a-f]+ in start_lookup .*glib-task.c:%line(task)$
 * CHECK: #1 0x[0-9a-f]+ in main .*glib-task.c:%line(call)$
 * CHECK-NOT: handle of type
 * EXIT: 23
 *
 * [clean] RUN: clean
 * [clean] CHECK: ^done: 42$
 * [clean] CHECK-NOT: ERROR
 * [clean] CHECK: ^asyncleak: no leaks: 1 loop\(s\), [0-9]+ handle\(s\) created, all closed; 1 request\(s\), all completed; 1 loop\(s\) never closed$
 * [clean] EXIT: 0
 *
 * [thread] RUN: thread
 * [thread] CHECK: ^done: 42$
 * [thread] CHECK-NOT: ERROR
 * [thread] CHECK: ^asyncleak: no leaks: 1 loop\(s\), [0-9]+ handle\(s\) created, all closed; 1 request\(s\), all completed; 1 loop\(s\) never closed$
 * [thread] EXIT: 0
 *
 * [exit]: as clean, but the task's callback, which GIO calls from inside
 * g_task_return_int (the return comes from a later turn of the task's
 * context), ends the process: the task returned, and is not pending; the
 * idle it returns from and the time limit are still attached then.
 * [exit] RUN: exit
 * [exit] CHECK: ^done: 42$
 * [exit] CHECK: ==[0-9]+==ERROR: asyncleak: 2 handles left open at exit$
 * [exit] CHECK: ^1 handle of type idle source, created at:$
 * [exit] CHECK: ^1 handle of type timeout source, created at:$
 * [exit] CHECK-NOT: GTask
 * [exit] CHECK-NOT: request
 * [exit] EXIT: 23
 *
 * [dropped] RUN: dropped
 * [dropped] CHECK-NOT: ERROR
 * [dropped] CHECK: ^asyncleak: no leaks: 1 loop\(s\), [0-9]+ handle\(s\) created, all closed; 1 request\(s\), all completed; 1 loop\(s\) never closed$
 * [dropped] EXIT: 0
 */
#include <gio/gio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static GMainLoop *loop;
static int exiting;
static guint limit;

static void on_done(GObject *source, GAsyncResult *res, gpointer data) {
  (void)source;
  (void)data;
  printf("done: %d\n", (int)g_task_propagate_int(G_TASK(res), NULL));
  if (exiting)
    exit(0);
  g_main_loop_quit(loop);
}

static GTask *start_lookup(void) {
  return g_task_new(NULL, NULL, on_done, NULL); /* @task */
}

static gboolean answer(gpointer task) {
  g_task_return_int(task, 42);
  g_object_unref(task);
  return G_SOURCE_REMOVE;
}

static void work(GTask *task, gpointer source, gpointer data,
                 GCancellable *cancellable) {
  (void)source;
  (void)data;
  (void)cancellable;
  g_task_return_int(task, 42);
}

static gboolean give_up(gpointer data) {
  (void)data;
  limit = 0;
  g_main_loop_quit(loop);
  return G_SOURCE_REMOVE;
}

int main(int argc, char **argv) {
  const char *mode = argc > 1 ? argv[1] : "leak";
  GTask *task;

  setvbuf(stdout, NULL, _IONBF, 0);
  loop = g_main_loop_new(NULL, FALSE);
  task = start_lookup(); /* @call */
  exiting = strcmp(mode, "exit") == 0;
  if (strcmp(mode, "clean") == 0 || exiting) {
    g_idle_add(answer, task);
  } else if (strcmp(mode, "thread") == 0) {
    g_task_run_in_thread(task, work);
    g_object_unref(task);
  } else if (strcmp(mode, "dropped") == 0) {
    g_object_unref(task);
  }
  limit = g_timeout_add(strcmp(mode, "leak") == 0 ||
                                strcmp(mode, "dropped") == 0
                            ? 20
                            : 5000,
                        give_up, NULL);
  g_main_loop_run(loop);
  if (limit != 0)
    g_source_remove(limit);
  g_main_loop_unref(loop);
  return 0;
}
