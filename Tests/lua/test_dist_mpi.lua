-- sslua.dist across 2 processes: mpirun -np 2 on loopback runs the scripts in Tests/lua/dist/
-- (needs Open MPI's mpirun: Debian's openmpi-bin, which .ci/run installs). Every run is bounded
-- by `timeout 60`, so a hang fails the test instead of blocking the suite.
package.path = "Tests/lua/lib/?.lua;" .. package.path
local check = require "check"
local sslua_bin = arg[-1]

local function sh_quote(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end
check.truthy(os.execute("command -v mpirun >/dev/null 2>&1"), "mpirun on PATH (apt-get install openmpi-bin)")

local M = {}
--- Runs `script` with args on `np` ranks; returns (ok, exit code, output).
function M.mpirun(np, script, ...)
  local args = {}
  for i, a in ipairs({ ... }) do args[i] = sh_quote(a) end
  local cmd = table.concat({
    "OMPI_MCA_btl=self,tcp OMPI_MCA_btl_tcp_if_include=lo OMPI_MCA_oob_tcp_if_include=lo",
    "OMPI_MCA_rmaps_base_oversubscribe=1",
    "timeout 60 mpirun --allow-run-as-root --oversubscribe -np", tostring(np),
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
    or out2:find("rank 1 fails on purpose", 1, true), how .. ": the output says which rank failed:\n" .. out2)
end

-- SyncBatchNorm and the SimCLR loop at 2 ranks against one process (the scripts compare).
for _, script in ipairs({ "Tests/lua/dist/syncbn.lua", "Tests/lua/dist/simclr.lua" }) do
  local f = io.open(script)
  if f then
    f:close()
    local ok3, code3, out3 = M.mpirun(2, script)
    if not ok3 then error(script .. " failed (exit " .. tostring(code3) .. "):\n" .. out3) end
    check.truthy(out3:find("DIST_OK 0", 1, true), script .. " finished on rank 0:\n" .. out3)
  end
end
print("ok")
