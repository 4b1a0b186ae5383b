/* A check outside cmocka (tests/cli/cmocka-link-order.sh): a timer left
 * open, then asyncleak_check_since. Linked with libasyncleak before libuv
 * the check finds the timer; linked after, the program's libuv calls
 * bypass the runtime, and the check fails rather than find nothing. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <uv.h>

#include "asyncleak.h"

int main(void) {
  asyncleak_snapshot *s = asyncleak_snapshot_take();
  uv_timer_t t;
  size_t left;

  uv_timer_init(uv_default_loop(), &t);
  left = asyncleak_check_since(s, stderr);
  if (left == (size_t)-1)
    printf("check failed: %s\n", strerror(errno));
  else
    printf("check found %zu\n", left);
  asyncleak_snapshot_free(s);
  uv_close((uv_handle_t *)&t, NULL);
  uv_run(uv_default_loop(), UV_RUN_DEFAULT);
  uv_loop_close(uv_default_loop());
  return left == 1 ? 0 : 1;
}
