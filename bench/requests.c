/* requests: a steady stream of libuv requests. Stats one existing file
 * again and again, IN_FLIGHT requests outstanding at all times: each
 * completion starts the next stat, until N have completed. Prints the
 * time per request.
 *
 *   requests [N [FILE]]   (FILE: this program, by default) */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <uv.h>

#define IN_FLIGHT 64

static const char *path;
static long started, done, wanted, failed;

static void on_stat(uv_fs_t *req) {
  if (req->result < 0)
    failed++;
  uv_fs_req_cleanup(req);
  done++;
  if (started < wanted) {
    started++;
    if (uv_fs_stat(req->loop, req, path, on_stat) != 0)
      failed++;
  }
}

int main(int argc, char **argv) {
  static uv_fs_t reqs[IN_FLIGHT];
  struct timespec t0, t1;
  uv_loop_t *loop = uv_default_loop();

  wanted = argc > 1 ? atol(argv[1]) : 100000;
  path = argc > 2 ? argv[2] : argv[0];
  if (wanted <= 0)
    return 1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  for (int i = 0; i < IN_FLIGHT && started < wanted; i++) {
    started++;
    if (uv_fs_stat(loop, &reqs[i], path, on_stat) != 0)
      return 1;
  }
  uv_run(loop, UV_RUN_DEFAULT);
  clock_gettime(CLOCK_MONOTONIC, &t1);
  if (failed != 0 || done != wanted) {
    fprintf(stderr, "requests: %ld of %ld failed, %ld done\n", failed, wanted,
            done);
    return 1;
  }
  double ns = (t1.tv_sec - t0.tv_sec) * 1e9 + (t1.tv_nsec - t0.tv_nsec);
  printf("requests n=%ld ns_per_request=%.1f\n", wanted, ns / wanted);
  return uv_loop_close(loop) != 0;
}
