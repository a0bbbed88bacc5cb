-- The §4.1 ops against PyTorch reference values (Tests/fixtures/make_tensor.py).
package.path = "Tests/lua/lib/?.lua;" .. package.path
local check = require "check"
local S = sslua
local F = dofile("Tests/fixtures/tensor/ops.lua")
local T = function(t) return S.tensor(t) end
local x, y = T(F.x), T(F.y)

-- statistics: unbiased by default, {unbiased=false} or {correction=0} for the biased form
check.near(x:var():item(), F.var_all, 1e-5, "var()")
check.near(x:var(2), F.var_2, 1e-5, "var(2)")
check.near(x:var(1, false), F.var_1_biased, 1e-5, "var(1, biased)")
check.near(x:var(1, {correction = 0}), F.var_1_biased, 1e-5, "var(1, correction=0)")
check.near(x:std(2, true, true), F.std_2_keep, 1e-5, "std(2, keepdim)")
check.eq(x:std(2, true, true):dim(), 2)
check.near(x:std({unbiased = false}):item(), F.std_all_biased, 1e-5, "std biased")
check.near(S.var(T{1, 2, 3, 4}):item(), 5 / 3, 1e-6, "hand var")
check.near(x:norm():item(), F.norm_all, 1e-5, "norm()")
check.near(x:norm(2, 2), F.norm_2, 1e-5, "norm(2)")
check.near(x:norm(1, 1), F.norm_1_p1, 1e-5, "norm p=1")
check.near(x:norm(math.huge, 2), F.norm_2_pinf, 1e-5, "norm p=inf")
check.near(x:norm(3, 2), F.norm_2_p3, 1e-5, "norm p=3")
check.near(T{3, 4}:norm():item(), 5, 1e-6)

-- softmax family, including logits that overflow a naive exp
check.near(x:softmax(2), F.softmax_2, 1e-6, "softmax(2)")
check.near(x:softmax(), F.softmax_2, 1e-6, "softmax() = last dim")
check.near(x:softmax(1), F.softmax_1, 1e-6, "softmax(1)")
check.near(x:log_softmax(1), F.log_softmax_1, 1e-5, "log_softmax(1)")
check.near(x:log_softmax(-1), F.log_softmax_2, 1e-5, "log_softmax(-1)")
check.near(x:logsumexp(2), F.logsumexp_2, 1e-5, "logsumexp(2)")
check.near(x:logsumexp(1, true), F.logsumexp_1_keep, 1e-5, "logsumexp(1, keepdim)")
check.near(T(F.big):softmax(2), F.softmax_big, 1e-6, "softmax big")
check.near(T(F.big):log_softmax(2), F.log_softmax_big, 1e-5, "log_softmax big")
check.near(T(F.big):logsumexp(2), F.logsumexp_big, 1e-5, "logsumexp big")
check.near(T(F.big):double():softmax(2), F.softmax_big, 1e-7, "softmax big float64")
check.near(x:double():log_softmax(1), F.log_softmax_1, 1e-6, "log_softmax float64")
-- long rows take the vectorised path (and its tail); compare with a float64 computation
local long = S.randn(3, 1003, {rng = S.rng(3)}) * 20
check.near(long:softmax(2), long:double():softmax(2):float(), 1e-6, "softmax long rows")
check.near(long:logsumexp(2), long:double():logsumexp(2), 1e-4, "logsumexp long rows")
check.near(long:log_softmax(2), long:double():log_softmax(2), 1e-4, "log_softmax long rows")
check.near(T{-math.huge, 0}:softmax(), {0, 1}, 1e-7, "softmax with -inf")
check.eq(T{math.huge, 0}:logsumexp(1):item(), math.huge)

-- normalize: L2 along a dimension (default 2 as F.normalize's dim=1), zero rows stay 0
check.near(x:normalize(2), F.normalize_2, 1e-6, "normalize(2)")
check.near(x:normalize(), F.normalize_2, 1e-6, "normalize()")
check.near(x:normalize(1), F.normalize_1, 1e-6, "normalize(1)")
check.near(T(F.zrow):normalize(2), F.normalize_zrow, 1e-6, "normalize zero row")

-- products
check.near(x:matmul(y), F.mm_xy, 1e-5, "matmul 2x2")
check.near(x:matmul(T(F.v4)), F.mv_xv, 1e-5, "matmul 2x1")
check.near(T(F.v3):matmul(x), F.vm_vx, 1e-5, "matmul 1x2")
check.near(S.matmul(T(F.v4), T(F.v4)):item(), F.dot_vv, 1e-5, "matmul 1x1")
check.near(S.dot(T(F.v4), T(F.v4)):item(), F.dot_vv, 1e-5, "dot")
check.near(T(F.a3):bmm(T(F.b3)), F.bmm, 1e-5, "bmm")
check.near(T(F.a3):matmul(T(F.b3)), F.bmm, 1e-5, "matmul 3x3")
check.near(T(F.a3):matmul(y), F.matmul_3_2, 1e-5, "matmul 3x2")
check.near(T(F.a4):matmul(T(F.b342)), F.matmul_4_3, 1e-5, "matmul broadcast 4x3")
check.eq(table.concat(T(F.a4):matmul(T(F.b342)):shape(), "x"), "2x3x3x2")
check.near(T(F.v4):matmul(T(F.b3)), F.matmul_1_3, 1e-5, "matmul 1x3")
check.near(T(F.a3):matmul(T(F.v4)), F.matmul_3_1, 1e-5, "matmul 3x1")
check.near(S.outer(T(F.v3), T(F.v4)), F.outer, 1e-6, "outer")
-- bmm of transposed views (no copy needed) gives the same numbers
check.near(T(F.a3):transpose(2, 3):bmm(T(F.a3)), T(F.a3):transpose(2, 3):contiguous():bmm(T(F.a3)), 1e-6)

-- sorting: stable, 1-based indices
local v, i = x:topk(2, 2)
check.near(v, F.topk2_v, 1e-7, "topk values"); check.near(i, F.topk2_i, 1e-7, "topk indices")
v, i = x:topk(2, 1, false)
check.near(v, F.topk1_small_v, 1e-7, "topk smallest"); check.near(i, F.topk1_small_i, 1e-7)
v, i = x:topk(2, 1, {largest = false})
check.near(i, F.topk1_small_i, 1e-7, "topk {largest=false}")
v, i = T(F.ties):sort(2)
check.near(v, F.sort_v, 1e-7); check.near(i, F.sort_i, 1e-7, "sort stable ascending")
v, i = T(F.ties):sort(2, true)
check.near(v, F.sort_desc_v, 1e-7); check.near(i, F.sort_desc_i, 1e-7, "sort stable descending")
v, i = T(F.ties):sort(2, {descending = true})
check.near(i, F.sort_desc_i, 1e-7, "sort {descending=true}")
v, i = x:sort(1)
check.near(v, F.sort_1_v, 1e-7); check.near(i, F.sort_1_i, 1e-7, "sort dim 1")
v, i = T{3, 0 / 0, 1}:sort()
check.eq(v:get(1), 1); check.eq(v:get(2), 3); check.truthy(v:get(3) ~= v:get(3), "NaN sorts last")
check.near(i, {3, 1, 2}, 1e-7)

-- indexing with 1-based index tensors (or tables)
check.near(x:gather(2, T(F.idx)), F.gather_2, 1e-7, "gather(2)")
check.near(x:gather(1, T(F.sidx)), F.gather_1, 1e-7, "gather(1)")
check.near(S.zeros(3, 4):scatter(2, T(F.sidx), T(F.src)), F.scatter_2, 1e-7, "scatter")
check.near(S.zeros(3, 4):scatter(2, T(F.sidx), 7.5), F.scatter_value, 1e-7, "scatter value")
check.near(S.ones(3, 4):scatter_add(1, T(F.scatter_add_idx), T(F.src)), F.scatter_add_1, 1e-6, "scatter_add")
local z = S.ones(3, 4); z:scatter_add_(1, T(F.scatter_add_idx), T(F.src))
check.near(z, F.scatter_add_1, 1e-6, "scatter_add_")
check.near(x:index(1, T(F.rows)), F.index_1, 1e-7, "index(1)")
check.near(x:index(2, {4, 1}), F.index_2, 1e-7, "index(2, table)")
check.near(x:masked_fill(T(F.mask), -2.5), F.masked_fill, 1e-7, "masked_fill")
local m = x:clone(); m:masked_fill_(T(F.mask), -2.5)
check.near(m, F.masked_fill, 1e-7, "masked_fill_")
check.near(S.where(x:gt(0), x, -1), F.where, 1e-7, "where")
check.errors(function() return x:gather(2, T{{5, 1}, {1, 1}, {1, 1}}) end, "sslua.gather: index 5 out of range (valid 1..4)")
check.errors(function() return x:gather(2, T{{0.5, 1}, {1, 1}, {1, 1}}) end, "sslua.gather: index 0.5 out of range")
check.errors(function() return x:index(1, {4}) end, "sslua.index: index 4 out of range (valid 1..3)")
check.errors(function() return x:index(1, {0}) end, "sslua.index: index 0 out of range")
check.errors(function() return S.zeros(3, 4):scatter(2, T{{0}}, 1) end, "sslua.scatter: index 0 out of range")
check.errors(function() return x:gather(2, T{1, 2}) end, "sslua.gather: index tensor has 1 dimensions, expected 2")
check.errors(function() return x:masked_fill(S.ones(2), 1) end, "sslua.masked_fill")

-- joins
check.near(S.cat({x, x:narrow(1, 1, 2)}, 1), F.cat_1, 1e-7, "cat(1)")
check.near(S.cat({x, y:narrow(1, 1, 3)}, 2), F.cat_2, 1e-7, "cat(2)")
check.near(S.cat({x, y:narrow(1, 1, 3)}, -1), F.cat_2, 1e-7, "cat(-1)")
check.near(S.stack({x, x * 2}), F.stack_1, 1e-7, "stack(1)")
check.near(S.stack({x, x * 2}, 3), F.stack_3, 1e-7, "stack(3)")
check.near(S.stack({x, x * 2}, -1), F.stack_3, 1e-7, "stack(-1)")
check.errors(function() return S.cat({x, y}, 1) end, "sslua.cat: sizes must match except in dimension 1")
check.errors(function() return S.stack({x, y}) end, "sslua.stack: stack expects each tensor to be equal size")
check.errors(function() return S.cat({}, 1) end, "sslua.cat: expected a non-empty list")

-- reductions on 0-d tensors are the identity, never a crash
check.eq(S.tensor(3):sum(1):item(), 3)
check.eq(S.tensor(3):var(1, {unbiased = false}):item(), 0)

-- the vectorised float32 exp: accurate across the range, inf on overflow, denormals, NaN kept
local xs = {-1000, -103, -100, -87.5, -20, -1, -1e-3, 0, 1e-3, 0.5, 1, 10, 50, 88.5, 88.8, 1000}
local big = {}
for i = 1, 40 do big[i] = xs[(i - 1) % #xs + 1] end   -- long enough for the SIMD body and tail
local e = S.tensor(big):exp():totable()
for i, v in ipairs(big) do
  local want = math.exp(v)
  if want > 3.4028234663852886e38 then check.eq(e[i], math.huge, "exp overflow")
  elseif want < 1.4e-45 then check.eq(e[i], 0, "exp underflow")
  elseif want < 1.2e-38 then check.near(e[i], want, 1e-2, "exp denormal " .. v)
  else check.near(e[i], want, 3e-7, "exp " .. v) end
end
local en = S.tensor{0 / 0, 1, 2, 3, 4, 5, 6, 7, 8}:exp():totable()
check.truthy(en[1] ~= en[1], "exp(NaN) is NaN")
local rn = S.tensor{0 / 0, -1, 2, -3, 4, -5, 6, -7, 8, -0.5}:relu():totable()
check.truthy(rn[1] ~= rn[1], "relu(NaN) is NaN as PyTorch"); check.eq(rn[2], 0); check.eq(rn[9], 8)
-- softmax rows with inf, NaN or only -inf are NaN (as PyTorch); very negative logits give 0
local function row(v) local t = {}; for i = 1, 20 do t[i] = v[(i - 1) % #v + 1] end; return t end
local sm = S.tensor{row{math.huge, 1}, row{0 / 0, 1}, row{-math.huge}, row{0, -200}}:softmax(2):totable()
for r = 1, 3 do check.truthy(sm[r][2] ~= sm[r][2], "softmax NaN row " .. r) end
check.near(sm[4], row{0.1, 0}, 1e-6, "softmax with -200 logits")
check.near(S.tensor{row{0, -200}}:log_softmax(2):get(1, 2), -200 - math.log(10), 1e-6)
check.eq(S.tensor(S.randn(1000):totable()):sum():item() ~= nil, true)
-- sum in float64 blocks: exact for integers, accurate for long float32 vectors
check.eq(S.ones(1000003):sum():item(), 1000003)
local r = S.rand(300001, {rng = S.rng(5)})
check.near(r:sum():item(), r:double():sum():item(), 1e-7, "float32 sum against float64")

-- results do not depend on the thread count (fixed blocks, per-row work)
local big2 = S.randn(300, 2049, {rng = S.rng(9)})
local saved = S.threads()
local function run() return { big2:sum():item(), big2:softmax(2):sum(2):totable(), big2:exp():mean():item(), big2:var(1):sum():item() } end
S.threads(1); local one = run()
S.threads(2); local two = run()
S.threads(saved)
check.eq(one[1], two[1], "sum with 1 and 2 threads"); check.eq(one[3], two[3]); check.eq(one[4], two[4])
for i = 1, 300 do check.eq(one[2][i], two[2][i], "softmax rows with 1 and 2 threads") end

-- products with an empty inner dimension are zeros; empty outer dimensions have the right shape
check.near(S.ones(2, 0):mm(S.ones(0, 3)), {{0, 0, 0}, {0, 0, 0}}, 0, "mm with k = 0")
check.near(S.ones(2, 2, 0):bmm(S.ones(2, 0, 1)), {{{0}, {0}}, {{0}, {0}}}, 0, "bmm with k = 0")
check.eq(table.concat(S.ones(0, 4):mm(S.ones(4, 3)):shape(), "x"), "0x3")

-- exp on in-range blocks (the short path) against float64, relative error within 2 ulp
local xs2 = S.linspace(-87.3, 88.7, 20001)
local rel = ((xs2:exp():double() - xs2:double():exp()) / xs2:double():exp()):abs():max():item()
check.truthy(rel < 2.4e-7, "exp relative error " .. rel)
