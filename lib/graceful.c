/* graceful_signals, after aiorun's run(): SIGINT or SIGTERM no longer kill
 * the program outright. The handler only wakes the running loops; each
 * loop's thread then stops it, runs its shutdown, and the last one writes
 * the report and ends the process with the status that death by the
 * signal gives. A second signal ends it at once.
 *
 * A program that handles these signals itself (sigaction, uv_signal_start)
 * replaces the handler and keeps its own behaviour. */
#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

static volatile sig_atomic_t requested;
/* Loops in their run function, and loops in their graceful shutdown. */
static atomic_int busy;
static atomic_int ending;

static void die_now(int sig) {
  sigset_t set;
  struct sigaction dfl;

  memset(&dfl, 0, sizeof(dfl));
  dfl.sa_handler = SIG_DFL;
  sigaction(sig, &dfl, NULL);
  sigemptyset(&set);
  sigaddset(&set, sig);
  pthread_sigmask(SIG_UNBLOCK, &set, NULL);
  raise(sig);
  _exit(128 + sig); /* not reached unless the signal could not kill */
}

static void on_signal(int sig) {
  int saved = errno;

  if (requested != 0)
    die_now(sig);
  requested = sig;
  for (int i = 0; i < AL_MAX_SHIMS; i++)
    if (al_shims[i] != NULL && al_shims[i]->wake != NULL)
      al_shims[i]->wake();
  errno = saved;
}

void al_graceful_install(void) {
  static const int sigs[] = {SIGINT, SIGTERM};
  struct sigaction sa, old;

  memset(&sa, 0, sizeof(sa));
  sa.sa_handler = on_signal;
  sa.sa_flags = SA_RESTART;
  sigemptyset(&sa.sa_mask);
  for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
    /* A signal the program was started with ignored (nohup, a background
     * job's SIGINT) stays ignored. */
    if (sigaction(sigs[i], NULL, &old) != 0 || old.sa_handler == SIG_IGN)
      continue;
    sigaction(sigs[i], &sa, NULL);
  }
}

int al_graceful_signal(void) {
  return requested;
}

void al_graceful_running(int delta) {
  atomic_fetch_add_explicit(&busy, delta, memory_order_relaxed);
}

void al_graceful_atfork_child(void) {
  /* The parent's loops are not running here. */
  atomic_store(&busy, 0);
}

void al_graceful_end(void) {
  const struct timespec step = {0, 1000000};
  int sig = requested;

  /* Give the other loops' threads their shutdown, within the deadline. */
  for (int ms = 0; ms < al_opt.drain_timeout_ms && atomic_load(&busy) > 0;
       ms++)
    nanosleep(&step, NULL);
  if (atomic_exchange(&ending, 1) == 0) {
    al_report_write();
    die_now(sig);
  }
  /* Another thread is ending the process. */
  for (;;)
    pause();
}
