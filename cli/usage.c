/* --help: the usage, printed from the flags the option table makes
 * (cli_flags), so that every flag the command accepts is listed, once,
 * with the name of its value, its help, its default and range, and its
 * ASYNCLEAK_OPTIONS key, under its group's heading. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "../lib/options-entry.h"

#define HELP_COLUMN 28 /* where the help starts */
#define WIDTH 79

static const char *const intro[] = {
    "usage: asyncleak [options] [--] program [args...]",
    "       asyncleak ps [--json] PID...",
    "",
    "Run a program with the asyncleak runtime preloaded, and report the",
    "handles, events, watchers, sources and requests of its event loops",
    "(libuv, libevent, libev, GLib) that it left open or pending at exit.",
    "asyncleak ps asks a running process why it is still running: what its",
    "loop threads are doing and what keeps each loop running.",
    "",
    "Each option is also an ASYNCLEAK_OPTIONS key, named in brackets; a flag",
    "wins over the variable.",
};

/* The default and range the table gives, after the help. */
static void describe(const struct cli_flag *f, char *buf, size_t size) {
  const char *arg = cli_flag_arg(f);
  size_t first;

  buf[0] = '\0';
  switch ((enum al_option_kind)f->kind) {
  case AL_KIND_INT:
    snprintf(buf, size, " (%ld to %ld, default %ld)", f->lo, f->hi, f->dflt);
    break;
  case AL_KIND_BOOL:
    /* A flag with a value: the first choice sets the option. */
    if (arg != NULL && (first = strcspn(arg, "|")) < strlen(arg))
      snprintf(buf, size, " (default %.*s)",
               (int)(f->dflt ? first : strlen(arg) - first - 1),
               f->dflt ? arg : arg + first + 1);
    break;
  case AL_KIND_ENUM:
    snprintf(buf, size, " (default %.*s)", (int)strcspn(arg, "|"), arg);
    break;
  case AL_KIND_STR:
  case AL_KIND_LIST:
    break;
  }
}

/* Prints left, then text from HELP_COLUMN on, wrapped at WIDTH; text
 * starts on a line of its own when left leaves no room. */
static void put_wrapped(int fd, const char *left, const char *text) {
  const char *p = text;
  size_t room = WIDTH - HELP_COLUMN;

  if (strlen(left) + 2 > HELP_COLUMN) {
    cli_line(fd, "%s", left);
    left = "";
  }
  while (*p != '\0') {
    size_t len = strlen(p), end = len;

    if (len > room) {
      /* The last blank that fits, else the first word whole. */
      for (end = room; end > 0 && p[end] != ' '; end--)
        ;
      if (end == 0)
        end = strcspn(p, " ");
    }
    cli_line(fd, "%-*s%.*s", HELP_COLUMN, left, (int)end, p);
    left = "";
    p += end;
    while (*p == ' ')
      p++;
  }
}

static void put_flag(int fd, const struct cli_flag *f) {
  const char *arg = cli_flag_arg(f);
  char left[128], text[1024], range[64];
  char letter = cli_flag_short(f);

  if (letter != 0)
    snprintf(left, sizeof(left), "    -%c, %s", letter, f->name);
  else
    snprintf(left, sizeof(left), "        %s", f->name);
  if (arg != NULL)
    snprintf(left + strlen(left), sizeof(left) - strlen(left), "=%s", arg);
  describe(f, range, sizeof(range));
  snprintf(text, sizeof(text), "%s%s", f->help, range);
  if (f->key != NULL)
    snprintf(text + strlen(text), sizeof(text) - strlen(text), " [%s]",
             f->key);
  put_wrapped(fd, left, text);
}

/* Whether an earlier flag has the same group: it was listed with it. */
static int group_listed(size_t i) {
  for (size_t k = 0; k < i; k++)
    if (cli_flags[k].name != NULL &&
        !strcmp(cli_flags[k].group, cli_flags[i].group))
      return 1;
  return 0;
}

void cli_usage(int fd, int brief) {
  size_t lines = brief ? 1 : CLI_ARRAY_SIZE(intro);

  for (size_t i = 0; i < lines; i++)
    cli_line(fd, "%s", intro[i]);
  if (brief)
    return;
  /* The groups in the order the table first names them. */
  for (size_t i = 0; i < cli_nflags; i++) {
    if (cli_flags[i].name == NULL || group_listed(i))
      continue;
    cli_line(fd, "%s", "");
    cli_line(fd, "%s:", cli_flags[i].group);
    for (size_t k = i; k < cli_nflags; k++)
      if (cli_flags[k].name != NULL &&
          !strcmp(cli_flags[k].group, cli_flags[i].group))
        put_flag(fd, &cli_flags[k]);
  }
  cli_line(fd, "%s", "");
  cli_line(fd, "%s", "ASYNCLEAK_OPTIONS=help=1 lists every option, those "
                     "without a flag too.");
}
