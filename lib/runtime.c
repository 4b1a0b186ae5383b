/* Process-level life of the runtime: start-up, the report at exit, fork. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#include "internal.h"

atomic_int al_ready;
static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static atomic_int reported;
/* The process a report copy writes for (lib/ending.c); 0: this one. */
static pid_t report_as;

pid_t al_pid(void) {
  return report_as != 0 ? report_as : getpid();
}

int al_report_written(void) {
  return atomic_load(&reported);
}

static void report_at_exit(void *unused);
static void report_write(const struct al_ending *how);
extern int __cxa_atexit(void (*fn)(void *), void *arg, void *dso);

static pid_t pid_before_fork;

/* Under a seccomp filter that may kill (lib/seccomp.c), fork() makes no
 * system call of the runtime's: no getpid(), no report file. Every lock
 * of the runtime's is taken before the fork and released after it in
 * both processes (lib/locks.c), so that the child's data is whole. */
static void atfork_prepare(void) {
  if (!al_ending_sealed())
    pid_before_fork = getpid();
  al_locks_fork_prepare();
}

static void atfork_child(void) {
  al_tid_forget();
  al_locks_fork_child();
  al_registry_atfork_child();
  al_shutdown_atfork_child();
  al_graceful_atfork_child();
  al_ending_atfork_child();
  al_findings_atfork_child();
  /* Its own report file; only system calls here. None under the
   * program's seccomp filter, which may refuse them (lib/seccomp.c). */
  if (!al_ending_sealed()) {
    const char *lost[1];
    al_reportfile_start(pid_before_fork);
    if (al_locks_lost(lost, 1) > 0)
      al_reportfile_error_n("a lock of the runtime's was held by another "
                            "thread at fork for more than ",
                            AL_FORK_BUDGET_MS, " ms: the report of this "
                            "child may be incomplete");
  }
  /* The shims' own (al_on_fork_child), then what was deferred. */
  al_locks_fork_done();
}

/* trace_children=no: the programs this one executes do not get the
 * runtime. It leaves LD_PRELOAD, in the environment they inherit. The
 * array is edited in place, not through setenv(): a shell such as bash
 * has its own setenv, and passes on the environment it found at start. */
extern char **environ;

/* The runtime's file names: libasyncleak.so (the development link, which
 * users preload by hand too), libasyncleak.so.0 (the soname's link, which
 * the command preloads) and libasyncleak.so.0.1.0. */
static int is_runtime_file(const char *base, size_t len) {
  static const char name[] = "libasyncleak.so";
  size_t n = sizeof(name) - 1;

  return len >= n && !memcmp(base, name, n) && (len == n || base[n] == '.');
}

static void untrace_children(void) {
  static char entry[AL_OPTION_STR_MAX];
  const char *list = NULL;
  size_t used = sizeof("LD_PRELOAD=") - 1;
  char **slot = NULL;

  for (char **e = environ; e != NULL && *e != NULL; e++)
    if (!strncmp(*e, "LD_PRELOAD=", used)) {
      slot = e;
      list = *e + used;
    }
  if (slot == NULL || strlen(*slot) >= sizeof(entry))
    return;
  memcpy(entry, "LD_PRELOAD=", used);
  while (*list != '\0') {
    size_t len = strcspn(list, ": ");
    const char *slash = memrchr(list, '/', len);
    const char *base = slash ? slash + 1 : list;

    if (len > 0 && !is_runtime_file(base, len - (size_t)(base - list))) {
      if (used > sizeof("LD_PRELOAD=") - 1)
        entry[used++] = ':';
      memcpy(entry + used, list, len);
      used += len;
    }
    list += len;
    if (*list != '\0')
      list++;
  }
  entry[used] = '\0';
  if (used > sizeof("LD_PRELOAD=") - 1) {
    *slot = entry;
    return;
  }
  /* Nothing else was preloaded: the variable goes. */
  do
    slot[0] = slot[1];
  while (*++slot != NULL);
}

/* systemd's socket activation hands its sockets to the process whose pid
 * is in LISTEN_PID (sd_listen_fds checks it). Under the asyncleak command
 * that pid is the command's, and the program, its child, would refuse
 * them. When it is, the command marks the environment it gives the
 * program with ASYNCLEAK_LISTEN_PID=<its pid>; the runtime in the process
 * whose parent that is, the program itself, puts its own pid in
 * LISTEN_PID before main runs. The mark goes in every process that finds
 * it, so a grandchild never acts on it; LISTEN_FDS and LISTEN_FDNAMES stay
 * as they are. Edited in place, as untrace_children does. In secure mode
 * the environment is left alone. */
static void own_listen_pid(void) {
  static char entry[sizeof("LISTEN_PID=") + 24];
  const char *mark = secure_getenv("ASYNCLEAK_LISTEN_PID");
  char **slot = NULL, **marked = NULL;
  char parent[24];

  if (mark == NULL)
    return;
  for (char **e = environ; *e != NULL; e++) {
    if (!strncmp(*e, "LISTEN_PID=", sizeof("LISTEN_PID=") - 1))
      slot = e;
    else if (!strncmp(*e, "ASYNCLEAK_LISTEN_PID=",
                      sizeof("ASYNCLEAK_LISTEN_PID=") - 1))
      marked = e;
  }
  snprintf(parent, sizeof(parent), "%d", (int)getppid());
  if (slot != NULL && !strcmp(mark, parent) &&
      !strcmp(*slot + sizeof("LISTEN_PID=") - 1, mark)) {
    snprintf(entry, sizeof(entry), "LISTEN_PID=%d", (int)getpid());
    *slot = entry;
  }
  if (marked != NULL)
    do
      marked[0] = marked[1];
    while (*++marked != NULL);
}

/* A harness's own defaults, as __asan_default_options gives ASan's: the
 * program may define this. Bound when the program exports it, which a
 * program linking libasyncleak does (ld exports what a library it links
 * refers to); one that only gets the runtime preloaded must be linked
 * with -rdynamic. */
extern const char *__asyncleak_default_options(void) __attribute__((weak));
/* And its own suppressions, as __lsan_default_suppressions gives LSan's,
 * bound the same way: a library that defines it exports it. */
extern const char *__asyncleak_default_suppressions(void) __attribute__((weak));

/* The rules of __asyncleak_default_suppressions, read after the files',
 * in the same syntax and with the same warnings, which name the function
 * where a file's would name the file. Text past the bound a file has is
 * not read at all: a string without its terminator ends there. */
static void default_suppressions(void) {
  static const char name[] = "__asyncleak_default_suppressions()";
  const char *text;
  size_t len;

  if (__asyncleak_default_suppressions == NULL ||
      (text = __asyncleak_default_suppressions()) == NULL)
    return;
  len = strnlen(text, AL_USER_FILE_MAX + 1);
  if (len > AL_USER_FILE_MAX) {
    al_warn("%s returned more than %u MiB: its suppressions are left out", name,
            AL_USER_FILE_MAX >> 20);
    return;
  }
  al_suppressions_parse(name, text, len);
}

static void initialize(void) {
  uintptr_t self_lo = 0, self_hi = 0;
  int in_exe;

  own_listen_pid();
  al_options_defaults(&al_opt);
  /* The environment's entries come after the program's, and win. */
  if (__asyncleak_default_options != NULL)
    al_options_parse(&al_opt, __asyncleak_default_options());
  al_options_parse(&al_opt, secure_getenv("ASYNCLEAK_OPTIONS"));
  /* The checks debug_checks stands for. */
  if (al_opt.debug_checks) {
    al_opt.check_closes = 1;
    al_opt.check_threads = 1;
    /* asyncio's debug mode uses 100 ms. */
    if (al_opt.slow_callback_ms == 0)
      al_opt.slow_callback_ms = 100;
  }
  if (al_opt.help)
    al_options_print_help(2);
  if (al_opt.suppressions[0] != '\0')
    al_suppressions_load(al_opt.suppressions);
  default_suppressions();
  if (al_opt.baseline[0] != '\0')
    al_baseline_load(al_opt.baseline);
  if (!al_opt.trace_children)
    untrace_children();
  al_reportfile_start(0);
  /* Linked into the executable itself (the unit tests), its frames are
   * the program's, not ours. */
  if (al_code_range((uintptr_t)&initialize, &self_lo, &self_hi, &in_exe) !=
          0 ||
      in_exe)
    self_lo = self_hi = 0;
  al_stack_set_self_range(self_lo, self_hi);
  pthread_atfork(atfork_prepare, al_locks_fork_parent, atfork_child);
  /* Not tied to this library (no DSO handle), and registered before main
   * and before the loader's own exit handler: it runs after the program's
   * atexit handlers and after every library's destructors and atexit
   * handlers, which may still close handles. */
  __cxa_atexit(report_at_exit, NULL, NULL);
  if (al_opt.graceful_signals)
    al_graceful_install();
  al_ending_init();
  atomic_store_explicit(&al_ready, 1, memory_order_release);
}

void al_init_slow(void) {
  int saved = errno;
  pthread_once(&init_once, initialize);
  errno = saved;
}

__attribute__((constructor)) static void asyncleak_constructor(void) {
  al_init();
}

/* A plugin unloaded at run time may take its loop library with it; the
 * shims must then stop calling into it, and find it anew if it comes
 * back. */
struct loaded {
  char *names; /* each object's path, NUL after each */
  size_t len, cap;
  int failed;
};

static int list_loaded(struct dl_phdr_info *info, size_t size, void *arg) {
  struct loaded *l = arg;
  const char *name = info->dlpi_name;
  char line[64];
  size_t need, n;

  if (name == NULL || name[0] == '\0')
    return 0;
  uintptr_t lo = UINTPTR_MAX, hi = 0;

  for (int i = 0; i < info->dlpi_phnum; i++) {
    const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
    uintptr_t at = info->dlpi_addr + ph->p_vaddr;
    if (ph->p_type != PT_LOAD)
      continue;
    lo = at < lo ? at : lo;
    hi = at + ph->p_memsz > hi ? at + ph->p_memsz : hi;
  }
  n = (size_t)snprintf(line, sizeof(line), "%lx %lx %lx ",
                       (unsigned long)info->dlpi_addr, (unsigned long)lo,
                       (unsigned long)hi);
  need = n + strlen(name) + 1;
  if (l->len + need > l->cap) {
    size_t cap = (l->cap ? l->cap * 2 : 4096) + need;
    char *p = realloc(l->names, cap);
    if (p == NULL) {
      l->failed = 1;
      return 1;
    }
    l->names = p;
    l->cap = cap;
  }
  memcpy(l->names + l->len, line, n);
  memcpy(l->names + l->len + n, name, need - n);
  l->len += need;
  return 0;
}

static int has_entry(const struct loaded *l, const char *entry) {
  for (size_t at = 0; at < l->len; at += strlen(l->names + at) + 1)
    if (!strcmp(l->names + at, entry))
      return 1;
  return 0;
}

/* The objects a dlclose took away, told to the symbolizer: a handle made
 * by a plugin that is gone is still named by function and line. */
static void note_unloaded(const struct loaded *before) {
  struct loaded after = {0};

  dl_iterate_phdr(list_loaded, &after);
  for (size_t at = 0; !after.failed && at < before->len;) {
    const char *entry = before->names + at;
    char *end;
    unsigned long base = strtoul(entry, &end, 16);
    unsigned long lo = strtoul(end, &end, 16);
    unsigned long hi = strtoul(end, &end, 16);
    at += strlen(entry) + 1;
    if (*end == ' ' && !has_entry(&after, entry))
      al_symbolize_note_unloaded(end + 1, base, lo, hi);
  }
  free(after.names);
}

AL_EXPORT int dlclose(void *handle) {
  static int (*real)(void *);
  struct loaded before = {0};
  int rc, ready = atomic_load_explicit(&al_ready, memory_order_acquire);

  if (real == NULL)
    real = (int (*)(void *))dlsym(RTLD_NEXT, "dlclose");
  if (real == NULL)
    return -1;
  if (ready)
    dl_iterate_phdr(list_loaded, &before);
  rc = real(handle);
  if (rc == 0 && ready) {
    int saved = errno;
    if (!before.failed)
      note_unloaded(&before);
    for (uint8_t i = 0; i < AL_MAX_SHIMS; i++)
      if (al_shims[i] != NULL && al_shims[i]->unloaded != NULL &&
          al_shims[i]->unloaded())
        al_loops_unloaded(i);
    errno = saved;
  }
  free(before.names);
  return rc;
}

/* Opens path for the report; %p becomes the pid. */
static int open_log(const char *pattern, int flags) {
  char path[AL_OPTION_STR_MAX + 32];
  size_t n = 0;

  for (const char *p = pattern; *p != '\0' && n < sizeof(path) - 24; p++) {
    if (p[0] == '%' && p[1] == 'p') {
      n += (size_t)snprintf(path + n, sizeof(path) - n, "%d", (int)al_pid());
      p++;
    } else {
      path[n++] = *p;
    }
  }
  path[n] = '\0';
  int fd = open(path, flags | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0)
    al_warn("cannot open '%s': %s", path, strerror(errno));
  return fd;
}

static void shims_seen_names(struct al_buf *b, unsigned seen) {
  int first = 1;
  for (unsigned i = 0; i < AL_MAX_SHIMS; i++) {
    if (!(seen & 1u << i) || al_shims[i] == NULL)
      continue;
    al_buf_printf(b, "%s%s", first ? "" : ",", al_shims[i]->name);
    first = 0;
  }
}

static const char *ending_name(const struct al_ending *how) {
  switch (how != NULL ? how->kind : AL_END_EXIT) {
  case AL_END_EXIT_NOW:
    return "_exit";
  case AL_END_SIGNAL:
    return "signal";
  case AL_END_CRASH:
    return "crash";
  default:
    return "exit";
  }
}

/* A copy of the process, made to write pid's report as the process ends
 * (lib/ending.c). */
void al_report_write_as(pid_t pid, const struct al_ending *how) {
  report_as = pid;
  report_write(how);
}

void al_report_write(void) {
  report_write(NULL);
}

/* The copies of loop libraries the process carries: one "copy=" line each
 * in the .sum file for the command, which fails the run on them; said on
 * stderr when there is no command to say it. */
static void copies_put(struct al_buf *sum) {
  struct al_copy found[8];
  size_t n = al_copies_find(found, sizeof(found) / sizeof(found[0]));

  for (size_t i = 0; i < n; i++) {
    if (sum != NULL)
      al_buf_printf(sum, "copy=%s:%s\n", found[i].library, found[i].object);
    else
      al_warn("'%s' holds its own copy of %s, which cannot be watched: "
              "its use of it was not checked", found[i].object,
              found[i].library);
  }
}

/* Says in the report file, and on stderr, that the report could not be
 * made for want of memory; a limit on the address space is the usual
 * reason a program has, and is named. */
static void no_memory(const char *what) {
  struct rlimit rl;

  if (getrlimit(RLIMIT_AS, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY) {
    al_reportfile_error_n("out of memory: RLIMIT_AS is ",
                          (unsigned long long)rl.rlim_cur, " bytes");
    al_warn("out of memory (RLIMIT_AS is %llu bytes): %s",
            (unsigned long long)rl.rlim_cur, what);
  } else {
    al_reportfile_line("error", "out of memory");
    al_warn("out of memory: %s", what);
  }
}

/* The report's parts, into the report file: the text, the records, and
 * last the totals, the sign that the report is complete. When they cannot
 * be written the reason goes there too if it can, and to stderr with the
 * text, which is not lost then. */
static void put_blocks(const struct al_buf *text, const struct al_buf *rec,
                       const struct al_buf *sum, int quiet) {
  const char *name = al_reportfile_name();
  char cause[160];
  int rc = 0, err;

  if (text->len > 0)
    rc = al_reportfile_block("txt", text->data, text->len);
  if (rc == 0 && rec->len > 0)
    rc = al_reportfile_block("rec", rec->data, rec->len);
  if (rc == 0)
    rc = al_reportfile_block("sum", sum->data, sum->len);
  if (rc == 0)
    return;
  err = errno;
  snprintf(cause, sizeof(cause), "cannot write the report: %s",
           strerror(err));
  al_reportfile_line("error", cause);
  /* A process that used no loop library has nothing to lose, and its
   * stderr may be a client's socket (inetd's services): not a word. */
  if (quiet)
    return;
  al_warn("cannot write the report into '%s%s%s': %s%s", al_opt.report_dir,
          name != NULL ? "/" : "", name != NULL ? name : "", strerror(err),
          text->len > 0 ? "; it follows" : "");
  if (text->len > 0)
    al_write_all(2, text->data, text->len);
}

/* The memory the report takes at its peak, symbolizing included, with
 * room. Under a tight soft RLIMIT_AS the limit is raised to the hard one
 * for the report when that gives room (and put back after). The report is
 * attempted in any case: the symbolizer leaves out debug information that
 * does not fit, and names those frames by module+offset (symbolize.c);
 * what cannot be allocated at all is said as out of memory. */
enum { REPORT_MEMORY = 48 << 20 };

static void memory_room(struct rlimit *restore) {
  struct rlimit rl;
  void *probe;

  restore->rlim_cur = RLIM_INFINITY;
  if (getrlimit(RLIMIT_AS, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY)
    return;
  for (int tries = 0; tries < 2; tries++) {
    probe = mmap(NULL, REPORT_MEMORY, PROT_NONE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (probe != MAP_FAILED) {
      munmap(probe, REPORT_MEMORY);
      return;
    }
    if (tries > 0 || rl.rlim_cur == rl.rlim_max)
      break;
    *restore = rl;
    rl.rlim_cur = rl.rlim_max;
    if (setrlimit(RLIMIT_AS, &rl) != 0)
      break;
  }
  /* No room even so: what was raised stays raised for the attempt, and
   * is put back after it as usual. */
}

static void report_write(const struct al_ending *how) {
  struct al_snapshot snap;
  struct al_report_totals t;
  struct al_buf text = {0}, sum = {0}, rec = {0};
  struct al_report_out out = {0};
  struct rlimit restore;
  int to_dir = al_reportfile_ready(), fd = 2;

  if (atomic_exchange(&reported, 1))
    return;
  /* Under the program's seccomp filter: no call it did not make itself
   * (lib/seccomp.c). The cause of the missing report was told before the
   * filter was in force. */
  if (al_ending_sealed())
    return;
  if (to_dir)
    al_reportfile_claim();
  memory_room(&restore);
  if (al_registry_snapshot(&snap) != 0) {
    no_memory("no report");
    if (restore.rlim_cur != RLIM_INFINITY)
      setrlimit(RLIMIT_AS, &restore);
    return;
  }
  /* The asyncleak command says whether it wants colour; a log file gets
   * it only when asked, and is opened only when there is a report. */
  if (to_dir || al_opt.log_path[0] != '\0')
    out.color = al_opt.color == AL_COLOR_ALWAYS;
  else
    out.color = al_report_color(fd);
  out.rec = to_dir ? &rec : NULL;
  out.ending = how;
  al_report_format(&snap, &text, &t, NULL, &out);
  al_snapshot_release(&snap);
  if (restore.rlim_cur != RLIM_INFINITY)
    setrlimit(RLIMIT_AS, &restore);

  if (to_dir) {
    al_buf_printf(&sum, "pid=%d\nended=%s\n", (int)al_pid(),
                  ending_name(how));
    if (how != NULL && how->signal != 0)
      al_buf_printf(&sum, "signal=%d\n", how->signal);
    al_buf_printf(&sum, "libs=");
    shims_seen_names(&sum, t.shims_seen);
    al_buf_printf(&sum,
                  "\nloops=%zu\nloops_unclosed=%zu\nhandles_created=%lu\n"
                  "requests_created=%lu\nhandles_open=%zu\n"
                  "requests_pending=%zu\ngroups=%zu\n"
                  "handles_forced=%zu\nrequests_cancelled=%zu\n"
                  "resources_ensured=%zu\nsuppressed=%zu\n"
                  "suppressed_groups=%zu\nbaselined=%zu\n"
                  "baselined_groups=%zu\nhandles_closing=%zu\n"
                  "closing_fails=%d\nfindings=%llu\n"
                  "finding_groups=%zu\nfindings_dropped=%llu\n"
                  "findings_fail=%d\n",
                  t.loops, t.loops_unclosed, (unsigned long)t.created,
                  (unsigned long)t.requests, t.open,
                  t.pending, t.groups, t.forced, t.cancelled, t.ensured,
                  t.suppressed, t.suppressed_groups, t.baselined,
                  t.baselined_groups, t.closing, al_opt.fail_on_closing,
                  (unsigned long long)t.findings, t.finding_groups,
                  (unsigned long long)t.findings_dropped,
                  al_opt.fail_on_findings);
    copies_put(&sum);
    /* A report cut short is not a report: the command is told why, and
     * gets no totals, so that it does not take it for a complete one. */
    if (text.failed || rec.failed || sum.failed)
      no_memory("the report is incomplete");
    else
      put_blocks(&text, &rec, &sum, t.shims_seen == 0 && text.len == 0);
  } else {
    copies_put(NULL);
  }
  if (!to_dir && text.len > 0) {
    if (al_opt.log_path[0] != '\0')
      fd = open_log(al_opt.log_path, O_CREAT | O_APPEND);
    if (fd >= 0)
      al_write_all(fd, text.data, text.len);
  }
  if (fd > 2)
    close(fd);
  if (!to_dir && text.failed)
    al_warn("out of memory: the report is truncated");
  al_buf_release(&text);
  al_buf_release(&rec);
  al_buf_release(&sum);
}

static void report_at_exit(void *unused) {
  int saved = errno;

  /* A graceful signal came, and the program went on to exit before a
   * loop's run took it on (one that runs none, waiting for its workers):
   * the process still ends by the signal, its workers first. */
  if (al_graceful_requested() != 0)
    al_graceful_end();
  al_report_write();
  errno = saved;
}
