/* BF16 matrix products with FP32 accumulation (issue 22: `precision = "bf16"`), for CPUs with AVX512-BF16.
 *
 * Same contract as row-major cblas_sgemm: C[M,N] = alpha * op(A) op(B) + beta * C, op(A) [M,K], op(B) [K,N], lda/ldb/ldc
 * the row strides as stored. Both inputs are rounded to bfloat16 (round to nearest even, subnormals flushed to zero,
 * as VCVTNE2PS2BF16 does) and every product is accumulated in FP32 (VDPBF16PS: pairs of products, K in pairs).
 * Runs on the calling thread (the caller splits large products over threads, as it does for sgemm); the packing
 * buffers are per thread and reused. */
#ifndef PDPO_CBF16_H
#define PDPO_CBF16_H

#ifdef __cplusplus
extern "C" {
#endif

/* 1 when this CPU and OS run AVX512-F/BW/BF16 (CPUID and XCR0 checked once), else 0. */
int pdpo_bf16_available(void);

/* The product above. Must only be called when pdpo_bf16_available() is 1; M, N, K >= 1. */
void pdpo_bf16_gemm(int trans_a, int trans_b, int m, int n, int k, float alpha,
                    const float *a, int lda, const float *b, int ldb, float beta, float *c, int ldc);

/* x rounded to bfloat16 as the kernel rounds its inputs, returned as a float (for references and tests). */
float pdpo_bf16_round(float x);

#ifdef __cplusplus
}
#endif

#endif
