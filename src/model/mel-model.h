/* mel-model.h — the common face of every melody model (GRU, LSTM +
 * attention, VAE, n-gram).
 *
 * A model is a causal predictor over symbol ids: given inputs of shape
 * [batch × steps] it returns logits of shape [batch × steps × vocab] where
 * position t predicts the symbol at t+1 (the caller supplies the targets).
 * The VAE reads a whole segment, so its "inputs" are the segment and its
 * logits at t predict segment[t] from z and segment[0…t-1]; it adds its KL
 * term itself (see mel_model_get_aux_loss).
 *
 * Parameters live in one contiguous float buffer with a twin of the same
 * length for gradients (so data-parallel training is one allreduce, and Adam
 * is one flat loop).  backward() accumulates into the gradient buffer;
 * call mel_model_zero_grad() before each step.
 *
 * A model is used by one thread at a time; it may use worker threads of its
 * own (mel_model_set_n_threads).  Nothing here is global: two models can
 * train side by side.
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include <gio/gio.h>

#include "mel-vocab.h"

G_BEGIN_DECLS

#define MEL_MODEL_ERROR (mel_model_error_quark ())
GQuark mel_model_error_quark (void);
typedef enum
{
  MEL_MODEL_ERROR_INVALID_CONFIG,
  MEL_MODEL_ERROR_UNSUPPORTED, /* operation this model kind does not have */
} MelModelError;

typedef enum
{
  MEL_MODEL_GRU,
  MEL_MODEL_LSTM_ATTN,
  MEL_MODEL_VAE,
  MEL_MODEL_NGRAM,
  MEL_N_MODEL_KINDS
} MelModelKind;

/* "gru", "lstm-attn", "vae", "ngram" */
const char *mel_model_kind_to_string (MelModelKind kind);
gboolean mel_model_kind_from_string (const char *text, MelModelKind *kind);

/* Hyperparameters of the architecture (not of training).  Stored in
 * checkpoints field by field; add fields only at the end. */
typedef struct
{
  MelModelKind kind;
  guint32 vocab_size;
  guint32 embed_dim;     /* default 64 */
  guint32 hidden_size;   /* default 256 */
  guint32 n_layers;      /* recurrent layers; default 2 (GRU, LSTM), 1 (VAE) */
  guint32 n_heads;       /* attention heads, lstm-attn; default 4 */
  guint32 latent_size;   /* VAE latent; default 32 */
  guint32 segment_steps; /* VAE segment length; default 32 */
  guint32 ngram_order;   /* n-gram; default 8 */
  float dropout;         /* default 0.0 */
  float free_bits;       /* VAE: KL nats per latent dimension not penalised
                          * (batch mean, Kingma et al. 2016); default 0.5 */
} MelModelConfig;

/* Fills @config with the defaults for @kind. */
void mel_model_config_init (MelModelConfig *config, MelModelKind kind, guint vocab_size);

typedef struct _MelModel MelModel;

/* A new model with parameters initialised from @seed.  Returns NULL with
 * MEL_MODEL_ERROR_INVALID_CONFIG for impossible configurations. */
MelModel *mel_model_new (const MelModelConfig *config, guint64 seed, GError **error);
void mel_model_free (MelModel *model);

const MelModelConfig *mel_model_get_config (const MelModel *model);
/* Worker threads the model may use for one forward/backward (>= 1).  The
 * batch is split across them (each runs single-threaded OpenBLAS on its
 * slice; see mel-blas.h); results do not depend on the count beyond float
 * summation order.  Discards the activations of the last forward. */
void mel_model_set_n_threads (MelModel *model, guint n_threads);
/* Dropout and other training-only behaviour on or off. */
void mel_model_set_training (MelModel *model, gboolean training);
/* Seed of the model's own RNG (dropout, VAE noise). */
void mel_model_set_rng_seed (MelModel *model, guint64 seed);

/* The contiguous parameter and gradient buffers (owned by the model). */
gsize mel_model_get_n_params (const MelModel *model);
float *mel_model_get_params (MelModel *model);
float *mel_model_get_grads (MelModel *model);
void mel_model_zero_grad (MelModel *model);

/* Forward pass over @inputs [batch × steps] (ids in 0…vocab_size-1);
 * returns logits [batch × steps × vocab], owned by the model and valid
 * until the next forward.  Keeps what backward needs.  Any batch and
 * number of steps may be used; buffers grow to the largest seen and are
 * reused.  With dropout > 0 in training mode, every forward draws fresh
 * masks from the model's RNG (mel_model_set_rng_seed resets the stream). */
const float *mel_model_forward (MelModel *model, const gint32 *inputs, guint batch, guint steps);

/* Backpropagates @dlogits (same shape as the logits of the last forward)
 * and accumulates parameter gradients, including those of the auxiliary
 * loss scaled by @aux_weight (the VAE's β·KL; ignored by other kinds). */
void mel_model_backward (MelModel *model, const float *dlogits, float aux_weight);

/* The auxiliary loss of the last forward, per sequence averaged over the
 * batch (VAE: KL in nats after free bits); 0 for other kinds. */
double mel_model_get_aux_loss (const MelModel *model);

/* ---- incremental inference (sampling) --------------------------------- */

typedef struct _MelModelState MelModelState;

/* A fresh inference state for one sequence (hidden states, K/V cache…).
 * For the VAE, @latent (latent_size floats) sets z; NULL samples nothing
 * and uses z = 0.  The state borrows @model (free it first) and may cache
 * values derived from the parameters (the GRU's embedding × W_ih table):
 * make a new state after changing the parameters.  Dropout is never
 * applied.  Returns a new state (free with mel_model_state_free). */
MelModelState *mel_model_state_new (MelModel *model, const float *latent);
void mel_model_state_free (MelModelState *state);
/* Feeds one symbol (0 ≤ input < vocab_size) and writes the logits for the
 * next one (vocab floats).  Matches mel_model_forward of the same sequence
 * (in evaluation mode) to float rounding. */
void mel_model_state_step (MelModelState *state, gint32 input, float *logits);

/* ---- VAE only (MEL_MODEL_ERROR_UNSUPPORTED otherwise) ----------------- */

/* Posterior mean and log-variance of each of @n segments (segment_steps ids
 * each); @mu and @logvar receive n × latent_size floats. */
gboolean mel_model_encode (MelModel *model, const gint32 *segments, guint n, float *mu,
                           float *logvar, GError **error);

/* ---- LSTM + attention only (MEL_MODEL_ERROR_UNSUPPORTED otherwise) ---- */

/* The causal attention weights of the sequence @ids (@steps ≥ 1 ids, run
 * in evaluation mode from an empty state): @weights receives
 * n_heads × steps × steps floats, [head][t][s] = how much position t
 * attends to position s (0 for s > t; each row sums to 1).  Does not
 * disturb the activations of the last forward. */
gboolean mel_model_get_attention (MelModel *model, const gint32 *ids, guint steps, float *weights,
                                  GError **error);

/* ---- count-based kinds (n-gram; MEL_MODEL_ERROR_UNSUPPORTED otherwise) -- */

/* TRUE when @model learns by counting in one pass (mel_model_fit) rather
 * than by gradient descent: trainers call fit and skip the epochs. */
gboolean mel_model_can_fit (const MelModel *model);

/* Learns from the symbol stream @ids (@n ids, each position predicting the
 * next), replacing whatever was learnt before.  FALSE with
 * MEL_MODEL_ERROR_UNSUPPORTED for kinds that train by gradient descent,
 * MEL_MODEL_ERROR_INVALID_CONFIG for ids outside the vocabulary, or
 * G_IO_ERROR_CANCELLED. */
gboolean mel_model_fit (MelModel *model, const gint32 *ids, gsize n, GCancellable *cancellable,
                        GError **error);

/* What the model learnt beyond its float parameters (the n-gram's counts),
 * as bytes to store in a checkpoint; NULL for kinds that keep everything
 * in the parameter buffer.  Caller owns the result. */
GBytes *mel_model_save_data (MelModel *model);

/* Restores what mel_model_save_data() returned.  FALSE with
 * MEL_MODEL_ERROR_INVALID_CONFIG when @data is damaged or does not match
 * the configuration, or MEL_MODEL_ERROR_UNSUPPORTED for kinds without such
 * data.  The model is unchanged on failure. */
gboolean mel_model_load_data (MelModel *model, GBytes *data, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MelModel, mel_model_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MelModelState, mel_model_state_free)

G_END_DECLS
