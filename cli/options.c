/* The command's options: its flags, and the same options read from
 * ASYNCLEAK_OPTIONS. Every flag names the option it sets (see
 * lib/options.inc): the command's own options are kept in struct
 * cli_options, the runtime's are passed on to it in ASYNCLEAK_OPTIONS. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "../lib/options-entry.h"
#include "../lib/syntax.h"

/* The flags, from the option table: an entry without one has a NULL
 * name. --help and --version, which are no option, come last. */
const struct cli_flag cli_flags[] = {
#define AL_OPTION(kind, name, dflt, lo, hi, flag, arg, group, help)          \
  {flag, #name, arg, group, help, AL_KIND_##kind, AL_DFLT_STR_##kind(dflt),   \
   AL_DFLT_NUM_##kind(dflt), lo, hi},
#define AL_CLI_OPTION AL_OPTION
#include "../lib/options.inc"
#undef AL_CLI_OPTION
#undef AL_OPTION
    {"--help", NULL, NULL, "Help", "show this help and exit", AL_KIND_BOOL,
     "", 0, 0, 1},
    {"--version", NULL, NULL, "Help", "show the version and exit",
     AL_KIND_BOOL, "", 0, 0, 1},
};
const size_t cli_nflags = CLI_ARRAY_SIZE(cli_flags);

/* The defaults of the command's numbers, which struct cli_options starts
 * with elsewhere, must be the ones --help shows. */
enum {
#define AL_OPTION(kind, name, dflt, lo, hi, flag, arg, group, help)
#define AL_CLI_OPTION(kind, name, dflt, lo, hi, flag, arg, group, help)      \
  CLI_DEFAULT_##name = AL_DFLT_NUM_##kind(dflt),
#include "../lib/options.inc"
#undef AL_CLI_OPTION
#undef AL_OPTION
};
_Static_assert((int)CLI_DEFAULT_error_exitcode == (int)CLI_EXIT_LEAKS,
               "the default of error_exitcode in lib/options.inc");

/* The flags with a short form. */
static const struct {
  char letter;
  const char *flag;
} shorts[] = {{'q', "--quiet"}, {'h', "--help"}};

char cli_flag_short(const struct cli_flag *f) {
  for (size_t i = 0; i < CLI_ARRAY_SIZE(shorts); i++)
    if (f->name != NULL && !strcmp(f->name, shorts[i].flag))
      return shorts[i].letter;
  return 0;
}

const char *cli_flag_arg(const struct cli_flag *f) {
  return f->kind == AL_KIND_ENUM ? f->dflt_str : f->arg;
}

/* The flag that the first len bytes of arg name, or NULL. A short form
 * stands for its flag. */
static const struct cli_flag *find_flag(const char *arg, size_t len) {
  if (len == 2 && arg[0] == '-' && arg[1] != '-')
    for (size_t i = 0; i < CLI_ARRAY_SIZE(shorts); i++)
      if (shorts[i].letter == arg[1]) {
        arg = shorts[i].flag;
        len = strlen(arg);
        break;
      }
  for (size_t i = 0; i < cli_nflags; i++)
    if (cli_flags[i].name != NULL && strlen(cli_flags[i].name) == len &&
        !strncmp(cli_flags[i].name, arg, len))
      return &cli_flags[i];
  return NULL;
}

/* Parses a number from lo to hi written in decimal: digits only, so no
 * sign, space or base prefix slips through to the runtime. */
static int parse_number(const char *s, size_t len, long lo, long hi,
                        int *number) {
  long n = 0;

  if (len == 0)
    return -1;
  for (size_t i = 0; i < len; i++) {
    if (s[i] < '0' || s[i] > '9')
      return -1;
    n = n * 10 + (s[i] - '0');
    if (n > hi)
      return -1;
  }
  if (n < lo)
    return -1;
  *number = (int)n;
  return 0;
}

/* Parses a duration as timeout(1) reads one: a decimal number of
 * seconds, with a fraction or not, and an optional unit (s, m, h or d),
 * into milliseconds, at most 30 days. 0 stays 0: no timeout. */
static int parse_duration(const char *s, size_t len,
                          unsigned long long *ms) {
  static const struct {
    char unit;
    unsigned long long ms;
  } units[] = {{'s', 1000}, {'m', 60000}, {'h', 3600000}, {'d', 86400000}};
  unsigned long long whole = 0, frac = 0, scale = 1, unit = 1000;
  size_t i = 0, digits = 0;

  for (; i < len && s[i] >= '0' && s[i] <= '9'; i++, digits++)
    if ((whole = whole * 10 + (unsigned)(s[i] - '0')) > 30 * 86400ULL)
      return -1;
  if (i < len && s[i] == '.')
    for (i++; i < len && s[i] >= '0' && s[i] <= '9'; i++, digits++)
      if (scale < 1000000) {
        frac = frac * 10 + (unsigned)(s[i] - '0');
        scale *= 10;
      }
  if (digits == 0)
    return -1;
  if (i < len) {
    size_t u = 0;
    while (u < CLI_ARRAY_SIZE(units) && units[u].unit != s[i])
      u++;
    if (u == CLI_ARRAY_SIZE(units) || i + 1 != len)
      return -1;
    unit = units[u].ms;
  }
  /* Set only when valid: a value refused leaves the option as it was. */
  if (whole * unit + frac * unit / scale > 30 * 86400000ULL)
    return -1;
  *ms = whole * unit + frac * unit / scale;
  return 0;
}

static char *dup_n(const char *s, size_t len) {
  char *d = malloc(len + 1);

  if (d == NULL) {
    cli_error("out of memory");
    exit(CLI_EXIT_FAILURE);
  }
  memcpy(d, s, len);
  d[len] = '\0';
  return d;
}

/* Sets one of the command's own options; returns 0, or -1 when the value
 * is malformed. Values are copied: they outlive the text they came from. */
static int set_own(struct cli_options *opt, const char *key, const char *v,
                   size_t len) {
  int n;

  if (!strcmp(key, "quiet")) {
    if ((n = al_choice_index("0|1|no|yes|false|true", v, len)) < 0)
      return -1;
    opt->quiet = n % 2;
  } else if (!strcmp(key, "error_exitcode")) {
    if (parse_number(v, len, 0, 255, &opt->error_exitcode) != 0)
      return -1;
  } else if (!strcmp(key, "timeout")) {
    if (parse_duration(v, len, &opt->timeout_ms) != 0)
      return -1;
    free((char *)opt->timeout_text);
    opt->timeout_text = dup_n(v, len);
  } else if (!strcmp(key, "kill_after")) {
    if (parse_duration(v, len, &opt->kill_after_ms) != 0)
      return -1;
  } else if (!strcmp(key, "missing_reports")) {
    if ((n = al_choice_index("fail|warn", v, len)) < 0)
      return -1;
    opt->missing_warn = n;
  } else if (!strcmp(key, "color")) {
    if ((n = al_choice_index("auto|always|never", v, len)) < 0)
      return -1;
    opt->color = n;
  } else {
    const char **field = !strcmp(key, "log_path")   ? &opt->log_file
                         : !strcmp(key, "json")     ? &opt->json
                         : !strcmp(key, "junit")    ? &opt->junit
                         : !strcmp(key, "sarif")    ? &opt->sarif
                         : !strcmp(key, "write_baseline") ? &opt->write_baseline
                                                           : NULL;
    if (field == NULL)
      return 1; /* not the command's */
    if (len == 0)
      return -1;
    free((char *)*field);
    *field = dup_n(v, len);
  }
  return 0;
}

int cli_options_from_env(struct cli_options *opt) {
  const char *text = getenv("ASYNCLEAK_OPTIONS");

  return text != NULL ? cli_options_from_text(opt, text) : 0;
}

int cli_options_from_text(struct cli_options *opt, const char *text) {
  struct al_token t;
  int rc;

  while ((rc = al_option_next(&text, &t)) > 0) {
    char key[64];

    /* The runtime says what is wrong with entries it reads. */
    if (t.value == NULL || t.klen >= sizeof(key))
      continue;
    memcpy(key, t.key, t.klen);
    key[t.klen] = '\0';
    opt->env_color |= !strcmp(key, "color");
    /* color is the runtime's too, and it says what is wrong with it. */
    if (set_own(opt, key, t.value, t.vlen) < 0 && strcmp(key, "color") != 0)
      cli_warning("invalid value '%.*s' for option '%s' in "
                  "ASYNCLEAK_OPTIONS; ignored", (int)t.vlen, t.value, key);
  }
  /* The quote would swallow the entries the command adds after it,
   * report_dir among them: nothing would be checked. */
  if (rc < 0) {
    cli_error("ASYNCLEAK_OPTIONS has an unterminated quote in the value "
              "of '%.*s'", (int)t.klen, t.key);
    return -1;
  }
  return 0;
}

/* Adds key=value to what the runtime gets, quoted when it is a path. A
 * flag given again replaces its value, except a list's, which grows. */
static int pass_on(struct cli_options *opt, const char *key,
                   const char *value, int quote) {
  char entry[PATH_MAX + 64];
  size_t klen = strlen(key);

  if (strcmp(key, "suppressions") != 0)
    for (size_t i = 0; i < opt->nruntime; i++)
      if (!strncmp(opt->runtime[i], key, klen) &&
          opt->runtime[i][klen] == '=') {
        free(opt->runtime[i]);
        memmove(&opt->runtime[i], &opt->runtime[i + 1],
                (opt->nruntime - i - 1) * sizeof(opt->runtime[0]));
        opt->nruntime--;
        break;
      }
  if (opt->nruntime == CLI_ARRAY_SIZE(opt->runtime)) {
    cli_error("too many options");
    return -1;
  }
  snprintf(entry, sizeof(entry), quote ? "%s='%s'" : "%s=%s", key, value);
  opt->runtime[opt->nruntime++] = dup_n(entry, strlen(entry));
  return 0;
}

/* A file the runtime reads, checked now so that a mistake stops the run
 * before the program starts, and made absolute since the program may
 * change directory before it reads it. */
static int runtime_file(struct cli_options *opt, const struct cli_flag *f,
                        const char *value) {
  char path[PATH_MAX];
  int rc;

  /* Messages name the file as the user typed it. */
  rc = !strcmp(f->key, "baseline")       ? cli_check_baseline(value)
       : !strcmp(f->key, "suppressions") ? cli_check_suppressions(value)
                                         : 0;
  if (rc != 0)
    return -1;
  if (realpath(value, path) == NULL) {
    cli_error("cannot read the %s file '%s': %s", f->name + 2, value,
              strerror(errno));
    return -1;
  }
  if (strchr(path, '\'') != NULL) {
    cli_error("the path '%s' of %s holds a quote", path, f->name);
    return -1;
  }
  return pass_on(opt, f->key, path, 1);
}

/* Applies one flag with its value (NULL for a switch): the value is
 * checked as its kind says, then kept, when the option is the command's
 * own, or passed on to the runtime. */
static int apply(struct cli_options *opt, const struct cli_flag *f,
                 const char *value) {
  char number[16];
  const char *v = value;
  int n, rc;

  switch ((enum al_option_kind)f->kind) {
  case AL_KIND_BOOL:
    if (value == NULL)
      v = "1";
    else if ((n = al_choice_index(f->arg, value, strlen(value))) < 0)
      goto invalid;
    else /* the first choice, yes, sets it */
      v = n == 0 ? "1" : "0";
    break;
  case AL_KIND_INT:
    if (parse_number(value, strlen(value), f->lo, f->hi, &n) != 0)
      goto invalid;
    snprintf(number, sizeof(number), "%d", n);
    v = number;
    break;
  case AL_KIND_STR:
  case AL_KIND_LIST:
    if (*value == '\0')
      goto invalid;
    break;
  case AL_KIND_ENUM:
    if (al_choice_index(f->dflt_str, value, strlen(value)) < 0)
      goto invalid;
    break;
  }
  if ((rc = set_own(opt, f->key, v, strlen(v))) != 1)
    return rc;
  if (f->kind == AL_KIND_STR || f->kind == AL_KIND_LIST)
    return runtime_file(opt, f, v);
  return pass_on(opt, f->key, v, 0);
invalid:
  cli_error("invalid value '%s' for %s", value, f->name);
  return -1;
}

int cli_options_parse(char **argv, struct cli_options *opt) {
  int i;

  for (i = 1; argv[i] != NULL; i++) {
    const char *arg = argv[i], *eq;
    const struct cli_flag *f;

    if (!strcmp(arg, "--")) {
      i++;
      break;
    }
    if (arg[0] != '-' || arg[1] == '\0')
      break;
    eq = strchr(arg, '=');
    f = find_flag(arg, eq ? (size_t)(eq - arg) : strlen(arg));
    /* A switch takes no value. */
    if (f == NULL || (cli_flag_arg(f) == NULL && eq != NULL)) {
      cli_error("unknown option '%s'", arg);
      return -1;
    }
    if (!strcmp(f->name, "--help")) {
      cli_usage(STDOUT_FILENO, 0);
      exit(0);
    }
    if (!strcmp(f->name, "--version")) {
      cli_line(STDOUT_FILENO, "asyncleak %s", ASYNCLEAK_VERSION);
      exit(0);
    }
    if (cli_flag_arg(f) != NULL && eq == NULL) {
      cli_error("option '%s' needs a value", f->name);
      return -1;
    }
    if (apply(opt, f, eq ? eq + 1 : NULL) != 0)
      return -1;
  }
  if (argv[i] == NULL) {
    cli_error("no program to run");
    return -1;
  }
  return i;
}

void cli_options_release(struct cli_options *opt) {
  const char **own[] = {&opt->log_file, &opt->json,
                        &opt->junit,    &opt->sarif,
                        &opt->write_baseline, &opt->timeout_text};

  for (size_t i = 0; i < opt->nruntime; i++)
    free(opt->runtime[i]);
  opt->nruntime = 0;
  for (size_t i = 0; i < CLI_ARRAY_SIZE(own); i++) {
    free((char *)*own[i]);
    *own[i] = NULL;
  }
}
