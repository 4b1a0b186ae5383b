/* timeit: runs a command and says how long it took and how much memory it
 * used, for the benchmark driver.
 *
 *   timeit N command [args...]
 *
 * Runs the command N times, one after the other, and prints one line per
 * run after the lines the command printed:
 *
 *   wall_ms=<w> cpu_ms=<c> maxrss_kb=<m> status=<s> [exit_to_end_ms=<e>]
 *
 * wall_ms is from just before fork to the return of wait; cpu_ms the user
 * and system time of the command and what it waited for. maxrss_kb is the
 * peak resident set of the largest process run so far, the command or one
 * it waited for (a program under the asyncleak command is its child).
 * When the command printed a line "t_end_ns=<CLOCK_MONOTONIC in ns>" (the
 * moment its main returned), exit_to_end_ms is from then to the return of
 * wait: what exit costs, the report included. */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Reads the child's output to the end; keeps the value of t_end_ns. */
static uint64_t read_output(int fd) {
  char buf[4096], line[256];
  size_t len = 0;
  uint64_t t_end = 0;
  ssize_t n;

  while ((n = read(fd, buf, sizeof(buf))) != 0) {
    if (n < 0) {
      if (errno == EINTR)
        continue;
      break;
    }
    for (ssize_t i = 0; i < n; i++) {
      if (buf[i] != '\n') {
        if (len < sizeof(line) - 1)
          line[len++] = buf[i];
        continue;
      }
      line[len] = '\0';
      if (strncmp(line, "t_end_ns=", 9) == 0)
        t_end = strtoull(line + 9, NULL, 10);
      /* As it comes: a server's "port=" is awaited while it runs. */
      printf("%s\n", line);
      fflush(stdout);
      len = 0;
    }
  }
  return t_end;
}

static int run_once(char **argv) {
  int fds[2];
  struct rusage ru;
  uint64_t t0, t1, t_end;
  int status;
  pid_t pid;

  if (pipe(fds) != 0) {
    perror("timeit: pipe");
    return -1;
  }
  t0 = now_ns();
  pid = fork();
  if (pid < 0) {
    perror("timeit: fork");
    return -1;
  }
  if (pid == 0) {
    dup2(fds[1], 1);
    close(fds[0]);
    close(fds[1]);
    execvp(argv[0], argv);
    fprintf(stderr, "timeit: %s: %s\n", argv[0], strerror(errno));
    _exit(127);
  }
  close(fds[1]);
  t_end = read_output(fds[0]);
  close(fds[0]);
  while (wait4(pid, &status, 0, &ru) < 0) {
    if (errno != EINTR) {
      perror("timeit: wait4");
      return -1;
    }
  }
  t1 = now_ns();
  struct rusage children;
  if (getrusage(RUSAGE_CHILDREN, &children) == 0 &&
      children.ru_maxrss > ru.ru_maxrss)
    ru.ru_maxrss = children.ru_maxrss;
  printf("wall_ms=%.3f cpu_ms=%.3f maxrss_kb=%ld status=%d",
         (double)(t1 - t0) / 1e6,
         (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 +
             (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3,
         ru.ru_maxrss,
         WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
  if (t_end != 0 && t_end <= t1)
    printf(" exit_to_end_ms=%.3f", (double)(t1 - t_end) / 1e6);
  printf("\n");
  fflush(stdout);
  return 0;
}

int main(int argc, char **argv) {
  char *end;
  long n;

  if (argc < 3) {
    fprintf(stderr, "usage: timeit N command [args...]\n");
    return 2;
  }
  n = strtol(argv[1], &end, 10);
  if (*end != '\0' || n < 1 || n > 100000) {
    fprintf(stderr, "timeit: N must be a number from 1 to 100000\n");
    return 2;
  }
  for (long i = 0; i < n; i++)
    if (run_once(argv + 2) != 0)
      return 1;
  return 0;
}
