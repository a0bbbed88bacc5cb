-- sslua side of the math benchmarks (bench/math/run): prints "name seconds [peak_bytes]" lines.
-- InfoNCE forward+backward N=512 d=128; singular values of 10000x512; kNN 50k x 10k x 512.
local S = sslua
local which = (arg and arg[1]) or os.getenv("SSLUA_BENCH") or "all"   -- arg once the program sets it
if os.getenv("THREADS") then S.threads(tonumber(os.getenv("THREADS"))) end
package.path = ((arg and arg[0] or ""):match("^(.*)/[^/]*$") or ".") .. "/../lib/?.lua;" .. package.path
local best = require("models").best

if which == "all" or which == "infonce" then
  local z1 = S.randn(512, 128, { rng = S.rng(1) }):requires_grad_()
  local z2 = S.randn(512, 128, { rng = S.rng(2) }):requires_grad_()
  for _, form in ipairs { "paper", "ntxent" } do
    local t = best(function()
      z1.grad = nil; z2.grad = nil
      local l = S.loss.infonce(z1, z2, { beta = 2, form = form })
      l:backward()
    end, 50)
    print(string.format("infonce_%s %.6f", form, t))
  end
end

if which == "all" or which == "svdvals" then
  local A = S.randn(10000, 512, { rng = S.rng(3) })
  print(string.format("svdvals %.6f", best(function() return S.linalg.svdvals(A) end, 5)))
end

if which == "all" or which == "knn" then
  local g = S.rng(4)
  local classes = 100
  local train = S.randn(50000, 512, { rng = g })
  local test = S.randn(10000, 512, { rng = g })
  local trl = S.randint(1, classes, 50000, { rng = g })
  local tel = S.randint(1, classes, 10000, { rng = g })
  -- peak extra memory: VmHWM after the call minus VmRSS before it (Linux /proc)
  local function status(key)
    local f = io.open("/proc/self/status"); if not f then return 0 end
    local s = f:read("a"); f:close()
    return (tonumber(s:match(key .. ":%s*(%d+)")) or 0) * 1024
  end
  collectgarbage()
  local rss0 = status("VmRSS")
  local t0 = S.clock()
  local acc = S.geom.knn_accuracy { train = train, train_labels = trl, test = test, test_labels = tel }
  local t = S.clock() - t0
  print(string.format("knn %.6f %d", t, status("VmHWM") - rss0))
  io.stderr:write(string.format("knn accuracy %.4f (chance ~0.01)\n", acc))
end
