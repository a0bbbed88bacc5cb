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
/* spin iterations before sleeping: about a millisecond of pauses and yields */
#define SPIN_PAUSES 4096
#define SPIN_YIELDS 256

typedef struct {
    _Atomic uint32_t seq;      /* futex word: bumped once per job */
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
static void futex_wake(_Atomic uint32_t *w) {
    syscall(SYS_futex, (uint32_t *)w, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}
static inline void cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#else
    __asm__ __volatile__("" ::: "memory");
#endif
}

static void *worker_main(void *arg) {
    mailbox *box = &boxes[(intptr_t)arg];
    in_region = 1;   /* a kernel running on a worker never opens a nested region */
    uint32_t seen = 0;   /* a new worker's mailbox has had no job yet: its seq is 0 */
    for (;;) {
        int spins = 0;
        while (atomic_load_explicit(&box->seq, memory_order_acquire) == seen) {
            if (spins < SPIN_PAUSES) { cpu_relax(); spins++; continue; }
            if (spins < SPIN_PAUSES + SPIN_YIELDS) { sched_yield(); spins++; continue; }
            atomic_store(&box->sleeping, 1);
            if (atomic_load(&box->seq) == seen) futex_wait(&box->seq, seen);
            atomic_store(&box->sleeping, 0);
            spins = 0;
        }
        seen = atomic_load_explicit(&box->seq, memory_order_acquire);
        box->fn(box->ctx, box->chunk);
        atomic_fetch_add_explicit(&done_count, 1, memory_order_release);
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
            sslua_pool_run(got, settle_small, small);
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

void sslua_pool_run(int chunks, sslua_chunk_fn fn, void *ctx) {
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
        if (atomic_load(&box->sleeping)) futex_wake(&box->seq);
    }
    in_region = 1;
    fn(ctx, 0);
    /* chunks without a worker (thread creation failed) run here */
    for (int c = workers + 1; c < chunks; c++) fn(ctx, c);
    in_region = 0;
    int dispatched = workers < chunks - 1 ? workers : chunks - 1;
    int spins = 0;
    while (atomic_load_explicit(&done_count, memory_order_acquire) < dispatched) {
        if (++spins < SPIN_PAUSES) cpu_relax(); else sched_yield();
    }
    atomic_store(&busy, 0);
}
