-- lie_rotation_rank and lie_kernel on their --quick presets: summary.json has the claim, the
-- test, a `table` the README generator prints and a verdict that this file recomputes from the
-- logged numbers; the hot pixel never leaves the frame; Prop. 4.2's bound is min(d_proj, d - span).
-- paper.rotate_nearest against hand-computed rotations (90 degrees = numpy's rot90).
package.path = "Tests/lua/lib/?.lua;" .. package.path
local check = require "check"
local experiment = require "sslua.experiment"
local paper = require "sslua.paper"
local q = experiment.shell_quote

local root = os.tmpname(); os.remove(root); os.execute("mkdir -p " .. q(root))
local examples = require "examples"
local read = examples.read
local function run_example(name, args) return examples.run(root, name, args) end
local function common(s, name)
  examples.check_summary(s, name)
  check.truthy(s.chance ~= nil, name .. " states its chance level")
end

-- paper.rotate_nearest: a one-hot pixel at (row 1, col 3) of a 5x5 image rotated by 90 degrees
-- counter-clockwise lands at (S - 1 - col, row) = (1, 1) (numpy.rot90), by 180 at (3, 1).
do
  local t = {}
  for k = 1, 25 do t[k] = 0 end
  t[1 * 5 + 3 + 1] = 1
  local img = sslua.tensor(t):reshape(1, 1, 5, 5):expand(3, 1, 5, 5):contiguous()
  local r = paper.rotate_nearest(img, { 0, 90, 180 }):reshape(3, 25):totable()
  local function hot(v) local at for k, x in ipairs(v) do if x == 1 then at = k end end return at end
  check.eq(hot(r[1]), 1 * 5 + 3 + 1, "0 degrees")
  check.eq(hot(r[2]), 1 * 5 + 1 + 1, "90 degrees")
  check.eq(hot(r[3]), 3 * 5 + 1 + 1, "180 degrees")
  for i = 1, 3 do local s = 0 for _, x in ipairs(r[i]) do s = s + x end check.eq(s, 1, "one hot pixel") end
end

-- lie_rotation_rank: nearest is the verdict's interpolation, both logged, pixel always in frame.
do
  local s, rows = run_example("lie_rotation_rank", "--quick")
  common(s, "lie_rotation_rank")
  check.eq(s.interpolation, "nearest")
  check.eq(s.placement, "disk")
  local n_near, n_bil = 0, 0
  for _, r in ipairs(rows) do
    check.eq(r.in_frame, 1, "the pixel stays in the frame")
    local c = (s.size - 1) / 2
    check.truthy((r.row - c) ^ 2 + (r.col - c) ^ 2 <= (c - 1) ^ 2 + 1e-9, "pixel inside the inscribed disk")
    if r.interpolation == "nearest" then n_near = n_near + 1 else n_bil = n_bil + 1 end
  end
  check.eq(n_near, n_bil, "both interpolations measured")
  -- recompute the verdict from the rows
  local g = paper.aggregate((function() local o = {} for _, r in ipairs(rows) do if r.interpolation == "nearest" then o[#o + 1] = r end end return o end)(),
    nil, "theta_max", "rank")[1]
  local inc = true
  for i = 2, #g.x do if not (g.mean[i] > g.mean[i - 1]) then inc = false end end
  local beyond = g.mean[#g.x] - g.mean[1] > g.std[#g.x] + g.std[1]
  check.eq(s.nearest.increasing, inc)
  check.eq(s.nearest.beyond_spread, beyond)
  local want = (inc and beyond) and "reproduces" or ((beyond or s.bilinear.increasing) and "partly" or "does not")
  check.eq(s.verdict, want, "lie_rotation_rank verdict recomputed")
  check.eq(g.mean[1], 0, "no rotation, rank 0")
end

-- lie_kernel: 3 seeds on the quick preset; bound = min(d_proj, d - aug_span); verdict recomputed.
do
  local s, rows = run_example("lie_kernel", "--quick")
  common(s, "lie_kernel")
  local seeds = {}
  for _, r in ipairs(rows) do
    seeds[r.seed] = true
    check.eq(r.rank_bound, math.max(0, math.min(s.d_proj, s.d - r.aug_span)), "Prop. 4.2 bound")
  end
  local ns = 0
  for _ in pairs(seeds) do ns = ns + 1 end
  check.eq(ns, 3, "three seeds in the quick preset")
  local aligned, within = true, true
  for _, c in ipairs(s.configs) do
    check.eq(c.rank.n, 3, "stat over the seeds")
    local a = c.kernel_alignment_init.mean - c.kernel_alignment.mean > c.kernel_alignment_init.std + c.kernel_alignment.std
    check.eq(c.alignment_falls, a)
    aligned = aligned and a
    within = within and c.rank.mean <= c.rank_bound.mean
  end
  local lo, hi = s.configs[1], s.configs[#s.configs]
  local falls = lo.rank.mean - hi.rank.mean > lo.rank.std + hi.rank.std
  local want = (aligned and falls and within) and "reproduces" or ((aligned or falls) and "partly" or "does not")
  check.eq(s.verdict, want, "lie_kernel verdict recomputed")
end
os.execute("rm -rf " .. q(root))
print("ok")
