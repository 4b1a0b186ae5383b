/* The current stack of one thread of another process, for `asyncleak ps`
 * and --timeout: what a loop thread stuck inside a callback is doing.
 *
 * The runtime in that process cannot take it: its own code does not run
 * on a thread that is stuck, and a signal to make it run is one the
 * program may use for itself. So the command takes it from outside, as a
 * debugger does: PTRACE_SEIZE, which sends no signal, then
 * PTRACE_INTERRUPT, which stops the thread for as long as its registers
 * and stack are read, and PTRACE_DETACH.
 *
 * The stop is kept short. Everything that does not need the thread
 * stopped is done before or after it: the process's objects are found
 * and opened, and their call frame information read, before; while it is
 * stopped only return addresses are collected, unwound with the objects'
 * own .eh_frame (no search for separate debug files, which could reach
 * debuginfod over the network); they are named after it has been let
 * go. A system call it was in is restarted, or, for the few the kernel
 * does not restart (epoll_wait among them), returns EINTR, as after a
 * SIGSTOP and SIGCONT. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <elfutils/libdwfl.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

/* How long the thread may take to stop before it is left alone. */
enum { STOP_WAIT_MS = 1000 };

static char *dup_or_null(const char *s) {
  return s != NULL ? strdup(s) : NULL;
}

/* A C++ name as the exit report prints it, demangled by libstdc++'s
 * demangler where libstdc++ can be loaded; else as it is. */
static char *name_of(const char *s) {
  typedef char *demangle_fn(const char *, char *, size_t *, int *);
  static demangle_fn *demangle;
  static int tried;
  int status = -1;
  char *d;

  if (s == NULL || strncmp(s, "_Z", 2) != 0)
    return dup_or_null(s);
  if (!tried) {
    void *lib = dlopen("libstdc++.so.6", RTLD_LAZY | RTLD_LOCAL);
    void *fn = lib != NULL ? dlsym(lib, "__cxa_demangle") : NULL;
    memcpy(&demangle, &fn, sizeof(fn));
    tried = 1;
  }
  d = demangle != NULL ? demangle(s, NULL, NULL, &status) : NULL;
  if (d != NULL && status == 0)
    return d;
  free(d);
  return strdup(s);
}

/* ------------------------------------------------------------ objects */

/* While the thread is stopped: no separate debug file is looked for. */
static int no_debuginfo(Dwfl_Module *mod, void **userdata, const char *name,
                        Dwarf_Addr base, const char *file,
                        const char *debuglink, GElf_Word crc,
                        char **path) {
  (void)mod, (void)userdata, (void)name, (void)base, (void)file;
  (void)debuglink, (void)crc, (void)path;
  return -1;
}

/* After it: debug files by build id on this machine (where Debian's
 * -dbgsym packages put them), as the runtime's symbolizer looks for them;
 * never debuginfod, which the standard search may ask, and which could
 * take long or reach the network. */
static int local_debuginfo(Dwfl_Module *mod, void **userdata,
                           const char *name, Dwarf_Addr base,
                           const char *file, const char *debuglink,
                           GElf_Word crc, char **path) {
  return dwfl_build_id_find_debuginfo(mod, userdata, name, base, file,
                                      debuglink, crc, path);
}

static char *debuginfo_path;
static const Dwfl_Callbacks unwinding = {
    .find_elf = dwfl_linux_proc_find_elf,
    .find_debuginfo = no_debuginfo,
    .debuginfo_path = &debuginfo_path,
};
static const Dwfl_Callbacks naming = {
    .find_elf = dwfl_linux_proc_find_elf,
    .find_debuginfo = local_debuginfo,
    .debuginfo_path = &debuginfo_path,
};

/* The process's objects, reported; NULL with why set. */
static Dwfl *objects_of(pid_t pid, const Dwfl_Callbacks *cb, char *why,
                        size_t whylen) {
  Dwfl *dwfl = dwfl_begin(cb);

  if (dwfl == NULL ||
      dwfl_linux_proc_report(dwfl, pid) != 0 ||
      dwfl_report_end(dwfl, NULL, NULL) != 0) {
    snprintf(why, whylen, "libdwfl: %s", dwfl_errmsg(-1));
    if (dwfl != NULL)
      dwfl_end(dwfl);
    return NULL;
  }
  return dwfl;
}

/* Opens an object and reads its call frame information now, not while
 * the thread is stopped. */
static int prefetch(Dwfl_Module *mod, void **userdata, const char *name,
                    Dwarf_Addr start, void *arg) {
  Dwarf_Addr bias;

  (void)userdata, (void)name, (void)start, (void)arg;
  if (dwfl_module_getelf(mod, &bias) != NULL)
    (void)dwfl_module_eh_cfi(mod, &bias);
  return DWARF_CB_OK;
}

/* ---------------------------------------------------------- unwinding */

struct walk {
  struct cli_stack *out;
  size_t max;
};

static int on_frame(Dwfl_Frame *frame, void *arg) {
  struct walk *w = arg;
  Dwarf_Addr pc;
  bool activation;

  if (w->out->n >= w->max || !dwfl_frame_pc(frame, &pc, &activation))
    return DWARF_CB_ABORT;
  memset(&w->out->frames[w->out->n], 0, sizeof(w->out->frames[0]));
  /* A return address belongs to the call before it: kept as the address
   * looked up, the frame's own pc being one more. */
  w->out->frames[w->out->n++].pc = activation ? pc : pc - 1;
  return DWARF_CB_OK;
}

/* Waits for the interrupted thread's stop: 0, or -1 when it did not stop
 * in time, or stopped for a signal of its own (then *sig, to be handed
 * back at the detach). Only stops are waited for: the exit of a child of
 * this command is left for its own wait. */
static int wait_stopped(pid_t tid, int *sig) {
  const struct timespec ms = {0, 1000000};

  *sig = 0;
  for (int i = 0; i < STOP_WAIT_MS; i++) {
    siginfo_t si;
    int status;

    memset(&si, 0, sizeof(si));
    if (waitid(P_PID, (id_t)tid, &si,
               WSTOPPED | __WALL | WNOHANG | WNOWAIT) == 0 &&
        si.si_pid == tid) {
      if (waitpid(tid, &status, __WALL | WNOHANG) != tid ||
          !WIFSTOPPED(status))
        return -1;
      if (status >> 16 == PTRACE_EVENT_STOP)
        return 0;
      *sig = WSTOPSIG(status);
      return -1;
    }
    nanosleep(&ms, NULL);
  }
  return -1;
}

/* The return addresses of thread tid, which is stopped. */
static int unwind(Dwfl *dwfl, pid_t pid, pid_t tid, struct cli_stack *out,
                  size_t max, char *why, size_t whylen) {
  struct walk w = {out, max};

  /* true: the thread is stopped already, and libdwfl must neither attach
   * to it nor detach from it. */
  if (dwfl_linux_proc_attach(dwfl, pid, true) != 0) {
    snprintf(why, whylen, "libdwfl: %s", dwfl_errmsg(-1));
    return -1;
  }
  /* Ends with an error once no caller frame is found: the stack is what
   * was read until then. */
  if (dwfl_getthread_frames(dwfl, tid, on_frame, &w) != 0 && out->n == 0) {
    snprintf(why, whylen, "cannot unwind it: %s", dwfl_errmsg(-1));
    return -1;
  }
  return 0;
}

/* ------------------------------------------------------------- naming */

/* Names each frame, once the thread runs again; drops asyncleak's own
 * (its interposer of the run function), which are not the program's. */
static void name_frames(pid_t pid, struct cli_stack *s) {
  char why[128];
  Dwfl *dwfl = objects_of(pid, &naming, why, sizeof(why));
  size_t kept = 0;

  for (size_t i = 0; i < s->n; i++) {
    struct cli_stack_frame *f = &s->frames[i];
    Dwarf_Addr at = f->pc;
    Dwfl_Module *mod = dwfl != NULL ? dwfl_addrmodule(dwfl, at) : NULL;
    const char *path = NULL, *base, *file;
    Dwfl_Line *line;
    int lineno = 0;

    if (mod != NULL)
      path = dwfl_module_info(mod, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
    base = path != NULL ? strrchr(path, '/') : NULL;
    base = base != NULL ? base + 1 : path;
    if (base != NULL && !strncmp(base, "libasyncleak.so", 15))
      continue;
    s->frames[kept] = *f;
    f = &s->frames[kept++];
    if (mod == NULL)
      continue;
    f->function = name_of(dwfl_module_addrname(mod, at));
    f->module = dup_or_null(base);
    line = dwfl_module_getsrc(mod, at);
    if (line != NULL &&
        (file = dwfl_lineinfo(line, NULL, &lineno, NULL, NULL, NULL)) !=
            NULL) {
      f->file = strdup(file);
      f->line = lineno > 0 ? (unsigned)lineno : 0;
    }
  }
  s->n = kept;
  if (dwfl != NULL)
    dwfl_end(dwfl);
}

/* ------------------------------------------------------------- public */

int cli_thread_stack(pid_t pid, pid_t tid, struct cli_stack *out,
                     size_t max, char *why, size_t whylen) {
  char task[64];
  Dwfl *dwfl;
  int rc = -1, sig = 0;

  out->n = 0;
  out->frames = calloc(max, sizeof(*out->frames));
  if (out->frames == NULL) {
    snprintf(why, whylen, "out of memory");
    return -1;
  }
  /* The thread must be one of the process's now: the answer named it a
   * moment ago, and a thread id is reused once its thread has ended. */
  snprintf(task, sizeof(task), "/proc/%d/task/%d", (int)pid, (int)tid);
  if (access(task, F_OK) != 0) {
    snprintf(why, whylen, "thread %d is no longer in process %d", (int)tid,
             (int)pid);
    return -1;
  }
  dwfl = objects_of(pid, &unwinding, why, whylen);
  if (dwfl == NULL)
    return -1;
  dwfl_getmodules(dwfl, prefetch, NULL, 0);
  if (ptrace(PTRACE_SEIZE, tid, NULL, NULL) != 0) {
    snprintf(why, whylen, "cannot trace it: %s%s", strerror(errno),
             errno == EPERM ? " (a debugger is attached, or the kernel's "
                              "ptrace policy, kernel.yama.ptrace_scope, "
                              "forbids it)"
                            : "");
    dwfl_end(dwfl);
    return -1;
  }
  if (ptrace(PTRACE_INTERRUPT, tid, NULL, NULL) != 0 ||
      wait_stopped(tid, &sig) != 0) {
    snprintf(why, whylen, "it did not stop to be read");
    /* A signal of its own that stopped it first is handed back. A thread
     * that has not stopped yet (in an uninterruptible sleep) cannot be
     * detached: it stays traced until it stops, and is let go when this
     * command ends, which the kernel does for every tracee. */
    ptrace(PTRACE_DETACH, tid, NULL, (void *)(long)sig);
    dwfl_end(dwfl);
    return -1;
  }
  rc = unwind(dwfl, pid, tid, out, max, why, whylen);
  ptrace(PTRACE_DETACH, tid, NULL, NULL);
  dwfl_end(dwfl);
  if (rc == 0)
    name_frames(pid, out);
  return rc;
}

void cli_stack_release(struct cli_stack *s) {
  for (size_t i = 0; i < s->n; i++) {
    free(s->frames[i].function);
    free(s->frames[i].file);
    free(s->frames[i].module);
  }
  free(s->frames);
  *s = (struct cli_stack){0};
}
