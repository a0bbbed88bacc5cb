-- GFLOP/s of sslua's conv2d forward and backward on the ResNet-18-CIFAR layer shapes (batch
-- given, default 256 = two views of 128), against the sgemm rate of the same BLAS.
-- Counterpart: conv_gflops.py. Usage: sslua bench/train/conv_gflops.lua [batch] [threads]
local argv = arg or { ... }
local N = tonumber(argv[1] or os.getenv("BENCH_BATCH") or "256")
sslua.threads(tonumber(argv[2] or os.getenv("BENCH_THREADS") or "2"))
local C = sslua._nn

package.path = ((arg and arg[0] or ""):match("^(.*)/[^/]*$") or ".") .. "/../lib/?.lua;" .. package.path
local best = require("models").best

-- sgemm rate
local a, b = sslua.randn(2048, 2048), sslua.randn(2048, 2048)
a:mm(b)
local t = best(function() a:mm(b) end, 5)
print(string.format("RESULT sgemm 2048 %.1f GFLOP/s", 2 * 2048 ^ 3 / t / 1e9))

-- (channels in, out, spatial, stride) of the resnet18-cifar 3x3 convs, and the 1x1 downsamples
local shapes = {
  { 64, 64, 32, 1, 3 }, { 64, 128, 32, 2, 3 }, { 128, 128, 16, 1, 3 }, { 128, 256, 16, 2, 3 },
  { 256, 256, 8, 1, 3 }, { 256, 512, 8, 2, 3 }, { 512, 512, 4, 1, 3 }, { 64, 128, 32, 2, 1 },
}
-- GFLOP/s count the direct convolution's 2*N*K*C*9*OH*OW multiply-adds, whatever the
-- algorithm: Winograd's 3x3 stride-1 layers do 2.25x fewer, so their figure can pass sgemm's.
-- Then the same layers again with Winograd off (im2col + sgemm), on lines tagged "im2col".
local function measure(tag)
  local tf, tb, flops = 0, 0, 0
  for _, s in ipairs(shapes) do
    local cin, cout, hw, st, k = table.unpack(s)
    local x = sslua.randn(N, cin, hw, hw):requires_grad_()
    local w = (sslua.randn(cout, cin, k, k) * 0.05):requires_grad_()
    local pad = k == 3 and 1 or 0
    local y = C.conv2d(x, w, nil, st, st, pad, pad)
    local oh = y:size(3)
    local fl = 2 * N * cout * oh * oh * cin * k * k
    local g = sslua.randn(y:shape())
    y:backward(g)
    local f = best(function() C.conv2d(x, w, nil, st, st, pad, pad) end, 3)
    -- time backward alone
    local bt = math.huge
    for _ = 1, 3 do
      local yy = C.conv2d(x, w, nil, st, st, pad, pad)
      x.grad, w.grad = nil, nil
      local t0 = sslua.clock(); yy:backward(g); bt = math.min(bt, sslua.clock() - t0)
    end
    tf, tb, flops = tf + f, tb + bt, flops + fl
    print(string.format("RESULT%s conv %dx%d %d->%d s%d: fwd %.1f GFLOP/s (%.1f ms), bwd %.1f GFLOP/s (%.1f ms)",
      tag, k, k, cin, cout, st, fl / f / 1e9, f * 1e3, 2 * fl / bt / 1e9, bt * 1e3))
  end
  print(string.format("RESULT%s conv total: fwd %.1f GFLOP/s, bwd %.1f GFLOP/s", tag, flops / tf / 1e9, 2 * flops / tb / 1e9))
end
measure("")
sslua._nn.winograd(false)
measure(" im2col")
