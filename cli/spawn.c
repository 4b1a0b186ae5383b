/* Running the program: fork, exec, signals passed on, and its end. */
#define _GNU_SOURCE /* pipe2() */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

static const int forwarded[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};

/* The pid the handler passes signals to. Once the program has ended it is 0
 * and signals are dropped, so that asyncleak still prints and removes the
 * reports. */
static volatile pid_t child_pid;

/* A terminal sends its signals to the whole foreground process group, the
 * program included, and marks them SI_KERNEL: passing those on would deliver
 * them twice. Only kill() is called here, and errno is kept for the code the
 * signal interrupted. */
static void forward(int sig, siginfo_t *info, void *context) {
  int saved = errno;

  if (child_pid > 0 && info->si_code != SI_KERNEL)
    kill(child_pid, sig);
  errno = saved;
}

static void forwarded_set(sigset_t *set) {
  sigemptyset(set);
  for (size_t i = 0; i < CLI_ARRAY_SIZE(forwarded); i++)
    sigaddset(set, forwarded[i]);
}

static void install_handlers(void) {
  struct sigaction sa;

  memset(&sa, 0, sizeof(sa));
  sa.sa_sigaction = forward;
  sa.sa_flags = SA_SIGINFO | SA_RESTART;
  sigemptyset(&sa.sa_mask);
  for (size_t i = 0; i < CLI_ARRAY_SIZE(forwarded); i++)
    sigaction(forwarded[i], &sa, NULL);
}

/* Runs in the child, and never returns: when execv() fails, the parent is
 * told why through the pipe. A SIGCHLD that asyncleak was started with
 * ignored is ignored again for the program, which execv() keeps: its
 * children are then reaped by the kernel, as they would be without
 * asyncleak. */
__attribute__((noreturn)) static void
exec_child(const char *path, char *const argv[], const sigset_t *mask,
           int chld_ignored, int errfd) {
  int err;
  ssize_t n;

  if (chld_ignored)
    signal(SIGCHLD, SIG_IGN);
  sigprocmask(SIG_SETMASK, mask, NULL);
  execv(path, argv);
  err = errno;
  n = write(errfd, &err, sizeof(err));
  (void)n;
  _exit(CLI_EXIT_CANNOT_EXEC);
}

static unsigned long long now_ms(void) {
  struct timespec t;

  clock_gettime(CLOCK_MONOTONIC, &t);
  return (unsigned long long)t.tv_sec * 1000 + (unsigned long long)t.tv_nsec /
                                                   1000000;
}

/* Whether the child, not reaped, has ended; waits up to ms for it. A pidfd
 * tells at once where the kernel has them (Linux 5.3), else the child is
 * looked at every 10 ms. */
static int ended_within(pid_t pid, int pidfd, unsigned long long ms) {
  unsigned long long end = now_ms() + ms;
  siginfo_t info;

  for (;;) {
    unsigned long long now = now_ms();
    memset(&info, 0, sizeof(info));
    if (waitid(P_PID, (id_t)pid, &info, WEXITED | WNOWAIT | WNOHANG) == 0 &&
        info.si_pid == pid)
      return 1;
    if (now >= end)
      return 0;
    if (pidfd >= 0) {
      struct pollfd p = {.fd = pidfd, .events = POLLIN};
      unsigned long long left = end - now;
      (void)poll(&p, 1, left > 60000 ? 60000 : (int)left);
    } else {
      const struct timespec step = {0, 10000000};
      nanosleep(&step, NULL);
    }
  }
}

/* --timeout: the child still running after it is ended as timeout(1)
 * ends a command, SIGTERM, then SIGKILL after --kill-after. SIGTERM lets
 * the runtime write the report of what the program held open (with
 * --graceful-signals, after its shutdown); SIGKILL leaves no report, and
 * the run says so. */
/* Why each still runs, as `asyncleak ps` says it: the program, and
 * those of its descendants that run asyncleak. */
static void explain(const struct cli_child *child, const pid_t *more,
                    size_t nmore, const struct cli_options *opt) {
  int color = opt->color == CLI_COLOR_ALWAYS;

  fflush(stderr);
  cli_ps_explain(stderr, child->pid, color);
  for (size_t i = 0; i < nmore; i++) {
    fprintf(stderr, "\n");
    cli_ps_explain(stderr, more[i], color);
  }
  fprintf(stderr, "\n");
  fflush(stderr);
}

/* The descendants found, each held by a pidfd where the kernel has them,
 * so that a signal never reaches a process that took a pid freed
 * meanwhile. */
struct tree {
  pid_t pid[64];
  int fd[64];
  size_t n;
};

static void tree_find(struct tree *t, pid_t root) {
  t->n = cli_descendants(root, t->pid, CLI_ARRAY_SIZE(t->pid));
  for (size_t i = 0; i < t->n; i++)
    t->fd[i] = (int)syscall(SYS_pidfd_open, t->pid[i], 0);
}

static void tree_release(struct tree *t) {
  for (size_t i = 0; i < t->n; i++)
    if (t->fd[i] >= 0)
      close(t->fd[i]);
  t->n = 0;
}

/* The program and its descendants: timeout(1) signals its command's
 * whole process group. */
static void signal_all(pid_t pid, const struct tree *t, int sig) {
  kill(pid, sig);
  for (size_t i = 0; i < t->n; i++) {
    if (t->fd[i] >= 0)
      syscall(SYS_pidfd_send_signal, t->fd[i], sig, NULL, 0);
    else
      kill(t->pid[i], sig);
  }
}

static void time_out(struct cli_child *child, const struct cli_options *opt) {
  int pidfd = (int)syscall(SYS_pidfd_open, child->pid, 0);
  struct tree t;

  if (!ended_within(child->pid, pidfd, opt->timeout_ms)) {
    tree_find(&t, child->pid);
    cli_say(STDERR_FILENO,
            "'%s' (pid %d) still runs after --timeout=%s; why:",
            child->name, (int)child->pid, opt->timeout_text);
    explain(child, t.pid, t.n, opt);
    cli_say(STDERR_FILENO,
            "sending SIGTERM to '%s' (pid %d)%s (its report says what it "
            "held open)",
            child->name, (int)child->pid,
            t.n > 0 ? " and its descendants" : "");
    child->timed_out = SIGTERM;
    signal_all(child->pid, &t, SIGTERM);
    tree_release(&t);
    if (!ended_within(child->pid, pidfd, opt->kill_after_ms)) {
      cli_say(STDERR_FILENO,
              "'%s' (pid %d) still runs %llu ms after SIGTERM: sending "
              "SIGKILL",
              child->name, (int)child->pid, opt->kill_after_ms);
      child->timed_out = SIGKILL;
      tree_find(&t, child->pid);
      signal_all(child->pid, &t, SIGKILL);
      tree_release(&t);
    }
  }
  if (pidfd >= 0)
    close(pidfd);
}

/* Waits for the child to end and reaps it. Until it is reaped its pid cannot
 * be given to another process, so the handler may go on signalling it until
 * it is taken out of the handler's reach. */
static int wait_child(pid_t pid, int *status, const sigset_t *forward_set,
                      const sigset_t *mask) {
  siginfo_t info;

  while (waitid(P_PID, (id_t)pid, &info, WEXITED | WNOWAIT) != 0)
    if (errno != EINTR)
      return -1;
  sigprocmask(SIG_BLOCK, forward_set, NULL);
  child_pid = 0;
  sigprocmask(SIG_SETMASK, mask, NULL);
  while (waitpid(pid, status, 0) < 0)
    if (errno != EINTR)
      return -1;
  return 0;
}

int cli_spawn(const char *path, char *const argv[], struct cli_child *child,
              const struct cli_options *opt) {
  sigset_t forward_set, mask;
  int fds[2], err = 0, chld_ignored;
  ssize_t n;
  pid_t pid;

  /* An ignored SIGCHLD, inherited from whoever started asyncleak, would let
   * the kernel reap the child and lose its status: asyncleak takes the
   * default, and gives the program back what it was given. */
  chld_ignored = signal(SIGCHLD, SIG_DFL) == SIG_IGN;
  /* The pipe closes on a successful exec; a failed one writes errno to it. */
  if (pipe2(fds, O_CLOEXEC) != 0) {
    cli_error("cannot create a pipe: %s", strerror(errno));
    return CLI_EXIT_FAILURE;
  }
  /* Blocked until the handlers know the child's pid: a signal that comes
   * meanwhile waits for them, and the child starts with the signal mask and
   * dispositions asyncleak was given. */
  forwarded_set(&forward_set);
  sigprocmask(SIG_BLOCK, &forward_set, &mask);
  pid = fork();
  if (pid == 0)
    exec_child(path, argv, &mask, chld_ignored, fds[1]);
  if (pid < 0)
    err = errno;
  close(fds[1]);
  if (pid < 0) {
    close(fds[0]);
    sigprocmask(SIG_SETMASK, &mask, NULL);
    cli_error("cannot fork: %s", strerror(err));
    return CLI_EXIT_FAILURE;
  }
  child_pid = pid;
  child->pid = pid;
  install_handlers();
  sigprocmask(SIG_SETMASK, &mask, NULL);

  do
    n = read(fds[0], &err, sizeof(err));
  while (n < 0 && errno == EINTR);
  close(fds[0]);

  if (n != sizeof(err) && opt->timeout_ms > 0)
    time_out(child, opt);
  if (wait_child(pid, &child->status, &forward_set, &mask) != 0) {
    cli_error("cannot wait for '%s' (pid %d): %s", argv[0], (int)pid,
              strerror(errno));
    return CLI_EXIT_FAILURE;
  }
  if (n == sizeof(err)) {
    cli_error("cannot execute '%s': %s", argv[0], strerror(err));
    return CLI_EXIT_CANNOT_EXEC;
  }
  return 0;
}
