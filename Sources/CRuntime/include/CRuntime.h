/// The runtime C module of sslua: what the core (`SSLuaCore`) needs from C, and nothing of Lua.
///
/// The worker pool behind `Parallel` and its thread cap under `ulimit -v` (`pool.c`); the
/// native-memory counters, the interrupt flag, the allocator tuning, the CPU check and the
/// file-opening system calls of the sandbox (`runtime.c`). The Lua side of the program (the
/// trampoline, the Lua allocator, the SIGINT hook) is `CLuaShim`, which builds on this module;
/// the package graph keeps Lua out of `SSLuaCore` (it does not depend on `CLua` or `CLuaShim`).
#ifndef SSLUA_CRUNTIME_H
#define SSLUA_CRUNTIME_H

#include <stddef.h>
#include <stdint.h>

/* ---- native memory reporting -------------------------------------------------------------- */
/// Live native bytes held by tensors (`sslua.memory()`).
int64_t sslua_live_bytes(void);
void sslua_note_alloc(int64_t bytes);
void sslua_note_free(int64_t bytes);
/// The bytes allocated since the last report to Lua's collector, when they are at least
/// `threshold`: then the count restarts from zero. 0 (and nothing changes) below it.
int64_t sslua_take_pending_bytes(int64_t threshold);

/* ---- process set-up ---------------------------------------------------------------------- */
/// Allocator tuning for training: glibc serves blocks above its mmap threshold with fresh
/// mmaps, so every activation of a large batch would page-fault and be zeroed again on each
/// step. Raising the mmap and trim thresholds lets freed activations be reused from the heap.
void sslua_tune_allocator(void);

/* ---- worker pool (pool.c) -------------------------------------------------------------- */
typedef void (*sslua_chunk_fn)(void *ctx, int chunk);
/// Runs `fn(ctx, c)` for c in 0 ..< chunks: chunk 0 on the caller, chunk w on worker w, and
/// returns when all are done. Workers spin briefly between regions instead of sleeping at once.
/// Nested calls, and calls from another thread while a region runs, run serially.
void sslua_pool_run(int chunks, sslua_chunk_fn fn, void *ctx);
/// Whether the calling thread is inside a pool region (a worker, or the caller of a region
/// while it runs its chunks): BLAS is single-threaded there.
int sslua_pool_in_region(void);
/// Starts workers up to `workers` now; returns how many exist (fewer when threads cannot be made).
int sslua_pool_reserve(int workers);
/// The most threads (caller included) the address-space limit (`ulimit -v`) leaves room for:
/// each costs a stack, a malloc arena and an OpenBLAS buffer, and OpenBLAS retries a failed
/// buffer allocation forever. 256 without a limit.
int sslua_thread_cap(void);
/// Under an address-space limit, makes OpenBLAS use `threads` threads and has every OpenBLAS
/// thread and pool worker take its BLAS buffer now (OpenBLAS retries a failed one forever).
/// Returns the thread count obtained. Does nothing without a limit.
int sslua_settle_threads(int threads);

/* ---- interruption (Ctrl-C) ---------------------------------------------------------------- */
/// Set by SIGINT (the handler in CLuaShim calls `sslua_set_interrupt`, which is
/// async-signal-safe); long native kernels poll it and stop early. Cleared by
/// `sslua_clear_interrupt`.
int sslua_interrupted(void);
void sslua_set_interrupt(void);
void sslua_clear_interrupt(void);

/* ---- files for the sandbox and the atomic writers ----------------------------------------- */
/// `openat2(dirfd, path, {flags, mode, RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS |
/// RESOLVE_NO_MAGICLINKS})`: -1 with errno (ENOSYS where the kernel lacks it).
int sslua_openat2_beneath(int dirfd, const char *path, int flags, unsigned mode);
/// An unnamed read-write file in the directory `dirfd` (`O_TMPFILE`), or -1 with errno.
int sslua_open_tmpfile(int dirfd);

/* ---- cache hints for the kernels ---------------------------------------------------------- */
/// Asks for the `bytes` from `p` in L2 ahead of use (`prefetcht1`, one per cache line): the
/// planes a kernel walks are 4 KB pages apart, where the hardware prefetchers stop.
static inline void sslua_prefetch_l2(const void *p, long bytes) {
    const char *c = (const char *)p;
    for (long i = 0; i < bytes; i += 64) __builtin_prefetch(c + i, 0, 2);
}

#endif
