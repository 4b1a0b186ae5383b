/* The signals the runtime catches (signals.h). */
#include <signal.h>

#include "signals.h"

/* Signals whose default action ends the process: faults and abort(),
 * and the rest, which ask a process to stop (SIGTERM), or end one that
 * did not expect them (SIGALRM of an alarm() nobody waits for, SIGPIPE of
 * a write to a closed pipe, SIGUSR1, SIGXCPU past RLIMIT_CPU, SIGSYS of a
 * seccomp filter...). The real-time signals, from SIGRTMIN on, are taken
 * too; those below it are glibc's own (thread cancellation, setuid across
 * threads) and never touched. */
const int al_crash_signals[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT};
const size_t al_ncrash_signals =
    sizeof(al_crash_signals) / sizeof(al_crash_signals[0]);
const int al_stop_signals[] = {
    SIGTERM, SIGINT,  SIGHUP,  SIGQUIT,   SIGALRM,   SIGPIPE, SIGUSR1,
    SIGUSR2, SIGXCPU, SIGXFSZ, SIGVTALRM, SIGPROF,   SIGSYS,  SIGTRAP,
    SIGIO,   SIGPWR,
#ifdef SIGSTKFLT
    SIGSTKFLT,
#endif
};
const size_t al_nstop_signals =
    sizeof(al_stop_signals) / sizeof(al_stop_signals[0]);

int al_signal_is_crash(int sig) {
  for (size_t i = 0; i < al_ncrash_signals; i++)
    if (al_crash_signals[i] == sig)
      return 1;
  return 0;
}

int al_signal_caught(int sig) {
  if (al_signal_is_crash(sig))
    return 1;
  for (size_t i = 0; i < al_nstop_signals; i++)
    if (al_stop_signals[i] == sig)
      return 1;
  return sig >= SIGRTMIN && sig <= SIGRTMAX;
}
