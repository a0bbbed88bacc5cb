-- CRC-32 (the IEEE polynomial of zlib, PNG chunks and zip entries) in plain Lua, for tests
-- that forge valid checksums on mutated files: an independent reference, not sslua's code.
local table_ = {}
for n = 0, 255 do
  local c = n
  for _ = 1, 8 do c = (c & 1) ~= 0 and (0xEDB88320 ~ (c >> 1)) or (c >> 1) end
  table_[n] = c
end
return function(s)
  local c = 0xFFFFFFFF
  for i = 1, #s do c = table_[(c ~ s:byte(i)) & 0xFF] ~ (c >> 8) end
  return c ~ 0xFFFFFFFF
end
