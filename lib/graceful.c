/* graceful_signals, after aiorun's run(): SIGINT or SIGTERM no longer kill
 * the program outright. The handler only wakes the running loops; each
 * loop's thread then stops it, runs its shutdown, and the last one writes
 * the report and ends the process with the status that death by the
 * signal gives. A second signal ends it at once.
 *
 * Two things get in the way of that rule, and are taken care of here.
 *
 * No loop may be running when the signal comes: before the program's
 * first run, after its last, or a program that never runs one. Nothing
 * would then stop the process, which would run on until SIGKILL. But a
 * program that calls uv_run() again and again is only between two runs,
 * and its next run takes the request on (the shims' run wrappers look at
 * al_graceful_signal() before they run). So the handler gives it a
 * moment, NO_LOOP_MS, with a one-shot timer that sends the same signal
 * again: if no run has taken the request on by then, the process ends as
 * it would without graceful_signals, its report written by a copy.
 *
 * One signal may arrive twice. A signal sent to the whole process group
 * (kill -- -PGID, timeout(1), a CI runner cancelling a job, systemd
 * stopping a service) reaches the program directly, and again when the
 * asyncleak command, its parent, passes on the copy it received itself:
 * the command cannot tell a signal sent to the group from one sent to it
 * alone, so it passes on both. And timeout(1) signals the command, then
 * the group, so the copies may come in either order. The second copy
 * would count as a second signal and kill the program before its report.
 * So the same signal within ECHO_MS of the first, when one of the two was
 * sent by the parent, is taken for an echo of the first and dropped. Two
 * signals that do not come through the parent (a terminal's Ctrl-C, which
 * the command never passes on, pressed twice; a second kill of the
 * program itself) still end it at once.
 *
 * A program that handles these signals itself (sigaction, uv_signal_start)
 * replaces the handler and keeps its own behaviour. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"
#include "wake.h"

/* How long a loop between two runs has to take a request on. */
#define NO_LOOP_MS 200
/* How close the echo of a signal comes after it. The command passes a
 * signal on as soon as it is scheduled; a person's second Ctrl-C comes
 * later, and does not come through the command. */
#define ECHO_MS 1000
/* In the timer's signal, to tell it from anyone else's. */
#define TIMER_COOKIE 0x616c6772

/* The signal that asked for the shutdown, when, and whether the parent
 * sent it. */
static atomic_int requested;
static _Atomic uint64_t requested_ms;
static atomic_int requested_by_parent;
/* A loop's run, or the exit, took the request on: the shutdown is under
 * way. */
static atomic_int taken;
/* Loops in their run function, and loops in their graceful shutdown. */
static atomic_int busy;
static atomic_int ending;
/* The kernel's id of the timer, plus one; 0 when there is none. */
static atomic_int timer;

/* The kernel's itimerspec for timer_settime: two longs a field, whatever
 * size libc gives time_t. */
struct ktimerspec {
  long interval_sec, interval_nsec, value_sec, value_nsec;
};

/* Raw system calls: glibc's timer_create() is not promised to be
 * async-signal-safe, the kernel's is. */
static int timer_arm(int sig) {
  struct sigevent sev;
  struct ktimerspec its = {0, 0, 0, NO_LOOP_MS * 1000000L};
  int id;

  memset(&sev, 0, sizeof(sev));
  sev.sigev_notify = SIGEV_SIGNAL;
  sev.sigev_signo = sig;
  sev.sigev_value.sival_int = TIMER_COOKIE;
  if (syscall(SYS_timer_create, CLOCK_MONOTONIC, &sev, &id) != 0)
    return -1;
  if (syscall(SYS_timer_settime, id, 0, &its, NULL) != 0) {
    syscall(SYS_timer_delete, id);
    return -1;
  }
  atomic_store(&timer, id + 1);
  return 0;
}

static void timer_disarm(void) {
  int t = atomic_exchange(&timer, 0);

  if (t != 0)
    syscall(SYS_timer_delete, t - 1);
}

static int is_timer(const siginfo_t *info) {
  return info != NULL && info->si_code == SI_TIMER &&
         info->si_value.sival_int == TIMER_COOKIE;
}

static int from_parent(const siginfo_t *info) {
  return info != NULL &&
         (info->si_code == SI_USER || info->si_code == SI_QUEUE) &&
         info->si_pid == getppid();
}

/* How long the workers a graceful signal was passed on to are waited for:
 * their own drain, and their reports. */
static unsigned workers_ms(void) {
  return (unsigned)al_opt.drain_timeout_ms + 2000;
}

/* The process ends by sig without a graceful shutdown of its own, as it
 * would without graceful_signals; its workers end first. */
__attribute__((noreturn)) static void end_without_loop(int sig) {
  al_children_wait(workers_ms());
  al_ending_signal(sig);
}

/* Whether a loop has the shutdown in hand, or is about to. */
static int in_hand(void) {
  return atomic_load(&taken) || atomic_load(&busy) > 0;
}

void al_graceful_handler(int sig, siginfo_t *info, void *context) {
  int saved = errno, first = atomic_load(&requested);

  if (is_timer(info)) {
    timer_disarm();
    /* The moment is over, and no run came. */
    if (first != 0 && !in_hand())
      end_without_loop(first);
    errno = saved;
    return;
  }
  if (first != 0) {
    if (sig == first &&
        (from_parent(info) || atomic_load(&requested_by_parent)) &&
        al_now_ms() - atomic_load(&requested_ms) < ECHO_MS) {
      errno = saved;
      return;
    }
    /* A second signal. With no shutdown under way, the report can still
     * be written as without graceful_signals. */
    if (!in_hand())
      al_ending_signal(sig);
    al_die_by_signal(sig);
  }
  /* The workers of a prefork server stop with it (lib/children.c). */
  al_children_signal(sig);
  /* A loop that cannot be stopped would never notice: the signal ends the
   * process now, as it would without graceful_signals. */
  if (al_wake_cannot())
    end_without_loop(sig);
  atomic_store(&requested_ms, al_now_ms());
  atomic_store(&requested_by_parent, from_parent(info));
  /* Before busy is read: a run that begins meanwhile counts itself busy
   * before it reads requested, so one of the two sees the other. */
  atomic_store(&requested, sig);
  if (!in_hand() && timer_arm(sig) != 0)
    end_without_loop(sig);
  al_wake_all();
  errno = saved;
}

void al_graceful_install(void) {
  static const int sigs[] = {SIGINT, SIGTERM};
  struct sigaction sa;

  memset(&sa, 0, sizeof(sa));
  sa.sa_sigaction = al_graceful_handler;
  sa.sa_flags = SA_SIGINFO | SA_RESTART;
  sigemptyset(&sa.sa_mask);
  /* Only where the default stands: a signal the program was started with
   * ignored (nohup, a background job's SIGINT) stays ignored. */
  for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
    al_signal_take(sigs[i], &sa);
}

int al_graceful_signal(void) {
  int sig = atomic_load(&requested);

  /* The caller shuts its loop down: the timer has no more to do. */
  if (sig != 0 && !atomic_exchange(&taken, 1))
    timer_disarm();
  return sig;
}

int al_graceful_requested(void) {
  return atomic_load(&requested);
}

void al_graceful_running(int delta) {
  atomic_fetch_add(&busy, delta);
}

void al_graceful_atfork_child(void) {
  /* The parent's loops are not running here, and its timer is not the
   * child's. */
  atomic_store(&busy, 0);
  atomic_store(&timer, 0);
}

void al_graceful_end(void) {
  const struct timespec step = {0, 1000000};
  int sig = al_graceful_signal();

  /* Give the other loops' threads their shutdown, within the deadline. */
  for (int ms = 0; ms < al_opt.drain_timeout_ms && atomic_load(&busy) > 0;
       ms++)
    nanosleep(&step, NULL);
  if (atomic_exchange(&ending, 1) == 0) {
    al_children_wait(workers_ms());
    al_report_write();
    al_die_by_signal(sig);
  }
  /* Another thread is ending the process. */
  for (;;)
    pause();
}
