/* mel-sampler.h — writing melodies with a trained model.
 *
 * Autoregressive sampling through the model's incremental state
 * (mel_model_state_new / _step), so each step costs one recurrent step and
 * nothing is recomputed.  Every sample starts from the song delimiter "/"
 * followed by the seed melody (the primer), then draws one symbol per step
 * from softmax(logits / temperature) restricted to the top-k symbols,
 * until the length is reached or the model writes "/" (the song is over).
 *
 * Sample i uses its own RNG stream derived from (seed, i), so the samples
 * do not depend on how many are asked for, and the same seed always gives
 * the same melodies.
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include <gio/gio.h>

#include "mel-model.h"
#include "mel-vocab.h"

G_BEGIN_DECLS

typedef struct
{
  float temperature; /* divides the logits once; <= 1e-6 means argmax.  Default 1.0 */
  guint top_k;       /* sample among the k most likely symbols; 0 = all.  Default 0 */
  guint n_steps;     /* symbols to generate after the primer.  Default 128 */
  guint64 seed;      /* default 1 */
  gboolean stop_at_delimiter; /* end a sample at "/" (not included).  Default TRUE */
} MelSamplerConfig;

/* Fills @config with the defaults listed above. */
void mel_sampler_config_init (MelSamplerConfig *config);

/* Draws one symbol from @logits (@n floats, not modified) with @config's
 * temperature and top-k, using @random, a uniform number in [0, 1). */
gint32 mel_sampler_pick (const float *logits, guint n, float temperature, guint top_k, double random);

/* Generates @n_samples continuations of @primer (@n_primer ids, may be 0;
 * a leading "/" is added when missing).  Returns a GPtrArray of
 * @n_samples GArray (gint32) holding the generated ids only (not the
 * primer); caller owns it.  Returns NULL with MEL_MODEL_ERROR_INVALID_CONFIG
 * when a primer id lies outside the vocabulary or the vocabulary does not
 * match the model, or G_IO_ERROR_CANCELLED. */
GPtrArray *mel_sample (MelModel *model, const MelVocab *vocab, const MelSamplerConfig *config,
                       const gint32 *primer, guint n_primer, guint n_samples,
                       GCancellable *cancellable, GError **error);

G_END_DECLS
