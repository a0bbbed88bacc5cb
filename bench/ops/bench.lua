-- sslua side of bench/ops: best wall time (ms) of each op, one "name ms" line each.
-- Usage: sslua bench/ops/bench.lua [threads]
local S = sslua
S.threads(tonumber(arg and arg[1]) or 2)
local N = 2048  -- 2048 x 2048 = 4M floats
local a, b = S.randn(N, N, {rng = S.rng(1)}), S.randn(N, N, {rng = S.rng(2)})

local function median(fn, reps)
  fn(); fn()  -- warm up
  local t = {}
  for i = 1, reps do
    local t0 = S.clock()
    fn()
    t[i] = S.clock() - t0
  end
  table.sort(t)
  return t[1] * 1000  -- the minimum: robust to other processes on a shared machine
end

-- warm up the allocator and the worker threads once
for _ = 1, 5 do local _ = (a + b):exp():relu():softmax(2):sum() end
collectgarbage()

local cases = {
  {"add", function() return a + b end},
  {"mul", function() return a * b end},
  {"exp", function() return a:exp() end},
  {"relu", function() return a:relu() end},
  {"sum", function() return a:sum() end},
  {"softmax", function() return a:softmax(2) end},
  {"mm", function() return a:mm(b) end, 7},
  {"mm_t", function() return a:t():mm(b) end, 7},
}
for _, c in ipairs(cases) do
  local ms = median(c[2], c[3] or 31)
  collectgarbage()
  print(string.format("%s %.4f", c[1], ms))
end
