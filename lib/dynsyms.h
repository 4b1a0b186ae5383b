/* A loaded object's dynamic symbol table, read in place from the memory
 * the loader mapped, as the loader itself reads it: no file is opened.
 * Private to the runtime (lib/copies.c, lib/linkorder.c). */
#ifndef ASYNCLEAK_DYNSYMS_H_
#define ASYNCLEAK_DYNSYMS_H_

#include <link.h>
#include <stddef.h>

struct al_dynsyms {
  const ElfW(Sym) *sym;
  const char *str;
  size_t nsyms;
  const char *soname; /* NULL when it has none */
};

/* Finds the table of the object dl_iterate_phdr describes: 0, or -1 when
 * it has none. */
int al_dynsyms_read(const struct dl_phdr_info *info, struct al_dynsyms *d);

/* Whether the object defines function name (defined != 0) or refers to
 * it without defining it (defined == 0). */
int al_dynsyms_has(const struct al_dynsyms *d, const char *name, int defined);

/* Whether one of the object's loaded segments holds addr. */
int al_object_holds(const struct dl_phdr_info *info, uintptr_t addr);

#endif /* ASYNCLEAK_DYNSYMS_H_ */
