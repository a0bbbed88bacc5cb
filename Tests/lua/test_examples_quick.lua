-- Every example script listed below (examples/<name>.lua) runs with --quick in its own process:
-- exit status 0, config.json records --quick, metrics.csv has the example's columns and rows,
-- every SVG parses as XML.
package.path = "Tests/lua/lib/?.lua;" .. package.path
local check = require "check"
local experiment = require "sslua.experiment"
local json = require "sslua.json"
local q = experiment.shell_quote

local examples = {
  rank_vs_aug = { "policy", "epoch", "knn_accuracy", "effective_rank", "rank_rtol_*" },
  rank_vs_method = { "method", "seed", "epoch", "knn_accuracy", "linear_probe", "proj_effective_rank", "enc_effective_rank", "proj_rankme", "proj_rank_rtol_*" },
  upper_bound = { "seed", "epoch", "infonce", "upper_bound", "invariance", "repulsion" },
  encoder_spectrum = { "stage", "epoch", "view", "rank", "effective_rank" },
  nearest_negative = { "policy", "epoch", "agreement_fine", "distance_mean" },
  fvu = { "policy", "seed", "epoch", "fvu" },
  lie_rotation_rank = { "theta_max", "run", "rank" },
  lie_kernel = { "spread", "generators", "rank", "kernel_alignment" },
  projector_depth_width = { "projector", "epoch", "knn_encoder", "knn_projector", "linear_regions" },
  infonce_decomposition = { "noise", "beta", "infonce", "invariance", "repulsion", "entropy", "identity_error" },
}
local only = os.getenv("SSLUA_EXAMPLES") -- e.g. "fvu,lie_kernel" to run a few
local exe = experiment.interpreter()
local root = os.tmpname(); os.remove(root); os.execute("mkdir -p " .. q(root))
local function read(path) local f = io.open(path, "rb"); if not f then return nil end; local s = f:read("a"); f:close(); return s end

local names = {}
for name in pairs(examples) do names[#names + 1] = name end
table.sort(names)
local ran = 0
for _, name in ipairs(names) do
  if not only or ("," .. only .. ","):find("," .. name .. ",", 1, true) then
    local dir = root .. "/" .. name
    local script = "examples/" .. name .. ".lua"
    -- --help lists the conventional options and exits 0.
    local h = io.popen(q(exe) .. " " .. q(script) .. " --help 2>&1; echo \"rc=$?\"")
    local help = h:read("a"); h:close()
    check.truthy(help:find("--quick", 1, true) and help:find("rc=0", 1, true), name .. " --help: " .. help)
    local t0 = sslua.clock()
    local cmd = "SSLUA_RUN_DIR=" .. q(dir) .. " SSLUA_PROGRESS=0 " .. q(exe) .. " " .. q(script) .. " --quick > " .. q(root .. "/" .. name .. ".log") .. " 2>&1"
    local ok = os.execute(cmd)
    local log = read(root .. "/" .. name .. ".log") or ""
    check.eq(ok, true, name .. " --quick failed:\n" .. log:sub(-3000))
    print(string.format("%-24s %.1f s", name, sslua.clock() - t0))
    local cfgj = json.decode(read(dir .. "/config.json"))
    check.eq(cfgj.args.quick, true, name .. " config.json records --quick")
    check.truthy(cfgj.script_sha256 and #cfgj.script_sha256 == 64, name .. " script digest")
    check.truthy(cfgj.elapsed_seconds, name .. " finished")
    local csv = read(dir .. "/metrics.csv")
    check.truthy(csv, name .. " wrote metrics.csv")
    local lines = {}
    for l in csv:gmatch("[^\n]+") do lines[#lines + 1] = l end
    check.truthy(#lines >= 3, name .. " metrics.csv has at least two rows")
    local header = {}
    for c in (lines[1] .. ","):gmatch("([^,]*),") do header[c] = true end
    for _, want in ipairs(examples[name]) do
      if want:sub(-1) == "*" then
        local found = false
        for c in pairs(header) do if c:sub(1, #want - 1) == want:sub(1, -2) then found = true end end
        check.truthy(found, name .. " has a column " .. want .. ": " .. lines[1])
      else
        check.truthy(header[want], name .. " has column " .. want .. ": " .. lines[1])
      end
    end
    local p = io.popen("ls " .. q(dir) .. "/*.svg 2>/dev/null")
    local svgs = {}
    for l in p:lines() do svgs[#svgs + 1] = l end
    p:close()
    check.truthy(#svgs >= 1, name .. " wrote SVG figures")
    for _, s in ipairs(svgs) do
      check.eq(os.execute("python3 -c 'import xml.dom.minidom,sys; xml.dom.minidom.parse(sys.argv[1])' " .. q(s)), true, s .. " parses as XML")
      check.truthy(read(s):find("<path", 1, true) or read(s):find("<rect", 1, true), s .. " has data")
    end
    ran = ran + 1
  end
end
check.truthy(ran >= 1, "ran at least one example")
os.execute("rm -rf " .. q(root))
print("ok: " .. ran .. " examples")
