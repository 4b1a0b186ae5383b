/* Whether the program's calls to a loop library bypass the runtime. A
 * harness links libasyncleak so that its uv_* calls reach the runtime's
 * interposers. The loader binds each call to the first definition in the
 * global scope, in link order: when libuv comes before libasyncleak on the
 * link line (-luv -lasyncleak), the calls go straight to libuv, the
 * runtime sees nothing, and every check would pass. dlsym(RTLD_DEFAULT)
 * answers with that same first definition. So, for each function the
 * runtime defines: when the global scope binds it to a loop library
 * instead, and another object refers to it, that object's calls bypass
 * the runtime. A program that calls no loop library is never taken for
 * one, nor one that has the runtime preloaded, which puts it first.
 *
 * Reads the loaded objects' dynamic tables in place (lib/dynsyms.c), and
 * keeps the answer until an object is loaded or unloaded. Takes a lock
 * and allocates: never from a signal handler. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <link.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dynsyms.h"
#include "internal.h"

/* A function of the runtime's that the global scope binds elsewhere. */
struct stolen {
  const char *name;   /* in the runtime's own string table */
  int library;        /* AL_LIB_* */
  char object[256];   /* where it binds */
};

#define STOLEN_MAX 1024

struct scan {
  uintptr_t self;
  int have_own;
  struct al_dynsyms own;
  struct stolen *stolen;
  size_t nstolen;
  unsigned long long adds, subs;
  /* The answer: an object of the program's that calls one of them. */
  const struct stolen *hit;
  char referrer[256]; /* "" for the executable */
};

static int find_own(struct dl_phdr_info *info, size_t size, void *arg) {
  struct scan *s = arg;

  if (size >= offsetof(struct dl_phdr_info, dlpi_subs) +
                  sizeof(info->dlpi_subs)) {
    s->adds = info->dlpi_adds;
    s->subs = info->dlpi_subs;
  }
  if (!al_object_holds(info, s->self))
    return 0;
  s->have_own = al_dynsyms_read(info, &s->own) == 0;
  return 1;
}

static int by_name(const void *a, const void *b) {
  return strcmp(((const struct stolen *)a)->name,
                ((const struct stolen *)b)->name);
}

static void copy_name(char *dst, size_t len, const char *src) {
  snprintf(dst, len, "%s", src != NULL ? src : "");
}

/* The runtime's functions that the global scope binds to a loop library. */
static void find_stolen(struct scan *s) {
  const struct al_dynsyms *d = &s->own;

  for (size_t i = 1; i < d->nsyms && s->nstolen < STOLEN_MAX; i++) {
    const ElfW(Sym) *sym = &d->sym[i];
    const char *name = d->str + sym->st_name;
    Dl_info where;
    void *p;
    int lib;

    if (sym->st_name == 0 || sym->st_shndx == SHN_UNDEF ||
        ELF64_ST_TYPE(sym->st_info) != STT_FUNC ||
        ELF64_ST_VISIBILITY(sym->st_other) != STV_DEFAULT)
      continue;
    p = dlsym(RTLD_DEFAULT, name);
    /* Bound to the runtime itself, or elsewhere than a loop library (a
     * copy of one in the executable is lib/copies.c's to tell). */
    if (p == NULL || !dladdr(p, &where) || where.dli_fname == NULL ||
        (lib = al_loop_library_name(where.dli_fname)) == AL_LIB_OTHER)
      continue;
    s->stolen[s->nstolen].name = name;
    s->stolen[s->nstolen].library = lib;
    copy_name(s->stolen[s->nstolen].object,
              sizeof(s->stolen[s->nstolen].object), where.dli_fname);
    s->nstolen++;
  }
  if (s->nstolen > 1)
    qsort(s->stolen, s->nstolen, sizeof(*s->stolen), by_name);
}

/* Whether the object is the runtime, or a loop library (whose calls to
 * itself, or between its parts, are its own). */
static int not_a_caller(const struct dl_phdr_info *info,
                        const struct al_dynsyms *d, uintptr_t self) {
  return al_object_holds(info, self) ||
         al_loop_library_name(info->dlpi_name) != AL_LIB_OTHER ||
         (d->soname != NULL &&
          al_loop_library_name(d->soname) != AL_LIB_OTHER);
}

static int find_caller(struct dl_phdr_info *info, size_t size, void *arg) {
  struct scan *s = arg;
  struct al_dynsyms d;

  (void)size;
  if (al_dynsyms_read(info, &d) != 0 || not_a_caller(info, &d, s->self))
    return 0;
  for (size_t i = 1; i < d.nsyms; i++) {
    const ElfW(Sym) *sym = &d.sym[i];
    struct stolen key;

    if (sym->st_name == 0 || sym->st_shndx != SHN_UNDEF)
      continue;
    key.name = d.str + sym->st_name;
    s->hit = bsearch(&key, s->stolen, s->nstolen, sizeof(*s->stolen),
                     by_name);
    if (s->hit != NULL) {
      copy_name(s->referrer, sizeof(s->referrer), info->dlpi_name);
      return 1;
    }
  }
  return 0;
}

static const char *link_flag(int library) {
  switch (library) {
  case AL_LIB_LIBUV:
    return "-luv";
  case AL_LIB_LIBEV:
    return "-lev";
  case AL_LIB_GLIB:
    return "-lglib-2.0";
  default:
    return "-levent";
  }
}

static const char *library_name(int library) {
  for (size_t i = 0;
       i < sizeof(al_loop_libraries) / sizeof(al_loop_libraries[0]); i++)
    if (al_loop_libraries[i].id == library)
      return al_loop_libraries[i].name;
  return "a loop library";
}

/* The answer kept: the message, empty when nothing bypasses. */
static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
AL_LOCK_REGISTER(AL_LOCK_LINKORDER, cache_lock, 0)
static int cached;
static unsigned long long cached_adds, cached_subs;
static char message[1024];

static void judge(void) {
  struct scan s;

  memset(&s, 0, sizeof(s));
  s.self = (uintptr_t)&judge;
  message[0] = '\0';
  dl_iterate_phdr(find_own, &s);
  cached_adds = s.adds;
  cached_subs = s.subs;
  cached = 1;
  if (!s.have_own || (s.stolen = calloc(STOLEN_MAX, sizeof(*s.stolen))) ==
                         NULL)
    return;
  find_stolen(&s);
  if (s.nstolen > 0)
    dl_iterate_phdr(find_caller, &s);
  if (s.hit != NULL)
    snprintf(message, sizeof(message),
             "asyncleak: %s is linked before libasyncleak: %s%s%s calls to "
             "%s ('%s' binds to '%s') bypass asyncleak, and no check can "
             "see them; link with -lasyncleak before %s, or run under the "
             "asyncleak command\n",
             library_name(s.hit->library),
             s.referrer[0] ? "the calls of '" : "the program's",
             s.referrer[0] ? s.referrer : "", s.referrer[0] ? "'" : "",
             library_name(s.hit->library), s.hit->name, s.hit->object,
             link_flag(s.hit->library));
  free(s.stolen);
}

/* The loader's counts of objects loaded and unloaded. */
static int count_objects(struct dl_phdr_info *info, size_t size, void *arg) {
  unsigned long long *n = arg;

  if (size >= offsetof(struct dl_phdr_info, dlpi_subs) +
                  sizeof(info->dlpi_subs)) {
    n[0] = info->dlpi_adds;
    n[1] = info->dlpi_subs;
  }
  return 1;
}

int al_link_bypassed(FILE *out) {
  unsigned long long n[2] = {0, 0};
  int saved = errno, bypassed;

  dl_iterate_phdr(count_objects, n);
  al_mutex_lock(&cache_lock);
  if (!cached || n[0] != cached_adds || n[1] != cached_subs)
    judge();
  bypassed = message[0] != '\0';
  if (bypassed && out != NULL) {
    fputs(message, out);
    fflush(out);
  }
  al_mutex_unlock(&cache_lock);
  errno = saved;
  return bypassed ? -1 : 0;
}
