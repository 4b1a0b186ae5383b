/* A timer started from a named helper and never closed: the report must
 * name the helper and the line of its uv_timer_init. A second timer is
 * closed properly and must not be reported.
 *
 * CHECK: ERROR: asyncleak: 1 handle left open at exit
 * CHECK: ^1 handle of type uv_timer_t, created at:
 * CHECK: #0 0x[0-9a-f]+ in start_heartbeat .*uv-timer-leak.c:%line(leak)$
 * CHECK: #1 0x[0-9a-f]+ in main .*uv-timer-leak.c:%line(call)$
 * CHECK: on loop 1, thread [0-9]+ \(main\), active, referenced
 * CHECK: loop 1 \(libuv 0x[0-9a-f]+, default loop\) created in main .*uv-timer-leak.c:%line(loop) by thread [0-9]+ \(main\): never closed
 * CHECK: ^SUMMARY: asyncleak: 1 handle left open \(1 uv_timer_t\) from 1 creation site; 1 of 1 loop not closed$
 * CHECK-NOT: in closed_properly
 * EXIT: 23
 */
#include <stdlib.h>
#include <uv.h>

static uv_timer_t heartbeat;
static uv_timer_t once;

static void on_tick(uv_timer_t *t) {
  (void)t;
}

static void start_heartbeat(uv_loop_t *loop) {
  uv_timer_init(loop, &heartbeat); /* @leak */
  uv_timer_start(&heartbeat, on_tick, 1000, 1000);
  uv_unref((uv_handle_t *)&heartbeat);
  uv_ref((uv_handle_t *)&heartbeat);
}

static void closed_properly(uv_loop_t *loop) {
  uv_timer_init(loop, &once);
  uv_close((uv_handle_t *)&once, NULL);
}

int main(void) {
  uv_loop_t *loop = uv_default_loop(); /* @loop */

  start_heartbeat(loop); /* @call */
  closed_properly(loop);
  uv_run(loop, UV_RUN_NOWAIT);
  return 0;
}
