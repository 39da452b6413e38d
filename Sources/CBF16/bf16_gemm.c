/* BF16 GEMM with FP32 accumulation on AVX512-BF16 (contract in include/CBF16.h).
 *
 * Why hand-written: the Debian OpenBLAS (0.3.21) exports no cblas_sbgemm, and no other BLAS is available here.
 * Structure (as a Goto/BLIS GEMM, one level): K in blocks of KC2 pairs; per block, op(A) is converted and packed
 * once as [M/8][pairs][8 rows] (each 32-bit word the bf16 pair (k = 2p, 2p + 1) of one row), then op(B) in panels of
 * NC columns as [strips of 32][pairs][32 columns]; an 8 x 32 register tile (16 FP32 accumulators, VDPBF16PS: two
 * products per lane and instruction) runs over each (row block, strip). Measured against OpenBLAS sgemm in
 * docs/PERF.md ("A BF16 GEMM probe", scripts/probes/bf16_gemm.c). */
#include "CBF16.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__)
#include <cpuid.h>
#include <immintrin.h>
#define PDPO_BF16_X86 1
#endif

enum { KC2 = 256, NC = 128 };   /* pairs of K per block (K 512), columns per B panel (4 strips of 32) */

float pdpo_bf16_round(float x) {
    uint32_t u;
    memcpy(&u, &x, 4);
    uint32_t e = u & 0x7f800000u;
    if (e == 0x7f800000u) {
        u = (u & 0x007fffffu) ? ((u | 0x00400000u) & 0xffff0000u) : (u & 0xffff0000u);   /* NaN stays quiet NaN */
    } else if (e == 0) {
        u &= 0x80000000u;                                                               /* subnormal -> signed 0 */
    } else {
        u = (u + 0x7fffu + ((u >> 16) & 1u)) & 0xffff0000u;                            /* to nearest, ties to even */
    }
    float r;
    memcpy(&r, &u, 4);
    return r;
}

#if PDPO_BF16_X86

int pdpo_bf16_available(void) {
    static int cached = -1;
    int v = __atomic_load_n(&cached, __ATOMIC_RELAXED);
    if (v >= 0) return v;
    unsigned a, b, c, d;
    int ok = 0;
    if (__get_cpuid(1, &a, &b, &c, &d) && (c & (1u << 27))) {             /* OSXSAVE */
        unsigned lo, hi;
        __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
        int os_zmm = (lo & 0xe6u) == 0xe6u;                                 /* XMM, YMM, opmask, ZMM state */
        unsigned b7 = 0, a71 = 0;
        if (__get_cpuid_count(7, 0, &a, &b, &c, &d)) b7 = b;
        if (__get_cpuid_count(7, 1, &a, &b, &c, &d)) a71 = a;
        ok = os_zmm && (b7 & (1u << 16)) && (b7 & (1u << 30)) && (a71 & (1u << 5));   /* AVX512F, BW, BF16 */
    }
    __atomic_store_n(&cached, ok, __ATOMIC_RELAXED);
    return ok;
}

/* Per-thread packing buffers, grown on demand and reused (never shrunk: bounded by the largest block). */
static _Thread_local uint32_t *tl_a, *tl_b;
static _Thread_local size_t tl_a_words, tl_b_words;

static uint32_t *buffer(uint32_t **p, size_t *have, size_t words) {
    if (words > *have) {
        free(*p);
        void *q = NULL;
        if (posix_memalign(&q, 64, words * 4) != 0) abort();
        *p = q;
        *have = words;
    }
    return *p;
}

static inline __mmask16 first(int count) {
    return count >= 16 ? (__mmask16)0xffff : count <= 0 ? (__mmask16)0 : (__mmask16)((1u << count) - 1);
}

/* The 16-bit lanes that interleave [lo 0..15 | hi 0..15] into 16 pairs (lo i, hi i). */
static const short interleave_lanes[32] = {0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23,
                                           8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31};

/* Lane i of lo and of hi, rounded to bf16, as the 32-bit pair (lo i low, hi i high), for i < 16: two stored rows of K
 * (k = 2p and 2p + 1) side by side, as the kernel reads them. */
__attribute__((target("avx512f,avx512bw,avx512bf16")))
static inline __m512i interleave_pairs(__m512 lo, __m512 hi) {
    return _mm512_permutexvar_epi16(_mm512_loadu_si512(interleave_lanes), (__m512i)_mm512_cvtne2ps_pbh(hi, lo));
}

/* The pairs [p0, p0 + kc2) of one row of K elements stored contiguously (a pair is two neighbours), placed at
 * out[p * stride] (p from 0), zero beyond k; row NULL places zeros (an edge row or column). Sixteen pairs are
 * converted at once and placed one by one: a scatter is slower on Zen 4. */
__attribute__((target("avx512f,avx512bw,avx512bf16")))
static void place_row_pairs(const float *row, int k, int p0, int kc2, uint32_t *out, int stride) {
    if (!row) {
        for (int p = 0; p < kc2; p++) out[(size_t)p * stride] = 0;
        return;
    }
    uint32_t tmp[16];
    for (int p = 0; p < kc2; p += 16) {
        int e = 2 * (p0 + p), left = k - e;                   /* first element of these 16 pairs, elements still valid */
        __m512 lo = _mm512_maskz_loadu_ps(first(left), row + e);
        __m512 hi = _mm512_maskz_loadu_ps(first(left - 16), row + e + 16);
        _mm512_storeu_si512(tmp, (__m512i)_mm512_cvtne2ps_pbh(hi, lo));
        int count = kc2 - p < 16 ? kc2 - p : 16;
        for (int q = 0; q < count; q++) out[(size_t)(p + q) * stride] = tmp[q];
    }
}

/* op(A) rows [0, m), pairs [p0, p0 + kc2) -> [ceil(m/8)][kc2][8], zero beyond m and k. Vector conversion (the same
 * rounding as B's); A = the weights in a convolution, the activations in a linear layer, so it is not always small. */
__attribute__((target("avx512f,avx512bw,avx512bf16")))
static void pack_a(int trans, const float *a, int lda, int m, int k, int p0, int kc2, uint32_t *out) {
    int blocks = (m + 7) / 8;
    for (int mb = 0; mb < blocks; mb++) {
        uint32_t *o = out + (size_t)mb * kc2 * 8;
        int r0 = mb * 8;
        if (trans) {
            /* A stored [K, M]: the 8 rows of a block are 8 neighbours in each stored row k. */
            __mmask16 rows = first(m - r0 < 8 ? m - r0 : 8);
            for (int p = 0; p < kc2; p++) {
                int k0 = 2 * (p0 + p);
                __m512 lo = _mm512_maskz_loadu_ps(rows, a + (size_t)k0 * lda + r0);
                __m512 hi = k0 + 1 < k ? _mm512_maskz_loadu_ps(rows, a + (size_t)(k0 + 1) * lda + r0) : _mm512_setzero_ps();
                _mm512_mask_storeu_epi32(o + (size_t)p * 8, (__mmask16)0xff, interleave_pairs(lo, hi));
            }
        } else {
            /* A stored [M, K]: a pair is two neighbours of a row. */
            for (int i = 0; i < 8; i++)
                place_row_pairs(r0 + i < m ? a + (size_t)(r0 + i) * lda : NULL, k, p0, kc2, o + i, 8);
        }
    }
}

/* op(B) = B [K, N] stored row-major: columns [n0, n0 + nc), pairs [p0, p0 + kc2) -> [strips][kc2][32]. */
__attribute__((target("avx512f,avx512bw,avx512bf16")))
static void pack_b_rows(const float *b, int ldb, int k, int n0, int nc, int p0, int kc2, uint32_t *out) {
    int strips = (nc + 31) / 32;
    for (int p = 0; p < kc2; p++) {
        int k0 = 2 * (p0 + p);
        const float *r0 = b + (size_t)k0 * ldb + n0, *r1 = r0 + ldb;
        int has1 = k0 + 1 < k;
        for (int s = 0; s < strips; s++) {
            uint32_t *o = out + ((size_t)s * kc2 + p) * 32;
            for (int h = 0; h < 2; h++) {
                int c = s * 32 + h * 16;
                __mmask16 mk = first(nc - c);
                __m512 v0 = _mm512_maskz_loadu_ps(mk, r0 + c);
                __m512 v1 = has1 ? _mm512_maskz_loadu_ps(mk, r1 + c) : _mm512_setzero_ps();
                _mm512_storeu_si512(o + h * 16, interleave_pairs(v0, v1));
            }
        }
    }
}

/* op(B) = B^T, B [N, K] stored row-major: element (kk, j) = b[j * ldb + kk], so a pair is two neighbours of row j. */
__attribute__((target("avx512f,avx512bw,avx512bf16")))
static void pack_b_cols(const float *b, int ldb, int k, int n0, int nc, int p0, int kc2, uint32_t *out) {
    int strips = (nc + 31) / 32;
    for (int s = 0; s < strips; s++)
        for (int jj = 0; jj < 32; jj++) {
            int j = s * 32 + jj;
            place_row_pairs(j < nc ? b + (size_t)(n0 + j) * ldb : NULL, k, p0, kc2, out + (size_t)s * kc2 * 32 + jj, 32);
        }
}

/* C rows [0, mr) x columns [0, nr) = alpha * (packed 8 x 32 tile product) + beta * C (C not read when beta is 0). */
__attribute__((target("avx512f,avx512bw,avx512bf16")))
static void kernel_8x32(int kc2, const uint32_t *ap, const uint32_t *bp, float *c, int ldc, int mr, int nr,
                        float alpha, float beta) {
    __m512 c00 = _mm512_setzero_ps(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00;
    __m512 c40 = c00, c41 = c00, c50 = c00, c51 = c00, c60 = c00, c61 = c00, c70 = c00, c71 = c00;
    for (int p = 0; p < kc2; p++) {
        __m512bh b0 = (__m512bh)_mm512_load_si512(bp + (size_t)p * 32);
        __m512bh b1 = (__m512bh)_mm512_load_si512(bp + (size_t)p * 32 + 16);
        const uint32_t *a = ap + (size_t)p * 8;
#define PDPO_ROW(i, x0, x1)                                                   \
        {                                                                     \
            __m512bh ai = (__m512bh)_mm512_set1_epi32((int)a[i]);             \
            x0 = _mm512_dpbf16_ps(x0, ai, b0);                                \
            x1 = _mm512_dpbf16_ps(x1, ai, b1);                                \
        }
        PDPO_ROW(0, c00, c01) PDPO_ROW(1, c10, c11) PDPO_ROW(2, c20, c21) PDPO_ROW(3, c30, c31)
        PDPO_ROW(4, c40, c41) PDPO_ROW(5, c50, c51) PDPO_ROW(6, c60, c61) PDPO_ROW(7, c70, c71)
#undef PDPO_ROW
    }
    __m512 acc[8][2] = {{c00, c01}, {c10, c11}, {c20, c21}, {c30, c31},
                        {c40, c41}, {c50, c51}, {c60, c61}, {c70, c71}};
    __mmask16 m0 = first(nr), m1 = first(nr - 16);
    __m512 va = _mm512_set1_ps(alpha), vb = _mm512_set1_ps(beta);
    for (int i = 0; i < mr; i++) {
        float *row = c + (size_t)i * ldc;
        __m512 y0 = _mm512_mul_ps(va, acc[i][0]), y1 = _mm512_mul_ps(va, acc[i][1]);
        if (beta != 0) {
            y0 = _mm512_fmadd_ps(vb, _mm512_maskz_loadu_ps(m0, row), y0);
            y1 = _mm512_fmadd_ps(vb, _mm512_maskz_loadu_ps(m1, row + 16), y1);
        }
        _mm512_mask_storeu_ps(row, m0, y0);
        _mm512_mask_storeu_ps(row + 16, m1, y1);
    }
}

void pdpo_bf16_gemm(int trans_a, int trans_b, int m, int n, int k, float alpha,
                    const float *a, int lda, const float *b, int ldb, float beta, float *c, int ldc) {
    if (!pdpo_bf16_available() || m < 1 || n < 1 || k < 1) abort();
    int k2 = (k + 1) / 2, blocks = (m + 7) / 8;
    int kcmax = k2 < KC2 ? k2 : KC2;
    uint32_t *ap = buffer(&tl_a, &tl_a_words, (size_t)blocks * 8 * kcmax);
    uint32_t *bp = buffer(&tl_b, &tl_b_words, (size_t)NC * ((kcmax + 15) / 16 * 16));
    for (int p0 = 0; p0 < k2; p0 += KC2) {
        int kc2 = k2 - p0 < KC2 ? k2 - p0 : KC2;
        float bet = p0 == 0 ? beta : 1.0f;                     /* later K blocks add to the first one's result */
        pack_a(trans_a, a, lda, m, k, p0, kc2, ap);
        for (int n0 = 0; n0 < n; n0 += NC) {
            int nc = n - n0 < NC ? n - n0 : NC;
            if (trans_b) pack_b_cols(b, ldb, k, n0, nc, p0, kc2, bp);
            else pack_b_rows(b, ldb, k, n0, nc, p0, kc2, bp);
            int strips = (nc + 31) / 32;
            for (int mb = 0; mb < blocks; mb++) {
                int mr = m - mb * 8 < 8 ? m - mb * 8 : 8;
                for (int s = 0; s < strips; s++) {
                    int nr = nc - s * 32 < 32 ? nc - s * 32 : 32;
                    kernel_8x32(kc2, ap + (size_t)mb * kc2 * 8, bp + (size_t)s * kc2 * 32,
                                c + (size_t)mb * 8 * ldc + n0 + s * 32, ldc, mr, nr, alpha, bet);
                }
            }
        }
    }
}

#else

int pdpo_bf16_available(void) { return 0; }

void pdpo_bf16_gemm(int trans_a, int trans_b, int m, int n, int k, float alpha,
                    const float *a, int lda, const float *b, int ldb, float beta, float *c, int ldc) {
    (void)trans_a; (void)trans_b; (void)m; (void)n; (void)k; (void)alpha;
    (void)a; (void)lda; (void)b; (void)ldb; (void)beta; (void)c; (void)ldc;
    abort();   /* callers check pdpo_bf16_available() first */
}

#endif
