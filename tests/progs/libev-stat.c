/* An ev_stat's own timer is libev's: libev starts it when the file it
 * watches goes away and inotify can no longer follow it, from inside
 * ev_run, outside any call of the program's, and unreferences it there.
 * The program watches a file, removes it, and runs the loop until its
 * callback tells; the ev_stat is left started: reported once, as ev_stat,
 * started, referenced, and its timer not at all. RUN: MODE, leak (the
 * default) or clean, which stops it.
 *
 * CHECK: ^stat called$
 * CHECK: ==[0-9]+==ERROR: asyncleak: 1 handle left open at exit$
 * CHECK: ^1 handle of type ev_stat, created at:$
 * CHECK: #0 0x[0-9a-f]+ in main .*libev-stat.c:%line(stat)$
 * CHECK: on loop 1, thread [0-9]+ \(main\), started$
 * CHECK-NOT: ev_timer
 * CHECK-NOT: unreferenced
 * EXIT: 23
 *
 * [clean] RUN: clean
 * [clean] CHECK: ^stat called$
 * [clean] CHECK-NOT: ERROR
 * [clean] CHECK: ^asyncleak: no leaks: 1 loop\(s\), 2 handle\(s\) created, all closed$
 * [clean] EXIT: 0
 */
#include <ev.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int called;

static void on_stat(struct ev_loop *loop, ev_stat *w, int revents) {
  (void)w;
  (void)revents;
  called = 1;
  ev_break(loop, EVBREAK_ALL);
}

/* A bound on the wait, not an assertion: the output says whether the
 * callback came. */
static void on_deadline(struct ev_loop *loop, ev_timer *w, int revents) {
  (void)w;
  (void)revents;
  ev_break(loop, EVBREAK_ALL);
}

int main(int argc, char **argv) {
  int clean = argc > 1 && strcmp(argv[1], "clean") == 0;
  struct ev_loop *loop = ev_loop_new(0);
  char dir[] = "/tmp/asyncleak-libev-stat.XXXXXX", path[64];
  static ev_stat file;
  static ev_timer deadline;
  FILE *f;

  if (loop == NULL || mkdtemp(dir) == NULL)
    return 1;
  snprintf(path, sizeof(path), "%s/watched", dir);
  if ((f = fopen(path, "w")) == NULL)
    return 1;
  fclose(f);
  ev_stat_init(&file, on_stat, path, 0.);
  ev_stat_start(loop, &file); /* @stat */
  ev_timer_init(&deadline, on_deadline, 30., 0.);
  ev_timer_start(loop, &deadline);
  unlink(path);
  ev_run(loop, 0);
  rmdir(dir);
  printf("stat %s\n", called ? "called" : "not called");
  fflush(stdout);
  ev_timer_stop(loop, &deadline);
  if (clean) {
    ev_stat_stop(loop, &file);
    ev_loop_destroy(loop);
  }
  return 0;
}
