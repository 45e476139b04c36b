/* mel-metrics.c — cross-entropy, accuracies and pitch information content.
 *
 * SPDX-License-Identifier: MIT
 */
#include "mel-metrics.h"

#include <math.h>
#include <string.h>

void
mel_metrics_init (MelMetrics *metrics)
{
  g_return_if_fail (metrics != NULL);
  memset (metrics, 0, sizeof *metrics);
}

/* log Σ exp over @n entries of @row selected by @ids (all when NULL). */
static double
log_sum_exp (const float *row, const guint *ids, guint n)
{
  double max = -INFINITY, sum = 0.0;

  for (guint i = 0; i < n; i++)
    max = MAX (max, (double) row[ids ? ids[i] : i]);
  if (!isfinite (max))
    return max;
  for (guint i = 0; i < n; i++)
    sum += exp ((double) row[ids ? ids[i] : i] - max);
  return max + log (sum);
}

static guint
argmax (const float *row, guint n)
{
  guint best = 0;

  for (guint i = 1; i < n; i++)
    if (row[i] > row[best])
      best = i;
  return best;
}

void
mel_metrics_add (MelMetrics *metrics, const MelVocab *vocab, const float *logits,
                 const gint32 *targets, gsize n)
{
  g_autofree guint *pitch_ids = NULL;
  guint n_pitches = 0, size;

  g_return_if_fail (metrics != NULL);
  g_return_if_fail (vocab != NULL);
  g_return_if_fail (n == 0 || (logits != NULL && targets != NULL));

  size = vocab->size;
  pitch_ids = g_new (guint, MAX (size, 1));
  for (guint i = 0; i < size; i++)
    if (vocab->kinds[i] == MEL_SYMBOL_PITCH)
      pitch_ids[n_pitches++] = i;

  for (gsize p = 0; p < n; p++)
    {
      const float *row = logits + p * size;
      gint32 target = targets[p];
      gboolean correct;

      if (target < 0 || (guint) target >= size)
        continue;
      metrics->nats_sum += log_sum_exp (row, NULL, size) - (double) row[target];
      metrics->n_symbols++;
      correct = argmax (row, size) == (guint) target;
      metrics->n_correct += correct;
      if (vocab->kinds[target] == MEL_SYMBOL_PITCH)
        {
          metrics->n_onsets++;
          metrics->n_onset_correct += correct;
          metrics->pitch_bits_sum += (log_sum_exp (row, pitch_ids, n_pitches) - (double) row[target]) / G_LN2;
        }
    }
}

void
mel_metrics_merge (MelMetrics *metrics, const MelMetrics *other)
{
  g_return_if_fail (metrics != NULL && other != NULL);
  metrics->nats_sum += other->nats_sum;
  metrics->n_symbols += other->n_symbols;
  metrics->n_correct += other->n_correct;
  metrics->n_onsets += other->n_onsets;
  metrics->n_onset_correct += other->n_onset_correct;
  metrics->pitch_bits_sum += other->pitch_bits_sum;
}

static double
ratio (double sum, guint64 count)
{
  return count > 0 ? sum / (double) count : NAN;
}

double
mel_metrics_get_cross_entropy (const MelMetrics *metrics)
{
  g_return_val_if_fail (metrics != NULL, NAN);
  return ratio (metrics->nats_sum, metrics->n_symbols);
}

double
mel_metrics_get_bits_per_symbol (const MelMetrics *metrics)
{
  g_return_val_if_fail (metrics != NULL, NAN);
  return ratio (metrics->nats_sum, metrics->n_symbols) / G_LN2;
}

double
mel_metrics_get_accuracy (const MelMetrics *metrics)
{
  g_return_val_if_fail (metrics != NULL, NAN);
  return ratio ((double) metrics->n_correct, metrics->n_symbols);
}

double
mel_metrics_get_onset_accuracy (const MelMetrics *metrics)
{
  g_return_val_if_fail (metrics != NULL, NAN);
  return ratio ((double) metrics->n_onset_correct, metrics->n_onsets);
}

double
mel_metrics_get_pitch_bits (const MelMetrics *metrics)
{
  g_return_val_if_fail (metrics != NULL, NAN);
  return ratio (metrics->pitch_bits_sum, metrics->n_onsets);
}

double
mel_softmax_cross_entropy (const float *logits, const gint32 *targets, gsize n, guint vocab_size,
                           float *dlogits)
{
  double total = 0.0;
  gsize n_valid = 0;

  g_return_val_if_fail (n == 0 || (logits != NULL && targets != NULL), NAN);

  for (gsize p = 0; p < n; p++)
    n_valid += targets[p] >= 0 && (guint) targets[p] < vocab_size;
  if (dlogits != NULL)
    memset (dlogits, 0, n * vocab_size * sizeof (float));
  if (n_valid == 0)
    return 0.0;

  for (gsize p = 0; p < n; p++)
    {
      const float *row = logits + p * vocab_size;
      gint32 target = targets[p];
      double lse;

      if (target < 0 || (guint) target >= vocab_size)
        continue;
      lse = log_sum_exp (row, NULL, vocab_size);
      total += lse - (double) row[target];
      if (dlogits != NULL)
        {
          float *drow = dlogits + p * vocab_size;

          for (guint i = 0; i < vocab_size; i++)
            drow[i] = (float) (exp ((double) row[i] - lse) / (double) n_valid);
          drow[target] -= (float) (1.0 / (double) n_valid);
        }
    }
  return total / (double) n_valid;
}

static gboolean
check_ids (const gint32 *ids, gsize n, guint vocab_size, GError **error)
{
  for (gsize i = 0; i < n; i++)
    if (ids[i] < 0 || (guint) ids[i] >= vocab_size)
      {
        g_set_error (error, MEL_MODEL_ERROR, MEL_MODEL_ERROR_INVALID_CONFIG,
                     "symbol id %d at position %" G_GSIZE_FORMAT " is outside the vocabulary of %u symbols",
                     ids[i], i, vocab_size);
        return FALSE;
      }
  return TRUE;
}

/* Runs one forward over @b windows and scores the positions whose target
 * is not −1. */
static void
score_batch (MelMetrics *metrics, MelModel *model, const MelVocab *vocab, const gint32 *inputs,
             const gint32 *targets, guint b, guint window)
{
  const float *logits = mel_model_forward (model, inputs, b, window);

  mel_metrics_add (metrics, vocab, logits, targets, (gsize) b * window);
}

gboolean
mel_metrics_evaluate (MelMetrics *metrics, MelModel *model, const MelVocab *vocab, const gint32 *ids,
                      gsize n, guint window, guint batch, GCancellable *cancellable, GError **error)
{
  return mel_metrics_evaluate_part (metrics, model, vocab, ids, n, window, batch, 0, 1, cancellable, error);
}

gboolean
mel_metrics_evaluate_part (MelMetrics *metrics, MelModel *model, const MelVocab *vocab, const gint32 *ids,
                           gsize n, guint window, guint batch, guint part, guint n_parts,
                           GCancellable *cancellable, GError **error)
{
  const MelModelConfig *config;
  g_autofree gint32 *inputs = NULL;
  g_autofree gint32 *targets = NULL;
  gboolean segments;
  guint half, filled = 0;
  guint64 index = 0; /* of the window or segment, for the part it belongs to */

  g_return_val_if_fail (metrics != NULL, FALSE);
  g_return_val_if_fail (model != NULL && vocab != NULL, FALSE);
  g_return_val_if_fail (ids != NULL || n == 0, FALSE);
  g_return_val_if_fail (window >= 1 && batch >= 1, FALSE);
  g_return_val_if_fail (n_parts >= 1 && part < n_parts, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  config = mel_model_get_config (model);
  if (!check_ids (ids, n, MIN (config->vocab_size, vocab->size), error))
    return FALSE;
  mel_model_set_training (model, FALSE);
  inputs = g_new (gint32, (gsize) batch * window);
  targets = g_new (gint32, (gsize) batch * window);
  segments = config->kind == MEL_MODEL_VAE;

  if (segments)
    {
      for (gsize s = 0; s + window <= n; s += window)
        {
          if (index++ % n_parts != part)
            continue;
          memcpy (inputs + (gsize) filled * window, ids + s, window * sizeof (gint32));
          memcpy (targets + (gsize) filled * window, ids + s, window * sizeof (gint32));
          if (++filled == batch)
            {
              if (g_cancellable_set_error_if_cancelled (cancellable, error))
                return FALSE;
              score_batch (metrics, model, vocab, inputs, targets, filled, window);
              filled = 0;
            }
        }
    }
  else
    {
      /* Window k starts at k·half and scores its last `half` positions
       * (window 0 scores all of them): every target 1…n−1 exactly once. */
      half = MAX (window / 2, 1);
      for (gsize start = 0; n >= 2; start += half)
        {
          gsize first_scored = start == 0 ? 0 : window - half;
          gint32 *in = inputs + (gsize) filled * window;
          gint32 *out = targets + (gsize) filled * window;

          if (start + first_scored + 1 > n - 1)
            break;
          if (index++ % n_parts != part)
            continue;
          for (guint j = 0; j < window; j++)
            {
              gsize pos = start + j;

              in[j] = pos < n ? ids[pos] : 0;
              out[j] = (j >= first_scored && pos + 1 < n) ? ids[pos + 1] : -1;
            }
          if (++filled == batch)
            {
              if (g_cancellable_set_error_if_cancelled (cancellable, error))
                return FALSE;
              score_batch (metrics, model, vocab, inputs, targets, filled, window);
              filled = 0;
            }
        }
    }
  if (filled > 0)
    {
      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        return FALSE;
      score_batch (metrics, model, vocab, inputs, targets, filled, window);
    }
  return TRUE;
}
