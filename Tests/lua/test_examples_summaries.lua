-- fvu, upper_bound, nearest_negative, encoder_spectrum and infonce_decomposition on tiny presets:
-- each writes summary.json with the claim, the test, numbers as {mean, std, n} over the seeds
-- and a verdict, and the verdict (and the numbers behind it) is recomputed here from metrics.csv.
-- Independent references: the chance level of nearest-negative label agreement by enumerating
-- every negative of the pool, Gaussian noise's FVU against 1 - d_proj / d_enc, the correlation
-- of the upper bound's curves by NumPy.
package.path = "Tests/lua/lib/?.lua;" .. package.path
local check = require "check"
local experiment = require "sslua.experiment"
local json = require "sslua.json"
local q = experiment.shell_quote

local exe = experiment.interpreter()
local root = os.tmpname(); os.remove(root); os.execute("mkdir -p " .. q(root))
local function read(path) local f = io.open(path, "rb"); if not f then return nil end; local s = f:read("a"); f:close(); return s end

local function run(name, args)
  local dir = root .. "/" .. name
  local cmd = "SSLUA_RUN_DIR=" .. q(dir) .. " SSLUA_PROGRESS=0 " .. q(exe) .. " examples/" .. name .. ".lua --quick " .. args
    .. " > " .. q(root .. "/" .. name .. ".log") .. " 2>&1"
  local ok = os.execute(cmd)
  check.eq(ok, true, name .. " failed:\n" .. (read(root .. "/" .. name .. ".log") or ""):sub(-3000))
  local s = read(dir .. "/summary.json")
  check.truthy(s, name .. " wrote summary.json")
  s = json.decode(s)
  local csv = read(dir .. "/metrics.csv")
  local lines = {}
  for l in csv:gmatch("[^\n]+") do lines[#lines + 1] = l end
  local header = {}
  for c in (lines[1] .. ","):gmatch("([^,]*),") do header[#header + 1] = c end
  local rows = {}
  for i = 2, #lines do
    local r, j = {}, 0
    for c in (lines[i] .. ","):gmatch("([^,]*),") do j = j + 1; r[header[j]] = tonumber(c) or c end
    rows[#rows + 1] = r
  end
  -- Common shape.
  for _, key in ipairs({ "claim", "test", "title", "headline" }) do
    check.truthy(type(s[key]) == "string" and #s[key] > 10, name .. " summary." .. key)
  end
  check.truthy(s.verdict == "reproduces" or s.verdict == "partly" or s.verdict == "does not", name .. " verdict " .. tostring(s.verdict))
  check.truthy(type(s.table) == "table" and #s.table.columns >= 2 and #s.table.rows >= 1, name .. " summary.table")
  for _, r in ipairs(s.table.rows) do check.eq(#r, #s.table.columns, name .. " table row width") end
  check.truthy(type(s.cpu_seconds) == "number" and s.cpu_seconds > 0, name .. " cpu_seconds")
  return s, rows
end

local function mean_std(v)
  local m = 0
  for _, x in ipairs(v) do m = m + x end
  m = m / #v
  local ss = 0
  for _, x in ipairs(v) do ss = ss + (x - m) ^ 2 end
  return m, #v > 1 and math.sqrt(ss / (#v - 1)) or 0
end
local function stat_of(rows, key, pred)
  local v = {}
  for _, r in ipairs(rows) do if pred(r) then v[#v + 1] = r[key] end end
  local m, sd = mean_std(v)
  return { mean = m, std = sd, n = #v }
end
local function same_stat(a, b, what)
  check.eq(a.n, b.n, what .. " n")
  check.near(a.mean, b.mean, 1e-8, what .. " mean")
  check.near(a.std, b.std, 1e-8, what .. " std")
end
local function beyond(a, b) return a.mean - b.mean > a.std + b.std end
local function last_epoch(rows) local e = 0; for _, r in ipairs(rows) do e = math.max(e, r.epoch) end; return e end

-- fvu: the five differences, the fall and the comparison with every control.
do
  local s, rows = run("fvu", "--seeds 2 --epochs 2")
  local last = last_epoch(rows)
  local p = s.policies.large
  local kinds = { "fvu", "fvu_h2_minus_h1", "fvu_random_pairs", "fvu_centred_h", "fvu_gaussian" }
  for _, k in ipairs(kinds) do
    same_stat(p.init[k], stat_of(rows, k, function(r) return r.epoch == 0 end), "fvu init " .. k)
    same_stat(p.final[k], stat_of(rows, k, function(r) return r.epoch == last end), "fvu final " .. k)
    check.eq(p.final[k].n, 2, "fvu two seeds")
  end
  local falls = beyond(p.init.fvu, p.final.fvu)
  local below = true
  for i = 2, #kinds do if not beyond(p.final[kinds[i]], p.final.fvu) then below = false end end
  check.eq(p.falls, falls, "fvu falls")
  check.eq(p.below_every_control, below, "fvu below every control")
  check.eq(s.verdict, (falls and below) and "reproduces" or (falls and "partly" or "does not"), "fvu verdict")
  -- Isotropic noise: W's 16 of 32 directions explain about half of it, whatever W is (N = 96).
  check.near(s.chance.gaussian_fvu_expected, 0.5, 1e-12, "fvu noise expectation 1 - 16/32")
  for _, r in ipairs(rows) do check.near(r.fvu_gaussian, 0.5, 0.1, "fvu of Gaussian noise") end
end

-- nearest_negative: chance by enumeration of the pool, the verdict's parts.
do
  local s, rows = run("nearest_negative", "--seeds 2 --epochs 1")
  local cfg = { n = 192, seed = 1, size = 16, eval_n = 96 }
  local ds = sslua.data.synthetic { n = cfg.n, seed = cfg.seed, size = cfg.size }
  local function enumerate(labels)
    local l = labels:totable()
    local n = cfg.eval_n
    local pool = {}
    for i = 1, n do pool[i] = l[i]; pool[n + i] = l[i] end
    local total = 0
    for i = 1, n do
      local hit = 0
      for j = 1, 2 * n do if j ~= i and j ~= n + i and pool[j] == l[i] then hit = hit + 1 end end
      total = total + hit / (2 * n - 2)
    end
    return total / n
  end
  check.near(s.chance.fine, enumerate(ds.labels), 1e-12, "fine chance = enumeration over the pool")
  check.near(s.chance.coarse, enumerate(ds.coarse_labels), 1e-12, "coarse chance = enumeration over the pool")
  check.truthy(s.chance.fine > 0.03 and s.chance.fine < 0.1, "fine chance near 1/16")
  local all_rise, any_rise = true, false
  for _, name in ipairs({ "small", "large" }) do
    local p = s.policies[name]
    local f = stat_of(rows, "agreement_fine", function(r) return r.policy == name and r.epoch == 1 end)
    local i = stat_of(rows, "agreement_fine", function(r) return r.policy == name and r.epoch == 0 end)
    same_stat(p.final.agreement_fine, f, "nn final fine " .. name)
    same_stat(p.init.agreement_fine, i, "nn init fine " .. name)
    check.eq(p.rises, beyond(f, i), "nn rises " .. name)
    check.eq(p.above_chance, f.mean - s.chance.fine > f.std, "nn above chance " .. name)
    if p.rises and p.above_chance then any_rise = true else all_rise = false end
  end
  local L, S = s.policies.large.final, s.policies.small.final
  local ordered = beyond(L.agreement_fine, S.agreement_fine)
  local dist = beyond(S.distance_mean, L.distance_mean)
  check.eq(s.agreement_grows_with_strength, ordered, "nn ordered")
  check.eq(s.distance_falls_with_strength, dist, "nn distance ordered")
  local v = (all_rise and ordered and dist) and "reproduces" or ((any_rise or ordered or dist) and "partly" or "does not")
  check.eq(s.verdict, v, "nn verdict")
end

-- upper_bound: violations from the rows, the correlation by NumPy, the verdict.
do
  local s, rows = run("upper_bound", "--seeds 2 --epochs 2")
  local violations = 0
  for _, r in ipairs(rows) do if r.upper_bound < r.infonce - 1e-4 then violations = violations + 1 end end
  check.eq(s.violations, violations, "ub violations")
  check.eq(s.measurements, #rows, "ub measurements")
  local mi, mu = {}, {}
  for e = 0, 2 do
    mi[#mi + 1] = stat_of(rows, "infonce", function(r) return r.epoch == e end).mean
    mu[#mu + 1] = stat_of(rows, "upper_bound", function(r) return r.epoch == e end).mean
  end
  local py = io.popen("python3 -c 'import numpy as np,sys; a=np.array(sys.argv[1].split(\",\"),float); b=np.array(sys.argv[2].split(\",\"),float); print(repr(float(np.corrcoef(a,b)[0,1])))' "
    .. table.concat(mi, ",") .. " " .. table.concat(mu, ","))
  local rho = tonumber(py:read("a")); py:close()
  check.near(s.correlation, rho, 1e-9, "ub correlation against numpy")
  local n = s.numbers
  same_stat(n.gap.init, stat_of(rows, "gap", function(r) return r.epoch == 0 end), "ub gap init")
  local tracks = beyond(n.infonce.init, n.infonce.final) and beyond(n.upper_bound.init, n.upper_bound.final) and rho >= 0.9
  check.eq(s.verdict, violations > 0 and "does not" or (tracks and "reproduces" or "partly"), "ub verdict")
end

-- encoder_spectrum: ranks per stage from the rows, the verdict.
do
  local s, rows = run("encoder_spectrum", "--seeds 2")
  local d = s.d_enc
  check.eq(d, 32, "encoder_spectrum d_enc (width 8, 3 stages)")
  local function all_at_least(stage, frac)
    for _, r in ipairs(rows) do if r.stage == stage and r.rank < frac * d then return false end end
    return true
  end
  for _, view in ipairs({ "clean", "augmented" }) do
    for _, stage in ipairs({ "init", "half", "end" }) do
      same_stat(s.numbers[view][stage].rank, stat_of(rows, "rank", function(r) return r.view == view and r.stage == stage end), "spectrum rank " .. view .. " " .. stage)
    end
  end
  local e, h = all_at_least("end", 0.95), all_at_least("half", 0.95)
  local near = all_at_least("init", 0.75) and all_at_least("half", 0.75) and all_at_least("end", 0.75)
  check.eq(s.verdict, (e and h) and "reproduces" or ((e or near) and "partly" or "does not"), "spectrum verdict")
  -- Recalibrated BN at the initialisation: the outputs are not nearly collinear.
  check.truthy(s.numbers.clean.init.effective_rank.mean > 8, "spectrum init effective rank after recalibration")
end

-- infonce_decomposition: the identity error from the rows.
do
  local s, rows = run("infonce_decomposition", "")
  local m, rel = 0, 0
  for _, r in ipairs(rows) do
    local e = math.abs(r.infonce - (r.invariance + r.repulsion + r.entropy))
    m = math.max(m, r.identity_error); rel = math.max(rel, r.identity_error / math.max(1, math.abs(r.infonce)))
    check.truthy(e < 1e-3, "infonce identity from the rounded csv")
  end
  check.near(s.max_identity_error, m, 1e-6, "infonce max error")
  check.eq(s.verdict, rel <= 1e-4 and "reproduces" or "does not", "infonce verdict")
  check.eq(#s.seeds, 2, "infonce seeds")
end

os.execute("rm -rf " .. q(root))
print("ok")
