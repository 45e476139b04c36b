/* mel-attention.h — multi-head self-attention over a sequence batch, with
 * an optional causal mask, backward pass, K/V-cached incremental step and
 * read-out of the attention weights.
 *
 *   [q k v] = x · W_qkvᵀ + b_qkv             (one fused projection, D → 3D)
 *   per head h (width d = D / heads, columns h·d … h·d+d−1 of q, k, v):
 *     P = softmax (q_h k_hᵀ / √d, masked so that position t sees 0…t)
 *     y_h = P v_h
 *   out = [y_1 … y_heads] · W_outᵀ + b_out
 *
 * Conventions of mel-layers.h: row-major float32, backward ACCUMULATES
 * into every gradient output.  The layer works TIME-MAJOR like the
 * recurrent layers ([T × B × D], row t·B + b), so it reads an LSTM's output
 * without a copy: a sequence's rows are strided, which the GEMMs take as a
 * leading dimension.
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include "mel-layers.h"

G_BEGIN_DECLS

typedef struct
{
  float *w_qkv; /* [3D × D]: rows 0…D−1 make q, D…2D−1 k, 2D…3D−1 v */
  float *b_qkv; /* [3D] */
  float *w_out; /* [D × D] */
  float *b_out; /* [D] */
} MelAttentionTensors;

gsize mel_attention_n_params (gsize dim);
/* Points @t into @base (mel_attention_n_params floats); returns the end. */
float *mel_attention_bind (MelAttentionTensors *t, float *base, gsize dim);
/* PyTorch's nn.Linear init for both projections: U(±1/√D). */
void mel_attention_init_params (const MelAttentionTensors *t, gsize dim, MelRng *rng);

/* One attention layer: parameters, gradients and the activations of the
 * last forward (owned, grown on demand, reused).  Several layers may share
 * @params (one per worker), each with its own @grads. */
typedef struct
{
  gsize dim, n_heads;
  gboolean causal;
  const MelAttentionTensors *params;
  const MelAttentionTensors *grads;

  /* last forward */
  gsize steps, batch;
  const float *x;      /* [T × B × D], not owned */
  float *qkv;          /* [T × B × 3D] */
  float *probs;        /* [B × heads × T × T] attention weights (0 above the diagonal if causal) */
  float *y;            /* [T × B × D] heads concatenated, before W_out */
  float *out;          /* [T × B × D] */
  float *dqkv;         /* [T × B × 3D] backward scratch */
  float *dy;           /* [T × B × D] backward scratch */
  float *dp;           /* [T × T] backward scratch (∂ of the scores) */
  gsize capacity;      /* rows T × B the buffers hold */
  gsize probs_capacity;
  gsize dp_capacity;
  float *head_work;    /* one sequence's per-head scratch (see mel-attention.c) */
  gsize head_work_capacity;
} MelAttentionLayer;

/* @dim must be a multiple of @n_heads. */
void mel_attention_layer_init (MelAttentionLayer *layer, gsize dim, gsize n_heads,
                               gboolean causal, const MelAttentionTensors *params,
                               const MelAttentionTensors *grads);
void mel_attention_layer_clear (MelAttentionLayer *layer);

/* Runs the layer over @x [T × B × D]; @x must stay valid until backward.
 * Returns the output [T × B × D], owned by the layer. */
const float *mel_attention_forward (MelAttentionLayer *layer, const float *x, gsize steps,
                                    gsize batch);

/* Backpropagates @dout [T × B × D]; accumulates the parameter gradients
 * into layer->grads and ∂/∂x into @dx (nullable). */
void mel_attention_backward (MelAttentionLayer *layer, const float *dout, float *dx);

/* The weights of the last forward for sequence @b and head @head: a
 * [T × T] row-major matrix, row t = the distribution over positions 0…T−1
 * that position t attends to.  Owned by the layer. */
const float *mel_attention_get_probs (const MelAttentionLayer *layer, gsize b, gsize head);

/* ---- incremental (sampling), causal only ---------------------------------- */

/* The keys and values of one sequence so far.  Grows on demand. */
typedef struct
{
  gsize dim, n_heads;
  gsize length;        /* positions cached */
  gsize capacity;
  float *k;            /* [D × capacity]: keys transposed (column j = position j), zero past length */
  float *v;            /* [capacity × D] */
  float *qkv;          /* [3D] scratch */
  float *y;            /* [D] scratch */
  float *scores;       /* [capacity] scratch */
} MelAttentionCache;

/* A new empty cache (free with mel_attention_cache_free). */
MelAttentionCache *mel_attention_cache_new (gsize dim, gsize n_heads);
void mel_attention_cache_free (MelAttentionCache *cache);

/* Appends position t = cache->length with input @x [D] and writes its
 * output @out [D]; when @weights (nullable) is given it receives the
 * attention weights of every head, [heads × (t+1)].  Equals row t of
 * mel_attention_forward over the same sequence (causal) up to float
 * summation order. */
void mel_attention_step (const MelAttentionTensors *params, MelAttentionCache *cache,
                         const float *x, float *out, float *weights);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MelAttentionCache, mel_attention_cache_free)

G_END_DECLS
