/* Whether a program a process executed uses a loop library, for the
 * verdict on a process that wrote nothing after an exec (collect.c).
 *
 * The path comes from a line the process wrote in its report file: the
 * program chose it, and asyncleak may run as root. So the file is opened
 * only when it is a regular file, first with O_PATH, which reaches no
 * driver, and then again through /proc/self/fd: neither a FIFO (whose
 * open would wait for a writer) nor a device (whose open may act, as
 * /dev/watchdog's does) is ever opened for reading. What is read is
 * bounded. A script is judged by its interpreter, through env(1) to the
 * program it runs; a program by the libraries it needs and by a copy of
 * one linked into it (libnames.h). */
#define _GNU_SOURCE
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "../lib/libnames.h"

#if UINTPTR_MAX > 0xffffffffu
typedef Elf64_Ehdr ehdr_t;
typedef Elf64_Phdr phdr_t;
typedef Elf64_Shdr shdr_t;
typedef Elf64_Dyn dyn_t;
typedef Elf64_Sym sym_t;
#define NATIVE_CLASS ELFCLASS64
#define SYM_TYPE ELF64_ST_TYPE
#else
typedef Elf32_Ehdr ehdr_t;
typedef Elf32_Phdr phdr_t;
typedef Elf32_Shdr shdr_t;
typedef Elf32_Dyn dyn_t;
typedef Elf32_Sym sym_t;
#define NATIVE_CLASS ELFCLASS32
#define SYM_TYPE ELF32_ST_TYPE
#endif

/* Interpreters followed, as many as the kernel follows (a script whose
 * interpreter is a script...), env(1) counting as one. */
enum { MAX_DEPTH = 5 };
/* Bounds on what is read of one program: its string tables, and the
 * bytes searched for a copy's string. */
enum { STRTAB_MAX = 64 << 20, SCAN_MAX = 256 << 20, CHUNK = 1 << 20 };

static int read_at(int fd, void *buf, size_t len, off_t off) {
  ssize_t n;

  do
    n = pread(fd, buf, len, off);
  while (n < 0 && errno == EINTR);
  return n == (ssize_t)len ? 0 : -1;
}

/* Opens path for reading when it is a regular file: a descriptor, or -1. */
static int open_regular(const char *path) {
  char self[64];
  struct stat st, again;
  int pfd, fd;

  pfd = open(path, O_PATH | O_CLOEXEC);
  if (pfd < 0)
    return -1;
  if (fstat(pfd, &st) != 0 || !S_ISREG(st.st_mode)) {
    close(pfd);
    return -1;
  }
  /* The same file, whatever the name leads to by now. Without /proc, it
   * cannot be opened without the name: left untold. */
  snprintf(self, sizeof(self), "/proc/self/fd/%d", pfd);
  fd = open(self, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
  close(pfd);
  if (fd < 0)
    return -1;
  if (fstat(fd, &again) != 0 || again.st_ino != st.st_ino ||
      again.st_dev != st.st_dev) {
    close(fd);
    return -1;
  }
  return fd;
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

/* Whether a DT_NEEDED entry is a loop library: 1 with its name in lib,
 * 0 when none is, -1 when that cannot be told. */
static int needs_loop(int fd, const ehdr_t *eh, char *lib, size_t size) {
  uint64_t strtab = 0;
  off_t dyn_off = 0, str_off;
  size_t ndyn = 0;

  for (unsigned i = 0; i < eh->e_phnum; i++) {
    phdr_t ph;

    if (read_at(fd, &ph, sizeof(ph),
                (off_t)(eh->e_phoff + (uint64_t)i * sizeof(ph))) != 0)
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
  if (strtab == 0 || file_offset(fd, eh, strtab, &str_off) != 0)
    return -1;
  for (size_t i = 0; i < ndyn; i++) {
    dyn_t d;
    char name[256];
    ssize_t n;
    int id;

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
    id = al_loop_library_name(name);
    for (size_t k = 0; k < CLI_ARRAY_SIZE(al_loop_libraries); k++)
      if (al_loop_libraries[k].id == id) {
        snprintf(lib, size, "%s", al_loop_libraries[k].name);
        return 1;
      }
  }
  return 0;
}

/* The library whose function a symbol table section (.dynsym or .symtab)
 * defines, or NULL. */
static const struct al_loop_library *symbols_copy(int fd, const ehdr_t *eh,
                                                  const shdr_t *sh) {
  const struct al_loop_library *found = NULL;
  shdr_t strsh;
  char *str;
  sym_t syms[256];

  if (sh->sh_entsize != sizeof(sym_t) || sh->sh_link >= eh->e_shnum ||
      read_at(fd, &strsh, sizeof(strsh),
              (off_t)(eh->e_shoff + (uint64_t)sh->sh_link * sizeof(strsh))) !=
          0 ||
      strsh.sh_size == 0 || strsh.sh_size > STRTAB_MAX)
    return NULL;
  str = malloc(strsh.sh_size + 1);
  if (str == NULL)
    return NULL;
  if (read_at(fd, str, strsh.sh_size, (off_t)strsh.sh_offset) != 0) {
    free(str);
    return NULL;
  }
  str[strsh.sh_size] = '\0';
  for (uint64_t at = 0; at < sh->sh_size / sizeof(sym_t) && !found;) {
    size_t n = CLI_ARRAY_SIZE(syms);

    if (n > sh->sh_size / sizeof(sym_t) - at)
      n = (size_t)(sh->sh_size / sizeof(sym_t) - at);
    if (read_at(fd, syms, n * sizeof(sym_t),
                (off_t)(sh->sh_offset + at * sizeof(sym_t))) != 0)
      break;
    for (size_t i = 0; i < n && !found; i++) {
      if (syms[i].st_shndx == SHN_UNDEF ||
          SYM_TYPE(syms[i].st_info) != STT_FUNC ||
          syms[i].st_name >= strsh.sh_size)
        continue;
      for (size_t k = 0; k < CLI_ARRAY_SIZE(al_loop_libraries); k++)
        if (!strcmp(str + syms[i].st_name, al_loop_libraries[k].symbol))
          found = &al_loop_libraries[k];
    }
    at += n;
  }
  free(str);
  return found;
}

/* A copy of a loop library linked into the program, known by a function
 * of its own in a symbol table, or, stripped, by a string of its own. */
static const struct al_loop_library *has_copy(int fd, const ehdr_t *eh,
                                              off_t file_size) {
  size_t keep = 0;
  char *buf;
  off_t at = 0;
  const struct al_loop_library *found = NULL;

  if (eh->e_shentsize == sizeof(shdr_t) && eh->e_shnum < 65535)
    for (unsigned i = 0; i < eh->e_shnum && !found; i++) {
      shdr_t sh;

      if (read_at(fd, &sh, sizeof(sh),
                  (off_t)(eh->e_shoff + (uint64_t)i * sizeof(sh))) != 0)
        break;
      if (sh.sh_type == SHT_DYNSYM || sh.sh_type == SHT_SYMTAB)
        found = symbols_copy(fd, eh, &sh);
    }
  if (found != NULL)
    return found;
  for (size_t k = 0; k < CLI_ARRAY_SIZE(al_loop_libraries); k++)
    if (al_loop_libraries[k].telltale_len > keep)
      keep = al_loop_libraries[k].telltale_len;
  buf = malloc(CHUNK + keep);
  if (buf == NULL)
    return NULL;
  /* Each chunk is searched with the end of the one before it, so that a
   * string across the two is found. */
  for (size_t have = 0; at < file_size && at < SCAN_MAX && !found;) {
    ssize_t n = pread(fd, buf + have, CHUNK, at);

    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      break;
    have += (size_t)n;
    at += n;
    for (size_t k = 0; k < CLI_ARRAY_SIZE(al_loop_libraries) && !found; k++)
      if (memmem(buf, have, al_loop_libraries[k].telltale,
                 al_loop_libraries[k].telltale_len) != NULL)
        found = &al_loop_libraries[k];
    if (have > keep) {
      memmove(buf, buf + have - keep, keep);
      have = keep;
    }
  }
  free(buf);
  return found;
}

/* The program env(1) runs, from the argument of a "#!/usr/bin/env ARG"
 * line, into out: its first word that is not an option (nor an option's
 * argument) and not NAME=VALUE, looked up along PATH when it has no '/'.
 * Returns 0, or -1 when there is none or it is not found. */
static int env_program(char *arg, char *out, size_t size) {
  static const char *const with_value[] = {"-u", "--unset", "-C",
                                           "--chdir"};
  const char *prog = NULL, *dirs;
  char *word, *save = NULL;
  int skip = 0;

  for (word = strtok_r(arg, " \t", &save); word != NULL && prog == NULL;
       word = strtok_r(NULL, " \t", &save)) {
    if (skip) {
      skip = 0;
      continue;
    }
    if (word[0] == '-') {
      /* "-S" splits the rest of the line into words, as done here; a
       * word glued to it is the first of them. */
      if (!strncmp(word, "-S", 2) && word[2] != '\0' && word[2] != '-')
        prog = word + 2;
      for (size_t i = 0; i < CLI_ARRAY_SIZE(with_value); i++)
        skip |= !strcmp(word, with_value[i]);
      continue;
    }
    if (strchr(word, '=') == NULL)
      prog = word;
  }
  if (prog == NULL)
    return -1;
  if (strchr(prog, '/') != NULL)
    return snprintf(out, size, "%s", prog) < (int)size ? 0 : -1;
  /* env searches the PATH of its own environment, which is not known
   * here: the command's stands in for it. */
  dirs = getenv("PATH");
  if (dirs == NULL)
    dirs = "/bin:/usr/bin";
  for (;;) {
    size_t len = strcspn(dirs, ":");
    struct stat st;
    int n = snprintf(out, size, "%.*s/%s", (int)len, len ? dirs : ".", prog);

    if (n > 0 && (size_t)n < size && stat(out, &st) == 0 &&
        S_ISREG(st.st_mode) && (st.st_mode & 0111))
      return 0;
    if (dirs[len] == '\0')
      return -1;
    dirs += len + 1;
  }
}

/* The interpreter of a script whose first bytes are head (n of them,
 * starting "#!"), followed through env(1), into out. */
static int interpreter(char *head, size_t n, char *out, size_t size) {
  char *interp, *arg, *end;
  const char *base;

  head[n] = '\0';
  end = strchr(head, '\n');
  if (end == NULL)
    return -1; /* longer than the kernel reads */
  *end = '\0';
  interp = head + 2 + strspn(head + 2, " \t");
  arg = interp + strcspn(interp, " \t");
  if (*arg != '\0')
    *arg++ = '\0';
  arg += strspn(arg, " \t");
  if (interp[0] != '/')
    return -1; /* relative to a directory not known here */
  base = strrchr(interp, '/') + 1;
  if (!strcmp(base, "env"))
    return env_program(arg, out, size);
  return snprintf(out, size, "%s", interp) < (int)size ? 0 : -1;
}

int cli_elf_uses_loop(const char *path, char *lib, size_t size) {
  char head[257], next[PATH_MAX], here[PATH_MAX];

  if (snprintf(here, sizeof(here), "%s", path) >= (int)sizeof(here))
    return -1;
  for (int depth = 0; depth < MAX_DEPTH; depth++) {
    const struct al_loop_library *copy;
    struct stat st;
    ehdr_t eh;
    ssize_t n;
    int fd = open_regular(here), rc;

    if (fd < 0)
      return -1;
    do
      n = pread(fd, head, sizeof(head) - 1, 0);
    while (n < 0 && errno == EINTR);
    if (n >= 2 && head[0] == '#' && head[1] == '!') {
      close(fd);
      if (interpreter(head, (size_t)n, next, sizeof(next)) != 0)
        return -1;
      memcpy(here, next, sizeof(here));
      continue;
    }
    if (fstat(fd, &st) != 0 || read_at(fd, &eh, sizeof(eh), 0) != 0 ||
        memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 ||
        eh.e_ident[EI_CLASS] != NATIVE_CLASS ||
        eh.e_phentsize != sizeof(phdr_t)) {
      close(fd);
      return -1;
    }
    rc = needs_loop(fd, &eh, lib, size);
    if (rc == 0 && (copy = has_copy(fd, &eh, st.st_size)) != NULL) {
      snprintf(lib, size, "its own copy of %s", copy->name);
      rc = 1;
    }
    close(fd);
    return rc;
  }
  return -1;
}
