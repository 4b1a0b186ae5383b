/* A libevent program with a known leak, an event made by
 * start_known_event and never freed, whose suppression comes with the
 * code through __asyncleak_default_suppressions, under the preloaded
 * runtime alone (tests/cli/default-suppressions.sh). Built with
 * -DDEFINE_HOOK, the program defines the function itself: it is seen when
 * the program is linked with -rdynamic, and not otherwise. Built without,
 * the program links libknownleaks.so, which defines it. */
#include <event2/event.h>
#include <stdio.h>

#ifdef DEFINE_HOOK
const char *__asyncleak_default_suppressions(void);
const char *__asyncleak_default_suppressions(void) {
  return "event_never_freed:^start_known_event$\n";
}
#else
void knownleaks_linked(void);
#endif

static void on_event(evutil_socket_t fd, short what, void *arg) {
  (void)fd;
  (void)what;
  (void)arg;
}

static struct event *start_known_event(struct event_base *base) {
  return evtimer_new(base, on_event, NULL);
}

int main(void) {
  struct event_base *base = event_base_new();

#ifndef DEFINE_HOOK
  knownleaks_linked();
#endif
  if (base == NULL || start_known_event(base) == NULL)
    return 1;
  event_base_free(base);
  printf("main done\n");
  return 0;
}
