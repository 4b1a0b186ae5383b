/* The slow-callback check of libev (slow_callback_ms,
 * docs/debug-checks.md). A watcher is the program's memory, and libev
 * calls its callback from it (w->cb). While the check is on, a start of
 * one of the program's watchers puts the runtime's stand-in in w->cb, the
 * program's callback kept in the core's table (lib/standins.c); the
 * stand-in times it. The program's callback goes back into the watcher
 * when the runtime stops following it:
 *
 * - at a stop of the program's, of a started watcher or not;
 * - at libev's own stop of a one-shot timer or periodic that expired
 *   (timers_reify, periodics_reify), libev has yet to call it back, from
 *   w->cb: the stand-in stays for that call, and puts the program's
 *   callback back before it calls it, since the watcher is then stopped.
 *   Its record is gone by then: the creation stack is kept with the
 *   table's entry. libev's stop is told from the program's by where it
 *   comes from: inside ev_run, outside any callback the stand-in runs
 *   (the interposers cannot tell it by its return address: a program's
 *   callback may stop a watcher by a tail call), and for a timer, by its
 *   time left, zero or less (ev_timer_stop makes it relative). A stop
 *   the program makes from a callback that is not timed, of a one-shot
 *   timer that expired but was not called back yet, leaves the stand-in
 *   in it: there it stays until the watcher is started again.
 *
 * A start by libev itself (its own watchers, ev_once's, those of an
 * ev_stat or ev_embed), a watcher without a callback (an ev_embed that
 * sweeps by itself) and a callback of libev's are left alone. So is a
 * callback the program set with ev_set_cb while the watcher was started:
 * it is not timed until the next start. In between, a program that reads
 * w->cb (ev_cb) finds the runtime's stand-in. */
#include "libev-shim.h"

typedef void (*watcher_cb)(struct ev_loop *loop, ev_watcher *w, int revents);

static const char *const start_names[] = {
#define NAME(name, type) [type] = "ev_" #name "_start",
    LIBEV_WATCHERS(NAME)
#undef NAME
};

static const char *start_name(unsigned type) {
  return type < sizeof(start_names) / sizeof(start_names[0]) &&
                 start_names[type] != NULL
             ? start_names[type]
             : "ev_start";
}

static void standin(struct ev_loop *loop, ev_watcher *w, int revents);

/* How deep this thread is in ev_run, and in the callbacks the stand-in
 * runs. */
static AL_TLS unsigned runs, callbacks;

void al_libev_slow_run(int begin) {
  if (begin)
    runs++;
  else if (runs > 0)
    runs--;
}

/* The program's callback of w, and its type, kept in the table as which
 * of its callbacks the entry is: a watcher has one. */
static void *kept(ev_watcher *w, unsigned *type,
                  const struct al_stack **stack) {
  *type = AL_STANDIN_ANY;
  return al_standin_kept((uintptr_t)w, type, stack);
}

static void standin(struct ev_loop *loop, ev_watcher *w, int revents) {
  const struct al_stack *stack;
  struct al_slow s;
  unsigned type;
  watcher_cb cb = (watcher_cb)kept(w, &type, &stack);

  if (cb == NULL) {
    al_warn("lost the callback of watcher %p; it is skipped", (void *)w);
    return;
  }
  /* Stopped by libev before this call back: the runtime follows it no
   * more, and the program finds its own callback in it. */
  if (!w->active) {
    w->cb = cb;
    al_standin_forget((uintptr_t)w);
  }
  al_slow_begin(&s, start_name(type), al_libev_shim_id, type, AL_RES_OPEN,
                (uintptr_t)w, (void *)cb);
  if (s.stack == NULL)
    s.stack = stack;
  callbacks++;
  cb(loop, w, revents);
  callbacks--;
  al_slow_end(&s);
}

void al_libev_stand_in(void *watcher, unsigned type) {
  ev_watcher *w = watcher;
  void *cb = (void *)w->cb;

  if (cb == NULL || cb == (void *)standin ||
      al_loopsyms_owns(&al_libev_lib, cb))
    return;
  /* The entry of an older callback of the watcher, stood in for by a
   * start under another type, goes. */
  al_standin_forget((uintptr_t)w);
  if (al_standin_keep((uintptr_t)w, type, cb) == 0)
    w->cb = (watcher_cb)standin;
}

void al_libev_put_back(void *watcher, unsigned type) {
  ev_watcher *w = watcher;
  const struct al_stack *stack;
  unsigned kept_type;
  void *cb;
  struct al_res r;

  if ((void *)w->cb != (void *)standin) {
    al_standin_forget((uintptr_t)w); /* ev_set_cb while started */
    return;
  }
  if (w->active)
    return;
  if (runs > callbacks && ((type == T_TIMER && ((ev_timer *)w)->at <= 0.) ||
                           type == T_PERIODIC)) {
    /* Expired, and called back by libev next: see above. */
    if (al_res_get((uintptr_t)w, &r) == 0)
      al_standin_note((uintptr_t)w, type, r.stack);
    return;
  }
  if ((cb = kept(w, &kept_type, &stack)) != NULL)
    w->cb = (watcher_cb)cb;
  al_standin_forget((uintptr_t)w);
}
