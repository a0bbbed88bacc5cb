-- paper.write_summary(run, summary [, keys]): summary.json in the run directory decodes to the
-- summary; with keys, the table printed is summary.table.rows with row r's j-th cell under
-- keys[j] (compared against a table written out by hand); without keys nothing is printed.
package.path = "Tests/lua/lib/?.lua;" .. package.path
local check = require "check"
local experiment = require "sslua.experiment"
local json = require "sslua.json"
local paper = require "sslua.paper"

local tmp = os.tmpname()
os.remove(tmp)
local cfg = experiment.args({ n = 1 }, { argv = {} })
local run = experiment.run(cfg, { dir = tmp .. "-run" })

local summary = {
  example = "write_summary_test", verdict = "partly", seeds = { 1, 2 },
  table = { columns = { "the policy", "accuracy at the end" }, rows = { { "small", "0.500 +- 0.010" }, { "large", "0.625 +- 0.125" } } },
}

local printed = {}
local real_print = print
print = function(...) printed[#printed + 1] = table.concat({ ... }, "\t") end
local ok, err = pcall(paper.write_summary, run, summary, { "policy", "acc" })
print = real_print
check.truthy(ok, tostring(err))

local f = assert(io.open(run.dir .. "/summary.json", "rb"))
local back = json.decode(f:read("a"))
f:close()
check.eq(back.example, "write_summary_test", "example")
check.eq(back.verdict, "partly", "verdict")
check.eq(back.seeds[2], 2, "seeds")
check.eq(back.table.columns[2], "accuracy at the end", "columns")
check.eq(back.table.rows[2][2], "0.625 +- 0.125", "rows")

-- The table by hand: right-aligned columns as wide as their widest cell, two spaces apart, a
-- rule under the header.
local expected = table.concat({
  "policy             acc",
  "------  --------------",
  " small  0.500 +- 0.010",
  " large  0.625 +- 0.125",
}, "\n")
check.eq(#printed, 1, "one table printed")
check.eq(printed[1], expected, "the printed table")

-- Without keys: the file only.
printed = {}
print = function(...) printed[#printed + 1] = table.concat({ ... }, "\t") end
summary.verdict = "reproduces"
ok, err = pcall(paper.write_summary, run, summary)
print = real_print
check.truthy(ok, tostring(err))
check.eq(#printed, 0, "nothing printed without keys")
f = assert(io.open(run.dir .. "/summary.json", "rb"))
check.eq(json.decode(f:read("a")).verdict, "reproduces", "rewritten")
f:close()
os.execute("rm -rf '" .. run.dir .. "'")
print("test_paper_write_summary: ok")
