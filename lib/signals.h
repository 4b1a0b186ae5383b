/* The signals the runtime catches to write the report before the process
 * dies of them (lib/ending.c), with handle_signals on. One table, which
 * the asyncleak command reads too, to say why a program killed by a
 * signal left no report. Pure: no state, safe in a signal handler.
 */
#ifndef ASYNCLEAK_SIGNALS_H_
#define ASYNCLEAK_SIGNALS_H_

#include <stddef.h>

/* Faults and abort(): the report names the crash. */
extern const int al_crash_signals[];
extern const size_t al_ncrash_signals;
/* The others whose default action ends the process. */
extern const int al_stop_signals[];
extern const size_t al_nstop_signals;

/* Whether sig is one of al_crash_signals. */
int al_signal_is_crash(int sig);
/* Whether the runtime catches sig: a crash, a stop, or a real-time signal
 * (SIGRTMIN to SIGRTMAX). Not SIGKILL and SIGSTOP, which no process can
 * catch, nor glibc's own signals below SIGRTMIN, nor those whose default
 * action does not end the process. */
int al_signal_caught(int sig);

#endif /* ASYNCLEAK_SIGNALS_H_ */
