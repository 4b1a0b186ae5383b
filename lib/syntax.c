/* The syntax of options, suppression files and baseline files; see
 * syntax.h. */
#include <string.h>

#include "syntax.h"

static int is_sep(char c) {
  return c == ':' || c == ',' || c == ' ' || c == '\t' || c == '\n';
}

int al_option_next(const char **p, struct al_token *t) {
  const char *s = *p;

  while (is_sep(*s))
    s++;
  if (*s == '\0') {
    *p = s;
    return 0;
  }
  t->key = s;
  while (*s != '\0' && *s != '=' && !is_sep(*s))
    s++;
  t->klen = (size_t)(s - t->key);
  t->value = NULL;
  t->vlen = 0;
  if (*s != '=') {
    *p = s;
    return 1;
  }
  s++;
  if (*s == '\'' || *s == '"') {
    char quote = *s++;

    t->value = s;
    while (*s != '\0' && *s != quote)
      s++;
    t->vlen = (size_t)(s - t->value);
    if (*s == '\0') {
      *p = s;
      return -1;
    }
    s++;
  } else {
    t->value = s;
    while (*s != '\0' && !is_sep(*s))
      s++;
    t->vlen = (size_t)(s - t->value);
  }
  *p = s;
  return 1;
}

int al_choice_index(const char *choices, const char *value, size_t len) {
  int i = 0;

  for (const char *c = choices;; i++) {
    const char *bar = strchr(c, '|');
    size_t n = bar ? (size_t)(bar - c) : strlen(c);

    if (n == len && !memcmp(c, value, len))
      return i;
    if (bar == NULL)
      return -1;
    c = bar + 1;
  }
}

static int is_space(char c) {
  return c == ' ' || c == '\t' || c == '\r';
}

/* Trims white space from both ends of [*s, *s + *len). */
static void trim(const char **s, size_t *len) {
  while (*len > 0 && is_space(**s)) {
    (*s)++;
    (*len)--;
  }
  while (*len > 0 && is_space((*s)[*len - 1]))
    (*len)--;
}

static int is_ident(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         (c >= '0' && c <= '9') || c == '_';
}

int al_supp_parse(const char *line, size_t len, struct al_supp_rule *out,
                  const char **why) {
  const char *colon, *pattern;
  size_t klen, plen;

  trim(&line, &len);
  if (len == 0 || line[0] == '#')
    return 0;
  colon = memchr(line, ':', len);
  if (colon == NULL) {
    *why = "expected kind:pattern";
    return -1;
  }
  klen = (size_t)(colon - line);
  pattern = colon + 1;
  plen = len - klen - 1;
  trim(&line, &klen);
  trim(&pattern, &plen);
  if (klen == 0) {
    *why = "no kind before ':' (handle, request or a type such as uv_timer)";
    return -1;
  }
  for (size_t i = 0; i < klen; i++)
    if (!is_ident(line[i])) {
      *why = "the kind is handle, request or a type such as uv_timer";
      return -1;
    }
  if (klen >= sizeof(out->kind)) {
    *why = "the kind is too long";
    return -1;
  }
  if (plen == 0) {
    *why = "no pattern after ':'";
    return -1;
  }
  /* The pattern is matched as a C string: a NUL would cut it short, and
   * "handle:\0x" would match every frame. */
  if (memchr(pattern, '\0', plen) != NULL) {
    *why = "a NUL byte in the pattern";
    return -1;
  }
  if (plen >= sizeof(out->pattern)) {
    *why = "the pattern is too long";
    return -1;
  }
  memcpy(out->kind, line, klen);
  out->kind[klen] = '\0';
  memcpy(out->pattern, pattern, plen);
  out->pattern[plen] = '\0';
  return 1;
}

size_t al_supp_kind_of(const char *type, char *kind, size_t size) {
  size_t n = 0;
  int gap = 0;

  if (type == NULL || size == 0)
    return 0;
  for (const char *t = type; *t != '\0'; t++) {
    if (!is_ident(*t)) {
      gap = 1;
      continue;
    }
    /* Nothing is written for a run until a name character follows it, so
     * that none is left at either end. */
    if (gap && n > 0 && kind[n - 1] != '_') {
      if (n + 1 >= size)
        return 0;
      kind[n++] = '_';
    }
    gap = 0;
    if (n + 1 >= size)
      return 0;
    kind[n++] = *t;
  }
  if (n > 2 && !memcmp(kind + n - 2, "_t", 2))
    n -= 2;
  /* These name every handle or every request: never one type's. */
  if ((n == 6 && !memcmp(kind, "handle", 6)) ||
      (n == 7 && !memcmp(kind, "request", 7)))
    n = 0;
  if (n == 0 || n >= AL_SUPP_KIND_MAX) {
    kind[0] = '\0';
    return 0;
  }
  kind[n] = '\0';
  return n;
}

int al_supp_kind_covers(const char *kind, int is_request, const char *type) {
  char own[AL_SUPP_KIND_MAX];

  if (!strcmp(kind, "handle"))
    return !is_request;
  if (!strcmp(kind, "request"))
    return is_request;
  if (type == NULL)
    return 0;
  if (!strcmp(kind, type))
    return 1;
  return al_supp_kind_of(type, own, sizeof(own)) > 0 && !strcmp(kind, own);
}

/* Whether p[0..plen) matches all of s, '*' matching any run. Iterative,
 * going back to the last '*' on a mismatch: linear in practice, and never
 * recursive on a user's pattern. */
static int glob_all(const char *p, size_t plen, const char *s) {
  size_t pi = 0, star = (size_t)-1;
  const char *retry = NULL;

  for (;;) {
    if (pi < plen && p[pi] == '*') {
      star = ++pi;
      retry = s;
      continue;
    }
    if (*s == '\0')
      break;
    if (pi < plen && p[pi] == *s) {
      pi++;
      s++;
      continue;
    }
    if (retry == NULL)
      return 0;
    pi = star;
    s = ++retry;
  }
  while (pi < plen && p[pi] == '*')
    pi++;
  return pi == plen;
}

int al_pattern_match(const char *pattern, const char *s) {
  size_t len = strlen(pattern);
  char buf[AL_SUPP_PATTERN_MAX + 2];
  size_t n = 0;

  if (s == NULL)
    return 0;
  /* Unanchored ends match anywhere: as if the pattern began or ended with
   * '*'. */
  if (pattern[0] == '^')
    pattern++, len--;
  else
    buf[n++] = '*';
  if (len > AL_SUPP_PATTERN_MAX)
    return 0;
  memcpy(buf + n, pattern, len);
  n += len;
  if (len > 0 && pattern[len - 1] == '$')
    n--;
  else
    buf[n++] = '*';
  return glob_all(buf, n, s);
}

static int is_hex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

int al_baseline_parse(const char *line, size_t len,
                      char fp[AL_FINGERPRINT_LEN + 1]) {
  trim(&line, &len);
  if (len == 0 || line[0] == '#')
    return 0;
  if (len < AL_FINGERPRINT_LEN)
    return -1;
  for (size_t i = 0; i < AL_FINGERPRINT_LEN; i++)
    if (!is_hex(line[i]))
      return -1;
  if (len > AL_FINGERPRINT_LEN && !is_space(line[AL_FINGERPRINT_LEN]))
    return -1;
  memcpy(fp, line, AL_FINGERPRINT_LEN);
  fp[AL_FINGERPRINT_LEN] = '\0';
  return 1;
}

/* ------------------------------------------------------------- text */

/* The length of the valid UTF-8 character at s (at most len bytes) that
 * may be shown as it is, or 0: not UTF-8, overlong, a surrogate, beyond
 * U+10FFFF, or a C1 control. */
static size_t utf8_plain(const unsigned char *s, size_t len) {
  unsigned char lo = 0x80, hi = 0xbf;
  size_t n;

  if (s[0] >= 0xc2 && s[0] <= 0xdf)
    n = 2;
  else if (s[0] >= 0xe0 && s[0] <= 0xef)
    n = 3;
  else if (s[0] >= 0xf0 && s[0] <= 0xf4)
    n = 4;
  else
    return 0;
  if (n > len)
    return 0;
  /* The second byte's range rules out overlong forms, surrogates and
   * what lies beyond U+10FFFF. */
  if (s[0] == 0xe0)
    lo = 0xa0;
  else if (s[0] == 0xed)
    hi = 0x9f;
  else if (s[0] == 0xf0)
    lo = 0x90;
  else if (s[0] == 0xf4)
    hi = 0x8f;
  if (s[1] < lo || s[1] > hi)
    return 0;
  for (size_t i = 2; i < n; i++)
    if (s[i] < 0x80 || s[i] > 0xbf)
      return 0;
  /* U+0080 to U+009F: C1 controls, CSI among them. */
  if (s[0] == 0xc2 && s[1] <= 0x9f)
    return 0;
  return n;
}

size_t al_escape(char *dst, size_t size, const char *src, size_t len,
                 size_t *written) {
  static const char hex[] = "0123456789abcdef";
  const unsigned char *s = (const unsigned char *)src;
  size_t in = 0, out = 0;

  while (in < len) {
    char esc[4];
    const char *piece = esc;
    size_t n, used = 1;
    unsigned char c = s[in];

    if (c == '\\' || c == '\n' || c == '\t' || c == '\r') {
      esc[0] = '\\';
      esc[1] = c == '\\' ? '\\' : c == '\n' ? 'n' : c == '\t' ? 't' : 'r';
      n = 2;
    } else if (c >= 0x20 && c < 0x7f) {
      piece = (const char *)s + in;
      n = 1;
    } else if (c >= 0x80 && (used = utf8_plain(s + in, len - in)) != 0) {
      piece = (const char *)s + in;
      n = used;
    } else {
      esc[0] = '\\';
      esc[1] = 'x';
      esc[2] = hex[c >> 4];
      esc[3] = hex[c & 15];
      n = 4;
      used = 1;
    }
    if (out + n >= size)
      break;
    memcpy(dst + out, piece, n);
    out += n;
    in += used;
  }
  dst[out] = '\0';
  if (written != NULL)
    *written = out;
  return in;
}

int al_text_plain(const char *s) {
  const unsigned char *p = (const unsigned char *)s;
  size_t len = strlen(s);

  for (size_t i = 0; i < len;) {
    size_t n;

    if (p[i] >= 0x20 && p[i] < 0x7f && p[i] != '\\')
      n = 1;
    else if (p[i] < 0x80 || (n = utf8_plain(p + i, len - i)) == 0)
      return 0;
    i += n;
  }
  return 1;
}
