/* mel-lstm.h — an LSTM layer over a sequence batch, with BPTT and a
 * single-sequence step for sampling.
 *
 * PyTorch's LSTM, gate rows in the order i, f, g, o:
 *   i = σ(W_ii x + b_ii + W_hi h + b_hi)
 *   f = σ(W_if x + b_if + W_hf h + b_hf)
 *   g = tanh(W_ig x + b_ig + W_hg h + b_hg)
 *   o = σ(W_io x + b_io + W_ho h + b_ho)
 *   c' = f ⊙ c + i ⊙ g,   h' = o ⊙ tanh(c')
 *
 * Conventions are those of mel-layers.h: time-major [T × B × …] buffers,
 * backward ACCUMULATES into every gradient output, parameters are views
 * into a model's contiguous buffer.  Like the GRU, the first layer of a
 * model can look its input projection up in a [V × 4H] table
 * (embedding × W_ihᵀ + b_ih) instead of multiplying.
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include "mel-layers.h"

G_BEGIN_DECLS

typedef struct
{
  float *w_ih; /* [4H × I] */
  float *w_hh; /* [4H × H] */
  float *b_ih; /* [4H] */
  float *b_hh; /* [4H] */
} MelLstmTensors;

gsize mel_lstm_n_params (gsize input_size, gsize hidden_size);
/* Points @t into @base (mel_lstm_n_params floats); returns the end. */
float *mel_lstm_bind (MelLstmTensors *t, float *base, gsize input_size, gsize hidden_size);
/* PyTorch's init: every tensor uniform in ±1/√H. */
void mel_lstm_init_params (const MelLstmTensors *t, gsize input_size, gsize hidden_size,
                           MelRng *rng);

/* One LSTM layer: parameters, gradients and the activations of the last
 * forward (owned, grown on demand, reused).  Several layers may share
 * @params (one per worker thread), each with its own @grads. */
typedef struct
{
  gsize input_size, hidden_size;
  const MelLstmTensors *params;
  const MelLstmTensors *grads;

  /* last forward */
  gsize steps, batch;
  const float *x;       /* [T × B × I], not owned (NULL in table mode) */
  const gint32 *ids;    /* [T × B], table mode, not owned */
  float *h;             /* [(T+1) × B × H]: block 0 is h0 (zeros), block t+1 is h_t */
  float *c;             /* [(T+1) × B × H]: cell states, likewise */
  float *gates;         /* [T × B × 4H]: i, f, g, o after their nonlinearity */
  float *xp;            /* [T × B × 4H]: input projections (not in table mode) */
  float *dg;            /* [T × B × 4H]: forward scratch, then ∂ of the pre-activations */
  float *dh;            /* [B × H]: backward carry ∂h_{t-1} */
  float *dc;            /* [B × H]: backward carry ∂c_{t-1} */
  float *w_packed;      /* W_hh packed for the per-step products (mel-lstm.c), or NULL */
  gsize capacity;       /* rows (T × B) the buffers hold */
  gsize batch_capacity;
} MelLstmLayer;

void mel_lstm_layer_init (MelLstmLayer *layer, gsize input_size, gsize hidden_size,
                          const MelLstmTensors *params, const MelLstmTensors *grads);
/* Frees the activation buffers (the layer can be used again). */
void mel_lstm_layer_clear (MelLstmLayer *layer);

/* Runs the layer over @x [T × B × I] from zero states.  @x must stay
 * valid until backward.  Returns h_1…h_T [T × B × H], owned by the layer. */
const float *mel_lstm_forward (MelLstmLayer *layer, const float *x, gsize steps, gsize batch);

/* The same with the input projection looked up: the input at (t, b) is
 * symbol ids[t·B + b] and @table [V × 4H] = E·W_ihᵀ + b_ih
 * (mel_lstm_input_table).  @table and @ids must stay valid until backward. */
const float *mel_lstm_forward_table (MelLstmLayer *layer, const float *table, const gint32 *ids,
                                     gsize steps, gsize batch);

/* Backpropagates @dout [T × B × H] (∂loss/∂h_t) through time; accumulates
 * the parameter gradients into layer->grads and
 *   dx [T × B × I] += ∂/∂x        (nullable; not in table mode)
 *   dtable [V × 4H] += ∂/∂table   (table mode, required; grads->w_ih and
 *                                  b_ih are then left to
 *                                  mel_lstm_input_table_backward). */
void mel_lstm_backward (MelLstmLayer *layer, const float *dout, float *dx, float *dtable);

/* table[V × 4H] = emb[V × E] · W_ihᵀ + b_ih */
void mel_lstm_input_table (float *table, const float *emb, gsize vocab, gsize embed_dim,
                           const MelLstmTensors *params, gsize hidden_size);
/* grads->w_ih += dtableᵀ·emb, grads->b_ih += Σ dtable, demb += dtable·W_ih */
void mel_lstm_input_table_backward (const MelLstmTensors *grads, float *demb, const float *dtable,
                                    const float *emb, const MelLstmTensors *params, gsize vocab,
                                    gsize embed_dim, gsize hidden_size);

/* One step of a single sequence (sampling): @xp [4H] is W_ih x + b_ih;
 * @h and @c [H] are updated in place; @scratch holds 4H floats.  Computes
 * the same function as the forward above, bit for bit on one machine
 * except for the GEMV/GEMM summation order. */
void mel_lstm_step (const MelLstmTensors *params, gsize hidden_size, const float *xp, float *h,
                    float *c, float *scratch);

/* mel_lstm_step in two halves, so that a sampler can compute the
 * recurrent product of the next step while it does other work:
 *   gh [4H] = W_hh h                      (h [H] read only)
 *   h, c ← the step from @xp and @gh       (h and c [H] updated in place)
 * mel_lstm_step_recurrent then mel_lstm_step_gates equal mel_lstm_step,
 * bit for bit. */
void mel_lstm_step_recurrent (const MelLstmTensors *params, gsize hidden_size, const float *h,
                              float *gh);
void mel_lstm_step_gates (const MelLstmTensors *params, gsize hidden_size, const float *xp,
                          const float *gh, float *h, float *c);

G_END_DECLS
