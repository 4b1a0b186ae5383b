/* The findings of the debug checks in the exit report: a section after
 * the leaks, and records for the asyncleak command. Stacks are symbolized
 * and laid out as the leak groups' are. */
#include <stdlib.h>
#include <string.h>

#include "verdict.h"

/* How each check's findings read: what the call was done on (an article
 * and the type go in the two %s), what their first stack is and what
 * their second is. */
static const struct {
  const char *on, *at, *other, *unknown;
} texts[AL_CHECKS] = {
    [AL_CHECK_CLOSED] = {"on %s %s already closed", "at", "closed first at",
                         "where it was closed first is not known: before "
                         "check_closes was on, or past what is kept"},
    [AL_CHECK_THREAD] = {"on %s %s", "at", "began running the loop at",
                         "where it began running the loop is not known: "
                         "before check_threads was on"},
    [AL_CHECK_SLOW] = {"callback on %s %s held its loop", "created at",
                       "the callback",
                       "the callback function is not known"},
    /* Not about a loop or a type: the call reads alone. */
    [AL_CHECK_STACK] = {"served from the cache differed from a full unwind",
                        "as served", "as a full unwind gives it, recorded",
                        "the full unwind gave no frame"},
};

/* "thread 4712 (main)": the process's first thread is named so, as in the
 * list of loops. */
static void put_thread(struct al_buf *b, int32_t tid) {
  al_buf_printf(b, "thread %d%s", (int)tid,
                tid == (int32_t)al_pid() ? " (main)" : "");
}

/* The slow-callback check's second stack is the callback's address plus
 * one (slow.c): the function's own address is shown. */
static void own_address(const struct al_finding *f, struct al_site *site) {
  if (f->check == AL_CHECK_SLOW)
    for (uint32_t i = 0; i < site->depth; i++) {
      struct al_frame *fr = &site->frames[i];
      fr->pc -= 1;
      if (fr->offset > 0)
        fr->offset -= 1;
      if (fr->sym_offset > 0)
        fr->sym_offset -= 1;
    }
}

/* "a uv_timer_t", "an event": libuv's types are read "a you-vee". */
static const char *article(const char *type) {
  return type[0] != 'u' && strchr("aeiouAEIOU", type[0]) != NULL ? "an" : "a";
}

static const char *type_of(const struct al_finding *f) {
  if (f->type == AL_TYPE_LOOP)
    return "loop";
  return f->request ? al_req_type_name(f->shim, f->type)
                    : al_type_name(f->shim, f->type);
}

/* The identity a finding's fingerprint hashes: the check and the call,
 * with the type al_site_judge adds. */
static void identity(const struct al_finding *f, char *buf, size_t len) {
  snprintf(buf, len, "%s:%s", al_check_name(f->check),
           f->call != NULL ? f->call : "?");
}

void al_findings_totals(const struct al_snapshot *s,
                        struct al_report_totals *t) {
  t->findings = s->findings_dropped;
  t->findings_dropped = s->findings_dropped;
  t->finding_groups = s->nfindings;
  for (size_t i = 0; i < s->nfindings; i++)
    t->findings += s->findings[i].count;
}

void al_findings_put(struct al_buf *b, struct al_symbolizer *sym,
                     const struct al_snapshot *s, const char *title,
                     const char *off) {
  struct al_site *site;
  char id[96];

  if (s->nfindings == 0 && s->findings_dropped == 0)
    return;
  /* Two sites are 20 KiB: not on a stack that may be a signal's. */
  site = malloc(sizeof(*site));
  if (site == NULL) {
    b->failed = 1;
    return;
  }
  for (size_t i = 0; i < s->nfindings; i++) {
    const struct al_finding *f = &s->findings[i];
    unsigned check = f->check < AL_CHECKS ? f->check : AL_CHECK_CLOSED;

    identity(f, id, sizeof(id));
    al_site_judge(sym, f->stack, f->request, id, site);
    al_buf_printf(b, "%s%s: ", title, al_check_title(f->check));
    al_buf_put_text(b, f->call);
    al_buf_printf(b, " ");
    al_buf_printf(b, texts[check].on, article(type_of(f)), type_of(f));
    if (f->check == AL_CHECK_THREAD && f->tid != 0) {
      al_buf_printf(b, " from ");
      put_thread(b, f->tid);
      al_buf_printf(b, " while ");
      put_thread(b, f->other_tid);
      al_buf_printf(b, " runs %s", f->type == AL_TYPE_LOOP ? "it" : "its loop");
    }
    al_buf_printf(b, ", %llu %s", (unsigned long long)f->count,
                  f->count == 1 ? "time" : "times");
    if (f->value > 0)
      al_buf_printf(b, ", the longest %llu ms", (unsigned long long)f->value);
    al_buf_printf(b, ", %s:%s\n", texts[check].at, off);
    if (f->stack == NULL)
      al_buf_printf(b, "    <no stack>\n");
    al_report_put_frames(b, site);
    if (f->other != NULL) {
      struct al_site *first = malloc(sizeof(*first));
      if (first == NULL) {
        b->failed = 1;
        break;
      }
      al_site_judge(sym, f->other, f->request, id, first);
      own_address(f, first);
      al_buf_printf(b, "  ");
      if (f->check == AL_CHECK_THREAD && f->other_tid != 0) {
        put_thread(b, f->other_tid);
        al_buf_printf(b, " ");
      }
      al_buf_printf(b, "%s:\n", texts[check].other);
      al_report_put_frames(b, first);
      free(first);
    } else {
      al_buf_printf(b, "  %s\n", texts[check].unknown);
    }
    al_buf_printf(b, "  fingerprint %s\n\n", site->fingerprint);
  }
  if (s->findings_dropped > 0)
    al_buf_printf(b, "... and %llu more %s of the debug checks, not kept "
                     "(more than %d groups)\n\n",
                  (unsigned long long)s->findings_dropped,
                  s->findings_dropped == 1 ? "finding" : "findings",
                  AL_FINDINGS_MAX);
  free(site);
}

void al_findings_put_records(struct al_buf *rec, struct al_symbolizer *sym,
                             const struct al_snapshot *s) {
  struct al_site *site;
  char id[96];

  if (s->nfindings == 0)
    return;
  site = malloc(sizeof(*site));
  if (site == NULL) {
    rec->failed = 1;
    return;
  }
  for (size_t i = 0; i < s->nfindings; i++) {
    const struct al_finding *f = &s->findings[i];

    identity(f, id, sizeof(id));
    al_site_judge(sym, f->stack, f->request, id, site);
    /* The call and the type are the loop library's names: no tab. */
    al_buf_printf(rec, "finding\t%s\t%s\t%s\t%llu\t%llu\t%s\t%d\t%d\t%d\n",
                  al_check_name(f->check), f->call != NULL ? f->call : "?",
                  type_of(f), (unsigned long long)f->count,
                  (unsigned long long)f->value, site->fingerprint,
                  site->own, (int)f->tid, (int)f->other_tid);
    al_site_put_frames_as(rec, "finding_frame\t0", site);
    if (f->other != NULL) {
      al_site_judge(sym, f->other, f->request, id, site);
      own_address(f, site);
      al_site_put_frames_as(rec, "finding_frame\t1", site);
    }
  }
  free(site);
}
