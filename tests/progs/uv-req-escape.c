/* A path the program hands libuv is the program's text: a pending open of
 * a path holding newlines, a forged SUMMARY line and an escape sequence
 * that clears the screen is reported with the path escaped, on its own
 * line (tests/cli/escape.sh checks the bytes).
 *
 * [default]: the program exits without running its loop.
 * CHECK: ==[0-9]+==ERROR: asyncleak: 1 request pending at exit$
 * CHECK: ^1 request of type uv_fs_t pending, created at:$
 * CHECK: pending for [0-9.]+ m?s: uv_fs_open '/nonexistent/x\\n==1== SUMMARY: asyncleak: 0 handles left open\\n\\x1b\[2J'$
 * CHECK: ^SUMMARY: asyncleak: 0 handles left open; 1 request pending
 * CHECK-NOT: ^==1== SUMMARY
 * EXIT: 23
 *
 * [clean]: the loop runs, the open fails and its callback runs.
 * [clean] RUN: clean
 * [clean] CHECK: ^open: -2$
 * [clean] CHECK-NOT: ERROR
 * [clean] CHECK-NOT: SUMMARY
 * [clean] EXIT: 0
 */
#include <stdio.h>
#include <string.h>
#include <uv.h>

static const char path[] = "/nonexistent/x\n==1== SUMMARY: asyncleak: 0 "
                           "handles left open\n\x1b[2J";

static void opened(uv_fs_t *req) {
  printf("open: %d\n", (int)req->result);
  uv_fs_req_cleanup(req);
}

int main(int argc, char **argv) {
  static uv_fs_t req;
  uv_loop_t *loop = uv_default_loop();

  uv_fs_open(loop, &req, path, UV_FS_O_RDONLY, 0, opened);
  if (argc > 1 && !strcmp(argv[1], "clean")) {
    uv_run(loop, UV_RUN_DEFAULT);
    uv_loop_close(loop);
  }
  return 0;
}
