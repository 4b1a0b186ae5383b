/* The symbolizer on this program's own code and the C library's: the
 * frames inlined at a return address, what naming an address again
 * gives (the symbolizer keeps each address it named), and the C
 * library named from its symbols alone. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "internal.h"

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

static int same_frame(const struct al_frame *a, const struct al_frame *b) {
  return a->pc == b->pc && a->inlined == b->inlined && a->line == b->line &&
         a->body_line == b->body_line && a->offset == b->offset &&
         !strcmp(a->function ? a->function : "",
                 b->function ? b->function : "") &&
         !strcmp(a->file ? a->file : "", b->file ? b->file : "");
}

static void test_symbolize__inlined_frames(void **state) {
  struct al_symbolizer *s = al_symbolizer_new();
  struct al_frame f[8];
  size_t n;

  (void)state;
  take_pc();
  assert_non_null(s);
  n = al_symbolize_inlined(s, seen_pc, f, 8);
  assert_int_equal(n, 3);
  assert_string_equal(f[0].function, "inner");
  assert_true(f[0].inlined);
  assert_int_equal(f[0].line, INNER_LINE);
  assert_string_equal(f[1].function, "outer");
  assert_true(f[1].inlined);
  assert_int_equal(f[1].line, OUTER_LINE);
  assert_string_equal(f[2].function, "take_pc");
  assert_false(f[2].inlined);
  assert_int_equal(f[2].line, TAKE_LINE);
  assert_int_equal(f[2].body_line, 1);
  assert_non_null(strstr(f[2].file, "test-symbolize.c"));
  al_symbolizer_free(s);
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
    /* The outermost frame is the function, whatever the room. */
    assert_string_equal(again[a - 1].function, "take_pc");
    assert_int_equal(again[a - 1].line, first[2].line);
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
  /* As a return address: the lookup is made one byte before. */
  al_symbolize(s, (uintptr_t)&getpid + 1, &f);
  assert_non_null(f.module);
  assert_int_equal(strncmp(f.module, "libc.so", 7), 0);
  assert_non_null(f.function);
  assert_non_null(strstr(f.function, "getpid"));
  assert_null(f.file);
  assert_int_equal(f.line, 0);
  assert_int_equal(f.body_line, -1);
  al_symbolizer_free(s);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_symbolize__inlined_frames),
      cmocka_unit_test(test_symbolize__named_again),
      cmocka_unit_test(test_symbolize__libc_by_symbol),
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}
