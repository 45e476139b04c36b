/* mel-evaluate.c — the shared evaluator and k-fold cross-validation.
 *
 * SPDX-License-Identifier: MIT
 */
#include "mel-evaluate.h"

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

void
mel_cross_validation_free (MelCrossValidation *cv)
{
  if (cv == NULL)
    return;
  g_clear_pointer (&cv->folds, g_array_unref);
  g_free (cv);
}

/* A model of @model_config trained on @train. */
static MelModel *
train_fold (const MelModelConfig *model_config, const MelTrainConfig *train_config, const MelVocab *vocab,
            GArray *train, GCancellable *cancellable, GError **error)
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
  trainer = mel_trainer_new (model_config, train_config, vocab, (const gint32 *) train->data, train->len, NULL, 0,
                             error);
  if (trainer == NULL || !mel_trainer_run (trainer, cancellable, error))
    return NULL;
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
  g_autoptr(MelCrossValidation) cv = NULL;
  gint64 started = g_get_monotonic_time ();

  g_return_val_if_fail (model_config != NULL && vocab != NULL, NULL);
  g_return_val_if_fail (train_folds != NULL && test_folds != NULL, NULL);
  g_return_val_if_fail (train_folds->len == test_folds->len && train_folds->len >= 1, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  cv = g_new0 (MelCrossValidation, 1);
  cv->n_folds = train_folds->len;
  cv->folds = g_array_new (FALSE, TRUE, sizeof (MelEvaluation));
  for (guint k = 0; k < cv->n_folds; k++)
    {
      GArray *test = test_folds->pdata[k];
      g_autoptr(MelModel) model = train_fold (model_config, train_config, vocab, train_folds->pdata[k],
                                              cancellable, error);
      MelEvaluation result;

      if (model == NULL)
        return NULL;
      if (!mel_evaluate (model, vocab, (const gint32 *) test->data, test->len,
                         mel_evaluation_window (model, train_config != NULL ? train_config->window : 64), 32,
                         cancellable, &result, error))
        return NULL;
      g_array_append_val (cv->folds, result);
      mel_metrics_merge (&cv->pooled.metrics, &result.metrics);
      if (progress != NULL)
        progress (k + 1, cv->n_folds, &result, user_data);
    }
  mel_evaluation_update (&cv->pooled);
  mean_sd (cv->folds, G_STRUCT_OFFSET (MelEvaluation, pitch_bits), &cv->pitch_bits_mean, &cv->pitch_bits_sd);
  mean_sd (cv->folds, G_STRUCT_OFFSET (MelEvaluation, bits_per_symbol), &cv->bits_mean, &cv->bits_sd);
  cv->seconds = (g_get_monotonic_time () - started) / 1e6;
  return g_steal_pointer (&cv);
}
