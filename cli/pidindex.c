/* An index of numbered items by pid: a run may leave tens of thousands of
 * report files (a test runner starts a process per test), and looking a
 * process up by walking them all, for each of them, takes minutes. A
 * chained hash table whose chains are arrays of item numbers; it grows
 * with the items, so that chains stay short. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static size_t bucket(const struct cli_pidindex *x, pid_t pid) {
  /* Fibonacci hashing: consecutive pids, the usual case, spread out. */
  return (size_t)(((unsigned long long)(unsigned)pid *
                   11400714819323198485ull) >>
                  (64 - x->bits));
}

static void link_item(struct cli_pidindex *x, size_t item) {
  size_t b = bucket(x, x->pid[item]);

  x->next[item] = x->head[b];
  x->head[b] = item + 1;
}

/* Twice as many buckets as items, so that chains stay short. */
static int rehash(struct cli_pidindex *x, unsigned bits) {
  size_t *head = calloc((size_t)1 << bits, sizeof(*head));

  if (head == NULL)
    return -1;
  free(x->head);
  x->head = head;
  x->bits = bits;
  /* From the last item down, so that each chain is in item order. */
  for (size_t i = x->n; i-- > 0;)
    link_item(x, i);
  return 0;
}

int cli_pidindex_add(struct cli_pidindex *x, pid_t pid) {
  if (x->n == x->alloc) {
    size_t alloc = x->alloc ? x->alloc * 2 : 64;
    pid_t *pids = realloc(x->pid, alloc * sizeof(*pids));
    size_t *next;

    if (pids == NULL)
      return -1;
    x->pid = pids;
    next = realloc(x->next, alloc * sizeof(*next));
    if (next == NULL)
      return -1;
    x->next = next;
    x->alloc = alloc;
  }
  x->pid[x->n] = pid;
  if (x->head == NULL || x->n * 2 >= ((size_t)1 << x->bits)) {
    unsigned bits = x->bits ? x->bits + 1 : 7;

    x->n++;
    if (rehash(x, bits) != 0) {
      x->n--;
      return -1;
    }
    return 0;
  }
  /* A new item goes at the end of its chain, keeping item order; chains
   * are short. */
  {
    size_t *at = &x->head[bucket(x, pid)];

    while (*at != 0)
      at = &x->next[*at - 1];
    x->next[x->n] = 0;
    *at = x->n + 1;
  }
  x->n++;
  return 0;
}

size_t cli_pidindex_first(const struct cli_pidindex *x, pid_t pid) {
  size_t it;

  if (x->head == NULL)
    return 0;
  it = x->head[bucket(x, pid)];
  while (it != 0 && x->pid[it - 1] != pid)
    it = x->next[it - 1];
  return it;
}

size_t cli_pidindex_next(const struct cli_pidindex *x, size_t it) {
  pid_t pid = x->pid[it - 1];

  it = x->next[it - 1];
  while (it != 0 && x->pid[it - 1] != pid)
    it = x->next[it - 1];
  return it;
}

void cli_pidindex_release(struct cli_pidindex *x) {
  free(x->pid);
  free(x->next);
  free(x->head);
  memset(x, 0, sizeof(*x));
}
