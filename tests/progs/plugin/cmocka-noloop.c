/* A cmocka suite with asyncleak's fixtures that calls no loop library,
 * linked with libuv and libevent before libasyncleak
 * (tests/cli/cmocka-link-order.sh): nothing of it bypasses the runtime,
 * and its tests pass. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "asyncleak_cmocka.h"

static void test_arithmetic(void **state) {
  (void)state;
  assert_int_equal(2 + 2, 4);
}

static void test_memory(void **state) {
  void *p = malloc(16);

  (void)state;
  assert_non_null(p);
  free(p);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_arithmetic, asyncleak_cmocka_setup,
                                      asyncleak_cmocka_teardown),
      cmocka_unit_test_setup_teardown(test_memory, asyncleak_cmocka_setup,
                                      asyncleak_cmocka_teardown),
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}
