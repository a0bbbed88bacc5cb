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

-- 0a. Generator states are exact: the seeding and the stream match a Python reference of
-- splitmix64 / xoshiro256** (python3, integers), and a restored state continues identically.
check.eq(sslua.rng(5):state(), "xoshiro256**:63033b0ca389c35a:c097314d939736f8:3b92d3f0106bc147:196e4ec2da05b945:0000000000000005:-",
  "state of sslua.rng(5) (splitmix64 of 5)")
local g = sslua.rng(1)
g:set_state("xoshiro256**:0123456789abcdef:fedcba9876543210:0f1e2d3c4b5a6978:8796a5b4c3d2e1f0:0000000000000007:-")
local u = sslua.rand(4, { rng = g, dtype = "float64" }):totable()
local ref = { 0.4, 0.847750865051903, 0.19373819670579706, 0.35268603415444766 }
for i = 1, 4 do check.eq(string.format("%.17g", u[i]), string.format("%.17g", ref[i]), "xoshiro256** output " .. i) end
check.eq(g:state(), "xoshiro256**:28bbacd0716af6cc:4a043e4028ee40d0:35c4a7e46b56c86f:73407139984b25fc:0000000000000007:-",
  "state after 4 outputs")
check.eq(g:seed(), 7, "the seed travels with the state")
-- A pending Box-Muller spare is part of the state.
g = sslua.rng(11)
sslua.randn(3, { rng = g })
local st = g:state()
check.truthy(not st:match(":%-$"), "an odd number of normals leaves a spare: " .. st)
local a1 = sslua.randn(7, { rng = g }):totable()
local h = sslua.rng(99)
h:set_state(st)
local a2 = sslua.randn(7, { rng = h }):totable()
for i = 1, 7 do check.eq(a2[i], a1[i], "restored stream, normal " .. i) end
check.eq(h:state(), g:state(), "same state after the same draws")
-- The global generator.
sslua.manual_seed(3)
sslua.randn(1)
local gs = sslua.get_rng_state()
local x1 = sslua.rand(5):totable()
sslua.set_rng_state(gs)
local x2 = sslua.rand(5):totable()
for i = 1, 5 do check.eq(x2[i], x1[i], "global stream continues, value " .. i) end
-- Bad states are errors and leave the generator unchanged.
local keep = h:state()
check.errors(function() h:set_state("xoshiro256**:1:2:3:4:5:-") end, "sslua.Generator.set_state: field 1 of the state is not 16 hex digits")
check.errors(function() h:set_state("mt19937:0") end, "sslua.Generator.set_state: expected a state from g:state()")
check.errors(function() h:set_state("xoshiro256**:0000000000000000:0000000000000000:0000000000000000:0000000000000000:0000000000000000:-") end,
  "cannot be all zeros")
check.errors(function() h:set_state("xoshiro256**:000000000000000g:0000000000000000:0000000000000000:0000000000000001:0000000000000000:-") end,
  "field 1 of the state")
check.errors(function() sslua.set_rng_state(42) end, "sslua.set_rng_state: bad argument #1 (string expected")
check.errors(function() h.state(5) end, "sslua.Generator.state: bad argument #1")
check.eq(h:state(), keep, "a refused state changes nothing")

-- 0b. Optimizer state dicts: an optimizer loaded from another's state_dict() continues exactly.
local function params(seed)
  local r = sslua.rng(seed)
  return { sslua.randn(4, 3, { rng = r }), sslua.randn(3, { rng = r }) }
end
local function grads(step)
  local r = sslua.rng(100 + step)
  return { sslua.randn(4, 3, { rng = r }), sslua.randn(3, { rng = r }) }
end
local function steps(opt, ps, from, to)
  for s = from, to do
    local gr = grads(s)
    for i, p in ipairs(ps) do p.grad = gr[i] end
    opt.lr = 0.1 / s
    opt:step()
  end
end
local makers = {
  SGD = function(ps) return sslua.optim.SGD(ps, { lr = 0.1, momentum = 0.9, nesterov = true, weight_decay = 1e-2 }) end,
  Adam = function(ps) return sslua.optim.Adam(ps, { lr = 0.01, weight_decay = 1e-3 }) end,
  AdamW = function(ps) return sslua.optim.AdamW(ps, { lr = 0.01 }) end,
  LARS = function(ps) return sslua.optim.LARS(ps, { lr = 0.5, weight_decay = 1e-4 }) end,
}
for name, make in pairs(makers) do
  local p1 = params(1)
  local o1 = make(p1)
  steps(o1, p1, 1, 3)
  local sd = o1:state_dict()
  local p2 = { p1[1]:clone(), p1[2]:clone() }
  local o2 = make(p2)
  o2:load_state_dict(sd)
  check.eq(o2.lr, o1.lr, name .. " lr restored")
  check.eq(o2.step_count, 3, name .. " step count restored")
  steps(o1, p1, 4, 6)
  steps(o2, p2, 4, 6)
  for i = 1, 2 do check.near(p2[i], p1[i], 0, name .. " parameter " .. i .. " after resuming") end
  -- state_dict() holds copies: later steps do not change it.
  local again = make({ params(1)[1], params(1)[2] })
  again:load_state_dict(sd)
  check.eq(again.step_count, 3, name .. " state dict unchanged by later steps")
end
local po = params(1)
local so = sslua.optim.Adam(po, {})
steps(so, po, 1, 1)
local bad = sslua.optim.Adam({ sslua.zeros(2, 3), sslua.zeros(3) }, {})
check.errors(function() bad:load_state_dict(so:state_dict()) end, "Adam:load_state_dict: state 'exp_avg' of parameter #1 has shape [4x3], the parameter [2x3]")
check.errors(function() sslua.optim.SGD({ sslua.zeros(1) }, { lr = 1 }):load_state_dict(so:state_dict()) end,
  "the state dict has 2 parameters, the optimizer 1")

local exe = experiment.interpreter()
local root = os.tmpname(); os.remove(root); os.execute("mkdir -p " .. q(root))
local script = "examples/rank_vs_aug.lua"
local args = "--quick --epochs 3 --n 128 --n-test 64 --threads 2 --policy small,large --seeds 1"
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
local function run_killed(dir, cond, resume)
  local sh = env(not resume and dir or nil) .. q(exe) .. " " .. q(script) .. " " .. args
    .. (resume and (" --resume " .. q(dir)) or "") .. " > " .. q(dir .. ".log") .. " 2>&1 & pid=$!; "
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

-- 0c. The checkpoint digest is FNV-1a 64 of the file's bytes (python3 reference), refuses
-- non-regular files instead of blocking on a FIFO, and errors name the function.
do
  local bytes = {}
  for rep = 1, 3 do for b = 0, 255 do bytes[#bytes + 1] = string.char(b) end end
  local path = root .. "/digest.bin"
  write(path, table.concat(bytes) .. "sslua")
  local h, n = sslua._checkpoint.digest(path)
  check.eq(h, "15cde21728e1435b", "FNV-1a 64 of 3 x 0..255 .. 'sslua'")
  check.eq(n, 773, "its size")
  write(path, "")
  check.eq(select(1, sslua._checkpoint.digest(path)), "cbf29ce484222325", "FNV-1a 64 of nothing: the offset basis")
  check.errors(function() sslua._checkpoint.digest(root .. "/missing") end, "sslua._checkpoint.digest: cannot open")
  check.errors(function() sslua._checkpoint.digest(root) end, "sslua._checkpoint.digest: '" .. root .. "' is not a regular file")
  if os.execute("mkfifo " .. q(root .. "/fifo") .. " 2>/dev/null") then
    check.errors(function() sslua._checkpoint.digest(root .. "/fifo") end, "is not a regular file")
  end
  check.errors(function() sslua._checkpoint.digest(5) end, "sslua._checkpoint.digest: bad argument #1")
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
  -- As if killed while writing the next checkpoint (its tensor file done, the manifest not yet
  -- renamed) and right after the previous one's rename (its old tensor file not yet removed).
  write(D .. "/checkpoint-" .. (seqD + 1) .. ".safetensors", "half a file")
  write(D .. "/checkpoint-" .. (seqD - 1) .. ".safetensors", "stale")
  ok, out = run(args, nil, D)
  check.eq(ok, true, "resumed run: " .. out:sub(-2000))
  check.truthy(out:find("training loop 2", 1, true), out:sub(1, 500))
  check.eq(read(D .. "/checkpoint-" .. (seqD - 1) .. ".safetensors"), nil, "the stale tensor file is removed")
end
check.eq(read(D .. "/metrics.csv"), want, "metrics.csv after a kill at checkpoint " .. tostring(seqD) .. " and --resume")

-- 5. A resumed run killed again resumes again.
local E = root .. "/e"
local seqE = run_killed(E, seq_at_least(E, 2))
check.truthy(seqE and seqE >= 2, "killed the first time")
local seqE2 = run_killed(E, seq_at_least(E, seqE + 2), true)
check.truthy(seqE2 == nil or seqE2 >= seqE + 2, "killed the resumed run")
ok, out = run(args, nil, E)
check.eq(ok, true, "resumed twice: " .. out:sub(-2000))
check.eq(read(E .. "/metrics.csv"), want, "metrics.csv after kills at checkpoints " .. seqE .. " and " .. tostring(seqE2))
check.eq(#json.decode(read(E .. "/config.json")).resumed_utc, 2, "two resumes recorded")

-- 5b. A script of its own: two training loops sharing one generator, a row after both from
-- the first loop's trained weights, killed (kill -9 of itself, from a hook: a fixed point) in
-- the second loop and at the end of the first.
local tiny = root .. "/tiny/two_loops.lua"
os.execute("mkdir -p " .. q(root .. "/tiny"))
write(tiny, [==[
local experiment = require "sslua.experiment"
local nn, aug, data = sslua.nn, sslua.aug, sslua.data
local cfg = experiment.args({ epochs = 3, n = 64, lr = 1e-2 })
local ds = data.synthetic { n = cfg.n, seed = cfg.seed, size = 8 }
local run = experiment.run(cfg)
local die = os.getenv("DIE_AT")
local rng = sslua.rng(cfg.seed)
local encs = {}
for loop = 1, 2 do
  local enc = nn.Sequential(nn.Flatten(), nn.Linear(3 * 8 * 8, 16, { rng = rng }), nn.BatchNorm1d(16), nn.ReLU())
  local proj = nn.Linear(16, 8, { bias = false, rng = rng })
  encs[loop] = enc
  experiment.simclr { encoder = enc, projector = proj, data = ds, policy = aug.policy("small"), epochs = cfg.epochs,
    batch = 16, optimizer = loop == 1 and "sgd" or "adam", momentum = loop == 1 and 0.9 or nil, lr = cfg.lr, rng = rng, progress = false,
    on_epoch = function(epoch, st)
      run:log { loop = loop, epoch = epoch, w = proj.weight:sum():item(), loss = st.loss or 0 / 0,
        bn = enc[3].running_mean:sum():item() }
      if die == loop .. "," .. epoch then os.execute("kill -9 $PPID") end
    end }
end
run:log { loop = 0, epoch = -1, w = encs[1][2].weight:sum():item(), loss = encs[2][2].weight:sum():item(),
  bn = sslua.rand(1):item() }
run:finish()
]==])
local function tiny_run(dir, die, resume)
  local cmd = "SSLUA_PROGRESS=0 " .. (die and ("DIE_AT=" .. die .. " ") or "") .. (resume and "" or ("SSLUA_RUN_DIR=" .. q(dir) .. " "))
    .. q(exe) .. " " .. q(tiny) .. " --threads 2" .. (resume and (" --resume " .. q(dir)) or "") .. " 2>&1"
  local p = io.popen(cmd); local text = p:read("a"); local good = p:close()
  return good == true, text
end
ok, out = tiny_run(root .. "/t0")
check.eq(ok, true, "two loops: " .. out)
local want2 = read(root .. "/t0/metrics.csv")
check.eq(select(2, want2:gsub("\n", "")), 1 + 2 * 4 + 1, "header, 2 loops x epochs 0..3, the final row")
for _, die in ipairs({ "2,2", "1,3", "2,0", "1,1" }) do
  local dir = root .. "/t_" .. die:gsub(",", "_")
  ok, out = tiny_run(dir, die)
  check.eq(ok, false, "killed at " .. die .. ": " .. out)
  ok, out = tiny_run(dir, nil, true)
  check.eq(ok, true, "resumed after a kill at " .. die .. ": " .. out)
  check.eq(read(dir .. "/metrics.csv"), want2, "two loops, killed at loop,epoch " .. die .. ", resumed")
end

-- 6. A finished run resumes as a no-op: nothing rewritten.
local before = read(A .. "/config.json")
ok, out = run(args, nil, A)
check.eq(ok, true, "resume of a finished run succeeds: " .. out)
check.truthy(out:find("is complete", 1, true), "says it is complete: " .. out)
check.eq(read(A .. "/config.json"), before, "config.json untouched")
check.eq(read(A .. "/metrics.csv"), want, "metrics.csv untouched")

-- 7. Bad input: errors naming the file and what differs.
local function fails(dir, pattern, cmd_args, scr)
  local good, text = run(cmd_args or args, nil, dir, scr)
  check.eq(good, false, "resume of " .. dir .. " must fail")
  check.truthy(text:find(pattern, 1, true), "error names " .. pattern .. ":\n" .. text:sub(1, 800))
  return text
end
fails(root .. "/b_args", "argument --lr differs: " .. root .. "/b_args/config.json has 0.002, the command line gives 0.003",
  args .. " --lr 0.003")
fails(root .. "/b_args", "argument --threads differs", "--quick --epochs 3 --n 128 --n-test 64 --threads 1 --policy small,large --seeds 1")
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
print(string.format("ok (killed at checkpoints %s, %s, %s, %s then %s)", tostring(seqB), tostring(seqC), tostring(seqD),
  tostring(seqE), tostring(seqE2)))
