/* mel-attention.c — multi-head self-attention (see mel-attention.h).
 *
 * The projections (x → q k v, heads → out) are GEMMs over all rows.  The
 * per-sequence, per-head products (forward S = Q·Kᵀ and Y = P·V, backward
 * ∂P = ∂Y·Vᵀ, ∂Q = ∂S·K, ∂K = ∂Sᵀ·Q and ∂V = Pᵀ·∂Y: T × T × d each,
 * d = D / heads) are our own register-blocked loops, not BLAS calls: they
 * are small (64³), there are six per sequence and head, and OpenBLAS
 * serialises concurrent small calls on its buffer allocator, which stopped
 * the model scaling across worker threads.
 *
 * In the time-major buffers the T rows of one sequence lie a whole batch
 * of rows apart, a new page per row, and walking them head by head cost
 * far more than the arithmetic.  So each sequence first copies q, k, v (or
 * ∂y) of all its heads, in one pass along each row, into contiguous
 * [T × d'] blocks, d' = d rounded up to 8 with zero columns (which change
 * no dot product), and each head transposes K (forward) or V (backward)
 * for the products that run along T; the results are copied back the same
 * way.  (Prefetching the next sequence's rows, huge pages and keeping the
 * forward's packed copy for the backward were measured and gained
 * nothing: the copies run at the machine's memory bandwidth.)
 *
 * Every product is then C = A·B with B's rows contiguous and A read one
 * scalar at a time and broadcast (A may be read transposed: that is how
 * Pᵀ and ∂Sᵀ are used), computed in tiles of TILE_M rows × 16 columns
 * held in 8 registers (two FMA pipes of latency 4).  The causal case
 * skips the masked triangle tile by tile, and the softmax and its
 * backward run on each strip of TILE_M score rows while it is in L1.
 *
 * SPDX-License-Identifier: MIT
 */
#include "mel-attention.h"

#include <math.h>
#include <string.h>

#include "mel-blas.h"
#include "mel-simd-private.h"

/* Rows per register tile; also the height of the score strips. */
#define TILE_M 4

gsize
mel_attention_n_params (gsize dim)
{
  return 3 * dim * dim + 3 * dim + dim * dim + dim;
}

float *
mel_attention_bind (MelAttentionTensors *t, float *base, gsize dim)
{
  t->w_qkv = base;
  t->b_qkv = t->w_qkv + 3 * dim * dim;
  t->w_out = t->b_qkv + 3 * dim;
  t->b_out = t->w_out + dim * dim;
  return t->b_out + dim;
}

void
mel_attention_init_params (const MelAttentionTensors *t, gsize dim, MelRng *rng)
{
  float bound = 1.0f / sqrtf ((float) dim);

  mel_rng_fill_uniform (rng, t->w_qkv, mel_attention_n_params (dim), bound);
}

void
mel_attention_layer_init (MelAttentionLayer *layer, gsize dim, gsize n_heads, gboolean causal,
                          const MelAttentionTensors *params, const MelAttentionTensors *grads)
{
  g_return_if_fail (n_heads >= 1 && dim % n_heads == 0);

  memset (layer, 0, sizeof *layer);
  layer->dim = dim;
  layer->n_heads = n_heads;
  layer->causal = causal;
  layer->params = params;
  layer->grads = grads;
}

void
mel_attention_layer_clear (MelAttentionLayer *layer)
{
  g_clear_pointer (&layer->qkv, g_free);
  g_clear_pointer (&layer->probs, g_free);
  g_clear_pointer (&layer->y, g_free);
  g_clear_pointer (&layer->out, g_free);
  g_clear_pointer (&layer->dqkv, g_free);
  g_clear_pointer (&layer->dy, g_free);
  g_clear_pointer (&layer->dp, g_free);
  g_clear_pointer (&layer->head_work, g_aligned_free);
  layer->capacity = layer->probs_capacity = layer->dp_capacity = 0;
  layer->head_work_capacity = 0;
}

static inline gsize
round_up8 (gsize n)
{
  return (n + 7) & ~(gsize) 7;
}

/* The work buffer: blocks of [T' × d'] floats (T' = T and d' = D / heads
 * rounded up to 8) for one sequence: q, k, v of every head, then its y
 * or ∂y, then (backward) its ∂q, ∂k, ∂v, then Kᵀ or Vᵀ of the current
 * head; then a TILE_M × T' strip of scores. */
static gsize
work_size (gsize steps, gsize dh, gsize n_heads)
{
  gsize tp = round_up8 (steps), dhp = round_up8 (dh);

  return (7 * n_heads + 1) * tp * dhp + TILE_M * tp;
}

static void
attention_reserve (MelAttentionLayer *layer, gsize steps, gsize batch)
{
  gsize rows = steps * batch, d = layer->dim;
  gsize probs = batch * layer->n_heads * steps * steps;
  gsize work = work_size (steps, d / layer->n_heads, layer->n_heads);

  if (rows > layer->capacity)
    {
      g_free (layer->qkv);
      g_free (layer->y);
      g_free (layer->out);
      g_free (layer->dqkv);
      g_free (layer->dy);
      layer->qkv = g_new (float, rows * 3 * d);
      layer->y = g_new (float, rows * d);
      layer->out = g_new (float, rows * d);
      layer->dqkv = g_new (float, rows * 3 * d);
      layer->dy = g_new (float, rows * d);
      layer->capacity = rows;
    }
  if (probs > layer->probs_capacity)
    {
      g_free (layer->probs);
      layer->probs = g_new (float, probs);
      layer->probs_capacity = probs;
    }
  if (steps * steps > layer->dp_capacity)
    {
      g_free (layer->dp);
      layer->dp = g_new (float, steps * steps);
      layer->dp_capacity = steps * steps;
    }
  if (work > layer->head_work_capacity)
    {
      g_aligned_free (layer->head_work);
      layer->head_work = g_aligned_alloc (work, sizeof (float), 64);
      layer->head_work_capacity = work;
    }
}

/* ---- vector helpers ---------------------------------------------------------- */

/* *acc = max (*acc, *v) lane by lane */
MEL_ALWAYS_INLINE void
v_max (MelV8f *acc, const MelV8f *v)
{
  MelV8i m = *acc > *v;

  *acc = (MelV8f) (((MelV8i) *acc & m) | ((MelV8i) *v & ~m));
}

MEL_ALWAYS_INLINE float
v_hmax (const MelV8f *v)
{
  float t[8], m;

  mel_v_store (t, v);
  m = t[0];
  for (int i = 1; i < 8; i++)
    m = MAX (m, t[i]);
  return m;
}

/* r[0…7] := its transpose (r[i][j] ↔ r[j][i]): pairs, then quads within
 * each 128-bit lane, then the lanes (unpcklps/shufps/vperm2f128 on AVX). */
#define SHUFFLE_PAIRS(a, b, o) __builtin_shufflevector (a, b, 0 + o, 8 + o, 1 + o, 9 + o, \
                                                        4 + o, 12 + o, 5 + o, 13 + o)
#define SHUFFLE_QUADS(a, b, o) __builtin_shufflevector (a, b, 0 + o, 1 + o, 8 + o, 9 + o, \
                                                        4 + o, 5 + o, 12 + o, 13 + o)
#define SHUFFLE_LANES(a, b, o) __builtin_shufflevector (a, b, 0 + o, 1 + o, 2 + o, 3 + o, \
                                                        8 + o, 9 + o, 10 + o, 11 + o)

MEL_ALWAYS_INLINE void
v_transpose8 (MelV8f r[8])
{
  MelV8f t[8], u[8];

#pragma GCC unroll 8
  for (int i = 0; i < 8; i += 2)
    {
      t[i] = SHUFFLE_PAIRS (r[i], r[i + 1], 0);
      t[i + 1] = SHUFFLE_PAIRS (r[i], r[i + 1], 2);
    }
#pragma GCC unroll 8
  for (int i = 0; i < 8; i += 4)
    {
      u[i] = SHUFFLE_QUADS (t[i], t[i + 2], 0);
      u[i + 1] = SHUFFLE_QUADS (t[i], t[i + 2], 2);
      u[i + 2] = SHUFFLE_QUADS (t[i + 1], t[i + 3], 0);
      u[i + 3] = SHUFFLE_QUADS (t[i + 1], t[i + 3], 2);
    }
#pragma GCC unroll 8
  for (int i = 0; i < 4; i++)
    {
      r[i] = SHUFFLE_LANES (u[i], u[i + 4], 0);
      r[i + 4] = SHUFFLE_LANES (u[i], u[i + 4], 4);
    }
}

/* ---- softmax ------------------------------------------------------------------ */

/* row[0…n−1] := softmax (row[0…n−1]) (n ≥ 1) and row[n…n'−1] := 0,
 * n' = n rounded up to 8: whole vectors throughout, the lanes past n
 * (which must hold finite floats) masked, because a scalar tail cost as
 * much as the vectors.  The same arithmetic in the full forward and in the
 * incremental step. */
MEL_ALWAYS_INLINE void
softmax_row (float *row, gsize n)
{
  const MelV8f lane = { 0, 1, 2, 3, 4, 5, 6, 7 };
  gsize n8 = round_up8 (n), last = n8 - 8, j;
  MelV8i keep = lane < MEL_V_SPLAT ((float) (n - last)); /* lanes of the last vector below n */
  MelV8f v, vmax, vsum = { 0 };
  float inv;

  mel_v_load (&vmax, row + last);
  vmax = (MelV8f) (((MelV8i) vmax & keep) | ((MelV8i) MEL_V_SPLAT (-G_MAXFLOAT) & ~keep));
  for (j = 0; j < last; j += 8)
    {
      mel_v_load (&v, row + j);
      v_max (&vmax, &v);
    }
  vmax = MEL_V_SPLAT (v_hmax (&vmax));
  for (j = 0; j < n8; j += 8)
    {
      mel_v_load (&v, row + j);
      v -= vmax;
      mel_v_exp (&v); /* clamped: finite even where masked */
      if (j == last)
        v = (MelV8f) ((MelV8i) v & keep);
      vsum += v;
      mel_v_store (row + j, &v);
    }
  inv = 1.0f / mel_v_hsum (&vsum);
  for (j = 0; j < n8; j += 8)
    {
      mel_v_load (&v, row + j);
      v *= inv;
      mel_v_store (row + j, &v);
    }
}

/* The softmax backward without the score scale:
 * ds[j] = p[j] · (dp[j] − Σ_k p[k] dp[k]) for j < n. */
MEL_ALWAYS_INLINE void
softmax_backward_row (float *ds, const float *p, const float *dp, gsize n)
{
  gsize n8 = n & ~(gsize) 7, j;
  MelV8f vp, vd, vsum = { 0 };
  float sum;

  for (j = 0; j < n8; j += 8)
    {
      mel_v_load (&vp, p + j);
      mel_v_load (&vd, dp + j);
      vsum += vp * vd;
    }
  sum = mel_v_hsum (&vsum);
  for (j = n8; j < n; j++)
    sum += p[j] * dp[j];
  vsum = MEL_V_SPLAT (sum);
  for (j = 0; j < n8; j += 8)
    {
      mel_v_load (&vp, p + j);
      mel_v_load (&vd, dp + j);
      vd = vp * (vd - vsum);
      mel_v_store (ds + j, &vd);
    }
  for (j = n8; j < n; j++)
    ds[j] = p[j] * (dp[j] - sum);
}

/* ---- packing ------------------------------------------------------------------- */

/* dst[e] = scale · src[e] for e < d, 0 for d ≤ e < d'.  (Spelled out in
 * vectors: -O2 does not vectorise loops.) */
MEL_ALWAYS_INLINE void
pack_row (float *dst, const float *src, gsize dh, gsize dhp, float scale)
{
  gsize d8 = dh & ~(gsize) 7, e;
  MelV8f v;

  for (e = 0; e < d8; e += 8)
    {
      mel_v_load (&v, src + e);
      v *= scale;
      mel_v_store (dst + e, &v);
    }
  for (; e < dh; e++)
    dst[e] = scale * src[e];
  for (; e < dhp; e++)
    dst[e] = 0.0f;
}

MEL_ALWAYS_INLINE void
copy_row (float *dst, const float *src, gsize dh)
{
  gsize d8 = dh & ~(gsize) 7, e;
  MelV8f v;

  for (e = 0; e < d8; e += 8)
    {
      mel_v_load (&v, src + e);
      mel_v_store (dst + e, &v);
    }
  for (; e < dh; e++)
    dst[e] = src[e];
}

/* Splits the rows src + t·ld (t < T) into @n_blocks column blocks of d
 * floats, block i going to the packed [T × d'] rows at dst + i·slot;
 * blocks below @n_scaled are multiplied by @scale.  All heads of a
 * sequence in one pass along each row: one new page per row, not one per
 * row and block. */
MEL_ALWAYS_INLINE void
pack_sequence (float *dst, gsize slot, const float *src, gsize ld, gsize steps, gsize n_blocks,
               gsize dh, gsize dhp, gsize n_scaled, float scale)
{
  for (gsize t = 0; t < steps; t++)
    for (gsize i = 0; i < n_blocks; i++)
      pack_row (dst + i * slot + t * dhp, src + t * ld + i * dh, dh, dhp,
                i < n_scaled ? scale : 1.0f);
}

/* The inverse: packed block i goes to columns i·d … i·d + d − 1 of the
 * rows dst + t·ld, multiplied by @scale if i < @n_scaled. */
MEL_ALWAYS_INLINE void
unpack_sequence (float *dst, gsize ld, const float *src, gsize slot, gsize steps,
                 gsize n_blocks, gsize dh, gsize dhp, gsize n_scaled, float scale)
{
  for (gsize t = 0; t < steps; t++)
    for (gsize i = 0; i < n_blocks; i++)
      {
        if (i < n_scaled)
          pack_row (dst + t * ld + i * dh, src + i * slot + t * dhp, dh, dh, scale);
        else
          copy_row (dst + t * ld + i * dh, src + i * slot + t * dhp, dh);
      }
}

/* dst [d' × T'] = srcᵀ for the packed rows src [T × d'], with zero columns
 * T…T'−1, in 8 × 8 blocks. */
MEL_ALWAYS_INLINE void
pack_transposed (float *dst, const float *src, gsize steps, gsize tp, gsize dhp)
{
  for (gsize t0 = 0; t0 < tp; t0 += 8)
    for (gsize e0 = 0; e0 < dhp; e0 += 8)
      {
        MelV8f r[8];

#pragma GCC unroll 8
        for (gsize i = 0; i < 8; i++)
          {
            if (t0 + i < steps)
              mel_v_load (&r[i], src + (t0 + i) * dhp + e0);
            else
              r[i] = MEL_V_SPLAT (0.0f);
          }
        v_transpose8 (r);
#pragma GCC unroll 8
        for (gsize i = 0; i < 8; i++)
          mel_v_store (dst + (e0 + i) * tp + t0, &r[i]);
      }
}

/* ---- register tiles ------------------------------------------------------------ */

/* C[mr × 8·nv] = Σ_{k<kn} A(r, k) · B[k][0 … 8·nv−1] with
 * A(r, k) = a[r·a_rs + k·a_ks], B[k] = b + k·ldb, C[r] = c + r·ldc;
 * mr ≤ TILE_M and nv ≤ 2 are constants after inlining, so the
 * accumulators live in registers. */
MEL_ALWAYS_INLINE void
tile (int mr, int nv, gsize kn, const float *a, gsize a_rs, gsize a_ks, const float *b, gsize ldb,
      float *c, gsize ldc)
{
  MelV8f acc[TILE_M][2];

#pragma GCC unroll 8
  for (int r = 0; r < mr; r++)
    acc[r][0] = acc[r][1] = MEL_V_SPLAT (0.0f);
  for (gsize k = 0; k < kn; k++)
    {
      const float *ak = a + k * a_ks;
      MelV8f b0, b1 = { 0 };

      mel_v_load (&b0, b + k * ldb);
      if (nv == 2)
        mel_v_load (&b1, b + k * ldb + 8);
#pragma GCC unroll 8
      for (int r = 0; r < mr; r++)
        {
          MelV8f s = MEL_V_SPLAT (ak[r * a_rs]);

          acc[r][0] += s * b0;
          if (nv == 2)
            acc[r][1] += s * b1;
        }
    }
#pragma GCC unroll 8
  for (int r = 0; r < mr; r++)
    {
      mel_v_store (c + r * ldc, &acc[r][0]);
      if (nv == 2)
        mel_v_store (c + r * ldc + 8, &acc[r][1]);
    }
}

MEL_ALWAYS_INLINE void
strip_m (int mr, gsize n, gsize kn, const float *a, gsize a_rs, gsize a_ks, const float *b,
         gsize ldb, float *c, gsize ldc)
{
  gsize j = 0;

  for (; j + 16 <= n; j += 16)
    tile (mr, 2, kn, a, a_rs, a_ks, b + j, ldb, c + j, ldc);
  if (j < n)
    tile (mr, 1, kn, a, a_rs, a_ks, b + j, ldb, c + j, ldc);
}

/* C[mr × n] = A · B as for tile(), for n a multiple of 8 and any
 * mr ≤ TILE_M. */
MEL_ALWAYS_INLINE void
strip (gsize mr, gsize n, gsize kn, const float *a, gsize a_rs, gsize a_ks, const float *b,
       gsize ldb, float *c, gsize ldc)
{
  switch (mr)
    {
#if TILE_M == 6
    case 6:
      strip_m (6, n, kn, a, a_rs, a_ks, b, ldb, c, ldc);
      break;
    case 5:
      strip_m (5, n, kn, a, a_rs, a_ks, b, ldb, c, ldc);
      break;
#endif
    case 4:
      strip_m (4, n, kn, a, a_rs, a_ks, b, ldb, c, ldc);
      break;
    case 3:
      strip_m (3, n, kn, a, a_rs, a_ks, b, ldb, c, ldc);
      break;
    case 2:
      strip_m (2, n, kn, a, a_rs, a_ks, b, ldb, c, ldc);
      break;
    default:
      strip_m (1, n, kn, a, a_rs, a_ks, b, ldb, c, ldc);
      break;
    }
}

/* ---- one sequence, head by head ----------------------------------------------- */

typedef struct
{
  gsize steps, tp;           /* T, and T' = T rounded up to 8 */
  gsize dh, dhp;             /* head width d, and d' = d rounded up to 8 */
  gsize n_heads, ld3, ld;    /* heads; row strides of qkv / ∂qkv and of y / ∂y */
  gboolean causal;
  float scale;
  const float *qkv;          /* the sequence's row 0 in qkv */
  float *probs;              /* its [heads × T × T] weights */
  float *y;                  /* forward: its row 0 in y */
  const float *dy;           /* backward: its row 0 in ∂y */
  float *dqkv;               /* backward: its row 0 in ∂qkv */
  float *ds;                 /* backward: [T × T] scratch */
  float *work;               /* work_size () floats */
} SeqArgs;

/* Visible columns of the score strip of rows i0 … i0 + mr − 1 as
 * computed (whole vectors), and the depth of the products that sum over
 * them (masked weights are 0, so it may run to the strip's end). */
MEL_ALWAYS_INLINE gsize
strip_columns (const SeqArgs *a, gsize i0, gsize mr)
{
  return a->causal ? round_up8 (i0 + mr) : a->tp;
}

MEL_ALWAYS_INLINE gsize
strip_depth (const SeqArgs *a, gsize i0, gsize mr)
{
  return a->causal ? i0 + mr : a->steps;
}

/* One head: P = softmax (Q·Kᵀ) (masked; q comes scaled), Y = P·V, strip
 * by strip.  @kt: room for Kᵀ; @s: the score strip. */
MEL_ALWAYS_INLINE void
head_forward (const SeqArgs *a, const float *q, const float *k, const float *v, float *kt,
              float *y, float *s, float *probs)
{
  gsize t_n = a->steps, tp = a->tp, dhp = a->dhp;

  pack_transposed (kt, k, t_n, tp, dhp);
  for (gsize i0 = 0; i0 < t_n; i0 += TILE_M)
    {
      gsize mr = MIN (TILE_M, t_n - i0);

      strip (mr, strip_columns (a, i0, mr), dhp, q + i0 * dhp, dhp, 1, kt, tp, s, tp);
      for (gsize r = 0; r < mr; r++)
        {
          gsize i = i0 + r, n = a->causal ? i + 1 : t_n, n_copy = MIN (round_up8 (n), t_n);

          /* the strip has room for whole vectors, the row of P not */
          softmax_row (s + r * tp, n);
          copy_row (probs + i * t_n, s + r * tp, n_copy);
          memset (probs + i * t_n + n_copy, 0, (t_n - n_copy) * sizeof (float));
        }
      strip (mr, dhp, strip_depth (a, i0, mr), probs + i0 * t_n, t_n, 1, v, dhp, y + i0 * dhp,
             dhp);
    }
}

MEL_ALWAYS_INLINE void
sequence_forward_body (const SeqArgs *a)
{
  gsize nh = a->n_heads, slot = a->tp * a->dhp;
  float *w = a->work, *y = w + 3 * nh * slot, *kt = y + nh * slot, *s = kt + slot;

  /* the scale goes into q, so the scores come out scaled */
  pack_sequence (w, slot, a->qkv, a->ld3, a->steps, 3 * nh, a->dh, a->dhp, nh, a->scale);
  for (gsize h = 0; h < nh; h++)
    head_forward (a, w + h * slot, w + (nh + h) * slot, w + (2 * nh + h) * slot, kt,
                  y + h * slot, s, a->probs + h * a->steps * a->steps);
  unpack_sequence (a->y, a->ld, y, slot, a->steps, nh, a->dh, a->dhp, 0, 1.0f);
}

/* One head backward: ∂P = ∂Y·Vᵀ, ∂S = softmax backward, ∂Q = ∂S·K strip
 * by strip; then ∂V = Pᵀ·∂Y and ∂K = ∂Sᵀ·Q over the rows at or below each
 * column strip.  @vt: room for Vᵀ; @dp: the strip of ∂P. */
MEL_ALWAYS_INLINE void
head_backward (const SeqArgs *a, const float *q, const float *k, const float *v,
               const float *dy, float *vt, float *dq, float *dk, float *dv, float *dp,
               const float *probs)
{
  gsize t_n = a->steps, tp = a->tp, dhp = a->dhp;
  float *ds = a->ds;

  pack_transposed (vt, v, t_n, tp, dhp);
  for (gsize i0 = 0; i0 < t_n; i0 += TILE_M)
    {
      gsize mr = MIN (TILE_M, t_n - i0);

      strip (mr, strip_columns (a, i0, mr), dhp, dy + i0 * dhp, dhp, 1, vt, tp, dp, tp);
      for (gsize r = 0; r < mr; r++)
        {
          gsize i = i0 + r, n = a->causal ? i + 1 : t_n;

          softmax_backward_row (ds + i * t_n, probs + i * t_n, dp + r * tp, n);
          /* ∂Q below and ∂K (its column strips are aligned with these row
           * strips) read ∂S up to the strip's last column: masked, so 0. */
          for (gsize j = n; j < i0 + mr; j++)
            ds[i * t_n + j] = 0.0f;
        }
      strip (mr, dhp, strip_depth (a, i0, mr), ds + i0 * t_n, t_n, 1, k, dhp, dq + i0 * dhp,
             dhp);
    }
  for (gsize j0 = 0; j0 < t_n; j0 += TILE_M)
    {
      gsize mr = MIN (TILE_M, t_n - j0), i0 = a->causal ? j0 : 0;

      /* causal: rows of P and ∂S are 0 right of the diagonal */
      strip (mr, dhp, t_n - i0, probs + i0 * t_n + j0, 1, t_n, dy + i0 * dhp, dhp,
             dv + j0 * dhp, dhp);
      strip (mr, dhp, t_n - i0, ds + i0 * t_n + j0, 1, t_n, q + i0 * dhp, dhp, dk + j0 * dhp,
             dhp);
    }
}

MEL_ALWAYS_INLINE void
sequence_backward_body (const SeqArgs *a)
{
  gsize nh = a->n_heads, slot = a->tp * a->dhp;
  float *w = a->work, *dy = w + 3 * nh * slot, *dqkv = dy + nh * slot;
  float *vt = dqkv + 3 * nh * slot, *dp = vt + slot;

  /* q scaled as in the forward */
  pack_sequence (w, slot, a->qkv, a->ld3, a->steps, 3 * nh, a->dh, a->dhp, nh, a->scale);
  pack_sequence (dy, slot, a->dy, a->ld, a->steps, nh, a->dh, a->dhp, 0, 1.0f);
  for (gsize h = 0; h < nh; h++)
    head_backward (a, w + h * slot, w + (nh + h) * slot, w + (2 * nh + h) * slot,
                   dy + h * slot, vt, dqkv + h * slot, dqkv + (nh + h) * slot,
                   dqkv + (2 * nh + h) * slot, dp, a->probs + h * a->steps * a->steps);
  /* Every column of ∂qkv is written (not added to): no memset needed.
   * ∂S was computed without the score scale, which q carries (so ∂K =
   * ∂Sᵀ·(scale·Q) comes out right), so ∂Q = scale · ∂S·K gets it here. */
  unpack_sequence (a->dqkv, a->ld3, dqkv, slot, a->steps, 3 * nh, a->dh, a->dhp, nh,
                   a->scale);
}

/* ---- one query row (the incremental step) -------------------------------------- */

MEL_ALWAYS_INLINE float
dot (const float *a, const float *b, gsize n)
{
  MelV8f acc0 = { 0 }, acc1 = { 0 }, va, vb;
  float sum;
  gsize j = 0;

  for (; j + 16 <= n; j += 16)
    {
      mel_v_load (&va, a + j);
      mel_v_load (&vb, b + j);
      acc0 += va * vb;
      mel_v_load (&va, a + j + 8);
      mel_v_load (&vb, b + j + 8);
      acc1 += va * vb;
    }
  for (; j + 8 <= n; j += 8)
    {
      mel_v_load (&va, a + j);
      mel_v_load (&vb, b + j);
      acc0 += va * vb;
    }
  acc0 += acc1;
  sum = mel_v_hsum (&acc0);
  for (; j < n; j++)
    sum += a[j] * b[j];
  return sum;
}

/* out[dh] += Σ_{j<n} w[j] · rows[j·row_stride]: the output row stays in
 * registers, 64 columns at a time. */
MEL_ALWAYS_INLINE void
weighted_sum (float *out, const float *w, const float *rows, gsize row_stride, gsize n, gsize dh)
{
  gsize c = 0;

  /* 64 columns in eight named accumulators: registers, where an array
   * would live in memory at -O2 and chain every FMA through a store. */
  for (; c + 64 <= dh; c += 64)
    {
      MelV8f a0, a1, a2, a3, a4, a5, a6, a7, r;

      mel_v_load (&a0, out + c);
      mel_v_load (&a1, out + c + 8);
      mel_v_load (&a2, out + c + 16);
      mel_v_load (&a3, out + c + 24);
      mel_v_load (&a4, out + c + 32);
      mel_v_load (&a5, out + c + 40);
      mel_v_load (&a6, out + c + 48);
      mel_v_load (&a7, out + c + 56);
      for (gsize j = 0; j < n; j++)
        {
          MelV8f vw = MEL_V_SPLAT (w[j]);
          const float *row = rows + j * row_stride + c;

          mel_v_load (&r, row);
          a0 += vw * r;
          mel_v_load (&r, row + 8);
          a1 += vw * r;
          mel_v_load (&r, row + 16);
          a2 += vw * r;
          mel_v_load (&r, row + 24);
          a3 += vw * r;
          mel_v_load (&r, row + 32);
          a4 += vw * r;
          mel_v_load (&r, row + 40);
          a5 += vw * r;
          mel_v_load (&r, row + 48);
          a6 += vw * r;
          mel_v_load (&r, row + 56);
          a7 += vw * r;
        }
      mel_v_store (out + c, &a0);
      mel_v_store (out + c + 8, &a1);
      mel_v_store (out + c + 16, &a2);
      mel_v_store (out + c + 24, &a3);
      mel_v_store (out + c + 32, &a4);
      mel_v_store (out + c + 40, &a5);
      mel_v_store (out + c + 48, &a6);
      mel_v_store (out + c + 56, &a7);
    }
  for (; c + 8 <= dh; c += 8)
    {
      MelV8f a0, r;

      mel_v_load (&a0, out + c);
      for (gsize j = 0; j < n; j++)
        {
          MelV8f vw = MEL_V_SPLAT (w[j]);

          mel_v_load (&r, rows + j * row_stride + c);
          a0 += vw * r;
        }
      mel_v_store (out + c, &a0);
    }
  for (; c < dh; c++)
    {
      float acc = out[c];

      for (gsize j = 0; j < n; j++)
        acc += w[j] * rows[j * row_stride + c];
      out[c] = acc;
    }
}

typedef struct
{
  gsize n, dh, ld;           /* cached positions, head width, row stride of v */
  gsize ldk;                 /* row stride of the transposed keys: the capacity */
  float scale;
  const float *q, *v;
  const float *kt;           /* [dh × ldk]: this head's keys, column j = position j */
  float *p;                  /* [n]: the weights */
  float *y;                  /* [dh] */
} RowArgs;

/* Scores of the positions j … j + 31 at once: the keys are stored
 * transposed, so each of the head's dh key components is a contiguous
 * run over positions, and four named accumulators (registers, not an
 * array the compiler would keep in memory) hide the FMA latency.
 * Positions past n read zeros (the cache is zero-filled). */
MEL_ALWAYS_INLINE void
row_scores32 (const RowArgs *a, gsize j)
{
  MelV8f s0 = { 0 }, s1 = { 0 }, s2 = { 0 }, s3 = { 0 }, kv;

  for (gsize c = 0; c < a->dh; c++)
    {
      float qc = a->q[c];
      MelV8f qv = { qc, qc, qc, qc, qc, qc, qc, qc };
      const float *row = a->kt + c * a->ldk + j;

      mel_v_load (&kv, row);
      s0 += qv * kv;
      mel_v_load (&kv, row + 8);
      s1 += qv * kv;
      mel_v_load (&kv, row + 16);
      s2 += qv * kv;
      mel_v_load (&kv, row + 24);
      s3 += qv * kv;
    }
  s0 *= a->scale;
  s1 *= a->scale;
  s2 *= a->scale;
  s3 *= a->scale;
  mel_v_store (a->p + j, &s0);
  mel_v_store (a->p + j + 8, &s1);
  mel_v_store (a->p + j + 16, &s2);
  mel_v_store (a->p + j + 24, &s3);
}

/* The same for the positions j … j + 7. */
MEL_ALWAYS_INLINE void
row_scores8 (const RowArgs *a, gsize j)
{
  MelV8f s0 = { 0 }, s1 = { 0 }, kv;
  gsize c = 0;

  /* two chains over alternate components */
  for (; c + 2 <= a->dh; c += 2)
    {
      float q0 = a->q[c], q1 = a->q[c + 1];
      MelV8f qv0 = { q0, q0, q0, q0, q0, q0, q0, q0 };
      MelV8f qv1 = { q1, q1, q1, q1, q1, q1, q1, q1 };

      mel_v_load (&kv, a->kt + c * a->ldk + j);
      s0 += qv0 * kv;
      mel_v_load (&kv, a->kt + (c + 1) * a->ldk + j);
      s1 += qv1 * kv;
    }
  for (; c < a->dh; c++)
    {
      float qc = a->q[c];
      MelV8f qv = { qc, qc, qc, qc, qc, qc, qc, qc };

      mel_v_load (&kv, a->kt + c * a->ldk + j);
      s0 += qv * kv;
    }
  s0 = (s0 + s1) * a->scale;
  mel_v_store (a->p + j, &s0);
}

/* p = softmax (scale · q·k_j), y = Σ_j p[j] v_j over the cached j. */
MEL_ALWAYS_INLINE void
row_attend_body (const RowArgs *a)
{
  gsize j = 0, n8 = round_up8 (a->n);

  for (; j + 32 <= n8; j += 32)
    row_scores32 (a, j);
  for (; j < n8; j += 8)
    row_scores8 (a, j);
  /* softmax_row works on whole vectors: the padding must not count */
  for (j = a->n; j < n8; j++)
    a->p[j] = 0.0f;
  softmax_row (a->p, a->n);
  memset (a->y, 0, a->dh * sizeof (float));
  weighted_sum (a->y, a->p, a->v, a->ld, a->n, a->dh);
}

MEL_DEFINE_DISPATCH (row_attend, const RowArgs *, row_attend_body)
MEL_DEFINE_DISPATCH (sequence_forward, const SeqArgs *, sequence_forward_body)
MEL_DEFINE_DISPATCH (sequence_backward, const SeqArgs *, sequence_backward_body)

/* ---- layer ------------------------------------------------------------------ */

/* The arguments shared by forward and backward for sequence @b of the
 * last forward. */
static SeqArgs
sequence_args (const MelAttentionLayer *layer, gsize b)
{
  gsize steps = layer->steps, batch = layer->batch, d = layer->dim, nh = layer->n_heads;
  gsize dh = d / nh;
  SeqArgs args = {
    .steps = steps, .tp = round_up8 (steps), .dh = dh, .dhp = round_up8 (dh),
    .n_heads = nh, .ld3 = batch * 3 * d, .ld = batch * d, .causal = layer->causal,
    .scale = 1.0f / sqrtf ((float) dh),
    .qkv = layer->qkv + b * 3 * d,
    .probs = layer->probs + b * nh * steps * steps,
    .work = layer->head_work,
  };

  return args;
}

const float *
mel_attention_forward (MelAttentionLayer *layer, const float *x, gsize steps, gsize batch)
{
  const MelAttentionTensors *p = layer->params;
  gsize d = layer->dim, rows = steps * batch;

  attention_reserve (layer, steps, batch);
  layer->x = x;
  layer->steps = steps;
  layer->batch = batch;
  mel_linear_forward (layer->qkv, x, p->w_qkv, p->b_qkv, rows, d, 3 * d);

  for (gsize b = 0; b < batch; b++)
    {
      SeqArgs args = sequence_args (layer, b);

      args.y = layer->y + b * d;
      sequence_forward (&args);
    }

  mel_linear_forward (layer->out, layer->y, p->w_out, p->b_out, rows, d, d);
  return layer->out;
}

void
mel_attention_backward (MelAttentionLayer *layer, const float *dout, float *dx)
{
  const MelAttentionTensors *p = layer->params;
  const MelAttentionTensors *gr = layer->grads;
  gsize d = layer->dim, rows = layer->steps * layer->batch;

  memset (layer->dy, 0, rows * d * sizeof (float));
  mel_linear_backward (layer->dy, gr->w_out, gr->b_out, dout, layer->y, p->w_out, rows, d, d);

  for (gsize b = 0; b < layer->batch; b++)
    {
      SeqArgs args = sequence_args (layer, b);

      args.dy = layer->dy + b * d;
      args.dqkv = layer->dqkv + b * 3 * d;
      args.ds = layer->dp;
      sequence_backward (&args);
    }

  mel_linear_backward (dx, gr->w_qkv, gr->b_qkv, layer->dqkv, layer->x, p->w_qkv, rows, d,
                       3 * d);
}

const float *
mel_attention_get_probs (const MelAttentionLayer *layer, gsize b, gsize head)
{
  g_return_val_if_fail (b < layer->batch && head < layer->n_heads, NULL);

  return layer->probs + (b * layer->n_heads + head) * layer->steps * layer->steps;
}

/* ---- incremental ------------------------------------------------------------ */

MelAttentionCache *
mel_attention_cache_new (gsize dim, gsize n_heads)
{
  MelAttentionCache *cache;

  g_return_val_if_fail (n_heads >= 1 && dim % n_heads == 0, NULL);

  cache = g_new0 (MelAttentionCache, 1);
  cache->dim = dim;
  cache->n_heads = n_heads;
  cache->qkv = g_new (float, 3 * dim);
  cache->y = g_new (float, dim);
  return cache;
}

void
mel_attention_cache_free (MelAttentionCache *cache)
{
  if (cache == NULL)
    return;
  g_free (cache->k);
  g_free (cache->v);
  g_free (cache->qkv);
  g_free (cache->y);
  g_free (cache->scores);
  g_free (cache);
}

/* Doubles the capacity (a multiple of 8).  The keys are stored
 * transposed with the capacity as row stride, so they move row by row;
 * the new room is zeroed, because the score kernel reads whole vectors. */
static void
cache_grow (MelAttentionCache *cache)
{
  gsize cap = MAX (64, cache->capacity * 2);
  float *k = g_new0 (float, cap * cache->dim);

  for (gsize c = 0; c < cache->dim && cache->k != NULL; c++)
    memcpy (k + c * cap, cache->k + c * cache->capacity, cache->length * sizeof (float));
  g_free (cache->k);
  cache->k = k;
  cache->v = g_renew (float, cache->v, cap * cache->dim);
  cache->scores = g_renew (float, cache->scores, cap);
  cache->capacity = cap;
}

void
mel_attention_step (const MelAttentionTensors *params, MelAttentionCache *cache, const float *x,
                    float *out, float *weights)
{
  gsize d = cache->dim, nh = cache->n_heads, dh = d / nh, t, n;
  float scale = 1.0f / sqrtf ((float) dh);

  if (cache->length == cache->capacity)
    cache_grow (cache);
  t = cache->length++;
  n = t + 1;
  memcpy (cache->qkv, params->b_qkv, 3 * d * sizeof (float));
  _mel_matvec (3 * d, d, params->w_qkv, d, x, cache->qkv);
  for (gsize c = 0; c < d; c++)
    cache->k[c * cache->capacity + t] = cache->qkv[d + c];
  memcpy (cache->v + t * d, cache->qkv + 2 * d, d * sizeof (float));

  for (gsize h = 0; h < nh; h++)
    {
      RowArgs args = {
        .n = n, .dh = dh, .ld = d, .ldk = cache->capacity, .scale = scale,
        .q = cache->qkv + h * dh, .kt = cache->k + h * dh * cache->capacity,
        .v = cache->v + h * dh, .p = cache->scores, .y = cache->y + h * dh,
      };

      row_attend (&args);
      if (weights != NULL)
        memcpy (weights + h * n, cache->scores, n * sizeof (float));
    }
  memcpy (out, params->b_out, d * sizeof (float));
  _mel_matvec (d, d, params->w_out, d, cache->y, out);
}
