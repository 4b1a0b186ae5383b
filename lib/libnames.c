/* The names and marks of the loop libraries (libnames.h). */
#include <string.h>

#include "libnames.h"

/* The strings are the handle printer's format (uv_print_all_handles),
 * which assertions switched off do not take away, event_base_loop's
 * warning, and the message libev dies with when it cannot make the pipe
 * that wakes a loop for signals and ev_async, which every build with
 * either has. None is in any other object of a Debian 12 system (grep -r
 * of /usr/lib, /usr/bin and /usr/sbin finds only libuv, libevent, libev,
 * their static archives, node, libev-perl's EV.so and rxvt-unicode). */
#define TELLTALE(s) s, sizeof(s)
const struct al_loop_library al_loop_libraries[4] = {
    {"libuv", AL_LIB_LIBUV, "uv_loop_init", TELLTALE("[%c%c%c] %-8s %p\n")},
    /* Not event_base_new, nor event_base_loop: libev defines them too,
     * for its libevent 1 emulation. */
    {"libevent", AL_LIB_LIBEVENT, "event_base_new_with_config",
     TELLTALE("%s: reentrant invocation.  Only one event_base_loop can run "
              "on each event_base at once.")},
    /* Not event_*, which libev's emulation defines, nor ev_loop_new, which
     * a copy built without EV_MULTIPLICITY (rxvt-unicode's) lacks: ev_run
     * is in both kinds of build of libev 4. */
    {"libev", AL_LIB_LIBEV, "ev_run",
     TELLTALE("(libev) error creating signal/async pipe")},
    /* The warning of a source freed while still attached, which every
     * build of gmain.c has. */
    {"GLib", AL_LIB_GLIB, "g_main_context_new",
     TELLTALE("ref_count == 0, but source was still attached to a context!")},
};
#undef TELLTALE

static int is_digit(char c) {
  return c >= '0' && c <= '9';
}

/* Skips "-2.1" in "libevent_core-2.1.so.7": a dash and a version. */
static const char *skip_version(const char *p) {
  if (*p != '-' || !is_digit(p[1]))
    return p;
  p++;
  while (is_digit(*p) || (*p == '.' && is_digit(p[1])))
    p++;
  return p;
}

/* ".so", then only ".N" parts: "libuv.so", "libuv.so.1.0.0". */
static int is_so_suffix(const char *p) {
  if (strncmp(p, ".so", 3) != 0)
    return 0;
  p += 3;
  while (*p == '.' && is_digit(p[1])) {
    p++;
    while (is_digit(*p))
      p++;
  }
  return *p == '\0';
}

int al_loop_library_name(const char *name) {
  static const char *const libevent_parts[] = {
      "", "_core", "_extra", "_pthreads", "_openssl", "_mbedtls"};
  static const char *const glib_parts[] = {
      "libglib-2.0", "libgio-2.0", "libgobject-2.0", "libgmodule-2.0",
      "libgthread-2.0"};
  const char *slash = name ? strrchr(name, '/') : NULL;
  const char *base = slash ? slash + 1 : name;

  if (base == NULL)
    return AL_LIB_OTHER;
  if (!strncmp(base, "libuv", 5) && is_so_suffix(base + 5))
    return AL_LIB_LIBUV;
  if (!strncmp(base, "libev", 5) && is_so_suffix(base + 5))
    return AL_LIB_LIBEV;
  for (size_t i = 0; i < sizeof(glib_parts) / sizeof(glib_parts[0]); i++) {
    size_t len = strlen(glib_parts[i]);
    if (!strncmp(base, glib_parts[i], len) && is_so_suffix(base + len))
      return AL_LIB_GLIB;
  }
  if (strncmp(base, "libevent", 8) != 0)
    return AL_LIB_OTHER;
  for (size_t i = sizeof(libevent_parts) / sizeof(libevent_parts[0]);
       i-- > 0;) {
    size_t len = strlen(libevent_parts[i]);
    if (!strncmp(base + 8, libevent_parts[i], len) &&
        is_so_suffix(skip_version(base + 8 + len)))
      return AL_LIB_LIBEVENT;
  }
  return AL_LIB_OTHER;
}
