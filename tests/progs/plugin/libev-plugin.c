/* A plugin that links libev, loaded with dlopen(RTLD_LOCAL) as Python
 * loads gevent's extension (tests/progs/libev-local.c): libev.so.4 is
 * then in a local scope, where dlsym(RTLD_NEXT) does not look. */
#include <ev.h>

static void on_tick(struct ev_loop *loop, ev_timer *w, int revents) {
  (void)loop;
  (void)w;
  (void)revents;
}

void plugin_start(int clean);

void plugin_start(int clean) {
  static ev_timer ticker;
  struct ev_loop *loop = ev_loop_new(0);

  if (loop == NULL)
    return;
  ev_timer_init(&ticker, on_tick, 3600., 3600.);
  ev_timer_start(loop, &ticker);
  ev_run(loop, EVRUN_NOWAIT);
  if (clean) {
    ev_timer_stop(loop, &ticker);
    ev_loop_destroy(loop);
  }
}
