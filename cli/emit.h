/* What the machine-readable reports (json.c, junit.c, sarif.c) share:
 * writing JSON and XML text that parsers accept whatever bytes the
 * program's symbols and paths hold, and the words a leak group is
 * described with. */
#ifndef ASYNCLEAK_CLI_EMIT_H_
#define ASYNCLEAK_CLI_EMIT_H_

#include <stdio.h>

#include "cli.h"

/* ------------------------------------------------------------- JSON */

/* A JSON document written as it goes, indented two spaces a level. Each
 * value takes the key it has in the object around it, or NULL inside an
 * array. */
struct cli_json {
  FILE *out;
  int depth;
  int empty; /* nothing written yet in the innermost object or array */
};

void cli_json_begin(struct cli_json *j, FILE *out);
/* Ends the document; returns 0, or -1 when writing failed. */
int cli_json_end(struct cli_json *j);
void cli_json_object(struct cli_json *j, const char *key);
void cli_json_array(struct cli_json *j, const char *key);
void cli_json_close_object(struct cli_json *j);
void cli_json_close_array(struct cli_json *j);
/* s NULL is written as null. */
void cli_json_string(struct cli_json *j, const char *key, const char *s);
void cli_json_uint(struct cli_json *j, const char *key, unsigned long long n);
void cli_json_int(struct cli_json *j, const char *key, long long n);
void cli_json_bool(struct cli_json *j, const char *key, int b);
void cli_json_null(struct cli_json *j, const char *key);

/* A frame of a stack, as every JSON document of the command has it. */
void cli_json_frame(struct cli_json *j, const struct cli_frame *f);

/* ------------------------------------------------------------- XML */

/* Writes len bytes of s as XML 1.0 character data, or as an attribute
 * value when attr, which keeps tabs and line breaks as references. */
void cli_xml_text(FILE *out, const char *s, size_t len, int attr);
void cli_xml_string(FILE *out, const char *s, int attr);

/* ------------------------------------------------------------- leaks */

/* "complete", "incomplete" or "missing": how much of its report the
 * process wrote. */
const char *cli_proc_report(const struct cli_proc *p);
/* The process left handles open or requests pending, by force or not. */
int cli_proc_failed(const struct cli_proc *p);
/* "handle", "request" or "resource", from the group's state. */
const char *cli_group_kind(const struct cli_group *g);
/* The group's own frame, the first with a source file; NULL when none
 * has one. */
const struct cli_frame *cli_group_own(const struct cli_group *g);
/* The frame to name the group by: its own, else the first with a name;
 * NULL when there is none. */
const struct cli_frame *cli_group_frame(const struct cli_group *g);
/* "3 handles of type uv_timer_t left open" into buf. */
const char *cli_group_message(const struct cli_group *g, char *buf,
                              size_t size);

/* ------------------------------------------------------------- findings */

/* One stack of a finding (0: the call; 1: what explains it, such as the
 * first close) seen as a group, for the code that places groups: the
 * state is "finding", the own frame the first of the program's. */
struct cli_group cli_finding_group(const struct cli_finding *f, int which);
/* What the second stack of f is, before a function's name: "closed first
 * in". */
const char *cli_finding_other(const struct cli_finding *f);
/* What the text of a finding's second stack is headed with ("and
 * before", "the callback"). */
const char *cli_finding_then(const struct cli_finding *f);
/* "uv_timer_start on a uv_timer_t already closed, 1 time, in start_again;
 * closed first in close_timer" into buf. */
const char *cli_finding_message(const struct cli_finding *f, char *buf,
                                size_t size);

#endif /* ASYNCLEAK_CLI_EMIT_H_ */
