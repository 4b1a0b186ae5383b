/* many-reports: what the asyncleak command takes to read the files of a
 * run with many processes (a test runner that starts thousands).
 *
 *   many-reports N [STRAGGLER_MS]
 *
 * Run under the command, it writes N report files into the run's report
 * directory, as N processes that each named the next as their child
 * would have, then prints t_end_ns (bench/timeit.c) and exits: the time
 * from then to the command's end is the reading. The pids are above any
 * the kernel hands out, so that none of them is running. With
 * STRAGGLER_MS, it leaves a child running that long after it: the command
 * then looks at the directory again and again while it waits for it. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Beyond PID_MAX_LIMIT (4194304): never a live process. */
enum { FIRST_PID = 100000000 };

/* The report directory the command passed in ASYNCLEAK_OPTIONS, the last
 * report_dir='...' entry. */
static int report_dir(char *dir, size_t size) {
  const char *opts = getenv("ASYNCLEAK_OPTIONS"), *at = NULL, *p;
  size_t len;

  for (p = opts; p != NULL && (p = strstr(p, "report_dir='")) != NULL; p++)
    at = p + strlen("report_dir='");
  if (at == NULL || (len = strcspn(at, "'")) == 0 || len >= size)
    return -1;
  memcpy(dir, at, len);
  dir[len] = '\0';
  return 0;
}

int main(int argc, char **argv) {
  long n = argc > 1 ? atol(argv[1]) : 20000;
  char dir[4096], path[4352], text[512], sum[128];
  struct timespec t;

  if (n <= 0 || report_dir(dir, sizeof(dir)) != 0) {
    fprintf(stderr, "usage: asyncleak many-reports N\n");
    return 2;
  }
  for (long i = 0; i < n; i++) {
    long pid = FIRST_PID + i;
    int len, slen, fd;

    slen = snprintf(sum, sizeof(sum), "pid=%ld\nended=exit\nlibs=\n", pid);
    len = snprintf(text, sizeof(text),
                   "pid=%ld\nppid=%ld\nforked=0\nexe=/bin/true\n"
                   "child=%ld-%ld\n@sum %d\n%s\n",
                   pid, pid - 1, pid + 1, 1000 + i + 1, slen, sum);
    snprintf(path, sizeof(path), "%s/%ld-%ld.report", dir, pid, 1000 + i);
    fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0 || write(fd, text, (size_t)len) != len) {
      perror(path);
      return 1;
    }
    close(fd);
  }
  if (argc > 2) {
    long ms = atol(argv[2]);
    pid_t pid = fork();

    if (pid < 0) {
      perror("fork");
      return 1;
    }
    if (pid == 0) {
      /* Not holding the pipe timeit reads to its end. */
      int null = open("/dev/null", O_WRONLY);

      dup2(null, STDOUT_FILENO);
      nanosleep(&(struct timespec){ms / 1000, (ms % 1000) * 1000000}, NULL);
      return 0;
    }
  }
  clock_gettime(CLOCK_MONOTONIC, &t);
  printf("t_end_ns=%" PRIu64 "\n",
         (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec);
  return 0;
}
