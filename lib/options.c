/* Runtime options in the sanitizers' syntax (see syntax.h). The table in
 * options.inc is the only place an option is defined. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "options-entry.h"
#include "syntax.h"

struct al_options al_opt;

struct desc {
  const char *name;
  enum al_option_kind kind;
  int cli; /* the command's: known here, so not "unknown", and left alone */
  const char *flag, *arg; /* the command's flag, and its value's name */
  const char *help;
  const char *dflt_str; /* STR, LIST; ENUM: the values, '|' between */
  long dflt, lo, hi;
  size_t offset;
};

static const struct desc table[] = {
#define AL_OPTION(kind, name, dflt, lo, hi, flag, arg, group, help)          \
  {#name, AL_KIND_##kind, 0, flag, arg, help, AL_DFLT_STR_##kind(dflt),       \
   AL_DFLT_NUM_##kind(dflt), lo, hi, offsetof(struct al_options, name)},
#define AL_CLI_OPTION(kind, name, dflt, lo, hi, flag, arg, group, help)      \
  {#name, AL_KIND_##kind, 1, flag, arg, help, AL_DFLT_STR_##kind(dflt),       \
   AL_DFLT_NUM_##kind(dflt), lo, hi, 0},
#include "options.inc"
#undef AL_CLI_OPTION
#undef AL_OPTION
};

#define NOPTIONS (sizeof(table) / sizeof(table[0]))

static void set_default(struct al_options *opt, const struct desc *d) {
  char *field = (char *)opt + d->offset;

  if (d->cli)
    return;
  switch (d->kind) {
  case AL_KIND_STR:
  case AL_KIND_LIST:
    snprintf(field, AL_OPTION_STR_MAX, "%s", d->dflt_str);
    break;
  case AL_KIND_INT:
  case AL_KIND_BOOL:
  case AL_KIND_ENUM:
    *(int *)field = (int)d->dflt;
    break;
  }
}

void al_options_defaults(struct al_options *opt) {
  for (size_t i = 0; i < NOPTIONS; i++)
    set_default(opt, &table[i]);
}

/* Stores value (len bytes, not terminated) into the option; returns 0 or -1
 * when the value is malformed. */
static int set_value(struct al_options *opt, const struct desc *d,
                     const char *value, size_t len) {
  char *field = (char *)opt + d->offset;
  char num[32];
  char *end;
  long v;

  if (d->cli)
    return 0;
  switch (d->kind) {
  case AL_KIND_STR:
    if (len >= AL_OPTION_STR_MAX)
      return -1;
    memcpy(field, value, len);
    field[len] = '\0';
    return 0;
  case AL_KIND_LIST: {
    size_t used = strlen(field);
    size_t sep = used > 0;

    if (len == 0 || memchr(value, '\n', len) != NULL ||
        used + sep + len >= AL_OPTION_STR_MAX)
      return -1;
    if (sep)
      field[used] = '\n';
    memcpy(field + used + sep, value, len);
    field[used + sep + len] = '\0';
    return 0;
  }
  case AL_KIND_ENUM:
    if ((v = al_choice_index(d->dflt_str, value, len)) < 0)
      return -1;
    *(int *)field = (int)v;
    return 0;
  case AL_KIND_INT:
  case AL_KIND_BOOL:
    break;
  }
  if (len == 0 || len >= sizeof(num))
    return -1;
  memcpy(num, value, len);
  num[len] = '\0';
  if (d->kind == AL_KIND_BOOL) {
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

static void warn_invalid(const struct desc *d, const struct al_token *t) {
  int vlen = (int)t->vlen;

  switch (d->kind) {
  case AL_KIND_INT:
    al_warn("invalid value '%.*s' for option '%s' (a number from %ld to "
            "%ld); keeping %ld", vlen, t->value, d->name, d->lo, d->hi,
            d->dflt);
    break;
  case AL_KIND_BOOL:
    al_warn("invalid value '%.*s' for option '%s' (0 or 1); keeping %ld",
            vlen, t->value, d->name, d->dflt);
    break;
  case AL_KIND_ENUM:
    al_warn("invalid value '%.*s' for option '%s' (one of %s); keeping the "
            "default", vlen, t->value, d->name, d->dflt_str);
    break;
  case AL_KIND_LIST:
    al_warn("invalid value '%.*s' for option '%s' (empty, or too many); "
            "left out", vlen, t->value, d->name);
    break;
  default:
    al_warn("invalid value '%.*s' for option '%s' (too long); keeping the "
            "default", vlen, t->value, d->name);
    break;
  }
}

int al_options_parse(struct al_options *opt, const char *text) {
  struct al_token t;
  int bad = 0, rc;

  if (text == NULL)
    return 0;
  while ((rc = al_option_next(&text, &t)) != 0) {
    const struct desc *d;

    if (rc < 0) {
      al_warn("unterminated quote in the value of option '%.*s'",
              (int)t.klen, t.key);
      bad++;
      break;
    }
    if (t.value == NULL) {
      al_warn("option '%.*s' has no value (use key=value)", (int)t.klen,
              t.key);
      bad++;
      continue;
    }
    d = find(t.key, t.klen);
    if (d == NULL) {
      al_warn("unknown option '%.*s' ignored (help=1 lists them)",
              (int)t.klen, t.key);
      bad++;
    } else if (set_value(opt, d, t.value, t.vlen) != 0) {
      warn_invalid(d, &t);
      /* A list keeps the entries it had; anything else its default. */
      if (d->kind != AL_KIND_LIST)
        set_default(opt, d);
      bad++;
    }
  }
  return bad;
}

/* Each option with its default, the command's flag for it and its help,
 * all from the table. */
void al_options_print_help(int fd) {
  struct al_buf b = {0};

  al_buf_printf(&b, "asyncleak: options (ASYNCLEAK_OPTIONS=key=value:...):\n");
  for (size_t i = 0; i < NOPTIONS; i++) {
    const struct desc *d = &table[i];
    /* An ENUM's values are named already. */
    const char *arg = d->kind == AL_KIND_ENUM ? NULL : d->arg;

    al_buf_printf(&b, "  %-18s ", d->name);
    switch (d->kind) {
    case AL_KIND_STR:
    case AL_KIND_LIST:
      al_buf_printf(&b, "default '%s'", d->dflt_str);
      break;
    case AL_KIND_ENUM:
      al_buf_printf(&b, "one of %s", d->dflt_str);
      break;
    case AL_KIND_INT:
      al_buf_printf(&b, "default %ld (%ld to %ld)", d->dflt, d->lo, d->hi);
      break;
    case AL_KIND_BOOL:
      al_buf_printf(&b, "default %ld", d->dflt);
      break;
    }
    if (d->flag != NULL)
      al_buf_printf(&b, ", flag %s%s%s", d->flag, arg != NULL ? "=" : "",
                    arg != NULL ? arg : "");
    if (d->cli)
      al_buf_printf(&b, ", read by the asyncleak command");
    al_buf_printf(&b, "\n      %s\n", d->help);
  }
  if (b.data != NULL)
    al_write_all(fd, b.data, b.len);
  al_buf_release(&b);
}
