/* Loop libraries a process carries a copy of: linked statically into the
 * executable (NodeSource's node, a program linked with libuv_a.a) or into
 * one of its shared libraries. Calls the copy's own code makes, and calls
 * the object makes to it, are bound at link time and never reach an
 * interposer, so nothing of it can be watched: the report must say so
 * rather than pass.
 *
 * A copy is known by a defined function of the library in the object's
 * dynamic symbol table, or, when the object exports none (stripped, or
 * linked without -rdynamic), by a string of the library's that survives
 * stripping. The library itself, under its own soname, is not a copy.
 * Everything is read from memory the loader mapped: no file is opened.
 * The dynamic tables are read in place, as the loader itself reads them;
 * the segments searched for strings through al_safe_read(), which cannot
 * fault should the program have taken their protection away. */
#define _GNU_SOURCE
#include <elf.h>
#include <link.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

/* The strings are the handle printer's format (uv_print_all_handles),
 * which assertions switched off do not take away, and event_base_loop's
 * warning. Neither is in any other object of a Debian 12 system (grep -r
 * of /usr/lib, /usr/bin and /usr/sbin finds only libuv, libevent and
 * node). */
static const struct library {
  const char *name;
  int id;               /* AL_LIB_*: the real library, by its soname */
  const char *symbol;   /* a function only the library defines */
  const char *telltale; /* NUL included: a string of its own */
  size_t telltale_len;
} libraries[] = {
#define TELLTALE(s) s, sizeof(s)
    {"libuv", AL_LIB_LIBUV, "uv_loop_init", TELLTALE("[%c%c%c] %-8s %p\n")},
    /* Not event_base_new: libev defines it too, for its libevent 1
     * emulation. */
    {"libevent", AL_LIB_LIBEVENT, "event_base_new_with_config",
     TELLTALE("%s: reentrant invocation.  Only one event_base_loop can run "
              "on each event_base at once.")},
#undef TELLTALE
};

/* At most this much of each object's read-only memory is searched. */
enum { SCAN_MAX = 256 << 20, CHUNK = 64 << 10 };

/* The dynamic symbol table of a loaded object. */
struct dynsyms {
  const ElfW(Sym) *sym;
  const char *str;
  size_t nsyms;
  const char *soname;
};

/* glibc relocates the addresses in _DYNAMIC on most targets, not all (nor
 * in the vDSO): an address below the load base is still relative. */
static uintptr_t dyn_addr(const struct dl_phdr_info *info, ElfW(Addr) a) {
  return a < info->dlpi_addr ? info->dlpi_addr + a : a;
}

/* The number of symbols, from DT_HASH's chain count, or from the last
 * chain of DT_GNU_HASH, which has no count. */
static size_t count_syms(const uint32_t *hash, const uint32_t *gnu_hash) {
  const uint32_t *buckets, *chains;
  uint32_t last = 0;

  if (hash != NULL)
    return hash[1];
  if (gnu_hash == NULL)
    return 0;
  buckets = gnu_hash + 4 + gnu_hash[2] * (sizeof(ElfW(Addr)) / 4);
  chains = buckets + gnu_hash[0];
  for (uint32_t i = 0; i < gnu_hash[0]; i++)
    last = buckets[i] > last ? buckets[i] : last;
  if (last < gnu_hash[1])
    return gnu_hash[1];
  /* The last chain ends at the word whose lowest bit is set. */
  while (!(chains[last - gnu_hash[1]] & 1))
    last++;
  return last + 1;
}

static int read_dynsyms(const struct dl_phdr_info *info, struct dynsyms *d) {
  uintptr_t sym = 0, str = 0, hash = 0, gnu_hash = 0, soname = 0;
  const ElfW(Dyn) *dyn = NULL;
  int have_soname = 0;

  memset(d, 0, sizeof(*d));
  for (int i = 0; i < info->dlpi_phnum; i++)
    if (info->dlpi_phdr[i].p_type == PT_DYNAMIC)
      dyn = (const ElfW(Dyn) *)(info->dlpi_addr +
                                info->dlpi_phdr[i].p_vaddr);
  if (dyn == NULL)
    return -1;
  for (const ElfW(Dyn) *e = dyn; e->d_tag != DT_NULL; e++) {
    switch (e->d_tag) {
    case DT_SYMTAB:
      sym = dyn_addr(info, e->d_un.d_ptr);
      break;
    case DT_STRTAB:
      str = dyn_addr(info, e->d_un.d_ptr);
      break;
    case DT_HASH:
      hash = dyn_addr(info, e->d_un.d_ptr);
      break;
    case DT_GNU_HASH:
      gnu_hash = dyn_addr(info, e->d_un.d_ptr);
      break;
    case DT_SONAME:
      soname = e->d_un.d_val;
      have_soname = 1;
      break;
    }
  }
  if (sym == 0 || str == 0)
    return -1;
  d->sym = (const ElfW(Sym) *)sym;
  d->str = (const char *)str;
  d->nsyms = count_syms((const uint32_t *)hash, (const uint32_t *)gnu_hash);
  if (have_soname)
    d->soname = d->str + soname;
  return 0;
}

/* Whether the object defines function name (defined != 0) or refers to
 * it without defining it (defined == 0). */
static int has_symbol(const struct dynsyms *d, const char *name,
                      int defined) {
  for (size_t i = 1; i < d->nsyms; i++) {
    const ElfW(Sym) *s = &d->sym[i];

    if (s->st_name == 0 || (s->st_shndx != SHN_UNDEF) != defined ||
        (defined && ELF64_ST_TYPE(s->st_info) != STT_FUNC))
      continue;
    if (!strcmp(d->str + s->st_name, name))
      return 1;
  }
  return 0;
}

/* Searches the object's read-only segments for text, in chunks that
 * overlap by its length. */
static int has_string(const struct dl_phdr_info *info, const char *text,
                      size_t len) {
  static char buf[CHUNK];
  size_t budget = SCAN_MAX;

  for (int i = 0; i < info->dlpi_phnum; i++) {
    const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
    uintptr_t at = info->dlpi_addr + ph->p_vaddr, end;

    if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_R) ||
        (ph->p_flags & PF_W))
      continue;
    end = at + (ph->p_filesz < budget ? ph->p_filesz : budget);
    budget -= end - at;
    while (at + len <= end) {
      size_t n = end - at < sizeof(buf) ? end - at : sizeof(buf);
      if (al_safe_read(buf, (const void *)at, n) != 0)
        break;
      if (memmem(buf, n, text, len) != NULL)
        return 1;
      at += n - len + 1;
    }
  }
  return 0;
}

struct search {
  struct al_copy *found;
  size_t max, n;
  uintptr_t self;
};

static int holds(const struct dl_phdr_info *info, uintptr_t addr) {
  for (int i = 0; i < info->dlpi_phnum; i++) {
    const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
    uintptr_t lo = info->dlpi_addr + ph->p_vaddr;
    if (ph->p_type == PT_LOAD && addr >= lo && addr < lo + ph->p_memsz)
      return 1;
  }
  return 0;
}

static void note_copy(struct search *s, const struct dl_phdr_info *info,
                      const struct library *lib) {
  struct al_copy *c;
  char exe[sizeof(c->object)];
  const char *name = info->dlpi_name;
  ssize_t n;

  if (s->n == s->max)
    return;
  c = &s->found[s->n++];
  c->library = lib->name;
  if (name == NULL || name[0] == '\0') {
    n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    exe[n > 0 ? n : 0] = '\0';
    name = exe;
  }
  /* One line of the .sum file each, shown to the user: escaped. */
  al_escape(c->object, sizeof(c->object), name, strlen(name), NULL);
}

static int search_object(struct dl_phdr_info *info, size_t size, void *arg) {
  struct search *s = arg;
  struct dynsyms d;
  size_t before = s->n;
  int scanned = 0;

  (void)size;
  if (holds(info, s->self) || read_dynsyms(info, &d) != 0)
    return 0;
  for (size_t k = 0; k < sizeof(libraries) / sizeof(libraries[0]); k++) {
    const struct library *lib = &libraries[k];

    if (d.soname != NULL && al_loop_library_name(d.soname) == lib->id)
      continue;
    if (has_symbol(&d, lib->symbol, 1)) {
      note_copy(s, info, lib);
      continue;
    }
    /* libuv and libevent on Linux both wait with epoll: an object that
     * calls no epoll_ctl of libc's holds neither, and is not searched.
     * Nor is one already known to hold a copy: it cannot be watched
     * anyway, and node's tens of megabytes cost tens of milliseconds. */
    if (s->n > before)
      continue;
    if (scanned == 0)
      scanned = has_symbol(&d, "epoll_ctl", 0) ? 1 : -1;
    if (scanned == 1 && has_string(info, lib->telltale, lib->telltale_len))
      note_copy(s, info, lib);
  }
  return 0;
}

size_t al_copies_find(struct al_copy *found, size_t max) {
  struct search s = {found, max, 0, (uintptr_t)&al_copies_find};

  dl_iterate_phdr(search_object, &s);
  return s.n;
}
