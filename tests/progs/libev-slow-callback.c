/* The slow-callback check for libev (slow_callback_ms, --slow-callback):
 * a watcher's callback that holds its loop longer than the limit is a
 * finding, named by the start, with the watcher's creation site (where
 * it was started) and the callback function.
 *
 * A repeating timer whose callback sleeps 300 ms, twice, then stops it;
 * and a one-shot timer, stopped by libev before it calls it back, whose
 * callback sleeps 300 ms once and checks that it finds its own callback
 * in the watcher (asyncleak's stand-in gave it back).
 * RUN: slow
 * CLI: --slow-callback=100
 * CHECK: ^own callbacks back: 1$
 * CHECK: WARNING: asyncleak: 3 findings of the debug checks \(not a failure\)
 * CHECK: ^Slow callback: ev_timer_start callback on an ev_timer held its loop, 1 time, the longest ([3-9]|[1-9][0-9]+)[0-9][0-9] ms, created at:$
 * CHECK: #0 0x[0-9a-f]+ in start_once .*libev-slow-callback.c:%line(once)$
 * CHECK: ^  the callback:$
 * CHECK: #0 0x[0-9a-f]+ in slow_once .*libev-slow-callback.c:%line(oncecb)$
 * CHECK: ^Slow callback: ev_timer_start callback on an ev_timer held its loop, 2 times, the longest ([3-9]|[1-9][0-9]+)[0-9][0-9] ms, created at:$
 * CHECK: #0 0x[0-9a-f]+ in start_ticker .*libev-slow-callback.c:%line(ticker)$
 * CHECK: ^  the callback:$
 * CHECK: #0 0x[0-9a-f]+ in slow_tick .*libev-slow-callback.c:%line(tick)$
 * CHECK: 3 finding\(s\) of the debug checks in 1 process\(es\)
 * EXIT: 0
 *
 * Off unless asked for.
 * [off] RUN: slow
 * [off] CHECK-NOT: Slow callback
 * [off] CHECK-NOT: finding
 * [off] CHECK: ^own callbacks back: 1$
 * [off] EXIT: 0
 *
 * The negative control: fast callbacks.
 * [fast] RUN: fast
 * [fast] CLI: --slow-callback=100 --fail-on-findings
 * [fast] CHECK-NOT: Slow callback
 * [fast] CHECK-NOT: finding
 * [fast] CHECK: ^own callbacks back: 1$
 * [fast] EXIT: 0
 */
#include <ev.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static ev_timer ticker, once;
static int slow, ticks, own_back;

static void pause_ms(int ms) {
  struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};
  while (nanosleep(&ts, &ts) != 0)
    ;
}

static void slow_tick(struct ev_loop *loop, ev_timer *w, int revents) { /* @tick */
  (void)revents;
  if (slow)
    pause_ms(300);
  if (++ticks == 2)
    ev_timer_stop(loop, w);
}

static void slow_once(struct ev_loop *loop, ev_timer *w, int revents) { /* @oncecb */
  (void)loop;
  (void)revents;
  own_back = ev_cb(w) == slow_once;
  if (slow)
    pause_ms(300);
}

__attribute__((noinline)) static void start_ticker(struct ev_loop *loop) {
  ev_timer_init(&ticker, slow_tick, 0.001, 0.001);
  ev_timer_start(loop, &ticker); /* @ticker */
}

__attribute__((noinline)) static void start_once(struct ev_loop *loop) {
  ev_timer_init(&once, slow_once, 0.001, 0.);
  ev_timer_start(loop, &once); /* @once */
}

int main(int argc, char **argv) {
  struct ev_loop *loop = ev_default_loop(0);

  slow = argc < 2 || strcmp(argv[1], "fast") != 0;
  start_once(loop);
  ev_run(loop, 0);
  start_ticker(loop);
  ev_run(loop, 0);
  printf("own callbacks back: %d\n", own_back && ev_cb(&ticker) == slow_tick);
  return 0;
}
