-- Documentation of sslua.data (images N x C x H x W in [0, 1], labels 1-based).
local READER = { { "root", "string", nil, "directory holding the files (or a parent of it)" }, { "train", "boolean", "true", "training split, else test" } }
return {
  { "sslua.data", "sslua.data", "Datasets: `ds.images`, `ds.labels`, optional `ds.coarse_labels`, `ds.classes`, `#ds`, and `ds:batches{...}`." },
  { "sslua.data.Dataset", "data.Dataset", "The dataset class. `ds:batches{size = 128, shuffle = false, drop_last = false, rng = g}` iterates `images, labels, indices` (strict options).",
    ex = "local ds = sslua.data.synthetic{n = 20, size = 8}\nfor x, y in ds:batches{size = 8, shuffle = true} do print(x:size(), y:size()) end" },
  { "sslua.data.cifar10", "data.cifar10([opts])", "CIFAR-10, binary version (data_batch_1..5.bin, test_batch.bin); root defaults to data/cifar10.", opts = READER, ret = "a dataset", run = false, ex = "local ds = sslua.data.cifar10{root = \"data/cifar10\", train = false}" },
  { "sslua.data.cifar100", "data.cifar100([opts])", "CIFAR-100, binary version, with fine labels and coarse_labels; root defaults to data/cifar100.", opts = READER, ret = "a dataset", run = false, ex = "local ds = sslua.data.cifar100{root = \"data/cifar100\"}" },
  { "sslua.data.fashion_mnist", "data.fashion_mnist([opts])", "Fashion-MNIST from IDX .gz files (default root /usr/share/datasets/fashion-mnist).", opts = READER, ret = "a dataset", run = false, ex = "local ds = sslua.data.fashion_mnist{train = false}" },
  { "sslua.data.mnist", "data.mnist([opts])", "MNIST from IDX .gz files.", opts = READER, ret = "a dataset", run = false, ex = "local ds = sslua.data.mnist{root = \"data/mnist\"}" },
  { "sslua.data.synthetic", "data.synthetic([opts])", "Colour images made from the seed, no files: the class is the object (16 fine classes, 4 coarse families) while colour, position, scale and background vary as nuisances.",
    opts = { { "n", "integer", "1000", "number of images" }, { "seed", "integer", "0", "" }, { "size", "integer", "32", "side, 8..512" } }, ret = "a dataset", ex = "local ds = sslua.data.synthetic{n = 16, size = 8}" },
  { "sslua.data.subset", "data.subset(ds, n [, opts])", "n random images of ds (balanced over classes with per_class = true).",
    opts = { { "rng", "generator", "the global one", "" }, { "per_class", "boolean", "false", "n per class" } }, ret = "a dataset", ex = "local ds = sslua.data.subset(sslua.data.synthetic{n = 64, size = 8}, 10)" },
}
