-- Lua with luv (libuv loaded by require, into a local scope): the script
-- leaves two timers and a TCP server open and leaves with os.exit(0), which
-- does not close the Lua state, so they are still open at exit.
--
-- CHECK: ERROR: asyncleak: 3 handles left open at exit
-- CHECK: ^2 handles of type uv_timer_t, created at:
-- CHECK: luv.so
-- CHECK: ^1 handle of type uv_tcp_t, created at:
-- CHECK: SUMMARY: asyncleak: 3 handles left open \(2 uv_timer_t, 1 uv_tcp_t\) from 2 creation sites
-- CHECK-NOT: cannot find
-- EXIT: 23
--
-- With the state closed (os.exit(0, true)), luv closes every handle and
-- retries uv_loop_close until it succeeds: nothing is listed.
-- [close] RUN: close
-- [close] CHECK-NOT: ERROR
-- [close] CHECK-NOT: handle of type
-- [close] CHECK: no leaks: 1 loop
-- [close] EXIT: 0
local uv = require "luv"

local function tick() end

local timers = {}
for i = 1, 2 do
  local t = uv.new_timer()
  t:start(60000, 60000, tick)
  timers[i] = t
end

local server = uv.new_tcp()
assert(server:bind("127.0.0.1", 0))
assert(server:listen(8, function() end))

uv.run("nowait")
os.exit(0, arg[1] == "close")
