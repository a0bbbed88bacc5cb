/* Reference for bench/ops: a direct cblas_sgemm at 2048x2048 (best of 7, 'sgemm ms'). */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}
static int cmp(const void *x, const void *y) {
    double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}

int main(int argc, char **argv) {
    int n = 2048, threads = argc > 1 ? atoi(argv[1]) : 2;
    openblas_set_num_threads(threads);
    float *a = malloc(sizeof(float) * n * n), *b = malloc(sizeof(float) * n * n);
    for (long i = 0; i < (long)n * n; i++) { a[i] = (float)rand() / RAND_MAX - 0.5f; b[i] = (float)rand() / RAND_MAX - 0.5f; }
    double t[7];
    for (int r = -2; r < 7; r++) {
        float *c = calloc((size_t)n * n, sizeof(float));  /* a fresh output each call, as sslua */
        double t0 = now();
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1, a, n, b, n, 0, c, n);
        if (r >= 0) t[r] = now() - t0;
        free(c);
    }
    qsort(t, 7, sizeof(double), cmp);
    printf("sgemm %.4f\n", t[0] * 1000);
    return 0;
}
