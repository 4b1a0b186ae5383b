/* While a thread-pool request is pending, its callback field holds the
 * program's own callback, as it would without asyncleak: an fs stat, a
 * getaddrinfo, a getnameinfo, a work item and a random request are
 * started, and each field is compared with the program's callback before
 * the loop runs, in the callback, and after the loop ran. A second work
 * item is cancelled while queued behind the first.
 *
 * [default]: the loop runs; every request completes, the cancelled one
 * with UV_ECANCELED, and nothing is reported.
 * CHECK-COUNT-6: ^before: [a-z]+ own callback$
 * CHECK-COUNT-1: ^cancel: 0$
 * CHECK-COUNT-1: ^in callback: stat 0 own callback$
 * CHECK-COUNT-1: ^in callback: getaddrinfo 0 own callback$
 * CHECK-COUNT-1: ^in callback: getnameinfo 0 own callback$
 * CHECK-COUNT-1: ^in callback: random 0 own callback$
 * CHECK-COUNT-1: ^in callback: work 0 own callback$
 * CHECK-COUNT-1: ^in callback: cancelled -125 own callback$
 * CHECK-COUNT-6: ^after: [a-z]+ own callback$
 * CHECK: ^close: 0$
 * CHECK: ^asyncleak: no leaks: 1 loop\(s\), 0 handle\(s\) created, all closed; 6 request\(s\), all completed$
 * CHECK-NOT: not its callback
 * CHECK-NOT: ERROR
 * EXIT: 0
 *
 * [pending]: the program exits without running its loop: the fields
 * still hold the program's callbacks, and all six requests are reported.
 * [pending] RUN: pending
 * [pending] CHECK-COUNT-6: ^before: [a-z]+ own callback$
 * [pending] CHECK: ==[0-9]+==ERROR: asyncleak: 6 requests pending at exit$
 * [pending] CHECK: ^1 request of type uv_fs_t pending, created at:$
 * [pending] CHECK: ^    #0 0x[0-9a-f]+ in start .*uv-req-cb-field.c:%line(stat)$
 * [pending] CHECK: pending for [0-9.]+ m?s: uv_fs_stat '.'$
 * [pending] CHECK-COUNT-1: ^1 request of type uv_getaddrinfo_t pending, created at:$
 * [pending] CHECK-COUNT-1: ^1 request of type uv_getnameinfo_t pending, created at:$
 * [pending] CHECK-COUNT-1: ^1 request of type uv_random_t pending, created at:$
 * [pending] CHECK-COUNT-2: ^1 request of type uv_work_t pending, created at:$
 * [pending] CHECK: ^SUMMARY: asyncleak: 0 handles left open; 6 requests pending .* from 6 creation sites
 * [pending] CHECK-NOT: not its callback
 * [pending] CHECK-NOT: in callback
 * [pending] EXIT: 23
 */
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

static uv_loop_t loop;
static uv_fs_t st;
static uv_getaddrinfo_t gai;
static uv_getnameinfo_t gni;
static uv_random_t rnd;
static uv_work_t first, second;
static uv_sem_t go;
static char bytes[16];

static void on_stat(uv_fs_t *req);
static void on_gai(uv_getaddrinfo_t *req, int status, struct addrinfo *res);
static void on_gni(uv_getnameinfo_t *req, int status, const char *host,
                   const char *service);
static void on_random(uv_random_t *req, int status, void *buf, size_t len);
static void on_work(uv_work_t *req, int status);

static const char *own(int same) {
  return same ? "own callback" : "not its callback";
}

/* Each request's callback field against the program's callback. */
static void fields(const char *when) {
  printf("%s: stat %s\n", when, own(st.cb == on_stat));
  printf("%s: getaddrinfo %s\n", when, own(gai.cb == on_gai));
  printf("%s: getnameinfo %s\n", when, own(gni.getnameinfo_cb == on_gni));
  printf("%s: random %s\n", when, own(rnd.cb == on_random));
  printf("%s: work %s\n", when, own(first.after_work_cb == on_work));
  printf("%s: cancelled %s\n", when, own(second.after_work_cb == on_work));
  fflush(stdout);
}

static void said(const char *what, int status, int same) {
  printf("in callback: %s %d %s\n", what, status, own(same));
  fflush(stdout);
}

static void on_stat(uv_fs_t *req) {
  said("stat", (int)req->result, req->cb == on_stat);
  uv_fs_req_cleanup(req);
}

static void on_gai(uv_getaddrinfo_t *req, int status, struct addrinfo *res) {
  said("getaddrinfo", status, req->cb == on_gai);
  uv_freeaddrinfo(res);
}

static void on_gni(uv_getnameinfo_t *req, int status, const char *host,
                   const char *service) {
  said("getnameinfo", status, req->getnameinfo_cb == on_gni);
}

static void on_random(uv_random_t *req, int status, void *buf, size_t len) {
  said("random", status, req->cb == on_random);
}

static void on_work(uv_work_t *req, int status) {
  said(req == &first ? "work" : "cancelled", status,
       req->after_work_cb == on_work);
}

/* The first item holds the only worker thread until the second is
 * cancelled: the second is still queued when uv_cancel comes. */
static void work(uv_work_t *req) {
  if (req == &first)
    uv_sem_wait(&go);
}

static void start(void) {
  struct sockaddr_in addr;

  uv_ip4_addr("127.0.0.1", 80, &addr);
  uv_fs_stat(&loop, &st, ".", on_stat); /* @stat */
  uv_getaddrinfo(&loop, &gai, on_gai, "localhost", NULL, NULL);
  uv_getnameinfo(&loop, &gni, on_gni, (const struct sockaddr *)&addr,
                 NI_NUMERICHOST | NI_NUMERICSERV);
  uv_random(&loop, &rnd, bytes, sizeof(bytes), 0, on_random);
  uv_queue_work(&loop, &first, work, on_work);
  uv_queue_work(&loop, &second, work, on_work);
}

int main(int argc, char **argv) {
  int pending = argc > 1 && !strcmp(argv[1], "pending");

  setenv("UV_THREADPOOL_SIZE", "1", 1);
  uv_sem_init(&go, 0);
  uv_loop_init(&loop);
  start();
  fields("before");
  if (pending) {
    uv_sem_post(&go); /* the worker is not left waiting at exit */
    return 0;
  }
  printf("cancel: %d\n", uv_cancel((uv_req_t *)&second));
  uv_sem_post(&go);
  uv_run(&loop, UV_RUN_DEFAULT);
  fields("after");
  printf("close: %d\n", uv_loop_close(&loop));
  return 0;
}
