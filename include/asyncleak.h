/* asyncleak: finds event-loop handles a program leaves open, and where they
 * were created. This is the only public header of libasyncleak.
 *
 * Most programs need no header at all: run them under the asyncleak command,
 * which preloads the runtime. A test harness may instead link libasyncleak
 * (before libuv on the link line, so that its interposers come first). */
#ifndef ASYNCLEAK_H_
#define ASYNCLEAK_H_

#ifdef __cplusplus
extern "C" {
#endif

#define ASYNCLEAK_VERSION_MAJOR 0
#define ASYNCLEAK_VERSION_MINOR 1
#define ASYNCLEAK_VERSION_PATCH 0

/* The runtime's version, "MAJOR.MINOR.PATCH". */
const char *asyncleak_version(void);

#ifdef __cplusplus
}
#endif

#endif /* ASYNCLEAK_H_ */
