/* Loop libraries a process carries a copy of: linked statically into the
 * executable (NodeSource's node, a program linked with libuv_a.a,
 * rxvt-unicode's libev) or into one of its shared libraries (libev-perl's
 * EV.so). Calls the copy's own code makes, and calls the object makes to
 * it, are bound at link time and never reach an interposer, so nothing of
 * it can be watched: the report must say so rather than pass.
 *
 * A copy is known by a defined function of the library in the object's
 * dynamic symbol table, or, when the object exports none (stripped, or
 * linked without -rdynamic), by a string of the library's that survives
 * stripping: the marks al_loop_libraries lists (libnames.c), shared with
 * the command. The library itself, under its own soname, is not a copy.
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

#include "dynsyms.h"
#include "internal.h"

/* At most this much of each object's read-only memory is searched. */
enum { SCAN_MAX = 256 << 20, CHUNK = 64 << 10 };

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

static void note_copy(struct search *s, const struct dl_phdr_info *info,
                      const struct al_loop_library *lib) {
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
  struct al_dynsyms d;
  size_t before = s->n;
  int scanned = 0;

  (void)size;
  if (al_object_holds(info, s->self) || al_dynsyms_read(info, &d) != 0)
    return 0;
  for (size_t k = 0;
       k < sizeof(al_loop_libraries) / sizeof(al_loop_libraries[0]); k++) {
    const struct al_loop_library *lib = &al_loop_libraries[k];

    if (d.soname != NULL && al_loop_library_name(d.soname) == lib->id)
      continue;
    if (al_dynsyms_has(&d, lib->symbol, 1)) {
      note_copy(s, info, lib);
      continue;
    }
    /* libuv, libevent and libev on Linux all wait with epoll: an object
     * that calls no epoll_ctl of libc's holds none of them, and is not
     * searched. (A copy of libev built with only its poll or select
     * backend, exporting nothing, is missed.)
     * Nor is one already known to hold a copy: it cannot be watched
     * anyway, and node's tens of megabytes cost tens of milliseconds. */
    if (s->n > before)
      continue;
    if (scanned == 0)
      scanned = al_dynsyms_has(&d, "epoll_ctl", 0) ? 1 : -1;
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
