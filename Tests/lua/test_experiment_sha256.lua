-- SHA-256 and JSON helpers of the experiment runner, against independent references:
-- FIPS 180-4 example vectors, Python's hashlib, and the system's sha256sum.
package.path = "Tests/lua/lib/?.lua;" .. package.path
local check = require "check"
local sha256 = require "sslua.sha256"
local json = require "sslua.json"

-- FIPS 180-4 / NIST examples.
check.eq(sha256.hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "empty")
check.eq(sha256.hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", "abc")
check.eq(sha256.hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
  "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1", "two blocks")
check.eq(sha256.hex(string.rep("a", 1000000)),
  "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0", "a million a")
-- Padding boundaries (55, 56, 64 bytes) and binary data, from Python's hashlib.
check.eq(sha256.hex(string.rep("x", 55)), "d5e285683cd4efc02d021a5c62014694958901005d6f71e89e0989fac77e4072", "55 bytes")
check.eq(sha256.hex(string.rep("x", 56)), "04c26261370ee7541549d16dee320c723e3fd14671e66a099afe0a377c16888e", "56 bytes")
check.eq(sha256.hex(string.rep("x", 64)), "7ce100971f64e7001e8fe5a51973ecdfe1ced42befe7ee8d5fd6219506b5393c", "64 bytes")
check.eq(sha256.hex(string.rep("\0", 119)), "f616b0d54e78571a9611f343c9f8e022e859e920381ab0e4d3da01e193a7bd7e", "119 zeros")
local all = {}
for i = 0, 255 do all[#all + 1] = string.char(i) end
check.eq(sha256.hex(table.concat(all)), "40aff2e9d2d8922e47afd4648e6967497158785fbd1da870e7110266bf944880", "bytes 0..255")
local text = {}
for i = 0, 999 do text[#text + 1] = string.char(32 + (i * 7) % 95) end
check.eq(sha256.hex(table.concat(text)), "6ace63b2ef9a4629c8c03d31912cd55022d81c7e989413208c0450fee9ea4086", "1000 printable")

-- A file, against sha256sum when the system has it.
local p = io.popen("sha256sum Tests/lua/test_experiment_sha256.lua 2>/dev/null")
local line = p and p:read("l")
if p then p:close() end
if line and line:match("^%x+") then
  check.eq(sha256.file("Tests/lua/test_experiment_sha256.lua"), line:match("^(%x+)"), "file digest vs sha256sum")
end
local none, err = sha256.file("/nonexistent/file")
check.eq(none, nil, "missing file")
check.truthy(err:find("sha256.file", 1, true), "missing file message")
check.errors(function() sha256.hex(42) end, "sha256.hex")
check.errors(function() sha256.file(nil) end, "sha256.file")

-- JSON: round trip, sorted keys, escapes, null, non-finite numbers, errors.
local v = { b = { 1, 2.5, "x\"y\n" }, a = true, c = { d = json.null, e = {} }, ["é"] = "ü" }
local s = json.encode(v)
check.eq(s, '{"a":true,"b":[1,2.5,"x\\"y\\n"],"c":{"d":null,"e":[]},"é":"ü"}', "encode")
local back = json.decode(s)
check.eq(back.b[2], 2.5, "decode float")
check.eq(math.type(back.b[1]), "integer", "decode integer")
check.eq(back.b[3], "x\"y\n", "decode escapes")
check.eq(back.c.d, json.null, "decode null")
check.eq(json.encode(0 / 0), "null", "nan")
check.eq(json.encode(math.huge), "null", "inf")
check.eq(json.encode(1e300), "1e+300", "big float, shortest form")
check.eq(json.encode(0.9), "0.9", "0.9 reads back")
check.eq(json.encode(0.1 + 0.2), "0.30000000000000004", "17 digits when needed")
for _, x in ipairs({ 1 / 3, math.pi, -2.5e-300, 123456.789, 2 ^ 0.5 }) do
  check.eq(json.decode(json.encode(x)), x, "round trip " .. tostring(x))
end
check.eq(json.decode('"\\u00e9\\ud83d\\ude00"'), "é😀", "unicode escapes")
check.eq(json.decode(" [1, -2.5e3, {\"k\": false}] ")[2], -2500.0, "exponent")
-- Python's json module reads what we write.
local tmp = os.tmpname()
local f = io.open(tmp, "w"); f:write(json.encode(v, { indent = "  " })); f:close()
local ok = os.execute("python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d[\"b\"][2]==\"x\\\"y\\n\" and d[\"c\"][\"d\"] is None' " .. tmp)
os.remove(tmp)
check.eq(ok, true, "python reads our JSON")
check.errors(function() json.decode("{") end, "json.decode")
check.errors(function() json.decode("[1,]") end, "json.decode")
check.errors(function() json.decode("[1] x") end, "trailing")
check.errors(function() json.decode(3) end, "json.decode")
check.errors(function() json.encode(function() end) end, "json.encode")
local cyc = {}; cyc.self = cyc
check.errors(function() json.encode(cyc) end, "cycle")
print("ok")
