-- sslua.plot: the paper's kinds of figures as clean standalone SVG, with no dependency.
--   plot.line{series = {{x=, y=, std=, label=, style=}, ...}, xlabel=, ylabel=, title=, logy=}
--   plot.hist{series = {{values=, label=}, ...}, bins=30, density=}
--   plot.spectrum{series = {{values=, label=}, ...}, normalize=}   -- log-scale y by index
-- Each returns a figure with :svg() and :save(path) (written atomically).
local plot = {}

local palette = { "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
  "#7f7f7f", "#bcbd22", "#17becf" }
local dashes = { solid = nil, dashed = "7,4", dotted = "2,3", dashdot = "7,3,2,3" }

local util = require "sslua.util"
local plot_fail = util.failer("sslua.plot.")
-- `level` counts from this function (3: the caller of the function that called fail).
local function fail(fn, msg, level) plot_fail(fn, msg, (level or 3) - 1) end

-- The options of each figure (util.check_options: an unknown key is an error).
local figure_spec = { title = "string", xlabel = "string", ylabel = "string", width = "any", height = "any",
  logy = "boolean", legend = "string|boolean", xlim = "table", ylim = "table", series = "table" }
local function spec_with(keys)
  local s = {}
  for k, v in pairs(figure_spec) do s[k] = v end
  for k, v in pairs(keys) do s[k] = v end
  return s
end
local series_keys = {
  line = { x = "any", y = "any", std = "any", yerr = "any", label = "string", color = "string", style = "string", marker = "any" },
  spectrum = { values = "any", label = "string", color = "string", style = "string" },
  hist = { values = "any", label = "string", color = "string" },
}
local figure_keys = {
  line = spec_with(series_keys.line),
  spectrum = spec_with(series_keys.spectrum),
  hist = spec_with(series_keys.hist),
}
figure_keys.spectrum.normalize = "boolean"
figure_keys.line.xticks = "table"        -- category labels at x = 1, 2, ...
figure_keys.spectrum.xlim = nil          -- not forwarded: the x axis is the index
for k, v in pairs { bins = "any", range = "table", density = "boolean" } do figure_keys.hist[k] = v end

local function esc(s)
  return (tostring(s):gsub("[&<>\"']", { ["&"] = "&amp;", ["<"] = "&lt;", [">"] = "&gt;", ['"'] = "&quot;", ["'"] = "&apos;" }))
end

-- Numbers from a Lua list or a 1-d tensor (anything with :totable()).
local function numbers(fn, v, what)
  if type(v) == "userdata" and v.totable then
    if v.dim and v:dim() ~= 1 then fail(fn, what .. " must be a 1-d tensor, got " .. v:dim() .. " dimensions", 4) end
    v = v:totable()
  end
  if type(v) ~= "table" then fail(fn, what .. " must be a list of numbers or a 1-d tensor, got " .. type(v), 4) end
  local out = {}
  for i = 1, #v do
    if type(v[i]) ~= "number" then fail(fn, what .. "[" .. i .. "] is not a number", 4) end
    out[i] = v[i]
  end
  return out
end

local function finite(v) return v == v and v ~= math.huge and v ~= -math.huge end

--- plot.nice_ticks(lo, hi [, n=6 [, integer]]) -> ticks, axis_lo, axis_hi, step: round tick values
--- covering [lo, hi]. The step is 1, 2 or 5 times a power of ten (at least 1 when `integer`), the
--- one whose tick count is closest to n (ties go to the finer step), and the axis runs from the
--- tick below lo to the tick above hi.
function plot.nice_ticks(lo, hi, n, integer)
  n = n or 6
  if type(lo) ~= "number" or type(hi) ~= "number" or type(n) ~= "number" then
    fail("nice_ticks", "expected numbers lo, hi [, n], got " .. type(lo) .. ", " .. type(hi) .. ", " .. type(n))
  end
  if not (finite(lo) and finite(hi)) then lo, hi = 0, 1 end
  if hi < lo then lo, hi = hi, lo end
  if hi == lo then
    local d = lo == 0 and 1 or math.abs(lo) * 0.1
    lo, hi = lo - d, hi + d
  end
  local e0 = math.floor(math.log(hi - lo, 10))
  local best, best_score
  for e = e0 - 2, e0 + 1 do
    for _, m in ipairs({ 1, 2, 5 }) do
      local step = m * 10.0 ^ e
      if integer and step < 1 then step = 1.0 end
      local count = math.ceil(hi / step - 1e-9) - math.floor(lo / step + 1e-9) + 1
      local score = math.abs(count - n)
      if best_score == nil or score < best_score then best, best_score = step, score end
    end
  end
  local step = best
  local k0, k1 = math.floor(lo / step + 1e-9), math.ceil(hi / step - 1e-9)
  local ticks = {}
  for k = k0, k1 do
    local v = k * step
    if math.abs(v) < step * 1e-9 then v = 0.0 end
    ticks[#ticks + 1] = v
  end
  return ticks, k0 * step, k1 * step, step
end

--- plot.log_ticks(lo, hi) -> decade exponents covering [lo, hi] (lo > 0), axis exponents.
function plot.log_ticks(lo, hi)
  if not (type(lo) == "number" and type(hi) == "number" and finite(lo) and finite(hi) and lo > 0 and hi > 0) then
    fail("log_ticks", "lo and hi must be finite positive numbers, got " .. tostring(lo) .. " and " .. tostring(hi))
  end
  local a = math.floor(math.log(lo, 10) + 1e-9)
  local b = math.ceil(math.log(hi, 10) - 1e-9)
  if b <= a then b = a + 1 end
  local every = math.max(1, math.ceil((b - a) / 8))
  local ticks = {}
  for k = a, b do if (k - a) % every == 0 then ticks[#ticks + 1] = k end end
  return ticks, a, b, every
end

local function tick_label(v, step)
  if v == 0 then return "0" end
  local av = math.abs(v)
  if av >= 1e5 or av < 1e-3 then
    local s = string.format("%.3g", v)
    return (s:gsub("e%+?(%-?)0*(%d)", "e%1%2"))
  end
  local decimals = math.max(0, -math.floor(math.log(step, 10) + 1e-9))
  return string.format("%." .. decimals .. "f", v)
end

local function num(v) return string.format("%.2f", v) end

local Figure = util.class("sslua.plot.Figure")

local function new_figure(fn, o)
  if type(o) ~= "table" then fail(fn, "expected a table of options", 3) end
  util.check_options("sslua.plot." .. fn, o, figure_keys[fn], 2)
  local fig = setmetatable({
    kind = fn, title = o.title, xlabel = o.xlabel, ylabel = o.ylabel,
    width = o.width or 640, height = o.height or 420, logy = o.logy == true,
    legend = o.legend == nil and "auto" or o.legend, xlim = o.xlim, ylim = o.ylim,
    series = {}, bars = {}, xticks = o.xticks,
  }, Figure)
  if type(fig.width) ~= "number" or type(fig.height) ~= "number" or fig.width < 100 or fig.height < 100 then
    fail(fn, "width and height must be numbers >= 100", 3)
  end
  return fig
end

-- The series list: `series = {...}` or one series given at the top level.
local function series_list(fn, o, keys)
  local list = o.series
  if list == nil then
    local one = {}
    for _, k in ipairs(keys) do one[k] = o[k] end
    list = { one }
  end
  if type(list) ~= "table" or #list == 0 then fail(fn, "expected 'series', a non-empty list of series", 3) end
  for i, s in ipairs(list) do
    if type(s) ~= "table" then fail(fn, "series " .. i .. " must be a table", 3) end
    if o.series ~= nil then util.check_options("sslua.plot." .. fn .. ": series " .. i, s, series_keys[fn], 2) end
    if s.style ~= nil and not (s.style == "solid" or dashes[s.style]) then
      fail(fn, "series " .. i .. ": unknown style '" .. tostring(s.style) .. "' (solid, dashed, dotted, dashdot)", 3)
    end
  end
  return list
end

--- plot.line{series = {{x=, y=, std=, label=, color=, style=, marker=}}, title=, xlabel=, ylabel=,
---   logy=false, xlim=, ylim=, legend="auto"|"top-right"|"top-left"|"bottom-right"|"bottom-left"|false}
--- ("auto" puts the legend in the corner that hides the fewest data points).
function plot.line(o)
  local fig = new_figure("line", o)
  if o.xticks ~= nil then
    for k, v in ipairs(o.xticks) do
      if type(v) ~= "string" and type(v) ~= "number" then fail("line", "xticks[" .. k .. "] must be a string or a number", 2) end
    end
  end
  for i, s in ipairs(series_list("line", o, { "x", "y", "std", "yerr", "label", "color", "style", "marker" })) do
    if s.y == nil then fail("line", "series " .. i .. " has no 'y'", 2) end
    local y = numbers("line", s.y, "series " .. i .. " y")
    local x
    if s.x ~= nil then x = numbers("line", s.x, "series " .. i .. " x")
    else x = {}; for k = 1, #y do x[k] = k end end
    if #x ~= #y then fail("line", "series " .. i .. ": x has " .. #x .. " values and y " .. #y, 2) end
    local std
    if s.std ~= nil then
      std = numbers("line", s.std, "series " .. i .. " std")
      if #std ~= #y then fail("line", "series " .. i .. ": std has " .. #std .. " values and y " .. #y, 2) end
    end
    local yerr
    if s.yerr ~= nil then
      yerr = numbers("line", s.yerr, "series " .. i .. " yerr")
      if #yerr ~= #y then fail("line", "series " .. i .. ": yerr has " .. #yerr .. " values and y " .. #y, 2) end
      for k = 1, #yerr do
        if not (yerr[k] >= 0) then fail("line", "series " .. i .. ": yerr[" .. k .. "] must be >= 0", 2) end
      end
    end
    fig.series[#fig.series + 1] = { x = x, y = y, std = std, yerr = yerr, label = s.label, color = s.color or palette[(i - 1) % #palette + 1],
      style = s.style, marker = s.marker }
  end
  return fig
end

--- plot.spectrum{series = {{values=, label=, style=}}, normalize=false, ...}: singular values
--- sorted descending against their index, on a log-scale y axis.
function plot.spectrum(o)
  if type(o) ~= "table" then fail("spectrum", "expected a table of options", 2) end
  util.check_options("sslua.plot.spectrum", o, figure_keys.spectrum)
  local list = series_list("spectrum", o, { "values", "label", "color", "style" })
  local conv = {}
  for i, s in ipairs(list) do
    if s.values == nil then fail("spectrum", "series " .. i .. " has no 'values'", 2) end
    local v = numbers("spectrum", s.values, "series " .. i .. " values")
    table.sort(v, function(a, b) return a > b end)
    if o.normalize and v[1] and v[1] > 0 then
      local top = v[1]
      for k = 1, #v do v[k] = v[k] / top end
    end
    conv[i] = { y = v, label = s.label, color = s.color, style = s.style }
  end
  local fig = plot.line { series = conv, title = o.title, xlabel = o.xlabel or "index",
    ylabel = o.ylabel or (o.normalize and "singular value / largest" or "singular value"),
    logy = o.logy ~= false, width = o.width, height = o.height, legend = o.legend, ylim = o.ylim }
  fig.kind = "spectrum"
  return fig
end

--- plot.hist{series = {{values=, label=, color=}}, bins=30 | {edges...}, range={lo, hi},
---   density=false, ...}: histograms on shared bins, overlaid with transparency.
function plot.hist(o)
  local fig = new_figure("hist", o)
  local list = series_list("hist", o, { "values", "label", "color" })
  local all = {}
  for i, s in ipairs(list) do
    if s.values == nil then fail("hist", "series " .. i .. " has no 'values'", 2) end
    all[i] = numbers("hist", s.values, "series " .. i .. " values")
  end
  local bins = o.bins or 30
  local edges
  if type(bins) == "table" then
    edges = numbers("hist", bins, "bins")
    if #edges < 2 then fail("hist", "bins as edges needs at least 2 values", 2) end
    for k = 2, #edges do if not (edges[k] > edges[k - 1]) then fail("hist", "bin edges must increase", 2) end end
  else
    if math.type(bins) ~= "integer" or bins < 1 then fail("hist", "bins must be a positive integer or a list of edges", 2) end
    local lo, hi
    if o.range then
      local r = numbers("hist", o.range, "range")
      lo, hi = r[1], r[2]
      if not (lo and hi and hi > lo) then fail("hist", "range must be {lo, hi} with lo < hi", 2) end
    else
      for _, v in ipairs(all) do
        for _, x in ipairs(v) do
          if finite(x) then
            if lo == nil or x < lo then lo = x end
            if hi == nil or x > hi then hi = x end
          end
        end
      end
      lo, hi = lo or 0, hi or 1
      if hi == lo then lo, hi = lo - 0.5, hi + 0.5 end
    end
    edges = {}
    for k = 0, bins do edges[k + 1] = lo + (hi - lo) * k / bins end
  end
  local nb = #edges - 1
  for i, v in ipairs(all) do
    local counts = {}
    for k = 1, nb do counts[k] = 0 end
    local n = 0
    for _, x in ipairs(v) do
      if finite(x) and x >= edges[1] and x <= edges[#edges] then
        -- Binary search for the bin; the last bin is closed on the right (as numpy.histogram).
        local a, b = 1, nb
        while a < b do
          local m = (a + b + 1) // 2
          if x >= edges[m] then a = m else b = m - 1 end
        end
        counts[a] = counts[a] + 1
        n = n + 1
      end
    end
    if o.density and n > 0 then
      for k = 1, nb do counts[k] = counts[k] / (n * (edges[k + 1] - edges[k])) end
    end
    local s = list[i]
    fig.bars[#fig.bars + 1] = { edges = edges, counts = counts, label = s.label,
      color = s.color or palette[(i - 1) % #palette + 1] }
  end
  fig.ylabel = fig.ylabel or (o.density and "density" or "count")
  fig.edges = edges
  fig.density = o.density == true
  return fig
end

-- Data ranges of a figure, before ticks.
local function data_range(fig)
  local xlo, xhi, ylo, yhi = math.huge, -math.huge, math.huge, -math.huge
  local function addx(v) if finite(v) then xlo = math.min(xlo, v); xhi = math.max(xhi, v) end end
  local function addy(v)
    if finite(v) and (not fig.logy or v > 0) then ylo = math.min(ylo, v); yhi = math.max(yhi, v) end
  end
  for _, s in ipairs(fig.series) do
    for k = 1, #s.x do
      if finite(s.y[k]) then
        addx(s.x[k]); addy(s.y[k])
        if s.std then addy(s.y[k] + s.std[k]); addy(s.y[k] - s.std[k]) end
        if s.yerr then addy(s.y[k] + s.yerr[k]); addy(s.y[k] - s.yerr[k]) end
      end
    end
  end
  for _, b in ipairs(fig.bars) do
    addx(b.edges[1]); addx(b.edges[#b.edges])
    addy(0)
    for _, c in ipairs(b.counts) do addy(c) end
  end
  if xlo > xhi then xlo, xhi = 0, 1 end
  if ylo > yhi then if fig.logy then ylo, yhi = 0.1, 1 else ylo, yhi = 0, 1 end end
  if fig.xlim then xlo, xhi = fig.xlim[1], fig.xlim[2] end
  if fig.ylim then ylo, yhi = fig.ylim[1], fig.ylim[2] end
  return xlo, xhi, ylo, yhi
end

--- fig:svg() -> the SVG document as a string.
function Figure:svg()
  local W, H = self.width, self.height
  local ml, mr, mt, mb = 72, 24, self.title and 40 or 18, self.xlabel and 56 or 36
  local pw, ph = W - ml - mr, H - mt - mb
  local xlo, xhi, ylo, yhi = data_range(self)
  -- Integer x data (epochs, indices, counts) gets integer ticks; so does integer y data (ranks,
  -- counts) on a linear axis.
  local integer_x = #self.series > 0
  for _, s in ipairs(self.series) do
    for _, v in ipairs(s.x) do if finite(v) and v ~= math.floor(v) then integer_x = false end end
  end
  local integer_y = #self.series > 0 or (#self.bars > 0 and not self.density)
  for _, s in ipairs(self.series) do
    for _, v in ipairs(s.y) do if finite(v) and v ~= math.floor(v) then integer_y = false end end
  end
  for _, b in ipairs(self.bars) do
    for _, v in ipairs(b.counts) do if v ~= math.floor(v) then integer_y = false end end
  end
  local xt, xa, xb, xstep, xlabels
  if self.xticks then
    xt, xlabels, xstep = {}, {}, 1
    for k, v in ipairs(self.xticks) do xt[k] = k; xlabels[k] = tostring(v) end
    xa, xb = 0.5, math.max(#xt, xhi) + 0.5
  else
    xt, xa, xb, xstep = plot.nice_ticks(xlo, xhi, 7, integer_x)
    if self.xlim then xa, xb = xlo, xhi end
  end
  local yt, ya, yb, ystep, ylabels
  if self.logy then
    if ylo <= 0 then fail("svg", "log-scale y needs positive limits", 2) end
    local exps, a, b = plot.log_ticks(ylo, yhi)
    ya, yb = a, b
    if self.ylim then ya, yb = math.log(ylo, 10), math.log(yhi, 10) end
    yt, ylabels = {}, {}
    for _, k in ipairs(exps) do
      if k >= ya - 1e-9 and k <= yb + 1e-9 then yt[#yt + 1] = 10.0 ^ k; ylabels[#ylabels + 1] = k end
    end
  else
    yt, ya, yb, ystep = plot.nice_ticks(ylo, yhi, 6, integer_y)
    if self.ylim then
      ya, yb = ylo, yhi
      local kept = {}
      for _, v in ipairs(yt) do if v >= ya - 1e-12 and v <= yb + 1e-12 then kept[#kept + 1] = v end end
      yt = kept
    end
  end
  -- Markers are never on the frame: an axis end that the data reach (within 2% of the span)
  -- moves out by 4% of the span (no new tick). Limits given with xlim/ylim stay; a histogram's
  -- baseline and bin edges stay on the frame.
  local function pad(a, b, lo, hi, keep_lo)
    local span = b - a
    if not (span > 0) then return a, b end
    if not keep_lo and lo - a < 0.02 * span then a = a - 0.04 * span end
    if b - hi < 0.02 * span then b = b + 0.04 * span end
    return a, b
  end
  local has_series = #self.series > 0
  if has_series and not self.xlim and not self.xticks then xa, xb = pad(xa, xb, xlo, xhi) end
  if not self.ylim then
    if self.logy then ya, yb = pad(ya, yb, math.log(ylo, 10), math.log(yhi, 10), not has_series)
    else ya, yb = pad(ya, yb, ylo, yhi, not has_series and ylo >= 0) end
  end
  local function px(x) return ml + (x - xa) / (xb - xa) * pw end
  local function py(y)
    if self.logy then
      if not (y > 0) then return mt + ph + 1e3 end
      return mt + ph - (math.log(y, 10) - ya) / (yb - ya) * ph
    end
    return mt + ph - (y - ya) / (yb - ya) * ph
  end
  local out = {}
  local function w(...) for i = 1, select("#", ...) do out[#out + 1] = select(i, ...) end end
  w('<?xml version="1.0" encoding="UTF-8"?>\n')
  w(string.format('<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="Helvetica, Arial, sans-serif" font-size="12">\n', W, H, W, H))
  w(string.format('<rect width="%d" height="%d" fill="white"/>\n', W, H))
  w(string.format('<defs><clipPath id="plotarea"><rect x="%s" y="%s" width="%s" height="%s"/></clipPath></defs>\n', num(ml), num(mt), num(pw), num(ph)))
  -- Grid and ticks.
  w('<g class="grid" stroke="#e5e5e5" stroke-width="1">\n')
  for _, v in ipairs(xt) do if v >= xa - 1e-12 and v <= xb + 1e-12 then
    w(string.format('<line x1="%s" y1="%s" x2="%s" y2="%s"/>\n', num(px(v)), num(mt), num(px(v)), num(mt + ph))) end end
  for _, v in ipairs(yt) do
    w(string.format('<line x1="%s" y1="%s" x2="%s" y2="%s"/>\n', num(ml), num(py(v)), num(ml + pw), num(py(v)))) end
  w('</g>\n')
  if self.logy then
    -- Minor ticks at 2..9 times each decade when the decades are few.
    if yb - ya <= 6 then
      w('<g class="minor-ticks" stroke="#444" stroke-width="0.8">\n')
      for k = math.floor(ya), math.ceil(yb) - 1 do
        for m = 2, 9 do
          local e = k + math.log(m, 10)
          if e >= ya and e <= yb then
            local y = py(m * 10.0 ^ k)
            w(string.format('<line x1="%s" y1="%s" x2="%s" y2="%s"/>\n', num(ml - 3), num(y), num(ml), num(y)))
          end
        end
      end
      w('</g>\n')
    end
  end
  w('<g class="axes" stroke="#222" stroke-width="1.2" fill="none">\n')
  w(string.format('<rect x="%s" y="%s" width="%s" height="%s"/>\n', num(ml), num(mt), num(pw), num(ph)))
  w('</g>\n')
  w('<g class="xticks" fill="#222" text-anchor="middle">\n')
  for _, v in ipairs(xt) do if v >= xa - 1e-12 and v <= xb + 1e-12 then
    local x = num(px(v))
    local label = xlabels and xlabels[v] or tick_label(v, xstep)
    w(string.format('<line class="tick" data-value="%s" x1="%s" y1="%s" x2="%s" y2="%s" stroke="#222"/>\n', esc(label), x, num(mt + ph), x, num(mt + ph + 5)))
    w(string.format('<text x="%s" y="%s">%s</text>\n', x, num(mt + ph + 18), esc(label)))
  end end
  w('</g>\n')
  w('<g class="yticks" fill="#222" text-anchor="end">\n')
  for i, v in ipairs(yt) do
    local y = num(py(v))
    local label = self.logy and ("1e" .. ylabels[i]) or tick_label(v, ystep)
    w(string.format('<line class="tick" data-value="%s" x1="%s" y1="%s" x2="%s" y2="%s" stroke="#222"/>\n', label, num(ml - 5), y, num(ml), y))
    if self.logy then
      w(string.format('<text x="%s" y="%s">10<tspan dy="-6" font-size="9">%d</tspan></text>\n', num(ml - 8), num(py(v) + 4), ylabels[i]))
    else
      w(string.format('<text x="%s" y="%s">%s</text>\n', num(ml - 8), num(py(v) + 4), esc(label)))
    end
  end
  w('</g>\n')
  -- Data.
  w('<g class="data" clip-path="url(#plotarea)">\n')
  -- One histogram: filled bars. Several: each an outline (a step path, no fill), so that
  -- every one reads where they overlap.
  local outline = #self.bars > 1
  for _, b in ipairs(self.bars) do
    if outline then
      local d = {}
      local y0 = num(py(0))
      d[1] = "M" .. num(px(b.edges[1])) .. "," .. y0
      for k = 1, #b.counts do
        local yk = num(py(b.counts[k]))
        d[#d + 1] = "L" .. num(px(b.edges[k])) .. "," .. yk
        d[#d + 1] = "L" .. num(px(b.edges[k + 1])) .. "," .. yk
      end
      d[#d + 1] = "L" .. num(px(b.edges[#b.edges])) .. "," .. y0
      w(string.format('<g class="hist" fill="none" stroke="%s" stroke-width="1.8">\n', esc(b.color)))
      w(string.format('<path class="outline" d="%s" stroke-linejoin="miter"/>\n', table.concat(d, " ")))
    else
      w(string.format('<g class="hist" fill="%s" fill-opacity="0.45" stroke="%s" stroke-width="0.8">\n', esc(b.color), esc(b.color)))
      for k = 1, #b.counts do
        local x0, x1 = px(b.edges[k]), px(b.edges[k + 1])
        local y0, y1 = py(0), py(b.counts[k])
        if b.counts[k] > 0 then
          w(string.format('<rect x="%s" y="%s" width="%s" height="%s"/>\n', num(x0), num(y1), num(math.max(0, x1 - x0)), num(math.max(0, y0 - y1))))
        end
      end
    end
    w('</g>\n')
  end
  for _, s in ipairs(self.series) do
    local col = esc(s.color)
    if s.std then
      local up, down = {}, {}
      for k = 1, #s.x do
        if finite(s.y[k]) and finite(s.std[k]) then
          local lo = s.y[k] - s.std[k]
          if self.logy and lo <= 0 then lo = 10.0 ^ ya end
          up[#up + 1] = num(px(s.x[k])) .. "," .. num(py(s.y[k] + s.std[k]))
          table.insert(down, 1, num(px(s.x[k])) .. "," .. num(py(lo)))
        end
      end
      if #up > 0 then
        w(string.format('<polygon class="band" points="%s %s" fill="%s" fill-opacity="0.2" stroke="none"/>\n',
          table.concat(up, " "), table.concat(down, " "), col))
      end
    end
    -- A path with breaks at non-finite (or, on log axes, non-positive) values.
    local d, pen = {}, false
    for k = 1, #s.x do
      local y = s.y[k]
      if finite(y) and finite(s.x[k]) and (not self.logy or y > 0) then
        d[#d + 1] = (pen and "L" or "M") .. num(px(s.x[k])) .. "," .. num(py(y))
        pen = true
      else
        pen = false
      end
    end
    local dash = s.style and dashes[s.style]
    w(string.format('<path class="series" d="%s" fill="none" stroke="%s" stroke-width="1.8"%s stroke-linejoin="round"/>\n',
      table.concat(d, " "), col, dash and (' stroke-dasharray="' .. dash .. '"') or ""))
    if s.yerr then
      w(string.format('<g class="errorbar" stroke="%s" stroke-width="1.3">\n', col))
      for k = 1, #s.x do
        local e = s.yerr[k]
        if finite(s.y[k]) and finite(s.x[k]) and finite(e) and e > 0 then
          local lo = s.y[k] - e
          if self.logy and lo <= 0 then lo = 10.0 ^ ya end
          local x, y1, y2 = px(s.x[k]), py(lo), py(s.y[k] + e)
          w(string.format('<line data-y="%s" data-err="%s" x1="%s" y1="%s" x2="%s" y2="%s"/>\n', tostring(s.y[k]), tostring(e), num(x), num(y1), num(x), num(y2)))
          w(string.format('<line x1="%s" y1="%s" x2="%s" y2="%s"/>\n', num(x - 4), num(y1), num(x + 4), num(y1)))
          w(string.format('<line x1="%s" y1="%s" x2="%s" y2="%s"/>\n', num(x - 4), num(y2), num(x + 4), num(y2)))
        end
      end
      w('</g>\n')
    end
    if s.marker then
      for k = 1, #s.x do
        if finite(s.y[k]) and (not self.logy or s.y[k] > 0) then
          w(string.format('<circle cx="%s" cy="%s" r="2.8" fill="%s"/>\n', num(px(s.x[k])), num(py(s.y[k])), col))
        end
      end
    end
  end
  w('</g>\n')
  -- Labels.
  if self.title then
    w(string.format('<text class="title" x="%s" y="24" text-anchor="middle" font-size="15" font-weight="bold">%s</text>\n', num(ml + pw / 2), esc(self.title)))
  end
  if self.xlabel then
    w(string.format('<text class="xlabel" x="%s" y="%s" text-anchor="middle" font-size="13">%s</text>\n', num(ml + pw / 2), num(H - 14), esc(self.xlabel)))
  end
  if self.ylabel then
    w(string.format('<text class="ylabel" x="16" y="%s" text-anchor="middle" font-size="13" transform="rotate(-90 16 %s)">%s</text>\n',
      num(mt + ph / 2), num(mt + ph / 2), esc(self.ylabel)))
  end
  -- Legend.
  local entries = {}
  for _, s in ipairs(self.series) do if s.label then entries[#entries + 1] = s end end
  for _, b in ipairs(self.bars) do if b.label then entries[#entries + 1] = { label = b.label, color = b.color, box = true, outline = outline } end end
  if self.legend and #entries > 0 then
    local lw = 0
    for _, e in ipairs(entries) do lw = math.max(lw, #tostring(e.label)) end
    local bw, bh = 36 + lw * 6.8 + 10, 8 + 18 * #entries
    local function place(pos)
      local bx = (pos == "top-left" or pos == "bottom-left") and ml + 10 or ml + pw - bw - 10
      local by = (pos == "bottom-left" or pos == "bottom-right") and mt + ph - bh - 10 or mt + 10
      return bx, by
    end
    local pos = self.legend
    if pos == "auto" then
      -- The corner whose box covers the fewest data points (bars count by their tops).
      local best, best_hits
      for _, cand in ipairs({ "top-right", "top-left", "bottom-right", "bottom-left" }) do
        local bx, by = place(cand)
        local hits = 0
        local function hit(x, y) if x >= bx - 4 and x <= bx + bw + 4 and y >= by - 4 and y <= by + bh + 4 then hits = hits + 1 end end
        for _, s in ipairs(self.series) do
          for k = 1, #s.x do
            if finite(s.y[k]) and finite(s.x[k]) then
              hit(px(s.x[k]), py(s.y[k]))
              if k > 1 and finite(s.y[k - 1]) then hit((px(s.x[k]) + px(s.x[k - 1])) / 2, (py(s.y[k]) + py(s.y[k - 1])) / 2) end
            end
          end
        end
        for _, b in ipairs(self.bars) do
          for k = 1, #b.counts do
            local y = py(b.counts[k])
            for x = px(b.edges[k]), px(b.edges[k + 1]), 4 do
              if x >= bx - 4 and x <= bx + bw + 4 and by + bh >= y then hits = hits + 1 end
            end
          end
        end
        if best_hits == nil or hits < best_hits then best, best_hits = cand, hits end
      end
      pos = best
    end
    local bx, by = place(pos)
    w('<g class="legend">\n')
    w(string.format('<rect x="%s" y="%s" width="%s" height="%s" fill="white" fill-opacity="0.85" stroke="#bbb"/>\n', num(bx), num(by), num(bw), num(bh)))
    for i, e in ipairs(entries) do
      local y = by + 4 + 18 * (i - 1) + 9
      if e.box then
        w(string.format('<rect x="%s" y="%s" width="22" height="10" fill="%s" fill-opacity="%s" stroke="%s"%s/>\n', num(bx + 8), num(y - 5),
          e.outline and "none" or esc(e.color), e.outline and "1" or "0.45", esc(e.color), e.outline and ' stroke-width="1.8"' or ""))
      else
        local dash = e.style and dashes[e.style]
        w(string.format('<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="%s" stroke-width="2"%s/>\n', num(bx + 8), num(y), num(bx + 30), num(y), esc(e.color),
          dash and (' stroke-dasharray="' .. dash .. '"') or ""))
      end
      w(string.format('<text x="%s" y="%s">%s</text>\n', num(bx + 36), num(y + 4), esc(e.label)))
    end
    w('</g>\n')
  end
  w('</svg>\n')
  return table.concat(out)
end

--- fig:save(path): writes the SVG atomically (temporary file, then rename). Returns path.
function Figure:save(path)
  if type(path) ~= "string" or path == "" then error("figure:save: expected a file path", 2) end
  local ok, svg = pcall(self.svg, self)
  if not ok then error("figure:save: " .. tostring(svg), 2) end
  local wok, err = pcall(require("sslua.experiment").write_atomic, path, svg)
  if not wok then error("figure:save: " .. tostring(err), 2) end
  return path
end

plot.Figure = Figure
return plot
