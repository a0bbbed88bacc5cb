-- Minimal JSON for run records (config.json, sweep summaries): `encode` writes objects with
-- sorted keys so that two runs' configs diff cleanly; `decode` reads them back.
local json = {}

--- json.null: the sentinel for JSON null (decode returns it; encode writes it as null).
json.null = setmetatable({}, { __tostring = function() return "null" end })

local escapes = { ['"'] = '\\"', ['\\'] = '\\\\', ['\b'] = '\\b', ['\f'] = '\\f',
  ['\n'] = '\\n', ['\r'] = '\\r', ['\t'] = '\\t' }

local function encode_string(s)
  return '"' .. s:gsub('[%c"\\]', function(c)
    return escapes[c] or string.format("\\u%04x", c:byte())
  end) .. '"'
end

-- A table is an array when its keys are exactly 1..n (an empty table is an empty array).
local function is_array(t)
  local n = 0
  for k in pairs(t) do
    if math.type(k) ~= "integer" or k < 1 then return false end
    n = n + 1
  end
  for i = 1, n do if t[i] == nil then return false end end
  return true
end

local function encode(v, indent, depth, seen)
  local tv = type(v)
  if v == nil or v == json.null then return "null"
  elseif tv == "boolean" then return tostring(v)
  elseif tv == "number" then
    if v ~= v or v == math.huge or v == -math.huge then return "null" end
    if math.type(v) == "integer" then return tostring(v) end
    if v == math.floor(v) and math.abs(v) < 2^53 then return string.format("%.1f", v) end
    -- The shortest of 15, 16 or 17 significant digits that reads back as the same double.
    for digits = 15, 16 do
      local str = string.format("%." .. digits .. "g", v)
      if tonumber(str) == v then return str end
    end
    return string.format("%.17g", v)
  elseif tv == "string" then return encode_string(v)
  elseif tv == "table" then
    if seen[v] then error("sslua.json.encode: cycle in table", 0) end
    if depth > 64 then error("sslua.json.encode: table nested too deeply", 0) end
    seen[v] = true
    local pad, pad1, sep = "", "", ","
    if indent then
      pad = "\n" .. string.rep(indent, depth)
      pad1 = "\n" .. string.rep(indent, depth + 1)
    end
    local parts = {}
    local out
    if is_array(v) then
      if #v == 0 then seen[v] = nil; return "[]" end
      local flat = true
      for i = 1, #v do
        parts[i] = encode(v[i], indent, depth + 1, seen)
        if type(v[i]) == "table" and v[i] ~= json.null then flat = false end
      end
      if flat then
        out = "[" .. table.concat(parts, indent and ", " or ",") .. "]"
      else
        out = "[" .. pad1 .. table.concat(parts, sep .. pad1) .. pad .. "]"
      end
    else
      local keys = {}
      for k in pairs(v) do
        local tk = type(k)
        if tk ~= "string" and tk ~= "number" then
          error("sslua.json.encode: object keys must be strings or numbers, got " .. tk, 0)
        end
        keys[#keys + 1] = k
      end
      table.sort(keys, function(a, b) return tostring(a) < tostring(b) end)
      for i, k in ipairs(keys) do
        parts[i] = encode_string(tostring(k)) .. (indent and ": " or ":") .. encode(v[k], indent, depth + 1, seen)
      end
      out = "{" .. pad1 .. table.concat(parts, sep .. pad1) .. pad .. "}"
    end
    seen[v] = nil
    return out
  elseif tv == "userdata" and v.totable then
    return encode(v:totable(), indent, depth, seen)
  end
  error("sslua.json.encode: cannot encode a " .. tv, 0)
end

--- json.encode(value [, {indent = "  "}]) -> string. NaN and infinities become null.
function json.encode(v, opts)
  if opts ~= nil and type(opts) ~= "table" then error("sslua.json.encode: options must be a table", 2) end
  require("sslua.util").check_options("sslua.json.encode", opts, { indent = "string" })
  local ok, res = pcall(encode, v, opts and opts.indent, 0, {})
  if not ok then error(res, 2) end
  return res
end

--- json.decode(text) -> value; JSON null becomes json.null (a unique sentinel).

function json.decode(s)
  if type(s) ~= "string" then error("sslua.json.decode: expected a string, got " .. type(s), 2) end
  local pos = 1
  local function fail(msg) error(string.format("sslua.json.decode: %s at position %d", msg, pos), 0) end
  local function ws() pos = s:find("[^ \t\r\n]", pos) or #s + 1 end
  local value
  -- The entries of an object or array, from its opening character to `close`, each read into
  -- the new table by item(t).
  local function items(close, item)
    pos = pos + 1
    local t = {}
    ws()
    if s:sub(pos, pos) == close then pos = pos + 1; return t end
    while true do
      item(t)
      ws()
      local d = s:sub(pos, pos)
      pos = pos + 1
      if d == close then return t end
      if d ~= "," then pos = pos - 1; fail("expected ',' or '" .. close .. "'") end
    end
  end
  local function str()
    pos = pos + 1
    local buf = {}
    while true do
      local c = s:sub(pos, pos)
      if c == "" then fail("unterminated string") end
      if c == '"' then pos = pos + 1; break end
      if c == "\\" then
        local e = s:sub(pos + 1, pos + 1)
        local map = { b = "\b", f = "\f", n = "\n", r = "\r", t = "\t", ['"'] = '"', ["\\"] = "\\", ["/"] = "/" }
        if map[e] then buf[#buf + 1] = map[e]; pos = pos + 2
        elseif e == "u" then
          local hex = s:sub(pos + 2, pos + 5)
          if not hex:match("^%x%x%x%x$") then fail("bad \\u escape") end
          local cp = tonumber(hex, 16)
          pos = pos + 6
          if cp >= 0xD800 and cp <= 0xDBFF and s:sub(pos, pos + 1) == "\\u" then
            local lo = tonumber(s:sub(pos + 2, pos + 5), 16)
            if lo and lo >= 0xDC00 and lo <= 0xDFFF then
              cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00)
              pos = pos + 6
            end
          end
          buf[#buf + 1] = utf8.char(cp)
        else fail("bad escape") end
      elseif c:byte() < 32 then fail("control character in string")
      else
        local j = s:find('["\\%c]', pos) or #s + 1
        buf[#buf + 1] = s:sub(pos, j - 1)
        pos = j
      end
    end
    return table.concat(buf)
  end
  function value(depth)
    if depth > 200 then fail("nested too deeply") end
    ws()
    local c = s:sub(pos, pos)
    if c == "{" then
      return items("}", function(t)
        ws()
        if s:sub(pos, pos) ~= '"' then fail("expected a string key") end
        local k = str()
        ws()
        if s:sub(pos, pos) ~= ":" then fail("expected ':'") end
        pos = pos + 1
        t[k] = value(depth + 1)
      end)
    elseif c == "[" then
      return items("]", function(t) t[#t + 1] = value(depth + 1) end)
    elseif c == '"' then return str()
    elseif s:sub(pos, pos + 3) == "true" then pos = pos + 4; return true
    elseif s:sub(pos, pos + 4) == "false" then pos = pos + 5; return false
    elseif s:sub(pos, pos + 3) == "null" then pos = pos + 4; return json.null
    else
      local num = s:match("^-?%d+%.?%d*[eE]?[-+]?%d*", pos)
      if not num or num == "" or num == "-" then fail("unexpected character '" .. c .. "'") end
      if not num:match("^-?%d+$") and not num:match("^-?%d+%.%d+$") and not num:match("^-?%d+%.?%d*[eE][-+]?%d+$") then
        fail("malformed number '" .. num .. "'")
      end
      pos = pos + #num
      if num:find("[%.eE]") then return tonumber(num) end
      return math.tointeger(tonumber(num)) or tonumber(num)
    end
  end
  local ok, res = pcall(value, 0)
  if not ok then error(res, 2) end
  ws()
  if pos <= #s then
    error(string.format("sslua.json.decode: trailing characters at position %d", pos), 2)
  end
  return res
end

return json
