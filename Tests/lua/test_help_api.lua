-- sslua.help: every public name is documented, docs/API.md is generated from the same source
-- and not stale, help finds entries by value and by name, examples run, and the REPL's
-- printer shows nested tables readably.
package.path = "Tests/lua/lib/?.lua;" .. package.path
local check = require "check"
local help = require "sslua.help"

-- 1. every public name has an entry, and every entry names something that exists
local missing = help.undocumented()
check.eq(#missing, 0, "undocumented public names: " .. table.concat(missing, ", "))
for _, e in ipairs(help.entries()) do
  check.truthy(help.resolve(e.name) ~= nil, "documented name does not exist: " .. e.name)
  for _, o in ipairs(e.opts or {}) do
    check.truthy(type(o[1]) == "string" and type(o[2]) == "string", e.name .. ": bad option row")
  end
end

-- 2. docs/API.md is exactly what scripts/gen_api.lua writes
local f = assert(io.open("docs/API.md", "rb"))
local committed = f:read("a")
f:close()
check.truthy(committed == help.markdown(), "docs/API.md is stale: run sslua scripts/gen_api.lua > docs/API.md")
for _, n in ipairs({ "sslua.geom.rank", "sslua.nn.Linear", "Tensor.narrow", "sslua.optim.SGD" }) do
  check.truthy(committed:find("### `" .. n .. "`", 1, true), "API.md lacks " .. n)
end
check.truthy(committed:find("TORCH.md", 1, true) and committed:find("strict", 1, true), "API.md links TORCH.md and says options are strict")

-- 3. lookup by value (functions, classes, instances) and by name
check.truthy(sslua.help(sslua.geom.rank):find("geom.rank(M", 1, true))
check.truthy(sslua.help("sslua.geom.fvu"):find("fraction of variance", 1, true))
check.truthy(sslua.help("geom.fvu"):find("geom.fvu(D, W)", 1, true))
check.truthy(sslua.help(sslua.narrow):find("t:narrow(dim, start, length)", 1, true))
check.truthy(sslua.help(sslua.ones(2).narrow):find("t:narrow", 1, true))
check.truthy(sslua.help("Tensor.narrow") == sslua.help(sslua.narrow))
check.truthy(sslua.help(sslua.nn.Linear):find("nn.Linear(in_features", 1, true))
check.truthy(sslua.help(sslua.nn.Linear(2, 3)):find("nn.Linear(in_features", 1, true))   -- an instance: its class
check.truthy(sslua.help(sslua.nn.F.relu) == sslua.help(sslua.nn.functional.relu))
check.truthy(sslua.help(sslua.loss.infonce):find("beta", 1, true))
check.truthy(sslua.help(sslua.loss.infonce):find("strict", 1, true))
check.errors(function() sslua.help("sslua.no_such_thing") end, "no documentation for 'sslua.no_such_thing'")
check.errors(function() sslua.help(42) end, "sslua.help: no documentation")

-- 4. every example runs (those marked run = false write files or train)
for _, e in ipairs(help.entries()) do
  if e.example and e.run ~= false then
    -- an example is a statement, or an expression as typed at the REPL
    local chunk, err = load("return " .. e.example, "=" .. e.name, "t")
    if not chunk then chunk, err = load(e.example, "=" .. e.name, "t") end
    check.truthy(chunk, e.name .. ": example does not compile: " .. tostring(err))
    local real_print = print
    print = function() end
    local ok, msg = pcall(chunk)
    print = real_print
    check.truthy(ok, e.name .. ": example fails: " .. tostring(msg))
  end
end

-- 5. the REPL's printer
local repr = help.repr
check.eq(repr({ a = 1, b = { 1, 2, 3 } }), "{a = 1, b = {1, 2, 3}}")
check.eq(repr({ "x", [5] = true, ["key with space"] = 2 }), '{"x", [5] = true, ["key with space"] = 2}')
local cyc = { 1 }
cyc.self = cyc
check.truthy(repr(cyc):match("^{1, self = <cycle [^>]+>}$"), repr(cyc))
local deep = { { { { { { 1 } } } } } }
check.eq(repr(deep), "{{{{{...}}}}}")
local long = {}
for i = 1, 100 do long[i] = i end
local s = repr(long)
check.truthy(s:find("... (70 more)", 1, true) and s:find("\n  1, 2, 3", 1, true), s)
local wide = { alpha = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 }, beta = { gamma = "a long string value here", delta = { 11, 12, 13 } }, eps = 1e-5 }
check.eq(repr(wide), '{\n  alpha = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10},\n  beta = {delta = {11, 12, 13}, gamma = "a long string value here"},\n  eps = 1e-05\n}')
check.eq(repr({ t = sslua.zeros(2, 3) }), "{t = sslua.Tensor[2x3 float32]}")

-- 6. t:size() prints as a size and still indexes as a table
local sz = sslua.zeros(2, 3):size()
check.eq(tostring(sz), "sslua.Size{2, 3}")
check.eq(sz[1], 2); check.eq(sz[2], 3); check.eq(#sz, 2)
check.eq(select("#", table.unpack(sz)), 2)
check.eq(tostring(sslua.tensor(5):size()), "sslua.Size{}")
check.eq(sslua.zeros(sz):size(2), 3)
check.eq(repr({ s = sz }), "{s = sslua.Size{2, 3}}")
print("test_help_api: ok")
