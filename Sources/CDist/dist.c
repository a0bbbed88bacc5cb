// MPI through dlopen/dlsym (see include/CDist.h). Open MPI's handles (MPI_COMM_WORLD,
// MPI_FLOAT, MPI_SUM, ...) are the addresses of global objects in libmpi, e.g.
// `#define MPI_COMM_WORLD OMPI_PREDEFINED_GLOBAL(MPI_Comm, ompi_mpi_comm_world)` in mpi.h,
// so dlsym of the object's name gives the handle itself.
#define _GNU_SOURCE
#include "CDist.h"
#include <dlfcn.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef void *Handle;
static int (*p_Init)(int *, char ***);
static int (*p_Initialized)(int *);
static int (*p_Finalized)(int *);
static int (*p_Finalize)(void);
static int (*p_Abort)(Handle, int);
static int (*p_Comm_rank)(Handle, int *);
static int (*p_Comm_size)(Handle, int *);
static int (*p_Comm_set_errhandler)(Handle, Handle);
static int (*p_Allreduce)(const void *, void *, int, Handle, Handle, Handle);
static int (*p_Allgatherv)(const void *, int, Handle, void *, const int *, const int *, Handle, Handle);
static int (*p_Bcast)(void *, int, Handle, int, Handle);
static int (*p_Barrier)(Handle);
static int (*p_Error_string)(int, char *, int *);
static double (*p_Wtime)(void);
static Handle h_comm, h_float, h_double, h_sum, h_max, h_min, h_errors_return;
static int g_active, g_rank, g_size = 1;

#define IN_PLACE ((void *)1)   /* MPI_IN_PLACE in Open MPI's mpi.h */
/// Largest element count per MPI call (MPI counts are int).
static long long g_chunk = (long long)INT_MAX / 8 * 8;

static void set_err(char *err, int errlen, const char *fmt, const char *a, const char *b) {
    if (err && errlen > 0) snprintf(err, (size_t)errlen, fmt, a ? a : "", b ? b : "");
}

static int mpi_fail(int code, const char *what, char *err, int errlen) {
    char msg[1024] = "unknown error";
    int len = 0;
    if (p_Error_string && p_Error_string(code, msg, &len) == 0 && len >= 0 && len < (int)sizeof msg) msg[len] = 0;
    set_err(err, errlen, "%s failed: %s", what, msg);
    return 1;
}

static void on_exit_hook(int status, void *arg) {
    (void)arg;
    if (!g_active) return;
    int fin = 0;
    if (p_Finalized && p_Finalized(&fin) == 0 && fin) return;
    g_active = 0;
    if (status != 0) p_Abort(h_comm, status);
    else p_Finalize();
}

#define SYM(var, name) do { *(void **)(&var) = dlsym(lib, name); \
    if (!var) { set_err(err, errlen, "%s has no symbol '%s' (sslua.dist needs Open MPI's libmpi.so.40)", path, name); return 1; } } while (0)

int sslua_dist_init(const char *path, int *rank, int *size, char *err, int errlen) {
    if (g_active) { *rank = g_rank; *size = g_size; return 0; }
    if (!path) path = "libmpi.so.40";
    // RTLD_GLOBAL: Open MPI's components are plugins that resolve symbols of libmpi itself.
    void *lib = dlopen(path, RTLD_NOW | RTLD_GLOBAL);
    if (!lib) { set_err(err, errlen, "cannot load MPI (%s): %s", path, dlerror()); return 1; }
    SYM(p_Init, "MPI_Init"); SYM(p_Initialized, "MPI_Initialized"); SYM(p_Finalized, "MPI_Finalized");
    SYM(p_Finalize, "MPI_Finalize"); SYM(p_Abort, "MPI_Abort");
    SYM(p_Comm_rank, "MPI_Comm_rank"); SYM(p_Comm_size, "MPI_Comm_size");
    SYM(p_Comm_set_errhandler, "MPI_Comm_set_errhandler");
    SYM(p_Allreduce, "MPI_Allreduce"); SYM(p_Allgatherv, "MPI_Allgatherv");
    SYM(p_Bcast, "MPI_Bcast"); SYM(p_Barrier, "MPI_Barrier");
    SYM(p_Error_string, "MPI_Error_string"); SYM(p_Wtime, "MPI_Wtime");
    SYM(h_comm, "ompi_mpi_comm_world"); SYM(h_float, "ompi_mpi_float"); SYM(h_double, "ompi_mpi_double");
    SYM(h_sum, "ompi_mpi_op_sum"); SYM(h_max, "ompi_mpi_op_max"); SYM(h_min, "ompi_mpi_op_min");
    SYM(h_errors_return, "ompi_mpi_errors_return");
    int fin = 0;
    if (p_Finalized(&fin) == 0 && fin) { set_err(err, errlen, "MPI was already finalized%s%s", 0, 0); return 1; }
    int inited = 0;
    p_Initialized(&inited);
    if (!inited) {
        int rc = p_Init(NULL, NULL);
        if (rc != 0) return mpi_fail(rc, "MPI_Init", err, errlen);
    }
    int rc = p_Comm_set_errhandler(h_comm, h_errors_return);
    if (rc != 0) return mpi_fail(rc, "MPI_Comm_set_errhandler", err, errlen);
    if ((rc = p_Comm_rank(h_comm, &g_rank)) != 0) return mpi_fail(rc, "MPI_Comm_rank", err, errlen);
    if ((rc = p_Comm_size(h_comm, &g_size)) != 0) return mpi_fail(rc, "MPI_Comm_size", err, errlen);
    g_active = 1;
    on_exit(on_exit_hook, NULL);
    *rank = g_rank; *size = g_size;
    return 0;
}

int sslua_dist_active(void) { return g_active; }

static int check_active(char *err, int errlen) {
    if (!g_active) { set_err(err, errlen, "MPI is not initialized%s%s", 0, 0); return 1; }
    return 0;
}

static Handle dtype_of(int d) { return d == 1 ? h_double : h_float; }
static size_t esize(int d) { return d == 1 ? 8 : 4; }

int sslua_dist_allreduce(void *buf, long long count, int dtype, int op, char *err, int errlen) {
    if (check_active(err, errlen)) return 1;
    Handle o = op == 1 ? h_max : op == 2 ? h_min : h_sum;
    char *p = buf;
    for (long long done = 0; done < count; ) {
        long long n = count - done < g_chunk ? count - done : g_chunk;
        int rc = p_Allreduce(IN_PLACE, p + (size_t)done * esize(dtype), (int)n, dtype_of(dtype), o, h_comm);
        if (rc != 0) return mpi_fail(rc, "MPI_Allreduce", err, errlen);
        done += n;
    }
    return 0;
}

int sslua_dist_bcast(void *buf, long long count, int dtype, int root, char *err, int errlen) {
    if (check_active(err, errlen)) return 1;
    char *p = buf;
    for (long long done = 0; done < count; ) {
        long long n = count - done < g_chunk ? count - done : g_chunk;
        int rc = p_Bcast(p + (size_t)done * esize(dtype), (int)n, dtype_of(dtype), root, h_comm);
        if (rc != 0) return mpi_fail(rc, "MPI_Bcast", err, errlen);
        done += n;
    }
    return 0;
}

int sslua_dist_allgather(const void *send, long long sendcount, void *recv,
                         const long long *counts, int dtype, char *err, int errlen) {
    if (check_active(err, errlen)) return 1;
    size_t es = esize(dtype);
    int fits = 1;
    long long total = 0;
    for (int r = 0; r < g_size; r++) {
        if (counts[r] > INT_MAX || total > INT_MAX) fits = 0;
        total += counts[r];
    }
    if (total > INT_MAX) fits = 0;
    if (fits) {
        int *ic = malloc(sizeof(int) * (size_t)g_size * 2);
        if (!ic) { set_err(err, errlen, "out of memory%s%s", 0, 0); return 1; }
        long long d = 0;
        for (int r = 0; r < g_size; r++) { ic[r] = (int)counts[r]; ic[g_size + r] = (int)d; d += counts[r]; }
        // Own block copied by MPI from `send` (not in place: `send` is a separate buffer).
        int rc = p_Allgatherv(sendcount > 0 ? send : recv, (int)sendcount, dtype_of(dtype), recv, ic, ic + g_size,
                              dtype_of(dtype), h_comm);
        free(ic);
        if (rc != 0) return mpi_fail(rc, "MPI_Allgatherv", err, errlen);
        return 0;
    }
    // Too large for int counts or displacements: each rank's block broadcast in chunks.
    long long off = 0;
    for (int r = 0; r < g_size; r++) {
        char *dst = (char *)recv + (size_t)off * es;
        if (r == g_rank && sendcount > 0) memcpy(dst, send, (size_t)sendcount * es);
        if (sslua_dist_bcast(dst, counts[r], dtype, r, err, errlen)) return 1;
        off += counts[r];
    }
    return 0;
}

int sslua_dist_barrier(char *err, int errlen) {
    if (check_active(err, errlen)) return 1;
    int rc = p_Barrier(h_comm);
    if (rc != 0) return mpi_fail(rc, "MPI_Barrier", err, errlen);
    return 0;
}

double sslua_dist_wtime(void) {
    if (p_Wtime) return p_Wtime();
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}
