-- sslua.aug: augmentations with torchvision's semantics (the same parameters, ranges and
-- sampling as torchvision.transforms).
--
-- Transforms are plain Lua objects (their fields are the resolved parameters, readable by a
-- researcher) with :apply, :pair and tostring; the per-image kernels and the parameter sampling
-- are native (sslua._aug) and run the batch on all of sslua's threads.
local sslua, util = require "sslua", require "sslua.util"
local C = sslua._aug
local fail = util.failer("sslua.aug.")

local aug = {}

local Transform = util.class("sslua.aug.Transform")
aug.Transform = Transform

local function new(kind, fields)
  fields.kind = kind
  return setmetatable(fields, Transform)
end

local function is_transform(t) return getmetatable(t) == Transform end

-- options: a table argument (or nil) checked against `spec` (util.check_options); integer keys
-- of the spec are the positional entries allowed for the main parameters.
local opts_of = util.options_checker("sslua.aug.")

local function number_pair(fn, name, v, default)
  if v == nil then return default end
  if type(v) == "number" then return v end
  if type(v) ~= "table" or #v ~= 2 or type(v[1]) ~= "number" or type(v[2]) ~= "number" then
    fail(fn, name .. " must be a number or a pair {lo, hi}", 2)
  end
  return { v[1], v[2] }
end

local function size_of(fn, v)
  if v == nil then return nil end
  if math.type(v) == "integer" or (type(v) == "number" and v == math.floor(v)) then
    if v < 1 then fail(fn, "size must be positive, got " .. v, 2) end
    return { math.tointeger(v), math.tointeger(v) }
  end
  if type(v) == "table" and #v == 2 and math.type(v[1]) and math.type(v[2])
     and v[1] >= 1 and v[2] >= 1 and v[1] == math.floor(v[1]) and v[2] == math.floor(v[2]) then
    return { math.tointeger(v[1]), math.tointeger(v[2]) }
  end
  fail(fn, "size must be a positive integer or {height, width}", 2)
end

local function probability(fn, p, default)
  if p == nil then return default end
  if type(p) ~= "number" or p < 0 or p > 1 then fail(fn, "p must be a number in [0, 1], got " .. tostring(p), 2) end
  return p
end

-- RandomResizedCrop{size, scale = {0.08, 1}, ratio = {3/4, 4/3}}; without a size the crop is
-- resized back to the size of the image it was taken from.
function aug.RandomResizedCrop(o, more)
  local fn = "RandomResizedCrop"
  if type(o) == "number" then
    local m = opts_of(fn, more, { scale = "number|table", ratio = "number|table" })
    o = { size = o, scale = m.scale, ratio = m.ratio }
  else
    o = opts_of(fn, o, { [1] = "number|table", size = "number|table", scale = "number|table", ratio = "number|table" })
  end
  local size = size_of(fn, o.size or o[1])
  local scale = number_pair(fn, "scale", o.scale, { 0.08, 1.0 })
  local ratio = number_pair(fn, "ratio", o.ratio, { 3 / 4, 4 / 3 })
  if type(scale) ~= "table" or not (scale[1] > 0 and scale[1] <= scale[2]) then
    fail(fn, "scale must be {lo, hi} with 0 < lo <= hi")
  end
  if type(ratio) ~= "table" or not (ratio[1] > 0 and ratio[1] <= ratio[2]) then
    fail(fn, "ratio must be {lo, hi} with 0 < lo <= hi")
  end
  return new(fn, { size = size, scale = scale, ratio = ratio })
end

-- torchvision's RandomResizedCrop.get_params for an H x W image: top, left, height, width
-- (1-based) and whether the central fallback was used.
function Transform:get_params(height, width, opts)
  if self.kind ~= "RandomResizedCrop" then
    error("sslua.aug.get_params: only RandomResizedCrop has get_params", 2)
  end
  opts = util.check_options("sslua.aug.get_params", opts, { rng = "userdata" })
  local o = { scale = self.scale, ratio = self.ratio, rng = opts.rng }
  return C.crop_params(height, width, o)
end

-- A transform whose only parameter is its probability: `T{p = ...}` or `T(p)`.
local function with_probability(fn, default)
  return function(o)
    if type(o) == "number" then o = { p = o } end
    o = opts_of(fn, o, { [1] = "number", p = "number" })
    return new(fn, { p = probability(fn, o.p or o[1], default) })
  end
end

aug.RandomHorizontalFlip = with_probability("RandomHorizontalFlip", 0.5)  -- torchvision's default p
aug.RandomGrayscale = with_probability("RandomGrayscale", 0.1)

-- torchvision's ColorJitter._check_input: a number v gives {max(0, 1 - v), 1 + v} (hue: {-v, v});
-- a range equal to the identity turns the operation off (nil).
local function jitter_range(name, v, center, lo_bound, hi_bound)
  local fn = "ColorJitter"
  if v == nil then return nil end
  local r
  if type(v) == "number" then
    if v < 0 then fail(fn, name .. " must be non-negative, got " .. v, 2) end
    r = { center - v, center + v }
    if center == 1 then r[1] = math.max(r[1], 0) end
  elseif type(v) == "table" and #v == 2 and type(v[1]) == "number" and type(v[2]) == "number" then
    r = { v[1], v[2] }
  else
    fail(fn, name .. " must be a number or a pair {lo, hi}", 2)
  end
  if not (lo_bound <= r[1] and r[1] <= r[2] and r[2] <= hi_bound) then
    fail(fn, string.format("%s values should be between %g and %g and increasing, got {%g, %g}",
      name, lo_bound, hi_bound, r[1], r[2]), 2)
  end
  if r[1] == center and r[2] == center then return nil end
  return r
end

function aug.ColorJitter(o)
  local fn = "ColorJitter"
  local r = "number|table"
  o = opts_of(fn, o, { [1] = r, [2] = r, [3] = r, [4] = r, brightness = r, contrast = r, saturation = r, hue = r })
  local b = o.brightness or o[1]
  return new(fn, {
    brightness = jitter_range("brightness", b, 1, 0, math.huge),
    contrast = jitter_range("contrast", o.contrast or o[2], 1, 0, math.huge),
    saturation = jitter_range("saturation", o.saturation or o[3], 1, 0, math.huge),
    hue = jitter_range("hue", o.hue or o[4], 0, -0.5, 0.5),
  })
end

-- RandomApply(t, p) or RandomApply({t1, t2, ...}, p) (applied together, as torchvision).
function aug.RandomApply(t, p)
  local fn = "RandomApply"
  if type(t) == "table" and not is_transform(t) then t = aug.Compose(t) end
  if not is_transform(t) then fail(fn, "expected a transform or a list of transforms, got " .. type(t)) end
  return new(fn, { transform = t, p = probability(fn, p, 0.5) })
end

function aug.Compose(list)
  local fn = "Compose"
  if type(list) ~= "table" then fail(fn, "expected a list of transforms, got " .. type(list)) end
  local ts = {}
  for i, t in ipairs(list) do
    if not is_transform(t) then fail(fn, "element " .. i .. " is not a transform") end
    ts[i] = t
  end
  return new(fn, { transforms = ts })
end

-- GaussianBlur{kernel_size, sigma = {0.1, 2}}: sigma drawn uniformly per image.
function aug.GaussianBlur(o)
  local fn = "GaussianBlur"
  if type(o) == "number" then o = { kernel_size = o } end
  o = opts_of(fn, o, { [1] = "any", kernel_size = "any", [2] = "number|table", sigma = "number|table" })
  local k = o.kernel_size or o[1]
  if math.type(k) ~= "integer" or k < 1 or k % 2 == 0 then
    fail(fn, "kernel_size must be an odd positive integer, got " .. tostring(k))
  end
  local s = number_pair(fn, "sigma", o.sigma or o[2], { 0.1, 2.0 })
  if type(s) == "number" then s = { s, s } end
  if not (s[1] > 0 and s[1] <= s[2]) then fail(fn, "sigma must be positive and {lo, hi} increasing") end
  return new(fn, { kernel_size = k, sigma = s })
end

-- Rotate{degrees, interpolation = "nearest"|"bilinear"}: torchvision's RandomRotation (angle
-- uniform in {-d, d} or {lo, hi}, counter-clockwise, about the centre, fill 0).
function aug.Rotate(o)
  local fn = "Rotate"
  if type(o) == "number" then o = { degrees = o } end
  o = opts_of(fn, o, { [1] = "number|table", degrees = "number|table", interpolation = "any" })
  local d = number_pair(fn, "degrees", o.degrees or o[1], nil)
  if d == nil then fail(fn, "degrees is required") end
  if type(d) == "number" then
    if d < 0 then fail(fn, "degrees must be non-negative, got " .. d) end
    d = { -d, d }
  end
  if d[1] > d[2] then fail(fn, "degrees must be {lo, hi} with lo <= hi") end
  local mode = o.interpolation or "nearest"
  if mode ~= "nearest" and mode ~= "bilinear" then
    fail(fn, "interpolation must be 'nearest' or 'bilinear', got " .. tostring(mode))
  end
  return new(fn, { degrees = d, interpolation = mode })
end

-- Table 2 of the paper: crop scale, flip, colour-jitter strength s (brightness = contrast =
-- saturation = 0.8 s, hue = 0.2 s, applied with p = 0.8), grayscale p = 0.2.
local policies = {
  large = { crop = { 0.08, 1 }, flip = true, jitter = 0.5 },
  moderate = { crop = { 0.5, 1 }, flip = true, jitter = 0.25 },
  small = { crop = { 0.9, 1 }, flip = false, jitter = 0.05 },
}

local policy_spec = { crop = "table|boolean", size = "number|table", ratio = "number|table", flip = "boolean",
  jitter = "any", jitter_p = "number", grayscale = "number|boolean" }

function aug.policy(p, extra)
  local fn = "policy"
  local name
  if type(p) == "table" then opts_of(fn, p, policy_spec) end
  if type(p) == "string" then
    name = p
    local base = policies[p]
    if not base then fail(fn, "unknown policy '" .. p .. "' (small, moderate or large)") end
    local o = {}
    for k, v in pairs(base) do o[k] = v end
    for k, v in pairs(opts_of(fn, extra, policy_spec)) do o[k] = v end
    p = o
  elseif type(p) ~= "table" then
    fail(fn, "expected a policy name or an options table, got " .. type(p))
  end
  local ts = {}
  if p.crop ~= false and p.crop ~= nil then
    local c = p.crop
    if type(c) ~= "table" or #c ~= 2 then fail(fn, "crop must be {lo, hi}") end
    ts[#ts + 1] = aug.RandomResizedCrop { size = p.size, scale = c, ratio = p.ratio }
  end
  if p.flip then ts[#ts + 1] = aug.RandomHorizontalFlip { p = 0.5 } end
  local s = p.jitter or 0
  if type(s) ~= "number" or s < 0 then fail(fn, "jitter must be a non-negative strength s") end
  if s > 0 then
    local jp = p.jitter_p or 0.8
    ts[#ts + 1] = aug.RandomApply(aug.ColorJitter { brightness = 0.8 * s, contrast = 0.8 * s,
      saturation = 0.8 * s, hue = math.min(0.2 * s, 0.5) }, jp)
  end
  local g = p.grayscale
  if g == nil then g = 0.2 end
  if g then ts[#ts + 1] = aug.RandomGrayscale { p = g } end
  local t = aug.Compose(ts)
  t.name = name or "custom"
  t.strength = s
  return t
end

-- t:apply(images, {rng=, record=true}) -> augmented batch [, per-image parameter tables]
local apply_spec = { rng = "userdata", record = "boolean" }

function Transform:apply(images, opts)
  if not is_transform(self) then error("sslua.aug.apply: call as t:apply(images, opts)", 2) end
  util.check_options("sslua.aug.apply", opts, apply_spec)
  return C.apply(self, images, opts)
end

Transform.__call = function(self, images, opts) return C.apply(self, images, opts) end

-- Two independent views of the same images: v1, v2 [, rec1, rec2].
function Transform:pair(images, opts)
  if not is_transform(self) then error("sslua.aug.pair: call as t:pair(images, opts)", 2) end
  util.check_options("sslua.aug.pair", opts, apply_spec)
  local v1, r1 = C.apply(self, images, opts)
  local v2, r2 = C.apply(self, images, opts)
  if opts and opts.record then return v1, v2, r1, r2 end
  return v1, v2
end

local function fmt(v)
  if type(v) == "table" then
    if #v == 2 then return string.format("(%g, %g)", v[1], v[2]) end
  end
  return string.format("%g", v)
end

local function describe(t, indent)
  indent = indent or ""
  local k = t.kind
  if k == "Compose" then
    local lines = { (t.name and ("policy '" .. t.name .. "': ") or "") .. "Compose(" }
    for _, c in ipairs(t.transforms) do lines[#lines + 1] = indent .. "  " .. describe(c, indent .. "  ") end
    lines[#lines + 1] = indent .. ")"
    return table.concat(lines, "\n")
  elseif k == "RandomResizedCrop" then
    local size = t.size and string.format("%dx%d", t.size[1], t.size[2]) or "input"
    return string.format("RandomResizedCrop(size=%s, scale=%s, ratio=%s, bilinear, antialias)",
      size, fmt(t.scale), fmt({ t.ratio[1], t.ratio[2] }))
  elseif k == "RandomHorizontalFlip" or k == "RandomGrayscale" then
    return string.format("%s(p=%g)", k, t.p)
  elseif k == "ColorJitter" then
    local parts = {}
    for _, n in ipairs { "brightness", "contrast", "saturation", "hue" } do
      if t[n] then parts[#parts + 1] = n .. "=" .. fmt(t[n]) end
    end
    return "ColorJitter(" .. table.concat(parts, ", ") .. ")"
  elseif k == "RandomApply" then
    return string.format("RandomApply(p=%g, %s)", t.p, describe(t.transform, indent))
  elseif k == "GaussianBlur" then
    return string.format("GaussianBlur(kernel_size=%d, sigma=%s)", t.kernel_size, fmt(t.sigma))
  elseif k == "Rotate" then
    return string.format("Rotate(degrees=%s, interpolation=%s)", fmt(t.degrees), t.interpolation)
  end
  return k
end
Transform.__tostring = function(t) return describe(t) end
Transform.__name = "sslua.aug.Transform"

aug.functional = {
  hflip = C.hflip,
  resized_crop = C.resized_crop,
  adjust_brightness = C.adjust_brightness,
  adjust_contrast = C.adjust_contrast,
  adjust_saturation = C.adjust_saturation,
  adjust_hue = C.adjust_hue,
  rgb_to_grayscale = C.rgb_to_grayscale,
  gaussian_blur = C.gaussian_blur,
  rotate = C.rotate,
}

aug.save_grid = C.save_grid
aug.load_png = C.load_png

-- ---------------------------------------------------------------------------------------------
-- Multi-crop (SwAV, Caron et al. 2020; DINO, Caron et al. 2021): a few global crops at full
-- resolution and several local crops of small area at low resolution, each view with its own
-- random parameters and the same colour policy.

local MultiCrop = util.class("sslua.aug.MultiCrop")
aug.MultiCrop = MultiCrop

local group_spec = { size = "number|table", scale = "table", n = "number" }
local multicrop_spec = { global = "table", ["local"] = "table", policy = "string", ratio = "number|table",
  flip = "boolean", jitter = "number", jitter_p = "number", grayscale = "number|boolean" }

-- aug.multicrop{global = {size, scale = {0.4, 1}, n = 2}, ["local"] = {size, scale = {0.05, 0.4},
-- n = 4}, policy = "large", flip, jitter, jitter_p, grayscale, ratio}: each group is an
-- aug.policy with the group's crop scale and output size and the colour options of `policy`
-- (overridden by the explicit keys). mc:apply(images, {rng, record}) returns the list of views
-- (globals first) and, with record = true, the list of per-view records (aug's per-image
-- parameter tables, each with `view` and `group`).
function aug.multicrop(o)
  local fn = "multicrop"
  o = opts_of(fn, o, multicrop_spec)
  if o.global == nil then fail(fn, "global = {size = , scale = , n = } is required") end
  local base_name = o.policy or "large"
  local base = policies[base_name]
  if not base then fail(fn, "unknown policy '" .. base_name .. "' (small, moderate or large)") end
  local colour = { flip = base.flip, jitter = base.jitter }
  for _, k in ipairs { "flip", "jitter", "jitter_p", "grayscale", "ratio" } do
    if o[k] ~= nil then colour[k] = o[k] end
  end
  local function group(name, g, default_scale, default_n)
    if g == nil then return nil, 0 end
    g = util.check_options("sslua.aug.multicrop: " .. name, g, group_spec, 4)
    if g.size == nil then fail(fn, name .. ".size is required", 3) end
    local n = math.tointeger(g.n or default_n)
    if not n or n < 0 then fail(fn, name .. ".n must be a non-negative integer, got " .. tostring(g.n), 3) end
    local spec = { crop = g.scale or default_scale, size = g.size }
    for k, v in pairs(colour) do spec[k] = v end
    local t = aug.policy(spec)
    t.name = name
    return t, n
  end
  local self = setmetatable({}, MultiCrop)
  self.global, self.n_global = group("global", o.global, { 0.4, 1 }, 2)
  self["local"], self.n_local = group("local", o["local"], { 0.05, 0.4 }, 4)
  if self.n_global + self.n_local == 0 then fail(fn, "no views (n = 0 in every group)") end
  self.policy = base_name
  self.strength = colour.jitter or 0
  self.kind = "MultiCrop"
  return self
end

local multicrop_apply_spec = { rng = "userdata", record = "boolean" }

function MultiCrop:apply(images, opts)
  if getmetatable(self) ~= MultiCrop then error("sslua.aug.MultiCrop.apply: call as mc:apply(images, opts)", 2) end
  opts = util.check_options("sslua.aug.MultiCrop.apply", opts, multicrop_apply_spec)
  local views, records = {}, {}
  local ao = { rng = opts.rng, record = opts.record }
  for _, g in ipairs { { "global", self.global, self.n_global }, { "local", self["local"], self.n_local } } do
    for _ = 1, g[3] do
      local v, rec = C.apply(g[2], images, ao)
      views[#views + 1] = v
      if opts.record then
        for _, r in ipairs(rec) do r.view = #views; r.group = g[1] end
        records[#records + 1] = rec
      end
    end
  end
  if opts.record then return views, records end
  return views
end

MultiCrop.__call = function(self, images, opts) return self:apply(images, opts) end
MultiCrop.__name = "sslua.aug.MultiCrop"
MultiCrop.__tostring = function(self)
  local lines = { string.format("MultiCrop(%d global + %d local, policy '%s', strength %g)",
    self.n_global, self.n_local, self.policy, self.strength) }
  if self.n_global > 0 then lines[#lines + 1] = "  global x" .. self.n_global .. ": " .. describe(self.global, "  ") end
  if self.n_local > 0 then lines[#lines + 1] = "  local x" .. self.n_local .. ": " .. describe(self["local"], "  ") end
  return table.concat(lines, "\n")
end

return aug
