/* The signals the runtime catches, as the runtime and the command both
 * read them (lib/signals.c). */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "internal.h"

static void test_signals__deadly_ones_caught(void **state) {
  static const int caught[] = {SIGSEGV, SIGABRT, SIGTERM, SIGINT, SIGHUP,
                               SIGALRM, SIGPIPE, SIGUSR1, SIGSYS, SIGXCPU};

  (void)state;
  for (size_t i = 0; i < sizeof(caught) / sizeof(caught[0]); i++)
    if (!al_signal_caught(caught[i]))
      fail_msg("signal %d is not caught", caught[i]);
  assert_true(al_signal_caught(SIGRTMIN));
  assert_true(al_signal_caught(SIGRTMAX));
  assert_true(al_signal_is_crash(SIGBUS));
  assert_false(al_signal_is_crash(SIGTERM));
}

/* Uncatchable, glibc's own, or harmless by default: never said to be
 * caught. */
static void test_signals__others_not_caught(void **state) {
  static const int others[] = {SIGKILL, SIGSTOP, SIGCHLD, SIGCONT,
                               SIGWINCH, SIGURG, SIGTSTP, 0};

  (void)state;
  for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++)
    if (al_signal_caught(others[i]))
      fail_msg("signal %d is said to be caught", others[i]);
  for (int sig = SIGSYS + 1; sig < SIGRTMIN; sig++)
    assert_false(al_signal_caught(sig));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_signals__deadly_ones_caught),
      cmocka_unit_test(test_signals__others_not_caught),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
