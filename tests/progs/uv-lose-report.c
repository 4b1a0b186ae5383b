/* A program that, after start, takes away what a report written at exit
 * would need, then leaks a timer (leak) or closes everything (clean):
 * tests/cli/report-channel.sh runs each way. HOW is one of
 *   none      nothing taken away
 *   setuid    the user changes to 65534 (needs root)
 *   nofile    RLIMIT_NOFILE lowered to the descriptors open
 *   seccomp   open() and openat() fail with EPERM
 *   chroot    the root changes to the empty directory ARG (needs root)
 *   fsize     RLIMIT_FSIZE 0, the soft limit only
 *   fsize-hard  the same, hard limit too: the report cannot be written
 *   as        RLIMIT_AS just above what the process uses, the soft limit
 *   as-hard   the same, hard limit too: the report cannot be made
 *   sigkill   the process kills itself with SIGKILL
 *   inetd     a child changes to user 65534 and executes ARG (needs root)
 *   collide   the file of this process is made to look finished, then the
 *             process executes itself again (none leak)
 *
 * RUN: none leak
 * EXIT: 23
 * CHECK: ^SUMMARY: asyncleak: 1 handle left open \(1 uv_timer_t\)
 * [clean] RUN: none clean
 * [clean] EXIT: 0
 * [clean] CHECK: ^asyncleak: no leaks: 1 loop\(s\), 1 handle\(s\) created, all closed$
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <uv.h>

static uv_timer_t timer;

static void die(const char *what) {
  perror(what);
  exit(99);
}

static void drop_user(void) {
  if (setgroups(0, NULL) != 0 || setgid(65534) != 0 || setuid(65534) != 0)
    die("setuid");
}

/* The lowest free descriptor: with the limit there, nothing more opens. */
static void nofile(void) {
  int fd = dup(0);
  struct rlimit rl;

  if (fd < 0)
    die("dup");
  close(fd);
  rl.rlim_cur = rl.rlim_max = (rlim_t)fd;
  if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
    die("setrlimit");
}

/* A filter written by hand: open and openat fail with EPERM, everything
 * else is allowed. */
static void seccomp(void) {
  struct sock_filter code[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_openat, 2, 0),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_open, 1, 0),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
  };
  struct sock_fprog prog = {sizeof(code) / sizeof(code[0]), code};

  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
      prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) != 0)
    die("seccomp");
  if (open("/dev/null", O_RDONLY) >= 0 || errno != EPERM)
    die("the filter lets open through");
}

static void limit(int resource, rlim_t soft, int hard) {
  struct rlimit rl;

  if (getrlimit(resource, &rl) != 0)
    die("getrlimit");
  rl.rlim_cur = soft;
  if (hard)
    rl.rlim_max = soft;
  if (setrlimit(resource, &rl) != 0)
    die("setrlimit");
}

/* Just above the address space in use: the report's memory is not
 * there. */
static void address_space(int hard) {
  unsigned long pages = 0;
  FILE *f = fopen("/proc/self/statm", "r");

  if (f == NULL || fscanf(f, "%lu", &pages) != 1)
    die("statm");
  fclose(f);
  limit(RLIMIT_AS, (rlim_t)pages * (rlim_t)sysconf(_SC_PAGESIZE) + 65536,
        hard);
}

/* inetd: a child per service, which changes user and runs it. */
static void inetd(const char *program) {
  int status;
  pid_t pid = fork();

  if (pid < 0)
    die("fork");
  if (pid == 0) {
    drop_user();
    execl(program, program, "none", "leak", (char *)NULL);
    _exit(127);
  }
  if (waitpid(pid, &status, 0) != pid)
    die("waitpid");
  printf("service status %d\n", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
}

/* What a finished report looks like to the runtime of a new image: its
 * totals block. */
static void collide(char **argv) {
  const char *opts = getenv("ASYNCLEAK_OPTIONS");
  const char *dir = opts != NULL ? strstr(opts, "report_dir='") : NULL;
  char path[4096], prefix[32];
  struct dirent *e;
  DIR *d;

  if (dir == NULL)
    die("no report_dir");
  snprintf(path, sizeof(path), "%s", dir + 12);
  *strchr(path, '\'') = '\0';
  snprintf(prefix, sizeof(prefix), "%d-", (int)getpid());
  d = opendir(path);
  if (d == NULL)
    die("opendir");
  while ((e = readdir(d)) != NULL)
    if (!strncmp(e->d_name, prefix, strlen(prefix))) {
      int fd = openat(dirfd(d), e->d_name, O_WRONLY | O_APPEND);
      if (fd < 0 || write(fd, "@sum 0\n\n", 8) != 8)
        die("write");
      close(fd);
    }
  closedir(d);
  execl("/proc/self/exe", argv[0], "none", "leak", (char *)NULL);
  die("exec");
}

int main(int argc, char **argv) {
  uv_loop_t *loop = uv_default_loop();
  const char *how = argc > 1 ? argv[1] : "none";
  int leak = argc > 2 && !strcmp(argv[2], "leak");

  setvbuf(stdout, NULL, _IONBF, 0);
  uv_timer_init(loop, &timer); /* @leak */
  if (!strcmp(how, "setuid")) {
    drop_user();
  } else if (!strcmp(how, "nofile")) {
    nofile();
  } else if (!strcmp(how, "seccomp")) {
    seccomp();
  } else if (!strcmp(how, "chroot")) {
    if (argc < 4 || chroot(argv[3]) != 0 || chdir("/") != 0)
      die("chroot");
  } else if (!strcmp(how, "fsize")) {
    limit(RLIMIT_FSIZE, 0, 0);
  } else if (!strcmp(how, "fsize-hard")) {
    limit(RLIMIT_FSIZE, 0, 1);
  } else if (!strcmp(how, "as")) {
    address_space(0);
  } else if (!strcmp(how, "as-hard")) {
    address_space(1);
  } else if (!strcmp(how, "sigkill")) {
    raise(SIGKILL);
  } else if (!strcmp(how, "inetd")) {
    if (argc < 4)
      die("inetd needs a program");
    inetd(argv[3]);
  } else if (!strcmp(how, "collide")) {
    collide(argv);
  } else if (strcmp(how, "none") != 0) {
    fprintf(stderr, "unknown: %s\n", how);
    return 2;
  }
  if (!leak) {
    uv_close((uv_handle_t *)&timer, NULL);
    uv_run(loop, UV_RUN_DEFAULT);
    uv_loop_close(loop);
  }
  return 0;
}
