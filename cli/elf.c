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
