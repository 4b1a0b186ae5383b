/* A watcher started by a plugin loaded with dlopen(RTLD_LOCAL), which
 * brings libev.so.4 into a local scope as Python does for gevent: the
 * runtime finds libev's real functions in libev's own object, and names
 * the plugin's function in the report.
 *
 * CHECK: ERROR: asyncleak: 1 handle left open at exit
 * CHECK: ^1 handle of type ev_timer, created at:
 * CHECK: #0 0x[0-9a-f]+ in plugin_start .*libev-plugin.c:[0-9]+$
 * CHECK: #1 0x[0-9a-f]+ in main .*libev-local.c:%line(start)$
 * CHECK-NOT: cannot find
 * CHECK-NOT: libev in the global scope
 * EXIT: 23
 *
 * [clean] RUN: clean
 * [clean] CHECK-NOT: ERROR
 * [clean] CHECK-NOT: cannot find
 * [clean] CHECK: ^asyncleak: no leaks: 1 loop\(s\), 1 handle\(s\) created, all closed$
 * [clean] EXIT: 0
 */
#include <dlfcn.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv) {
  char path[PATH_MAX], self[PATH_MAX];
  void (*start)(int);
  void *h;

  snprintf(self, sizeof(self), "%s", argv[0]);
  snprintf(path, sizeof(path), "%s/libev-plugin.so", dirname(self));
  h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (h == NULL) {
    fprintf(stderr, "%s\n", dlerror());
    return 1;
  }
  /* libev is not in the global scope: the program's own lookup fails. */
  if (dlsym(RTLD_DEFAULT, "ev_loop_new") != NULL &&
      dlsym(RTLD_DEFAULT, "ev_version_major") != NULL)
    printf("libev in the global scope\n");
  *(void **)&start = dlsym(h, "plugin_start");
  if (start == NULL)
    return 1;
  start(argc > 1 && strcmp(argv[1], "clean") == 0); /* @start */
  return 0;
}
