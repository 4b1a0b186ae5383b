/* The files the symbolizer reads, opened ahead of time for a program that
 * is about to lose them.
 *
 * Symbolizing happens at exit, and reads each loaded object's file, its
 * separate debug file (found by build id under /usr/lib/debug) and the dwz
 * file that one may share with others. A program that chroots can no
 * longer reach them by path, nor /proc/self/maps; one whose seccomp filter
 * refuses open() reaches nothing at all. So before the program takes them
 * away (lib/chroot.c, and the runtime's interposers of the seccomp calls),
 * the runtime opens them and keeps the descriptors; at exit the symbolizer
 * reads through copies of those.
 *
 * Only descriptors are held, not the debug information itself: libdw
 * decompresses every debug section of a file as it opens it (about 17 MB
 * for glibc's on Debian 12), and holding that from the chroot to the end
 * would cost every such process that much for all its life, report or
 * not. Opening the files costs a descriptor each and a few hundred bytes.
 *
 * A program may close descriptors it did not open, and open others under
 * the same numbers: each is checked to be the same file (device and inode)
 * before it is used, and is otherwise left alone. Entries are only ever
 * added, and published with the count, so that readers need no lock: a
 * report may be written by a copy of the process made from a signal
 * handler, where a lock another thread held stays held. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <limits.h>
#include <link.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

/* Bounds: a program with more objects than this has the rest read by
 * path at exit, as without a chroot. */
#define FILES_MAX 128
#define ALTS_MAX 16
#define BUILD_ID_MAX 64

/* A descriptor held open, and the file it was opened on. */
struct held {
  int fd; /* -1 when none */
  dev_t dev;
  ino_t ino;
  char *path;
};

struct alt {
  char *link; /* the name a debug file's .gnu_debugaltlink gives */
  struct held file;
};

struct al_symfile {
  char *loaded_as; /* the loader's name for it; "" for the executable */
  char *name;      /* its real path, as /proc/self/maps would name it */
  uintptr_t bias;
  struct held file, debug;
};

static struct al_symfile files[FILES_MAX];
static atomic_size_t nfiles;
static struct alt alts[ALTS_MAX];
static atomic_size_t nalts;
static pthread_mutex_t prepare_lock = PTHREAD_MUTEX_INITIALIZER;
AL_LOCK_REGISTER(AL_LOCK_SYMFILES, prepare_lock, 0)

/* The held descriptors go high, below the report file's (lib/fds.c):
 * the program's own numbers stay the ones it would get without them. */
#define HELD_ROOM (2 * FILES_MAX + ALTS_MAX + 24)

static void hold(struct held *h, const char *path) {
  struct stat st;

  h->fd = al_fd_move_high(open(path, O_RDONLY | O_CLOEXEC), HELD_ROOM);
  if (h->fd < 0)
    return;
  if (fstat(h->fd, &st) != 0 || !S_ISREG(st.st_mode) ||
      (h->path = strdup(path)) == NULL) {
    close(h->fd);
    h->fd = -1;
    return;
  }
  h->dev = st.st_dev;
  h->ino = st.st_ino;
}

static void release(struct held *h) {
  if (h->fd >= 0)
    close(h->fd);
  free(h->path);
  h->fd = -1;
  h->path = NULL;
}

/* A descriptor of its own on a held file, for libdwfl to close; -1 when
 * the program closed ours or put another file under its number. */
static int reopen(const struct held *h) {
  struct stat st;

  if (h->fd < 0 || fstat(h->fd, &st) != 0 || st.st_dev != h->dev ||
      st.st_ino != h->ino)
    return -1;
  return fcntl(h->fd, F_DUPFD_CLOEXEC, 0);
}

/* The build id of a loaded object, from its notes in memory. */
static size_t build_id(const struct dl_phdr_info *info, unsigned char *out) {
  for (int i = 0; i < info->dlpi_phnum; i++) {
    const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
    const char *p = (const char *)(info->dlpi_addr + ph->p_vaddr);
    const char *end = p + ph->p_filesz;

    if (ph->p_type != PT_NOTE)
      continue;
    while ((size_t)(end - p) >= sizeof(ElfW(Nhdr))) {
      const ElfW(Nhdr) *n = (const ElfW(Nhdr) *)p;
      size_t name = (n->n_namesz + 3) & ~(size_t)3;
      size_t desc = (n->n_descsz + 3) & ~(size_t)3;
      const char *at = p + sizeof(*n);

      if ((size_t)(end - at) < name + desc)
        break;
      if (n->n_type == NT_GNU_BUILD_ID && n->n_namesz == 4 &&
          !memcmp(at, "GNU", 4) && n->n_descsz > 0 &&
          n->n_descsz <= BUILD_ID_MAX) {
        memcpy(out, at + name, n->n_descsz);
        return n->n_descsz;
      }
      p = at + name + desc;
    }
  }
  return 0;
}

/* Where libdwfl looks for a debug file by build id. */
static void build_id_path(char *out, size_t size, const unsigned char *id,
                          size_t len) {
  static const char hex[] = "0123456789abcdef";
  size_t n = (size_t)snprintf(out, size, "/usr/lib/debug/.build-id/");

  for (size_t i = 0; i < len && n + 8 < size; i++) {
    out[n++] = hex[id[i] >> 4];
    out[n++] = hex[id[i] & 15];
    if (i == 0)
      out[n++] = '/';
  }
  snprintf(out + n, size - n, ".debug");
}

/* The dwz file a file's debug information refers to: its name and build
 * id, from the .gnu_debugaltlink section, which is never compressed. */
static int alt_link(int fd, char *link, size_t size, unsigned char *id,
                    size_t *idlen) {
  Elf *elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
  Elf_Scn *scn = NULL;
  size_t strndx;
  int found = 0;

  if (elf == NULL)
    return 0;
  if (elf_getshdrstrndx(elf, &strndx) != 0)
    goto out;
  while (!found && (scn = elf_nextscn(elf, scn)) != NULL) {
    GElf_Shdr shdr;
    const char *name;
    Elf_Data *data;
    size_t len;

    if (gelf_getshdr(scn, &shdr) == NULL ||
        (name = elf_strptr(elf, strndx, shdr.sh_name)) == NULL ||
        strcmp(name, ".gnu_debugaltlink") != 0 ||
        (data = elf_getdata(scn, NULL)) == NULL || data->d_buf == NULL)
      continue;
    len = strnlen(data->d_buf, data->d_size);
    if (len == 0 || len >= size || data->d_size - len - 1 == 0 ||
        data->d_size - len - 1 > BUILD_ID_MAX)
      break;
    memcpy(link, data->d_buf, len + 1);
    *idlen = data->d_size - len - 1;
    memcpy(id, (const char *)data->d_buf + len + 1, *idlen);
    found = 1;
  }
out:
  elf_end(elf);
  return found;
}

/* Called with prepare_lock held. */
static void hold_alt(int fd) {
  char link[PATH_MAX], path[PATH_MAX];
  unsigned char id[BUILD_ID_MAX];
  size_t idlen = 0, n = atomic_load(&nalts);

  if (fd < 0 || !alt_link(fd, link, sizeof(link), id, &idlen))
    return;
  for (size_t i = 0; i < n; i++)
    if (!strcmp(alts[i].link, link))
      return;
  if (n == ALTS_MAX || (alts[n].link = strdup(link)) == NULL)
    return;
  build_id_path(path, sizeof(path), id, idlen);
  hold(&alts[n].file, path);
  if (alts[n].file.fd < 0 && link[0] == '/')
    hold(&alts[n].file, link);
  if (alts[n].file.fd < 0) {
    free(alts[n].link);
    return;
  }
  atomic_store_explicit(&nalts, n + 1, memory_order_release);
}

struct found {
  const char *loaded_as;
  uintptr_t bias;
  unsigned char id[BUILD_ID_MAX];
  size_t idlen;
};

static int is_held(const char *loaded_as, uintptr_t bias) {
  size_t n = atomic_load(&nfiles);

  for (size_t i = 0; i < n; i++)
    if (files[i].bias == bias && !strcmp(files[i].loaded_as, loaded_as))
      return 1;
  return 0;
}

/* The executable's path, or NULL. */
static char *exe_path(void) {
  char buf[PATH_MAX];
  ssize_t len = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
  const char *execfn;

  if (len > 0) {
    buf[len] = '\0';
    return strdup(buf);
  }
  execfn = (const char *)getauxval(AT_EXECFN);
  return execfn != NULL ? realpath(execfn, NULL) : NULL;
}

/* Called with prepare_lock held. */
static void hold_object(const struct found *o) {
  size_t n = atomic_load(&nfiles);
  struct al_symfile *f = &files[n];
  char debug[PATH_MAX];

  if (n == FILES_MAX)
    return;
  memset(f, 0, sizeof(*f));
  f->file.fd = f->debug.fd = -1;
  f->bias = o->bias;
  f->loaded_as = strdup(o->loaded_as);
  f->name = o->loaded_as[0] == '\0' ? exe_path()
                                    : realpath(o->loaded_as, NULL);
  if (f->loaded_as == NULL || f->name == NULL)
    goto fail;
  hold(&f->file, f->name);
  if (f->file.fd < 0)
    goto fail;
  if (o->idlen > 0) {
    build_id_path(debug, sizeof(debug), o->id, o->idlen);
    hold(&f->debug, debug);
  }
  /* Debug information in the object itself may refer to a dwz file too. */
  hold_alt(f->file.fd);
  hold_alt(f->debug.fd);
  atomic_store_explicit(&nfiles, n + 1, memory_order_release);
  return;
fail:
  release(&f->file);
  free(f->loaded_as);
  free(f->name);
}

struct listing {
  struct found *o;
  size_t n, max;
};

/* Lists the loaded objects with a file (the vDSO has none). The files are
 * opened after, out of the loader's lock. */
static int list_object(struct dl_phdr_info *info, size_t size, void *arg) {
  struct listing *l = arg;
  struct found *o;
  int first = l->n == 0 && info->dlpi_name[0] == '\0';

  if (l->n == l->max)
    return 1;
  if (!first && strchr(info->dlpi_name, '/') == NULL)
    return 0;
  o = &l->o[l->n++];
  o->loaded_as = info->dlpi_name;
  o->bias = info->dlpi_addr;
  o->idlen = build_id(info, o->id);
  return 0;
}

void al_symbolize_prepare(void) {
  int saved = errno;
  struct listing l = {NULL, 0, FILES_MAX};
  char **names;

  if (!atomic_load_explicit(&al_ready, memory_order_acquire))
    return;
  if ((l.o = calloc(FILES_MAX, sizeof(*l.o))) == NULL)
    goto out;
  dl_iterate_phdr(list_object, &l);
  /* The loader's names are its own: copied before it may drop them. */
  names = calloc(l.n ? l.n : 1, sizeof(*names));
  for (size_t i = 0; names != NULL && i < l.n; i++)
    l.o[i].loaded_as = names[i] = strdup(l.o[i].loaded_as);
  if (names != NULL) {
    elf_version(EV_CURRENT);
    al_mutex_lock(&prepare_lock);
    for (size_t i = 0; i < l.n; i++)
      if (l.o[i].loaded_as != NULL && !is_held(l.o[i].loaded_as, l.o[i].bias))
        hold_object(&l.o[i]);
    al_mutex_unlock(&prepare_lock);
    for (size_t i = 0; i < l.n; i++)
      free(names[i]);
    free(names);
  }
  free(l.o);
out:
  errno = saved;
}

const struct al_symfile *al_symfile_find(const char *loaded_as,
                                         uintptr_t bias) {
  size_t n = atomic_load_explicit(&nfiles, memory_order_acquire);

  for (size_t i = 0; i < n; i++)
    if (files[i].bias == bias && !strcmp(files[i].loaded_as, loaded_as))
      return &files[i];
  return NULL;
}

size_t al_symfiles_fds(int *out, size_t max) {
  size_t n = atomic_load_explicit(&nfiles, memory_order_acquire);
  size_t a = atomic_load_explicit(&nalts, memory_order_acquire), k = 0;

  for (size_t i = 0; i < n; i++) {
    if (files[i].file.fd >= 0 && k < max)
      out[k++] = files[i].file.fd;
    if (files[i].debug.fd >= 0 && k < max)
      out[k++] = files[i].debug.fd;
  }
  for (size_t i = 0; i < a; i++)
    if (alts[i].file.fd >= 0 && k < max)
      out[k++] = alts[i].file.fd;
  return k;
}

int al_symfiles_any(void) {
  return atomic_load_explicit(&nfiles, memory_order_acquire) > 0;
}

const char *al_symfile_name(const struct al_symfile *f) {
  return f->name;
}

int al_symfile_open(const struct al_symfile *f) {
  return reopen(&f->file);
}

int al_symfile_open_debug(const struct al_symfile *f, const char *link,
                          unsigned crc, char **path) {
  const struct held *h = &f->debug;
  size_t n = atomic_load_explicit(&nalts, memory_order_acquire);
  int fd;

  /* libdwfl asks for a dwz file by the name the debug file gives it, with
   * no checksum; for the debug file itself, with the checksum of the
   * object's .gnu_debuglink, or with no name when it has none. */
  if (link != NULL && crc == 0) {
    h = NULL;
    for (size_t i = 0; i < n && h == NULL; i++)
      if (!strcmp(alts[i].link, link))
        h = &alts[i].file;
    if (h == NULL)
      return -1;
  }
  fd = reopen(h);
  if (fd >= 0 && path != NULL)
    *path = strdup(h->path);
  return fd;
}
