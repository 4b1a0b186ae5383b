# gst-launch-1.0 (GStreamer 1.22, Debian's gstreamer1.0-tools) under
# asyncleak, as alone:
# a) a pipeline of 50 empty buffers from fakesrc to fakesink runs to its
#    end of stream, and gst-launch tears it down and exits 0;
# b) a live pipeline that never ends is stopped by SIGINT: gst-launch's
#    g_unix_signal_add source posts a message and returns
#    G_SOURCE_REMOVE, the bus watch quits the loop, and it exits 0.
# gst-launch attaches a bus watch and SIGINT and SIGHUP sources to the
# default context and removes them (g_source_remove, or the SIGINT
# callback's G_SOURCE_REMOVE) before it returns; the pipeline's
# streaming threads and clock run no GLib context: nothing is attached
# at exit (a list of the default context's sources then is empty).
# GStreamer reads a registry of its plugins; the test gives it one of its
# own, holding only the core elements, built in-process by the first run
# (no gst-plugin-scanner child), so that every run does the same.
. tests/real/lib.sh

command -v gst-launch-1.0 >/dev/null 2>&1 ||
  skip "gst-launch-1.0 is not installed (scripts/install-deps.sh)"
# The core elements are next to the library gst-launch-1.0 links.
lib=$($plain ldd "$(command -v gst-launch-1.0)" 2>/dev/null |
  awk '$1 ~ /^libgstreamer-1\.0\.so/ { print $3 }')
plugins=$(dirname "${lib:-/nonexistent/x}")/gstreamer-1.0
[ -f "$plugins/libgstcoreelements.so" ] ||
  skip "no GStreamer core elements in $plugins (scripts/install-deps.sh)"

bg=
gpid=
# Whatever happens, no gst-launch-1.0 is left behind.
trap '[ -z "$gpid" ] || kill -KILL $gpid 2>/dev/null
      [ -z "$bg" ] || { kill -TERM $bg; wait $bg; } 2>/dev/null
      rm -rf "$tmp"' EXIT

mkdir "$tmp/plugins" &&
  ln -s "$plugins/libgstcoreelements.so" "$tmp/plugins/" ||
  fail "cannot create $tmp/plugins"
GST_PLUGIN_SYSTEM_PATH_1_0=$tmp/plugins
GST_PLUGIN_PATH_1_0=
GST_REGISTRY_1_0=$tmp/registry.bin
GST_REGISTRY_FORK=no
export GST_PLUGIN_SYSTEM_PATH_1_0 GST_PLUGIN_PATH_1_0 GST_REGISTRY_1_0 \
  GST_REGISTRY_FORK

followed=yes
glib_runtime || followed=

finite="fakesrc num-buffers=50 ! fakesink"
# 10 kB/s of 100-byte buffers, timestamped and played in time: it never
# ends, and keeps no CPU busy.
live="fakesrc is-live=true sizetype=fixed sizemax=100 datarate=10000 ! \
queue ! fakesink sync=true"

# ran FILE LINE...: FILE is gst-launch's output for a pipeline that was
# played and freed, with the LINEs; FILE.lines is it without its timing,
# sorted: the bus's messages come from several threads, and "Redistribute
# latency..." comes before or after "New clock" from run to run.
ran() {
  f=$1
  shift
  for line in "Setting pipeline to PLAYING ..." "$@" \
    "Setting pipeline to NULL ..." "Freeing pipeline ..."; do
    expect_line "$f" "$line"
  done
  grep -v '^Execution ended after ' "$f" | LC_ALL=C sort >"$f.lines"
}

# same: asyncleak's run ($tmp/out, $tmp/err) printed what the run alone
# ($tmp/alone) did, and exited 0; when asyncleak follows GLib, it saw
# gst-launch's three sources come and go, and reports no leak.
same() {
  cmp -s "$tmp/alone.lines" "$tmp/out.lines" ||
    fail "under asyncleak, gst-launch-1.0 printed otherwise:
$(diff "$tmp/alone.lines" "$tmp/out.lines")"
  for bad in SIGSEGV "killed by signal" "cannot find" "left no report" \
    "ERROR: asyncleak"; do
    expect_no "$tmp/err" "$bad"
  done
  expect_status 0
  if [ -z "$followed" ]; then
    unwatched gst-launch-1.0
    return
  fi
  # The bus watch and the SIGINT and SIGHUP sources, on the default
  # context, which is never freed; none left.
  expect status=0 exit=0 handles_created=3 handles_open=0 \
    handles_closing=0 requests_pending=0 handles_forced=0 \
    requests_cancelled=0 loops=1 loops_unclosed=1
  expect_line "$tmp/err" "asyncleak: no leaks: 1 loop(s), 3 handle(s) \
created, all closed; 1 loop(s) never closed"
}

# a) The finite pipeline: alone (which builds the registry), alone again
# for the output to compare with, then under asyncleak.
# shellcheck disable=SC2086 # the pipelines are words
timeout -k 3 30 $plain gst-launch-1.0 $finite >/dev/null 2>&1 ||
  fail "alone, gst-launch-1.0 $finite failed"
[ -s "$tmp/registry.bin" ] || fail "gst-launch-1.0 wrote no registry"
# shellcheck disable=SC2086
timeout -k 3 30 $plain gst-launch-1.0 $finite >"$tmp/alone" 2>&1 ||
  fail "alone, gst-launch-1.0 $finite exited $?: $(cat "$tmp/alone")"
ran "$tmp/alone" 'Got EOS from element "pipeline0".'
# shellcheck disable=SC2086
run "$ASYNCLEAK" --json="$tmp/report.json" gst-launch-1.0 $finite
ran "$tmp/out" 'Got EOS from element "pipeline0".'
same

# interrupt MODE: runs the live pipeline alone (MODE alone) or under
# asyncleak (MODE asyncleak, its JSON report in $tmp/report.json), sends
# gst-launch SIGINT once it plays, and waits for it; sets $status. The
# shell starts background commands with SIGINT ignored: env restores its
# default, which GLib's handler then replaces.
interrupt() {
  rm -f "$tmp/report.json" "$tmp/out" "$tmp/err"
  if [ "$1" = asyncleak ]; then
    # shellcheck disable=SC2086
    timeout -k 3 30 env --default-signal=INT "$ASYNCLEAK" \
      --json="$tmp/report.json" gst-launch-1.0 $live \
      >"$tmp/out" 2>"$tmp/err" </dev/null &
  else
    # shellcheck disable=SC2086
    timeout -k 3 30 env --default-signal=INT $plain gst-launch-1.0 $live \
      >"$tmp/out" 2>"$tmp/err" </dev/null &
  fi
  bg=$!
  i=0
  until grep -qx "Setting pipeline to PLAYING ..." "$tmp/out" 2>/dev/null; do
    kill -0 $bg 2>/dev/null ||
      fail "gst-launch-1.0 ended at start: $(cat "$tmp/out" "$tmp/err")"
    i=$((i + 1))
    [ $i -le 100 ] || fail "gst-launch-1.0 did not play within 10 s: \
$(cat "$tmp/out" "$tmp/err")"
    sleep 0.1
  done
  # gst-launch-1.0 itself: timeout's child, or asyncleak's under it.
  gpid=$(children $bg)
  [ "$1" = alone ] || gpid=$(children "$gpid")
  [ -n "$gpid" ] || fail "no gst-launch-1.0 under $bg"
  kill -INT "$gpid" || fail "no gst-launch-1.0 $gpid to interrupt"
  status=0
  wait $bg || status=$?
  bg=
  gpid=
  case $status in
    124 | 137) fail "gst-launch-1.0 did not end on SIGINT within 30 s: \
$(cat "$tmp/out" "$tmp/err")" ;;
  esac
}

# b) The live pipeline, interrupted: alone, then under asyncleak.
interrupt alone
[ "$status" -eq 0 ] || fail "alone, gst-launch-1.0 exited $status on \
SIGINT: $(cat "$tmp/out" "$tmp/err")"
ran "$tmp/out" "handling interrupt." "Interrupt: Stopping pipeline ..."
cp "$tmp/out.lines" "$tmp/alone.lines"
interrupt asyncleak
ran "$tmp/out" "handling interrupt." "Interrupt: Stopping pipeline ..."
same

[ -n "$followed" ] ||
  skip "GLib is not followed by this runtime (no g_main_loop_run in \
libasyncleak.so): only gst-launch-1.0's behaviour under asyncleak was \
checked"
exit 0
