-- Documentation of sslua.loss (fused, differentiable losses; see SPEC section 6 for the math).
local Z = "local z1, z2 = sslua.randn(8, 4):normalize(2), sslua.randn(8, 4):normalize(2)\n"
local BETA = { "beta", "number", "2", "inverse temperature" }
return {
  { "sslua.loss", "sslua.loss", "Differentiable losses: cross-entropy, MSE, InfoNCE and the paper's upper bound." },
  { "sslua.loss.cross_entropy", "loss.cross_entropy(logits, labels)", "Mean cross-entropy of N x C logits against 1-based labels (a tensor or a list).", ret = "a 0-d tensor", ex = "sslua.loss.cross_entropy(sslua.zeros(2, 3), {1, 3})" },
  { "sslua.loss.mse", "loss.mse(a, b)", "Mean of (a - b)^2 over same-size tensors.", ret = "a 0-d tensor", ex = "sslua.loss.mse(sslua.ones(3), sslua.zeros(3))" },
  { "sslua.loss.infonce", "loss.infonce(z1, z2 [, opts])", "InfoNCE between two views. form \"paper\": Eq. 1, the positive not in the denominator, anchors from view 1 (both views with symmetric = true); form \"ntxent\": SimCLR's NT-Xent with temperature 1/beta, mean over the 2N anchors (symmetric = false: the N anchors of view 1).",
    opts = { BETA, { "form", "string", "\"paper\"", "\"paper\" or \"ntxent\"" }, { "symmetric", "boolean", "false for paper, true for ntxent", "use both views as anchors" } }, ret = "a 0-d tensor", ex = Z .. "sslua.loss.infonce(z1, z2, {beta = 2})" },
  { "sslua.loss.upper_bound", "loss.upper_bound(h1, h2, W [, opts]) -> L_upper, parts", "The paper's upper bound of InfoNCE with projector g(h) = W^T h (W is d_enc x d_proj; for an nn.Linear pass `linear.weight:t()`). parts = {invariance, repulsion, constant, nearest}; nearest (1-based into [h1; h2]) is never i or N+i.",
    opts = { BETA }, ret = "a 0-d tensor and a table", ex = Z .. "local L, parts = sslua.loss.upper_bound(z1, z2, sslua.eye(4))" },
  { "sslua.loss.infonce_terms", "loss.infonce_terms(z1, z2 [, opts])", "Prop. C.1's decomposition per sample (N-vectors) and their means: {invariance, repulsion, entropy, loss, mean = {...}}; `alignment` aliases `invariance`.",
    opts = { BETA }, ret = "a table", ex = Z .. "local t = sslua.loss.infonce_terms(z1, z2)" },
}
