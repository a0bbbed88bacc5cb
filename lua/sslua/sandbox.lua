-- `sslua --sandbox script.lua`: run a script someone shared without giving it the
-- machine. The program calls this once, before any other Lua code runs:
--   * no processes and no native code: `os.execute`, `io.popen`, `package.loadlib`, the C
--     module searchers and precompiled (binary) chunks are gone, and so is `debug`, which
--     could reach the originals kept below;
--   * files are written only below the results directory (`SSLUA_RESULTS_DIR`, default
--     `results`, created if missing): `io.open` for writing, `io.output`, `io.tmpfile`,
--     `os.remove`, `os.rename` and every native writer (`sslua.save`, PNG grids, the
--     experiment's files) open beneath a descriptor of that directory, following no symbolic
--     link (`Sources/SSLuaCore/IO/Sandbox.swift`). Reading is unrestricted.
-- Returns the resolved results directory.
local fs = sslua._fs

return function(root)
  local resolved = fs.sandbox(root or os.getenv("SSLUA_RESULTS_DIR") or "results")

  local function disabled(name)
    return function() error(name .. " is disabled by --sandbox", 2) end
  end
  os.execute = disabled("os.execute")
  io.popen = disabled("io.popen")
  os.tmpname = disabled("os.tmpname")
  package.loadlib = disabled("package.loadlib")
  package.cpath = ""
  -- keep the preload searcher; Lua files load as text only; the two C searchers go
  local loadfile_ = loadfile
  for i = #package.searchers, 2, -1 do table.remove(package.searchers, i) end
  package.searchers[2] = function(name)
    local path, err = package.searchpath(name, package.path)
    if not path then return err end
    local f, lerr = loadfile_(path, "t")
    if not f then
      error(("error loading module '%s' from file '%s':\n\t%s"):format(name, path, lerr), 2)
    end
    return f, path
  end

  -- Every write is opened by the natives beneath the results directory's descriptor (held
  -- since fs.sandbox), following no link: no check-then-open race. Reads are unrestricted.
  local open, output = io.open, io.output
  local function name(p) if math.type(p) then return tostring(p) end return p end
  io.open = function(path, mode)
    local p, m = name(path), name(mode)   -- numbers count as strings, as in the original
    if type(p) == "string" and type(m) == "string" and m:find("^[rwa]%+?b*$") and m:find("[wa+]") then
      return fs.open(p, m)
    end
    return open(path, mode)   -- reads, or raises its own argument error before opening anything
  end
  io.output = function(file)
    file = name(file)
    if type(file) == "string" then
      local f, why = fs.open(file, "w")
      if not f then error(why, 2) end
      return output(f)
    end
    return output(file)
  end
  io.tmpfile = function() return fs.tmpfile() end
  os.remove = function(path)
    path = name(path)
    if type(path) ~= "string" then error("bad argument #1 to 'remove' (string expected, got " .. type(path) .. ")", 2) end
    return fs.remove(path)
  end
  os.rename = function(from, to)
    from, to = name(from), name(to)
    if type(from) ~= "string" then error("bad argument #1 to 'rename' (string expected, got " .. type(from) .. ")", 2) end
    if type(to) ~= "string" then error("bad argument #2 to 'rename' (string expected, got " .. type(to) .. ")", 2) end
    return fs.rename(from, to)
  end

  -- text chunks only: a crafted binary chunk can corrupt the interpreter
  local load_ = load
  load = function(chunk, name, _, env)
    if env == nil then return load_(chunk, name, "t") end
    return load_(chunk, name, "t", env)
  end
  loadfile = function(path, _, env)
    if env == nil then return loadfile_(path, "t") end
    return loadfile_(path, "t", env)
  end
  dofile = function(path)
    local f = assert(loadfile(path))
    return f()
  end

  debug = nil
  package.loaded.debug = nil
  package.preload.debug = nil
  return resolved
end
