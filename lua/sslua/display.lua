-- sslua.display: values as MIME bundles for notebooks (`sslua kernel`, docs/NOTEBOOKS.md).
--
--   sslua.display(x [, {id =, update =}])  shows x now, mid-cell: in a kernel a display_data
--                                          message (update_display_data with update = true and
--                                          the id of an earlier display); elsewhere prints
--                                          x's text/plain form
--   sslua.display.bundle(x)                the MIME bundle: text/plain always; image/svg+xml for
--                                          a figure (sslua.plot.*); text/html for a tensor

local display = {}

local function mt_name(x)
  local mt = getmetatable(x)
  if type(mt) == "string" then return mt end                 -- tensors hide their metatable
  if type(mt) == "table" then
    local n = rawget(mt, "__name")
    if type(n) == "string" then return n end
  end
  return nil
end

local function is_tensor(x) return type(x) == "userdata" and mt_name(x) == "sslua.Tensor" end

local function escape(s)
  return (tostring(s):gsub("[&<>\"]", { ["&"] = "&amp;", ["<"] = "&lt;", [">"] = "&gt;", ['"'] = "&quot;" }))
end

local function cell(v)
  if math.type(v) == "float" then return string.format("%.4g", v) end
  return tostring(v)
end

-- At most `max` entries of 1..n: all of them, or the first and last halves with a gap (0).
local function picks(n, max)
  local out = {}
  if n <= max then
    for i = 1, n do out[#out + 1] = i end
  else
    local h = max // 2
    for i = 1, h do out[#out + 1] = i end
    out[#out + 1] = 0
    for i = n - h + 1, n do out[#out + 1] = i end
  end
  return out
end

-- A compact HTML table of a tensor: 0-, 1- and 2-d (rows and columns elided past 16), the
-- size and type as a caption; higher dimensions show the first 2-d slice.
local function tensor_html(t)
  local sizes = {}
  for d = 1, t:dim() do sizes[d] = t:size(d) end
  local caption = string.format("%s tensor of size [%s]", t:dtype(), table.concat(sizes, "x"))
  if t:dim() == 0 then
    return string.format('<div class="sslua-tensor"><code>%s</code> <small>%s</small></div>', cell(t:item()), escape(caption))
  end
  local m = t
  while m:dim() > 2 do m = m:select(1, 1) end
  if m:dim() == 1 then m = m:view(1, m:size(1)) end
  if t:dim() > 2 then caption = caption .. " (first slice)" end
  local rows, cols = picks(m:size(1), 16), picks(m:size(2), 16)
  local out = { '<table class="sslua-tensor" style="font-family: monospace; font-size: 90%">',
    "<caption>" .. escape(caption) .. "</caption>" }
  for _, i in ipairs(rows) do
    local tds = {}
    local row = i > 0 and m:select(1, i):totable() or nil
    for _, j in ipairs(cols) do
      local v = (i == 0 or j == 0) and "&#8943;" or escape(cell(row[j]))
      tds[#tds + 1] = '<td style="text-align: right">' .. v .. "</td>"
    end
    out[#out + 1] = "<tr>" .. table.concat(tds) .. "</tr>"
  end
  out[#out + 1] = "</table>"
  return table.concat(out, "\n")
end

local function text(x)
  if type(x) == "table" then
    local mt = getmetatable(x)
    if type(mt) == "table" and rawget(mt, "__tostring") then return tostring(x) end   -- modules: the tree
  end
  local ok, s = pcall(require("sslua.help").repr, x)
  if ok and type(s) == "string" then return s end
  return tostring(x)
end

--- display.bundle(x) -> {["text/plain"] = ..., ["image/svg+xml"] = ..., ["text/html"] = ...}
function display.bundle(x)
  local b = { ["text/plain"] = text(x) }
  local name = mt_name(x)
  if type(x) == "table" and name == "sslua.plot.Figure" then
    b["text/plain"] = string.format("sslua.plot.Figure (%s, %sx%s)", tostring(x.kind), tostring(x.width), tostring(x.height))
    local ok, svg = pcall(x.svg, x)
    if ok and type(svg) == "string" then b["image/svg+xml"] = svg end
  elseif is_tensor(x) then
    local ok, html = pcall(tensor_html, x)
    if ok then b["text/html"] = html end
  end
  return b
end

local function show(x, opts)
  if opts ~= nil and type(opts) ~= "table" then
    error("sslua.display: options must be a table, got " .. type(opts), 3)
  end
  opts = require("sslua.util").check_options("sslua.display", opts, { id = "string", update = "boolean" }, 2)
  if opts.update and not opts.id then error("sslua.display: update = true needs an id", 3) end
  local b = display.bundle(x)
  local k = rawget(sslua, "_kernel")
  if k and k.display then
    local args = {}
    for mime, data in pairs(b) do args[#args + 1] = mime; args[#args + 1] = data end
    k.display(opts.id or false, opts.update == true, table.unpack(args))
  else
    print(b["text/plain"])
  end
end

return setmetatable(display, { __call = function(_, x, opts) return show(x, opts) end })
