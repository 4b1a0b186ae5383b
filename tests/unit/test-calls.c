/* Whose call is it (lib/calls.c), and where a loop library's functions and
 * code are (lib/loopsyms.c). The C library stands in for a loop library:
 * its code is "the library's", the test's own functions are "the
 * program's". Real loop libraries are loaded only to test what depends on
 * their names. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "calls.h"
#include "libnames.h"
#include "loopsyms.h"

/* ------------------------------------------------------- the descriptors */

static int inits;

static void count_init(void) {
  inits++;
  errno = EMFILE; /* a set-up that clobbers errno */
}

static const char *const no_objects[] = {NULL};
static const char *const libc_objects[] = {"libc.so.6", NULL};
static const char *const libc_funcs[] = {"getpid", "strlen"};

/* A library whose names are its own, as libuv: the C library. */
#define LIBC(var, extra_flags)                                                \
  static struct al_loopsym var##_syms[2];                                     \
  static struct al_loopsyms var = {                                           \
      .name = "libc",                                                         \
      .id = AL_LIB_OTHER,                                                     \
      .objects = libc_objects,                                                \
      .funcs = libc_funcs,                                                    \
      .nfuncs = 2,                                                            \
      .flags = AL_SYMS_ANY_OBJECT | (extra_flags),                            \
      .missing = "the call fails",                                            \
      .init = count_init,                                                     \
      .syms = var##_syms,                                                     \
      .once = PTHREAD_ONCE_INIT,                                              \
  }

LIBC(libc, 0);
LIBC(libc_itself, AL_SYMS_CALLS_ITSELF);

/* The C library's code, and the program's. */
static const void *library_pc(struct al_loopsyms *lib) {
  const char *p = al_loopsyms_get(lib, 0, NULL);
  assert_non_null(p);
  return p + 1;
}

/* A function of the C library's own: through the loader, as a function's
 * address taken in the program may be a stub of the program's, and a
 * sanitizer's runtime defines some of the same names. */
static void *libc_fn(const char *name) {
  void *h = dlopen("libc.so.6", RTLD_LAZY | RTLD_NOLOAD), *p;

  assert_non_null(h);
  p = dlsym(h, name);
  dlclose(h);
  assert_non_null(p);
  return p;
}

static void program_function(void) {
}

#define PROGRAM_PC ((const void *)((const char *)&program_function + 1))

static int obj_a, obj_b;
#define A ((const void *)&obj_a)
#define B ((const void *)&obj_b)

int main(void);

/* ----------------------------------------------------------- the decision */

static void test_calls__program_at_depth_zero(void **state) {
  static AL_TLS struct al_calls t;

  (void)state;
  assert_true(al_call_outside(&t));
  assert_int_equal(al_call_enter(&t, &libc, PROGRAM_PC, A), 1);
  assert_false(al_call_outside(&t));
  al_call_leave(&t);
  assert_true(al_call_outside(&t));
  /* Judged by the count only. */
  assert_int_equal(al_call_enter(&t, &libc, NULL, NULL), 1);
  al_call_leave(&t);
  assert_int_equal(inits, 1);
}

static void test_calls__nested_from_library_is_its_own(void **state) {
  static AL_TLS struct al_calls t;
  const void *lib_pc = library_pc(&libc);

  (void)state;
  assert_int_equal(al_call_enter(&t, &libc, PROGRAM_PC, A), 1);
  /* About another object, from the library's code: its own. */
  assert_int_equal(al_call_enter(&t, &libc, lib_pc, B), 0);
  al_call_leave(&t);
  /* Judged by the count only: nested is the library's. */
  assert_int_equal(al_call_enter(&t, &libc, NULL, B), 0);
  al_call_leave(&t);
  al_call_leave(&t);
  assert_true(al_call_outside(&t));
}

/* A tail call leaves the program's return address: the object tells. */
static void test_calls__nested_same_object_is_its_own(void **state) {
  static AL_TLS struct al_calls t;

  (void)state;
  assert_int_equal(al_call_enter(&t, &libc, PROGRAM_PC, A), 1);
  assert_int_equal(al_call_enter(&t, &libc, PROGRAM_PC, A), 0);
  /* Deeper still, the outermost's object is the one compared. */
  assert_int_equal(al_call_enter(&t, &libc, PROGRAM_PC, A), 0);
  al_call_leave(&t);
  al_call_leave(&t);
  /* NULL against NULL is the same object too. */
  al_call_leave(&t);
  assert_int_equal(al_call_enter(&t, &libc, PROGRAM_PC, NULL), 1);
  assert_int_equal(al_call_enter(&t, &libc, PROGRAM_PC, NULL), 0);
  al_call_leave(&t);
  al_call_leave(&t);
}

/* A signal handler that interrupts the program's call makes its own, about
 * another object, from the program's code. */
static void test_calls__nested_other_object_from_program(void **state) {
  static AL_TLS struct al_calls t;

  (void)state;
  assert_int_equal(al_call_enter(&t, &libc, PROGRAM_PC, A), 1);
  assert_int_equal(al_call_enter(&t, &libc, PROGRAM_PC, B), 1);
  assert_int_equal(al_call_enter(&t, &libc, PROGRAM_PC, NULL), 1);
  al_call_leave(&t);
  al_call_leave(&t);
  al_call_leave(&t);
}

static void test_calls__callback_scope(void **state) {
  static AL_TLS struct al_calls t;
  struct al_call_scope scope;

  (void)state;
  assert_int_equal(al_call_enter(&t, &libc, PROGRAM_PC, A), 1);
  al_call_callback_begin(&t, &scope);
  assert_true(al_call_outside(&t));
  /* The program's callback: its calls are its own, about A too. */
  assert_int_equal(al_call_enter(&t, &libc, PROGRAM_PC, A), 1);
  assert_int_equal(al_call_enter(&t, &libc, PROGRAM_PC, A), 0);
  al_call_leave(&t);
  al_call_leave(&t);
  al_call_callback_end(&t, &scope);
  /* Back inside the interposer about A. */
  assert_false(al_call_outside(&t));
  assert_int_equal(al_call_enter(&t, &libc, PROGRAM_PC, A), 0);
  al_call_leave(&t);
  assert_int_equal(al_call_enter(&t, &libc, PROGRAM_PC, B), 1);
  al_call_leave(&t);
  al_call_leave(&t);
  assert_true(al_call_outside(&t));
}

/* The runtime's own calls into the library are never the program's. */
static void test_calls__runtime_own_calls(void **state) {
  static AL_TLS struct al_calls t;

  (void)state;
  al_call_own_begin(&t);
  assert_false(al_call_outside(&t));
  assert_int_equal(al_call_enter(&t, &libc, NULL, A), 0);
  al_call_leave(&t);
  al_call_own_end(&t);
  assert_true(al_call_outside(&t));
}

/* A library that calls itself outside the interposers: at depth 0 a call
 * from its code is its own; one from the program's is the program's. */
static void test_calls__calls_itself_at_depth_zero(void **state) {
  static AL_TLS struct al_calls t;
  const void *lib_pc = library_pc(&libc_itself);

  (void)state;
  assert_int_equal(al_call_enter(&t, &libc_itself, lib_pc, NULL), 0);
  al_call_leave(&t);
  assert_int_equal(al_call_enter(&t, &libc_itself, PROGRAM_PC, NULL), 1);
  al_call_leave(&t);
  /* Without the flag, the outermost call is the program's, wherever it
   * comes from. */
  assert_int_equal(al_call_enter(&t, &libc, lib_pc, NULL), 1);
  al_call_leave(&t);
}

/* errno is the program's: kept through the init, the loader's answers,
 * the decision. */
static void test_calls__errno_kept(void **state) {
  static const char *const funcs[] = {"getppid"};
  static struct al_loopsym syms[1];
  static struct al_loopsyms fresh = {
      .name = "libc",
      .id = AL_LIB_OTHER,
      .objects = libc_objects,
      .funcs = funcs,
      .nfuncs = 1,
      .flags = AL_SYMS_CALLS_ITSELF,
      .missing = "the call fails",
      .init = count_init,
      .syms = syms,
      .once = PTHREAD_ONCE_INIT,
  };
  static AL_TLS struct al_calls t;
  int before = inits;

  (void)state;
  errno = EDOM;
  /* Runs the init, which clobbers errno, and asks the loader about the
   * program's code, which nothing has cached yet. */
  assert_int_equal(al_call_enter(&t, &fresh, PROGRAM_PC, A), 1);
  assert_int_equal(errno, EDOM);
  assert_int_equal(inits, before + 1);
  assert_int_equal(al_call_enter(&t, &fresh, (const void *)8, B), 1);
  assert_int_equal(errno, EDOM);
  al_call_leave(&t);
  al_call_leave(&t);
  assert_int_equal(inits, before + 1);
}

/* --------------------------------------------------------- the functions */

static void test_loopsyms__finds_next_definition(void **state) {
  (void)state;
  assert_ptr_equal(al_loopsyms_get(&libc, 1, NULL), dlsym(RTLD_DEFAULT,
                                                         "strlen"));
  assert_true(al_loopsyms_own(&libc, 1));
}

/* Never the runtime's own definition: here, nothing else defines it. */
static void test_loopsyms__never_self_and_warns_once(void **state) {
  static const char *const funcs[] = {"getuid"};
  static struct al_loopsym syms[1];
  static struct al_loopsyms lib = {
      .name = "libc",
      .id = AL_LIB_OTHER,
      .objects = libc_objects,
      .funcs = funcs,
      .nfuncs = 1,
      .flags = AL_SYMS_ANY_OBJECT,
      .missing = "the call fails",
      .init = count_init,
      .syms = syms,
      .once = PTHREAD_ONCE_INIT,
  };
  void *self = dlsym(RTLD_DEFAULT, "getuid");

  (void)state;
  assert_null(al_loopsyms_get(&lib, 0, self));
  assert_int_equal(atomic_load(&syms[0].warned), 1);
  assert_null(atomic_load(&syms[0].real));
  assert_ptr_equal(al_loopsyms_get(&lib, 0, NULL), self);
}

/* A library loaded into a local scope is not "next": found in its own
 * object, by name; and its object is its own by its name. */
static void test_loopsyms__local_scope_and_names(void **state) {
  static const char *const objects[] = {"libuv.so.1", NULL};
  static const char *const funcs[] = {"uv_version", "uv_version_string"};
  static struct al_loopsym syms[2], syms2[2];
  static struct al_loopsyms uvlib = {
      .name = "libuv",
      .id = AL_LIB_LIBUV,
      .objects = objects,
      .funcs = funcs,
      .nfuncs = 2,
      .missing = "the call fails",
      .init = count_init,
      .syms = syms,
      .once = PTHREAD_ONCE_INIT,
  };
  /* The same, with neither its objects nor loading on demand: nothing. */
  static struct al_loopsyms hidden = {
      .name = "libuv",
      .id = AL_LIB_LIBUV,
      .objects = no_objects,
      .funcs = funcs,
      .nfuncs = 2,
      .missing = "the call fails",
      .init = count_init,
      .syms = syms2,
      .once = PTHREAD_ONCE_INIT,
  };
  void *h = dlopen("libuv.so.1", RTLD_NOW | RTLD_LOCAL);
  void *fn;

  (void)state;
  if (h == NULL)
    skip(); /* libuv1 is a build dependency: not reached in the suite */
  assert_null(dlsym(RTLD_DEFAULT, "uv_version"));
  assert_null(al_loopsyms_get(&hidden, 0, NULL));
  fn = al_loopsyms_get(&uvlib, 0, NULL);
  assert_ptr_equal(fn, dlsym(h, "uv_version"));
  assert_true(al_loopsyms_own(&uvlib, 0));
  assert_true(al_loopsyms_owns(&uvlib, (const char *)fn + 1));
  /* The C library's code is not libuv's, whatever it holds. */
  assert_false(al_loopsyms_owns(&uvlib, library_pc(&libc)));
  /* Loaded on demand, when allowed, with no object to search. */
  hidden.load = "libuv.so.1";
  assert_ptr_equal(al_loopsyms_get(&hidden, 1, NULL),
                   dlsym(h, "uv_version_string"));
  dlclose(h);
}

/* Functions of another library's object, found by name under no
 * AL_SYMS_ANY_OBJECT, are not the library's own (libev's event_set for
 * libevent). */
static void test_loopsyms__other_library_not_own(void **state) {
  static const char *const funcs[] = {"getpid"};
  static struct al_loopsym syms[1];
  static struct al_loopsyms lib = {
      .name = "libevent",
      .id = AL_LIB_LIBEVENT,
      .objects = no_objects,
      .funcs = funcs,
      .nfuncs = 1,
      .missing = "the call does nothing",
      .init = count_init,
      .syms = syms,
      .once = PTHREAD_ONCE_INIT,
  };
  void *fn;

  (void)state;
  fn = al_loopsyms_get(&lib, 0, NULL);
  assert_non_null(fn);
  assert_false(al_loopsyms_own(&lib, 0));
  assert_false(al_loopsyms_owns(&lib, (const char *)fn + 1));
  assert_int_equal(atomic_load(&lib.lo), 0);
}

/* Code ranges: each object is asked about once, then answered from the
 * cache, both ways; an address no object holds is not cached. */
static void test_loopsyms__code_ranges_cached(void **state) {
  static const char *const funcs[] = {"getpid"};
  static struct al_loopsym syms[1];
  static struct al_loopsyms lib = {
      .name = "libc",
      .id = AL_LIB_OTHER,
      .objects = libc_objects,
      .funcs = funcs,
      .nfuncs = 1,
      .flags = AL_SYMS_ANY_OBJECT,
      .missing = "the call fails",
      .init = count_init,
      .syms = syms,
      .once = PTHREAD_ONCE_INIT,
  };
  const char *in_libc = libc_fn("memcpy");

  (void)state;
  /* Not yet found: the C library is nothing to it by name. */
  assert_false(al_loopsyms_owns(&lib, in_libc));
  assert_int_equal(atomic_load(&lib.nranges), 1);
  assert_false(al_loopsyms_owns(&lib, PROGRAM_PC));
  assert_int_equal(atomic_load(&lib.nranges), 2);
  assert_false(al_loopsyms_owns(&lib, PROGRAM_PC));
  assert_false(al_loopsyms_owns(&lib, (const void *)&main));
  assert_int_equal(atomic_load(&lib.nranges), 2);
  assert_false(al_loopsyms_owns(&lib, (const void *)8));
  assert_int_equal(atomic_load(&lib.nranges), 2);
  /* Found: its object is the library's main one, looked at first. */
  assert_non_null(al_loopsyms_get(&lib, 0, NULL));
  assert_true(al_loopsyms_owns(&lib, in_libc));
  assert_true(al_loopsyms_owns(&lib, libc_fn("strlen")));
  assert_false(al_loopsyms_owns(&lib, PROGRAM_PC));
  assert_int_equal(atomic_load(&lib.nranges), 2);
  assert_false(al_loopsyms_unloaded(&lib));
}

/* Unloaded by dlclose: everything found is forgotten, and found again once
 * loaded anew. */
static void test_loopsyms__forgets_when_unloaded(void **state) {
  static const char *const objects[] = {"libevent_core-2.1.so.7", NULL};
  static const char *const funcs[] = {"event_get_version"};
  static struct al_loopsym syms[1];
  static struct al_loopsyms lib = {
      .name = "libevent",
      .id = AL_LIB_LIBEVENT,
      .objects = objects,
      .funcs = funcs,
      .nfuncs = 1,
      .missing = "the call does nothing",
      .init = count_init,
      .syms = syms,
      .once = PTHREAD_ONCE_INIT,
  };
  void *h = dlopen("libevent_core-2.1.so.7", RTLD_NOW | RTLD_LOCAL);
  void *fn;

  (void)state;
  if (h == NULL)
    skip();
  fn = al_loopsyms_get(&lib, 0, NULL);
  assert_ptr_equal(fn, dlsym(h, "event_get_version"));
  assert_true(al_loopsyms_own(&lib, 0));
  assert_true(al_loopsyms_owns(&lib, fn));
  assert_false(al_loopsyms_owns(&lib, PROGRAM_PC));
  assert_false(al_loopsyms_unloaded(&lib));
  dlclose(h);
  if (dlopen("libevent_core-2.1.so.7", RTLD_LAZY | RTLD_NOLOAD) != NULL)
    skip(); /* something keeps it loaded */
  assert_true(al_loopsyms_unloaded(&lib));
  assert_null(atomic_load(&syms[0].real));
  assert_false(al_loopsyms_own(&lib, 0));
  assert_int_equal(atomic_load(&lib.nranges), 0);
  assert_false(al_loopsyms_unloaded(&lib));
  assert_null(al_loopsyms_get(&lib, 0, NULL));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_calls__program_at_depth_zero),
      cmocka_unit_test(test_calls__nested_from_library_is_its_own),
      cmocka_unit_test(test_calls__nested_same_object_is_its_own),
      cmocka_unit_test(test_calls__nested_other_object_from_program),
      cmocka_unit_test(test_calls__callback_scope),
      cmocka_unit_test(test_calls__runtime_own_calls),
      cmocka_unit_test(test_calls__calls_itself_at_depth_zero),
      cmocka_unit_test(test_calls__errno_kept),
      cmocka_unit_test(test_loopsyms__finds_next_definition),
      cmocka_unit_test(test_loopsyms__never_self_and_warns_once),
      cmocka_unit_test(test_loopsyms__local_scope_and_names),
      cmocka_unit_test(test_loopsyms__other_library_not_own),
      cmocka_unit_test(test_loopsyms__code_ranges_cached),
      cmocka_unit_test(test_loopsyms__forgets_when_unloaded),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
