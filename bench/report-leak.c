/* report-leak: a program that leaks 10,000 timers from 100 call sites, to
 * time the report. It prints the moment its main returns (t_end_ns, read
 * by timeit): what comes after, exit and the report, is what is timed. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <uv.h>

#define SITES 100
#define PER_SITE 100

static uv_timer_t timers[SITES * PER_SITE];
static int made;

/* Each expansion is its own function, so its own creation site. */
#define SITE(i)                                                               \
  static void leak_##i(uv_loop_t *loop) {                                     \
    for (int k = 0; k < PER_SITE; k++)                                        \
      uv_timer_init(loop, &timers[made++]);                                   \
  }
#define TEN(d)                                                                \
  SITE(d##0) SITE(d##1) SITE(d##2) SITE(d##3) SITE(d##4) SITE(d##5)           \
  SITE(d##6) SITE(d##7) SITE(d##8) SITE(d##9)
TEN(1) TEN(2) TEN(3) TEN(4) TEN(5) TEN(6) TEN(7) TEN(8) TEN(9) TEN(10)
#undef TEN
#undef SITE

#define CALL(i) leak_##i(loop);
#define TEN(d)                                                                \
  CALL(d##0) CALL(d##1) CALL(d##2) CALL(d##3) CALL(d##4) CALL(d##5)           \
  CALL(d##6) CALL(d##7) CALL(d##8) CALL(d##9)

int main(void) {
  uv_loop_t *loop = uv_default_loop();
  struct timespec ts;

  TEN(1) TEN(2) TEN(3) TEN(4) TEN(5) TEN(6) TEN(7) TEN(8) TEN(9) TEN(10)
  if (made != SITES * PER_SITE)
    return 1;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  printf("t_end_ns=%" PRIu64 "\n",
         (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec);
  fflush(stdout);
  return 0;
}
