/* This file is private to the asyncleak command: what its files share.
 * The command is a separate program from the runtime and shares no code
 * with it, hence its own prefix, cli_.
 */
#ifndef ASYNCLEAK_CLI_H_
#define ASYNCLEAK_CLI_H_

#include <stddef.h>
#include <sys/types.h>

#define CLI_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#define CLI_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* asyncleak's own failures use the statuses env(1) and the shell use, out of
 * the way of the program's. */
enum {
  CLI_EXIT_LEAKS = 23,    /* the default of --error-exitcode */
  CLI_EXIT_FAILURE = 125, /* asyncleak itself failed, or was misused */
  CLI_EXIT_CANNOT_EXEC = 126,
  CLI_EXIT_NOT_FOUND = 127
};

struct cli_options {
  int error_exitcode;
  const char *log_file; /* NULL for stderr */
  int quiet;
  /* The runtime's shutdown modes, passed on in ASYNCLEAK_OPTIONS. */
  int force_close;
  int graceful_signals;
  int drain_timeout_ms; /* -1 when not given: the runtime's default */
};

/* The program that ran: its name as typed, its pid and its wait status. */
struct cli_child {
  const char *name;
  pid_t pid;
  int status;
};

/* ------------------------------------------------------------- msg.c */

/* Writes all of buf, going on after interruptions; returns 0 or -1. */
int cli_write_all(int fd, const void *buf, size_t len);
/* Each of these formats one line, newline included, into one buffer and
 * writes it at once: "asyncleak: ", "asyncleak: warning: " or nothing goes
 * before the message. */
void cli_error(const char *fmt, ...) CLI_PRINTF(1, 2);
void cli_warning(const char *fmt, ...) CLI_PRINTF(1, 2);
void cli_say(int fd, const char *fmt, ...) CLI_PRINTF(2, 3);
void cli_line(int fd, const char *fmt, ...) CLI_PRINTF(2, 3);

/* ------------------------------------------------------------- resolve.c */

/* Finds the program called name as execvp() would and stores its path in
 * path (PATH_MAX bytes). Returns 0, or the exit status after saying why it
 * cannot be run. */
int cli_resolve(const char *name, char *path, size_t size);
/* Warns when the loader will run path in secure mode, where it ignores
 * LD_PRELOAD. */
void cli_warn_setuid(const char *path, const char *name);

/* ------------------------------------------------------------- elf.c */

/* Returns 0 when the runtime can be preloaded into path, or when path is not
 * ELF; otherwise the exit status after saying why not. */
int cli_check_elf(const char *path, const char *name);

/* ------------------------------------------------------------- runtime.c */

/* Stores the path of libasyncleak.so in path (PATH_MAX bytes). Returns 0, or
 * the exit status after saying why it cannot be used. */
int cli_find_runtime(char *path, size_t size);
/* Sets LD_PRELOAD and ASYNCLEAK_OPTIONS for the program, keeping what the
 * user put there, and passes on the options meant for the runtime. Returns 0
 * or the exit status. */
int cli_setup_env(const char *runtime, const char *report_dir,
                  const struct cli_options *opt);

/* ------------------------------------------------------------- reportdir.c */

/* Creates a private directory for the reports and stores its path in dir.
 * Returns 0 or the exit status. */
int cli_reportdir_create(char *dir, size_t size);
/* Removes the directory and whatever is in it. */
void cli_reportdir_remove(const char *dir);

/* ------------------------------------------------------------- spawn.c */

/* Runs path with argv, forwarding the signals asyncleak receives, and fills
 * in the child's pid and wait status. Returns 0 once it has exited, or the
 * exit status after saying why it could not run. */
int cli_spawn(const char *path, char *const argv[], struct cli_child *child);

/* ------------------------------------------------------------- collect.c */

/* What one process of the run left in the report directory. */
struct cli_proc {
  pid_t pid;
  char *text; /* <pid>.txt, NULL when absent */
  size_t text_len;
  int has_sum;   /* <pid>.sum was read: the report is complete */
  int used_loop; /* its libs= named a loop library */
  unsigned long long loops, loops_unclosed, handles_created, handles_open;
  unsigned long long requests_created, requests_pending;
  unsigned long long handles_forced;    /* left open, closed by force mode */
  unsigned long long requests_cancelled; /* left pending, cancelled so */
  unsigned long long resources_ensured; /* closed by ensure_closure */
};

struct cli_reports {
  struct cli_proc *procs; /* in pid order */
  size_t nr, alloc;
};

/* Reads the reports in dir. Never fails: what cannot be read is left out,
 * with a warning when the directory itself cannot be read. */
void cli_reports_read(struct cli_reports *r, const char *dir);
void cli_reports_release(struct cli_reports *r);

/* ------------------------------------------------------------- report.c */

/* Prints the reports and what they add up to, to the log file or stderr.
 * Returns the number of handles leaked in all the processes: left open, or
 * left open and then closed by force at shutdown. */
unsigned long long cli_report(const struct cli_reports *r,
                              const struct cli_child *child,
                              const struct cli_options *opt);

/* ------------------------------------------------------------- signame.c */

/* Returns the name of sig, "SIGTERM", formatted into buf. */
const char *cli_signame(int sig, char *buf, size_t size);

#endif /* ASYNCLEAK_CLI_H_ */
