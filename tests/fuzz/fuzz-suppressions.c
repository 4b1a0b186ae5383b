/* libFuzzer target: the text of a suppressions file, which the runtime
 * reads in every process of a run (lib/suppress.c, through the same entry
 * point al_suppressions_load uses for each file), and then the rules it
 * keeps, matched against a creation stack as a report does.
 *
 * Beyond what the sanitizers catch, each rule kept must be one the syntax
 * allows (syntax.h), the pattern matcher must agree with a plain
 * implementation of what syntax.h says a pattern means, and the kind
 * written for a type (the input's first line) must be read back and cover
 * it. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Rules are held to the reference matcher while they are few enough for
 * its quadratic cost not to slow the fuzzer down. */
#define CHECKED_RULES 16
/* The longest subject taken from the input. */
#define SUBJECT_MAX 256

/* What the rules point at: it must outlive them. */
static const char name[] = "fuzz.supp";

static void broken(const char *what, size_t rule) {
  fprintf(stderr, "fuzz-suppressions: rule %zu: %s\n", rule, what);
  abort();
}

static int is_space(char c) { return c == ' ' || c == '\t' || c == '\r'; }

static void check_rule(const struct al_supp *r, size_t i, unsigned last) {
  const char *kind = r->rule.kind, *pattern = r->rule.pattern;
  const char *kend = memchr(kind, '\0', sizeof(r->rule.kind));
  const char *pend = memchr(pattern, '\0', sizeof(r->rule.pattern));

  if (kend == NULL || pend == NULL)
    broken("not terminated", i);
  if (kend == kind)
    broken("an empty kind", i);
  for (const char *k = kind; k < kend; k++)
    if (!(*k == '_' || (*k >= 'a' && *k <= 'z') || (*k >= 'A' && *k <= 'Z') ||
          (*k >= '0' && *k <= '9')))
      broken("a kind that is not a name", i);
  /* An empty pattern matches every frame: the parser refuses one. */
  if (pend == pattern)
    broken("an empty pattern", i);
  if (is_space(pattern[0]) || is_space(pend[-1]))
    broken("a pattern not trimmed", i);
  if (strchr(pattern, '\n') != NULL)
    broken("a pattern across lines", i);
  if (r->file != name)
    broken("not the file read", i);
  if (r->line <= last)
    broken("lines out of order", i);
}

/* The reference is a judge, not code under test: left out of the coverage
 * that steers the fuzzer, and of its costly comparison tracing. */
#define JUDGE __attribute__((no_sanitize("coverage"), noinline))

/* Whether p[0, plen) matches all of s, '*' matching any run, by dynamic
 * programming: slow, but plainly right. */
JUDGE static int glob_reference(const char *p, size_t plen, const char *s) {
  size_t slen = strlen(s);
  /* m[j]: whether the pattern so far matches s[0, j). */
  unsigned char *m = calloc(slen + 1, 1);
  int match;

  if (m == NULL)
    abort();
  m[0] = 1;
  for (size_t i = 0; i < plen; i++) {
    if (p[i] == '*') {
      for (size_t j = 1; j <= slen; j++)
        m[j] |= m[j - 1];
      continue;
    }
    for (size_t j = slen; j > 0; j--)
      m[j] = m[j - 1] && s[j - 1] == p[i];
    m[0] = 0;
  }
  match = m[slen];
  free(m);
  return match;
}

/* al_pattern_match as syntax.h words it. */
JUDGE static int match_reference(const char *pattern, const char *s) {
  char buf[AL_SUPP_PATTERN_MAX + 2];
  size_t len = strlen(pattern), n = 0;

  if (pattern[0] == '^')
    pattern++, len--;
  else
    buf[n++] = '*';
  memcpy(buf + n, pattern, len);
  n += len;
  if (len > 0 && pattern[len - 1] == '$')
    n--;
  else
    buf[n++] = '*';
  return glob_reference(buf, n, s);
}

/* The input's first line, cut to SUBJECT_MAX bytes: a function name in the
 * stack below, so that both sides of a match come from the input. */
static char *first_line(const char *text, size_t size) {
  const char *nl = memchr(text, '\n', size);
  size_t len = nl != NULL ? (size_t)(nl - text) : size;
  char *line;

  if (len > SUBJECT_MAX)
    len = SUBJECT_MAX;
  if ((line = malloc(len + 1)) == NULL)
    abort();
  memcpy(line, text, len);
  line[len] = '\0';
  return line;
}

/* Matches the rules against a creation stack as a report sees one: the
 * libuv call, the program's frames, one that could not be symbolized. */
static void match_stack(const struct al_supp *rules, size_t n,
                        const char *subject) {
  const struct al_frame frames[] = {
      {.function = "uv_timer_init", .module = "libuv.so.1"},
      {.function = subject,
       .file = "tests/progs/uv-suppress.c",
       .module = "uv-suppress"},
      {.function = "start_vendor_timer",
       .file = "vendor/timer.c",
       .module = "uv-suppress"},
      {.function = NULL, .file = NULL, .module = NULL},
      {.function = "main",
       .file = "tests/progs/uv-suppress.c",
       .module = "uv-suppress"},
  };
  const size_t nframes = sizeof(frames) / sizeof(frames[0]);
  const long found[] = {
      al_suppression_find(0, "uv_timer_t", frames, nframes),
      al_suppression_find(1, "uv_write_t", frames, nframes),
      al_suppression_find(0, NULL, frames, nframes),
      al_suppression_find(0, "event (added)", frames, nframes),
      al_suppression_find(1, "evdns_getaddrinfo request", frames, nframes),
      al_suppression_find(0, subject, frames, nframes),
  };

  for (size_t k = 0; k < sizeof(found) / sizeof(found[0]); k++)
    if (found[k] < -1 || found[k] >= (long)n)
      broken("found, but there is no such rule", (size_t)found[k]);

  for (size_t i = 0; i < n && i < CHECKED_RULES; i++)
    for (size_t f = 0; f < nframes; f++) {
      const char *strings[] = {frames[f].function, frames[f].file,
                               frames[f].module};

      for (size_t k = 0; k < 3; k++)
        if (strings[k] != NULL &&
            al_pattern_match(rules[i].rule.pattern, strings[k]) !=
                match_reference(rules[i].rule.pattern, strings[k]))
          broken("the matcher disagrees with the reference", i);
    }
}

/* The kind --gen-suppressions writes for a type named subject is a kind
 * the parser reads back, and it covers that type. */
static void check_kind(const char *subject) {
  char kind[AL_SUPP_KIND_MAX], line[AL_SUPP_KIND_MAX + 8];
  struct al_supp_rule rule;
  const char *why = NULL;
  size_t n = al_supp_kind_of(subject, kind, sizeof(kind));

  if (n == 0)
    return;
  if (n != strlen(kind))
    broken("a kind of another length than said", 0);
  snprintf(line, sizeof(line), "%s:^f$", kind);
  if (al_supp_parse(line, strlen(line), &rule, &why) != 1)
    broken("a kind written that is read as malformed", 0);
  if (!al_supp_kind_covers(rule.kind, 0, subject) ||
      !al_supp_kind_covers(rule.kind, 1, subject))
    broken("a kind written that does not cover its type", 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const char *text = (const char *)data;
  char *subject = first_line(text, size);
  const struct al_supp *rules;
  size_t n;

  /* The text is passed as the fuzzer holds it, unterminated: a read past
   * its end is caught. */
  al_suppressions_parse(name, text, size);

  n = al_suppressions(&rules);
  if (n > AL_SUPP_RULES_MAX)
    broken("more rules than the limit", n);
  for (size_t i = 0; i < n; i++)
    check_rule(&rules[i], i, i > 0 ? rules[i - 1].line : 0);
  match_stack(rules, n, subject);
  check_kind(subject);

  /* What the runtime reads once per process, the fuzzer reads per input. */
  al_suppress_reset();
  free(subject);
  return 0;
}
