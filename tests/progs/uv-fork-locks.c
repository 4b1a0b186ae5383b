/* fork() while other threads are inside the runtime, holding its locks:
 * threads make and close handles from stacks never seen before (the
 * registry's and the stack depot's locks), end and start again (the stack
 * caches'), check with the API and symbolize what they find (link order,
 * ignored creators, unloaded objects), set records aside (isolation),
 * close loops with a finalizer (the shutdown log) and call chroot(),
 * which opens the symbolizer's files first (symbol files). The main thread
 * forks again and again meanwhile, and each child uses every one of those
 * paths itself, then checks what it made and exits. No child may hang on
 * a lock a thread of its parent's held, and each must find exactly what
 * it left.
 *
 * Built with ThreadSanitizer, which make check does not run (its own
 * allocator's lock may be left held in a child: see the Makefile), it
 * forks fewer times (each copies the shadow memory), and makes no loop
 * while other threads run: libuv closes descriptors with a system call
 * ThreadSanitizer does not see, and the next open of the number looks like
 * a race.
 *
 * The default run is the negative control: every child and the parent
 * close everything, and nothing is reported.
 *
 * Not run in a sanitizer build: under AddressSanitizer the children stop
 * on an error it reports for the name the symbolizer reads (strncmp in
 * demangled(), lib/symbolize.c), whose cause is still open.
 * SANITIZED: skip
 *
 * CHECK: ^children not clean: 0, hung: 0$
 * CHECK: ^asyncleak: no leaks: 
 * CHECK-NOT: ERROR
 * CHECK-NOT: left no report
 * CHECK-NOT: may be incomplete
 * EXIT: 0
 *
 * [leak]: the last child leaves one timer open, from a named helper: it
 * finds it with asyncleak_check, and its exit report names it; nothing
 * else is reported, in it or in any other process.
 * [leak] RUN: leak
 * [leak] SANITIZED: skip
 * [leak] CHECK: ^children not clean: 0, hung: 0$
 * [leak] CHECK: ==[0-9]+==ERROR: asyncleak: 1 handle left open at exit$
 * [leak] CHECK-COUNT-1: ^1 handle of type uv_timer_t, created at:$
 * [leak] CHECK: ^    #0 0x[0-9a-f]+ in leak_in_child .*uv-fork-locks.c:%line(leak)$
 * [leak] CHECK: ^asyncleak: 1 handle\(s\) left open in 1 process\(es\)$
 * [leak] CHECK-COUNT-1: of type
 * [leak] CHECK-NOT: left no report
 * [leak] EXIT: 23
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#include "asyncleak.h"

#ifdef __SANITIZE_THREAD__
#define FORKS 8
#define CHURN 0 /* no loop made and closed while threads run */
#else
#define FORKS 48
#define CHURN 1
#endif
/* A child that has not exited after this long is stuck, not slow. */
#define CHILD_LIMIT_S 60

static atomic_int stop;
static FILE *devnull;

static void close_cb(uv_handle_t *h) {
  free(h);
}

/* The timers are closed long before they would fire. */
static void never(uv_timer_t *t) {
  (void)t;
  abort();
}

/* A timer made and closed from a stack the depot has not seen: the call
 * path below spells the low bits of n in the frames' return addresses. */
static __attribute__((noinline)) void make_and_close(uv_loop_t *loop) {
  uv_timer_t *t = malloc(sizeof(*t));

  uv_timer_init(loop, t);
  uv_timer_start(t, never, 100000, 0);
  uv_close((uv_handle_t *)t, close_cb);
  uv_run(loop, UV_RUN_NOWAIT);
}

static void path(uv_loop_t *loop, unsigned n, int depth);

static __attribute__((noinline)) void path_zero(uv_loop_t *loop, unsigned n,
                                                int depth) {
  path(loop, n >> 1, depth - 1);
}

static __attribute__((noinline)) void path_one(uv_loop_t *loop, unsigned n,
                                               int depth) {
  path(loop, n >> 1, depth - 1);
}

static void path(uv_loop_t *loop, unsigned n, int depth) {
  if (depth == 0)
    make_and_close(loop);
  else if (n & 1)
    path_one(loop, n, depth);
  else
    path_zero(loop, n, depth);
}

/* The registry, the stack depot. */
static void use_handles(uv_loop_t *loop, unsigned n) {
  path(loop, n, 10);
}

/* The stack caches: a thread that captures, then ends. */
static void *short_thread(void *arg) {
  uv_loop_t loop;

  (void)arg;
  uv_loop_init(&loop);
  make_and_close(&loop);
  uv_loop_close(&loop);
  return NULL;
}

static void use_thread(void) {
  pthread_t t;

  if (pthread_create(&t, NULL, short_thread, NULL) == 0)
    pthread_join(t, NULL);
}

/* The check API: link order, ignored creators, a report symbolized. */
static void use_check(uv_loop_t *loop) {
  asyncleak_snapshot *s = asyncleak_snapshot_take();
  uv_timer_t *t = malloc(sizeof(*t));

  asyncleak_ignore_creator("no_such_function");
  uv_timer_init(loop, t);
  asyncleak_check_since(s, devnull);
  uv_close((uv_handle_t *)t, close_cb);
  uv_run(loop, UV_RUN_NOWAIT);
  asyncleak_snapshot_free(s);
}

/* Isolation: a check that fails sets its records aside. */
static void use_isolate(uv_loop_t *loop) {
  asyncleak_snapshot *s = asyncleak_snapshot_take();
  uv_timer_t *t = malloc(sizeof(*t));

  uv_timer_init(loop, t);
  uv_timer_start(t, never, 100000, 0);
  asyncleak_check_and_isolate(s, devnull);
  uv_close((uv_handle_t *)t, close_cb);
  uv_run(loop, UV_RUN_NOWAIT);
  asyncleak_snapshot_free(s);
}

static void finally(void *loop, void *arg) {
  (void)loop;
  ++*(int *)arg;
}

/* The shutdown log: a loop closed with a finalizer. */
static void use_shutdown(void) {
  uv_loop_t loop;
  int ran = 0;

  uv_loop_init(&loop);
  asyncleak_run_finally(&loop, finally, &ran);
  uv_loop_close(&loop);
  if (ran != 1)
    abort();
}

/* The symbol files: chroot() prepares them, then fails here. */
static void use_chroot(void) {
  if (chroot("/nonexistent/asyncleak-fork-locks") == 0)
    abort();
}

#define WORKERS 6
/* Closed by the main thread once every worker has ended: a loop's close
 * is not to overlap another thread's open under ThreadSanitizer. */
static uv_loop_t loops[WORKERS];

static void *worker(void *arg) {
  int kind = (int)(intptr_t)arg;
  uv_loop_t *loop = &loops[kind];
  unsigned n = 0;

  if (!CHURN && (kind == 1 || kind == 4))
    return NULL;
  while (!atomic_load(&stop)) {
    switch (kind) {
    case 0:
      use_handles(loop, n);
      break;
    case 1:
      use_thread();
      break;
    case 2:
      use_check(loop);
      break;
    case 3:
      use_isolate(loop);
      break;
    case 4:
      use_shutdown();
      break;
    case 5:
      use_chroot();
      break;
    }
    n++;
  }
  return NULL;
}

static __attribute__((noinline)) void leak_in_child(uv_loop_t *loop,
                                                    uv_timer_t *t) {
  uv_timer_init(loop, t); /* @leak */
}

/* Every path once, then a check of what the child made: exit status 0
 * when it finds what it should. */
static void child(int leak) {
  static uv_timer_t leaked;
  static uv_loop_t loop;
  size_t found;

  uv_loop_init(&loop);
  use_handles(&loop, 0);
#ifndef __SANITIZE_THREAD__ /* no thread after a fork under ThreadSanitizer */
  use_thread();
#endif
  use_check(&loop);
  use_isolate(&loop);
  use_shutdown();
  use_chroot();
  if (leak)
    leak_in_child(&loop, &leaked);
  found = asyncleak_check(devnull);
  if (!leak)
    uv_loop_close(&loop);
  exit(found == (size_t)leak ? 0 : 3);
}

/* Waits for the child, up to CHILD_LIMIT_S: 0 when it exited with 0, 1
 * when it did otherwise, 2 when it hung (it is killed). */
static int reap(pid_t pid) {
  const struct timespec step = {0, 10000000};
  int status;

  for (int i = 0; i < CHILD_LIMIT_S * 100; i++) {
    pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid)
      return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
    if (r < 0 && errno != EINTR)
      return 1;
    nanosleep(&step, NULL);
  }
  kill(pid, SIGKILL);
  waitpid(pid, &status, 0);
  return 2;
}

int main(int argc, char **argv) {
  int leak = argc > 1 && strcmp(argv[1], "leak") == 0;
  pthread_t threads[WORKERS];
  int failed = 0, hung = 0;

  devnull = fopen("/dev/null", "w");
  if (devnull == NULL)
    return 1;
  for (int i = 0; i < WORKERS; i++)
    uv_loop_init(&loops[i]);
  for (int i = 0; i < WORKERS; i++)
    pthread_create(&threads[i], NULL, worker, (void *)(intptr_t)i);
  for (int i = 0; i < FORKS; i++) {
    pid_t pid;
    fflush(stdout);
    pid = fork();
    if (pid == 0)
      child(leak && i == FORKS - 1);
    if (pid < 0) {
      failed++;
      continue;
    }
    switch (reap(pid)) {
    case 1:
      failed++;
      break;
    case 2:
      hung++;
      break;
    }
  }
  atomic_store(&stop, 1);
  for (int i = 0; i < WORKERS; i++)
    pthread_join(threads[i], NULL);
  for (int i = 0; i < WORKERS; i++) {
    uv_run(&loops[i], UV_RUN_DEFAULT);
    if (uv_loop_close(&loops[i]) != 0)
      abort();
  }
  printf("forks: %d\nchildren not clean: %d, hung: %d\n", FORKS, failed,
         hung);
  fclose(devnull);
  return 0;
}
