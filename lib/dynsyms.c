/* Dynamic symbol tables of loaded objects (dynsyms.h). */
#define _GNU_SOURCE
#include <elf.h>
#include <link.h>
#include <string.h>

#include "dynsyms.h"

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

int al_dynsyms_read(const struct dl_phdr_info *info, struct al_dynsyms *d) {
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

int al_dynsyms_has(const struct al_dynsyms *d, const char *name,
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


int al_object_holds(const struct dl_phdr_info *info, uintptr_t addr) {
  for (int i = 0; i < info->dlpi_phnum; i++) {
    const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
    uintptr_t lo = info->dlpi_addr + ph->p_vaddr;
    if (ph->p_type == PT_LOAD && addr >= lo && addr < lo + ph->p_memsz)
      return 1;
  }
  return 0;
}
