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

void al_graceful_handler(int sig) {
  int saved = errno;

  if (requested != 0)
    al_die_by_signal(sig);
  /* A loop that cannot be stopped would never notice: the signal ends the
   * process now, as it would without graceful_signals. */
  for (int i = 0; i < AL_MAX_SHIMS; i++)
    if (al_shims[i] != NULL && al_shims[i]->cannot_stop != NULL &&
        al_shims[i]->cannot_stop())
      al_ending_signal(sig);
  requested = sig;
  for (int i = 0; i < AL_MAX_SHIMS; i++)
    if (al_shims[i] != NULL && al_shims[i]->wake != NULL)
      al_shims[i]->wake();
  errno = saved;
}

void al_graceful_install(void) {
  static const int sigs[] = {SIGINT, SIGTERM};
  struct sigaction sa;

  memset(&sa, 0, sizeof(sa));
  sa.sa_handler = al_graceful_handler;
  sa.sa_flags = SA_RESTART;
  sigemptyset(&sa.sa_mask);
  /* Only where the default stands: a signal the program was started with
   * ignored (nohup, a background job's SIGINT) stays ignored. */
  for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
    al_signal_take(sigs[i], &sa);
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
    al_die_by_signal(sig);
  }
  /* Another thread is ending the process. */
  for (;;)
    pause();
}
