/* What the runtime and the asyncleak command share about live queries
 * (`asyncleak ps PID`): where a process answers, and the first line of
 * its answer. Included by lib/live.c, lib/livedump.c and cli/ps.c.
 *
 * A process running the runtime listens on an abstract Unix socket named
 * after its pid: no file, so nothing in the file system another user
 * could put in its place. Both ends check the other's credentials: the
 * process answers only its own user and root, and the command takes an
 * answer only from the pid it asked. */
#ifndef ASYNCLEAK_LIVE_H_
#define ASYNCLEAK_LIVE_H_

#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/un.h>

/* The request a client sends, and the first line of the answer. A
 * version the other end does not know is refused. */
#define AL_LIVE_REQUEST "ps 1\n"
#define AL_LIVE_ANSWER "asyncleak-live\t1"

/* The socket's address for pid; returns its length. */
static inline socklen_t al_live_address(pid_t pid, struct sockaddr_un *a) {
  int n;

  memset(a, 0, sizeof(*a));
  a->sun_family = AF_UNIX;
  /* Abstract: the name starts with a NUL byte, and is not terminated. */
  n = snprintf(a->sun_path + 1, sizeof(a->sun_path) - 1,
               "asyncleak/live/%d", (int)pid);
  return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)n);
}

#endif /* ASYNCLEAK_LIVE_H_ */
