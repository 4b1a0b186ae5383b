/* The wrong-thread check (check_threads, --debug-checks): while the main
 * thread runs the loop, a second thread starts a timer of that loop. libuv
 * is not thread-safe: the finding names both threads, with the stack of
 * the call and the stack where the main thread began running the loop.
 * The main thread waits inside a callback of its run while the other
 * thread calls, so the call is made during the run, and races with
 * nothing.
 * --debug-checks also times callbacks: the main thread's wait for the
 * other thread inside a callback is not what this tests, and the slow
 * callback limit is set out of its reach.
 *
 * RUN: call
 * CLI: --debug-checks --slow-callback=600000
 * CHECK: WARNING: asyncleak: 1 finding of the debug checks \(not a failure\)
 * CHECK: ^Wrong thread: uv_timer_start on a uv_timer_t from thread [0-9]+ while thread [0-9]+ \(main\) runs its loop, 1 time, at:$
 * CHECK: #0 0x[0-9a-f]+ in call_from_worker .*uv-wrong-thread.c:%line(call)$
 * CHECK: #1 0x[0-9a-f]+ in worker .*uv-wrong-thread.c:%line(worker)$
 * CHECK: ^  thread [0-9]+ \(main\) began running the loop at:$
 * CHECK: #0 0x[0-9a-f]+ in main .*uv-wrong-thread.c:%line(run)$
 * CHECK: fingerprint [0-9a-f]+
 * CHECK: 1 finding\(s\) of the debug checks in 1 process\(es\); not a failure
 * CHECK-NOT: uv_async_send
 * CHECK-NOT: SUMMARY
 * EXIT: 0
 *
 * check_threads=1 turns it on alone.
 * [alone] RUN: call
 * [alone] ENV: ASYNCLEAK_OPTIONS=check_threads=1
 * [alone] CHECK: ^Wrong thread: uv_timer_start on a uv_timer_t from thread [0-9]+ while thread [0-9]+ \(main\) runs its loop, 1 time, at:$
 * [alone] EXIT: 0
 *
 * With --fail-on-findings the finding fails the run.
 * [failing] RUN: call
 * [failing] CLI: --debug-checks --slow-callback=600000 --fail-on-findings
 * [failing] CHECK: ERROR: asyncleak: 1 finding of the debug checks$
 * [failing] CHECK: ^Wrong thread: uv_timer_start on a uv_timer_t from thread
 * [failing] CHECK: SUMMARY: asyncleak: 0 handles left open; 1 finding of the debug checks$
 * [failing] EXIT: 23
 *
 * A stop is a call on the handle too: the second thread stops a timer
 * the main thread started.
 * [stop] RUN: stop
 * [stop] CLI: --debug-checks --slow-callback=600000
 * [stop] CHECK: ^Wrong thread: uv_timer_stop on a uv_timer_t from thread [0-9]+ while thread [0-9]+ \(main\) runs its loop, 1 time, at:$
 * [stop] CHECK: #0 0x[0-9a-f]+ in stop_from_worker .*uv-wrong-thread.c:%line(stop)$
 * [stop] CHECK: ^  thread [0-9]+ \(main\) began running the loop at:$
 * [stop] CHECK: 1 finding\(s\) of the debug checks in 1 process\(es\); not a failure
 * [stop] EXIT: 0
 *
 * The check is off unless asked for.
 * [off] RUN: call
 * [off] CHECK-NOT: finding
 * [off] CHECK-NOT: Wrong thread
 * [off] EXIT: 0
 *
 * The negative controls: uv_async_send, which libuv documents as safe
 * from any thread, from the second thread while the main thread runs the
 * loop; and a loop handed over: the main thread's run returned, then the
 * second thread starts the timer and runs the loop itself.
 * [async] RUN: async
 * [async] CLI: --debug-checks --slow-callback=600000 --fail-on-findings
 * [async] CHECK-NOT: finding
 * [async] CHECK-NOT: Wrong thread
 * [async] CHECK: no leaks: 1 loop\(s\), 3 handle\(s\) created, all closed
 * [async] EXIT: 0
 * [handover] RUN: handover
 * [handover] CLI: --debug-checks --slow-callback=600000 --fail-on-findings
 * [handover] CHECK-NOT: finding
 * [handover] CHECK-NOT: Wrong thread
 * [handover] CHECK: no leaks: 1 loop\(s\), 1 handle\(s\) created, all closed
 * [handover] EXIT: 0
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <uv.h>

static uv_loop_t loop;
static uv_timer_t timer, kick;
static uv_async_t wake;
static uv_sem_t ready, done;
static const char *mode;

static void never(uv_timer_t *t) {
  (void)t;
}

static void call_from_worker(void) {
  uv_timer_start(&timer, never, 100000, 0); /* @call */
}

static void stop_from_worker(void) {
  uv_timer_stop(&timer); /* @stop */
}

/* The main thread is inside its run, in kick's callback, until done. */
static void *worker(void *arg) {
  (void)arg;
  uv_sem_wait(&ready);
  if (!strcmp(mode, "call"))
    call_from_worker(); /* @worker */
  if (!strcmp(mode, "stop"))
    stop_from_worker();
  uv_async_send(&wake);
  uv_sem_post(&done);
  return NULL;
}

static void kicked(uv_timer_t *t) {
  (void)t;
  uv_sem_post(&ready);
  uv_sem_wait(&done);
}

static void woken(uv_async_t *a) {
  uv_close((uv_handle_t *)a, NULL);
  uv_close((uv_handle_t *)&timer, NULL);
  uv_close((uv_handle_t *)&kick, NULL);
}

static void fired(uv_timer_t *t) {
  uv_close((uv_handle_t *)t, NULL);
}

/* The loop is this thread's now: the main thread's run returned. */
static void *taker(void *arg) {
  (void)arg;
  uv_timer_start(&timer, fired, 0, 0);
  uv_run(&loop, UV_RUN_DEFAULT);
  return NULL;
}

int main(int argc, char **argv) {
  pthread_t t;

  mode = argc > 1 ? argv[1] : "call";
  uv_loop_init(&loop);
  uv_timer_init(&loop, &timer);
  if (!strcmp(mode, "handover")) {
    uv_run(&loop, UV_RUN_NOWAIT);
    pthread_create(&t, NULL, taker, NULL);
    pthread_join(t, NULL);
    return uv_loop_close(&loop) == 0 ? 0 : 1;
  }
  uv_timer_init(&loop, &kick);
  uv_async_init(&loop, &wake, woken);
  uv_sem_init(&ready, 0);
  uv_sem_init(&done, 0);
  uv_timer_start(&kick, kicked, 0, 0);
  if (!strcmp(mode, "stop"))
    uv_timer_start(&timer, never, 100000, 0);
  pthread_create(&t, NULL, worker, NULL);
  uv_run(&loop, UV_RUN_DEFAULT); /* @run */
  pthread_join(t, NULL);
  uv_sem_destroy(&ready);
  uv_sem_destroy(&done);
  return uv_loop_close(&loop) == 0 ? 0 : 1;
}
