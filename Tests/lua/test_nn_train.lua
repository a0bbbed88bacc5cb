-- Training end to end: a small conv net (conv-BN-ReLU-pool, twice, then linear) memorises a
-- small synthetic set; its loss falls far below the chance level it starts at.
package.path = "Tests/lua/lib/?.lua;" .. package.path
local check = require "check"
local nn = require "sslua.nn"
local optim = require "sslua.optim"

local g = sslua.rng(2024)
local N, K = 32, 4
local x = sslua.randn(N, 1, 8, 8, { rng = g })
local onehot = sslua.zeros(N, K)
for i = 1, N do onehot:set(i, (i - 1) % K + 1, 1) end

-- cross-entropy composed from tensor ops (log-sum-exp with the max taken out)
local function cross_entropy(logits)
  local m = logits:max(2, true):detach()
  local lse = (logits - m):exp():sum(2, true):log() + m
  return -((logits - lse) * onehot):sum(2):mean()
end

local net = nn.Sequential(
  nn.Conv2d(1, 8, 3, { padding = 1, rng = g }), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2),
  nn.Conv2d(8, 16, 3, { padding = 1, rng = g }), nn.BatchNorm2d(16), nn.ReLU(),
  nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(16, K, { rng = g }))
local opt = optim.SGD(net:parameters(), { lr = 0.1, momentum = 0.9, weight_decay = 1e-4, nesterov = true })

local first, last
for step = 1, 150 do
  opt:zero_grad()
  local loss = cross_entropy(net(x))
  loss:backward()
  opt:step()
  last = loss:item()
  first = first or last
end
print(string.format("overfit: loss %.4f -> %.4f", first, last))
check.truthy(first > 1.0, "starts near chance (log 4 = 1.386), got " .. first)
check.truthy(last < 0.1, "memorises the set, final loss " .. last)

-- in eval mode (running statistics) the memorised labels are still mostly right
net:eval()
local pred = sslua.no_grad(function() return net(x) end):argmax(2)
local correct = 0
for i = 1, N do if pred:get(i) == (i - 1) % K + 1 then correct = correct + 1 end end
print("eval accuracy " .. correct .. "/" .. N)
check.truthy(correct >= 24, "eval-mode accuracy " .. correct .. "/" .. N)

print("test_nn_train: ok")
