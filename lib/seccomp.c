/* A program that installs a seccomp filter: from then on, any system call
 * it did not list may kill it (SECCOMP_RET_KILL_PROCESS, KILL_THREAD), raise
 * SIGSYS (RET_TRAP) or fail (RET_ERRNO). Writing a report needs calls the
 * program may never make (fork for the copy that reports a signal, reads of
 * debug files, mmap). A call that fails costs at most part of the report,
 * which is written to a file opened at start (lib/reportfile.c) and says
 * what it lacks. A call that kills would change how the program ends. The
 * runtime cannot tell which calls the filter lets through, but it can read
 * which actions it may take: when one of them kills, traps or waits for a
 * supervisor (strict mode too), the runtime makes no system call at exit
 * that the program would not have made: no report, no handler of its own
 * on the deadly signals, and the process ends as it would bare. The report
 * is then missing, and the runtime tells why.
 *
 * glibc has no wrapper for seccomp(2): programs, and libseccomp's
 * seccomp_load(), install a filter with syscall(__NR_seccomp, ...) or, on
 * older kernels, prctl(PR_SET_SECCOMP, ...). Both are interposed here and
 * pass every other call through unchanged. A filter installed by raw
 * system call instructions is not seen. A filter inherited from the parent
 * (docker's default profile, systemd's SystemCallFilter=) was in force
 * when the runtime started and let it start: it is not counted. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <linux/seccomp.h>
#include <linux/filter.h>
#include <stdarg.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "internal.h"

static long (*real_syscall)(long, ...);
static int (*real_prctl)(int, ...);

/* Before main, so that no call of the program's finds them unresolved;
 * dlsym() is not safe where a signal handler may call syscall(). */
__attribute__((constructor(101))) static void resolve(void) {
  if (real_syscall == NULL)
    real_syscall =
        (long (*)(long, ...))al_next_symbol("syscall", (void *)syscall);
  if (real_prctl == NULL)
    real_prctl = (int (*)(int, ...))al_next_symbol("prctl", (void *)prctl);
}

static const char sealed_said[] =
    "the program installs a seccomp filter: asyncleak writes no report at "
    "exit, for its own system calls might be refused or kill the process";
static const char cause[] =
    "the program installed a seccomp filter that kills or traps the calls "
    "it does not allow: no report is written under it";
static const char refusing[] =
    "the program installed a seccomp filter that makes the calls it does "
    "not allow fail, the report's own among them";

/* Copies len bytes at addr, which the program handed to the kernel and
 * may be anything: 0, or -1 where they cannot be read. */
static int read_safely(void *to, const void *addr, size_t len) {
  struct iovec local = {to, len}, remote = {(void *)addr, len};
  return process_vm_readv(getpid(), &local, 1, &remote, 1, 0) ==
                 (ssize_t)len
             ? 0
             : -1;
}

/* Whether the filter at prog may end the process or stop a call for good:
 * one of its returns kills, traps or hands the call to a supervisor, or is
 * computed (then it may be any of those). Unreadable, it may. */
static int may_kill(const void *prog) {
  struct sock_fprog fprog;
  struct sock_filter insn[128];

  if (read_safely(&fprog, prog, sizeof(fprog)) != 0)
    return 1;
  for (unsigned at = 0; at < fprog.len; at += 128) {
    unsigned n = fprog.len - at < 128 ? fprog.len - at : 128;
    if (read_safely(insn, fprog.filter + at, n * sizeof(insn[0])) != 0)
      return 1;
    for (unsigned i = 0; i < n; i++) {
      unsigned action = insn[i].k & SECCOMP_RET_ACTION_FULL;
      if (BPF_CLASS(insn[i].code) != BPF_RET)
        continue;
      if (BPF_RVAL(insn[i].code) != BPF_K)
        return 1;
      if (action != SECCOMP_RET_ALLOW && action != SECCOMP_RET_ERRNO &&
          action != SECCOMP_RET_TRACE && action != SECCOMP_RET_LOG)
        return 1;
    }
  }
  return 0;
}

/* Before the filter is in force: what the runtime still has to say, it
 * says now, with nothing the program's filter could refuse. Returns
 * whether this call is the one that sealed the ending. strict: the mode
 * that allows read, write and exit only; else prog is the filter. */
static int before_install(int strict, const void *prog) {
  int saved = errno, first;

  /* The thread that answers live queries makes calls of its own, which
   * the filter may refuse or kill on: it ends first, for good. */
  al_live_stop();

  if (!strict && !may_kill(prog)) {
    /* The report is attempted under the filter: its frames are named
     * from files opened now, with no open() at exit. The cause is moot
     * if the report is then written whole. */
    al_symbolize_prepare();
    al_report_cause(refusing);
    errno = saved;
    return 0;
  }
  /* Said before the seal, which closes the report file (lib/ending.c). */
  if (!al_ending_sealed())
    al_report_cause(cause);
  first = al_ending_seal();
  if (first && al_opt.report_dir[0] == '\0')
    al_warn("%s", sealed_said);
  errno = saved;
  return first;
}

/* The call failed: no filter, and the report is written after all. */
static void after_failure(int first) {
  int saved = errno;

  if (first) {
    al_ending_unseal();
    al_report_cause(NULL);
    if (al_opt.report_dir[0] == '\0')
      al_warn("the seccomp filter was not installed: the report will be "
              "written after all");
  }
  errno = saved;
}

/* Reads arguments the caller may not have passed: syscall() as glibc
 * defines it reads six after the number, whatever the caller passed, and
 * so do these, past the registers into the caller's frame. That is no
 * bug, and AddressSanitizer must not take it for one. */
#define READS_UNPASSED_ARGUMENTS                                             \
  __attribute__((no_sanitize("address", "hwaddress")))

AL_EXPORT READS_UNPASSED_ARGUMENTS long syscall(long number, ...) {
  long a[6], rc;
  int first = 0;
  va_list ap;

  va_start(ap, number);
  for (int i = 0; i < 6; i++)
    a[i] = va_arg(ap, long);
  va_end(ap);
  if (AL_UNLIKELY(real_syscall == NULL))
    resolve();
  if (real_syscall == NULL) {
    errno = ENOSYS;
    return -1;
  }
  /* unshare and setns made as system calls, as by unshare's. */
  if (AL_UNLIKELY(number == SYS_unshare))
    al_live_single_threaded(AL_CALL_UNSHARE, a[0]);
  else if (AL_UNLIKELY(number == SYS_setns))
    al_live_single_threaded(AL_CALL_SETNS, a[1]);
#ifdef SYS_seccomp
  if (AL_UNLIKELY(number == SYS_seccomp) &&
      (a[0] == SECCOMP_SET_MODE_STRICT || a[0] == SECCOMP_SET_MODE_FILTER))
    first = before_install(a[0] == SECCOMP_SET_MODE_STRICT, (void *)a[2]);
#endif
  rc = real_syscall(number, a[0], a[1], a[2], a[3], a[4], a[5]);
  if (AL_UNLIKELY(first) && rc < 0)
    after_failure(first);
  return rc;
}

AL_EXPORT READS_UNPASSED_ARGUMENTS int prctl(int option, ...) {
  unsigned long a[4];
  int first = 0, rc;
  va_list ap;

  va_start(ap, option);
  for (int i = 0; i < 4; i++)
    a[i] = va_arg(ap, unsigned long);
  va_end(ap);
  if (AL_UNLIKELY(real_prctl == NULL))
    resolve();
  if (real_prctl == NULL) {
    errno = ENOSYS;
    return -1;
  }
  if (option == PR_SET_SECCOMP &&
      (a[0] == SECCOMP_MODE_STRICT || a[0] == SECCOMP_MODE_FILTER))
    first = before_install(a[0] == SECCOMP_MODE_STRICT, (void *)a[1]);
  rc = real_prctl(option, a[0], a[1], a[2], a[3]);
  if (first && rc < 0)
    after_failure(first);
  return rc;
}
