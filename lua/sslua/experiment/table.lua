-- Tables of results as aligned text: experiment.format_table and experiment.print_table.
local util = require "sslua.util"

local experiment = {}   -- what this file adds to sslua.experiment

--- experiment.format_table(rows, columns [, {digits=4}]) -> aligned text table.
function experiment.format_table(rows, columns, opts)
  if type(rows) ~= "table" or type(columns) ~= "table" then
    error("sslua.experiment.format_table: expected rows and a list of columns", 2)
  end
  util.check_options("sslua.experiment.format_table", opts, { digits = "integer" })
  for j, c in ipairs(columns) do
    if type(c) ~= "string" then error("sslua.experiment.format_table: column " .. j .. " must be a name, got " .. type(c), 2) end
  end
  local digits = (opts and opts.digits) or 4
  local cells, widths = {}, {}
  for j, c in ipairs(columns) do widths[j] = math.max(#c, 1) end   -- "%0s" is not a format
  for i, r in ipairs(rows) do
    cells[i] = {}
    for j, c in ipairs(columns) do
      local v = r[c]
      local s
      if type(v) == "number" and math.type(v) == "float" then s = string.format("%." .. digits .. "g", v)
      elseif v == nil then s = "" else s = tostring(v) end
      cells[i][j] = s
      if #s > widths[j] then widths[j] = #s end
    end
  end
  local lines = {}
  local head, rule = {}, {}
  for j, c in ipairs(columns) do head[j] = string.format("%" .. widths[j] .. "s", c); rule[j] = string.rep("-", widths[j]) end
  lines[1] = table.concat(head, "  ")
  lines[2] = table.concat(rule, "  ")
  for i = 1, #rows do
    local parts = {}
    for j = 1, #columns do parts[j] = string.format("%" .. widths[j] .. "s", cells[i][j]) end
    lines[#lines + 1] = table.concat(parts, "  ")
  end
  return table.concat(lines, "\n")
end

function experiment.print_table(rows, columns, opts)
  util.check_options("sslua.experiment.print_table", opts, { digits = "integer" })
  print(experiment.format_table(rows, columns, opts))
end

return experiment
