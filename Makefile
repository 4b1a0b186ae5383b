# asyncleak: one flat Makefile.
#
#   make                  build the runtime library and the asyncleak command
#   make check            install what the tests need, build, run every test
#   make check-full       check, the suite under ASan+UBSan, the fuzzers (CI)
#   make demo             install what it needs, run asyncleak on the bundled
#                         leaking example
#   make deps             install from Debian's archive, through sudo, what
#                         building and testing need (scripts/install-deps.sh)
#   make bench            time asyncleak against bare runs (docs/performance.md)
#   make install PREFIX=/usr/local DESTDIR=   (also BINDIR, LIBDIR,
#                         INCLUDEDIR, DATADIR, MANDIR, PKGCONFIGDIR)
#   make uninstall        remove what make install put, with the same variables
#   make SANITIZE=address,undefined check
#   make DEVELOPER=1      turn warnings into errors (CI does)
#
# Only deps, check, check-full and demo install packages; every other
# target checks the libraries it needs with pkg-config and names what is
# missing. CC, CFLAGS, CPPFLAGS and LDFLAGS are the user's, from the
# environment or the command line: the flags the build itself needs are
# kept apart (AL_CPPFLAGS, AL_CFLAGS), so that setting CFLAGS does not
# drop them.

VERSION  := 0.1.0
# The soname's number: raised when the runtime's interface changes
# incompatibly (lib/libasyncleak.map lists it).
SOVERSION := 0
PREFIX   ?= /usr/local
BINDIR   ?= $(PREFIX)/bin
LIBDIR   ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
DATADIR  ?= $(PREFIX)/share
MANDIR   ?= $(DATADIR)/man
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig
DESTDIR  ?=
O        ?= build

# GNU make's CC defaults to cc; set it on the command line or in the
# environment.
CFLAGS   ?= -O2 -g
PKG_CONFIG ?= pkg-config
WARN     := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
            -Wno-unused-parameter
ifneq ($(DEVELOPER),)
WARN     += -Werror
endif
ifneq ($(SANITIZE),)
SANFLAGS := -fsanitize=$(SANITIZE) -fno-omit-frame-pointer
# Programs the tests run that were not built with the sanitizer (lua, nvim,
# sh) load the runtime too, and a sanitizer's runtime must come first.
comma    := ,
SANLIBS  := $(subst $(comma), ,$(SANITIZE))
ifneq ($(filter address,$(SANLIBS)),)
SAN_ENV  := LD_PRELOAD=$(shell $(CC) -print-file-name=libasan.so) \
            ASAN_OPTIONS=detect_leaks=0:strict_memcmp=0
endif
# ThreadSanitizer's runtime cannot be preloaded into programs built without
# it (sh, lua, nvim). The scenario programs are built with it and load it
# themselves, and the runtime preloaded into them runs instrumented: such a
# build runs the scenarios whose programs use threads. Not uv-threads.c:
# libuv, built without ThreadSanitizer, closes descriptors with a system
# call it does not see, and a loop closed on one thread while another
# thread makes one looks like a race on the reused descriptor. Not
# uv-fork-locks.c either: a fork child of its threads may wait forever on a
# lock of ThreadSanitizer's own allocator, which its fork handling leaves
# as it was.
# Nor glib-task.c: GLib's GMutex waits on futexes in uninstrumented code,
# so ThreadSanitizer sees GIO's thread pool hand a GTask's memory to the
# main thread with no synchronisation, in GLib alone.
ifneq ($(filter thread,$(SANLIBS)),)
SCENARIOS := $(addprefix tests/progs/,uv-threads-many.c uv-cross-thread.c \
               uv-req-work.c uv-req-cb-field.c uv-finally-exit.c \
               uv-finally-waits.c uv-cmocka.c libev-threads.c \
               glib-context.c uv-wrong-thread.c libev-wrong-thread.c \
               ev-wrong-thread.c)
SAN_ENV  := TSAN_OPTIONS=exitcode=66
endif
endif
# What the build needs, whatever CFLAGS and CPPFLAGS say; the user's come
# after, so that they may override a default (-O, -g) but not remove these.
AL_CPPFLAGS = -Iinclude -DASYNCLEAK_VERSION='"$(VERSION)"'
AL_CFLAGS   = -std=gnu11 $(WARN) $(SANFLAGS) -MMD -MP
ALL_CFLAGS  = $(AL_CPPFLAGS) $(CPPFLAGS) $(AL_CFLAGS) $(CFLAGS)
ALL_LDFLAGS = $(CFLAGS) $(SANFLAGS) $(LDFLAGS)

# The libraries the build needs, as pkg-config modules (or a header, for
# libev, which has no pkg-config file) with the Debian package that has
# each, checked once per build directory. Nothing is installed here: see
# deps below.
BUILD_DEPS := libuv:libuv1-dev libevent:libevent-dev libunwind:libunwind-dev \
              libdw:libdw-dev libelf:libelf-dev ev.h:libev-dev \
              gio-2.0:libglib2.0-dev
TEST_DEPS  := cmocka:libcmocka-dev
BUILD_DEPS_OK := $(O)/.build-deps-ok
TEST_DEPS_OK  := $(O)/.test-deps-ok
$(BUILD_DEPS_OK): scripts/check-deps.sh
	@PKG_CONFIG='$(PKG_CONFIG)' CC='$(CC)' CPPFLAGS='$(CPPFLAGS)' \
	  scripts/check-deps.sh "the build" $(BUILD_DEPS)
	@mkdir -p $(@D) && touch $@
$(TEST_DEPS_OK): scripts/check-deps.sh | $(BUILD_DEPS_OK)
	@PKG_CONFIG='$(PKG_CONFIG)' scripts/check-deps.sh "the tests" $(TEST_DEPS)
	@mkdir -p $(@D) && touch $@

# Installing what building and testing need is a step of its own, which
# the README's commands (make demo, make check) take first: asked for, it
# comes before any check or build of this run.
deps:
	@./scripts/install-deps.sh $(O)
INSTALLING_GOALS := deps check check-full demo
ifneq ($(filter $(INSTALLING_GOALS),$(MAKECMDGOALS)),)
$(BUILD_DEPS_OK) $(TEST_DEPS_OK): | deps
endif

# ---------------------------------------------------------------- runtime
LIB_SRC  := $(wildcard lib/*.c)
SHIM_SRC := $(wildcard shim/*.c)
RT_OBJ   := $(patsubst %.c,$(O)/pic/%.o,$(LIB_SRC) $(SHIM_SRC))
CORE_OBJ := $(patsubst %.c,$(O)/pic/%.o,$(LIB_SRC))
RT_LIBS  := -lunwind -ldw -lelf -ldl -lpthread
# The usual layout of a versioned library: the file, the soname's link to
# it that programs load (and the command preloads), and the link that
# -lasyncleak finds when a harness is built.
RT_REAL  := libasyncleak.so.$(VERSION)
RT_SONAME := libasyncleak.so.$(SOVERSION)
RT_DEV   := libasyncleak.so
RUNTIME  := $(O)/lib/$(RT_DEV)
RT_MAP   := lib/libasyncleak.map

# Frame pointers: a capture follows the runtime's own frames up to the
# program's call site (lib/capture.c).
$(O)/pic/%.o: %.c | $(BUILD_DEPS_OK)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -Ilib -fPIC -fvisibility=hidden -fno-omit-frame-pointer \
	  -c $< -o $@

# GLib's shim is built against its headers; like every shim, it finds the
# library's functions when the program has loaded it, and links none.
GLIB_CFLAGS = $(shell $(PKG_CONFIG) --cflags gio-2.0 2>/dev/null)
$(patsubst %.c,$(O)/pic/%.o,$(wildcard shim/glib*.c)): \
    AL_CPPFLAGS += $(GLIB_CFLAGS)

# The dl_iterate_phdr interposer (lib/phdr.c) is called by the sanitizers'
# runtimes as they start, before they can follow instrumented code: it is
# built without them. It guards no data, so ThreadSanitizer misses
# nothing there.
$(O)/pic/lib/phdr.o: SANFLAGS :=

# The version script exports exactly the symbols it lists, whatever
# visibility an object gives: the API and the interposers. It has no
# version node, so the symbols carry no version: an interposer of a
# versioned C library function (fork@GLIBC_2.2.5) must bind as the
# unversioned definition the loader finds first.
$(O)/lib/$(RT_REAL): $(RT_OBJ) $(RT_MAP)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -shared -Wl,-soname,$(RT_SONAME) \
	  -Wl,--version-script=$(RT_MAP) -Wl,--no-undefined \
	  -Wl,-Bsymbolic-functions -Wl,-z,nodelete -o $@ $(RT_OBJ) $(RT_LIBS)
$(O)/lib/$(RT_SONAME): $(O)/lib/$(RT_REAL)
	ln -sf $(RT_REAL) $@
$(RUNTIME): $(O)/lib/$(RT_SONAME)
	ln -sf $(RT_SONAME) $@

# pkg-config's files: asyncleak.pc for an install, written by make install
# with its directories; asyncleak-uninstalled.pc for this build tree, which
# pkg-config prefers when PKG_CONFIG_PATH names $(O): the tests build
# against it. Neither forces an rpath on the programs that use it.
pc_dir = $(patsubst $(PREFIX)/%,$${prefix}/%,$(1))
PC_SUBST = -e 's|@PREFIX@|$(PREFIX)|' -e 's|@VERSION@|$(VERSION)|' \
           -e 's|@LIBDIR@|$(call pc_dir,$(LIBDIR))|' \
           -e 's|@INCLUDEDIR@|$(call pc_dir,$(INCLUDEDIR))|' \
           -e 's|@VALGRIND_SUPP@|$(call pc_dir,$(DATADIR))/asyncleak/valgrind.supp|'
UNINSTALLED_PC := $(O)/asyncleak-uninstalled.pc
$(UNINSTALLED_PC): asyncleak.pc.in
	@mkdir -p $(@D)
	top=$$(pwd) && o=$$(cd $(O) && pwd) && sed -e "s|@PREFIX@|$$o|" \
	  -e 's|@VERSION@|$(VERSION)|' -e "s|@LIBDIR@|$$o/lib|" \
	  -e "s|@INCLUDEDIR@|$$top/include|" \
	  -e "s|@VALGRIND_SUPP@|$$top/valgrind.supp|" $< > $@

# ---------------------------------------------------------------- command
# The command shares a few files with the runtime, so that both follow one
# rule: the syntax of the options and files users write, the names of the
# loop libraries, and the signals the runtime catches.
CLI_SHARED := lib/syntax.c lib/libnames.c lib/signals.c
CLI_SRC  := $(wildcard cli/*.c) $(CLI_SHARED)
CLI_OBJ  := $(patsubst %.c,$(O)/obj/%.o,$(CLI_SRC))
CLI      := $(O)/bin/asyncleak

$(O)/obj/%.o: %.c | $(BUILD_DEPS_OK)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

# The command finds the runtime from its own directory: in ../lib, as in
# the build tree, or in LIBDIR seen from BINDIR once installed
# (cli/runtime.c). The header changes only when they do.
RT_FROM_BINDIR := $(shell realpath -m -s --relative-to='$(BINDIR)' '$(LIBDIR)')
RT_PATH_H := $(O)/gen/runtime-path.h
$(RT_PATH_H): FORCE
	@mkdir -p $(@D)
	@printf '%s\n' '#define ASYNCLEAK_RUNTIME_SONAME "$(RT_SONAME)"' \
	  '#define ASYNCLEAK_LIBDIR_FROM_BINDIR "$(RT_FROM_BINDIR)"' > $@.tmp
	@if cmp -s $@.tmp $@; then rm $@.tmp; else mv $@.tmp $@; fi
$(O)/obj/cli/runtime.o: $(RT_PATH_H)
$(O)/obj/cli/runtime.o: AL_CPPFLAGS += -I$(O)/gen
FORCE:

# libdw unwinds the stack of a thread stuck in a callback (cli/threadstack.c).
CLI_LIBS := -ldw -lelf -ldl

$(CLI): $(CLI_OBJ)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $(CLI_OBJ) $(CLI_LIBS)

all: $(RUNTIME) $(CLI) $(UNINSTALLED_PC)
.DEFAULT_GOAL := all

# ---------------------------------------------------------------- tests
# Unit tests link the loop-neutral core only, never the interposers.
UNIT_SRC  := $(wildcard tests/unit/test-*.c)
UNIT_BIN  := $(patsubst tests/unit/%.c,$(O)/tests/%,$(UNIT_SRC))

# -O0 leaves nothing to fortify: glibc warns when CPPFLAGS ask for it.
$(O)/tests/test-%: tests/unit/test-%.c $(CORE_OBJ) | $(TEST_DEPS_OK)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -O0 -U_FORTIFY_SOURCE -Ilib $(LDFLAGS) -o $@ $< \
	  $(CORE_OBJ) -lcmocka $(RT_LIBS)

# Scenario programs are built with -O0 so that their frames and lines are
# exactly the ones their expectations name.
PROG_SRC  := $(wildcard tests/progs/uv-*.c)
PROG_BIN  := $(patsubst tests/progs/%.c,$(O)/progs/%,$(PROG_SRC))
PROG_CFLAGS = -std=gnu11 $(WARN) -O0 -g $(SANFLAGS) -MMD -MP -Iinclude
# Programs that call asyncleak's API link the runtime, before libuv.
LINK_RT   = -L$(O)/lib -Wl,-rpath,'$$ORIGIN/../lib' -lasyncleak

$(O)/progs/%: tests/progs/%.c | $(TEST_DEPS_OK)
	@mkdir -p $(@D)
	$(CC) $(PROG_CFLAGS) -o $@ $< -luv -lpthread -ldl
CMOCKA_PROGS := $(O)/progs/uv-cmocka $(O)/progs/uv-cmocka-isolated \
                $(O)/progs/uv-cmocka-vtime
API_PROGS := $(filter-out $(CMOCKA_PROGS),\
               $(patsubst tests/progs/%.c,$(O)/progs/%,\
               $(shell grep -l '^\#include "asyncleak' $(PROG_SRC))))
$(API_PROGS): $(O)/progs/%: tests/progs/%.c $(RUNTIME) | $(TEST_DEPS_OK)
	@mkdir -p $(@D)
	$(CC) $(PROG_CFLAGS) -o $@ $< $(LINK_RT) -luv

# cmocka harnesses with asyncleak's fixtures.
$(CMOCKA_PROGS): $(O)/progs/%: tests/progs/%.c $(RUNTIME) | $(TEST_DEPS_OK)
	@mkdir -p $(@D)
	$(CC) $(PROG_CFLAGS) -o $@ $< $(LINK_RT) -luv -lcmocka
# The link orders of tests/cli/cmocka-link-order.sh: libasyncleak after
# the loop library, so that the program's calls bypass it; a suite that
# calls no loop library, linked so too; a check outside cmocka, linked
# both ways.
$(O)/progs/uv-cmocka-misordered: tests/progs/uv-cmocka-isolated.c \
    $(RUNTIME) | $(TEST_DEPS_OK)
	@mkdir -p $(@D)
	$(CC) $(PROG_CFLAGS) -o $@ $< -luv -lcmocka $(LINK_RT)
$(O)/progs/ev-cmocka-misordered: tests/progs/ev-cmocka-isolated.c \
    $(RUNTIME) | $(TEST_DEPS_OK)
	@mkdir -p $(@D)
	$(CC) $(PROG_CFLAGS) -o $@ $< -levent -lcmocka $(LINK_RT)
$(O)/progs/cmocka-noloop: tests/progs/plugin/cmocka-noloop.c $(RUNTIME) \
    | $(TEST_DEPS_OK)
	@mkdir -p $(@D)
	$(CC) $(PROG_CFLAGS) -Wl,--no-as-needed -o $@ $< -luv -levent -lcmocka \
	  $(LINK_RT)
$(O)/progs/check-order: tests/progs/plugin/check-order.c $(RUNTIME) \
    | $(TEST_DEPS_OK)
	@mkdir -p $(@D)
	$(CC) $(PROG_CFLAGS) -o $@ $< $(LINK_RT) -luv
$(O)/progs/check-misordered: tests/progs/plugin/check-order.c $(RUNTIME) \
    | $(TEST_DEPS_OK)
	@mkdir -p $(@D)
	$(CC) $(PROG_CFLAGS) -o $@ $< -luv $(LINK_RT)
LINK_ORDER_PROGS := $(addprefix $(O)/progs/,uv-cmocka-misordered \
                      ev-cmocka-misordered cmocka-noloop check-order \
                      check-misordered)

# The plugin scenario: the program does not link libuv, its plugin does.
$(O)/progs/uv-plugin: tests/progs/uv-plugin.c | $(TEST_DEPS_OK)
	@mkdir -p $(@D)
	$(CC) $(PROG_CFLAGS) -o $@ $< -ldl
$(O)/progs/plugin-timer.so: tests/progs/plugin/plugin-timer.c | $(TEST_DEPS_OK)
	@mkdir -p $(@D)
	$(CC) $(PROG_CFLAGS) -fPIC -shared -o $@ $< -luv
# A library with its own loop and exit-time cleanup, linked normally.
$(O)/progs/libsvc.so: tests/progs/plugin/libsvc.c | $(TEST_DEPS_OK)
	@mkdir -p $(@D)
	$(CC) $(PROG_CFLAGS) -fPIC -shared -o $@ $< -luv
$(O)/progs/uv-lib-cleanup: tests/progs/uv-lib-cleanup.c $(O)/progs/libsvc.so
	$(CC) $(PROG_CFLAGS) -o $@ $< -L$(O)/progs -lsvc -Wl,-rpath,'$$ORIGIN'
# A library whose exit handler runs after the report.
$(O)/progs/libafter.so: tests/progs/plugin/libafter.c | $(TEST_DEPS_OK)
	@mkdir -p $(@D)
	$(CC) $(PROG_CFLAGS) -fPIC -shared -o $@ $< -luv
$(O)/progs/uv-after-report: tests/progs/uv-after-report.c \
    $(O)/progs/libafter.so
	$(CC) $(PROG_CFLAGS) -o $@ $< -L$(O)/progs -lafter -luv \
	  -Wl,-rpath,'$$ORIGIN'
# A client library that registers a finalizer; the program using it links
# nothing of asyncleak's itself.
$(O)/progs/libclient.so: tests/progs/plugin/libclient.c $(RUNTIME)
	$(CC) $(PROG_CFLAGS) -fPIC -shared -o $@ $< $(LINK_RT) -luv
$(O)/progs/uv-finally-goodbye: tests/progs/uv-finally-goodbye.c \
    $(O)/progs/libclient.so
	$(CC) $(PROG_CFLAGS) -o $@ $< -L$(O)/progs -lclient -luv \
	  -Wl,-rpath,'$$ORIGIN'
$(O)/progs/uv-finally-client-exit: tests/progs/uv-finally-client-exit.c \
    $(O)/progs/libclient.so
	$(CC) $(PROG_CFLAGS) -o $@ $< -L$(O)/progs -lclient -luv \
	  -Wl,-rpath,'$$ORIGIN'
# Its malloc must be the one every library binds to.
$(O)/progs/uv-own-malloc: tests/progs/uv-own-malloc.c | $(TEST_DEPS_OK)
	@mkdir -p $(@D)
	$(CC) $(PROG_CFLAGS) -rdynamic -o $@ $< -luv -lpthread
# Creation sites: a helper inlined at -O2, a program stripped of its
# symbols, and a C++ method (tests/cli/sites.sh).
$(O)/progs/uv-inline-helper: tests/progs/uv-inline-helper.c | $(TEST_DEPS_OK)
	@mkdir -p $(@D)
	$(CC) $(PROG_CFLAGS) -O2 -o $@ $< -luv
$(O)/progs/uv-stripped: tests/progs/uv-stripped.c | $(TEST_DEPS_OK)
	@mkdir -p $(@D)
	$(CC) $(PROG_CFLAGS) -o $@ $< -luv
	strip $@
$(O)/progs/sites-method: tests/progs/sites/method.cc | $(TEST_DEPS_OK)
	@mkdir -p $(@D)
	$(CXX) -std=c++17 -Wall -Wextra -Werror -O0 -g $(SANFLAGS) -MMD -MP \
	  -o $@ $< -luv
# The runtime's objects linked into the program itself, for a set-user-ID
# copy (tests/cli/setuid.sh).
$(O)/progs/secure-options: tests/progs/plugin/secure-options.c $(RT_OBJ)
	@mkdir -p $(@D)
	$(CC) $(PROG_CFLAGS) -o $@ $^ -luv $(RT_LIBS)
$(O)/progs/static-hello: tests/progs/plugin/static-hello.c | $(TEST_DEPS_OK)
	@mkdir -p $(@D)
	$(CC) -O0 -static -o $@ $<
# A program built with AddressSanitizer whatever SANITIZE says
# (tests/cli/asan-program.sh).
$(O)/progs/asan-timer: tests/progs/plugin/asan-timer.c | $(TEST_DEPS_OK)
	@mkdir -p $(@D)
	$(CC) -std=gnu11 $(WARN) -O0 -g -fsanitize=address -fno-omit-frame-pointer \
	  -o $@ $< -luv
$(O)/progs/listen-check: tests/progs/plugin/listen-check.c | $(TEST_DEPS_OK)
	@mkdir -p $(@D)
	$(CC) $(PROG_CFLAGS) -o $@ $<
# A leak, then a chroot or a tight RLIMIT_AS (tests/cli/chroot.sh).
$(O)/progs/chroot-timer: tests/progs/plugin/chroot-timer.c | $(TEST_DEPS_OK)
	@mkdir -p $(@D)
	$(CC) $(PROG_CFLAGS) -o $@ $< -luv
# A server that forks libuv workers after changing user
# (tests/cli/fork-lost.sh).
$(O)/progs/fork-setuid: tests/progs/plugin/fork-setuid.c | $(TEST_DEPS_OK)
	@mkdir -p $(@D)
	$(CC) $(PROG_CFLAGS) -o $@ $< -luv
# Descriptor numbers the program counts on (tests/cli/fd-numbers.sh).
$(O)/progs/fd-numbers: tests/progs/plugin/fd-numbers.c | $(TEST_DEPS_OK)
	@mkdir -p $(@D)
	$(CC) $(PROG_CFLAGS) -o $@ $<
# The program's own suppressions under the preloaded runtime alone
# (tests/cli/default-suppressions.sh): defined in the executable, without
# and with -rdynamic, and in a library it links.
$(O)/progs/supp-hook: tests/progs/plugin/supp-hook.c | $(TEST_DEPS_OK)
	@mkdir -p $(@D)
	$(CC) $(PROG_CFLAGS) -DDEFINE_HOOK -o $@ $< -levent
$(O)/progs/supp-hook-rdynamic: tests/progs/plugin/supp-hook.c | $(TEST_DEPS_OK)
	@mkdir -p $(@D)
	$(CC) $(PROG_CFLAGS) -DDEFINE_HOOK -rdynamic -o $@ $< -levent
$(O)/progs/libknownleaks.so: tests/progs/plugin/libknownleaks.c | $(TEST_DEPS_OK)
	@mkdir -p $(@D)
	$(CC) $(PROG_CFLAGS) -fPIC -shared -Wl,-soname,libknownleaks.so \
	  -o $@ $<
$(O)/progs/supp-hook-lib: tests/progs/plugin/supp-hook.c \
    $(O)/progs/libknownleaks.so
	$(CC) $(PROG_CFLAGS) -o $@ $< -L$(O)/progs -lknownleaks -levent \
	  -Wl,-rpath,'$$ORIGIN'
# Programs with their own copy of a loop library, linked from Debian's
# static archives (tests/cli/copies.sh): one exporting libuv's or libev's
# functions as NodeSource's node and rxvt-unicode do, one not, one
# stripped; and, for contrast, the libev program linked with libev.so.4.
COPY_PROGS := $(addprefix $(O)/progs/,copy-uv copy-uv-exported \
                copy-uv-stripped copy-event copy-mixed copy-libev \
                copy-libev-exported copy-libev-stripped copy-libev-shared)
COPY_UV    := -l:libuv_a.a -lpthread -ldl
$(O)/progs/copy-uv: tests/progs/copy/copy-uv.c | $(TEST_DEPS_OK)
	@mkdir -p $(@D)
	$(CC) $(PROG_CFLAGS) -o $@ $< $(COPY_UV)
$(O)/progs/copy-uv-exported: tests/progs/copy/copy-uv.c | $(TEST_DEPS_OK)
	@mkdir -p $(@D)
	$(CC) $(PROG_CFLAGS) -rdynamic -o $@ $< $(COPY_UV)
$(O)/progs/copy-uv-stripped: tests/progs/copy/copy-uv.c | $(TEST_DEPS_OK)
	@mkdir -p $(@D)
	$(CC) $(PROG_CFLAGS) -s -o $@ $< $(COPY_UV)
$(O)/progs/copy-event: tests/progs/copy/copy-event.c | $(TEST_DEPS_OK)
	@mkdir -p $(@D)
	$(CC) $(PROG_CFLAGS) -o $@ $< -l:libevent_core.a -lpthread
$(O)/progs/copy-mixed: tests/progs/copy/copy-mixed.c \
    $(O)/progs/plugin-timer.so
	$(CC) $(PROG_CFLAGS) -o $@ $< $(COPY_UV)
# All of libev.a, as a program embedding ev.c has all of it.
COPY_LIBEV := -Wl,--whole-archive -l:libev.a -Wl,--no-whole-archive -lm
$(O)/progs/copy-libev: tests/progs/copy/copy-libev.c | $(TEST_DEPS_OK)
	@mkdir -p $(@D)
	$(CC) $(PROG_CFLAGS) -o $@ $< $(COPY_LIBEV)
$(O)/progs/copy-libev-exported: tests/progs/copy/copy-libev.c | $(TEST_DEPS_OK)
	@mkdir -p $(@D)
	$(CC) $(PROG_CFLAGS) -rdynamic -o $@ $< $(COPY_LIBEV)
$(O)/progs/copy-libev-stripped: tests/progs/copy/copy-libev.c | $(TEST_DEPS_OK)
	@mkdir -p $(@D)
	$(CC) $(PROG_CFLAGS) -s -o $@ $< $(COPY_LIBEV)
$(O)/progs/copy-libev-shared: tests/progs/copy/copy-libev.c | $(TEST_DEPS_OK)
	@mkdir -p $(@D)
	$(CC) $(PROG_CFLAGS) -o $@ $< -lev

# libevent scenarios.
EV_PROG_SRC := $(wildcard tests/progs/ev-*.c)
EV_PROG_BIN := $(patsubst tests/progs/%.c,$(O)/progs/%,$(EV_PROG_SRC))
EV_CMOCKA_PROGS := $(O)/progs/ev-cmocka-isolated
EV_API_PROGS := $(filter-out $(EV_CMOCKA_PROGS),\
                  $(patsubst tests/progs/%.c,$(O)/progs/%,\
                  $(shell grep -l '^\#include "asyncleak' $(EV_PROG_SRC))))
EV_OWN_LIB := $(O)/progs/ev-own-library
EV_PTHREADS := $(O)/progs/ev-wrong-thread
$(filter-out $(EV_API_PROGS) $(EV_CMOCKA_PROGS) $(EV_OWN_LIB) $(EV_PTHREADS),\
    $(EV_PROG_BIN)): $(O)/progs/%: \
    tests/progs/%.c | $(TEST_DEPS_OK)
	@mkdir -p $(@D)
	$(CC) $(PROG_CFLAGS) -o $@ $< -levent -lpthread
# With libevent's threading (evthread_use_pthreads).
$(EV_PTHREADS): $(O)/progs/%: tests/progs/%.c | $(TEST_DEPS_OK)
	@mkdir -p $(@D)
	$(CC) $(PROG_CFLAGS) -o $@ $< -levent -levent_pthreads -lpthread
$(EV_API_PROGS): $(O)/progs/%: tests/progs/%.c $(RUNTIME) | $(TEST_DEPS_OK)
	@mkdir -p $(@D)
	$(CC) $(PROG_CFLAGS) -o $@ $< $(LINK_RT) -levent -lpthread
$(EV_CMOCKA_PROGS): $(O)/progs/%: tests/progs/%.c $(RUNTIME) | $(TEST_DEPS_OK)
	@mkdir -p $(@D)
	$(CC) $(PROG_CFLAGS) -o $@ $< $(LINK_RT) -levent -lcmocka
# The program's own library, named as libevent's own are.
$(O)/progs/libevent_bus.so: tests/progs/plugin/libevent_bus.c | $(TEST_DEPS_OK)
	@mkdir -p $(@D)
	$(CC) $(PROG_CFLAGS) -fPIC -shared -Wl,-soname,libevent_bus.so \
	  -o $@ $< -levent
$(EV_OWN_LIB): tests/progs/ev-own-library.c $(O)/progs/libevent_bus.so
	$(CC) $(PROG_CFLAGS) -o $@ $< -L$(O)/progs -levent_bus -levent \
	  -Wl,-rpath,'$$ORIGIN'

# libev scenarios (the ev-*.c ones are libevent's).
LIBEV_PROG_SRC := $(wildcard tests/progs/libev-*.c)
LIBEV_PROG_BIN := $(patsubst tests/progs/%.c,$(O)/progs/%,$(LIBEV_PROG_SRC))
LIBEV_LOCAL := $(O)/progs/libev-local
LIBEV_CMOCKA_PROGS := $(O)/progs/libev-cmocka-isolated
LIBEV_API_PROGS := $(filter-out $(LIBEV_CMOCKA_PROGS),\
                     $(patsubst tests/progs/%.c,$(O)/progs/%,\
                     $(shell grep -l '^\#include "asyncleak' $(LIBEV_PROG_SRC))))
$(filter-out $(LIBEV_LOCAL) $(LIBEV_API_PROGS) $(LIBEV_CMOCKA_PROGS),\
    $(LIBEV_PROG_BIN)): \
    $(O)/progs/%: tests/progs/%.c | $(TEST_DEPS_OK)
	@mkdir -p $(@D)
	$(CC) $(PROG_CFLAGS) -o $@ $< -lev -lpthread
$(LIBEV_API_PROGS): $(O)/progs/%: tests/progs/%.c $(RUNTIME) | $(TEST_DEPS_OK)
	@mkdir -p $(@D)
	$(CC) $(PROG_CFLAGS) -o $@ $< $(LINK_RT) -lev -lpthread
$(LIBEV_CMOCKA_PROGS): $(O)/progs/%: tests/progs/%.c $(RUNTIME) | $(TEST_DEPS_OK)
	@mkdir -p $(@D)
	$(CC) $(PROG_CFLAGS) -o $@ $< $(LINK_RT) -lev -lcmocka
# libev in a local scope: the program links none of it, its plugin does.
$(O)/progs/libev-plugin.so: tests/progs/plugin/libev-plugin.c | $(TEST_DEPS_OK)
	@mkdir -p $(@D)
	$(CC) $(PROG_CFLAGS) -fPIC -shared -o $@ $< -lev
$(LIBEV_LOCAL): tests/progs/libev-local.c $(O)/progs/libev-plugin.so
	$(CC) $(PROG_CFLAGS) -o $@ $< -ldl

# GLib scenarios, on GLib and GIO. Those that call the API link the
# runtime, and cmocka's link it too.
GLIB_PROG_SRC := $(wildcard tests/progs/glib-*.c)
GLIB_PROG_BIN := $(patsubst tests/progs/%.c,$(O)/progs/%,$(GLIB_PROG_SRC))
GLIB_PROG_FLAGS = $(shell $(PKG_CONFIG) --cflags gio-2.0 2>/dev/null)
GLIB_PROG_LIBS = $(shell $(PKG_CONFIG) --libs gio-2.0 2>/dev/null) -lpthread
GLIB_API_PROGS := $(patsubst tests/progs/%.c,$(O)/progs/%,\
                    $(shell grep -l '^\#include "asyncleak' $(GLIB_PROG_SRC)))
$(filter-out $(GLIB_API_PROGS),$(GLIB_PROG_BIN)): \
    $(O)/progs/%: tests/progs/%.c | $(TEST_DEPS_OK)
	@mkdir -p $(@D)
	$(CC) $(PROG_CFLAGS) $(GLIB_PROG_FLAGS) -o $@ $< $(GLIB_PROG_LIBS)
$(GLIB_API_PROGS): $(O)/progs/%: tests/progs/%.c $(RUNTIME) | $(TEST_DEPS_OK)
	@mkdir -p $(@D)
	$(CC) $(PROG_CFLAGS) $(GLIB_PROG_FLAGS) -o $@ $< $(LINK_RT) \
	  $(GLIB_PROG_LIBS) $(if $(findstring cmocka,$*),-lcmocka)

TEST_PROGS := $(PROG_BIN) $(EV_PROG_BIN) $(LIBEV_PROG_BIN) $(GLIB_PROG_BIN) \
              $(O)/progs/plugin-timer.so \
              $(O)/progs/libsvc.so \
              $(O)/progs/libafter.so $(O)/progs/secure-options \
              $(O)/progs/libclient.so \
              $(O)/progs/static-hello $(O)/progs/sites-method \
               $(O)/progs/listen-check $(O)/progs/asan-timer \
               $(O)/progs/chroot-timer $(O)/progs/fd-numbers \
               $(O)/progs/fork-setuid \
               $(O)/progs/supp-hook $(O)/progs/supp-hook-rdynamic \
               $(O)/progs/libknownleaks.so $(O)/progs/supp-hook-lib \
               $(COPY_PROGS) $(LINK_ORDER_PROGS)

# A ThreadSanitizer build sets its own (above).
ifeq ($(filter thread,$(SANLIBS)),)
SCENARIOS := tests/progs/uv-*.c tests/progs/ev-*.c tests/progs/libev-*.c \
             tests/progs/glib-*.c \
             tests/real/*.lua \
             tests/real/*.sh \
             tests/cli/*.sh tests/install.sh tests/build-*.sh
endif

check: deps all $(UNIT_BIN) $(TEST_PROGS)
	@SANITIZE=$(SANITIZE) tests/run-unit.sh $(O) $(UNIT_BIN)
	@$(SAN_ENV) SANITIZE=$(SANITIZE) tests/run-scenarios.sh $(O) $(SCENARIOS)

# What CI runs: check, then the whole suite again under AddressSanitizer
# and UndefinedBehaviorSanitizer in its own build directory, the threaded
# scenarios under ThreadSanitizer in another, then the fuzzers for
# FUZZ_TIME seconds each.
check-full: check
	@$(MAKE) --no-print-directory O=$(O)-san SANITIZE=address,undefined check
	@$(MAKE) --no-print-directory O=$(O)-tsan SANITIZE=thread check
	@$(MAKE) --no-print-directory check-fuzz

# ---------------------------------------------------------------- demo
DEMO := $(O)/examples/leaky-server

$(DEMO): examples/leaky-server.c | $(BUILD_DEPS_OK)
	@mkdir -p $(@D)
	$(CC) -std=gnu11 $(WARN) -O0 -g -o $@ $< -luv

demo: deps all $(DEMO)
	@echo '$$ asyncleak $(DEMO)'
	@$(CLI) $(DEMO); status=$$?; \
	  echo "(asyncleak exited with status $$status)"; \
	  [ $$status -eq 23 ]

# ---------------------------------------------------------------- bench
# Not part of check: timings on a shared machine are for reading, never for
# asserting. Built with -O2 whatever CFLAGS say, like the runtime by default.
BENCH_SRC := $(wildcard bench/*.c)
BENCH_BIN := $(patsubst bench/%.c,$(O)/bench/%,$(BENCH_SRC))

$(O)/bench/%: bench/%.c | $(BUILD_DEPS_OK)
	@mkdir -p $(@D)
	$(CC) -std=gnu11 $(WARN) -O2 -g -o $@ $< -luv
# The libevent one, linked to the shared libevent the runtime interposes.
$(O)/bench/event-once: bench/event-once.c | $(BUILD_DEPS_OK)
	@mkdir -p $(@D)
	$(CC) -std=gnu11 $(WARN) -O2 -g -o $@ $< -levent_core

bench: all $(BENCH_BIN)
	@bench/run.sh $(O)

# ---------------------------------------------------------------- fuzz
# libFuzzer targets for the parsers of the text users hand asyncleak
# (docs/fuzzing.md): `make fuzz` builds them, `make check-fuzz` runs each
# for FUZZ_TIME seconds from the seeds in tests/fuzz/corpus/, which are
# only read: what the fuzzer finds goes under $(O)/fuzz/run/. They need
# clang and its libFuzzer runtime (Debian: clang, libclang-rt-14-dev), and
# are built apart from everything else, with their own flags.
FUZZ_CC      ?= clang
FUZZ_TIME    ?= 20
FUZZ_SAN     := -fsanitize=address,undefined -fno-sanitize-recover=all
FUZZ_CFLAGS   = -std=gnu11 $(WARN) -O1 -g -fno-omit-frame-pointer $(FUZZ_SAN) \
                -fsanitize=fuzzer-no-link -MMD -MP -Iinclude -Ilib -Icli \
                -DASYNCLEAK_VERSION='"$(VERSION)"'
FUZZ_TARGETS := options suppressions
FUZZ_BIN     := $(patsubst %,$(O)/fuzz/fuzz-%,$(FUZZ_TARGETS))
FUZZ_DICT    := $(patsubst %,$(O)/fuzz/%.dict,$(FUZZ_TARGETS))
FUZZ_CHECKS  := $(patsubst %,check-fuzz-%,$(FUZZ_TARGETS))
FUZZ_RUN     := $(O)/fuzz/run
FUZZ_RT_OK   := $(O)/fuzz/.runtime-ok
fuzz_obj      = $(patsubst %.c,$(O)/fuzz/obj/%.o,$(1))

# Said plainly, rather than as a link error.
$(FUZZ_RT_OK):
	@rt=$$($(FUZZ_CC) -print-file-name=libclang_rt.fuzzer-$$(uname -m).a \
	  2>/dev/null); [ -f "$$rt" ] || { echo "fuzz: $(FUZZ_CC) has no" \
	  "libFuzzer runtime (Debian: clang, libclang-rt-14-dev)" >&2; exit 1; }
	@mkdir -p $(@D) && touch $@

$(O)/fuzz/obj/%.o: %.c | $(FUZZ_RT_OK)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -c $< -o $@

# Each target links the real code that reads its input, and no more: the
# runtime's parts with constructors or interposers stay out.
$(O)/fuzz/fuzz-options: $(call fuzz_obj,lib/options.c lib/syntax.c \
  lib/util.c cli/options.c cli/msg.c cli/userfiles.c tests/fuzz/stubs.c)
$(O)/fuzz/fuzz-suppressions: $(call fuzz_obj,lib/suppress.c lib/syntax.c \
  lib/util.c tests/fuzz/stubs.c)
$(FUZZ_BIN): $(O)/fuzz/fuzz-%: $(O)/fuzz/obj/tests/fuzz/fuzz-%.o
	$(FUZZ_CC) -g $(FUZZ_SAN) -fsanitize=fuzzer -o $@ $^

# The keys come from the option table, so that the dictionary keeps up.
$(O)/fuzz/options.dict: tests/fuzz/options.dict lib/options.inc
	@mkdir -p $(@D)
	{ cat tests/fuzz/options.dict; sed -n \
	  's/^AL_\(CLI_\)\{0,1\}OPTION([A-Z]*, *\([a-z_]*\),.*/"\2="/p' \
	  lib/options.inc; } > $@
$(O)/fuzz/suppressions.dict: tests/fuzz/suppressions.dict
	@mkdir -p $(@D)
	cp $< $@

fuzz: $(FUZZ_BIN) $(FUZZ_DICT)

# New inputs go to the first corpus directory given, a fresh one under
# $(O); crashes, leaks and undefined behaviour stop the run with a
# reproducer beside it. Warnings the parsers print go to /dev/null
# (-close_fd_mask=2); the sanitizers' reports still reach the log.
check-fuzz: $(FUZZ_CHECKS)
$(FUZZ_CHECKS): check-fuzz-%: $(O)/fuzz/fuzz-% $(O)/fuzz/%.dict
	@rm -rf $(FUZZ_RUN)/$* && mkdir -p $(FUZZ_RUN)/$*/new
	@echo "fuzz-$*: $(FUZZ_TIME) s from tests/fuzz/corpus/$*"
	@ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
	  $(O)/fuzz/fuzz-$* -max_total_time=$(FUZZ_TIME) -timeout=10 \
	  -close_fd_mask=2 -print_final_stats=1 -dict=$(O)/fuzz/$*.dict \
	  -artifact_prefix=$(FUZZ_RUN)/$*/ $(FUZZ_RUN)/$*/new \
	  tests/fuzz/corpus/$* >$(FUZZ_RUN)/$*/log 2>&1 || { \
	  tail -n 60 $(FUZZ_RUN)/$*/log; echo "fuzz-$*: FAILED; to see it" \
	  "again: $(O)/fuzz/fuzz-$* $(FUZZ_RUN)/$*/<crash-, leak- or" \
	  "timeout-file>" >&2; exit 1; }
	@grep -E '^(Done|stat::(number_of_executed_units|average_exec_per_sec))' \
	  $(FUZZ_RUN)/$*/log | sed 's/^/fuzz-$*: /'; \
	  grep -E '^#[0-9]+' $(FUZZ_RUN)/$*/log | tail -n 1 | \
	  sed 's/^/fuzz-$*: /'

.PHONY: fuzz check-fuzz $(FUZZ_CHECKS)

# ---------------------------------------------------------------- install
# What make install puts, each list used by uninstall too, so that it
# removes exactly that: the directories stay, as others' files may be
# there, except asyncleak's own under DATADIR.
HEADERS  := include/asyncleak.h include/asyncleak_cmocka.h
MAN1     := man/asyncleak.1
MAN3     := man/asyncleak.3
D        := $(DESTDIR)

install: all
	install -d $(D)$(BINDIR) $(D)$(LIBDIR) $(D)$(PKGCONFIGDIR) \
	  $(D)$(INCLUDEDIR) $(D)$(MANDIR)/man1 $(D)$(MANDIR)/man3 \
	  $(D)$(DATADIR)/asyncleak
	install -m 755 $(CLI) $(D)$(BINDIR)/asyncleak
	install -m 644 $(O)/lib/$(RT_REAL) $(D)$(LIBDIR)/$(RT_REAL)
	ln -sf $(RT_REAL) $(D)$(LIBDIR)/$(RT_SONAME)
	ln -sf $(RT_SONAME) $(D)$(LIBDIR)/$(RT_DEV)
	install -m 644 $(HEADERS) $(D)$(INCLUDEDIR)/
	install -m 644 $(MAN1) $(D)$(MANDIR)/man1/
	install -m 644 $(MAN3) $(D)$(MANDIR)/man3/
	install -m 644 valgrind.supp $(D)$(DATADIR)/asyncleak/
	sed $(PC_SUBST) asyncleak.pc.in > $(D)$(PKGCONFIGDIR)/asyncleak.pc

uninstall:
	rm -f $(D)$(BINDIR)/asyncleak $(D)$(LIBDIR)/$(RT_REAL) \
	  $(D)$(LIBDIR)/$(RT_SONAME) $(D)$(LIBDIR)/$(RT_DEV) \
	  $(addprefix $(D)$(INCLUDEDIR)/,$(notdir $(HEADERS))) \
	  $(addprefix $(D)$(MANDIR)/man1/,$(notdir $(MAN1))) \
	  $(addprefix $(D)$(MANDIR)/man3/,$(notdir $(MAN3))) \
	  $(D)$(DATADIR)/asyncleak/valgrind.supp $(D)$(PKGCONFIGDIR)/asyncleak.pc
	rmdir $(D)$(DATADIR)/asyncleak 2>/dev/null || true

lint:
	cppcheck --quiet --error-exitcode=1 --enable=warning,performance,portability \
	  --std=c11 -Iinclude -Ilib --suppress=missingIncludeSystem lib shim cli

clean:
	rm -rf $(O)

.PHONY: all check check-full demo deps bench install uninstall lint clean

-include $(shell find $(O) -name '*.d' 2>/dev/null)
