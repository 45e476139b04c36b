/* mel-evaluate.c — the shared evaluator and k-fold cross-validation.
 *
 * SPDX-License-Identifier: MIT
 */
#include "mel-evaluate.h"

#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

#include "mel-trainer.h"

void
mel_evaluation_update (MelEvaluation *evaluation)
{
  g_return_if_fail (evaluation != NULL);

  evaluation->bits_per_symbol = mel_metrics_get_bits_per_symbol (&evaluation->metrics);
  evaluation->accuracy = mel_metrics_get_accuracy (&evaluation->metrics);
  evaluation->onset_accuracy = mel_metrics_get_onset_accuracy (&evaluation->metrics);
  evaluation->pitch_bits = mel_metrics_get_pitch_bits (&evaluation->metrics);
  if (evaluation->has_stm)
    {
      evaluation->stm_bits_per_symbol = mel_metrics_get_bits_per_symbol (&evaluation->stm_metrics);
      evaluation->stm_accuracy = mel_metrics_get_accuracy (&evaluation->stm_metrics);
      evaluation->stm_onset_accuracy = mel_metrics_get_onset_accuracy (&evaluation->stm_metrics);
      evaluation->stm_pitch_bits = mel_metrics_get_pitch_bits (&evaluation->stm_metrics);
    }
  else
    {
      evaluation->stm_bits_per_symbol = NAN;
      evaluation->stm_accuracy = NAN;
      evaluation->stm_onset_accuracy = NAN;
      evaluation->stm_pitch_bits = NAN;
    }
}

guint
mel_evaluation_window (const MelModel *model, guint train_window)
{
  const MelModelConfig *config;

  g_return_val_if_fail (model != NULL, 64);

  config = mel_model_get_config (model);
  if (config->kind == MEL_MODEL_VAE)
    return config->segment_steps;
  if (config->kind == MEL_MODEL_NGRAM)
    return MAX (64, 2 * config->ngram_order);
  return MAX (train_window, 2);
}

gboolean
mel_evaluate (MelModel *model, const MelVocab *vocab, const gint32 *ids, gsize n, guint window, guint batch,
              GCancellable *cancellable, MelEvaluation *result, GError **error)
{
  const MelModelConfig *config;

  g_return_val_if_fail (model != NULL && vocab != NULL && result != NULL, FALSE);
  g_return_val_if_fail (ids != NULL || n == 0, FALSE);
  g_return_val_if_fail (window >= 1 && batch >= 1, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  memset (result, 0, sizeof *result);
  config = mel_model_get_config (model);
  if (!mel_metrics_evaluate (&result->metrics, model, vocab, ids, n, window, batch, cancellable, error))
    return FALSE;
  if (config->kind == MEL_MODEL_VAE && n >= config->segment_steps)
    {
      if (!mel_vae_evaluate (model, ids, (guint) (n / config->segment_steps), &result->vae, cancellable,
                             error))
        return FALSE;
      result->has_vae = TRUE;
    }
  mel_evaluation_update (result);
  return TRUE;
}

/* The STM pass: the windows of mel_metrics_evaluate() (window k starts at
 * k·half and scores its last half, window 0 all of it), so the targets
 * come in stream order and the STM can follow the stream with a cursor. */
typedef struct
{
  MelStm *stm;
  const MelVocab *vocab;
  const gint32 *ids;
  gsize cursor;      /* ids[0 … cursor−1] have been fed to the STM */
  float *row;        /* vocab->size */
  MelEvaluation *result;
} StmPass;

static void
stm_score_position (StmPass *pass, const float *logits, gsize pos, gint32 target)
{
  while (pass->cursor <= pos)
    mel_stm_observe (pass->stm, pass->ids[pass->cursor++]);
  mel_metrics_add (&pass->result->metrics, pass->vocab, logits, &target, 1);
  mel_stm_combine (pass->stm, logits, pass->row);
  mel_metrics_add (&pass->result->stm_metrics, pass->vocab, pass->row, &target, 1);
}

static void
stm_score_batch (StmPass *pass, MelModel *model, const gint32 *inputs, const gsize *starts, const guint *first,
                 guint b, guint window, gsize n)
{
  const float *logits = mel_model_forward (model, inputs, b, window);
  guint size = pass->vocab->size;

  for (guint w = 0; w < b; w++)
    for (guint j = first[w]; j < window; j++)
      {
        gsize pos = starts[w] + j;

        if (pos + 1 >= n)
          break;
        stm_score_position (pass, logits + ((gsize) w * window + j) * size, pos, pass->ids[pos + 1]);
      }
}

static gboolean
evaluate_stm (MelModel *model, const MelVocab *vocab, const gint32 *ids, gsize n, guint window, guint batch,
              MelStm *stm, GCancellable *cancellable, MelEvaluation *result, GError **error)
{
  g_autofree gint32 *inputs = g_new (gint32, (gsize) batch * window);
  g_autofree gsize *starts = g_new (gsize, batch);
  g_autofree guint *first = g_new (guint, batch);
  g_autofree float *row = g_new (float, vocab->size);
  StmPass pass = { stm, vocab, ids, 0, row, result };
  guint half = MAX (window / 2, 1), filled = 0;

  for (gsize i = 0; i < n; i++)
    if (ids[i] < 0 || (guint) ids[i] >= vocab->size)
      {
        g_set_error (error, MEL_MODEL_ERROR, MEL_MODEL_ERROR_INVALID_CONFIG,
                     "symbol id %d at position %" G_GSIZE_FORMAT " is outside the vocabulary of %u symbols",
                     ids[i], i, vocab->size);
        return FALSE;
      }
  mel_model_set_training (model, FALSE);
  for (gsize start = 0; n >= 2; start += half)
    {
      guint first_scored = start == 0 ? 0 : window - half;

      if (start + first_scored + 1 > n - 1)
        break;
      for (guint j = 0; j < window; j++)
        inputs[(gsize) filled * window + j] = start + j < n ? ids[start + j] : 0;
      starts[filled] = start;
      first[filled] = first_scored;
      if (++filled == batch)
        {
          if (g_cancellable_set_error_if_cancelled (cancellable, error))
            return FALSE;
          stm_score_batch (&pass, model, inputs, starts, first, filled, window, n);
          filled = 0;
        }
    }
  if (filled > 0)
    {
      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        return FALSE;
      stm_score_batch (&pass, model, inputs, starts, first, filled, window, n);
    }
  return TRUE;
}

gboolean
mel_evaluate_with_stm (MelModel *model, const MelVocab *vocab, const gint32 *ids, gsize n, guint window,
                       guint batch, const MelStmConfig *stm_config, GCancellable *cancellable,
                       MelEvaluation *result, GError **error)
{
  const MelModelConfig *config;
  g_autoptr(MelStm) stm = NULL;

  g_return_val_if_fail (model != NULL && vocab != NULL && result != NULL, FALSE);
  g_return_val_if_fail (ids != NULL || n == 0, FALSE);
  g_return_val_if_fail (window >= 1 && batch >= 1, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (stm_config == NULL)
    return mel_evaluate (model, vocab, ids, n, window, batch, cancellable, result, error);
  memset (result, 0, sizeof *result);
  config = mel_model_get_config (model);
  if (config->kind == MEL_MODEL_VAE)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                           "the short-term model needs a model that predicts a stream, not a VAE");
      return FALSE;
    }
  if (config->vocab_size != vocab->size)
    {
      g_set_error (error, MEL_MODEL_ERROR, MEL_MODEL_ERROR_INVALID_CONFIG,
                   "the model has %u symbols but the vocabulary %u", config->vocab_size, vocab->size);
      return FALSE;
    }
  stm = mel_stm_new (vocab, stm_config);
  if (stm == NULL)
    {
      g_set_error_literal (error, MEL_MODEL_ERROR, MEL_MODEL_ERROR_INVALID_CONFIG,
                           "invalid short-term model configuration, or a vocabulary without pitches");
      return FALSE;
    }
  result->has_stm = TRUE;
  if (!evaluate_stm (model, vocab, ids, n, window, batch, stm, cancellable, result, error))
    return FALSE;
  mel_evaluation_update (result);
  return TRUE;
}

void
mel_cross_validation_free (MelCrossValidation *cv)
{
  if (cv == NULL)
    return;
  g_clear_pointer (&cv->folds, g_array_unref);
  g_free (cv);
}

/* Trains @trainer with checkpoints in a temporary folder and returns the
 * model of its best epoch (lowest validation loss); the folder is removed. */
static MelModel *
run_keeping_best (MelTrainer *trainer, GCancellable *cancellable, GError **error)
{
  g_autofree char *dir = g_dir_make_tmp ("melodist-cv-XXXXXX", error);
  g_autofree char *last = NULL;
  g_autofree char *best = NULL;
  g_autoptr(MelCheckpoint) ckpt = NULL;
  MelModel *model = NULL;

  if (dir == NULL)
    return NULL;
  last = g_build_filename (dir, "fold.ckpt", NULL);
  best = g_build_filename (dir, "fold.best.ckpt", NULL);
  mel_trainer_set_checkpoint_paths (trainer, last, best);
  if (mel_trainer_run (trainer, cancellable, error))
    {
      ckpt = mel_checkpoint_load (best, error);
      if (ckpt != NULL)
        model = mel_checkpoint_create_model (ckpt, error);
    }
  g_remove (last);
  g_remove (best);
  g_rmdir (dir);
  return model;
}

/* A model of @model_config trained on @train (validated on @valid when
 * it is not NULL); @epochs_run receives the epochs trained. */
static MelModel *
train_fold (const MelModelConfig *model_config, const MelTrainConfig *train_config, const MelVocab *vocab,
            GArray *train, GArray *valid, guint32 *epochs_run, GCancellable *cancellable, GError **error)
{
  g_autoptr(MelModel) model = mel_model_new (model_config, train_config != NULL ? train_config->seed : 1, error);
  g_autoptr(MelTrainer) trainer = NULL;

  if (model == NULL)
    return NULL;
  if (mel_model_can_fit (model))
    {
      if (!mel_model_fit (model, (const gint32 *) train->data, train->len, cancellable, error))
        return NULL;
      return g_steal_pointer (&model);
    }
  if (train_config == NULL)
    {
      g_set_error (error, MEL_MODEL_ERROR, MEL_MODEL_ERROR_INVALID_CONFIG,
                   "a “%s” model needs a training configuration", mel_model_kind_to_string (model_config->kind));
      return NULL;
    }
  trainer = mel_trainer_new (model_config, train_config, vocab, (const gint32 *) train->data, train->len,
                             valid != NULL ? (const gint32 *) valid->data : NULL, valid != NULL ? valid->len : 0,
                             error);
  if (trainer == NULL)
    return NULL;
  if (valid != NULL && valid->len > 0)
    {
      MelModel *best = run_keeping_best (trainer, cancellable, error);

      *epochs_run = mel_trainer_get_history (trainer)->len;
      return best;
    }
  if (!mel_trainer_run (trainer, cancellable, error))
    return NULL;
  *epochs_run = mel_trainer_get_history (trainer)->len;
  {
    /* The trainer owns its model: take a copy through a checkpoint. */
    g_autoptr(MelCheckpoint) ckpt = mel_trainer_to_checkpoint (trainer);

    return mel_checkpoint_create_model (ckpt, error);
  }
}

static void
mean_sd (GArray *folds, gsize offset, double *mean, double *sd)
{
  double sum = 0, sum2 = 0;
  guint n = 0;

  for (guint i = 0; i < folds->len; i++)
    {
      const MelEvaluation *e = &g_array_index (folds, MelEvaluation, i);
      double x;

      memcpy (&x, (const char *) e + offset, sizeof x);
      if (!isfinite (x))
        continue;
      sum += x;
      sum2 += x * x;
      n++;
    }
  *mean = n > 0 ? sum / n : NAN;
  *sd = n > 1 ? sqrt (MAX (0.0, (sum2 - sum * sum / n) / (n - 1))) : NAN;
}

MelCrossValidation *
mel_cross_validate (const MelModelConfig *model_config, const MelTrainConfig *train_config, const MelVocab *vocab,
                    GPtrArray *train_folds, GPtrArray *test_folds, MelFoldProgressFunc progress,
                    gpointer user_data, GCancellable *cancellable, GError **error)
{
  return mel_cross_validate_full (model_config, train_config, vocab, train_folds, test_folds, NULL, progress,
                                  user_data, cancellable, error);
}

MelCrossValidation *
mel_cross_validate_full (const MelModelConfig *model_config, const MelTrainConfig *train_config,
                         const MelVocab *vocab, GPtrArray *train_folds, GPtrArray *test_folds,
                         const MelCrossValidationOptions *options, MelFoldProgressFunc progress,
                         gpointer user_data, GCancellable *cancellable, GError **error)
{
  g_autoptr(MelCrossValidation) cv = NULL;
  gint64 started = g_get_monotonic_time ();
  const MelStmConfig *stm = options != NULL ? options->stm : NULL;
  GPtrArray *valid_folds = options != NULL ? options->valid_folds : NULL;

  g_return_val_if_fail (model_config != NULL && vocab != NULL, NULL);
  g_return_val_if_fail (train_folds != NULL && test_folds != NULL, NULL);
  g_return_val_if_fail (train_folds->len == test_folds->len && train_folds->len >= 1, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (valid_folds != NULL && valid_folds->len != train_folds->len)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "%u validation folds for %u training folds", valid_folds->len, train_folds->len);
      return NULL;
    }
  cv = g_new0 (MelCrossValidation, 1);
  cv->n_folds = train_folds->len;
  cv->folds = g_array_new (FALSE, TRUE, sizeof (MelEvaluation));
  cv->pooled.has_stm = stm != NULL;
  for (guint k = 0; k < cv->n_folds; k++)
    {
      GArray *test = test_folds->pdata[k];
      guint32 epochs_run = 0;
      g_autoptr(MelModel) model = train_fold (model_config, train_config, vocab, train_folds->pdata[k],
                                              valid_folds != NULL ? valid_folds->pdata[k] : NULL, &epochs_run,
                                              cancellable, error);
      MelEvaluation result;

      if (model == NULL)
        return NULL;
      if (!mel_evaluate_with_stm (model, vocab, (const gint32 *) test->data, test->len,
                                  mel_evaluation_window (model, train_config != NULL ? train_config->window : 64),
                                  32, stm, cancellable, &result, error))
        return NULL;
      g_array_append_val (cv->folds, result);
      mel_metrics_merge (&cv->pooled.metrics, &result.metrics);
      if (stm != NULL)
        mel_metrics_merge (&cv->pooled.stm_metrics, &result.stm_metrics);
      cv->epochs_run_min = k == 0 ? epochs_run : MIN (cv->epochs_run_min, epochs_run);
      cv->epochs_run_max = MAX (cv->epochs_run_max, epochs_run);
      if (progress != NULL)
        progress (k + 1, cv->n_folds, &result, user_data);
    }
  mel_evaluation_update (&cv->pooled);
  mean_sd (cv->folds, G_STRUCT_OFFSET (MelEvaluation, pitch_bits), &cv->pitch_bits_mean, &cv->pitch_bits_sd);
  mean_sd (cv->folds, G_STRUCT_OFFSET (MelEvaluation, bits_per_symbol), &cv->bits_mean, &cv->bits_sd);
  mean_sd (cv->folds, G_STRUCT_OFFSET (MelEvaluation, stm_pitch_bits), &cv->stm_pitch_bits_mean,
           &cv->stm_pitch_bits_sd);
  cv->seconds = (g_get_monotonic_time () - started) / 1e6;
  return g_steal_pointer (&cv);
}
