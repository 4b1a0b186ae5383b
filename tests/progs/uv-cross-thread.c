/* Calls from other threads: four threads wake the main loop with
 * uv_async_send, which the loop counts; threadpool work is queued on the
 * main loop and on a second thread's loop, each job checking that it runs
 * on a pool thread and completes back on its loop's thread. Whatever
 * crosses threads in the runtime's records must be neither lost nor
 * doubled.
 *
 * [default]: the main loop stops instead of closing its async, and the
 * second thread queues one more job and never runs its loop again: one
 * handle left open and one request pending, each reported where it was
 * made, and both loops fail to close.
 *
 * CHECK: ^second: 16 of 16 jobs ran off the loop's thread, 16 completed on it; loop close: -16$
 * CHECK: ^main: 16 of 16 jobs ran off the loop's thread, 16 completed on it; loop close: -16$
 * CHECK: ^received 4000 of 4000 messages from 4 threads$
 * CHECK: ==[0-9]+==ERROR: asyncleak: 1 handle left open at exit$
 * CHECK: ==[0-9]+==ERROR: asyncleak: 1 request pending at exit$
 * CHECK: ^1 handle of type uv_async_t, created at:$
 * CHECK: ^    #0 0x[0-9a-f]+ in main .*uv-cross-thread.c:%line(async)$
 * CHECK: ^  0x[0-9a-f]+ on loop 1, thread [0-9]+ \(main\), active, referenced$
 * CHECK: ^1 request of type uv_work_t pending, created at:$
 * CHECK: ^    #0 0x[0-9a-f]+ in queue_late .*uv-cross-thread.c:%line(late)$
 * CHECK: ^    #1 0x[0-9a-f]+ in second_main .*uv-cross-thread.c:%line(call)$
 * CHECK: ^  0x[0-9a-f]+ on loop 2, thread [0-9]+, pending for [0-9.]+ m?s$
 * CHECK-COUNT-2: of type
 * CHECK: ^Loops \(libuv\): 2 seen, 0 closed, 2 not closed:$
 * CHECK-COUNT-1: ^  loop 1 .* created in main .*uv-cross-thread.c:%line(loop) by thread [0-9]+ \(main\): close failed 1 time .*never closed$
 * CHECK-COUNT-1: ^  loop 2 .* created in second_main .*uv-cross-thread.c:%line(loop2) by thread [0-9]+: close failed 1 time .*never closed$
 * CHECK: ^SUMMARY: asyncleak: 1 handle left open \(1 uv_async_t\) from 1 creation site; 1 request pending \(1 uv_work_t\) from 1 creation site; 2 of 2 loops not closed$
 * CHECK: ^asyncleak: 1 handle\(s\) left open in 1 process\(es\)$
 * CHECK: ^asyncleak: 1 request\(s\) pending in 1 process\(es\)$
 * EXIT: 23
 *
 * [clean]: the async is closed and the second thread queues nothing more:
 * 2 handles (the async and a deadline timer) and 33 requests (16 jobs a
 * loop, and the one that joins the senders).
 * [clean] RUN: clean
 * [clean] CHECK: ^second: 16 of 16 jobs ran off the loop's thread, 16 completed on it; loop close: 0$
 * [clean] CHECK: ^main: 16 of 16 jobs ran off the loop's thread, 16 completed on it; loop close: 0$
 * [clean] CHECK: ^received 4000 of 4000 messages from 4 threads$
 * [clean] CHECK: ^asyncleak: no leaks: 2 loop\(s\), 2 handle\(s\) created, all closed; 33 request\(s\), all completed$
 * [clean] CHECK-NOT: ERROR
 * [clean] EXIT: 0
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <uv.h>

#define SENDERS 4
#define MESSAGES 1000 /* sent by each sender */
#define JOBS 16       /* queued on each loop */
#define DEADLINE_MS 30000

/* A loop, the thread that runs it, and its threadpool jobs. */
struct side {
  const char *name;
  uv_loop_t loop;
  uv_thread_t thread;
  uv_work_t jobs[JOBS];
  int off_loop[JOBS]; /* written on a pool thread, read after the job */
  int on_loop;        /* after_work calls on the loop's thread */
  int done;
  int close_status;
};

static struct side main_side = {.name = "main"};
static struct side second_side = {.name = "second"};
static int clean;

/* The senders' messages, counted under the lock; the loop takes them. */
static uv_mutex_t lock;
static int queued;
static uv_async_t wake;
static int received;
static pthread_t senders[SENDERS];
static uv_work_t joiner;
static int joined;
static uv_timer_t deadline;
static int finished;
static uv_work_t late;

static void work(uv_work_t *req) {
  struct side *s = req->data;
  uv_thread_t self = uv_thread_self();

  s->off_loop[req - s->jobs] = !uv_thread_equal(&self, &s->thread);
}

static void finish(void);

static void after_work(uv_work_t *req, int status) {
  struct side *s = req->data;
  uv_thread_t self = uv_thread_self();

  if (status == 0 && uv_thread_equal(&self, &s->thread))
    s->on_loop++;
  s->done++;
  if (s == &main_side)
    finish();
}

static void queue_jobs(struct side *s) {
  for (int i = 0; i < JOBS; i++) {
    s->jobs[i].data = s;
    uv_queue_work(&s->loop, &s->jobs[i], work, after_work);
  }
}

static void *send_messages(void *arg) {
  for (int i = 0; i < MESSAGES; i++) {
    uv_mutex_lock(&lock);
    queued++;
    uv_mutex_unlock(&lock);
    uv_async_send(&wake);
  }
  return NULL;
}

static void on_wake(uv_async_t *a) {
  uv_mutex_lock(&lock);
  received += queued;
  queued = 0;
  uv_mutex_unlock(&lock);
  finish();
}

/* On a pool thread: no sender is inside uv_async_send any more once they
 * are joined, and the async may be closed. */
static void join_senders(uv_work_t *req) {
  for (int i = 0; i < SENDERS; i++)
    pthread_join(senders[i], NULL);
}

static void senders_joined(uv_work_t *req, int status) {
  joined = 1;
  finish();
}

static void too_late(uv_timer_t *t) {
  printf("timed out: received %d, %d jobs done\n", received, main_side.done);
  fflush(stdout);
  uv_stop(t->loop);
}

/* Once every message is in and every job done: the async is closed, or in
 * the leaking run left open and the loop stopped. */
static void finish(void) {
  if (finished || !joined || received != SENDERS * MESSAGES ||
      main_side.done != JOBS)
    return;
  finished = 1;
  uv_close((uv_handle_t *)&deadline, NULL);
  if (clean)
    uv_close((uv_handle_t *)&wake, NULL);
  else
    uv_stop(&main_side.loop);
}

static void nothing(uv_work_t *req) {}

static void never(uv_work_t *req, int status) {
  printf("the late job completed\n");
}

static void queue_late(struct side *s) {
  uv_queue_work(&s->loop, &late, nothing, never); /* @late */
}

static void *second_main(void *arg) {
  struct side *s = arg;

  s->thread = uv_thread_self();
  uv_loop_init(&s->loop); /* @loop2 */
  queue_jobs(s);
  uv_run(&s->loop, UV_RUN_DEFAULT);
  if (!clean)
    queue_late(s); /* @call */
  s->close_status = uv_loop_close(&s->loop);
  return NULL;
}

static int report(const struct side *s) {
  int off = 0;

  for (int i = 0; i < JOBS; i++)
    off += s->off_loop[i];
  printf("%s: %d of %d jobs ran off the loop's thread, %d completed on it; "
         "loop close: %d\n", s->name, off, JOBS, s->on_loop, s->close_status);
  return off == JOBS && s->on_loop == JOBS;
}

int main(int argc, char **argv) {
  struct side *s = &main_side;
  pthread_t second;
  int ok;

  clean = argc > 1 && strcmp(argv[1], "clean") == 0;
  uv_mutex_init(&lock);
  s->thread = uv_thread_self();
  uv_loop_init(&s->loop); /* @loop */
  uv_async_init(&s->loop, &wake, on_wake); /* @async */
  uv_timer_init(&s->loop, &deadline);
  uv_timer_start(&deadline, too_late, DEADLINE_MS, 0);
  pthread_create(&second, NULL, second_main, &second_side);
  for (int i = 0; i < SENDERS; i++)
    pthread_create(&senders[i], NULL, send_messages, NULL);
  uv_queue_work(&s->loop, &joiner, join_senders, senders_joined);
  queue_jobs(s);
  uv_run(&s->loop, UV_RUN_DEFAULT);
  pthread_join(second, NULL);
  s->close_status = uv_loop_close(&s->loop);

  ok = report(&second_side);
  ok &= report(s);
  printf("received %d of %d messages from %d threads\n", received,
         SENDERS * MESSAGES, SENDERS);
  fflush(stdout);
  return ok && finished ? 0 : 1;
}
