/* Creation sites judged from frames made by hand, as the symbolizer would
 * fill them on machines with and without debug information: which frame
 * is the program's own, what --gen-suppressions names, and what tells
 * fingerprints apart. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static int teardown(void **state) {
  (void)state;
  al_suppress_reset();
  return 0;
}

/* A named frame; file NULL for none, body_line -1 when unknown. */
static struct al_frame named(const char *module, const char *function,
                             const char *file, int line, int body_line) {
  return (struct al_frame){.pc = 0x1000, .function = function,
                           .symbol = function, .file = file,
                           .line = file ? line : 0, .body_line = body_line,
                           .module = module, .offset = 0x100};
}

static struct al_frame unnamed(const char *module, uintptr_t offset) {
  return (struct al_frame){.pc = 0x2000 + offset, .body_line = -1,
                           .module = module, .offset = offset};
}

/* The frames glibc's debug information gives below main. */
static void add_libc_start(struct al_site *s) {
  s->frames[s->depth++] =
      named("libc.so.6", "__libc_start_call_main",
            "../sysdeps/nptl/libc_start_call_main.h", 58, 16);
  s->frames[s->depth++] = named("libc.so.6", "__libc_start_main@@GLIBC_2.34",
                                "../csu/libc-start.c", 360, 120);
}

/* What --gen-suppressions prints for the site, terminated; freed by the
 * caller. */
static char *suppression(const struct al_site *s, const char *type) {
  struct al_buf b = {0};
  char *text;

  al_site_put_suppression(&b, s, type);
  assert_false(b.failed);
  assert_non_null(b.data);
  text = strndup(b.data, b.len);
  al_buf_release(&b);
  assert_non_null(text);
  return text;
}

static void assert_names_no_machine_frame(const char *line) {
  static const char *const never[] = {
      "__libc_start_call_main", "__libc_start_main", "_start", "libc.so",
      "ld-linux", "libasyncleak", NULL};

  for (const char *const *n = never; *n != NULL; n++)
    if (strstr(line, *n) != NULL)
      fail_msg("'%s' names %s", line, *n);
}

/* A distro program without debug information, run with glibc's: the only
 * frame with a file is the C library's. Before, the suppression became
 * "uv_timer:^__libc_start_call_main$", hiding every timer. */
static void test_site__only_libc_has_a_file(void **state) {
  struct al_site s = {0};
  char *line;

  (void)state;
  s.frames[s.depth++] =
      named("node", "_ZN4node22PerIsolatePlatformDataC2Ev", NULL, 0, -1);
  add_libc_start(&s);
  s.frames[s.depth++] = named("node", "_start", NULL, 0, -1);
  al_site_judge_frames(0, "uv_timer_t", &s);
  assert_int_equal(s.own, -1);
  line = suppression(&s, "uv_timer_t");
  assert_string_equal(line, "uv_timer:^_ZN4node22PerIsolatePlatformDataC2Ev$\n");
  assert_names_no_machine_frame(line);
  free(line);
}

/* The loop library's and asyncleak's frames have files when their debug
 * information is installed; they are not the program's either. */
static void test_site__own_frame_skips_libraries(void **state) {
  struct al_site s = {0};
  char *line;

  (void)state;
  s.frames[s.depth++] = named("libasyncleak.so", "al_res_open",
                              "lib/registry.c", 10, 3);
  s.frames[s.depth++] = named("libuv.so.1", "uv_fs_poll_start",
                              "src/fs-poll.c", 80, 20);
  s.frames[s.depth++] = named("prog", "watch", "prog.c", 12, 2);
  s.frames[s.depth++] = named("prog", "main", "prog.c", 30, 4);
  add_libc_start(&s);
  al_site_judge_frames(0, "uv_timer_t", &s);
  assert_int_equal(s.own, 2);
  line = suppression(&s, "uv_timer_t");
  assert_string_equal(line, "uv_timer:^watch$\n");
  free(line);
}

/* Nothing but the C library, the loader and asyncleak: nothing is safe to
 * name, and the line says so as a comment. */
static void test_site__nothing_safe_to_name(void **state) {
  struct al_site s = {0};
  char *line;

  (void)state;
  s.frames[s.depth++] = named("libasyncleak.so", "al_res_open",
                              "lib/registry.c", 10, 3);
  add_libc_start(&s);
  s.frames[s.depth++] = named("ld-linux-x86-64.so.2", "_start", NULL, 0, -1);
  al_site_judge_frames(0, "uv_timer_t", &s);
  assert_int_equal(s.own, -1);
  line = suppression(&s, "uv_timer_t");
  assert_int_equal(line[0], '#');
  assert_null(strstr(line, "\nuv_timer:"));
  free(line);
}

/* A stripped program: frames are module+offset, the line names the first
 * such frame, and a suppressions file holding it suppresses this site and
 * not another of the same module. */
static void test_site__stripped_names_module_offset(void **state) {
  struct al_site a = {0}, b = {0};
  char *line;

  (void)state;
  a.frames[a.depth++] = unnamed("prog", 0x11b6);
  a.frames[a.depth++] = unnamed("prog", 0x1202);
  add_libc_start(&a);
  b.frames[b.depth++] = unnamed("prog", 0x11db);
  b.frames[b.depth++] = unnamed("prog", 0x120e);
  add_libc_start(&b);
  al_site_judge_frames(0, "uv_timer_t", &a);
  al_site_judge_frames(0, "uv_timer_t", &b);
  assert_string_not_equal(a.fingerprint, b.fingerprint);
  line = suppression(&a, "uv_timer_t");
  assert_string_equal(line, "uv_timer:^prog+0x11b6$\n");
  assert_int_equal(al_suppressions_parse("gen.supp", line, strlen(line)), 0);
  free(line);
  al_site_judge_frames(0, "uv_timer_t", &a);
  al_site_judge_frames(0, "uv_timer_t", &b);
  assert_int_equal(a.supp, 0);
  assert_int_equal(b.supp, -1);
}

/* Two calls in one function differ by their line counted from the
 * function's; moving the whole function keeps that count. */
static void test_site__fingerprint_tells_calls_apart(void **state) {
  struct al_site first = {0}, second = {0}, moved = {0};

  (void)state;
  first.frames[first.depth++] = named("prog", "main", "prog.c", 40, 6);
  add_libc_start(&first);
  second.frames[second.depth++] = named("prog", "main", "prog.c", 41, 7);
  add_libc_start(&second);
  moved.frames[moved.depth++] = named("prog", "main", "prog.c", 52, 6);
  add_libc_start(&moved);
  moved.frames[1].line = 61; /* another C library: another line */
  al_site_judge_frames(0, "uv_timer_t", &first);
  al_site_judge_frames(0, "uv_timer_t", &second);
  al_site_judge_frames(0, "uv_timer_t", &moved);
  assert_string_not_equal(first.fingerprint, second.fingerprint);
  assert_string_equal(first.fingerprint, moved.fingerprint);
}

/* Without lines, the call's offset in its function tells two calls of
 * one function apart, even two calls of the same callee; the module's
 * load address does not count. */
static void test_site__fingerprint_by_offset_without_lines(void **state) {
  struct al_site a = {0}, b = {0}, c = {0};

  (void)state;
  a.frames[a.depth] = named("libfoo.so.1", "foo_init", NULL, 0, -1);
  a.frames[a.depth++].sym_offset = 0x2c;
  b.frames[b.depth] = named("libfoo.so.1", "foo_init", NULL, 0, -1);
  b.frames[b.depth++].sym_offset = 0x41;
  c.frames[c.depth] = named("libfoo.so.1", "foo_init", NULL, 0, -1);
  c.frames[c.depth].sym_offset = 0x2c;
  c.frames[c.depth++].pc = 0x7f0000001000;
  al_site_judge_frames(0, "uv_timer_t", &a);
  al_site_judge_frames(0, "uv_timer_t", &b);
  al_site_judge_frames(0, "uv_timer_t", &c);
  assert_string_not_equal(a.fingerprint, b.fingerprint);
  assert_string_equal(a.fingerprint, c.fingerprint);
}

/* The report prints C++ names demangled; a suppression may name either
 * form. */
static void test_site__suppression_matches_printed_and_linked(void **state) {
  static const char rules[] = "uv_timer:^sites::Poller::start(int)$\n"
                              "uv_idle:^_ZN5sites6Poller4idleEv$\n";
  struct al_site s = {0};

  (void)state;
  s.frames[s.depth] = named("prog", "sites::Poller::start(int)", "m.cc", 22,
                            2);
  s.frames[s.depth++].symbol = "_ZN5sites6Poller5startEi";
  assert_int_equal(al_suppressions_parse("cxx.supp", rules, strlen(rules)),
                   0);
  al_site_judge_frames(0, "uv_timer_t", &s);
  assert_int_equal(s.supp, 0);
  s.frames[0].function = "sites::Poller::idle()";
  s.frames[0].symbol = "_ZN5sites6Poller4idleEv";
  al_site_judge_frames(0, "uv_idle_t", &s);
  assert_int_equal(s.supp, 1);
  al_site_judge_frames(0, "uv_check_t", &s);
  assert_int_equal(s.supp, -1);
}

/* A libevent leak's line names its type by its kind, and read back, it
 * covers that type and no other of the same site. */
static void test_site__libevent_rule_read_back(void **state) {
  struct al_site s = {0};
  char *line;

  (void)state;
  s.frames[s.depth++] = named("libevent-2.1.so.7", "event_new", NULL, 0, -1);
  s.frames[s.depth++] = named("server", "make_timer", "server.c", 40, 3);
  s.frames[s.depth++] = named("server", "main", "server.c", 70, 9);
  add_libc_start(&s);
  al_site_judge_frames(0, "event (added)", &s);
  line = suppression(&s, "event (added)");
  assert_string_equal(line, "event_added:^make_timer$\n");
  assert_int_equal(al_suppressions_parse("gen.supp", line, strlen(line)), 0);
  free(line);
  al_site_judge_frames(0, "event (added)", &s);
  assert_int_equal(s.supp, 0);
  al_site_judge_frames(0, "event (never freed)", &s);
  assert_int_equal(s.supp, -1);
  al_site_judge_frames(1, "evdns request", &s);
  assert_int_equal(s.supp, -1);
}

int main(void) {
  const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_teardown(name, teardown)
      T(test_site__only_libc_has_a_file),
      T(test_site__own_frame_skips_libraries),
      T(test_site__nothing_safe_to_name),
      T(test_site__stripped_names_module_offset),
      T(test_site__fingerprint_tells_calls_apart),
      T(test_site__fingerprint_by_offset_without_lines),
      T(test_site__suppression_matches_printed_and_linked),
      T(test_site__libevent_rule_read_back),
#undef T
  };
  return cmocka_run_group_tests_name("site", tests, NULL, NULL);
}
