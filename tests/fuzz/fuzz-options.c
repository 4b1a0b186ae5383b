/* libFuzzer target: the text of ASYNCLEAK_OPTIONS, which anyone who can set
 * a program's environment controls. Each input is read twice, the ways the
 * text is read for real: by the runtime in each process (lib/options.c),
 * and by the asyncleak command for its own options (cli/options.c). Both
 * share the tokenizer of lib/syntax.c, but not what they make of values.
 *
 * Beyond what the sanitizers catch, each parse must leave its options
 * within the bounds the rest of the code relies on. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* cli/main.c, which defines it, holds main() too, and libFuzzer brings its
 * own. Only the flags' parser calls it, for --help, and it is not fuzzed. */
void cli_usage(int fd, int brief) {}

static void broken(const char *what, const char *name) {
  fprintf(stderr, "fuzz-options: %s: %s\n", name, what);
  abort();
}

static void in_range(const char *name, long v, long lo, long hi) {
  if (v < lo || v > hi)
    broken("out of its range", name);
}

/* A string option fills a fixed array: it must end within it. A list also
 * keeps its entries one a line, none of them empty, or a suppressions file
 * would be read from "". */
static void terminated(const char *name, const char *s, int list) {
  const char *end = memchr(s, '\0', AL_OPTION_STR_MAX);

  if (end == NULL)
    broken("not terminated", name);
  if (list && end > s &&
      (s[0] == '\n' || end[-1] == '\n' || strstr(s, "\n\n") != NULL))
    broken("an empty entry in the list", name);
}

#define CHECK_INT(name, lo, hi) in_range(#name, opt->name, lo, hi)
#define CHECK_BOOL(name, lo, hi) in_range(#name, opt->name, lo, hi)
#define CHECK_ENUM(name, lo, hi) in_range(#name, opt->name, lo, hi)
#define CHECK_STR(name, lo, hi) terminated(#name, opt->name, 0)
#define CHECK_LIST(name, lo, hi) terminated(#name, opt->name, 1)

static void check_runtime(const struct al_options *opt) {
#define AL_OPTION(kind, name, dflt, lo, hi, flag, arg, group, help)          \
  CHECK_##kind(name, lo, hi);
#define AL_CLI_OPTION(kind, name, dflt, lo, hi, flag, arg, group, help)
#include "options.inc"
#undef AL_CLI_OPTION
#undef AL_OPTION
}

static void check_path(const char *name, const char *path) {
  if (path != NULL && path[0] == '\0')
    broken("an empty path", name);
}

static void check_command(const struct cli_options *opt) {
  in_range("error_exitcode", opt->error_exitcode, 0, 255);
  in_range("quiet", opt->quiet, 0, 1);
  in_range("color", opt->color, CLI_COLOR_AUTO, CLI_COLOR_NEVER);
  check_path("log_path", opt->log_file);
  check_path("json", opt->json);
  check_path("junit", opt->junit);
  check_path("sarif", opt->sarif);
  check_path("write_baseline", opt->write_baseline);
  if (opt->nruntime != 0)
    broken("entries for the runtime from the environment", "runtime");
  if (opt->timeout_ms > 30 * 86400000ULL)
    broken("more than 30 days", "timeout");
  if (opt->kill_after_ms > 30 * 86400000ULL)
    broken("more than 30 days", "kill_after");
  if (opt->timeout_ms > 0 && opt->timeout_text == NULL)
    broken("a timeout with no text to say it by", "timeout");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  /* The options are 4 KB strings each: too big for the stack of every
   * input, and set whole by al_options_defaults before each. */
  static struct al_options opt;
  struct cli_options cli = {.error_exitcode = CLI_EXIT_LEAKS};
  /* An environment variable's value: terminated, without a NUL inside. */
  char *text = malloc(size + 1);

  if (text == NULL)
    return 0;
  memcpy(text, data, size);
  text[size] = '\0';

  al_options_defaults(&opt);
  al_options_parse(&opt, text);
  check_runtime(&opt);

  cli_options_from_text(&cli, text);
  check_command(&cli);
  cli_options_release(&cli);

  free(text);
  return 0;
}
