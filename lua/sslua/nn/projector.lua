-- The heads on top of an encoder: nn.projector (SimCLR's MLP) and nn.predictor (BYOL's and
-- SimSiam's).
local common, util = require "sslua.nn.common", require "sslua.util"
local fail, opts_of, check_int = common.fail, common.opts_of, common.check_int
local layers = util.merge_parts("sslua.nn.", { "activation", "container", "linear", "normalization" })
local ReLU, Sequential, Linear, BatchNorm1d = layers.ReLU, layers.Sequential, layers.Linear, layers.BatchNorm1d

local nn = {}   -- what this file adds to sslua.nn

--- nn.projector{dims = {512, 128}, bias = true, rng}: a Linear when #dims == 2; otherwise an
--- MLP Sequential with Linear-BatchNorm1d-ReLU between layers and a final Linear.
function nn.projector(o)
  o = opts_of("projector", o, { dims = "table", bias = "boolean", rng = "userdata" })
  local dims = o.dims
  if type(dims) ~= "table" or #dims < 2 then fail("projector", "dims must list at least 2 sizes, e.g. {512, 128}", 2) end
  for i, d in ipairs(dims) do check_int(d, "dims[" .. i .. "]", "projector") end
  local lo = { bias = o.bias, rng = o.rng }
  if #dims == 2 then return Linear(dims[1], dims[2], lo) end
  local seq = Sequential()
  for i = 1, #dims - 1 do
    seq:add(Linear(dims[i], dims[i + 1], lo))
    if i < #dims - 1 then
      seq:add(BatchNorm1d(dims[i + 1]))
      seq:add(ReLU())
    end
  end
  return seq
end

--- nn.predictor{dims = {d, hidden, d}, bias = true, rng}: BYOL's and SimSiam's prediction
--- head, Linear(d, hidden) - BatchNorm1d(hidden) - ReLU - Linear(hidden, d), a Sequential.
function nn.predictor(o)
  o = opts_of("predictor", o, { dims = "table", bias = "boolean", rng = "userdata" })
  local dims = o.dims
  if type(dims) ~= "table" or #dims ~= 3 then
    fail("predictor", "dims must list 3 sizes {d, hidden, d}, e.g. {128, 512, 128}", 2)
  end
  for i, d in ipairs(dims) do check_int(d, "dims[" .. i .. "]", "predictor") end
  local lo = { bias = o.bias, rng = o.rng }
  return Sequential(Linear(dims[1], dims[2], lo), BatchNorm1d(dims[2]), ReLU(),
                       Linear(dims[2], dims[3], lo))
end

return nn
