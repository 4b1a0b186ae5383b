/* A program's own suppressions, through __asyncleak_default_suppressions:
 * its known leak, a timer started by start_known_timer, is hidden from the
 * exit report and from asyncleak_check, and the rule used is named after
 * the function. RUN: MODE, one of known (the default), other (the hook
 * names another function), malformed (a bad line before a good one),
 * none (the hook returns NULL) and clean.
 *
 * CHECK: ^check: 0$
 * CHECK: ^Suppressions used:$
 * CHECK: ^       1          1  uv_timer:\^start_known_timer\$ \(__asyncleak_default_suppressions\(\):2\)$
 * CHECK: ^asyncleak: no leaks reported: 1 loop\(s\), 1 handle\(s\) created; 1 loop\(s\) never closed; 1 suppressed$
 * CHECK-NOT: ERROR
 * CHECK-NOT: malformed
 * EXIT: 0
 *
 * Negative control: a rule for someone else's timer hides nothing.
 * [other] RUN: other
 * [other] CHECK: ^check: 1$
 * [other] CHECK: ==[0-9]+==ERROR: asyncleak: 1 handle left open at exit$
 * [other] CHECK: #0 0x[0-9a-f]+ in start_known_timer .*uv-default-suppressions.c:%line(timer)$
 * [other] CHECK-NOT: Suppressions used
 * [other] EXIT: 23
 *
 * A malformed line is warned about as a file's would be, named after the
 * function, and left out; the good line after it still counts.
 * [malformed] RUN: malformed
 * [malformed] CHECK: ^asyncleak: __asyncleak_default_suppressions\(\):1: malformed suppression: the kind is handle, request or a type such as uv_timer$
 * [malformed] CHECK: ^check: 0$
 * [malformed] CHECK: \(__asyncleak_default_suppressions\(\):2\)$
 * [malformed] CHECK-NOT: ERROR
 * [malformed] EXIT: 0
 *
 * [none] RUN: none
 * [none] CHECK: ^check: 1$
 * [none] CHECK: ==[0-9]+==ERROR: asyncleak: 1 handle left open at exit$
 * [none] EXIT: 23
 *
 * [clean] RUN: clean
 * [clean] CHECK: ^check: 0$
 * [clean] CHECK-NOT: ERROR
 * [clean] CHECK-NOT: Suppressions used
 * [clean] CHECK: ^asyncleak: no leaks: 1 loop\(s\), 1 handle\(s\) created, all closed$
 * [clean] EXIT: 0
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "asyncleak.h"

/* Called before main: the mode comes from the command line, which the
 * runtime cannot ask for, so main's own argument is read from /proc. */
static const char *mode(void) {
  static char buf[64];
  FILE *f = fopen("/proc/self/cmdline", "r");
  size_t n;
  const char *arg;

  if (f == NULL)
    return "known";
  n = fread(buf, 1, sizeof(buf) - 1, f);
  fclose(f);
  buf[n] = '\0';
  arg = buf + strlen(buf) + 1;
  return arg < buf + n ? arg : "known";
}

const char *__asyncleak_default_suppressions(void) {
  const char *m = mode();

  if (!strcmp(m, "other"))
    return "uv_timer:^start_other_timer$\n";
  if (!strcmp(m, "malformed"))
    return "uv-timer:start_known_timer\n"
           "uv_timer:^start_known_timer$\n";
  if (!strcmp(m, "none"))
    return NULL;
  return "# the program's own known leak\n"
         "uv_timer:^start_known_timer$\n";
}

static void on_tick(uv_timer_t *t) {
  (void)t;
}

static void start_known_timer(uv_loop_t *loop, uv_timer_t *timer) {
  uv_timer_init(loop, timer); /* @timer */
  uv_timer_start(timer, on_tick, 60000, 0);
}

int main(int argc, char **argv) {
  static uv_timer_t timer;
  uv_loop_t *loop = uv_default_loop();

  start_known_timer(loop, &timer);
  if (argc > 1 && !strcmp(argv[1], "clean")) {
    uv_close((uv_handle_t *)&timer, NULL);
    uv_run(loop, UV_RUN_DEFAULT);
    uv_loop_close(loop);
  }
  printf("check: %zu\n", asyncleak_check(stderr));
  fflush(stdout);
  return 0;
}
