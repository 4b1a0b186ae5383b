/* An index of a module's symbols by address, for the report's names.
 *
 * libdwfl's dwfl_module_addrinfo reads the whole symbol table for each
 * address: 1.6 ms in the 57,000 dynamic symbols of Node's libnode, most
 * of a short run's report. This index is built with one such read, and
 * answers an address from buckets by address, with libdwfl's own answer.
 *
 * libdwfl first searches the symbols from the table's first global one
 * on (dwfl_module_getsymtab_first_global: the locals come first; all of
 * them when it is 0), in the order of the table, among those with a name,
 * a section, a type other than section, file or TLS, that start at or
 * below the address. Of those that have a size and hold the address, it
 * keeps the one starting closest to it, then the one of the stronger
 * binding at the same start (GLOBAL over WEAK over LOCAL), then a smaller
 * one at the same start of no weaker binding. Only when none holds the
 * address does it weigh sizeless symbols and search the locals. So the
 * index holds the sized symbols of that first search: when one holds the
 * address, the answer is theirs, chosen by the same rule in the same
 * order; when none does, libdwfl is asked. tests/unit/test-symbolize.c
 * compares the two over the C library's functions.
 */
#include <gelf.h>
#include <stdlib.h>
#include <string.h>

#include "symindex.h"

/* Below this many symbols, libdwfl's own search is cheap enough. */
#define INDEX_MIN 4096
/* Symbols holding one address, and symbols looked at for one, past which
 * libdwfl is asked. */
#define HOLDERS_MAX 32
#define LOOKS_MAX 4096

struct sym {
  GElf_Addr start, end;
  const char *name;
  unsigned idx; /* in the table: libdwfl's order */
  unsigned char bind;
};

/* The symbols in buckets of 2^shift bytes by start, each bucket in the
 * order of the table (a counting sort, stable; no comparison sort: qsort
 * of libnode's symbols took longer than the lookups it saves). */
struct al_symindex {
  GElf_Addr lo; /* the lowest start */
  unsigned shift;
  size_t nbuckets;
  size_t *first;    /* bucket b: s[first[b]..first[b + 1]) */
  GElf_Addr *reach; /* the largest end in buckets 0..b */
  struct sym *s;
};

/* How libdwfl ranks bindings when two symbols start at one address. */
static unsigned char binding_rank(int bind) {
  switch (bind) {
  case STB_GLOBAL:
    return 3;
  case STB_WEAK:
    return 2;
  case STB_LOCAL:
    return 1;
  default:
    return 0;
  }
}

struct al_symindex *al_symindex_new(Dwfl_Module *mod) {
  int total = dwfl_module_getsymtab(mod);
  int first = dwfl_module_getsymtab_first_global(mod);
  struct al_symindex *x;
  struct sym *in;
  GElf_Addr hi = 0;
  size_t n = 0;

  if (total < INDEX_MIN || first < 0 || (x = calloc(1, sizeof(*x))) == NULL)
    return NULL;
  in = malloc((size_t)total * sizeof(*in));
  x->s = malloc((size_t)total * sizeof(*x->s));
  if (in == NULL || x->s == NULL)
    goto fail;
  x->lo = ~(GElf_Addr)0;
  for (int i = first > 1 ? first : 1; i < total; i++) {
    GElf_Sym sym;
    GElf_Addr at, end;
    GElf_Word shndx;
    const char *name =
        dwfl_module_getsym_info(mod, i, &sym, &at, &shndx, NULL, NULL);
    int type = GELF_ST_TYPE(sym.st_info);

    if (name == NULL || name[0] == '\0' || sym.st_shndx == SHN_UNDEF ||
        type == STT_SECTION || type == STT_FILE || type == STT_TLS ||
        sym.st_size == 0)
      continue;
    /* Past the top of the address space: it holds all that is left. */
    end = at + sym.st_size < at ? ~(GElf_Addr)0 : at + sym.st_size;
    in[n++] = (struct sym){at, end, name, (unsigned)i,
                           binding_rank(GELF_ST_BIND(sym.st_info))};
    x->lo = at < x->lo ? at : x->lo;
    hi = at > hi ? at : hi;
  }
  if (n == 0)
    goto fail;
  /* About two symbols a bucket. */
  while (x->shift < 63 && ((hi - x->lo) >> x->shift) > n / 2)
    x->shift++;
  x->nbuckets = (size_t)((hi - x->lo) >> x->shift) + 1;
  x->first = calloc(x->nbuckets + 1, sizeof(*x->first));
  x->reach = malloc(x->nbuckets * sizeof(*x->reach));
  if (x->first == NULL || x->reach == NULL)
    goto fail;
  for (size_t i = 0; i < n; i++)
    x->first[((in[i].start - x->lo) >> x->shift) + 1]++;
  for (size_t b = 0; b < x->nbuckets; b++)
    x->first[b + 1] += x->first[b];
  for (size_t i = 0; i < n; i++) {
    size_t b = (size_t)((in[i].start - x->lo) >> x->shift);

    /* first[b] moves on as the bucket fills, and is put back below. */
    x->s[x->first[b]++] = in[i];
  }
  for (size_t b = x->nbuckets; b-- > 0;)
    x->first[b + 1] = x->first[b];
  x->first[0] = 0;
  for (size_t b = 0; b < x->nbuckets; b++) {
    GElf_Addr r = b > 0 ? x->reach[b - 1] : 0;

    for (size_t i = x->first[b]; i < x->first[b + 1]; i++)
      r = x->s[i].end > r ? x->s[i].end : r;
    x->reach[b] = r;
  }
  free(in);
  return x;
fail:
  free(in);
  al_symindex_free(x);
  return NULL;
}

const char *al_symindex_find(const struct al_symindex *x, GElf_Addr addr,
                             GElf_Off *offset) {
  const struct sym *holders[HOLDERS_MAX], *best = NULL;
  size_t k = 0, looks = 0, b;

  if (x == NULL || addr < x->lo)
    return NULL;
  b = (size_t)((addr - x->lo) >> x->shift);
  if (b >= x->nbuckets)
    b = x->nbuckets - 1;
  /* Bucket b and those before it, while one of them may reach addr. */
  for (size_t c = b + 1; c-- > 0 && x->reach[c] > addr;) {
    for (size_t i = x->first[c]; i < x->first[c + 1]; i++) {
      const struct sym *s = &x->s[i];

      if (++looks > LOOKS_MAX)
        return NULL;
      if (s->start > addr || s->end <= addr)
        continue;
      if (k == HOLDERS_MAX)
        return NULL;
      holders[k++] = s;
    }
  }
  if (k == 0)
    return NULL;
  /* In the table's order, as libdwfl meets them: few, by insertion. */
  for (size_t i = 1; i < k; i++)
    for (size_t j = i; j > 0 && holders[j - 1]->idx > holders[j]->idx; j--) {
      const struct sym *t = holders[j];

      holders[j] = holders[j - 1];
      holders[j - 1] = t;
    }
  for (size_t i = 0; i < k; i++) {
    const struct sym *s = holders[i];

    if (best == NULL || best->start < s->start || best->bind < s->bind)
      best = s;
    else if (best->start == s->start &&
             best->end - best->start > s->end - s->start &&
             best->bind <= s->bind)
      best = s;
  }
  *offset = addr - best->start;
  return best->name;
}

void al_symindex_free(struct al_symindex *x) {
  if (x == NULL)
    return;
  free(x->first);
  free(x->reach);
  free(x->s);
  free(x);
}
