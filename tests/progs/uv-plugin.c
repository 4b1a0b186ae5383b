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
 *
 * The plugin unloaded with dlclose, libuv with it, and loaded again: the
 * program sees libuv go as it would without asyncleak, the runtime finds
 * the new libuv, and the handles of the plugin that is gone are still
 * named by function and line.
 * [unload] RUN: leak unload
 * [unload] CHECK-COUNT-2: ^dlclose: 0$
 * [unload] CHECK-COUNT-2: ^libuv loaded after dlclose: no$
 * [unload] CHECK: ERROR: asyncleak: 2 handles left open at exit
 * [unload] CHECK: ^2 handles of type uv_timer_t, created at:
 * [unload] CHECK: #0 0x[0-9a-f]+ in plugin_start .*plugin-timer.c:[0-9]+$
 * [unload] CHECK: #1 0x[0-9a-f]+ in main .*uv-plugin.c:%line(start)$
 * [unload] CHECK-COUNT-2: created in plugin_start .*plugin-timer.c:[0-9]+ by thread [0-9]+ \(main\): never closed; libuv was unloaded \(dlclose\) with it open$
 * [unload] CHECK-NOT: cannot find
 * [unload] EXIT: 23
 *
 * [unload-clean] RUN: clean unload
 * [unload-clean] CHECK-COUNT-2: ^dlclose: 0$
 * [unload-clean] CHECK-COUNT-2: ^libuv loaded after dlclose: no$
 * [unload-clean] CHECK: ^asyncleak: no leaks: 2 loop\(s\), 2 handle\(s\) created, all closed
 * [unload-clean] CHECK-NOT: ERROR
 * [unload-clean] EXIT: 0
 */
#include <dlfcn.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv) {
  char path[4096];
  int clean = argc > 1 && strcmp(argv[1], "clean") == 0;
  int unload = argc > 2 && strcmp(argv[2], "unload") == 0;
  void *plugin;
  void (*start)(void), (*stop)(void);

  snprintf(path, sizeof(path), "%s/plugin-timer.so", dirname(strdup(argv[0])));
  /* Unloaded: twice, libuv going with the plugin each time, so that the
   * second load may put libuv elsewhere. */
  for (int round = 0; round < (unload ? 2 : 1); round++) {
    plugin = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (plugin == NULL) {
      fprintf(stderr, "%s\n", dlerror());
      return 2;
    }
    start = (void (*)(void))dlsym(plugin, "plugin_start");
    stop = (void (*)(void))dlsym(plugin, "plugin_stop");
    start(); /* @start */
    if (clean)
      stop();
    if (unload) {
      void *uv;
      printf("dlclose: %d\n", dlclose(plugin));
      uv = dlopen("libuv.so.1", RTLD_NOW | RTLD_NOLOAD);
      printf("libuv loaded after dlclose: %s\n", uv ? "yes" : "no");
      if (uv != NULL)
        dlclose(uv);
    }
  }
  return 0;
}
