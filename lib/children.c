/* Graceful signals in a prefork server: a process that forks workers,
 * each running a loop, is stopped gracefully in every process when it
 * takes a graceful signal, not in its own alone.
 *
 * With graceful_signals on, each fork of the program's is followed: the
 * parent keeps a pidfd of the child, which cannot name another process
 * once the child is gone, and a slot in a page shared with its children.
 * A child that makes or takes over a loop marks its slot; one that
 * executes another program unmarks it: that is a program of its own, not
 * a worker. When the parent takes a graceful signal, it passes the signal
 * on to each marked child, which has its own graceful shutdown (and
 * passes it on to its own workers). Before it ends, the parent waits for
 * them, within their drain time, so that their reports are written when
 * the asyncleak command reads its own. A child that got the signal from
 * its process group as well takes the parent's copy for an echo of it
 * (lib/graceful.c).
 *
 * All of it is system calls and atomic operations: fork() and the
 * graceful handler may run in signal handlers. */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_send_signal
#define SYS_pidfd_send_signal 424
#endif

#define MAX_KIDS 64

/* KID_DEAD: a child that could not be followed, whose slot is never given
 * again: the child still holds it. */
enum kid_state { KID_FREE, KID_FORKED, KID_LOOP, KID_SIGNALLED, KID_DEAD };

/* What a child shares with its parent: the state only. Its pidfd is the
 * parent's alone (pidfds, below), so that nothing a child writes can
 * name a descriptor of the parent's. */
struct kid {
  atomic_int state; /* enum kid_state */
};

/* This process's children, in a page they share; made at the first fork
 * followed. */
static _Atomic(struct kid *) kids;
/* Their pidfds, in this process's own memory: -1 for none. Set after the
 * pidfd is open, cleared before it is closed, so that a fork child, which
 * gets a copy of both, closes its copies of exactly these. */
static atomic_int pidfds[MAX_KIDS] = {[0 ... MAX_KIDS - 1] = -1};
/* In a fork child: its slot in its parent's page, or NULL; and its pid,
 * which a vfork child sharing this memory does not have. */
static _Atomic(struct kid *) my_slot;
static _Atomic pid_t my_pid;
/* Children of this process that could not be followed (no slot, no
 * pidfd): the report says so (lib/report.c). */
static atomic_uint unfollowed;

static struct kid *page(void) {
  struct kid *k = atomic_load(&kids), *expected = NULL;
  void *p;

  if (k != NULL)
    return k;
  p = mmap(NULL, MAX_KIDS * sizeof(*k), PROT_READ | PROT_WRITE,
           MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED)
    return NULL;
  if (!atomic_compare_exchange_strong(&kids, &expected, (struct kid *)p)) {
    munmap(p, MAX_KIDS * sizeof(*k));
    return expected;
  }
  return p;
}

/* Whether the child behind pidfd has ended: its pidfd is readable. */
static int ended(int pidfd) {
  struct pollfd p = {pidfd, POLLIN, 0};
  struct timespec zero = {0, 0};

  return syscall(SYS_ppoll, &p, 1, &zero, NULL, (size_t)8) > 0;
}

int al_children_fork_begin(void **parent_page) {
  struct kid *k;

  *parent_page = NULL;
  if (!al_opt.graceful_signals || (k = page()) == NULL)
    return -1;
  *parent_page = k;
  for (int i = 0; i < MAX_KIDS; i++) {
    int fd = atomic_load(&pidfds[i]), st = atomic_load(&k[i].state);
    /* A slot of a child gone is given again. */
    if (st != KID_FREE && st != KID_DEAD && fd >= 0 && ended(fd) &&
        atomic_compare_exchange_strong(&pidfds[i], &fd, -1)) {
      close(fd);
      atomic_store(&k[i].state, KID_FREE);
      st = KID_FREE;
    }
    if (st == KID_FREE &&
        atomic_compare_exchange_strong(&k[i].state, &st, KID_FORKED))
      return i;
  }
  atomic_fetch_add(&unfollowed, 1);
  return -1;
}

void al_children_fork_end(int slot, pid_t pid, void *parent_page) {
  struct kid *k = parent_page;
  int fd;

  if (slot < 0 || k == NULL)
    return;
  if (pid == 0) {
    /* The child (al_children_atfork_child has run): its slot in the
     * parent's page, which it shares. */
    atomic_store(&my_pid, (pid_t)syscall(SYS_getpid));
    atomic_store(&my_slot, &k[slot]);
    return;
  }
  if (pid < 0) {
    atomic_store(&k[slot].state, KID_FREE);
    return;
  }
  fd = (int)syscall(SYS_pidfd_open, pid, 0);
  if (fd < 0) {
    /* The child holds the slot: never given again. */
    atomic_fetch_add(&unfollowed, 1);
    atomic_store(&k[slot].state, KID_DEAD);
    return;
  }
  /* Out of the program's way (room above the runtime's other
   * descriptors for all of them), and closed on exec (pidfd_open's). */
  atomic_store(&pidfds[slot], al_fd_move_high(fd, MAX_KIDS + 16));
}

/* Whether the calling process is the followed child itself, not a vfork
 * child borrowing its memory. */
static struct kid *mine(void) {
  struct kid *s = atomic_load(&my_slot);

  return s != NULL && atomic_load(&my_pid) == (pid_t)syscall(SYS_getpid)
             ? s
             : NULL;
}

/* The followed child made a loop: it is a worker. */
static atomic_int made_loop;

void al_children_made_loop(void) {
  struct kid *s = atomic_load(&my_slot);
  int forked = KID_FORKED;

  if (s == NULL || (s = mine()) == NULL)
    return;
  atomic_store(&made_loop, 1);
  atomic_compare_exchange_strong(&s->state, &forked, KID_LOOP);
}

void al_children_exec(void) {
  struct kid *s = atomic_load(&my_slot);
  int loop = KID_LOOP;

  if (s != NULL && (s = mine()) != NULL)
    atomic_compare_exchange_strong(&s->state, &loop, KID_FORKED);
}

void al_children_exec_failed(void) {
  struct kid *s = atomic_load(&my_slot);
  int forked = KID_FORKED;

  if (s != NULL && (s = mine()) != NULL && atomic_load(&made_loop))
    atomic_compare_exchange_strong(&s->state, &forked, KID_LOOP);
}

unsigned al_children_signal(int sig) {
  struct kid *k = atomic_load(&kids);
  unsigned n = 0;

  for (int i = 0; k != NULL && i < MAX_KIDS; i++) {
    int loop = KID_LOOP, fd = atomic_load(&pidfds[i]);
    if (fd < 0 ||
        !atomic_compare_exchange_strong(&k[i].state, &loop, KID_SIGNALLED))
      continue;
    if (syscall(SYS_pidfd_send_signal, fd, sig, NULL, 0) == 0)
      n++;
  }
  return n;
}

void al_children_wait(unsigned ms) {
  struct kid *k = atomic_load(&kids);
  struct pollfd p[MAX_KIDS];
  uint64_t end = al_now_ms() + ms;
  int saved = errno;

  for (;;) {
    nfds_t n = 0;
    uint64_t now = al_now_ms();
    struct timespec left;

    for (int i = 0; k != NULL && i < MAX_KIDS; i++) {
      int fd = atomic_load(&pidfds[i]);
      if (atomic_load(&k[i].state) == KID_SIGNALLED && fd >= 0 && !ended(fd))
        p[n++] = (struct pollfd){fd, POLLIN, 0};
    }
    if (n == 0 || now >= end)
      break;
    left.tv_sec = (time_t)((end - now) / 1000);
    left.tv_nsec = (long)((end - now) % 1000) * 1000000;
    /* Woken by the first to end, or by a signal; then looked at again. */
    (void)syscall(SYS_ppoll, p, n, &left, NULL, (size_t)8);
  }
  errno = saved;
}

/* Any fork's child, followed or not: its children are its own to follow,
 * and it is no one's worker until the fork's wrapper says it is. */
void al_children_atfork_child(void) {
  /* The parent's pidfds of its other children are the parent's. */
  for (int i = 0; i < MAX_KIDS; i++) {
    int fd = atomic_exchange(&pidfds[i], -1);
    if (fd >= 0)
      close(fd);
  }
  atomic_store(&kids, NULL);
  atomic_store(&my_slot, NULL);
  atomic_store(&made_loop, 0);
  atomic_store(&unfollowed, 0);
}

__attribute__((constructor)) static void children_init(void) {
  al_on_fork_child(al_children_atfork_child);
}

unsigned al_children_unfollowed(void) {
  return atomic_load(&unfollowed);
}
