/* The syntax of what users write for asyncleak: ASYNCLEAK_OPTIONS text,
 * suppression files and baseline files. Pure functions over strings, with
 * no state and no dependency on the rest of the runtime: the asyncleak
 * command links this file too, to check a user's files before it runs the
 * program.
 */
#ifndef ASYNCLEAK_SYNTAX_H_
#define ASYNCLEAK_SYNTAX_H_

#include <stddef.h>

/* ------------------------------------------------------------- options */

/* One key=value entry of option text; the pointers are into the text. */
struct al_token {
  const char *key;
  size_t klen;
  const char *value; /* NULL when the entry has no '=' */
  size_t vlen;
};

/* Reads the next entry at *p, in the sanitizers' syntax: key=value pairs
 * separated by ':', ',' or white space, a value possibly quoted with ' or
 * ". Returns 1 and advances *p past it, 0 at the end, or -1 for an
 * unterminated quote (then *p is left at the end). */
int al_option_next(const char **p, struct al_token *t);

/* The index of value (len bytes) among choices, written "a|b|c", or -1. */
int al_choice_index(const char *choices, const char *value, size_t len);

/* ------------------------------------------------------------- suppressions */

/* Bounds on what a user's files may make the runtime hold; the asyncleak
 * command refuses files beyond them before the program runs. */
#define AL_USER_FILE_MAX (4u << 20)
#define AL_SUPP_RULES_MAX 4096
#define AL_BASELINE_MAX 65536

#define AL_SUPP_KIND_MAX 64
#define AL_SUPP_PATTERN_MAX 512

/* One line of a suppressions file: "kind:pattern". */
struct al_supp_rule {
  char kind[AL_SUPP_KIND_MAX];       /* handle, request, or a type's kind */
  char pattern[AL_SUPP_PATTERN_MAX]; /* as written */
};

/* Parses one line (len bytes, no newline). Returns 1 for a rule, 0 for a
 * blank or comment line, -1 when malformed, with *why saying how. */
int al_supp_parse(const char *line, size_t len, struct al_supp_rule *out,
                  const char **why);

/* The kind that names a type of leak in a rule: the loop library's name
 * for the type made a name a kind may be. Each run of characters other
 * than letters, digits and '_' becomes one '_', none is left at either
 * end, and a last "_t" goes: "uv_timer_t" is uv_timer, "event (added)"
 * event_added, "evdns request" evdns_request. --gen-suppressions writes
 * this, and al_supp_kind_covers compares with this, so that every rule
 * written is read back and covers what it was written for. Writes it,
 * terminated, into kind (size bytes) and returns its length; 0 when the
 * type has no letter or digit, when its kind would be handle or request
 * (which name every handle or request), or would not fit in size or be
 * too long for a rule (AL_SUPP_KIND_MAX). */
size_t al_supp_kind_of(const char *type, char *kind, size_t size);

/* Whether a rule's kind covers a leak: is_request tells handles from
 * requests, type is the loop library's name for it ("uv_timer_t",
 * "event (added)"). The kind is handle, request, the type's own name, or
 * its al_supp_kind_of ("uv_timer", "event_added"). */
int al_supp_kind_covers(const char *kind, int is_request, const char *type);

/* Whether pattern matches somewhere in s: '*' stands for any run of
 * characters, a leading '^' ties the match to the start of s and a
 * trailing '$' to its end, as in LeakSanitizer's suppressions. */
int al_pattern_match(const char *pattern, const char *s);

/* ------------------------------------------------------------- baselines */

#define AL_FINGERPRINT_LEN 16

/* The first line of a baseline the asyncleak command writes. Fingerprints
 * changed meaning with version 2 (call sites told apart); a file that
 * begins with the header of version 1, "# asyncleak baseline:", holds
 * fingerprints that no longer match. */
#define AL_BASELINE_HEADER "# asyncleak baseline v2"
#define AL_BASELINE_HEADER_V1 "# asyncleak baseline:"

/* Parses one line of a baseline file: a fingerprint of 16 hex digits, then
 * anything (a comment for the reader). Returns 1 and copies the
 * fingerprint (terminated) into fp, 0 for a blank or '#' line, -1 when
 * malformed. */
int al_baseline_parse(const char *line, size_t len,
                      char fp[AL_FINGERPRINT_LEN + 1]);

/* ------------------------------------------------------------- text */

/* Text the program controls (a path it handed libuv, a symbol, a file or
 * executable name) is written into reports and messages escaped, so that
 * it cannot move a terminal's cursor, clear the screen, or start a line
 * of its own (a forged "SUMMARY:" or "==PID==" line): the control bytes
 * as \n, \t, \r or \xHH, DEL and every byte that is not part of valid
 * UTF-8 as \xHH, C1 controls (U+0080 to U+009F, which some terminals obey)
 * as \xHH for each byte, and the backslash as \\, so that an escape in
 * the output always stands for what the program wrote. Printable ASCII
 * and other valid UTF-8 pass as they are.
 *
 * al_escape() escapes the len bytes at src into dst (size bytes, at least
 * 1), stopping before a character that would not fit whole, and
 * terminates dst. Returns how many bytes of src it consumed; *written, when
 * not NULL, receives the length of dst. Pure: safe in a signal handler. */
size_t al_escape(char *dst, size_t size, const char *src, size_t len,
                 size_t *written);

/* Whether s (NUL-terminated) comes out of al_escape() unchanged. */
int al_text_plain(const char *s);

#endif /* ASYNCLEAK_SYNTAX_H_ */
