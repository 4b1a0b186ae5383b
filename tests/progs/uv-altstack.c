/* A program with its own small alternate signal stack, as crash reporters
 * and language runtimes install one: the runtime's handler runs on it
 * (SA_ONSTACK), and the report is still written, on a stack of the
 * runtime's own. RUN: abort|segv|sigterm [clean]; clean closes the timer
 * first, and then nothing is reported. RUN: reporter: a handler of the
 * program's, on that stack, forks and executes a reporter, found along
 * PATH, as crash reporters do; the runtime's notes of the child and of
 * the exec fit on it. AddressSanitizer handles SIGSEGV
 * itself, so a sanitizer build skips the run about it.
 *
 * [abort] RUN: abort
 * [abort] CHECK: ^alternate stack of 8192 bytes$
 * [abort] CHECK: ==[0-9]+==ERROR: asyncleak: 1 handle left open when the program crashed \(SIGABRT\)$
 * [abort] CHECK: #0 0x[0-9a-f]+ in leave_open .*uv-altstack.c:%line(leak)$
 * [abort] CHECK: was killed by signal 6 \(SIGABRT: Aborted\)$
 * [abort] CHECK-NOT: killed before it could write its report
 * [abort] EXIT: 134
 *
 * [abort-clean] RUN: abort clean
 * [abort-clean] CHECK: ^alternate stack of 8192 bytes$
 * [abort-clean] CHECK: was killed by signal 6 \(SIGABRT: Aborted\)$
 * [abort-clean] CHECK-NOT: ERROR
 * [abort-clean] CHECK-NOT: killed before it could write its report
 * [abort-clean] EXIT: 134
 *
 * [segv] SANITIZED: skip
 * [segv] RUN: segv
 * [segv] CHECK: ^alternate stack of 8192 bytes$
 * [segv] CHECK: ==[0-9]+==ERROR: asyncleak: 1 handle left open when the program crashed \(SIGSEGV\)$
 * [segv] CHECK: #0 0x[0-9a-f]+ in leave_open .*uv-altstack.c:%line(leak)$
 * [segv] CHECK: was killed by signal 11 \(SIGSEGV: Segmentation fault\)$
 * [segv] CHECK-NOT: killed before it could write its report
 * [segv] CHECK-NOT: after the fault
 * [segv] EXIT: 139
 *
 * [segv-clean] SANITIZED: skip
 * [segv-clean] RUN: segv clean
 * [segv-clean] CHECK: was killed by signal 11 \(SIGSEGV: Segmentation fault\)$
 * [segv-clean] CHECK-NOT: ERROR
 * [segv-clean] CHECK-NOT: killed before it could write its report
 * [segv-clean] EXIT: 139
 *
 * [term] RUN: sigterm
 * [term] CHECK: ==[0-9]+==ERROR: asyncleak: 1 handle left open when SIGTERM ended the program$
 * [term] CHECK: #0 0x[0-9a-f]+ in leave_open .*uv-altstack.c:%line(leak)$
 * [term] CHECK: was killed by signal 15 \(SIGTERM: Terminated\)$
 * [term] CHECK-NOT: killed before it could write its report
 * [term] EXIT: 143
 *
 * [term-clean] RUN: sigterm clean
 * [term-clean] CHECK: was killed by signal 15 \(SIGTERM: Terminated\)$
 * [term-clean] CHECK-NOT: ERROR
 * [term-clean] CHECK-NOT: killed before it could write its report
 * [term-clean] EXIT: 143
 *
 * [reporter] RUN: reporter
 * [reporter] SANITIZED: skip
 * [reporter] CHECK: ^alternate stack of 8192 bytes$
 * [reporter] CHECK: ^the reporter exited 0$
 * [reporter] CHECK-NOT: ERROR
 * [reporter] EXIT: 0
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
#include <uv.h>

/* As small as a handler that does little needs: SIGSTKSZ, where glibc's
 * MINSIGSTKSZ is 2 KiB; a crash reporter's is often 16 to 64 KiB. */
#define ALT_STACK_BYTES (8 * 1024)

static uv_timer_t timer;

static void on_tick(uv_timer_t *t) {
  (void)t;
}

static void leave_open(uv_loop_t *loop) {
  uv_timer_init(loop, &timer); /* @leak */
  uv_timer_start(&timer, on_tick, 60000, 0);
}

/* The stack with an inaccessible page below it, as runtimes map theirs:
 * running off its end faults at once rather than writing over memory. */
static void small_alt_stack(void) {
  long page = sysconf(_SC_PAGESIZE);
  char *base = mmap(NULL, ALT_STACK_BYTES + page, PROT_READ | PROT_WRITE,
                    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  stack_t ss;

  if (base == MAP_FAILED || mprotect(base, page, PROT_NONE) != 0) {
    perror("alternate stack");
    exit(1);
  }
  ss.ss_sp = base + page;
  ss.ss_size = ALT_STACK_BYTES;
  ss.ss_flags = 0;
  if (sigaltstack(&ss, NULL) != 0) {
    perror("sigaltstack");
    exit(1);
  }
  printf("alternate stack of %d bytes\n", ALT_STACK_BYTES);
}

/* A crash reporter's handler: runs "true" in a child, on the small stack,
 * and says how it ended. */
static void run_reporter(int sig) {
  static char name[] = "true";
  static const char exited[] = "the reporter exited 0\n";
  static const char failed[] = "the reporter failed\n";
  char *args[] = {name, NULL};
  int status = 0;
  pid_t child = fork();

  (void)sig;
  if (child == 0) {
    execvp(name, args);
    _exit(127);
  }
  if (child > 0 && waitpid(child, &status, 0) == child &&
      WIFEXITED(status) && WEXITSTATUS(status) == 0)
    write(1, exited, sizeof(exited) - 1);
  else
    write(1, failed, sizeof(failed) - 1);
}

int main(int argc, char **argv) {
  const char *how = argc > 1 ? argv[1] : "abort";
  uv_loop_t *loop = uv_default_loop();

  small_alt_stack();
  leave_open(loop);
  uv_run(loop, UV_RUN_NOWAIT);
  if (argc > 2 && strcmp(argv[2], "clean") == 0) {
    uv_close((uv_handle_t *)&timer, NULL);
    uv_run(loop, UV_RUN_DEFAULT);
    uv_loop_close(loop);
  }
  fflush(stdout);
  if (strcmp(how, "abort") == 0)
    abort();
  if (strcmp(how, "segv") == 0) {
    volatile int *nowhere = NULL;
    *nowhere = 1;
    printf("after the fault\n");
  }
  if (strcmp(how, "sigterm") == 0)
    raise(SIGTERM);
  if (strcmp(how, "reporter") == 0) {
    struct sigaction sa;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = run_reporter;
    sa.sa_flags = SA_ONSTACK;
    sigaction(SIGUSR1, &sa, NULL);
    raise(SIGUSR1);
    uv_close((uv_handle_t *)&timer, NULL);
    uv_run(loop, UV_RUN_DEFAULT);
    uv_loop_close(loop);
  }
  return 0;
}
