/* The wrong-thread check for libevent (check_threads, --debug-checks):
 * while the main thread runs a base, a second thread adds an event of it.
 * Without threading turned on before the base was made, the base has no
 * lock, and the call races with the run: a finding, with both threads and
 * the stack where the main thread began running the base. The main thread
 * waits inside a callback of its run while the other thread calls.
 * --debug-checks also times callbacks: the main thread's wait for the
 * other thread inside a callback is not what this tests, and the slow
 * callback limit is set out of its reach.
 *
 * RUN: call
 * CLI: --debug-checks --slow-callback=600000
 * CHECK: WARNING: asyncleak: 1 finding of the debug checks \(not a failure\)
 * CHECK: ^Wrong thread: event_add on an event from thread [0-9]+ while thread [0-9]+ \(main\) runs its loop, 1 time, at:$
 * CHECK: #0 0x[0-9a-f]+ in call_from_worker .*ev-wrong-thread.c:%line(call)$
 * CHECK: #1 0x[0-9a-f]+ in worker .*ev-wrong-thread.c:%line(worker)$
 * CHECK: ^  thread [0-9]+ \(main\) began running the loop at:$
 * CHECK: #0 0x[0-9a-f]+ in main .*ev-wrong-thread.c:%line(run)$
 * CHECK: 1 finding\(s\) of the debug checks in 1 process\(es\); not a failure
 * EXIT: 0
 *
 * A bufferevent is the base's too: a write to one from the second thread
 * is a finding as well.
 * [bev] RUN: bev
 * [bev] CLI: --debug-checks --slow-callback=600000
 * [bev] CHECK: ^Wrong thread: bufferevent_write on a bufferevent from thread [0-9]+ while thread [0-9]+ \(main\) runs its loop, 1 time, at:$
 * [bev] CHECK: #0 0x[0-9a-f]+ in write_from_worker .*ev-wrong-thread.c:%line(write)$
 * [bev] CHECK: ^  thread [0-9]+ \(main\) began running the loop at:$
 * [bev] CHECK: 1 finding\(s\) of the debug checks in 1 process\(es\); not a failure
 * [bev] EXIT: 0
 * [bev-locked] RUN: bev-locked
 * [bev-locked] CLI: --debug-checks --slow-callback=600000 --fail-on-findings
 * [bev-locked] CHECK-NOT: finding
 * [bev-locked] CHECK-NOT: Wrong thread
 * [bev-locked] CHECK: ^asyncleak: no leaks: 1 loop\(s\)
 * [bev-locked] EXIT: 0
 *
 * The negative controls: the same call on a base made after
 * evthread_use_pthreads, which has a lock and is thread-safe; and the
 * check off.
 * [locked] RUN: locked
 * [locked] CLI: --debug-checks --slow-callback=600000 --fail-on-findings
 * [locked] CHECK-NOT: finding
 * [locked] CHECK-NOT: Wrong thread
 * [locked] CHECK: ^asyncleak: no leaks: 1 loop\(s\)
 * [locked] EXIT: 0
 * [off] RUN: call
 * [off] CHECK-NOT: finding
 * [off] CHECK-NOT: Wrong thread
 * [off] EXIT: 0
 */
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/thread.h>
#include <pthread.h>
#include <semaphore.h>
#include <string.h>

static struct event_base *base;
static struct event *timer, *kick;
static struct bufferevent *pair[2];
static sem_t ready, done;
static const char *mode = "call";

static void never(evutil_socket_t fd, short what, void *arg) {
  (void)fd;
  (void)what;
  (void)arg;
}

static void call_from_worker(void) {
  struct timeval later = {100000, 0};

  event_add(timer, &later); /* @call */
}

static void write_from_worker(void) {
  bufferevent_write(pair[0], "x", 1); /* @write */
}

/* The main thread is inside its run, in kick's callback, until done. */
static void *worker(void *arg) {
  (void)arg;
  sem_wait(&ready);
  if (!strncmp(mode, "bev", 3))
    write_from_worker();
  else
    call_from_worker(); /* @worker */
  sem_post(&done);
  return NULL;
}

/* Then the timer is deleted on the base's own thread: nothing is left,
 * and the run returns. */
static void kicked(evutil_socket_t fd, short what, void *arg) {
  (void)fd;
  (void)what;
  (void)arg;
  sem_post(&ready);
  sem_wait(&done);
  event_del(timer);
}

int main(int argc, char **argv) {
  struct timeval now = {0, 0};
  pthread_t t;

  if (argc > 1)
    mode = argv[1];
  if (strstr(mode, "locked") != NULL)
    evthread_use_pthreads();
  base = event_base_new();
  if (!strncmp(mode, "bev", 3) &&
      bufferevent_pair_new(base, BEV_OPT_CLOSE_ON_FREE |
                                     (strstr(mode, "locked") != NULL
                                          ? BEV_OPT_THREADSAFE
                                          : 0),
                           pair) != 0)
    return 1;
  timer = evtimer_new(base, never, NULL);
  kick = evtimer_new(base, kicked, NULL);
  evtimer_add(kick, &now);
  sem_init(&ready, 0, 0);
  sem_init(&done, 0, 0);
  pthread_create(&t, NULL, worker, NULL);
  event_base_dispatch(base); /* @run */
  pthread_join(t, NULL);
  sem_destroy(&ready);
  sem_destroy(&done);
  if (pair[0] != NULL) {
    bufferevent_free(pair[0]);
    bufferevent_free(pair[1]);
  }
  event_free(timer);
  event_free(kick);
  event_base_free(base);
  return 0;
}
