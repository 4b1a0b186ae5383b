/* Report grouping and layout, on records made by the fake loop library. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fake-shim.h"

static uint8_t shim;

static int setup(void **state) {
  (void)state;
  al_init();
  al_registry_reset();
  al_opt.stack_depth = 16;
  al_opt.max_addresses = 4;
  shim = al_shim_register(&fake_shim);
  fake_state = (struct al_state){.known = 1, .active = 1, .referenced = 1};
  return 0;
}

static int teardown(void **state) {
  (void)state;
  al_registry_reset();
  return 0;
}

static __attribute__((noinline)) void create_rarely(uintptr_t addr) {
  al_res_open(shim, addr, 1, 0x10, al_stack_capture());
}

static __attribute__((noinline)) void create_often(uintptr_t addr) {
  al_res_open(shim, addr, 0, 0x10, al_stack_capture());
}

/* Formats the current registry. */
static char *report(struct al_report_totals *t) {
  struct al_snapshot s;
  struct al_buf b = {0};
  assert_int_equal(al_registry_snapshot(&s), 0);
  al_report_format(&s, &b, t, NULL, NULL);
  al_snapshot_release(&s);
  al_buf_printf(&b, "%s", ""); /* always a terminated string */
  return b.data;
}

static void test_report__groups_by_site_most_frequent_first(void **state) {
  struct al_report_totals t;
  (void)state;
  al_loop_open(shim, 0x10, 0, NULL, 1);
  create_rarely(0x5000);
  for (uintptr_t i = 0; i < 6; i++)
    create_often(0x6000 + i * 64);
  char *text = report(&t);

  assert_int_equal(t.open, 7);
  assert_int_equal(t.groups, 2);
  char *often = strstr(text, "6 handles of type fake_a_t, created at:\n");
  char *rarely = strstr(text, "1 handle of type fake_b_t, created at:\n");
  assert_non_null(often);
  assert_non_null(rarely);
  assert_true(often < rarely);
  /* The first frame is the creating function, with its file and line. */
  char *frame0 = strstr(often, "#0 0x");
  assert_non_null(frame0);
  *strchr(frame0, '\n') = '\0';
  assert_non_null(strstr(frame0, " in create_often "));
  assert_non_null(strstr(frame0, "test-report.c:"));
  frame0[strlen(frame0)] = '\n';
  assert_non_null(strstr(text, "  ... and 2 more\n"));
  assert_non_null(strstr(text, "==ERROR: asyncleak: 7 handles left open at "
                               "exit\n"));
  assert_non_null(strstr(text, "\nSUMMARY: asyncleak: 7 handles left open (6 "
                               "fake_a_t, 1 fake_b_t) from 2 creation sites; "
                               "1 of 1 loop not closed\n"));
  free(text);
}

static void test_report__internal_ones_are_left_out(void **state) {
  struct al_report_totals t;
  (void)state;
  fake_state.internal = 1;
  create_often(0x6000);
  char *text = report(&t);
  assert_int_equal(t.open, 0);
  assert_int_equal(t.created, 1);
  assert_string_equal(text, "");
  free(text);
}

static void test_report__unknown_state_is_still_a_leak(void **state) {
  struct al_report_totals t;
  (void)state;
  fake_state = (struct al_state){0};
  create_often(0x6000);
  char *text = report(&t);
  assert_int_equal(t.open, 1);
  assert_non_null(strstr(text, "state unknown"));
  free(text);
}

static void test_report__nothing_open_writes_nothing(void **state) {
  struct al_report_totals t;
  (void)state;
  al_loop_open(shim, 0x10, 0, NULL, 1);
  al_loop_closed(0x10, 0);
  char *text = report(&t);
  assert_string_equal(text, "");
  assert_int_equal(t.loops, 1);
  assert_int_equal(t.loops_unclosed, 0);
  assert_int_equal(t.shims_seen, 1u << shim);
  free(text);
}

static void test_report__loops_listed_with_site(void **state) {
  struct al_report_totals t;
  (void)state;
  al_loop_open(shim, 0x10, AL_LOOP_DEFAULT, al_stack_capture(), 1);
  al_loop_close_busy(0x10);
  create_often(0x6000);
  char *text = report(&t);
  assert_non_null(strstr(text, "Loops (fakelib): 1 seen, 0 closed, 1 not closed:\n"));
  assert_non_null(strstr(text, ", default loop) created in "
                               "test_report__loops_listed_with_site "));
  assert_non_null(strstr(text, ": close failed 1 time (handles open or requests pending), never "
                               "closed\n"));
  free(text);
}

static __attribute__((noinline)) void start_request(uintptr_t addr) {
  assert_int_equal(
      al_req_start(shim, addr, 0, 0x10, (void *)0x99, al_stack_capture()), 0);
}

/* Formats the current registry, for a scope when since is not 0. */
static char *report_scoped(struct al_report_totals *t, uint64_t since) {
  struct al_snapshot s;
  struct al_report_scope scope = {since};
  struct al_buf b = {0};
  assert_int_equal(al_registry_snapshot(&s), 0);
  al_report_format(&s, &b, t, &scope, NULL);
  al_snapshot_release(&s);
  al_buf_printf(&b, "%s", "");
  return b.data;
}

/* The age a request's line gives, in ms; asserts the line is there. */
static unsigned long age_in(const char *text, const char *line_start) {
  const char *p = strstr(text, line_start);
  char *end;
  unsigned long ms;
  assert_non_null(p);
  p += strlen(line_start);
  ms = strtoul(p, &end, 10);
  assert_true(end > p);
  assert_true(strncmp(end, " ms: fake details\n", 18) == 0);
  return ms;
}

static void test_report__pending_request_exact_text(void **state) {
  struct al_report_totals t;
  char line[128], expected[1024];
  unsigned long ms;
  int pid = (int)getpid();
  (void)state;
  al_loop_open(shim, 0x10, 0, NULL, 1);
  assert_int_equal(al_req_start(shim, 0x7000, 0, 0x10, NULL, NULL), 0);
  char *text = report(&t);
  snprintf(line, sizeof(line), "  0x7000 on loop 1, thread %d (main), "
                               "pending for ", pid);
  ms = age_in(text, line);
  assert_true(ms < 1000);
  assert_true(snprintf(expected, sizeof(expected),
      "=================================================================\n"
      "==%d==ERROR: asyncleak: 1 request pending at exit\n"
      "\n"
      "1 request of type fake_req_t pending, created at:\n"
      "    <no stack>\n"
      "  0x7000 on loop 1, thread %d (main), pending for %lu ms: fake "
      "details\n"
      /* FNV-1a of "request", "fake_req_t": no frames to add. */
      "  fingerprint eb9ad9919a06aa5f\n"
      "\n"
      "Loops (fakelib): 1 seen, 0 closed, 1 not closed:\n"
      "  loop 1 (fakelib 0x10) created at an unknown place by thread %d "
      "(main): never closed\n"
      "\n"
      "SUMMARY: asyncleak: 0 handles left open; 1 request pending (1 "
      "fake_req_t) from 1 creation site; 1 of 1 loop not closed\n",
      pid, pid, ms, pid) < (int)sizeof(expected));
  assert_string_equal(text, expected);
  assert_int_equal(t.pending, 1);
  assert_int_equal(t.open, 0);
  assert_int_equal(t.groups, 1);
  assert_int_equal(t.req_groups, 1);
  assert_int_equal(t.requests, 1);
  assert_int_equal(t.created, 0);
  free(text);
}

static void test_report__pending_requests_grouped_by_site(void **state) {
  struct al_report_totals t;
  char head[64];
  (void)state;
  al_loop_open(shim, 0x10, 0, NULL, 1);
  for (uintptr_t i = 0; i < 3; i++)
    start_request(0x7000 + i * 64);
  create_often(0x6000);
  char *text = report(&t);
  assert_int_equal(t.pending, 3);
  assert_int_equal(t.open, 1);
  assert_int_equal(t.groups, 2);
  assert_int_equal(t.req_groups, 1);
  snprintf(head, sizeof(head), "==%d==ERROR: asyncleak: ", (int)getpid());
  /* One banner line each, handles first. */
  char *h1 = strstr(text, head), *h2 = h1 ? strstr(h1 + 1, head) : NULL;
  assert_non_null(h1);
  assert_non_null(h2);
  assert_null(strstr(h2 + 1, head));
  assert_true(strncmp(h1 + strlen(head), "1 handle left open at exit\n",
                      27) == 0);
  assert_true(strncmp(h2 + strlen(head), "3 requests pending at exit\n",
                      27) == 0);
  char *group = strstr(text, "\n3 requests of type fake_req_t pending, "
                             "created at:\n    #0 0x");
  assert_non_null(group);
  char *frame0 = strstr(group, "#0 0x");
  *strchr(frame0, '\n') = '\0';
  assert_non_null(strstr(frame0, " in start_request "));
  assert_non_null(strstr(frame0, "test-report.c:"));
  frame0[strlen(frame0)] = '\n';
  char prefix[96];
  for (uintptr_t i = 0; i < 3; i++) {
    snprintf(prefix, sizeof(prefix),
             "  %#lx on loop 1, thread %d (main), pending for ",
             (unsigned long)(0x7000 + i * 64), (int)getpid());
    assert_true(age_in(group, prefix) < 1000);
  }
  assert_non_null(strstr(text, "\n1 handle of type fake_a_t, created at:\n"));
  assert_non_null(strstr(text, "\nSUMMARY: asyncleak: 1 handle left open (1 "
                               "fake_a_t) from 1 creation site; 3 requests "
                               "pending (3 fake_req_t) from 1 creation site; "
                               "1 of 1 loop not closed\n"));
  free(text);
}

static void test_report__same_stack_handle_and_request_apart(void **state) {
  struct al_report_totals t;
  const struct al_stack *st;
  (void)state;
  st = al_stack_capture();
  assert_non_null(st);
  /* Same stack, same type number, one handle and one request: two
   * groups. */
  al_res_open(shim, 0x6000, 0, 0x10, st);
  al_res_open(shim, 0x6040, 0, 0x10, st);
  assert_int_equal(al_req_start(shim, 0x7000, 0, 0x10, NULL, st), 0);
  char *text = report(&t);
  assert_int_equal(t.groups, 2);
  assert_int_equal(t.req_groups, 1);
  assert_int_equal(t.open, 2);
  assert_int_equal(t.pending, 1);
  char *handles = strstr(text, "\n2 handles of type fake_a_t, created at:\n");
  char *requests = strstr(text, "\n1 request of type fake_req_t pending, "
                                "created at:\n");
  assert_non_null(handles);
  assert_non_null(requests);
  /* Each group lists its own only. */
  char *end = requests > handles ? requests : text + strlen(text);
  char *p = strstr(handles, "pending for");
  assert_true(p == NULL || p > end);
  p = strstr(requests, ", active, referenced");
  end = handles > requests ? handles : text + strlen(text);
  assert_true(p == NULL || p > end);
  assert_null(strstr(text, "handles of type fake_req_t"));
  assert_non_null(strstr(text, "\nSUMMARY: asyncleak: 2 handles left open (2 "
                               "fake_a_t) from 1 creation site; 1 request "
                               "pending (1 fake_req_t) from 1 creation "
                               "site\n"));
  free(text);
}

static void test_report__request_age_in_seconds(void **state) {
  struct al_report_totals t;
  struct al_snapshot s;
  struct al_buf b = {0};
  (void)state;
  assert_int_equal(al_req_start(shim, 0x7000, 0, 0x10, NULL, NULL), 0);
  assert_int_equal(al_registry_snapshot(&s), 0);
  assert_int_equal(s.nres, 1);
  s.res[0].born_ms = al_now_ms() - 2340; /* started 2.34 s ago */
  al_report_format(&s, &b, &t, NULL, NULL);
  al_snapshot_release(&s);
  al_buf_printf(&b, "%s", "");
  assert_non_null(strstr(b.data, ", pending for 2.3 s: fake details\n"));
  al_buf_release(&b);
}

static void test_report__scope_leaves_out_older_requests(void **state) {
  struct al_report_totals t;
  uint64_t before, after;
  (void)state;
  al_loop_open(shim, 0x10, 0, NULL, 1);
  before = al_res_next_seq();
  start_request(0x7000);
  after = al_res_next_seq();
  char *text = report_scoped(&t, after);
  assert_string_equal(text, "");
  assert_int_equal(t.pending, 0);
  assert_int_equal(t.groups, 0);
  assert_int_equal(t.req_groups, 0);
  assert_int_equal(t.loops, 0);
  free(text);

  /* From its seq on, it is reported, as a check: not "at exit", and no
   * loops. */
  text = report_scoped(&t, before);
  assert_int_equal(t.pending, 1);
  char head[96];
  snprintf(head, sizeof(head), "==%d==ERROR: asyncleak: 1 request pending\n",
           (int)getpid());
  assert_non_null(strstr(text, head));
  assert_non_null(strstr(text, "\n1 request of type fake_req_t pending, "
                               "created at:\n"));
  assert_null(strstr(text, "at exit"));
  assert_null(strstr(text, "Loops ("));
  assert_non_null(strstr(text, "\nSUMMARY: asyncleak: 0 handles left open; "
                               "1 request pending (1 fake_req_t) from 1 "
                               "creation site\n"));
  free(text);
}

static void test_report__handles_only_has_no_requests(void **state) {
  struct al_report_totals t;
  char expected[1024];
  int pid = (int)getpid();
  (void)state;
  al_loop_open(shim, 0x10, 0, NULL, 1);
  al_res_open(shim, 0x6000, 1, 0x10, NULL);
  al_res_open(shim, 0x6040, 1, 0x10, NULL);
  char *text = report(&t);
  assert_true(snprintf(expected, sizeof(expected),
      "=================================================================\n"
      "==%d==ERROR: asyncleak: 2 handles left open at exit\n"
      "\n"
      "2 handles of type fake_b_t, created at:\n"
      "    <no stack>\n"
      "  0x6000 on loop 1, thread %d (main), active, referenced\n"
      "  0x6040 on loop 1, thread %d (main), active, referenced\n"
      "  fingerprint 6ff46221167bfec8\n"
      "\n"
      "Loops (fakelib): 1 seen, 0 closed, 1 not closed:\n"
      "  loop 1 (fakelib 0x10) created at an unknown place by thread %d "
      "(main): never closed\n"
      "\n"
      "SUMMARY: asyncleak: 2 handles left open (2 fake_b_t) from 1 creation "
      "site; 1 of 1 loop not closed\n",
      pid, pid, pid, pid) < (int)sizeof(expected));
  assert_string_equal(text, expected);
  assert_null(strstr(text, "request"));
  assert_int_equal(t.pending, 0);
  assert_int_equal(t.req_groups, 0);
  assert_int_equal(t.requests, 0);
  assert_int_equal(t.created, 2);
  free(text);

  /* As a check too. */
  text = report_scoped(&t, 1);
  assert_null(strstr(text, "request"));
  assert_non_null(strstr(text, "\nSUMMARY: asyncleak: 2 handles left open (2 "
                               "fake_b_t) from 1 creation site\n"));
  free(text);
}

static void test_report__completed_request_not_reported(void **state) {
  struct al_report_totals t;
  void *cb;
  (void)state;
  start_request(0x7000);
  assert_int_equal(al_req_done(0x7000, &cb), 1);
  char *text = report(&t);
  assert_string_equal(text, "");
  assert_int_equal(t.pending, 0);
  assert_int_equal(t.requests, 1);
  free(text);
}

/* ------------------------------------------- suppressions and baselines */

/* Temporary files a test wrote, removed in teardown even when it fails. */
static char temp_paths[4][256];
static int ntemp;

/* Writes text to a new temporary file; returns its name (kept in
 * temp_paths). */
static const char *write_temp(const char *text) {
  const char *dir = getenv("TMPDIR");
  char *path;
  int fd;
  size_t len = strlen(text);

  assert_true(ntemp < 4);
  path = temp_paths[ntemp];
  if (dir == NULL || dir[0] == '\0')
    dir = "/tmp";
  assert_true(snprintf(path, sizeof(temp_paths[0]), "%s/asyncleak-test-XXXXXX",
                       dir) < (int)sizeof(temp_paths[0]));
  fd = mkstemp(path);
  assert_true(fd >= 0);
  ntemp++;
  assert_int_equal(write(fd, text, len), (ssize_t)len);
  assert_int_equal(close(fd), 0);
  return path;
}

static void remove_temps(void) {
  for (int i = 0; i < ntemp; i++)
    unlink(temp_paths[i]);
  ntemp = 0;
}

static int teardown_files(void **state) {
  remove_temps();
  al_suppress_reset();
  al_opt.gen_suppressions = 0;
  return teardown(state);
}

/* Formats the current registry as at exit, with its records in *rec (a
 * terminated string the caller frees). */
static char *report_rec(struct al_report_totals *t, char **rec) {
  struct al_snapshot s;
  struct al_buf b = {0}, r = {0};
  struct al_report_out out = {.color = 0, .rec = &r};
  assert_int_equal(al_registry_snapshot(&s), 0);
  assert_int_equal(al_report_format(&s, &b, t, NULL, &out), 0);
  al_snapshot_release(&s);
  al_buf_printf(&b, "%s", "");
  al_buf_printf(&r, "%s", "");
  *rec = r.data;
  return b.data;
}

/* The "leak" record of the nth group (from 0) of a type: its fields
 * after the type, in count, fp (AL_FINGERPRINT_LEN + 1 bytes), own and
 * baselined. Returns the start of the record line, NULL when there is
 * none. */
static const char *leak_record(const char *rec, const char *type, int nth,
                               size_t *count, char *fp, int *own,
                               int *baselined) {
  char head[128];
  const char *p = rec;

  snprintf(head, sizeof(head), "\t%s\t", type);
  for (; p != NULL && *p != '\0'; p = strchr(p, '\n'), p = p ? p + 1 : p) {
    const char *tab, *after;
    char fpbuf[AL_FINGERPRINT_LEN + 1];
    size_t c;
    int o, bl, used = 0;

    if (strncmp(p, "leak\t", 5) != 0)
      continue;
    tab = strchr(p + 5, '\t');
    if (tab == NULL || strncmp(tab, head, strlen(head)) != 0)
      continue;
    after = tab + strlen(head);
    if (sscanf(after, "%zu\t%16[0-9a-f]\t%d\t%d%n", &c, fpbuf, &o, &bl,
               &used) != 4)
      fail_msg("a malformed leak record: %.120s", p);
    assert_true(after[used] == '\n');
    assert_int_equal(strlen(fpbuf), AL_FINGERPRINT_LEN);
    if (nth-- > 0)
      continue;
    if (count)
      *count = c;
    if (fp)
      memcpy(fp, fpbuf, sizeof(fpbuf));
    if (own)
      *own = o;
    if (baselined)
      *baselined = bl;
    return p;
  }
  return NULL;
}

/* FNV-1a 64 of a string and a 0xff after it, as the fingerprint takes
 * each part; written here again so that the tests do not trust site.c. */
static uint64_t fnv_part(uint64_t h, const char *s, size_t len) {
  for (size_t i = 0; i < len; i++) {
    h ^= (unsigned char)s[i];
    h *= 0x100000001b3ull;
  }
  h ^= 0xff;
  h *= 0x100000001b3ull;
  return h;
}

/* The fingerprint of a record, from its kind, type and "frame" lines:
 * each frame's function (cut at '@'), or "?" then its module, down to
 * main, the C library's frames left out. */
static __attribute__((noinline)) void create_supp_a(uintptr_t addr) {
  al_res_open(shim, addr, 0, 0x10, al_stack_capture());
}

static __attribute__((noinline)) void create_supp_b(uintptr_t addr) {
  al_res_open(shim, addr, 1, 0x10, al_stack_capture());
}

static __attribute__((noinline)) void start_supp_request(uintptr_t addr) {
  assert_int_equal(
      al_req_start(shim, addr, 0, 0x10, NULL, al_stack_capture()), 0);
}

static void test_report__suppressed_group_left_out(void **state) {
  struct al_report_totals t;
  char *rec, row[512], line[512];
  const char *path;
  int pid = (int)getpid();
  (void)state;
  path = write_temp("# what the unit test hides\n"
                    "this line has no colon\n"
                    "request:create_supp_a\n"
                    "fake_a:^create_supp_a$\n"
                    "\n"
                    "handle:create_supp_a\n"
                    "fake_b:no_such_function\n");
  assert_int_equal(al_suppressions_load(path), 1);
  al_loop_open(shim, 0x10, 0, NULL, 1);
  /* One call site each: each group is one stack. */
  for (uintptr_t i = 0; i < 3; i++)
    create_supp_a(0x6000 + i * 64);
  for (uintptr_t i = 0; i < 2; i++)
    create_supp_b(0x8000 + i * 64);
  char *text = report_rec(&t, &rec);

  /* Without the suppressions: 5 handles from 2 sites. */
  assert_int_equal(t.open, 2);
  assert_int_equal(t.groups, 1);
  assert_int_equal(t.req_groups, 0);
  assert_int_equal(t.suppressed, 3);
  assert_int_equal(t.suppressed_groups, 1);
  assert_int_equal(t.baselined, 0);
  assert_int_equal(t.baselined_groups, 0);
  assert_int_equal(t.created, 5);

  assert_null(strstr(text, "fake_a_t"));
  assert_null(strstr(text, " in create_supp_a "));
  assert_null(strstr(text, "0x6000 on loop"));
  assert_non_null(strstr(text, "\n2 handles of type fake_b_t, created at:\n"
                               "    #0 0x"));
  assert_non_null(strstr(text, " in create_supp_b "));
  snprintf(line, sizeof(line), "==%d==ERROR: asyncleak: 2 handles left open "
                               "at exit\n", pid);
  assert_non_null(strstr(text, line));
  /* The first rule that covers a group is the one used, and only rules
   * used are listed. */
  snprintf(row, sizeof(row), "\nSuppressions used:\n"
                             "  groups  resources  suppression\n"
                             "       1          3  fake_a:^create_supp_a$ "
                             "(%s:4)\n\n", path);
  assert_non_null(strstr(text, row));
  assert_null(strstr(text, "request:create_supp_a"));
  assert_null(strstr(text, "handle:create_supp_a"));
  assert_null(strstr(text, "no_such_function"));
  assert_non_null(strstr(text, "\nSUMMARY: asyncleak: 2 handles left open (2 "
                               "fake_b_t) from 1 creation site; 1 of 1 loop "
                               "not closed\n"));

  /* The records: no leak line for the suppressed group, one for the
   * other, and the use of the rule. */
  assert_null(leak_record(rec, "fake_a_t", 0, NULL, NULL, NULL, NULL));
  size_t count;
  int own, baselined;
  assert_non_null(leak_record(rec, "fake_b_t", 0, &count, NULL, &own,
                              &baselined));
  assert_int_equal(count, 2);
  assert_int_equal(own, 0);
  assert_int_equal(baselined, 0);
  snprintf(line, sizeof(line), "\nsuppression\t1\t3\t%s\t4\tfake_a:"
                               "^create_supp_a$\n", path);
  assert_non_null(strstr(rec, line));
  assert_int_equal(strstr(rec, "\nsuppression\t") - rec,
                   strrchr(rec, '\n') - rec - (ptrdiff_t)strlen(line) + 1);
  free(rec);
  free(text);
}

/* A rule names a function, a source file or a module: a file's name covers
 * every group made there; kinds still apply. */
static void test_report__suppression_by_file_and_kind(void **state) {
  struct al_report_totals t;
  char *rec, row[512];
  const char *path;
  (void)state;
  path = write_temp("handle:test-report.c$\n");
  assert_int_equal(al_suppressions_load(path), 0);
  create_supp_a(0x6000);
  create_supp_b(0x8000);
  for (uintptr_t i = 0; i < 2; i++)
    start_supp_request(0x7000 + i * 64);
  char *text = report_rec(&t, &rec);
  assert_int_equal(t.open, 0);
  assert_int_equal(t.pending, 2);
  assert_int_equal(t.groups, 1);
  assert_int_equal(t.req_groups, 1);
  assert_int_equal(t.suppressed, 2);
  assert_int_equal(t.suppressed_groups, 2);
  assert_null(strstr(text, "fake_a_t"));
  assert_null(strstr(text, "fake_b_t"));
  assert_non_null(strstr(text, "\n2 requests of type fake_req_t pending, "
                               "created at:\n"));
  snprintf(row, sizeof(row), "       2          2  handle:test-report.c$ "
                             "(%s:1)\n", path);
  assert_non_null(strstr(text, row));
  assert_non_null(strstr(text, "\nSUMMARY: asyncleak: 0 handles left open; "
                               "2 requests pending (2 fake_req_t) from 1 "
                               "creation site\n"));
  assert_non_null(leak_record(rec, "fake_req_t", 0, NULL, NULL, NULL, NULL));
  assert_null(leak_record(rec, "fake_a_t", 0, NULL, NULL, NULL, NULL));
  free(rec);
  free(text);
}

/* With every leak suppressed, the exit report still says what was hidden,
 * and no summary of leaks; a check says nothing. */
static void test_report__all_suppressed(void **state) {
  struct al_report_totals t;
  char *rec, line[128];
  const char *path;
  (void)state;
  path = write_temp("fake_a:create_supp_a\n");
  assert_int_equal(al_suppressions_load(path), 0);
  create_supp_a(0x6000);
  char *text = report_rec(&t, &rec);
  assert_int_equal(t.open, 0);
  assert_int_equal(t.groups, 0);
  assert_int_equal(t.suppressed, 1);
  assert_int_equal(t.suppressed_groups, 1);
  snprintf(line, sizeof(line), "==%d== asyncleak: no handles left open at "
                               "exit\n", (int)getpid());
  assert_non_null(strstr(text, line));
  assert_non_null(strstr(text, "\nSuppressions used:\n"));
  assert_null(strstr(text, "SUMMARY"));
  assert_null(strstr(text, "ERROR"));
  assert_null(strstr(rec, "leak\t"));
  assert_non_null(strstr(rec, "suppression\t1\t1\t"));
  free(rec);
  free(text);

  text = report_scoped(&t, 1);
  assert_string_equal(text, "");
  assert_int_equal(t.suppressed, 1);
  free(text);
}

static __attribute__((noinline)) void create_base_a(uintptr_t addr) {
  al_res_open(shim, addr, 0, 0x10, al_stack_capture());
}

static __attribute__((noinline)) void create_base_b(uintptr_t addr) {
  al_res_open(shim, addr, 1, 0x10, al_stack_capture());
}

static void test_report__baselined_group_left_out(void **state) {
  struct al_report_totals t;
  char *rec, fp[AL_FINGERPRINT_LEN + 1], fp_b[AL_FINGERPRINT_LEN + 1];
  char baseline[256], line[64];
  const char *path;
  size_t count;
  int baselined;
  (void)state;
  al_loop_open(shim, 0x10, 0, NULL, 1);
  for (uintptr_t i = 0; i < 2; i++)
    create_base_a(0x6000 + i * 64);
  create_base_b(0x8000);

  /* A first report gives the fingerprints. */
  char *text = report_rec(&t, &rec);
  assert_int_equal(t.open, 3);
  assert_non_null(leak_record(rec, "fake_a_t", 0, &count, fp, NULL,
                              &baselined));
  assert_int_equal(count, 2);
  assert_int_equal(baselined, 0);
  assert_non_null(leak_record(rec, "fake_b_t", 0, NULL, fp_b, NULL, NULL));
  assert_string_not_equal(fp, fp_b);
  snprintf(line, sizeof(line), "  fingerprint %s\n", fp);
  assert_non_null(strstr(text, line));
  assert_null(strstr(text, "In the baseline"));
  free(rec);
  free(text);

  snprintf(baseline, sizeof(baseline), "# known leaks\n\n%s  # 2 handles of "
                                       "type fake_a_t\n", fp);
  path = write_temp(baseline);
  assert_int_equal(al_baseline_load(path), 0);
  assert_true(al_baseline_has(fp));
  assert_false(al_baseline_has(fp_b));

  text = report_rec(&t, &rec);
  assert_int_equal(t.open, 1);
  assert_int_equal(t.groups, 1);
  assert_int_equal(t.baselined, 2);
  assert_int_equal(t.baselined_groups, 1);
  assert_int_equal(t.suppressed, 0);
  assert_int_equal(t.suppressed_groups, 0);
  assert_null(strstr(text, "fake_a_t"));
  assert_null(strstr(text, line));
  assert_non_null(strstr(text, "\n1 handle of type fake_b_t, created at:\n"));
  assert_non_null(strstr(text, "\nIn the baseline, not reported: 1 group (2 "
                               "resources)\n\n"));
  assert_null(strstr(text, "Suppressions used"));
  assert_non_null(strstr(text, "\nSUMMARY: asyncleak: 1 handle left open (1 "
                               "fake_b_t) from 1 creation site; 1 of 1 loop "
                               "not closed\n"));
  /* The records keep it, marked as in the baseline. */
  char fp2[AL_FINGERPRINT_LEN + 1];
  const char *r = leak_record(rec, "fake_a_t", 0, &count, fp2, NULL,
                              &baselined);
  assert_non_null(r);
  assert_int_equal(count, 2);
  assert_string_equal(fp2, fp);
  assert_int_equal(baselined, 1);
  assert_true(strncmp(strchr(r, '\n') - 2, "\t1\n", 3) == 0);
  r = leak_record(rec, "fake_b_t", 0, NULL, NULL, NULL, &baselined);
  assert_non_null(r);
  assert_int_equal(baselined, 0);
  assert_true(strncmp(strchr(r, '\n') - 2, "\t0\n", 3) == 0);
  free(rec);
  free(text);
}

/* A group both suppressed and in the baseline counts as suppressed. */
static void test_report__suppression_wins_over_baseline(void **state) {
  struct al_report_totals t;
  char *rec, fp[AL_FINGERPRINT_LEN + 1], baseline[64];
  (void)state;
  create_base_a(0x6000);
  char *text = report_rec(&t, &rec);
  assert_non_null(leak_record(rec, "fake_a_t", 0, NULL, fp, NULL, NULL));
  free(rec);
  free(text);
  snprintf(baseline, sizeof(baseline), "%s\n", fp);
  assert_int_equal(al_baseline_load(write_temp(baseline)), 0);
  assert_int_equal(al_suppressions_load(write_temp("handle:create_base_a\n")),
                   0);
  text = report_rec(&t, &rec);
  assert_int_equal(t.open, 0);
  assert_int_equal(t.suppressed, 1);
  assert_int_equal(t.baselined, 0);
  assert_null(strstr(text, "In the baseline"));
  assert_non_null(strstr(text, "Suppressions used:"));
  assert_null(strstr(rec, "leak\t"));
  free(rec);
  free(text);
}

static __attribute__((noinline)) void create_fp_one(uintptr_t addr) {
  al_res_open(shim, addr, 0, 0x10, al_stack_capture());
}

static __attribute__((noinline)) void create_fp_two(uintptr_t addr) {
  al_res_open(shim, addr, 0, 0x10, al_stack_capture());
}

/* The program closes a handle: the registry forgets it. */
static void close_handle(uintptr_t addr) {
  void *cb;
  assert_true(al_res_closing(addr, NULL) != 0);
  assert_int_equal(al_res_closed(addr, &cb), 1);
}

static void test_report__fingerprints_stable(void **state) {
  struct al_report_totals t;
  char *rec, *text;
  char fp[2][AL_FINGERPRINT_LEN + 1], other[AL_FINGERPRINT_LEN + 1];
  char again[AL_FINGERPRINT_LEN + 1], mine[AL_FINGERPRINT_LEN + 1];
  (void)state;
  /* The same site, in two separate reports. */
  for (int i = 0; i < 2; i++) {
    create_fp_one(0x6000);
    text = report_rec(&t, &rec);
    assert_int_equal(t.groups, 1);
    assert_non_null(leak_record(rec, "fake_a_t", 0, NULL, fp[i], NULL, NULL));
    free(rec);
    free(text);
    close_handle(0x6000);
  }
  assert_string_equal(fp[0], fp[1]);

  /* Called from two more lines of this function: two sites, told apart
   * by their lines within the function. */
  create_fp_one(0x6000);
  create_fp_one(0x6040);
  text = report_rec(&t, &rec);
  assert_int_equal(t.groups, 2);
  assert_non_null(leak_record(rec, "fake_a_t", 0, NULL, again, NULL, NULL));
  assert_non_null(leak_record(rec, "fake_a_t", 1, NULL, mine, NULL, NULL));
  assert_string_not_equal(again, mine);
  free(rec);
  free(text);
  close_handle(0x6000);
  close_handle(0x6040);

  /* Another creating function: another fingerprint. */
  create_fp_two(0x6000);
  text = report_rec(&t, &rec);
  assert_non_null(leak_record(rec, "fake_a_t", 0, NULL, other, NULL, NULL));
  assert_string_not_equal(other, fp[0]);
  free(rec);
  free(text);
}

static void test_report__fingerprint_without_stack(void **state) {
  struct al_report_totals t;
  char *rec, fp[AL_FINGERPRINT_LEN + 1], mine[AL_FINGERPRINT_LEN + 1];
  uint64_t h;
  (void)state;
  al_res_open(shim, 0x6000, 1, 0x10, NULL);
  assert_int_equal(al_req_start(shim, 0x7000, 0, 0x10, NULL, NULL), 0);
  char *text = report_rec(&t, &rec);
  const char *r = leak_record(rec, "fake_b_t", 0, NULL, fp, NULL, NULL);
  assert_non_null(r);
  /* FNV-1a 64 of "handle" 0xff "fake_b_t" 0xff. */
  assert_string_equal(fp, "6ff46221167bfec8");
  h = fnv_part(fnv_part(0xcbf29ce484222325ull, "handle", 6), "fake_b_t", 8);
  snprintf(mine, sizeof(mine), "%016llx", (unsigned long long)h);
  assert_string_equal(mine, fp);
  /* No frames, and no own frame. */
  assert_true(strncmp(strchr(r, '\n') + 1, "frame\t", 6) != 0);
  int own;
  assert_non_null(leak_record(rec, "fake_b_t", 0, NULL, NULL, &own, NULL));
  assert_int_equal(own, -1);
  assert_non_null(leak_record(rec, "fake_req_t", 0, NULL, fp, NULL, NULL));
  assert_string_equal(fp, "eb9ad9919a06aa5f");
  h = fnv_part(fnv_part(0xcbf29ce484222325ull, "request", 7), "fake_req_t",
               10);
  snprintf(mine, sizeof(mine), "%016llx", (unsigned long long)h);
  assert_string_equal(mine, fp);
  free(rec);
  free(text);
}

static void test_report__gen_suppressions(void **state) {
  struct al_report_totals t;
  char *rec, line[256];
  char fp[AL_FINGERPRINT_LEN + 1], fp_req[AL_FINGERPRINT_LEN + 1];
  (void)state;
  al_opt.gen_suppressions = 1;
  for (uintptr_t i = 0; i < 2; i++)
    create_supp_a(0x6000 + i * 64);
  start_supp_request(0x7000);
  al_res_open(shim, 0x8000, 1, 0x10, NULL);
  char *text = report_rec(&t, &rec);
  assert_non_null(leak_record(rec, "fake_a_t", 0, NULL, fp, NULL, NULL));
  assert_non_null(leak_record(rec, "fake_req_t", 0, NULL, fp_req, NULL,
                              NULL));
  char *gen = strstr(text, "\nSuppressions for the leaks above, for a file "
                           "given to --suppressions:\n");
  assert_non_null(gen);
  snprintf(line, sizeof(line), "\n# 2 handles of type fake_a_t, fingerprint "
                               "%s\nfake_a:^create_supp_a$\n", fp);
  assert_non_null(strstr(gen, line));
  snprintf(line, sizeof(line), "\n# 1 request of type fake_req_t, "
                               "fingerprint %s\nfake_req:^start_supp_request$"
                               "\n", fp_req);
  assert_non_null(strstr(gen, line));
  assert_non_null(strstr(gen, "\n# 1 handle of type fake_b_t, fingerprint "
                              "6ff46221167bfec8\n# no frame to name: "
                              "fake_b:*\n"));
  /* Before the summary. */
  assert_non_null(strstr(gen, "\nSUMMARY: "));
  free(rec);
  free(text);

  /* What it wrote, given back, hides those leaks. */
  assert_int_equal(al_suppressions_load(write_temp(
                       "fake_a:^create_supp_a$\n"
                       "fake_req:^start_supp_request$\n")), 0);
  text = report_rec(&t, &rec);
  assert_int_equal(t.open, 1);
  assert_int_equal(t.pending, 0);
  assert_int_equal(t.suppressed, 3);
  assert_int_equal(t.suppressed_groups, 2);
  assert_null(strstr(text, "fake_a:^create_supp_a$\n"));
  assert_non_null(strstr(text, "# no frame to name: fake_b:*\n"));
  free(rec);
  free(text);

  al_opt.gen_suppressions = 0;
  text = report_rec(&t, &rec);
  assert_null(strstr(text, "Suppressions for the leaks above"));
  free(rec);
  free(text);
}

int main(void) {
  const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
      T(test_report__groups_by_site_most_frequent_first),
      T(test_report__internal_ones_are_left_out),
      T(test_report__unknown_state_is_still_a_leak),
      T(test_report__nothing_open_writes_nothing),
      T(test_report__loops_listed_with_site),
      T(test_report__pending_request_exact_text),
      T(test_report__pending_requests_grouped_by_site),
      T(test_report__same_stack_handle_and_request_apart),
      T(test_report__request_age_in_seconds),
      T(test_report__scope_leaves_out_older_requests),
      T(test_report__handles_only_has_no_requests),
      T(test_report__completed_request_not_reported),
#undef T
#define F(name) cmocka_unit_test_setup_teardown(name, setup, teardown_files)
      F(test_report__suppressed_group_left_out),
      F(test_report__suppression_by_file_and_kind),
      F(test_report__all_suppressed),
      F(test_report__baselined_group_left_out),
      F(test_report__suppression_wins_over_baseline),
      F(test_report__fingerprints_stable),
      F(test_report__fingerprint_without_stack),
      F(test_report__gen_suppressions),
#undef F
  };
  return cmocka_run_group_tests_name("report", tests, NULL, NULL);
}
