/* The slow-callback check (slow_callback_ms, --slow-callback, and
 * --debug-checks at 100 ms): a callback of the program's that holds its
 * loop longer than the limit is a finding, grouped by the creation stack
 * of its handle or request and by the callback function, with the count
 * and the longest time.
 *
 * A repeating timer whose callback sleeps 300 ms, twice: one group.
 * RUN: timer
 * CLI: --slow-callback=100
 * CHECK: WARNING: asyncleak: 2 findings of the debug checks \(not a failure\)
 * CHECK: ^Slow callback: uv_timer_start callback on a uv_timer_t held its loop, 2 times, the longest ([3-9]|[1-9][0-9]+)[0-9][0-9] ms, created at:$
 * CHECK: #0 0x[0-9a-f]+ in make_timer .*uv-slow-callback.c:%line(timer)$
 * CHECK: ^  the callback:$
 * CHECK: #0 0x[0-9a-f]+ in slow_timer .*uv-slow-callback.c:%line(slow)$
 * CHECK: fingerprint [0-9a-f]+
 * CHECK: 2 finding\(s\) of the debug checks in 1 process\(es\); not a failure
 * CHECK-NOT: SUMMARY
 * EXIT: 0
 *
 * --debug-checks turns it on at 100 ms; with --fail-on-findings the
 * findings fail the run.
 * [failing] RUN: timer
 * [failing] CLI: --debug-checks --fail-on-findings
 * [failing] CHECK: ERROR: asyncleak: 2 findings of the debug checks$
 * [failing] CHECK: ^Slow callback: uv_timer_start callback on a uv_timer_t held its loop, 2 times
 * [failing] CHECK: SUMMARY: asyncleak: 0 handles left open; 2 findings of the debug checks$
 * [failing] EXIT: 23
 *
 * The check is off unless asked for: the same program, no finding.
 * [off] RUN: timer
 * [off] CHECK-NOT: finding
 * [off] CHECK-NOT: Slow callback
 * [off] CHECK: no leaks: 1 loop\(s\), 1 handle\(s\) created, all closed
 * [off] EXIT: 0
 *
 * The negative control: a fast callback, no finding.
 * [fast] RUN: fast
 * [fast] CLI: --slow-callback=100 --fail-on-findings
 * [fast] CHECK-NOT: finding
 * [fast] CHECK-NOT: Slow callback
 * [fast] CHECK: no leaks: 1 loop\(s\), 1 handle\(s\) created, all closed
 * [fast] EXIT: 0
 *
 * Requests: uv_queue_work's after_work_cb and uv_fs_stat's callback, each
 * sleeping 300 ms; the close callback of the timer too.
 * [requests] RUN: requests
 * [requests] CLI: --slow-callback=100
 * [requests] CHECK: WARNING: asyncleak: 3 findings of the debug checks
 * [requests] CHECK: ^Slow callback: uv_queue_work callback on a uv_work_t held its loop, 1 time, the longest ([3-9]|[1-9][0-9]+)[0-9][0-9] ms, created at:$
 * [requests] CHECK: #0 0x[0-9a-f]+ in queue_work .*uv-slow-callback.c:%line(work)$
 * [requests] CHECK: ^  the callback:$
 * [requests] CHECK: #0 0x[0-9a-f]+ in slow_after_work .*uv-slow-callback.c:%line(after)$
 * [requests] CHECK: ^Slow callback: uv_fs_stat callback on a uv_fs_t held its loop, 1 time, the longest ([3-9]|[1-9][0-9]+)[0-9][0-9] ms, created at:$
 * [requests] CHECK: #0 0x[0-9a-f]+ in stat_file .*uv-slow-callback.c:%line(stat)$
 * [requests] CHECK: #0 0x[0-9a-f]+ in slow_stat .*uv-slow-callback.c:%line(statcb)$
 * [requests] CHECK: ^Slow callback: uv_close callback on a uv_timer_t held its loop, 1 time, the longest ([3-9]|[1-9][0-9]+)[0-9][0-9] ms, created at:$
 * [requests] CHECK: #0 0x[0-9a-f]+ in make_timer .*uv-slow-callback.c:%line(timer)$
 * [requests] CHECK: #0 0x[0-9a-f]+ in slow_close .*uv-slow-callback.c:%line(closecb)$
 * [requests] EXIT: 0
 *
 * The negative control of the requests: fast callbacks.
 * [quick] RUN: quick
 * [quick] CLI: --slow-callback=100 --fail-on-findings
 * [quick] CHECK-NOT: Slow callback
 * [quick] CHECK: no leaks: 1 loop\(s\), 1 handle\(s\) created, all closed
 * [quick] EXIT: 0
 */
#include <string.h>
#include <time.h>
#include <uv.h>

static uv_timer_t timer;
static uv_work_t work;
static uv_fs_t stat_req;
static int fired;
static int slow;

static void pause_ms(int ms) {
  struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};
  while (nanosleep(&ts, &ts) != 0)
    ;
}

static void slow_timer(uv_timer_t *t) { /* @slow */
  pause_ms(300);
  if (++fired == 2)
    uv_timer_stop(t);
}

static void fast_timer(uv_timer_t *t) {
  if (++fired == 2)
    uv_timer_stop(t);
}

__attribute__((noinline)) static void make_timer(uv_loop_t *loop,
                                                 uv_timer_cb cb) {
  uv_timer_init(loop, &timer); /* @timer */
  uv_timer_start(&timer, cb, 1, 1);
}

static void no_work(uv_work_t *w) {
  (void)w;
}

static void slow_after_work(uv_work_t *w, int status) { /* @after */
  (void)w;
  (void)status;
  if (slow)
    pause_ms(300);
}

static void slow_stat(uv_fs_t *req) { /* @statcb */
  if (slow)
    pause_ms(300);
  uv_fs_req_cleanup(req);
}

static void slow_close(uv_handle_t *h) { /* @closecb */
  (void)h;
  if (slow)
    pause_ms(300);
}

__attribute__((noinline)) static int queue_work(uv_loop_t *loop) {
  return uv_queue_work(loop, &work, no_work, slow_after_work); /* @work */
}

__attribute__((noinline)) static int stat_file(uv_loop_t *loop) {
  return uv_fs_stat(loop, &stat_req, "/", slow_stat); /* @stat */
}

int main(int argc, char **argv) {
  uv_loop_t *loop = uv_default_loop();
  const char *mode = argc > 1 ? argv[1] : "timer";

  if (!strcmp(mode, "timer") || !strcmp(mode, "fast")) {
    make_timer(loop, !strcmp(mode, "timer") ? slow_timer : fast_timer);
    uv_run(loop, UV_RUN_DEFAULT);
    uv_close((uv_handle_t *)&timer, NULL);
  } else {
    slow = !strcmp(mode, "requests");
    if (queue_work(loop) != 0)
      return 1;
    uv_run(loop, UV_RUN_DEFAULT);
    if (stat_file(loop) != 0)
      return 1;
    uv_run(loop, UV_RUN_DEFAULT);
    make_timer(loop, fast_timer);
    uv_run(loop, UV_RUN_DEFAULT);
    uv_close((uv_handle_t *)&timer, slow_close);
  }
  uv_run(loop, UV_RUN_DEFAULT);
  return uv_loop_close(loop) == 0 ? 0 : 1;
}
