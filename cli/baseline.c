/* --write-baseline: the fingerprints of a run's leaks, for a later
 * --baseline to ignore. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "emit.h"
#include "../lib/syntax.h"

/* Whether the group's fingerprint came earlier in the run: the same site
 * in several processes is one line. */
static int seen_before(const struct cli_reports *r, size_t proc,
                       size_t group) {
  const char *fp = r->procs[proc].groups[group].fingerprint;

  for (size_t i = 0; i <= proc; i++) {
    size_t end = i == proc ? group : r->procs[i].ngroups;

    for (size_t k = 0; k < end; k++)
      if (!strcmp(r->procs[i].groups[k].fingerprint, fp))
        return 1;
  }
  return 0;
}

/* Leaks already in a baseline are written too: the new file replaces the
 * old one. Warnings (ensure_closure's) are not leaks. */
int cli_write_baseline(FILE *out, const struct cli_run *run) {
  const struct cli_reports *r = run->reports;

  fprintf(out, "%s: the leaks --baseline ignores, one fingerprint a "
               "line\n", AL_BASELINE_HEADER);
  for (size_t i = 0; i < r->nr; i++) {
    const struct cli_proc *p = &r->procs[i];

    for (size_t k = 0; k < p->ngroups; k++) {
      const struct cli_group *g = &p->groups[k];

      if (!strcmp(g->state, "ensured") || seen_before(r, i, k))
        continue;
      const struct cli_frame *f = cli_group_frame(g);

      fprintf(out, "%s %s %s in %s\n", g->fingerprint, g->state, g->type,
              f != NULL ? f->function : "?");
    }
  }
  return ferror(out) ? -1 : 0;
}
