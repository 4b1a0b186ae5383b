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
#include "../lib/syntax.h"

enum flag_kind {
  FLAG_SWITCH, /* --name: the option is set to 1 */
  FLAG_NUMBER, /* --name=N, 0 to max */
  FLAG_PATH,   /* --name=PATH */
  FLAG_CHOICE  /* --name=VALUE, one of choices */
};

struct flag {
  const char *name;
  const char *option; /* its key in ASYNCLEAK_OPTIONS */
  enum flag_kind kind;
  int max;             /* FLAG_NUMBER */
  const char *choices; /* FLAG_CHOICE, '|' between */
  int runtime;         /* the runtime reads it, not the command */
};

static const struct flag flags[] = {
    {"--quiet", "quiet", FLAG_SWITCH, 0, NULL, 0},
    {"--error-exitcode", "error_exitcode", FLAG_NUMBER, 255, NULL, 0},
    {"--log-file", "log_path", FLAG_PATH, 0, NULL, 0},
    {"--json", "json", FLAG_PATH, 0, NULL, 0},
    {"--junit", "junit", FLAG_PATH, 0, NULL, 0},
    {"--sarif", "sarif", FLAG_PATH, 0, NULL, 0},
    {"--write-baseline", "write_baseline", FLAG_PATH, 0, NULL, 0},
    {"--color", "color", FLAG_CHOICE, 0, "auto|always|never", 0},
    {"--missing-reports", "missing_reports", FLAG_CHOICE, 0, "fail|warn", 0},
    {"--force-close", "force_close", FLAG_SWITCH, 0, NULL, 1},
    {"--fail-on-closing", "fail_on_closing", FLAG_SWITCH, 0, NULL, 1},
    {"--graceful-signals", "graceful_signals", FLAG_SWITCH, 0, NULL, 1},
    {"--drain-timeout", "drain_timeout_ms", FLAG_NUMBER, 600000, NULL, 1},
    {"--suppressions", "suppressions", FLAG_PATH, 0, NULL, 1},
    {"--gen-suppressions", "gen_suppressions", FLAG_SWITCH, 0, NULL, 1},
    {"--baseline", "baseline", FLAG_PATH, 0, NULL, 1},
    {"--trace-children", "trace_children", FLAG_CHOICE, 0, "yes|no", 1},
    {"--handle-signals", "handle_signals", FLAG_CHOICE, 0, "yes|no", 1},
};

/* Parses a number from 0 to max written in decimal: digits only, so no
 * sign, space or base prefix slips through to the runtime. */
static int parse_number(const char *s, size_t len, int max, int *number) {
  long n = 0;

  if (len == 0)
    return -1;
  for (size_t i = 0; i < len; i++) {
    if (s[i] < '0' || s[i] > '9')
      return -1;
    n = n * 10 + (s[i] - '0');
    if (n > max)
      return -1;
  }
  *number = (int)n;
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
    if (parse_number(v, len, 255, &opt->error_exitcode) != 0)
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
static int runtime_file(struct cli_options *opt, const struct flag *f,
                        const char *value) {
  char path[PATH_MAX];
  int rc;

  /* Messages name the file as the user typed it. */
  rc = !strcmp(f->option, "baseline") ? cli_check_baseline(value)
                                       : cli_check_suppressions(value);
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
  return pass_on(opt, f->option, path, 1);
}

/* Applies one flag with its value (NULL for a switch). */
static int apply(struct cli_options *opt, const struct flag *f,
                 const char *value) {
  char number[16];
  int n;

  switch (f->kind) {
  case FLAG_SWITCH:
    return f->runtime ? pass_on(opt, f->option, "1", 0)
                      : set_own(opt, f->option, "1", 1);
  case FLAG_NUMBER:
    if (parse_number(value, strlen(value), f->max, &n) != 0)
      break;
    if (!f->runtime)
      return set_own(opt, f->option, value, strlen(value));
    snprintf(number, sizeof(number), "%d", n);
    return pass_on(opt, f->option, number, 0);
  case FLAG_PATH:
    if (*value == '\0')
      break;
    if (f->runtime)
      return runtime_file(opt, f, value);
    return set_own(opt, f->option, value, strlen(value));
  case FLAG_CHOICE:
    if ((n = al_choice_index(f->choices, value, strlen(value))) < 0)
      break;
    if (!f->runtime)
      return set_own(opt, f->option, value, strlen(value));
    return pass_on(opt, f->option, n == 0 ? "1" : "0", 0);
  }
  cli_error("invalid value '%s' for %s", value, f->name);
  return -1;
}

int cli_options_parse(char **argv, struct cli_options *opt) {
  int i;

  for (i = 1; argv[i] != NULL; i++) {
    const char *arg = argv[i], *eq;
    const struct flag *f = NULL;
    size_t len;

    if (!strcmp(arg, "--")) {
      i++;
      break;
    }
    if (arg[0] != '-' || arg[1] == '\0')
      break;
    if (!strcmp(arg, "-h") || !strcmp(arg, "--help")) {
      cli_usage(STDOUT_FILENO, 0);
      exit(0);
    }
    if (!strcmp(arg, "--version")) {
      cli_line(STDOUT_FILENO, "asyncleak %s", ASYNCLEAK_VERSION);
      exit(0);
    }
    if (!strcmp(arg, "-q"))
      arg = "--quiet";
    eq = strchr(arg, '=');
    len = eq ? (size_t)(eq - arg) : strlen(arg);
    for (size_t k = 0; k < CLI_ARRAY_SIZE(flags); k++)
      if (strlen(flags[k].name) == len && !strncmp(flags[k].name, arg, len))
        f = &flags[k];
    if (f == NULL || (f->kind == FLAG_SWITCH && eq != NULL)) {
      cli_error("unknown option '%s'", argv[i]);
      return -1;
    }
    if (f->kind != FLAG_SWITCH && eq == NULL) {
      cli_error("option '%s' needs a value", arg);
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
  const char **own[] = {&opt->log_file, &opt->json, &opt->junit, &opt->sarif,
                        &opt->write_baseline};

  for (size_t i = 0; i < opt->nruntime; i++)
    free(opt->runtime[i]);
  opt->nruntime = 0;
  for (size_t i = 0; i < CLI_ARRAY_SIZE(own); i++) {
    free((char *)*own[i]);
    *own[i] = NULL;
  }
}
