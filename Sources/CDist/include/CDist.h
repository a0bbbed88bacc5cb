#ifndef SSLUA_CDIST_H
#define SSLUA_CDIST_H
/// MPI for `sslua.dist`, found at run time: `libmpi.so.40` (Open MPI 4/5) is `dlopen`ed and its
/// functions and predefined handles are looked up with `dlsym`, so sslua has no link
/// dependency on MPI. Every function returns 0 on success, or nonzero with a message in `err`
/// (at most `errlen` bytes, NUL-terminated). Counts are 64-bit: messages larger than MPI's
/// int32 counts are sent in chunks.

/// Element types: 0 = float32 (MPI_FLOAT), 1 = float64 (MPI_DOUBLE).
/// Reductions: 0 = sum, 1 = max, 2 = min.

/// Loads the library (`path`, or "libmpi.so.40" when NULL), calls MPI_Init, sets
/// MPI_ERRORS_RETURN on MPI_COMM_WORLD, and registers an exit hook: MPI_Finalize on a zero exit
/// status, MPI_Abort with the status otherwise (so that a rank failing makes the job end
/// instead of leaving the others waiting in a collective). Idempotent.
int sslua_dist_init(const char *path, int *rank, int *size, char *err, int errlen);
/// Whether sslua_dist_init succeeded (and MPI is not finalized).
int sslua_dist_active(void);
int sslua_dist_allreduce(void *buf, long long count, int dtype, int op, char *err, int errlen);
/// Gathers `sendcount` elements from every rank into `recv`, rank r's block at the sum of
/// `counts[0..r-1]` (`counts` has one entry per rank; `counts[rank]` must equal sendcount).
int sslua_dist_allgather(const void *send, long long sendcount, void *recv,
                         const long long *counts, int dtype, char *err, int errlen);
int sslua_dist_bcast(void *buf, long long count, int dtype, int root, char *err, int errlen);
int sslua_dist_barrier(char *err, int errlen);
/// Monotonic wall clock in seconds (MPI_Wtime when loaded, else clock_gettime).
double sslua_dist_wtime(void);

#endif
