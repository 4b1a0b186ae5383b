/* The text report: open resources grouped by creation stack, most frequent
 * first, in the layout LeakSanitizer users know. */
#define _GNU_SOURCE /* sigabbrev_np, sigdescr_np */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "verdict.h"

#define MAX_LOOPS_LISTED 16

struct typecount {
  uint8_t shim;
  uint8_t request;
  uint16_t type;
  size_t count;
};

static int by_typecount(const void *a, const void *b) {
  const struct typecount *x = a, *y = b;
  if (x->count != y->count)
    return x->count > y->count ? -1 : 1;
  return x->type - y->type;
}

static const char *plural(size_t n, const char *one, const char *more) {
  return n == 1 ? one : more;
}

static void put_thread(struct al_buf *b, pid_t tid) {
  if (tid == al_pid())
    al_buf_printf(b, "thread %d (main)", (int)tid);
  else
    al_buf_printf(b, "thread %d", (int)tid);
}

/* A frame's file and line, or its module and offset. Names of functions,
 * files and modules are the program's to choose, and are escaped. */
static void put_place(struct al_buf *b, const struct al_frame *f) {
  if (f->file != NULL) {
    al_buf_printf(b, " ");
    al_buf_put_text(b, f->file);
    al_buf_printf(b, ":%d", f->line);
  } else if (f->module != NULL) {
    al_buf_printf(b, " (");
    al_buf_put_text(b, f->module);
    al_buf_printf(b, "+0x%lx)", (unsigned long)f->offset);
  }
}

static void put_frame(struct al_buf *b, unsigned i, uintptr_t pc,
                      const struct al_frame *f) {
  al_buf_printf(b, "    #%u 0x%012lx", i, (unsigned long)pc);
  if (f->function != NULL) {
    al_buf_printf(b, " in ");
    al_buf_put_text(b, f->function);
  }
  put_place(b, f);
  /* Inlined frames share the pc of the frame they were inlined into. */
  al_buf_printf(b, "%s\n", f->inlined ? " (inlined)" : "");
}

/* A creation stack, with the frames its site has symbolized. */
static void put_stack(struct al_buf *b, const struct al_stack *s,
                      const struct al_site *site) {
  if (s == NULL) {
    al_buf_printf(b, "    <no stack>\n");
    return;
  }
  al_report_put_frames(b, site);
}

void al_report_put_frames(struct al_buf *b, const struct al_site *site) {
  for (uint32_t i = 0; i < site->depth; i++)
    put_frame(b, i, site->frames[i].pc, &site->frames[i]);
}

/* The one line naming where a loop was made: its first frame. */
static void put_site(struct al_buf *b, struct al_symbolizer *sym,
                     const struct al_stack *s) {
  struct al_frame f;

  if (s == NULL || s->depth == 0) {
    al_buf_printf(b, "at an unknown place");
    return;
  }
  al_symbolize(sym, s->pc[0], &f);
  al_buf_printf(b, "in ");
  al_buf_put_text(b, f.function ? f.function : "??");
  put_place(b, &f);
}

/* The loop a resource was made on: the newest loop at its address that
 * existed when it was made. 0 when unknown. */
static uint64_t loop_number(const struct al_snapshot *s,
                            const struct al_res *r) {
  const struct al_loop *best = NULL;
  for (size_t i = 0; i < s->nloops; i++) {
    const struct al_loop *l = &s->loops[i];
    if (l->addr == r->loop && l->first_seq <= r->seq &&
        (best == NULL || l->first_seq > best->first_seq))
      best = l;
  }
  return best ? best->serial : 0;
}

static void put_state(struct al_buf *b, const struct al_res *r,
                      const struct al_state *st) {
  const struct al_shim *sh = al_shims[r->shim];
  char text[128];

  if (st->known && sh != NULL && sh->state_text != NULL) {
    text[0] = '\0';
    sh->state_text(r, st, text, sizeof(text));
    al_buf_put_text(b, text);
  } else if (!st->known)
    al_buf_printf(b, "state unknown (its memory was freed or reused)");
  else if (st->closing)
    al_buf_printf(b, "closing (the loop did not run again to finish it)");
  else
    al_buf_printf(b, "%s, %s", st->active ? "active" : "inactive",
                  st->referenced ? "referenced" : "unreferenced");
}

/* How long ago a request started. */
static void put_age(struct al_buf *b, uint32_t born_ms, uint64_t now_ms) {
  uint32_t ms = (uint32_t)now_ms - born_ms;
  if (ms < 1000)
    al_buf_printf(b, "pending for %lu ms", (unsigned long)ms);
  else
    al_buf_printf(b, "pending for %lu.%lu s", (unsigned long)(ms / 1000),
                  (unsigned long)(ms % 1000 / 100));
}

static void put_request(struct al_buf *b, const struct al_res *r,
                        uint64_t now_ms) {
  const struct al_shim *sh = al_shims[r->shim];
  char what[320];

  put_age(b, r->born_ms, now_ms);
  what[0] = '\0';
  if (sh != NULL && sh->describe != NULL)
    sh->describe(r, what, sizeof(what));
  /* A path or a host name the program gave: escaped. */
  if (what[0] != '\0') {
    al_buf_printf(b, ": ");
    al_buf_put_text(b, what);
  }
}

/* Escape sequences of the text report: none unless colour is on. */
struct paint {
  const char *error, *warning, *title, *off;
};

static const struct paint plain = {"", "", "", ""};
static const struct paint ansi = {"\033[1;31m", "\033[1;35m", "\033[1m",
                                  "\033[0m"};

static void put_fingerprint(struct al_buf *b, const struct al_site *site) {
  al_buf_printf(b, "  fingerprint %s\n\n", site->fingerprint);
}

static void put_group(struct al_buf *b, const struct paint *p,
                      const struct al_site *site, const struct al_snapshot *s,
                      const struct al_entry *e, const struct al_group *g,
                      uint64_t now_ms) {
  const struct al_entry *first = &e[g->first];
  size_t shown = g->count;

  if (al_res_is_request(&first->r))
    al_buf_printf(b, "%s%zu %s of type %s pending, created at:%s\n", p->title,
                  g->count, plural(g->count, "request", "requests"),
                  al_res_type_name(&first->r), p->off);
  else
    al_buf_printf(b, "%s%zu %s of type %s%s, created at:%s\n", p->title,
                  g->count, plural(g->count, "handle", "handles"),
                  al_res_type_name(&first->r),
                  first->r.state == AL_RES_CLOSING ? " closing" : "", p->off);
  put_stack(b, first->r.stack, site);
  if (shown > (size_t)al_opt.max_addresses)
    shown = (size_t)al_opt.max_addresses;
  for (size_t i = 0; i < shown; i++) {
    const struct al_entry *x = &e[g->first + i];
    uint64_t loop = loop_number(s, &x->r);
    al_buf_printf(b, "  %#lx", (unsigned long)x->r.addr);
    if (loop != 0)
      al_buf_printf(b, " on loop %lu, ", (unsigned long)loop);
    else
      al_buf_printf(b, " on loop %#lx, ", (unsigned long)x->r.loop);
    put_thread(b, x->r.tid);
    al_buf_printf(b, ", ");
    if (al_res_is_request(&x->r))
      put_request(b, &x->r, now_ms);
    else
      put_state(b, &x->r, &x->st);
    al_buf_printf(b, "\n");
  }
  if (shown < g->count)
    al_buf_printf(b, "  ... and %zu more\n", g->count - shown);
  put_fingerprint(b, site);
}

/* ------------------------------------------------- what shutdowns did */

static void put_note_group(struct al_buf *b, const struct paint *p,
                           struct al_symbolizer *sym,
                           const struct al_site *site,
                           const struct al_note *n, const struct al_group *g) {
  const struct al_note *x = &n[g->first];
  size_t shown = g->count;

  if (x->kind == AL_NOTE_FORCED)
    al_buf_printf(b, "%s%zu %s of type %s closed by force at shutdown, "
                     "created at:%s\n", p->title, g->count,
                  plural(g->count, "handle", "handles"),
                  al_type_name(x->shim, x->type), p->off);
  else if (x->kind == AL_NOTE_CANCELLED)
    al_buf_printf(b, "%s%zu %s of type %s cancelled by force at shutdown, "
                     "created at:%s\n", p->title, g->count,
                  plural(g->count, "request", "requests"),
                  al_req_type_name(x->shim, x->type), p->off);
  else {
    al_buf_printf(b, "%s%zu %s left open, closed at shutdown by ", p->title,
                  g->count, g->count == 1 ? "resource" : "resources");
    al_buf_put_text(b, al_fn_name(sym, x->fn));
    al_buf_printf(b, ", registered with asyncleak_ensure_closure at:%s\n",
                  p->off);
  }
  put_stack(b, x->stack, site);
  if (shown > (size_t)al_opt.max_addresses)
    shown = (size_t)al_opt.max_addresses;
  for (size_t i = 0; i < shown; i++) {
    const struct al_note *y = &n[g->first + i];
    al_buf_printf(b, "  %#lx on loop %lu", (unsigned long)y->addr,
                  (unsigned long)y->serial);
    if (y->kind != AL_NOTE_ENSURED) {
      al_buf_printf(b, ", ");
      put_thread(b, y->tid);
    }
    al_buf_printf(b, "\n");
  }
  if (shown < g->count)
    al_buf_printf(b, "  ... and %zu more\n", g->count - shown);
  if (x->kind == AL_NOTE_ENSURED)
    al_buf_printf(b, "\n");
  else
    put_fingerprint(b, site);
}

static const char *const why_text[] = {
    [AL_WHY_CLOSE] = "as the program closed it",
    [AL_WHY_CALL] = "by asyncleak_loop_close",
    [AL_WHY_EXIT] = "at exit",
    [AL_WHY_SIGNAL] = "on a graceful signal",
};

static const char *skip_text(const struct al_shutdown_entry *e) {
  if (e->skip == AL_SKIP_THREAD)
    return "exit was called on a thread that does not run the loop";
  switch (e->why) {
  case AL_WHY_CLOSE:
  case AL_WHY_CALL:
    return "the loop was closed from inside its own callback";
  case AL_WHY_EXIT:
    return "exit was called from inside the loop's own callback";
  default:
    return "the loop was running";
  }
}

static void put_verdicts(struct al_buf *b, const struct al_verdicts *v) {
  if (v->at_start > 0)
    al_buf_printf(b, "    %u %s open when it began: %u closed by a "
                     "finalizer, %u closed by the program, %u closed by "
                     "force, %u still open\n", v->at_start,
                  plural(v->at_start, "handle", "handles"), v->by_finalizer,
                  v->by_program, v->by_force, v->still_open);
  if (v->cancelled > 0)
    al_buf_printf(b, "    %u %s cancelled by force\n", v->cancelled,
                  plural(v->cancelled, "request", "requests"));
}

/* The first finalizers a shutdown ran, by name. */
static void put_ran(struct al_buf *b, struct al_symbolizer *sym,
                    const struct al_shutdown_entry *e) {
  for (unsigned i = 0; i < e->nran && i < AL_FIN_NAMED; i++) {
    al_buf_printf(b, "%s ", i ? "," : "");
    al_buf_put_text(b, al_fn_name(sym, e->ran[i].fn));
  }
}

/* How long each one's work took, from its call until the requests it
 * made had called back and the closes it began had completed; and which
 * ran at the deadline, not waiting any longer for the one before it. */
static void put_work(struct al_buf *b, struct al_symbolizer *sym,
                     const struct al_shutdown_entry *e) {
  unsigned named = e->nran < AL_FIN_NAMED ? e->nran : AL_FIN_NAMED;

  al_buf_printf(b, "    their work took:");
  for (unsigned i = 0; i < named; i++) {
    al_buf_printf(b, "%s ", i ? "," : "");
    al_buf_put_text(b, al_fn_name(sym, e->ran[i].fn));
    if (e->ran[i].done)
      al_buf_printf(b, " %u ms", (unsigned)e->ran[i].work_ms);
    else
      al_buf_printf(b, " (not done)");
  }
  al_buf_printf(b, "\n");
  for (unsigned i = 0; i < named; i++) {
    if (e->ran[i].held_by == NULL)
      continue;
    al_buf_printf(b, "    ");
    al_buf_put_text(b, al_fn_name(sym, e->ran[i].fn));
    al_buf_printf(b, " ran at the deadline: the work of ");
    al_buf_put_text(b, al_fn_name(sym, e->ran[i].held_by));
    al_buf_printf(b, ", which it is to follow, was not done\n");
  }
}

static void put_shutdown(struct al_buf *b, struct al_symbolizer *sym,
                         const struct al_shutdown_entry *e) {
  al_buf_printf(b, "  loop %lu, created ", (unsigned long)e->serial);
  put_site(b, sym, e->stack);
  al_buf_printf(b, ", %s:\n", why_text[e->why]);
  if (e->skip != AL_SKIP_NONE) {
    al_buf_printf(b, "    its finalizers did not run: %s\n",
                  skip_text(e));
    return;
  }
  if (e->nran > 0) {
    al_buf_printf(b, "    finalizers run:");
    put_ran(b, sym, e);
    if (e->nran > AL_FIN_NAMED)
      al_buf_printf(b, " and %u more", e->nran - AL_FIN_NAMED);
    al_buf_printf(b, "\n");
    put_work(b, sym, e);
  }
  if (e->timed_out && e->nran > 0) {
    al_buf_printf(b, "    its finalizers' work was not done after %d ms:",
                  al_opt.drain_timeout_ms);
    put_ran(b, sym, e);
    al_buf_printf(b, "\n");
  } else if (e->timed_out) {
    al_buf_printf(b, "    the loop's work was not done after %d ms\n",
                  al_opt.drain_timeout_ms);
  }
  put_verdicts(b, &e->v);
}

/* What virtual time did, whenever a loop asked for it: the times in the
 * report's callbacks and timers are then the loops' clocks. */
static void put_vtime(struct al_buf *b) {
  struct al_vtime_totals t;

  al_vtime_totals(&t);
  if (t.loops > 0)
    al_buf_printf(b, "Virtual time: %u %s; %lu %s for a timer skipped, the "
                     "clocks advanced by %.3f s in all\n", t.loops,
                  plural(t.loops, "loop", "loops"), t.jumps,
                  plural(t.jumps, "wait", "waits"),
                  (double)t.advanced_ns / 1e9);
  if (t.refused > 0)
    al_buf_printf(b, "Virtual time: %u %s asked for it and kept real time: "
                     "256 loops of a process had it already\n", t.refused,
                  plural(t.refused, "loop", "loops"));
  if (t.loops > 0 || t.refused > 0)
    al_buf_printf(b, "\n");
}

/* Children that a graceful signal could not be passed on to: more than
 * the 64 followed at a time, or no pidfd. */
static void put_unfollowed(struct al_buf *b) {
  unsigned n = al_children_unfollowed();

  if (n > 0)
    al_buf_printf(b, "Graceful signals: %u %s of this process could not "
                     "be followed, and would not be passed a graceful "
                     "signal on\n\n", n,
                  plural(n, "child", "children"));
}

/* Whether force mode acted in some shutdown. */
static int any_forced(const struct al_snapshot *s) {
  for (size_t i = 0; i < s->nshutdowns; i++)
    if (s->shutdowns[i].forced)
      return 1;
  return 0;
}

static void put_shutdowns(struct al_buf *b, struct al_symbolizer *sym,
                          const struct al_snapshot *s) {
  size_t listed = 0;

  for (size_t i = 0; i < s->nshutdowns; i++) {
    const struct al_shutdown_entry *e = &s->shutdowns[i];
    if (!al_shutdown_failed(e) && al_opt.verbosity < 1)
      continue;
    if (listed++ == 0)
      al_buf_printf(b, "Shutdowns:\n");
    if (listed > MAX_LOOPS_LISTED)
      continue;
    put_shutdown(b, sym, e);
  }
  if (listed > MAX_LOOPS_LISTED)
    al_buf_printf(b, "  ... and %zu more\n", listed - MAX_LOOPS_LISTED);
  if (s->shutdowns_dropped > 0)
    al_buf_printf(b, "  ... and %zu not kept\n", s->shutdowns_dropped);
  if (listed > 0)
    al_buf_printf(b, "\n");
}

/* Whether records of the snapshot are still on the loop: a loop freed
 * with some on it is listed while they are. */
static int has_records(const struct al_snapshot *s, const struct al_loop *l) {
  for (size_t i = 0; i < s->nres; i++)
    if (s->res[i].loop == l->addr && s->res[i].seq >= l->first_seq)
      return 1;
  return 0;
}

static void put_loops(struct al_buf *b, struct al_symbolizer *sym,
                      const struct al_snapshot *s,
                      const struct al_report_totals *t) {
  size_t listed = 0, unclosed = t->loops_unclosed, freed = 0;

  if (t->loops == 0)
    return;
  for (size_t i = 0; i < s->nloops; i++)
    if ((s->loops[i].flags & AL_LOOP_FREED) && has_records(s, &s->loops[i]))
      freed++;
  al_buf_printf(b, "Loops (");
  for (unsigned i = 0, n = 0; i < AL_MAX_SHIMS; i++)
    if ((t->shims_seen & 1u << i) && al_shims[i] != NULL)
      al_buf_printf(b, "%s%s", n++ ? ", " : "", al_shims[i]->name);
  al_buf_printf(b, "): %zu seen, %zu closed", t->loops, t->loops - unclosed);
  if (unclosed)
    al_buf_printf(b, ", %zu not closed", unclosed);
  if (freed)
    al_buf_printf(b, ", %zu freed with what was on %s", freed,
                  freed == 1 ? "it" : "them");
  al_buf_printf(b, unclosed || freed ? ":\n" : "\n");
  for (size_t i = 0; i < s->nloops; i++) {
    const struct al_loop *l = &s->loops[i];
    if ((l->flags & AL_LOOP_INHERITED) ||
        ((l->flags & AL_LOOP_FREED) && !has_records(s, l)))
      continue;
    if (listed++ == MAX_LOOPS_LISTED) {
      al_buf_printf(b, "  ... and %zu more\n",
                    unclosed + freed - MAX_LOOPS_LISTED);
      break;
    }
    al_buf_printf(b, "  loop %lu (%s %#lx%s) created ", (unsigned long)l->serial,
                  al_shims[l->shim] ? al_shims[l->shim]->name : "?",
                  (unsigned long)l->addr,
                  l->flags & AL_LOOP_DEFAULT ? ", default loop" : "");
    put_site(b, sym, l->stack);
    al_buf_printf(b, " by ");
    put_thread(b, l->tid);
    if (l->busy_closes)
      al_buf_printf(b, ": close failed %u time%s (handles open or requests pending),",
                    l->busy_closes, l->busy_closes == 1 ? "" : "s");
    else
      al_buf_printf(b, ":");
    if (l->flags & AL_LOOP_FREED)
      al_buf_printf(b, " freed with what is listed above still on it\n");
    else if (l->flags & AL_LOOP_REPLACED)
      al_buf_printf(b, " initialised again without a close\n");
    else if (l->flags & AL_LOOP_UNLOADED)
      al_buf_printf(b, " never closed; %s was unloaded (dlclose) with it "
                       "open\n", al_shims[l->shim] ? al_shims[l->shim]->name
                                                   : "its library");
    else
      al_buf_printf(b, " never closed\n");
  }
  al_buf_printf(b, "\n");
}

/* "2 uv_timer_t, 1 uv_idle_t": the types of the records in one state
 * (enum al_res_state), most frequent first. */
static void put_types(struct al_buf *b, const struct al_entry *e, size_t n,
                      unsigned state) {
  struct typecount tc[64];
  size_t ntc = 0;
  int requests = state == AL_RES_PENDING;

  for (size_t i = 0; i < n; i++) {
    size_t k;
    if (e[i].r.state != state || e[i].hidden)
      continue;
    for (k = 0; k < ntc; k++)
      if (tc[k].shim == e[i].r.shim && tc[k].type == e[i].r.type)
        break;
    if (k == ntc) {
      if (ntc == sizeof(tc) / sizeof(tc[0]))
        continue;
      tc[ntc++] = (struct typecount){e[i].r.shim, (uint8_t)requests,
                                     e[i].r.type, 0};
    }
    tc[k].count++;
  }
  qsort(tc, ntc, sizeof(tc[0]), by_typecount);
  for (size_t k = 0; k < ntc; k++)
    al_buf_printf(b, "%s%zu %s", k ? ", " : "", tc[k].count,
                  requests ? al_req_type_name(tc[k].shim, tc[k].type)
                           : al_type_name(tc[k].shim, tc[k].type));
}

static void put_summary(struct al_buf *b, const struct paint *p,
                        const struct al_entry *e, size_t n,
                        const struct al_report_totals *t) {
  al_buf_printf(b, "%sSUMMARY:%s asyncleak: %zu %s left open", p->title,
                p->off, t->open,
                plural(t->open, "handle", "handles"));
  size_t open_groups = t->groups - t->req_groups - t->closing_groups;

  if (t->open > 0) {
    al_buf_printf(b, " (");
    put_types(b, e, n, AL_RES_OPEN);
    al_buf_printf(b, ") from %zu creation %s", open_groups,
                  plural(open_groups, "site", "sites"));
  }
  if (t->closing > 0) {
    al_buf_printf(b, "; %zu closing (", t->closing);
    put_types(b, e, n, AL_RES_CLOSING);
    al_buf_printf(b, ")%s", al_opt.fail_on_closing ? "" : ", not failing");
  }
  if (t->pending > 0) {
    al_buf_printf(b, "; %zu %s pending (", t->pending,
                  plural(t->pending, "request", "requests"));
    put_types(b, e, n, AL_RES_PENDING);
    al_buf_printf(b, ") from %zu creation %s", t->req_groups,
                  plural(t->req_groups, "site", "sites"));
  }
  if (t->loops_unclosed)
    al_buf_printf(b, "; %zu of %zu %s not closed", t->loops_unclosed,
                  t->loops, plural(t->loops, "loop", "loops"));
  if (t->forced)
    al_buf_printf(b, "; %zu closed by force", t->forced);
  if (t->cancelled)
    al_buf_printf(b, "; %zu %s cancelled by force", t->cancelled,
                  plural(t->cancelled, "request", "requests"));
  if (t->findings)
    al_buf_printf(b, "; %llu %s of the debug checks%s",
                  (unsigned long long)t->findings,
                  plural(t->findings, "finding", "findings"),
                  al_opt.fail_on_findings ? "" : ", not failing");
  al_buf_printf(b, "\n");
}

/* When the report was taken: at exit, or as the process ended another
 * way (lib/ending.c). */
static void ending_when(const struct al_ending *how, int check, char *buf,
                        size_t len) {
  char name[24];
  const char *abbrev =
      how != NULL ? al_signal_abbrev(how->signal, name, sizeof(name)) : NULL;

  if (check)
    buf[0] = '\0';
  else if (how == NULL || how->kind == AL_END_EXIT)
    snprintf(buf, len, " at exit");
  else if (how->kind == AL_END_EXIT_NOW)
    snprintf(buf, len, " at _exit(%d)", how->status);
  else if (how->kind == AL_END_CRASH)
    snprintf(buf, len, " when the program crashed (SIG%s)",
             abbrev ? abbrev : "?");
  else
    snprintf(buf, len, " when SIG%s ended the program",
             abbrev ? abbrev : "?");
}

static void put_ending(struct al_buf *b, const struct al_ending *how) {
  const char *abbrev, *descr;
  char name[24], said[40];

  if (how == NULL || how->kind == AL_END_EXIT)
    return;
  if (how->kind == AL_END_EXIT_NOW) {
    al_buf_printf(b, "The program ended with _exit(%d): atexit handlers and "
                     "finalizers did not run, and no loop was drained.\n",
                  how->status);
    return;
  }
  abbrev = al_signal_abbrev(how->signal, name, sizeof(name));
  descr = al_signal_descr(how->signal, said, sizeof(said));
  al_buf_printf(b, "The program %s signal %d (SIG%s: %s), which it does not "
                   "handle. Finalizers did not run; this is what was open at "
                   "that moment. The signal then ended the process.\n",
                how->kind == AL_END_CRASH ? "crashed on" : "was ended by",
                how->signal, abbrev ? abbrev : "?", descr ? descr : "?");
}

/* The first lines: what went wrong, or that nothing did. */
static void put_header(struct al_buf *b, const struct paint *p,
                       const struct al_report_totals *t, int failed,
                       int check, const struct al_ending *how) {
  int pid = (int)al_pid();
  char when[96];

  ending_when(how, check, when, sizeof(when));
  const char *e = p->error, *w = p->warning, *off = p->off;

  al_buf_printf(b, "=================================================="
                   "===============\n");
  if (t->open > 0)
    al_buf_printf(b, "%s==%d==ERROR: asyncleak: %zu %s left open%s%s\n", e,
                  pid, t->open, plural(t->open, "handle", "handles"), when,
                  off);
  if (t->pending > 0)
    al_buf_printf(b, "%s==%d==ERROR: asyncleak: %zu %s pending%s%s\n", e,
                  pid, t->pending, plural(t->pending, "request", "requests"),
                  when, off);
  if (t->forced > 0)
    al_buf_printf(b, "%s==%d==ERROR: asyncleak: %zu %s left open, closed "
                     "by force at shutdown%s\n", e, pid, t->forced,
                  plural(t->forced, "handle", "handles"), off);
  if (t->cancelled > 0)
    al_buf_printf(b, "%s==%d==ERROR: asyncleak: %zu %s left pending, "
                     "cancelled by force at shutdown%s\n", e, pid,
                  t->cancelled, plural(t->cancelled, "request", "requests"),
                  off);
  /* The program asked for these to be closed, and exited before the loop
   * could complete it: its part was done (docs/reading-the-report.md). */
  if (t->closing > 0 && al_opt.fail_on_closing)
    al_buf_printf(b, "%s==%d==ERROR: asyncleak: %zu %s closing%s, the "
                     "close never completed%s\n", e, pid, t->closing,
                  plural(t->closing, "handle", "handles"), when, off);
  else if (t->closing > 0)
    al_buf_printf(b, "%s==%d==WARNING: asyncleak: %zu %s closing%s: the "
                     "close was asked for, but the loop did not run again "
                     "to complete it (not a failure)%s\n", w, pid,
                  t->closing, plural(t->closing, "handle", "handles"), when,
                  off);
  if (t->ensured > 0)
    al_buf_printf(b, "%s==%d==WARNING: asyncleak: %zu %s left open, closed "
                     "at shutdown by asyncleak_ensure_closure%s\n", w, pid,
                  t->ensured, plural(t->ensured, "resource", "resources"),
                  off);
  /* Findings of the debug checks are not leaks: said apart, and an
   * error only when they fail the run. */
  if (t->findings > 0)
    al_buf_printf(b, "%s==%d==%s: asyncleak: %llu %s of the debug checks%s%s"
                     "\n", al_opt.fail_on_findings ? e : w, pid,
                  al_opt.fail_on_findings ? "ERROR" : "WARNING",
                  (unsigned long long)t->findings,
                  plural(t->findings, "finding", "findings"),
                  al_opt.fail_on_findings ? "" : " (not a failure)", off);
  if (t->open + t->pending + t->forced + t->cancelled + t->ensured +
          t->closing ==
      0) {
    if (failed)
      al_buf_printf(b, "%s==%d==WARNING: asyncleak: a loop's shutdown did "
                       "not complete%s\n", w, pid, off);
    else
      al_buf_printf(b, "==%d== asyncleak: no handles left open%s\n", pid,
                    when);
  }
  put_ending(b, how);
  al_buf_printf(b, "\n");
}

static void put_suppressions_used(struct al_buf *b, const size_t *hits) {
  const struct al_supp *rules;
  size_t n = al_suppressions(&rules), listed = 0;

  for (size_t i = 0; i < n; i++) {
    if (hits[2 * i] == 0)
      continue;
    if (listed++ == 0)
      al_buf_printf(b, "Suppressions used:\n  groups  resources  "
                       "suppression\n");
    al_buf_printf(b, "  %6zu  %9zu  ", hits[2 * i], hits[2 * i + 1]);
    al_buf_put_text(b, rules[i].rule.kind);
    al_buf_printf(b, ":");
    al_buf_put_text(b, rules[i].rule.pattern);
    al_buf_printf(b, " (");
    al_buf_put_text(b, rules[i].file);
    al_buf_printf(b, ":%u)\n", rules[i].line);
  }
  if (listed > 0)
    al_buf_printf(b, "\n");
}

/* What check_stacks compared, said even when nothing differed: a check
 * that compared nothing (no cache on this thread: valgrind,
 * ThreadSanitizer) proves nothing. */
static void put_stack_check(struct al_buf *b) {
  uint64_t n, diff;

  al_capture_checked(&n, &diff);
  al_buf_printf(b, "Stack check: %llu creation %s served from the cache "
                   "compared with a full unwind, %llu differed%s\n\n",
                (unsigned long long)n, n == 1 ? "stack" : "stacks",
                (unsigned long long)diff,
                diff > 0 ? " (see Stack capture above)" : "");
}

/* The records the asyncleak command reads: every group not suppressed,
 * and the use of each suppression. */
static void put_records(struct al_buf *rec, struct al_symbolizer *sym,
                        const struct al_leak *l, size_t nl,
                        const size_t *hits) {
  const struct al_supp *rules;
  size_t n = al_suppressions(&rules);
  struct al_site site;

  for (size_t i = 0; i < nl; i++) {
    if (l[i].supp >= 0)
      continue;
    al_site_judge(sym, l[i].stack, l[i].is_request, l[i].identity, &site);
    if (!strcmp(l[i].state, "ensured"))
      site.baselined = 0;
    al_site_put_record(rec, l[i].state, l[i].type, l[i].g->count, &site);
  }
  for (size_t i = 0; i < n; i++)
    if (hits[2 * i] > 0) {
      /* Escaped: a tab in a name would move the fields. */
      al_buf_printf(rec, "suppression\t%zu\t%zu\t", hits[2 * i],
                    hits[2 * i + 1]);
      al_buf_put_text(rec, rules[i].file);
      al_buf_printf(rec, "\t%u\t", rules[i].line);
      al_buf_put_text(rec, rules[i].rule.kind);
      al_buf_printf(rec, ":");
      al_buf_put_text(rec, rules[i].rule.pattern);
      al_buf_printf(rec, "\n");
    }
}

static int seen(char (*fps)[AL_FINGERPRINT_LEN + 1], size_t n,
                const char *fp) {
  for (size_t i = 0; i < n; i++)
    if (!strcmp(fps[i], fp))
      return 1;
  return 0;
}

static void put_generated(struct al_buf *b, struct al_symbolizer *sym,
                          const struct al_leak *l, size_t nl) {
  char (*listed)[AL_FINGERPRINT_LEN + 1] = calloc(nl + 1, sizeof(*listed));
  struct al_site site;
  size_t nlisted = 0;
  int first = 1;

  if (listed == NULL)
    return;
  for (size_t i = 0; i < nl; i++) {
    if (l[i].supp >= 0 || l[i].baselined || !strcmp(l[i].state, "ensured") ||
        (!strcmp(l[i].state, "closing") && !al_opt.fail_on_closing))
      continue;
    al_site_judge(sym, l[i].stack, l[i].is_request, l[i].identity, &site);
    /* Groups of one function apart only by their lines: one line for
     * both. */
    if (seen(listed, nlisted, site.fingerprint))
      continue;
    memcpy(listed[nlisted++], site.fingerprint, sizeof(listed[0]));
    if (first)
      al_buf_printf(b, "Suppressions for the leaks above, for a file given "
                       "to --suppressions:\n");
    first = 0;
    al_buf_printf(b, "# %zu %s of type ", l[i].g->count,
                  l[i].is_request ? plural(l[i].g->count, "request",
                                           "requests")
                                  : plural(l[i].g->count, "handle",
                                           "handles"));
    al_buf_put_text(b, l[i].type);
    al_buf_printf(b, ", fingerprint %s\n", site.fingerprint);
    al_site_put_suppression(b, &site, l[i].identity);
  }
  if (!first)
    al_buf_printf(b, "\n");
  free(listed);
}

/* The records the report lists, as the registry holds them. */
static void list_records(const struct al_entry *e, size_t n,
                         const struct al_report_out *out) {
  size_t k = 0;

  *out->listed = NULL;
  *out->nlisted = 0;
  for (size_t i = 0; i < n; i++)
    k += !e[i].hidden;
  if (k == 0 || (*out->listed = malloc(k * sizeof(**out->listed))) == NULL)
    return;
  for (size_t i = 0; i < n; i++) {
    if (e[i].hidden)
      continue;
    (*out->listed)[*out->nlisted] = e[i].r;
    (*out->listed)[(*out->nlisted)++].type = e[i].type;
  }
}

int al_report_color(int fd) {
  switch (al_opt.color) {
  case AL_COLOR_ALWAYS:
    return 1;
  case AL_COLOR_NEVER:
    return 0;
  default:
    /* NO_COLOR, set and not empty, turns it off (no-color.org). */
    return fd >= 0 && isatty(fd) &&
           (getenv("NO_COLOR") == NULL || *getenv("NO_COLOR") == '\0');
  }
}

int al_report_format(struct al_snapshot *s, struct al_buf *b,
                     struct al_report_totals *t,
                     const struct al_report_scope *scope,
                     const struct al_report_out *out) {
  const struct paint *paint = out && out->color ? &ansi : &plain;
  uint64_t now = al_now_ms();
  int check = scope != NULL, rc = -1;
  struct al_verdict v;

  if (al_verdict_take(s, scope, t, &v) != 0) {
    al_buf_printf(b, "asyncleak: out of memory while writing the report\n");
    goto out;
  }
  /* Findings are the exit report's: a check is about leaks. */
  if (!check)
    al_findings_totals(s, t);

  /* What the user's files hid is told at exit, not at each check. */
  if (v.visible > 0 || v.shutdown_failed || t->unreadable ||
      al_defer_lost() > 0 ||
      (!check && (t->suppressed > 0 || t->baselined > 0 ||
                  t->findings > 0 || al_opt.verbosity >= 1 ||
                  al_opt.check_stacks))) {
    struct al_site site;

    if (v.sym == NULL)
      v.sym = al_symbolizer_new();
    put_header(b, paint, t, v.shutdown_failed, check,
               out ? out->ending : NULL);
    if (t->unreadable)
      al_buf_printf(b, "The report is incomplete: %u part%s of the registry "
                       "stayed locked (was exit called from a signal "
                       "handler?)\n\n", t->unreadable,
                    t->unreadable == 1 ? "" : "s");
    if (al_defer_lost() > 0)
      al_buf_printf(b, "The report is incomplete: %lu event%s of signal "
                       "handlers (a handle, request or loop made or closed "
                       "while asyncleak held a lock) could not be followed"
                       "\n\n", al_defer_lost(),
                    al_defer_lost() == 1 ? "" : "s");
    for (size_t i = 0; i < v.nl; i++) {
      const struct al_leak *l = &v.l[i];

      if (l->supp >= 0 || l->baselined)
        continue;
      al_site_judge(v.sym, l->stack, l->is_request, l->identity, &site);
      if (l->from_notes)
        put_note_group(b, paint, v.sym, &site, s->notes, l->g);
      else
        put_group(b, paint, &site, s, v.e, l->g, now);
    }
    if (s->notes_dropped > 0)
      al_buf_printf(b, "... and %zu more closed at shutdown, not kept\n\n",
                    s->notes_dropped);
    if (!check)
      al_findings_put(b, v.sym, s, paint->title, paint->off);
    if (!check && al_opt.force_close && t->open + t->pending > 0 &&
        !any_forced(s))
      al_buf_printf(b, "Force mode left these to the program: it acts on a "
                       "graceful signal and in asyncleak_loop_close, never "
                       "in the program's own close of a loop or at exit, "
                       "where the program may still close them, or has torn "
                       "down what their callbacks use.\n\n");
    put_shutdowns(b, v.sym, s);
    if (!check) {
      put_loops(b, v.sym, s, t);
      put_vtime(b);
      put_unfollowed(b);
    }
    al_symbolizer_put_note(b, v.sym);
    if (!check && al_opt.check_stacks)
      put_stack_check(b);
    if (t->baselined > 0)
      al_buf_printf(b, "In the baseline, not reported: %zu %s (%zu %s)\n\n",
                    t->baselined_groups,
                    plural(t->baselined_groups, "group", "groups"),
                    t->baselined,
                    plural(t->baselined, "resource", "resources"));
    put_suppressions_used(b, v.hits);
    if (al_opt.gen_suppressions)
      put_generated(b, v.sym, v.l, v.nl);
    if (al_report_failing(t) > 0)
      put_summary(b, paint, v.e, v.n, t);
  }
  if (out != NULL && out->rec != NULL) {
    put_records(out->rec, v.sym, v.l, v.nl, v.hits);
    if (!check && s->nfindings > 0) {
      if (v.sym == NULL)
        v.sym = al_symbolizer_new();
      al_findings_put_records(out->rec, v.sym, s);
    }
  }
  if (out != NULL && out->listed != NULL)
    list_records(v.e, v.n, out);
  rc = b->failed ? -1 : 0;
out:
  al_verdict_free(&v);
  return rc;
}
