/* mel-sampler.c — temperature / top-k sampling through the incremental state.
 *
 * SPDX-License-Identifier: MIT
 */
#include "mel-sampler.h"

#include <math.h>
#include <string.h>

#include "mel-layers.h" /* MelRng */

#define RNG_SAMPLE 0x5a3b1eu
#define ARGMAX_TEMPERATURE 1e-6f

void
mel_sampler_config_init (MelSamplerConfig *config)
{
  g_return_if_fail (config != NULL);
  memset (config, 0, sizeof *config);
  config->temperature = 1.0f;
  config->top_k = 0;
  config->n_steps = 128;
  config->seed = 1;
  config->stop_at_delimiter = TRUE;
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

/* k-th largest logit (1-based k ≤ n): the cut-off for top-k. */
static float
kth_largest (const float *logits, guint n, guint k)
{
  g_autofree float *sorted = g_memdup2 (logits, n * sizeof (float));

  /* Partial selection sort: k is small (a handful) next to n (~40). */
  for (guint i = 0; i < k; i++)
    {
      guint best = i;

      for (guint j = i + 1; j < n; j++)
        if (sorted[j] > sorted[best])
          best = j;
      float tmp = sorted[i];
      sorted[i] = sorted[best];
      sorted[best] = tmp;
    }
  return sorted[k - 1];
}

gint32
mel_sampler_pick (const float *logits, guint n, float temperature, guint top_k, double random)
{
  g_autofree double *weights = NULL;
  double max, total = 0.0, target, acc = 0.0;
  float cutoff = -INFINITY;
  guint last = 0;

  g_return_val_if_fail (logits != NULL && n > 0, 0);

  if (!(temperature > ARGMAX_TEMPERATURE) || top_k == 1)
    return (gint32) argmax (logits, n);
  if (top_k > 0 && top_k < n)
    cutoff = kth_largest (logits, n, top_k);

  /* The temperature divides the logits exactly once; the softmax is
   * computed in double against the maximum for stability. */
  weights = g_new (double, n);
  max = logits[argmax (logits, n)];
  for (guint i = 0; i < n; i++)
    {
      weights[i] = logits[i] >= cutoff ? exp (((double) logits[i] - max) / temperature) : 0.0;
      total += weights[i];
    }
  if (!(total > 0.0) || !isfinite (total))
    return (gint32) argmax (logits, n);
  target = random * total;
  for (guint i = 0; i < n; i++)
    {
      if (weights[i] <= 0.0)
        continue;
      last = i;
      acc += weights[i];
      if (target < acc)
        return (gint32) i;
    }
  return (gint32) last; /* rounding at the very top */
}

GPtrArray *
mel_sample (MelModel *model, const MelVocab *vocab, const MelSamplerConfig *config, const gint32 *primer,
            guint n_primer, guint n_samples, GCancellable *cancellable, GError **error)
{
  g_autoptr(GPtrArray) samples = NULL;
  g_autofree float *logits = NULL;
  guint vocab_size;

  g_return_val_if_fail (model != NULL && vocab != NULL && config != NULL, NULL);
  g_return_val_if_fail (primer != NULL || n_primer == 0, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  vocab_size = mel_model_get_config (model)->vocab_size;
  if (vocab_size != vocab->size)
    {
      g_set_error (error, MEL_MODEL_ERROR, MEL_MODEL_ERROR_INVALID_CONFIG,
                   "the model predicts %u symbols but the vocabulary has %u", vocab_size, vocab->size);
      return NULL;
    }
  if (vocab->delimiter_id < 0)
    {
      g_set_error_literal (error, MEL_MODEL_ERROR, MEL_MODEL_ERROR_INVALID_CONFIG,
                           "the vocabulary has no song delimiter “/”");
      return NULL;
    }
  for (guint i = 0; i < n_primer; i++)
    if (primer[i] < 0 || (guint) primer[i] >= vocab_size)
      {
        g_set_error (error, MEL_MODEL_ERROR, MEL_MODEL_ERROR_INVALID_CONFIG,
                     "seed symbol %u has id %d, outside the vocabulary", i + 1, primer[i]);
        return NULL;
      }

  mel_model_set_training (model, FALSE);
  logits = g_new (float, vocab_size);
  samples = g_ptr_array_new_with_free_func ((GDestroyNotify) g_array_unref);

  for (guint s = 0; s < n_samples; s++)
    {
      g_autoptr(MelModelState) state = mel_model_state_new (model, NULL);
      g_autoptr(GArray) out = g_array_sized_new (FALSE, FALSE, sizeof (gint32), config->n_steps);
      MelRng rng;
      gint32 next;

      mel_rng_init (&rng, mel_rng_mix (config->seed, RNG_SAMPLE, s, 0));
      /* Songs in the training data start with "/": so does every sample. */
      if (n_primer == 0 || primer[0] != vocab->delimiter_id)
        mel_model_state_step (state, vocab->delimiter_id, logits);
      for (guint i = 0; i < n_primer; i++)
        mel_model_state_step (state, primer[i], logits);

      for (guint t = 0; t < config->n_steps; t++)
        {
          if ((t & 63) == 0 && g_cancellable_set_error_if_cancelled (cancellable, error))
            return NULL;
          next = mel_sampler_pick (logits, vocab_size, config->temperature, config->top_k,
                                   (double) (mel_rng_next (&rng) >> 11) * 0x1.0p-53);
          if (next == vocab->delimiter_id && config->stop_at_delimiter)
            break;
          g_array_append_val (out, next);
          if (t + 1 < config->n_steps)
            mel_model_state_step (state, next, logits);
        }
      g_ptr_array_add (samples, g_steal_pointer (&out));
    }
  return g_steal_pointer (&samples);
}
