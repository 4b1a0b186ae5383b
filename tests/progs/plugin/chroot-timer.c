/* A timer left open by a named function, and then the program takes away
 * the files its report is symbolized from: it chroots into an empty
 * directory, or lowers its address space limit. The frames must still be
 * named, or, where they cannot be, shown as module+offset with the reason
 * said once. Used by tests/cli/chroot.sh.
 *
 *   chroot-timer leak|clean chroot|raw|none DIR
 *   chroot-timer leak|clean tight MARGIN_KB
 *
 * "clean" closes the timer: the negative control. "chroot" calls chroot(),
 * "raw" makes the system call itself (no interposer sees it), "tight" sets
 * RLIMIT_AS to the address space in use plus MARGIN_KB. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <uv.h>

static uv_timer_t timer;

static void on_tick(uv_timer_t *t) {
  (void)t;
}

static void leak_timer(uv_loop_t *loop) {
  uv_timer_init(loop, &timer); /* @leak */
  uv_timer_start(&timer, on_tick, 60000, 0);
}

/* The address space in use, in bytes, from /proc/self/statm. */
static long in_use(void) {
  FILE *f = fopen("/proc/self/statm", "r");
  long pages = -1;

  if (f == NULL)
    return -1;
  if (fscanf(f, "%ld", &pages) != 1)
    pages = -1;
  fclose(f);
  return pages < 0 ? -1 : pages * sysconf(_SC_PAGESIZE);
}

int main(int argc, char **argv) {
  uv_loop_t *loop = uv_default_loop();
  const char *how = argc > 3 ? argv[2] : "";

  if (argc != 4) {
    fprintf(stderr, "usage: chroot-timer leak|clean chroot|raw|none DIR\n"
                    "       chroot-timer leak|clean tight MARGIN_KB\n");
    return 2;
  }
  leak_timer(loop);
  if (!strcmp(argv[1], "clean")) {
    uv_close((uv_handle_t *)&timer, NULL);
    uv_run(loop, UV_RUN_DEFAULT);
    uv_loop_close(loop);
  }
  if (!strcmp(how, "chroot") || !strcmp(how, "raw")) {
    int rc = !strcmp(how, "chroot") ? chroot(argv[3])
                                    : (int)syscall(SYS_chroot, argv[3]);
    if (rc != 0 || chdir("/") != 0) {
      perror("chroot-timer: chroot");
      return 1;
    }
  } else if (!strcmp(how, "tight")) {
    long used = in_use();
    struct rlimit rl;

    if (used < 0) {
      perror("chroot-timer: /proc/self/statm");
      return 1;
    }
    rl.rlim_cur = rl.rlim_max = (rlim_t)used + atol(argv[3]) * 1024;
    if (setrlimit(RLIMIT_AS, &rl) != 0) {
      perror("chroot-timer: setrlimit");
      return 1;
    }
  }
  printf("ended\n");
  return 0;
}
