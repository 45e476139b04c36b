/* mel-metrics.h — how well a model predicts a symbol stream.
 *
 * From logits, targets and the vocabulary:
 *   - cross-entropy in nats and in bits per symbol (every target);
 *   - accuracy (argmax = target) over every target, and over note-onset
 *     targets only (targets that are pitch symbols).  Holds "_" are most of
 *     the symbols and are easy to predict, so the all-symbol accuracy looks
 *     far better than the model's grasp of the melody; the onset accuracy
 *     is the figure to compare;
 *   - pitch bits per note: at every target that is a pitch, −log2 of the
 *     probability of the true pitch renormalised over the pitch symbols
 *     only — the information content of the pitch given that a note starts,
 *     comparable to IDyOM's per-note pitch figures.
 * Sums accumulate over batches; the figures are ratios of the sums.
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
  double nats_sum;        /* Σ −ln p(target) */
  guint64 n_symbols;      /* targets counted */
  guint64 n_correct;      /* argmax == target */
  guint64 n_onsets;       /* targets that are pitch symbols */
  guint64 n_onset_correct;
  double pitch_bits_sum;  /* Σ −log2 p(pitch | onset), over the onsets */
} MelMetrics;

/* Zeroes @metrics. */
void mel_metrics_init (MelMetrics *metrics);

/* Adds @n positions: @logits is n × vocab->size floats, @targets n ids.
 * Targets outside 0…vocab->size−1 (e.g. −1 for padding) are skipped. */
void mel_metrics_add (MelMetrics *metrics, const MelVocab *vocab, const float *logits,
                      const gint32 *targets, gsize n);

/* Adds the sums of @other to @metrics. */
void mel_metrics_merge (MelMetrics *metrics, const MelMetrics *other);

/* The figures; NaN when nothing was counted. */
double mel_metrics_get_cross_entropy (const MelMetrics *metrics); /* nats per symbol */
double mel_metrics_get_bits_per_symbol (const MelMetrics *metrics);
double mel_metrics_get_accuracy (const MelMetrics *metrics);
double mel_metrics_get_onset_accuracy (const MelMetrics *metrics);
double mel_metrics_get_pitch_bits (const MelMetrics *metrics); /* per note */

/* Softmax cross-entropy over @n positions of @vocab_size logits: returns
 * the mean −ln p(target) over the positions whose target is valid
 * (0 ≤ target < vocab_size), and when @dlogits is not NULL writes the
 * gradient of that mean with respect to the logits (zero rows for skipped
 * positions).  Returns 0 when no target is valid.  The result is NaN or
 * infinite when the logits are. */
double mel_softmax_cross_entropy (const float *logits, const gint32 *targets, gsize n,
                                  guint vocab_size, float *dlogits);

/* Scores the symbol stream @ids (@n ids; each position predicts the next)
 * with @model in evaluation mode and adds every prediction to @metrics.
 * The stream is cut into windows of @window ids overlapping by half, and
 * each target is scored once, in the window where it has at least
 * @window/2 symbols of context (except at the very start).  @batch windows
 * go through one forward.  For the VAE, pass segments instead (n a
 * multiple of segment_steps) and @window = segment_steps: each segment is
 * scored on its own, predicting every symbol.  Returns FALSE with
 * G_IO_ERROR_CANCELLED when cancelled, or MEL_MODEL_ERROR_INVALID_CONFIG
 * for ids outside the vocabulary.  Leaves the model in evaluation mode. */
gboolean mel_metrics_evaluate (MelMetrics *metrics, MelModel *model, const MelVocab *vocab,
                               const gint32 *ids, gsize n, guint window, guint batch,
                               GCancellable *cancellable, GError **error);

/* Like mel_metrics_evaluate() for part @part (0 ≤ part < @n_parts) of the
 * windows (or segments): every n_parts-th one, starting at the part-th.
 * The @n_parts parts together score each target exactly once, as one
 * mel_metrics_evaluate() does, so ranks of a data-parallel job can share
 * the work and sum their metrics (mel_metrics_merge). */
gboolean mel_metrics_evaluate_part (MelMetrics *metrics, MelModel *model, const MelVocab *vocab,
                                    const gint32 *ids, gsize n, guint window, guint batch, guint part,
                                    guint n_parts, GCancellable *cancellable, GError **error);

G_END_DECLS
