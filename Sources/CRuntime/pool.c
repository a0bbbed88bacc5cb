/* The worker pool behind Parallel.swift: threads that stay awake between kernels.
 *
 * A parallel region of a 4M-element op lasts 50-500 microseconds; waking a sleeping thread
 * (GCD, or a condition variable) costs 10-20 of them. So, as OpenMP runtimes do, each worker
 * spins for a while after its chunk, pausing and then yielding its core, and only then sleeps
 * on a futex. Each worker has its own mailbox: the submitter fills it and bumps its sequence
 * number, so a worker can never pick up a half-written job. One region at a time: a call from
 * inside a region, or from a second thread while one runs, runs its chunks serially. */
#define _GNU_SOURCE
#include "CRuntime.h"
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <unistd.h>

#define MAX_WORKERS 256
/* spin iterations before sleeping: a few hundred microseconds of pauses, then a few yields.
 * A late worker no longer stalls a region (the caller runs unclaimed chunks itself), so a
 * long yield phase only burnt another thread's core: 32 yields instead of 256. */
#define SPIN_PAUSES 4096
#define SPIN_YIELDS 32

/* Chunks are claimed, not assigned: the caller and every woken worker take the next unclaimed
 * chunk until none is left. A chunk's bounds depend only on the chunk count, so which thread
 * runs it never changes a result; but the caller no longer waits for a worker that is still
 * asleep (or descheduled on a loaded machine) before it could start its chunk: it runs that
 * chunk itself. `claim` holds (region generation << 24 | next chunk); the generation only
 * grows, so a worker that read the job and then wins its compare-and-swap on the value it
 * loaded knows the job fields it read belong to that region (they are rewritten only after
 * the generation has moved on, with the index parked at CLAIM_CLOSED meanwhile). */
#define CLAIM_BITS 24
#define CLAIM_CLOSED ((1u << CLAIM_BITS) - 1)
static _Atomic uint64_t claim = CLAIM_CLOSED;
static _Atomic(sslua_chunk_fn) job_fn;
static _Atomic(void *) job_ctx;
static _Atomic int job_chunks;
static _Atomic int chunks_done;
static _Atomic uint32_t job_seq;      /* futex word: bumped once per region */
static _Atomic int sleepers;

typedef struct {
    _Atomic uint32_t seq;      /* futex word: bumped once per pinned job */
    _Atomic int sleeping;
    sslua_chunk_fn fn;
    void *ctx;
    int chunk;
    char pad[64];
} mailbox;

static mailbox boxes[MAX_WORKERS];
static _Atomic int done_count;
static _Atomic int busy;
static int started = 0;               /* workers 1 ..< started + 1 exist */
static _Thread_local int in_region = 0;

static void futex_wait(_Atomic uint32_t *w, uint32_t v) {
    syscall(SYS_futex, (uint32_t *)w, FUTEX_WAIT_PRIVATE, v, NULL, NULL, 0);
}
static void futex_wake(_Atomic uint32_t *w, int n) {
    syscall(SYS_futex, (uint32_t *)w, FUTEX_WAKE_PRIVATE, n, NULL, NULL, 0);
}
static inline void cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#else
    __asm__ __volatile__("" ::: "memory");
#endif
}

static void pool_run_pinned(int chunks, sslua_chunk_fn fn, void *ctx);

/* Runs unclaimed chunks of the current region until none is left. */
static void run_claims(void) {
    for (;;) {
        uint64_t c = atomic_load_explicit(&claim, memory_order_acquire);
        uint32_t i = (uint32_t)(c & CLAIM_CLOSED);
        if (i == CLAIM_CLOSED) return;
        sslua_chunk_fn fn = atomic_load_explicit(&job_fn, memory_order_relaxed);
        void *ctx = atomic_load_explicit(&job_ctx, memory_order_relaxed);
        int n = atomic_load_explicit(&job_chunks, memory_order_relaxed);
        if ((int)i >= n) return;
        if (!atomic_compare_exchange_weak_explicit(&claim, &c, c + 1, memory_order_acq_rel, memory_order_acquire))
            continue;
        fn(ctx, (int)i);
        atomic_fetch_add_explicit(&chunks_done, 1, memory_order_release);
    }
}

static void *worker_main(void *arg) {
    mailbox *box = &boxes[(intptr_t)arg];
    in_region = 1;   /* a kernel running on a worker never opens a nested region */
    uint32_t seen = 0;   /* a new worker's mailbox has had no job yet: its seq is 0 */
    uint32_t seen_job = atomic_load(&job_seq);
    for (;;) {
        int spins = 0;
        for (;;) {
            if (atomic_load_explicit(&box->seq, memory_order_acquire) != seen) break;
            if (atomic_load_explicit(&job_seq, memory_order_acquire) != seen_job) break;
            if (spins < SPIN_PAUSES) { cpu_relax(); spins++; continue; }
            if (spins < SPIN_PAUSES + SPIN_YIELDS) { sched_yield(); spins++; continue; }
            /* sleep on the region counter; a pinned job wakes every sleeper too */
            atomic_store(&box->sleeping, 1);
            atomic_fetch_add(&sleepers, 1);
            if (atomic_load(&box->seq) == seen && atomic_load(&job_seq) == seen_job) futex_wait(&job_seq, seen_job);
            atomic_fetch_sub(&sleepers, 1);
            atomic_store(&box->sleeping, 0);
            spins = 0;
        }
        uint32_t s = atomic_load_explicit(&box->seq, memory_order_acquire);
        if (s != seen) {   /* a job for this worker only (settling its BLAS buffer) */
            seen = s;
            box->fn(box->ctx, box->chunk);
            atomic_fetch_add_explicit(&done_count, 1, memory_order_release);
            continue;
        }
        seen_job = atomic_load_explicit(&job_seq, memory_order_acquire);
        run_claims();
    }
    return NULL;
}

/* Starts workers up to `n` (1-based ids). Returns how many exist. */
static int ensure_workers(int n) {
    if (n > MAX_WORKERS - 1) n = MAX_WORKERS - 1;
    while (started < n) {
        pthread_t t;
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        int id = started + 1;
        int rc = pthread_create(&t, &attr, worker_main, (void *)(intptr_t)id);
        pthread_attr_destroy(&attr);
        if (rc != 0) break;
        started = id;
    }
    return started;
}

int sslua_pool_reserve(int workers) {
    int expected = 0;
    if (in_region || !atomic_compare_exchange_strong(&busy, &expected, 1)) return started;
    int n = ensure_workers(workers);
    atomic_store(&busy, 0);
    return n;
}

/* Address space one more thread may take: an OpenBLAS buffer (128 MiB in Debian's build) for
 * BLAS's own thread and one for a pool worker calling single-threaded BLAS, two stacks and a
 * malloc arena (64 MiB reserved). */
#define THREAD_COST (320LL << 20)

static int thread_cap = 0;   /* computed once, at startup: the same limit always gives the same cap */

int sslua_thread_cap(void) {
    if (thread_cap > 0) return thread_cap;
    struct rlimit rl;
    if (getrlimit(RLIMIT_AS, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY) return thread_cap = MAX_WORKERS;
    long long limit = (long long)rl.rlim_cur, used = 0;
    FILE *f = fopen("/proc/self/statm", "re");
    if (f) {
        long long pages = 0;
        if (fscanf(f, "%lld", &pages) == 1) used = pages * sysconf(_SC_PAGESIZE);
        fclose(f);
    }
    /* half of what is left for the threads, the other half for the data */
    long long room = (limit - used) / 2;
    long long n = room <= 0 ? 1 : 1 + room / THREAD_COST;
    return thread_cap = n > MAX_WORKERS ? MAX_WORKERS : (int)n;
}

/* OpenBLAS starts with one thread per core, and each of its threads, like each thread that calls
 * BLAS, takes a buffer on its first use, retrying forever when the allocation fails. Under an
 * address-space limit that happens as soon as a script has taken most of the room (the threads
 * allocate asynchronously, so even at startup this races with the script). So, under a limit,
 * the thread count is capped and every thread gets its buffer at once: a gemm that engages all
 * of OpenBLAS's threads, then one single-threaded gemm on each pool worker. */
extern int openblas_get_num_threads(void);
extern void openblas_set_num_threads(int);
extern void cblas_sgemm(int order, int ta, int tb, int m, int n, int k, float alpha, const float *a, int lda,
                        const float *b, int ldb, float beta, float *c, int ldc);
#define SETTLE_N 512
#define SETTLE_SMALL 128

static void settle_small(void *ctx, int c) {
    float *a = (float *)ctx + (size_t)c * 3 * SETTLE_SMALL * SETTLE_SMALL;
    cblas_sgemm(101, 111, 111, SETTLE_SMALL, SETTLE_SMALL, SETTLE_SMALL, 1.0f, a, SETTLE_SMALL,
                a + SETTLE_SMALL * SETTLE_SMALL, SETTLE_SMALL, 0.0f, a + 2 * SETTLE_SMALL * SETTLE_SMALL, SETTLE_SMALL);
}

int sslua_settle_threads(int threads) {
    struct rlimit rl;
    if (getrlimit(RLIMIT_AS, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY) return threads;
    if (threads < 1) threads = 1;
    float *big = calloc((size_t)3 * SETTLE_N * SETTLE_N, sizeof(float));
    if (big) {
        openblas_set_num_threads(threads);
        cblas_sgemm(101, 111, 111, SETTLE_N, SETTLE_N, SETTLE_N, 1.0f, big, SETTLE_N, big + SETTLE_N * SETTLE_N,
                    SETTLE_N, 0.0f, big + 2 * SETTLE_N * SETTLE_N, SETTLE_N);
        free(big);
    }
    int got = threads > 1 ? sslua_pool_reserve(threads - 1) + 1 : 1;
    if (got > 1) {
        float *small = calloc((size_t)got * 3 * SETTLE_SMALL * SETTLE_SMALL, sizeof(float));
        if (small) {
            openblas_set_num_threads(1);
            pool_run_pinned(got, settle_small, small);
            free(small);
        }
    }
    openblas_set_num_threads(got < threads ? got : threads);
    return got < threads ? got : threads;
}

__attribute__((constructor)) static void sslua_cap_blas_threads(void) {
    int cap = sslua_thread_cap(), n = openblas_get_num_threads();
    if (cap >= n) { sslua_settle_threads(n); return; }
    /* the threads OpenBLAS already started take their buffers whatever the count: settle them
     * all (the gemm engages each), then use no more than the cap */
    sslua_settle_threads(n);
    openblas_set_num_threads(cap);
}

/* Runs chunk w on worker w (chunk 0 here): each worker's first gemm takes its BLAS buffer. */
static void pool_run_pinned(int chunks, sslua_chunk_fn fn, void *ctx) {
    int expected = 0;
    if (chunks <= 1 || in_region || !atomic_compare_exchange_strong(&busy, &expected, 1)) {
        for (int c = 0; c < chunks; c++) fn(ctx, c);
        return;
    }
    int workers = ensure_workers(chunks - 1);
    atomic_store(&done_count, 0);
    for (int w = 1; w <= workers && w < chunks; w++) {
        mailbox *box = &boxes[w];
        box->fn = fn;
        box->ctx = ctx;
        box->chunk = w;
        atomic_fetch_add(&box->seq, 1);
    }
    atomic_fetch_add(&job_seq, 1);   /* a sleeping worker waits on the region counter: move it */
    if (atomic_load(&sleepers) > 0) futex_wake(&job_seq, MAX_WORKERS);
    in_region = 1;
    fn(ctx, 0);
    for (int c = workers + 1; c < chunks; c++) fn(ctx, c);
    in_region = 0;
    int dispatched = workers < chunks - 1 ? workers : chunks - 1;
    int spins = 0;
    while (atomic_load_explicit(&done_count, memory_order_acquire) < dispatched) {
        if (++spins < SPIN_PAUSES) cpu_relax(); else sched_yield();
    }
    atomic_store(&busy, 0);
}

int sslua_pool_in_region(void) { return in_region; }

void sslua_pool_run(int chunks, sslua_chunk_fn fn, void *ctx) {
    int expected = 0;
    if (chunks <= 1 || in_region || !atomic_compare_exchange_strong(&busy, &expected, 1)) {
        for (int c = 0; c < chunks; c++) fn(ctx, c);
        return;
    }
    int workers = chunks < (int)CLAIM_CLOSED ? ensure_workers(chunks - 1) : 0;   /* callers pass a few hundred */
    if (workers == 0) {
        atomic_store(&busy, 0);
        for (int c = 0; c < chunks; c++) fn(ctx, c);
        return;
    }
    /* publish the region: the fields first, under a closed index, then open it */
    uint64_t gen = (atomic_load(&claim) >> CLAIM_BITS) + 1;
    atomic_store_explicit(&claim, (gen << CLAIM_BITS) | CLAIM_CLOSED, memory_order_release);
    atomic_store_explicit(&job_fn, fn, memory_order_relaxed);
    atomic_store_explicit(&job_ctx, ctx, memory_order_relaxed);
    atomic_store_explicit(&job_chunks, chunks, memory_order_relaxed);
    atomic_store_explicit(&chunks_done, 0, memory_order_relaxed);
    atomic_store_explicit(&claim, gen << CLAIM_BITS, memory_order_release);
    atomic_fetch_add(&job_seq, 1);   /* seq_cst, against the sleeper count read next (and the worker's mirror) */
    if (atomic_load(&sleepers) > 0) futex_wake(&job_seq, workers < chunks - 1 ? workers : chunks - 1);
    in_region = 1;
    run_claims();
    in_region = 0;
    /* wait for the chunks other threads are still running */
    int spins = 0;
    while (atomic_load_explicit(&chunks_done, memory_order_acquire) < chunks) {
        if (++spins < SPIN_PAUSES) cpu_relax(); else sched_yield();
    }
    atomic_store_explicit(&claim, (gen << CLAIM_BITS) | CLAIM_CLOSED, memory_order_release);
    atomic_store(&busy, 0);
}
