-- Inside `sslua kernel`, standard input is the Jupyter stdin channel: `io.read`, `io.lines()`
-- (no file name) and `io.stdin:read` / `io.stdin:lines` ask the frontend for a line
-- (`input_request` / `input_reply`, `input` being `sslua._kernel.input`). The formats are
-- Lua's: "l" (default), "L", "n", a byte count, and "a", which, the frontend having no end of
-- file, returns what is buffered or else one more line. Other files are untouched.
return function(input)
  local stdin = io.stdin
  local buffer = ""                     -- what was typed and not read yet, newlines included

  local function fill()                 -- one more line from the frontend
    buffer = buffer .. input("", false) .. "\n"
  end

  local function line(keep)
    if buffer == "" then fill() end
    local nl = buffer:find("\n", 1, true)
    local s = buffer:sub(1, keep and nl or nl - 1)
    buffer = buffer:sub(nl + 1)
    return s
  end

  local function number()
    while not buffer:find("%S") do buffer = ""; fill() end
    local ws, token = buffer:match("^(%s*)(%S+)")
    local n = #token
    while n > 0 and not tonumber(token:sub(1, n)) do n = n - 1 end
    if n == 0 then return nil end   -- no numeral: fail, as Lua's io.read("n")
    buffer = buffer:sub(#ws + n + 1)
    return tonumber(token:sub(1, n))
  end

  local function read1(fmt)
    if math.type(fmt) == "integer" or (type(fmt) == "number" and fmt == math.floor(fmt)) then
      local n = math.tointeger(fmt)
      if n <= 0 then return "" end
      while #buffer < n do fill() end
      local s = buffer:sub(1, n)
      buffer = buffer:sub(n + 1)
      return s
    end
    if type(fmt) ~= "string" then
      error("bad argument to 'read' (invalid format)", 3)
    end
    local f = fmt:gsub("^%*", ""):sub(1, 1)
    if f == "l" then return line(false) end
    if f == "L" then return line(true) end
    if f == "n" then return number() end
    if f == "a" then
      if buffer == "" then fill() end
      local s = buffer
      buffer = ""
      return s
    end
    error("bad argument to 'read' (invalid format)", 3)
  end

  local function read(...)
    local n = select("#", ...)
    if n == 0 then return line(false) end
    local out = {}
    for i = 1, n do
      local v = read1((select(i, ...)))
      out[i] = v
      if v == nil then return table.unpack(out, 1, i) end
    end
    return table.unpack(out, 1, n)
  end

  local function lines(...)
    local fmts = table.pack(...)
    return function()
      if fmts.n == 0 then return line(false) end
      return read(table.unpack(fmts, 1, fmts.n))
    end
  end

  local io_read, io_lines, io_input = io.read, io.lines, io.input
  io.read = function(...)
    if io_input() == stdin then return read(...) end
    return io_read(...)
  end
  io.lines = function(name, ...)
    if name == nil and io_input() == stdin then return lines(...) end
    return io_lines(name, ...)
  end
  local methods = getmetatable(stdin).__index
  local file_read, file_lines = methods.read, methods.lines
  methods.read = function(f, ...)
    if rawequal(f, stdin) then return read(...) end
    return file_read(f, ...)
  end
  methods.lines = function(f, ...)
    if rawequal(f, stdin) then return lines(...) end
    return file_lines(f, ...)
  end
end
