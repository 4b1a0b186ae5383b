/* Which loop libraries asyncleak watches, and how they are known: by the
 * file name of their shared objects, and, in an object that carries a
 * copy of one, by a function only that library defines and a string of
 * its own. One rule for the runtime, which looks at the objects loaded,
 * and for the asyncleak command, which looks at the programs a process
 * executed: the command links this file too. Pure: no state, no
 * allocation, safe anywhere.
 */
#ifndef ASYNCLEAK_LIBNAMES_H_
#define ASYNCLEAK_LIBNAMES_H_

#include <stddef.h>

enum { AL_LIB_OTHER, AL_LIB_LIBUV, AL_LIB_LIBEVENT, AL_LIB_LIBEV, AL_LIB_GLIB };

/* Which loop library a shared object is, by its file name or soname (a
 * directory is ignored): libuv.so[.N...], libev.so[.N...], or libevent,
 * libevent_core, _extra, _pthreads, _openssl or _mbedtls, each with an
 * optional version ("-2.1"), then .so[.N...]. A program's own library
 * whose name only starts like one of these (libevent_bus.so,
 * libuv_helpers.so) is not the library. */
int al_loop_library_name(const char *name);

/* A loop library, and how a copy of it linked into another object is
 * recognised. */
struct al_loop_library {
  const char *name;     /* "libuv", "libevent", "libev", "GLib" */
  int id;               /* AL_LIB_* */
  const char *symbol;   /* a function only the library defines */
  const char *telltale; /* a string of its own that survives stripping */
  size_t telltale_len;  /* its length, the NUL included */
};
extern const struct al_loop_library al_loop_libraries[4];

#endif /* ASYNCLEAK_LIBNAMES_H_ */
