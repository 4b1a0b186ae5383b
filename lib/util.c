/* Small helpers shared by the core: a growing text buffer, whole writes,
 * one-line warnings, a cached thread id and a read that cannot fault. */
#define _GNU_SOURCE
#include <errno.h>
#include <link.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

void al_buf_printf(struct al_buf *b, const char *fmt, ...) {
  va_list ap;
  int n;

  if (b->failed)
    return;
  for (;;) {
    size_t room = b->cap - b->len;
    va_start(ap, fmt);
    n = vsnprintf(b->data ? b->data + b->len : NULL, room, fmt, ap);
    va_end(ap);
    if (n < 0) {
      b->failed = 1;
      return;
    }
    if ((size_t)n < room) {
      b->len += (size_t)n;
      return;
    }
    size_t cap = b->cap ? b->cap * 2 : 4096;
    while (cap - b->len <= (size_t)n)
      cap *= 2;
    char *p = realloc(b->data, cap);
    if (p == NULL) {
      b->failed = 1;
      return;
    }
    b->data = p;
    b->cap = cap;
  }
}

void al_buf_put_text(struct al_buf *b, const char *s) {
  size_t len;

  if (s == NULL) {
    al_buf_printf(b, "?");
    return;
  }
  len = strlen(s);
  while (len > 0 && !b->failed) {
    char piece[256];
    size_t used = al_escape(piece, sizeof(piece), s, len, NULL);

    al_buf_printf(b, "%s", piece);
    s += used;
    len -= used;
  }
}

void al_buf_release(struct al_buf *b) {
  free(b->data);
  b->data = NULL;
  b->len = b->cap = 0;
  b->failed = 0;
}

/* One write of what is left of v, the file size limit raised to its hard
 * limit for that write when own and it is what stops it. */
static ssize_t write_once(int fd, const struct iovec *v, int n, int own) {
  struct rlimit rl, raised;
  ssize_t w = writev(fd, v, n);
  int err = errno;

  if (w >= 0 || err != EFBIG || !own ||
      getrlimit(RLIMIT_FSIZE, &rl) != 0 || rl.rlim_cur == rl.rlim_max)
    return w;
  raised = rl;
  raised.rlim_cur = rl.rlim_max;
  if (setrlimit(RLIMIT_FSIZE, &raised) != 0) {
    errno = err;
    return w;
  }
  w = writev(fd, v, n);
  err = errno;
  setrlimit(RLIMIT_FSIZE, &rl);
  errno = err;
  return w;
}

int al_writev_all(int fd, const struct iovec *iov, int n, int own) {
  struct iovec v[4];
  sigset_t xfsz, was, pending;
  int rc = 0, err = 0, had = 0;

  if (n > 4)
    return -1;
  memcpy(v, iov, (size_t)n * sizeof(v[0]));
  /* A file size limit would kill the process with SIGXFSZ, which the
   * program may never have met: it is held off, and the one the
   * runtime's write caused is taken away. */
  sigemptyset(&xfsz);
  sigaddset(&xfsz, SIGXFSZ);
  pthread_sigmask(SIG_BLOCK, &xfsz, &was);
  if (sigpending(&pending) == 0)
    had = sigismember(&pending, SIGXFSZ);
  while (n > 0) {
    ssize_t w = write_once(fd, v, n, own);

    if (w < 0 && errno == EINTR)
      continue;
    if (w <= 0) {
      err = w < 0 ? errno : EIO;
      rc = -1;
      break;
    }
    while (n > 0 && (size_t)w >= v[0].iov_len) {
      w -= (ssize_t)v[0].iov_len;
      memmove(v, v + 1, (size_t)(n - 1) * sizeof(v[0]));
      n--;
    }
    if (n > 0) {
      v[0].iov_base = (char *)v[0].iov_base + w;
      v[0].iov_len -= (size_t)w;
    }
  }
  if (!had && sigpending(&pending) == 0 && sigismember(&pending, SIGXFSZ))
    sigtimedwait(&xfsz, NULL, &(struct timespec){0, 0});
  pthread_sigmask(SIG_SETMASK, &was, NULL);
  errno = err;
  return rc;
}

size_t al_put_ulong(char *buf, unsigned long long n) {
  char tmp[24];
  size_t len = 0, i = 0;

  do
    tmp[len++] = (char)('0' + n % 10);
  while ((n /= 10) != 0);
  while (len > 0)
    buf[i++] = tmp[--len];
  buf[i] = '\0';
  return i;
}

int al_write_all(int fd, const char *buf, size_t len) {
  struct iovec iov = {(void *)buf, len};
  int saved = errno, rc = al_writev_all(fd, &iov, 1, 0);

  if (rc == 0)
    errno = saved;
  return rc;
}

void al_warn(const char *fmt, ...) {
  char line[512];
  int saved = errno;
  size_t n = sizeof("asyncleak: ") - 1;
  va_list ap;
  int k;

  memcpy(line, "asyncleak: ", n);
  va_start(ap, fmt);
  k = vsnprintf(line + n, sizeof(line) - n - 1, fmt, ap);
  va_end(ap);
  if (k < 0)
    k = 0;
  n += (size_t)k < sizeof(line) - n - 1 ? (size_t)k : sizeof(line) - n - 2;
  line[n++] = '\n';
  al_write_all(2, line, n);
  errno = saved;
}

AL_TLS pid_t al_tid_cache;
/* Beside the lock functions that keep them; lib/defer.c uses them. */
AL_TLS volatile unsigned al_locks_held;
AL_TLS volatile unsigned al_deferred;

static AL_TLS unsigned round_depth;
static AL_TLS uint64_t round_id;
static atomic_uint_fast64_t rounds;

void al_probe_round_begin(void) {
  if (round_depth++ == 0)
    round_id = atomic_fetch_add_explicit(&rounds, 1, memory_order_relaxed) + 1;
}

void al_probe_round_end(void) {
  if (round_depth > 0)
    round_depth--;
}

uint64_t al_probe_round(void) {
  return round_depth > 0 ? round_id : 0;
}

pid_t al_gettid_slow(void) {
  al_tid_cache = (pid_t)syscall(SYS_gettid);
  return al_tid_cache;
}

void al_tid_forget(void) {
  al_tid_cache = 0;
}

int al_safe_read(void *dst, const void *addr, size_t len) {
  struct iovec local = {dst, len};
  struct iovec remote = {(void *)addr, len};
  int saved = errno;
  ssize_t n = process_vm_readv(getpid(), &local, 1, &remote, 1, 0);

  errno = saved;
  return n == (ssize_t)len ? 0 : -1;
}

/* A lock held by the interrupted thread itself is never released: exit()
 * may come from a signal handler. Wait a little, then give up. */
int al_lock_briefly(pthread_mutex_t *m, int *budget) {
  const struct timespec pause = {0, 1000000};
  for (;;) {
    al_held_more();
    if (pthread_mutex_trylock(m) == 0)
      return 0;
    al_held_less();
    if (*budget <= 0)
      return -1;
    --*budget;
    nanosleep(&pause, NULL);
  }
}

static inline void cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  __asm__ volatile("yield");
#endif
}

/* Spins, then yields, then sleeps: yielding alone never lets a holder of
 * lower real-time priority on the same processor run. */
void al_spin_wait(al_spin_t *l) {
  const struct timespec nap = {0, 50000};
  for (unsigned tries = 0;; tries++) {
    if (atomic_load_explicit(&l->held, memory_order_relaxed) == 0 &&
        al_spin_take(l))
      return;
    if (tries < 64)
      cpu_relax();
    else if (tries < 1024)
      sched_yield();
    else
      nanosleep(&nap, NULL);
  }
}

int al_spin_lock_briefly(al_spin_t *l, int *budget) {
  const struct timespec pause = {0, 1000000};
  for (;;) {
    /* Held for nanoseconds at a time: spinning a moment usually gets it
     * without spending the budget. */
    for (int i = 0; i < 1000; i++) {
      if (al_spin_trylock(l))
        return 0;
      cpu_relax();
    }
    if (*budget <= 0)
      return -1;
    --*budget;
    nanosleep(&pause, NULL);
  }
}

void *al_next_symbol(const char *name, void *ours) {
  void *next = dlsym(RTLD_NEXT, name);
  void *first;

  /* Loaded after the C library (linked by a library the program links,
   * not preloaded), the runtime has nothing after it: the C library's, or
   * what stands in front of it, comes first. */
  if (next == NULL && (first = dlsym(RTLD_DEFAULT, name)) != ours)
    next = first;
  return next;
}

typedef int clock_gettime_fn(clockid_t, struct timespec *);
static clock_gettime_fn *real_clock_gettime;

/* Before main: dlsym() is no call for a signal handler. */
__attribute__((constructor)) static void clock_init(void) {
  real_clock_gettime = (clock_gettime_fn *)al_next_symbol(
      "clock_gettime", (void *)clock_gettime);
}

/* The C library's clock, not the runtime's own clock_gettime, which gives
 * loops their virtual time (lib/vtime.c). */
int al_clock_real(clockid_t id, struct timespec *ts) {
  clock_gettime_fn *real = real_clock_gettime;

  /* Before the constructor ran (another library's constructor). */
  if (AL_UNLIKELY(real == NULL))
    real = real_clock_gettime = (clock_gettime_fn *)al_next_symbol(
        "clock_gettime", (void *)clock_gettime);
  if (AL_UNLIKELY(real == NULL)) {
    errno = ENOSYS;
    return -1;
  }
  return real(id, ts);
}

/* Not the coarse clock: it lags by up to a tick (4 ms here), which would
 * end a drain before drain_timeout_ms had passed. Through the vDSO this
 * costs tens of nanoseconds on the path of a request. */
uint64_t al_now_ms(void) {
  struct timespec ts;
  al_clock_real(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* The same clock as of its last tick: a few nanoseconds through the vDSO,
 * where al_now_ms costs tens. For times only shown, taken where a loop
 * run begins and waits. */
uint64_t al_coarse_ms(void) {
  struct timespec ts;
  if (al_clock_real(CLOCK_MONOTONIC_COARSE, &ts) != 0)
    return al_now_ms();
  return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* What al_code_range and al_object_range look for: the object holding
 * pc, and in it the executable segment holding pc, or (whole) the span of
 * all its loadable segments. */
struct code_search {
  uintptr_t pc, lo, hi;
  int in_exe, whole;
};

static int find_code(struct dl_phdr_info *info, size_t size, void *arg) {
  struct code_search *c = arg;
  uintptr_t lo = UINTPTR_MAX, hi = 0;
  int found = 0;

  (void)size;
  for (int i = 0; i < info->dlpi_phnum; i++) {
    const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
    uintptr_t a = info->dlpi_addr + ph->p_vaddr;
    if (ph->p_type != PT_LOAD)
      continue;
    lo = a < lo ? a : lo;
    hi = a + ph->p_memsz > hi ? a + ph->p_memsz : hi;
    if (c->pc >= a && c->pc < a + ph->p_memsz &&
        (c->whole || (ph->p_flags & PF_X)) && !found) {
      found = 1;
      c->lo = a;
      c->hi = a + ph->p_memsz;
    }
  }
  if (!found)
    return 0;
  if (c->whole) {
    c->lo = lo;
    c->hi = hi;
  }
  c->in_exe = info->dlpi_name == NULL || info->dlpi_name[0] == '\0';
  return 1;
}

static int find_range(struct code_search *c, uintptr_t *lo, uintptr_t *hi) {
  if (dl_iterate_phdr(find_code, c) == 0)
    return -1;
  *lo = c->lo;
  *hi = c->hi;
  return 0;
}

int al_code_range(uintptr_t pc, uintptr_t *lo, uintptr_t *hi, int *in_exe) {
  struct code_search c = {pc, 0, 0, 0, 0};

  if (find_range(&c, lo, hi) != 0)
    return -1;
  if (in_exe != NULL)
    *in_exe = c.in_exe;
  return 0;
}

int al_object_range(uintptr_t pc, uintptr_t *lo, uintptr_t *hi) {
  struct code_search c = {pc, 0, 0, 0, 1};

  return find_range(&c, lo, hi);
}

void *al_dlsym_in(const char *object, const char *name, void *self) {
  void *h = dlopen(object, RTLD_LAZY | RTLD_NOLOAD);
  void *p = NULL;

  if (h != NULL) {
    p = dlsym(h, name);
    dlclose(h);
  }
  return p == self ? NULL : p;
}
