/* The libuv program other scenarios start in a process of their own: fork
 * and exec (uv-fork-exec.c), posix_spawn, posix_spawnp and uv_spawn
 * (uv-spawn.c). With "leak" it leaves one timer open; with "clean" it
 * closes everything. It prints its pid and exits with status 7, so that
 * the program that started it can show that it waited for this one.
 *
 * CHECK: ^leaf [0-9]+: leaked$
 * CHECK-COUNT-1: ERROR: asyncleak: 1 handle left open at exit$
 * CHECK: ^    #0 0x[0-9a-f]+ in start_leaf_timer .*uv-exec-leaf.c:%line(leaf)$
 * CHECK: ^asyncleak: 1 handle\(s\) left open in 1 process\(es\)$
 * EXIT: 7
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

static uv_timer_t leaf_timer;

static void start_leaf_timer(uv_loop_t *loop) {
  uv_timer_init(loop, &leaf_timer); /* @leaf */
}

int main(int argc, char **argv) {
  int leak = argc < 2 || strcmp(argv[1], "clean") != 0;
  uv_loop_t loop;

  uv_loop_init(&loop);
  start_leaf_timer(&loop);
  if (!leak)
    uv_close((uv_handle_t *)&leaf_timer, NULL);
  uv_run(&loop, UV_RUN_DEFAULT);
  if (!leak)
    uv_loop_close(&loop);
  printf("leaf %d: %s\n", (int)getpid(), leak ? "leaked" : "clean");
  return 7;
}
