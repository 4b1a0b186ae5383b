/* Virtual time on a libuv loop. A chain of timers (30, 60 and 90 units,
 * one started from the callback of the one before) and a timer of 360
 * units started at once. Under virtual time a unit is 10 s, so that the
 * program's timers add up to an hour; each callback prints when it fired,
 * in units, by uv_now and by uv_hrtime read in the callback. The run
 * itself takes well under a second of real time (CLOCK_REALTIME, which
 * virtual time leaves alone).
 *
 * Default: asyncleak_virtual_time(loop, 1). [cli]: --virtual-time, and no
 * call. [off]: the negative control in real time, a unit being 1 ms: the
 * same order, times as late as the machine makes them, and the run takes
 * at least 300 ms (360, less what a coarse clock's tick may take). [echo]: a TCP
 * echo on 127.0.0.1 on the same loop, with a guard timer of an hour: the
 * echo comes back at once, the guard fires at 3600 s. [pool]: a job on the
 * thread pool (300 ms) and a timer of an hour: the job is waited for in
 * real time, then the hour passes at once. [thread]: another thread runs
 * its own loop, not virtual, with a 200 ms timer: it keeps real time.
 *
 * ENV: ASYNCLEAK_OPTIONS=verbosity=1
 * CHECK: ^virtual: 0$
 * CHECK: ^timer a at 30 units \(hrtime 30\)$
 * CHECK: ^timer b at 90 units \(hrtime 90\)$
 * CHECK: ^timer c at 180 units \(hrtime 180\)$
 * CHECK: ^timer hour at 360 units \(hrtime 360\)$
 * CHECK: ^real time: under 5 s$
 * CHECK: ^Virtual time: 1 loop; 4 waits for a timer skipped, the clocks advanced by (35[0-9][0-9]|36[0-9][0-9])\.[0-9]+ s in all$
 * CHECK-NOT: ERROR
 * EXIT: 0
 *
 * [cli] RUN: cli
 * [cli] CLI: --virtual-time
 * [cli] ENV: ASYNCLEAK_OPTIONS=verbosity=1
 * [cli] CHECK-NOT: ^virtual:
 * [cli] CHECK: ^timer a at 30 units \(hrtime 30\)$
 * [cli] CHECK: ^timer b at 90 units \(hrtime 90\)$
 * [cli] CHECK: ^timer c at 180 units \(hrtime 180\)$
 * [cli] CHECK: ^timer hour at 360 units \(hrtime 360\)$
 * [cli] CHECK: ^real time: under 5 s$
 * [cli] CHECK: ^Virtual time: 1 loop; 4 waits for a timer skipped
 * [cli] CHECK-NOT: ERROR
 * [cli] EXIT: 0
 *
 * [off] RUN: off
 * [off] ENV: ASYNCLEAK_OPTIONS=verbosity=1
 * [off] CHECK: ^timer a at [0-9]+ units
 * [off] CHECK: ^timer b at [0-9]+ units
 * [off] CHECK: ^timer c at [0-9]+ units
 * [off] CHECK: ^timer hour at [0-9]+ units
 * [off] CHECK: ^real time: at least 300 ms$
 * [off] CHECK-NOT: Virtual time
 * [off] CHECK-NOT: ERROR
 * [off] EXIT: 0
 *
 * [echo] RUN: echo
 * [echo] CHECK: ^virtual: 0$
 * [echo] CHECK: ^echo: hello at 0 s$
 * [echo] CHECK: ^guard at 3600 s$
 * [echo] CHECK: ^real time: under 5 s$
 * [echo] CHECK-NOT: ERROR
 * [echo] EXIT: 0
 *
 * [pool] RUN: pool
 * [pool] CHECK: ^virtual: 0$
 * [pool] CHECK: ^job done, waited for in real time: yes$
 * [pool] CHECK: ^timer at 3600 s$
 * [pool] CHECK: ^real time: under 5 s$
 * [pool] CHECK-NOT: ERROR
 * [pool] EXIT: 0
 *
 * [thread] RUN: thread
 * [thread] CHECK: ^virtual: 0$
 * [thread] CHECK: ^timer hour at 360 units \(hrtime 360\)$
 * [thread] CHECK: ^other loop: its 200 ms timer took 200 ms of real time: yes$
 * [thread] CHECK-NOT: ERROR
 * [thread] EXIT: 0
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#include "asyncleak.h"

static uv_loop_t loop;
static uint64_t unit_ms = 10000, start_ms, start_hr;
static uv_timer_t chain, hour;
static int step;

static double real_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void fired(const char *name) {
  uint64_t ms = uv_now(&loop) - start_ms;
  uint64_t hr_ms = (uv_hrtime() - start_hr) / 1000000;
  /* Rounded: uv_now reads the coarse clock, a few ms behind uv_hrtime. */
  printf("timer %s at %llu units (hrtime %llu)\n", name,
         (unsigned long long)((ms + unit_ms / 2) / unit_ms),
         (unsigned long long)((hr_ms + unit_ms / 2) / unit_ms));
}

static void on_chain(uv_timer_t *t) {
  static const char *const names[] = {"a", "b", "c"};
  fired(names[step]);
  if (++step < 3)
    uv_timer_start(t, on_chain, (uint64_t)(30 * (step + 1)) * unit_ms, 0);
  else
    uv_close((uv_handle_t *)t, NULL);
}

static void on_hour(uv_timer_t *t) {
  fired("hour");
  uv_close((uv_handle_t *)t, NULL);
}

/* ------------------------------------------------------------- [echo] */

static uv_tcp_t server, accepted, client;
static uv_connect_t connecting;
static uv_write_t hello_req, echo_req;
static char buf_in[64], buf_back[64];

static void on_alloc_in(uv_handle_t *h, size_t n, uv_buf_t *b) {
  (void)h;
  (void)n;
  *b = uv_buf_init(buf_in, sizeof(buf_in));
}

static void on_alloc_back(uv_handle_t *h, size_t n, uv_buf_t *b) {
  (void)h;
  (void)n;
  *b = uv_buf_init(buf_back, sizeof(buf_back) - 1);
}

static void on_echoed(uv_stream_t *s, ssize_t n, const uv_buf_t *b) {
  (void)b;
  if (n <= 0)
    return;
  buf_back[n] = '\0';
  printf("echo: %s at %llu s\n", buf_back,
         (unsigned long long)((uv_now(&loop) - start_ms) / 1000));
  uv_close((uv_handle_t *)s, NULL);
  uv_close((uv_handle_t *)&accepted, NULL);
  uv_close((uv_handle_t *)&server, NULL);
}

static void on_server_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b) {
  uv_buf_t back;
  if (n <= 0)
    return;
  back = uv_buf_init(b->base, (unsigned)n);
  uv_write(&echo_req, s, &back, 1, NULL);
}

static void on_connection(uv_stream_t *s, int status) {
  if (status != 0)
    return;
  uv_tcp_init(&loop, &accepted);
  if (uv_accept(s, (uv_stream_t *)&accepted) == 0)
    uv_read_start((uv_stream_t *)&accepted, on_alloc_in, on_server_read);
}

static void on_connected(uv_connect_t *c, int status) {
  uv_buf_t hello = uv_buf_init("hello", 5);
  if (status != 0)
    return;
  uv_write(&hello_req, c->handle, &hello, 1, NULL);
  uv_read_start(c->handle, on_alloc_back, on_echoed);
}

static void on_guard(uv_timer_t *t) {
  printf("guard at %llu s\n",
         (unsigned long long)((uv_now(&loop) - start_ms) / 1000));
  uv_close((uv_handle_t *)t, NULL);
}

static void echo(void) {
  struct sockaddr_in addr;
  struct sockaddr_storage bound;
  int len = sizeof(bound);

  uv_ip4_addr("127.0.0.1", 0, &addr);
  uv_tcp_init(&loop, &server);
  uv_tcp_bind(&server, (const struct sockaddr *)&addr, 0);
  uv_listen((uv_stream_t *)&server, 4, on_connection);
  uv_tcp_getsockname(&server, (struct sockaddr *)&bound, &len);
  uv_tcp_init(&loop, &client);
  uv_tcp_connect(&connecting, &client, (const struct sockaddr *)&bound,
                 on_connected);
  uv_timer_init(&loop, &hour);
  uv_timer_start(&hour, on_guard, 3600 * 1000, 0);
}

/* ------------------------------------------------------------- [pool] */

static uv_work_t job;
static double job_start;

static void job_run(uv_work_t *w) {
  (void)w;
  usleep(300 * 1000);
}

static void job_done(uv_work_t *w, int status) {
  (void)w;
  (void)status;
  printf("job done, waited for in real time: %s\n",
         real_now() - job_start >= 0.29 ? "yes" : "no");
}

static void on_pool_hour(uv_timer_t *t) {
  printf("timer at %llu s\n",
         (unsigned long long)((uv_now(&loop) - start_ms) / 1000));
  uv_close((uv_handle_t *)t, NULL);
}

/* ----------------------------------------------------------- [thread] */

static void on_other(uv_timer_t *t) {
  uv_close((uv_handle_t *)t, NULL);
}

static void *other_thread(void *arg) {
  uv_loop_t other;
  uv_timer_t t;
  struct timespec m0, m1;
  double r0 = real_now(), real_ms, mono_ms;

  (void)arg;
  clock_gettime(CLOCK_MONOTONIC, &m0);
  uv_loop_init(&other);
  uv_timer_init(&other, &t);
  uv_timer_start(&t, on_other, 200, 0);
  uv_run(&other, UV_RUN_DEFAULT);
  uv_loop_close(&other);
  clock_gettime(CLOCK_MONOTONIC, &m1);
  real_ms = (real_now() - r0) * 1000;
  mono_ms = (m1.tv_sec - m0.tv_sec) * 1e3 + (m1.tv_nsec - m0.tv_nsec) / 1e6;
  printf("other loop: its 200 ms timer took 200 ms of real time: %s\n",
         real_ms >= 195 && mono_ms >= 195 && mono_ms < real_ms + 50 ? "yes"
                                                                    : "no");
  return NULL;
}

int main(int argc, char **argv) {
  const char *mode = argc > 1 ? argv[1] : "";
  double r0 = real_now(), took;
  pthread_t th;

  setvbuf(stdout, NULL, _IOLBF, 0);
  if (strcmp(mode, "off") == 0)
    unit_ms = 1;
  uv_loop_init(&loop);
  if (strcmp(mode, "off") != 0 && strcmp(mode, "cli") != 0)
    printf("virtual: %d\n", asyncleak_virtual_time(&loop, 1));
  uv_update_time(&loop);
  start_ms = uv_now(&loop);
  start_hr = uv_hrtime();

  if (strcmp(mode, "echo") == 0) {
    echo();
  } else if (strcmp(mode, "pool") == 0) {
    job_start = real_now();
    uv_queue_work(&loop, &job, job_run, job_done);
    uv_timer_init(&loop, &hour);
    uv_timer_start(&hour, on_pool_hour, 3600 * 1000, 0);
  } else {
    if (strcmp(mode, "thread") == 0 &&
        pthread_create(&th, NULL, other_thread, NULL) != 0)
      return 2;
    uv_timer_init(&loop, &chain);
    uv_timer_start(&chain, on_chain, 30 * unit_ms, 0);
    uv_timer_init(&loop, &hour);
    uv_timer_start(&hour, on_hour, 360 * unit_ms, 0);
  }
  uv_run(&loop, UV_RUN_DEFAULT);
  if (strcmp(mode, "thread") == 0)
    pthread_join(th, NULL);
  took = real_now() - r0;
  if (strcmp(mode, "off") == 0)
    printf("real time: %s\n", took >= 0.3 ? "at least 300 ms" : "too short");
  else
    printf("real time: %s\n", took < 5 ? "under 5 s" : "5 s or more");
  return uv_loop_close(&loop) == 0 ? 0 : 1;
}
