/* many-loops: a process with thousands of loops, run in turn. Each loop has
 * an idle handle that counts its calls; the driver runs every loop once
 * without waiting, round after round, and between rounds closes a few
 * loops and makes them again at the same address. Prints the time per
 * switch (one uv_run of a loop other than the last one run) and per loop
 * closed and made again.
 *
 *   many-loops [LOOPS [ROUNDS]]
 *
 * Each loop holds three descriptors (libuv's epoll set and signal pipe):
 * the soft limit is raised to the hard one first. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>
#include <uv.h>

/* Loops closed and made again after each round. */
#define REMAKE 25

struct one {
  uv_loop_t loop;
  uv_idle_t idle;
  unsigned long calls;
};

static void on_idle(uv_idle_t *idle) {
  struct one *o = idle->data;
  o->calls++;
}

static int make(struct one *o) {
  if (uv_loop_init(&o->loop) != 0 || uv_idle_init(&o->loop, &o->idle) != 0)
    return -1;
  o->idle.data = o;
  return uv_idle_start(&o->idle, on_idle);
}

static int unmake(struct one *o) {
  uv_close((uv_handle_t *)&o->idle, NULL);
  uv_run(&o->loop, UV_RUN_NOWAIT);
  return uv_loop_close(&o->loop);
}

static double now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e9 + t.tv_nsec;
}

int main(int argc, char **argv) {
  long nloops = argc > 1 ? atol(argv[1]) : 4900;
  long rounds = argc > 2 ? atol(argv[2]) : 200;
  struct rlimit rl;
  struct one *all;
  double switching = 0, remaking = 0, t0;
  unsigned long calls = 0;
  long next = 0;

  if (nloops < REMAKE || rounds <= 0)
    return 2;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
  all = calloc((size_t)nloops, sizeof(*all));
  if (all == NULL)
    return 1;
  for (long i = 0; i < nloops; i++)
    if (make(&all[i]) != 0) {
      fprintf(stderr, "many-loops: loop %ld: cannot make it\n", i);
      return 1;
    }

  for (long r = 0; r < rounds; r++) {
    t0 = now_ns();
    for (long i = 0; i < nloops; i++)
      uv_run(&all[i].loop, UV_RUN_NOWAIT);
    switching += now_ns() - t0;

    t0 = now_ns();
    for (int k = 0; k < REMAKE; k++, next = (next + 97) % nloops) {
      calls += all[next].calls;
      all[next].calls = 0;
      if (unmake(&all[next]) != 0 || make(&all[next]) != 0) {
        fprintf(stderr, "many-loops: loop %ld: cannot make it again\n", next);
        return 1;
      }
    }
    remaking += now_ns() - t0;
  }

  for (long i = 0; i < nloops; i++) {
    calls += all[i].calls;
    if (unmake(&all[i]) != 0)
      return 1;
  }
  /* Every run called its loop's idle handle once. */
  if (calls != (unsigned long)(nloops * rounds)) {
    fprintf(stderr, "many-loops: %lu idle calls, not %ld\n", calls,
            nloops * rounds);
    return 1;
  }
  printf("many-loops loops=%ld rounds=%ld ns_per_switch=%.1f "
         "ns_per_remake=%.1f\n",
         nloops, rounds, switching / ((double)nloops * rounds),
         remaking / ((double)REMAKE * rounds));
  free(all);
  return 0;
}
