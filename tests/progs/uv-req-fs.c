/* fs requests. A call with a callback is pending until its callback runs;
 * one without is synchronous and never pending; libuv's own stat requests
 * (uv_fs_poll) are never the program's.
 *
 * [default]: the program starts two stats and an open and exits without
 * running its loop: all are reported, with the call and the path.
 * CHECK: ==[0-9]+==ERROR: asyncleak: 3 requests pending at exit$
 * CHECK: ^2 requests of type uv_fs_t pending, created at:$
 * CHECK: ^    #0 0x[0-9a-f]+ in start .*uv-req-fs.c:%line(stat)$
 * CHECK: ^    #1 0x[0-9a-f]+ in main .*uv-req-fs.c:%line(call)$
 * CHECK: ^  0x[0-9a-f]+ on loop 1, thread [0-9]+ \(main\), pending for [0-9.]+ m?s: uv_fs_stat '/nonexistent/asyncleak-stat0'$
 * CHECK: ^  0x[0-9a-f]+ on loop 1, thread [0-9]+ \(main\), pending for [0-9.]+ m?s: uv_fs_stat '/nonexistent/asyncleak-stat1'$
 * CHECK: ^1 request of type uv_fs_t pending, created at:$
 * CHECK: ^    #0 0x[0-9a-f]+ in start .*uv-req-fs.c:%line(open)$
 * CHECK: ^  0x[0-9a-f]+ on loop 1, thread [0-9]+ \(main\), pending for [0-9.]+ m?s: uv_fs_open '/nonexistent/asyncleak-open'$
 * CHECK: ^SUMMARY: asyncleak: 0 handles left open; 3 requests pending \(3 uv_fs_t\) from 2 creation sites; 1 of 1 loop not closed$
 * CHECK: ^asyncleak: 3 request\(s\) pending in 1 process\(es\)$
 * CHECK-NOT: asyncleak-sync
 * CHECK-NOT: done:
 * EXIT: 23
 *
 * [clean]: the same, and the program runs its loop: each callback sees
 * its own request, the path and the error; nothing is reported. The
 * request made again from its own callback is followed again.
 * [clean] RUN: clean
 * [clean] CHECK-COUNT-1: ^done: open '/nonexistent/asyncleak-open' -2, callback is the program's$
 * [clean] CHECK-COUNT-1: ^done: stat '/nonexistent/asyncleak-stat0' -2, callback is the program's$
 * [clean] CHECK-COUNT-1: ^done: stat '/nonexistent/asyncleak-stat1' -2, callback is the program's$
 * [clean] CHECK-COUNT-1: ^done: stat '/nonexistent/asyncleak-again' -2, callback is the program's$
 * [clean] CHECK: ^close: 0$
 * [clean] CHECK: ^asyncleak: no leaks: 1 loop\(s\), 0 handle\(s\) created, all closed; 4 request\(s\), all completed$
 * [clean] CHECK-NOT: ERROR
 * [clean] EXIT: 0
 *
 * [poll]: an fs_poll handle stats its path for 50 ms through requests of
 * libuv's own, then is closed: none of them is counted.
 * [poll] RUN: poll
 * [poll] CHECK: ^close: 0$
 * [poll] CHECK: ^asyncleak: no leaks: 1 loop\(s\), 2 handle\(s\) created, all closed$
 * [poll] CHECK-NOT: request
 * [poll] EXIT: 0
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <uv.h>

static uv_loop_t loop;
static uv_fs_t open_req, stat_req[2];
static int again;

static void done(uv_fs_t *req) {
  printf("done: %s '%s' %ld, callback is %s\n",
         req->fs_type == UV_FS_OPEN ? "open" : "stat", req->path,
         (long)req->result, req->cb == done ? "the program's" : "not its");
  fflush(stdout);
  if (req == &stat_req[1] && !again) {
    again = 1;
    uv_fs_req_cleanup(req);
    uv_fs_stat(req->loop, req, "/nonexistent/asyncleak-again", done);
    return;
  }
  uv_fs_req_cleanup(req);
}

static void start(uv_loop_t *l) {
  uv_fs_t sync;

  char path[64];

  for (int i = 0; i < 2; i++) {
    snprintf(path, sizeof(path), "/nonexistent/asyncleak-stat%d", i);
    uv_fs_stat(l, &stat_req[i], path, done); /* @stat */
  }
  /* @open */ uv_fs_open(l, &open_req, "/nonexistent/asyncleak-open",
                        O_RDONLY, 0, done);
  /* Synchronous: never pending. */
  uv_fs_stat(l, &sync, "/nonexistent/asyncleak-sync", NULL);
  uv_fs_req_cleanup(&sync);
}

static uv_fs_poll_t poll;
static uv_timer_t timer;

static void on_change(uv_fs_poll_t *h, int status, const uv_stat_t *prev,
                      const uv_stat_t *curr) {
  (void)h, (void)status, (void)prev, (void)curr;
}

static void stop_polling(uv_timer_t *t) {
  uv_close((uv_handle_t *)&poll, NULL);
  uv_close((uv_handle_t *)t, NULL);
}

int main(int argc, char **argv) {
  const char *mode = argc > 1 ? argv[1] : "";

  uv_loop_init(&loop);
  if (!strcmp(mode, "poll")) {
    uv_fs_poll_init(&loop, &poll);
    uv_fs_poll_start(&poll, on_change, argv[0], 1);
    uv_timer_init(&loop, &timer);
    uv_timer_start(&timer, stop_polling, 50, 0);
    uv_run(&loop, UV_RUN_DEFAULT);
    printf("close: %d\n", uv_loop_close(&loop));
    return 0;
  }
  start(&loop); /* @call */
  if (!strcmp(mode, "clean")) {
    uv_run(&loop, UV_RUN_DEFAULT);
    printf("close: %d\n", uv_loop_close(&loop));
  }
  return 0;
}
