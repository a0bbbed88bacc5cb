-- Minimal assertion helpers for sslua's Lua tests. Every check raises with a message that
-- says what differed; a test file passes when it runs to the end.
local check = {}

local function fmt(v)
  if type(v) == "number" then return string.format("%.9g", v) end
  return tostring(v)
end

function check.eq(a, b, what)
  if a ~= b then error((what or "check.eq") .. ": expected " .. fmt(b) .. ", got " .. fmt(a), 2) end
end

function check.truthy(v, what)
  if not v then error((what or "check.truthy") .. ": expected a true value, got " .. fmt(v), 2) end
end

-- |a - b| <= tol * (1 + |b|) (one tolerance, absolute and relative), elementwise for
-- tensors, tables or numbers.
function check.near(a, b, tol, what)
  tol = tol or 1e-5
  local function flat(x)
    if type(x) == "number" then return { x } end
    if type(x) == "table" then
      local out = {}
      local function walk(t) for _, v in ipairs(t) do if type(v) == "table" then walk(v) else out[#out + 1] = v end end end
      walk(x)
      return out
    end
    return flat(x:totable())
  end
  local fa, fb = flat(a), flat(b)
  if #fa ~= #fb then error((what or "check.near") .. ": " .. #fa .. " values against " .. #fb, 2) end
  for i = 1, #fa do
    local d = math.abs(fa[i] - fb[i])
    if not (d <= tol + tol * math.abs(fb[i])) then
      error(string.format("%s: element %d differs: %.9g vs %.9g (tol %g)", what or "check.near", i, fa[i], fb[i], tol), 2)
    end
  end
end

-- fn must raise an error whose message contains `pattern` (plain text).
function check.errors(fn, pattern, what)
  local ok, err = pcall(fn)
  if ok then error((what or "check.errors") .. ": expected an error containing '" .. pattern .. "'", 2) end
  if pattern and not tostring(err):find(pattern, 1, true) then
    error((what or "check.errors") .. ": error '" .. tostring(err) .. "' does not contain '" .. pattern .. "'", 2)
  end
  return err
end

return check
