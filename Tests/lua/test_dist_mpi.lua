-- sslua.dist across 2 processes: mpirun -np 2 on loopback runs the scripts in Tests/lua/dist/
-- (needs Open MPI's mpirun: Debian's openmpi-bin, which .ci/run installs). Every run is bounded
-- by `timeout 60`, so a hang fails the test instead of blocking the suite.
package.path = "Tests/lua/lib/?.lua;" .. package.path
local check = require "check"
local sslua_bin = arg[-1]

local function sh_quote(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end
check.truthy(os.execute("command -v mpirun >/dev/null 2>&1"), "mpirun on PATH (apt-get install openmpi-bin)")

local M = {}
--- Runs `script` with args on `np` ranks; returns (ok, exit code, output)
--- (env: a table of variables set for the ranks, passed on with mpirun -x.)
function M.mpirun(np, script, ...)
  local args, env, exports = {}, {}, {}
  for _, a in ipairs({ ... }) do
    if type(a) == "table" then
      for k, v in pairs(a) do env[#env + 1] = k .. "=" .. sh_quote(v); exports[#exports + 1] = "-x " .. k end
    else args[#args + 1] = sh_quote(a) end
  end
  local cmd = table.concat({
    "OMPI_MCA_btl=self,tcp OMPI_MCA_btl_tcp_if_include=lo OMPI_MCA_oob_tcp_if_include=lo", table.concat(env, " "),
    "OMPI_MCA_rmaps_base_oversubscribe=1",
    "timeout 60 mpirun --allow-run-as-root --oversubscribe -np", tostring(np), table.concat(exports, " "),
    sh_quote(sslua_bin), sh_quote(script), table.concat(args, " "), "2>&1" }, " ")
  local p = io.popen(cmd)
  local out = p:read("a")
  local ok, _, code = p:close()
  return ok, code, out
end

-- Collectives and their gradients.
local ok, code, out = M.mpirun(2, "Tests/lua/dist/collectives.lua")
if not ok then error("collectives.lua failed (exit " .. tostring(code) .. "):\n" .. out) end
check.truthy(out:find("DIST_OK 0", 1, true) and out:find("DIST_OK 1", 1, true), "both ranks finished:\n" .. out)

-- A rank that dies: the job ends (not the timeout's 124) with an error, rank 0 never passes.
for _, how in ipairs({ "exit", "error", "kill" }) do
  local ok2, code2, out2 = M.mpirun(2, "Tests/lua/dist/dies.lua", how)
  check.eq(ok2, nil, how .. ": the job fails")
  check.truthy(code2 ~= 124, how .. ": ended by MPI, not by the timeout")
  check.truthy(not out2:find("RANK0_PASSED_THE_COLLECTIVE", 1, true), how .. ": rank 0 did not go on alone")
  check.truthy(out2:find("MPI_ABORT was invoked on rank 1", 1, true) or out2:find("process rank 1", 1, true)
    or out2:find("rank 1 fails on purpose", 1, true)
    -- Open MPI's own help text can fail to print under load ("ORTE_ERROR_LOG ... show_help.c"):
    -- then only the ending is checked above, not the message
    or out2:find("show_help.c", 1, true), how .. ": the output says which rank failed:\n" .. out2)
end

-- SyncBatchNorm: a 2-rank step against the 1-process step (the script compares).
do
  local ok3, code3, out3 = M.mpirun(2, "Tests/lua/dist/syncbn.lua")
  if not ok3 then error("syncbn.lua failed (exit " .. tostring(code3) .. "):\n" .. out3) end
  check.truthy(out3:find("DIST_OK 0", 1, true) and out3:find("DIST_OK 1", 1, true), "syncbn.lua finished:\n" .. out3)
end

-- experiment.simclr: 2 ranks against 1 process, same seed: the same metrics, one run directory
-- (written by rank 0 only), config.json's world size, and each rank saw half of every batch.
do
  local json = require "sslua.json"
  local root = os.tmpname()
  os.remove(root)
  local p = io.popen("SSLUA_RESULTS_DIR=" .. sh_quote(root .. "/one") .. " " .. sh_quote(sslua_bin)
    .. " Tests/lua/dist/simclr.lua 2>&1")
  local out1 = p:read("a")
  check.truthy(p:close(), "one-process run:\n" .. out1)
  local ok2, code2, out2 = M.mpirun(2, "Tests/lua/dist/simclr.lua", { SSLUA_RESULTS_DIR = root .. "/two" })
  if not ok2 then error("2-rank simclr failed (exit " .. tostring(code2) .. "):\n" .. out2) end
  check.truthy(out1:find("ROWS 24", 1, true), "one process: both views of a batch of 12 per step:\n" .. out1)
  local n_rows = select(2, out2:gsub("ROWS 12\n", ""))
  check.eq(n_rows, 2, "2 ranks: each rank's shard, both views of 6 images per step:\n" .. out2)
  local function run_dir(sub)
    local list = {}
    local q = io.popen("ls -1 " .. sh_quote(root .. "/" .. sub .. "/dist_simclr"))
    for line in q:lines() do list[#list + 1] = line end
    q:close()
    check.eq(#list, 1, sub .. ": one run directory")
    return root .. "/" .. sub .. "/dist_simclr/" .. list[1]
  end
  local d1, d2 = run_dir("one"), run_dir("two")
  local function read(path)
    local f = assert(io.open(path))
    local t = f:read("a")
    f:close()
    return t
  end
  local function rows(dir)
    local out = {}
    for line in read(dir .. "/metrics.csv"):gmatch("[^\n]+") do out[#out + 1] = line end
    return out
  end
  local r1, r2 = rows(d1), rows(d2)
  check.eq(#r2, #r1, "metrics rows")
  check.eq(#r1, 4, "header and epochs 0..2")
  check.eq(r2[1], r1[1], "metrics header")
  for i = 2, #r1 do
    local a, b = {}, {}
    for v in r1[i]:gmatch("[^,]+") do a[#a + 1] = tonumber(v) end
    for v in r2[i]:gmatch("[^,]+") do b[#b + 1] = tonumber(v) end
    check.near(b, a, 1e-5, "metrics row " .. (i - 1) .. " (" .. r1[1] .. ")")
  end
  check.eq(json.decode(read(d1 .. "/config.json")).world_size, 1, "one process: world_size")
  check.eq(json.decode(read(d2 .. "/config.json")).world_size, 2, "2 ranks: world_size")
  check.truthy(io.open(d2 .. "/checkpoint.json"), "rank 0 wrote the checkpoint")
  os.execute("rm -rf " .. sh_quote(root))
end

-- A 2-rank run killed by SIGKILL of its ranks after its second checkpoint (of 12), then resumed with
-- `mpirun -np 2 ... --resume DIR`, ends with the metrics of the uninterrupted 2-rank run.
do
  local root = os.tmpname()
  os.remove(root)
  os.execute("mkdir -p " .. sh_quote(root))
  local full, cut = root .. "/full", root .. "/cut"
  local ok1, code1, out1 = M.mpirun(2, "Tests/lua/dist/simclr.lua", "--epochs", "12", { SSLUA_RUN_DIR = full })
  if not ok1 then error("uninterrupted 2-rank run failed (exit " .. tostring(code1) .. "):\n" .. out1) end
  local mpi_env = "OMPI_MCA_btl=self,tcp OMPI_MCA_btl_tcp_if_include=lo OMPI_MCA_oob_tcp_if_include=lo "
    .. "OMPI_MCA_rmaps_base_oversubscribe=1 SSLUA_RUN_DIR=" .. sh_quote(cut)
  local sh = mpi_env .. " mpirun --allow-run-as-root --oversubscribe -np 2 -x SSLUA_RUN_DIR " .. sh_quote(sslua_bin)
    .. " Tests/lua/dist/simclr.lua --epochs 12 > " .. sh_quote(root .. "/cut.log") .. " 2>&1 & pid=$!; n=0; "
    .. "while kill -0 $pid 2>/dev/null; do if grep -Eq '\"seq\":([2-9]|1[0-9])[,}]' " .. sh_quote(cut .. "/checkpoint.json")
    .. " 2>/dev/null; then pkill -9 -P $pid; wait $pid 2>/dev/null; echo killed; exit 0; fi; "
    .. "n=$((n+1)); if [ $n -gt 3000 ]; then kill -9 $pid; echo timeout; exit 0; fi; sleep 0.02; done; echo finished"
  local p = io.popen("sh -c " .. sh_quote(sh) .. " 2>/dev/null")
  local how = p:read("a")
  p:close()
  check.truthy(how:find("killed", 1, true), "the ranks were killed after a checkpoint: " .. how)
  local function read(path)
    local f = io.open(path)
    if not f then return nil end
    local t = f:read("a")
    f:close()
    return t
  end
  check.truthy(read(cut .. "/metrics.csv") ~= read(full .. "/metrics.csv"), "the killed run had not finished")
  local ok2, code2, out2 = M.mpirun(2, "Tests/lua/dist/simclr.lua", "--epochs", "12", "--resume", cut)
  if not ok2 then error("resumed 2-rank run failed (exit " .. tostring(code2) .. "):\n" .. out2) end
  check.eq(read(cut .. "/metrics.csv"), read(full .. "/metrics.csv"), "metrics.csv of the resumed run")
  os.execute("rm -rf " .. sh_quote(root))
end
print("ok")
