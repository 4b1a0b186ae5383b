/* The findings of the debug checks: one bounded table, which every check
 * adds to and the exit report reads (lib/report.c, docs/debug-checks.md).
 *
 * Findings are rare, and only made while a check is on: a plain mutex
 * and a walk of the groups are enough. The table is static, so that
 * adding to it never allocates; past AL_FINDINGS_MAX groups a finding is
 * counted as dropped, which the report says. */
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static pthread_mutex_t findings_lock = PTHREAD_MUTEX_INITIALIZER;
/* Read by the copy of the process that writes its report. */
AL_LOCK_REGISTER(AL_LOCK_FINDINGS, findings_lock, AL_LOCK_FOR_REPORT)

static struct al_finding groups[AL_FINDINGS_MAX];
static size_t ngroups;
static uint64_t dropped;
/* Every finding made, dropped ones included: read with no lock before an
 * exec (lib/exec.c), which may be in a signal handler. */
static atomic_ullong made;
_Static_assert(ATOMIC_LLONG_LOCK_FREE == 2,
               "the count is read in a signal handler");

static const struct {
  const char *name, *title;
} checks[AL_CHECKS] = {
    [AL_CHECK_CLOSED] = {"use-after-close", "Use after close"},
    [AL_CHECK_THREAD] = {"wrong-thread", "Wrong thread"},
    [AL_CHECK_SLOW] = {"slow-callback", "Slow callback"},
    [AL_CHECK_STACK] = {"stack-capture", "Stack capture"},
};

const char *al_check_name(unsigned check) {
  return check < AL_CHECKS ? checks[check].name : "unknown";
}

const char *al_check_title(unsigned check) {
  return check < AL_CHECKS ? checks[check].title : "Unknown check";
}

static int same_group(const struct al_finding *a, const struct al_finding *b) {
  /* The call is static text: one function, one pointer, or two equal
   * strings of two objects. */
  return a->check == b->check && a->shim == b->shim && a->type == b->type &&
         a->request == b->request && a->stack == b->stack &&
         a->other == b->other &&
         (a->call == b->call ||
          (a->call != NULL && b->call != NULL && !strcmp(a->call, b->call)));
}

void al_finding_add(const struct al_finding *f) {
  uint64_t count = f->count > 0 ? f->count : 1;
  size_t i;

  al_mutex_lock(&findings_lock);
  atomic_fetch_add_explicit(&made, count, memory_order_relaxed);
  for (i = 0; i < ngroups; i++)
    if (same_group(&groups[i], f))
      break;
  if (i < ngroups) {
    groups[i].count += count;
    if (f->value > groups[i].value)
      groups[i].value = f->value;
  } else if (ngroups < AL_FINDINGS_MAX) {
    groups[ngroups] = *f;
    groups[ngroups++].count = count;
  } else {
    dropped += count;
  }
  al_mutex_unlock(&findings_lock);
}

void al_finding_here(const struct al_finding *f) {
  int saved = errno;
  struct al_finding copy = *f;

  /* A signal handler that interrupted the runtime: neither the lock nor
   * the stack depot may be waited for. */
  if (AL_UNLIKELY(al_locks_held != 0)) {
    al_defer_finding(f);
    errno = saved;
    return;
  }
  copy.stack = al_stack_capture();
  copy.count = 1;
  al_finding_add(&copy);
  errno = saved;
}

size_t al_findings_copy(struct al_finding **out, uint64_t *lost,
                        int *budget) {
  struct al_finding stacks;
  size_t n, extra;

  *out = NULL;
  *lost = 0;
  if (al_lock_briefly(&findings_lock, budget) != 0)
    return 0;
  n = ngroups;
  *lost = dropped;
  /* The stack check's finding is counted where it is made, with no lock
   * (lib/capture.c), and joins the others here. */
  extra = al_capture_check_finding(&stacks);
  if (n + extra > 0 && (*out = malloc((n + extra) * sizeof(**out))) != NULL) {
    memcpy(*out, groups, n * sizeof(**out));
    if (extra)
      (*out)[n++] = stacks;
  } else if (n + extra > 0) {
    /* Said as dropped rather than lost without a word. */
    for (size_t i = 0; i < n; i++)
      *lost += groups[i].count;
    *lost += extra ? stacks.count : 0;
    n = 0;
  }
  al_mutex_unlock(&findings_lock);
  return n;
}

/* Every lock is free in the child (lib/locks.c). What the parent found is
 * in the parent's report; the child reports what it does itself, as it
 * does with handles. daemon()'s child carries on as the process. */
void al_findings_atfork_child(void) {
  if (!al_daemon_forking())
    al_findings_reset();
}

unsigned long long al_findings_made(void) {
  uint64_t checked, differed;

  /* With the stack check's, counted where they are made. */
  al_capture_checked(&checked, &differed);
  return atomic_load_explicit(&made, memory_order_relaxed) + differed;
}

void al_findings_reset(void) {
  al_mutex_lock(&findings_lock);
  ngroups = 0;
  dropped = 0;
  atomic_store(&made, 0);
  memset(groups, 0, sizeof(groups));
  al_mutex_unlock(&findings_lock);
  al_capture_check_reset();
}
