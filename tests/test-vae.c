/* test-vae.c — the sequence VAE: whole-loss gradients (cross-entropy +
 * β·KL, with and without free bits, fixed ε) against finite differences,
 * thread invariance, decoding state == teacher-forced forward, encode,
 * reconstruction after a short training, interpolation endpoints,
 * latent interpolation, evaluation metrics.
 *
 * SPDX-License-Identifier: MIT
 */
#include <math.h>
#include <string.h>

#include "mel-layers.h"
#include "mel-model.h"
#include "mel-vae.h"

static MelModel *
tiny_vae (guint vocab, guint hidden, guint latent, guint steps, guint layers, float free_bits,
          guint64 seed)
{
  MelModelConfig config;
  g_autoptr(GError) error = NULL;
  MelModel *model;

  mel_model_config_init (&config, MEL_MODEL_VAE, vocab);
  config.embed_dim = 6;
  config.hidden_size = hidden;
  config.latent_size = latent;
  config.segment_steps = steps;
  config.n_layers = layers;
  config.free_bits = free_bits;
  model = mel_model_new (&config, seed, &error);
  g_assert_no_error (error);
  return model;
}

static void
random_ids (gint32 *ids, gsize n, guint vocab, guint64 seed)
{
  MelRng rng;

  mel_rng_init (&rng, seed);
  for (gsize i = 0; i < n; i++)
    ids[i] = (gint32) (mel_rng_next (&rng) % vocab);
}

/* mean CE over symbols + β · aux, as the trainer computes it; the RNG seed
 * is reset so that every evaluation draws the same ε. */
static double
vae_loss_seeded (MelModel *model, const gint32 *segs, guint batch, guint steps, float beta,
                 float *dlogits, guint64 seed)
{
  guint v = mel_model_get_config (model)->vocab_size;
  gsize n = (gsize) batch * steps;
  const float *logits;

  mel_model_set_rng_seed (model, seed);
  logits = mel_model_forward (model, segs, batch, steps);
  if (dlogits != NULL)
    {
      memset (dlogits, 0, n * v * sizeof (float));
      mel_cross_entropy_backward (dlogits, logits, segs, n, v, 1.0f / (float) n);
    }
  return mel_cross_entropy_forward (logits, segs, n, v, NULL) / (double) n
         + beta * mel_model_get_aux_loss (model);
}

static double
vae_loss (MelModel *model, const gint32 *segs, guint batch, guint steps, float beta,
          float *dlogits)
{
  return vae_loss_seeded (model, segs, batch, steps, beta, dlogits, 99);
}

static void
gradient_check (guint n_threads, guint layers, float free_bits)
{
  const guint vocab = 7, batch = 3, steps = 5;
  const float beta = 0.7f;
  g_autoptr(MelModel) model = tiny_vae (vocab, 8, 3, steps, layers, free_bits, 5);
  gint32 segs[3 * 5];
  g_autofree float *dlogits = g_new (float, batch * steps * vocab);
  gsize n_params = mel_model_get_n_params (model);
  float *params = mel_model_get_params (model);
  g_autofree float *grads = NULL;
  double max_rel = 0.0, max_abs = 0.0;
  const float eps = 1e-2f;

  random_ids (segs, batch * steps, vocab, 3);
  mel_model_set_n_threads (model, n_threads);
  for (gsize i = 0; i < n_params; i++)
    params[i] *= 1.5f;
  mel_model_zero_grad (model);
  vae_loss (model, segs, batch, steps, beta, dlogits);
  mel_model_backward (model, dlogits, beta);
  grads = g_memdup2 (mel_model_get_grads (model), n_params * sizeof (float));

  for (gsize i = 0; i < n_params; i++)
    {
      float saved = params[i];
      double lp, lm, lp2, lm2, numeric, err, scale;

      params[i] = saved + eps;
      lp = vae_loss (model, segs, batch, steps, beta, NULL);
      params[i] = saved - eps;
      lm = vae_loss (model, segs, batch, steps, beta, NULL);
      params[i] = saved + 2 * eps;
      lp2 = vae_loss (model, segs, batch, steps, beta, NULL);
      params[i] = saved - 2 * eps;
      lm2 = vae_loss (model, segs, batch, steps, beta, NULL);
      params[i] = saved;
      numeric = (8.0 * (lp - lm) - (lp2 - lm2)) / (12.0 * eps);
      err = fabs (numeric - grads[i]);
      scale = MAX (fabs (numeric), fabs ((double) grads[i]));
      max_abs = MAX (max_abs, err);
      if (scale > 1e-3)
        max_rel = MAX (max_rel, err / scale);
      /* 1e-2 relative + 1e-4 absolute: a loss of O(1) in float, divided
       * by 12ε, plus exp(log σ²) curvature. */
      if (err > 1e-2 * scale + 1e-4)
        g_error ("param %zu: analytic %.7g numeric %.7g", i, (double) grads[i], numeric);
    }
  g_test_message ("VAE loss CE + %.1f*KL (%u threads, %u decoder layers, free bits %g), all %zu "
                  "parameters: max relative error %.3g (gradients > 1e-3), max absolute %.3g",
                  (double) beta, n_threads, layers, (double) free_bits, n_params, max_rel,
                  max_abs);
}

static void
test_gradient (void)
{
  gradient_check (1, 1, 0.0f);
  gradient_check (1, 2, 0.0f);
}

static void
test_gradient_threads_free_bits (void)
{
  /* Free bits above every dimension's KL: the KL term is constant, and
   * its gradient must vanish too. */
  gradient_check (2, 1, 50.0f);
  gradient_check (2, 1, 0.0f);
}

/* The decoding state from z = μ gives the teacher-forced logits of the
 * forward in evaluation mode. */
static void
test_state_matches_forward (void)
{
  const guint vocab = 9, steps = 24;
  g_autoptr(MelModel) model = tiny_vae (vocab, 16, 4, steps, 2, 0.1f, 8);
  gint32 seg[24];
  float mu[4], logits[9];
  g_autofree float *full = NULL;
  g_autoptr(MelModelState) state = NULL;
  g_autoptr(GError) error = NULL;
  double max_err = 0.0;
  gint32 input = 0;

  random_ids (seg, steps, vocab, 2);
  mel_model_set_training (model, FALSE);
  full = g_memdup2 (mel_model_forward (model, seg, 1, steps), steps * vocab * sizeof (float));
  g_assert_true (mel_model_encode (model, seg, 1, mu, NULL, &error));
  g_assert_no_error (error);
  state = mel_model_state_new (model, mu);
  for (guint t = 0; t < steps; t++)
    {
      mel_model_state_step (state, input, logits);
      for (guint j = 0; j < vocab; j++)
        max_err = MAX (max_err, fabs ((double) logits[j] - full[t * vocab + j]));
      input = seg[t];
    }
  g_test_message ("decoding state vs teacher-forced forward: max |logit difference| %.3g",
                  max_err);
  g_assert_cmpfloat (max_err, <, 1e-4);
}

static gint32 melodies[4][16] = {
  { 1, 2, 3, 4, 5, 4, 3, 2, 1, 1, 2, 2, 3, 3, 4, 4 },
  { 5, 5, 4, 4, 3, 3, 2, 2, 1, 2, 3, 4, 5, 6, 7, 7 },
  { 7, 1, 7, 1, 6, 2, 6, 2, 5, 3, 5, 3, 4, 4, 4, 4 },
  { 3, 6, 3, 6, 2, 5, 2, 5, 1, 4, 1, 4, 7, 7, 6, 6 },
};

/* A short training on four melodies: teacher-forced and free-running
 * reconstruction beat chance by far, interpolation endpoints decode to the
 * endpoint melodies. */
static void
test_train_reconstruct_interpolate (void)
{
  const guint vocab = 8, steps = 16, batch = 4, latent = 8;
  g_autoptr(MelModel) model = tiny_vae (vocab, 48, latent, steps, 1, 0.0f, 13);
  g_autofree float *dlogits = g_new (float, batch * steps * vocab);
  gsize n = mel_model_get_n_params (model);
  g_autofree float *m = g_new0 (float, n);
  g_autofree float *v = g_new0 (float, n);
  g_autoptr(GError) error = NULL;
  gint32 out[16], path[5 * 16];
  MelVaeMetrics metrics;
  double loss = 0.0;
  guint correct = 0;

  for (int step = 1; step <= 300; step++)
    {
      float *p = mel_model_get_params (model), *g = mel_model_get_grads (model);
      float c1 = 1.0f - powf (0.9f, (float) step), c2 = 1.0f - powf (0.999f, (float) step);
      /* β annealed from 0 to 0.05 per symbol over the first 200 steps. */
      float beta = 0.05f * MIN (1.0f, step / 200.0f) / steps;

      mel_model_set_training (model, TRUE);
      mel_model_zero_grad (model);
      /* Fresh ε every step (a fixed ε would be a code to memorise). */
      loss = vae_loss_seeded (model, &melodies[0][0], batch, steps, beta, dlogits, step);
      mel_model_backward (model, dlogits, beta);
      for (gsize i = 0; i < n; i++)
        {
          m[i] = 0.9f * m[i] + 0.1f * g[i];
          v[i] = 0.999f * v[i] + 0.001f * g[i] * g[i];
          p[i] -= 1e-2f * (m[i] / c1) / (sqrtf (v[i] / c2) + 1e-8f);
        }
    }
  g_assert_true (mel_vae_evaluate (model, &melodies[0][0], batch, &metrics, NULL, &error));
  g_assert_no_error (error);
  g_test_message ("after 300 steps: loss %.4f; reconstruction %.3f bits/symbol (chance %.3f), "
                  "KL %.2f nats, accuracy teacher-forced %.3f, free-running %.3f (chance %.3f)",
                  loss, metrics.recon_bits, log2 (vocab), metrics.kl_nats,
                  metrics.accuracy_teacher, metrics.accuracy_free, 1.0 / vocab);
  /* Chance is 1/8 = 0.125; ask for 0.9 (a margin of 0.775). */
  g_assert_cmpfloat (metrics.accuracy_teacher, >, 0.9);
  g_assert_cmpfloat (metrics.accuracy_free, >, 0.9);
  g_assert_cmpfloat (metrics.recon_bits, <, 0.5);
  /* The ELBO bound adds the KL, spread over the segment's symbols. */
  g_assert_cmpfloat (fabs (metrics.elbo_bits - (metrics.recon_bits
                                                + metrics.kl_nats / (steps * G_LN2))), <, 1e-9);

  for (guint k = 0; k < batch; k++)
    {
      g_assert_true (mel_vae_reconstruct (model, melodies[k], 0.0f, 1, out, &error));
      for (guint t = 0; t < steps; t++)
        correct += out[t] == melodies[k][t];
    }
  g_assert_cmpuint (correct, >, 0.9 * batch * steps);

  for (int mode = MEL_VAE_LERP; mode <= MEL_VAE_SLERP; mode++)
    {
      g_assert_true (mel_vae_interpolate (model, melodies[0], melodies[1], 5, mode, 0.0f, 1, path,
                                          NULL, &error));
      g_assert_no_error (error);
      /* Greedy decoding of the endpoints: the endpoint melodies. */
      g_assert_cmpmem (path, steps * sizeof (gint32), melodies[0], steps * sizeof (gint32));
      g_assert_cmpmem (path + 4 * steps, steps * sizeof (gint32), melodies[1],
                       steps * sizeof (gint32));
    }
}

static void
test_interpolate_latents (void)
{
  const float a[3] = { 1.0f, 0.0f, 0.0f }, b[3] = { 0.0f, 2.0f, 0.0f };
  float out[5 * 3];

  mel_vae_interpolate_latents (a, b, 3, 5, MEL_VAE_LERP, out);
  g_assert_cmpfloat_with_epsilon (out[2 * 3 + 0], 0.5, 1e-6);
  g_assert_cmpfloat_with_epsilon (out[2 * 3 + 1], 1.0, 1e-6);
  g_assert_cmpmem (out, sizeof a, a, sizeof a);
  g_assert_cmpmem (out + 12, sizeof b, b, sizeof b);

  mel_vae_interpolate_latents (a, b, 3, 5, MEL_VAE_SLERP, out);
  /* Midpoint: 45° between the axes, norm 1.5. */
  g_assert_cmpfloat_with_epsilon (out[6], 1.5 * G_SQRT2 / 2, 1e-5);
  g_assert_cmpfloat_with_epsilon (out[7], 1.5 * G_SQRT2 / 2, 1e-5);
  g_assert_cmpfloat_with_epsilon (out[8], 0.0, 1e-6);
  g_assert_cmpmem (out + 12, sizeof b, b, sizeof b);
}

static void
test_config_and_errors (void)
{
  MelModelConfig config;
  g_autoptr(GError) error = NULL;
  g_autoptr(MelModel) gru = NULL;
  g_autoptr(MelModel) vae = NULL;
  gint32 seg[32] = { 0 };
  gint32 out[32];

  mel_model_config_init (&config, MEL_MODEL_VAE, 40);
  g_assert_cmpuint (config.latent_size, ==, 32);
  g_assert_cmpuint (config.segment_steps, ==, 32);
  g_assert_cmpfloat (config.free_bits, >, 0.0f);
  config.hidden_size = 255;
  g_assert_null (mel_model_new (&config, 1, &error));
  g_assert_error (error, MEL_MODEL_ERROR, MEL_MODEL_ERROR_INVALID_CONFIG);
  g_clear_error (&error);
  mel_model_config_init (&config, MEL_MODEL_VAE, 40);
  config.free_bits = -1.0f;
  g_assert_null (mel_model_new (&config, 1, &error));
  g_assert_error (error, MEL_MODEL_ERROR, MEL_MODEL_ERROR_INVALID_CONFIG);
  g_clear_error (&error);

  mel_model_config_init (&config, MEL_MODEL_GRU, 10);
  config.hidden_size = 8;
  gru = mel_model_new (&config, 1, NULL);
  g_assert_false (mel_vae_reconstruct (gru, seg, 0.0f, 1, out, &error));
  g_assert_error (error, MEL_MODEL_ERROR, MEL_MODEL_ERROR_UNSUPPORTED);
  g_clear_error (&error);

  vae = tiny_vae (10, 8, 2, 32, 1, 0.1f, 1);
  seg[4] = 10;
  g_assert_false (mel_model_encode (vae, seg, 1, NULL, NULL, &error));
  g_assert_error (error, MEL_MODEL_ERROR, MEL_MODEL_ERROR_INVALID_CONFIG);
  g_clear_error (&error);
  seg[4] = 0;
  g_assert_true (mel_vae_sample_prior (vae, 3, 1.0f, out, NULL, &error));
  for (guint t = 0; t < 32; t++)
    g_assert_cmpint (out[t], <, 10);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/mel/vae/gradient", test_gradient);
  g_test_add_func ("/mel/vae/gradient-threads-free-bits", test_gradient_threads_free_bits);
  g_test_add_func ("/mel/vae/state-matches-forward", test_state_matches_forward);
  g_test_add_func ("/mel/vae/train-reconstruct-interpolate", test_train_reconstruct_interpolate);
  g_test_add_func ("/mel/vae/interpolate-latents", test_interpolate_latents);
  g_test_add_func ("/mel/vae/config-and-errors", test_config_and_errors);
  return g_test_run ();
}
