/* The report file: telling a finished report from one still being
 * written, whatever the length of its lines. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "internal.h"

/* A file holding text, read back by al_reportfile_finished. */
static int finished(const char *text) {
  int fd = memfd_create("report", MFD_CLOEXEC), got;

  assert_true(fd >= 0);
  assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
  got = al_reportfile_finished(fd);
  close(fd);
  return got;
}

/* text with a line of n 'x' in place of each "%L". */
static char *with_long(const char *text, size_t n) {
  static char out[16384];
  size_t used = 0;

  for (const char *p = text; *p != '\0'; p++) {
    if (p[0] == '%' && p[1] == 'L') {
      memset(out + used, 'x', n);
      used += n;
      p++;
    } else {
      out[used++] = *p;
    }
  }
  out[used] = '\0';
  return out;
}

static void test_reportfile__finished_short(void **state) {
  (void)state;
  assert_int_equal(finished(""), 0);
  assert_int_equal(finished("pid=1\nexe=/bin/x\n"), 0);
  assert_int_equal(finished("pid=1\n@txt 3\nabc\n@sum 2\nok\n"), 1);
  /* A block whose data looks like a "@sum" head is skipped whole. */
  assert_int_equal(finished("pid=1\n@txt 8\n@sum 2\n\n\n"), 0);
  /* Cut short in its head. */
  assert_int_equal(finished("pid=1\n@sum 2"), 0);
}

static void test_reportfile__finished_long_lines(void **state) {
  (void)state;
  /* Lines of every length around the size of a read. */
  for (size_t n = 250; n < 800; n += 7) {
    if (finished(with_long("pid=1\nexe=/%L\n@txt 3\nabc\n@sum 2\nok\n", n)) !=
        1)
      fail_msg("an exe= line of %zu bytes: not finished", n);
    if (finished(with_long("pid=1\nchild=2-3 /%L\n@sum 2\nok\n", n)) != 1)
      fail_msg("a child= line of %zu bytes: not finished", n);
    if (finished(with_long("pid=1\nerror=%L\n", n)) != 0)
      fail_msg("an error= line of %zu bytes: finished", n);
    /* A long line's text that looks like a "@sum" head, past a read's
     * length, is not one. */
    if (finished(with_long("pid=1\nexe=/%L@sum 2\nok\n", n)) != 0)
      fail_msg("'@sum' %zu bytes into a line: finished", n);
  }
  assert_int_equal(finished(with_long("exe=/%L\n@sum 2\nok\n", 9000)), 1);
  /* No head is that long. */
  assert_int_equal(finished(with_long("@sum %L\n", 300)), 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_reportfile__finished_short),
      cmocka_unit_test(test_reportfile__finished_long_lines),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
