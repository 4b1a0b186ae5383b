/* This file is private to asyncleak: the interface between the loop-neutral
 * core (lib/) and the interposers (shim/). Nothing here is exported.
 */
#ifndef ASYNCLEAK_INTERNAL_H_
#define ASYNCLEAK_INTERNAL_H_

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define AL_EXPORT __attribute__((visibility("default")))
#define AL_TLS __thread __attribute__((tls_model("initial-exec")))
#define AL_LIKELY(x) __builtin_expect(!!(x), 1)
#define AL_UNLIKELY(x) __builtin_expect(!!(x), 0)

/* ------------------------------------------------------------- options */

#define AL_OPTION_STR_MAX 4096
#define AL_FIELD_INT(name) int name
#define AL_FIELD_BOOL(name) int name
#define AL_FIELD_STR(name) char name[AL_OPTION_STR_MAX]

struct al_options {
#define AL_OPTION(kind, name, dflt, lo, hi, help) AL_FIELD_##kind(name);
#include "options.inc"
#undef AL_OPTION
};

extern struct al_options al_opt;

/* Parses ASYNCLEAK_OPTIONS-style text into `opt`, printing one warning line
 * for each unknown key or malformed value to fd 2. Never fails: a bad entry
 * is skipped and the default kept. Returns the number of bad entries. */
int al_options_parse(struct al_options *opt, const char *text);
void al_options_defaults(struct al_options *opt);
/* Writes the option table with defaults and help to fd. */
void al_options_print_help(int fd);

/* ------------------------------------------------------------- stacks */

/* A deduplicated creation stack. Stacks are never freed; the pointer is a
 * stable identity for grouping. */
struct al_stack {
  struct al_stack *next; /* hash chain */
  uint32_t hash;
  uint32_t depth;
  uintptr_t pc[];
};

/* Captures the calling thread's stack, leaving out asyncleak's own frames,
 * up to al_opt.stack_depth frames, and returns its deduplicated copy, or
 * NULL when no frame could be captured. Thread-safe, no malloc. */
const struct al_stack *al_stack_capture(void);
/* Deduplicates `depth` frames; exposed for tests. */
const struct al_stack *al_stack_intern(const uintptr_t *pc, uint32_t depth);
/* Number of distinct stacks and bytes the depot holds. */
void al_stack_stats(size_t *stacks, size_t *bytes);
/* Frames with a pc in [lo, hi) are asyncleak's own and left out. */
void al_stack_set_self_range(uintptr_t lo, uintptr_t hi);
void al_stack_atfork_prepare(void);
void al_stack_atfork_parent(void);
void al_stack_atfork_child(void);

/* ------------------------------------------------------------- shims */

/* What the report needs to know of a resource's live state. */
struct al_state {
  unsigned known : 1;    /* the memory still holds this resource */
  unsigned internal : 1; /* the loop library made it for itself */
  unsigned active : 1;
  unsigned referenced : 1;
  unsigned closing : 1;
};

struct al_res;

/* One loop library, as the core sees it. */
struct al_shim {
  const char *name; /* "libuv" */
  const char *(*type_name)(unsigned type);
  /* Reads the live state of r; must not fault on freed memory. */
  void (*probe)(const struct al_res *r, struct al_state *st);
  /* Whether the calling thread is inside the library's run function for
   * this loop, where running it again is not allowed. */
  int (*running)(uintptr_t loop);
  /* Runs the loop until no request is pending and no close unfinished, or
   * timeout_ms passed: 0, or -ETIMEDOUT. */
  int (*drain)(uintptr_t loop, unsigned timeout_ms);
  /* Closes the loop as the program's own close call would. */
  int (*close)(uintptr_t loop);
};

/* ------------------------------------------------------------- registry */

enum al_res_state { AL_RES_OPEN = 0, AL_RES_CLOSING = 1 };

/* One tracked resource (a handle). 56 bytes. */
struct al_res {
  uintptr_t addr;
  struct al_res *next;
  const struct al_stack *stack;
  void *close_cb;   /* the program's close callback while closing */
  uintptr_t loop;   /* address of the loop it belongs to */
  uint64_t seq;     /* creation order, process-wide */
  pid_t tid;        /* creating thread */
  uint16_t type;    /* the loop library's own type number */
  uint8_t state;    /* enum al_res_state */
  uint8_t shim;     /* index into al_shims */
};

enum {
  AL_LOOP_DEFAULT = 1,   /* the library's default loop */
  AL_LOOP_INHERITED = 2, /* made before fork, in the parent */
  AL_LOOP_REPLACED = 4   /* initialised again at its address, never closed */
};

/* A finalizer registered on a loop. */
struct al_fin {
  struct al_fin *next;
  void (*fn)(void *loop, void *arg);
  void *arg;
};

/* What became of a loop's finalizers, for the report. */
enum {
  AL_FIN_SKIPPED = 1, /* the loop was running on this thread's stack */
  AL_FIN_TIMEOUT = 2  /* their work outlasted drain_timeout_ms */
};
#define AL_FIN_NAMED 4

/* One loop not closed yet. A loop that closes is counted and freed. */
struct al_loop {
  struct al_loop *next;
  uintptr_t addr;
  const struct al_stack *stack;
  uint64_t serial;      /* 1, 2, ... in order of creation */
  uint64_t first_seq;   /* resources made on it have a seq from here on */
  pid_t tid;            /* creating thread */
  unsigned flags;
  unsigned busy_closes; /* closes that failed because handles were open */
  uint8_t shim;
  struct al_fin *fins;  /* most recent first */
  unsigned fin_outcome; /* AL_FIN_* */
  void *fin_named[AL_FIN_NAMED]; /* finalizers that ran, for the report */
};

#define AL_MAX_SHIMS 4
extern const struct al_shim *al_shims[AL_MAX_SHIMS];
/* Registers a shim once and returns its index. */
uint8_t al_shim_register(const struct al_shim *s);

/* Records a resource the program created. `stack` may be NULL. */
void al_res_open(uint8_t shim, uintptr_t addr, unsigned type, uintptr_t loop,
                 const struct al_stack *stack);
/* The program asked to close addr. Returns the record's seq and stores cb
 * when addr is tracked and open, 0 when it is not ours to follow. */
uint64_t al_res_closing(uintptr_t addr, void *cb);
/* A close that al_res_closing accepted (and numbered seq) did not happen. */
void al_res_close_aborted(uintptr_t addr, uint64_t seq);
/* Closing finished: forgets addr and returns the program's callback in
 * *cb. Returns 0 when no closing record was found. */
int al_res_closed(uintptr_t addr, void **cb);

/* Records a loop. A fresh loop (the library initialised the memory) is a
 * new loop even where one is open at addr, which then stays reported as
 * never closed. Otherwise an open loop at addr is completed with flags, and
 * with stack if it has none. Returns the loop's serial. */
uint64_t al_loop_open(uint8_t shim, uintptr_t addr, unsigned flags,
                      const struct al_stack *stack, int fresh);
/* Notes that the calling thread runs the loop at addr. */
void al_loop_ran(uint8_t shim, uintptr_t addr);
/* A close of the loop failed because handles were still open. */
void al_loop_close_busy(uintptr_t addr);
/* The loop closed: it and every record still on it are gone. serial 0
 * means whatever loop is open at addr. */
void al_loop_closed(uintptr_t addr, uint64_t serial);
/* Serial of the open loop at addr, 0 if none. */
uint64_t al_loop_serial(uintptr_t addr);

/* Finalizers, kept on the loop they belong to. add and remove return 0,
 * -ENOENT (no open loop at addr; remove: no such finalizer). */
int al_loop_fin_add(uintptr_t addr, struct al_fin *f);
int al_loop_fin_remove(uintptr_t addr, void (*fn)(void *, void *), void *arg);
/* Detaches the loop's finalizers, most recent first, and gives its shim. */
struct al_fin *al_loop_fin_take(uintptr_t addr, uint8_t *shim);
/* Notes for the report what became of the finalizers named in fns. */
void al_loop_fin_outcome(uintptr_t addr, unsigned outcome,
                         void *const fns[AL_FIN_NAMED]);
/* The shim of the open loop at addr; -ENOENT when there is none. */
int al_loop_shim(uintptr_t addr);

/* Runs the loop's finalizers, then drains it. Returns 0 (also when there
 * were none), -EDEADLK when the loop is running on this thread's stack (the
 * finalizers stay registered), -ETIMEDOUT when their work outlasted
 * drain_timeout_ms. */
int al_finally_run(uintptr_t loop);

/* A consistent copy of the registry for reporting. */
struct al_snapshot {
  struct al_res *res;    /* open records, inherited ones left out */
  size_t nres;
  struct al_loop *loops; /* loops not closed, inherited ones included */
  size_t nloops;
  uint64_t loops_closed; /* since start (or fork) */
  uint64_t created;      /* resources recorded since start (or fork) */
  unsigned shims_seen;   /* bit per shim that saw a loop or a resource */
  unsigned unreadable;   /* parts of the registry whose lock was never free */
};

/* Never waits long for a lock: exit() may come from a signal handler that
 * interrupted this very thread inside the registry. What stays locked is
 * counted in s->unreadable. Returns -1 when out of memory. */
int al_registry_snapshot(struct al_snapshot *s);
void al_snapshot_release(struct al_snapshot *s);

/* Fork support: lock everything before fork, release after. In the child,
 * records made before the fork are marked inherited. */
void al_registry_atfork_prepare(void);
void al_registry_atfork_parent(void);
void al_registry_atfork_child(void);
/* Forgets everything; for unit tests. */
void al_registry_reset(void);

/* ------------------------------------------------------------- symbols */

struct al_frame {
  const char *function; /* NULL when unknown */
  const char *file;     /* NULL without debug info */
  int line;
  const char *module;   /* base name of the object, NULL if unmapped */
  uintptr_t offset;     /* pc - module load address */
};

struct al_symbolizer;
struct al_symbolizer *al_symbolizer_new(void);
/* Fills f for a return address (looked up at pc - 1). Strings live as long
 * as the symbolizer. */
void al_symbolize(struct al_symbolizer *s, uintptr_t pc, struct al_frame *f);
void al_symbolizer_free(struct al_symbolizer *s);

/* ------------------------------------------------------------- report */

struct al_buf {
  char *data;
  size_t len, cap;
  int failed; /* an allocation failed; contents are truncated */
};

void al_buf_printf(struct al_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void al_buf_release(struct al_buf *b);

struct al_report_totals {
  size_t open;     /* unreported-internal open resources */
  size_t groups;
  size_t loops;
  size_t loops_unclosed;
  unsigned unreadable;
  uint64_t created;
  unsigned shims_seen;
};

/* Formats the report of snapshot s into b (nothing when nothing is open)
 * and fills totals. */
void al_report_format(struct al_snapshot *s, struct al_buf *b,
                      struct al_report_totals *t);

/* ------------------------------------------------------------- runtime */

/* Makes sure the runtime is initialised; cheap after the first call. */
void al_init_slow(void);
extern atomic_int al_ready;
static inline void al_init(void) {
  if (AL_UNLIKELY(!atomic_load_explicit(&al_ready, memory_order_acquire)))
    al_init_slow();
}

/* Takes the verdict and writes the report, once per process. */
void al_report_write(void);

/* The calling thread's kernel thread id, cached. */
pid_t al_gettid(void);
/* In a fork child: the cached id is the parent thread's. */
void al_tid_forget(void);
/* Copies len bytes from addr into dst without faulting. Returns 0 on
 * success, -1 when the memory is not readable. */
int al_safe_read(void *dst, const void *addr, size_t len);
/* Writes all of buf to fd, retrying on EINTR. */
int al_write_all(int fd, const char *buf, size_t len);
/* Prints "asyncleak: <message>\n" to fd 2 in one write. */
void al_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif /* ASYNCLEAK_INTERNAL_H_ */
