-- `sslua --sandbox script.lua` (SPEC §2): run a script someone shared without giving it the
-- machine. The program calls this once, before any other Lua code runs:
--   * no processes and no native code: `os.execute`, `io.popen`, `package.loadlib`, the C
--     module searchers and precompiled (binary) chunks are gone, and so is `debug`, which
--     could reach the originals kept below;
--   * files are written only below the results directory (`SSLUA_RESULTS_DIR`, default
--     `results`, created if missing): `io.open` for writing, `io.output`, `os.remove`,
--     `os.rename` and every native writer (`sslua.save`, PNG grids) check the path, resolved
--     through `..` and symlinks. Reading is unrestricted.
-- Returns the resolved results directory.
local fs = sslua._fs

return function(root)
  local resolved = fs.sandbox(root or os.getenv("SSLUA_RESULTS_DIR") or "results")
  local check = fs.check_write

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

  local open, output, remove, rename = io.open, io.output, os.remove, os.rename
  io.open = function(path, mode)
    if type(mode) == "string" and mode:find("[wa+]") then
      local ok, why = check(path)
      if not ok then return nil, why end
    end
    return open(path, mode)
  end
  io.output = function(file)
    if type(file) == "string" then
      local ok, why = check(file)
      if not ok then error(why, 2) end
    end
    return output(file)
  end
  os.remove = function(path)
    local ok, why = check(path)
    if not ok then return nil, why end
    return remove(path)
  end
  os.rename = function(from, to)
    local ok, why = check(from)
    if ok then ok, why = check(to) end
    if not ok then return nil, why end
    return rename(from, to)
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
