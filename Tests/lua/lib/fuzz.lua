-- Deterministic fuzzing helpers for sslua's bad-input tests: a seeded generator independent of
-- sslua's own RNG, a pool of hostile Lua values (fresh tensors each time, so in-place calls in
-- one round cannot leak into the next), and the check that an error message names a function.
local fuzz = {}

-- splitmix64 in Lua integers: the same sequence on every run and every machine.
function fuzz.rng(seed)
  local s = seed
  local g = {}
  function g.next()
    s = s + 0x9E3779B97F4A7C15
    local z = s
    z = (z ~ (z >> 30)) * 0xBF58476D1CE4E5B9
    z = (z ~ (z >> 27)) * 0x94D049BB133111EB
    return z ~ (z >> 31)
  end
  function g.int(n) return (g.next() >> 1) % n + 1 end   -- 1..n
  function g.pick(list) return list[g.int(#list)] end
  return g
end

-- Hostile values with a label each. Scalars, strings, tables, functions, tensors of many
-- shapes (empty, scalar, float64, non-contiguous views), a closed tensor and generators.
function fuzz.pool(S)
  local p = {}
  local function add(label, v) p[#p + 1] = { label = label, value = v } end
  add("nil", nil); add("true", true); add("false", false)
  add("0", 0); add("-1", -1); add("0.5", 0.5); add("1", 1); add("2", 2); add("3", 3)
  add("NaN", 0 / 0); add("inf", math.huge); add("-inf", -math.huge)
  add("maxinteger", math.maxinteger); add("mininteger", math.mininteger)
  add("2^53", 2 ^ 53); add("1e12", 1e12); add("2^62", 1 << 62); add("-2^62", -(1 << 62)); add("1e300", 1e300)
  add('""', ""); add('"x"', "x"); add('"1"', "1"); add('"/nonexistent/x"', "/nonexistent/x")
  add("{}", {}); add("{1,2}", { 1, 2 }); add("{{}}", { {} }); add("{1e12,1e12}", { 1e12, 1e12 })
  add("{-1,0}", { -1, 0 }); add("{0/0}", { 0 / 0 }); add("{{1,2},{3}}", { { 1, 2 }, { 3 } })
  add("{x={y={}}}", { x = { y = {} } }); add('{"a","b"}', { "a", "b" })
  add("function", function() return 1 end)
  add("erroring function", function() error("boom from fuzz callback") end)
  add("tensor []", S.tensor(2.5)); add("tensor [0]", S.zeros(0)); add("tensor [1]", S.ones(1))
  add("tensor [3]", S.tensor { 1, 2, 3 }); add("tensor [2,3]", S.randn(2, 3))
  add("tensor [0,5]", S.zeros(0, 5)); add("tensor [3,2,2]", S.randn(3, 2, 2))
  add("tensor [1,3,4,4]", S.rand(1, 3, 4, 4)); add("tensor [2,3,4,4]", S.rand(2, 3, 4, 4))
  add("tensor [4,3]", S.randn(4, 3)); add("tensor [3,3]", S.randn(3, 3))
  add("labels [2]", S.tensor { 1, 2 }); add("labels [4] bad", S.tensor { 0, 7, -1, 1e9 })
  add("tensor NaN", S.tensor { 0 / 0, math.huge, -math.huge })
  add("float64 [2,3]", S.randn(2, 3, { dtype = "float64" }))
  add("float64 [3,3]", S.randn(3, 3, { dtype = "float64" }))
  add("float64 images [2,3,4,4]", S.rand(2, 3, 4, 4, { dtype = "float64" }))
  add("transposed images [2,3,4,4]", S.rand(2, 3, 4, 4):transpose(3, 4))
  add("one-channel images [2,1,4,4]", S.rand(2, 1, 4, 4))
  add("empty images [0,3,4,4]", S.zeros(0, 3, 4, 4))
  add("image [3,1,1]", S.rand(3, 1, 1))
  add("float64 [3]", S.tensor({ 1, 2, 3 }, { dtype = "float64" }))
  add("transposed [3,2]", S.randn(2, 3):t())
  add("narrowed [2,2]", S.randn(2, 5):narrow(2, 2, 2))
  add("expanded [4,3]", S.randn(1, 3):expand(4, 3))
  add("expanded [2,3,4,4]", S.rand(1, 3, 1, 1):expand(2, 3, 4, 4))
  add("requires_grad [2,3]", S.randn(2, 3):requires_grad_())
  do
    local closed <close> = S.randn(2, 3)
    add("closed tensor", closed)
  end
  add("generator", S.rng(7))
  do  -- generators have no __close; their __gc releases the native object the same way
    local g = S.rng(8)
    local mt = debug.getregistry()["sslua.Generator"]
    if mt and mt.__gc then mt.__gc(g); add("released generator", g) end
  end
  add("coroutine", coroutine.create(function() end))
  add("options {rng='x'}", { rng = "x" }); add("options {dtype='int8'}", { dtype = "int8" })
  -- the classes that escaped before issue 10: integral floats, many dimensions, a zero-size
  -- dimension beside huge ones (a tensor with no elements whose sizes multiply past 2^64)
  add("2.0", 2.0); add("-1.0", -1.0); add("{2.0,3.0}", { 2.0, 3.0 })
  add("{0,2^62,2^62}", { 0, 1 << 62, 1 << 62 })
  local ones300, ones64 = {}, {}
  for i = 1, 300 do ones300[i] = 1 end
  for i = 1, 64 do ones64[i] = 1 end
  add("300 ones", ones300)
  add("tensor of 64 dims", S.ones(ones64))
  add("expanded [0,2^20,2^20]", S.zeros(0, 1, 1):expand(0, 1 << 20, 1 << 20))
  return p
end

-- Option keys the toolkit reads; random option tables set a few of them to hostile values.
fuzz.option_keys = {
  "affine", "atol", "batch", "beta", "betas", "bias", "bins", "blocks", "brightness", "ceil_mode",
  "cifar", "contrast", "correction", "count_include_pad", "degrees", "depth", "dilation", "dims",
  "drop_last", "dtype", "eps", "exclude_bias_and_norm", "flip", "form", "full", "grayscale",
  "groups", "height", "hue", "in_channels", "interpolation", "jitter", "k", "kernel_size", "kind",
  "legend", "logy", "lr", "momentum", "n", "nesterov", "normalize", "nrow", "p", "pad_value",
  "padding", "per_class", "range", "rank", "ratio", "record", "relu", "rng", "root", "rtol",
  "saturation", "scale", "seed", "series", "shuffle", "sigma", "size", "skew", "stride",
  "symmetric", "tau", "temperature", "title", "tol", "track_running_stats", "train",
  "training", "transform", "transforms", "unbiased", "variance", "weight", "weight_decay",
  "width", "xlabel", "xlim", "xs", "ylabel", "ylim", "test", "train_labels", "test_labels",
  "base_lr", "warmup", "total", "final_lr", "size", "labels", "images", "crop", "jitter_p",
}

-- A random option table: one to three keys set to pool values (never nil).
function fuzz.options(g, pool)
  local o = {}
  for _ = 1, g.int(3) do
    local v
    repeat v = g.pick(pool).value until v ~= nil
    o[g.pick(fuzz.option_keys)] = v
  end
  return o
end

-- The message without Lua's "chunk:line:" prefixes.
function fuzz.strip_location(msg)
  local prev
  repeat
    prev = msg
    msg = msg:gsub("^[^\n:]+:%d+: ", "", 1)
  until msg == prev
  return msg
end

-- True when `err` is a string naming sslua or `short` (the function's own name).
function fuzz.names_function(err, short)
  if type(err) ~= "string" then return false end
  local m = fuzz.strip_location(err)
  return m:find("sslua", 1, true) ~= nil or (short ~= nil and m:find(short, 1, true) ~= nil)
end

-- Callable: a function or a table/userdata with __call.
function fuzz.callable(v)
  if type(v) == "function" then return true end
  local mt = getmetatable(v)
  return type(mt) == "table" and mt.__call ~= nil
end

return fuzz
