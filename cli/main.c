/* The asyncleak command: its options, and the order of the steps from the
 * program's name to the exit status. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"

static const char *const usage[] = {
  "usage: asyncleak [options] [--] program [args...]",
  "",
  "Run a program with the asyncleak runtime preloaded and report the libuv",
  "handles it left open at exit.",
  "",
  "    -q, --quiet             print nothing when there are no leaks",
  "        --error-exitcode=N  exit with N (0-255, default 23) when the",
  "                            program exited 0 but left handles open",
  "                            (or closed by force); with 0, leaks never",
  "                            fail the run",
  "        --log-file=PATH     write the reports to PATH instead of stderr;",
  "                            %p in PATH becomes the program's pid",
  "        --force-close       after the finalizers, close every handle the",
  "                            program left open; they are still reported,",
  "                            as closed by force, and fail the run",
  "        --graceful-signals  on SIGINT or SIGTERM, shut down and write the",
  "                            report, then die of the signal",
  "        --drain-timeout=MS  how long the loop runs at shutdown for the",
  "                            finalizers' work (0-600000, default 3000)",
  "    -h, --help              show this help and exit",
  "        --version           show the version and exit",
};

static void print_usage(int fd, size_t lines) {
  for (size_t i = 0; i < lines; i++)
    cli_line(fd, "%s", usage[i]);
}

/* Returns the value of arg when it is "--name=value", else NULL. */
static const char *value_of(const char *arg, const char *name) {
  size_t len = strlen(name);

  if (strncmp(arg, name, len) != 0 || arg[len] != '=')
    return NULL;
  return arg + len + 1;
}

/* Parses a number from 0 to max written in decimal: digits only, so no
 * sign, space or base prefix slips through to the runtime. */
static int parse_number(const char *s, int max, int *number) {
  long n = 0;

  if (*s == '\0')
    return -1;
  for (; *s != '\0'; s++) {
    if (*s < '0' || *s > '9')
      return -1;
    n = n * 10 + (*s - '0');
    if (n > max)
      return -1;
  }
  *number = (int)n;
  return 0;
}

/* Returns the index of the program in argv, or -1 once it has said what is
 * wrong with the options. --help and --version exit from here. */
static int parse_options(char **argv, struct cli_options *opt) {
  int i;

  for (i = 1; argv[i] != NULL; i++) {
    const char *arg = argv[i], *value;

    if (!strcmp(arg, "--")) {
      i++;
      break;
    }
    if (arg[0] != '-' || arg[1] == '\0')
      break;
    if (!strcmp(arg, "-h") || !strcmp(arg, "--help")) {
      print_usage(STDOUT_FILENO, CLI_ARRAY_SIZE(usage));
      exit(0);
    } else if (!strcmp(arg, "--version")) {
      cli_line(STDOUT_FILENO, "asyncleak %s", ASYNCLEAK_VERSION);
      exit(0);
    } else if (!strcmp(arg, "-q") || !strcmp(arg, "--quiet")) {
      opt->quiet = 1;
    } else if (!strcmp(arg, "--force-close")) {
      opt->force_close = 1;
    } else if (!strcmp(arg, "--graceful-signals")) {
      opt->graceful_signals = 1;
    } else if ((value = value_of(arg, "--error-exitcode")) != NULL) {
      if (parse_number(value, 255, &opt->error_exitcode) != 0) {
        cli_error("invalid value '%s' for --error-exitcode", value);
        return -1;
      }
    } else if ((value = value_of(arg, "--log-file")) != NULL) {
      if (*value == '\0') {
        cli_error("invalid value '' for --log-file");
        return -1;
      }
      opt->log_file = value;
    } else if ((value = value_of(arg, "--drain-timeout")) != NULL) {
      /* The runtime's own bounds for drain_timeout_ms. */
      if (parse_number(value, 600000, &opt->drain_timeout_ms) != 0) {
        cli_error("invalid value '%s' for --drain-timeout", value);
        return -1;
      }
    } else if (!strcmp(arg, "--error-exitcode") || !strcmp(arg, "--log-file") ||
               !strcmp(arg, "--drain-timeout")) {
      cli_error("option '%s' needs a value", arg);
      return -1;
    } else {
      cli_error("unknown option '%s'", arg);
      return -1;
    }
  }
  if (argv[i] == NULL) {
    cli_error("no program to run");
    return -1;
  }
  return i;
}

/* Runs the program and prints what its processes reported; returns the exit
 * status of the whole run. */
static int run(const char *path, char **args, const char *runtime,
               const char *dir, const struct cli_options *opt) {
  struct cli_child child = {.name = args[0]};
  struct cli_reports reports;
  unsigned long long leaked;
  int rc;

  if ((rc = cli_setup_env(runtime, dir, opt)) != 0 ||
      (rc = cli_spawn(path, args, &child)) != 0)
    return rc;
  cli_reports_read(&reports, dir);
  leaked = cli_report(&reports, &child, opt);
  cli_reports_release(&reports);

  if (WIFSIGNALED(child.status))
    return 128 + WTERMSIG(child.status);
  if (WEXITSTATUS(child.status) != 0)
    return WEXITSTATUS(child.status);
  return leaked > 0 ? opt->error_exitcode : 0;
}

int main(int argc, char **argv) {
  struct cli_options opt = {.error_exitcode = CLI_EXIT_LEAKS,
                            .drain_timeout_ms = -1};
  char path[PATH_MAX], runtime[PATH_MAX], dir[PATH_MAX];
  char **args;
  int first, rc;

  first = parse_options(argv, &opt);
  if (first < 0) {
    print_usage(STDERR_FILENO, 1);
    return CLI_EXIT_FAILURE;
  }
  args = argv + first;

  if ((rc = cli_resolve(args[0], path, sizeof(path))) != 0 ||
      (rc = cli_check_elf(path, args[0])) != 0)
    return rc;
  cli_warn_setuid(path, args[0]);
  if ((rc = cli_find_runtime(runtime, sizeof(runtime))) != 0 ||
      (rc = cli_reportdir_create(dir, sizeof(dir))) != 0)
    return rc;

  rc = run(path, args, runtime, dir, &opt);
  cli_reportdir_remove(dir);
  return rc;
}
