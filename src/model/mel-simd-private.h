/* mel-simd-private.h — 8-wide float vectors and fast σ/tanh for the
 * element-wise kernels of the LSTM and attention layers (not installed).
 *
 * The same polynomial exp as the GRU kernels of mel-layers.c (Cephes expf:
 * range reduction to |r| ≤ ln2/2, degree-6 polynomial, ≤ 2 ulp on
 * [-87, 88], inputs clamped there), so that the scalar tail, the vector
 * body, the full forward and the sampling step compute bit-identical
 * functions on one machine.  tanh(x) = 1 − 2/(e^{2x} + 1): absolute error
 * ≤ 1.2e-7, saturating cleanly.
 *
 * MEL_DEFINE_DISPATCH (name, ArgType, body) defines `static void name (ArgType)`
 * that runs the ALWAYS_INLINE @body compiled for AVX2+FMA when the CPU has
 * them (and MELODIST_NO_AVX2 is unset), else compiled for the baseline ISA.
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include <glib.h>
#include <string.h>

typedef float MelV8f __attribute__ ((vector_size (32)));
typedef gint32 MelV8i __attribute__ ((vector_size (32)));

#define MEL_ALWAYS_INLINE static inline __attribute__ ((always_inline))

#define MEL_EXP_LO -87.0f
#define MEL_EXP_HI 88.0f
#define MEL_LOG2E 1.44269504088896341f
#define MEL_LN2_HI 0.693359375f
#define MEL_LN2_LO -2.12194440e-4f
#define MEL_ROUND_MAGIC 12582912.0f /* 1.5 · 2^23: adding it rounds to an integer */
#define MEL_EXP_P0 1.9875691500e-4f
#define MEL_EXP_P1 1.3981999507e-3f
#define MEL_EXP_P2 8.3334519073e-3f
#define MEL_EXP_P3 4.1665795894e-2f
#define MEL_EXP_P4 1.6666665459e-1f
#define MEL_EXP_P5 5.0000001201e-1f

MEL_ALWAYS_INLINE float
mel_fast_expf (float x)
{
  float t, n, r, p;
  gint32 bits;

  x = x < MEL_EXP_LO ? MEL_EXP_LO : x > MEL_EXP_HI ? MEL_EXP_HI : x;
  t = x * MEL_LOG2E + MEL_ROUND_MAGIC;
  n = t - MEL_ROUND_MAGIC;
  r = x - n * MEL_LN2_HI - n * MEL_LN2_LO;
  p = ((((MEL_EXP_P0 * r + MEL_EXP_P1) * r + MEL_EXP_P2) * r + MEL_EXP_P3) * r + MEL_EXP_P4) * r
      + MEL_EXP_P5;
  p = p * r * r + r + 1.0f;
  memcpy (&bits, &t, sizeof bits);
  bits = (gint32) ((guint32) (bits - 0x4B400000 + 127) << 23);
  memcpy (&t, &bits, sizeof t);
  return p * t;
}

MEL_ALWAYS_INLINE float
mel_fast_sigmoidf (float x)
{
  return 1.0f / (1.0f + mel_fast_expf (-x));
}

MEL_ALWAYS_INLINE float
mel_fast_tanhf (float x)
{
  return 1.0f - 2.0f / (mel_fast_expf (2.0f * x) + 1.0f);
}

MEL_ALWAYS_INLINE void
mel_v_load (MelV8f *v, const float *p)
{
  memcpy (v, p, sizeof *v);
}

MEL_ALWAYS_INLINE void
mel_v_store (float *p, const MelV8f *v)
{
  memcpy (p, v, sizeof *v);
}

/* The sum of the eight lanes, pairwise (the same order everywhere, so
 * kernels that share it round alike).  Vectors go by pointer: by value
 * they would change the ABI between the baseline and AVX2 builds of one
 * function (-Wpsabi). */
MEL_ALWAYS_INLINE float
mel_v_hsum (const MelV8f *v)
{
  float t[8];

  mel_v_store (t, v);
  return ((t[0] + t[4]) + (t[1] + t[5])) + ((t[2] + t[6]) + (t[3] + t[7]));
}

/* All eight lanes = @x (evaluated once). */
#define MEL_V_SPLAT(x) \
  ({ \
    float mel_splat_ = (x); \
    (MelV8f) { mel_splat_, mel_splat_, mel_splat_, mel_splat_, \
               mel_splat_, mel_splat_, mel_splat_, mel_splat_ }; \
  })

MEL_ALWAYS_INLINE void
mel_v_exp (MelV8f *x)
{
  const MelV8f lo = { MEL_EXP_LO, MEL_EXP_LO, MEL_EXP_LO, MEL_EXP_LO,
                      MEL_EXP_LO, MEL_EXP_LO, MEL_EXP_LO, MEL_EXP_LO };
  const MelV8f hi = { MEL_EXP_HI, MEL_EXP_HI, MEL_EXP_HI, MEL_EXP_HI,
                      MEL_EXP_HI, MEL_EXP_HI, MEL_EXP_HI, MEL_EXP_HI };
  MelV8f v = *x, t, n, r, p;
  MelV8i m, bits;

  m = v < lo;
  v = (MelV8f) (((MelV8i) v & ~m) | ((MelV8i) lo & m));
  m = v > hi;
  v = (MelV8f) (((MelV8i) v & ~m) | ((MelV8i) hi & m));
  t = v * MEL_LOG2E + MEL_ROUND_MAGIC;
  n = t - MEL_ROUND_MAGIC;
  r = v - n * MEL_LN2_HI - n * MEL_LN2_LO;
  p = ((((MEL_EXP_P0 * r + MEL_EXP_P1) * r + MEL_EXP_P2) * r + MEL_EXP_P3) * r + MEL_EXP_P4) * r
      + MEL_EXP_P5;
  p = p * r * r + r + 1.0f;
  bits = ((MelV8i) t - 0x4B400000 + 127) << 23;
  *x = p * (MelV8f) bits;
}

MEL_ALWAYS_INLINE void
mel_v_sigmoid (MelV8f *x)
{
  MelV8f e = -*x;

  mel_v_exp (&e);
  *x = 1.0f / (1.0f + e);
}

MEL_ALWAYS_INLINE void
mel_v_tanh (MelV8f *x)
{
  MelV8f e = 2.0f * *x;

  mel_v_exp (&e);
  *x = 1.0f - 2.0f / (e + 1.0f);
}

gboolean _mel_simd_use_avx2 (void);

/* y[m] += A[m × n] · x[n], A row-major with row stride @lda: the
 * matrix-vector product of single-sequence steps (sampling), four rows at
 * a time so that each load of x serves four rows.  Defined in
 * mel-lstm.c. */
void _mel_matvec (gsize m, gsize n, const float *a, gsize lda, const float *x, float *y);

#if defined(__x86_64__) && defined(__GNUC__)
#define MEL_DEFINE_DISPATCH(name, ArgType, body) \
  static void name##_generic (ArgType a) { body (a); } \
  __attribute__ ((target ("avx2,fma"))) static void name##_avx2 (ArgType a) { body (a); } \
  static void name (ArgType a) \
  { \
    if (_mel_simd_use_avx2 ()) \
      name##_avx2 (a); \
    else \
      name##_generic (a); \
  }
#else
#define MEL_DEFINE_DISPATCH(name, ArgType, body) \
  static void name (ArgType a) { body (a); }
#endif
