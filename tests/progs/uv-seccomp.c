/* A program that locks itself in with a seccomp allowlist, run by
 * tests/cli/seccomp.sh:
 *
 *   uv-seccomp kill|trap|errno|none|invalid prctl|syscall leak|clean [busy]
 *
 * It makes a loop and a timer, then installs a filter that allows only the
 * system calls it needs from then on (closing its loop, printing, exiting)
 * and kills the process (kill), raises SIGSYS (trap) or fails with EPERM
 * (errno) on anything else; through prctl(PR_SET_SECCOMP), or through
 * syscall(__NR_seccomp) as libseccomp's seccomp_load() does. none installs
 * nothing; invalid tries a filter that kills, cut short before its last
 * return, which the kernel refuses (EINVAL), and goes on without one. With
 * leak the timer stays open. With busy, once locked in, it forks a child
 * that makes a loop and a timer, closes them and tries to execute a
 * missing program, spawns that program too, and makes, uses and closes
 * another loop and timer itself: the filter allows what these take bare.
 * Bare, it exits 0 in every case: the runtime's own calls, at exit or
 * while the program runs, must not change that.
 *
 * RUN-BY: tests/cli/seccomp.sh
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/audit.h>
#include <spawn.h>
#include <sys/wait.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <uv.h>

#if defined(__x86_64__)
#define ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define ARCH AUDIT_ARCH_AARCH64
#endif

#define ALLOW(nr)                                                            \
  BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (nr), 0, 1),                           \
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)

static uv_timer_t timer;

static void on_tick(uv_timer_t *t) {
  (void)t;
}

static int lock_in(const char *action, const char *how) {
#ifdef ARCH
  unsigned otherwise = !strcmp(action, "trap")    ? SECCOMP_RET_TRAP
                       : !strcmp(action, "errno") ? SECCOMP_RET_ERRNO | EPERM
                                                  : SECCOMP_RET_KILL_PROCESS;
  struct sock_filter code[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ARCH, 1, 0),
      BPF_STMT(BPF_RET | BPF_K, otherwise),
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
      ALLOW(__NR_read),
      ALLOW(__NR_write),
      ALLOW(__NR_close),
      ALLOW(__NR_fstat),
      ALLOW(__NR_newfstatat),
      ALLOW(__NR_mmap),
      ALLOW(__NR_munmap),
      ALLOW(__NR_brk),
      ALLOW(__NR_futex),
      ALLOW(__NR_epoll_ctl),
      ALLOW(__NR_epoll_pwait),
#ifdef __NR_epoll_wait
      ALLOW(__NR_epoll_wait),
#endif
      ALLOW(__NR_clock_gettime),
      ALLOW(__NR_rt_sigprocmask),
      ALLOW(__NR_exit_group),
      ALLOW(__NR_exit),
      /* For busy: fork, exec, spawn, wait, a loop. */
      ALLOW(__NR_clone),
      ALLOW(__NR_set_robust_list),
      ALLOW(__NR_execve),
      ALLOW(__NR_wait4),
      ALLOW(__NR_epoll_create1),
      ALLOW(__NR_rt_sigaction),
      ALLOW(__NR_mprotect),
      ALLOW(__NR_clone3),
      ALLOW(__NR_pipe2),
      ALLOW(__NR_eventfd2),
      BPF_STMT(BPF_RET | BPF_K, otherwise),
  };
  struct sock_fprog prog = {sizeof(code) / sizeof(code[0]), code};

  if (!strcmp(action, "none"))
    return 0;
  /* Without its last return, which the kernel wants last. */
  if (!strcmp(action, "invalid"))
    prog.len--;
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
    return -1;
  if (!strcmp(how, "syscall"))
    return (int)syscall(__NR_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog);
  return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0);
#else
  (void)action;
  (void)how;
  errno = ENOSYS;
  return -1;
#endif
}

/* A loop and a timer, made, run and closed. */
static void loop_and_timer(void) {
  uv_loop_t other;
  uv_timer_t t;

  uv_loop_init(&other);
  uv_timer_init(&other, &t);
  uv_timer_start(&t, on_tick, 60000, 0);
  uv_run(&other, UV_RUN_NOWAIT);
  uv_close((uv_handle_t *)&t, NULL);
  uv_run(&other, UV_RUN_DEFAULT);
  uv_loop_close(&other);
}

/* What the program does once locked in, with busy. */
static void busy(void) {
  static char missing[] = "/nonexistent/asyncleak-missing";
  char *args[] = {missing, NULL};
  pid_t child = fork();
  int status;

  if (child == 0) {
    loop_and_timer();
    execv(missing, args);
    _exit(errno == ENOENT ? 0 : 1);
  }
  if (child < 0 || waitpid(child, &status, 0) != child ||
      !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    printf("the child failed\n");
    fflush(stdout);
    _exit(1);
  }
  if (posix_spawn(&child, missing, NULL, NULL, args, NULL) == 0)
    waitpid(child, &status, 0);
  loop_and_timer();
}

int main(int argc, char **argv) {
  uv_loop_t loop;

  if (argc < 4) {
    fprintf(stderr, "usage: uv-seccomp kill|trap|errno|none|invalid "
                    "prctl|syscall leak|clean\n");
    return 2;
  }
  uv_loop_init(&loop);
  uv_timer_init(&loop, &timer);
  uv_timer_start(&timer, on_tick, 60000, 0);
  uv_run(&loop, UV_RUN_NOWAIT);
  /* Buffered output needs fstat() on its first use: before the filter. */
  printf("locking in: %s through %s\n", argv[1], argv[2]);
  fflush(stdout);
  if (lock_in(argv[1], argv[2]) != 0 && strcmp(argv[1], "invalid") != 0) {
    printf("cannot install the filter: %s\n", strerror(errno));
    return 77;
  }
  if (argc > 4 && !strcmp(argv[4], "busy"))
    busy();
  if (strcmp(argv[3], "leak") != 0) {
    uv_close((uv_handle_t *)&timer, NULL);
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
  }
  printf("locked in, ending\n");
  fflush(stdout);
  return 0;
}
