/* How an entry of options.inc reads, for the files that make a table of
 * it: lib/options.c, the runtime's, and cli/options.c, the command's. */
#ifndef ASYNCLEAK_OPTIONS_ENTRY_H_
#define ASYNCLEAK_OPTIONS_ENTRY_H_

enum al_option_kind {
  AL_KIND_INT,
  AL_KIND_BOOL,
  AL_KIND_STR,
  AL_KIND_LIST,
  AL_KIND_ENUM
};

/* The default column as text (STR and LIST; the values of an ENUM) and as
 * a number (INT and BOOL), whichever it is; the other is empty. */
#define AL_DFLT_STR_INT(d) ""
#define AL_DFLT_STR_BOOL(d) ""
#define AL_DFLT_STR_STR(d) d
#define AL_DFLT_STR_LIST(d) d
#define AL_DFLT_STR_ENUM(d) d
#define AL_DFLT_NUM_INT(d) d
#define AL_DFLT_NUM_BOOL(d) d
#define AL_DFLT_NUM_STR(d) 0
#define AL_DFLT_NUM_LIST(d) 0
#define AL_DFLT_NUM_ENUM(d) 0

#endif
