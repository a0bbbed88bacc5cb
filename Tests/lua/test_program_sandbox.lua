-- `sslua --sandbox`: a shared script gets no processes, no native code, and writes
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
-- a cpath set by the script reaches no C loader (unsandboxed, this dlopens libc and fails
-- on the missing luaopen_ symbol)
expect_error("package.cpath = '/lib/x86_64-linux-gnu/?.so.6;/usr/lib/x86_64-linux-gnu/?.so.6'; require('libc')",
  "module 'libc' not found", "C module through a cpath set by the script")
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

-- runs a shell command line in the scratch directory; returns ok, combined output
local function sh(cmd)
  local p = io.popen(("cd %s && %s 2>&1"):format(q(dir), cmd))
  local o = p:read("a")
  return p:close() == true, o
end
-- the names in a directory (nil if it is missing)
local function listing(path)
  local p = io.popen("ls -A " .. q(path) .. " 2>/dev/null")
  local names = {}
  for l in p:lines() do names[#names + 1] = l end
  p:close()
  return names
end
local function read(path) local h = io.open(path, "rb"); if not h then return nil end local s = h:read("a"); h:close(); return s end
local function write(path, s) local h = assert(io.open(path, "wb")); h:write(s); h:close() end
local function empty_outside(what)
  local names = listing(outside)
  local extra = {}
  for _, n in ipairs(names) do if n ~= "target.txt" and n ~= "a.txt" and n ~= "free.txt" then extra[#extra + 1] = n end end
  check.eq(table.concat(extra, " "), "", what .. ": nothing new outside results/")
  check.eq(read(outside .. "/target.txt"), "keep", what .. ": outside/target.txt untouched")
end

-- a hard link in results/ to a file outside: never written through (refused for io, the name
-- replaced by the atomic writers)
os.execute(("ln %s %s"):format(q(outside .. "/target.txt"), q(dir .. "/results/hard")))
expect_error("assert(io.open('results/hard', 'w'))", "hard links", "io.open 'w' of a hard link")
expect_error("assert(io.open('results/hard', 'a'))", "hard links", "io.open 'a' of a hard link")
expect_error("assert(io.open('results/hard', 'r+'))", "hard links", "io.open 'r+' of a hard link")
expect_error("io.output('results/hard')", "hard links", "io.output of a hard link")
empty_outside("hard link")
os.execute(("ln %s %s"):format(q(outside .. "/target.txt"), q(dir .. "/results/hard.npy")))
expect_ok("sslua.save('results/hard.npy', sslua.ones(2))", "save over a hard link")
empty_outside("save over a hard link")
check.eq(#sslua.load(dir .. "/results/hard.npy"):totable(), 2, "the hard link's name now holds the new file")

-- a symlink at the final name is replaced by the atomic writers, never followed
os.execute(("ln -s %s %s"):format(q(outside .. "/target.txt"), q(dir .. "/results/sym.npy")))
expect_ok("sslua.save('results/sym.npy', sslua.ones(3))", "save over a symlink")
empty_outside("save over a symlink")
check.eq(#sslua.load(dir .. "/results/sym.npy"):totable(), 3, "the symlink's name holds the new file")

-- io.tmpfile lives in results/ (an unnamed file there); a helper reads the child's open files
write(dir .. "/fds.py", [[
import os, subprocess, sys
p = subprocess.Popen(sys.argv[1:], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
line = p.stdout.readline()
links = []
for fd in os.listdir("/proc/%d/fd" % p.pid):
    try: links.append(os.readlink("/proc/%d/fd/%s" % (p.pid, fd)))
    except OSError: pass
p.stdin.write("go\n"); p.stdin.flush()
rest = p.stdout.read()
print(line.strip()); print("\n".join(links)); print(rest.strip()); sys.exit(p.wait())
]])
local okt, tout = sh("python3 fds.py " .. q(exe) .. " --sandbox -e " .. q(
  "local f = assert(io.tmpfile()); f:write('hidden'); f:seek('set'); local s = f:read('a');" ..
  "print(s == 'hidden' and io.type(f) or 'bad'); io.stdout:flush(); io.read('l'); f:close(); print('closed')"))
check.truthy(okt, "io.tmpfile under --sandbox:\n" .. tout)
check.truthy(tout:find("^file\n"), "io.tmpfile gives a working file handle:\n" .. tout)
local results_real = sslua._fs.realpath(dir .. "/results")
local in_results, in_tmp = false, false
for l in tout:gmatch("[^\n]+") do
  if l:sub(1, #results_real + 1) == results_real .. "/" then in_results = true end
  if l:find("^/tmp/[^/]*$") or l:find("^/tmp/#") or l:find("^/var/tmp/") then in_tmp = true end
end
check.truthy(in_results and not in_tmp, "the temporary file is in results/, not /tmp:\n" .. tout)
check.truthy(tout:find("closed"), "the handle closes")

-- temporary files have unpredictable names: symlinks planted at the names the writers used to
-- use (<path>.tmp.<pid>, <path>.tmp<pid>) for the very pid of the writer (sh execs it) are
-- never followed, with or without --sandbox
local plant = table.concat({
  "for n in results/p.npy.tmp.$$ results/p.safetensors.tmp.$$ results/p.png.tmp$$ results/p.png.tmp.$$; do",
  "  ln -s " .. q(outside) .. "/planted_$(basename $n) $n; done;",
  "exec " .. q(exe) .. " %s -e " .. q("sslua.save('results/p.npy', sslua.ones(2)); sslua.save('results/p.safetensors', {a = sslua.ones(2)});" ..
    " sslua.aug.save_grid(sslua.rand(2, 3, 4, 4), 'results/p.png'); print(#sslua.load('results/p.npy'):totable())"),
}, "\n")
for _, flags in ipairs({ "--sandbox", "" }) do
  local okp, pout = sh("sh -c " .. q(plant:format(flags)))
  check.truthy(okp, "writers beside planted symlinks (" .. flags .. "):\n" .. pout)
  check.truthy(pout:find("2"), pout)
  empty_outside("planted temporary symlinks " .. flags)
  local st = io.popen("stat -c %F " .. q(dir .. "/results/p.npy") .. " " .. q(dir .. "/results/p.png")):read("a")
  check.eq(st, "regular file\nregular file\n", "the outputs are regular files " .. flags)
  os.execute("rm -f " .. q(dir) .. "/results/p.*")
end

-- sweep: `sslua --sandbox sweep` and `sslua sweep ... --sandbox` sandbox every run (the
-- launcher alone may start processes)
write(dir .. "/s.lua", ([[
local ok = pcall(os.execute, "touch %s/escaped")
local f = assert(io.open(os.getenv("SSLUA_RUN_DIR") .. "/ran.txt", "w"))
f:write(ok and "free" or "sandboxed"); f:close()
]]):format(outside))
for _, form in ipairs({ "--sandbox sweep s.lua --k 1,2", "sweep s.lua --k 1,2 --sandbox", "sweep --sandbox s.lua --k 1,2" }) do
  os.execute("rm -rf " .. q(dir .. "/results/s"))
  local oks, sout = sh(q(exe) .. " " .. form)
  check.truthy(oks, "sslua " .. form .. ":\n" .. sout)
  check.truthy(sout:find("2/2 runs succeeded"), sout)
  local ran = io.popen("cat " .. q(dir) .. "/results/s/*/run-*/ran.txt"):read("a")
  check.eq(ran, "sandboxedsandboxed", "sslua " .. form .. ": every run is sandboxed")
  empty_outside("sslua " .. form)
end
local sp = require("sslua.sweep").parse { "--sandbox", "x.lua", "--k", "1,2" }
check.truthy(sp.sandbox and sp.script == "x.lua" and #sp.flags == 0 and #sp.axes == 1, "sweep.parse takes --sandbox as its own")
local okd, dout = sh(q(exe) .. " --sandbox sweep s.lua --k 1,2 --dry-run")
check.truthy(okd and select(2, dout:gsub(" %-%-sandbox 's.lua' ", "")) == 2, "dry run: every command is sandboxed:\n" .. dout)
-- (the test's own control: without --sandbox the runs may start processes)
local okf = sh(q(exe) .. " sweep s.lua --k 1")
check.truthy(okf and read(outside .. "/escaped") == "", "without --sandbox the run's os.execute works")
os.remove(outside .. "/escaped")
-- the launcher is no way out of a sandboxed script
expect_error("require('sslua.sweep').main{'s.lua', '--k', '1'}", "is disabled by %-%-sandbox", "sweep from a sandboxed script")
empty_outside("sweep from a sandboxed script")

-- the race: a helper swaps results/sub (a directory) and results/lnk (a symlink to outside/)
-- with renameat2(RENAME_EXCHANGE) while the sandboxed script writes into results/sub/ in a
-- loop; no write may land outside
sslua._fs.mkdir(dir .. "/results/sub")
os.execute(("ln -s %s %s"):format(q(outside), q(dir .. "/results/lnk")))
write(dir .. "/swap.py", [[
import ctypes, os, sys, time
libc = ctypes.CDLL(None, use_errno=True)
a, b, stop = b"results/sub", b"results/lnk", "results/stop"
def exchange():
    if hasattr(libc, "renameat2"): return libc.renameat2(-100, a, -100, b, 2)
    return libc.syscall(316, -100, a, -100, b, 2)
if exchange() != 0: print("renameat2 failed", ctypes.get_errno()); sys.exit(1)
print("ready", flush=True)
n, limit = 1, time.time() + 30
while not os.path.exists(stop) and time.time() < limit:
    exchange(); n += 1
if n % 2: exchange(); n += 1
print("swaps", n)
]])
-- (twice: with openat2, and with the component-wise openat walk of kernels without it)
for _, env in ipairs({ "", "SSLUA_SANDBOX_NO_OPENAT2=1" }) do
  os.remove(dir .. "/results/stop")
  local swapper = io.popen("cd " .. q(dir) .. " && python3 swap.py 2>&1")
  check.eq(swapper:read("l"), "ready", "the swapper starts")
  local okr, rout = run([[
  -- at least 3000 writes, and on until 100 landed and 100 were refused (the swaps really
  -- interleaved with them, however the two processes are scheduled), at most 200000
  local written, refused, x, i = 0, 0, sslua.ones(4), 0
  while i < 3000 or ((written < 100 or refused < 100) and i < 200000) do
    i = i + 1
    local f = io.open("results/sub/w" .. i % 50 .. ".txt", "w")
    if f then f:write("x"); f:close(); written = written + 1 else refused = refused + 1 end
    if i % 10 == 0 and pcall(sslua.save, "results/sub/t" .. i % 7 .. ".npy", x) then written = written + 1 end
    if i % 10 == 5 and pcall(sslua._fs.mkdir, "results/sub/d" .. i % 7, true) then written = written + 1 end
    if i % 10 == 7 then os.remove("results/sub/w" .. (i - 1) % 50 .. ".txt") end
  end
  local f = io.open("results/stop", "w"); f:close()
  print("written", written, "refused", refused)
  ]], nil, env)
  write(dir .. "/results/stop", "")
  local swaps = swapper:read("a"); swapper:close()
  check.truthy(okr, "the writing loop under --sandbox:\n" .. rout)
  local nw, nr = rout:match("written%s+(%d+)%s+refused%s+(%d+)")
  check.truthy((tonumber(nw) or 0) >= 100 and (tonumber(nr) or 0) >= 100, "writes land and are refused during the race: " .. rout)
  check.truthy(swaps:find("swaps"), "the swapper ran: " .. swaps)
  empty_outside("the renameat2 race " .. env)
end

-- without --sandbox nothing is restricted
local okn = run("assert(io.open('outside/free.txt', 'w')):close(); assert(debug)", " ")
check.truthy(okn, "no sandbox by default")

-- the private natives reject bad arguments with errors that name them
for _, c in ipairs({ { "mkdir", {} }, { "mkdir", { {} } }, { "isatty", { "x" } }, { "realpath", {} },
                     { "sandbox", { {} } }, { "open", {} }, { "open", { "x", "r" } }, { "open", { "x", "wz" } },
                     { "remove", {} }, { "rename", { "a" } }, { "write_atomic", { "x" } },
                     { "write_atomic", { "x", {} } } }) do
  local okc, err = pcall(sslua._fs[c[1]], table.unpack(c[2]))
  check.eq(okc, false, "sslua._fs." .. c[1] .. " with bad arguments")
  check.truthy(tostring(err):find("sslua._fs." .. c[1], 1, true), "error names sslua._fs." .. c[1] .. ": " .. tostring(err))
end
check.eq(sslua._fs.mkdir(dir), false, "mkdir of an existing directory without parents")
check.eq(sslua._fs.realpath(dir .. "/no/such"), nil, "realpath of a missing path")

os.execute("rm -rf " .. q(dir))
print("ok")
