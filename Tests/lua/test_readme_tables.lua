-- The README tables of the examples' results are what scripts/gen_readme_tables.lua generates
-- from the committed docs/figures/<example>_summary.json (so no number there can be stale), and
-- the generator renders a made-up summary as written here by hand.
package.path = "Tests/lua/lib/?.lua;" .. package.path
local check = require "check"
local json = require "sslua.json"
local experiment = require "sslua.experiment"
local q = experiment.shell_quote

local gen = dofile("scripts/gen_readme_tables.lua")
local function read(path) local f = io.open(path, "rb"); if not f then return nil end; local s = f:read("a"); f:close(); return s end

-- 1. The committed files equal the generated ones.
for _, r in ipairs(gen.generate()) do
  check.truthy(r.old == r.new, r.path .. " is stale against docs/figures/*_summary.json: run sslua scripts/gen_readme_tables.lua")
end

-- 2. These examples' sections are generated (markers present) and carry the committed verdicts.
local ex = read("examples/README.md")
local top = read("README.md")
check.truthy(top:find("<!-- summary:examples -->", 1, true) and top:find("<!-- /summary:examples -->", 1, true), "README.md examples table markers")
for _, name in ipairs({ "fvu", "upper_bound", "nearest_negative", "encoder_spectrum", "infonce_decomposition" }) do
  local a = ex:find("<!-- summary:" .. name .. " -->", 1, true)
  local b = ex:find("<!-- /summary:" .. name .. " -->", 1, true)
  check.truthy(a and b and a < b, "examples/README.md has the markers of " .. name)
  local s = json.decode(read("docs/figures/" .. name .. "_summary.json"))
  local body = ex:sub(a, b)
  check.truthy(body:find("**" .. s.verdict .. "**", 1, true), name .. ": the block gives the committed verdict")
  check.truthy(top:find("| `" .. name .. ".lua` | " .. s.title .. " | " .. s.headline .. " |", 1, true), name .. ": README.md row generated")
end

-- 3. The generator on a made-up summary.
local dir = os.tmpname(); os.remove(dir); os.execute("mkdir -p " .. q(dir))
local f = io.open(dir .. "/toy_summary.json", "wb")
f:write(json.encode { verdict = "partly", test = "a | b", chance = { fine = 0.0625, coarse_level = 0.25 }, cpu_seconds = 12.4, title = "Toy: a claim", headline = "**partly**: 0.5",
  table = { columns = { "x", "y" }, rows = { { "a", 0.123456 }, { 3, { mean = 0.5, std = 0.25, n = 3 } } } } })
f:close()
local saved = gen.figures
gen.figures = dir
local text = "intro\n<!-- summary:toy -->\nold stuff 0.1\n<!-- /summary:toy -->\nafter\n"
check.eq(gen.examples_text(text), "intro\n<!-- summary:toy -->\n| x | y |\n|---|---|\n| a | 0.1235 |\n| 3 | 0.500 +- 0.250 |\n\n"
  .. "Verdict, computed by the script: **partly**; CPU time of the run 12 s (user + system) (`" .. dir .. "/toy_summary.json`).\n"
  .. "Chance levels: coarse level 0.250, fine 0.062.\nTest: a \\| b.\n<!-- /summary:toy -->\nafter\n", "rendered block")
local readme = "| script | claim | at CPU scale |\n<!-- summary:examples -->\n|---|---|---|\n| `toy.lua` | old | old |\n| `other.lua` | kept | kept |\n<!-- /summary:examples -->\n"
check.eq(gen.readme_text(readme), "| script | claim | at CPU scale |\n<!-- summary:examples -->\n|---|---|---|\n| `toy.lua` | Toy: a claim | **partly**: 0.5 |\n"
  .. "| `other.lua` | kept | kept |\n<!-- /summary:examples -->\n", "rendered README rows")
check.errors(function() gen.examples_text("<!-- summary:missing -->\n<!-- /summary:missing -->") end, "missing", "a marker without a summary")
check.errors(function() gen.examples_text("<!-- summary:toy -->\n") end, "no closing marker", "an unclosed marker")
gen.figures = saved
os.execute("rm -rf " .. q(dir))
print("ok")
