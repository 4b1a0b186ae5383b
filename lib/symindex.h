/* This file is private to asyncleak: an index of a module's sized symbols
 * by address (lib/symindex.c), for the symbolizer (lib/symbolize.c). */
#ifndef ASYNCLEAK_SYMINDEX_H_
#define ASYNCLEAK_SYMINDEX_H_

#include <elfutils/libdwfl.h>

struct al_symindex;

/* The index of mod's symbol table, or NULL without memory or when the
 * table is small enough for libdwfl's own search. */
struct al_symindex *al_symindex_new(Dwfl_Module *mod);
/* The name of the symbol libdwfl's dwfl_module_addrinfo would give for
 * addr, and addr's offset in it, when a sized symbol that is not local
 * holds addr; NULL when the index cannot tell, and libdwfl is to be
 * asked. */
const char *al_symindex_find(const struct al_symindex *x, GElf_Addr addr,
                             GElf_Off *offset);
void al_symindex_free(struct al_symindex *x);

#endif
