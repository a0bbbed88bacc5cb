-- The REPL's `?name` builds Lua source with the name as a string literal: a name holding a
-- quote, a backslash, a carriage return, a tab or another control character must reach
-- sslua.help unchanged (a raw CR in a literal was an "unfinished string" error).
package.path = "Tests/lua/lib/?.lua;" .. package.path
local check = require "check"

local interp = arg[-1]
local input = os.tmpname()
local names = { 'a\rb', 'q"u\\o', 't\tab', 'c\1d\0319' }
local f = assert(io.open(input, "wb"))
for _, n in ipairs(names) do f:write("?", n, "\n") end
f:close()
local p = assert(io.popen(string.format("%q -i < %q 2>&1", interp, input), "r"))
local out = p:read("a")
p:close()
os.remove(input)

check.truthy(not out:find("unfinished string", 1, true), "no parse error: " .. out)
for _, n in ipairs(names) do
  check.truthy(out:find("no documentation for '" .. n .. "'", 1, true), "help saw " .. string.format("%q", n) .. " in: " .. out)
end
