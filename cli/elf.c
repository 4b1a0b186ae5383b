/* Telling from the ELF headers whether the runtime can be preloaded into a
 * program: it needs the dynamic loader, and the loader needs the class the
 * runtime was built for. */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

#if UINTPTR_MAX > 0xffffffffu
typedef Elf64_Ehdr ehdr_t;
typedef Elf64_Phdr phdr_t;
#define NATIVE_CLASS ELFCLASS64
#define NATIVE_BITS 64
#else
typedef Elf32_Ehdr ehdr_t;
typedef Elf32_Phdr phdr_t;
#define NATIVE_CLASS ELFCLASS32
#define NATIVE_BITS 32
#endif

#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define NATIVE_DATA ELFDATA2LSB
#else
#define NATIVE_DATA ELFDATA2MSB
#endif

static int read_at(int fd, void *buf, size_t len, off_t off) {
  ssize_t n;

  do
    n = pread(fd, buf, len, off);
  while (n < 0 && errno == EINTR);
  return n == (ssize_t)len ? 0 : -1;
}

/* Returns 1 when the program headers name an interpreter, 0 when they do not
 * and -1 when they cannot be read. */
static int has_interp(int fd, const ehdr_t *eh) {
  for (unsigned i = 0; i < eh->e_phnum; i++) {
    phdr_t ph;
    off_t off = (off_t)(eh->e_phoff + (uint64_t)i * sizeof(ph));

    if (read_at(fd, &ph, sizeof(ph), off) != 0)
      return -1;
    if (ph.p_type == PT_INTERP)
      return 1;
  }
  return 0;
}

int cli_check_elf(const char *path, const char *name) {
  ehdr_t eh;
  int fd, rc = 0;

  /* Whatever this cannot read or make sense of is left for execve() to
   * judge, and to explain. */
  fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return 0;
  if (read_at(fd, eh.e_ident, EI_NIDENT, 0) != 0 ||
      memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0)
    goto out;
  if ((eh.e_ident[EI_CLASS] == ELFCLASS32 ||
       eh.e_ident[EI_CLASS] == ELFCLASS64) &&
      eh.e_ident[EI_CLASS] != NATIVE_CLASS) {
    cli_error("'%s' is a %d-bit program: the runtime is %d-bit", name,
              NATIVE_BITS == 64 ? 32 : 64, NATIVE_BITS);
    rc = CLI_EXIT_FAILURE;
    goto out;
  }
  if (eh.e_ident[EI_CLASS] != NATIVE_CLASS ||
      eh.e_ident[EI_DATA] != NATIVE_DATA ||
      read_at(fd, &eh, sizeof(eh), 0) != 0 ||
      (eh.e_type != ET_EXEC && eh.e_type != ET_DYN) ||
      eh.e_phentsize != sizeof(phdr_t))
    goto out;
  if (has_interp(fd, &eh) == 0) {
    cli_error("'%s' is statically linked: the runtime cannot be loaded into "
              "it", name);
    rc = CLI_EXIT_FAILURE;
  }
out:
  close(fd);
  return rc;
}

#if UINTPTR_MAX > 0xffffffffu
typedef Elf64_Dyn dyn_t;
#else
typedef Elf32_Dyn dyn_t;
#endif

/* Whether name, a DT_NEEDED entry, is a loop library asyncleak watches:
 * libuv.so.1, libevent-2.1.so.7, libevent_core-2.1.so.7... and not a
 * program's own library whose name only starts like one. */
static int is_loop_library(const char *name, char *lib, size_t size) {
  static const char *const libevent[] = {
      "libevent", "libevent_core", "libevent_extra", "libevent_pthreads",
      "libevent_openssl"};

  if (!strncmp(name, "libuv.so", 8) && (name[8] == '\0' || name[8] == '.')) {
    snprintf(lib, size, "libuv");
    return 1;
  }
  for (size_t i = 0; i < CLI_ARRAY_SIZE(libevent); i++) {
    size_t n = strlen(libevent[i]);

    if (!strncmp(name, libevent[i], n) &&
        (name[n] == '-' || !strncmp(name + n, ".so", 3))) {
      snprintf(lib, size, "libevent");
      return 1;
    }
  }
  return 0;
}

/* The file offset of virtual address addr, from the PT_LOAD segments. */
static int file_offset(int fd, const ehdr_t *eh, uint64_t addr, off_t *off) {
  for (unsigned i = 0; i < eh->e_phnum; i++) {
    phdr_t ph;

    if (read_at(fd, &ph, sizeof(ph),
                (off_t)(eh->e_phoff + (uint64_t)i * sizeof(ph))) != 0)
      return -1;
    if (ph.p_type == PT_LOAD && addr >= ph.p_vaddr &&
        addr < ph.p_vaddr + ph.p_filesz) {
      *off = (off_t)(ph.p_offset + (addr - ph.p_vaddr));
      return 0;
    }
  }
  return -1;
}

/* The DT_NEEDED entries of an ELF file of the native class. */
static int needs_loop(int fd, char *lib, size_t size) {
  ehdr_t eh;
  phdr_t ph;
  uint64_t strtab = 0;
  off_t dyn_off = 0, str_off;
  size_t ndyn = 0;
  int found = 0;

  if (read_at(fd, &eh, sizeof(eh), 0) != 0 ||
      memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 ||
      eh.e_ident[EI_CLASS] != NATIVE_CLASS ||
      eh.e_phentsize != sizeof(phdr_t))
    return -1;
  for (unsigned i = 0; i < eh.e_phnum; i++) {
    if (read_at(fd, &ph, sizeof(ph),
                (off_t)(eh.e_phoff + (uint64_t)i * sizeof(ph))) != 0)
      return -1;
    if (ph.p_type == PT_DYNAMIC) {
      dyn_off = (off_t)ph.p_offset;
      ndyn = (size_t)(ph.p_filesz / sizeof(dyn_t));
    }
  }
  if (ndyn == 0)
    return 0; /* statically linked: no library at all */
  if (ndyn > 4096)
    return -1;
  for (size_t i = 0; i < ndyn; i++) {
    dyn_t d;

    if (read_at(fd, &d, sizeof(d), dyn_off + (off_t)(i * sizeof(d))) != 0)
      return -1;
    if (d.d_tag == DT_NULL)
      break;
    if (d.d_tag == DT_STRTAB)
      strtab = (uint64_t)d.d_un.d_ptr;
  }
  if (strtab == 0 || file_offset(fd, &eh, strtab, &str_off) != 0)
    return -1;
  for (size_t i = 0; i < ndyn && !found; i++) {
    dyn_t d;
    char name[256];
    ssize_t n;

    if (read_at(fd, &d, sizeof(d), dyn_off + (off_t)(i * sizeof(d))) != 0)
      return -1;
    if (d.d_tag == DT_NULL)
      break;
    if (d.d_tag != DT_NEEDED)
      continue;
    n = pread(fd, name, sizeof(name) - 1, str_off + (off_t)d.d_un.d_val);
    if (n <= 0)
      return -1;
    name[n] = '\0';
    found = is_loop_library(name, lib, size);
  }
  return found;
}

int cli_elf_uses_loop(const char *path, char *lib, size_t size) {
  char head[256];
  int fd, rc = -1;

  for (int depth = 0; depth < 2; depth++) {
    ssize_t n;

    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
      return -1;
    n = pread(fd, head, sizeof(head) - 1, 0);
    if (n >= 2 && head[0] == '#' && head[1] == '!') {
      /* A script: its interpreter is what runs. */
      head[n] = '\0';
      close(fd);
      path = head + 2 + strspn(head + 2, " \t");
      head[2 + strspn(head + 2, " \t") + strcspn(path, " \t\n")] = '\0';
      if (path[0] != '/')
        return -1;
      continue;
    }
    rc = n >= SELFMAG ? needs_loop(fd, lib, size) : -1;
    close(fd);
    return rc;
  }
  return -1;
}
