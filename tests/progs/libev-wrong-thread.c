/* The wrong-thread check for libev (check_threads, --debug-checks): while
 * the main thread runs the loop, a second thread starts a timer on it.
 * libev is not thread-safe but for ev_async_send and ev_feed_signal: the
 * finding names both threads, with the stack of the call and the stack
 * where the main thread began running the loop. The main thread waits
 * inside a callback of its run while the other thread calls.
 * --debug-checks also times callbacks: the main thread's wait for the
 * other thread inside a callback is not what this tests, and the slow
 * callback limit is set out of its reach.
 *
 * RUN: call
 * CLI: --debug-checks --slow-callback=600000
 * CHECK: WARNING: asyncleak: 1 finding of the debug checks \(not a failure\)
 * CHECK: ^Wrong thread: ev_timer_start on an ev_timer from thread [0-9]+ while thread [0-9]+ \(main\) runs its loop, 1 time, at:$
 * CHECK: #0 0x[0-9a-f]+ in call_from_worker .*libev-wrong-thread.c:%line(call)$
 * CHECK: #1 0x[0-9a-f]+ in worker .*libev-wrong-thread.c:%line(worker)$
 * CHECK: ^  thread [0-9]+ \(main\) began running the loop at:$
 * CHECK: #0 0x[0-9a-f]+ in main .*libev-wrong-thread.c:%line(run)$
 * CHECK: 1 finding\(s\) of the debug checks in 1 process\(es\); not a failure
 * CHECK-NOT: ev_async_send
 * EXIT: 0
 *
 * The negative controls: ev_async_send alone from the second thread, and
 * the check off.
 * [async] RUN: async
 * [async] CLI: --debug-checks --slow-callback=600000 --fail-on-findings
 * [async] CHECK-NOT: finding
 * [async] CHECK-NOT: Wrong thread
 * [async] CHECK: ^asyncleak: no leaks: 1 loop\(s\), 2 handle\(s\) created, all closed$
 * [async] EXIT: 0
 * [off] RUN: call
 * [off] CHECK-NOT: finding
 * [off] CHECK-NOT: Wrong thread
 * [off] EXIT: 0
 */
#include <ev.h>
#include <pthread.h>
#include <semaphore.h>
#include <string.h>

static struct ev_loop *loop;
static ev_timer timer, kick;
static ev_async wake;
static sem_t ready, done;
static const char *mode;

static void never(struct ev_loop *l, ev_timer *w, int revents) {
  (void)l;
  (void)w;
  (void)revents;
}

static void call_from_worker(void) {
  ev_timer_start(loop, &timer); /* @call */
}

/* The main thread is inside its run, in kick's callback, until done. */
static void *worker(void *arg) {
  (void)arg;
  sem_wait(&ready);
  if (!strcmp(mode, "call"))
    call_from_worker(); /* @worker */
  ev_async_send(loop, &wake);
  sem_post(&done);
  return NULL;
}

static void kicked(struct ev_loop *l, ev_timer *w, int revents) {
  (void)l;
  (void)w;
  (void)revents;
  sem_post(&ready);
  sem_wait(&done);
}

static void woken(struct ev_loop *l, ev_async *w, int revents) {
  (void)revents;
  ev_async_stop(l, w);
  ev_timer_stop(l, &timer);
}

int main(int argc, char **argv) {
  pthread_t t;

  mode = argc > 1 ? argv[1] : "call";
  loop = ev_loop_new(0);
  ev_timer_init(&timer, never, 100000., 0.);
  ev_timer_init(&kick, kicked, 0., 0.);
  ev_async_init(&wake, woken);
  ev_async_start(loop, &wake);
  ev_timer_start(loop, &kick);
  sem_init(&ready, 0, 0);
  sem_init(&done, 0, 0);
  pthread_create(&t, NULL, worker, NULL);
  ev_run(loop, 0); /* @run */
  pthread_join(t, NULL);
  sem_destroy(&ready);
  sem_destroy(&done);
  ev_loop_destroy(loop);
  return 0;
}
