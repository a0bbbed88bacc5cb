-- SHA-256 (FIPS 180-4) in pure Lua 5.4 with 64-bit integer bit operations, so that a run's
-- config.json can name the exact script that produced it without any external tool.
local sha256 = {}

local K = {
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
}

local M32 = 0xffffffff

local function rotr(x, n) return ((x >> n) | (x << (32 - n))) & M32 end

-- Processes one 64-byte block starting at `i` of `msg` into the state `H`.
local function block(H, msg, i, W)
  for t = 0, 15 do
    W[t] = string.unpack(">I4", msg, i + 4 * t)
  end
  for t = 16, 63 do
    local w15, w2 = W[t - 15], W[t - 2]
    local s0 = rotr(w15, 7) ~ rotr(w15, 18) ~ (w15 >> 3)
    local s1 = rotr(w2, 17) ~ rotr(w2, 19) ~ (w2 >> 10)
    W[t] = (W[t - 16] + s0 + W[t - 7] + s1) & M32
  end
  local a, b, c, d, e, f, g, h = H[1], H[2], H[3], H[4], H[5], H[6], H[7], H[8]
  for t = 0, 63 do
    local S1 = rotr(e, 6) ~ rotr(e, 11) ~ rotr(e, 25)
    local ch = (e & f) ~ (~e & g)
    local t1 = (h + S1 + ch + K[t + 1] + W[t]) & M32
    local S0 = rotr(a, 2) ~ rotr(a, 13) ~ rotr(a, 22)
    local maj = (a & b) ~ (a & c) ~ (b & c)
    local t2 = (S0 + maj) & M32
    h, g, f, e, d, c, b, a = g, f, e, (d + t1) & M32, c, b, a, (t1 + t2) & M32
  end
  H[1] = (H[1] + a) & M32; H[2] = (H[2] + b) & M32; H[3] = (H[3] + c) & M32; H[4] = (H[4] + d) & M32
  H[5] = (H[5] + e) & M32; H[6] = (H[6] + f) & M32; H[7] = (H[7] + g) & M32; H[8] = (H[8] + h) & M32
end

--- sha256.hex(bytes) -> 64 lowercase hex digits.
function sha256.hex(msg)
  if type(msg) ~= "string" then error("sha256.hex: expected a string, got " .. type(msg), 2) end
  local H = { 0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19 }
  local len = #msg
  local W = {}
  local full = len - len % 64
  for i = 1, full, 64 do block(H, msg, i, W) end
  -- Padding: 0x80, zeros, then the bit length as a 64-bit big-endian integer.
  local tail = msg:sub(full + 1) .. "\128"
  tail = tail .. string.rep("\0", (56 - #tail) % 64) .. string.pack(">I8", len * 8)
  for i = 1, #tail, 64 do block(H, tail, i, W) end
  return string.format(string.rep("%08x", 8), H[1], H[2], H[3], H[4], H[5], H[6], H[7], H[8])
end

--- sha256.file(path) -> hex digest of the file's bytes, or nil and an error message.
function sha256.file(path)
  if type(path) ~= "string" then error("sha256.file: expected a path string, got " .. type(path), 2) end
  local f, err = io.open(path, "rb")
  if not f then return nil, "sha256.file: " .. tostring(err) end
  local data = f:read("a")
  f:close()
  return sha256.hex(data)
end

return sha256
