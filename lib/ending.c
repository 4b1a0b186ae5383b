/* The ends a process can come to without exit(): _exit() and _Exit(), and
 * a signal whose default action kills it (a crash, abort(), SIGTERM...).
 * None of them runs atexit handlers, so the report would be lost; and none
 * of them is a place where the report can be written safely. A signal may
 * interrupt malloc() or the registry with their locks held, and _exit() is
 * what a signal handler calls to end the process.
 *
 * So the report is written by a copy of the process, made with _Fork()
 * (async-signal-safe, unlike fork(): it runs no atfork handlers and takes
 * no lock). The copy has the registry as it was at that instant. It may
 * block forever on a lock that the interrupted code held, or crash on
 * memory the program broke. The process itself only waits for it, up to
 * report_timeout_ms, with system calls that are safe in a signal handler.
 * Then it ends as it would have: _exit() with the program's status, or the
 * same signal with its default action (a core dump where there would have
 * been one). */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <limits.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#include "internal.h"

/* The signals caught, crashes and stops, are listed in signals.c: the
 * asyncleak command reads the same table. */

#define SIG_SLOTS 65

/* What the runtime installed for each signal, to put back when the
 * program restores the default, and to hide from it. Written at start-up
 * (before main, or on the first interposed call) and never again. */
static struct sigaction installed[SIG_SLOTS];
static volatile sig_atomic_t taken[SIG_SLOTS];
/* The program installed a seccomp filter: the runtime's handlers were
 * given back (released), and the process ends as it would bare. */
static atomic_int sealed;
static volatile sig_atomic_t released[SIG_SLOTS];

/* The process the runtime knows. A vfork() child, or a process made with
 * clone() behind glibc's back, has another pid and the parent's memory: it
 * must not write anything. */
static volatile pid_t own_pid;
/* The thread ending the process, once one is. */
static atomic_int ender;

typedef void exit_fn(int);
static exit_fn *real_exit, *real_Exit;
/* libc's own name for sigaction, exported for its other libraries. */
extern int __sigaction(int, const struct sigaction *, struct sigaction *);
static int (*real_sigaction)(int, const struct sigaction *,
                             struct sigaction *);
static sighandler_t (*real_signal)(int, sighandler_t);

static char timeout_said[160];
static size_t timeout_said_len;

/* Resolved once, before any signal handler of ours can run. dlsym() finds
 * the next definition: libc's, or a sanitizer's in front of it. */
static void resolve(void) {
  if (real_sigaction != NULL)
    return;
  real_exit = (exit_fn *)dlsym(RTLD_NEXT, "_exit");
  real_Exit = (exit_fn *)dlsym(RTLD_NEXT, "_Exit");
  real_signal = (sighandler_t(*)(int, sighandler_t))dlsym(RTLD_NEXT,
                                                          "signal");
  real_sigaction = (int (*)(int, const struct sigaction *,
                            struct sigaction *))dlsym(RTLD_NEXT, "sigaction");
  /* Never without them: the kernel's own calls, as libc makes them. */
  if (real_sigaction == NULL)
    real_sigaction = __sigaction;
}

__attribute__((noreturn)) void al_exit_now(int status) {
  resolve();
  if (real_exit != NULL)
    real_exit(status);
  for (;;)
    syscall(SYS_exit_group, status);
}

static int is_crash(int sig) {
  return al_signal_is_crash(sig);
}

__attribute__((noreturn)) void al_die_by_signal(int sig) {
  struct sigaction dfl;
  sigset_t set;

  resolve();
  memset(&dfl, 0, sizeof(dfl));
  dfl.sa_handler = SIG_DFL;
  real_sigaction(sig, &dfl, NULL);
  sigemptyset(&set);
  sigaddset(&set, sig);
  pthread_sigmask(SIG_UNBLOCK, &set, NULL);
  raise(sig);
  al_exit_now(128 + sig); /* not reached unless the signal could not kill */
}

const char *al_signal_abbrev(int sig, char *buf, size_t len) {
  const char *abbrev = sigabbrev_np(sig);

  if (abbrev != NULL)
    return abbrev;
  if (sig >= SIGRTMIN && sig <= SIGRTMAX)
    snprintf(buf, len, "RTMIN+%d", sig - SIGRTMIN);
  else
    snprintf(buf, len, "%d", sig);
  return buf;
}

const char *al_signal_descr(int sig, char *buf, size_t len) {
  const char *descr = sigdescr_np(sig);

  if (descr != NULL)
    return descr;
  snprintf(buf, len, "Real-time signal %d", sig - SIGRTMIN);
  return buf;
}

/* ------------------------------------------------------ the copy reports */

/* Whether this call may end the process with a report: the process is the
 * one the runtime knows, has not reported, and no other thread is ending
 * it. A second thread to get here waits for the first to end them both. */
static int may_report(void) {
  int me, first = 0;

  if (!atomic_load(&al_ready) || atomic_load(&sealed) ||
      getpid() != own_pid || al_report_written())
    return 0;
  me = (int)syscall(SYS_gettid);
  if (atomic_compare_exchange_strong(&ender, &first, me))
    return 1;
  if (first == me)
    return 0; /* a fault in our own handler */
  for (;;)
    pause();
}

static void say(const char *text, size_t len) {
  int saved = errno;
  al_write_all(2, text, len);
  errno = saved;
}

/* What the copy writes, for copy_main, which makecontext() cannot pass
 * pointers to. Written just before _Fork(), read in the copy only. */
static pid_t copy_parent;
static const struct al_ending *copy_how;

/* A sanitizer's runtime, when there is one, is told of the stack the copy
 * moves to: else it takes calls there for a stack it does not know. */
extern void __sanitizer_start_switch_fiber(void **fake_stack_save,
                                           const void *bottom, size_t size)
    __attribute__((weak));
extern void __sanitizer_finish_switch_fiber(void *fake_stack_save,
                                            const void **bottom_old,
                                            size_t *size_old)
    __attribute__((weak));

/* How many descriptors a copy keeps: the report file, stderr and the
 * symbolizer's held files (lib/symfiles.c). */
#define COPY_KEEP_MAX 320

static void sort_fds(int *fd, size_t n) {
  for (size_t i = 1; i < n; i++)
    for (size_t j = i; j > 0 && fd[j - 1] > fd[j]; j--) {
      int t = fd[j];
      fd[j] = fd[j - 1];
      fd[j - 1] = t;
    }
}

/* Closes every descriptor of the copy's but those the report needs. The
 * copy inherited all of the program's: a listening socket, the write end
 * of the pipe a CI job reads the program's output from. Were the copy to
 * outlive the process, it would keep the port taken and the job waiting
 * for the end of that pipe. */
static void copy_close_others(void) {
  int keep[COPY_KEEP_MAX], from = 0;
  size_t n = 0;
  struct rlimit rl;

  keep[n++] = 2; /* the report, with no asyncleak command; warnings */
  keep[n++] = al_reportfile_fd();
  n += al_symfiles_fds(keep + n, COPY_KEEP_MAX - n);
  sort_fds(keep, n);
  for (size_t i = 0; i <= n; i++) {
    int to = i < n ? keep[i] - 1 : INT_MAX - 1;

    if (i < n && keep[i] < 0)
      continue;
    if (to >= from && syscall(SYS_close_range, (unsigned)from, (unsigned)to,
                              0) != 0) {
      /* A kernel before 5.9: one by one, up to the soft limit. */
      int top = getrlimit(RLIMIT_NOFILE, &rl) == 0 &&
                        rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < 65536
                    ? (int)rl.rlim_cur
                    : 65536;
      for (int fd = from; fd <= to && fd < top; fd++)
        close(fd);
    }
    if (i < n)
      from = keep[i] + 1;
  }
}

/* The copy must not outlive the process: it ends when the process does
 * (a supervisor's SIGKILL while the copy waits on a lock), and when its
 * own deadline passes, a second after the one the process gives it. */
static void copy_bound(void) {
  struct itimerval deadline = {{0, 0}, {0, 0}};
  struct sigaction dfl;
  sigset_t alarm;
  long ms = (long)al_opt.report_timeout_ms + 1000;

  prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
  /* The process may have ended before that took. */
  if (getppid() != copy_parent)
    al_exit_now(0);
  memset(&dfl, 0, sizeof(dfl));
  dfl.sa_handler = SIG_DFL;
  real_sigaction(SIGALRM, &dfl, NULL);
  sigemptyset(&alarm);
  sigaddset(&alarm, SIGALRM);
  sigprocmask(SIG_UNBLOCK, &alarm, NULL);
  deadline.it_value.tv_sec = ms / 1000;
  deadline.it_value.tv_usec = (ms % 1000) * 1000;
  setitimer(ITIMER_REAL, &deadline, NULL);
}

/* The copy's work: its report, then its end. */
__attribute__((noreturn, noinline)) static void copy_main(void) {
  if (__sanitizer_finish_switch_fiber != NULL)
    __sanitizer_finish_switch_fiber(NULL, NULL, NULL);
  /* Dies quietly of whatever the program broke: a fault kills it. */
  for (int i = 1; i < SIG_SLOTS; i++)
    if (taken[i]) {
      struct sigaction dfl;
      memset(&dfl, 0, sizeof(dfl));
      dfl.sa_handler = SIG_DFL;
      real_sigaction(i, &dfl, NULL);
    }
  copy_bound();
  copy_close_others();
  al_report_write_as(copy_parent, copy_how);
  al_exit_now(0);
}

/* The stack the copy writes on. The handler may run on the program's
 * alternate signal stack (SA_ONSTACK), which crash reporters and language
 * runtimes make as small as 8 KiB, and formatting and symbolizing the
 * report needs far more: so the copy moves to a stack of its own first.
 * Pages are only touched as used; the one below is left inaccessible, so
 * that running off the end kills the copy instead of corrupting it. */
#define COPY_STACK_BYTES (8u << 20)

/* Calls copy_main on the stack [bottom, bottom + size), for good. Where
 * a few instructions do it, not swapcontext(), which sanitizers warn of. */
__attribute__((noreturn)) static void copy_main_on(char *bottom,
                                                   size_t size) {
  char *top = bottom + size; /* page-aligned, so as the ABI wants */

  /* Leaving this stack for good: its fake frames go. */
  if (__sanitizer_start_switch_fiber != NULL)
    __sanitizer_start_switch_fiber(NULL, bottom, size);
#if defined(__x86_64__)
  __asm__ volatile("mov %0, %%rsp\n\t"
                   "xor %%ebp, %%ebp\n\t"
                   "call *%1\n\t"
                   "ud2"
                   :
                   : "r"(top), "r"(copy_main)
                   : "memory");
#elif defined(__aarch64__)
  __asm__ volatile("mov sp, %0\n\t"
                   "mov x29, xzr\n\t"
                   "blr %1\n\t"
                   "brk #0"
                   :
                   : "r"(top), "r"(copy_main)
                   : "memory");
#else
  {
    static ucontext_t here, there;
    if (getcontext(&there) == 0) {
      there.uc_stack.ss_sp = bottom;
      there.uc_stack.ss_size = size;
      there.uc_link = NULL;
      makecontext(&there, (void (*)(void))copy_main, 0);
      swapcontext(&here, &there);
    }
  }
#endif
  copy_main();
}

__attribute__((noreturn)) static void copy_run(void) {
  size_t page = (size_t)sysconf(_SC_PAGESIZE);
  char *base = mmap(NULL, COPY_STACK_BYTES + page, PROT_READ | PROT_WRITE,
                    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK,
                    -1, 0);

  /* The copy has one thread: nothing else runs on it or looks at it. */
  if (base != MAP_FAILED && mprotect(base, page, PROT_NONE) == 0)
    copy_main_on(base + page, COPY_STACK_BYTES);
  /* No memory for it: the stack it has may still do. */
  copy_main();
}

/* How long the thread ending the process waits, in all, for the other
 * threads to let go of the locks guarding what the report reads (the
 * registry's, the shutdown log's, the unloaded objects', the libevent
 * listing's): each is held for microseconds, unless preempted. */
#define HOLD_BUDGET_MS 200
/* And for the live thread (lib/live.c) to be done being born or
 * answering: a sanitizer's allocator lock it holds meanwhile would stop
 * the copy for good. */
#define LIVE_QUIET_MS 200

/* Makes the copy, lets it write the report, and reaps it: only calls that
 * are safe in a signal handler, whatever state the process is in. */
static void report_from_copy(const struct al_ending *how) {
  const struct timespec step = {0, 1000000};
  static const char no_fork[] = "asyncleak: cannot fork to write the report; "
                                "there is none\n";
  pid_t copy;
  uint64_t deadline;
  int status, saved = errno;

  copy_parent = own_pid;
  copy_how = how;
  /* Another thread may be halfway through adding or removing a record,
   * its lock held, at the instant of the copy: the copy would wait for a
   * lock nobody there will release, and leave that part of the registry
   * out. _Fork() runs no atfork handler: the locks the report reads are
   * held here first (lib/locks.c), and nobody is. A thread that holds one of them
   * itself (a signal handler interrupted it in the registry) would wait
   * for its own: it gives up at once. */
  al_live_quiesce(LIVE_QUIET_MS);
  al_locks_hold(al_locks_held > 0 ? 1 : HOLD_BUDGET_MS);
  copy = _Fork();
  if (copy == 0) {
    al_locks_let_go();
    copy_run();
  }
  al_locks_let_go();
  if (copy < 0) {
    say(no_fork, sizeof(no_fork) - 1);
    al_reportfile_error_n("cannot fork to write the report: errno ",
                          (unsigned long long)errno, "");
    errno = saved;
    return;
  }
  deadline = al_now_ms() + (uint64_t)al_opt.report_timeout_ms;
  for (;;) {
    pid_t r = waitpid(copy, &status, WNOHANG | __WALL);
    /* ECHILD: the program's SIGCHLD handler, or SIG_IGN, reaped it. */
    if (r == copy && WIFSIGNALED(status))
      al_reportfile_error_n("the copy of the process writing the report "
                            "died of signal ", (unsigned long long)
                            WTERMSIG(status), "");
    if (r == copy || (r < 0 && errno != EINTR))
      break;
    if (al_now_ms() >= deadline) {
      kill(copy, SIGKILL);
      while (waitpid(copy, &status, __WALL) < 0 && errno == EINTR)
        continue;
      say(timeout_said, timeout_said_len);
      al_reportfile_error_n("the report was not written within ",
                            (unsigned long long)al_opt.report_timeout_ms,
                            " ms (report_timeout_ms)");
      break;
    }
    nanosleep(&step, NULL);
  }
  errno = saved;
}

/* ---------------------------------------------------------- _exit, _Exit */

static void ending_now(int status) {
  struct al_ending how = {AL_END_EXIT_NOW, 0, status};

  if (may_report())
    report_from_copy(&how);
}

AL_EXPORT void _exit(int status) {
  ending_now(status);
  al_exit_now(status);
}

AL_EXPORT void _Exit(int status) {
  ending_now(status);
  resolve();
  if (real_Exit != NULL)
    real_Exit(status);
  al_exit_now(status);
}

/* ---------------------------------------------------------------- signals */

static void on_signal(int sig, siginfo_t *info, void *context) {
  struct al_ending how = {is_crash(sig) ? AL_END_CRASH : AL_END_SIGNAL, sig,
                          0};
  struct sigaction dfl;

  /* The first process of a pid namespace: a signal another process (or
   * it itself) sent would have been dropped by the kernel (see
   * al_signal_take); only a fault of its own ends it. */
  if (own_pid == 1 && (info == NULL || info->si_code <= 0))
    return;
  if (may_report())
    report_from_copy(&how);
  /* A fault the kernel raised comes back when the handler returns, now
   * with the default action: the core dump shows the faulting code. */
  if (is_crash(sig) && sig != SIGABRT && info != NULL && info->si_code > 0) {
    memset(&dfl, 0, sizeof(dfl));
    dfl.sa_handler = SIG_DFL;
    real_sigaction(sig, &dfl, NULL);
    return;
  }
  al_die_by_signal(sig);
}

void al_ending_signal(int sig) {
  struct al_ending how = {AL_END_SIGNAL, sig, 0};

  if (may_report())
    report_from_copy(&how);
  al_die_by_signal(sig);
}

static int is_ours(const struct sigaction *sa) {
  void *h = (void *)sa->sa_handler;
  return h == (void *)on_signal || h == (void *)al_graceful_handler;
}

int al_ending_sealed(void) {
  return atomic_load(&sealed);
}

/* Where the runtime's handler still stands, the default comes back: a
 * signal then ends the process with no call of the runtime's, and a
 * SIGSYS the filter raises cannot come back to a handler that makes
 * system calls. */
int al_ending_seal(void) {
  struct sigaction cur, dfl;
  int first = 0;

  resolve();
  if (!atomic_compare_exchange_strong(&sealed, &first, 1))
    return 0;
  memset(&dfl, 0, sizeof(dfl));
  dfl.sa_handler = SIG_DFL;
  for (int i = 1; i < SIG_SLOTS; i++)
    if (taken[i] && real_sigaction(i, NULL, &cur) == 0 && is_ours(&cur) &&
        real_sigaction(i, &dfl, NULL) == 0)
      released[i] = 1;
  return 1;
}

void al_ending_unseal(void) {
  struct sigaction cur;

  for (int i = 1; i < SIG_SLOTS; i++) {
    /* Unless the program set a disposition of its own since. */
    if (released[i] && real_sigaction(i, NULL, &cur) == 0 &&
        !(cur.sa_flags & SA_SIGINFO) && cur.sa_handler == SIG_DFL)
      real_sigaction(i, &installed[i], NULL);
    released[i] = 0;
  }
  atomic_store(&sealed, 0);
}

int al_signal_take(int sig, const struct sigaction *sa) {
  struct sigaction old;

  resolve();
  /* The first process of a pid namespace (a container's init) is never
   * ended by a signal it has no handler for: the kernel drops the signals
   * whose default action would end it, SIGKILL aside, and an init that
   * does not handle SIGTERM runs on. A handler of the runtime's would
   * change that, for the re-raise that ends other processes is dropped
   * too: the signals that ask a process to stop are left alone there.
   * A fault the kernel raises still kills it, and is reported. Pid 1
   * never becomes another pid: only the first process is. */
  if (getpid() == 1 && !is_crash(sig))
    return -1;
  if (sig <= 0 || sig >= SIG_SLOTS ||
      real_sigaction(sig, NULL, &old) != 0 || old.sa_handler != SIG_DFL ||
      (old.sa_flags & SA_SIGINFO))
    return -1;
  installed[sig] = *sa;
  if (real_sigaction(sig, sa, NULL) != 0)
    return -1;
  taken[sig] = 1;
  return 0;
}

void al_ending_init(void) {
  struct sigaction sa;
  int n;

  resolve();
  own_pid = getpid();
  n = snprintf(timeout_said, sizeof(timeout_said),
               "asyncleak: the report was not written within %d ms "
               "(report_timeout_ms); the process ends without it\n",
               al_opt.report_timeout_ms);
  timeout_said_len = n > 0 && (size_t)n < sizeof(timeout_said)
                         ? (size_t)n
                         : 0;
  if (!al_opt.handle_signals)
    return;
  memset(&sa, 0, sizeof(sa));
  sa.sa_sigaction = on_signal;
  sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_RESTART;
  /* While one is handled the others wait: the handler ends the process. */
  sigemptyset(&sa.sa_mask);
  for (size_t i = 0; i < al_nstop_signals; i++)
    sigaddset(&sa.sa_mask, al_stop_signals[i]);
  for (size_t i = 0; i < al_ncrash_signals; i++)
    al_signal_take(al_crash_signals[i], &sa);
  for (size_t i = 0; i < al_nstop_signals; i++)
    if (!taken[al_stop_signals[i]])
      al_signal_take(al_stop_signals[i], &sa);
  for (int sig = SIGRTMIN; sig <= SIGRTMAX && sig < SIG_SLOTS; sig++)
    al_signal_take(sig, &sa);
}

void al_ending_atfork_child(void) {
  /* Sealed, the child ends with no report: it needs no pid, and getpid()
   * is a call the program's filter may refuse. */
  own_pid = atomic_load(&sealed) ? 0 : getpid();
  atomic_store(&ender, 0);
}

/* ------------------------------------------------- what the program sees */

/* The program sees the dispositions it would have without asyncleak: where
 * the runtime's handler stands, SIG_DFL. Setting SIG_DFL puts the runtime's
 * handler back, so that the report is still written; setting anything else
 * replaces it, and the program's handler runs as it would have. */
AL_EXPORT int sigaction(int sig, const struct sigaction *act,
                        struct sigaction *old) {
  int rc;

  resolve();
  if (act != NULL && sig > 0 && sig < SIG_SLOTS && taken[sig] &&
      !atomic_load(&sealed) && !(act->sa_flags & SA_SIGINFO) &&
      act->sa_handler == SIG_DFL)
    act = &installed[sig];
  rc = real_sigaction(sig, act, old);
  if (rc == 0 && old != NULL && is_ours(old)) {
    memset(old, 0, sizeof(*old));
    old->sa_handler = SIG_DFL;
  }
  return rc;
}

AL_EXPORT sighandler_t signal(int sig, sighandler_t handler) {
  sighandler_t old;

  resolve();
  if (sig > 0 && sig < SIG_SLOTS && taken[sig] && !atomic_load(&sealed) &&
      handler == SIG_DFL) {
    struct sigaction was;
    if (sigaction(sig, &installed[sig], &was) != 0)
      return SIG_ERR;
    return was.sa_handler;
  }
  old = real_signal != NULL ? real_signal(sig, handler) : SIG_ERR;
  return old == (sighandler_t)(void *)on_signal ||
                 old == (sighandler_t)(void *)al_graceful_handler
             ? SIG_DFL
             : old;
}
