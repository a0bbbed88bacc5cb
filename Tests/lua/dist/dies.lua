-- Rank 1 dies (os.exit(3), or a Lua error, or SIGKILL) while rank 0 waits in a collective:
-- the job must end with an error, not hang.
local how = arg[1]
local dist = sslua.dist
dist.init()
if dist.rank() == 1 then
  if how == "exit" then os.exit(3) end
  if how == "error" then error("rank 1 fails on purpose") end
  if how == "kill" then
    local pid = io.open("/proc/self/stat"):read("l"):match("^(%d+)")
    os.execute("kill -9 " .. pid)
  end
end
dist.all_reduce(sslua.ones(4))
dist.barrier()
print("RANK0_PASSED_THE_COLLECTIVE")
