/* Symbolization with elfutils' libdwfl, run only at report time and only for
 * the stacks that are reported. Separate debug info is looked up locally by
 * build id (as Debian's -dbgsym packages install it); debuginfod is never
 * asked, so a report cannot wait on the network. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <dwarf.h>
#include <elfutils/libdwfl.h>
#include <link.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

/* libstdc++'s demangler, as the C++ ABI defines it. */
typedef char *demangle_fn(const char *mangled, char *buf, size_t *len,
                          int *status);

/* A demangled name, kept for as long as the frames pointing at it. */
struct name {
  struct name *next;
  const char *mangled; /* libdwfl's, living as long as the symbolizer */
  char *demangled;
};

struct al_symbolizer {
  Dwfl *dwfl;
  demangle_fn *demangle; /* NULL when no C++ runtime is loaded */
  struct name *names;
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

  void *demangle;

  if (s == NULL)
    return NULL;
  /* Any C++ program has libstdc++ loaded; the runtime must not depend on
   * it, so it takes the demangler only where it is already there. */
  demangle = dlsym(RTLD_DEFAULT, "__cxa_demangle");
  memcpy(&s->demangle, &demangle, sizeof(demangle));
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

/* The name as the report prints it: a C++ name demangled, when the
 * program has a demangler, else as linked. */
static const char *demangled(struct al_symbolizer *s, const char *mangled) {
  struct name *n;
  char *text;
  int status = -1;

  if (mangled == NULL || strncmp(mangled, "_Z", 2) != 0 ||
      s->demangle == NULL)
    return mangled;
  for (n = s->names; n != NULL; n = n->next)
    if (!strcmp(n->mangled, mangled))
      return n->demangled;
  text = s->demangle(mangled, NULL, NULL, &status);
  if (text == NULL || status != 0 || (n = malloc(sizeof(*n))) == NULL) {
    free(text);
    return mangled;
  }
  *n = (struct name){s->names, mangled, text};
  s->names = n;
  return text;
}

/* The nearest function symbol of the module at or before addr, for an
 * address no symbol covers (a stripped program's dynamic symbols). */
static void near_symbol(Dwfl_Module *mod, Dwarf_Addr addr,
                        struct al_frame *f) {
  int n = dwfl_module_getsymtab(mod);
  GElf_Addr best = 0;

  for (int i = 1; i < n; i++) {
    GElf_Sym sym;
    GElf_Addr at;
    GElf_Word shndx;
    const char *name =
        dwfl_module_getsym_info(mod, i, &sym, &at, &shndx, NULL, NULL);

    if (name == NULL || name[0] == '\0' ||
        GELF_ST_TYPE(sym.st_info) != STT_FUNC || sym.st_shndx == SHN_UNDEF)
      continue;
    if (at <= addr && (f->near == NULL || at > best)) {
      f->near = name;
      best = at;
    }
  }
  if (f->near != NULL)
    f->near_offset = (uintptr_t)(addr + 1 - best);
}

/* A function's line counted from the line declaring it: what stays the
 * same when lines above the function move. */
static int body_line(Dwarf_Die *fn, int line) {
  int decl;

  if (fn == NULL || line <= 0 || dwarf_decl_line(fn, &decl) != 0 ||
      decl <= 0 || line < decl)
    return -1;
  return line - decl;
}

/* The name of a function's debug entry: as linked when it has one (C++),
 * else as declared. */
static const char *die_name(struct al_symbolizer *s, Dwarf_Die *fn) {
  Dwarf_Attribute attr;
  const char *name = NULL;

  if (dwarf_attr_integrate(fn, DW_AT_linkage_name, &attr) != NULL ||
      dwarf_attr_integrate(fn, DW_AT_MIPS_linkage_name, &attr) != NULL)
    name = dwarf_formstring(&attr);
  if (name == NULL)
    name = dwarf_diename(fn);
  return name;
}

/* The file and line an inlined call was made from. */
static void call_site(Dwarf_Die *cu, Dwarf_Die *inl, struct al_frame *f) {
  Dwarf_Attribute attr;
  Dwarf_Word file = 0, line = 0;
  Dwarf_Files *files;
  size_t nfiles;
  const char *name = NULL;

  if (dwarf_formudata(dwarf_attr(inl, DW_AT_call_file, &attr), &file) == 0 &&
      dwarf_getsrcfiles(cu, &files, &nfiles) == 0 && file < nfiles)
    name = dwarf_filesrc(files, file, NULL, NULL);
  if (dwarf_formudata(dwarf_attr(inl, DW_AT_call_line, &attr), &line) != 0)
    line = 0;
  f->file = name;
  f->line = name != NULL ? (int)line : 0;
  if (name == NULL)
    f->dir = NULL;
}

size_t al_symbolize_inlined(struct al_symbolizer *s, uintptr_t pc,
                            struct al_frame *f, size_t max) {
  /* A return address points after the call; the call is one byte before. */
  Dwarf_Addr addr = pc - 1, bias = 0;
  Dwfl_Module *mod;
  Dwfl_Line *line;
  Dwarf_Addr start;
  Dwarf_Die *cu, *scopes = NULL, *outer = NULL;
  struct al_frame at;
  const char *name;
  size_t k = 0;
  int n;

  memset(&at, 0, sizeof(at));
  at.pc = pc;
  at.body_line = -1;
  f[0] = at;
  if (s == NULL || s->dwfl == NULL)
    return 1;
  mod = dwfl_addrmodule(s->dwfl, addr);
  if (mod == NULL)
    return 1;
  name = dwfl_module_info(mod, NULL, &start, NULL, NULL, NULL, NULL, NULL);
  at.module = base_name(name);
  at.offset = pc - start;
  {
    GElf_Off off = 0;
    GElf_Sym sym;

    at.symbol = dwfl_module_addrinfo(mod, addr, &off, &sym, NULL, NULL, NULL);
    at.sym_offset = at.symbol != NULL ? (uintptr_t)off + 1 : 0;
  }
  line = dwfl_module_getsrc(mod, addr);
  if (line != NULL) {
    at.file = dwfl_lineinfo(line, NULL, &at.line, NULL, NULL, NULL);
    if (at.file == NULL)
      at.line = 0;
    else
      at.dir = dwfl_line_comp_dir(line);
  }
  cu = dwfl_module_addrdie(mod, addr, &bias);
  n = cu != NULL ? dwarf_getscopes(cu, addr - bias, &scopes) : 0;
  /* Innermost first: inlined calls, lexical blocks, then the function. */
  for (int i = 0; i < n; i++) {
    int tag = dwarf_tag(&scopes[i]);

    if (tag == DW_TAG_subprogram) {
      outer = &scopes[i];
      break;
    }
    if (tag != DW_TAG_inlined_subroutine)
      continue;
    /* Past the room left, an inlined frame is not kept, but its call
     * site still moves the line outward for the frames that are. */
    if (k + 1 < max) {
      f[k] = at;
      f[k].symbol = die_name(s, &scopes[i]);
      f[k].function = demangled(s, f[k].symbol);
      f[k].body_line = body_line(&scopes[i], at.line);
      f[k].inlined = 1;
      k++;
    }
    call_site(cu, &scopes[i], &at);
  }
  if (at.symbol == NULL && outer != NULL)
    at.symbol = die_name(s, outer);
  at.function = demangled(s, at.symbol);
  at.body_line = body_line(outer, at.line);
  if (at.symbol == NULL)
    near_symbol(mod, addr, &at);
  f[k] = at;
  free(scopes);
  return k + 1;
}

void al_symbolize(struct al_symbolizer *s, uintptr_t pc, struct al_frame *f) {
  struct al_frame frames[8];

  al_symbolize_inlined(s, pc, frames, sizeof(frames) / sizeof(frames[0]));
  *f = frames[0];
}

void al_symbolizer_free(struct al_symbolizer *s) {
  if (s == NULL)
    return;
  if (s->dwfl != NULL)
    dwfl_end(s->dwfl);
  while (s->names != NULL) {
    struct name *n = s->names;

    s->names = n->next;
    free(n->demangled);
    free(n);
  }
  free(s);
}
