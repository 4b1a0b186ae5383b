# What the real-program tests share, besides tests/cli/lib.sh: checks of
# the JSON report and of the text report in $tmp/err.
. tests/cli/lib.sh

# expect EXPECTATION...: the JSON report $tmp/report.json holds them
# (tests/real/report.py).
expect() {
  out=$(python3 tests/real/report.py "$tmp/report.json" "$@") ||
    fail "$out
stderr was:
$(cat "$tmp/err")"
}

# count N ERE: $tmp/err has exactly N lines that match ERE.
count() {
  n=$(grep -cE -- "$2" "$tmp/err")
  [ "$n" -eq "$1" ] ||
    fail "$n lines match '$2', expected $1, in:
$(cat "$tmp/err")"
}

# skip REASON...: the test cannot run here; says why, and exits 77, which
# tests/run-scenarios.sh counts as a skip.
skip() {
  echo "$test_name: skipped: $*" >&2
  exit 77
}

# libev_runtime: the runtime the asyncleak command preloads follows libev
# (it interposes ev_run). Without that, a libev program runs under
# asyncleak unwatched, and only its behaviour can be checked.
libev_runtime() {
  nm -D --defined-only \
    "$(dirname "$ASYNCLEAK")/../lib/libasyncleak.so" 2>/dev/null |
    awk '$NF == "ev_run" { f = 1 } END { exit !f }'
}

# glib_runtime: the runtime the asyncleak command preloads follows GLib's
# main loop (it interposes g_main_loop_run). Without that, a GLib program
# runs under asyncleak unwatched, and only its behaviour can be checked.
glib_runtime() {
  nm -D --defined-only \
    "$(dirname "$ASYNCLEAK")/../lib/libasyncleak.so" 2>/dev/null |
    awk '$NF == "g_main_loop_run" { f = 1 } END { exit !f }'
}

# unwatched NAME: $tmp/err is the end of a run asyncleak did not follow,
# of the program NAME (as asyncleak names it): it says so, and checked
# nothing.
unwatched() {
  grep -q "no supported event loop library .* was used by '$1'" "$tmp/err" ||
    fail "not the run of an unwatched $1: $(cat "$tmp/err")"
}

# $plain COMMAND...: runs what is not under test (a client, a helper, the
# program run alone to compare with) without what a sanitizer build
# preloads into every test (the Makefile's SAN_ENV): curl, like ps, hangs
# with AddressSanitizer's runtime preloaded. A command, for timeout(1).
plain="env -u LD_PRELOAD -u ASAN_OPTIONS"

# free_port: a port of 20000-39999 free on 127.0.0.1 for both UDP and
# TCP. Another process may take it before the program binds it: callers
# try again when the program says so.
free_port() {
  timeout -k 2 10 $plain python3 -c '
import random, socket, sys
for _ in range(50):
    port = random.randrange(20000, 40000)
    try:
        for kind in (socket.SOCK_DGRAM, socket.SOCK_STREAM):
            s = socket.socket(socket.AF_INET, kind)
            try:
                s.bind(("127.0.0.1", port))
            finally:
                s.close()
    except OSError:
        continue
    print(port)
    sys.exit(0)
sys.exit("no free port")'
}

# listening PORT PID: process PID has a TCP socket listening on
# 127.0.0.1:PORT (not some other process that took the port first).
listening() {
  for inode in $(awk -v a="$(printf '0100007F:%04X' "$1")" \
    '$2 == a && $4 == "0A" { print $10 }' /proc/net/tcp); do
    for fd in /proc/"$2"/fd/*; do
      [ "$(readlink "$fd" 2>/dev/null)" = "socket:[$inode]" ] && return 0
    done
  done
  return 1
}

# children PID: the pids of PID's children, from /proc (ps and pgrep
# may hang with a sanitizer's runtime preloaded).
children() {
  for d in /proc/[0-9]*; do
    [ "$(awk '$1 == "PPid:" { print $2 }' "$d/status" 2>/dev/null)" = "$1" ] &&
      echo "${d#/proc/}"
  done
}

# await_file FILE PID WHAT LOG: waits up to 10 s for the process PID
# (WHAT, writing to LOG) to write FILE, and fails if it ends first.
await_file() {
  i=0
  until [ -s "$1" ]; do
    kill -0 "$2" 2>/dev/null || fail "$3 ended at start: $(cat "$4")"
    i=$((i + 1))
    [ $i -le 100 ] || fail "$3 did not start within 10 s: $(cat "$4")"
    sleep 0.1
  done
}

# backend_start: an HTTP server on 127.0.0.1 that answers hello-backend,
# for the proxies to reach; sets $backend (its pid, to kill) and $bport.
# It picks its own port, so none is taken from under it.
backend_start() {
  mkdir -p "$tmp/www" && echo hello-backend >"$tmp/www/index.html" ||
    fail "cannot create $tmp/www"
  cat >"$tmp/backend.py" <<'PY'
import http.server, os, sys
os.chdir(sys.argv[1])
class Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass
srv = http.server.HTTPServer(("127.0.0.1", 0), Quiet)
with open("../backend.port.tmp", "w") as f:
    f.write("%d\n" % srv.server_address[1])
os.rename("../backend.port.tmp", "../backend.port")
srv.serve_forever()
PY
  timeout -k 2 240 $plain python3 "$tmp/backend.py" "$tmp/www" \
    >"$tmp/backend.out" 2>&1 </dev/null &
  backend=$!
  await_file "$tmp/backend.port" $backend "the backend" "$tmp/backend.out"
  # shellcheck disable=SC2034 # for the tests that source this file
  bport=$(cat "$tmp/backend.port")
}
