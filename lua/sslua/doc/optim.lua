-- Documentation of sslua.optim.
local P = "local w = sslua.randn(3, {requires_grad = true})\n"
local ADAM = function(wd) return { { "lr", "number", "1e-3", "" }, { "betas", "table", "{0.9, 0.999}", "" }, { "eps", "number", "1e-8", "" }, { "weight_decay", "number", wd, "" } } end
return {
  { "sslua.optim", "sslua.optim", "Optimizers: `opt:step()` after backward, `opt:zero_grad()`, `opt.lr` readable and writable. `opt:state_dict()` returns PyTorch's layout `{state = {[i] = {name = tensor | number}}, param_groups = {{lr =, ..., params = {1, ..., n}}}, step_count = n}` (parameters by position; the tensors are copies), and `opt:load_state_dict(sd)` restores it into an optimizer of the same kind over parameters of the same shapes (moments, momentum buffers, step counts, lr), so training continues exactly; a mismatch is an error naming the entry and leaves the optimizer unchanged.",
    ex = "local w = sslua.ones(2, {requires_grad = true})\nlocal opt = sslua.optim.Adam({w}, {lr = 0.1})\nlocal l = (w * w):sum(); l:backward(); opt:step()\nlocal sd = opt:state_dict()\nlocal w2 = sslua.ones(2, {requires_grad = true})\nlocal opt2 = sslua.optim.Adam({w2}); opt2:load_state_dict(sd)\nprint(opt2.lr)  --> 0.1" },
  { "sslua.optim.SGD", "optim.SGD(params, opts)", "Stochastic gradient descent with momentum as PyTorch's SGD.",
    opts = { { "lr", "number", nil, "learning rate (required)" }, { "momentum", "number", "0", "" }, { "dampening", "number", "0", "" }, { "weight_decay", "number", "0", "L2 added to the gradient" }, { "nesterov", "boolean", "false", "needs momentum > 0 and dampening 0" } },
    ret = "an optimizer", ex = P .. "local opt = sslua.optim.SGD({w}, {lr = 0.1, momentum = 0.9})\nlocal l = (w * w):sum(); l:backward(); opt:step(); opt:zero_grad()" },
  { "sslua.optim.Adam", "optim.Adam(params [, opts])", "Adam (weight decay added to the gradient).", opts = ADAM("0"), ret = "an optimizer", ex = P .. "local opt = sslua.optim.Adam({w}, {lr = 1e-2})" },
  { "sslua.optim.AdamW", "optim.AdamW(params [, opts])", "AdamW (decoupled weight decay).", opts = ADAM("1e-2"), ret = "an optimizer", ex = P .. "local opt = sslua.optim.AdamW({w})" },
  { "sslua.optim.LARS", "optim.LARS(params, opts)", "SimCLR's LARS: weight decay added to the gradient, trust ratio eta |w| / |g + wd w|, momentum on the scaled update; 1-d parameters excluded from adaptation and decay when asked.",
    opts = { { "lr", "number", nil, "learning rate (required)" }, { "momentum", "number", "0.9", "" }, { "weight_decay", "number", "0", "" }, { "eta", "number", "0.001", "trust coefficient" }, { "exclude_bias_and_norm", "boolean", "true", "" } },
    ret = "an optimizer", ex = P .. "local opt = sslua.optim.LARS({w}, {lr = 0.3, weight_decay = 1e-6})" },
  { "sslua.optim.warmup_cosine", "optim.warmup_cosine{base_lr=, total= [, warmup] [, final_lr]}", "A schedule: linear warmup to base_lr over `warmup` steps, then cosine decay to final_lr at step `total`.",
    opts = { { "base_lr", "number", nil, "peak rate (required)" }, { "total", "number", nil, "last step (required)" }, { "warmup", "number", "0", "warmup steps" }, { "final_lr", "number", "0", "" } },
    ret = "function(step) -> lr", ex = "local lr = sslua.optim.warmup_cosine{base_lr = 0.1, warmup = 10, total = 100}\nprint(lr(5), lr(100))" },
}
