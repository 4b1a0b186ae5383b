/* The stack check (check_stacks=1) on stacks that move: each capture the
 * per-thread cache serves is compared with a full unwind made at the same
 * call. Timers are made and closed from recursion of every depth from 1 to
 * 24 (past the 16 frames kept, so stacks cut short are served too), under
 * frames of variable size (alloca), through a function pointer that
 * reaches two makers from one call site, inside timer callbacks (under
 * uv_run), and in two threads with loops of their own. None of the cached
 * stacks may differ, and the one timer left open is reported with the
 * stack it was made with. Without the option, nothing is checked or said.
 * Under ThreadSanitizer a thread has no cache, and nothing is compared.
 *
 * CHECK: ERROR: asyncleak: 1 handle left open at exit
 * CHECK: ^1 handle of type uv_timer_t, created at:
 * CHECK: #0 0x[0-9a-f]+ in make_timer .*uv-stack-check.c:%line(init)$
 * CHECK: #1 0x[0-9a-f]+ in descend .*uv-stack-check.c:%line(leaf)$
 * CHECK: #2 0x[0-9a-f]+ in descend .*uv-stack-check.c:%line(deeper)$
 * CHECK: #3 0x[0-9a-f]+ in descend .*uv-stack-check.c:%line(deeper)$
 * CHECK: #4 0x[0-9a-f]+ in main .*uv-stack-check.c:%line(leak)$
 * CHECK: ^Stack check: [1-9][0-9][0-9]+ creation stacks served from the cache compared with a full unwind, 0 differed$
 * CHECK-NOT: Stack capture
 * ENV: ASYNCLEAK_OPTIONS=check_stacks=1
 * EXIT: 23
 * SANITIZED: skip thread
 *
 * [off] CHECK: ERROR: asyncleak: 1 handle left open at exit
 * [off] CHECK: #4 0x[0-9a-f]+ in main .*uv-stack-check.c:%line(leak)$
 * [off] CHECK-NOT: Stack check
 * [off] CHECK-NOT: Stack capture
 * [off] EXIT: 23
 */
#include <alloca.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <uv.h>

#define KEEP_FRAME() __asm__ volatile("" ::: "memory")

static void on_closed(uv_handle_t *h) {
  free(h);
}

/* One call site for every timer: the cache's entries are per site. */
static __attribute__((noinline)) uv_timer_t *make_timer(uv_loop_t *loop) {
  uv_timer_t *t = malloc(sizeof(*t));

  if (t == NULL)
    abort();
  uv_timer_init(loop, t); /* @init */
  return t;
}

static __attribute__((noinline)) void made_and_closed(uv_loop_t *loop) {
  uv_close((uv_handle_t *)make_timer(loop), on_closed);
  KEEP_FRAME();
}

static __attribute__((noinline)) uv_timer_t *descend(uv_loop_t *loop,
                                                     int depth) {
  uv_timer_t *t;

  if (depth == 0)
    t = make_timer(loop); /* @leaf */
  else
    t = descend(loop, depth - 1); /* @deeper */
  KEEP_FRAME();
  return t;
}

static __attribute__((noinline)) void sized(uv_loop_t *loop, size_t bytes) {
  volatile char *room = alloca(bytes);

  room[0] = 1;
  made_and_closed(loop);
  KEEP_FRAME();
}

static __attribute__((noinline)) void via_a(uv_loop_t *loop) {
  sized(loop, 64);
  KEEP_FRAME();
}

static __attribute__((noinline)) void via_b(uv_loop_t *loop) {
  sized(loop, 4096);
  KEEP_FRAME();
}

static void (*const vias[])(uv_loop_t *) = {via_a, via_b};

static void churn(uv_loop_t *loop, int rounds) {
  for (int r = 0; r < rounds; r++) {
    for (int d = 1; d <= 24 * 4; d++)
      uv_close((uv_handle_t *)descend(loop, (d / 4 * 7 + r) % 24 + 1),
               on_closed);
    for (int i = 0; i < 8; i++)
      vias[(i + r) % 2](loop); /* one call site, two callers */
    for (size_t bytes = 16; bytes <= 8192; bytes *= 4)
      sized(loop, bytes);
    uv_run(loop, UV_RUN_NOWAIT);
  }
}

/* Timers made in a callback: under uv_run, and asyncleak's frames. */
static void on_tick(uv_timer_t *t) {
  int *left = t->data;

  for (int d = 0; d < 8; d++)
    uv_close((uv_handle_t *)descend(t->loop, d), on_closed);
  if (--*left == 0)
    uv_close((uv_handle_t *)t, NULL);
}

static void ticks(uv_loop_t *loop, int n) {
  uv_timer_t tick;

  tick.data = &n;
  uv_timer_init(loop, &tick);
  uv_timer_start(&tick, on_tick, 0, 1);
  uv_run(loop, UV_RUN_DEFAULT);
}

static void *thread_main(void *arg) {
  uv_loop_t loop;

  (void)arg;
  uv_loop_init(&loop);
  churn(&loop, 100);
  ticks(&loop, 20);
  uv_run(&loop, UV_RUN_DEFAULT);
  uv_loop_close(&loop);
  return NULL;
}

int main(void) {
  uv_loop_t *loop = uv_default_loop();
  pthread_t threads[2];

  for (int i = 0; i < 2; i++)
    if (pthread_create(&threads[i], NULL, thread_main, NULL) != 0)
      return 1;
  churn(loop, 100);
  ticks(loop, 20);
  for (int i = 0; i < 2; i++)
    pthread_join(threads[i], NULL);
  descend(loop, 2); /* @leak */
  uv_run(loop, UV_RUN_DEFAULT);
  printf("done\n");
  return 0;
}
