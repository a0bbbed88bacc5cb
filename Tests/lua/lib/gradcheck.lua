-- Float64 central finite differences against autograd, the one checker of the Lua tests:
--   local G = require "gradcheck"
--   G.gradcheck(fn, inputs [, tol = 1e-6, h = 1e-6, what, rng])
-- fn(list of tensors) -> tensor. A 0-d result is the loss itself; otherwise, with `rng` (a
-- generator), the loss is sum(fn(xs) * r) for one standard normal r drawn after the first call,
-- so every element of the result takes part. Every element of every input (float64, cloned) is
-- stepped by +-h; |numeric - autograd| must be at most tol * (1 + |numeric|).
local check = require "check"
local S = sslua
local M = {}

function M.gradcheck(fn, inputs, tol, h, what, rng)
  h, tol, what = h or 1e-6, tol or 1e-6, what or "gradcheck"
  local xs = {}
  for i, x in ipairs(inputs) do xs[i] = x:detach():clone():requires_grad_() end
  local out = fn(xs)
  local r
  if rng then
    r = S.randn(out:shape(), { rng = rng, dtype = "float64" })
  elseif out:dim() ~= 0 then
    error(what .. ": fn returned size " .. table.concat(out:shape(), "x") .. "; pass an rng to project it", 2)
  end
  local function loss(t) return r and (t * r):sum() or t end
  loss(out):backward()
  for i, x in ipairs(xs) do
    local base = {}
    for j, y in ipairs(xs) do base[j] = y:detach():clone() end
    local flat = base[i]:reshape(base[i]:numel())
    local g = x.grad
    check.truthy(g ~= nil, what .. ": input " .. i .. " got no gradient")
    local gf = g:reshape(g:numel()):totable()
    local function value() return S.no_grad(function() return loss(fn(base)):item() end) end
    for e = 1, flat:numel() do
      local v = flat:get(e)
      flat:set(e, v + h); local fp = value()
      flat:set(e, v - h); local fm = value()
      flat:set(e, v)
      local num = (fp - fm) / (2 * h)
      if math.abs(num - gf[e]) > tol * (1 + math.abs(num)) then
        error(string.format("%s: input %d element %d: autograd %.10g, finite differences %.10g",
          what, i, e, gf[e], num), 2)
      end
    end
  end
end

function M.maxdiff(a, b) return (a - b):abs():max():item() end

return M
