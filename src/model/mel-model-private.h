/* mel-model-private.h — what a model kind implements (not installed).
 *
 * mel-model.c owns the common part of a MelModel (config, the parameter
 * and gradient buffers, threads, training flag, RNG seed) and dispatches
 * through the kind's MelModelClass.  A kind:
 *  - says how many parameters a config needs (count_params); mel-model.c
 *    allocates params and grads as two buffers of that length;
 *  - create() builds its private data: a view struct of float * into
 *    model->params / model->grads (with shape comments) and its workspaces;
 *  - init_params() fills model->params deterministically from an RNG;
 *  - forward/backward as in mel-model.h (mel-model.c checks the arguments
 *    and that backward follows a forward);
 *  - the incremental state for sampling.
 * Optional entries may be NULL: get_aux_loss (→ 0), encode (→ UNSUPPORTED),
 * threads_changed.
 *
 * To add a kind: write mel-<kind>-model.c defining a const MelModelClass,
 * declare it below and return it from _mel_model_class_for_kind().
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include "mel-model.h"
#include "mel-blas.h"
#include "mel-layers.h"

G_BEGIN_DECLS

typedef struct _MelModelClass MelModelClass;

struct _MelModel
{
  const MelModelClass *klass;
  MelModelConfig config;
  gsize n_params;
  float *params;         /* [n_params], owned */
  float *grads;          /* [n_params], owned */
  guint n_threads;
  MelWorkers *workers;   /* NULL when n_threads == 1 */
  gboolean training;
  guint64 rng_seed;      /* base seed of dropout / noise streams */
  guint64 n_forwards;    /* forwards so far: each draws fresh dropout streams */
  guint last_batch;      /* shape of the last forward, 0 when none */
  guint last_steps;
  gpointer priv;         /* the kind's data (create/destroy) */
};

/* Every kind's state starts with this. */
struct _MelModelState
{
  const MelModelClass *klass;
  MelModel *model;
};

struct _MelModelClass
{
  const char *name;
  /* Extra checks beyond the common ones (vocab_size ≥ 1, sizes ≥ 1). */
  gboolean (*check_config) (const MelModelConfig *config, GError **error);
  gsize (*count_params) (const MelModelConfig *config);
  gpointer (*create) (MelModel *model);
  void (*destroy) (gpointer priv);
  void (*init_params) (MelModel *model, MelRng *rng);
  /* Called after model->n_threads / workers changed (may be NULL). */
  void (*threads_changed) (MelModel *model);
  const float *(*forward) (MelModel *model, const gint32 *inputs, guint batch, guint steps);
  void (*backward) (MelModel *model, const float *dlogits, float aux_weight);
  double (*get_aux_loss) (const MelModel *model);
  MelModelState *(*state_new) (MelModel *model, const float *latent);
  void (*state_step) (MelModelState *state, gint32 input, float *logits);
  void (*state_free) (MelModelState *state);
  gboolean (*encode) (MelModel *model, const gint32 *segments, guint n, float *mu,
                      float *logvar, GError **error);
  /* lstm-attn only (NULL → UNSUPPORTED): see mel_model_get_attention. */
  gboolean (*get_attention) (MelModel *model, const gint32 *ids, guint steps, float *weights,
                             GError **error);
  /* count-based kinds only (NULL otherwise): see mel_model_fit,
   * mel_model_save_data and mel_model_load_data. */
  gboolean (*fit) (MelModel *model, const gint32 *ids, gsize n, GCancellable *cancellable,
                   GError **error);
  GBytes *(*save_data) (MelModel *model);
  gboolean (*load_data) (MelModel *model, GBytes *data, GError **error);
};

extern const MelModelClass _mel_gru_model_class;
extern const MelModelClass _mel_lstm_attn_model_class;
extern const MelModelClass _mel_vae_model_class;
extern const MelModelClass _mel_ngram_model_class;

/* The class of @kind, or NULL when this build has none. */
const MelModelClass *_mel_model_class_for_kind (MelModelKind kind);

/* Rows [*b0, *b1) of a batch of @batch that worker @index of @n handles. */
static inline void
_mel_split_batch (guint batch, guint index, guint n, guint *b0, guint *b1)
{
  *b0 = (guint) ((guint64) batch * index / n);
  *b1 = (guint) ((guint64) batch * (index + 1) / n);
}

/* Adds the per-worker gradient buffers @extra[1…n-1] (NULL entries are
 * skipped) into model->grads, in parallel on the model's workers. */
void _mel_model_reduce_grads (MelModel *model, float *const *extra, guint n_extra);

G_END_DECLS
