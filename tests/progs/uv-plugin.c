/* A handle created by a plugin loaded with dlopen(RTLD_LOCAL): the runtime
 * must find libuv's real functions without dlsym(RTLD_NEXT), and name the
 * plugin's function in the report.
 *
 * CHECK: ERROR: asyncleak: 1 handle left open at exit
 * CHECK: ^1 handle of type uv_timer_t, created at:
 * CHECK: #0 0x[0-9a-f]+ in plugin_start .*plugin-timer.c:[0-9]+$
 * CHECK: #1 0x[0-9a-f]+ in main .*uv-plugin.c:%line(start)$
 * EXIT: 23
 *
 * [clean] RUN: clean
 * [clean] CHECK-NOT: ERROR
 * [clean] CHECK-NOT: cannot find
 * [clean] EXIT: 0
 */
#include <dlfcn.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv) {
  char path[4096];
  void *plugin;
  void (*start)(void), (*stop)(void);

  snprintf(path, sizeof(path), "%s/plugin-timer.so", dirname(strdup(argv[0])));
  plugin = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (plugin == NULL) {
    fprintf(stderr, "%s\n", dlerror());
    return 2;
  }
  start = (void (*)(void))dlsym(plugin, "plugin_start");
  stop = (void (*)(void))dlsym(plugin, "plugin_stop");
  start(); /* @start */
  if (argc > 1 && strcmp(argv[1], "clean") == 0)
    stop();
  return 0;
}
