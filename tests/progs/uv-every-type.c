/* One handle of every kind libuv has, each from its own init function, all
 * left open: each is reported once with its type; fs_poll's own timer and
 * the loop's own handles are not. The [clean] run closes them all (one
 * through uv_tcp_close_reset, after a uv_tcp_close_reset that fails) and
 * closes the loop: nothing is reported.
 *
 * CHECK: ERROR: asyncleak: 17 handles left open at exit
 * CHECK-COUNT-2: ^1 handle of type uv_tcp_t, created at:
 * CHECK-COUNT-2: ^1 handle of type uv_udp_t, created at:
 * CHECK-COUNT-2: ^1 handle of type uv_poll_t, created at:
 * CHECK-COUNT-1: ^1 handle of type uv_tty_t, created at:
 * CHECK-COUNT-1: ^1 handle of type uv_pipe_t, created at:
 * CHECK-COUNT-1: ^1 handle of type uv_prepare_t, created at:
 * CHECK-COUNT-1: ^1 handle of type uv_check_t, created at:
 * CHECK-COUNT-1: ^1 handle of type uv_idle_t, created at:
 * CHECK-COUNT-1: ^1 handle of type uv_async_t, created at:
 * CHECK-COUNT-1: ^1 handle of type uv_timer_t, created at:
 * CHECK-COUNT-1: ^1 handle of type uv_fs_poll_t, created at:
 * CHECK-COUNT-1: ^1 handle of type uv_signal_t, created at:
 * CHECK-COUNT-1: ^1 handle of type uv_fs_event_t, created at:
 * CHECK-COUNT-1: ^1 handle of type uv_process_t, created at:
 * CHECK-COUNT-17: #0 0x[0-9a-f]+ in make_all .*uv-every-type.c:[0-9]+$
 * CHECK: in make_all .*uv-every-type.c:%line(timer)$
 * CHECK: ^SUMMARY: asyncleak: 17 handles left open \(2 uv_poll_t, 2 uv_tcp_t, 2 uv_udp_t, 1 [a-z_]+, .*\) from 17 creation sites; 1 of 1 loop not closed$
 * CHECK-NOT: uv_loop_init
 * EXIT: 23
 *
 * [clean] RUN: clean
 * [clean] CHECK-NOT: ERROR
 * [clean] CHECK-NOT: handle of type
 * [clean] EXIT: 0
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

static struct {
  uv_tcp_t tcp, tcp_ex;
  uv_udp_t udp, udp_ex;
  uv_tty_t tty;
  uv_pipe_t pipe;
  uv_poll_t poll, poll_socket;
  uv_prepare_t prepare;
  uv_check_t check;
  uv_idle_t idle;
  uv_async_t async;
  uv_timer_t timer;
  uv_fs_poll_t fs_poll;
  uv_signal_t signal;
  uv_fs_event_t fs_event;
  uv_process_t process;
} h;

static void must(int rc, const char *what) {
  if (rc != 0) {
    fprintf(stderr, "%s: %s\n", what, uv_strerror(rc));
    exit(2);
  }
}

static void nop(void) {}

static void make_all(uv_loop_t *loop) {
  int sv[2], pty;
  struct sockaddr_in addr;
  char *argv[] = {"true", NULL};
  uv_process_options_t opts = {.file = "true", .args = argv,
                               .exit_cb = (uv_exit_cb)nop};

  if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0)
    exit(2);
  pty = posix_openpt(O_RDWR | O_NOCTTY);
  if (pty < 0 || grantpt(pty) != 0 || unlockpt(pty) != 0)
    exit(2);

  must(uv_tcp_init(loop, &h.tcp), "tcp");
  must(uv_tcp_init_ex(loop, &h.tcp_ex, AF_INET), "tcp_ex");
  must(uv_udp_init(loop, &h.udp), "udp");
  must(uv_udp_init_ex(loop, &h.udp_ex, AF_INET), "udp_ex");
  must(uv_tty_init(loop, &h.tty, open(ptsname(pty), O_RDWR), 0), "tty");
  must(uv_pipe_init(loop, &h.pipe, 0), "pipe");
  must(uv_poll_init(loop, &h.poll, sv[0]), "poll");
  must(uv_poll_init_socket(loop, &h.poll_socket, sv[1]), "poll_socket");
  must(uv_prepare_init(loop, &h.prepare), "prepare");
  must(uv_check_init(loop, &h.check), "check");
  must(uv_idle_init(loop, &h.idle), "idle");
  must(uv_async_init(loop, &h.async, (uv_async_cb)nop), "async");
  must(uv_timer_init(loop, &h.timer), "timer"); /* @timer */
  must(uv_fs_poll_init(loop, &h.fs_poll), "fs_poll");
  must(uv_signal_init(loop, &h.signal), "signal");
  must(uv_fs_event_init(loop, &h.fs_event), "fs_event");
  must(uv_spawn(loop, &h.process, &opts), "spawn");

  uv_ip4_addr("127.0.0.1", 0, &addr);
  must(uv_tcp_bind(&h.tcp_ex, (const struct sockaddr *)&addr, 0), "bind");
  must(uv_fs_poll_start(&h.fs_poll, (uv_fs_poll_cb)nop, ".", 100000), "fsp");
  must(uv_signal_start(&h.signal, (uv_signal_cb)nop, SIGUSR1), "sig");
  must(uv_fs_event_start(&h.fs_event, (uv_fs_event_cb)nop, ".", 0), "fse");
  must(uv_timer_start(&h.timer, (uv_timer_cb)nop, 100000, 0), "timer");
}

static void close_one(uv_handle_t *handle, void *arg) {
  (void)arg;
  if (uv_is_closing(handle))
    return;
  if (handle == (uv_handle_t *)&h.tcp) {
    /* No socket yet: the reset fails and the handle stays open. */
    if (uv_tcp_close_reset(&h.tcp, NULL) == 0)
      exit(3);
  } else if (handle == (uv_handle_t *)&h.tcp_ex) {
    must(uv_tcp_close_reset(&h.tcp_ex, NULL), "close_reset");
    return;
  }
  uv_close(handle, NULL);
}

int main(int argc, char **argv) {
  uv_loop_t loop;

  must(uv_loop_init(&loop), "loop");
  make_all(&loop);
  uv_run(&loop, UV_RUN_NOWAIT);
  if (argc > 1 && strcmp(argv[1], "clean") == 0) {
    uv_walk(&loop, close_one, NULL);
    uv_run(&loop, UV_RUN_DEFAULT);
    must(uv_loop_close(&loop), "loop_close");
  }
  exit(0); /* keeps this frame, and the loop in it, alive for the report */
}
