-- --resume: a run of an example (two training loops, 3 epochs each) SIGKILLed at several points
-- (before its first checkpoint, inside the first loop, inside the second, with a torn last row
-- in metrics.csv) and resumed ends with a metrics.csv byte-identical to the uninterrupted run;
-- resuming a finished run is a no-op; another argument, another script or a damaged
-- checkpoint is an error naming the file and what differs.
package.path = "Tests/lua/lib/?.lua;" .. package.path
local check = require "check"
local experiment = require "sslua.experiment"
local json = require "sslua.json"
local q = experiment.shell_quote

local exe = experiment.interpreter()
local root = os.tmpname(); os.remove(root); os.execute("mkdir -p " .. q(root))
local script = "examples/rank_vs_aug.lua"
local args = "--quick --epochs 3 --n 128 --n-test 64 --threads 2"
local function read(path) local f = io.open(path, "rb"); if not f then return nil end; local s = f:read("a"); f:close(); return s end
local function write(path, s) local f = assert(io.open(path, "wb")); f:write(s); f:close() end
local function env(dir) return "SSLUA_PROGRESS=0 " .. (dir and ("SSLUA_RUN_DIR=" .. q(dir) .. " ") or "") end

-- Runs the example to the end; returns ok, output.
local function run(cmd_args, dir, resume, scr)
  local cmd = env(not resume and dir or nil) .. q(exe) .. " " .. q(scr or script) .. " " .. cmd_args
    .. (resume and (" --resume " .. q(resume)) or "") .. " 2>&1"
  local p = io.popen(cmd)
  local out = p:read("a")
  local ok = p:close()
  return ok == true, out
end

-- Starts the example in the background and SIGKILLs it once `cond` (a shell test) holds; returns
-- the checkpoint sequence number it was killed at (0 = none yet), or nil if it finished first.
local function run_killed(dir, cond)
  local sh = env(dir) .. q(exe) .. " " .. q(script) .. " " .. args .. " > " .. q(dir .. ".log") .. " 2>&1 & pid=$!; "
    .. "while kill -0 $pid 2>/dev/null; do if " .. cond .. "; then kill -9 $pid; wait $pid 2>/dev/null; echo killed; exit 0; fi; "
    .. "sleep 0.02; done; wait $pid; echo finished"
  local p = io.popen("sh -c " .. q(sh) .. " 2>/dev/null")
  local out = p:read("a"); p:close()
  if not out:find("killed", 1, true) then return nil end
  local m = read(dir .. "/checkpoint.json")
  return m and tonumber(m:match('"seq":(%d+)')) or 0
end
local function seq_at_least(dir, k)
  return "[ \"$(grep -o '\"seq\":[0-9]*' " .. q(dir .. "/checkpoint.json") .. " 2>/dev/null | cut -d: -f2)\" -ge " .. k .. " ] 2>/dev/null"
end

-- 1. The uninterrupted run.
local A = root .. "/a"
local ok, out = run(args, A)
check.eq(ok, true, "uninterrupted run: " .. out:sub(-2000))
local want = read(A .. "/metrics.csv")
local nlines = select(2, want:gsub("\n", ""))
check.eq(nlines, 1 + 2 * 4, "header + 2 policies x epochs 0..3")

-- 2. Killed inside the first training loop (after epoch 1's checkpoint), resumed.
local B = root .. "/b"
local seqB = run_killed(B, seq_at_least(B, 1))
check.truthy(seqB and seqB >= 1, "killed after a checkpoint: " .. tostring(seqB))
os.execute("cp -r " .. q(B) .. " " .. q(root .. "/b_args") .. " && cp -r " .. q(B) .. " " .. q(root .. "/b_script")
  .. " && cp -r " .. q(B) .. " " .. q(root .. "/b_tensors") .. " && cp -r " .. q(B) .. " " .. q(root .. "/b_manifest"))
ok, out = run(args, nil, B)
check.eq(ok, true, "resumed run: " .. out:sub(-2000))
check.truthy(out:find("resuming " .. B .. " from its checkpoint", 1, true), out:sub(1, 500))
check.eq(read(B .. "/metrics.csv"), want, "metrics.csv after a kill at checkpoint " .. seqB .. " and --resume")
for _, svg in ipairs({ "rank.svg", "effective_rank.svg", "knn_accuracy.svg" }) do
  check.eq(read(B .. "/" .. svg), read(A .. "/" .. svg), svg .. " as uninterrupted")
end
local rec = json.decode(read(B .. "/config.json"))
check.truthy(rec.finished_utc and #rec.resumed_utc == 1, "config.json records the resume and the finish")

-- 3. Killed before any checkpoint, with a torn last row: resumes from the start.
local C = root .. "/c"
local seqC = run_killed(C, "grep -q ',0,' " .. q(C .. "/metrics.csv") .. " 2>/dev/null")
check.truthy(seqC ~= nil, "killed")
local f = assert(io.open(C .. "/metrics.csv", "ab")); f:write("small,1,0.07"); f:close()
ok, out = run(args, nil, C)
check.eq(ok, true, "resumed run: " .. out:sub(-2000))
check.eq(read(C .. "/metrics.csv"), want, "metrics.csv after a kill at checkpoint " .. tostring(seqC) .. ", a torn row and --resume")

-- 4. Killed inside the second training loop, with a torn row after the checkpointed ones.
local D = root .. "/d"
local seqD = run_killed(D, seq_at_least(D, 5))
check.truthy(seqD == nil or seqD >= 5, "killed in the second loop")
if seqD then
  f = assert(io.open(D .. "/metrics.csv", "ab")); f:write("large,3,0.1,2"); f:close()
  ok, out = run(args, nil, D)
  check.eq(ok, true, "resumed run: " .. out:sub(-2000))
  check.truthy(out:find("training loop 2", 1, true), out:sub(1, 500))
end
check.eq(read(D .. "/metrics.csv"), want, "metrics.csv after a kill at checkpoint " .. tostring(seqD) .. " and --resume")

-- 5. A finished run resumes as a no-op: nothing rewritten.
local before = read(A .. "/config.json")
ok, out = run(args, nil, A)
check.eq(ok, true, "resume of a finished run succeeds: " .. out)
check.truthy(out:find("is complete", 1, true), "says it is complete: " .. out)
check.eq(read(A .. "/config.json"), before, "config.json untouched")
check.eq(read(A .. "/metrics.csv"), want, "metrics.csv untouched")

-- 6. Bad input: errors naming the file and what differs.
local function fails(dir, pattern, cmd_args, scr)
  local good, text = run(cmd_args or args, nil, dir, scr)
  check.eq(good, false, "resume of " .. dir .. " must fail")
  check.truthy(text:find(pattern, 1, true), "error names " .. pattern .. ":\n" .. text:sub(1, 800))
  return text
end
fails(root .. "/b_args", "argument --lr differs: " .. root .. "/b_args/config.json has 0.002, the command line gives 0.003",
  args .. " --lr 0.003")
fails(root .. "/b_args", "argument --threads differs", "--quick --epochs 3 --n 128 --n-test 64 --threads 1")
-- The same script name with other contents.
os.execute("mkdir -p " .. q(root .. "/other"))
write(root .. "/other/rank_vs_aug.lua", read(script) .. "\n-- edited\n")
fails(root .. "/b_script", "the script differs: " .. root .. "/b_script/config.json records", args, root .. "/other/rank_vs_aug.lua")
-- Another script altogether.
fails(root .. "/b_script", "was made by the script 'rank_vs_aug'", args, "examples/upper_bound.lua")
-- A damaged tensor file: one byte changed.
local tfile = read(root .. "/b_tensors/checkpoint.json"):match('"tensors":"([^"]+)"')
local tpath = root .. "/b_tensors/" .. tfile
local bytes = read(tpath)
local mid = #bytes // 2
write(tpath, bytes:sub(1, mid - 1) .. string.char((bytes:byte(mid) + 1) % 256) .. bytes:sub(mid + 1))
fails(root .. "/b_tensors", "corrupt checkpoint: " .. tpath .. " has")
write(tpath, bytes:sub(1, 1000))
fails(root .. "/b_tensors", "corrupt checkpoint: " .. tpath .. " has 1000 bytes")
-- A truncated manifest.
local mpath = root .. "/b_manifest/checkpoint.json"
write(mpath, read(mpath):sub(1, 200))
fails(root .. "/b_manifest", "corrupt checkpoint " .. mpath)
-- Not a run directory.
fails(root .. "/nothing", "no " .. root .. "/nothing/config.json")

os.execute("rm -rf " .. q(root))
print(string.format("ok (killed at checkpoints %s, %s, %s)", tostring(seqB), tostring(seqC), tostring(seqD)))
