/* A program's own default options, through __asyncleak_default_options:
 * max_addresses=1 lists one of the three leaked timers. The environment
 * wins key by key, and a malformed default is warned about and skipped,
 * the program unaffected.
 *
 * CHECK: ^3 handles of type uv_timer_t, created at:$
 * CHECK: ^    #0 0x[0-9a-f]+ in main .*uv-default-options.c:%line(timer)$
 * CHECK-COUNT-1: ^  0x[0-9a-f]+ on loop 1, 
 * CHECK: ^  \.\.\. and 2 more$
 * CHECK-NOT: invalid value
 * EXIT: 23
 *
 * [env] ENV: ASYNCLEAK_OPTIONS=max_addresses=2
 * [env] CHECK-COUNT-2: ^  0x[0-9a-f]+ on loop 1, 
 * [env] CHECK: ^  \.\.\. and 1 more$
 * [env] EXIT: 23
 *
 * [bad] ENV: DEFAULTS=max_addresses=lots
 * [bad] CHECK: ^asyncleak: invalid value 'lots' for option 'max_addresses'
 * [bad] CHECK-COUNT-3: ^  0x[0-9a-f]+ on loop 1, 
 * [bad] CHECK-NOT: more$
 * [bad] CHECK: ^main done$
 * [bad] EXIT: 23
 */
#include <stdio.h>
#include <stdlib.h>
#include <uv.h>

#include "asyncleak.h"

const char *__asyncleak_default_options(void) {
  const char *test = getenv("DEFAULTS");
  return test != NULL ? test : "max_addresses=1";
}

int main(void) {
  static uv_timer_t timers[3];

  for (int i = 0; i < 3; i++)
    uv_timer_init(uv_default_loop(), &timers[i]); /* @timer */
  fprintf(stderr, "main done\n");
  return 0;
}
