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

/* Frames of the C library and the loader, which are named or not as the
 * machine's debug symbols allow, and differ from one C library to the
 * next: a fingerprint written on one machine must hold on another. */
static int machine_frame(const struct al_frame *f) {
  return f->module != NULL && (!strncmp(f->module, "libc.so", 7) ||
                               !strncmp(f->module, "ld-linux", 8));
}

void al_site_judge(struct al_symbolizer *sym, const struct al_stack *stack,
                   int is_request, const char *type, struct al_site *out) {
  uint64_t h = 0xcbf29ce484222325ull;
  uint32_t depth = stack ? stack->depth : 0;
  static const char hex[] = "0123456789abcdef";

  if (depth > sizeof(out->frames) / sizeof(out->frames[0]))
    depth = sizeof(out->frames) / sizeof(out->frames[0]);
  out->depth = depth;
  out->own = -1;
  h = hash_str(h, is_request ? "request" : "handle");
  h = hash_str(h, type);
  for (uint32_t i = 0, past_main = 0; i < depth; i++) {
    struct al_frame *f = &out->frames[i];

    al_symbolize(sym, stack->pc[i], f);
    if (out->own < 0 && f->file != NULL)
      out->own = (int)i;
    if (past_main || machine_frame(f))
      continue;
    /* Lines and addresses move with every edit; names rarely do. */
    if (f->function != NULL)
      h = hash_name(h, f->function);
    else
      h = hash_str(hash_str(h, "?"), f->module);
    past_main = f->function != NULL && !strcmp(f->function, "main");
  }
  for (int i = AL_FINGERPRINT_LEN - 1; i >= 0; i--, h >>= 4)
    out->fingerprint[i] = hex[h & 15];
  out->fingerprint[AL_FINGERPRINT_LEN] = '\0';
  out->supp = al_suppression_find(is_request, type, out->frames, depth);
  out->baselined = out->supp < 0 && al_baseline_has(out->fingerprint);
}

/* The frame a suppression or an annotation names: the program's own, else
 * the first with a name. */
static const struct al_frame *named_frame(const struct al_site *s) {
  if (s->own >= 0 && s->frames[s->own].function != NULL)
    return &s->frames[s->own];
  for (uint32_t i = 0; i < s->depth; i++)
    if (s->frames[i].function != NULL)
      return &s->frames[i];
  return NULL;
}

void al_site_put_suppression(struct al_buf *b, const struct al_site *s,
                             const char *type) {
  const struct al_frame *f = named_frame(s);
  size_t len = strlen(type);

  /* The type without its "_t", as users name it. */
  if (len > 2 && !strcmp(type + len - 2, "_t"))
    len -= 2;
  if (f != NULL)
    al_buf_printf(b, "%.*s:^%s$\n", (int)len, type, f->function);
  else if (s->depth > 0 && s->frames[0].module != NULL)
    al_buf_printf(b, "%.*s:^%s$\n", (int)len, type, s->frames[0].module);
  else
    al_buf_printf(b, "# no frame to name: %.*s:*\n", (int)len, type);
}

/* A field of a record: tabs and newlines would break the line apart. */
static void put_field(struct al_buf *b, const char *s) {
  al_buf_printf(b, "\t");
  if (s != NULL && strpbrk(s, "\t\n") == NULL) {
    al_buf_printf(b, "%s", s);
    return;
  }
  for (; s != NULL && *s != '\0'; s++)
    al_buf_printf(b, "%c", *s == '\t' || *s == '\n' ? ' ' : *s);
}

void al_site_put_record(struct al_buf *b, const char *state,
                        const char *type, size_t count,
                        const struct al_stack *stack,
                        const struct al_site *s) {
  al_buf_printf(b, "leak\t%s", state);
  put_field(b, type);
  al_buf_printf(b, "\t%zu\t%s\t%d\t%d\n", count, s->fingerprint, s->own,
                s->baselined);
  for (uint32_t i = 0; i < s->depth; i++) {
    const struct al_frame *f = &s->frames[i];

    al_buf_printf(b, "frame\t%#lx", (unsigned long)stack->pc[i]);
    put_field(b, f->function);
    /* The machine-readable reports locate the file on its own: the
     * directory it was compiled in goes before a relative name. */
    if (f->file != NULL && f->file[0] != '/' && f->dir != NULL &&
        f->dir[0] == '/') {
      put_field(b, f->dir);
      al_buf_printf(b, "/%s", f->file);
    } else {
      put_field(b, f->file);
    }
    al_buf_printf(b, "\t%d", f->file ? f->line : 0);
    put_field(b, f->module);
    al_buf_printf(b, "\t%#lx\n", (unsigned long)f->offset);
  }
}
