/* Symbolization with elfutils' libdwfl, run only at report time and only for
 * the stacks that are reported. Separate debug info is looked up locally by
 * build id (as Debian's -dbgsym packages install it); debuginfod is never
 * asked, so a report cannot wait on the network. */
#define _GNU_SOURCE
#include <elfutils/libdwfl.h>
#include <link.h>
#include <pthread.h>
#include <stdbool.h>
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

/* Objects unloaded with dlclose while the program ran: stacks taken
 * before may point into them, and their files usually remain. */
#define GONE_MAX 32

struct gone {
  char *path;
  uintptr_t base, lo, hi; /* load bias; where its segments lay */
};

static struct gone gone[GONE_MAX];
static unsigned ngone;
static pthread_mutex_t gone_lock = PTHREAD_MUTEX_INITIALIZER;

void al_symbolize_note_unloaded(const char *path, uintptr_t base,
                                uintptr_t lo, uintptr_t hi) {
  char *copy = strdup(path);

  if (copy == NULL)
    return;
  al_mutex_lock(&gone_lock);
  for (unsigned i = 0; i < ngone; i++)
    if (gone[i].base == base && !strcmp(gone[i].path, copy)) {
      al_mutex_unlock(&gone_lock);
      free(copy);
      return; /* loaded again at the same place, and unloaded again */
    }
  /* The oldest goes first: the stacks still open point at recent ones. */
  if (ngone == GONE_MAX) {
    free(gone[0].path);
    memmove(gone, gone + 1, (GONE_MAX - 1) * sizeof(gone[0]));
    ngone--;
  }
  gone[ngone++] = (struct gone){copy, base, lo, hi};
  al_mutex_unlock(&gone_lock);
}

struct span {
  uintptr_t lo, hi;
};

static int overlaps_loaded(struct dl_phdr_info *info, size_t size,
                           void *arg) {
  const struct span *g = arg;

  for (int i = 0; i < info->dlpi_phnum; i++) {
    const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
    uintptr_t lo = info->dlpi_addr + ph->p_vaddr;
    if (ph->p_type == PT_LOAD && lo < g->hi && g->lo < lo + ph->p_memsz)
      return 1;
  }
  return 0;
}

/* The unloaded objects whose addresses nothing took since, newest first:
 * where a newer object lies, the addresses are the newer one's. libdwfl
 * must not be handed an overlap, which spoils its lookups. */
static void report_gone(Dwfl *dwfl) {
  struct span done[GONE_MAX];
  unsigned ndone = 0;

  al_mutex_lock(&gone_lock);
  for (unsigned i = ngone; i-- > 0;) {
    struct span g = {gone[i].lo, gone[i].hi};
    int clash = dl_iterate_phdr(overlaps_loaded, &g) != 0;
    for (unsigned k = 0; k < ndone && !clash; k++)
      clash = g.lo < done[k].hi && done[k].lo < g.hi;
    if (clash)
      continue;
    if (dwfl_report_elf(dwfl, gone[i].path, gone[i].path, -1, gone[i].base,
                        false) != NULL)
      done[ndone++] = g;
  }
  al_mutex_unlock(&gone_lock);
}

struct al_symbolizer *al_symbolizer_new(void) {
  struct al_symbolizer *s = calloc(1, sizeof(*s));

  if (s == NULL)
    return NULL;
  s->dwfl = dwfl_begin(&callbacks);
  if (s->dwfl != NULL) {
    int rc = dwfl_linux_proc_report(s->dwfl, getpid());
    if (rc == 0)
      report_gone(s->dwfl);
    if (rc != 0 || dwfl_report_end(s->dwfl, NULL, NULL) != 0) {
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
