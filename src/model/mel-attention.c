/* mel-attention.c — multi-head self-attention (see mel-attention.h).
 *
 * The projections (x → q k v, heads → out) are GEMMs over all rows.  The
 * per-sequence, per-head products (scores, weighted values and their
 * gradients: T × T × d each, d = D / heads) are our own vector loops on
 * strided views of the time-major buffers: they are small (64³), there
 * are six per sequence and head, and OpenBLAS serialises concurrent small
 * calls on its buffer allocator, which stopped the model scaling across
 * worker threads.  The loops also skip the masked half of the causal
 * case.
 *
 * SPDX-License-Identifier: MIT
 */
#include "mel-attention.h"

#include <math.h>
#include <string.h>

#include "mel-blas.h"
#include "mel-simd-private.h"

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
  layer->capacity = layer->probs_capacity = layer->dp_capacity = 0;
}

static void
attention_reserve (MelAttentionLayer *layer, gsize steps, gsize batch)
{
  gsize rows = steps * batch, d = layer->dim;
  gsize probs = batch * layer->n_heads * steps * steps;

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
}

/* Softmax of @row[0…n−1] in place (n ≥ 1); the same arithmetic in the
 * full forward and in the incremental step. */
static void
softmax_row (float *row, gsize n)
{
  float max = row[0], sum = 0.0f, inv;

  for (gsize j = 1; j < n; j++)
    max = MAX (max, row[j]);
  for (gsize j = 0; j < n; j++)
    {
      row[j] = mel_fast_expf (row[j] - max);
      sum += row[j];
    }
  inv = 1.0f / sum;
  for (gsize j = 0; j < n; j++)
    row[j] *= inv;
}

/* ---- per-head kernels ------------------------------------------------------ */

MEL_ALWAYS_INLINE float
dot (const float *a, const float *b, gsize n)
{
  MelV8f acc0 = { 0 }, acc1 = { 0 }, va, vb;
  float sum, tmp[8];
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
  mel_v_store (tmp, &acc0);
  sum = ((tmp[0] + tmp[4]) + (tmp[1] + tmp[5])) + ((tmp[2] + tmp[6]) + (tmp[3] + tmp[7]));
  for (; j < n; j++)
    sum += a[j] * b[j];
  return sum;
}

/* out[dh] += Σ_{j<n} w[j·w_stride] · rows[j·row_stride]: the output row
 * stays in registers, 64 columns at a time. */
MEL_ALWAYS_INLINE void
weighted_sum (float *out, const float *w, gsize w_stride, const float *rows, gsize row_stride,
              gsize n, gsize dh)
{
  gsize c = 0;

  for (; c + 64 <= dh; c += 64)
    {
      MelV8f acc[8], r;

      for (int k = 0; k < 8; k++)
        mel_v_load (&acc[k], out + c + 8 * k);
      for (gsize j = 0; j < n; j++)
        {
          float wj = w[j * w_stride];
          MelV8f vw = { wj, wj, wj, wj, wj, wj, wj, wj };
          const float *row = rows + j * row_stride + c;

          for (int k = 0; k < 8; k++)
            {
              mel_v_load (&r, row + 8 * k);
              acc[k] += vw * r;
            }
        }
      for (int k = 0; k < 8; k++)
        mel_v_store (out + c + 8 * k, &acc[k]);
    }
  for (; c < dh; c++)
    {
      float acc = out[c];

      for (gsize j = 0; j < n; j++)
        acc += w[j * w_stride] * rows[j * row_stride + c];
      out[c] = acc;
    }
}

typedef struct
{
  gsize steps, dh, ld3, ld;  /* ld3: row stride of q, k, v; ld: of y */
  gboolean causal;
  float scale;
  const float *q, *k, *v;
  float *p;                  /* [T × T] scores in, probabilities out */
  float *y;                  /* forward: [T × dh] output, strided by ld */
  /* backward */
  const float *dy;
  float *dp;                 /* [T × T] scratch */
  float *dq, *dk, *dv;
} HeadArgs;

/* Scores of the visible positions: p[i][j] = scale · q_i · k_j. */
MEL_ALWAYS_INLINE void
head_scores_body (const HeadArgs *a)
{
  for (gsize i = 0; i < a->steps; i++)
    {
      gsize n = a->causal ? i + 1 : a->steps;

      for (gsize j = 0; j < n; j++)
        a->p[i * a->steps + j] = a->scale * dot (a->q + i * a->ld3, a->k + j * a->ld3, a->dh);
    }
}

/* y_i = Σ_j p[i][j] v_j over the visible j. */
MEL_ALWAYS_INLINE void
head_values_body (const HeadArgs *a)
{
  for (gsize i = 0; i < a->steps; i++)
    {
      gsize n = a->causal ? i + 1 : a->steps;
      float *y = a->y + i * a->ld;

      memset (y, 0, a->dh * sizeof (float));
      weighted_sum (y, a->p + i * a->steps, 1, a->v, a->ld3, n, a->dh);
    }
}

/* Backward of one head over the visible entries: ∂P = ∂Y·Vᵀ, softmax
 * backward with the scale folded in (∂S), then ∂V += Pᵀ·∂Y,
 * ∂Q += ∂S·K, ∂K += ∂Sᵀ·Q, each output row accumulated in registers. */
MEL_ALWAYS_INLINE void
head_backward_body (const HeadArgs *a)
{
  gsize t_n = a->steps, dh = a->dh;

  for (gsize i = 0; i < t_n; i++)
    {
      gsize n = a->causal ? i + 1 : t_n;
      const float *prow = a->p + i * t_n;
      float *drow = a->dp + i * t_n;
      const float *dyi = a->dy + i * a->ld;
      float sum = 0.0f;

      for (gsize j = 0; j < n; j++)
        {
          drow[j] = dot (dyi, a->v + j * a->ld3, dh);
          sum += prow[j] * drow[j];
        }
      for (gsize j = 0; j < n; j++)
        drow[j] = a->scale * prow[j] * (drow[j] - sum);
      weighted_sum (a->dq + i * a->ld3, drow, 1, a->k, a->ld3, n, dh);
    }
  /* Column j is visible from rows i ≥ j (causal) or all rows. */
  for (gsize j = 0; j < t_n; j++)
    {
      gsize i0 = a->causal ? j : 0;

      weighted_sum (a->dv + j * a->ld3, a->p + i0 * t_n + j, t_n, a->dy + i0 * a->ld, a->ld,
                    t_n - i0, dh);
      weighted_sum (a->dk + j * a->ld3, a->dp + i0 * t_n + j, t_n, a->q + i0 * a->ld3, a->ld3,
                    t_n - i0, dh);
    }
}

/* One query row against @steps cached keys (the incremental step):
 * p[j] = scale · q · k_j. */
MEL_ALWAYS_INLINE void
row_scores_body (const HeadArgs *a)
{
  for (gsize j = 0; j < a->steps; j++)
    a->p[j] = a->scale * dot (a->q, a->k + j * a->ld3, a->dh);
}

/* y = Σ_j p[j] v_j over the @steps cached values. */
MEL_ALWAYS_INLINE void
row_values_body (const HeadArgs *a)
{
  memset (a->y, 0, a->dh * sizeof (float));
  weighted_sum (a->y, a->p, 1, a->v, a->ld3, a->steps, a->dh);
}

MEL_DEFINE_DISPATCH (row_scores, const HeadArgs *, row_scores_body)
MEL_DEFINE_DISPATCH (row_values, const HeadArgs *, row_values_body)
MEL_DEFINE_DISPATCH (head_scores, const HeadArgs *, head_scores_body)
MEL_DEFINE_DISPATCH (head_values, const HeadArgs *, head_values_body)
MEL_DEFINE_DISPATCH (head_backward, const HeadArgs *, head_backward_body)

const float *
mel_attention_forward (MelAttentionLayer *layer, const float *x, gsize steps, gsize batch)
{
  const MelAttentionTensors *p = layer->params;
  gsize d = layer->dim, nh = layer->n_heads, dh = d / nh, rows = steps * batch;
  gsize ld3 = batch * 3 * d, ld = batch * d;
  float scale = 1.0f / sqrtf ((float) dh);

  attention_reserve (layer, steps, batch);
  layer->x = x;
  layer->steps = steps;
  layer->batch = batch;
  mel_linear_forward (layer->qkv, x, p->w_qkv, p->b_qkv, rows, d, 3 * d);

  for (gsize b = 0; b < batch; b++)
    for (gsize h = 0; h < nh; h++)
      {
        const float *q = layer->qkv + b * 3 * d + h * dh;
        const float *k = q + d, *v = q + 2 * d;
        float *s = layer->probs + (b * nh + h) * steps * steps;

        HeadArgs args = {
          .steps = steps, .dh = dh, .ld3 = ld3, .ld = ld, .causal = layer->causal,
          .scale = scale, .q = q, .k = k, .v = v, .p = s, .y = layer->y + b * d + h * dh,
        };

        head_scores (&args);
        for (gsize i = 0; i < steps; i++)
          {
            float *row = s + i * steps;
            gsize n = layer->causal ? i + 1 : steps;

            softmax_row (row, n);
            if (n < steps)
              memset (row + n, 0, (steps - n) * sizeof (float));
          }
        head_values (&args);
      }

  mel_linear_forward (layer->out, layer->y, p->w_out, p->b_out, rows, d, d);
  return layer->out;
}

void
mel_attention_backward (MelAttentionLayer *layer, const float *dout, float *dx)
{
  const MelAttentionTensors *p = layer->params;
  const MelAttentionTensors *gr = layer->grads;
  gsize steps = layer->steps, batch = layer->batch;
  gsize d = layer->dim, nh = layer->n_heads, dh = d / nh, rows = steps * batch;
  gsize ld3 = batch * 3 * d, ld = batch * d;
  float scale = 1.0f / sqrtf ((float) dh);
  float *dp = layer->dp;

  memset (layer->dy, 0, rows * d * sizeof (float));
  memset (layer->dqkv, 0, rows * 3 * d * sizeof (float));
  mel_linear_backward (layer->dy, gr->w_out, gr->b_out, dout, layer->y, p->w_out, rows, d, d);

  for (gsize b = 0; b < batch; b++)
    for (gsize h = 0; h < nh; h++)
      {
        gsize off = b * 3 * d + h * dh;
        const float *q = layer->qkv + off, *k = q + d, *v = q + 2 * d;
        float *dq = layer->dqkv + off, *dk = dq + d, *dv = dq + 2 * d;
        const float *dyh = layer->dy + b * d + h * dh;
        const float *pr = layer->probs + (b * nh + h) * steps * steps;

        /* ∂S_ij = scale · P_ij (∂P_ij − Σ_k P_ik ∂P_ik); masked entries
         * (P = 0) are skipped. */
        HeadArgs args = {
          .steps = steps, .dh = dh, .ld3 = ld3, .ld = ld, .causal = layer->causal,
          .scale = scale, .q = q, .k = k, .v = v, .p = (float *) pr, .dy = dyh, .dp = dp,
          .dq = dq, .dk = dk, .dv = dv,
        };

        head_backward (&args);
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

static void
cache_grow (MelAttentionCache *cache)
{
  gsize cap = MAX (64, cache->capacity * 2);

  cache->k = g_renew (float, cache->k, cap * cache->dim);
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
  memcpy (cache->k + t * d, cache->qkv + d, d * sizeof (float));
  memcpy (cache->v + t * d, cache->qkv + 2 * d, d * sizeof (float));

  for (gsize h = 0; h < nh; h++)
    {
      const float *q = cache->qkv + h * dh;
      float *s = cache->scores, *y = cache->y + h * dh;

      HeadArgs args = {
        .steps = n, .dh = dh, .ld3 = d, .scale = scale, .q = q, .k = cache->k + h * dh,
        .v = cache->v + h * dh, .p = s, .y = y,
      };

      row_scores (&args);
      softmax_row (s, n);
      if (weights != NULL)
        memcpy (weights + h * n, s, n * sizeof (float));
      row_values (&args);
    }
  memcpy (out, params->b_out, d * sizeof (float));
  _mel_matvec (d, d, params->w_out, d, cache->y, out);
}
