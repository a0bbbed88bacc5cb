-- Command-line flags from a table of defaults (experiment.args, usage, preset, given,
-- resume_dir), and the quoting and formatting of values the run record and errors share.
local json = require "sslua.json"
local util = require "sslua.util"
local sslua_mod = package.loaded.sslua or _G.sslua

local experiment = {}   -- what this file adds to sslua.experiment

-- Options every script understands; a script's own defaults take precedence.
local conventional = {
  quick = { false, "smoke run: tiny data and few steps (under 30 s)" },
  full = { false, "the paper's setting (CIFAR-100, ResNet-18, ...)" },
  seed = { 1, "random seed (sslua.manual_seed and the generators the script makes)" },
  threads = { 0, "worker threads for BLAS and sslua's kernels (0 = leave as is)" },
}

local function shell_quote(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end
experiment.shell_quote = shell_quote

local function kind_of(v)
  local t = type(v)
  if t == "table" then return "list" end
  if t == "number" or t == "boolean" or t == "string" then return t end
  return nil
end

-- The options table: defaults plus the conventional ones, and per-option help texts.
local function option_table(defaults, opts)
  if type(defaults) ~= "table" then
    error("sslua.experiment.args: expected a table of defaults, got " .. type(defaults), 3)
  end
  if type(opts) ~= "table" then error("sslua.experiment.args: options must be a table, got " .. type(opts), 3) end
  local options, help = {}, {}
  for k, v in pairs(defaults) do
    if type(k) ~= "string" or not k:match("^[%a_][%w_]*$") then
      error("sslua.experiment.args: option names must be identifiers, got " .. tostring(k), 3)
    end
    if not kind_of(v) then
      error("sslua.experiment.args: default of '" .. k .. "' must be a number, boolean, string or list, got " .. type(v), 3)
    end
    if type(v) == "table" then
      for i = 1, #v do
        if type(v[i]) ~= "number" and type(v[i]) ~= "string" then
          error("sslua.experiment.args: list default of '" .. k .. "' must hold numbers or strings", 3)
        end
      end
    end
    options[k] = v
  end
  for k, d in pairs(conventional) do
    if options[k] == nil then options[k] = d[1]; help[k] = d[2] end
  end
  if opts.help then
    for k, text in pairs(opts.help) do help[k] = text end
  end
  return options, help
end

local function flag_name(k) return "--" .. k:gsub("_", "-") end

local function format_value(v)
  if type(v) == "table" then
    local parts = {}
    for i = 1, #v do parts[i] = tostring(v[i]) end
    return table.concat(parts, ",")
  end
  return tostring(v)
end
experiment.format_value = format_value

local function script_name()
  return (arg and arg[0]) or "script.lua"
end

--- experiment.usage(defaults [, opts]) -> the --help text (every option with its default).
local args_spec = { argv = "any", description = "string", help = "table", exit = "boolean", script = "string" }

function experiment.usage(defaults, opts)
  opts = util.check_options("sslua.experiment.usage", opts, args_spec)
  local options, help = option_table(defaults, opts)
  local names = {}
  for k in pairs(options) do names[#names + 1] = k end
  table.sort(names)
  local lines = { "usage: sslua " .. (opts.script or script_name()) .. " [options]" }
  if opts.description then lines[#lines + 1] = ""; lines[#lines + 1] = opts.description end
  lines[#lines + 1] = ""
  lines[#lines + 1] = "options:"
  local rows, width = {}, 0
  for _, k in ipairs(names) do
    local v = options[k]
    local meta = ({ number = " N", string = " S", list = " A,B,...", boolean = "" })[kind_of(v)]
    local left = "  " .. flag_name(k) .. meta
    rows[#rows + 1] = { left, k, v }
    if #left > width then width = #left end
  end
  for _, r in ipairs(rows) do
    local text = help[r[2]]
    lines[#lines + 1] = string.format("%-" .. width .. "s  (default %s)%s", r[1],
      type(r[3]) == "table" and (#r[3] == 0 and "empty" or format_value(r[3])) or tostring(r[3]),
      text and ("  " .. text) or "")
  end
  if options.resume == nil then
    lines[#lines + 1] = string.format("%-" .. width .. "s  continue the killed run in DIR (same script, arguments and threads)", "  --resume DIR")
  end
  lines[#lines + 1] = string.format("%-" .. width .. "s  print this help", "  --help")
  lines[#lines + 1] = "booleans: --flag, --no-flag or --flag=true|false; lists: --name a,b,c"
  return table.concat(lines, "\n")
end

local function parse_value(name, kind, default, text)
  if kind == "number" then
    local n = tonumber(text)
    if n == nil then error("sslua.experiment.args: option " .. flag_name(name) .. " expects a number, got '" .. text .. "'", 0) end
    if math.type(default) == "integer" then return math.tointeger(n) or n end
    return n + 0.0
  elseif kind == "boolean" then
    local b = ({ ["true"] = true, ["1"] = true, yes = true, ["false"] = false, ["0"] = false, no = false })[text:lower()]
    if b == nil then error("sslua.experiment.args: option " .. flag_name(name) .. " expects true or false, got '" .. text .. "'", 0) end
    return b
  elseif kind == "list" then
    local out = {}
    if text == "" then return out end
    local numeric = type(default[1]) == "number"
    for item in (text .. ","):gmatch("([^,]*),") do
      if numeric then
        local n = tonumber(item)
        if n == nil then error("sslua.experiment.args: option " .. flag_name(name) .. " expects a list of numbers, got '" .. item .. "'", 0) end
        out[#out + 1] = n
      else
        out[#out + 1] = item
      end
    end
    return out
  end
  return text
end

local configs = setmetatable({}, { __mode = "k" })

--- experiment.args(defaults [, {argv=, description=, help={name=text}}]) -> config table.
-- Parses `--name value`, `--name=value`, `--flag`, `--no-flag`; types come from the defaults.
-- Adds --quick, --full, --seed, --threads when the script does not define them, applies the
-- seed (sslua.manual_seed) and the thread count, and exits after printing `--help`.
function experiment.args(defaults, opts)
  if opts ~= nil and type(opts) ~= "table" then error("sslua.experiment.args: options must be a table", 2) end
  opts = util.check_options("sslua.experiment.args", opts, args_spec)
  local options = option_table(defaults, opts)
  if os.getenv("SSLUA_LIST_OPTIONS") == "1" and opts.argv == nil then
    -- `sslua sweep` asks which flags the script declares (sslua.sweep_summary.check_flags).
    local kinds = {}
    for k, v in pairs(options) do kinds[k] = kind_of(v) end
    io.stdout:write("sslua-options: ", json.encode(kinds), "\n")
    io.stdout:flush()
    os.exit(0)
  end
  local argv = opts.argv
  if argv == nil then
    argv = {}
    if arg then for i = 1, #arg do argv[i] = arg[i] end end
  elseif type(argv) ~= "table" then
    error("sslua.experiment.args: argv must be a list of strings", 2)
  end
  -- `--resume DIR` (unless the script has an option of that name) is not an argument of the
  -- run: it names the run directory to continue, and is kept out of config.json's args.
  local resume
  if options.resume == nil then
    local rest, j = {}, 1
    while j <= #argv do
      local a, value = argv[j], nil
      if a == "--resume" then value = argv[j + 1]; j = j + 2
      elseif type(a) == "string" and a:sub(1, 9) == "--resume=" then value = a:sub(10); j = j + 1
      else rest[#rest + 1] = a; j = j + 1 end
      if a == "--resume" or (type(a) == "string" and a:sub(1, 9) == "--resume=") then
        if type(value) ~= "string" or value == "" then error("sslua.experiment.args: option --resume needs a run directory", 2) end
        if resume then error("sslua.experiment.args: --resume given twice", 2) end
        resume = value
      end
    end
    argv = rest
  end
  local cfg, given = {}, {}
  for k, v in pairs(options) do
    if type(v) == "table" then
      local copy = {}
      for i = 1, #v do copy[i] = v[i] end
      cfg[k] = copy
    else
      cfg[k] = v
    end
  end
  local i = 1
  while i <= #argv do
    local a = argv[i]
    if type(a) ~= "string" then error("sslua.experiment.args: argument " .. i .. " is not a string", 2) end
    if a == "--help" or a == "-h" then
      if opts.exit == false then return nil, experiment.usage(defaults, opts) end
      print(experiment.usage(defaults, opts))
      os.exit(0)
    end
    local name, value = a:match("^%-%-([%w_%-]+)=(.*)$")
    if not name then name = a:match("^%-%-([%w_%-]+)$") end
    if not name then
      error("sslua.experiment.args: unexpected argument '" .. a .. "' (options look like --name value; try --help)", 2)
    end
    local key = name:gsub("%-", "_")
    local negated = false
    if options[key] == nil and key:sub(1, 3) == "no_" and type(options[key:sub(4)]) == "boolean" and value == nil then
      key, negated = key:sub(4), true
    end
    local default = options[key]
    if default == nil then
      local names = {}
      for k in pairs(options) do names[#names + 1] = k end
      local near = util.closest(key, names)
      error("sslua.experiment.args: unknown option '--" .. name .. "' ("
        .. (near and "did you mean '" .. flag_name(near) .. "'?; " or "") .. "try --help)", 2)
    end
    local kind = kind_of(default)
    if kind == "boolean" and value == nil then
      local nxt = argv[i + 1]
      local word = type(nxt) == "string" and nxt:lower() or nil
      if word == "true" or word == "false" then value = word; i = i + 1
      else value = negated and "false" or "true" end
    elseif value == nil then
      value = argv[i + 1]
      if value == nil then error("sslua.experiment.args: option --" .. name .. " needs a value", 2) end
      i = i + 1
    end
    local ok, v = pcall(parse_value, key, kind, default, value)
    if not ok then error(v, 2) end
    cfg[key] = v
    given[key] = true
    i = i + 1
  end
  if cfg.quick and cfg.full then error("sslua.experiment.args: --quick and --full exclude each other", 2) end
  configs[cfg] = { argv = argv, given = given, options = options, resume = resume }
  local s = sslua_mod or package.loaded.sslua
  if s then
    if math.type(cfg.threads) == "integer" and cfg.threads > 0 and s.threads then s.threads(cfg.threads) end
    if s.manual_seed and math.type(cfg.seed) == "integer" then s.manual_seed(cfg.seed) end
  end
  return cfg
end

--- experiment.preset(cfg, {quick = {...}, full = {...}}): under --quick (or --full) the
--- listed values replace the defaults, except the options given on the command line.
function experiment.preset(cfg, presets)
  if type(cfg) ~= "table" or type(presets) ~= "table" then
    error("sslua.experiment.preset: expected the config and a table of presets", 2)
  end
  for _, mode in ipairs({ "quick", "full" }) do
    if cfg[mode] and presets[mode] then
      for k, v in pairs(presets[mode]) do
        if not experiment.given(cfg, k) then cfg[k] = v end
      end
    end
  end
  return cfg
end

--- experiment.resume_dir(cfg) -> the run directory given with --resume, or nil.
function experiment.resume_dir(cfg)
  local meta = configs[cfg]
  return meta and meta.resume or nil
end

--- experiment.given(cfg, name) -> true when `--name` was on the command line.
function experiment.given(cfg, name)
  local meta = configs[cfg]
  return meta ~= nil and meta.given[name] == true
end

experiment._configs, experiment._script_name, experiment._flag_name = configs, script_name, flag_name

return experiment
