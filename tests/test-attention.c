/* test-attention.c — multi-head self-attention: backward against finite
 * differences (causal and not, one to four heads), the causal mask, and
 * the K/V-cached step against the forward.
 *
 * SPDX-License-Identifier: MIT
 */
#include <math.h>
#include <string.h>

#include "mel-attention.h"

static double
project (const float *out, const float *r, gsize n)
{
  double s = 0.0;

  for (gsize i = 0; i < n; i++)
    s += (double) out[i] * r[i];
  return s;
}

static void
check_gradients (gsize dim, gsize heads, gboolean causal)
{
  const gsize steps = 5, batch = 3, rows = steps * batch;
  gsize n_params = mel_attention_n_params (dim);
  g_autofree float *params = g_new (float, n_params);
  g_autofree float *grads = g_new0 (float, n_params);
  g_autofree float *x = g_new (float, rows * dim);
  g_autofree float *dx = g_new0 (float, rows * dim);
  g_autofree float *r = g_new (float, rows * dim);
  MelAttentionTensors p, g;
  MelAttentionLayer layer;
  MelRng rng;
  double max_rel = 0.0;
  const float eps = 1e-2f;

  mel_rng_init (&rng, 7 + heads);
  mel_attention_bind (&p, params, dim);
  mel_attention_bind (&g, grads, dim);
  /* Large weights: peaked softmaxes, so the softmax Jacobian matters. */
  mel_rng_fill_uniform (&rng, params, n_params, 0.6f);
  mel_rng_fill_normal (&rng, x, rows * dim, 1.0f);
  mel_rng_fill_normal (&rng, r, rows * dim, 1.0f);
  mel_attention_layer_init (&layer, dim, heads, causal, &p, &g);
  mel_attention_forward (&layer, x, steps, batch);
  mel_attention_backward (&layer, r, dx);

  for (int which = 0; which < 2; which++)
    {
      float *vals = which == 0 ? params : x;
      const float *ana = which == 0 ? grads : dx;
      gsize n = which == 0 ? n_params : rows * dim;

      for (gsize i = 0; i < n; i++)
        {
          float saved = vals[i];
          double lp, lm, lp2, lm2, num, err, scale;

          /* Richardson extrapolation of central differences at ε and
           * 2ε: truncation O(ε⁴), so float rounding noise dominates. */
          vals[i] = saved + eps;
          lp = project (mel_attention_forward (&layer, x, steps, batch), r, rows * dim);
          vals[i] = saved - eps;
          lm = project (mel_attention_forward (&layer, x, steps, batch), r, rows * dim);
          vals[i] = saved + 2 * eps;
          lp2 = project (mel_attention_forward (&layer, x, steps, batch), r, rows * dim);
          vals[i] = saved - 2 * eps;
          lm2 = project (mel_attention_forward (&layer, x, steps, batch), r, rows * dim);
          vals[i] = saved;
          num = (8.0 * (lp - lm) - (lp2 - lm2)) / (12.0 * eps);
          err = fabs (num - ana[i]);
          scale = MAX (fabs (num), fabs ((double) ana[i]));
          if (scale > 1e-3)
            max_rel = MAX (max_rel, err / scale);
          /* 1e-2 relative + 3e-4 absolute (float rounding of a loss of
            * ~180 terms of O(1), divided by 12ε: ~1e-4). */
          if (err > 1e-2 * scale + 5e-4)
            g_error ("%s %zu (dim %zu, %zu heads, causal %d): analytic %.7g numeric %.7g",
                     which == 0 ? "param" : "input", i, dim, heads, causal, (double) ana[i], num);
        }
    }
  g_test_message ("attention dim %zu, %zu heads, %s: max relative error %.3g over all "
                  "parameters and inputs", dim, heads, causal ? "causal" : "unmasked", max_rel);
  mel_attention_layer_clear (&layer);
}

static void
test_gradient_causal (void)
{
  check_gradients (8, 1, TRUE);
  check_gradients (8, 2, TRUE);
  check_gradients (12, 4, TRUE);
}

static void
test_gradient_unmasked (void)
{
  check_gradients (8, 1, FALSE);
  check_gradients (12, 3, FALSE);
  check_gradients (12, 4, FALSE);
}

/* Causal: rows are distributions over 0…t; changing a later input does not
 * change an earlier output. */
static void
test_causal_mask (void)
{
  const gsize dim = 8, heads = 2, steps = 6, batch = 2, rows = steps * batch;
  gsize n_params = mel_attention_n_params (dim);
  g_autofree float *params = g_new (float, n_params);
  g_autofree float *x = g_new (float, rows * dim);
  g_autofree float *before = g_new (float, rows * dim);
  MelAttentionTensors p;
  MelAttentionLayer layer;
  MelRng rng;

  mel_rng_init (&rng, 3);
  mel_attention_bind (&p, params, dim);
  mel_rng_fill_uniform (&rng, params, n_params, 0.5f);
  mel_rng_fill_normal (&rng, x, rows * dim, 1.0f);
  mel_attention_layer_init (&layer, dim, heads, TRUE, &p, NULL);
  memcpy (before, mel_attention_forward (&layer, x, steps, batch), rows * dim * sizeof (float));
  for (gsize b = 0; b < batch; b++)
    for (gsize h = 0; h < heads; h++)
      {
        const float *pr = mel_attention_get_probs (&layer, b, h);

        for (gsize t = 0; t < steps; t++)
          {
            double sum = 0.0;

            for (gsize s = 0; s < steps; s++)
              {
                if (s > t)
                  g_assert_cmpfloat (pr[t * steps + s], ==, 0.0f);
                sum += pr[t * steps + s];
              }
            g_assert_cmpfloat_with_epsilon (sum, 1.0, 1e-5);
          }
      }
  /* Perturb the last step of sequence 0: rows t < T−1 stay identical. */
  for (gsize j = 0; j < dim; j++)
    x[((steps - 1) * batch + 0) * dim + j] += 1.0f;
  {
    const float *after = mel_attention_forward (&layer, x, steps, batch);

    for (gsize i = 0; i < (steps - 1) * batch * dim; i++)
      g_assert_cmpfloat (after[i], ==, before[i]);
  }
  mel_attention_layer_clear (&layer);
}

static void
test_step_matches_forward (void)
{
  const gsize dim = 16, heads = 4, steps = 70, batch = 2, rows = steps * batch;
  gsize n_params = mel_attention_n_params (dim);
  g_autofree float *params = g_new (float, n_params);
  g_autofree float *x = g_new (float, rows * dim);
  g_autofree float *weights = g_new (float, heads * steps);
  g_autoptr(MelAttentionCache) cache = mel_attention_cache_new (dim, heads);
  float out[16];
  MelAttentionTensors p;
  MelAttentionLayer layer;
  const float *full;
  MelRng rng;
  double max_err = 0.0, max_w = 0.0;

  mel_rng_init (&rng, 9);
  mel_attention_bind (&p, params, dim);
  mel_rng_fill_uniform (&rng, params, n_params, 0.5f);
  mel_rng_fill_normal (&rng, x, rows * dim, 1.0f);
  mel_attention_layer_init (&layer, dim, heads, TRUE, &p, NULL);
  full = mel_attention_forward (&layer, x, steps, batch);
  for (gsize t = 0; t < steps; t++)
    {
      mel_attention_step (&p, cache, x + (t * batch + 1) * dim, out, weights);
      for (gsize j = 0; j < dim; j++)
        max_err = MAX (max_err, fabs ((double) out[j] - full[(t * batch + 1) * dim + j]));
      for (gsize h = 0; h < heads; h++)
        for (gsize s = 0; s <= t; s++)
          max_w = MAX (max_w, fabs ((double) weights[h * (t + 1) + s]
                                    - mel_attention_get_probs (&layer, 1, h)[t * steps + s]));
    }
  g_test_message ("attention step vs forward (70 steps, cache grown past 64): max |output "
                  "difference| %.3g, max |weight difference| %.3g", max_err, max_w);
  g_assert_cmpfloat (max_err, <, 1e-5);
  g_assert_cmpfloat (max_w, <, 1e-5);
  mel_attention_layer_clear (&layer);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/mel/attention/gradient-causal", test_gradient_causal);
  g_test_add_func ("/mel/attention/gradient-unmasked", test_gradient_unmasked);
  g_test_add_func ("/mel/attention/causal-mask", test_causal_mask);
  g_test_add_func ("/mel/attention/step-matches-forward", test_step_matches_forward);
  return g_test_run ();
}
