/* Three finalizers run in reverse order of registration, each once, as the
 * loop closes; a cancelled one does not run. asyncleak_loop_close runs them
 * too, for a second loop.
 *
 * CHECK: ^finalizer 3$
 * CHECK: ^finalizer 2$
 * CHECK: ^finalizer 1$
 * CHECK: ^closed: 0$
 * CHECK: ^finalizer B$
 * CHECK: ^asyncleak_loop_close: 0$
 * CHECK-NOT: cancelled
 * CHECK-COUNT-1: ^finalizer 3$
 * CHECK-NOT: ERROR
 * EXIT: 0
 */
#include <stdio.h>
#include <stdlib.h>
#include <uv.h>

#include "asyncleak.h"

static void say(void *loop, void *arg) {
  (void)loop;
  fprintf(stderr, "finalizer %s\n", (const char *)arg);
}

int main(void) {
  uv_loop_t loop, other;

  uv_loop_init(&loop);
  asyncleak_run_finally(&loop, say, "1");
  asyncleak_run_finally(&loop, say, "2");
  asyncleak_run_finally(&loop, say, "cancelled");
  asyncleak_run_finally(&loop, say, "3");
  asyncleak_cancel_finally(&loop, say, "cancelled");
  fprintf(stderr, "closed: %d\n", uv_loop_close(&loop));
  uv_loop_close(&loop); /* closed already: nothing runs twice */

  uv_loop_init(&other);
  asyncleak_run_finally(&other, say, "B");
  fprintf(stderr, "asyncleak_loop_close: %d\n", asyncleak_loop_close(&other));
  return 0;
}
