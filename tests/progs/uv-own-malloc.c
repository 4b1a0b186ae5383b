/* A program with its own malloc, as glibc allows: libuv, libc and the
 * runtime all allocate from it. The report is the usual one, and the
 * program's allocator saw the runtime's calls. AddressSanitizer brings its
 * own malloc, so a sanitizer build skips it.
 *
 * CHECK: ^allocations: [1-9][0-9]*$
 * CHECK: ==[0-9]+==ERROR: asyncleak: 1 handle left open at exit$
 * CHECK: ^1 handle of type uv_timer_t, created at:$
 * CHECK: #0 0x[0-9a-f]+ in leave_open .*uv-own-malloc.c:%line(leak)$
 * CHECK: #1 0x[0-9a-f]+ in main .*uv-own-malloc.c:%line(call)$
 * CHECK: ^SUMMARY: asyncleak: 1 handle left open \(1 uv_timer_t\) from 1 creation site; 1 of 1 loop not closed$
 * EXIT: 23
 * SANITIZED: skip
 *
 * [clean] RUN: clean
 * [clean] SANITIZED: skip
 * [clean] CHECK: ^allocations: [1-9][0-9]*$
 * [clean] CHECK-NOT: ERROR
 * [clean] EXIT: 0
 *
 * A crash inside the allocator, its lock held: the copy of the process that
 * writes the report waits on that lock forever. The process does not: it
 * gives up after report_timeout_ms and dies of its own signal.
 * [stuck] RUN: crash-in-malloc
 * [stuck] SANITIZED: skip
 * [stuck] ENV: ASYNCLEAK_OPTIONS=report_timeout_ms=300
 * [stuck] CHECK: ^crashing in malloc$
 * [stuck] CHECK: ^asyncleak: the report was not written within 300 ms \(report_timeout_ms\); the process ends without it$
 * [stuck] CHECK: was killed by signal 11 \(SIGSEGV: Segmentation fault\)$
 * [stuck] CHECK: ^asyncleak: it was killed before it could write its report: the report was not written within 300 ms \(report_timeout_ms\)
 * [stuck] CHECK-NOT: ERROR
 * [stuck] EXIT: 139
 */
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <uv.h>

/* ------------------------------------------- a small first-fit allocator */

/* Bump allocation from one large mapping; freed blocks are kept on one
 * list and reused when big enough. Enough for a short program. */
struct block {
  size_t size;
  struct block *next;
};

#define ARENA_SIZE (256u << 20)
#define ALIGN 16

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static char *arena, *top;
static struct block *free_list;
static unsigned long allocations;
static volatile int crash_next;

static size_t round_up(size_t n, size_t to) {
  return (n + to - 1) / to * to;
}

static void *take(size_t size, size_t align) {
  struct block **p, *b;
  char *at;

  if (align < ALIGN)
    align = ALIGN;
  size = round_up(size ? size : 1, ALIGN);
  pthread_mutex_lock(&lock);
  if (crash_next) {
    volatile int *nowhere = NULL;
    *nowhere = 1; /* with the lock held */
  }
  allocations++;
  for (p = &free_list; align == ALIGN && *p != NULL; p = &(*p)->next)
    if ((*p)->size >= size) {
      b = *p;
      *p = b->next;
      pthread_mutex_unlock(&lock);
      return (char *)b + ALIGN;
    }
  if (arena == NULL) {
    arena = mmap(NULL, ARENA_SIZE, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (arena == MAP_FAILED)
      abort();
    top = arena;
  }
  at = (char *)round_up((uintptr_t)top + ALIGN, align) - ALIGN;
  if (at + ALIGN + size > arena + ARENA_SIZE) {
    pthread_mutex_unlock(&lock);
    errno = ENOMEM;
    return NULL;
  }
  b = (struct block *)at;
  b->size = size;
  top = at + ALIGN + size;
  pthread_mutex_unlock(&lock);
  return at + ALIGN;
}

void *malloc(size_t size) {
  return take(size, ALIGN);
}

void free(void *ptr) {
  struct block *b;

  if (ptr == NULL)
    return;
  b = (struct block *)((char *)ptr - ALIGN);
  pthread_mutex_lock(&lock);
  b->next = free_list;
  free_list = b;
  pthread_mutex_unlock(&lock);
}

void *calloc(size_t n, size_t size) {
  void *p;

  if (size != 0 && n > SIZE_MAX / size) {
    errno = ENOMEM;
    return NULL;
  }
  p = take(n * size, ALIGN);
  if (p != NULL)
    memset(p, 0, n * size);
  return p;
}

void *realloc(void *ptr, size_t size) {
  struct block *b;
  void *p;

  if (ptr == NULL)
    return malloc(size);
  b = (struct block *)((char *)ptr - ALIGN);
  if (b->size >= size)
    return ptr;
  p = malloc(size);
  if (p != NULL) {
    memcpy(p, ptr, b->size);
    free(ptr);
  }
  return p;
}

int posix_memalign(void **out, size_t align, size_t size) {
  void *p = take(size, align);
  if (p == NULL)
    return ENOMEM;
  *out = p;
  return 0;
}

void *aligned_alloc(size_t align, size_t size) {
  return take(size, align);
}

void *memalign(size_t align, size_t size) {
  return take(size, align);
}

size_t malloc_usable_size(void *ptr) {
  return ptr ? ((struct block *)((char *)ptr - ALIGN))->size : 0;
}

/* ------------------------------------------------------------ the program */

static uv_timer_t timer;

static void leave_open(uv_loop_t *loop) {
  uv_timer_init(loop, &timer); /* @leak */
}

int main(int argc, char **argv) {
  uv_loop_t *loop = uv_default_loop();

  leave_open(loop); /* @call */
  uv_run(loop, UV_RUN_NOWAIT);
  if (argc > 1 && strcmp(argv[1], "clean") == 0) {
    uv_close((uv_handle_t *)&timer, NULL);
    uv_run(loop, UV_RUN_DEFAULT);
    uv_loop_close(loop);
  }
  printf("allocations: %lu\n", allocations);
  if (argc > 1 && strcmp(argv[1], "crash-in-malloc") == 0) {
    printf("crashing in malloc\n");
    fflush(stdout);
    crash_next = 1;
    free(malloc(1));
  }
  return 0;
}
