/* A program that counts on the descriptor numbers open() and dup() give,
 * run by tests/cli/fd-numbers.sh with the runtime preloaded:
 *
 *   fd-numbers seccomp|chroot DIR   closes stdin, installs a seccomp
 *       filter that makes one unused call fail (seccomp), or enters DIR
 *       (chroot), then prints "dup: N" for the number dup(1) returns:
 *       0, the lowest free one, as without the runtime
 *   fd-numbers daemon FILE   closes stdin, calls daemon(1, 0), and the
 *       daemon writes to FILE whether its stdin is open and inherited by
 *       what it would execute
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Fails acct(2), which nothing here calls; allows every other call. */
static int lock_in(void) {
  struct sock_filter code[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 0 /* seccomp_data.nr */),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_acct, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  struct sock_fprog prog = {sizeof(code) / sizeof(code[0]), code};

  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
    return -1;
  return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0);
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: fd-numbers seccomp|chroot DIR | daemon FILE\n");
    return 2;
  }
  close(0);
  if (!strcmp(argv[1], "daemon")) {
    char text[64];
    int flags, fd;

    if (daemon(1, 0) != 0) {
      perror("daemon");
      return 1;
    }
    flags = fcntl(0, F_GETFD);
    snprintf(text, sizeof(text), "stdin: %s\n",
             flags < 0                 ? "closed"
             : (flags & FD_CLOEXEC) != 0 ? "close-on-exec"
                                         : "inherited");
    fd = open(argv[2], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text))
      return 1;
    return close(fd) != 0;
  }
  if (!strcmp(argv[1], "seccomp") ? lock_in() != 0
                                  : chroot(argv[2]) != 0 || chdir("/") != 0) {
    printf("cannot %s: %s\n", argv[1], strerror(errno));
    return 77;
  }
  printf("dup: %d\n", dup(1));
  return 0;
}
