#!/usr/bin/env python3
# Runs a command and prints how it ended: "exit N", or "signal N" with
# " (core dumped)" when it made one, which a shell's $? cannot tell apart. Used by the tests of tests/cli, not a test.
#
#   status.py [--session] [--pid-file FILE] [--sigchld-ignored] command...
#
# --session starts the command in a session and process group of its own,
# whose id is its pid; --pid-file writes that pid to FILE; and
# --sigchld-ignored starts it with SIGCHLD ignored.
import os
import signal
import subprocess
import sys

args = sys.argv[1:]
session = False
pid_file = None
chld_ignored = False
while args and args[0].startswith("--"):
    opt = args.pop(0)
    if opt == "--session":
        session = True
    elif opt == "--pid-file":
        pid_file = args.pop(0)
    elif opt == "--sigchld-ignored":
        chld_ignored = True
    else:
        sys.exit("status.py: unknown option " + opt)


def child_setup():
    if chld_ignored:
        signal.signal(signal.SIGCHLD, signal.SIG_IGN)


# Python ignores SIGPIPE and takes SIGINT for itself: the command gets the
# defaults, as from a shell.
def restore():
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    child_setup()


p = subprocess.Popen(args, start_new_session=session, preexec_fn=restore)
if pid_file is not None:
    with open(pid_file + ".new", "w") as f:
        f.write("%d\n" % p.pid)
    os.rename(pid_file + ".new", pid_file)
_, status = os.waitpid(p.pid, 0)
if os.WIFSIGNALED(status):
    core = " (core dumped)" if os.WCOREDUMP(status) else ""
    print("signal %d%s" % (os.WTERMSIG(status), core))
else:
    print("exit %d" % os.WEXITSTATUS(status))
