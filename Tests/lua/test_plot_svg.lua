-- sslua.plot: SVG well-formed (our own checker and Python's XML parser), series drawn where
-- the data say, ticks at nice round numbers, decades on log axes, histogram counts by hand.
package.path = "Tests/lua/lib/?.lua;" .. package.path
local check = require "check"
local plot = require "sslua.plot"
check.eq(sslua.plot, plot, "sslua.plot is the module")

-- A small XML well-formedness checker: balanced tags, quoted attributes, no duplicate
-- attributes, only known entities, one root element.
local function wellformed(s)
  local pos, stack, roots = 1, {}, 0
  s = s:gsub("^<%?xml.-%?>%s*", "")
  while pos <= #s do
    local lt = s:find("<", pos, true)
    local text = s:sub(pos, (lt or #s + 1) - 1)
    for ent in text:gmatch("&([^;]*);") do
      if not (ent == "amp" or ent == "lt" or ent == "gt" or ent == "quot" or ent == "apos" or ent:match("^#%d+$")) then
        return false, "unknown entity &" .. ent .. ";"
      end
    end
    if text:find("&[^;]*$") or text:find(">", 1, true) and #stack == 0 and text:match("%S") then return false, "stray text" end
    if not lt then break end
    local gt = s:find(">", lt, true)
    if not gt then return false, "unclosed tag at " .. lt end
    local tag = s:sub(lt + 1, gt - 1)
    if tag:sub(1, 1) == "/" then
      local name = tag:match("^/([%w_:%-]+)%s*$")
      if not name or stack[#stack] ~= name then return false, "mismatched </" .. tostring(name) .. "> at " .. lt end
      stack[#stack] = nil
    else
      local name, rest = tag:match("^([%w_:%-]+)(.-)$")
      if not name then return false, "bad tag at " .. lt end
      local selfclose = rest:sub(-1) == "/"
      if selfclose then rest = rest:sub(1, -2) end
      local seen = {}
      local r = rest:gsub('%s+([%w_:%-]+)="([^"<]*)"', function(k, v)
        if seen[k] then error("duplicate attribute " .. k) end
        seen[k] = true
        return ""
      end)
      if r:match("%S") then return false, "bad attributes in <" .. name .. ">: " .. r end
      if #stack == 0 then roots = roots + 1 end
      if not selfclose then stack[#stack + 1] = name end
    end
    pos = gt + 1
  end
  if #stack > 0 then return false, "unclosed <" .. stack[#stack] .. ">" end
  if roots ~= 1 then return false, roots .. " root elements" end
  return true
end
check.eq(wellformed('<a x="1"><b/></a>'), true, "checker accepts")
check.eq(wellformed('<a><b></a>'), false, "checker rejects mismatched")
check.eq(wellformed('<a x=1/>'), false, "checker rejects unquoted")
check.eq(wellformed('<a>&nbsp;</a>'), false, "checker rejects unknown entity")

local tmpdir = os.tmpname(); os.remove(tmpdir); os.execute("mkdir -p " .. tmpdir)
local function saved(fig, name)
  local path = tmpdir .. "/" .. name
  check.eq(fig:save(path), path, "save returns the path")
  local f = assert(io.open(path)); local s = f:read("a"); f:close()
  local ok, why = wellformed(s)
  check.truthy(ok, name .. " well-formed: " .. tostring(why))
  check.eq(os.execute("python3 -c 'import xml.dom.minidom,sys; xml.dom.minidom.parse(sys.argv[1])' " .. path), true, name .. " parses in Python")
  return s
end

local function ticks(svg, axis)
  local group = svg:match('<g class="' .. axis .. 'ticks".-</g>')
  local out = {}
  for v, y1, x1 in group:gmatch('data%-value="([^"]+)" x1="([%d%.%-]+)" y1="([%d%.%-]+)"') do
    out[#out + 1] = { value = v, x = tonumber(y1), y = tonumber(x1) }
  end
  return out
end

-- nice_ticks: round steps of 1, 2 or 5 times a power of ten, covering the data.
local t, a, b, step = plot.nice_ticks(0, 1)
check.near(t, { 0, 0.2, 0.4, 0.6, 0.8, 1.0 }, 1e-12, "ticks 0..1")
t, a, b, step = plot.nice_ticks(3, 128)
check.eq(step, 20.0, "step for 3..128"); check.eq(a, 0.0, "axis from 0"); check.eq(b, 140.0, "axis to 140")
t, a, b, step = plot.nice_ticks(-3.7, 12.1)
check.near({ a, b, step }, { -5, 15, 5 }, 1e-12, "ticks -3.7..12.1")
t = plot.nice_ticks(0.001234, 0.001288)
for i = 2, #t do check.truthy(t[i] > t[i - 1], "increasing ticks") end
t, a, b = plot.nice_ticks(5, 5)
check.truthy(a < 5 and b > 5, "degenerate range widened")
local exps = plot.log_ticks(3e-4, 20)
check.eq(exps[1], -4, "log lower decade"); check.eq(exps[#exps], 2, "log upper decade")

-- Line plot: two series, std bands, legend, labels.
local x, y1, y2, sd = {}, {}, {}, {}
for i = 0, 20 do x[#x + 1] = i; y1[#y1 + 1] = 128 - 3 * i; y2[#y2 + 1] = 100 + i * 0.5; sd[#sd + 1] = 2 end
local fig = plot.line { series = { { x = x, y = y1, std = sd, label = "large <a&b>" }, { x = x, y = sslua.tensor(y2), label = "small", style = "dashed" } },
  title = "Rank", xlabel = "epoch", ylabel = "rank" }
local svg = saved(fig, "line.svg")
local _, nseries = svg:gsub('class="series"', "")
check.eq(nseries, 2, "two series paths")
check.truthy(svg:find("large &lt;a&amp;b&gt;", 1, true), "escaped legend label")
check.truthy(svg:find(">small<", 1, true), "second label")
check.truthy(svg:find(">epoch<", 1, true) and svg:find(">rank<", 1, true) and svg:find(">Rank<", 1, true), "axis labels and title")
check.truthy(svg:find('stroke%-dasharray'), "dashed style")
local band = svg:match('<polygon class="band" points="([^"]+)"')
local npts = select(2, band:gsub(",", ""))
check.eq(npts, 2 * #x, "band has upper and lower edges")
local xt, yt = ticks(svg, "x"), ticks(svg, "y")
-- y data with std spans 66..132: nice ticks 60..140 by 20; x ticks 0..20 by (2 or 5).
local yv = {}
for i, tk in ipairs(yt) do yv[i] = tonumber(tk.value) end
check.near(yv, { 60, 80, 100, 120, 140 }, 0, "y ticks")
local xstep = tonumber(xt[2].value) - tonumber(xt[1].value)
for i = 2, #xt do check.near(tonumber(xt[i].value) - tonumber(xt[i - 1].value), xstep, 1e-9, "even x ticks") end
local m = xstep / 10 ^ math.floor(math.log(xstep, 10) + 1e-9)
check.truthy(math.abs(m - 1) < 1e-9 or math.abs(m - 2) < 1e-9 or math.abs(m - 5) < 1e-9, "x step is 1, 2 or 5 x 10^k: " .. xstep)
-- The first point of series 1 (0, 128) sits where the ticks say: between y ticks 120 and 140.
local d = svg:match('<path class="series" d="([^"]+)"')
local px0, py0 = d:match("^M([%d%.]+),([%d%.]+)")
local y120, y140
for _, tk in ipairs(yt) do if tk.value == "120" then y120 = tk.y elseif tk.value == "140" then y140 = tk.y end end
check.near(tonumber(py0), y120 + (y140 - y120) * 8 / 20, 0.02, "point y from tick scale")
check.near(tonumber(px0), xt[1].x, 0.02, "point x at first tick")
local npoints = select(2, d:gsub("[ML]", ""))
check.eq(npoints, #x, "all points drawn")

-- A NaN breaks the line instead of drawing garbage.
svg = plot.line { y = { 1, 2, 0 / 0, 4, 5 } }:svg()
d = svg:match('<path class="series" d="([^"]+)"')
check.eq(select(2, d:gsub("M", "")), 2, "two segments around NaN")
check.truthy(not svg:find("nan") and not svg:find("inf"), "no nan in coordinates")

-- Spectrum: log y axis with decade ticks evenly spaced; values land on their decades.
svg = saved(plot.spectrum { series = { { values = sslua.tensor({ 0.1, 100, 1, 10 }), label = "init", style = "dotted" },
  { values = { 5, 3, 2, 1 }, label = "end" } }, title = "spectrum" }, "spectrum.svg")
yt = ticks(svg, "y")
local labels = {}
for i, tk in ipairs(yt) do labels[i] = tk.value end
check.eq(table.concat(labels, " "), "1e-1 1e0 1e1 1e2", "decade ticks")
local gap = yt[1].y - yt[2].y
check.truthy(gap > 0, "decades go up")
for i = 2, #yt do check.near(yt[i - 1].y - yt[i].y, gap, 0.02, "decades evenly spaced") end
d = svg:match('<path class="series" d="([^"]+)"')
local ys = {}
for yy in d:gmatch(",([%d%.]+)") do ys[#ys + 1] = tonumber(yy) end
-- Sorted descending: 100, 10, 1, 0.1 -> exactly on the ticks 1e2, 1e1, 1e0, 1e-1.
check.near(ys, { yt[4].y, yt[3].y, yt[2].y, yt[1].y }, 0.02, "spectrum points on decades")
check.truthy(svg:find("10<tspan", 1, true), "superscript labels")
check.truthy(svg:find('class="minor%-ticks"'), "minor ticks")
-- Normalised spectrum starts at 1.
svg = plot.spectrum { values = { 4, 2, 1 }, normalize = true }:svg()
check.truthy(svg:find(">singular value / largest<", 1, true), "normalised label")

-- Histogram: counts by hand. Edges 0, 0.5, 1: [0, 0.5) holds 0, 0.1, 0.2; [0.5, 1] holds 0.5, 1.
svg = saved(plot.hist { series = { { values = { 0, 0.1, 0.2, 0.5, 1.0 }, label = "a" }, { values = { 0.9 }, label = "b" } }, bins = 2, xlabel = "d" }, "hist.svg")
-- Two series overlap: each is an outline (a step path with no fill) so that both read.
local groups = {}
for g in svg:gmatch('<g class="hist"[^>]*>.-</g>') do groups[#groups + 1] = g end
check.eq(#groups, 2, "two histogram groups")
for i, g in ipairs(groups) do
  local open = g:match('^<g[^>]*>')
  local fill = open:match(' fill="([^"]+)"')
  local op = tonumber(open:match('fill%-opacity="([%d%.]+)"') or "1")
  check.truthy(fill == "none" or (op < 1 and open:find(' stroke="')), "histogram " .. i .. " is not an opaque fill: " .. open)
  check.truthy(not g:find("<rect", 1, true), "histogram " .. i .. " drawn as an outline, not filled bars")
end
local d1 = groups[1]:match('<path[^>]* d="([^"]+)"')
local pts = {}
for xx, yy in d1:gmatch("[ML]([%d%.%-]+),([%d%.%-]+)") do pts[#pts + 1] = { tonumber(xx), tonumber(yy) } end
check.eq(#pts, 6, "outline: baseline, two steps of two points, baseline")
local base = pts[1][2]
check.near(pts[#pts][2], base, 1e-9, "outline ends on the baseline")
check.near((base - pts[2][2]) / (base - pts[4][2]), 3 / 2, 1e-3, "outline heights 3:2")
check.near(pts[2][2], pts[3][2], 1e-9, "flat step top")
-- One series: filled bars (nothing to overlap), heights by hand.
svg = plot.hist { values = { 0, 0.1, 0.2, 0.5, 1.0 }, bins = 2 }:svg()
local heights = {}
local g1 = svg:match('<g class="hist".-</g>')
for h in g1:gmatch('height="([%d%.]+)"') do heights[#heights + 1] = tonumber(h) end
check.eq(#heights, 2, "two bars")
check.near(heights[1] / heights[2], 3 / 2, 1e-3, "bar heights 3:2")
-- Density integrates to one: heights * widths.
local fd = plot.hist { values = { 0, 0.25, 0.5, 0.75, 1 }, bins = { 0, 0.5, 1 }, density = true }
check.near(fd.bars[1].counts, { 0.8, 1.2 }, 1e-12, "density values")
check.truthy(fd:svg():find(">density<", 1, true), "density label")

-- Misuse is an error naming the function.
check.errors(function() plot.line(5) end, "plot.line")
check.errors(function() plot.line { series = {} } end, "plot.line")
check.errors(function() plot.line { x = { 1, 2 }, y = { 1 } } end, "plot.line: series 1: x has 2 values and y 1")
check.errors(function() plot.line { y = { 1, "a" } } end, "plot.line")
check.errors(function() plot.line { y = { 1 }, std = { 1, 2 } } end, "plot.line")
check.errors(function() plot.line { y = { 1 }, style = "wavy" } end, "unknown style")
check.errors(function() plot.line { y = sslua.zeros(2, 2) } end, "1-d tensor")
check.errors(function() plot.hist { values = { 1 }, bins = 0 } end, "plot.hist")
check.errors(function() plot.hist { values = { 1 }, bins = { 1, 0 } } end, "plot.hist: bin edges")
check.errors(function() plot.hist { bins = 3 } end, "plot.hist")
check.errors(function() plot.spectrum { series = { {} } } end, "plot.spectrum")
check.errors(function() plot.line { y = { 1 }, width = 5 } end, "plot.line: width")
check.errors(function() plot.line { y = { 1 } }:save(tmpdir .. "/no/such/dir.svg") end, "figure:save")
check.errors(function() plot.line { y = { 1 } }:save(3) end, "figure:save")
local p = io.popen("ls -A " .. tmpdir); local listing = p:read("a"); p:close()
check.truthy(not listing:find("tmp"), "no temporary files left: " .. listing)
os.execute("rm -rf " .. tmpdir)
print("ok")

-- Integer x data (epochs) gets integer ticks only.
do
  local svg2 = plot.line { x = { 0, 1, 2 }, y = { 1, 2, 3 } }:svg()
  local vals = {}
  for v in svg2:match('<g class="xticks".-</g>'):gmatch('data%-value="([^"]+)"') do vals[#vals + 1] = v end
  check.eq(table.concat(vals, " "), "0 1 2", "integer ticks for epochs")
  local tk = plot.nice_ticks(0, 2, 7, true)
  check.eq(#tk, 3, "integer step is at least 1")
end
print("ok (integer ticks)")

-- The plot frame (the axes rectangle) and helpers to map data to pixels through the ticks.
local function frame(svg)
  local x, y, w, h = svg:match('<g class="axes"[^>]*>%s*<rect x="([%d%.]+)" y="([%d%.]+)" width="([%d%.]+)" height="([%d%.]+)"')
  x, y, w, h = tonumber(x), tonumber(y), tonumber(w), tonumber(h)
  return { x0 = x, y0 = y, x1 = x + w, y1 = y + h }
end
local function inside(fr, x, y, what)
  check.truthy(x > fr.x0 + 1 and x < fr.x1 - 1 and y > fr.y0 + 1 and y < fr.y1 - 1,
    string.format("%s (%.2f, %.2f) strictly inside the frame [%.2f, %.2f] x [%.2f, %.2f]", what, x, y, fr.x0, fr.x1, fr.y0, fr.y1))
end
local function markers(svg)
  local out = {}
  for cx, cy in svg:gmatch('<circle cx="([%d%.%-]+)" cy="([%d%.%-]+)"') do out[#out + 1] = { tonumber(cx), tonumber(cy) } end
  return out
end

-- y-ranges padded: markers at the data extremes (which fall on round ticks) are never on the frame.
do
  for _, case in ipairs {
    { name = "integer x and y", o = { x = { 0, 1, 2 }, y = { 1, 2, 3 }, marker = true } },
    { name = "data on round ticks", o = { x = { 0, 10, 20 }, y = { 0, 0.5, 1 }, marker = true } },
    { name = "negative", o = { x = { -5, 5 }, y = { -100, 100 }, marker = true } },
    { name = "constant", o = { y = { 2, 2, 2 }, marker = true } },
    { name = "log decades", o = { x = { 1, 2, 3 }, y = { 1, 10, 100 }, logy = true, marker = true } },
    { name = "error bars", o = { x = { 1, 2 }, y = { 0, 1 }, yerr = { 0.5, 0.5 }, marker = true } },
  } do
    local svg = plot.line(case.o):svg()
    local fr = frame(svg)
    local ms = markers(svg)
    check.eq(#ms, #case.o.y, case.name .. ": all markers drawn")
    for k, m in ipairs(ms) do inside(fr, m[1], m[2], case.name .. ": marker " .. k) end
    for x1, y1, x2, y2 in (svg:match('<g class="errorbar".-</g>') or ""):gmatch('x1="([%d%.%-]+)" y1="([%d%.%-]+)" x2="([%d%.%-]+)" y2="([%d%.%-]+)"') do
      inside(fr, tonumber(x1), tonumber(y1), case.name .. ": error bar end")
      inside(fr, tonumber(x2), tonumber(y2), case.name .. ": error bar end")
    end
  end
  -- The normalised spectrum's top value 1 = 10^0 sits on a decade: inside the frame too.
  local svg = plot.spectrum { values = { 4, 2, 1 }, normalize = true }:svg()
  local fr = frame(svg)
  local d = svg:match('<path class="series" d="([^"]+)"')
  for xx, yy in d:gmatch("[ML]([%d%.]+),([%d%.]+)") do inside(fr, tonumber(xx), tonumber(yy), "spectrum point") end
end

-- Integer data (ranks) get integer ticks only.
do
  for _, y in ipairs { { 3, 4, 5, 4 }, { 1, 2 }, { 7, 7, 7 }, { 0, 1, 1, 0 } } do
    local svg = plot.line { y = y, marker = true }:svg()
    local vals = {}
    for v in svg:match('<g class="yticks".-</g>'):gmatch('data%-value="([^"]+)"') do
      vals[#vals + 1] = v
      check.truthy(v:match("^%-?%d+$"), "integer tick label '" .. v .. "' for ranks " .. table.concat(y, ","))
    end
    check.truthy(#vals >= 2, "at least two y ticks for " .. table.concat(y, ","))
  end
  -- Histogram counts are integers too; densities are not forced.
  local svg = plot.hist { values = { 1, 2, 2, 3, 3, 3 }, bins = 3 }:svg()
  for v in svg:match('<g class="yticks".-</g>'):gmatch('data%-value="([^"]+)"') do
    check.truthy(v:match("^%-?%d+$"), "integer count tick '" .. v .. "'")
  end
  local fig = plot.line { y = { 0.1, 0.25 } }
  local frac = false
  for v in fig:svg():match('<g class="yticks".-</g>'):gmatch('data%-value="([^"]+)"') do if v:find(".", 1, true) then frac = true end end
  check.truthy(frac, "fractional data keeps fractional ticks")
end

-- Error bars (yerr): one vertical line per point from y - e to y + e, on the tick scale.
do
  local svg = plot.line { x = { 1, 2, 3 }, y = { 10, 20, 30 }, yerr = { 2, 0, 5 }, marker = true, xticks = { "small", "mid", "large" } }:svg()
  local yt = ticks(svg, "y")
  local function ypix(v)
    local a, b = yt[1], yt[#yt]
    return a.y + (b.y - a.y) * (v - tonumber(a.value)) / (tonumber(b.value) - tonumber(a.value))
  end
  local bars = {}
  for yv, e, y1, y2 in svg:gmatch('<line data%-y="([^"]+)" data%-err="([^"]+)" x1="[%d%.]+" y1="([%d%.]+)" x2="[%d%.]+" y2="([%d%.]+)"') do
    bars[#bars + 1] = { tonumber(yv), tonumber(e), tonumber(y1), tonumber(y2) }
  end
  check.eq(#bars, 2, "error bars for the nonzero errors")
  check.near({ bars[1][3], bars[1][4] }, { ypix(8), ypix(12) }, 0.02, "bar 1 spans 10 -+ 2")
  check.near({ bars[2][3], bars[2][4] }, { ypix(25), ypix(35) }, 0.02, "bar 2 spans 30 -+ 5")
  local labels = {}
  for v in svg:match('<g class="xticks".-</g>'):gmatch('data%-value="([^"]+)"') do labels[#labels + 1] = v end
  check.eq(table.concat(labels, " "), "small mid large", "categorical x ticks")
  check.errors(function() plot.line { y = { 1, 2 }, yerr = { 1 } } end, "plot.line: series 1: yerr has 1 values")
  check.errors(function() plot.line { y = { 1 }, yerr = { -1 } } end, "yerr[1] must be >= 0")
  check.errors(function() plot.line { y = { 1 }, yer = { 1 } } end, "did you mean 'yerr'")
end
print("ok (padding, integer ticks, outlines, error bars)")
