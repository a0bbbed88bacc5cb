-- Documentation of sslua.dist (data-parallel collectives over MPI, loaded at run time).
local T = "local t = sslua.ones(3)\n"
return {
  { "sslua.dist", "sslua.dist", "Collectives over MPI as torch.distributed, ranks numbered 0 .. size-1. MPI (Open MPI's libmpi.so.40) is opened at run time only under a launcher (mpirun, srun); otherwise the world has size 1 and every collective returns a copy. An MPI failure, or ranks calling a collective with different sizes, dtypes or ops, is a Lua error on every rank; a rank that exits with an error aborts the job. See docs/DISTRIBUTED.md." },
  { "sslua.dist.init", "dist.init()", "Joins the world (idempotent; every other function calls it).", ret = "rank, size", ex = "local rank, size = sslua.dist.init()" },
  { "sslua.dist.rank", "dist.rank()", "This process's rank, 0 .. size-1 (0 outside a launcher).", ret = "an integer", ex = "print(sslua.dist.rank())" },
  { "sslua.dist.size", "dist.size()", "The number of ranks (1 outside a launcher).", ret = "an integer", ex = "print(sslua.dist.size())" },
  { "sslua.dist.all_reduce", "dist.all_reduce(t [, opts])", "The elementwise reduction of t over all ranks, as a new tensor; differentiable (for sum and mean the gradient is all-reduced the same way).",
    opts = { { "op", "string", "\"sum\"", "\"sum\", \"mean\", \"max\" or \"min\"" } }, ret = "a tensor of t's size", ex = T .. "print(sslua.dist.all_reduce(t, {op = \"mean\"}))" },
  { "sslua.dist.all_gather", "dist.all_gather(t)", "Every rank's t concatenated along dim 1 in rank order (sizes along dim 1 may differ between ranks). Differentiable as torch.distributed.nn.all_gather: backward sums the incoming gradients over the ranks and returns this rank's slice, so InfoNCE can use global negatives.", ret = "a tensor", ex = T .. "print(sslua.dist.all_gather(t))" },
  { "sslua.dist.broadcast", "dist.broadcast(t [, opts])", "Rank root's t on every rank (t must have the same size everywhere).",
    opts = { { "root", "integer", "0", "the rank whose tensor is sent" } }, ret = "a tensor", ex = T .. "print(sslua.dist.broadcast(t, {root = 0}))" },
  { "sslua.dist.barrier", "dist.barrier()", "Waits until every rank has reached it.", ex = "sslua.dist.barrier()" },
  { "sslua.dist.stats", "dist.stats([opts])", "Time spent inside MPI, payload bytes and the number of collectives since the start (or the last reset).",
    opts = { { "reset", "boolean", "false", "zero the counters after reading them" } }, ret = "{seconds=, bytes=, calls=}", ex = "print(sslua.dist.stats().calls)" },
  { "sslua.dist.info", "dist.info()", "Where the world came from.", ret = "{rank=, size=, mpi=boolean, launcher=string}", ex = "print(sslua.dist.info().mpi)" },
}
