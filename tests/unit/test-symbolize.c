/* The symbolizer on this program's own code and the C library's: the
 * frames inlined at a return address, what naming an address again
 * gives (the symbolizer keeps each address it named), and the C
 * library named from its symbols alone. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <elfutils/libdwfl.h>
#include <gelf.h>

#include "internal.h"
#include "symindex.h"

static volatile uintptr_t seen_pc;

__attribute__((noinline)) static void note_caller(void) {
  seen_pc = (uintptr_t)__builtin_return_address(0);
  __asm__ volatile("" ::: "memory");
}

/* Two inlined calls: the return address into take_pc lies in both.
 * take_pc is optimized so that its DWARF is what a -O2 build has. */
static inline __attribute__((always_inline)) void inner(void) { note_caller(); }
enum { INNER_LINE = __LINE__ - 1 };

static inline __attribute__((always_inline)) void outer(void) { inner(); }
enum { OUTER_LINE = __LINE__ - 1 };

__attribute__((noinline, optimize("O2"))) static void take_pc(void) {
  outer();
  __asm__ volatile("" ::: "memory");
}
enum { TAKE_LINE = __LINE__ - 3 };

/* The same, the call in a block of the inlined function: the innermost
 * scope at the return address is that block. */
static inline __attribute__((always_inline)) void in_block(int n) {
  for (volatile int i = 0; i < n; i++) {
    volatile int here = i;
    note_caller();
    (void)here;
  }
}
enum { BLOCK_LINE = __LINE__ - 4 };

static inline __attribute__((always_inline)) void around(void) {
  in_block(1);
}
enum { AROUND_LINE = __LINE__ - 2 };

__attribute__((noinline, optimize("O2"))) static void take_pc_in_block(void) {
  around();
  __asm__ volatile("" ::: "memory");
}
enum { TAKE_BLOCK_LINE = __LINE__ - 3 };

static int same_frame(const struct al_frame *a, const struct al_frame *b) {
  return a->pc == b->pc && a->inlined == b->inlined && a->line == b->line &&
         a->body_line == b->body_line && a->offset == b->offset &&
         !strcmp(a->function ? a->function : "",
                 b->function ? b->function : "") &&
         !strcmp(a->file ? a->file : "", b->file ? b->file : "");
}

/* The frames at seen_pc: two inlined calls, innermost first, then the
 * function they are in, each at its line. */
static void assert_chain(const char *const names[3], const int lines[3]) {
  struct al_symbolizer *s = al_symbolizer_new();
  struct al_frame f[8];

  assert_non_null(s);
  assert_int_equal(al_symbolize_inlined(s, seen_pc, f, 8), 3);
  for (int i = 0; i < 3; i++) {
    assert_string_equal(f[i].function, names[i]);
    assert_int_equal(f[i].inlined, i < 2);
    assert_int_equal(f[i].line, lines[i]);
  }
  assert_int_equal(f[2].body_line, 1);
  assert_non_null(strstr(f[2].file, "test-symbolize.c"));
  al_symbolizer_free(s);
}

static void test_symbolize__inlined_frames(void **state) {
  (void)state;
  take_pc();
  assert_chain((const char *const[]){"inner", "outer", "take_pc"},
               (const int[]){INNER_LINE, OUTER_LINE, TAKE_LINE});
}

static void test_symbolize__inlined_frames_in_a_block(void **state) {
  (void)state;
  take_pc_in_block();
  assert_chain((const char *const[]){"in_block", "around", "take_pc_in_block"},
               (const int[]){BLOCK_LINE, AROUND_LINE, TAKE_BLOCK_LINE});
}

/* An address named again, with any room, gives what a symbolizer that
 * never saw it gives with that room: the inlined frames that fit, then
 * the function, its line moved out by every inlined call. */
static void test_symbolize__named_again(void **state) {
  struct al_symbolizer *kept = al_symbolizer_new();
  struct al_frame first[8], again[8], fresh[8];
  size_t n;

  (void)state;
  take_pc();
  assert_non_null(kept);
  n = al_symbolize_inlined(kept, seen_pc, first, 8);
  assert_int_equal(n, 3);
  for (size_t room = 1; room <= 4; room++) {
    struct al_symbolizer *s = al_symbolizer_new();
    size_t a = al_symbolize_inlined(kept, seen_pc, again, room);
    size_t b = al_symbolize_inlined(s, seen_pc, fresh, room);

    assert_int_equal(a, b);
    assert_int_equal(a, room < 3 ? room : 3);
    for (size_t i = 0; i < a; i++)
      assert_true(same_frame(&again[i], &fresh[i]));
    /* The inlined frames that fit, innermost first, then the function,
     * its line the call in it whatever the room. */
    if (a >= 2) {
      assert_string_equal(again[0].function, "inner");
      assert_int_equal(again[0].line, INNER_LINE);
    }
    if (a == 3) {
      assert_string_equal(again[1].function, "outer");
      assert_int_equal(again[1].line, OUTER_LINE);
    }
    assert_string_equal(again[a - 1].function, "take_pc");
    assert_false(again[a - 1].inlined);
    assert_int_equal(again[a - 1].line, TAKE_LINE);
    al_symbolizer_free(s);
  }
  al_symbolize(kept, seen_pc, first);
  assert_string_equal(first[0].function, "inner");
  al_symbolizer_free(kept);
}

/* The C library's frames are named from its symbols: with its debug
 * information installed or not, no file and no line. */
static void test_symbolize__libc_by_symbol(void **state) {
  struct al_symbolizer *s = al_symbolizer_new();
  struct al_frame f;

  (void)state;
  assert_non_null(s);
  /* As a return address: the lookup is made one byte before. The C
   * library's own address, not a PLT entry's of a program not PIE. */
  al_symbolize(s, (uintptr_t)dlsym(RTLD_DEFAULT, "getpid") + 1, &f);
  assert_non_null(f.module);
  assert_int_equal(strncmp(f.module, "libc.so", 7), 0);
  assert_non_null(f.function);
  assert_non_null(strstr(f.function, "getpid"));
  assert_null(f.file);
  assert_int_equal(f.line, 0);
  assert_int_equal(f.body_line, -1);
  al_symbolizer_free(s);
}

/* The index of a module's symbols gives what libdwfl gives, wherever it
 * answers: at the start, the middle and the last byte of every symbol of
 * every module of this process with a table large enough to be indexed
 * (the C library's, from its debug information where installed, else its
 * dynamic symbols), and just past each. */
struct compared {
  unsigned long indexed, answered, differed;
};

static int compare_module(Dwfl_Module *mod, void **userdata,
                          const char *name, Dwarf_Addr start, void *arg) {
  struct compared *c = arg;
  struct al_symindex *x = al_symindex_new(mod);
  int n = dwfl_module_getsymtab(mod);

  (void)userdata;
  (void)start;
  if (x == NULL)
    return DWARF_CB_OK;
  c->indexed++;
  for (int i = 1; i < n; i++) {
    GElf_Sym sym;
    GElf_Addr at;
    const char *sname =
        dwfl_module_getsym_info(mod, i, &sym, &at, NULL, NULL, NULL);
    GElf_Addr probe[4] = {at, at + sym.st_size / 2, at + sym.st_size - 1,
                          at + sym.st_size};

    /* Every 16th function: libdwfl reads the whole table for each. */
    if (sname == NULL || GELF_ST_TYPE(sym.st_info) != STT_FUNC ||
        sym.st_size == 0 || i % 16 != 0)
      continue;
    for (int p = 0; p < 4; p++) {
      GElf_Off off_x = 0, off_d = 0;
      GElf_Sym s;
      const char *by_x = al_symindex_find(x, probe[p], &off_x);
      const char *by_d = dwfl_module_addrinfo(mod, probe[p], &off_d, &s,
                                              NULL, NULL, NULL);

      if (by_x == NULL)
        continue;
      c->answered++;
      if (by_d == NULL || strcmp(by_x, by_d) != 0 || off_x != off_d) {
        if (c->differed++ < 5)
          print_message("%s at %#lx: index %s+%#lx, libdwfl %s+%#lx\n",
                        name, (unsigned long)probe[p], by_x,
                        (unsigned long)off_x, by_d ? by_d : "(none)",
                        (unsigned long)off_d);
      }
    }
  }
  al_symindex_free(x);
  return DWARF_CB_OK;
}

static void test_symbolize__index_as_libdwfl(void **state) {
  static char *debuginfo_path;
  static const Dwfl_Callbacks callbacks = {
      .find_elf = dwfl_linux_proc_find_elf,
      .find_debuginfo = dwfl_standard_find_debuginfo,
      .debuginfo_path = &debuginfo_path,
  };
  Dwfl *dwfl = dwfl_begin(&callbacks);
  struct compared c = {0, 0, 0};

  (void)state;
  assert_non_null(dwfl);
  assert_int_equal(dwfl_linux_proc_report(dwfl, getpid()), 0);
  assert_int_equal(dwfl_report_end(dwfl, NULL, NULL), 0);
  dwfl_getmodules(dwfl, compare_module, &c, 0);
  dwfl_end(dwfl);
  /* The C library's symbols from its debug information (libc6-dbg, which
   * scripts/install-deps.sh installs) are enough to be indexed; its
   * dynamic ones alone are not. */
  if (c.indexed == 0)
    skip();
  print_message("%lu indexed modules, %lu addresses answered\n", c.indexed,
                c.answered);
  assert_true(c.answered >= 200);
  assert_int_equal(c.differed, 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_symbolize__inlined_frames),
      cmocka_unit_test(test_symbolize__inlined_frames_in_a_block),
      cmocka_unit_test(test_symbolize__named_again),
      cmocka_unit_test(test_symbolize__libc_by_symbol),
      cmocka_unit_test(test_symbolize__index_as_libdwfl),
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}
