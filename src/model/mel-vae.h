/* mel-vae.h — what one does with a trained melody VAE: encode a segment,
 * reconstruct it, sample from the prior, interpolate between two segments,
 * and score it.
 *
 * All functions take a model of kind MEL_MODEL_VAE (else they fail with
 * MEL_MODEL_ERROR_UNSUPPORTED) and segments of config.segment_steps ids.
 * Decoding is autoregressive through the model's incremental state from
 * z: greedy when @temperature ≤ 1e-6, else sampled from
 * softmax(logits / temperature) with an RNG seeded by @seed.  Decoding
 * runs in evaluation mode and does not disturb training activations.
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include <gio/gio.h>

#include "mel-model.h"

G_BEGIN_DECLS

typedef enum
{
  MEL_VAE_LERP,  /* z = (1 − t)·a + t·b */
  MEL_VAE_SLERP, /* spherical: along the great circle, norms interpolated */
} MelVaeInterpolation;

/* Decodes config.segment_steps symbols from latent @z (latent_size
 * floats) into @out.  Returns FALSE with MEL_MODEL_ERROR_UNSUPPORTED for a
 * non-VAE model. */
gboolean mel_vae_decode (MelModel *model, const float *z, float temperature, guint64 seed,
                         gint32 *out, GError **error);

/* The posterior mean of @segment into @mu (latent_size floats). */
gboolean mel_vae_encode (MelModel *model, const gint32 *segment, float *mu, GError **error);

/* Encodes @segment and decodes from its μ into @out (segment_steps ids). */
gboolean mel_vae_reconstruct (MelModel *model, const gint32 *segment, float temperature,
                              guint64 seed, gint32 *out, GError **error);

/* Draws z ~ N(0, I) from @seed (written to @z_out, nullable) and decodes
 * it into @out. */
gboolean mel_vae_sample_prior (MelModel *model, guint64 seed, float temperature, gint32 *out,
                               float *z_out, GError **error);

/* @n_points ≥ 2 latents from @a to @b (both @dim floats) into @out
 * [n_points × dim]; the first is @a and the last @b exactly.  SLERP of
 * (nearly) parallel vectors falls back to LERP. */
void mel_vae_interpolate_latents (const float *a, const float *b, gsize dim, guint n_points,
                                  MelVaeInterpolation mode, float *out);

/* Encodes @segment_a and @segment_b (μ), interpolates @n_points ≥ 2
 * latents and decodes each: @out receives n_points × segment_steps ids,
 * @latents (nullable) n_points × latent_size floats. */
gboolean mel_vae_interpolate (MelModel *model, const gint32 *segment_a, const gint32 *segment_b,
                              guint n_points, MelVaeInterpolation mode, float temperature,
                              guint64 seed, gint32 *out, float *latents, GError **error);

/* Scores of a VAE on segments (e.g. the validation split). */
typedef struct
{
  guint64 n_segments;
  double recon_bits;          /* bits per symbol, teacher forced, z = μ */
  double kl_nats;             /* mean KL(q(z|x) ‖ N(0, I)) per segment, no free bits */
  double elbo_bits;           /* −ELBO per symbol in bits: recon_bits + KL spread over
                               * the segment, an upper bound on the VAE's NLL and the
                               * figure to set beside a language model's bits/symbol */
  double accuracy_teacher;    /* argmax = target, teacher forced from μ */
  double accuracy_free;       /* greedy free-running decode from μ vs the segment */
} MelVaeMetrics;

/* Scores @n segments (n × segment_steps ids).  Leaves the model in
 * evaluation mode.  FALSE with G_IO_ERROR_CANCELLED, or a MEL_MODEL_ERROR
 * (not a VAE, ids outside the vocabulary). */
gboolean mel_vae_evaluate (MelModel *model, const gint32 *segments, guint n,
                           MelVaeMetrics *metrics, GCancellable *cancellable, GError **error);

G_END_DECLS
