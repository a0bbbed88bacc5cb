-- Documentation of sslua.aug (torchvision semantics; transforms apply to N x C x H x W batches).
local IMG = "local img = sslua.rand(3, 8, 8)\n"
-- FN("name(params)", what, args): aug.functional.name, its example sslua.aug.functional.name(args) on img.
local function FN(call, what, args)
  local name = call:match("^[%w_]+")
  return { "sslua.aug.functional." .. name, "functional." .. call, what .. " One image C x H x W.", ret = "a tensor",
    ex = IMG .. "sslua.aug.functional." .. name .. "(" .. args .. ")" }
end
return {
  { "sslua.aug", "sslua.aug", "Augmentations with torchvision's semantics. A transform `t` is applied as `t(images [, opts])` or `t:apply(images, {rng = g, record = true})` (with record, also a list of the parameters sampled per image); `t:pair(images [, opts])` gives two independent views." },
  { "sslua.aug.Transform", "aug.Transform", "The transform class: `t:apply(images [, {rng, record}])`, `t:pair(images [, {rng, record}])`, `t:get_params(height, width [, {rng}])`, `tostring(t)`.",
    ex = "local t = sslua.aug.RandomHorizontalFlip{p = 1}\nlocal out, rec = t:apply(sslua.rand(2, 3, 8, 8), {record = true})" },
  { "sslua.aug.RandomResizedCrop", "aug.RandomResizedCrop{size [, scale] [, ratio]} | aug.RandomResizedCrop(size [, opts])", "A random crop of random area and aspect, resized (bilinear) to size.",
    opts = { { "size", "integer|table", nil, "output side, or {h, w} (or the first entry)" }, { "scale", "table", "{0.08, 1}", "area fraction range" }, { "ratio", "table", "{3/4, 4/3}", "aspect range" } }, ret = "a transform", ex = "sslua.aug.RandomResizedCrop{8, scale = {0.5, 1}}(sslua.rand(2, 3, 16, 16))" },
  { "sslua.aug.RandomHorizontalFlip", "aug.RandomHorizontalFlip([{p}])", "Flips each image with probability p.", opts = { { "p", "number", "0.5", "" } }, ret = "a transform", ex = "sslua.aug.RandomHorizontalFlip{p = 0.5}" },
  { "sslua.aug.RandomGrayscale", "aug.RandomGrayscale([{p}])", "Grayscale (kept 3 channels) with probability p.", opts = { { "p", "number", "0.1", "" } }, ret = "a transform", ex = "sslua.aug.RandomGrayscale{p = 0.2}" },
  { "sslua.aug.ColorJitter", "aug.ColorJitter{brightness, contrast, saturation, hue}", "Random brightness, contrast, saturation and hue in a random order (factors as torchvision: a number s means [1 - s, 1 + s], hue [-h, h]; or a {lo, hi} range).",
    opts = { { "brightness", "number|table", "0", "" }, { "contrast", "number|table", "0", "" }, { "saturation", "number|table", "0", "" }, { "hue", "number|table", "0", "at most 0.5" } }, ret = "a transform", ex = "sslua.aug.ColorJitter{0.4, 0.4, 0.4, 0.1}" },
  { "sslua.aug.RandomApply", "aug.RandomApply(t, p)", "Applies transform t to each image with probability p.", ret = "a transform", ex = "sslua.aug.RandomApply(sslua.aug.ColorJitter{0.4, 0.4, 0.4, 0.1}, 0.8)" },
  { "sslua.aug.Compose", "aug.Compose{t1, t2, ...}", "Applies the transforms in order.", ret = "a transform", ex = "sslua.aug.Compose{sslua.aug.RandomResizedCrop{8}, sslua.aug.RandomHorizontalFlip()}" },
  { "sslua.aug.GaussianBlur", "aug.GaussianBlur{kernel_size [, sigma]}", "Gaussian blur with sigma drawn uniformly from a range.",
    opts = { { "kernel_size", "integer", nil, "odd size (or the first entry)" }, { "sigma", "number|table", "{0.1, 2.0}", "fixed or range" } }, ret = "a transform", ex = "sslua.aug.GaussianBlur{3}" },
  { "sslua.aug.Rotate", "aug.Rotate{degrees [, interpolation]}", "Rotation by an angle drawn from [-d, d] (or a {lo, hi} range).",
    opts = { { "degrees", "number|table", nil, "(or the first entry)" }, { "interpolation", "string", "\"nearest\"", "\"nearest\" or \"bilinear\"" } }, ret = "a transform", ex = "sslua.aug.Rotate{30}" },
  { "sslua.aug.policy", "aug.policy(name [, opts]) | aug.policy{...}", "The paper's Table 2 policies \"small\", \"moderate\", \"large\" (opts override entries), or one built from options.",
    opts = { { "crop", "table|boolean", nil, "{lo, hi} area range of RandomResizedCrop" }, { "size", "number|table", nil, "output size" }, { "ratio", "number|table", nil, "aspect range" }, { "flip", "boolean", nil, "horizontal flips" }, { "jitter", "number", "0", "ColorJitter strength s" }, { "jitter_p", "number", "0.8", "probability of jitter" }, { "grayscale", "number|boolean", nil, "probability of grayscale" } },
    ret = "a transform", ex = "local t = sslua.aug.policy(\"moderate\")" },
  { "sslua.aug.multicrop", "aug.multicrop{global = {size [, scale] [, n]} [, [\"local\"] = {size [, scale] [, n]}] [, opts]}", "Multi-crop views as SwAV and DINO: n global crops (default 2, scale {0.4, 1}) and n local crops (default 4, scale {0.05, 0.4}, usually a smaller size), each group an aug.policy with its crop scale and size and the colour options of `policy` (default \"large\"; flip, jitter, jitter_p, grayscale, ratio override it). `mc:apply(images [, {rng, record}])` (or `mc(images, ...)`) returns the list of views, globals first, each an independent draw; with record = true also the list of per-view records (aug's per-image parameters plus `view` and `group`). `mc.strength` is the colour-jitter strength s, `mc.global` / `mc[\"local\"]` the two policies. (`local` is a Lua keyword: write `[\"local\"] =`.)",
    opts = { { "global", "table", nil, "{size, scale = {0.4, 1}, n = 2} (required)" }, { "local", "table", "none", "{size, scale = {0.05, 0.4}, n = 4}" }, { "policy", "string", "\"large\"", "colour options from this Table 2 policy" }, { "flip", "boolean", "the policy's", "" }, { "jitter", "number", "the policy's", "colour-jitter strength s" }, { "jitter_p", "number", "0.8", "" }, { "grayscale", "number|boolean", "0.2", "" }, { "ratio", "table", "{3/4, 4/3}", "crop aspect range" } },
    ret = "an aug.MultiCrop", ex = "local mc = sslua.aug.multicrop{global = {size = 16}, [\"local\"] = {size = 8, n = 2}}\nlocal views, rec = mc:apply(sslua.rand(2, 3, 24, 24), {record = true})" },
  { "sslua.aug.MultiCrop", "aug.MultiCrop", "The class of aug.multicrop's result: `mc:apply(images [, {rng, record}])`, `mc(images [, opts])`, `tostring(mc)`; fields global, local, n_global, n_local, policy, strength." },
  { "sslua.aug.save_grid", "aug.save_grid(images, path [, {nrow, padding, pad_value}])", "Writes a batch as a PNG grid.", run = false, ex = "sslua.aug.save_grid(sslua.rand(8, 3, 8, 8), \"grid.png\", {nrow = 4})" },
  { "sslua.aug.load_png", "aug.load_png(path)", "Reads a PNG as a C x H x W tensor in [0, 1].", ret = "a tensor", run = false, ex = "local img = sslua.aug.load_png(\"grid.png\")" },
  { "sslua.aug.functional", "aug.functional", "The operations with explicit parameters, for one image C x H x W." },
  FN("hflip(img)", "Horizontal flip.", "img"),
  FN("resized_crop(img, top, left, height, width, size)", "Crop (1-based top/left) resized to size.", "img, 1, 1, 4, 4, 8"),
  FN("adjust_brightness(img, f)", "Brightness by factor f.", "img, 1.2"),
  FN("adjust_contrast(img, f)", "Contrast by factor f.", "img, 0.8"),
  FN("adjust_saturation(img, f)", "Saturation by factor f.", "img, 0.5"),
  FN("adjust_hue(img, f)", "Hue shift f in [-0.5, 0.5].", "img, 0.1"),
  FN("rgb_to_grayscale(img [, channels])", "Grayscale with 1 or 3 output channels.", "img, 3"),
  FN("gaussian_blur(img, kernel_size, sigma)", "Gaussian blur.", "img, 3, 1.0"),
  FN("rotate(img, degrees [, {interpolation}])", "Rotation about the centre (interpolation \"nearest\" by default), zeros outside.", "img, 90"),
}
