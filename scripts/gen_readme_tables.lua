-- Regenerates the README tables that give the examples' results from the committed default runs
-- (docs/figures/<example>_summary.json, written by the examples), so that no number there can
-- be stale:
--   - in examples/README.md every block between `<!-- summary:<example> -->` and
--     `<!-- /summary:<example> -->` becomes the summary's table (`table = {columns = {...},
--     rows = {{...}, ...}}`), its computed verdict, its chance levels, its test and its CPU time;
--   - in README.md, a `<!-- summary:<example> -->` block as in examples/README.md, and between
--     `<!-- summary:examples -->` and `<!-- /summary:examples -->`, each
--     row of the examples table whose script has a summary with `title` and `headline` becomes
--     "| `<example>.lua` | title | headline |"; a row whose summary has no headline keeps its
--     claim and gets the computed verdict; rows of scripts without a summary are kept as written.
-- Run from the repository root:
--   sslua scripts/gen_readme_tables.lua           # rewrite the files that differ
--   sslua scripts/gen_readme_tables.lua --check   # fail, naming them, if any file differs
-- Tests load it with dofile and call M.generate() (Tests/lua/test_readme_tables.lua).
local json = require "sslua.json"

local M = { figures = "docs/figures", examples_readme = "examples/README.md", readme = "README.md" }

local read = require("sslua.util").read_file

--- M.summary(name) -> the decoded docs/figures/<name>_summary.json, or nil and the path.
function M.summary(name)
  local path = M.figures .. "/" .. name .. "_summary.json"
  local text = read(path)
  if not text then return nil, path end
  return json.decode(text), path
end

local function cell(v)
  if v == nil or v == json.null then return "-" end
  if type(v) == "table" and type(v.mean) == "number" then
    return string.format("%.3f +- %.3f", v.mean, type(v.std) == "number" and v.std or 0)
  end
  if type(v) == "number" then
    if math.type(v) == "integer" then return tostring(v) end
    return string.format("%.4g", v)
  end
  if type(v) == "boolean" then return v and "yes" or "no" end
  return (tostring(v):gsub("|", "\\|"):gsub("\n", " "))
end

--- M.block(name, summary) -> the markdown between the markers of one example (no markers).
function M.block(name, s)
  local out = {}
  local t = s.table
  if type(t) == "table" and type(t.columns) == "table" and type(t.rows) == "table" then
    local head, rule = {}, {}
    for i, c in ipairs(t.columns) do head[i] = cell(c); rule[i] = "---" end
    out[#out + 1] = "| " .. table.concat(head, " | ") .. " |"
    out[#out + 1] = "|" .. table.concat(rule, "|") .. "|"
    for _, r in ipairs(t.rows) do
      local cells = {}
      for i = 1, #t.columns do cells[i] = cell(r[i]) end
      out[#out + 1] = "| " .. table.concat(cells, " | ") .. " |"
    end
    out[#out + 1] = ""
  end
  local cpu = type(s.cpu_seconds) == "number" and string.format("; CPU time of the run %.0f s (user + system)", s.cpu_seconds) or ""
  out[#out + 1] = string.format("Verdict, computed by the script: **%s**%s (`%s/%s_summary.json`).", cell(s.verdict), cpu, M.figures, name)
  if type(s.chance) == "table" then
    local keys, parts = {}, {}
    for k, v in pairs(s.chance) do if type(v) == "number" then keys[#keys + 1] = k end end
    table.sort(keys)
    for _, k in ipairs(keys) do parts[#parts + 1] = k:gsub("_", " ") .. " " .. string.format("%.3f", s.chance[k]) end
    if #parts > 0 then out[#out + 1] = "Chance levels: " .. table.concat(parts, ", ") .. "." end
  end
  if s.test then out[#out + 1] = "Test: " .. cell(s.test) .. "." end
  return table.concat(out, "\n")
end

local function escape(p) return (p:gsub("[%^%$%(%)%%%.%[%]%*%+%-%?]", "%%%0")) end

-- Replaces the body of every `<!-- summary:NAME -->` ... `<!-- /summary:NAME -->` block by fill(NAME, body).
local function fill_blocks(text, fill)
  local out, pos = {}, 1
  while true do
    local a, b, name = text:find("<!%-%- summary:([%w_%-]+) %-%->", pos)
    if not a then break end
    local close = "<!-- /summary:" .. name .. " -->"
    local c, d = text:find(escape(close), b + 1)
    if not c then error("gen_readme_tables: no closing marker " .. close, 0) end
    out[#out + 1] = text:sub(pos, b)
    local body = text:sub(b + 1, c - 1)
    out[#out + 1] = "\n" .. fill(name, body) .. "\n"
    out[#out + 1] = close
    pos = d + 1
  end
  out[#out + 1] = text:sub(pos)
  return table.concat(out)
end

--- M.examples_text(text) -> examples/README.md with its summary blocks regenerated.
function M.examples_text(text)
  return fill_blocks(text, function(name)
    local s, path = M.summary(name)
    if not s then error("gen_readme_tables: examples/README.md marks a summary of " .. name .. " but " .. path .. " is missing", 0) end
    return M.block(name, s)
  end)
end

--- M.readme_text(text) -> README.md with the generated rows of its examples table.
function M.readme_text(text)
  return fill_blocks(text, function(name, body)
    if name ~= "examples" then
      -- an example's own block, as in examples/README.md
      local sm, path = M.summary(name)
      if not sm then error("gen_readme_tables: README.md marks a summary of " .. name .. " but " .. path .. " is missing", 0) end
      return M.block(name, sm)
    end
    local lines = {}
    for line in (body:gsub("^\n", ""):gsub("\n$", "") .. "\n"):gmatch("(.-)\n") do
      local script = line:match("^| `([%w_]+)%.lua` |")
      local s = script and M.summary(script)
      if s and s.title and s.headline then
        line = string.format("| `%s.lua` | %s | %s |", script, cell(s.title), cell(s.headline))
      elseif s and s.verdict then
        -- no headline: the claim as written, the computed verdict, the numbers where they are
        local claim = line:match("^| `[%w_]+%.lua` | (.-) | ")
        if claim then
          line = string.format("| `%s.lua` | %s | **%s** (the numbers: `examples/README.md`) |", script, claim, cell(s.verdict))
        end
      end
      lines[#lines + 1] = line
    end
    return table.concat(lines, "\n")
  end)
end

--- M.generate() -> {{path =, old =, new =}, ...} for the two files.
function M.generate()
  local res = {}
  for _, e in ipairs({ { M.examples_readme, M.examples_text }, { M.readme, M.readme_text } }) do
    local old = read(e[1])
    if not old then error("gen_readme_tables: cannot read " .. e[1] .. " (run from the repository root)", 0) end
    res[#res + 1] = { path = e[1], old = old, new = e[2](old) }
  end
  return res
end

local function main(args)
  local check = false
  for _, a in ipairs(args) do
    if a == "--check" then check = true else error("gen_readme_tables: unknown argument " .. a .. " (only --check)", 0) end
  end
  local stale = {}
  for _, r in ipairs(M.generate()) do
    if r.old ~= r.new then
      stale[#stale + 1] = r.path
      if not check then
        local f = assert(io.open(r.path, "wb"))
        f:write(r.new)
        f:close()
        print("rewrote " .. r.path)
      end
    end
  end
  if check and #stale > 0 then
    error("gen_readme_tables: stale against docs/figures/*_summary.json: " .. table.concat(stale, ", ")
      .. " (run sslua scripts/gen_readme_tables.lua)", 0)
  end
  if #stale == 0 then print("README tables up to date") end
end

if arg and type(arg[0]) == "string" and arg[0]:match("gen_readme_tables%.lua$") then
  main({ table.unpack(arg) })
end
return M
