/* Teardown in dependency order (asyncleak_finally_after). Four services
 * register their finalizers in the order they started: hang_up (the
 * connection to the peer), stop_http, flush_db, close_pool. Each says
 * what it does to the peer, a socket the program reads at the end, as the
 * server they talk to would see it. stop_http's work is a job on the
 * thread pool (100 ms) whose callback writes "http stopped"; flush_db
 * writes and closes a timer; flush_db follows stop_http, close_pool
 * follows flush_db, hang_up follows close_pool.
 *
 * Default: the peer sees each finalizer start after the one it follows
 * finished, and the report (verbosity=1) lists the order and each one's
 * work; everything is closed: no report of a leak. [none]: the negative
 * control without orders: newest first, close_pool before the http
 * server stopped. [refused]: a cycle, a finalizer after itself, and one
 * not registered are refused, a refused order changes nothing, and a
 * cancelled finalizer's orders go with it.
 * [stuck]: stop_http's job takes 1 s, longer than drain_timeout_ms: the
 * finalizers after it run at the deadline, one after the other with no
 * turn of the loop between them, and the report says which prerequisite
 * held each.
 *
 * ENV: ASYNCLEAK_OPTIONS=verbosity=1
 * CHECK: ^order flush_db after stop_http: 0$
 * CHECK: ^loop closed: 0$
 * CHECK: ^peer: stop_http: stopping$
 * CHECK: ^peer: stop_http: http stopped$
 * CHECK: ^peer: flush_db: flushing$
 * CHECK: ^peer: close_pool: closing$
 * CHECK: ^peer: hang_up: bye$
 * CHECK: ^Shutdowns:$
 * CHECK: ^  loop 1, created in main .*uv-finally-after.c:%line(loop), by asyncleak_loop_close:$
 * CHECK: ^    finalizers run: stop_http, flush_db, close_pool, hang_up$
 * CHECK: ^    their work took: stop_http [1-9][0-9][0-9]+ ms, flush_db [0-9]+ ms, close_pool [0-9]+ ms, hang_up [0-9]+ ms$
 * CHECK-NOT: ran at the deadline
 * CHECK-NOT: ERROR
 * EXIT: 0
 *
 * [none] RUN: none
 * [none] ENV: ASYNCLEAK_OPTIONS=verbosity=1
 * [none] CHECK: ^loop closed: 0$
 * [none] CHECK: ^peer: close_pool: closing$
 * [none] CHECK: ^peer: flush_db: flushing$
 * [none] CHECK: ^peer: stop_http: stopping$
 * [none] CHECK: ^peer: hang_up: bye$
 * [none] CHECK-NOT: http stopped
 * [none] CHECK: ^    finalizers run: close_pool, flush_db, stop_http, hang_up$
 * [none] CHECK: ^    their work took: close_pool [0-9]+ ms, flush_db [0-9]+ ms, stop_http [1-9][0-9][0-9]+ ms, hang_up [0-9]+ ms$
 * [none] CHECK-NOT: ERROR
 * [none] EXIT: 0
 *
 * [refused] RUN: refused
 * [refused] ENV: ASYNCLEAK_OPTIONS=verbosity=1
 * [refused] CHECK: ^order stop_http after hang_up: -40$
 * [refused] CHECK: ^order stop_http after stop_http: -40$
 * [refused] CHECK: ^order stop_http after unregistered: -2$
 * [refused] CHECK: ^order unregistered after stop_http: -2$
 * [refused] CHECK: ^order null: -22$
 * [refused] CHECK: ^order again: 0$
 * [refused] CHECK: ^order close_pool after unregistered, again: 0$
 * [refused] CHECK: ^loop closed: 0$
 * [refused] CHECK: ^peer: stop_http: stopping$
 * [refused] CHECK: ^peer: stop_http: http stopped$
 * [refused] CHECK: ^peer: flush_db: flushing$
 * [refused] CHECK: ^peer: close_pool: closing$
 * [refused] CHECK: ^peer: hang_up: bye$
 * [refused] CHECK: ^    finalizers run: unregistered, stop_http, flush_db, close_pool, hang_up$
 * [refused] CHECK-NOT: ERROR
 * [refused] EXIT: 0
 *
 * [stuck] RUN: stuck
 * [stuck] ENV: ASYNCLEAK_OPTIONS=verbosity=1:drain_timeout_ms=300
 * [stuck] CHECK: ^loop closed: -16$
 * [stuck] CHECK: ^peer: stop_http: stopping$
 * [stuck] CHECK: ^peer: flush_db: flushing$
 * [stuck] CHECK: ^peer: close_pool: closing$
 * [stuck] CHECK: ^peer: hang_up: bye$
 * [stuck] CHECK: ERROR: asyncleak: 4 requests pending at exit
 * [stuck] CHECK: ^1 request of type uv_work_t pending, created at:$
 * [stuck] CHECK: #0 0x[0-9a-f]+ in stop_http .*uv-finally-after.c:%line(work)$
 * [stuck] CHECK: ^    finalizers run: stop_http, flush_db, close_pool, hang_up$
 * [stuck] CHECK: ^    their work took: stop_http \(not done\), flush_db \(not done\), close_pool \(not done\), hang_up \(not done\)$
 * [stuck] CHECK: ^    flush_db ran at the deadline: the work of stop_http, which it is to follow, was not done$
 * [stuck] CHECK: ^    close_pool ran at the deadline: the work of flush_db, which it is to follow, was not done$
 * [stuck] CHECK: ^    hang_up ran at the deadline: the work of close_pool, which it is to follow, was not done$
 * [stuck] CHECK-COUNT-3: ran at the deadline
 * [stuck] CHECK: ^    its finalizers' work was not done after 300 ms: stop_http, flush_db, close_pool, hang_up$
 * [stuck] EXIT: 23
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include "asyncleak.h"

/* Static: in [stuck], the pool's thread still uses the loop after main
 * returns. */
static uv_loop_t the_loop;
static uv_pipe_t conn;
static uv_timer_t db_timer;
static uv_work_t job;
static unsigned job_ms = 100;

/* Each message its own request, as a client library's would be. */
struct msg {
  uv_write_t req;
  char text[64];
};

static void written(uv_write_t *req, int status) {
  (void)status;
  free(req->data);
}

static void tell(const char *text) {
  struct msg *m = malloc(sizeof(*m));
  uv_buf_t buf;

  if (m == NULL)
    return;
  snprintf(m->text, sizeof(m->text), "%s\n", text);
  m->req.data = m;
  buf = uv_buf_init(m->text, (unsigned)strlen(m->text));
  if (uv_write(&m->req, (uv_stream_t *)&conn, &buf, 1, written) != 0)
    free(m);
}

static void job_run(uv_work_t *w) {
  (void)w;
  usleep(job_ms * 1000);
}

static void job_done(uv_work_t *w, int status) {
  (void)w;
  if (status == 0)
    tell("stop_http: http stopped");
}

static void stop_http(void *loop, void *arg) {
  (void)arg;
  tell("stop_http: stopping");
  uv_queue_work(loop, &job, job_run, job_done); /* @work */
}

static void flush_db(void *loop, void *arg) {
  (void)loop;
  (void)arg;
  tell("flush_db: flushing");
  uv_close((uv_handle_t *)&db_timer, NULL);
}

static void close_pool(void *loop, void *arg) {
  (void)loop;
  (void)arg;
  tell("close_pool: closing");
}

static void hang_up(void *loop, void *arg) {
  (void)loop;
  (void)arg;
  tell("hang_up: bye");
  uv_close((uv_handle_t *)&conn, NULL);
}

static void unregistered(void *loop, void *arg) {
  (void)loop;
  (void)arg;
}

static void order(uv_loop_t *loop, const char *what, asyncleak_finally_fn later,
                  asyncleak_finally_fn earlier) {
  printf("order %s: %d\n", what,
         asyncleak_finally_after(loop, later, NULL, earlier, NULL));
}

int main(int argc, char **argv) {
  const char *mode = argc > 1 ? argv[1] : "";
  char got[512];
  ssize_t n;
  int sv[2];

  setvbuf(stdout, NULL, _IOLBF, 0);
  if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0)
    return 2;
  uv_loop_init(&the_loop); /* @loop */
  uv_pipe_init(&the_loop, &conn, 0);
  uv_pipe_open(&conn, sv[0]);
  uv_timer_init(&the_loop, &db_timer);
  if (strcmp(mode, "stuck") == 0)
    job_ms = 1000;

  asyncleak_run_finally(&the_loop, hang_up, NULL);
  asyncleak_run_finally(&the_loop, stop_http, NULL);
  asyncleak_run_finally(&the_loop, flush_db, NULL);
  asyncleak_run_finally(&the_loop, close_pool, NULL);
  if (strcmp(mode, "none") != 0) {
    order(&the_loop, "flush_db after stop_http", flush_db, stop_http);
    order(&the_loop, "close_pool after flush_db", close_pool, flush_db);
    order(&the_loop, "hang_up after close_pool", hang_up, close_pool);
  }
  if (strcmp(mode, "refused") == 0) {
    order(&the_loop, "stop_http after hang_up", stop_http, hang_up);
    order(&the_loop, "stop_http after stop_http", stop_http, stop_http);
    order(&the_loop, "stop_http after unregistered", stop_http, unregistered);
    order(&the_loop, "unregistered after stop_http", unregistered, stop_http);
    printf("order null: %d\n",
           asyncleak_finally_after(&the_loop, NULL, NULL, stop_http, NULL));
    order(&the_loop, "again", flush_db, stop_http);
    /* A cancelled finalizer's orders go with it. */
    asyncleak_run_finally(&the_loop, unregistered, NULL);
    order(&the_loop, "unregistered after close_pool", unregistered, close_pool);
    asyncleak_cancel_finally(&the_loop, unregistered, NULL);
    /* Registered again: the order it had is gone, so the reverse one is
     * no cycle. */
    asyncleak_run_finally(&the_loop, unregistered, NULL);
    order(&the_loop, "close_pool after unregistered, again", close_pool,
          unregistered);
  }

  printf("loop closed: %d\n", asyncleak_loop_close(&the_loop));
  /* The peer: what it was told, in the order it was told. */
  while ((n = recv(sv[1], got, sizeof(got) - 1, MSG_DONTWAIT)) > 0) {
    char *line, *save = NULL;
    got[n] = '\0';
    for (line = strtok_r(got, "\n", &save); line != NULL;
         line = strtok_r(NULL, "\n", &save))
      printf("peer: %s\n", line);
  }
  close(sv[1]);
  return 0;
}
