/* Symbolization with elfutils' libdwfl, run only at report time and only for
 * the stacks that are reported. Separate debug info is looked up locally by
 * build id (as Debian's -dbgsym packages install it); debuginfod is never
 * asked, so a report cannot wait on the network.
 *
 * The loaded objects come from /proc/self/maps, as libdwfl reads it, or,
 * when the files were opened ahead of a chroot or a seccomp filter
 * (lib/symfiles.c) or /proc cannot be read, from the loader's own list.
 * Whatever cannot be read, a frame still gets its module and offset, and
 * the report says once why it has no name. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <dwarf.h>
#include <elfutils/libdwfl.h>
#include <gelf.h>
#include <errno.h>
#include <limits.h>
#include <link.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <unistd.h>

#include "internal.h"
#include "symindex.h"

/* libstdc++'s demangler, as the C++ ABI defines it. */
typedef char *demangle_fn(const char *mangled, char *buf, size_t *len,
                          int *status);

/* A demangled name, kept for as long as the frames pointing at it. */
struct name {
  struct name *next;
  const char *mangled; /* libdwfl's, living as long as the symbolizer */
  char *demangled;
};

/* A loaded object as the loader lists it: where a frame libdwfl cannot
 * place gets its module and offset from. */
struct object {
  char *loaded_as;  /* the loader's name for it; "" for the executable */
  char *name;       /* its real path, found when first needed */
  const struct al_symfile *file; /* opened ahead of time, or NULL */
  uintptr_t bias;
  uintptr_t lo, hi; /* its segments' span; lo is the module's start */
  int unread;       /* its file could not be read */
};

#define OBJECTS_MAX 512

/* What reading a module's debug information would cost, and whether it
 * may. */
struct module {
  Dwfl_Module *mod;
  size_t cost;  /* bytes of its separate debug file's sections */
  int decided;  /* 0: not yet; 1: read; -1: not, for want of memory */
  int indexed;  /* its symbols' index was asked for: */
  struct al_symindex *index; /* NULL when there is none */
};

/* Room kept for the report itself, and what libdw takes for its own
 * tables besides the sections it decompresses (measured with glibc's
 * debug information: 10 MB of sections, 17 MB in all). */
#define REPORT_ROOM (4u << 20)
#define DWARF_OVERHEAD 2

/* A return address already named: its frames, innermost first, as
 * symbolize() gives them with room for INLINED_MAX. */
struct named {
  uintptr_t pc;
  uint32_t n;
  struct al_frame *frames;
};

#define INLINED_MAX 64
/* The most addresses kept named: a report's distinct return addresses are
 * its groups' frames, and past this many each is looked up again. */
#define NAMED_MAX (1u << 16)

struct al_symbolizer {
  Dwfl *dwfl;
  /* Addresses already named, open addressing by pc: a report names each
   * group's stack several times (the verdict, the text, the records, the
   * suppressions), and libdwfl searches a module's whole symbol table
   * for each lookup. */
  struct named *named;
  size_t nnamed, named_cap;
  /* symbolize()'s frames for an address not named yet: 6 KiB, kept off
   * the stack, which may be a signal's. */
  struct al_frame scratch[INLINED_MAX];
  /* libdw ran out of memory in the middle of a lookup: the Dwfl may be
   * half updated and is not touched again, nor freed. */
  int broken;
  demangle_fn *demangle; /* NULL when no C++ runtime is loaded */
  struct name *names;
  struct object *objects;
  size_t nobjects;
  struct module *modules; /* what is known of libdwfl's modules' costs */
  size_t nmodules;
  unsigned unnamed; /* frames left unnamed for want of a file or memory,
                       each time one was asked for */
  char why[320];    /* the first reason, for the report */
};

static char *debuginfo_path;
/* The symbolizer at work in this thread, for libdwfl's callbacks. */
static AL_TLS struct al_symbolizer *current;

/* The bytes of debug information in a file, as libdw would hold them,
 * decompressed: read from its section headers only. */
static size_t dwarf_size(Elf *elf) {
  Elf_Scn *scn = NULL;
  size_t strndx, total = 0;

  if (elf == NULL || elf_getshdrstrndx(elf, &strndx) != 0)
    return 0;
  while ((scn = elf_nextscn(elf, scn)) != NULL) {
    GElf_Shdr shdr;
    GElf_Chdr chdr;
    const char *name;

    if (gelf_getshdr(scn, &shdr) == NULL || shdr.sh_type == SHT_NOBITS ||
        (name = elf_strptr(elf, strndx, shdr.sh_name)) == NULL ||
        strncmp(name, ".debug_", 7) != 0)
      continue;
    if ((shdr.sh_flags & SHF_COMPRESSED) && gelf_getchdr(scn, &chdr) != NULL)
      total += chdr.ch_size;
    else
      total += shdr.sh_size;
  }
  return total;
}

static struct module *module_of(struct al_symbolizer *s, Dwfl_Module *mod) {
  struct module *m;

  for (size_t i = 0; i < s->nmodules; i++)
    if (s->modules[i].mod == mod)
      return &s->modules[i];
  if (s->nmodules % 16 == 0) {
    m = realloc(s->modules, (s->nmodules + 16) * sizeof(*m));
    if (m == NULL)
      return NULL;
    s->modules = m;
  }
  m = &s->modules[s->nmodules++];
  *m = (struct module){mod, 0, 0, 0, NULL};
  return m;
}

/* A separate debug file: the one opened ahead of a chroot, else the one
 * found by build id. Its size is noted, for ready_dwarf to weigh. */
static int find_debuginfo(Dwfl_Module *mod, void **userdata,
                          const char *modname, Dwarf_Addr base,
                          const char *file_name, const char *debuglink_file,
                          GElf_Word debuglink_crc,
                          char **debuginfo_file_name) {
  const struct al_symfile *f = *userdata;
  struct module *m;
  int fd = -1;

  if (f != NULL)
    fd = al_symfile_open_debug(f, debuglink_file, debuglink_crc,
                               debuginfo_file_name);
  if (fd < 0)
    fd = dwfl_build_id_find_debuginfo(mod, userdata, modname, base,
                                      file_name, debuglink_file,
                                      debuglink_crc, debuginfo_file_name);
  /* A dwz file is asked for as the debug information is read: too late
   * to weigh it. */
  if (fd >= 0 && current != NULL && (debuglink_file == NULL ||
                                     debuglink_crc != 0) &&
      (m = module_of(current, mod)) != NULL) {
    Elf *elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
    m->cost = dwarf_size(elf);
    elf_end(elf);
  }
  return fd;
}

static const Dwfl_Callbacks callbacks = {
    .find_elf = dwfl_linux_proc_find_elf,
    .find_debuginfo = find_debuginfo,
    .debuginfo_path = &debuginfo_path,
};

/* Keeps the first reason a frame could not be named. */
__attribute__((format(printf, 2, 3))) static void why(struct al_symbolizer *s,
                                                      const char *fmt, ...) {
  va_list ap;

  if (s->why[0] != '\0')
    return;
  va_start(ap, fmt);
  vsnprintf(s->why, sizeof(s->why), fmt, ap);
  va_end(ap);
}

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
AL_LOCK_REGISTER(AL_LOCK_GONE, gone_lock, AL_LOCK_FOR_REPORT)

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

/* Reports an object's file to libdwfl: through the descriptor opened
 * ahead of time, when f has one still good, else by path. */
static Dwfl_Module *report_file(Dwfl *dwfl, const char *name,
                                const char *path,
                                uintptr_t bias, const struct al_symfile *f) {
  int fd = f != NULL ? al_symfile_open(f) : -1;
  Dwfl_Module *mod = dwfl_report_elf(dwfl, name, path, fd, bias, false);
  void **userdata;

  if (mod == NULL) {
    if (fd >= 0)
      close(fd);
    return NULL;
  }
  /* For find_debuginfo: where its debug files were opened ahead. */
  if (dwfl_module_info(mod, &userdata, NULL, NULL, NULL, NULL, NULL,
                       NULL) != NULL)
    *userdata = (void *)f;
  return mod;
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
    if (report_file(dwfl, gone[i].path, gone[i].path, gone[i].base,
                    al_symfile_find(gone[i].path, gone[i].base)) != NULL)
      done[ndone++] = g;
  }
  al_mutex_unlock(&gone_lock);
}

struct listing {
  struct object *o;
  size_t n;
};

static int list_object(struct dl_phdr_info *info, size_t size, void *arg) {
  struct listing *l = arg;
  int first = l->n == 0 && info->dlpi_name[0] == '\0';
  uintptr_t lo = UINTPTR_MAX, hi = 0;

  if (l->n == OBJECTS_MAX)
    return 1;
  /* The vDSO has no file. */
  if (!first && strchr(info->dlpi_name, '/') == NULL)
    return 0;
  for (int i = 0; i < info->dlpi_phnum; i++) {
    const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
    if (ph->p_type != PT_LOAD)
      continue;
    if (info->dlpi_addr + ph->p_vaddr < lo)
      lo = info->dlpi_addr + ph->p_vaddr;
    if (info->dlpi_addr + ph->p_vaddr + ph->p_memsz > hi)
      hi = info->dlpi_addr + ph->p_vaddr + ph->p_memsz;
  }
  if (hi == 0 || (l->o[l->n].loaded_as = strdup(info->dlpi_name)) == NULL)
    return 0;
  /* Where its first mapping starts: the start libdwfl gives a module. */
  l->o[l->n].lo = lo & ~(uintptr_t)(getpagesize() - 1);
  l->o[l->n].hi = hi;
  l->o[l->n].bias = info->dlpi_addr;
  l->n++;
  return 0;
}

/* The executable's path: real where it can be told, else as it was run. */
static char *exe_name(void) {
  char buf[PATH_MAX];
  ssize_t len = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
  const char *execfn = (const char *)getauxval(AT_EXECFN);
  char *real;

  if (len > 0) {
    buf[len] = '\0';
    return strdup(buf);
  }
  if (execfn == NULL)
    return NULL;
  real = realpath(execfn, NULL);
  return real != NULL ? real : strdup(execfn);
}

/* An object's name, as /proc/self/maps would give it where its file can
 * be reached, else the loader's; NULL only for want of memory. */
static const char *object_name(struct object *o) {
  if (o->name != NULL)
    return o->name;
  if (o->file != NULL)
    o->name = strdup(al_symfile_name(o->file));
  else if (o->loaded_as[0] == '\0')
    o->name = exe_name();
  else if ((o->name = realpath(o->loaded_as, NULL)) == NULL)
    o->name = strdup(o->loaded_as);
  return o->name;
}

/* The loaded objects, and when report is set, their files reported to
 * libdwfl: by the descriptors opened ahead of time where there are, else
 * by path. Only the loader's list is read here, under its lock, which a
 * dlclose in another thread would wait for; the files are opened after. */
static void list_objects(struct al_symbolizer *s, int report) {
  struct listing l = {calloc(OBJECTS_MAX, sizeof(struct object)), 0};

  if (l.o == NULL)
    return;
  dl_iterate_phdr(list_object, &l);
  s->objects = l.o;
  s->nobjects = l.n;
  for (size_t i = 0; i < l.n; i++) {
    struct object *o = &l.o[i];
    const char *name;

    o->file = al_symfile_find(o->loaded_as, o->bias);
    if (!report || s->dwfl == NULL || (name = object_name(o)) == NULL)
      continue;
    if (report_file(s->dwfl, name, name, o->bias, o->file) == NULL) {
      o->unread = 1;
      why(s, "cannot open '%s': %s", name, dwfl_errmsg(-1));
    }
  }
}

struct al_symbolizer *al_symbolizer_new(void) {
  struct al_symbolizer *s = calloc(1, sizeof(*s));
  void *demangle;
  int rc = -1;

  if (s == NULL)
    return NULL;
  /* Any C++ program has libstdc++ loaded; the runtime must not depend on
   * it, so it takes the demangler only where it is already there. */
  demangle = dlsym(RTLD_DEFAULT, "__cxa_demangle");
  memcpy(&s->demangle, &demangle, sizeof(demangle));
  s->dwfl = dwfl_begin(&callbacks);
  if (s->dwfl == NULL)
    why(s, "cannot start libdwfl: %s", dwfl_errmsg(-1));
  /* Files opened ahead of a chroot: the loader's list, read through
   * them. Else /proc/self/maps, as ever, and the loader's list by path
   * when there is no /proc to read. */
  if (s->dwfl != NULL && !al_symfiles_any()) {
    rc = dwfl_linux_proc_report(s->dwfl, getpid());
    /* Without /proc, as in a chroot that no interposer saw: what
     * /proc/self/maps may have given before it failed is dropped. */
    if (rc != 0)
      dwfl_report_begin(s->dwfl);
  }
  list_objects(s, rc != 0);
  if (s->dwfl != NULL) {
    report_gone(s->dwfl);
    if (dwfl_report_end(s->dwfl, NULL, NULL) != 0) {
      why(s, "libdwfl: %s", dwfl_errmsg(-1));
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

/* Where libdw, out of memory, goes instead of ending the process (its
 * default): back to the symbolizer that called it, per thread. */
static AL_TLS sigjmp_buf *oom_jump;

__attribute__((noreturn)) static void out_of_memory(void) {
  siglongjmp(*oom_jump, 1);
}

/* Whether the address space has room for size bytes more. Under a tight
 * RLIMIT_AS, the debug information of the C library alone may not fit;
 * asking for the room first, without using it, keeps libdw from
 * exhausting what the report itself needs. */
static int room_for(size_t size) {
  void *p = mmap(NULL, size, PROT_NONE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

  if (p == MAP_FAILED)
    return 0;
  munmap(p, size);
  return 1;
}

/* Readies a module's debug information for lookups, if there is room for
 * it: its Dwarf and the dwz file's, made to report a failed allocation to
 * us. m: what is known of the module, or NULL. Returns whether lookups
 * may read it. */
static int ready_dwarf(struct al_symbolizer *s, struct module *m,
                       Dwfl_Module *mod, const char *name) {
  Dwarf_Addr bias;
  Dwarf *dw, *alt;

  if (m != NULL && m->decided == 0) {
    size_t cost = m->cost + dwarf_size(dwfl_module_getelf(mod, &bias));

    m->decided = 1;
    if (cost > 0 && !room_for(DWARF_OVERHEAD * cost + REPORT_ROOM)) {
      m->decided = -1;
      why(s, "not enough memory to read the debug information of '%s' "
             "(%zu MB)", name, (DWARF_OVERHEAD * cost >> 20) + 1);
    }
  }
  if (m != NULL && m->decided < 0)
    return 0;
  dw = dwfl_module_getdwarf(mod, &bias);
  alt = dw != NULL ? dwarf_getalt(dw) : NULL;
  if (dw != NULL)
    dwarf_new_oom_handler(dw, out_of_memory);
  if (alt != NULL)
    dwarf_new_oom_handler(alt, out_of_memory);
  return 1;
}

/* A frame libdwfl could not place: its module and offset from the
 * loader's list, and why it has no name when its file is to blame. */
static void place(struct al_symbolizer *s, struct al_frame *at) {
  for (size_t i = 0; i < s->nobjects; i++) {
    struct object *o = &s->objects[i];
    const char *name;

    if (at->pc - 1 < o->lo || at->pc - 1 >= o->hi)
      continue;
    if ((name = object_name(o)) != NULL) {
      at->module = base_name(name);
      at->offset = at->pc - o->lo;
    }
    if (o->unread || s->broken || s->dwfl == NULL)
      s->unnamed++;
    return;
  }
}

static size_t symbolize(struct al_symbolizer *s, uintptr_t pc,
                        struct al_frame *f, size_t max) {
  /* A return address points after the call; the call is one byte before. */
  Dwarf_Addr addr = pc - 1, bias = 0;
  Dwfl_Module *mod;
  Dwfl_Line *line;
  Dwarf_Addr start;
  Dwarf_Die *cu, *scopes = NULL, *outer = NULL;
  struct module *m;
  struct al_frame at;
  const char *name;
  size_t k = 0;
  int n;

  memset(&at, 0, sizeof(at));
  at.pc = pc;
  at.body_line = -1;
  mod = dwfl_addrmodule(s->dwfl, addr);
  if (mod == NULL) {
    place(s, &at);
    f[0] = at;
    return 1;
  }
  name = dwfl_module_info(mod, NULL, &start, NULL, NULL, NULL, NULL, NULL);
  at.module = base_name(name);
  at.offset = pc - start;
  /* Its entry stays where it is: the debug file's callback, which the
   * symbol table's reading may call, finds it there. */
  m = module_of(s, mod);
  {
    GElf_Off off = 0;
    GElf_Sym sym;

    if (m != NULL && !m->indexed) {
      m->indexed = 1;
      m->index = al_symindex_new(mod);
    }
    at.symbol = m != NULL ? al_symindex_find(m->index, addr, &off) : NULL;
    if (at.symbol == NULL)
      at.symbol =
          dwfl_module_addrinfo(mod, addr, &off, &sym, NULL, NULL, NULL);
    at.sym_offset = at.symbol != NULL ? (uintptr_t)off + 1 : 0;
  }
  /* The C library's and the loader's frames are named from their symbol
   * tables only: their debug information, where installed, is compressed
   * and large (reading glibc's took most of a short program's report), and
   * a file and line of theirs are never the program's. */
  if (al_module_is_system(at.module)) {
    if (at.symbol == NULL)
      near_symbol(mod, addr, &at);
    at.function = demangled(s, at.symbol);
    f[0] = at;
    return 1;
  }
  /* After the symbols: looking them up found the debug file, if any. */
  if (!ready_dwarf(s, m, mod, name)) {
    s->unnamed++;
    if (at.symbol == NULL)
      near_symbol(mod, addr, &at);
    at.function = demangled(s, at.symbol);
    f[0] = at;
    return 1;
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
  /* Past an inlined call, dwarf_getscopes gives the scopes around the
   * inlined function's definition, not those it was inlined into: the
   * chain of DIEs that hold the innermost one has every inlined call and
   * the function they are in. */
  for (int i = 0; i < n && dwarf_tag(&scopes[i]) != DW_TAG_subprogram; i++) {
    Dwarf_Die *chain = NULL;
    int depth;

    /* The innermost scope may be a block inside the inlined function. */
    if (dwarf_tag(&scopes[i]) != DW_TAG_inlined_subroutine)
      continue;
    depth = dwarf_getscopes_die(&scopes[0], &chain);
    if (depth > 0) {
      free(scopes);
      scopes = chain;
      n = depth;
    }
    break;
  }
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
  if (at.symbol == NULL && at.near == NULL) {
    Dwarf_Addr b;

    /* Its module is known (from /proc/self/maps) but not its file. */
    if (dwfl_module_getelf(mod, &b) == NULL) {
      why(s, "cannot open '%s': %s", name, dwfl_errmsg(-1));
      s->unnamed++;
    }
  }
  f[k] = at;
  free(scopes);
  return k + 1;
}

static size_t named_slot(const struct al_symbolizer *s, uintptr_t pc) {
  size_t mask = s->named_cap - 1;
  size_t i = (size_t)((pc * 0x9e3779b97f4a7c15ull) >> 20) & mask;

  while (s->named[i].frames != NULL && s->named[i].pc != pc)
    i = (i + 1) & mask;
  return i;
}

static const struct named *named_find(const struct al_symbolizer *s,
                                      uintptr_t pc) {
  size_t i;

  if (s->named_cap == 0)
    return NULL;
  i = named_slot(s, pc);
  return s->named[i].frames != NULL ? &s->named[i] : NULL;
}

/* Keeps pc's frames; without memory, or past NAMED_MAX, it is simply not
 * kept. The table is at most half full. */
static void named_keep(struct al_symbolizer *s, uintptr_t pc,
                       const struct al_frame *f, size_t n) {
  struct named *e;

  if (s->nnamed >= NAMED_MAX)
    return;
  if (2 * (s->nnamed + 1) > s->named_cap) {
    size_t cap = s->named_cap ? 2 * s->named_cap : 256;
    struct named *old = s->named, *table = calloc(cap, sizeof(*table));

    if (table == NULL)
      return;
    s->named = table;
    s->named_cap = cap;
    for (size_t i = 0; old != NULL && i < cap / 2; i++)
      if (old[i].frames != NULL)
        table[named_slot(s, old[i].pc)] = old[i];
    free(old);
  }
  e = &s->named[named_slot(s, pc)];
  if ((e->frames = malloc(n * sizeof(*f))) == NULL)
    return;
  memcpy(e->frames, f, n * sizeof(*f));
  e->pc = pc;
  e->n = (uint32_t)n;
  s->nnamed++;
}

/* A named address's frames with room for max: as symbolize() would give
 * them, the inlined frames past the room dropped and the outermost
 * kept. */
static size_t named_copy(const struct named *e, struct al_frame *f,
                         size_t max) {
  size_t inl = e->n - 1;

  if (inl > max - 1)
    inl = max - 1;
  memcpy(f, e->frames, inl * sizeof(*f));
  f[inl] = e->frames[e->n - 1];
  return inl + 1;
}

size_t al_symbolize_inlined(struct al_symbolizer *s, uintptr_t pc,
                            struct al_frame *f, size_t max) {
  sigjmp_buf jump, *outer = oom_jump;
  const struct named *e;

  if (max == 0)
    return 0;
  /* Callers have room for a site's frames, which are INLINED_MAX. */
  if (max > INLINED_MAX)
    max = INLINED_MAX;
  if (s != NULL && (e = named_find(s, pc)) != NULL)
    return named_copy(e, f, max);
  if (s != NULL && s->dwfl != NULL && !s->broken) {
    if (sigsetjmp(jump, 0) == 0) {
      size_t n;

      oom_jump = &jump;
      current = s;
      n = symbolize(s, pc, s->scratch, INLINED_MAX);
      current = NULL;
      oom_jump = outer;
      named_keep(s, pc, s->scratch, n);
      return named_copy(&(struct named){pc, (uint32_t)n, s->scratch}, f,
                        max);
    }
    current = NULL;
    oom_jump = outer;
    s->broken = 1;
    why(s, "out of memory reading debug information");
  }
  memset(f, 0, sizeof(*f));
  f->pc = pc;
  f->body_line = -1;
  if (s != NULL)
    place(s, f);
  return 1;
}

void al_symbolize(struct al_symbolizer *s, uintptr_t pc, struct al_frame *f) {
  struct al_frame frames[8];

  al_symbolize_inlined(s, pc, frames, sizeof(frames) / sizeof(frames[0]));
  *f = frames[0];
}

void al_symbolizer_put_note(struct al_buf *b, struct al_symbolizer *s) {
  if (s == NULL || s->unnamed == 0)
    return;
  al_buf_printf(b, "Frames not fully named: %s; they are shown with "
                   "module+offset\n\n", s->why[0] ? s->why : "no file");
}

void al_symbolizer_free(struct al_symbolizer *s) {
  if (s == NULL)
    return;
  /* After a failed allocation libdw's state is not to be trusted, even to
   * be freed: it is left as it is, with the names it gave. */
  if (s->broken)
    return;
  if (s->dwfl != NULL)
    dwfl_end(s->dwfl);
  for (size_t i = 0; i < s->nobjects; i++) {
    free(s->objects[i].loaded_as);
    free(s->objects[i].name);
  }
  free(s->objects);
  for (size_t i = 0; i < s->nmodules; i++)
    al_symindex_free(s->modules[i].index);
  free(s->modules);
  for (size_t i = 0; i < s->named_cap; i++)
    free(s->named[i].frames);
  free(s->named);
  while (s->names != NULL) {
    struct name *n = s->names;

    s->names = n->next;
    free(n->demangled);
    free(n);
  }
  free(s);
}
