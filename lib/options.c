/* Runtime options in the sanitizers' syntax: key=value pairs separated by
 * ':', ',' or white space; a value may be quoted with ' or ". The table in
 * options.inc is the only place an option is defined. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

struct al_options al_opt;

enum kind { KIND_INT, KIND_BOOL, KIND_STR };

struct desc {
  const char *name;
  enum kind kind;
  const char *help;
  const char *dflt_str;
  long dflt, lo, hi;
  size_t offset;
};

#define AL_DFLT_STR_INT(d) ""
#define AL_DFLT_STR_BOOL(d) ""
#define AL_DFLT_STR_STR(d) d
#define AL_DFLT_NUM_INT(d) d
#define AL_DFLT_NUM_BOOL(d) d
#define AL_DFLT_NUM_STR(d) 0

static const struct desc table[] = {
#define AL_OPTION(kind, name, dflt, lo, hi, help)                             \
  {#name, KIND_##kind, help, AL_DFLT_STR_##kind(dflt),                        \
   AL_DFLT_NUM_##kind(dflt), lo, hi, offsetof(struct al_options, name)},
#include "options.inc"
#undef AL_OPTION
};

#define NOPTIONS (sizeof(table) / sizeof(table[0]))

static void set_default(struct al_options *opt, const struct desc *d) {
  char *field = (char *)opt + d->offset;
  if (d->kind == KIND_STR)
    snprintf(field, AL_OPTION_STR_MAX, "%s", d->dflt_str);
  else
    *(int *)field = (int)d->dflt;
}

void al_options_defaults(struct al_options *opt) {
  for (size_t i = 0; i < NOPTIONS; i++)
    set_default(opt, &table[i]);
}

static int is_sep(char c) {
  return c == ':' || c == ',' || c == ' ' || c == '\t' || c == '\n';
}

/* Stores value (len bytes, not terminated) into the option; returns 0 or -1
 * when the value is malformed. */
static int set_value(struct al_options *opt, const struct desc *d,
                     const char *value, size_t len) {
  char *field = (char *)opt + d->offset;
  char num[32];
  char *end;
  long v;

  if (d->kind == KIND_STR) {
    if (len >= AL_OPTION_STR_MAX)
      return -1;
    memcpy(field, value, len);
    field[len] = '\0';
    return 0;
  }
  if (len == 0 || len >= sizeof(num))
    return -1;
  memcpy(num, value, len);
  num[len] = '\0';
  if (d->kind == KIND_BOOL) {
    if (!strcmp(num, "1") || !strcmp(num, "true") || !strcmp(num, "yes"))
      v = 1;
    else if (!strcmp(num, "0") || !strcmp(num, "false") || !strcmp(num, "no"))
      v = 0;
    else
      return -1;
  } else {
    v = strtol(num, &end, 10);
    if (*end != '\0' || v < d->lo || v > d->hi)
      return -1;
  }
  *(int *)field = (int)v;
  return 0;
}

static const struct desc *find(const char *key, size_t len) {
  for (size_t i = 0; i < NOPTIONS; i++)
    if (strlen(table[i].name) == len && !memcmp(table[i].name, key, len))
      return &table[i];
  return NULL;
}

int al_options_parse(struct al_options *opt, const char *text) {
  const char *p = text;
  int bad = 0;

  if (p == NULL)
    return 0;
  for (;;) {
    const char *key, *value;
    size_t klen, vlen;
    const struct desc *d;

    while (is_sep(*p))
      p++;
    if (*p == '\0')
      break;
    key = p;
    while (*p != '\0' && *p != '=' && !is_sep(*p))
      p++;
    klen = (size_t)(p - key);
    if (*p != '=') {
      al_warn("option '%.*s' has no value (use key=value)", (int)klen, key);
      bad++;
      continue;
    }
    p++;
    if (*p == '\'' || *p == '"') {
      char quote = *p++;
      value = p;
      while (*p != '\0' && *p != quote)
        p++;
      vlen = (size_t)(p - value);
      if (*p == '\0') {
        al_warn("unterminated quote in the value of option '%.*s'",
                (int)klen, key);
        bad++;
        break;
      }
      p++;
    } else {
      value = p;
      while (*p != '\0' && !is_sep(*p))
        p++;
      vlen = (size_t)(p - value);
    }
    d = find(key, klen);
    if (d == NULL) {
      al_warn("unknown option '%.*s' ignored (help=1 lists them)", (int)klen,
              key);
      bad++;
    } else if (set_value(opt, d, value, vlen) != 0) {
      if (d->kind == KIND_INT)
        al_warn("invalid value '%.*s' for option '%s' (a number from %ld to "
                "%ld); keeping %ld", (int)vlen, value, d->name, d->lo, d->hi,
                d->dflt);
      else
        al_warn("invalid value '%.*s' for option '%s'; keeping the default",
                (int)vlen, value, d->name);
      set_default(opt, d);
      bad++;
    }
  }
  return bad;
}

void al_options_print_help(int fd) {
  struct al_buf b = {0};

  al_buf_printf(&b, "asyncleak: options (ASYNCLEAK_OPTIONS=key=value:...):\n");
  for (size_t i = 0; i < NOPTIONS; i++) {
    const struct desc *d = &table[i];
    if (d->kind == KIND_STR)
      al_buf_printf(&b, "  %-14s default '%s'\n", d->name, d->dflt_str);
    else
      al_buf_printf(&b, "  %-14s default %ld\n", d->name, d->dflt);
    al_buf_printf(&b, "      %s\n", d->help);
  }
  if (b.data != NULL)
    al_write_all(fd, b.data, b.len);
  al_buf_release(&b);
}
