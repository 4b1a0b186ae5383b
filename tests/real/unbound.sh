# unbound, which runs on libevent 2.1, under asyncleak: each
# `unbound-control reload` frees the worker's base and makes another, and
# unbound frees the memory of its events (its own, given to event_assign)
# as it goes, reusing it for other data. Five reloads, then SIGTERM, which
# unbound handles itself, freeing its last base and returning from main:
# six bases, all freed with nothing added, and no report of a leak.
. tests/cli/lib.sh

for c in unbound unbound-control; do
  command -v $c >/dev/null 2>&1 || [ -x /usr/sbin/$c ] ||
    fail "$c is not installed (scripts/install-deps.sh)"
done
command -v python3 >/dev/null 2>&1 || fail "python3 is not installed"
PATH=$PATH:/usr/sbin

bg=
trap '[ -z "$bg" ] || { kill -TERM $bg 2>/dev/null; wait $bg; }
      rm -rf "$tmp"' EXIT

port=$(timeout -k 2 10 python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])') || fail "no free port"
cat >"$tmp/unbound.conf" <<EOF
server:
  interface: 127.0.0.1
  port: $port
  do-daemonize: no
  username: ""
  chroot: ""
  directory: "$tmp"
  pidfile: "$tmp/unbound.pid"
  use-syslog: no
  logfile: "$tmp/unbound.log"
  num-threads: 1
  do-ip6: no
  module-config: "iterator"
remote-control:
  control-enable: yes
  control-interface: $tmp/control.sock
  control-use-cert: no
EOF

timeout -k 3 30 "$ASYNCLEAK" unbound -c "$tmp/unbound.conf" \
  >"$tmp/out" 2>"$tmp/err" </dev/null &
bg=$!
i=0
until [ -S "$tmp/control.sock" ] && [ -s "$tmp/unbound.pid" ]; do
  kill -0 $bg 2>/dev/null || fail "unbound ended at start: $(cat "$tmp/err")"
  i=$((i + 1))
  [ $i -le 100 ] || fail "unbound did not start within 10 s"
  sleep 0.1
done
upid=$(cat "$tmp/unbound.pid")
for n in 1 2 3 4 5; do
  reply=$(timeout -k 2 10 unbound-control -c "$tmp/unbound.conf" reload 2>&1)
  [ "$reply" = ok ] || fail "reload $n answered '$reply'"
done
kill -TERM "$upid" || fail "no unbound $upid to stop"
status=0
wait $bg || status=$?
bg=
case $status in
  124 | 137) fail "unbound did not end on SIGTERM within 30 s" ;;
esac
expect_status 0
expect_no "$tmp/err" "ERROR"
expect_no "$tmp/err" "added"
grep -qE '^asyncleak: no leaks: 6 loop\(s\), [0-9]+ handle\(s\) created, all closed$' \
  "$tmp/err" || fail "not the report of six bases freed clean:
$(cat "$tmp/err")"
