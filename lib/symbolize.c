/* Symbolization with elfutils' libdwfl, run only at report time and only for
 * the stacks that are reported. Separate debug info is looked up locally by
 * build id (as Debian's -dbgsym packages install it); debuginfod is never
 * asked, so a report cannot wait on the network. */
#define _GNU_SOURCE
#include <elfutils/libdwfl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

struct al_symbolizer {
  Dwfl *dwfl;
};

static char *debuginfo_path;

static const Dwfl_Callbacks callbacks = {
    .find_elf = dwfl_linux_proc_find_elf,
    .find_debuginfo = dwfl_build_id_find_debuginfo,
    .debuginfo_path = &debuginfo_path,
};

struct al_symbolizer *al_symbolizer_new(void) {
  struct al_symbolizer *s = calloc(1, sizeof(*s));

  if (s == NULL)
    return NULL;
  s->dwfl = dwfl_begin(&callbacks);
  if (s->dwfl != NULL) {
    if (dwfl_linux_proc_report(s->dwfl, getpid()) != 0 ||
        dwfl_report_end(s->dwfl, NULL, NULL) != 0) {
      dwfl_end(s->dwfl);
      s->dwfl = NULL;
    }
  }
  return s;
}

static const char *base_name(const char *path) {
  const char *slash = path ? strrchr(path, '/') : NULL;
  return slash ? slash + 1 : path;
}

void al_symbolize(struct al_symbolizer *s, uintptr_t pc, struct al_frame *f) {
  /* A return address points after the call; the call is one byte before. */
  Dwarf_Addr addr = pc - 1;
  Dwfl_Module *mod;
  Dwfl_Line *line;
  Dwarf_Addr start;
  const char *name;

  memset(f, 0, sizeof(*f));
  if (s == NULL || s->dwfl == NULL)
    return;
  mod = dwfl_addrmodule(s->dwfl, addr);
  if (mod == NULL)
    return;
  name = dwfl_module_info(mod, NULL, &start, NULL, NULL, NULL, NULL, NULL);
  f->module = base_name(name);
  f->offset = pc - start;
  f->function = dwfl_module_addrname(mod, addr);
  line = dwfl_module_getsrc(mod, addr);
  if (line != NULL) {
    f->file = dwfl_lineinfo(line, NULL, &f->line, NULL, NULL, NULL);
    if (f->file == NULL)
      f->line = 0;
    else
      f->dir = dwfl_line_comp_dir(line);
  }
}

void al_symbolizer_free(struct al_symbolizer *s) {
  if (s == NULL)
    return;
  if (s->dwfl != NULL)
    dwfl_end(s->dwfl);
  free(s);
}
