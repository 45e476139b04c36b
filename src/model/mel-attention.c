/* mel-attention.c — multi-head self-attention (see mel-attention.h).
 *
 * Per sequence and head, the scores, the weighted values and their
 * gradients are small GEMMs on strided views of the time-major buffers
 * (leading dimension B·3D or B·D).  The causal case computes the full
 * T × T score matrix and zeroes the masked part after the softmax: with T
 * at most a few hundred this costs less than skipping it row by row.
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

        mel_sgemm (FALSE, TRUE, steps, steps, dh, scale, q, ld3, k, ld3, 0.0f, s, steps);
        for (gsize i = 0; i < steps; i++)
          {
            float *row = s + i * steps;
            gsize n = layer->causal ? i + 1 : steps;

            softmax_row (row, n);
            if (n < steps)
              memset (row + n, 0, (steps - n) * sizeof (float));
          }
        mel_sgemm (FALSE, FALSE, steps, dh, steps, 1.0f, s, steps, v, ld3, 0.0f,
                   layer->y + b * d + h * dh, ld);
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

        /* ∂P = ∂Y·Vᵀ, ∂V += Pᵀ·∂Y */
        mel_sgemm (FALSE, TRUE, steps, steps, dh, 1.0f, dyh, ld, v, ld3, 0.0f, dp, steps);
        mel_sgemm (TRUE, FALSE, steps, dh, steps, 1.0f, pr, steps, dyh, ld, 1.0f, dv, ld3);
        /* Softmax backward, folded with the 1/√d of the scores:
         * ∂S_ij = scale · P_ij (∂P_ij − Σ_k P_ik ∂P_ik).  Masked entries
         * have P = 0 and get ∂S = 0. */
        for (gsize i = 0; i < steps; i++)
          {
            const float *prow = pr + i * steps;
            float *drow = dp + i * steps;
            gsize n = layer->causal ? i + 1 : steps;
            float dot = 0.0f;

            for (gsize j = 0; j < n; j++)
              dot += prow[j] * drow[j];
            for (gsize j = 0; j < n; j++)
              drow[j] = scale * prow[j] * (drow[j] - dot);
            for (gsize j = n; j < steps; j++)
              drow[j] = 0.0f;
          }
        /* ∂Q += ∂S·K, ∂K += ∂Sᵀ·Q */
        mel_sgemm (FALSE, FALSE, steps, dh, steps, 1.0f, dp, steps, k, ld3, 1.0f, dq, ld3);
        mel_sgemm (TRUE, FALSE, steps, dh, steps, 1.0f, dp, steps, q, ld3, 1.0f, dk, ld3);
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
  mel_sgemv (FALSE, 3 * d, d, 1.0f, params->w_qkv, d, x, 1.0f, cache->qkv);
  memcpy (cache->k + t * d, cache->qkv + d, d * sizeof (float));
  memcpy (cache->v + t * d, cache->qkv + 2 * d, d * sizeof (float));

  for (gsize h = 0; h < nh; h++)
    {
      const float *q = cache->qkv + h * dh;
      float *s = cache->scores, *y = cache->y + h * dh;

      /* scores = K_h q (n × dh times dh), weighted values = V_hᵀ p */
      mel_sgemv (FALSE, n, dh, scale, cache->k + h * dh, d, q, 0.0f, s);
      softmax_row (s, n);
      if (weights != NULL)
        memcpy (weights + h * n, s, n * sizeof (float));
      mel_sgemv (TRUE, n, dh, 1.0f, cache->v + h * dh, d, s, 0.0f, y);
    }
  memcpy (out, params->b_out, d * sizeof (float));
  mel_sgemv (FALSE, d, d, 1.0f, params->w_out, d, cache->y, 1.0f, out);
}
