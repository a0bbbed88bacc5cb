-- The worker pool behind every parallel kernel (Sources/CRuntime/pool.c): each chunk runs exactly
-- once for every thread count, regions follow each other without losing a wake-up, and the
-- pool shares the machine with OpenBLAS's own threads. (A deadlock fails this file through
-- the test runner's watchdog.)
package.path = "Tests/lua/lib/?.lua;" .. package.path
local check = require "check"

local sizes = { 1, 7, 32767, 32768, 65535, 65536, 65537, 100003, 1 << 20 }
for _, th in ipairs({ 1, 2, 3, 4, 2 }) do
  sslua.threads(th)
  check.eq(sslua.threads(), th, "threads set")
  for k, n in ipairs(sizes) do
    -- outputs are allocated uninitialised (often in the block the last result freed): a chunk
    -- that never ran leaves other values behind, so each case adds its own constant
    local v = th * 100 + k
    local y = sslua.zeros(n) + v
    check.eq(y:min():item(), v, ("zeros + %d, %d threads, n = %d: min"):format(v, th, n))
    check.eq(y:max():item(), v, ("zeros + %d, %d threads, n = %d: max"):format(v, th, n))
    check.eq((y / v):sum():item(), n, ("sum of %d ones, %d threads"):format(n, th))
    -- 1, 2, ..., n: the sum is exact in float64 blocks for these sizes
    local r = sslua.arange(n)
    check.eq(r:double():sum():item(), n * (n + 1) / 2, ("sum 1..%d, %d threads"):format(n, th))
    local e = sslua.zeros(n):exp()
    check.eq(e:min():item(), 1, ("exp(0), %d threads, n = %d"):format(th, n))
    local rl = (sslua.zeros(n) - 2):relu()
    check.eq(rl:max():item(), 0, ("relu(-2), %d threads, n = %d"):format(th, n))
  end
end

-- many short regions in a row, more threads than cores, BLAS calls in between
sslua.threads(3)
local a = sslua.ones(70000)
local m = sslua.randn(64, 64)
local total = 0
for i = 1, 20000 do
  total = total + (a * 2):sum():item()
  if i % 1000 == 0 then local _ = m:mm(m) end
end
check.eq(total, 20000 * 140000, "20000 regions")

-- a softmax whose rows split across the workers: every row sums to 1
for _, th in ipairs({ 1, 2, 4 }) do
  sslua.threads(th)
  local s = sslua.randn(333, 517):softmax(2):sum(2)
  check.near(s, sslua.ones(333), 1e-5, "softmax rows, " .. th .. " threads")
end
sslua.threads(2)
print("ok")
