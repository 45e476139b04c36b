/* mel-layers.h — the building blocks of the neural models, llm.c style.
 *
 * Free functions with a forward and a backward each.  Conventions:
 *  - float32, row-major, sizes in elements;
 *  - weights of a linear map are [out × in] (PyTorch layout), y = x·Wᵀ + b;
 *  - every backward ACCUMULATES (+=) into its gradient outputs (parameter
 *    gradients and input gradients alike), so a tensor used twice simply
 *    receives both contributions; clear gradients before a step;
 *  - gradient outputs documented as "nullable" are skipped when NULL;
 *  - recurrent layers work time-major: a sequence batch is [T × B × …] so
 *    that the B rows of one step are contiguous for the recurrent GEMM.
 *
 * Parameters are views (float *) into a model's one contiguous buffer; the
 * *Tensors structs carry the shapes in comments, and *_n_params /
 * *_bind carve them out of a buffer in a fixed order.
 *
 * Nothing here holds global state; all functions are re-entrant.
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* ---- random numbers: xoshiro256** seeded through splitmix64 ------------ */

typedef struct
{
  guint64 s[4];
} MelRng;

void mel_rng_init (MelRng *rng, guint64 seed);
/* A seed for an independent stream identified by (seed, a, b, c). */
guint64 mel_rng_mix (guint64 seed, guint64 a, guint64 b, guint64 c);
guint64 mel_rng_next (MelRng *rng);
/* Uniform in [0, 1). */
float mel_rng_uniform (MelRng *rng);
/* Standard normal (Box–Muller). */
float mel_rng_normal (MelRng *rng);
/* Fills @x[n] with uniform values in [-bound, bound). */
void mel_rng_fill_uniform (MelRng *rng, float *x, gsize n, float bound);
void mel_rng_fill_normal (MelRng *rng, float *x, gsize n, float stddev);

/* ---- embedding ---------------------------------------------------------- */

/* out[n × dim] = table[ids[i]] */
void mel_embedding_forward (float *out, const gint32 *ids, const float *table, gsize n, gsize dim);
/* dtable[ids[i]] += dout[i] */
void mel_embedding_backward (float *dtable, const float *dout, const gint32 *ids, gsize n,
                             gsize dim);

/* ---- linear ------------------------------------------------------------- */

/* out[n × out_dim] = in[n × in_dim] · w[out_dim × in_dim]ᵀ + b (b nullable) */
void mel_linear_forward (float *out, const float *in, const float *w, const float *b, gsize n,
                         gsize in_dim, gsize out_dim);
/* din += dout · w (nullable), dw += doutᵀ · in, db += Σ rows of dout (nullable) */
void mel_linear_backward (float *din, float *dw, float *db, const float *dout, const float *in,
                          const float *w, gsize n, gsize in_dim, gsize out_dim);

/* ---- dropout (inverted: kept units are scaled by 1/(1-p)) --------------- */

/* mask[n] = 0 with probability @p, else 1/(1-p). */
void mel_dropout_mask (float *mask, gsize n, float p, MelRng *rng);
/* out = in ⊙ mask (out may alias in) */
void mel_dropout_forward (float *out, const float *in, const float *mask, gsize n);
/* din += dout ⊙ mask */
void mel_dropout_backward (float *din, const float *dout, const float *mask, gsize n);

/* ---- layer norm over the last dimension --------------------------------- */

/* out[n × c] = (in − mean) · rstd · w + b; @mean and @rstd [n] are saved
 * for backward.  eps = 1e-5 as in PyTorch. */
void mel_layernorm_forward (float *out, float *mean, float *rstd, const float *in, const float *w,
                            const float *b, gsize n, gsize c);
/* din += …, dw += …, db += … */
void mel_layernorm_backward (float *din, float *dw, float *db, const float *dout, const float *in,
                             const float *w, const float *mean, const float *rstd, gsize n,
                             gsize c);

/* ---- softmax and cross-entropy ------------------------------------------ */

/* out[v] = softmax (logits / temperature) with max subtraction, so it never
 * overflows; out may alias logits.  temperature > 0. */
void mel_softmax (float *out, const float *logits, gsize v, float temperature);
/* Σ over rows with targets[i] >= 0 of −log softmax(logits[i])[targets[i]],
 * in double; rows with a negative target are ignored.  @n_counted
 * (nullable) receives the number of rows counted. */
double mel_cross_entropy_forward (const float *logits, const gint32 *targets, gsize n, gsize v,
                                  gsize *n_counted);
/* dlogits[i] += scale · (softmax(logits[i]) − onehot(targets[i])) for rows
 * with targets[i] >= 0 (use scale = 1/n_counted for a mean loss). */
void mel_cross_entropy_backward (float *dlogits, const float *logits, const gint32 *targets,
                                 gsize n, gsize v, float scale);

/* ---- GRU ----------------------------------------------------------------
 *
 * PyTorch's GRU, gate rows in the order r, z, n:
 *   r = σ(W_ir x + b_ir + W_hr h + b_hr)
 *   z = σ(W_iz x + b_iz + W_hz h + b_hz)
 *   n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn))
 *   h' = (1 − z) ⊙ n + z ⊙ h
 */

typedef struct
{
  float *w_ih; /* [3H × I] */
  float *w_hh; /* [3H × H] */
  float *b_ih; /* [3H] */
  float *b_hh; /* [3H] */
} MelGruTensors;

gsize mel_gru_n_params (gsize input_size, gsize hidden_size);
/* Points @t into @base (mel_gru_n_params floats); returns the end. */
float *mel_gru_bind (MelGruTensors *t, float *base, gsize input_size, gsize hidden_size);
/* PyTorch's init: every tensor uniform in ±1/√H. */
void mel_gru_init_params (const MelGruTensors *t, gsize input_size, gsize hidden_size,
                          MelRng *rng);

/* One GRU layer over a sequence batch: parameters, gradients, and the
 * activations of the last forward (owned, grown on demand, reused).
 * Several MelGruLayers may share @params (one per worker thread), each with
 * its own @grads. */
typedef struct
{
  gsize input_size, hidden_size;
  const MelGruTensors *params;
  const MelGruTensors *grads;

  /* last forward */
  gsize steps, batch;
  const float *x;       /* [T × B × I], not owned (NULL in table mode) */
  const gint32 *ids;    /* [T × B], table mode, not owned */
  gboolean has_h0;
  float *h;             /* [(T+1) × B × H]: block 0 is h0, block t+1 is h_t */
  float *gates;         /* [T × B × 3H]: r, z, n after their nonlinearity */
  float *ghn;           /* [T × B × H]: W_hn h_{t-1} + b_hn */
  float *xp;            /* [T × B × 3H]: input projections (not in table mode) */
  float *dgh;           /* [T × B × 3H]: backward scratch, ∂ of W_hh h + b_hh */
  float *dhn;           /* [B × H]: backward carry ∂h_{t-1} */
  gsize capacity;       /* rows (T × B) the buffers hold */
  gsize batch_capacity; /* B the buffers hold */
} MelGruLayer;

void mel_gru_layer_init (MelGruLayer *layer, gsize input_size, gsize hidden_size,
                         const MelGruTensors *params, const MelGruTensors *grads);
/* Frees the activation buffers. */
void mel_gru_layer_clear (MelGruLayer *layer);

/* Runs the layer over @x [T × B × I] from @h0 [B × H] (NULL: zeros).
 * @x must stay valid until backward.  Returns the outputs h_1…h_T
 * [T × B × H], owned by the layer. */
const float *mel_gru_forward (MelGruLayer *layer, const float *x, const float *h0, gsize steps,
                              gsize batch);

/* The same with the input projection looked up: the input at (t, b) is
 * symbol ids[t·B + b] and @table [V × 3H] holds W_ih·e + b_ih for every
 * symbol's embedding e (mel_gru_input_table).  @ids and @table must stay
 * valid until backward. */
const float *mel_gru_forward_table (MelGruLayer *layer, const float *table, const gint32 *ids,
                                    const float *h0, gsize steps, gsize batch);

/* Backpropagates @dout [T × B × H] (∂loss/∂h_t, t = 1…T) through time.
 * Accumulates parameter gradients into layer->grads, and:
 *   dx [T × B × I] += ∂/∂x       (nullable; not in table mode)
 *   dtable [V × 3H] += ∂/∂table  (table mode; then grads->w_ih and b_ih are
 *                                 left to mel_gru_input_table_backward)
 *   dh0 [B × H] += ∂/∂h0          (nullable) */
void mel_gru_backward (MelGruLayer *layer, const float *dout, float *dx, float *dtable,
                       float *dh0);

/* table[V × 3H] = emb[V × E] · W_ihᵀ + b_ih */
void mel_gru_input_table (float *table, const float *emb, gsize vocab, gsize embed_dim,
                          const MelGruTensors *params, gsize hidden_size);
/* grads->w_ih += dtableᵀ·emb, grads->b_ih += Σ dtable, demb += dtable·W_ih */
void mel_gru_input_table_backward (const MelGruTensors *grads, float *demb, const float *dtable,
                                   const float *emb, const MelGruTensors *params, gsize vocab,
                                   gsize embed_dim, gsize hidden_size);

/* One step for a single sequence (sampling): @xp [3H] is the input
 * projection W_ih x + b_ih, @h [H] is updated in place, @scratch holds 4H
 * floats. */
void mel_gru_step (const MelGruTensors *params, gsize hidden_size, const float *xp, float *h,
                   float *scratch);

G_END_DECLS
