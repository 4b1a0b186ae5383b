/* The slow-callback check under a seccomp filter that kills: a libevent
 * program locks itself in with an allowlist of what libevent's dispatch
 * and its own callback need, then runs a timer. The runtime's stand-in
 * for the callback makes no system call the program does not make
 * (lib/seccomp.c): the program ends as it means to, and the report is
 * missing with the filter for its cause (tests/cli/seccomp.sh says the
 * same of libuv programs).
 *
 * A sanitizer's own work is refused by the filter: not run under one.
 * SANITIZED: skip
 *
 * RUN: run
 * CLI: --slow-callback=100
 * CHECK: ^callback ran$
 * CHECK: ^locked in, ending$
 * CHECK: installed a seccomp filter that kills or traps the calls it does not allow
 * CHECK-NOT: SIGSYS
 * EXIT: 125
 *
 * The same with the check off.
 * [off] SANITIZED: skip
 * [off] RUN: run
 * [off] CHECK: ^callback ran$
 * [off] CHECK: ^locked in, ending$
 * [off] CHECK-NOT: SIGSYS
 * [off] EXIT: 125
 */
#define _GNU_SOURCE
#include <event2/event.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#if defined(__x86_64__)
#define ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define ARCH AUDIT_ARCH_AARCH64
#endif

#define ALLOW(nr)                                                            \
  BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (nr), 0, 1),                           \
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)

static void ran(evutil_socket_t fd, short what, void *arg) {
  static const char line[] = "callback ran\n";
  (void)fd;
  (void)what;
  (void)arg;
  if (write(1, line, sizeof(line) - 1) < 0)
    _exit(2);
}

static int lock_in(void) {
#ifdef ARCH
  struct sock_filter code[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ARCH, 1, 0),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
      ALLOW(__NR_epoll_wait),
      ALLOW(__NR_epoll_pwait),
      ALLOW(__NR_epoll_ctl),
      ALLOW(__NR_clock_gettime),
      ALLOW(__NR_gettimeofday),
      ALLOW(__NR_write),
      ALLOW(__NR_close),
      ALLOW(__NR_munmap),
      ALLOW(__NR_brk),
      ALLOW(__NR_futex),
      ALLOW(__NR_rt_sigprocmask),
      ALLOW(__NR_exit_group),
      ALLOW(__NR_exit),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
  };
  struct sock_fprog prog = {sizeof(code) / sizeof(code[0]), code};

  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
    return -1;
  return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog);
#else
  return -1;
#endif
}

int main(void) {
  struct event_base *base = event_base_new();
  struct timeval tv = {0, 1000};
  struct event *ev;

  if (base == NULL || (ev = evtimer_new(base, ran, NULL)) == NULL)
    return 1;
  evtimer_add(ev, &tv);
  fflush(stdout);
  if (lock_in() != 0)
    return 77;
  event_base_dispatch(base);
  event_free(ev);
  event_base_free(base);
  {
    static const char line[] = "locked in, ending\n";
    if (write(1, line, sizeof(line) - 1) < 0)
      return 2;
  }
  return 0;
}
