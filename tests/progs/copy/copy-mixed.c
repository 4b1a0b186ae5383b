/* A program with its own copy of libuv, linked from libuv_a.a, that also
 * loads a plugin using the system's libuv (plugin-timer.so): the runtime
 * watches the plugin's calls and cannot watch the program's own, so the
 * check is incomplete. The program's own loop is always cleaned up; the
 * plugin's timer is left open with "leak", closed with "clean". */
#include <dlfcn.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

static void on_close(uv_handle_t *h) {
  (void)h;
}

int main(int argc, char **argv) {
  int leak = argc > 1 && !strcmp(argv[1], "leak");
  char path[4096];
  uv_loop_t loop;
  uv_timer_t timer;
  void *plugin;
  void (*start)(void), (*stop)(void);

  if (uv_loop_init(&loop) != 0 || uv_timer_init(&loop, &timer) != 0)
    return 1;
  uv_close((uv_handle_t *)&timer, on_close);
  uv_run(&loop, UV_RUN_DEFAULT);
  if (uv_loop_close(&loop) != 0)
    return 1;

  snprintf(path, sizeof(path), "%s/plugin-timer.so",
           dirname(strdup(argv[0])));
  plugin = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (plugin == NULL) {
    fprintf(stderr, "%s\n", dlerror());
    return 2;
  }
  start = (void (*)(void))dlsym(plugin, "plugin_start");
  stop = (void (*)(void))dlsym(plugin, "plugin_stop");
  start();
  if (!leak)
    stop();
  puts(leak ? "plugin's timer left open" : "everything closed");
  return 0;
}
