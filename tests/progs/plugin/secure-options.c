/* The runtime linked into a program, for tests/cli/setuid.sh: a set-user-ID
 * copy of it must ignore ASYNCLEAK_OPTIONS, which whoever runs it chose
 * (secure_getenv). Linked statically, so that the loader, which ignores
 * $ORIGIN in such a process, need not find the runtime. */
#include <stdio.h>
#include <uv.h>

/* In a sanitizer build: LeakSanitizer cannot stop the threads of a
 * set-user-ID process, which is not dumpable, and the environment's
 * ASAN_OPTIONS are not read there. */
const char *__asan_default_options(void);
const char *__asan_default_options(void) {
  return "detect_leaks=0";
}

int main(void) {
  static uv_timer_t timer;

  uv_timer_init(uv_default_loop(), &timer);
  puts("ran");
  return 0;
}
