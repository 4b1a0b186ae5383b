/* The current stack of one thread of another process, for `asyncleak ps`
 * and --timeout: what a loop thread stuck inside a callback is doing.
 *
 * The runtime in that process cannot take it: its own code does not run
 * on a thread that is stuck, and a signal to make it run is one the
 * program may use for itself. So the command takes it from outside, as a
 * debugger does: PTRACE_SEIZE, which sends no signal, then
 * PTRACE_INTERRUPT, which stops the thread for as long as its registers
 * and stack are read, and PTRACE_DETACH. libdwfl unwinds from those
 * registers with the call frame information of the process's objects.
 * Only a thread that is inside a callback is stopped so, never one
 * waiting in its loop; a system call it was in is restarted, or, for the
 * few the kernel does not restart (epoll_wait among them), returns
 * EINTR, as after a SIGSTOP and SIGCONT. */
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

struct walk {
  Dwfl *dwfl;
  struct cli_stack *out;
  size_t max;
};

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

static int on_frame(Dwfl_Frame *frame, void *arg) {
  struct walk *w = arg;
  struct cli_stack *s = w->out;
  struct cli_stack_frame *f;
  Dwarf_Addr pc, at;
  bool activation;
  Dwfl_Module *mod;
  Dwfl_Line *line;
  const char *file, *path, *base;
  int lineno = 0;

  if (s->n >= w->max || !dwfl_frame_pc(frame, &pc, &activation))
    return DWARF_CB_ABORT;
  /* A return address belongs to the call before it. */
  at = activation ? pc : pc - 1;
  mod = dwfl_addrmodule(w->dwfl, at);
  path = mod != NULL ? dwfl_module_info(mod, NULL, NULL, NULL, NULL, NULL,
                                        NULL, NULL)
                     : NULL;
  base = path != NULL ? strrchr(path, '/') : NULL;
  base = base != NULL ? base + 1 : path;
  /* asyncleak's own frames (its interposer of the run function) are not
   * the program's. */
  if (base != NULL && !strncmp(base, "libasyncleak.so", 15))
    return DWARF_CB_OK;
  f = &s->frames[s->n++];
  memset(f, 0, sizeof(*f));
  f->pc = pc;
  if (mod == NULL)
    return DWARF_CB_OK;
  f->function = name_of(dwfl_module_addrname(mod, at));
  f->module = dup_or_null(base);
  line = dwfl_module_getsrc(mod, at);
  if (line != NULL &&
      (file = dwfl_lineinfo(line, NULL, &lineno, NULL, NULL, NULL)) != NULL) {
    f->file = strdup(file);
    f->line = lineno > 0 ? (unsigned)lineno : 0;
  }
  return DWARF_CB_OK;
}

/* Waits for the interrupted thread to stop; 0, or -1 when it did not in
 * time (a thread in an uninterruptible sleep). */
static int wait_stopped(pid_t tid) {
  const struct timespec ms = {0, 1000000};

  for (int i = 0; i < STOP_WAIT_MS; i++) {
    int status;
    pid_t r = waitpid(tid, &status, __WALL | WNOHANG);
    if (r == tid)
      return WIFSTOPPED(status) ? 0 : -1;
    if (r < 0 && errno != EINTR)
      return -1;
    nanosleep(&ms, NULL);
  }
  return -1;
}

static int unwind(pid_t pid, pid_t tid, struct cli_stack *out, size_t max,
                  char *why, size_t whylen) {
  static char *debuginfo_path;
  const Dwfl_Callbacks callbacks = {
      .find_elf = dwfl_linux_proc_find_elf,
      .find_debuginfo = dwfl_standard_find_debuginfo,
      .debuginfo_path = &debuginfo_path,
  };
  struct walk w = {dwfl_begin(&callbacks), out, max};
  int rc = -1;

  if (w.dwfl == NULL) {
    snprintf(why, whylen, "libdwfl: %s", dwfl_errmsg(-1));
    return -1;
  }
  if (dwfl_linux_proc_report(w.dwfl, pid) != 0 ||
      dwfl_report_end(w.dwfl, NULL, NULL) != 0 ||
      /* true: the thread is stopped already, and libdwfl must neither
       * attach to it nor detach from it. */
      dwfl_linux_proc_attach(w.dwfl, pid, true) != 0) {
    snprintf(why, whylen, "libdwfl: %s", dwfl_errmsg(-1));
    goto out;
  }
  /* Ends with an error once no caller frame is found: the stack is what
   * was read until then. */
  if (dwfl_getthread_frames(w.dwfl, tid, on_frame, &w) != 0 && out->n == 0) {
    snprintf(why, whylen, "cannot unwind it: %s", dwfl_errmsg(-1));
    goto out;
  }
  rc = 0;
out:
  dwfl_end(w.dwfl);
  return rc;
}

int cli_thread_stack(pid_t pid, pid_t tid, struct cli_stack *out,
                     size_t max, char *why, size_t whylen) {
  int rc;

  out->n = 0;
  out->frames = calloc(max, sizeof(*out->frames));
  if (out->frames == NULL) {
    snprintf(why, whylen, "out of memory");
    return -1;
  }
  if (ptrace(PTRACE_SEIZE, tid, NULL, NULL) != 0) {
    snprintf(why, whylen, "cannot trace it: %s%s", strerror(errno),
             errno == EPERM ? " (a debugger is attached, or the kernel's "
                              "ptrace policy, kernel.yama.ptrace_scope, "
                              "forbids it)"
                            : "");
    return -1;
  }
  if (ptrace(PTRACE_INTERRUPT, tid, NULL, NULL) != 0 ||
      wait_stopped(tid) != 0) {
    snprintf(why, whylen, "it did not stop to be read");
    /* Detaching needs a stopped tracee. One that has not stopped yet (in
     * an uninterruptible sleep) stays traced until it does, and is let go
     * when this command ends, which the kernel does for every tracee;
     * SIGKILL, which --timeout sends last, ends it either way. */
    ptrace(PTRACE_DETACH, tid, NULL, NULL);
    return -1;
  }
  rc = unwind(pid, tid, out, max, why, whylen);
  ptrace(PTRACE_DETACH, tid, NULL, NULL);
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
