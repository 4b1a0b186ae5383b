/* Telling the loop libraries' own objects from others by name. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>

#include "internal.h"

struct name_case {
  const char *name;
  int want;
};

static void test_util__loop_library_name_table(void **state) {
  static const struct name_case cases[] = {
      {"libuv.so.1", AL_LIB_LIBUV},
      {"/usr/lib/x86_64-linux-gnu/libuv.so.1.0.0", AL_LIB_LIBUV},
      {"libuv.so", AL_LIB_LIBUV},
      {"libevent-2.1.so.7", AL_LIB_LIBEVENT},
      {"/lib/x86_64-linux-gnu/libevent_core-2.1.so.7.0.1", AL_LIB_LIBEVENT},
      {"libevent_core-2.1.so.7", AL_LIB_LIBEVENT},
      {"libevent_extra-2.1.so.7", AL_LIB_LIBEVENT},
      {"libevent_pthreads-2.1.so.7", AL_LIB_LIBEVENT},
      {"libevent_openssl-2.1.so.7", AL_LIB_LIBEVENT},
      {"libevent_mbedtls-2.2.so.1", AL_LIB_LIBEVENT},
      {"libevent_core.so", AL_LIB_LIBEVENT},
      {"libevent.so.5", AL_LIB_LIBEVENT},
      {"libev.so.4", AL_LIB_LIBEV},
      {"/usr/lib/x86_64-linux-gnu/libev.so.4.0.0", AL_LIB_LIBEV},
      {"libev.so", AL_LIB_LIBEV},
      /* A program's own libraries that only start the same way. */
      {"libevent_bus.so", AL_LIB_OTHER},
      {"/opt/app/lib/libevent_bus.so.1", AL_LIB_OTHER},
      {"libevent_core_extras-2.1.so.7", AL_LIB_OTHER},
      {"libevent-helpers.so", AL_LIB_OTHER},
      {"libeventbus.so", AL_LIB_OTHER},
      {"libuv_helpers.so", AL_LIB_OTHER},
      {"libuvw.so.3", AL_LIB_OTHER},
      {"libuv.so.1.bak", AL_LIB_OTHER},
      {"libuv.so.", AL_LIB_OTHER},
      {"libevent-.so", AL_LIB_OTHER},
      {"libev-perl.so", AL_LIB_OTHER},
      {"libev-helpers.so", AL_LIB_OTHER},
      {"libevil.so.1", AL_LIB_OTHER},
      {"libevx.so.4", AL_LIB_OTHER},
      {"libuv/libc.so.6", AL_LIB_OTHER},
      {"", AL_LIB_OTHER},
      {NULL, AL_LIB_OTHER},
  };

  (void)state;
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    int got = al_loop_library_name(cases[i].name);
    if (got != cases[i].want)
      fail_msg("'%s': %d, expected %d", cases[i].name ? cases[i].name : "(null)",
               got, cases[i].want);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_util__loop_library_name_table),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
