/* A leak group's creation site: its symbolized frames, its fingerprint,
 * and whether the user's suppressions or baseline cover it. */
#include <string.h>

#include "internal.h"

/* FNV-1a, 64 bits: small, and the same on every machine. */
static uint64_t hash_str(uint64_t h, const char *s) {
  for (; s != NULL && *s != '\0'; s++) {
    h ^= (unsigned char)*s;
    h *= 0x100000001b3ull;
  }
  /* A separator, so that "ab"+"c" and "a"+"bc" differ. */
  h ^= 0xff;
  h *= 0x100000001b3ull;
  return h;
}

/* A symbol's name without its version ("__libc_start_main@@GLIBC_2.34"). */
static uint64_t hash_name(uint64_t h, const char *name) {
  size_t len = strcspn(name, "@");
  char cut[256];

  if (name[len] == '\0' || len >= sizeof(cut))
    return hash_str(h, name);
  memcpy(cut, name, len);
  cut[len] = '\0';
  return hash_str(h, cut);
}

static int module_is(const char *module, const char *const *names) {
  for (; module != NULL && *names != NULL; names++)
    if (!strncmp(module, *names, strlen(*names)))
      return 1;
  return 0;
}

/* The C library, its companions and the loader: no program's code. */
static const char *const system_modules[] = {
    "libc.so", "libm.so", "libpthread.so", "libdl.so", "librt.so",
    "ld-linux", "ld64.so", "linux-vdso", "linux-gate", NULL};
/* asyncleak's runtime; the loop libraries it interposes are told by
 * al_loop_library_name(). */
static const char *const runtime_modules[] = {"libasyncleak.so", NULL};

int al_module_is_system(const char *module) {
  return module_is(module, system_modules);
}

static int system_frame(const struct al_frame *f) {
  return al_module_is_system(f->module);
}

/* Frames that are never the program's own, though they may have files:
 * with glibc's debug information installed, __libc_start_call_main has
 * one. */
static int foreign_frame(const struct al_frame *f) {
  return system_frame(f) || module_is(f->module, runtime_modules) ||
         al_loop_library_name(f->module) != AL_LIB_OTHER;
}

/* Frames a suppression must never name: a rule naming them would hide
 * every leak of every program. */
static int unnameable_frame(const struct al_frame *f) {
  return system_frame(f) || module_is(f->module, runtime_modules);
}

static uint64_t hash_int(uint64_t h, const char *tag, unsigned long n) {
  char text[32];
  size_t i = sizeof(text) - 1;

  text[i] = '\0';
  do
    text[--i] = (char)('0' + n % 10);
  while ((n /= 10) != 0 && i > 0);
  return hash_str(hash_str(h, tag), text + i);
}

/* What tells this frame's call apart from the function's other calls, and
 * survives edits above the function and a rebuild. Libraries other than
 * the program's own are named only: their debug information may be
 * installed on one machine and not on another. */
static uint64_t hash_frame(uint64_t h, const struct al_frame *f) {
  if (f->symbol == NULL) {
    h = hash_str(hash_str(h, "?"), f->module);
    if (f->near != NULL)
      return hash_int(hash_name(h, f->near), "+", f->near_offset);
    return hash_int(h, "@", f->offset);
  }
  h = hash_name(h, f->symbol);
  if (foreign_frame(f))
    return h;
  if (f->body_line >= 0)
    return hash_int(h, "L", (unsigned long)f->body_line);
  /* Without lines, the call's offset in its function: the same in a
   * rebuild with the same compiler and flags, and when lines move. */
  return hash_int(h, "+", f->sym_offset);
}

void al_site_judge(struct al_symbolizer *sym, const struct al_stack *stack,
                   int is_request, const char *type, struct al_site *out) {
  const size_t max = sizeof(out->frames) / sizeof(out->frames[0]);
  uint32_t depth = stack ? stack->depth : 0;
  size_t n = 0;

  for (uint32_t i = 0; i < depth && n < max; i++)
    n += al_symbolize_inlined(sym, stack->pc[i], &out->frames[n], max - n);
  out->depth = (uint32_t)n;
  al_site_judge_frames(is_request, type, out);
}

void al_site_judge_frames(int is_request, const char *type,
                          struct al_site *out) {
  uint64_t h = 0xcbf29ce484222325ull;
  static const char hex[] = "0123456789abcdef";
  size_t n = out->depth;

  out->own = -1;
  h = hash_str(h, is_request ? "request" : "handle");
  h = hash_str(h, type);
  for (size_t i = 0, past_main = 0; i < n; i++) {
    struct al_frame *f = &out->frames[i];

    if (out->own < 0 && f->file != NULL && !foreign_frame(f))
      out->own = (int)i;
    /* Frames of the C library and the loader are named or not as the
     * machine's debug symbols allow, and differ from one C library to the
     * next: a fingerprint written on one machine must hold on another. */
    if (past_main || system_frame(f))
      continue;
    h = hash_frame(h, f);
    past_main = f->symbol != NULL && !f->inlined && !strcmp(f->symbol, "main");
  }
  for (int i = AL_FINGERPRINT_LEN - 1; i >= 0; i--, h >>= 4)
    out->fingerprint[i] = hex[h & 15];
  out->fingerprint[AL_FINGERPRINT_LEN] = '\0';
  out->supp = al_suppression_find(is_request, type, out->frames, n);
  out->baselined = out->supp < 0 && al_baseline_has(out->fingerprint);
}

/* A name a suppression pattern can hold: as printed when it fits and its
 * characters mean nothing special to a pattern, else as linked. */
static const char *pattern_name(const struct al_frame *f) {
  size_t room = AL_SUPP_PATTERN_MAX - 3; /* '^', '$' and a NUL */

  /* A name a line of a file cannot hold (a newline, a control byte) is
   * named by no rule: it would be a line of its own in the report. */
  if (strlen(f->function) <= room && strchr(f->function, '*') == NULL &&
      al_text_plain(f->function))
    return f->function;
  if (f->symbol != NULL && strlen(f->symbol) <= room &&
      al_text_plain(f->symbol))
    return f->symbol;
  return NULL;
}

void al_site_put_suppression(struct al_buf *b, const struct al_site *s,
                             const char *type) {
  const struct al_frame *own = s->own >= 0 ? &s->frames[s->own] : NULL;
  const struct al_frame *f = NULL;
  char kind[AL_SUPP_KIND_MAX];

  /* The kind the rule is read back with: one rule for one type. */
  if (al_supp_kind_of(type, kind, sizeof(kind)) == 0) {
    al_buf_printf(b, "# no kind names the type ");
    al_buf_put_text(b, type);
    al_buf_printf(b, "\n");
    return;
  }
  if (own != NULL && own->function != NULL && pattern_name(own) != NULL) {
    al_buf_printf(b, "%s:^%s$\n", kind, pattern_name(own));
    return;
  }
  /* No frame of the program's own with a name: the innermost that is no
   * one's but the program's or a library's, named as narrowly as the
   * matcher allows (module+offset is one frame of one build). */
  for (uint32_t i = 0; i < s->depth && f == NULL; i++)
    if (s->frames[i].module != NULL && !unnameable_frame(&s->frames[i]))
      f = &s->frames[i];
  if (f != NULL && f->function != NULL && pattern_name(f) != NULL)
    al_buf_printf(b, "%s:^%s$\n", kind, pattern_name(f));
  else if (f != NULL && f->function == NULL && al_text_plain(f->module))
    al_buf_printf(b, "%s:^%s+%#lx$\n", kind, f->module,
                  (unsigned long)f->offset);
  else
    al_buf_printf(b, "# no frame to name: %s:*\n", kind);
}

/* A field of a record: escaped, as in the text report, so that no tab or
 * newline of the program's breaks the line apart. Empty for NULL. */
static void put_field(struct al_buf *b, const char *s) {
  al_buf_printf(b, "\t");
  if (s != NULL)
    al_buf_put_text(b, s);
}

void al_site_put_frames_as(struct al_buf *b, const char *head,
                           const struct al_site *s) {
  for (uint32_t i = 0; i < s->depth; i++) {
    const struct al_frame *f = &s->frames[i];

    al_buf_printf(b, "%s\t%#lx", head, (unsigned long)f->pc);
    put_field(b, f->function);
    /* The machine-readable reports locate the file on its own: the
     * directory it was compiled in goes before a relative name. */
    if (f->file != NULL && f->file[0] != '/' && f->dir != NULL &&
        f->dir[0] == '/') {
      put_field(b, f->dir);
      al_buf_printf(b, "/");
      al_buf_put_text(b, f->file);
    } else {
      put_field(b, f->file);
    }
    al_buf_printf(b, "\t%d", f->file ? f->line : 0);
    put_field(b, f->module);
    al_buf_printf(b, "\t%#lx\t%d", (unsigned long)f->offset, f->inlined);
    /* The file as the text report names it: as it was compiled. */
    put_field(b, f->file);
    al_buf_printf(b, "\n");
  }
}

void al_site_put_record(struct al_buf *b, const char *state,
                        const char *type, size_t count,
                        const struct al_site *s) {
  al_buf_printf(b, "leak\t%s", state);
  put_field(b, type);
  al_buf_printf(b, "\t%zu\t%s\t%d\t%d\n", count, s->fingerprint, s->own,
                s->baselined);
  al_site_put_frames(b, s);
}

void al_site_put_frames(struct al_buf *b, const struct al_site *s) {
  al_site_put_frames_as(b, "frame", s);
}
