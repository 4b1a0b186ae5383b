/* The syntax of options, suppression files and baseline files: pure
 * functions over strings, checked table by table. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "syntax.h"

/* ------------------------------------------------------------- patterns */

struct match_case {
  const char *pattern;
  const char *text;
  int want;
};

static void test_syntax__pattern_match_table(void **state) {
  static const struct match_case cases[] = {
      /* Unanchored: a substring anywhere. */
      {"timer", "start_timer_x", 1},
      {"timer", "timer", 1},
      {"timer", "start_time", 0},
      {"start", "start_timer_x", 1},
      {"_x", "start_timer_x", 1},
      /* '*' in the middle, and several. */
      {"start*x", "start_timer_x", 1},
      {"start*y", "start_timer_x", 0},
      {"s*t*r", "start_timer_x", 1},
      {"^s*_*_x$", "start_timer_x", 1},
      {"^s*_*_y$", "start_timer_x", 0},
      {"**", "abc", 1},
      {"a**c", "abc", 1},
      /* Anchors. */
      {"^start", "start_timer_x", 1},
      {"^timer", "start_timer_x", 0},
      {"_x$", "start_timer_x", 1},
      {"timer$", "start_timer_x", 0},
      {"^start_timer_x$", "start_timer_x", 1},
      {"^start_timer$", "start_timer_x", 0},
      {"^tart_timer_x$", "start_timer_x", 0},
      {"^exact$", "exact", 1},
      {"^exact$", "exactly", 0},
      {"^exact$", "inexact", 0},
      {"^exact$", "", 0},
      {"^*timer*$", "start_timer_x", 1},
      /* A pattern longer than the text. */
      {"start_timer_x_and_more", "start_timer_x", 0},
      {"^start_timer_x_", "start_timer_x", 0},
      {"xstart_timer_x", "start_timer_x", 0},
      /* Empty-ish. */
      {"*", "", 1},
      {"*", "anything", 1},
      {"^$", "", 1},
      {"^$", "a", 0},
      {"^", "", 1},
      {"^", "abc", 1},
      {"$", "", 1},
      {"$", "abc", 1},
      {"", "", 1},
      {"", "abc", 1},
      {"^*$", "", 1},
      {"a", "", 0},
      /* Backtracking. */
      {"a*b*c", "aXbYbZc", 1},
      {"^a*b*c$", "aXbYbZc", 1},
      {"a*b*c", "aXbY", 0},
      {"^a*b*c$", "aXbYbZcQ", 0},
      {"^a*bc$", "abXbbc", 1},
      {"^a*aab$", "aaaaab", 1},
      {"^a*aab$", "aaaaa", 0},
      {"^*ab", "xaxab", 1},
      {"mississippi", "mississippi", 1},
      {"^m*iss*ppi$", "mississippi", 1},
      {"^m*iss*ppi$", "mississippx", 0},
  };
  (void)state;
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    int got = al_pattern_match(cases[i].pattern, cases[i].text);
    if (got != cases[i].want)
      fail_msg("al_pattern_match(\"%s\", \"%s\") = %d, want %d",
               cases[i].pattern, cases[i].text, got, cases[i].want);
  }
}

static void test_syntax__pattern_match_null_text(void **state) {
  (void)state;
  assert_int_equal(al_pattern_match("*", NULL), 0);
  assert_int_equal(al_pattern_match("", NULL), 0);
  assert_int_equal(al_pattern_match("^$", NULL), 0);
  assert_int_equal(al_pattern_match("timer", NULL), 0);
}

static void test_syntax__pattern_match_pathological(void **state) {
  size_t n = 10000;
  char *text = malloc(n + 2);
  (void)state;
  assert_non_null(text);
  memset(text, 'a', n);
  text[n] = '\0';
  assert_int_equal(al_pattern_match("^a*a*a*a*b$", text), 0);
  assert_int_equal(al_pattern_match("a*a*a*a*b", text), 0);
  assert_int_equal(al_pattern_match("^a*a*a*a*a$", text), 1);
  text[n] = 'b';
  text[n + 1] = '\0';
  assert_int_equal(al_pattern_match("^a*a*a*a*b$", text), 1);
  free(text);
}

/* A pattern as long as a rule may be still matches; a longer one does
 * not (it cannot come from a file). */
static void test_syntax__pattern_match_long_pattern(void **state) {
  char pattern[AL_SUPP_PATTERN_MAX + 3];
  char text[AL_SUPP_PATTERN_MAX + 3];
  (void)state;
  memset(text, 'x', AL_SUPP_PATTERN_MAX - 1);
  text[AL_SUPP_PATTERN_MAX - 1] = '\0';
  /* "^xxx...x$", AL_SUPP_PATTERN_MAX - 1 characters between anchors. */
  pattern[0] = '^';
  memset(pattern + 1, 'x', AL_SUPP_PATTERN_MAX - 1);
  pattern[AL_SUPP_PATTERN_MAX] = '$';
  pattern[AL_SUPP_PATTERN_MAX + 1] = '\0';
  assert_int_equal(al_pattern_match(pattern, text), 1);
  assert_int_equal(al_pattern_match(pattern + 1, text), 1);
  assert_int_equal(al_pattern_match(pattern, "x"), 0);
}

/* ------------------------------------------------------------- rules */

static int parse(const char *line, struct al_supp_rule *r, const char **why) {
  return al_supp_parse(line, strlen(line), r, why);
}

struct rule_case {
  const char *line;
  const char *kind;
  const char *pattern;
};

static void test_syntax__supp_parse_good(void **state) {
  static const struct rule_case cases[] = {
      {"uv_timer:start_timer", "uv_timer", "start_timer"},
      {"  uv_timer  :  ^start_timer$  ", "uv_timer", "^start_timer$"},
      {"\thandle\t:\t*\t\r", "handle", "*"},
      {"request:a b", "request", "a b"},
      {"uv_tcp_t:lib*.so", "uv_tcp_t", "lib*.so"},
      /* Only the first ':' separates. */
      {"handle:ns::fn", "handle", "ns::fn"},
      {"handle:#not a comment", "handle", "#not a comment"},
  };
  (void)state;
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    struct al_supp_rule r;
    const char *why = NULL;
    memset(&r, 0x55, sizeof(r));
    int rc = parse(cases[i].line, &r, &why);
    if (rc != 1)
      fail_msg("al_supp_parse(\"%s\") = %d (%s)", cases[i].line, rc,
               why ? why : "");
    assert_string_equal(r.kind, cases[i].kind);
    assert_string_equal(r.pattern, cases[i].pattern);
  }
}

/* The length given is what counts, not a terminator. */
static void test_syntax__supp_parse_uses_len(void **state) {
  struct al_supp_rule r;
  const char *why = NULL;
  const char *text = "handle:foo\nrequest:bar";
  (void)state;
  assert_int_equal(al_supp_parse(text, 10, &r, &why), 1);
  assert_string_equal(r.kind, "handle");
  assert_string_equal(r.pattern, "foo");
  assert_int_equal(al_supp_parse(text + 11, 11, &r, &why), 1);
  assert_string_equal(r.kind, "request");
  assert_string_equal(r.pattern, "bar");
  assert_int_equal(al_supp_parse(text, 0, &r, &why), 0);
}

/* A NUL byte would cut the pattern short when matched, to "" here, which
 * matches every frame (found by tests/fuzz/fuzz-suppressions.c). */
static void test_syntax__supp_parse_refuses_nul(void **state) {
  struct al_supp_rule r;
  const char *why = NULL;
  const char text[] = "handle:\0vendor_*";
  (void)state;
  assert_int_equal(al_supp_parse(text, sizeof(text) - 1, &r, &why), -1);
  assert_non_null(strstr(why, "NUL"));
  assert_int_equal(al_supp_parse("handle:a\0", 9, &r, &why), -1);
}

static void test_syntax__supp_parse_blank_and_comment(void **state) {
  static const char *const lines[] = {
      "", " ", "\t \r", "# a comment", "   # indented: comment",
      "#handle:foo",
  };
  (void)state;
  for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
    struct al_supp_rule r;
    const char *why = NULL;
    int rc = parse(lines[i], &r, &why);
    if (rc != 0)
      fail_msg("al_supp_parse(\"%s\") = %d, want 0", lines[i], rc);
  }
}

static void test_syntax__supp_parse_malformed(void **state) {
  char long_kind[AL_SUPP_KIND_MAX + 16];
  char long_pattern[AL_SUPP_PATTERN_MAX + 16];
  char max_kind[AL_SUPP_KIND_MAX + 16];
  char max_pattern[AL_SUPP_PATTERN_MAX + 16];
  struct al_supp_rule r;
  const char *why;
  (void)state;

  /* A kind of AL_SUPP_KIND_MAX characters does not fit; one less does. */
  memset(long_kind, 'k', AL_SUPP_KIND_MAX);
  strcpy(long_kind + AL_SUPP_KIND_MAX, ":foo");
  memset(max_kind, 'k', AL_SUPP_KIND_MAX - 1);
  strcpy(max_kind + AL_SUPP_KIND_MAX - 1, ":foo");
  strcpy(long_pattern, "handle:");
  memset(long_pattern + 7, 'p', AL_SUPP_PATTERN_MAX);
  long_pattern[7 + AL_SUPP_PATTERN_MAX] = '\0';
  strcpy(max_pattern, "handle:");
  memset(max_pattern + 7, 'p', AL_SUPP_PATTERN_MAX - 1);
  max_pattern[7 + AL_SUPP_PATTERN_MAX - 1] = '\0';

  const char *const bad[] = {
      "no colon here", "uv_timer", ":foo", "   :foo", "uv-timer:x",
      "uv timer:x", "uv.timer:x", "uv_timer:", "uv_timer:   ", "handle:\t\r",
      long_kind, long_pattern,
  };
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    why = NULL;
    int rc = parse(bad[i], &r, &why);
    if (rc != -1 || why == NULL || why[0] == '\0')
      fail_msg("al_supp_parse(\"%.40s\") = %d, why %s; want -1 and a reason",
               bad[i], rc, why ? why : "NULL");
  }

  /* The reasons tell the cases apart. */
  why = NULL;
  assert_int_equal(parse("uv_timer", &r, &why), -1);
  assert_non_null(strstr(why, "kind:pattern"));
  assert_int_equal(parse(long_kind, &r, &why), -1);
  assert_non_null(strstr(why, "too long"));
  assert_int_equal(parse(long_pattern, &r, &why), -1);
  assert_non_null(strstr(why, "too long"));
  assert_int_equal(parse("uv_timer:", &r, &why), -1);
  assert_non_null(strstr(why, "no pattern"));
  assert_int_equal(parse(":x", &r, &why), -1);
  assert_non_null(strstr(why, "no kind"));

  /* Just under the limits is fine. */
  why = NULL;
  assert_int_equal(parse(max_kind, &r, &why), 1);
  assert_int_equal(strlen(r.kind), AL_SUPP_KIND_MAX - 1);
  assert_string_equal(r.pattern, "foo");
  assert_int_equal(parse(max_pattern, &r, &why), 1);
  assert_string_equal(r.kind, "handle");
  assert_int_equal(strlen(r.pattern), AL_SUPP_PATTERN_MAX - 1);
}

struct covers_case {
  const char *kind;
  int is_request;
  const char *type;
  int want;
};

static void test_syntax__supp_kind_covers(void **state) {
  static const struct covers_case cases[] = {
      {"handle", 0, "uv_timer_t", 1},
      {"handle", 1, "uv_write_t", 0},
      {"request", 1, "uv_write_t", 1},
      {"request", 0, "uv_timer_t", 0},
      {"handle", 0, NULL, 1},
      {"request", 1, NULL, 1},
      {"uv_timer", 0, "uv_timer_t", 1},
      {"uv_timer_t", 0, "uv_timer_t", 1},
      {"uv_time", 0, "uv_timer_t", 0},
      {"uv_timer_", 0, "uv_timer_t", 0},
      {"uv_timer_tt", 0, "uv_timer_t", 0},
      {"uv_idle", 0, "uv_timer_t", 0},
      {"uv_timer", 0, "uv_timer", 1},
      {"uv_write", 1, "uv_write_t", 1},
      {"uv_timer", 0, NULL, 0},
      {"uv_timer_t", 0, NULL, 0},
      {"uv_write", 1, NULL, 0},
      /* libevent's types, named by their kinds. */
      {"event_added", 0, "event (added)", 1},
      {"event_added", 0, "event (never freed)", 0},
      {"event_added", 0, "event", 0},
      {"event", 0, "event (added)", 0},
      {"event_never_freed", 0, "event (never freed)", 1},
      {"event_once", 0, "event (once)", 1},
      {"evdns_request", 1, "evdns request", 1},
      {"evdns_request", 1, "evdns_getaddrinfo request", 0},
      {"evdns_getaddrinfo_request", 1, "evdns_getaddrinfo request", 1},
      {"evhttp_request", 1, "evhttp request", 1},
      {"evhttp", 0, "evhttp_connection", 0},
      {"evhttp_connection", 0, "evhttp_connection", 1},
  };
  (void)state;
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    int got = al_supp_kind_covers(cases[i].kind, cases[i].is_request,
                                  cases[i].type);
    if (got != cases[i].want)
      fail_msg("al_supp_kind_covers(\"%s\", %d, %s) = %d, want %d",
               cases[i].kind, cases[i].is_request,
               cases[i].type ? cases[i].type : "NULL", got, cases[i].want);
  }
}

struct kind_case {
  const char *type;
  const char *kind; /* NULL: none */
};

static void test_syntax__supp_kind_of(void **state) {
  static const struct kind_case cases[] = {
      {"uv_timer_t", "uv_timer"},
      {"uv_fs_t", "uv_fs"},
      {"uv_timer", "uv_timer"},
      {"event (added)", "event_added"},
      {"event (added when its base was freed)",
       "event_added_when_its_base_was_freed"},
      {"event (never freed)", "event_never_freed"},
      {"evdns_getaddrinfo request", "evdns_getaddrinfo_request"},
      {"  a -- b  ", "a_b"},
      {"a_ (b)", "a_b"},
      {"_t", "_t"},
      {"x_t_t", "x_t"},
      {"Event-2", "Event_2"},
      {"", NULL},
      {" () ", NULL},
      {"handle", NULL},
      {"request:", NULL},
      {"handles", "handles"},
  };
  char kind[AL_SUPP_KIND_MAX];
  (void)state;
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    size_t n = al_supp_kind_of(cases[i].type, kind, sizeof(kind));
    if (cases[i].kind == NULL) {
      if (n != 0)
        fail_msg("al_supp_kind_of(\"%s\") = \"%s\", want none",
                 cases[i].type, kind);
      continue;
    }
    if (n != strlen(cases[i].kind) || strcmp(kind, cases[i].kind))
      fail_msg("al_supp_kind_of(\"%s\") = %zu \"%s\", want \"%s\"",
               cases[i].type, n, n ? kind : "", cases[i].kind);
  }
  assert_int_equal(al_supp_kind_of(NULL, kind, sizeof(kind)), 0);
  /* Too small a buffer, or too long a kind for a rule. */
  assert_int_equal(al_supp_kind_of("uv_timer_t", kind, 4), 0);
  assert_int_equal(al_supp_kind_of("uv_timer_t", kind, 0), 0);
  char long_type[AL_SUPP_KIND_MAX + 8];
  char big[AL_SUPP_KIND_MAX * 2];
  memset(long_type, 'k', sizeof(long_type) - 1);
  long_type[sizeof(long_type) - 1] = '\0';
  assert_int_equal(al_supp_kind_of(long_type, big, sizeof(big)), 0);
}

/* What the generator writes, the parser reads, and it covers the type it
 * was written for: "KIND:^f$" for each type a report may show. */
static void test_syntax__supp_kind_round_trip(void **state) {
  static const char *const types[] = {
      "uv_timer_t", "uv_write_t", "event (added)", "event (never freed)",
      "event (once)", "event (added when its base was freed)",
      "bufferevent", "evconnlistener", "evhttp", "evhttp_connection",
      "evdns_base", "evdns request", "evdns_getaddrinfo request",
      "evhttp request", "resource", "(unknown)",
  };
  (void)state;
  for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
    char kind[AL_SUPP_KIND_MAX], line[AL_SUPP_KIND_MAX + 8];
    struct al_supp_rule r;
    const char *why = NULL;

    assert_true(al_supp_kind_of(types[i], kind, sizeof(kind)) > 0);
    snprintf(line, sizeof(line), "%s:^f$", kind);
    if (parse(line, &r, &why) != 1)
      fail_msg("\"%s\", written for %s, is malformed: %s", line, types[i],
               why ? why : "");
    assert_true(al_supp_kind_covers(r.kind, 0, types[i]));
    assert_true(al_supp_kind_covers(r.kind, 1, types[i]));
  }
}

/* ------------------------------------------------------------- baselines */

struct baseline_case {
  const char *line;
  int want;
  const char *fp;
};

static void test_syntax__baseline_parse(void **state) {
  static const struct baseline_case cases[] = {
      {"0123456789abcdef  # 2 handles of type uv_timer_t", 1,
       "0123456789abcdef"},
      {"0123456789abcdef", 1, "0123456789abcdef"},
      {"  6ff46221167bfec8\t\r", 1, "6ff46221167bfec8"},
      {"6ff46221167bfec8 anything at all", 1, "6ff46221167bfec8"},
      {"", 0, NULL},
      {"   \t", 0, NULL},
      {"# a comment", 0, NULL},
      {"  #0123456789abcdef", 0, NULL},
      /* Too short. */
      {"0123456789abcde", -1, NULL},
      {"0123456789abcde # fifteen", -1, NULL},
      {"abc", -1, NULL},
      /* Not lowercase hex. */
      {"0123456789ABCDEF", -1, NULL},
      {"0123456789abcdeF", -1, NULL},
      {"0123456789abcdeg", -1, NULL},
      {"0x23456789abcdef", -1, NULL},
      {"0123456789 abcdef", -1, NULL},
      /* Seventeen digits glued together, or something glued on. */
      {"0123456789abcdef0", -1, NULL},
      {"0123456789abcdef0 # seventeen", -1, NULL},
      {"0123456789abcdefz", -1, NULL},
      {"0123456789abcdef#glued", -1, NULL},
  };
  (void)state;
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    char fp[AL_FINGERPRINT_LEN + 1];
    memset(fp, 'Z', sizeof(fp));
    int got = al_baseline_parse(cases[i].line, strlen(cases[i].line), fp);
    if (got != cases[i].want)
      fail_msg("al_baseline_parse(\"%s\") = %d, want %d", cases[i].line, got,
               cases[i].want);
    if (got == 1)
      assert_string_equal(fp, cases[i].fp);
  }
}

/* The length given is what counts: a line cut from a file. */
static void test_syntax__baseline_parse_uses_len(void **state) {
  char fp[AL_FINGERPRINT_LEN + 1];
  const char *text = "0123456789abcdef0123";
  (void)state;
  assert_int_equal(al_baseline_parse(text, 16, fp), 1);
  assert_string_equal(fp, "0123456789abcdef");
  assert_int_equal(al_baseline_parse(text, 15, fp), -1);
  assert_int_equal(al_baseline_parse(text, 17, fp), -1);
}

/* ------------------------------------------------------------- options */

/* Compares a token's key and value with the expected ones (value NULL when
 * the entry has no '='). */
static void expect_token(const struct al_token *t, const char *key,
                         const char *value) {
  assert_int_equal(t->klen, strlen(key));
  assert_memory_equal(t->key, key, t->klen);
  if (value == NULL) {
    assert_null(t->value);
    assert_int_equal(t->vlen, 0);
  } else {
    assert_non_null(t->value);
    assert_int_equal(t->vlen, strlen(value));
    assert_memory_equal(t->value, value, t->vlen);
  }
}

static void test_syntax__option_next(void **state) {
  const char *text = "a=1:b='x y',c=\"q\" d";
  const char *p = text;
  struct al_token t;
  (void)state;
  assert_int_equal(al_option_next(&p, &t), 1);
  expect_token(&t, "a", "1");
  assert_int_equal(al_option_next(&p, &t), 1);
  expect_token(&t, "b", "x y");
  assert_int_equal(al_option_next(&p, &t), 1);
  expect_token(&t, "c", "q");
  assert_int_equal(al_option_next(&p, &t), 1);
  expect_token(&t, "d", NULL);
  assert_int_equal(al_option_next(&p, &t), 0);
  assert_ptr_equal(p, text + strlen(text));
  /* At the end it stays there. */
  assert_int_equal(al_option_next(&p, &t), 0);
}

struct option_case {
  const char *text;
  int n;
  const char *key[4];
  const char *value[4];
  int last; /* what the call after the n entries returns */
};

static void test_syntax__option_next_table(void **state) {
  static const struct option_case cases[] = {
      {"", 0, {NULL}, {NULL}, 0},
      {" :,\t\n", 0, {NULL}, {NULL}, 0},
      {"verbosity=1", 1, {"verbosity"}, {"1"}, 0},
      {"  x=1  ,,  y=2  ", 2, {"x", "y"}, {"1", "2"}, 0},
      {"empty=", 1, {"empty"}, {""}, 0},
      {"q=''", 1, {"q"}, {""}, 0},
      {"q=\"a:b,c d\":e=f", 2, {"q", "e"}, {"a:b,c d", "f"}, 0},
      {"q=\"it's\"", 1, {"q"}, {"it's"}, 0},
      {"path=/a/b=c", 1, {"path"}, {"/a/b=c"}, 0},
      {"help", 1, {"help"}, {NULL}, 0},
      /* Unterminated quotes. */
      {"b='x y", 0, {NULL}, {NULL}, -1},
      {"a=1 b=\"never closed", 1, {"a"}, {"1"}, -1},
      {"c='mixed\"", 0, {NULL}, {NULL}, -1},
  };
  (void)state;
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    const struct option_case *c = &cases[i];
    const char *p = c->text;
    struct al_token t;
    for (int k = 0; k < c->n; k++) {
      int rc = al_option_next(&p, &t);
      if (rc != 1)
        fail_msg("\"%s\": entry %d: al_option_next = %d", c->text, k, rc);
      expect_token(&t, c->key[k], c->value[k]);
    }
    int rc = al_option_next(&p, &t);
    if (rc != c->last)
      fail_msg("\"%s\": after %d entries al_option_next = %d, want %d",
               c->text, c->n, rc, c->last);
    /* Both the end and an unterminated quote leave p at the end. */
    assert_ptr_equal(p, c->text + strlen(c->text));
    assert_int_equal(al_option_next(&p, &t), 0);
  }
}

/* ------------------------------------------------------------- text */

struct escape_case {
  const char *in;
  size_t len; /* 0: strlen(in) */
  const char *want;
};

static void test_syntax__escape_table(void **state) {
  static const struct escape_case cases[] = {
      {"plain text", 0, "plain text"},
      {"", 0, ""},
      {"a\nb", 0, "a\\nb"},
      {"\ttab\r", 0, "\\ttab\\r"},
      {"back\\slash", 0, "back\\\\slash"},
      {"\x1b[2J", 0, "\\x1b[2J"},
      {"del\x7f", 0, "del\\x7f"},
      {"\x01\x1f", 0, "\\x01\\x1f"},
      /* A forged line cannot start a line. */
      {"x\n==1== SUMMARY: asyncleak: 0 handles left open\n", 0,
       "x\\n==1== SUMMARY: asyncleak: 0 handles left open\\n"},
      /* Valid UTF-8 passes: é, €, an emoji. */
      {"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", 0,
       "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"},
      /* C1 controls, CSI (U+009B) among them. */
      {"\xc2\x9b" "2J", 0, "\\xc2\\x9b2J"},
      {"\xc2\xa0", 0, "\xc2\xa0"},
      /* Invalid UTF-8: a lone continuation, a raw CSI byte, a truncated
       * sequence, an overlong slash, a surrogate, beyond U+10FFFF. */
      {"\x80", 0, "\\x80"},
      {"\x9b" "2J", 0, "\\x9b2J"},
      {"\xe2\x82", 0, "\\xe2\\x82"},
      {"\xc0\xaf", 0, "\\xc0\\xaf"},
      {"\xed\xa0\x80", 0, "\\xed\\xa0\\x80"},
      {"\xf4\x90\x80\x80", 0, "\\xf4\\x90\\x80\\x80"},
      /* An embedded NUL, when the length says so. */
      {"a\0b", 3, "a\\x00b"},
  };
  char out[256];

  (void)state;
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    size_t len = cases[i].len ? cases[i].len : strlen(cases[i].in), n;
    size_t used = al_escape(out, sizeof(out), cases[i].in, len, &n);

    if (used != len || strcmp(out, cases[i].want) != 0 ||
        n != strlen(cases[i].want))
      fail_msg("case %zu: got '%s' (%zu of %zu used), expected '%s'", i, out,
               used, len, cases[i].want);
    if (cases[i].len == 0 &&
        al_text_plain(cases[i].in) != !strcmp(cases[i].in, cases[i].want))
      fail_msg("case %zu: al_text_plain is wrong", i);
  }
}

/* A small buffer takes whole characters and escapes only, and says how
 * far it got, so that a caller can go on from there. */
static void test_syntax__escape_stops_whole(void **state) {
  char out[6];
  size_t n;

  (void)state;
  assert_int_equal(al_escape(out, sizeof(out), "ab\x1b" "cd", 5, &n), 2);
  assert_string_equal(out, "ab");
  assert_int_equal(n, 2);
  assert_int_equal(al_escape(out, sizeof(out), "\x1b" "cd", 3, &n), 2);
  assert_string_equal(out, "\\x1bc");
  assert_int_equal(al_escape(out, 4, "a\xe2\x82\xac", 4, &n), 1);
  assert_string_equal(out, "a");
  assert_int_equal(al_escape(out, 1, "abc", 3, &n), 0);
  assert_string_equal(out, "");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_syntax__pattern_match_table),
      cmocka_unit_test(test_syntax__pattern_match_null_text),
      cmocka_unit_test(test_syntax__pattern_match_pathological),
      cmocka_unit_test(test_syntax__pattern_match_long_pattern),
      cmocka_unit_test(test_syntax__supp_parse_good),
      cmocka_unit_test(test_syntax__supp_parse_uses_len),
      cmocka_unit_test(test_syntax__supp_parse_refuses_nul),
      cmocka_unit_test(test_syntax__supp_parse_blank_and_comment),
      cmocka_unit_test(test_syntax__supp_parse_malformed),
      cmocka_unit_test(test_syntax__supp_kind_covers),
      cmocka_unit_test(test_syntax__supp_kind_of),
      cmocka_unit_test(test_syntax__supp_kind_round_trip),
      cmocka_unit_test(test_syntax__baseline_parse),
      cmocka_unit_test(test_syntax__baseline_parse_uses_len),
      cmocka_unit_test(test_syntax__option_next),
      cmocka_unit_test(test_syntax__option_next_table),
      cmocka_unit_test(test_syntax__escape_table),
      cmocka_unit_test(test_syntax__escape_stops_whole),
  };
  return cmocka_run_group_tests_name("syntax", tests, NULL, NULL);
}
