# A 32-bit program cannot load the 64-bit runtime, nor the other way round:
# asyncleak says so before running it.
. tests/cli/lib.sh

case $(getconf LONG_BIT) in
  64) ours=64 theirs=32 class='\001' ;;
  *) ours=32 theirs=64 class='\002' ;;
esac

# The identification bytes of the header are all it takes.
{ printf '\177ELF%b\001\001' "$class"; head -c 56 /dev/zero; } >"$tmp/other"
chmod 755 "$tmp/other"
run "$ASYNCLEAK" "$tmp/other"
expect_status 125
expect_line "$tmp/err" \
  "asyncleak: '$tmp/other' is a $theirs-bit program: the runtime is $ours-bit"
