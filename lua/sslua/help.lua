-- sslua.help: the documentation of every public function and class, from one source
-- (lua/sslua/doc/*.lua, one data file per module), and the REPL's value printer.
--
--   sslua.help(f)            -> the documentation of f (a function or class value, or a dotted
--                               name such as "sslua.geom.fvu" or "Tensor.narrow") as a string
--   sslua.help.print(f)      prints it (the REPL's help(f) and ?name)
--   sslua.help.repr(v)       a value as the REPL shows it: nested tables readably, truncated
--   sslua.help.entries()     every entry, sorted by name
--   sslua.help.markdown()    docs/API.md (scripts/gen_api.lua writes it)
--   sslua.help.public_names() every public name of the toolkit, found by walking the modules

local help = {}

-- The modules documented, in the order of docs/API.md; each has lua/sslua/doc/<file>.lua.
help.modules = { { file = "tensor", title = "Tensors (`sslua`)", prefix = "sslua" } }
for _, name in ipairs({ "linalg", "nn", "optim", "data", "aug", "loss", "geom", "lie", "plot", "experiment", "dist" }) do
  help.modules[#help.modules + 1] = { file = name, title = "`sslua." .. name .. "`", prefix = "sslua." .. name }
end

-- Submodules walked for public names (sslua.<name>).
help.submodules = { "nn", "optim", "data", "aug", "loss", "geom", "lie", "linalg", "plot", "experiment", "dist" }

local entries, by_name

local function fail(msg, level) error("sslua.help: " .. msg, (level or 1) + 1) end

-- Entry fields: name (the full dotted name; tensor methods are "Tensor.<m>"), sig, summary,
-- opts (list of {key, type, default, description}; default nil means required or none),
-- returns, example, alias (other names of the same value), run = false (the example is not
-- run by the tests: it writes files or takes long).
local function load_entries()
  if entries then return entries end
  entries, by_name = {}, {}
  for _, m in ipairs(help.modules) do
    local list = require("sslua.doc." .. m.file)
    for _, e in ipairs(list) do
      e.name, e.sig, e.summary = e.name or e[1], e.sig or e[2], e.summary or e[3]
      e.returns, e.example = e.returns or e.ret, e.example or e.ex
      if type(e.name) ~= "string" or type(e.sig) ~= "string" or type(e.summary) ~= "string" then
        fail("bad entry in sslua.doc." .. m.file .. ": " .. tostring(e.name))
      end
      if by_name[e.name] then fail("duplicate entry " .. e.name) end
      e.module = m.file
      entries[#entries + 1] = e
      by_name[e.name] = e
      for _, a in ipairs(e.alias or {}) do by_name[a] = e end
    end
  end
  return entries
end

function help.entries()
  local list = {}
  for i, e in ipairs(load_entries()) do list[i] = e end
  return list
end

-- Resolves a dotted path ("sslua.nn.Linear", "Tensor.narrow", "sslua.nn.Module.parameters")
-- to its value, or nil.
local function resolve(name)
  local v
  local first, rest = name:match("^([%w_]+)(.*)$")
  if not first then return nil end
  if first == "Tensor" then v = sslua.Tensor
  elseif first == "sslua" then v = sslua
  else v = sslua[first] end
  for part in rest:gmatch("[.:]([%w_]+)") do
    if type(v) ~= "table" then return nil end
    local ok, x = pcall(function() return v[part] end)
    if not ok then return nil end
    v = x
  end
  return v
end
help.resolve = resolve

-- value -> entry, for every entry whose name resolves to a function or table.
local by_value
local function value_index()
  if by_value then return by_value end
  by_value = {}
  for _, e in ipairs(load_entries()) do
    for _, n in ipairs({ e.name, table.unpack(e.alias or {}) }) do
      local v = resolve(n)
      if (type(v) == "function" or type(v) == "table") and by_value[v] == nil then by_value[v] = e end
    end
  end
  return by_value
end

-- The entry for a name string: exact, then with "sslua." prepended, then as a tensor method.
local function find_name(s)
  load_entries()
  s = s:gsub("^%s+", ""):gsub("%s+$", ""):gsub(":", ".")
  local method = s:match("^sslua%.([%w_]+)$") or s:match("^([%w_]+)$")
  return by_name[s] or by_name["sslua." .. s] or (method and by_name["Tensor." .. method]) or nil
end

-- The entry for x (a value or a name), or nil and what went wrong.
function help.lookup(x)
  load_entries()
  if type(x) == "string" then
    local e = find_name(x)
    if e then return e end
    return nil, "no documentation for '" .. x .. "' (names look like sslua.geom.rank, nn.Linear or Tensor.narrow)"
  end
  if type(x) == "function" or type(x) == "table" then
    local e = value_index()[x]
    if e then return e end
    if type(x) == "table" then
      local mt = getmetatable(x)
      local cls = type(mt) == "table" and mt or nil
      -- an instance: the documentation of its class (nn modules, optimizers, figures, ...)
      while cls do
        e = value_index()[cls]
        if e then return e end
        local pmt = getmetatable(cls)
        cls = type(pmt) == "table" and type(pmt.__index) == "table" and pmt.__index or nil
      end
    end
    return nil, "no documentation for this " .. type(x)
  end
  if getmetatable(x) == "sslua.Tensor" then return by_name["sslua.tensor"] end
  return nil, "no documentation for a " .. type(x) .. " value"
end

local function wrap(text, width, indent)
  local out, line = {}, indent
  for word in text:gmatch("%S+") do
    if #line + #word + 1 > width and #line > #indent then
      out[#out + 1] = line
      line = indent .. word
    else
      line = (#line > #indent) and (line .. " " .. word) or (indent .. word)
    end
  end
  if #line > #indent then out[#out + 1] = line end
  return table.concat(out, "\n")
end

-- The documentation of x as plain text.
function help.text(x)
  local e, err = help.lookup(x)
  if not e then return nil, err end
  local lines = { e.sig, "" , wrap(e.summary, 78, "  ") }
  if e.alias and #e.alias > 0 then lines[#lines + 1] = "  Also: " .. table.concat(e.alias, ", ") end
  if e.opts and #e.opts > 0 then
    lines[#lines + 1] = ""
    lines[#lines + 1] = "  Options (strict: an unknown key is an error):"
    for _, o in ipairs(e.opts) do
      local d = o[3] == nil and "" or ("  (default " .. tostring(o[3]) .. ")")
      lines[#lines + 1] = "    " .. o[1] .. " : " .. o[2] .. d .. "  " .. (o[4] or "")
    end
  end
  if e.returns then lines[#lines + 1] = "" lines[#lines + 1] = "  Returns: " .. e.returns end
  if e.example then
    lines[#lines + 1] = ""
    lines[#lines + 1] = "  Example:"
    for l in (e.example .. "\n"):gmatch("(.-)\n") do lines[#lines + 1] = "    " .. l end
  end
  return table.concat(lines, "\n")
end

-- sslua.help(x): the text, or an error naming what has no documentation.
setmetatable(help, { __call = function(_, x)
  local t, err = help.text(x)
  if not t then error("sslua.help: " .. err, 2) end
  return t
end })

-- The REPL's help(x) / ?name: prints the documentation, or what went wrong (no error).
-- `source` is true when x is the text the user typed after `?`: a name, or an expression.
function help.print(x, source)
  if x == nil and not source then
    print("help(f) or ?name prints the documentation of a function or class, e.g. ?sslua.geom.rank")
    return
  end
  local t, err = help.text(x)
  if not t and source and type(x) == "string" then
    local chunk = load("return " .. x:gsub(":", "."), "=?", "t")
    if chunk then
      local ok, v = pcall(chunk)
      if ok and v ~= nil then t, err = help.text(v) end
    end
  end
  print(t or err)
end

-- Every public name: sslua.<k> (tensor methods are also sslua.<k>; their entries are named
-- Tensor.<k>), sslua.<sub>.<k>, and the methods of documented classes are not walked (the
-- classes' entries list them). Values that are tables of functions (nn.functional,
-- aug.functional) are walked one level.
function help.public_names()
  local names = {}
  local function public(k) return type(k) == "string" and k:sub(1, 1) ~= "_" end
  for k in pairs(sslua.Tensor) do
    if public(k) then names[#names + 1] = "Tensor." .. k end
  end
  for k, v in pairs(sslua) do
    if public(k) and sslua.Tensor[k] == nil and type(v) ~= "table" then names[#names + 1] = "sslua." .. k end
  end
  names[#names + 1] = "sslua.help"
  for _, s in ipairs(help.submodules) do
    names[#names + 1] = "sslua." .. s
    for k, v in pairs(sslua[s]) do
      if public(k) then
        names[#names + 1] = "sslua." .. s .. "." .. k
        if type(v) == "table" and getmetatable(v) == nil then   -- a namespace (functional)
          for k2 in pairs(v) do
            if public(k2) then names[#names + 1] = "sslua." .. s .. "." .. k .. "." .. k2 end
          end
        end
      end
    end
  end
  table.sort(names)
  return names
end

-- Names that public_names finds and no entry documents (directly or as an alias).
function help.undocumented()
  load_entries()
  local missing = {}
  for _, n in ipairs(help.public_names()) do
    if not by_name[n] then missing[#missing + 1] = n end
  end
  return missing
end

-- ---- docs/API.md --------------------------------------------------------------------------

local function md_escape_cell(s) return (tostring(s):gsub("|", "\\|"):gsub("\n", " ")) end

function help.markdown()
  load_entries()
  local out = {}
  local function w(s) out[#out + 1] = s end
  w("# sslua API reference")
  w("")
  w("Generated from `lua/sslua/doc/*.lua` by `sslua scripts/gen_api.lua > docs/API.md`; do not")
  w("edit by hand (a test fails when this file is stale). The same text is printed by")
  w("`sslua.help(f)`, and in the REPL by `help(f)` or `?sslua.geom.rank`. How names compare with")
  w("PyTorch, and every deliberate difference, is in [TORCH.md](TORCH.md).")
  w("")
  w("Conventions: indices, dimensions and class labels are 1-based (`-1` is the last);")
  w("methods return new tensors and `_`-suffixed methods work in place; every tensor method `m`")
  w("is also the function `sslua.m(t, ...)`. **Options tables are strict**: an unknown key is an")
  w("error naming the function, the key and the closest valid key")
  w("(`sslua.loss.infonce: unknown option 'betta' (did you mean 'beta'?)`), and a value of the")
  w("wrong type names the expected type.")
  w("")
  w("## Contents")
  w("")
  for _, m in ipairs(help.modules) do
    w("- [" .. m.title:gsub("`", "") .. "](#" .. m.file .. ")")
  end
  for _, m in ipairs(help.modules) do
    w("")
    w('<a id="' .. m.file .. '"></a>')
    w("")
    w("## " .. m.title)
    for _, e in ipairs(entries) do
      if e.module == m.file then
        w("")
        w("### `" .. e.name .. "`")
        w("")
        w("```lua")
        w(e.sig)
        w("```")
        w("")
        w(e.summary)
        if e.alias and #e.alias > 0 then
          local a = {}
          for i, n in ipairs(e.alias) do a[i] = "`" .. n .. "`" end
          w("")
          w("Also: " .. table.concat(a, ", ") .. ".")
        end
        if e.opts and #e.opts > 0 then
          w("")
          w("| option | type | default | meaning |")
          w("|---|---|---|---|")
          for _, o in ipairs(e.opts) do
            w("| `" .. o[1] .. "` | " .. md_escape_cell(o[2]) .. " | "
              .. (o[3] == nil and "" or "`" .. md_escape_cell(o[3]) .. "`") .. " | " .. md_escape_cell(o[4] or "") .. " |")
          end
        end
        if e.returns then
          w("")
          w("Returns: " .. e.returns)
        end
        if e.example then
          w("")
          w("```lua")
          w(e.example)
          w("```")
        end
      end
    end
  end
  w("")
  return table.concat(out, "\n")
end

-- ---- the REPL's value printer -------------------------------------------------------------

local WIDTH, MAX_DEPTH, MAX_ITEMS = 80, 4, 30

local function is_ident(k)
  return type(k) == "string" and k:match("^[%a_][%w_]*$") ~= nil and not ({
    ["and"] = 1, ["break"] = 1, ["do"] = 1, ["else"] = 1, ["elseif"] = 1, ["end"] = 1, ["false"] = 1,
    ["for"] = 1, ["function"] = 1, ["goto"] = 1, ["if"] = 1, ["in"] = 1, ["local"] = 1, ["nil"] = 1,
    ["not"] = 1, ["or"] = 1, ["repeat"] = 1, ["return"] = 1, ["then"] = 1, ["true"] = 1,
    ["until"] = 1, ["while"] = 1 })[k]
end

local function short_tensor(t)
  local s = t:size()
  local dims = {}
  for i = 1, #s do dims[i] = tostring(s[i]) end
  return "sslua.Tensor[" .. (#dims > 0 and table.concat(dims, "x") or "scalar") .. " " .. t:dtype() .. "]"
end

-- A value inside a table: strings quoted, tensors as their size, tables with __tostring as that.
local function scalar(v)
  if type(v) == "string" then
    local s = string.format("%q", #v > 200 and v:sub(1, 200) .. "..." or v)
    return (s:gsub("\\\n", "\\n"))
  end
  if getmetatable(v) == "sslua.Tensor" then return short_tensor(v) end
  if type(v) == "table" or type(v) == "userdata" then
    local mt = getmetatable(v)
    if type(mt) == "table" and rawget(mt, "__tostring") then
      local ok, s = pcall(tostring, v)
      if ok and type(s) == "string" then return (s:gsub("\n.*", " ...")) end
    end
  end
  return tostring(v)
end

local function key_order(a, b)
  local ta, tb = type(a), type(b)
  if ta ~= tb then
    if ta == "number" then return true end
    if tb == "number" then return false end
    return ta < tb
  end
  if ta == "number" or ta == "string" then return a < b end
  return tostring(a) < tostring(b)
end

-- Formats table t; `seen` marks the tables on the current path (cycles print as <cycle>).
local function format_table(t, indent, depth, seen)
  if seen[t] then return "<cycle " .. tostring(t):gsub("^table: ", "") .. ">" end
  local mt = getmetatable(t)
  if type(mt) == "table" and rawget(mt, "__tostring") then return scalar(t) end
  if depth > MAX_DEPTH then return "{...}" end
  seen[t] = true
  local items, n = {}, #t
  local shown = 0
  local truncated = false
  for i = 1, n do
    if shown >= MAX_ITEMS then truncated = true break end
    local v = rawget(t, i)
    items[#items + 1] = type(v) == "table" and format_table(v, indent .. "  ", depth + 1, seen) or scalar(v)
    shown = shown + 1
  end
  local shown_seq = shown
  local keys = {}
  for k in pairs(t) do
    if not (math.type(k) == "integer" and k >= 1 and k <= n) then keys[#keys + 1] = k end
  end
  table.sort(keys, key_order)
  for _, k in ipairs(keys) do
    if shown >= MAX_ITEMS then truncated = true break end
    local v = rawget(t, k)
    local ks = is_ident(k) and k or "[" .. (type(k) == "table" and "table" or scalar(k)) .. "]"
    items[#items + 1] = ks .. " = " .. (type(v) == "table" and format_table(v, indent .. "  ", depth + 1, seen) or scalar(v))
    shown = shown + 1
  end
  seen[t] = nil
  if truncated then
    items[#items + 1] = "... (" .. (n + #keys - shown) .. " more)"
  end
  if #items == 0 then return "{}" end
  local one = "{" .. table.concat(items, ", ") .. "}"
  if #one + #indent <= WIDTH and not one:find("\n") then return one end
  local inner = indent .. "  "
  -- one entry a line, except that short entries share lines up to the width
  local lines, cur, cur_keyed = {}, nil, false
  for i, item in ipairs(items) do
    local piece = item .. (i < #items and "," or "")
    local keyed = i > shown_seq
    if cur and not keyed and not cur_keyed and not item:find("\n") and not cur:find("\n")
       and #inner + #cur + 1 + #piece <= WIDTH and #item <= 16 then
      cur = cur .. " " .. piece
    else
      if cur then lines[#lines + 1] = cur end
      cur, cur_keyed = piece, keyed
    end
  end
  lines[#lines + 1] = cur
  return "{\n" .. inner .. table.concat(lines, "\n" .. inner) .. "\n" .. indent .. "}"
end

-- How the REPL shows a value: tables nested and truncated (depth 4, 30 entries a table,
-- one line when it fits in 80 columns), tensors and strings as `print` shows them.
function help.repr(v)
  if type(v) == "table" then return format_table(v, "", 1, {}) end
  return tostring(v)
end

return help
