/* Messages: one line, formatted whole and written with one call, so that
 * lines written by the processes of a run do not cut into each other.
 * What a message names may come from the program (the name of a file it
 * executed, a library it loaded): each message is escaped whole, so that
 * none can hold a terminal's escape sequence or start a line of its own. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "../lib/syntax.h"

/* The descriptor whose first write error is kept, and that error. */
static int watched = -1, watched_error;

int cli_write_watch(int fd) {
  int err = watched_error;

  watched = fd;
  watched_error = 0;
  return err;
}

int cli_write_all(int fd, const void *buf, size_t len) {
  const char *p = buf;

  while (len > 0) {
    ssize_t n = write(fd, p, len);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      if (fd == watched && watched_error == 0)
        watched_error = errno;
      return -1;
    }
    p += n;
    len -= (size_t)n;
  }
  return 0;
}

static void say(int fd, const char *prefix, const char *fmt, va_list ap) {
  char text[8192], buf[8192];
  size_t len = strlen(prefix), escaped;
  size_t room = sizeof(buf) - len - 1; /* the last byte is for '\n' */
  int n;

  n = vsnprintf(text, sizeof(text), fmt, ap);
  if (n < 0)
    return;
  memcpy(buf, prefix, len);
  /* A longer line is cut, and still ends with its newline. */
  al_escape(buf + len, room, text,
            (size_t)n < sizeof(text) ? (size_t)n : sizeof(text) - 1,
            &escaped);
  len += escaped;
  buf[len++] = '\n';
  cli_write_all(fd, buf, len);
}

void cli_error(const char *fmt, ...) {
  va_list ap;

  va_start(ap, fmt);
  say(STDERR_FILENO, "asyncleak: ", fmt, ap);
  va_end(ap);
}

void cli_warning(const char *fmt, ...) {
  va_list ap;

  va_start(ap, fmt);
  say(STDERR_FILENO, "asyncleak: warning: ", fmt, ap);
  va_end(ap);
}

void cli_say(int fd, const char *fmt, ...) {
  va_list ap;

  va_start(ap, fmt);
  say(fd, "asyncleak: ", fmt, ap);
  va_end(ap);
}

void cli_line(int fd, const char *fmt, ...) {
  va_list ap;

  va_start(ap, fmt);
  say(fd, "", fmt, ap);
  va_end(ap);
}

/* The only escape sequences the runtime writes, when told to colour its
 * report (lib/report.c): bold red, bold magenta, bold, and back to
 * normal. They change colour and weight, and nothing else. */
static const char *const paint[] = {"\033[1;31m", "\033[1;35m", "\033[1m",
                                    "\033[0m"};

/* The length of the sequence of paint at s (len bytes), or 0. */
static size_t paint_at(const char *s, size_t len) {
  for (size_t i = 0; i < CLI_ARRAY_SIZE(paint); i++) {
    size_t n = strlen(paint[i]);

    if (n <= len && !memcmp(s, paint[i], n))
      return n;
  }
  return 0;
}

void cli_write_text(int fd, const char *text, size_t len, int color) {
  char buf[8192];
  size_t used = 0, at = 0;

  while (at < len) {
    size_t piece, n;

    /* Room for the longest piece: an escaped character, or a newline,
     * or a sequence of paint. */
    if (sizeof(buf) - used < 64) {
      cli_write_all(fd, buf, used);
      used = 0;
    }
    /* The runtime's text is escaped already: its backslashes stand for
     * what it escaped, and doubling them would garble its escapes. */
    if (text[at] == '\n' || text[at] == '\\') {
      buf[used++] = text[at++];
      continue;
    }
    if (color && text[at] == '\033' && (n = paint_at(text + at, len - at))) {
      memcpy(buf + used, text + at, n);
      used += n;
      at += n;
      continue;
    }
    /* Up to the next newline, backslash or escape character, escaped. */
    for (piece = at;
         piece < len && text[piece] != '\n' && text[piece] != '\\'; piece++)
      if (text[piece] == '\033' && piece > at)
        break;
    at += al_escape(buf + used, sizeof(buf) - used, text + at, piece - at,
                    &n);
    used += n;
  }
  cli_write_all(fd, buf, used);
}
