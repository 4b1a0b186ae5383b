/* Signal names, "SIGTERM", for the line that says how the program died. */
#define _GNU_SOURCE /* sigabbrev_np() */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

#if defined(__GLIBC__) && \
    (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 32))
#define abbrev sigabbrev_np
#else
/* Other C libraries have no sigabbrev_np(): the signals a program is likely
 * to die of will do. */
static const char *abbrev(int sig) {
  static const struct {
    int sig;
    const char *name;
  } names[] = {
    {SIGHUP, "HUP"},   {SIGINT, "INT"},     {SIGQUIT, "QUIT"},
    {SIGILL, "ILL"},   {SIGTRAP, "TRAP"},   {SIGABRT, "ABRT"},
    {SIGBUS, "BUS"},   {SIGFPE, "FPE"},     {SIGKILL, "KILL"},
    {SIGUSR1, "USR1"}, {SIGSEGV, "SEGV"},   {SIGUSR2, "USR2"},
    {SIGPIPE, "PIPE"}, {SIGALRM, "ALRM"},   {SIGTERM, "TERM"},
    {SIGXCPU, "XCPU"}, {SIGXFSZ, "XFSZ"},   {SIGSYS, "SYS"},
    {SIGVTALRM, "VTALRM"}, {SIGPROF, "PROF"},
  };

  for (size_t i = 0; i < CLI_ARRAY_SIZE(names); i++)
    if (names[i].sig == sig)
      return names[i].name;
  return NULL;
}
#endif

const char *cli_signame(int sig, char *buf, size_t size) {
  const char *name = abbrev(sig);

  if (name != NULL)
    snprintf(buf, size, "SIG%s", name);
  else if (sig >= SIGRTMIN && sig <= SIGRTMAX)
    snprintf(buf, size, "SIGRTMIN+%d", sig - SIGRTMIN);
  else
    snprintf(buf, size, "SIG%d", sig);
  return buf;
}
