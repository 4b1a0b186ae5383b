/* A library (libsvc.so) closes its loop and timer from an atexit handler of
 * its own, which glibc runs when the library is finalised, after the
 * executable's handlers. The verdict must wait for it: nothing is reported.
 * In the [leak] run the library's cleanup leaves the timer open.
 *
 * CHECK-NOT: ERROR
 * CHECK-NOT: handle of type
 * EXIT: 0
 *
 * [leak] RUN: leak
 * [leak] CHECK: ERROR: asyncleak: 1 handle left open at exit
 * [leak] CHECK: ^1 handle of type uv_timer_t, created at:
 * [leak] CHECK: #0 0x[0-9a-f]+ in svc_start .*libsvc.c:[0-9]+$
 * [leak] EXIT: 23
 */
#include <string.h>

void svc_leak_at_exit(void);

int main(int argc, char **argv) {
  if (argc > 1 && strcmp(argv[1], "leak") == 0)
    svc_leak_at_exit();
  return 0;
}
