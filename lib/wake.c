/* Waking the program's loops for a graceful signal (lib/wake.h).
 *
 * One pipe for the process. A loop run with graceful signals on watches
 * its read end through its shim; the signal handler writes one byte to the
 * write end, after checking with fstat that the descriptor is still the
 * pipe (a program that closed every descriptor it did not know of may have
 * another file at that number now). The pipe is never read: readable once,
 * it stays readable, and each watch, which fires once, stops its own loop.
 *
 * A fork child shares the pipe with its parent: a byte written there
 * would wake the parent's loops. The child makes a pipe of its own for the
 * loops it makes, and a loop of the parent's, which watches the parent's
 * pipe and shares its kernel state with the parent, cannot be woken: its
 * runs are blind, and a graceful signal then ends the process as it would
 * without graceful signals (lib/graceful.c). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"
#include "locks.h"
#include "wake.h"

#define MAX_WATCHES 64
static const uintptr_t RESERVED = 1;

static struct {
  _Atomic uintptr_t loop; /* 0 free, RESERVED while changed */
  void *watch;            /* the shim's, NULL when it could not */
  uint8_t shim;
  unsigned gen;           /* the pipe it watches */
} watches[MAX_WATCHES];

/* The pipe: both ends, the write end's inode, and a generation that a
 * fork child moves on from its parent's. */
static atomic_int rfd = -1, wfd = -1;
static _Atomic ino_t wino;
static atomic_uint gen;
static atomic_int blind;

/* The pipe, made at the first watch. */
static int pipe_fd(void) {
  int fds[2], expected = -1;
  struct stat st;

  if (atomic_load(&rfd) >= 0)
    return atomic_load(&rfd);
  if (pipe2(fds, O_CLOEXEC | O_NONBLOCK) != 0)
    return -1;
  fds[0] = al_fd_move_high(fds[0], 4);
  fds[1] = al_fd_move_high(fds[1], 4);
  if (fstat(fds[1], &st) != 0 ||
      !atomic_compare_exchange_strong(&rfd, &expected, fds[0])) {
    /* Another thread's pipe is the one. */
    close(fds[0]);
    close(fds[1]);
    return atomic_load(&rfd);
  }
  atomic_store(&wino, st.st_ino);
  atomic_store(&wfd, fds[1]);
  return fds[0];
}

static void ready(uintptr_t loop) {
  for (int i = 0; i < MAX_WATCHES; i++)
    if (atomic_load(&watches[i].loop) == loop) {
      al_shims[watches[i].shim]->stop(loop);
      return;
    }
}

int al_wake_watch(uint8_t shim, uintptr_t loop) {
  const struct al_shim *sh = al_shims[shim];
  int fd, i, free_slot = -1;

  for (i = 0; i < MAX_WATCHES; i++) {
    uintptr_t l = atomic_load(&watches[i].loop);
    if (l == loop)
      return watches[i].watch != NULL &&
                     watches[i].gen == atomic_load(&gen)
                 ? 0
                 : -1;
    if (l == 0 && free_slot < 0)
      free_slot = i;
  }
  /* A loop of the parent's, first run in a fork child: its library's
   * state is shared with the parent (libuv's epoll set, until
   * uv_loop_fork), where a watch made now would land too. */
  if (atomic_load(&gen) > 0) {
    struct al_loop l;
    if (al_loop_get(loop, &l) != 0 || (l.flags & AL_LOOP_INHERITED))
      return -1;
  }
  for (i = free_slot; i >= 0 && i < MAX_WATCHES; i++) {
    uintptr_t none = 0;
    if (atomic_compare_exchange_strong(&watches[i].loop, &none, RESERVED))
      break;
  }
  if (i < 0 || i == MAX_WATCHES)
    return -1;
  fd = pipe_fd();
  watches[i].shim = shim;
  watches[i].gen = atomic_load(&gen);
  watches[i].watch = fd >= 0 && sh->watch != NULL ? sh->watch(loop, fd, ready)
                                                   : NULL;
  atomic_store(&watches[i].loop, loop);
  return watches[i].watch != NULL ? 0 : -1;
}

void al_wake_forget(uintptr_t loop, int alive) {
  for (int i = 0; i < MAX_WATCHES; i++) {
    uintptr_t expected = loop;
    if (loop != 0 &&
        atomic_compare_exchange_strong(&watches[i].loop, &expected,
                                       RESERVED)) {
      if (watches[i].watch != NULL)
        al_shims[watches[i].shim]->unwatch(watches[i].watch, alive);
      watches[i].watch = NULL;
      atomic_store(&watches[i].loop, 0);
      return;
    }
  }
}

void al_wake_blind(int delta) {
  atomic_fetch_add(&blind, delta);
}

int al_wake_cannot(void) {
  return atomic_load(&blind) > 0;
}

void al_wake_all(void) {
  int fd = atomic_load(&wfd);
  struct stat st;
  char byte = 0;

  if (fd >= 0 && fstat(fd, &st) == 0 && S_ISFIFO(st.st_mode) &&
      st.st_ino == atomic_load(&wino))
    (void)!write(fd, &byte, 1);
}

/* The parent's pipe stays open in the child, watched by the parent's
 * loops, and is never written here. */
void al_wake_atfork_child(unsigned blind_runs) {
  atomic_store(&rfd, -1);
  atomic_store(&wfd, -1);
  atomic_fetch_add(&gen, 1);
  atomic_store(&blind, (int)blind_runs);
}
