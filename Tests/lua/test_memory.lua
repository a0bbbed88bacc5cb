-- Tensor memory: __close frees early, __gc frees dropped tensors, and loops that make and drop
-- many tensors (with and without autograd graphs) keep native memory and RSS flat.
package.path = "Tests/lua/lib/?.lua;" .. package.path
local check = require "check"
local S = sslua

local function rss_kb()
  local f = assert(io.open("/proc/self/statm"))
  local _, resident = f:read("n", "n")
  f:close()
  return resident * 4  -- pages of 4 KiB
end

-- __close: a to-be-closed tensor is released at the end of its block
collectgarbage(); collectgarbage()
local base = S.memory()
local escaped
do
  local x <close> = S.zeros(1000, 1000)
  check.eq(S.memory() - base, 4000000, "live bytes of a 1000x1000 float tensor")
  escaped = x
end
check.eq(S.memory() - base, 0, "memory after <close>")
check.errors(function() return escaped + 1 end, "closed")
check.errors(function() return escaped:sum() end, "attempt to use a closed sslua.Tensor")

-- 100k tensors created and dropped: memory bounded, RSS flat
local function loop(n, make)
  local peak = 0
  for i = 1, n do
    make(i)
    if i % 1000 == 0 then peak = math.max(peak, S.memory()) end
  end
  return peak
end
local x = S.randn(32, 32)       -- 4 KiB: 100k of them would be 400 MB if never freed
local w = S.randn(32, 32):requires_grad_()
-- warm up (allocator pools, lazily created tables), then measure
loop(5000, function() local y = x * 2 + 1 end)
collectgarbage(); collectgarbage()
local rss0, mem0 = rss_kb(), S.memory()
local peak = loop(100000, function() local y = x + 1 end)
collectgarbage(); collectgarbage()
check.truthy(peak - mem0 < 32 * 2^20, string.format("peak live bytes %.1f MB during 100k plain tensors", (peak - mem0) / 2^20))
check.eq(S.memory(), mem0, "live bytes after the plain loop")
-- with autograd graphs (outputs captured by their backward, e.g. exp, sigmoid, div)
local peak2 = loop(20000, function()
  local y = (x:mm(w):sigmoid() / 3):exp():sum()
  if y:item() ~= y:item() then error("nan") end
end)
collectgarbage(); collectgarbage()
check.truthy(peak2 - mem0 < 32 * 2^20, string.format("peak live bytes %.1f MB during 20k graphs", (peak2 - mem0) / 2^20))
check.eq(S.memory(), mem0, "live bytes after the graph loop (no leak through backward closures)")
local grew = rss_kb() - rss0
check.truthy(grew < 64 * 1024, string.format("RSS grew by %d KiB over 200k tensors", grew))
