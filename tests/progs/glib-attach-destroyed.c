/* The use-after-close check for GLib (check_closes, --debug-checks): a
 * source's close is its destroy, and an attach of a destroyed source,
 * which GLib refuses with a critical warning, is reported with the stack
 * of the attach and of the destroy. A second g_source_destroy is allowed
 * by GLib, and is no finding.
 *
 * RUN: attach
 * CLI: --debug-checks
 * CHECK: WARNING: asyncleak: 1 finding of the debug checks \(not a failure\)
 * CHECK: ^Use after close: g_source_attach on a timeout source already closed, 1 time, at:$
 * CHECK: #0 0x[0-9a-f]+ in attach_again .*glib-attach-destroyed.c:%line(attach)$
 * CHECK: ^  closed first at:$
 * CHECK: in destroy_source .*glib-attach-destroyed.c:%line(destroy)$
 * EXIT: 0
 *
 * Off unless asked for.
 * [off] RUN: attach
 * [off] CHECK-NOT: Use after close
 * [off] EXIT: 0
 *
 * The negative control: destroyed twice, never attached again.
 * [twice] RUN: twice
 * [twice] CLI: --debug-checks --fail-on-findings
 * [twice] CHECK-NOT: finding
 * [twice] CHECK-NOT: Use after close
 * [twice] EXIT: 0
 */
#include <glib.h>
#include <string.h>

static gboolean fired(gpointer data) {
  (void)data;
  return G_SOURCE_CONTINUE;
}

__attribute__((noinline)) static void destroy_source(GSource *s) {
  g_source_destroy(s); /* @destroy */
}

__attribute__((noinline)) static guint attach_again(GSource *s) {
  return g_source_attach(s, NULL); /* @attach */
}

int main(int argc, char **argv) {
  const char *mode = argc > 1 ? argv[1] : "attach";
  GSource *s = g_timeout_source_new(3600 * 1000);

  g_source_set_callback(s, fired, NULL, NULL);
  g_source_attach(s, NULL);
  destroy_source(s);
  if (!strcmp(mode, "attach")) {
    /* GLib refuses it, with a critical warning. */
    if (attach_again(s) != 0)
      return 1;
  } else {
    g_source_destroy(s);
  }
  g_source_unref(s);
  return 0;
}
