-- experiment.args: flag forms, types from the defaults, conventional options, --help, errors.
package.path = "Tests/lua/lib/?.lua;" .. package.path
local check = require "check"
local experiment = require "sslua.experiment"

local defaults = { epochs = 20, lr = 1e-3, policy = { "small", "large" }, taus = { 0.1, 0.01 },
  data_dir = "", verbose = false, normalize = true, beta = 2.0 }
local function parse(argv) return experiment.args(defaults, { argv = argv }) end

-- Defaults, with the conventional options added.
local c = parse({})
check.eq(c.epochs, 20, "default epochs")
check.eq(c.policy[2], "large", "default list")
check.eq(c.quick, false, "quick added")
check.eq(c.full, false, "full added")
check.eq(c.seed, 1, "seed added")
check.eq(c.threads, 0, "threads added")
check.eq(experiment.given(c, "epochs"), false, "not given")

-- The three flag forms and the types.
c = parse({ "--epochs", "5", "--lr=0.5", "--policy", "a,b,c", "--taus=0.5,0.25", "--data-dir", "/x y",
  "--verbose", "--no-normalize", "--beta", "3", "--seed", "7" })
check.eq(c.epochs, 5, "epochs"); check.eq(math.type(c.epochs), "integer", "integer kept")
check.eq(c.lr, 0.5, "lr")
check.eq(#c.policy, 3, "list length"); check.eq(c.policy[3], "c", "list item")
check.eq(c.taus[2], 0.25, "numeric list"); check.eq(type(c.taus[1]), "number", "numeric list type")
check.eq(c.data_dir, "/x y", "dashes become underscores")
check.eq(c.verbose, true, "--flag"); check.eq(c.normalize, false, "--no-flag")
check.eq(c.beta, 3.0, "float default"); check.eq(math.type(c.beta), "float", "float kept")
check.eq(c.seed, 7, "seed")
check.eq(experiment.given(c, "epochs"), true, "given")
c = parse({ "--verbose=false", "--normalize", "true", "--quick" })
check.eq(c.verbose, false, "--flag=false"); check.eq(c.normalize, true, "--flag true")
check.eq(c.quick, true, "--quick")
c = parse({ "--lr", "-1e-2", "--policy=" })
check.eq(c.lr, -0.01, "negative value"); check.eq(#c.policy, 0, "empty list")
-- The defaults table is not modified by parsing.
check.eq(defaults.policy[1], "small", "defaults untouched")
check.eq(#defaults.policy, 2, "defaults list untouched")

-- Errors name the function and the problem.
check.errors(function() parse({ "--nope", "1" }) end, "experiment.args: unknown option '--nope'")
check.errors(function() parse({ "--epochs", "many" }) end, "expects a number")
check.errors(function() parse({ "--epochs" }) end, "needs a value")
check.errors(function() parse({ "--taus", "0.1,x" }) end, "list of numbers")
check.errors(function() parse({ "--verbose=maybe" }) end, "true or false")
check.errors(function() parse({ "stray" }) end, "unexpected argument 'stray'")
check.errors(function() parse({ "--quick", "--full" }) end, "exclude each other")
check.errors(function() experiment.args(42) end, "experiment.args: expected a table")
check.errors(function() experiment.args({ f = function() end }) end, "experiment.args: default of 'f'")
check.errors(function() experiment.args({ [1] = 2 }) end, "experiment.args: option names")
check.errors(function() experiment.args({}, 5) end, "experiment.args: options must be a table")
check.errors(function() experiment.args({}, { argv = "x" }) end, "argv must be a list")

-- --help lists every option with its default (in-process form, then a real process).
local none, text = experiment.args(defaults, { argv = { "--help" }, exit = false, help = { lr = "learning rate" } })
check.eq(none, nil, "help returns nil")
for _, want in ipairs({ "--epochs N", "(default 20)", "--lr N", "(default 0.001)", "learning rate",
  "--policy A,B,...", "(default small,large)", "--data-dir S", "--verbose", "--quick", "--full", "--seed", "--help" }) do
  check.truthy(text:find(want, 1, true), "help mentions " .. want)
end

local exe = experiment.interpreter()
local tmp = os.tmpname()
local f = io.open(tmp, "w")
f:write('local e = require "sslua.experiment"\nlocal c = e.args{epochs = 3, name = "a"}\nprint("epochs=" .. c.epochs)\n')
f:close()
local p = io.popen(experiment.shell_quote(exe) .. " " .. tmp .. " --help 2>&1; echo \"rc=$?\"")
local out = p:read("a"); p:close()
os.remove(tmp)
if out:find("epochs=3", 1, true) then
  -- The program does not pass script arguments yet (arg table missing): nothing more to check.
  print("note: this sslua does not pass script arguments; --help subprocess check skipped")
else
  check.truthy(out:find("--epochs N", 1, true), "subprocess help: " .. out)
  check.truthy(out:find("rc=0", 1, true), "subprocess help exits 0: " .. out)
end
print("ok")

-- preset: --quick / --full values replace defaults, never options given on the command line.
do
  local d = { epochs = 20, n = 4096 }
  local c1 = experiment.args(d, { argv = { "--quick", "--epochs", "7" } })
  experiment.preset(c1, { quick = { epochs = 2, n = 64 }, full = { epochs = 100 } })
  check.eq(c1.epochs, 7, "given option wins over the preset")
  check.eq(c1.n, 64, "quick preset applied")
  local c2 = experiment.args(d, { argv = { "--full" } })
  experiment.preset(c2, { quick = { epochs = 2 }, full = { epochs = 100 } })
  check.eq(c2.epochs, 100, "full preset applied"); check.eq(c2.n, 4096, "untouched default")
  local c3 = experiment.args(d, { argv = {} })
  experiment.preset(c3, { quick = { epochs = 2 } })
  check.eq(c3.epochs, 20, "no preset without --quick/--full")
  check.errors(function() experiment.preset(5, {}) end, "experiment.preset")
  check.errors(function() experiment.preset(c3, 5) end, "experiment.preset")
  check.errors(function() experiment.format_table(5, {}) end, "experiment.format_table")
end
print("ok (preset)")
