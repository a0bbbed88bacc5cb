-- Misuse never crashes: every public function of `sslua` and every tensor method is called
-- with wrong types, wrong shapes and out-of-range values; failures are Lua errors that name
-- the function, and the process survives to the end of this file.
package.path = "Tests/lua/lib/?.lua;" .. package.path
local check = require "check"
local S = sslua

-- 1. Fuzz: any error must name the function that raised it.
local X5 = S.randn(5, 7)
local function argsets()
  local X = S.randn(2, 3)
  return {
    {}, {nil}, {"str"}, {{}}, {{1, 2}}, {0 / 0}, {-1}, {true},
    {X}, {X, "str"}, {X, X5}, {X, 99}, {X, -99}, {X, 0}, {X, 1.5}, {X, {}}, {X, 0 / 0},
    {X, math.huge}, {X, math.mininteger}, {X, math.maxinteger}, {X, X, X}, {X, 1, "str"},
    {X, 1, X5}, {X, 1, 99}, {X, 99, 1}, {X, -1, 99}, {X, 1, 1, 1, 1, 1}, {X, {99, 99}},
    {X, 1, {{9}}}, {X, 2, S.tensor{{4}, {1}}}, {X, 1, 2, 1e300}, {X, print},
  }
end
-- functions whose successful calls would have side effects beyond this test
local skip = { threads = true, manual_seed = true, save = true }
local calls, failures = 0, 0
local function fuzz(tbl, label)
  local names = {}
  for k, v in pairs(tbl) do if type(v) == "function" and not skip[k] then names[#names + 1] = k end end
  table.sort(names)
  for _, name in ipairs(names) do
    for _, args in ipairs(argsets()) do
      calls = calls + 1
      local ok, err = pcall(tbl[name], table.unpack(args, 1, 6))
      if not ok then
        failures = failures + 1
        local msg = tostring(err)
        if not msg:find("sslua." .. name, 1, true) and not msg:find(label .. name, 1, true) then
          error(string.format("%s%s: error does not name the function: %s", label, name, msg))
        end
      end
    end
  end
end
fuzz(S, "sslua.")
fuzz(S.Tensor, "sslua.")
check.truthy(calls > 1000 and failures > calls / 2, "the fuzz exercised the API (" .. calls .. " calls)")
-- bad values given to threads/manual_seed/save still fail cleanly
check.errors(function() return S.threads(0) end, "sslua.threads")
check.errors(function() return S.threads("x") end, "sslua.threads")
check.errors(function() return S.manual_seed("x") end, "sslua.manual_seed")
check.errors(function() return S.save(5, S.zeros(2)) end, "sslua.save")

-- 2. Each function of the tensor core, with a specific misuse and the expected message.
local x, m = S.randn(2, 3), S.randn(3, 4)
local cases = {
  {"tensor", function() return S.tensor{{1, 2}, {3}} end, "inconsistent"},
  {"tensor", function() return S.tensor{"a"} end, "expected a number"},
  {"zeros", function() return S.zeros(-1) end, "size must be non-negative"},
  {"ones", function() return S.ones("a") end, "size expected"},
  {"full", function() return S.full({2}, "a") end, "number expected"},
  {"eye", function() return S.eye(-2) end, "non-negative"},
  {"arange", function() return S.arange(1, 10, 0) end, "step must be finite and nonzero"},
  {"arange", function() return S.arange(1, math.huge) end, "range too large"},
  {"linspace", function() return S.linspace(0, 1, -3) end, "non-negative"},
  {"rand", function() return S.rand(2, {rng = 1}) end, "rng"},
  {"randn", function() return S.randn({2, -1}) end, "invalid size"},
  {"randperm", function() return S.randperm(-1) end, "non-negative"},
  {"randint", function() return S.randint(5, 1, 3) end, "empty range"},
  {"rng", function() return S.rng("a") end, "number expected"},
  {"reshape", function() return x:reshape(4, 2) end, "invalid for input of size 6"},
  {"reshape", function() return x:reshape(2^40, 2^40) end, "too large"},
  {"view", function() return x:view(-1, -1) end, "only one dimension can be inferred"},
  {"expand", function() return S.zeros(2, 3):expand(4, 3) end, "cannot be broadcast"},
  {"expand", function() return S.zeros(1, 3):expand(2^62, 3) end, "too large"},
  {"transpose", function() return x:transpose(1, 3) end, "dimension 3 out of range"},
  {"permute", function() return x:permute(1, 1) end, "repeated dimension"},
  {"narrow", function() return x:narrow(2, 2, 5) end, "out of bounds"},
  {"narrow", function() return x:narrow(2, math.maxinteger, math.maxinteger) end, "out of bounds"},
  {"select", function() return x:select(1, 3) end, "index 3 out of range"},
  {"get", function() return x:get(1, 4) end, "index 4 out of range"},
  {"set", function() return x:set(1, 1) end, "number expected"},
  {"item", function() return x:item() end, "cannot be converted to a number"},
  {"add", function() return x + X5 end, "cannot be broadcast"},
  {"pow", function() return x:pow("a") end, "tensor or number expected"},
  {"clamp", function() return x:clamp(2, 1) end, "greater than max"},
  {"sum", function() return x:sum(3) end, "dimension 3 out of range"},
  {"mean", function() return x:mean(0) end, "dimension 0 is invalid"},
  {"max", function() return S.zeros(0):max() end, "empty"},
  {"argmax", function() return x:argmax(5) end, "out of range"},
  {"var", function() return x:var(3) end, "out of range"},
  {"var", function() return x:var(1, true, true, 5) end, "unexpected argument"},
  {"std", function() return x:std("a") end, "number expected"},
  {"norm", function() return x:norm(-1, 1) end, "p must be positive"},
  {"softmax", function() return x:softmax(3) end, "out of range"},
  {"log_softmax", function() return x:log_softmax("a") end, "number expected"},
  {"logsumexp", function() return x:logsumexp(-3) end, "out of range"},
  {"normalize", function() return x:normalize(4) end, "out of range"},
  {"mm", function() return x:mm(x) end, "size mismatch, [2x3] times [2x3]"},
  {"mm", function() return x:mm(S.zeros(3)) end, "mm expects 2-d tensors"},
  {"matmul", function() return x:matmul(S.zeros(4)) end, "size mismatch"},
  {"matmul", function() return S.zeros(2, 2, 3):matmul(S.zeros(3, 3, 1)) end, "cannot be broadcast"},
  {"matmul", function() return S.tensor(1):matmul(x) end, "at least 1 dimension"},
  {"bmm", function() return x:bmm(x) end, "bmm expects 3-d tensors"},
  {"bmm", function() return S.zeros(2, 2, 3):bmm(S.zeros(3, 3, 1)) end, "batch sizes differ"},
  {"outer", function() return S.outer(x, x) end, "outer expects 1-d tensors"},
  {"dot", function() return S.dot(S.zeros(3), S.zeros(4)) end, "inconsistent tensor size"},
  {"sort", function() return x:sort(3) end, "out of range"},
  {"sort", function() return x:sort(1, "yes") end, "boolean expected"},
  {"topk", function() return x:topk(4) end, "k = 4 out of range"},
  {"topk", function() return x:topk(-1) end, "out of range"},
  {"gather", function() return x:gather(2, S.tensor{{4}}) end, "index 4 out of range (valid 1..3)"},
  {"gather", function() return x:gather(2, S.tensor{{1}, {1}, {1}}) end, "exceeds size"},
  {"gather", function() return x:gather(2, "a") end, "index tensor or table expected"},
  {"scatter", function() return x:scatter(1, S.tensor{{3, 1, 1}}, 0) end, "index 3 out of range"},
  {"scatter", function() return x:scatter(1, S.tensor{{1, 1, 1}}, S.zeros(1, 2)) end, "exceeds size"},
  {"scatter_add", function() return x:scatter_add(2, S.tensor{{1}}, 5) end, "tensor expected"},
  {"scatter_", function() return x:scatter_(2, S.tensor{{-1}}, 1) end, "index -1 out of range"},
  {"scatter_add_", function() return x:scatter_add_(2, S.tensor{{1.5}}, S.zeros(1, 1)) end, "index 1.5 out of range"},
  {"index", function() return x:index(1, {3}) end, "index 3 out of range (valid 1..2)"},
  {"index", function() return x:index(1, S.zeros(2, 2)) end, "index must be a 1-d tensor"},
  {"masked_fill", function() return x:masked_fill(S.ones(3, 3), 0) end, "cannot be broadcast"},
  {"masked_fill", function() return S.ones(3):masked_fill(S.ones(2, 3), 0) end, "does not broadcast"},
  {"masked_fill_", function() return x:masked_fill_(S.ones(3), "a") end, "number expected"},
  {"where", function() return S.where(S.ones(4), x, 1) end, "cannot be broadcast"},
  {"cat", function() return S.cat({x, "a"}) end, "expected a tensor at position 2"},
  {"cat", function() return S.cat({x, S.zeros(2)}, 1) end, "same number of dimensions"},
  {"cat", function() return S.cat({x, x}, 3) end, "out of range"},
  {"stack", function() return S.stack({x, x}, 4) end, "out of range"},
  {"stack", function() return S.stack(x) end, "table expected, got tensor"},
  {"backward", function() return x:backward() end, "does not require grad"},
  {"backward", function() local w = S.zeros(2):requires_grad_(); return (w * 2):backward(S.zeros(3)) end, "gradient of size [3]"},
  {"requires_grad", function() local w = S.zeros(2):requires_grad_(); return (w * 2):requires_grad_(false) end, "leaf"},
  {"add_", function() local w = S.zeros(2):requires_grad_(); return w:add_(1) end, "in-place"},
  {"add_", function() return x:add_(S.zeros(4, 2, 3)) end, "doesn't match the in-place target"},
  {"copy_", function() return x:copy_(S.zeros(4)) end, "cannot"},
  {"no_grad", function() return S.no_grad(5) end, "function expected"},
  {"grad_check", function() return S.grad_check(function(a) return a:sum() end, {x}, {eps = 0}) end, "eps must be positive"},
  {"load", function() return S.load({}) end, "string expected"},
  {"save", function() return S.save("x.npy") end, "tensor expected"},
  {"double", function() return S.double("a") end, "tensor expected"},
  {"totable", function() return S.totable(5) end, "tensor expected"},
}
for _, c in ipairs(cases) do
  local name, fn, what = c[1], c[2], c[3]
  local ok, err = pcall(fn)
  if ok then error("sslua." .. name .. ": expected an error containing '" .. what .. "'") end
  err = tostring(err)
  if not err:find("sslua." .. name, 1, true) then error("error does not name sslua." .. name .. ": " .. err) end
  if not err:find(what, 1, true) then error("sslua." .. name .. ": error '" .. err .. "' does not contain '" .. what .. "'") end
end

-- a closed tensor is an error to use, never a dangling pointer
local c = S.zeros(3)
do local cc <close> = c end
check.errors(function() return c:sum() end, "closed")
print(string.format("bad input: %d fuzz calls (%d errors), %d targeted cases", calls, failures, #cases))
