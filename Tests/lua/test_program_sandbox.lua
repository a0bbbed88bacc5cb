-- `sslua --sandbox` (SPEC §2): a shared script gets no processes, no native code, and writes
-- only below the results directory. Each case runs the real program in a scratch directory.
package.path = "Tests/lua/lib/?.lua;" .. package.path
local check = require "check"

local exe = require("sslua.experiment").interpreter()
local q = require("sslua.experiment").shell_quote
local repo = sslua._fs.realpath(".")
local dir = os.tmpname()
os.remove(dir)
check.truthy(sslua._fs.mkdir(dir), "scratch directory")
local outside = dir .. "/outside"
sslua._fs.mkdir(outside)

-- runs `sslua [flags] -e code` in the scratch directory; returns ok, combined output
local function run(code, flags, env)
  local cmd = ("cd %s && %s %s %s -e %s 2>&1"):format(q(dir), env or "", q(exe), flags or "--sandbox", q(code))
  local p = io.popen(cmd)
  local out = p:read("a")
  local ok = p:close()
  return ok == true, out
end

local function expect_ok(code, what, env)
  local ok, out = run(code, nil, env)
  if not ok then error(what .. ": the program failed:\n" .. out, 2) end
  return out
end

local function expect_error(code, pattern, what, env)
  local ok, out = run(code, nil, env)
  if ok then error(what .. ": expected the program to fail, it printed:\n" .. out, 2) end
  if not out:find(pattern) then error(what .. ": expected an error matching '" .. pattern .. "', got:\n" .. out, 2) end
end

-- no processes, no native code, no debug library
expect_error("os.execute('true')", "os.execute is disabled by %-%-sandbox", "os.execute")
expect_error("io.popen('ls')", "io.popen is disabled by %-%-sandbox", "io.popen")
expect_error("os.tmpname()", "os.tmpname is disabled by %-%-sandbox", "os.tmpname")
expect_error("package.loadlib('libc.so.6', 'puts')", "package.loadlib is disabled", "package.loadlib")
expect_error("require('lfs_not_a_lua_module')", "module 'lfs_not_a_lua_module' not found", "C modules")
check.eq(expect_ok("io.write(tostring(package.cpath == '' and debug == nil and #package.searchers == 2))", "globals"),
  "true", "cpath empty, no debug, two searchers")
expect_error("require('debug')", "module 'debug' not found", "require 'debug'")
expect_error("assert(load(string.dump(function() end)))", "attempt to load a binary chunk", "load of bytecode")
expect_error("sslua._fs.sandbox('/')", "already set up", "widening the sandbox")

-- writes: inside results/ only, whatever the path spelling or links
expect_ok("local f = assert(io.open('results/a.txt', 'w')); f:write('x'); f:close()", "write inside")
local f = io.open(dir .. "/results/a.txt", "r")
check.truthy(f, "results/a.txt exists"); f:close()
expect_error("assert(io.open('outside/b.txt', 'w'))", "is outside the results directory", "write outside")
expect_error("assert(io.open('results/../outside/b.txt', 'a'))", "is outside the results directory", "write via ..")
expect_error("assert(io.open(" .. ("%q"):format(outside .. "/b.txt") .. ", 'r+'))", "is outside", "update outside")
expect_error("io.output('outside/c.txt')", "is outside", "io.output")
os.execute(("ln -s %s %s"):format(q(outside), q(dir .. "/results/link")))
expect_error("assert(io.open('results/link/d.txt', 'w'))", "is outside", "write through a linked directory")
local t = io.open(outside .. "/target.txt", "w"); t:write("keep"); t:close()
os.execute(("ln -s %s %s"):format(q(outside .. "/target.txt"), q(dir .. "/results/file_link")))
expect_error("assert(io.open('results/file_link', 'w'))", "is outside", "write through a linked file")
expect_error("assert(os.remove('outside/target.txt'))", "is outside", "os.remove outside")
expect_error("assert(os.rename('results/a.txt', 'outside/a.txt'))", "is outside", "os.rename outside")
t = io.open(outside .. "/target.txt", "r")
check.eq(t:read("a"), "keep", "the linked file is untouched"); t:close()

-- native writers check the same rule
expect_error("sslua.save('outside/x.npy', sslua.ones(2))", "sslua.save: 'outside/x.npy' is outside", "sslua.save")
expect_ok("sslua.save('results/x.npy', sslua.ones(2))", "sslua.save inside")
expect_error("sslua.aug.save_grid(sslua.rand(2, 3, 4, 4), 'outside/g.png')", "is outside", "save_grid outside")
expect_error("sslua._fs.mkdir('outside/new', true)", "is outside", "mkdir outside")

-- reading is unrestricted; a module stored as bytecode is refused
check.eq(expect_ok("io.write(io.open(" .. ("%q"):format(outside .. "/target.txt") .. "):read('a'))", "read outside"),
  "keep", "reading outside")
expect_ok("local f = io.open('results/evil.lua', 'wb'); f:write(string.dump(function() return 1 end)); f:close()",
  "write bytecode")
expect_error("package.path = 'results/?.lua'; require('evil')", "attempt to load a binary chunk", "require bytecode")

-- a script file given as bytecode is refused too
local bc = io.open(dir .. "/script.luac", "wb"); bc:write(string.dump(function() print("ran") end)); bc:close()
local p = io.popen(("cd %s && %s --sandbox script.luac 2>&1"):format(q(dir), q(exe)))
local out = p:read("a")
check.eq(p:close(), nil, "bytecode script fails")
check.truthy(out:find("binary chunk"), "bytecode script: " .. out)

-- an experiment runs as usual and lands in results/; SSLUA_RESULTS_DIR moves the root
p = io.popen(("cd %s && %s --sandbox %s --quick 2>&1"):format(q(dir), q(exe), q(repo .. "/examples/infonce_decomposition.lua")))
local eout = p:read("a")
check.truthy(p:close(), "example under --sandbox:\n" .. eout)
check.truthy(eout:find("results in results/infonce_decomposition/"), eout)
expect_ok("assert(io.open('mine/ok.txt', 'w')):close()", "custom root", "SSLUA_RESULTS_DIR=mine")
expect_error("assert(io.open('results/b.txt', 'w'))", "is outside", "default root outside a custom one",
  "SSLUA_RESULTS_DIR=mine")

-- without --sandbox nothing is restricted
local okn = run("assert(io.open('outside/free.txt', 'w')):close(); assert(debug)", " ")
check.truthy(okn, "no sandbox by default")

-- the private natives reject bad arguments with errors that name them
for _, c in ipairs({ { "mkdir", {} }, { "mkdir", { {} } }, { "check_write", { 1 < 2 } }, { "isatty", { "x" } },
                     { "realpath", {} }, { "sandbox", { {} } } }) do
  local okc, err = pcall(sslua._fs[c[1]], table.unpack(c[2]))
  check.eq(okc, false, "sslua._fs." .. c[1] .. " with bad arguments")
  check.truthy(tostring(err):find("sslua._fs." .. c[1], 1, true), "error names sslua._fs." .. c[1] .. ": " .. tostring(err))
end
check.eq(sslua._fs.mkdir(dir), false, "mkdir of an existing directory without parents")
check.eq(sslua._fs.realpath(dir .. "/no/such"), nil, "realpath of a missing path")

os.execute("rm -rf " .. q(dir))
print("ok")
