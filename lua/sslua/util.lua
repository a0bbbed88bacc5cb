-- sslua.util: the helpers every module of lua/sslua shares, so that they all report misuse the
-- same way: every misuse is a Lua error "sslua.<module>.<function>: problem" raised at the
-- line of the caller, and option tables are strict (an unknown key is an error).
--
--   util.fail(fname, msg[, level])       error "fname: msg" at the line that called the public
--                                         function (level 1, the default) or further out
--   util.failer(prefix)                  fail with a module prefix: failer("sslua.aug.")(fn, msg)
--   util.check_options(fname, opts, spec[, level])
--                                         opts (or {} for nil) after checking every key against
--                                         spec (key -> type name or validator): an unknown key is
--                                         "unknown option 'betta' (did you mean 'beta'?)", a
--                                         wrong type "option 'beta' must be a number, got string"
--   util.options_checker(prefix)         check_options with a module prefix, for the module's
--                                         public functions: opts_of(fn, opts, spec[, depth])
--   util.closest(key, keys)              the valid key nearest to key, if close
--   util.class(name[, parent])           a class: Class(...) makes an instance and returns
--                                         Class.__init(self, ...) (which returns self); methods
--                                         are found through __index (and the parent's)
--   util.read_file(path), util.file_exists(path), util.split_fields(text, opener, read_group),
--   util.merge_parts(prefix, parts)
--
-- Type names in a spec: "number", "integer", "boolean", "string", "table", "function",
-- "tensor", "any", or alternatives joined by "|" ("number|table"); a validator is a function
-- v -> ok[, expected] (expected: what the message says the option must be). Integer keys of
-- the spec accept positional entries (`RandomResizedCrop{16, scale = ...}` has spec[1]); any
-- other non-string key is an error.
local util = {}

function util.fail(fname, msg, level)
  error(fname .. ": " .. msg, (level or 1) + 2)
end

function util.failer(prefix)
  return function(fn, msg, level) error(prefix .. fn .. ": " .. msg, (level or 1) + 2) end
end

-- Optimal string alignment distance (edits and adjacent transpositions), case-insensitive.
local function distance(a, b)
  a, b = a:lower(), b:lower()
  local n, m = #a, #b
  if n == 0 then return m end
  if m == 0 then return n end
  local prev2, prev, cur = {}, {}, {}
  for j = 0, m do prev[j] = j end
  for i = 1, n do
    cur[0] = i
    local ai = a:byte(i)
    for j = 1, m do
      local bj = b:byte(j)
      local cost = ai == bj and 0 or 1
      local d = math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
      if i > 1 and j > 1 and ai == b:byte(j - 1) and a:byte(i - 1) == bj then
        d = math.min(d, prev2[j - 2] + 1)
      end
      cur[j] = d
    end
    prev2, prev, cur = prev, cur, prev2
  end
  return prev[m]
end
util.distance = distance

-- The same rule as the Swift bindings (OptionNames.closest): at most 1 edit for keys of up to 5
-- characters, #key // 3 beyond (at most 3); ties go to the first in sorted order.
function util.closest(key, keys)
  if type(key) ~= "string" or #key == 0 or #key > 64 then return nil end
  local limit = math.min(3, math.max(1, #key // 3))
  local sorted = {}
  for _, k in ipairs(keys) do sorted[#sorted + 1] = k end
  table.sort(sorted)
  local best, bd
  for _, k in ipairs(sorted) do
    local d = distance(key, k)
    if d <= limit and (bd == nil or d < bd) then best, bd = k, d end
  end
  return best
end

-- "unknown option 'k' (did you mean 'x'?)" or the list of valid options.
function util.unknown_option(key, keys)
  local shown = #key > 60 and key:sub(1, 60) .. "..." or key
  local c = util.closest(key, keys)
  if c then return "unknown option '" .. shown .. "' (did you mean '" .. c .. "'?)" end
  if #keys == 0 then return "unknown option '" .. shown .. "' (this function takes no options)" end
  local sorted = {}
  for _, k in ipairs(keys) do sorted[#sorted + 1] = k end
  table.sort(sorted)
  return "unknown option '" .. shown .. "' (valid options: " .. table.concat(sorted, ", ") .. ")"
end

local function type_of(v)
  if getmetatable(v) == "sslua.Tensor" then return "tensor" end
  return type(v)
end

local function has_type(v, name)
  if name == "any" then return true end
  if name == "integer" then return math.type(v) == "integer" or (math.type(v) == "float" and v == math.floor(v)) end
  return name == type_of(v)
end

local article = { integer = "an", any = "any value" }

local function describe_type(spec)
  local parts = {}
  for name in spec:gmatch("[^|]+") do
    parts[#parts + 1] = (article[name] == "an" and "an " or "a ") .. name
  end
  return table.concat(parts, " or ")
end

-- Checks `v` against one spec entry; returns nil when it fits, else what it must be.
local function mismatch(v, spec)
  if type(spec) == "function" then
    local ok, expected = spec(v)
    if ok then return nil end
    return expected or "valid"
  end
  for name in spec:gmatch("[^|]+") do
    if has_type(v, name) then return nil end
  end
  return describe_type(spec)
end

function util.check_options(fname, opts, spec, level)
  level = (level or 1) + 2
  if opts == nil then return {} end
  if type(opts) ~= "table" or getmetatable(opts) == "sslua.Tensor" then
    error(fname .. ": expected an options table, got " .. type_of(opts), level)
  end
  local keys
  for k, v in pairs(opts) do
    local s = spec[k]
    if s == nil then
      if type(k) ~= "string" then
        error(fname .. ": options must be name = value pairs, got a positional entry ["
          .. (type(k) == "number" and tostring(k) or "a " .. type(k) .. " key") .. "]", level)
      end
      if not keys then
        keys = {}
        for name in pairs(spec) do if type(name) == "string" then keys[#keys + 1] = name end end
      end
      error(fname .. ": " .. util.unknown_option(k, keys), level)
    end
    local bad = mismatch(v, s)
    if bad then
      local name = type(k) == "string" and "option '" .. k .. "'" or "argument [" .. tostring(k) .. "]"
      error(fname .. ": " .. name .. " must be " .. bad .. ", got " .. type_of(v), level)
    end
  end
  return opts
end

-- Classes: `local Linear = util.class("sslua.nn.Linear", Module)`; `Linear(...)` makes
-- setmetatable({}, Linear) and returns Linear.__init(self, ...) (inherited when not defined;
-- without one, the bare instance). __init returns the instance: it is tail-called, so an error it
-- raises at level 2 points at the line that called Linear(...), as for a plain function.
-- Instances find methods through __index; metamethods (__tostring, __call, ...) are copied
-- from the parent when the class is made, since Lua looks them up raw.
function util.class(name, parent)
  local cls = {}
  cls.__index = cls
  cls.__name = name
  if parent then
    for k, v in pairs(parent) do
      if type(k) == "string" and k:sub(1, 2) == "__" and k ~= "__index" and k ~= "__name" then cls[k] = v end
    end
  end
  return setmetatable(cls, {
    __index = parent,
    __call = function(c, ...)
      local self = setmetatable({}, c)
      local init = c.__init
      if init == nil then return self end
      return init(self, ...)
    end,
    __tostring = function() return "class " .. name end,
  })
end

--- util.options_checker(prefix) -> opts_of(fn, opts, spec[, depth]): util.check_options under the
--- name prefix .. fn, raising at the caller of the public function that calls opts_of (`depth`:
--- extra frames between the two).
function util.options_checker(prefix)
  return function(fn, opts, spec, depth)
    -- Not `return util.check_options(...)`: a tail call would drop this frame, which the level counts.
    local checked = util.check_options(prefix .. fn, opts, spec, 2 + (depth or 0))
    return checked
  end
end

--- util.file_exists(path) -> whether `path` opens for reading.
function util.file_exists(path)
  local f = io.open(path, "rb")
  if f then f:close(); return true end
  return false
end

--- util.split_fields(text, opener, read_group) -> the comma-separated fields of `text`; a field
--- that starts with the character `opener` is read by read_group(text, i) (i at the opener),
--- which returns the field's value and the index just after the comma that ends it.
function util.split_fields(text, opener, read_group)
  local out, i = {}, 1
  while i <= #text + 1 do
    if text:sub(i, i) == opener then
      out[#out + 1], i = read_group(text, i)
    else
      local j = text:find(",", i, true) or #text + 1
      out[#out + 1] = text:sub(i, j - 1)
      i = j + 1
    end
  end
  return out
end

--- util.merge_parts(prefix, parts) -> one table of the names the modules prefix .. part return,
--- for a module split into files; names beginning with "_" are shared between the parts only and
--- are left out, and a name two parts define is an error.
function util.merge_parts(prefix, parts)
  local out = {}
  for _, part in ipairs(parts) do
    for name, v in pairs(require(prefix .. part)) do
      if name:sub(1, 1) ~= "_" then
        assert(out[name] == nil, prefix .. part .. ": " .. tostring(name) .. " is defined by two parts")
        out[name] = v
      end
    end
  end
  return out
end

--- util.read_file(path) -> the whole file as a string, or nil when it cannot be opened (through
--- the current io.open, so the sandbox's rules apply).
function util.read_file(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local text = f:read("a")
  f:close()
  return text
end

return util
