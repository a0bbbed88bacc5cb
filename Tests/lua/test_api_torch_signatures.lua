-- The forms documented in docs/TORCH.md, called as a PyTorch user would write them (1-based
-- dims and indices), against hand-computed values (the comments show the arithmetic) or loops
-- over the elements that do not use the op under test.
package.path = "Tests/lua/lib/?.lua;" .. package.path
local check = require "check"
local S = sslua
local T = S.tensor
local inf = math.huge
local sqrt = math.sqrt

local function shape(t) return table.concat(t:shape(), "x") end
local X = T({ { 1, -2, 3 }, { -4, 5, -6 } })
local Y = S.arange(24):reshape(2, 3, 4)   -- values 1..24

-- norm(p, dim, keepdim) as torch.Tensor.norm
check.near(X:norm(), sqrt(91), 1e-6, "norm(): Frobenius, 1+4+9+16+25+36 = 91")
check.near(X:norm("fro"), sqrt(91), 1e-6, "norm('fro')")
check.near(X:norm(2), sqrt(91), 1e-6, "norm(2) over all elements")
check.near(X:norm(1), 21, 1e-6, "norm(1): sum |x|")
check.near(X:norm(1, 2), { 6, 15 }, 1e-6, "norm(1, 2): row L1 norms")
check.near(X:norm(2, 1), { sqrt(17), sqrt(29), sqrt(45) }, 1e-6, "norm(2, 1): column L2 norms")
check.near(X:norm(2, -1), { sqrt(14), sqrt(77) }, 1e-6, "norm(2, -1)")
check.near(X:norm(inf, 2), { 3, 6 }, 0, "norm(inf, 2)")
check.near(X:norm("inf", 2), { 3, 6 }, 0, "norm('inf', 2)")
check.near(X:norm(-inf, 2), { 1, 4 }, 0, "norm(-inf, 2): smallest |x|")
check.near(X:norm(inf), 6, 0, "norm(inf)")
check.near(T({ { 0, 1 }, { 2, 0 } }):norm(0), 2, 0, "norm(0): count of nonzeros")
check.near(T({ { 0, 1 }, { 2, 3 } }):norm(0, 2), { 1, 2 }, 0, "norm(0, 2)")
local n3 = X:norm(3, 2, true)
check.eq(shape(n3), "2x1", "norm(3, 2, true) keeps the dimension")
check.near(n3, { { 36 ^ (1 / 3) }, { 405 ^ (1 / 3) } }, 1e-5, "norm(3, 2): (1+8+27)^(1/3), (64+125+216)^(1/3)")
check.near(X:norm("fro", { 1, 2 }), sqrt(91), 1e-6, "norm('fro', {1, 2})")
check.eq(shape(X:norm("fro", { 1, 2 }, true)), "1x1", "norm('fro', {1, 2}, true)")
do -- norm over dims {1, 3} of a 2x3x4 tensor, against a loop over its values
  local want = {}
  for j = 1, 3 do
    local acc = 0
    for i = 1, 2 do for k = 1, 4 do acc = acc + Y:get(i, j, k) ^ 2 end end
    want[j] = sqrt(acc)
  end
  check.near(Y:norm(2, { 1, 3 }), want, 1e-5, "norm(2, {1, 3})")
  check.eq(shape(Y:norm(2, { 3, 1 }, true)), "1x3x1", "norm(2, {3, 1}, true)")
  check.near(Y:norm(1, { 1, 3 }), { 68, 100, 132 }, 1e-5, "norm(1, {1, 3}) (NumPy: abs(Y).sum(axis=(0, 2)))")
end
check.errors(function() return X:norm("nuc") end, "svdvals")
-- torch's keywords as a trailing table
check.near(X:norm({ p = 1, dim = 2 }), { 6, 15 }, 1e-6, "norm({p = 1, dim = 2})")
check.eq(shape(X:norm(1, { dim = 2, keepdim = true })), "2x1", "norm(1, {dim = 2, keepdim = true})")
check.errors(function() return X:norm(2, { p = 3 }) end, "p given twice")
check.errors(function() return X:norm({ dims = 2 }) end, "unknown option 'dims'")
check.errors(function() return X:norm(-1) end, "p must be positive")
-- the gradient of the column norms: d||x_j||/dx = x / ||x_j||
do
  local A = T({ { 3, 0 }, { 4, 0 } }):requires_grad_()
  A:norm(2, 1):sum():backward()
  check.near(A.grad, { { 0.6, 0 }, { 0.8, 0 } }, 1e-6, "grad of norm(2, 1) (0 at a zero column)")
end

-- var / std (dim, unbiased = true, keepdim = false), torch's positional order
local v = T({ 1, 2, 3, 4 })
check.near(v:var(), 5 / 3, 1e-6, "var(): unbiased by default, sum (x-2.5)^2 = 5, / 3")
check.near(v:var(false), 1.25, 1e-6, "var(false): torch.var(x, False), / 4")
check.near(v:var(1, false), 1.25, 1e-6, "var(1, false): biased along dim 1")
check.eq(shape(v:var(1, true, true)), "1", "var(1, true, true) keepdim")
check.near(X:var(2), { 57 / 9, 309 / 9 }, 1e-5, "var(2): (1/9 + 64/9 + 49/9) / 2, (49/9 + 400/9 + 169/9) / 2")
check.near(X:var(2, false), { 114 / 27, 618 / 27 }, 1e-5, "var(2, false): / 3")
check.near(X:var(2, { correction = 0 }), { 114 / 27, 618 / 27 }, 1e-5, "var(2, {correction = 0})")
check.eq(shape(X:var(2, { keepdim = true })), "2x1", "var(2, {keepdim = true})")
check.near(X:std(2, true, true), { { sqrt(57 / 9) }, { sqrt(309 / 9) } }, 1e-5, "std(2, true, true)")
check.near(X:std(2, false), { sqrt(114 / 27), sqrt(618 / 27) }, 1e-5, "std(2, false)")
check.near(v:std({ unbiased = false }), sqrt(1.25), 1e-6, "std({unbiased = false})")
check.errors(function() return v:var(1, 0) end, "unbiased must be a boolean")
check.errors(function() return v:var(1, false, { correction = 0 }) end, "unbiased or correction")

-- sum / mean (dim, keepdim), dim an integer or a list
check.near(X:sum(), -3, 0, "sum()")
check.near(X:sum(2), { 2, -5 }, 0, "sum(2)")
check.eq(shape(X:sum(1, true)), "1x3", "sum(1, true)")
check.near(X:sum({ 1, 2 }), -3, 0, "sum({1, 2})")
check.near(Y:sum({ 1, 3 }), { 68, 100, 132 }, 0, "sum({1, 3}) (NumPy: Y.sum(axis=(0, 2)))")
check.near(Y:mean({ 3, 1 }), { 8.5, 12.5, 16.5 }, 1e-6, "mean({3, 1}) (NumPy: Y.mean(axis=(0, 2)))")
check.eq(shape(Y:mean({ 1, 3 }, true)), "1x3x1", "mean({1, 3}, true)")

-- max / min: values and 1-based indices along a dim; elementwise with a tensor
local mv, mi = X:max(2)
check.near(mv, { 3, 5 }, 0, "max(2) values")
check.near(mi, { 3, 2 }, 0, "max(2) indices")
mv, mi = X:min(1)
check.near(mv, { -4, -2, -6 }, 0, "min(1) values")
check.near(mi, { 2, 1, 2 }, 0, "min(1) indices")
check.eq(shape(select(1, X:max(2, true))), "2x1", "max(2, true)")
check.near(X:max(), 5, 0, "max()")
check.near(X:max(S.zeros(2, 3)), { { 1, 0, 3 }, { 0, 5, 0 } }, 0, "max(other): elementwise")
check.near(X:min(S.zeros(2, 3)), { { 0, -2, 0 }, { -4, 0, -6 } }, 0, "min(other): elementwise")
check.near(X:argmax(2), { 3, 2 }, 0, "argmax(2)")
check.eq(X:argmax(), 5, "argmax(): flat 1-based index (5 is the 5th value)")

-- sort(dim, descending) -> values, indices; topk(k, dim, largest, sorted)
local sv, si = T({ 3, 1, 2 }):sort()
check.near(sv, { 1, 2, 3 }, 0, "sort() values")
check.near(si, { 2, 3, 1 }, 0, "sort() indices")
sv, si = T({ 3, 1, 2 }):sort(1, true)
check.near(sv, { 3, 2, 1 }, 0, "sort(1, true)")
check.near(si, { 1, 3, 2 }, 0, "sort(1, true) indices")
local tv, ti = T({ 3, 1, 4, 1, 5 }):topk(2)
check.near(tv, { 5, 4 }, 0, "topk(2)")
check.near(ti, { 5, 3 }, 0, "topk(2) indices")
tv = T({ 3, 1, 4, 1, 5 }):topk(2, 1, false)
check.near(tv, { 1, 1 }, 0, "topk(2, 1, false): the smallest")
tv, ti = T({ 3, 1, 4, 1, 5 }):topk(3, 1, true, true)
check.near(tv, { 5, 4, 3 }, 0, "topk(3, 1, true, true)")
check.near(ti, { 5, 3, 1 }, 0, "topk sorted indices")
check.near(select(1, T({ { 1, 9 }, { 8, 2 } }):topk(1, 1)), { { 8, 9 } }, 0, "topk(1, 1) along dim 1")

-- add / sub with torch's keyword alpha: input + alpha * other
check.near(T({ 1, 2 }):add(T({ 10, 20 }), { alpha = 2 }), { 21, 42 }, 0, "add(other, {alpha = 2})")
check.near(S.sub(T({ 1, 2 }), 1, { alpha = 3 }), { -2, -1 }, 0, "sub(input, 1, {alpha = 3})")
check.errors(function() return T({ 1 }):mul(T({ 2 }), 5) end, "unexpected argument")

-- clamp(min, max)
check.near(X:clamp(-1, 2), { { 1, -1, 2 }, { -1, 2, -1 } }, 0, "clamp(-1, 2)")
check.near(X:clamp(0), { { 1, 0, 3 }, { 0, 5, 0 } }, 0, "clamp(0): min only")
check.near(X:clamp(nil, 0), { { 0, -2, 0 }, { -4, 0, -6 } }, 0, "clamp(nil, 0): max only")
check.errors(function() return X:clamp(0, S.ones(2, 3)) end, "number expected, got tensor")

-- gather(dim, index), scatter(dim, index, src | value), scatter_add, index_select
check.near(X:gather(2, T({ { 1, 1 }, { 3, 2 } })), { { 1, 1 }, { -6, 5 } }, 0, "gather(2, index)")
check.near(X:gather(1, T({ { 2, 1, 2 } })), { { -4, -2, -6 } }, 0, "gather(1, index)")
check.near(S.zeros(2, 3):scatter(2, T({ { 1 }, { 3 } }), T({ { 7 }, { 8 } })), { { 7, 0, 0 }, { 0, 0, 8 } }, 0, "scatter(2, index, src)")
check.near(S.zeros(2, 3):scatter(2, T({ { 2 }, { 1 } }), 9), { { 0, 9, 0 }, { 9, 0, 0 } }, 0, "scatter(2, index, value)")
check.near(S.ones(3):scatter_add(1, T({ 1, 1, 3 }), T({ 1, 2, 3 })), { 4, 1, 4 }, 0, "scatter_add(1, index, src)")
check.near(X:index_select(2, T({ 3, 1 })), { { 3, 1 }, { -6, -4 } }, 0, "index_select(2, index)")
check.near(X:index(2, T({ 3, 1 })), { { 3, 1 }, { -6, -4 } }, 0, "index (= index_select)")
check.near(X:masked_fill(X:lt(0), 0), { { 1, 0, 3 }, { 0, 5, 0 } }, 0, "masked_fill(mask, value)")

-- where(condition, input, other): a function (torch's method form takes the condition second)
check.near(S.where(T({ 1, 0 }), T({ 1, 2 }), T({ 3, 4 })), { 1, 4 }, 0, "where(cond, x, y)")
check.near(S.where(X:gt(0), X, 0), { { 1, 0, 3 }, { 0, 5, 0 } }, 0, "where(cond, x, 0)")
check.eq(X.where, nil, "x:where does not exist")

-- cat / stack (dim defaults to 1), shape ops
local A, B = T({ { 1, 2 } }), T({ { 3, 4 } })
check.near(S.cat({ A, B }), { { 1, 2 }, { 3, 4 } }, 0, "cat(list)")
check.near(S.cat({ A, B }, 2), { { 1, 2, 3, 4 } }, 0, "cat(list, 2)")
check.eq(shape(S.stack({ A, B })), "2x1x2", "stack(list)")
check.eq(shape(S.stack({ A, B }, 3)), "1x2x2", "stack(list, 3)")
check.near(X:transpose(1, 2), { { 1, -4 }, { -2, 5 }, { 3, -6 } }, 0, "transpose(1, 2)")
check.near(X:t(), X:transpose(1, 2), 0, "t()")
check.eq(shape(Y:permute(3, 1, 2)), "4x2x3", "permute(3, 1, 2)")
check.eq(Y:permute(3, 1, 2):get(4, 2, 3), Y:get(2, 3, 4), "permute moves values")
check.eq(shape(Y:permute({ 2, 3, 1 })), "3x4x2", "permute({2, 3, 1})")
check.near(T({ { 1 }, { 2 } }):expand(2, 3), { { 1, 1, 1 }, { 2, 2, 2 } }, 0, "expand(2, 3)")
check.near(T({ { 1 }, { 2 } }):expand(-1, 2), { { 1, 1 }, { 2, 2 } }, 0, "expand(-1, 2)")
check.eq(shape(T({ 1, 2 }):expand(3, 2)), "3x2", "expand adds leading dims")
check.eq(shape(Y:reshape(4, -1)), "4x6", "reshape(4, -1)")
check.eq(shape(Y:view({ 6, 4 })), "6x4", "view({6, 4})")
check.near(X:narrow(2, 2, 2), { { -2, 3 }, { 5, -6 } }, 0, "narrow(dim, start, length)")
check.near(X:select(1, 2), { -4, 5, -6 }, 0, "select(dim, index)")
check.eq(shape(X:unsqueeze(2)), "2x1x3", "unsqueeze(2)")
check.eq(shape(X:unsqueeze(2):squeeze(2)), "2x3", "squeeze(2)")
check.eq(shape(S.zeros(1, 3, 1):squeeze()), "3", "squeeze()")
check.eq(X:size(2), 3, "size(2)")
check.eq(#X:size(), 2, "size()")
check.eq(X:dim(), 2, "dim()")
check.eq(X:numel(), 6, "numel()")
check.near(X:tolist(), { { 1, -2, 3 }, { -4, 5, -6 } }, 0, "tolist()")

-- softmax family (dim), products
check.near(T({ 0, math.log(3) }):softmax(1), { 0.25, 0.75 }, 1e-6, "softmax(1)")
check.near(T({ 0, math.log(3) }):log_softmax(1), { math.log(0.25), math.log(0.75) }, 1e-6, "log_softmax(1)")
check.near(T({ 0, math.log(3) }):logsumexp(1), math.log(4), 1e-6, "logsumexp(1)")
check.near(X:mm(X:t()), { { 14, -32 }, { -32, 77 } }, 0, "mm")
check.near(X:matmul(T({ 1, 1, 1 })), { 2, -5 }, 0, "matmul(matrix, vector)")
check.near(T({ 1, 2 }):dot(T({ 3, 4 })), 11, 0, "dot")
check.near(T({ 1, 2 }):outer(T({ 3, 4 })), { { 3, 4 }, { 6, 8 } }, 0, "outer")

-- constructors: inclusive ranges as Lua's numeric for (documented difference)
check.near(S.arange(3), { 1, 2, 3 }, 0, "arange(3)")
check.near(S.arange(2, 4), { 2, 3, 4 }, 0, "arange(2, 4)")
check.near(S.linspace(0, 1, 3), { 0, 0.5, 1 }, 0, "linspace(0, 1, 3)")
check.near(S.eye(2, 3), { { 1, 0, 0 }, { 0, 1, 0 } }, 0, "eye(2, 3)")
check.near(S.full({ 2 }, 7), { 7, 7 }, 0, "full({2}, 7)")

-- autograd: requires_grad is a field, requires_grad_ sets it and returns the tensor
do
  local x = T({ 1, 2 })
  check.eq(x.requires_grad, false, "requires_grad field, false by default")
  check.eq(x:requires_grad_(), x, "requires_grad_() returns the tensor")
  check.eq(x.requires_grad, true, "requires_grad_() sets it")
  x:requires_grad_(false)
  check.eq(x.requires_grad, false, "requires_grad_(false)")
  x.requires_grad = true
  check.eq(x.requires_grad, true, "x.requires_grad = true")
  check.eq(x.is_leaf, true, "is_leaf field")
  check.eq(x.grad_fn, nil, "a leaf has no grad_fn")
  local y = x * 3
  check.eq(y.requires_grad, true, "an op's result requires grad")
  check.eq(y.is_leaf, false, "a result is not a leaf")
  check.eq(y.grad_fn, "mul", "grad_fn names the op")
  check.errors(function() y.requires_grad = false end, "sslua.Tensor.requires_grad: you can only change requires_grad flags of leaf variables")
  check.errors(function() x.requires_grad = 1 end, "requires_grad must be a boolean")
  check.errors(function() return x:requires_grad() end, "attempt to call a boolean value")
  y:sum():backward()
  check.near(x.grad, { 3, 3 }, 0, "d sum(3x)/dx")
  check.eq(S.no_grad(function() return (x * 2).requires_grad end), false, "no_grad records nothing")
end

-- linalg.svd -> U, S, Vh with A = U diag(S) Vh, thin by default
do
  local U, Sv, Vh = S.linalg.svd(X)
  check.eq(shape(U) .. " " .. shape(Sv) .. " " .. shape(Vh), "2x2 2 2x3", "thin svd shapes")
  -- singular values: square roots of the eigenvalues of X X^T = [[14, -32], [-32, 77]],
  -- (91 +- sqrt(63^2 + 4 * 32^2)) / 2 (NumPy: 9.508032, 0.77286964)
  local d = sqrt(63 ^ 2 + 4 * 32 ^ 2)
  check.near(Sv, { sqrt((91 + d) / 2), sqrt((91 - d) / 2) }, 1e-5, "S descending")
  check.near((U * Sv):mm(Vh), X, 1e-5, "U diag(S) Vh = A")
  check.near(Vh:mm(Vh:t()), S.eye(2), 1e-5, "rows of Vh orthonormal")
  local Uf, Sf, Vf = S.linalg.svd(X, { full = true })
  check.eq(shape(Uf) .. " " .. shape(Sf) .. " " .. shape(Vf), "2x2 2 3x3", "full svd shapes")
  check.near(Vf:mm(Vf:t()), S.eye(3), 1e-5, "full Vh orthogonal")
  check.eq(shape(select(3, S.linalg.svd(X, { full_matrices = true }))), "3x3", "full_matrices = true")
  check.near(S.linalg.matrix_exp(T({ { 0, 1 }, { 0, 0 } })), { { 1, 1 }, { 0, 1 } }, 1e-6, "matrix_exp of a nilpotent")
  check.near(S.linalg.expm(S.zeros(2, 2)), S.eye(2), 1e-6, "expm(0) = I")
  local w, V = S.linalg.eigh(T({ { 2, 1 }, { 1, 2 } }))
  check.near(w, { 1, 3 }, 1e-5, "eigh: ascending eigenvalues")
  check.near(V:t():mm(V), S.eye(2), 1e-5, "eigh: orthonormal eigenvectors")
end
