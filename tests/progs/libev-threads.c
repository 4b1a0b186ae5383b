/* One loop per thread: two threads each make a loop with ev_loop_new and
 * run it; the first leaves one io watcher started and its loop never
 * destroyed, the second stops what it started and destroys its loop. The
 * report names the first thread's watcher only, on its own loop. RUN:
 * MODE, leak (the default), or clean, where both clean up.
 *
 * CHECK: ERROR: asyncleak: 1 handle left open at exit
 * CHECK: ^1 handle of type ev_io, created at:
 * CHECK: #0 0x[0-9a-f]+ in worker .*libev-threads.c:%line(leak)$
 * CHECK: ^  0x[0-9a-f]+ on loop [12], thread [0-9]+, started$
 * CHECK: ^Loops \(libev\): 2 seen, 1 closed, 1 not closed:$
 * CHECK-COUNT-1: created in worker .*libev-threads.c:%line(loop) by thread [0-9]+: never closed
 * CHECK: ^SUMMARY: asyncleak: 1 handle left open \(1 ev_io\) from 1 creation site; 1 of 2 loops not closed$
 * CHECK-NOT: ev_timer
 * EXIT: 23
 *
 * [clean] RUN: clean
 * [clean] CHECK-NOT: ERROR
 * [clean] CHECK: ^asyncleak: no leaks: 2 loop\(s\), 4 handle\(s\) created, all closed$
 * [clean] EXIT: 0
 */
#include <ev.h>
#include <pthread.h>
#include <string.h>
#include <unistd.h>

struct job {
  pthread_t thread;
  int leak;
  int fds[2];
  ev_io readable;
  ev_timer soon;
};

static void on_read(struct ev_loop *loop, ev_io *w, int revents) {
  (void)loop;
  (void)w;
  (void)revents;
}

static void on_soon(struct ev_loop *loop, ev_timer *w, int revents) {
  (void)w;
  (void)revents;
  ev_break(loop, EVBREAK_ALL);
}

static void *worker(void *arg) {
  struct job *j = arg;
  struct ev_loop *loop = ev_loop_new(0); /* @loop */

  if (loop == NULL || pipe(j->fds) != 0)
    return NULL;
  ev_io_init(&j->readable, on_read, j->fds[0], EV_READ);
  ev_io_start(loop, &j->readable); /* @leak */
  ev_timer_init(&j->soon, on_soon, 0.001, 0.);
  ev_timer_start(loop, &j->soon);
  ev_run(loop, 0);
  if (!j->leak) {
    ev_io_stop(loop, &j->readable);
    ev_loop_destroy(loop);
  }
  return NULL;
}

int main(int argc, char **argv) {
  int clean = argc > 1 && strcmp(argv[1], "clean") == 0;
  static struct job jobs[2];

  jobs[0].leak = !clean;
  for (int i = 0; i < 2; i++)
    if (pthread_create(&jobs[i].thread, NULL, worker, &jobs[i]) != 0)
      return 1;
  for (int i = 0; i < 2; i++)
    pthread_join(jobs[i].thread, NULL);
  return 0;
}
