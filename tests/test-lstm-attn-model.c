/* test-lstm-attn-model.c — the LSTM + attention model through the public
 * interface: whole-model gradients against finite differences (1 and 2
 * threads, with dropout), thread invariance, incremental sampling == full
 * forward, the attention read-out, overfitting a tiny corpus,
 * configuration errors.
 *
 * SPDX-License-Identifier: MIT
 */
#include <math.h>
#include <string.h>

#include "mel-blas.h"
#include "mel-layers.h"
#include "mel-model.h"

static MelModel *
tiny_model (guint vocab, guint embed, guint hidden, guint layers, guint heads, float dropout,
            guint64 seed)
{
  MelModelConfig config;
  g_autoptr(GError) error = NULL;
  MelModel *model;

  mel_model_config_init (&config, MEL_MODEL_LSTM_ATTN, vocab);
  config.embed_dim = embed;
  config.hidden_size = hidden;
  config.n_layers = layers;
  config.n_heads = heads;
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

static double
model_loss (MelModel *model, const gint32 *inputs, const gint32 *targets, guint batch,
            guint steps, float *dlogits)
{
  guint v = mel_model_get_config (model)->vocab_size;
  gsize n = (gsize) batch * steps;
  const float *logits;

  mel_model_set_rng_seed (model, 77); /* the same dropout masks every time */
  logits = mel_model_forward (model, inputs, batch, steps);
  if (dlogits != NULL)
    {
      memset (dlogits, 0, n * v * sizeof (float));
      mel_cross_entropy_backward (dlogits, logits, targets, n, v, 1.0f / (float) n);
    }
  return mel_cross_entropy_forward (logits, targets, n, v, NULL) / (double) n;
}

static void
gradient_check (guint n_threads, float dropout)
{
  const guint vocab = 9, batch = 4, steps = 6;
  g_autoptr(MelModel) model = tiny_model (vocab, 5, 8, 2, 2, dropout, 11);
  gint32 inputs[4 * 6], targets[4 * 6];
  g_autofree float *dlogits = g_new (float, batch * steps * vocab);
  gsize n_params = mel_model_get_n_params (model);
  float *params = mel_model_get_params (model);
  g_autofree float *grads = NULL;
  double max_rel = 0.0, max_abs = 0.0;
  const float eps = 1e-2f;

  random_ids (inputs, batch * steps, vocab, 1);
  random_ids (targets, batch * steps, vocab, 2);
  mel_model_set_n_threads (model, n_threads);
  for (gsize i = 0; i < n_params; i++)
    params[i] *= 1.5f;
  mel_model_zero_grad (model);
  model_loss (model, inputs, targets, batch, steps, dlogits);
  mel_model_backward (model, dlogits, 0.0f);
  grads = g_memdup2 (mel_model_get_grads (model), n_params * sizeof (float));

  /* Every parameter: all tensors (embedding, both LSTMs, attention, layer
   * norm, output) are covered. */
  for (gsize i = 0; i < n_params; i++)
    {
      float saved = params[i];
      double lp, lm, lp2, lm2, numeric, err, scale;

      params[i] = saved + eps;
      lp = model_loss (model, inputs, targets, batch, steps, NULL);
      params[i] = saved - eps;
      lm = model_loss (model, inputs, targets, batch, steps, NULL);
      params[i] = saved + 2 * eps;
      lp2 = model_loss (model, inputs, targets, batch, steps, NULL);
      params[i] = saved - 2 * eps;
      lm2 = model_loss (model, inputs, targets, batch, steps, NULL);
      params[i] = saved;
      /* Richardson-extrapolated central difference: truncation O(ε⁴). */
      numeric = (8.0 * (lp - lm) - (lp2 - lm2)) / (12.0 * eps);
      err = fabs (numeric - grads[i]);
      scale = MAX (fabs (numeric), fabs ((double) grads[i]));
      max_abs = MAX (max_abs, err);
      if (scale > 1e-3)
        max_rel = MAX (max_rel, err / scale);
      /* 1e-2 relative + 5e-5 absolute: the mean loss is O(1), its float
       * rounding (~1e-7) divided by 12ε gives ~1e-6. */
      if (err > 1e-2 * scale + 5e-5)
        g_error ("param %zu: analytic %.7g numeric %.7g", i, (double) grads[i], numeric);
    }
  g_test_message ("LSTM+attention model (%u threads, dropout %.2f), all %zu parameters: max "
                  "relative error %.3g (gradients > 1e-3), max absolute error %.3g", n_threads,
                  (double) dropout, n_params, max_rel, max_abs);
}

static void
test_gradient (void)
{
  gradient_check (1, 0.0f);
}

static void
test_gradient_threads_dropout (void)
{
  gradient_check (2, 0.25f);
}

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
  for (guint threads = 1; threads <= 3; threads++)
    {
      g_autoptr(MelModel) model = tiny_model (vocab, 5, 8, 2, 4, 0.2f, 21);
      gsize n_params = mel_model_get_n_params (model);
      const float *logits;

      mel_model_set_n_threads (model, threads);
      mel_model_zero_grad (model);
      model_loss (model, inputs, targets, batch, steps, dlogits);
      mel_model_set_rng_seed (model, 77);
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

/* Incremental sampling (LSTM states + K/V cache) gives the logits of the
 * full forward, also past the cache's first growth (64 positions). */
static void
test_state_matches_forward (void)
{
  const guint vocab = 15, steps = 80;
  g_autoptr(MelModel) model = tiny_model (vocab, 8, 16, 2, 4, 0.5f, 31);
  gint32 inputs[80];
  float logits[15];
  const float *full;
  g_autoptr(MelModelState) state = NULL;
  double max_err = 0.0;

  random_ids (inputs, steps, vocab, 7);
  mel_model_set_training (model, FALSE);
  full = mel_model_forward (model, inputs, 1, steps);
  state = mel_model_state_new (model, NULL);
  for (guint t = 0; t < steps; t++)
    {
      mel_model_state_step (state, inputs[t], logits);
      for (guint j = 0; j < vocab; j++)
        max_err = MAX (max_err, fabs ((double) logits[j] - full[t * vocab + j]));
    }
  g_test_message ("incremental vs full forward, 80 steps: max |logit difference| = %.3g",
                  max_err);
  /* GEMV vs GEMM summation order only. */
  g_assert_cmpfloat (max_err, <, 1e-4);
}

/* Sampling with a helper thread (2 threads: the recurrent products of the
 * next step run beside the attention) gives bit-identical logits to one
 * thread, for a 2-layer model of odd width, also when a state is freed
 * with a job in flight. */
static void
test_state_threads_identical (void)
{
  const guint vocab = 11, steps = 70;
  g_autoptr(MelModel) model = tiny_model (vocab, 6, 20, 2, 4, 0.0f, 41);
  gint32 inputs[70];
  g_autofree float *ref = g_new (float, steps * vocab);
  float logits[11];

  random_ids (inputs, steps, vocab, 9);
  mel_model_set_training (model, FALSE);
  for (guint threads = 1; threads <= 3; threads++)
    {
      g_autoptr(MelModelState) state = NULL;
      g_autoptr(MelModelState) abandoned = NULL;

      mel_model_set_n_threads (model, threads);
      state = mel_model_state_new (model, NULL);
      abandoned = mel_model_state_new (model, NULL);
      mel_model_state_step (abandoned, inputs[0], logits);
      for (guint t = 0; t < steps; t++)
        {
          mel_model_state_step (state, inputs[t], logits);
          if (threads == 1)
            memcpy (ref + t * vocab, logits, sizeof logits);
          else
            g_assert_cmpmem (logits, sizeof logits, ref + t * vocab, sizeof logits);
        }
    }
}

/* The sampling helper (mel-blas.h): every job runs exactly once, on the
 * helper or, when finish says so, on the caller; a job slower than the
 * wait is abandoned, the helper refuses new jobs until it is done, and
 * sync waits for it. */
typedef struct
{
  gint runs;        /* atomic */
  gulong sleep_us;
  float out;
} HelperJob;

static void
helper_job (gpointer data)
{
  HelperJob *job = data;

  if (job->sleep_us > 0)
    g_usleep (job->sleep_us);
  job->out = 42.0f;
  g_atomic_int_inc (&job->runs);
}

static void
test_helper (void)
{
  g_autoptr(MelHelper) helper = mel_helper_new ();
  HelperJob slow = { 0, 20000, 0.0f };
  guint by_helper = 0, by_caller = 0;

  for (guint i = 0; i < 200; i++)
    {
      HelperJob job = { 0, 0, 0.0f };

      if (mel_helper_acquire (helper))
        {
          mel_helper_start (helper, helper_job, &job);
          g_usleep (i % 3 == 0 ? 100 : 0);
          if (mel_helper_finish (helper))
            {
              g_assert_cmpint (g_atomic_int_get (&job.runs), ==, 1);
              g_assert_cmpfloat (job.out, ==, 42.0f);
              by_helper++;
              continue;
            }
          /* Abandoned or dropped: it may still run until sync. */
          mel_helper_sync (helper);
          g_assert_cmpint (g_atomic_int_get (&job.runs), <=, 1);
        }
      helper_job (&job);
      by_caller++;
    }
  g_test_message ("helper: %u jobs on the helper, %u on the caller", by_helper, by_caller);
  g_assert_cmpuint (by_helper + by_caller, ==, 200);

  /* A 20 ms job is abandoned after ~50 µs (or dropped, if the helper had
   * not taken it); while the helper still runs it, no new job is taken. */
  mel_helper_sync (helper);
  while (!mel_helper_acquire (helper))
    ; /* out of a solo period, if the loop above ended in one */
  mel_helper_start (helper, helper_job, &slow);
  g_usleep (1000);
  g_assert_false (mel_helper_finish (helper));
  {
    /* Idle means the job was dropped (it never runs) or has finished. */
    gboolean idle = mel_helper_acquire (helper);
    gint runs = g_atomic_int_get (&slow.runs);

    mel_helper_sync (helper);
    if (idle)
      g_assert_cmpint (g_atomic_int_get (&slow.runs), ==, runs);
    g_assert_cmpint (g_atomic_int_get (&slow.runs), <=, 1);
  }
}

static void
test_attention_weights (void)
{
  const guint vocab = 10, steps = 12, heads = 4;
  g_autoptr(MelModel) model = tiny_model (vocab, 6, 16, 1, heads, 0.0f, 3);
  g_autoptr(MelModel) gru = NULL;
  g_autoptr(GError) error = NULL;
  MelModelConfig config;
  gint32 ids[12];
  g_autofree float *w = g_new (float, heads * steps * steps);

  random_ids (ids, steps, vocab, 4);
  g_assert_true (mel_model_get_attention (model, ids, steps, w, &error));
  g_assert_no_error (error);
  for (guint h = 0; h < heads; h++)
    for (guint t = 0; t < steps; t++)
      {
        double sum = 0.0;

        for (guint s = 0; s < steps; s++)
          {
            float x = w[(h * steps + t) * steps + s];

            g_assert_cmpfloat (x, >=, 0.0f);
            if (s > t)
              g_assert_cmpfloat (x, ==, 0.0f);
            sum += x;
          }
        g_assert_cmpfloat_with_epsilon (sum, 1.0, 1e-5);
      }
  /* Position 0 can only attend to itself. */
  g_assert_cmpfloat_with_epsilon (w[0], 1.0, 1e-6);

  ids[3] = (gint32) vocab; /* out of range */
  g_assert_false (mel_model_get_attention (model, ids, steps, w, &error));
  g_assert_error (error, MEL_MODEL_ERROR, MEL_MODEL_ERROR_INVALID_CONFIG);
  g_clear_error (&error);

  mel_model_config_init (&config, MEL_MODEL_GRU, vocab);
  config.hidden_size = 8;
  config.embed_dim = 4;
  gru = mel_model_new (&config, 1, NULL);
  ids[3] = 0;
  g_assert_false (mel_model_get_attention (gru, ids, steps, w, &error));
  g_assert_error (error, MEL_MODEL_ERROR, MEL_MODEL_ERROR_UNSUPPORTED);
}

/* The model learns two short periodic melodies by heart. */
static void
test_overfit (void)
{
  const guint vocab = 6, batch = 2, steps = 16;
  g_autoptr(MelModel) model = tiny_model (vocab, 8, 32, 1, 2, 0.0f, 41);
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
  for (int step = 1; step <= 200; step++)
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
  g_test_message ("overfit: loss %.4f -> %.4f nats after 200 Adam steps", first, loss);
  g_assert_cmpfloat (first, >, 1.3);
  g_assert_cmpfloat (loss, <, 0.05);
}

static void
test_config (void)
{
  MelModelConfig config;
  g_autoptr(GError) error = NULL;
  g_autoptr(MelModel) model = NULL;

  mel_model_config_init (&config, MEL_MODEL_LSTM_ATTN, 40);
  g_assert_cmpuint (config.n_layers, ==, 2);
  g_assert_cmpuint (config.n_heads, ==, 4);
  config.n_heads = 3; /* 256 is not a multiple of 3 */
  g_assert_null (mel_model_new (&config, 1, &error));
  g_assert_error (error, MEL_MODEL_ERROR, MEL_MODEL_ERROR_INVALID_CONFIG);
  g_clear_error (&error);

  /* The benchmark shape has PyTorch's 605,736 parameters plus the layer
   * norm's 2 × 256. */
  mel_model_config_init (&config, MEL_MODEL_LSTM_ATTN, 40);
  config.n_layers = 1;
  model = mel_model_new (&config, 1, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (mel_model_get_n_params (model), ==, 605736 + 512);
  g_assert_false (mel_model_encode (model, (gint32[]) { 0 }, 1, NULL, NULL, &error));
  g_assert_error (error, MEL_MODEL_ERROR, MEL_MODEL_ERROR_UNSUPPORTED);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/mel/lstm-attn-model/gradient", test_gradient);
  g_test_add_func ("/mel/lstm-attn-model/gradient-threads-dropout", test_gradient_threads_dropout);
  g_test_add_func ("/mel/lstm-attn-model/threads-invariant", test_threads_invariant);
  g_test_add_func ("/mel/lstm-attn-model/state-matches-forward", test_state_matches_forward);
  g_test_add_func ("/mel/lstm-attn-model/state-threads-identical", test_state_threads_identical);
  g_test_add_func ("/mel/lstm-attn-model/helper", test_helper);
  g_test_add_func ("/mel/lstm-attn-model/attention-weights", test_attention_weights);
  g_test_add_func ("/mel/lstm-attn-model/overfit", test_overfit);
  g_test_add_func ("/mel/lstm-attn-model/config", test_config);
  return g_test_run ();
}
