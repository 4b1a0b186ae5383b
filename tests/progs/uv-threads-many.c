/* Eight threads, each with its own loop, create and close 10,000 handles
 * each (timers, idles, asyncs, prepares and checks, most of them started),
 * all at once; one thread also leaks three timers. No record may be lost
 * or doubled: exactly the three are reported, and the totals count every
 * handle the program made, 80,003.
 *
 * CHECK-COUNT-7: ^thread [0-46-7]: 10000 handles created, 10000 closed; loop close: 0$
 * CHECK-COUNT-1: ^thread 5: 10003 handles created, 10000 closed; loop close: -16$
 * CHECK-COUNT-8: ^thread [0-7]: [0-9]
 * CHECK: ^total: 80003 handles created, 80000 closed$
 * CHECK: ==[0-9]+==ERROR: asyncleak: 3 handles left open at exit$
 * CHECK: ^3 handles of type uv_timer_t, created at:$
 * CHECK: ^    #0 0x[0-9a-f]+ in leak_three .*uv-threads-many.c:%line(leak)$
 * CHECK: ^    #1 0x[0-9a-f]+ in thread_main .*uv-threads-many.c:%line(call)$
 * CHECK-COUNT-3: ^  0x[0-9a-f]+ on loop [1-8], thread [0-9]+, inactive, referenced$
 * CHECK-COUNT-1: of type
 * CHECK-COUNT-1: ^    #0 0x
 * CHECK: ^Loops \(libuv\): 8 seen, 7 closed, 1 not closed:$
 * CHECK: ^  loop [1-8] .* created in thread_main .*uv-threads-many.c:%line(loop) by thread [0-9]+: close failed 1 time .*never closed$
 * CHECK: ^SUMMARY: asyncleak: 3 handles left open \(3 uv_timer_t\) from 1 creation site; 1 of 8 loops not closed$
 * CHECK: ^asyncleak: 3 handle\(s\) left open in 1 process\(es\)$
 * CHECK-NOT: request\(s\)|requests? of type
 * CHECK-NOT: and [0-9]+ more
 * EXIT: 23
 *
 * [supp]: the three suppressed, the closing line counts every handle the
 * program made, the three included.
 * [supp] CLI: --suppressions=tests/progs/supp/threads-many.supp
 * [supp] CHECK: ^total: 80003 handles created, 80000 closed$
 * [supp] CHECK: ^       1          3  uv_timer:\^leak_three\$ \(.*threads-many.supp:2\)$
 * [supp] CHECK: ^asyncleak: no leaks reported: 8 loop\(s\), 80003 handle\(s\) created; 1 loop\(s\) never closed; 3 suppressed$
 * [supp] CHECK-NOT: ERROR
 * [supp] CHECK-NOT: of type
 * [supp] EXIT: 0
 *
 * [clean]: the three timers are closed too.
 * [clean] RUN: clean
 * [clean] CHECK-COUNT-7: ^thread [0-46-7]: 10000 handles created, 10000 closed; loop close: 0$
 * [clean] CHECK-COUNT-1: ^thread 5: 10003 handles created, 10003 closed; loop close: 0$
 * [clean] CHECK: ^total: 80003 handles created, 80003 closed$
 * [clean] CHECK: ^asyncleak: no leaks: 8 loop\(s\), 80003 handle\(s\) created, all closed$
 * [clean] CHECK-NOT: ERROR
 * [clean] CHECK-NOT: never closed
 * [clean] EXIT: 0
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#define THREADS 8
#define HANDLES 10000 /* made and closed by each thread */
#define BATCH 100     /* open at once on a loop */
#define LEAKER 5
#define LEAKED 3

union any {
  uv_handle_t handle;
  uv_timer_t timer;
  uv_idle_t idle;
  uv_async_t async;
  uv_prepare_t prepare;
  uv_check_t check;
};

struct worker {
  pthread_t thread;
  int index;
  uv_loop_t loop;
  union any batch[BATCH];
  uv_timer_t leaked[LEAKED];
  int created;
  int closed;
  int close_status;
};

static int clean;
static pthread_barrier_t start;

static void never(uv_timer_t *t) {
  abort();
}

static void idle_cb(uv_idle_t *h) {}
static void async_cb(uv_async_t *h) {}
static void prepare_cb(uv_prepare_t *h) {}
static void check_cb(uv_check_t *h) {}

static void on_close(uv_handle_t *h) {
  struct worker *w = h->data;

  w->closed++;
}

/* One handle of the mix; four types in five are started. */
static void make(struct worker *w, union any *a, int i) {
  switch (i % 5) {
  case 0:
    uv_timer_init(&w->loop, &a->timer);
    uv_timer_start(&a->timer, never, 60000, 0);
    break;
  case 1:
    uv_idle_init(&w->loop, &a->idle);
    uv_idle_start(&a->idle, idle_cb);
    break;
  case 2:
    uv_async_init(&w->loop, &a->async, async_cb);
    break;
  case 3:
    uv_prepare_init(&w->loop, &a->prepare);
    uv_prepare_start(&a->prepare, prepare_cb);
    break;
  default:
    uv_check_init(&w->loop, &a->check);
    uv_check_start(&a->check, check_cb);
    break;
  }
  a->handle.data = w;
  w->created++;
}

static void leak_three(struct worker *w) {
  for (int i = 0; i < LEAKED; i++) {
    uv_timer_init(&w->loop, &w->leaked[i]); /* @leak */
    w->leaked[i].data = w;
    w->created++;
  }
}

static void *thread_main(void *arg) {
  struct worker *w = arg;

  uv_loop_init(&w->loop); /* @loop */
  pthread_barrier_wait(&start);
  if (w->index == LEAKER)
    leak_three(w); /* @call */
  for (int done = 0; done < HANDLES; done += BATCH) {
    for (int i = 0; i < BATCH; i++)
      make(w, &w->batch[i], done + i);
    for (int i = 0; i < BATCH; i++)
      uv_close(&w->batch[i].handle, on_close);
    /* The closes complete: their memory is made again next turn. */
    uv_run(&w->loop, UV_RUN_DEFAULT);
    if (w->closed != done + BATCH)
      abort();
  }
  if (w->index == LEAKER && clean) {
    for (int i = 0; i < LEAKED; i++)
      uv_close((uv_handle_t *)&w->leaked[i], on_close);
    uv_run(&w->loop, UV_RUN_DEFAULT);
  }
  w->close_status = uv_loop_close(&w->loop);
  printf("thread %d: %d handles created, %d closed; loop close: %d\n",
         w->index, w->created, w->closed, w->close_status);
  fflush(stdout);
  return NULL;
}

int main(int argc, char **argv) {
  static struct worker workers[THREADS];
  int created = 0, closed = 0;

  clean = argc > 1 && strcmp(argv[1], "clean") == 0;
  pthread_barrier_init(&start, NULL, THREADS);
  for (int i = 0; i < THREADS; i++) {
    workers[i].index = i;
    pthread_create(&workers[i].thread, NULL, thread_main, &workers[i]);
  }
  for (int i = 0; i < THREADS; i++) {
    pthread_join(workers[i].thread, NULL);
    created += workers[i].created;
    closed += workers[i].closed;
  }
  printf("total: %d handles created, %d closed\n", created, closed);
  fflush(stdout);
  return 0;
}
