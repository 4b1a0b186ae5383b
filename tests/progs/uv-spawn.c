/* posix_spawn, posix_spawnp, uv_spawn and vfork of a libuv program
 * (uv-exec-leaf) from a libuv program that keeps a timer of its own
 * running until the child has ended:
 *
 *   uv-spawn posix_spawn|posix_spawnp|uv_spawn|vfork leak|clean|missing
 *
 * glibc's posix_spawn runs the child on the parent's memory (clone with
 * CLONE_VM and CLONE_VFORK) without the fork handlers, and a vfork child
 * shares it too: the runtime must do nothing there, not even when the
 * exec fails and the child calls _exit. The child is traced from its exec
 * on. libuv's uv_spawn forks: the child starts with the spawner's records
 * and reports none of them. Either way only what the spawned program
 * leaks is reported, under its own stack, and the spawner's handles, the
 * uv_process_t included, are its own. With "missing" the program to start
 * does not exist.
 *
 * RUN: posix_spawn leak
 * CHECK: ^leaf [0-9]+: leaked$
 * CHECK: ^spawner: posix_spawn: child [0-9]+ exited with status 7$
 * CHECK-COUNT-1: ERROR: asyncleak: 1 handle left open at exit$
 * CHECK: ^    #0 0x[0-9a-f]+ in start_leaf_timer .*uv-exec-leaf.c:[0-9]+$
 * CHECK-NOT: start_spawner_timer
 * CHECK-NOT: no report
 * CHECK-NOT: still running
 * CHECK: ^asyncleak: 1 handle\(s\) left open in 1 process\(es\)$
 * EXIT: 23
 *
 * [clean] RUN: posix_spawn clean
 * [clean] CHECK: ^spawner: posix_spawn: child [0-9]+ exited with status 7$
 * [clean] CHECK-NOT: ERROR
 * [clean] CHECK-NOT: no report
 * [clean] CHECK: ^asyncleak: no leaks: 2 loop\(s\), 2 handle\(s\) created, all closed$
 * [clean] EXIT: 0
 *
 * [missing] RUN: posix_spawn missing
 * [missing] CHECK: ^spawner: posix_spawn: cannot start [^ ]*no-such-program: No such file or directory$
 * [missing] CHECK-NOT: ERROR
 * [missing] CHECK-NOT: no report
 * [missing] CHECK: ^asyncleak: no leaks: 1 loop\(s\), 1 handle\(s\) created, all closed$
 * [missing] EXIT: 0
 *
 * posix_spawnp finds the program in the PATH the spawner sets.
 * [spawnp] RUN: posix_spawnp leak
 * [spawnp] CHECK: ^spawner: posix_spawnp: child [0-9]+ exited with status 7$
 * [spawnp] CHECK-COUNT-1: ERROR: asyncleak: 1 handle left open at exit$
 * [spawnp] CHECK: ^    #0 0x[0-9a-f]+ in start_leaf_timer .*uv-exec-leaf.c:[0-9]+$
 * [spawnp] CHECK-NOT: start_spawner_timer
 * [spawnp] CHECK-NOT: no report
 * [spawnp] CHECK: ^asyncleak: 1 handle\(s\) left open in 1 process\(es\)$
 * [spawnp] EXIT: 23
 *
 * [spawnp-clean] RUN: posix_spawnp clean
 * [spawnp-clean] CHECK: ^spawner: posix_spawnp: child [0-9]+ exited with status 7$
 * [spawnp-clean] CHECK-NOT: ERROR
 * [spawnp-clean] CHECK-NOT: no report
 * [spawnp-clean] CHECK: ^asyncleak: no leaks: 2 loop\(s\), 2 handle\(s\) created, all closed$
 * [spawnp-clean] EXIT: 0
 *
 * [uv] RUN: uv_spawn leak
 * [uv] CHECK: ^spawner: uv_spawn: child [0-9]+ exited with status 7$
 * [uv] CHECK-COUNT-1: ERROR: asyncleak: 1 handle left open at exit$
 * [uv] CHECK: ^    #0 0x[0-9a-f]+ in start_leaf_timer .*uv-exec-leaf.c:[0-9]+$
 * [uv] CHECK-NOT: start_spawner_timer
 * [uv] CHECK-NOT: uv_process_t
 * [uv] CHECK-NOT: no report
 * [uv] CHECK: ^asyncleak: 1 handle\(s\) left open in 1 process\(es\)$
 * [uv] EXIT: 23
 *
 * [uv-clean] RUN: uv_spawn clean
 * [uv-clean] CHECK: ^spawner: uv_spawn: child [0-9]+ exited with status 7$
 * [uv-clean] CHECK-NOT: ERROR
 * [uv-clean] CHECK-NOT: no report
 * [uv-clean] CHECK: ^asyncleak: no leaks: 2 loop\(s\), 3 handle\(s\) created, all closed$
 * [uv-clean] EXIT: 0
 *
 * libuv's child, a fork child, reports its end with _exit: nothing.
 * [uv-missing] RUN: uv_spawn missing
 * [uv-missing] CHECK: ^spawner: uv_spawn: cannot start [^ ]*no-such-program: no such file or directory$
 * [uv-missing] CHECK-NOT: ERROR
 * [uv-missing] CHECK-NOT: no report
 * [uv-missing] CHECK: ^asyncleak: no leaks: 1 loop\(s\), 2 handle\(s\) created, all closed$
 * [uv-missing] EXIT: 0
 *
 * [vfork] RUN: vfork leak
 * [vfork] CHECK: ^spawner: vfork: child [0-9]+ exited with status 7$
 * [vfork] CHECK-COUNT-1: ERROR: asyncleak: 1 handle left open at exit$
 * [vfork] CHECK: ^    #0 0x[0-9a-f]+ in start_leaf_timer .*uv-exec-leaf.c:[0-9]+$
 * [vfork] CHECK-NOT: start_spawner_timer
 * [vfork] CHECK-NOT: no report
 * [vfork] CHECK: ^asyncleak: 1 handle\(s\) left open in 1 process\(es\)$
 * [vfork] EXIT: 23
 *
 * The vfork child that cannot exec ends with _exit on its parent's memory.
 * [vfork-missing] RUN: vfork missing
 * [vfork-missing] CHECK: ^spawner: vfork: child [0-9]+ exited with status 127$
 * [vfork-missing] CHECK-NOT: ERROR
 * [vfork-missing] CHECK-NOT: no report
 * [vfork-missing] CHECK: ^asyncleak: no leaks: 1 loop\(s\), 1 handle\(s\) created, all closed$
 * [vfork-missing] EXIT: 0
 */
#include <errno.h>
#include <libgen.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <uv.h>

extern char **environ;

static uv_timer_t spawner_timer;
static uv_process_t process;
static pid_t child;
static int child_status, by_libuv;

/* Reaps a child that was not started by libuv from the loop, which runs
 * until then. */
static void on_tick(uv_timer_t *t) {
  if (by_libuv || waitpid(child, &child_status, WNOHANG) != child)
    return;
  child_status = WEXITSTATUS(child_status);
  uv_close((uv_handle_t *)t, NULL);
}

static void on_child_exit(uv_process_t *p, int64_t status, int signal) {
  (void)signal;
  child_status = (int)status;
  uv_close((uv_handle_t *)p, NULL);
  uv_close((uv_handle_t *)&spawner_timer, NULL);
}

static void start_spawner_timer(uv_loop_t *loop) {
  uv_timer_init(loop, &spawner_timer);
  uv_timer_start(&spawner_timer, on_tick, 5, 5);
}

/* Starts path; returns NULL, or what went wrong. */
static const char *spawn(uv_loop_t *loop, const char *how, char *path,
                         char *const args[]) {
  uv_process_options_t options;
  int rc;

  if (!strcmp(how, "posix_spawn")) {
    rc = posix_spawn(&child, path, NULL, NULL, args, environ);
    return rc != 0 ? strerror(rc) : NULL;
  }
  if (!strcmp(how, "posix_spawnp")) {
    setenv("PATH", dirname(strdup(path)), 1);
    rc = posix_spawnp(&child, strrchr(path, '/') + 1, NULL, NULL, args,
                      environ);
    return rc != 0 ? strerror(rc) : NULL;
  }
  if (!strcmp(how, "vfork")) {
    child = vfork();
    if (child == 0) {
      execv(path, args);
      _exit(127);
    }
    return child < 0 ? strerror(errno) : NULL;
  }
  memset(&options, 0, sizeof(options));
  options.file = path;
  options.args = (char **)args;
  options.exit_cb = on_child_exit;
  options.stdio_count = 3;
  options.stdio = (uv_stdio_container_t[]){
      {UV_INHERIT_FD, {.fd = 0}},
      {UV_INHERIT_FD, {.fd = 1}},
      {UV_INHERIT_FD, {.fd = 2}}};
  /* The exit callback reaps the child, not the timer. */
  by_libuv = 1;
  rc = uv_spawn(loop, &process, &options);
  child = process.pid;
  if (rc == 0)
    return NULL;
  /* A process handle is closed even when the process never started. */
  uv_close((uv_handle_t *)&process, NULL);
  return uv_strerror(rc);
}

int main(int argc, char **argv) {
  const char *how = argc > 1 ? argv[1] : "posix_spawn";
  const char *mode = argc > 2 ? argv[2] : "leak";
  const char *error;
  char path[4096];
  char *args[] = {path, (char *)mode, NULL};
  uv_loop_t loop;

  snprintf(path, sizeof(path), "%s/%s", dirname(strdup(argv[0])),
           !strcmp(mode, "missing") ? "no-such-program" : "uv-exec-leaf");
  uv_loop_init(&loop);
  start_spawner_timer(&loop);
  fflush(stdout);
  error = spawn(&loop, how, path, args);
  if (error != NULL) {
    uv_close((uv_handle_t *)&spawner_timer, NULL);
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
    printf("spawner: %s: cannot start %s: %s\n", how, path, error);
    return 0;
  }
  uv_run(&loop, UV_RUN_DEFAULT);
  uv_loop_close(&loop);
  printf("spawner: %s: child %d exited with status %d\n", how, (int)child,
         child_status);
  return 0;
}
