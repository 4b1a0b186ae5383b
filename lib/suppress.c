/* Suppression and baseline files, read once at start-up: which leaks the
 * user has chosen not to see. Read-only afterwards, so the report may
 * consult them from any thread without a lock. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"
#include "syntax.h"

#define FILE_MAX AL_USER_FILE_MAX
#define RULES_MAX AL_SUPP_RULES_MAX
#define BASELINE_MAX AL_BASELINE_MAX

static struct al_supp *rules;
static size_t nrules, rules_cap;
static char (*fingerprints)[AL_FINGERPRINT_LEN + 1]; /* sorted */
static size_t nfingerprints, fingerprints_cap;

/* Reads a whole regular file of at most FILE_MAX bytes, terminated. */
static char *read_file(const char *path, size_t *len) {
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  struct stat st;
  char *buf = NULL;
  size_t used = 0;

  if (fd < 0)
    return NULL;
  if (fstat(fd, &st) != 0)
    goto fail;
  if (!S_ISREG(st.st_mode) || (size_t)st.st_size > FILE_MAX) {
    errno = S_ISREG(st.st_mode) ? EFBIG : EINVAL;
    goto fail;
  }
  buf = malloc((size_t)st.st_size + 1);
  if (buf == NULL)
    goto fail;
  while (used < (size_t)st.st_size) {
    ssize_t n = read(fd, buf + used, (size_t)st.st_size - used);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      break;
    used += (size_t)n;
  }
  buf[used] = '\0';
  *len = used;
  close(fd);
  return buf;
fail:
  free(buf);
  close(fd);
  return NULL;
}

typedef void line_fn(void *arg, const char *text, size_t len,
                     unsigned number);

/* Calls line(arg, text, len, number) for each line of text[0, len), which
 * need not be terminated: indices, not pointers, walk it, so that nothing
 * points past its end. */
static void split_lines(const char *text, size_t len, line_fn *line,
                        void *arg) {
  unsigned number = 0;

  for (size_t at = 0; at < len;) {
    const char *nl = memchr(text + at, '\n', len - at);
    size_t n = nl ? (size_t)(nl - (text + at)) : len - at;

    line(arg, text + at, n, ++number);
    at += n + 1;
  }
}

/* Calls line for each line of the file; returns 0, or -1 with errno when
 * it cannot be read. */
static int each_line(const char *path, line_fn *line, void *arg) {
  size_t len;
  char *buf = read_file(path, &len);

  if (buf == NULL)
    return -1;
  split_lines(buf, len, line, arg);
  free(buf);
  return 0;
}

struct load {
  const char *path;
  int bad;
  int old; /* a baseline of version 1 */
};

static void add_rule(void *arg, const char *text, size_t len,
                     unsigned number) {
  struct load *l = arg;
  struct al_supp_rule rule;
  const char *why = NULL;
  int rc = al_supp_parse(text, len, &rule, &why);

  if (rc < 0) {
    al_warn("%s:%u: malformed suppression: %s", l->path, number, why);
    l->bad++;
    return;
  }
  if (rc == 0)
    return;
  if (nrules == RULES_MAX) {
    if (l->bad++ == 0)
      al_warn("%s:%u: more than %u suppressions; the rest are left out",
              l->path, number, RULES_MAX);
    return;
  }
  if (nrules == rules_cap) {
    size_t cap = rules_cap ? rules_cap * 2 : 16;
    struct al_supp *grown = realloc(rules, cap * sizeof(*grown));
    if (grown == NULL) {
      l->bad++;
      return;
    }
    rules = grown;
    rules_cap = cap;
  }
  rules[nrules].rule = rule;
  rules[nrules].file = l->path;
  rules[nrules].line = number;
  nrules++;
}

int al_suppressions_parse(const char *name, const char *text, size_t len) {
  struct load l = {name, 0, 0};

  split_lines(text, len, add_rule, &l);
  return l.bad;
}

/* The names of the files read: the rules point at them. */
static char *names;

int al_suppressions_load(const char *paths) {
  char *copy, *save = NULL;
  int bad = 0;

  if ((copy = strdup(paths)) == NULL) {
    al_warn("out of memory: no suppressions read");
    return 1;
  }
  free(names);
  names = copy;
  nrules = 0;
  for (char *path = strtok_r(copy, "\n", &save); path != NULL;
       path = strtok_r(NULL, "\n", &save)) {
    size_t len;
    char *text = read_file(path, &len);

    if (text == NULL) {
      al_warn("cannot read the suppressions file '%s': %s", path,
              strerror(errno));
      bad++;
      continue;
    }
    bad += al_suppressions_parse(path, text, len);
    free(text);
  }
  return bad;
}

size_t al_suppressions(const struct al_supp **out) {
  *out = rules;
  return nrules;
}

/* Whether the pattern matches the function of a frame (as printed, or as
 * linked for C++), its file, its module, or "module+0xoffset", which names
 * one frame of one build where nothing else does. */
static int frames_match(const char *pattern, const struct al_frame *f,
                        size_t n) {
  for (size_t i = 0; i < n; i++) {
    char at[256];

    if (al_pattern_match(pattern, f[i].function) ||
        (f[i].symbol != f[i].function &&
         al_pattern_match(pattern, f[i].symbol)) ||
        al_pattern_match(pattern, f[i].file) ||
        al_pattern_match(pattern, f[i].module))
      return 1;
    if (f[i].module != NULL && f[i].function == NULL &&
        snprintf(at, sizeof(at), "%s+%#lx", f[i].module,
                 (unsigned long)f[i].offset) < (int)sizeof(at) &&
        al_pattern_match(pattern, at))
      return 1;
  }
  return 0;
}

long al_suppression_find(int is_request, const char *type,
                         const struct al_frame *frames, size_t n) {
  for (size_t i = 0; i < nrules; i++)
    if (al_supp_kind_covers(rules[i].rule.kind, is_request, type) &&
        frames_match(rules[i].rule.pattern, frames, n))
      return (long)i;
  return -1;
}

static void add_fingerprint(void *arg, const char *text, size_t len,
                            unsigned number) {
  struct load *l = arg;
  char fp[AL_FINGERPRINT_LEN + 1];
  int rc = al_baseline_parse(text, len, fp);
  size_t old = strlen(AL_BASELINE_HEADER_V1);

  /* Written by an older asyncleak: matching its fingerprints would
   * silently find nothing. */
  if (number == 1 && len >= old && !memcmp(text, AL_BASELINE_HEADER_V1, old))
    l->old = 1;
  if (l->old)
    return;
  if (rc < 0) {
    al_warn("%s:%u: malformed baseline line: expected a fingerprint of %d "
            "hex digits", l->path, number, AL_FINGERPRINT_LEN);
    l->bad++;
    return;
  }
  if (rc == 0)
    return;
  if (nfingerprints == BASELINE_MAX) {
    if (l->bad++ == 0)
      al_warn("%s:%u: more than %u fingerprints; the rest are left out",
              l->path, number, BASELINE_MAX);
    return;
  }
  if (nfingerprints == fingerprints_cap) {
    size_t cap = fingerprints_cap ? fingerprints_cap * 2 : 64;
    void *grown = realloc(fingerprints, cap * sizeof(*fingerprints));
    if (grown == NULL) {
      l->bad++;
      return;
    }
    fingerprints = grown;
    fingerprints_cap = cap;
  }
  memcpy(fingerprints[nfingerprints++], fp, sizeof(fp));
}

static int by_fingerprint(const void *a, const void *b) {
  return memcmp(a, b, AL_FINGERPRINT_LEN);
}

int al_baseline_load(const char *path) {
  struct load l = {path, 0, 0};

  if (each_line(path, add_fingerprint, &l) != 0) {
    al_warn("cannot read the baseline file '%s': %s; every leak is "
            "reported", path, strerror(errno));
    return 1;
  }
  if (l.old)
    al_warn("the baseline file '%s' was written by an older asyncleak, "
            "whose fingerprints no longer match: every leak is reported; "
            "write it again with --write-baseline", path);
  if (nfingerprints > 0)
    qsort(fingerprints, nfingerprints, sizeof(*fingerprints),
          by_fingerprint);
  return l.bad;
}

int al_baseline_has(const char *fp) {
  return nfingerprints > 0 &&
         bsearch(fp, fingerprints, nfingerprints, sizeof(*fingerprints),
                 by_fingerprint) != NULL;
}

void al_suppress_reset(void) {
  free(names);
  names = NULL;
  free(rules);
  free(fingerprints);
  rules = NULL;
  fingerprints = NULL;
  nrules = rules_cap = nfingerprints = fingerprints_cap = 0;
}
