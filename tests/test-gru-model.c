/* test-gru-model.c — the GRU melody model through the public interface:
 * whole-model gradients against finite differences, thread-count
 * invariance, incremental sampling == full forward, overfitting a tiny
 * sequence, configuration errors.
 *
 * SPDX-License-Identifier: MIT
 */
#include <math.h>
#include <string.h>

#include "mel-layers.h"
#include "mel-model.h"

static MelModel *
tiny_model (guint vocab, guint embed, guint hidden, guint layers, float dropout, guint64 seed)
{
  MelModelConfig config;
  g_autoptr(GError) error = NULL;
  MelModel *model;

  mel_model_config_init (&config, MEL_MODEL_GRU, vocab);
  config.embed_dim = embed;
  config.hidden_size = hidden;
  config.n_layers = layers;
  config.dropout = dropout;
  model = mel_model_new (&config, seed, &error);
  g_assert_no_error (error);
  g_assert_nonnull (model);
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

/* Mean cross-entropy of predicting @targets; fills @dlogits (nullable)
 * with its gradient.  The dropout stream is reset first so that every
 * evaluation sees the same masks. */
static double
model_loss (MelModel *model, const gint32 *inputs, const gint32 *targets, guint batch,
            guint steps, float *dlogits)
{
  const MelModelConfig *config = mel_model_get_config (model);
  gsize n = (gsize) batch * steps;
  const float *logits;

  mel_model_set_rng_seed (model, 77);
  logits = mel_model_forward (model, inputs, batch, steps);
  g_assert_nonnull (logits);
  if (dlogits != NULL)
    {
      memset (dlogits, 0, n * config->vocab_size * sizeof (float));
      mel_cross_entropy_backward (dlogits, logits, targets, n, config->vocab_size,
                                  1.0f / (float) n);
    }
  return mel_cross_entropy_forward (logits, targets, n, config->vocab_size, NULL) / (double) n;
}

static void
gradient_check (guint n_threads, float dropout)
{
  const guint vocab = 9, batch = 5, steps = 6;
  g_autoptr(MelModel) model = tiny_model (vocab, 4, 7, 2, dropout, 11);
  gint32 inputs[5 * 6], targets[5 * 6];
  g_autofree float *dlogits = g_new (float, batch * steps * vocab);
  gsize n_params = mel_model_get_n_params (model);
  float *params = mel_model_get_params (model);
  g_autofree float *grads = NULL;
  MelRng rng;
  double max_rel = 0.0, max_abs = 0.0;
  const float eps = 1e-2f;

  random_ids (inputs, batch * steps, vocab, 1);
  random_ids (targets, batch * steps, vocab, 2);
  mel_model_set_n_threads (model, n_threads);
  /* Scale the parameters up so that the tanh/σ curvature is exercised. */
  for (gsize i = 0; i < n_params; i++)
    params[i] *= 2.0f;

  mel_model_zero_grad (model);
  model_loss (model, inputs, targets, batch, steps, dlogits);
  mel_model_backward (model, dlogits, 0.0f);
  grads = g_memdup2 (mel_model_get_grads (model), n_params * sizeof (float));

  mel_rng_init (&rng, 3);
  for (int k = 0; k < 150; k++)
    {
      gsize i = mel_rng_next (&rng) % n_params;
      float saved = params[i], up, down;
      double lp, lm, numeric, err;

      params[i] = saved + eps;
      up = params[i];
      lp = model_loss (model, inputs, targets, batch, steps, NULL);
      params[i] = saved - eps;
      down = params[i];
      lm = model_loss (model, inputs, targets, batch, steps, NULL);
      params[i] = saved;
      numeric = (lp - lm) / ((double) up - (double) down);
      err = fabs (numeric - grads[i]);
      /* Tolerance: 1e-2 relative plus 5e-5 absolute (float forward; the
       * mean loss is O(1), so rounding noise in the difference is ~1e-4·ε⁻¹·1e-7). */
      max_abs = MAX (max_abs, err);
      if (MAX (fabs (numeric), fabs ((double) grads[i])) > 1e-3)
        max_rel = MAX (max_rel, err / MAX (fabs (numeric), fabs ((double) grads[i])));
      if (err > 1e-2 * MAX (fabs (numeric), fabs ((double) grads[i])) + 5e-5)
        g_error ("param %zu: analytic %.7g numeric %.7g", i, (double) grads[i], numeric);
    }
  g_test_message ("GRU model (%u threads, dropout %.2f), 150 random parameters: max relative "
                  "error %.3g (gradients > 1e-3), max absolute error %.3g", n_threads,
                  (double) dropout, max_rel, max_abs);
}

static void
test_gradient (void)
{
  gradient_check (1, 0.0f);
}

static void
test_gradient_threads_dropout (void)
{
  gradient_check (2, 0.3f);
  gradient_check (3, 0.0f);
}

/* The same numbers whatever the number of threads (up to float summation
 * order in the gradient reduction). */
static void
test_threads_invariant (void)
{
  const guint vocab = 12, batch = 7, steps = 9;
  gint32 inputs[7 * 9], targets[7 * 9];
  g_autofree float *dlogits = g_new (float, batch * steps * vocab);
  g_autofree float *ref_logits = g_new (float, batch * steps * vocab);
  g_autofree float *ref_grads = NULL;

  random_ids (inputs, batch * steps, vocab, 5);
  random_ids (targets, batch * steps, vocab, 6);
  for (guint threads = 1; threads <= 4; threads++)
    {
      g_autoptr(MelModel) model = tiny_model (vocab, 5, 8, 2, 0.2f, 21);
      gsize n_params = mel_model_get_n_params (model);
      const float *logits;

      mel_model_set_n_threads (model, threads);
      mel_model_zero_grad (model);
      model_loss (model, inputs, targets, batch, steps, dlogits);
      mel_model_set_rng_seed (model, 77); /* the same masks again */
      logits = mel_model_forward (model, inputs, batch, steps);
      mel_model_backward (model, dlogits, 0.0f);
      if (threads == 1)
        {
          memcpy (ref_logits, logits, batch * steps * vocab * sizeof (float));
          ref_grads = g_memdup2 (mel_model_get_grads (model), n_params * sizeof (float));
          continue;
        }
      for (gsize i = 0; i < batch * steps * vocab; i++)
        g_assert_cmpfloat_with_epsilon (logits[i], ref_logits[i], 1e-5);
      for (gsize i = 0; i < n_params; i++)
        g_assert_cmpfloat_with_epsilon (mel_model_get_grads (model)[i], ref_grads[i], 1e-5);
    }
}

/* Feeding symbols one at a time gives the logits of the full forward. */
static void
test_state_matches_forward (void)
{
  const guint vocab = 15, steps = 40;
  g_autoptr(MelModel) model = tiny_model (vocab, 8, 16, 3, 0.5f, 31);
  gint32 inputs[40];
  float logits[15];
  const float *full;
  g_autoptr(MelModelState) state = NULL;
  double max_err = 0.0;

  random_ids (inputs, steps, vocab, 7);
  mel_model_set_training (model, FALSE); /* no dropout */
  full = mel_model_forward (model, inputs, 1, steps);
  state = mel_model_state_new (model, NULL);
  for (guint t = 0; t < steps; t++)
    {
      mel_model_state_step (state, inputs[t], logits);
      for (guint j = 0; j < vocab; j++)
        max_err = MAX (max_err, fabs ((double) logits[j] - full[t * vocab + j]));
    }
  g_test_message ("incremental vs full forward: max |logit difference| = %.3g", max_err);
  /* GEMV and GEMM sum in different orders: float rounding only. */
  g_assert_cmpfloat (max_err, <, 1e-5);
}

/* A tiny GRU learns a short periodic melody by heart. */
static void
test_overfit (void)
{
  const guint vocab = 6, batch = 2, steps = 16;
  g_autoptr(MelModel) model = tiny_model (vocab, 8, 32, 1, 0.0f, 41);
  gint32 seq[2][17], inputs[2 * 16], targets[2 * 16];
  g_autofree float *dlogits = g_new (float, batch * steps * vocab);
  gsize n = mel_model_get_n_params (model);
  g_autofree float *m = g_new0 (float, n);
  g_autofree float *v = g_new0 (float, n);
  double first = 0.0, loss = 0.0;

  for (guint t = 0; t < 17; t++)
    {
      seq[0][t] = (gint32) ((guint[]) { 0, 1, 2, 3, 2, 1, 4, 5 })[t % 8];
      seq[1][t] = (gint32) ((guint[]) { 5, 5, 3, 1, 0, 2, 4 })[t % 7];
    }
  for (guint b = 0; b < batch; b++)
    for (guint t = 0; t < steps; t++)
      {
        inputs[b * steps + t] = seq[b][t];
        targets[b * steps + t] = seq[b][t + 1];
      }
  for (int step = 1; step <= 300; step++)
    {
      float *p = mel_model_get_params (model), *g = mel_model_get_grads (model);
      float c1 = 1.0f - powf (0.9f, (float) step), c2 = 1.0f - powf (0.999f, (float) step);

      mel_model_zero_grad (model);
      loss = model_loss (model, inputs, targets, batch, steps, dlogits);
      if (step == 1)
        first = loss;
      mel_model_backward (model, dlogits, 0.0f);
      for (gsize i = 0; i < n; i++) /* plain Adam, lr 1e-2 */
        {
          m[i] = 0.9f * m[i] + 0.1f * g[i];
          v[i] = 0.999f * v[i] + 0.001f * g[i] * g[i];
          p[i] -= 1e-2f * (m[i] / c1) / (sqrtf (v[i] / c2) + 1e-8f);
        }
    }
  g_test_message ("overfit: loss %.4f -> %.4f nats after 300 Adam steps", first, loss);
  g_assert_cmpfloat (first, >, 1.3);
  /* The first symbols of each row are ambiguous only until the state has
   * seen them; everything after is deterministic. */
  g_assert_cmpfloat (loss, <, 0.05);
}

static void
test_config (void)
{
  MelModelConfig config;
  g_autoptr(GError) error = NULL;
  MelModelKind kind;
  MelModel *model;

  for (guint k = 0; k < MEL_N_MODEL_KINDS; k++)
    {
      g_assert_true (mel_model_kind_from_string (mel_model_kind_to_string (k), &kind));
      g_assert_cmpint (kind, ==, k);
    }
  g_assert_false (mel_model_kind_from_string ("transformer", &kind));

  mel_model_config_init (&config, MEL_MODEL_GRU, 40);
  g_assert_cmpuint (config.embed_dim, ==, 64);
  g_assert_cmpuint (config.hidden_size, ==, 256);
  g_assert_cmpuint (config.n_layers, ==, 2);

  config.vocab_size = 1;
  model = mel_model_new (&config, 1, &error);
  g_assert_null (model);
  g_assert_error (error, MEL_MODEL_ERROR, MEL_MODEL_ERROR_INVALID_CONFIG);
  g_clear_error (&error);

  mel_model_config_init (&config, MEL_MODEL_GRU, 40);
  config.dropout = 1.0f;
  g_assert_null (mel_model_new (&config, 1, &error));
  g_assert_error (error, MEL_MODEL_ERROR, MEL_MODEL_ERROR_INVALID_CONFIG);
  g_clear_error (&error);

  mel_model_config_init (&config, MEL_MODEL_GRU, 40);
  config.n_layers = 0;
  g_assert_null (mel_model_new (&config, 1, &error));
  g_assert_error (error, MEL_MODEL_ERROR, MEL_MODEL_ERROR_INVALID_CONFIG);
  g_clear_error (&error);

  /* Parameter count of the benchmark shape (PyTorch: 260,136). */
  mel_model_config_init (&config, MEL_MODEL_GRU, 40);
  config.n_layers = 1;
  model = mel_model_new (&config, 1, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (mel_model_get_n_params (model), ==, 260136);
  g_assert_false (mel_model_encode (model, (gint32[]) { 0 }, 1, NULL, NULL, &error));
  g_assert_error (error, MEL_MODEL_ERROR, MEL_MODEL_ERROR_UNSUPPORTED);
  g_assert_cmpfloat (mel_model_get_aux_loss (model), ==, 0.0);
  mel_model_free (model);
}

/* Same seed, same parameters; different seed, different parameters; two
 * models side by side do not disturb each other. */
static void
test_determinism (void)
{
  g_autoptr(MelModel) a = tiny_model (10, 4, 6, 2, 0.0f, 5);
  g_autoptr(MelModel) b = tiny_model (10, 4, 6, 2, 0.0f, 5);
  g_autoptr(MelModel) c = tiny_model (10, 4, 6, 2, 0.0f, 6);
  gsize n = mel_model_get_n_params (a);

  g_assert_cmpmem (mel_model_get_params (a), n * sizeof (float), mel_model_get_params (b),
                   n * sizeof (float));
  g_assert_true (memcmp (mel_model_get_params (a), mel_model_get_params (c), n * sizeof (float))
                 != 0);
}

/* hidden 512 × 3 layers, batch 4 × 64 steps: the larger config runs. */
static void
test_large_config (void)
{
  g_autoptr(MelModel) model = tiny_model (40, 64, 512, 3, 0.1f, 9);
  g_autofree gint32 *inputs = g_new (gint32, 4 * 64);
  g_autofree gint32 *targets = g_new (gint32, 4 * 64);
  g_autofree float *dlogits = g_new (float, 4 * 64 * 40);
  double loss;

  random_ids (inputs, 4 * 64, 40, 1);
  random_ids (targets, 4 * 64, 40, 2);
  mel_model_set_n_threads (model, 2);
  mel_model_zero_grad (model);
  loss = model_loss (model, inputs, targets, 4, 64, dlogits);
  mel_model_backward (model, dlogits, 0.0f);
  g_assert_cmpfloat (fabs (loss - log (40.0)), <, 1.0);
  for (gsize i = 0; i < mel_model_get_n_params (model); i++)
    g_assert_true (isfinite (mel_model_get_grads (model)[i]));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/mel/gru-model/config", test_config);
  g_test_add_func ("/mel/gru-model/determinism", test_determinism);
  g_test_add_func ("/mel/gru-model/gradient", test_gradient);
  g_test_add_func ("/mel/gru-model/gradient-threads-dropout", test_gradient_threads_dropout);
  g_test_add_func ("/mel/gru-model/threads-invariant", test_threads_invariant);
  g_test_add_func ("/mel/gru-model/state-matches-forward", test_state_matches_forward);
  g_test_add_func ("/mel/gru-model/overfit", test_overfit);
  g_test_add_func ("/mel/gru-model/large-config", test_large_config);
  return g_test_run ();
}
