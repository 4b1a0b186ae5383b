/* The asyncleak command: its options, and the order of the steps from the
 * program's name to the exit status. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"

/* NO_COLOR, set and not empty, turns colour off (no-color.org). */
static int no_color(void) {
  const char *v = getenv("NO_COLOR");
  return v != NULL && *v != '\0';
}

/* The machine-readable reports the user asked for. Their files are
 * opened before the program runs, so that a path that cannot be written
 * stops the run at once rather than after it; but emptied only when
 * written, so that a run that never happens leaves them as they were, and
 * a baseline may be read and written under the same name. */
struct output {
  const char *flag;
  int (*write)(FILE *out, const struct cli_run *run);
  const char *path;
  FILE *file;
  struct cli_outfile where; /* its directory, and whether it was made */
};

static int outputs_open(struct output *o, size_t n) {
  for (size_t i = 0; i < n; i++) {
    char why[PATH_MAX + 128];
    int fd;

    if (o[i].path == NULL)
      continue;
    fd = cli_output_open(o[i].path, 0666, &o[i].where, why, sizeof(why));
    if (fd >= 0 && (o[i].file = fdopen(fd, "w")) == NULL) {
      snprintf(why, sizeof(why), "%s", strerror(errno));
      close(fd);
    }
    if (o[i].file == NULL) {
      cli_output_remove(&o[i].where);
      cli_output_release(&o[i].where);
      cli_error("cannot write the %s file '%s': %s", o[i].flag, o[i].path,
                why);
      return -1;
    }
  }
  return 0;
}

/* Makes an output file ready for its document. A regular file is
 * emptied, unless it is where the command's own output goes (--json=
 * /dev/stdout into a file): the program's output is there, and the
 * document goes after it. Nothing else (a pipe, a terminal) can be
 * emptied, nor needs to be. */
static int output_reset(FILE *f) {
  struct stat st, own;
  int fd = fileno(f);

  if (fstat(fd, &st) != 0)
    return -1;
  if (!S_ISREG(st.st_mode))
    return 0;
  for (int std = STDOUT_FILENO; std <= STDERR_FILENO; std++)
    if (fstat(std, &own) == 0 && own.st_dev == st.st_dev &&
        own.st_ino == st.st_ino)
      return lseek(fd, 0, SEEK_END) < 0 ? -1 : 0;
  return ftruncate(fd, 0);
}

/* Writes and closes them (without a run: removes those it created); -1
 * when one could not be written. */
static int outputs_write(struct output *o, size_t n,
                         const struct cli_run *run) {
  int rc = 0;

  for (size_t i = 0; i < n; i++) {
    if (o[i].file == NULL)
      continue;
    if (run == NULL)
      cli_output_remove(&o[i].where);
    if (run != NULL && (output_reset(o[i].file) != 0 ||
                        o[i].write(o[i].file, run) != 0 ||
                        fflush(o[i].file) != 0 || ferror(o[i].file))) {
      cli_error("cannot write the %s file '%s': %s", o[i].flag, o[i].path,
                strerror(errno));
      rc = -1;
    }
    if (fclose(o[i].file) != 0 && rc == 0 && run != NULL) {
      cli_error("cannot write the %s file '%s': %s", o[i].flag, o[i].path,
                strerror(errno));
      rc = -1;
    }
    o[i].file = NULL;
    cli_output_release(&o[i].where);
  }
  return rc;
}

/* The exit status of the whole run: the program's own when it failed,
 * else error_exitcode when it leaked, else CLI_EXIT_UNCHECKED when a
 * process carried a copy of a loop library that could not be watched, or
 * used one and left no complete report (unless --missing-reports=warn). */
static int run_status(const struct cli_child *child,
                      unsigned long long leaked, size_t unwatched,
                      size_t missing, const struct cli_options *opt) {
  /* As timeout(1): 124 when it timed out, 128+9 when SIGKILL was needed,
   * whatever the program did with SIGTERM. */
  if (child->timed_out == SIGKILL)
    return 128 + SIGKILL;
  if (child->timed_out != 0)
    return CLI_EXIT_TIMEOUT;
  if (WIFSIGNALED(child->status))
    return 128 + WTERMSIG(child->status);
  if (WEXITSTATUS(child->status) != 0)
    return WEXITSTATUS(child->status);
  if (leaked > 0 && opt->error_exitcode != 0)
    return opt->error_exitcode;
  if (missing > 0 && !opt->missing_warn)
    return CLI_EXIT_UNCHECKED;
  return unwatched > 0 ? CLI_EXIT_UNCHECKED : 0;
}

/* Ends asyncleak by the signal the program died of, once everything is
 * printed and written: a supervisor tells "killed by SIGTERM" from "exited
 * with 143" (systemd calls the first a clean stop), and a shell still
 * shows 128+N. The program's core dump, if it made one, is the one worth
 * having: asyncleak makes none of its own. Returns only when the signal
 * could not end it. */
static void die_like(int sig) {
  const struct rlimit no_core = {0, 0};
  struct sigaction dfl;
  sigset_t set;

  fflush(NULL);
  setrlimit(RLIMIT_CORE, &no_core);
  /* A core_pattern that pipes to a program ignores RLIMIT_CORE; a process
   * that is not dumpable makes no core at all. */
  prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  memset(&dfl, 0, sizeof(dfl));
  dfl.sa_handler = SIG_DFL;
  sigemptyset(&dfl.sa_mask);
  sigaction(sig, &dfl, NULL);
  sigemptyset(&set);
  sigaddset(&set, sig);
  sigprocmask(SIG_UNBLOCK, &set, NULL);
  raise(sig);
}

/* The report directory stays for the processes still running: a reaper
 * removes it once they have ended (reaper.c), and the report says so. */
static void keep_for(const char *dir, const struct cli_reports *r) {
  pid_t pids[64];
  size_t n = 0;

  for (size_t i = 0; i < r->nr && n < CLI_ARRAY_SIZE(pids); i++)
    if (cli_proc_running(&r->procs[i]))
      pids[n++] = r->procs[i].pid;
  cli_reaper_start(dir, pids, n);
}

/* Runs the program, prints what its processes reported and writes the
 * machine-readable reports; returns the exit status of the whole run.
 * kept is set when processes of the run are still running: the report
 * directory then stays for their reports. signal is set to the signal the
 * program died of when that is what the status says. */
static int run(const char *path, char **args, const char *runtime,
               const char *dir, const struct cli_options *opt,
               struct output *outputs, size_t noutputs, int *kept,
               int *signal) {
  struct cli_child child = {.name = args[0]};
  struct cli_reports reports;
  struct cli_run info;
  unsigned long long leaked;
  int rc;

  if ((rc = cli_setup_env(runtime, dir, opt)) != 0 ||
      (rc = cli_spawn(path, args, &child, opt)) != 0)
    return rc;
  cli_reports_read(&reports, dir);
  if (reports.running > 0)
    keep_for(dir, &reports);
  leaked = cli_report(&reports, &child, opt);
  rc = run_status(&child, leaked, cli_reports_unwatched(&reports),
                  cli_reports_missing(&reports), opt);
  info = (struct cli_run){args, &child, &reports, rc, leaked};
  if (outputs_write(outputs, noutputs, &info) != 0 || cli_log_failed())
    rc = CLI_EXIT_FAILURE;
  if (WIFSIGNALED(child.status) && rc == 128 + WTERMSIG(child.status))
    *signal = WTERMSIG(child.status);
  *kept = reports.running > 0;
  if (*kept)
    cli_reports_prune(&reports);
  cli_reports_release(&reports);
  return rc;
}

int main(int argc, char **argv) {
  struct cli_options opt = {.error_exitcode = CLI_EXIT_LEAKS,
                            .kill_after_ms = 10000};
  char path[PATH_MAX], runtime[PATH_MAX], dir[PATH_MAX];
  struct output outputs[] = {
      {.flag = "--json", .write = cli_write_json},
      {.flag = "--junit", .write = cli_write_junit},
      {.flag = "--sarif", .write = cli_write_sarif},
      {.flag = "--write-baseline", .write = cli_write_baseline},
  };
  size_t noutputs = CLI_ARRAY_SIZE(outputs);
  char **args;
  int first, rc, kept = 0, sig = 0;

  /* `asyncleak ps PID`; a program named ps runs as `asyncleak -- ps`. */
  if (argc >= 2 && !strcmp(argv[1], "ps"))
    return cli_ps_main(argc - 1, argv + 1);
  if (cli_options_from_env(&opt) != 0)
    return CLI_EXIT_FAILURE;
  first = cli_options_parse(argv, &opt);
  if (first < 0) {
    cli_usage(STDERR_FILENO, 1);
    return CLI_EXIT_FAILURE;
  }
  args = argv + first;
  /* The reports go to the log file or to stderr: colour only on a
   * terminal, and never when NO_COLOR is set (no-color.org). */
  if (opt.color == CLI_COLOR_AUTO)
    opt.color = opt.log_file == NULL && isatty(STDERR_FILENO) &&
                        !no_color()
                    ? CLI_COLOR_ALWAYS
                    : CLI_COLOR_NEVER;
  outputs[0].path = opt.json;
  outputs[1].path = opt.junit;
  outputs[2].path = opt.sarif;
  outputs[3].path = opt.write_baseline;

  if ((rc = cli_resolve(args[0], path, sizeof(path))) != 0 ||
      (rc = cli_check_elf(path, args[0])) != 0)
    return rc;
  cli_warn_setuid(path, args[0]);
  if ((rc = cli_find_runtime(runtime, sizeof(runtime))) != 0)
    return rc;
  if (outputs_open(outputs, noutputs) != 0) {
    outputs_write(outputs, noutputs, NULL);
    return CLI_EXIT_FAILURE;
  }
  if ((rc = cli_reportdir_create(dir, sizeof(dir))) != 0) {
    outputs_write(outputs, noutputs, NULL);
    return rc;
  }

  rc = run(path, args, runtime, dir, &opt, outputs, noutputs, &kept, &sig);
  outputs_write(outputs, noutputs, NULL);
  if (!kept)
    cli_reportdir_remove(dir);
  cli_options_release(&opt);
  if (sig != 0)
    die_like(sig);
  return rc;
}
