-- Documentation of sslua.geom (spectra, ranks, FVU, nearest negatives, evaluation); scalar
-- results are Lua numbers.
local H = "local h1, h2 = sslua.randn(16, 6), sslua.randn(16, 6)\n"
local EVAL = "local tr, te = sslua.randn(40, 5), sslua.randn(20, 5)\nlocal ltr, lte = sslua.randint(1, 3, 40), sslua.randint(1, 3, 20)\n"
return {
  { "sslua.geom", "sslua.geom", "Geometry of representations: spectra, ranks, FVU, nearest negatives, kNN and linear evaluation, alignment/uniformity, histograms, linear regions." },
  { "sslua.geom.singular_values", "geom.singular_values(M)", "The singular values of M, descending, in M's dtype.", ret = "a vector", ex = H .. "sslua.geom.singular_values(h1)" },
  { "sslua.geom.rank", "geom.rank(M [, opts]) -> integer", "Numerical rank: the singular values above a threshold. Default: NumPy's matrix_rank tolerance (max(m, n) * eps * s_max). Give at most one option.",
    opts = { { "tau", "number", nil, "absolute threshold" }, { "rtol", "number", nil, "threshold rtol * s_max" }, { "variance", "number", nil, "smallest k whose squared singular values hold this fraction of the total" } },
    ret = "an integer", ex = H .. "sslua.geom.rank(h1)  --> 6\nsslua.geom.rank(h1, {variance = 0.9})" },
  { "sslua.geom.effective_rank", "geom.effective_rank(M)", "RankMe: exp of the entropy of the normalised singular values.", ret = "a number", ex = H .. "sslua.geom.effective_rank(h1)" },
  { "sslua.geom.fvu", "geom.fvu(D, W)", "Eq. 10's fraction of variance unexplained of D (N x d_enc) by the projector W (d_enc x d_proj).", ret = "a number in [0, 1]", ex = H .. "sslua.geom.fvu(h1, sslua.randn(6, 3))" },
  { "sslua.geom.nearest_negative", "geom.nearest_negative(h1, h2 [, W]) -> idx, rows", "For each anchor of view 1, the nearest negative in the pool [h1; h2] (never i or N+i), after the projector W when given.", ret = "1-based indices and the h~* rows", ex = H .. "local idx, rows = sslua.geom.nearest_negative(h1, h2)" },
  { "sslua.geom.normalized_distance", "geom.normalized_distance(a, b)", "The per-row Euclidean distance between the L2-normalised rows of a and b.", ret = "a vector", ex = H .. "sslua.geom.normalized_distance(h1, h2)" },
  { "sslua.geom.label_agreement", "geom.label_agreement(idx, labels_pool, labels)", "The fraction of i with labels_pool[idx[i]] == labels[i].", ret = "a number in [0, 1]", ex = "sslua.geom.label_agreement(sslua.tensor{2, 1}, sslua.tensor{1, 1}, sslua.tensor{1, 2})" },
  { "sslua.geom.knn_accuracy", "geom.knn_accuracy{train=, train_labels=, test=, test_labels= [, k] [, temperature]}", "Weighted kNN accuracy on cosine similarity (the InstDisc/solo-learn protocol: votes exp(sim / temperature)).",
    opts = { { "train", "tensor", nil, "N x d features (required)" }, { "train_labels", "tensor", nil, "1-based labels (required)" }, { "test", "tensor", nil, "M x d features (required)" }, { "test_labels", "tensor", nil, "1-based labels (required)" }, { "k", "integer", "200", "neighbours" }, { "temperature", "number", "0.07", "vote temperature" } },
    ret = "a number in [0, 1]", ex = EVAL .. "sslua.geom.knn_accuracy{train = tr, train_labels = ltr, test = te, test_labels = lte, k = 5}" },
  { "sslua.geom.linear_probe", "geom.linear_probe{train=, train_labels=, test=, test_labels=, ...} -> test_acc, train_acc, info", "A multinomial logistic regression trained full-batch with L-BFGS on frozen features.",
    opts = { { "train", "tensor", nil, "features (required)" }, { "train_labels", "tensor", nil, "1-based labels (required)" }, { "test", "tensor", nil, "features (required)" }, { "test_labels", "tensor", nil, "1-based labels (required)" }, { "epochs", "integer", "500", "maximum L-BFGS iterations" }, { "lr", "number", "1", "scale of the first step" }, { "weight_decay", "number", "1e-4", "L2 penalty" }, { "tol", "number", "1e-6", "stopping tolerance" } },
    ret = "test accuracy, train accuracy, {loss, iterations}", ex = EVAL .. "local acc = sslua.geom.linear_probe{train = tr, train_labels = ltr, test = te, test_labels = lte, epochs = 20}" },
  { "sslua.geom.alignment", "geom.alignment(z1, z2)", "Wang & Isola's alignment, the mean of ||z1_i - z2_i||^2.", ret = "a number", ex = H .. "sslua.geom.alignment(h1:normalize(2), h2:normalize(2))" },
  { "sslua.geom.uniformity", "geom.uniformity(z)", "Wang & Isola's uniformity, log mean exp(-2 ||z_i - z_j||^2) over pairs.", ret = "a number", ex = H .. "sslua.geom.uniformity(h1:normalize(2))" },
  { "sslua.geom.histogram", "geom.histogram(x [, bins [, opts]]) -> counts, edges", "Counts of x's values in `bins` (default 10) equal bins over [min, max] or the given range (float64 results).",
    opts = { { "range", "table", "{min(x), max(x)}", "{lo, hi}" } }, ret = "counts (bins), edges (bins + 1)", ex = "local c, e = sslua.geom.histogram(sslua.randn(100), 5, {range = {-3, 3}})" },
  { "sslua.geom.linear_regions", "geom.linear_regions(mlp, H) -> count, ids", "The number of distinct ReLU activation patterns (linear regions) of the rows of H, and a 1-based region id per row. mlp: { {W1, b1}, {W2, b2}, ... } (W out x in, ReLU between layers) or an sslua.nn Linear/Sequential (BatchNorm1d in its eval-mode map).",
    ret = "an integer and a tensor", ex = "local net = sslua.nn.Sequential(sslua.nn.Linear(2, 8), sslua.nn.ReLU(), sslua.nn.Linear(8, 2))\nlocal n, ids = sslua.geom.linear_regions(net, sslua.randn(50, 2))" },
}
