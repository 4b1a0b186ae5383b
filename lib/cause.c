/* Why a process will leave no report, for the asyncleak command to say.
 *
 * A process that used a loop library and wrote no complete report fails
 * the run, and the command names the cause its report file gives (an
 * "error=" line, lib/reportfile.c). Callers tell the cause while they
 * still may make system calls (before a seccomp filter is in force, say):
 * the line is written at once. */
#include <stdatomic.h>
#include <stddef.h>
#include <string.h>

#include "internal.h"

static _Atomic(const char *) told;

void al_report_cause(const char *cause) {
  atomic_store(&told, cause);
  /* A withdrawn cause needs no line: a report that is then written
   * complete makes the last one moot. */
  if (cause != NULL)
    al_reportfile_line("error", cause);
}

const char *al_report_cause_told(void) {
  return atomic_load(&told);
}
