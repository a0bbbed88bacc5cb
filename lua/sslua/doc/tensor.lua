-- Documentation of the `sslua` top level and the tensor methods (sslua.help's source; see
-- lua/sslua/help.lua for the entry fields). Tensor methods are named Tensor.<m>; each is
-- also sslua.<m>(t, ...).
local DT = { "dtype", "string", "\"float32\"", "\"float32\" or \"float64\"" }
local RG = { "requires_grad", "boolean", "false", "make the result a leaf that requires grad" }
local RNG = { "rng", "generator", "the global one", "a generator from sslua.rng(seed)" }
local function unary(name, what, ex)
  return { "Tensor." .. name, "t:" .. name .. "()", "Elementwise " .. what .. "; differentiable.",
    ret = "a new tensor of t's size", ex = ex or ("sslua.tensor{-1, 0, 2}:" .. name .. "()") }
end
local function alpha(name, what, sign)
  return { "Tensor." .. name, "t:" .. name .. "(other [, opts])",
    "Elementwise " .. what .. "; `other` is a tensor (broadcast as NumPy) or a number. With `{alpha = a}`, t " .. sign .. " a * other (torch's `alpha`). Differentiable.",
    opts = { { "alpha", "number", "1", "multiplies other" } },
    ret = "a new tensor", ex = "sslua.tensor{1, 2, 3}:" .. name .. "(2), sslua.tensor{1, 2}:" .. name .. "(sslua.tensor{10, 20}, {alpha = 2})" }
end
-- The t:<name>(other) methods (binary operations, their in-place forms, comparisons): `%s` in the
-- summary is the operation's description x, in the example the method's name.
local function with_other(summary, ret, ex)
  return function(name, x)
    return { "Tensor." .. name, "t:" .. name .. "(other)", summary:format(x), ret = ret, ex = ex:format(name) }
  end
end
local binary = with_other("Elementwise %s; `other` is a tensor (broadcast as NumPy) or a number.",
  "a new tensor", "sslua.tensor{1, 2, 3}:%s(2)")
local inplace = with_other("In-place `%s`: writes the result into t (other broadcast to t's size). Refused on a tensor that requires grad while grad mode is on.",
  "t", "local t = sslua.ones(3); t:%s(2)")
local compare = with_other("Elementwise comparison `t %s other` (tensor, broadcast, or number) as a 0/1 tensor of t's dtype.",
  "a tensor of 0 and 1", "sslua.tensor{1, 2, 3}:%s(2)")
local function reduction(name, what)
  return { "Tensor." .. name, "t:" .. name .. "([dim [, keepdim]])",
    what .. " of all elements (a 0-d tensor), or along `dim` (1-based, -1 the last; an integer or a list of dims, torch's `dim=(0, 1)`), keeping the reduced dims as size 1 with `keepdim = true`. Differentiable.",
    ret = "a tensor", ex = "sslua.tensor{{1, 2}, {3, 4}}:" .. name .. "(1), sslua.ones(2, 3, 4):" .. name .. "({1, 3})" }
end
local function extremum(name, what)
  return { "Tensor." .. name, "t:" .. name .. "([dim [, keepdim]]) | t:" .. name .. "(other)",
    what .. " of all elements (a 0-d tensor), or along `dim` with the 1-based indices (as torch." .. name .. "(t, dim)); with a tensor `other`, the elementwise " .. (name == "max" and "maximum" or "minimum") .. " (as `" .. name .. "imum`, torch." .. name .. "(t, other)). Differentiable.",
    ret = "values; values and indices (a float tensor of 1-based positions) with dim; a tensor with other", ex = "local v, i = sslua.tensor{{1, 5}, {7, 2}}:" .. name .. "(2)\nlocal m = sslua.tensor{1, -2}:" .. name .. "(sslua.zeros(2))" }
end
local function ctor(name, sig, what, extra, ex)
  local o = { DT, RG }
  for _, x in ipairs(extra or {}) do table.insert(o, x) end
  return { "sslua." .. name, sig, what, opts = o, ret = "a new tensor", ex = ex }
end

return {
  { "sslua.help", "sslua.help(f) -> string",
    "The documentation of a public function or class: pass the value itself (`sslua.help(sslua.geom.rank)`, an `nn` module or optimizer instance gives its class) or a dotted name (`\"sslua.geom.fvu\"`, `\"nn.Linear\"`, `\"Tensor.narrow\"`). In the REPL, `help(f)` and `?name` print it. `sslua.help.repr(v)` formats a value as the REPL prints it; `sslua.help.markdown()` renders docs/API.md.",
    ret = "a string; an error when nothing is documented under that name", ex = "print(sslua.help(sslua.geom.rank))" },
  ctor("tensor", "sslua.tensor(data [, opts])", "A tensor from a number (0-d), a nested table of numbers, or a copy of a tensor (detached).", nil, "sslua.tensor{{1, 2}, {3, 4}}"),
  ctor("zeros", "sslua.zeros(size... [, opts])", "A tensor of zeros; sizes as numbers or one table (`zeros(2, 3)`, `zeros{2, 3}`).", nil, "sslua.zeros(2, 3, {dtype = \"float64\"})"),
  ctor("ones", "sslua.ones(size... [, opts])", "A tensor of ones; sizes as numbers or one table.", nil, "sslua.ones{2, 3}"),
  ctor("full", "sslua.full(size, value [, opts])", "A tensor filled with `value`; `size` a number or a table.", nil, "sslua.full({2, 2}, 7)"),
  ctor("eye", "sslua.eye(n [, m] [, opts])", "The n x m identity (m = n by default).", nil, "sslua.eye(3)"),
  ctor("arange", "sslua.arange(n) | sslua.arange(a, b [, step]) [, opts]", "Like Lua's numeric for: `arange(n)` is 1..n, `arange(a, b, step)` is a..b inclusive (torch's arange excludes the end).", nil, "sslua.arange(5), sslua.arange(0, 1, 0.25)"),
  ctor("linspace", "sslua.linspace(a, b, n [, opts])", "n evenly spaced values from a to b inclusive.", nil, "sslua.linspace(0, 1, 5)"),
  ctor("rand", "sslua.rand(size... [, opts])", "Uniform samples in [0, 1).", { RNG }, "sslua.rand(2, 3, {rng = sslua.rng(1)})"),
  ctor("randn", "sslua.randn(size... [, opts])", "Standard normal samples.", { RNG }, "sslua.randn(4, 2)"),
  { "sslua.randperm", "sslua.randperm(n [, opts])", "A random permutation of 1..n (torch's is of 0..n-1).", opts = { DT, RNG }, ret = "a tensor of n values", ex = "sslua.randperm(5)" },
  { "sslua.randint", "sslua.randint(lo, hi, size [, opts])", "Integers drawn uniformly from lo..hi inclusive (torch's `high` is exclusive); `size` a number or a table.", opts = { DT, RNG }, ret = "a tensor", ex = "sslua.randint(1, 10, {2, 3})" },
  { "sslua.manual_seed", "sslua.manual_seed(n)", "Reseeds the global generator (xoshiro256** seeded by splitmix64).", ex = "sslua.manual_seed(0)" },
  { "sslua.rng", "sslua.rng([seed]) -> generator", "An independent generator for the `rng` option of random functions (seeded from the clock without a seed). Methods: `g:state()` the exact state as a string (`\"xoshiro256**:\"` and six 16-digit hex fields separated by `:`: the four state words, the seed, the cached Box-Muller normal or `-`), `g:set_state(s)` continues exactly from such a state (an error, leaving g unchanged, when s is not one), `g:seed()` the seed it was made (or last reseeded) with.",
    ret = "a generator userdata", ex = "local g = sslua.rng(42); local s = g:state()\nlocal a = sslua.randn(3, {rng = g}); g:set_state(s)\nlocal b = sslua.randn(3, {rng = g})  -- b equals a\nprint(g:seed())" },
  { "sslua.get_rng_state", "sslua.get_rng_state() -> string", "The global generator's exact state (torch.get_rng_state), in the format of `g:state()`.", ret = "a string", ex = "local s = sslua.get_rng_state(); local a = sslua.rand(2)\nsslua.set_rng_state(s); local b = sslua.rand(2)  -- b equals a" },
  { "sslua.set_rng_state", "sslua.set_rng_state(s)", "Restores the global generator to a state from `sslua.get_rng_state()` or `g:state()` (torch.set_rng_state); an error, leaving it unchanged, when s is not one.", ex = "sslua.set_rng_state(sslua.rng(7):state())" },
  { "sslua.display", "sslua.display(x [, opts])",
    "Shows x now, in the middle of a notebook cell (`sslua kernel`, docs/NOTEBOOKS.md): a display_data message with x's MIME bundle (`sslua.display.bundle(x)`: text/plain always, image/svg+xml for an sslua.plot figure, a compact text/html table for a tensor, a module's tree as text). With `id`, a later `sslua.display(y, {id = id, update = true})` replaces that output in place (update_display_data). Outside a kernel it prints x's text/plain form.",
    opts = { { "id", "string", nil, "a display id, to update the output later" }, { "update", "boolean", "false", "replace the output shown with this id" } },
    ex = "sslua.display(sslua.eye(2))\nsslua.display(sslua.plot.line{y = {1, 4, 9}}, {id = \"fig\"})" },
  { "sslua.display.bundle", "sslua.display.bundle(x) -> table",
    "The MIME bundle the kernel shows for x: {[\"text/plain\"] = ..., [\"image/svg+xml\"] = ... (a figure), [\"text/html\"] = ... (a tensor)}.",
    ret = "a table of MIME type -> string", ex = "local b = sslua.display.bundle(sslua.tensor{1, 2})\nprint(b[\"text/html\"] ~= nil)" },
  { "sslua.memory", "sslua.memory() -> integer", "Bytes of native tensor memory alive now.", ret = "an integer", ex = "print(sslua.memory())" },
  { "sslua.threads", "sslua.threads([n]) -> integer", "Gets, or sets to n >= 1, the worker threads of BLAS and of sslua's kernels.", ret = "the thread count", ex = "sslua.threads()" },
  { "sslua.clock", "sslua.clock() -> number", "Monotonic wall-clock seconds, for timing.", ret = "a number", ex = "local t0 = sslua.clock()" },
  { "sslua.version", "sslua.version", "The toolkit version string (`sslua._VERSION` adds the name).", ex = "print(sslua.version)" },
  { "sslua.cat", "sslua.cat(tensors [, dim])", "Concatenates a list of tensors along dim (default 1); differentiable.", ret = "a new tensor", ex = "sslua.cat({sslua.ones(2, 3), sslua.zeros(1, 3)}, 1)" },
  { "sslua.stack", "sslua.stack(tensors [, dim])", "Stacks same-size tensors along a new dim (default 1); differentiable.", ret = "a new tensor", ex = "sslua.stack({sslua.ones(3), sslua.zeros(3)})" },
  { "sslua.where", "sslua.where(cond, x, y)", "x where cond is nonzero, else y (torch.where(cond, x, y)); cond a tensor (0/1 as the comparisons return), x and y tensors or numbers, all broadcast together. Differentiable in x and y. A function only: torch's method form `x.where(cond, y)` takes the condition second, so `t:where` does not exist.",
    ret = "a new tensor", ex = "local x = sslua.tensor{-1, 2, -3}\nsslua.where(x:gt(0), x, 0)  -- {0, 2, 0}" },
  { "sslua.no_grad", "sslua.no_grad(fn, ...) -> results of fn", "Runs fn(...) with gradient recording off (torch.no_grad).", ret = "what fn returns", ex = "local y = sslua.no_grad(function() return sslua.ones(2) * 3 end)" },
  { "sslua.grad_check", "sslua.grad_check(fn, inputs [, opts]) -> ok, max_error, message", "Compares the autograd gradients of `fn(table.unpack(inputs))` (a scalar) with float64 central finite differences; `inputs` is a tensor or a list of tensors that require grad (torch.autograd.gradcheck).",
    opts = { { "eps", "number", "1e-6", "finite-difference step" }, { "atol", "number", "1e-5", "absolute tolerance" }, { "rtol", "number", "1e-3", "relative tolerance" } },
    ret = "a boolean, the largest error, and a message describing the worst element (nil when ok)", ex = "local x = sslua.randn(3, {dtype = \"float64\", requires_grad = true})\nprint(sslua.grad_check(function(a) return (a * a):sum() end, {x}))" },
  { "sslua.save", "sslua.save(path, x [, opts])", "Writes one tensor as `.npy` (NumPy reads it) or a table of named tensors as `.safetensors` (the extension decides), through a temporary and a rename. Under `sslua --sandbox`, only below the results directory (opened beneath its descriptor, following no symbolic link; a file with other hard links is refused).",
    opts = { { "metadata", "table", nil, ".safetensors only: string -> string header metadata" } }, run = false, ex = "sslua.save(\"w.safetensors\", model:state_dict())" },
  { "sslua.load", "sslua.load(path [, opts])", "Reads a `.npy` file (one tensor; integer and bool arrays as float64, exactly, else an error), a `.safetensors` file (a table of named tensors, and its metadata), or a PyTorch file (`.pt`, `.pth`, Lightning `.ckpt`, any `torch.save` zip; also plain `.pkl` pickles) as plain Lua data: dicts as tables, lists and tuples as sequences, tensors as tensors (float32; float64 kept; integer/bool tensors as float64 when exact, else an error). As `torch.load(weights_only=True)`, only data is rebuilt: objects of other classes become inert tables `{__class = \"module.Name\", args = {...}, state = ...}`; nothing in the file is run.",
    opts = { { "dtype", "string", "as stored (float16/bfloat16 -> float32, integers -> float64)", "convert to \"float32\" or \"float64\"" } }, run = false, ex = "local sd = sslua.load(\"w.safetensors\")" },

  { "Tensor.size", "t:size([dim])", "Without dim, the size as an `sslua.Size` (a plain table of integers that prints as `sslua.Size{2, 3}`: `s[1]`, `#s` and `ipairs` work); with dim (1-based, -1 the last), that dimension's length.", ret = "a size table or an integer", ex = "sslua.zeros(2, 3):size(), sslua.zeros(2, 3):size(2)" },
  { "Tensor.shape", "t:shape()", "The size as an `sslua.Size`, as `t:size()`.", ret = "a size table", ex = "sslua.zeros(2, 3):shape()" },
  { "Tensor.dim", "t:dim()", "The number of dimensions.", ret = "an integer", ex = "sslua.zeros(2, 3):dim()" },
  { "Tensor.numel", "t:numel()", "The number of elements.", ret = "an integer", ex = "sslua.zeros(2, 3):numel()" },
  { "Tensor.dtype", "t:dtype()", "The element type, \"float32\" or \"float64\".", ret = "a string", ex = "sslua.zeros(2):dtype()" },
  { "Tensor.double", "t:double()", "A float64 copy (t itself when already float64); differentiable.", ret = "a tensor", ex = "sslua.ones(2):double()" },
  { "Tensor.float", "t:float()", "A float32 copy (t itself when already float32); differentiable.", ret = "a tensor", ex = "sslua.ones(2):double():float()" },
  { "Tensor.is_contiguous", "t:is_contiguous()", "Whether t is a dense row-major view.", ret = "a boolean", ex = "sslua.zeros(2, 3):t():is_contiguous()" },
  { "Tensor.reshape", "t:reshape(size...)", "The same elements in a new size (sizes as numbers or a table; one -1 is inferred); a view when possible, else a copy.", ret = "a tensor", ex = "sslua.arange(6):reshape(2, 3)" },
  { "Tensor.view", "t:view(size...)", "As reshape.", ret = "a tensor", ex = "sslua.arange(6):view(3, -1)" },
  { "Tensor.t", "t:t()", "The transpose of a 2-d tensor (a view).", ret = "a tensor", ex = "sslua.zeros(2, 3):t()" },
  { "Tensor.transpose", "t:transpose(d1, d2)", "Swaps two dimensions (a view).", ret = "a tensor", ex = "sslua.zeros(2, 3, 4):transpose(1, 3)" },
  { "Tensor.permute", "t:permute(d1, d2, ...) | t:permute{...}", "Reorders the dimensions (1-based; a view).", ret = "a tensor", ex = "sslua.zeros(2, 3, 4):permute(3, 1, 2)" },
  { "Tensor.narrow", "t:narrow(dim, start, length)", "The slice start..start+length-1 (1-based) along dim (a view).", ret = "a tensor", ex = "sslua.arange(10):narrow(1, 3, 4)" },
  { "Tensor.select", "t:select(dim, index)", "The slice at index (1-based) along dim, without that dim (a view); `t[i]` is `t:select(1, i)`.", ret = "a tensor", ex = "sslua.eye(3):select(1, 2)" },
  { "Tensor.unsqueeze", "t:unsqueeze(dim)", "Inserts a dimension of size 1 at dim.", ret = "a tensor", ex = "sslua.ones(3):unsqueeze(1)" },
  { "Tensor.squeeze", "t:squeeze([dim])", "Removes dim (when of size 1), or every dimension of size 1.", ret = "a tensor", ex = "sslua.ones(1, 3, 1):squeeze()" },
  { "Tensor.expand", "t:expand(size...)", "A broadcast view to a larger size (-1 keeps a dimension).", ret = "a tensor", ex = "sslua.ones(3, 1):expand(3, 4)" },
  { "Tensor.contiguous", "t:contiguous()", "t when dense, else a dense copy; differentiable.", ret = "a tensor", ex = "sslua.zeros(2, 3):t():contiguous()" },
  { "Tensor.clone", "t:clone()", "A copy; differentiable.", ret = "a tensor", ex = "sslua.ones(2):clone()" },
  { "Tensor.totable", "t:totable()", "The elements as nested Lua tables (a number for a 0-d tensor); `t:tolist()` is the same (torch's name).", alias = { "Tensor.tolist" }, ret = "a table or a number", ex = "sslua.eye(2):totable(), sslua.eye(2):tolist()" },
  { "Tensor.item", "t:item()", "The value of a one-element tensor.", ret = "a number", ex = "sslua.ones(1):sum():item()" },
  { "Tensor.get", "t:get(i, j, ...)", "The element at 1-based indices (one per dimension).", ret = "a number", ex = "sslua.eye(3):get(2, 2)" },
  { "Tensor.set", "t:set(i, j, ..., value)", "Sets the element at 1-based indices (in place).", ret = "t", ex = "local t = sslua.zeros(2, 2); t:set(1, 2, 5)" },
  { "Tensor.index_select", "t:index_select(dim, index)", "The slices at 1-based indices (a tensor or a Lua list) along dim, in that order (torch.index_select); `t:index(dim, index)` is the same (sslua's older name). Differentiable.", alias = { "Tensor.index" }, ret = "a tensor", ex = "sslua.arange(5):index_select(1, {5, 1}), sslua.tensor{{1, 2, 3}, {4, 5, 6}}:index(2, sslua.tensor{3, 1})" },
  { "Tensor.gather", "t:gather(dim, index)", "out[i][j] = t[i][index[i][j]] for dim 2 (torch.gather, 1-based indices); differentiable.", ret = "a tensor of index's size", ex = "sslua.tensor{{1, 2}, {3, 4}}:gather(2, sslua.tensor{{2}, {1}})" },
  { "Tensor.scatter", "t:scatter(dim, index, src)", "A copy of t with src (tensor or number) written at the 1-based index along dim (torch.scatter).", ret = "a tensor", ex = "sslua.zeros(2, 3):scatter(2, sslua.tensor{{1}, {3}}, 1)" },
  { "Tensor.scatter_", "t:scatter_(dim, index, src)", "In-place scatter.", ret = "t", ex = "sslua.zeros(2, 3):scatter_(2, sslua.tensor{{1}, {3}}, 1)" },
  { "Tensor.scatter_add", "t:scatter_add(dim, index, src)", "A copy of t with src added at the 1-based index along dim (torch.scatter_add).", ret = "a tensor", ex = "sslua.zeros(3):scatter_add(1, sslua.tensor{1, 1, 3}, sslua.ones(3))" },
  { "Tensor.scatter_add_", "t:scatter_add_(dim, index, src)", "In-place scatter_add.", ret = "t", ex = "sslua.zeros(3):scatter_add_(1, sslua.tensor{1, 1, 3}, sslua.ones(3))" },
  { "Tensor.masked_fill", "t:masked_fill(mask, value)", "A copy with value where mask (a 0/1 tensor, broadcast) is nonzero; differentiable.", ret = "a tensor", ex = "sslua.ones(3):masked_fill(sslua.tensor{1, 0, 1}, 0)" },
  { "Tensor.masked_fill_", "t:masked_fill_(mask, value)", "In-place masked_fill.", ret = "t", ex = "sslua.ones(3):masked_fill_(sslua.tensor{1, 0, 1}, 0)" },
  { "Tensor.fill_", "t:fill_(value)", "Sets every element to value (in place).", ret = "t", ex = "sslua.zeros(3):fill_(2)" },
  { "Tensor.zero_", "t:zero_()", "Sets every element to 0 (in place).", ret = "t", ex = "sslua.ones(3):zero_()" },
  { "Tensor.copy_", "t:copy_(src)", "Copies src (broadcast to t's size, any dtype) into t (in place).", ret = "t", ex = "sslua.zeros(3):copy_(sslua.ones(3))" },

  alpha("add", "sum `t + other`", "+"), alpha("sub", "difference `t - other`", "-"),
  binary("mul", "product `t * other`"), binary("div", "quotient `t / other`"),
  binary("pow", "power `t ^ other`"), binary("maximum", "maximum of t and other"),
  binary("minimum", "minimum of t and other"),
  inplace("add_", "add"), inplace("sub_", "sub"), inplace("mul_", "mul"), inplace("div_", "div"), inplace("pow_", "pow"),
  compare("eq", "=="), compare("ne", "~="), compare("lt", "<"), compare("le", "<="), compare("gt", ">"), compare("ge", ">="),
  unary("neg", "negation (also `-t`)"), unary("exp", "exponential"), unary("log", "natural logarithm", "sslua.tensor{1, 2}:log()"),
  unary("sqrt", "square root", "sslua.tensor{1, 4}:sqrt()"), unary("abs", "absolute value"), unary("relu", "max(x, 0)"),
  unary("sigmoid", "logistic sigmoid"), unary("tanh", "hyperbolic tangent"), unary("floor", "floor (gradient 0)"),
  unary("sign", "sign, -1, 0 or 1 (gradient 0)"), unary("square", "square"), unary("sin", "sine"), unary("cos", "cosine"),
  { "Tensor.clamp", "t:clamp(min [, max])", "Elementwise clamp to [min, max]; the bounds are numbers (a tensor bound is an error), either may be nil. Differentiable.", ret = "a tensor", ex = "sslua.tensor{-2, 0, 2}:clamp(-1, 1)" },
  { "Tensor.leaky_relu", "t:leaky_relu([slope])", "x for x > 0, slope * x otherwise (slope 0.01 by default).", ret = "a tensor", ex = "sslua.tensor{-1, 1}:leaky_relu(0.1)" },
  reduction("sum", "The sum"), reduction("mean", "The mean"),
  extremum("max", "The maximum"), extremum("min", "The minimum"),
  { "Tensor.argmax", "t:argmax([dim [, keepdim]])", "The 1-based position of the maximum: without dim, a Lua integer (the flat index, torch returns a 0-d tensor); along dim, a float tensor of positions.", ret = "an integer, or an index tensor with dim", ex = "sslua.tensor{3, 9, 1}:argmax()" },
  { "Tensor.argmin", "t:argmin([dim [, keepdim]])", "The 1-based position of the minimum: without dim, a Lua integer (the flat index, torch returns a 0-d tensor); along dim, a float tensor of positions.", ret = "an integer, or an index tensor with dim", ex = "sslua.tensor{3, 9, 1}:argmin()" },
  { "Tensor.var", "t:var([dim [, unbiased [, keepdim]]] [, opts]) | t:var(unbiased)", "The variance over all elements (a 0-d tensor) or along dim (nil: all), in torch's argument order; unbiased (divides by N - 1) by default, `unbiased = false` divides by N; `t:var(false)` is torch.var(t, False). Torch's keywords go in a trailing table (each given once, positionally or there). Differentiable.",
    opts = { { "correction", "number", "1", "divide by N - correction (not with unbiased)" }, { "unbiased", "boolean", "true", "false is correction = 0" }, { "keepdim", "boolean", "false", "keep dim as size 1" } }, ret = "a tensor", ex = "local v = sslua.tensor{1, 2, 3, 4}\nprint(v:var(), v:var(false), v:var(1, false, true), sslua.ones(2, 3):var(2, {correction = 0}))" },
  { "Tensor.std", "t:std([dim [, unbiased [, keepdim]]] [, opts]) | t:std(unbiased)", "The standard deviation, the square root of var with the same arguments (unbiased by default). Differentiable.",
    opts = { { "correction", "number", "1", "divide by N - correction (not with unbiased)" }, { "unbiased", "boolean", "true", "false is correction = 0" }, { "keepdim", "boolean", "false", "keep dim as size 1" } }, ret = "a tensor", ex = "sslua.tensor{1, 2, 3, 4}:std(), sslua.tensor{{1, 2}, {3, 5}}:std(2, false, true)" },
  { "Tensor.norm", "t:norm([p [, dim [, keepdim]]] [, opts])", "The p-norm in torch's order (torch.Tensor.norm(p='fro', dim=None, keepdim=False)): of all elements (a 0-d tensor; Frobenius for the default p = 2), or over `dim`, an integer or a list of dims. p is a positive number, `math.huge` / `-math.huge` (largest / smallest |x|), 0 (the count of nonzeros), or \"fro\" (2), \"inf\", \"-inf\"; a negative finite p is an error, and \"nuc\" is `sslua.linalg.svdvals(A):sum()`. The keywords may instead go in a trailing table `{p =, dim =, keepdim =}` (each given once). Differentiable.",
    opts = { { "p", "number|string", "2", "the order" }, { "dim", "integer|table", "all dims", "the dims reduced" }, { "keepdim", "boolean", "false", "keep the reduced dims as size 1" } },
    ret = "a tensor", ex = "local A = sslua.tensor{{3, 4}, {0, 1}}\nprint(A:norm(), A:norm(1, 2), A:norm(math.huge, 1, true), A:norm(\"fro\", {1, 2}), A:norm({p = 1, dim = 2}))" },
  { "Tensor.softmax", "t:softmax([dim])", "Softmax along dim (default the last; torch requires it); differentiable.", ret = "a tensor", ex = "sslua.tensor{1, 2, 3}:softmax(1)" },
  { "Tensor.log_softmax", "t:log_softmax([dim])", "Log-softmax along dim (default the last); differentiable.", ret = "a tensor", ex = "sslua.tensor{1, 2, 3}:log_softmax(1)" },
  { "Tensor.logsumexp", "t:logsumexp([dim [, keepdim]])", "log(sum(exp(t))) along dim (default the last), computed stably; differentiable.", ret = "a tensor", ex = "sslua.tensor{1, 2, 3}:logsumexp(1)" },
  { "Tensor.normalize", "t:normalize([dim] [, opts])", "Divides each slice along dim (default 2 for 2 or more dims: the rows of a matrix; 1 for a vector) by its L2 norm, max(norm, eps) (torch.nn.functional.normalize).",
    opts = { { "eps", "number", "1e-12", "lower bound of the norm" } }, ret = "a tensor", ex = "sslua.tensor{{3, 4}}:normalize(2)" },
  { "Tensor.mm", "t:mm(other)", "Matrix product of two 2-d tensors; differentiable.", ret = "a tensor", ex = "sslua.eye(2):mm(sslua.ones(2, 3))" },
  { "Tensor.matmul", "t:matmul(other)", "Matrix product with NumPy's rules for 1-d and batched operands; differentiable.", ret = "a tensor", ex = "sslua.ones(2, 3):matmul(sslua.ones(3))" },
  { "Tensor.bmm", "t:bmm(other)", "Batched matrix product [b, n, m] x [b, m, p]; differentiable.", ret = "a tensor", ex = "sslua.ones(2, 2, 3):bmm(sslua.ones(2, 3, 1))" },
  { "Tensor.outer", "t:outer(other)", "Outer product of two vectors; differentiable.", ret = "a tensor", ex = "sslua.tensor{1, 2}:outer(sslua.tensor{1, 2, 3})" },
  { "Tensor.dot", "t:dot(other)", "Inner product of two vectors (a 0-d tensor); differentiable.", ret = "a tensor", ex = "sslua.tensor{1, 2}:dot(sslua.tensor{3, 4})" },
  { "Tensor.sort", "t:sort([dim [, descending]])", "Sorted values along dim (default the last) and their 1-based positions; `descending` a boolean or `{descending = true}`.", ret = "values, indices", ex = "local v, i = sslua.tensor{3, 1, 2}:sort()" },
  { "Tensor.topk", "t:topk(k [, dim [, largest [, sorted]]])", "The k largest (or smallest with largest = false) values along dim (default the last) and their 1-based positions (torch.topk's order). The values always come sorted, which torch allows for sorted = false too; `sorted` must be a boolean when given.", ret = "values, indices", ex = "local v, i = sslua.tensor{3, 1, 4, 1, 5}:topk(2)\nlocal small = sslua.tensor{3, 1, 4, 1, 5}:topk(2, 1, false)" },
  { "Tensor.requires_grad_", "t:requires_grad_([flag])", "Sets the `requires_grad` field (flag a boolean, true by default) and returns t (torch.Tensor.requires_grad_). Only a leaf's flag can change; a recorded result can only be set to true (use detach() for a value cut from the graph). The fields, as torch's properties: `t.requires_grad` (a boolean; `t.requires_grad = flag` sets it on a leaf), `t.is_leaf` (made by the user, not recorded by an op), `t.grad_fn` (the recording op's name such as \"mul\", or nil), `t.grad`. Constructors take `{requires_grad = true}`.",
    ret = "t", ex = "local w = sslua.randn(3):requires_grad_()\nlocal y = w * 2\nprint(w.requires_grad, w.is_leaf, y.is_leaf, y.grad_fn)  --> true true false mul\nw.requires_grad = false" },
  { "Tensor.backward", "t:backward([grad])", "Backpropagates from t (a scalar, or with grad of t's size), accumulating into the `.grad` field of the leaves that require grad. The graph is kept (no retain_graph); a value saved for backward and modified in place since is an error naming the op.", ex = "local w = sslua.ones(3):requires_grad_(); (w * w):sum():backward(); print(w.grad)" },
  { "Tensor.zero_grad", "t:zero_grad()", "Clears t.grad (torch's `t.grad = None`).", ex = "local w = sslua.ones(3, {requires_grad = true}); w:zero_grad()" },
  { "Tensor.detach", "t:detach()", "The same values, cut from the graph (shares storage and the version counter).", ret = "a tensor", ex = "sslua.ones(2):detach()" },
}
