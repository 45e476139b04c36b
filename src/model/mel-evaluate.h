/* mel-evaluate.h — one evaluator for every model kind, and k-fold
 * cross-validation.
 *
 * Every model (GRU, LSTM + attention, VAE, n-gram) is scored by the same
 * code on the same ids, so the figures can be put side by side:
 *   - bits per symbol (every target of the stream);
 *   - accuracy on every symbol and on note-onset targets;
 *   - pitch bits per note: −log2 of the true pitch's probability
 *     renormalised over the pitch symbols, at every true onset (comparable
 *     to IDyOM's information content of pitch; see mel-metrics.h);
 *   - for the VAE also its reconstruction figures (mel-vae.h);
 *   - optionally the same figures once more with a short-term model
 *     (mel-stm.h) that learns each test song as it is predicted, combined
 *     with the model's prediction at every position ("model + STM").
 *
 * Cross-validation takes the folds as id streams (made by the caller, e.g.
 * with mel_dataset_get_fold_ids() of src/score, folds by melody group), and
 * for each fold trains a fresh model on the other folds — one counting pass
 * for kinds that can fit (the n-gram), the trainer otherwise — and scores
 * it on the held-out fold.
 *
 * Nothing here is global; call from any one thread.
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include <gio/gio.h>

#include "mel-checkpoint.h"
#include "mel-metrics.h"
#include "mel-model.h"
#include "mel-stm.h"
#include "mel-vae.h"
#include "mel-vocab.h"

G_BEGIN_DECLS

typedef struct
{
  MelMetrics metrics;       /* the sums the figures below come from */
  double bits_per_symbol;   /* NaN when nothing was scored */
  double accuracy;
  double onset_accuracy;
  double pitch_bits;        /* per note */
  gboolean has_vae;         /* vae is filled (VAE models only) */
  MelVaeMetrics vae;
  gboolean has_stm;         /* the stm_ fields are filled (mel_evaluate_with_stm) */
  MelMetrics stm_metrics;   /* the model combined with the short-term model */
  double stm_bits_per_symbol;
  double stm_accuracy;
  double stm_onset_accuracy;
  double stm_pitch_bits;
} MelEvaluation;

/* Recomputes the figures of @evaluation from its metrics sums. */
void mel_evaluation_update (MelEvaluation *evaluation);

/* The evaluation window that gives @model full context: the training
 * window for neural kinds (@train_window), at least twice the order for
 * the n-gram. */
guint mel_evaluation_window (const MelModel *model, guint train_window);

/* Scores @model on @ids (@n ids; a stream of songs, or for the VAE whole
 * segments of segment_steps) with windows of @window ids, @batch windows
 * per forward (see mel_metrics_evaluate).  Fills @result (zeroed first).
 * FALSE with G_IO_ERROR_CANCELLED or a MEL_MODEL_ERROR (ids outside the
 * vocabulary). */
gboolean mel_evaluate (MelModel *model, const MelVocab *vocab, const gint32 *ids, gsize n, guint window,
                       guint batch, GCancellable *cancellable, MelEvaluation *result, GError **error);

/* Like mel_evaluate(), and when @stm (borrowed) is not NULL also scores
 * the model combined with a short-term model of that configuration
 * (mel_stm_combine) into the stm_ fields (has_stm TRUE).  The STM starts
 * empty, sees the stream in order up to the symbol before each target and
 * forgets at every delimiter "/", so each song is learnt only from its own
 * earlier notes.  The plain figures are those mel_evaluate() gives.  Not
 * for the VAE (G_IO_ERROR_NOT_SUPPORTED with an @stm); an invalid @stm
 * gives MEL_MODEL_ERROR_INVALID_CONFIG. */
gboolean mel_evaluate_with_stm (MelModel *model, const MelVocab *vocab, const gint32 *ids, gsize n, guint window,
                                guint batch, const MelStmConfig *stm, GCancellable *cancellable,
                                MelEvaluation *result, GError **error);

/* ---- cross-validation ------------------------------------------------------ */

typedef struct
{
  guint n_folds;
  GArray *folds;          /* MelEvaluation per fold, owned */
  MelEvaluation pooled;   /* every held-out symbol of every fold at once */
  double pitch_bits_mean; /* mean and standard deviation over the folds */
  double pitch_bits_sd;
  double bits_mean;
  double bits_sd;
  double stm_pitch_bits_mean; /* the same with the short-term model (NaN without) */
  double stm_pitch_bits_sd;
  double seconds;         /* wall time, training included */
  guint32 epochs_run_min; /* neural kinds: epochs each fold's training ran (0 for kinds that fit) */
  guint32 epochs_run_max;
} MelCrossValidation;

void mel_cross_validation_free (MelCrossValidation *cv);

/* Called after each fold with the 1-based fold done and the count. */
typedef void (*MelFoldProgressFunc) (guint fold, guint n_folds, const MelEvaluation *result,
                                     gpointer user_data);

/* k-fold cross-validation: @train_folds and @test_folds hold k GArray
 * (gint32 ids in @vocab's numbering) each; fold i trains a model of
 * @model_config on train_folds[i] (fit, or @train_config's trainer without
 * validation; @train_config may be NULL for kinds that fit) and scores it
 * on test_folds[i].  Returns a new result (free with
 * mel_cross_validation_free) or NULL with G_IO_ERROR_CANCELLED, a
 * MEL_MODEL_ERROR or a MEL_TRAINER_ERROR.  The same as
 * mel_cross_validate_full() with no options. */
MelCrossValidation *mel_cross_validate (const MelModelConfig *model_config, const MelTrainConfig *train_config,
                                        const MelVocab *vocab, GPtrArray *train_folds, GPtrArray *test_folds,
                                        MelFoldProgressFunc progress, gpointer user_data,
                                        GCancellable *cancellable, GError **error);

/* Extra settings of mel_cross_validate_full(). */
typedef struct
{
  const MelStmConfig *stm;  /* borrowed; not NULL: also score "model + STM" */
  GPtrArray *valid_folds;   /* borrowed, nullable: k GArray of gint32, an inner validation
                             * stream per fold (disjoint from its training and test
                             * streams).  The trainer then validates after every epoch,
                             * stops after train_config->patience epochs without gain
                             * and the fold is scored with its best epoch's parameters */
} MelCrossValidationOptions;

/* mel_cross_validate() with @options (nullable: none; borrowed).  With
 * valid_folds, each neural fold's checkpoints go to a temporary folder
 * that is removed afterwards.  Besides its errors,
 * G_IO_ERROR_INVALID_ARGUMENT when valid_folds has the wrong length, or a
 * MEL_CHECKPOINT_ERROR when the best epoch's temporary checkpoint cannot
 * be written or read back. */
MelCrossValidation *mel_cross_validate_full (const MelModelConfig *model_config, const MelTrainConfig *train_config,
                                             const MelVocab *vocab, GPtrArray *train_folds, GPtrArray *test_folds,
                                             const MelCrossValidationOptions *options,
                                             MelFoldProgressFunc progress, gpointer user_data,
                                             GCancellable *cancellable, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MelCrossValidation, mel_cross_validation_free)

G_END_DECLS
