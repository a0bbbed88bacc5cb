-- Documentation of sslua.plot (SVG figures).
local FIG = { { "title", "string", nil, "" }, { "xlabel", "string", nil, "" }, { "ylabel", "string", nil, "" }, { "width", "number", nil, "pixels" }, { "height", "number", nil, "pixels" },
  { "logy", "boolean", "false", "log-scale y axis" }, { "legend", "string|boolean", nil, "legend position, or false" }, { "xlim", "table", nil, "{lo, hi}" }, { "ylim", "table", nil, "{lo, hi}" }, { "series", "table", nil, "a list of series tables (the series keys below, per series)" } }
local function with(extra)
  local o = {}
  for _, x in ipairs(extra) do o[#o + 1] = x end
  for _, x in ipairs(FIG) do o[#o + 1] = x end
  return o
end
return {
  { "sslua.plot", "sslua.plot", "SVG figures with axes, ticks, legend, log scale, mean +- std bands and error bars; each returns a Figure with `:save(path)` and `:svg()`. Axis ends the data reach are padded so that no marker sits on the frame (limits given with xlim/ylim are kept); integer data (epochs on x, ranks or counts on y) get integer ticks only." },
  { "sslua.plot.Figure", "plot.Figure", "The figure class: `fig:save(path)` writes the SVG, `fig:svg()` returns it as a string.", ex = "local svg = sslua.plot.line{y = {1, 3, 2}}:svg()" },
  { "sslua.plot.line", "plot.line{...}", "Line plot of one series (x, y, std, yerr) or of `series`; `yerr` draws an error bar of +- yerr[k] at each point, `xticks` labels the x positions 1, 2, ... with categories.",
    opts = with { { "x", "table|tensor", "1..#y", "" }, { "y", "table|tensor", nil, "values" }, { "std", "table|tensor", nil, "a +- std band" }, { "yerr", "table|tensor", nil, "error bars (>= 0), one per point" }, { "xticks", "table", nil, "category labels at x = 1, 2, ... (a figure option)" }, { "label", "string", nil, "" }, { "color", "string", nil, "" }, { "style", "string", nil, "" }, { "marker", "any", nil, "" } },
    ret = "a Figure", ex = "local fig = sslua.plot.line{x = {1, 2, 3}, y = {1, 4, 9}, yerr = {0.5, 1, 1.5}, marker = true, title = \"squares\"}" },
  { "sslua.plot.spectrum", "plot.spectrum{...}", "Singular-value spectra (values against index, log scale).",
    opts = with { { "values", "table|tensor", nil, "descending values" }, { "normalize", "boolean", nil, "divide by the largest" }, { "label", "string", nil, "" }, { "color", "string", nil, "" }, { "style", "string", nil, "" } },
    ret = "a Figure", ex = "local fig = sslua.plot.spectrum{values = sslua.linalg.svdvals(sslua.randn(20, 5))}" },
  { "sslua.plot.hist", "plot.hist{...}", "Histograms of one or more series on shared bins: one series as filled bars, several as step outlines (no fill) so that each reads where they overlap.",
    opts = with { { "values", "table|tensor", nil, "samples" }, { "bins", "integer", "20", "" }, { "range", "table", nil, "{lo, hi}" }, { "density", "boolean", nil, "normalise to a density" }, { "label", "string", nil, "" }, { "color", "string", nil, "" } },
    ret = "a Figure", ex = "local fig = sslua.plot.hist{values = sslua.randn(100), bins = 10}" },
  { "sslua.plot.nice_ticks", "plot.nice_ticks(lo, hi [, n [, integer]])", "About n round tick values covering [lo, hi] (integers only with integer = true).", ret = "a list of numbers", ex = "sslua.plot.nice_ticks(0, 1, 5)" },
  { "sslua.plot.log_ticks", "plot.log_ticks(lo, hi)", "Powers of ten covering [lo, hi] (lo > 0).", ret = "a list of numbers", ex = "sslua.plot.log_ticks(0.01, 100)" },
}
