/* asyncleak for cmocka test suites: a leak check around each test.
 *
 *   const struct CMUnitTest tests[] = {
 *       cmocka_unit_test_setup_teardown(test_client, asyncleak_cmocka_setup,
 *                                       asyncleak_cmocka_teardown),
 *   };
 *
 * The setup marks the moment the test begins. The teardown drains the
 * loops of the calling thread (up to the option drain_timeout_ms), then
 * fails the test when something it created is still open or pending,
 * printing the report of it (creating function, file:line) to stderr.
 * Link the harness with libasyncleak (-lasyncleak before -luv); it works
 * the same run under the asyncleak command. Leaks a test cannot fix are
 * left out with asyncleak_ignore_creator. Neither function touches
 * *state, which stays the test's own. */
#ifndef ASYNCLEAK_CMOCKA_H_
#define ASYNCLEAK_CMOCKA_H_

#include "asyncleak.h"

#ifdef __cplusplus
extern "C" {
#endif

int asyncleak_cmocka_setup(void **state);
int asyncleak_cmocka_teardown(void **state);

#ifdef __cplusplus
}
#endif

#endif /* ASYNCLEAK_CMOCKA_H_ */
