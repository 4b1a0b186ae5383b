/* The program's own library of tests/progs/ev-own-library.c. */
#ifndef EVENT_BUS_H_
#define EVENT_BUS_H_

#include <event2/event.h>

/* Starts a persistent timer on base, and returns it. */
struct event *bus_start(struct event_base *base);
/* Frees what bus_start returned. */
void bus_stop(struct event *ev);

#endif
