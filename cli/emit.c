/* Writing JSON and XML for the machine-readable reports. What they hold
 * comes from the program: symbols, paths and a text report, none of them
 * promised to be UTF-8, so every string goes through one decoder, and
 * what is not UTF-8 becomes U+FFFD rather than a document that parsers
 * refuse. */
#include <string.h>

#include "emit.h"

static const char replacement[] = "\xef\xbf\xbd"; /* U+FFFD */

/* The code point the UTF-8 sequence at s encodes, and its length in used;
 * -1 and a length of 1 when the byte at s starts no valid sequence
 * (overlong forms, surrogates and values past U+10FFFF included). */
static long utf8_next(const unsigned char *s, size_t len, size_t *used) {
  unsigned char c = s[0];
  size_t n;
  long cp, min;

  *used = 1;
  if (c < 0x80)
    return c;
  if ((c & 0xe0) == 0xc0)
    n = 2, cp = c & 0x1f, min = 0x80;
  else if ((c & 0xf0) == 0xe0)
    n = 3, cp = c & 0x0f, min = 0x800;
  else if ((c & 0xf8) == 0xf0)
    n = 4, cp = c & 0x07, min = 0x10000;
  else
    return -1;
  if (n > len)
    return -1;
  for (size_t i = 1; i < n; i++) {
    if ((s[i] & 0xc0) != 0x80)
      return -1;
    cp = cp << 6 | (s[i] & 0x3f);
  }
  if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
    return -1;
  *used = n;
  return cp;
}

/* ------------------------------------------------------------- JSON */

/* RFC 8259: quotes, backslashes and control characters escaped; the rest
 * of UTF-8 as it is. */
static void json_quote(FILE *out, const char *str, size_t len) {
  const unsigned char *s = (const unsigned char *)str;

  fputc('"', out);
  while (len > 0) {
    size_t used;
    long cp = utf8_next(s, len, &used);

    if (cp < 0)
      fputs(replacement, out);
    else if (cp == '"' || cp == '\\')
      fprintf(out, "\\%c", (int)cp);
    else if (cp == '\n')
      fputs("\\n", out);
    else if (cp == '\t')
      fputs("\\t", out);
    else if (cp == '\r')
      fputs("\\r", out);
    else if (cp < 0x20)
      fprintf(out, "\\u%04x", (unsigned)cp);
    else
      fwrite(s, 1, used, out);
    s += used;
    len -= used;
  }
  fputc('"', out);
}

static void json_newline(struct cli_json *j) {
  fputc('\n', j->out);
  for (int i = 0; i < j->depth; i++)
    fputs("  ", j->out);
}

/* What goes before a value: the comma after the one before it, its line,
 * and its key. */
static void json_key(struct cli_json *j, const char *key) {
  if (j->depth > 0) {
    if (!j->empty)
      fputc(',', j->out);
    json_newline(j);
  }
  j->empty = 0;
  if (key != NULL) {
    json_quote(j->out, key, strlen(key));
    fputs(": ", j->out);
  }
}

static void json_open(struct cli_json *j, const char *key, int bracket) {
  json_key(j, key);
  fputc(bracket, j->out);
  j->depth++;
  j->empty = 1;
}

/* An empty object or array stays on one line: {} and []. */
static void json_close(struct cli_json *j, int bracket) {
  j->depth--;
  if (!j->empty)
    json_newline(j);
  fputc(bracket, j->out);
  j->empty = 0;
}

void cli_json_begin(struct cli_json *j, FILE *out) {
  *j = (struct cli_json){out, 0, 1};
}

int cli_json_end(struct cli_json *j) {
  fputc('\n', j->out);
  return fflush(j->out) != 0 || ferror(j->out) ? -1 : 0;
}

void cli_json_object(struct cli_json *j, const char *key) {
  json_open(j, key, '{');
}

void cli_json_array(struct cli_json *j, const char *key) {
  json_open(j, key, '[');
}

void cli_json_close_object(struct cli_json *j) { json_close(j, '}'); }

void cli_json_close_array(struct cli_json *j) { json_close(j, ']'); }

void cli_json_string(struct cli_json *j, const char *key, const char *s) {
  json_key(j, key);
  if (s == NULL)
    fputs("null", j->out);
  else
    json_quote(j->out, s, strlen(s));
}

void cli_json_uint(struct cli_json *j, const char *key, unsigned long long n) {
  json_key(j, key);
  fprintf(j->out, "%llu", n);
}

void cli_json_int(struct cli_json *j, const char *key, long long n) {
  json_key(j, key);
  fprintf(j->out, "%lld", n);
}

void cli_json_bool(struct cli_json *j, const char *key, int b) {
  json_key(j, key);
  fputs(b ? "true" : "false", j->out);
}

void cli_json_null(struct cli_json *j, const char *key) {
  json_key(j, key);
  fputs("null", j->out);
}

/* ------------------------------------------------------------- XML */

/* The characters XML 1.0 allows at all; the others cannot even be
 * written as references, so they are left out. */
static int xml_allowed(long cp) {
  return cp == '\t' || cp == '\n' || cp == '\r' ||
         (cp >= 0x20 && cp <= 0xd7ff) || (cp >= 0xe000 && cp <= 0xfffd) ||
         cp >= 0x10000;
}

/* Parsers turn tabs and line breaks in attribute values into spaces, and
 * a carriage return anywhere into a line feed, unless they are written as
 * references. */
static const char *xml_entity(long cp, int attr) {
  switch (cp) {
  case '&':
    return "&amp;";
  case '<':
    return "&lt;";
  case '>':
    return "&gt;";
  case '"':
    return "&quot;";
  case '\'':
    return "&apos;";
  case '\r':
    return "&#13;";
  case '\t':
    return attr ? "&#9;" : NULL;
  case '\n':
    return attr ? "&#10;" : NULL;
  default:
    return NULL;
  }
}

void cli_xml_text(FILE *out, const char *str, size_t len, int attr) {
  const unsigned char *s = (const unsigned char *)str;

  while (len > 0) {
    size_t used;
    long cp;
    const char *entity;

    /* A terminal's colour sequence (ESC [ ... letter) is dropped whole:
     * XML has no place for ESC, and the rest of it would be noise. */
    if (len > 1 && s[0] == 0x1b && s[1] == '[') {
      for (used = 2; used < len && (s[used] < 0x40 || s[used] > 0x7e);)
        used++;
      used += used < len;
      s += used;
      len -= used;
      continue;
    }
    cp = utf8_next(s, len, &used);
    entity = xml_entity(cp, attr);

    if (cp < 0)
      fputs(replacement, out);
    else if (entity != NULL)
      fputs(entity, out);
    else if (xml_allowed(cp))
      fwrite(s, 1, used, out);
    s += used;
    len -= used;
  }
}

void cli_xml_string(FILE *out, const char *s, int attr) {
  if (s != NULL)
    cli_xml_text(out, s, strlen(s), attr);
}

/* ------------------------------------------------------------- leaks */

const char *cli_proc_report(const struct cli_proc *p) {
  if (p->has_sum)
    return "complete";
  if (p->text != NULL || p->rec != NULL)
    return "incomplete";
  if (p->missing == CLI_MISSING_UNTRACED)
    return "untraced";
  return "missing";
}

/* The same sum as the one that fails the run in report.c: handles closed
 * and requests cancelled by force were left so by the program, and
 * findings fail it when the process was told so. */
int cli_proc_failed(const struct cli_proc *p) {
  return p->handles_open + p->requests_pending + p->handles_forced +
             p->requests_cancelled +
             (p->closing_fails ? p->handles_closing : 0) +
             cli_proc_findings_failing(p) >
         0;
}

const char *cli_group_kind(const struct cli_group *g) {
  if (!strcmp(g->state, "pending") || !strcmp(g->state, "cancelled"))
    return "request";
  if (!strcmp(g->state, "ensured"))
    return "resource";
  return "handle";
}

const struct cli_frame *cli_group_own(const struct cli_group *g) {
  if (g->own < 0 || (size_t)g->own >= g->nframes)
    return NULL;
  return &g->frames[g->own];
}

const struct cli_frame *cli_group_frame(const struct cli_group *g) {
  const struct cli_frame *own = cli_group_own(g);

  if (own != NULL && own->function[0] != '\0')
    return own;
  for (size_t i = 0; i < g->nframes; i++)
    if (g->frames[i].function[0] != '\0')
      return &g->frames[i];
  return NULL;
}

/* What became of the group, after "N handles of type T". */
static const char *fate(const char *state) {
  static const struct {
    const char *state, *fate;
  } fates[] = {
      {"open", "left open"},
      {"closing", "closing, the close never completed"},
      {"pending", "left pending"},
      {"forced", "left open, closed by force at shutdown"},
      {"cancelled", "left pending, cancelled at shutdown"},
  };

  for (size_t i = 0; i < CLI_ARRAY_SIZE(fates); i++)
    if (!strcmp(state, fates[i].state))
      return fates[i].fate;
  return state;
}

/* An ensured group's type is the function asyncleak_ensure_closure was
 * given to close it with, as the text report names it. */
const char *cli_group_message(const struct cli_group *g, char *buf,
                              size_t size) {
  const char *kind = cli_group_kind(g);
  const char *s = g->count == 1 ? "" : "s";

  if (!strcmp(g->state, "ensured"))
    snprintf(buf, size, "%llu %s%s left open, closed at shutdown by %s",
             g->count, kind, s, g->type);
  else
    snprintf(buf, size, "%llu %s%s of type %s %s", g->count, kind, s, g->type,
             fate(g->state));
  return buf;
}

struct cli_group cli_finding_group(const struct cli_finding *f, int which) {
  struct cli_group g = {"finding", f->type, f->fingerprint, f->count, -1,
                        0, f->frames[which], f->nframes[which]};

  if (which == 0) {
    g.own = f->own;
  } else {
    /* The second stack's own frame: the first with a source file in the
     * module of the call's own frame, else the first with one. */
    const struct cli_group call = cli_finding_group(f, 0);
    const struct cli_frame *own = cli_group_own(&call);

    for (size_t i = 0; i < g.nframes && g.own < 0; i++)
      if (g.frames[i].file[0] != '\0' &&
          (own == NULL || !strcmp(g.frames[i].module, own->module)))
        g.own = (int)i;
  }
  return g;
}

/* What each check's findings were, after the call; where the first
 * stack is, and what the second stack is. */
static const struct {
  const char *check, *what, *in, *other, *then;
} finding_words[] = {
    {"use-after-close", "on %s %s already closed", "in", "closed first in",
     "and before"},
    {"wrong-thread", "on %s %s", "in", "the run of its loop began in",
     "and before"},
    {"slow-callback", "callback on %s %s held its loop", "created in",
     "the callback", "the callback"},
    /* check_stacks: a finding about asyncleak's own capture; no type. */
    {"stack-capture", "served from the cache differed from a full unwind",
     "served in", "a full unwind gave", "and before"},
};

const char *cli_finding_other(const struct cli_finding *f) {
  for (size_t i = 0; i < CLI_ARRAY_SIZE(finding_words); i++)
    if (!strcmp(f->check, finding_words[i].check))
      return finding_words[i].other;
  return "see";
}

const char *cli_finding_then(const struct cli_finding *f) {
  for (size_t i = 0; i < CLI_ARRAY_SIZE(finding_words); i++)
    if (!strcmp(f->check, finding_words[i].check))
      return finding_words[i].then;
  return "and before";
}

const char *cli_finding_message(const struct cli_finding *f, char *buf,
                                size_t size) {
  const char *what = "on %s %s", *in = "in", *other = "see";
  struct cli_group call = cli_finding_group(f, 0);
  struct cli_group first = cli_finding_group(f, 1);
  const struct cli_frame *at = cli_group_frame(&call);
  const struct cli_frame *then = cli_group_frame(&first);
  size_t len;

  for (size_t i = 0; i < CLI_ARRAY_SIZE(finding_words); i++)
    if (!strcmp(f->check, finding_words[i].check)) {
      what = finding_words[i].what;
      in = finding_words[i].in;
      other = finding_words[i].other;
    }
  snprintf(buf, size, "%s ", f->call);
  len = strlen(buf);
  /* "a uv_timer_t", "an event": libuv's types are read "a you-vee". */
  snprintf(buf + len, size - len, what,
           f->type[0] != 'u' && strchr("aeiouAEIOU", f->type[0]) ? "an" : "a",
           f->type);
  len = strlen(buf);
  if (f->thread != 0 && f->loop_thread != 0)
    snprintf(buf + len, size - len, " from thread %ld while thread %ld runs %s",
             f->thread, f->loop_thread,
             !strcmp(f->type, "loop") ? "it" : "its loop");
  len = strlen(buf);
  snprintf(buf + len, size - len, ", %llu time%s", f->count,
           f->count == 1 ? "" : "s");
  len = strlen(buf);
  if (f->value > 0)
    snprintf(buf + len, size - len, ", the longest %llu ms", f->value);
  len = strlen(buf);
  if (at != NULL)
    snprintf(buf + len, size - len, ", %s %s", in, at->function);
  len = strlen(buf);
  if (then != NULL)
    snprintf(buf + len, size - len, "; %s %s", other, then->function);
  return buf;
}
