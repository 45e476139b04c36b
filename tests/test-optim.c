/* test-optim.c — Adam/AdamW steps against hand-computed values, clipping,
 * the learning-rate schedule, and the metrics on hand-made logits.
 *
 * SPDX-License-Identifier: MIT
 */
#include <math.h>
#include <string.h>

#include "mel-metrics.h"
#include "mel-optim.h"

/* Two steps of Adam, lr 0.01, betas 0.9/0.999, eps 1e-8, worked out by
 * hand (double precision, see the comment of each value).  Step 1: m̂ = g,
 * v̂ = g², so every parameter moves by lr·sign(g).  Step 2 for p[0]:
 * m = 0.9·0.01 + 0.1·0.2 = 0.029, v = 0.999·1e-5 + 0.001·0.04 = 4.999e-5,
 * m̂ = 0.029/0.19, v̂ = 4.999e-5/0.001999, p = 0.99 − 0.01·m̂/(√v̂ + eps). */
static const float p0[3] = { 1.0f, -0.5f, 0.25f };
static const float g1[3] = { 0.1f, -0.2f, 0.3f };
static const float g2[3] = { 0.2f, 0.2f, -0.1f };

static void
run_two_steps (MelOptimKind kind, float weight_decay, float *p)
{
  MelOptimConfig config;
  g_autoptr(MelOptimizer) optim = NULL;
  float g[3];

  mel_optim_config_init (&config, kind);
  config.clip_norm = 0.0f;
  config.weight_decay = weight_decay;
  optim = mel_optimizer_new (&config, 3);
  memcpy (p, p0, sizeof p0);
  memcpy (g, g1, sizeof g);
  g_assert_true (mel_optimizer_step (optim, p, g, 0.01f, NULL));
  memcpy (g, g2, sizeof g);
  g_assert_true (mel_optimizer_step (optim, p, g, 0.01f, NULL));
  g_assert_cmpuint (mel_optimizer_get_step (optim), ==, 2);
}

static void
test_adam_step (void)
{
  float p[3];
  double m = 0.029, v = 0.999 * 1e-5 + 0.001 * 0.04;
  double by_hand = 0.99 - 0.01 * (m / 0.19) / (sqrt (v / (1.0 - 0.999 * 0.999)) + 1e-8);

  run_two_steps (MEL_OPTIM_ADAM, 0.0f, p);
  g_assert_cmpfloat_with_epsilon (by_hand, 0.980348181, 1e-9);
  g_assert_cmpfloat_with_epsilon (p[0], 0.980348181, 2e-6);
  g_assert_cmpfloat_with_epsilon (p[1], -0.490526316, 2e-6);
  g_assert_cmpfloat_with_epsilon (p[2], 0.235997815, 2e-6);
}

static void
test_adamw_step (void)
{
  float p[3];

  /* Decoupled decay 0.1: p ← p·(1 − lr·wd) − lr·m̂/(√v̂ + eps). */
  run_two_steps (MEL_OPTIM_ADAMW, 0.1f, p);
  g_assert_cmpfloat_with_epsilon (p[0], 0.978359181, 2e-6);
  g_assert_cmpfloat_with_epsilon (p[1], -0.489536816, 2e-6);
  g_assert_cmpfloat_with_epsilon (p[2], 0.235508065, 2e-6);
}

static void
test_adam_l2 (void)
{
  MelOptimConfig config;
  g_autoptr(MelOptimizer) optim = NULL;
  float p[1] = { 2.0f }, g[1] = { 0.0f };

  /* Plain Adam adds wd·p to the gradient: a zero gradient still moves p
   * by lr·sign(wd·p) on the first step. */
  mel_optim_config_init (&config, MEL_OPTIM_ADAM);
  config.weight_decay = 0.5f;
  optim = mel_optimizer_new (&config, 1);
  g_assert_true (mel_optimizer_step (optim, p, g, 0.1f, NULL));
  g_assert_cmpfloat_with_epsilon (p[0], 1.9f, 1e-6);
}

static void
test_clip (void)
{
  float g[2] = { 3.0f, 4.0f };
  float small[2] = { 0.3f, 0.4f };
  float bad[2] = { 1.0f, NAN };
  float p[2] = { 1.0f, 1.0f };
  double norm = 0.0;
  MelOptimConfig config;
  g_autoptr(MelOptimizer) optim = NULL;

  g_assert_cmpfloat_with_epsilon (mel_clip_grad_norm (g, 2, 1.0f), 5.0, 1e-9);
  g_assert_cmpfloat_with_epsilon (g[0], 0.6f, 1e-6);
  g_assert_cmpfloat_with_epsilon (g[1], 0.8f, 1e-6);
  g_assert_cmpfloat_with_epsilon (mel_grad_norm (g, 2), 1.0, 1e-6);
  /* Below the limit: untouched. */
  g_assert_cmpfloat_with_epsilon (mel_clip_grad_norm (small, 2, 1.0f), 0.5, 1e-7);
  g_assert_cmpfloat (small[0], ==, 0.3f);
  /* 0 = no clipping. */
  g[0] = 30.0f;
  g[1] = 40.0f;
  mel_clip_grad_norm (g, 2, 0.0f);
  g_assert_cmpfloat (g[0], ==, 30.0f);

  /* A NaN gradient: FALSE, parameters and step unchanged. */
  mel_optim_config_init (&config, MEL_OPTIM_ADAM);
  optim = mel_optimizer_new (&config, 2);
  g_assert_false (mel_optimizer_step (optim, p, bad, 0.1f, &norm));
  g_assert_true (isnan (norm));
  g_assert_cmpfloat (p[0], ==, 1.0f);
  g_assert_cmpfloat (p[1], ==, 1.0f);
  g_assert_cmpuint (mel_optimizer_get_step (optim), ==, 0);
}

static void
test_schedule (void)
{
  MelLrSchedule s;

  mel_lr_schedule_init (&s, 1e-3f);
  g_assert_cmpfloat (mel_lr_schedule_get (&s, 0), ==, 1e-3f);
  g_assert_cmpfloat (mel_lr_schedule_get (&s, 12345), ==, 1e-3f);

  /* Warm-up over 4 steps: 1/4, 2/4, 3/4, 1 of the peak. */
  s.warmup_steps = 4;
  g_assert_cmpfloat_with_epsilon (mel_lr_schedule_get (&s, 0), 0.25e-3, 1e-9);
  g_assert_cmpfloat_with_epsilon (mel_lr_schedule_get (&s, 2), 0.75e-3, 1e-9);
  g_assert_cmpfloat_with_epsilon (mel_lr_schedule_get (&s, 3), 1e-3, 1e-9);

  /* Cosine after warm-up over 100 steps to 10 %: peak, midpoint, floor. */
  s.decay = MEL_LR_COSINE;
  s.decay_steps = 100;
  s.min_ratio = 0.1f;
  g_assert_cmpfloat_with_epsilon (mel_lr_schedule_get (&s, 4), 1e-3, 1e-9);
  g_assert_cmpfloat_with_epsilon (mel_lr_schedule_get (&s, 54), 0.55e-3, 1e-9);
  g_assert_cmpfloat_with_epsilon (mel_lr_schedule_get (&s, 104), 0.1e-3, 1e-9);
  g_assert_cmpfloat_with_epsilon (mel_lr_schedule_get (&s, 100000), 0.1e-3, 1e-9);
  /* Monotone after warm-up. */
  for (guint64 t = 4; t < 110; t++)
    g_assert_cmpfloat (mel_lr_schedule_get (&s, t + 1), <=, mel_lr_schedule_get (&s, t));

  /* Step decay, period 10 steps (e.g. 1 epoch of 10 batches), γ = 0.5. */
  s.decay = MEL_LR_STEP;
  s.warmup_steps = 0;
  s.step_size = 10;
  s.gamma = 0.5f;
  g_assert_cmpfloat_with_epsilon (mel_lr_schedule_get (&s, 9), 1e-3, 1e-9);
  g_assert_cmpfloat_with_epsilon (mel_lr_schedule_get (&s, 10), 0.5e-3, 1e-9);
  g_assert_cmpfloat_with_epsilon (mel_lr_schedule_get (&s, 25), 0.25e-3, 1e-9);
}

/* ---- metrics ------------------------------------------------------------ */

static MelVocab *
make_vocab (void)
{
  const char *symbols[] = { "/", "_", "r", "60", "62" };

  return mel_vocab_new (symbols, G_N_ELEMENTS (symbols), NULL);
}

static void
test_metrics_hand (void)
{
  g_autoptr(MelVocab) vocab = make_vocab ();
  /* Logits chosen so the probabilities are simple: ln of unnormalised
   * weights.  Row 0: weights (1,1,1,1,4)/8; row 1: (1,6,1,1,1)/10;
   * row 2: (2,2,0+,4,0+) → (1,1,~0,2,~0)/4 with e^-30 for "zero". */
  const float z = -30.0f;
  const float logits[3 * 5] = {
    0, 0, 0, 0, logf (4),
    0, logf (6), 0, 0, 0,
    logf (2), logf (2), z, logf (4), z,
  };
  /* Targets: "62" (onset, predicted), "_" (hold, predicted), "62" (onset, wrong). */
  const gint32 targets[3] = { 4, 1, 4 };
  MelMetrics m, more;
  double nats, pitch_bits;

  mel_metrics_init (&m);
  mel_metrics_add (&m, vocab, logits, targets, 3);
  nats = -log (4.0 / 8.0) - log (6.0 / 10.0) - (z - log (8.0 + exp (z) * 2));
  g_assert_cmpuint (m.n_symbols, ==, 3);
  g_assert_cmpfloat_with_epsilon (mel_metrics_get_cross_entropy (&m), nats / 3, 1e-5);
  g_assert_cmpfloat_with_epsilon (mel_metrics_get_bits_per_symbol (&m), nats / 3 / G_LN2, 1e-5);
  g_assert_cmpfloat_with_epsilon (mel_metrics_get_accuracy (&m), 2.0 / 3.0, 1e-12);
  g_assert_cmpuint (m.n_onsets, ==, 2);
  g_assert_cmpfloat_with_epsilon (mel_metrics_get_onset_accuracy (&m), 0.5, 1e-12);
  /* Pitch renormalised over {60, 62}: row 0 → 4/(1+4) for 62; row 2 →
   * e^z/(4+e^z). */
  pitch_bits = -log2 (4.0 / 5.0) - log2 (exp (z) / (4.0 + exp (z)));
  g_assert_cmpfloat_with_epsilon (mel_metrics_get_pitch_bits (&m), pitch_bits / 2, 1e-4);

  /* Ignored targets and merging. */
  {
    const gint32 pad[3] = { -1, 7, 1 };

    mel_metrics_init (&more);
    mel_metrics_add (&more, vocab, logits, pad, 3);
    g_assert_cmpuint (more.n_symbols, ==, 1);
    g_assert_cmpuint (more.n_onsets, ==, 0);
    g_assert_true (isnan (mel_metrics_get_pitch_bits (&more)));
    mel_metrics_merge (&m, &more);
    g_assert_cmpuint (m.n_symbols, ==, 4);
    g_assert_cmpuint (m.n_correct, ==, 2);
  }
}

static void
test_softmax_ce_gradient (void)
{
  float logits[2 * 5] = { 0.3f, -1.0f, 2.0f, 0.5f, 0.1f, 1.5f, 0.2f, -0.7f, 0.0f, 0.9f };
  const gint32 targets[2] = { 3, 0 };
  float dlogits[10];
  double loss = mel_softmax_cross_entropy (logits, targets, 2, 5, dlogits);

  g_assert_cmpfloat (loss, >, 0.0);
  /* Central differences in the (double) loss. */
  for (guint i = 0; i < 10; i++)
    {
      float keep = logits[i];
      double up, down;

      logits[i] = keep + 1e-3f;
      up = mel_softmax_cross_entropy (logits, targets, 2, 5, NULL);
      logits[i] = keep - 1e-3f;
      down = mel_softmax_cross_entropy (logits, targets, 2, 5, NULL);
      logits[i] = keep;
      g_assert_cmpfloat_with_epsilon (dlogits[i], (up - down) / (2 * 1e-3), 1e-4);
    }
  /* Rows with invalid targets get zero gradient and do not count. */
  {
    const gint32 half[2] = { 3, -1 };
    double l1 = mel_softmax_cross_entropy (logits, half, 2, 5, dlogits);
    double l2 = mel_softmax_cross_entropy (logits, targets, 1, 5, NULL);

    g_assert_cmpfloat_with_epsilon (l1, l2, 1e-12);
    for (guint i = 5; i < 10; i++)
      g_assert_cmpfloat (dlogits[i], ==, 0.0f);
  }
}

static void
test_kind_strings (void)
{
  MelOptimKind kind;
  MelLrDecay decay;

  g_assert_true (mel_optim_kind_from_string ("adamw", &kind));
  g_assert_cmpint (kind, ==, MEL_OPTIM_ADAMW);
  g_assert_cmpstr (mel_optim_kind_to_string (MEL_OPTIM_ADAM), ==, "adam");
  g_assert_false (mel_optim_kind_from_string ("sgd", &kind));
  g_assert_true (mel_lr_decay_from_string ("cosine", &decay));
  g_assert_cmpint (decay, ==, MEL_LR_COSINE);
  g_assert_false (mel_lr_decay_from_string (NULL, &decay));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/mel/optim/adam-step", test_adam_step);
  g_test_add_func ("/mel/optim/adamw-step", test_adamw_step);
  g_test_add_func ("/mel/optim/adam-l2", test_adam_l2);
  g_test_add_func ("/mel/optim/clip", test_clip);
  g_test_add_func ("/mel/optim/schedule", test_schedule);
  g_test_add_func ("/mel/optim/kind-strings", test_kind_strings);
  g_test_add_func ("/mel/optim/metrics-hand", test_metrics_hand);
  g_test_add_func ("/mel/optim/softmax-ce-gradient", test_softmax_ce_gradient);
  return g_test_run ();
}
