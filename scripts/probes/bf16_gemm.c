/* Probe for issue 22's BF16 item (not part of the build): how fast can an AVX512-BF16 GEMM run here against
 * OpenBLAS's sgemm on the U-Net's GEMM shapes? C[M,N] = A[M,K] B[K,N] (A = the weights, converted and packed once;
 * B = the activations, e.g. im2col, converted and packed per call), FP32 accumulation (VDPBF16PS).
 *   gcc -O3 -march=native -o /tmp/bf16_gemm scripts/probes/bf16_gemm.c -lopenblas -lm
 *   OPENBLAS_NUM_THREADS=1 /tmp/bf16_gemm M N K reps
 * Prints GFLOP/s of sgemm, of the BF16 kernel alone (B packed before timing) and with B's packing, and the
 * relative RMS difference between the two results (the bf16 rounding of the inputs). Single-threaded on purpose:
 * a per-core figure; M must be a multiple of 8, N of 32, K even (a probe, not a library). */
#include <cblas.h>
#include <immintrin.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec * 1e-9; }

/* A [M,K] row-major -> [M/8][K/2][8] 32-bit pairs (bf16 of a[m][2k] low, a[m][2k+1] high). */
__attribute__((target("avx512f,avx512bf16")))
static void pack_a(const float *a, int m, int k, uint32_t *out) {
    for (int mb = 0; mb < m / 8; mb++)
        for (int p = 0; p < k / 2; p++)
            for (int i = 0; i < 8; i++) {
                const float *r = a + (long)(mb * 8 + i) * k + 2 * p;
                __m128bh v = _mm_cvtneps_pbh(_mm_set_ps(0, 0, r[1], r[0]));
                uint32_t u; memcpy(&u, &v, 4);
                out[((long)mb * (k / 2) + p) * 8 + i] = u;
            }
}

/* B [K,N] row-major -> [N/32][K/2][32 columns][2] bf16: rows 2p and 2p+1 interleaved per column. */
__attribute__((target("avx512f,avx512bw,avx512bf16")))
static void pack_b(const float *b, int k, int n, uint16_t *out) {
    static const short lanes[32] = {0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23,
                                    8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31};
    const __m512i idx = _mm512_loadu_si512(lanes);
    for (int p = 0; p < k / 2; p++) {
        const float *r0 = b + (long)(2 * p) * n, *r1 = r0 + n;
        for (int nb = 0; nb < n / 32; nb++) {
            uint16_t *o = out + ((long)nb * (k / 2) + p) * 64;
            for (int h = 0; h < 2; h++) {
                int c = nb * 32 + h * 16;
                __m512bh two = _mm512_cvtne2ps_pbh(_mm512_loadu_ps(r1 + c), _mm512_loadu_ps(r0 + c));
                _mm512_storeu_si512(o + h * 32, _mm512_permutexvar_epi16(idx, (__m512i)two));
            }
        }
    }
}

/* C[8, 32] (leading dimension ldc) = the 8 x 32 tile of A_packed x B_packed over K/2 pairs. */
__attribute__((target("avx512f,avx512bf16")))
static void kernel_8x32(int k2, const uint32_t *a, const uint16_t *b, float *c, int ldc) {
    __m512 acc[8][2];
    for (int i = 0; i < 8; i++) { acc[i][0] = _mm512_setzero_ps(); acc[i][1] = _mm512_setzero_ps(); }
    for (int p = 0; p < k2; p++) {
        __m512bh b0 = (__m512bh)_mm512_loadu_si512(b + p * 64), b1 = (__m512bh)_mm512_loadu_si512(b + p * 64 + 32);
        for (int i = 0; i < 8; i++) {
            __m512bh ai = (__m512bh)_mm512_set1_epi32((int)a[p * 8 + i]);
            acc[i][0] = _mm512_dpbf16_ps(acc[i][0], ai, b0);
            acc[i][1] = _mm512_dpbf16_ps(acc[i][1], ai, b1);
        }
    }
    for (int i = 0; i < 8; i++) { _mm512_storeu_ps(c + (long)i * ldc, acc[i][0]); _mm512_storeu_ps(c + (long)i * ldc + 16, acc[i][1]); }
}

static void gemm(int m, int n, int k, const uint32_t *ap, const uint16_t *bp, float *c) {
    for (int nb = 0; nb < n / 32; nb++)
        for (int mb = 0; mb < m / 8; mb++)
            kernel_8x32(k / 2, ap + (long)mb * (k / 2) * 8, bp + (long)nb * (k / 2) * 64, c + (long)mb * 8 * n + nb * 32, n);
}

int main(int argc, char **argv) {
    if (argc != 5) { fprintf(stderr, "usage: %s M N K reps\n", argv[0]); return 64; }
    int m = atoi(argv[1]), n = atoi(argv[2]), k = atoi(argv[3]), reps = atoi(argv[4]);
    if (m % 8 || n % 32 || k % 2 || reps < 1) { fprintf(stderr, "M %% 8, N %% 32, K %% 2 must be 0\n"); return 64; }
    if (!__builtin_cpu_supports("avx512bf16")) { fprintf(stderr, "no avx512bf16 on this CPU\n"); return 69; }
    float *a = malloc(4L * m * k), *b = malloc(4L * k * n), *c = malloc(4L * m * n), *c2 = malloc(4L * m * n);
    uint32_t *ap = malloc(4L * m * k / 2); uint16_t *bp = malloc(2L * k * n);
    srand(1);
    for (long i = 0; i < (long)m * k; i++) a[i] = rand() / (float)RAND_MAX - 0.5f;
    for (long i = 0; i < (long)k * n; i++) b[i] = rand() / (float)RAND_MAX - 0.5f;
    pack_a(a, m, k, ap);
    pack_b(b, k, n, bp);
    double t0 = now();
    for (int r = 0; r < reps; r++) cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, n, k, 1, a, k, b, n, 0, c2, n);
    double t1 = now();
    for (int r = 0; r < reps; r++) gemm(m, n, k, ap, bp, c);
    double t2 = now();
    for (int r = 0; r < reps; r++) { pack_b(b, k, n, bp); gemm(m, n, k, ap, bp, c); }
    double t3 = now();
    double flops = 2.0 * m * n * k * reps, err = 0, ref = 0;
    for (long i = 0; i < (long)m * n; i++) { double d = c[i] - c2[i]; err += d * d; ref += (double)c2[i] * c2[i]; }
    printf("M %d N %d K %d: sgemm %.1f GFLOP/s, bf16 kernel %.1f, bf16 with B packing %.1f; relative RMS difference %.2e\n",
           m, n, k, flops / (t1 - t0) / 1e9, flops / (t2 - t1) / 1e9, flops / (t3 - t2) / 1e9, sqrt(err / ref));
    return 0;
}
