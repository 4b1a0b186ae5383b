/* Waking the program's loops for a graceful signal, with no loop library
 * code in the signal handler: the core owns a pipe, every loop run with
 * graceful signals on watches its read end (al_shim.watch), and the
 * handler writes a byte to it. Private to the runtime. */
#ifndef ASYNCLEAK_WAKE_H_
#define ASYNCLEAK_WAKE_H_

#include <stdint.h>

/* Makes the loop watch the pipe, once per loop: 0 when it does, -1 when
 * it cannot be woken (no room, no pipe, the library could not, or a loop
 * of the parent in a fork child, whose wake-up would be the parent's). */
int al_wake_watch(uint8_t shim, uintptr_t loop);
/* The loop is about to be freed (alive) or is gone: what its watch holds
 * is given back. */
void al_wake_forget(uintptr_t loop, int alive);
/* A run that cannot be woken began (+1) or ended (-1). */
void al_wake_blind(int delta);
/* From the signal handler, async-signal-safe: whether a loop runs that
 * cannot be woken, and waking every loop that can. */
int al_wake_cannot(void);
void al_wake_all(void);
/* In a fork child: the parent's pipe is not the child's, and the runs the
 * forking thread is inside, all blind now, are blind_runs. */
void al_wake_atfork_child(unsigned blind_runs);

#endif /* ASYNCLEAK_WAKE_H_ */
