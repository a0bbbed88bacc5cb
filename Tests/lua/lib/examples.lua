-- Runs an example script as a user would and reads what it wrote, for the examples' smoke tests.
--   local examples = require "examples"
--   local summary, rows, dir = examples.run(root, "lie_kernel", "--quick" [, {text_column = true}])
--   examples.check_summary(summary, "lie_kernel")
-- rows are metrics.csv's rows keyed by column, numbers converted except in the named columns.
local check = require "check"
local experiment = require "sslua.experiment"
local json = require "sslua.json"
local q = experiment.shell_quote

local M = {}

M.read = require("sslua.util").read_file

function M.run(root, name, args, text)
  text = text or {}
  local dir = root .. "/" .. name
  local cmd = "SSLUA_RUN_DIR=" .. q(dir) .. " SSLUA_PROGRESS=0 " .. q(experiment.interpreter()) .. " examples/" .. name .. ".lua "
    .. args .. " > " .. q(dir .. ".log") .. " 2>&1"
  check.eq(os.execute(cmd), true, name .. " failed:\n" .. (M.read(dir .. ".log") or ""):sub(-2000))
  local rows, header = {}, nil
  for line in io.lines(dir .. "/metrics.csv") do
    local cells = {}
    for c in (line .. ","):gmatch("([^,]*),") do cells[#cells + 1] = c end
    if not header then header = cells else
      local r = {}
      for i, h in ipairs(header) do r[h] = text[h] and cells[i] or (tonumber(cells[i]) or cells[i]) end
      rows[#rows + 1] = r
    end
  end
  return json.decode(M.read(dir .. "/summary.json")), rows, dir
end

--- The fields every example's summary.json has: a claim and a test (sentences), a verdict
--- among the three words, and a `table` (columns, rows of that width) for the README generator.
function M.check_summary(s, name)
  check.truthy(type(s.claim) == "string" and #s.claim > 20, name .. " claim")
  check.truthy(type(s.test) == "string" and #s.test > 20, name .. " test")
  check.truthy(s.verdict == "reproduces" or s.verdict == "partly" or s.verdict == "does not", name .. " verdict " .. tostring(s.verdict))
  check.truthy(type(s.table) == "table" and #s.table.columns >= 2 and #s.table.rows >= 1, name .. " table")
  for _, r in ipairs(s.table.rows) do check.eq(#r, #s.table.columns, name .. " table row width") end
end

return M
