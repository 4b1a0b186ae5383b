/* The verdict on a snapshot of the registry, apart from how it is
 * written: which records are the program's leaks, grouped by creation
 * site, which groups the user's suppressions or baseline hide, and the
 * totals that decide the exit status. lib/report.c formats it; nothing
 * here writes text. */
#ifndef ASYNCLEAK_VERDICT_H
#define ASYNCLEAK_VERDICT_H

#include "internal.h"

/* A record the verdict kept, with what its shim's probe said of it. */
struct al_entry {
  struct al_res r;
  struct al_state st;
  int hidden; /* suppressed, or in the baseline */
  uint8_t type; /* the record's own type, before the probe's */
};

/* Records (or notes) made at one site in one state, as one entry of the
 * report. */
struct al_group {
  size_t first; /* index into the sorted records */
  size_t count;
  uint64_t min_seq;
  int after;    /* listed after the others: handles closing that do not
                   fail the run */
};

/* One group the report may list: handles or requests left (from the
 * records), or closed or cancelled by force, or closed by ensure_closure
 * (from the notes). */
struct al_leak {
  const struct al_group *g;
  const char *state; /* open, pending, forced, cancelled, ensured */
  const char *type;
  const char *identity; /* the type as fingerprints and suppressions know
                           it */
  const struct al_stack *stack;
  int is_request;
  int from_notes;
  long supp;     /* the suppression covering it, or -1 */
  int baselined;
};

struct al_verdict {
  struct al_entry *e;       /* the records kept, sorted by site */
  size_t n;
  struct al_group *g;       /* their groups, most frequent first */
  size_t ng;
  struct al_group *notes;   /* groups of the snapshot's notes */
  size_t nn;
  struct al_leak *l;        /* every group, records' then notes' */
  size_t nl;
  size_t visible;           /* groups neither suppressed nor baselined */
  size_t *hits;             /* per suppression rule: groups, resources */
  int shutdown_failed;      /* some loop's shutdown went wrong */
  struct al_symbolizer *sym; /* NULL until something needs symbols */
};

/* Judges snapshot s (sorting its records and notes in place) and fills
 * the totals t. With a scope, only what was made since, without loops or
 * shutdowns. Returns 0, or -1 when out of memory; al_verdict_free() is
 * needed either way. */
int al_verdict_take(struct al_snapshot *s, const struct al_report_scope *scope,
                    struct al_report_totals *t, struct al_verdict *v);
void al_verdict_free(struct al_verdict *v);

static inline int al_res_is_request(const struct al_res *r) {
  return r->state == AL_RES_PENDING;
}

/* The names a shim gives its types; "resource" and "request" when it
 * gives none. The identity is the name fingerprints and suppressions know
 * a handle's type by. */
const char *al_type_name(uint8_t shim, unsigned type);
const char *al_type_identity(uint8_t shim, unsigned type);
const char *al_req_type_name(uint8_t shim, unsigned type);
/* A record's type name, a request's or a handle's. */
const char *al_res_type_name(const struct al_res *r);
/* Whether a shutdown went wrong in a way the report must show. */
int al_shutdown_failed(const struct al_shutdown_entry *e);
/* A function's name from its own address (not a return address). */
const char *al_fn_name(struct al_symbolizer *sym, void *fn);

#endif
