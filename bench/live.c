/* live: what each tracked resource costs in memory. Opens N timers, all
 * live at once from one call site, and prints how much the resident set
 * grew meanwhile; run bare and under asyncleak, the difference divided by
 * N is asyncleak's cost per live resource. Then closes them all. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <uv.h>

static long resident_kb(void) {
  long pages = 0, resident = 0;
  FILE *f = fopen("/proc/self/statm", "r");

  if (f == NULL)
    return -1;
  if (fscanf(f, "%ld %ld", &pages, &resident) != 2)
    resident = -1;
  fclose(f);
  return resident < 0 ? -1 : resident * (sysconf(_SC_PAGESIZE) / 1024);
}

int main(int argc, char **argv) {
  long n = argc > 1 ? atol(argv[1]) : 1000000;
  uv_timer_t *timers;
  uv_loop_t loop;
  long before, after;

  if (n <= 0 || uv_loop_init(&loop) != 0)
    return 1;
  /* Allocated and touched before the first reading: the program's own
   * memory is the same bare and under asyncleak. */
  timers = calloc((size_t)n, sizeof(*timers));
  if (timers == NULL)
    return 1;
  for (long i = 0; i < n; i++)
    timers[i].data = NULL;
  before = resident_kb();
  for (long i = 0; i < n; i++)
    uv_timer_init(&loop, &timers[i]);
  after = resident_kb();
  printf("live=%ld rss_growth_kb=%ld\n", n, after - before);
  for (long i = 0; i < n; i++)
    uv_close((uv_handle_t *)&timers[i], NULL);
  uv_run(&loop, UV_RUN_DEFAULT);
  free(timers);
  return uv_loop_close(&loop) == 0 ? 0 : 1;
}
