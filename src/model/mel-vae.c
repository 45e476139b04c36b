/* mel-vae.c — operations on a trained VAE (see mel-vae.h).
 *
 * SPDX-License-Identifier: MIT
 */
#include "mel-vae.h"

#include <math.h>
#include <string.h>

#include "mel-layers.h"
#include "mel-sampler.h"

#define VAE_START_ID 0 /* the decoder's first input, as in mel-vae-model.c */

static gboolean
check_vae (MelModel *model, GError **error)
{
  if (mel_model_get_config (model)->kind != MEL_MODEL_VAE)
    {
      g_set_error (error, MEL_MODEL_ERROR, MEL_MODEL_ERROR_UNSUPPORTED,
                   "This operation needs a VAE, not a “%s” model",
                   mel_model_kind_to_string (mel_model_get_config (model)->kind));
      return FALSE;
    }
  return TRUE;
}

gboolean
mel_vae_decode (MelModel *model, const float *z, float temperature, guint64 seed, gint32 *out,
                GError **error)
{
  const MelModelConfig *c;
  g_autoptr(MelModelState) state = NULL;
  g_autofree float *logits = NULL;
  gint32 input = VAE_START_ID;
  MelRng rng;

  g_return_val_if_fail (model != NULL && z != NULL && out != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!check_vae (model, error))
    return FALSE;
  c = mel_model_get_config (model);
  logits = g_new (float, c->vocab_size);
  state = mel_model_state_new (model, z);
  mel_rng_init (&rng, seed);
  for (guint t = 0; t < c->segment_steps; t++)
    {
      mel_model_state_step (state, input, logits);
      input = mel_sampler_pick (logits, c->vocab_size, temperature, 0, mel_rng_uniform (&rng));
      out[t] = input;
    }
  return TRUE;
}

gboolean
mel_vae_encode (MelModel *model, const gint32 *segment, float *mu, GError **error)
{
  g_return_val_if_fail (model != NULL && segment != NULL && mu != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!check_vae (model, error))
    return FALSE;
  return mel_model_encode (model, segment, 1, mu, NULL, error);
}

gboolean
mel_vae_reconstruct (MelModel *model, const gint32 *segment, float temperature, guint64 seed,
                     gint32 *out, GError **error)
{
  g_autofree float *mu = NULL;

  g_return_val_if_fail (model != NULL && segment != NULL && out != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!check_vae (model, error))
    return FALSE;
  mu = g_new (float, mel_model_get_config (model)->latent_size);
  return mel_vae_encode (model, segment, mu, error)
         && mel_vae_decode (model, mu, temperature, seed, out, error);
}

gboolean
mel_vae_sample_prior (MelModel *model, guint64 seed, float temperature, gint32 *out,
                      float *z_out, GError **error)
{
  g_autofree float *z = NULL;
  gsize l;
  MelRng rng;

  g_return_val_if_fail (model != NULL && out != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!check_vae (model, error))
    return FALSE;
  l = mel_model_get_config (model)->latent_size;
  z = g_new (float, l);
  /* One stream for z and another for the symbols, both from @seed. */
  mel_rng_init (&rng, mel_rng_mix (seed, 0x1a7e, 0, 0));
  mel_rng_fill_normal (&rng, z, l, 1.0f);
  if (z_out != NULL)
    memcpy (z_out, z, l * sizeof (float));
  return mel_vae_decode (model, z, temperature, seed, out, error);
}

void
mel_vae_interpolate_latents (const float *a, const float *b, gsize dim, guint n_points,
                             MelVaeInterpolation mode, float *out)
{
  double na = 0.0, nb = 0.0, dot = 0.0, omega = 0.0;

  g_return_if_fail (a != NULL && b != NULL && out != NULL);
  g_return_if_fail (n_points >= 2);

  for (gsize k = 0; k < dim; k++)
    {
      na += (double) a[k] * a[k];
      nb += (double) b[k] * b[k];
      dot += (double) a[k] * b[k];
    }
  na = sqrt (na);
  nb = sqrt (nb);
  if (mode == MEL_VAE_SLERP && na > 1e-12 && nb > 1e-12)
    omega = acos (CLAMP (dot / (na * nb), -1.0, 1.0));

  for (guint i = 0; i < n_points; i++)
    {
      double t = (double) i / (double) (n_points - 1);
      float *z = out + (gsize) i * dim;

      if (i == 0 || i == n_points - 1)
        {
          memcpy (z, i == 0 ? a : b, dim * sizeof (float));
          continue;
        }
      if (mode == MEL_VAE_SLERP && omega > 1e-4 && G_PI - omega > 1e-4)
        {
          /* Directions along the great circle; the norm interpolated
           * linearly so that the path keeps the endpoints' typical size. */
          double s = sin (omega), norm = (1.0 - t) * na + t * nb;
          double wa = sin ((1.0 - t) * omega) / s / na, wb = sin (t * omega) / s / nb;
          double len = 0.0;

          for (gsize k = 0; k < dim; k++)
            {
              double v = wa * a[k] + wb * b[k];

              len += v * v;
            }
          len = sqrt (len);
          for (gsize k = 0; k < dim; k++)
            z[k] = (float) ((wa * a[k] + wb * b[k]) / len * norm);
        }
      else
        for (gsize k = 0; k < dim; k++)
          z[k] = (float) ((1.0 - t) * a[k] + t * b[k]);
    }
}

gboolean
mel_vae_interpolate (MelModel *model, const gint32 *segment_a, const gint32 *segment_b,
                     guint n_points, MelVaeInterpolation mode, float temperature, guint64 seed,
                     gint32 *out, float *latents, GError **error)
{
  const MelModelConfig *c;
  g_autofree float *ends = NULL;
  g_autofree float *zs = NULL;

  g_return_val_if_fail (model != NULL && segment_a != NULL && segment_b != NULL, FALSE);
  g_return_val_if_fail (n_points >= 2 && out != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!check_vae (model, error))
    return FALSE;
  c = mel_model_get_config (model);
  ends = g_new (float, 2 * c->latent_size);
  zs = g_new (float, (gsize) n_points * c->latent_size);
  if (!mel_vae_encode (model, segment_a, ends, error)
      || !mel_vae_encode (model, segment_b, ends + c->latent_size, error))
    return FALSE;
  mel_vae_interpolate_latents (ends, ends + c->latent_size, c->latent_size, n_points, mode, zs);
  for (guint i = 0; i < n_points; i++)
    if (!mel_vae_decode (model, zs + (gsize) i * c->latent_size, temperature,
                         mel_rng_mix (seed, i, 0, 0), out + (gsize) i * c->segment_steps, error))
      return FALSE;
  if (latents != NULL)
    memcpy (latents, zs, (gsize) n_points * c->latent_size * sizeof (float));
  return TRUE;
}

gboolean
mel_vae_evaluate (MelModel *model, const gint32 *segments, guint n, MelVaeMetrics *metrics,
                  GCancellable *cancellable, GError **error)
{
  const MelModelConfig *c;
  const guint chunk = 64;
  gsize steps, l, v;
  double nats = 0.0, kl = 0.0;
  guint64 correct_tf = 0, correct_free = 0;
  g_autofree float *mu = NULL;
  g_autofree float *lv = NULL;
  g_autofree gint32 *decoded = NULL;

  g_return_val_if_fail (model != NULL && metrics != NULL, FALSE);
  g_return_val_if_fail (segments != NULL || n == 0, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  memset (metrics, 0, sizeof *metrics);
  if (!check_vae (model, error))
    return FALSE;
  c = mel_model_get_config (model);
  steps = c->segment_steps;
  l = c->latent_size;
  v = c->vocab_size;
  for (gsize i = 0; i < (gsize) n * steps; i++)
    if (segments[i] < 0 || (guint32) segments[i] >= c->vocab_size)
      {
        g_set_error (error, MEL_MODEL_ERROR, MEL_MODEL_ERROR_INVALID_CONFIG,
                     "Symbol id %d lies outside the vocabulary of %u symbols", segments[i],
                     c->vocab_size);
        return FALSE;
      }
  mel_model_set_training (model, FALSE);
  mu = g_new (float, (gsize) chunk * l);
  lv = g_new (float, (gsize) chunk * l);
  decoded = g_new (gint32, steps);

  for (guint s0 = 0; s0 < n; s0 += chunk)
    {
      guint bs = MIN (chunk, n - s0);
      const gint32 *seg = segments + (gsize) s0 * steps;
      const float *logits;

      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        return FALSE;
      /* Teacher forced from μ (evaluation mode: z = μ). */
      logits = mel_model_forward (model, seg, bs, (guint) steps);
      nats += mel_cross_entropy_forward (logits, seg, (gsize) bs * steps, v, NULL);
      for (gsize i = 0; i < (gsize) bs * steps; i++)
        {
          const float *row = logits + i * v;
          gsize best = 0;

          for (gsize j = 1; j < v; j++)
            if (row[j] > row[best])
              best = j;
          correct_tf += (gint32) best == seg[i];
        }
      if (!mel_model_encode (model, seg, bs, mu, lv, error))
        return FALSE;
      for (guint b = 0; b < bs; b++)
        {
          for (gsize k = 0; k < l; k++)
            {
              double m = mu[b * l + k], s = lv[b * l + k];

              kl += 0.5 * (m * m + exp (s) - 1.0 - s);
            }
          if (!mel_vae_decode (model, mu + b * l, 0.0f, 0, decoded, error))
            return FALSE;
          for (gsize t = 0; t < steps; t++)
            correct_free += decoded[t] == seg[b * steps + t];
        }
    }
  metrics->n_segments = n;
  if (n > 0)
    {
      double symbols = (double) n * (double) steps;

      metrics->recon_bits = nats / symbols / G_LN2;
      metrics->kl_nats = kl / n;
      metrics->elbo_bits = metrics->recon_bits + metrics->kl_nats / ((double) steps * G_LN2);
      metrics->accuracy_teacher = correct_tf / symbols;
      metrics->accuracy_free = correct_free / symbols;
    }
  else
    metrics->recon_bits = metrics->kl_nats = metrics->elbo_bits = metrics->accuracy_teacher
      = metrics->accuracy_free = NAN;
  return TRUE;
}
