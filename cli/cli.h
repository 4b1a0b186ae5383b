/* This file is private to the asyncleak command: what its files share.
 * The command is a separate program from the runtime, hence its own
 * prefix, cli_; it shares one file with it, lib/syntax.c, the syntax of
 * what users write.
 */
#ifndef ASYNCLEAK_CLI_H_
#define ASYNCLEAK_CLI_H_

#include <dirent.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

#define CLI_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#define CLI_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* asyncleak's own failures use the statuses env(1) and the shell use, out of
 * the way of the program's. */
enum {
  CLI_EXIT_LEAKS = 23,    /* the default of --error-exitcode */
  CLI_EXIT_TIMEOUT = 124, /* --timeout ended the program, as timeout(1) */
  CLI_EXIT_FAILURE = 125, /* asyncleak itself failed, or was misused */
  /* The program exited 0 and nothing leaked that could be seen, but a
   * process of it carries its own copy of a loop library, which cannot be
   * watched: not a pass, and not a leak found. */
  CLI_EXIT_UNCHECKED = CLI_EXIT_FAILURE,
  CLI_EXIT_CANNOT_EXEC = 126,
  CLI_EXIT_NOT_FOUND = 127
};

/* The values of the color option. */
enum { CLI_COLOR_AUTO, CLI_COLOR_ALWAYS, CLI_COLOR_NEVER };

/* The command's own options, from ASYNCLEAK_OPTIONS and then its flags. */
struct cli_options {
  int error_exitcode;
  const char *log_file; /* NULL for stderr */
  int quiet;
  int missing_warn; /* missing reports are said, and do not fail the run */
  int color;     /* CLI_COLOR_AUTO until resolved */
  int env_color; /* ASYNCLEAK_OPTIONS has a color entry */
  const char *json, *junit, *sarif; /* machine-readable reports, or NULL */
  const char *write_baseline;
  /* --timeout and --kill-after, in milliseconds (0: none), and the
   * timeout as given, for messages. */
  unsigned long long timeout_ms, kill_after_ms;
  const char *timeout_text;
  /* The runtime's options the flags set, as key=value entries for
   * ASYNCLEAK_OPTIONS, in the order given. */
  char *runtime[64];
  size_t nruntime;
};

/* The program that ran: its name as typed, its pid and its wait status. */
struct cli_child {
  const char *name;
  pid_t pid;
  int status;
  /* --timeout ended it: 0, or the last signal it was sent for that
   * (SIGTERM, SIGKILL). */
  int timed_out;
};

/* ------------------------------------------------------------- msg.c */

/* Writes all of buf, going on after interruptions; returns 0 or -1. */
int cli_write_all(int fd, const void *buf, size_t len);
/* Keeps the first error of the writes to fd from now on (-1: none);
 * returns the error kept for the descriptor watched until then, or 0. */
int cli_write_watch(int fd);
/* Each of these formats one line, newline included, into one buffer and
 * writes it at once: "asyncleak: ", "asyncleak: warning: " or nothing goes
 * before the message. */
void cli_error(const char *fmt, ...) CLI_PRINTF(1, 2);
void cli_warning(const char *fmt, ...) CLI_PRINTF(1, 2);
void cli_say(int fd, const char *fmt, ...) CLI_PRINTF(2, 3);
void cli_line(int fd, const char *fmt, ...) CLI_PRINTF(2, 3);
/* Writes text a process wrote (its text report), which the runtime has
 * escaped already, escaping what a process could have written there
 * itself: its newlines and backslashes are kept, and, when color is set,
 * the sequences of the runtime's own colours (bold, red, magenta,
 * normal); every other control byte, the escape character of any other
 * sequence included, is written as \xHH. */
void cli_write_text(int fd, const char *text, size_t len, int color);

/* ------------------------------------------------------------- options.c */

/* A flag of the command, made from an entry of the option table,
 * lib/options.inc, which says what each field is. */
struct cli_flag {
  const char *name;  /* "--log-file"; NULL when the option has no flag */
  const char *key;   /* its ASYNCLEAK_OPTIONS key; NULL for --help and
                        --version, which are not options */
  const char *arg;   /* see cli_flag_arg */
  const char *group; /* the heading --help lists it under */
  const char *help;
  int kind;             /* enum al_option_kind */
  const char *dflt_str; /* an ENUM's values, '|' between */
  long dflt, lo, hi;
};
/* Every entry of the table, in its order, then --help and --version. */
extern const struct cli_flag cli_flags[];
extern const size_t cli_nflags;
/* The name of the flag's value in --help ("PATH", "yes|no", an ENUM's
 * values), or NULL for a switch. */
const char *cli_flag_arg(const struct cli_flag *f);
/* The letter of the flag's short form ('q' for --quiet), or 0. */
char cli_flag_short(const struct cli_flag *f);
/* Reads the command's own options from ASYNCLEAK_OPTIONS, warning about
 * malformed values, which are ignored. Returns -1 after saying so when
 * the variable cannot be extended (an unterminated quote). */
int cli_options_from_env(struct cli_options *opt);
/* The same, from the text of the variable. */
int cli_options_from_text(struct cli_options *opt, const char *text);
/* Parses the flags; returns the index of the program in argv, or -1 once
 * it has said what is wrong. --help and --version exit from here. */
int cli_options_parse(char **argv, struct cli_options *opt);
void cli_options_release(struct cli_options *opt);

/* ------------------------------------------------------------- usage.c */

/* Prints the usage, every flag of cli_flags with its help, its default
 * and its key: its first line only when brief. */
void cli_usage(int fd, int brief);

/* ------------------------------------------------------------- userfiles.c */

/* Checks a suppressions or baseline file the way the runtime will read
 * it: 0, or -1 after naming the file and line that is wrong. */
int cli_check_suppressions(const char *path);
int cli_check_baseline(const char *path);

/* ------------------------------------------------------------- outfile.c */

/* Where an output file is: the directory that holds it, held open, and
 * its name there; created when it did not exist before. */
struct cli_outfile {
  int dir;
  char name[256];
  int created;
};
/* Opens path for writing, created with mode (less the umask) when it does
 * not exist, and not emptied. It walks the path through directory
 * descriptors, and refuses a symbolic link on the way that belongs to
 * neither the user running asyncleak nor root, and an existing file of
 * another user's in a sticky directory others can write to. Returns the
 * descriptor, with where it is in out (release it with
 * cli_output_release); or -1 with the reason in why. */
int cli_output_open(const char *path, mode_t mode, struct cli_outfile *out,
                    char *why, size_t whysize);
/* Removes the file, if cli_output_open created it, from the directory it
 * was created in, whatever the path now leads to. */
void cli_output_remove(struct cli_outfile *out);
void cli_output_release(struct cli_outfile *out);
/* The log file (--log-file), opened as above and emptied: its descriptor,
 * whose write errors are kept, or -1 after saying why (the reports then go
 * to stderr). */
int cli_log_open(const char *path);
/* Closes it; returns -1 after saying so when a write to it failed. */
int cli_log_close(int fd);
/* Whether the log file could not be opened or written: the run fails. */
int cli_log_failed(void);

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
/* Whether the program at path needs a loop library asyncleak watches
 * (DT_NEEDED libuv.so.1, libevent*.so): 1, with its name in lib; 0 when
 * it needs none; -1 when that cannot be told. A script is judged by its
 * interpreter. */
int cli_elf_uses_loop(const char *path, char *lib, size_t size);

/* ------------------------------------------------------------- runtime.c */

/* Stores the path of the runtime, libasyncleak.so.0, in path (PATH_MAX
 * bytes). Returns 0, or the exit status after saying why it cannot be
 * used. */
int cli_find_runtime(char *path, size_t size);
/* Sets LD_PRELOAD and ASYNCLEAK_OPTIONS for the program, keeping what the
 * user put there, and passes on the options meant for the runtime. Returns 0
 * or the exit status. */
int cli_setup_env(const char *runtime, const char *report_dir,
                  const struct cli_options *opt);

/* ------------------------------------------------------------- reportdir.c */

/* Creates a private directory for the reports in TMPDIR, which must be
 * safe: TMPDIR and each directory above it belong to the user running
 * asyncleak or to root, and others cannot write to them unless they are
 * sticky. Stores its path in dir, and holds it open. Returns 0 or the exit
 * status. */
int cli_reportdir_create(char *dir, size_t size);
/* The directory dir as it was made: a new descriptor of it, or a stream
 * reading it from its start, whatever its name now leads to; NULL or -1
 * with errno set. */
int cli_reportdir_fd(const char *dir);
DIR *cli_reportdir_open(const char *dir);
/* The descriptor held, or -1 when there is none. */
int cli_reportdir_held(void);
/* Removes the directory and whatever is in it. */
void cli_reportdir_remove(const char *dir);

/* ------------------------------------------------------------- reaper.c */

/* Leaves behind a process that removes the report directory once the n
 * processes of pids, still running, have ended; or 24 hours after the run
 * when one of them left a report of leaks there, or was still running.
 * Returns its pid, or -1 with errno set. */
pid_t cli_reaper_start(const char *dir, const pid_t *pids, size_t n);
/* Says on fd which process removes the directory, if one was started. */
void cli_reaper_say(int fd);

/* ------------------------------------------------------------- spawn.c */

/* Runs path with argv, forwarding the signals asyncleak receives, and fills
 * in the child's pid and wait status. Returns 0 once it has exited, or the
 * exit status after saying why it could not run. */
int cli_spawn(const char *path, char *const argv[], struct cli_child *child,
              const struct cli_options *opt);

/* ------------------------------------------------------------- pidindex.c */

/* Items numbered from 0 in the order added, found by pid. Zeroed is
 * empty. */
struct cli_pidindex {
  pid_t *pid;   /* of each item */
  size_t *next; /* the next item of its chain, plus 1; 0 ends it */
  size_t *head; /* the first item of each chain, plus 1 */
  size_t n, alloc;
  unsigned bits; /* 2^bits chains */
};
/* Adds item number x->n, of pid; returns 0, or -1 when out of memory
 * (then it is not added). */
int cli_pidindex_add(struct cli_pidindex *x, pid_t pid);
/* The items of pid, in the order added: the first, plus 1, then the one
 * after it, plus 1, of the item it (plus 1); 0 when there are no more. */
size_t cli_pidindex_first(const struct cli_pidindex *x, pid_t pid);
size_t cli_pidindex_next(const struct cli_pidindex *x, size_t it);
void cli_pidindex_release(struct cli_pidindex *x);

/* ------------------------------------------------------------- ps.c */

/* `asyncleak ps [--json] PID...`, argv[0] being "ps": prints what each
 * process holds and what its loop threads are doing. Returns the exit
 * status. */
int cli_ps_main(int argc, char **argv);
/* The same for one process, as text to out (--timeout's "why it is still
 * running"), within budget_ms; color as resolved. Returns 0, or -1 when
 * the process did not answer, which is said on out. */
int cli_ps_explain(FILE *out, pid_t pid, int color, long long budget_ms);

/* ---------------------------------------------------------- proctree.c */

/* The processes descending from root, found in /proc now, parents before
 * their children: up to max of them into out; returns how many. */
size_t cli_descendants(pid_t root, pid_t *out, size_t max);

/* ------------------------------------------------------- threadstack.c */

/* One frame of a thread's current stack, symbolized. */
struct cli_stack_frame {
  unsigned long pc;
  char *function, *file, *module; /* NULL when unknown */
  unsigned line;                  /* 0 when unknown */
};

struct cli_stack {
  struct cli_stack_frame *frames;
  size_t n;
};

/* Reads the current stack of thread tid of process pid, up to max frames
 * (stopping it for as long as that takes, with ptrace): 0, or -1 with why
 * set. cli_stack_release() is needed either way. */
int cli_thread_stack(pid_t pid, pid_t tid, struct cli_stack *out,
                     size_t max, char *why, size_t whylen);
void cli_stack_release(struct cli_stack *s);

/* ------------------------------------------------------------- collect.c */

/* One frame of a leak's creation stack; strings may be empty, never
 * NULL. */
struct cli_frame {
  const char *pc, *function, *file, *module, *offset;
  unsigned line; /* 0 when unknown */
  int inlined;   /* inlined into the next frame, at the same pc */
  const char *source; /* the file as it was compiled, as the text report
                         names it ("" when unknown); file is its full
                         path where the directory is known */
};

/* One leak group of a process, from its <pid>.rec. */
struct cli_group {
  const char *state; /* open, closing, pending, forced, cancelled,
                        ensured */
  const char *type;
  const char *fingerprint;
  unsigned long long count;
  int own;       /* the first frame in the program's own code, or -1 */
  int baselined; /* in the baseline: reported as such, not counted */
  struct cli_frame *frames;
  size_t nframes;
};

/* One group of findings of the debug checks of a process, from its
 * records: what was called, where (frames[0]), and the stack that tells
 * why it is wrong (frames[1]: for use-after-close, the first close),
 * which may be empty. */
struct cli_finding {
  const char *check; /* "use-after-close" */
  const char *call;  /* the function the program called */
  const char *type;
  const char *fingerprint;
  unsigned long long count, value;
  int own; /* the first frame of frames[0] in the program's own code, or
              -1 */
  long thread, loop_thread; /* wrong-thread: the thread that called and
                               the one running the loop; 0 otherwise */
  struct cli_frame *frames[2];
  size_t nframes[2];
};

/* One suppression that covered leaks of a process. */
struct cli_supp {
  const char *file, *rule;
  unsigned line;
  unsigned long long groups, resources;
};

/* A loop library's copy in an object of a process (its copy= lines),
 * which asyncleak cannot watch. */
struct cli_copy {
  char *library; /* "libuv", "libevent" */
  char *object;  /* the executable or shared library holding it */
};

/* What became of a process that left no complete report: the verdict,
 * taken once (collect.c), that the text and the other formats render. */
enum cli_missing {
  CLI_MISSING_NONE,    /* its report is complete */
  CLI_MISSING_RUNNING, /* still running: it writes its report later */
  CLI_MISSING_FAILS,   /* it used a loop library, or executed a program
                          that does, and its report is lost: fails the
                          run unless --missing-reports=warn */
  CLI_MISSING_NOTED,   /* nothing of a loop library was lost: said only */
  CLI_MISSING_UNTRACED /* it executed a program that was not to be traced
                          (--trace-children=no): nothing is missing */
};

/* What one process of the run left in the report directory: its report
 * file, <pid>-<start>[-<n>].report (docs/report-format.md). */
struct cli_proc {
  pid_t pid;
  unsigned long long start; /* its start time, from the name; 0: unknown */
  char *file;    /* the file's name in the report directory; "" for a
                    child its parent named that has made none */
  char *text;    /* the text report, NULL when absent */
  size_t text_len;
  int has_sum;   /* the totals were read: the report is complete */
  int started;   /* it has a file: the runtime ran in it */
  int running;   /* 1 when it was still running as the reports were read,
                    0 when it had ended, -1 when that is not known */
  int used_loop; /* its image used a loop library (uses=, or libs=) */
  int used_loop_before_exec; /* an earlier image did, then executed */
  char uses[32]; /* the first such library, for messages */
  int cut;       /* a part of the report ends early: a write failed */
  char *error;   /* why the runtime could not write the report, or NULL */
  char *exec;    /* a program the process executed whose image wrote
                    nothing, or NULL */
  int exec_untraced; /* ... executed with trace_children=no */
  enum cli_missing missing;
  char *cause;   /* with missing: what is known of why, or NULL */
  int unchecked; /* noted, but what it executed may use a loop library
                    that was not checked: the run is not said clean */
  pid_t ppid, forked_from; /* forked_from: 0 unless a fork child */
  char *exe;     /* what it ran, or NULL */
  char *rec;     /* the records, which the groups point into */
  struct cli_copy *copies;
  size_t ncopies;
  struct cli_group *groups;
  size_t ngroups;
  struct cli_supp *supps;
  size_t nsupps;
  struct cli_finding *finds; /* the findings' groups */
  size_t nfinds;
  unsigned long long findings;         /* findings, dropped ones included */
  unsigned long long findings_dropped; /* not kept in a group */
  unsigned long long findings_fail;    /* they fail the run
                                          (fail_on_findings) */
  /* Findings an image of the process made before it executed another
   * program: its report of them went with it, and they are counted here
   * (findings_at_exec=), the last one apart, which a failed exec gives
   * back. */
  unsigned long long findings_exec, findings_exec_last;
  int findings_exec_fail; /* the image that made them fails on findings */
  unsigned long long suppressed, baselined;
  unsigned long long loops, loops_unclosed, handles_created, handles_open;
  unsigned long long requests_created, requests_pending;
  unsigned long long handles_forced;    /* left open, closed by force mode */
  unsigned long long requests_cancelled; /* left pending, cancelled so */
  unsigned long long resources_ensured; /* closed by ensure_closure */
  unsigned long long handles_closing; /* a close asked for, not completed */
  unsigned long long closing_fails;   /* those fail the run
                                         (fail_on_closing) */
};

struct cli_reports {
  struct cli_proc *procs; /* in pid order */
  size_t nr, alloc;
  const char *dir; /* where they were read */
  size_t running;  /* processes still running, their report not written */
};

/* Whether a group of process p fails the run: a leak, not a warning, not
 * in the baseline, and not a close that did not complete unless p was
 * told to fail on those. */
int cli_group_fails(const struct cli_proc *p, const struct cli_group *g);

/* The findings of process p that fail the run: all of them when p was
 * told to fail on them, else none. */
unsigned long long cli_proc_findings_failing(const struct cli_proc *p);
/* The findings of process p: its report's, and those of its images that
 * executed another program, which no report shows. */
unsigned long long cli_proc_findings(const struct cli_proc *p);

/* Reads the reports in dir. Never fails: what cannot be read is left out,
 * with a warning when the directory itself cannot be read. */
void cli_reports_read(struct cli_reports *r, const char *dir);
/* Splits line at tabs into at most max fields, in place; returns how
 * many. */
size_t cli_split(char *line, char **field, size_t max);
/* A "frame" record's fields (f[0] being "frame") into *out, pointing into
 * them: 0, or -1 when they are not one. */
int cli_frame_parse(char **f, size_t n, struct cli_frame *out);
void cli_reports_release(struct cli_reports *r);
/* How many processes carry a copy of a loop library that could not be
 * watched. */
size_t cli_reports_unwatched(const struct cli_reports *r);
/* How many processes left no report where one was needed
 * (CLI_MISSING_FAILS). */
size_t cli_reports_missing(const struct cli_reports *r);
/* How many processes made findings before an exec (findings_exec). */
size_t cli_reports_findings_exec(const struct cli_reports *r);
/* The program itself among the processes, or NULL: the process of its pid
 * whose parent is this command. */
const struct cli_proc *cli_reports_main(const struct cli_reports *r,
                                        pid_t pid);
/* Whether p had not written its report because it was still running. */
int cli_proc_running(const struct cli_proc *p);
/* Removes the files of the processes that are not still running: the
 * directory is kept for the reports of those that are. */
void cli_reports_prune(const struct cli_reports *r);

/* ------------------------------------------------------------- report.c */

/* Prints the reports and what they add up to, to the log file or stderr.
 * Returns the number of handles leaked in all the processes: left open, or
 * left open and then closed by force at shutdown. */
unsigned long long cli_report(const struct cli_reports *r,
                              const struct cli_child *child,
                              const struct cli_options *opt);

/* ------------------------------------------------------------- outputs */

/* Everything the machine-readable reports describe. */
struct cli_run {
  char **argv; /* the program and its arguments */
  const struct cli_child *child;
  const struct cli_reports *reports;
  int status;  /* asyncleak's own exit status */
  unsigned long long leaks; /* what failed the run: neither suppressed
                               nor in the baseline; findings of the debug
                               checks included when they fail it */
};

/* Each writes one document to out and returns 0, or -1 when writing
 * failed. json.c: the schema of docs/report-format.md; junit.c: JUnit
 * XML; sarif.c: SARIF 2.1.0. */
int cli_write_json(FILE *out, const struct cli_run *run);
int cli_write_junit(FILE *out, const struct cli_run *run);
int cli_write_sarif(FILE *out, const struct cli_run *run);
/* baseline.c: the fingerprints of every leak group of the run, those
 * already in a baseline included, one a line with a comment. */
int cli_write_baseline(FILE *out, const struct cli_run *run);

/* ------------------------------------------------------------- signame.c */

/* Returns the name of sig, "SIGTERM", formatted into buf. */
const char *cli_signame(int sig, char *buf, size_t size);

#endif /* ASYNCLEAK_CLI_H_ */
