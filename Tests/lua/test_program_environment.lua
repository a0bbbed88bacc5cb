-- What a script sees when the program runs it (`sslua Tests/lua/test_program_environment.lua`,
-- as the test harness does): `arg`, `...`, the preloaded toolkit, and the standard libraries.
package.path = "Tests/lua/lib/?.lua;" .. package.path
local check = require "check"

-- arg: the script at 0, no arguments, the interpreter at -1
check.eq(arg[0], "Tests/lua/test_program_environment.lua", "arg[0]")
check.eq(#arg, 0, "#arg")
check.truthy(arg[-1]:match("sslua$"), "arg[-1] is the interpreter")
check.eq(arg[-2], nil, "nothing before the interpreter")
check.eq(select("#", ...), 0, "the chunk's ...")

-- the toolkit is preloaded as a global and is what `require` returns
check.eq(type(sslua), "table", "global sslua")
check.eq(require("sslua"), sslua, "require 'sslua'")
check.eq(package.loaded.sslua, sslua, "package.loaded.sslua")
check.truthy(sslua._VERSION:match("^sslua %d+%.%d+%.%d+$"), "sslua._VERSION")
check.eq(_VERSION, "Lua 5.4", "_VERSION")

-- every standard library is open
for _, lib in ipairs{"coroutine", "debug", "io", "math", "os", "package", "string", "table", "utf8"} do
  check.eq(type(_G[lib]), "table", lib)
end

-- errors inside the script carry file:line and can be caught
local ok, msg = pcall(error, "caught")
check.eq(ok, false); check.eq(msg, "caught")
local ok2, msg2 = pcall(function() local t = nil; return t.x end)
check.eq(ok2, false)
check.truthy(msg2:match("^Tests/lua/test_program_environment%.lua:%d+: attempt to index"), msg2)
local ok3, msg3 = pcall(sslua.zeros, "bad")
check.eq(ok3, false)
check.truthy(msg3:match("sslua%.zeros"), "native errors name the function: " .. tostring(msg3))
