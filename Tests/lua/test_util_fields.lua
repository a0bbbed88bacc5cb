-- util.split_fields, the one comma splitter behind sslua sweep's value lists ("[a,b]" is one
-- value) and the sweep summary's CSV reader ("..." with "" inside), checked against values
-- written out by hand; util.file_exists.
package.path = "Tests/lua/lib/?.lua;" .. package.path
local check = require "check"
local util = require "sslua.util"
local sweep = require "sslua.sweep"
local summary = require "sslua.sweep_summary"

local function same(a, b, what)
  check.eq(#a, #b, what .. ": count")
  for i = 1, #b do check.eq(a[i], b[i], what .. ": field " .. i) end
end

-- a plain splitter (no opener present) keeps empty fields, as CSV does
same(util.split_fields("a,,b,", "[", function() error("not called") end), { "a", "", "b", "" }, "plain")
same(util.split_fields("", "[", function() error("not called") end), { "" }, "empty text")

-- sweep value lists
local spec = sweep.parse { "x.lua", "--taus", "[0.1,0.2],0.3,[0.4]", "--b", "1" }
local axes = {}
for _, a in ipairs(spec.axes) do axes[a.name] = a.values end
same(axes.taus, { "0.1,0.2", "0.3", "0.4" }, "bracketed values")
check.errors(function() sweep.parse { "x.lua", "--a", "[1,2]3" } end, "expected ',' after ']'")
check.errors(function() sweep.parse { "x.lua", "--a", "[1,2" } end, "unclosed '['")

-- CSV records with quoted fields: a comma inside, doubled quotes, an empty field, an unclosed quote
local path = os.tmpname()
local f = assert(io.open(path, "w"))
f:write('a,b,c,d,e\n', '1,2,3,4,5\n', '"x,y","say ""hi""",,plain,"open\n')
f:close()
local row = summary.last_row(path)
check.eq(row.a, "x,y", "comma inside quotes")
check.eq(row.b, 'say "hi"', "doubled quotes")
check.eq(row.c, "", "empty field")
check.eq(row.d, "plain", "plain field")
check.eq(row.e, "open", "an unclosed quote runs to the end of the line")

check.truthy(util.file_exists(path), "file_exists: a file")
os.remove(path)
check.truthy(not util.file_exists(path), "file_exists: removed")
print("test_util_fields: ok")
