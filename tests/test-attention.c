/* test-attention.c — multi-head self-attention: backward against finite
 * differences (causal and not, one to four heads), against a double
 * precision reference over the shapes that reach every edge of the
 * kernels' tiling (T = 1, 5, 17, 33; head widths 4, 10, 24, 72), the causal
 * mask, and the K/V-cached step against the forward.
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

/* Checks every parameter and input, or @n_samples random ones of each. */
static void
check_gradients_shaped (gsize dim, gsize heads, gboolean causal, gsize steps, gsize batch,
                        gsize n_samples)
{
  const gsize rows = steps * batch;
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
  /* (…scaled by 1/√D for wide layers, so that the scores stay O(1).) */
  mel_rng_fill_uniform (&rng, params, n_params, MIN (0.6f, 2.0f / sqrtf ((float) dim)));
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

      for (gsize s = 0; s < (n_samples > 0 ? n_samples : n); s++)
        {
          gsize i = n_samples > 0 ? mel_rng_next (&rng) % n : s;
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
          /* 1e-2 relative + 5e-4 absolute for a loss of 180 terms (float
           * rounding of ~180 terms of O(1), divided by 12ε: ~1e-4); the
           * rounding noise grows as the square root of the number of terms. */
          if (err > 1e-2 * scale + 5e-4 * sqrt (rows * dim / 180.0))
            g_error ("%s %zu (dim %zu, %zu heads, causal %d, T %zu, B %zu): analytic %.7g "
                     "numeric %.7g", which == 0 ? "param" : "input", i, dim, heads, causal, steps,
                     batch, (double) ana[i], num);
        }
    }
  g_test_message ("attention dim %zu, %zu heads, %s, T %zu, B %zu: max relative error %.3g "
                  "over %s", dim, heads, causal ? "causal" : "unmasked", steps, batch, max_rel,
                  n_samples > 0 ? "300 random parameters and inputs each"
                                : "all parameters and inputs");
  mel_attention_layer_clear (&layer);
}

static void
check_gradients_sampled (gsize dim, gsize heads, gboolean causal, gsize n_samples)
{
  check_gradients_shaped (dim, heads, causal, 5, 3, n_samples);
}

static void
check_gradients (gsize dim, gsize heads, gboolean causal)
{
  check_gradients_sampled (dim, heads, causal, 0);
}

/* The analytic gradients of loss = Σ out ⊙ r against a plain
 * double-precision implementation of the same layer (time-major rows
 * t·B + b).  Returns the largest difference relative to the largest
 * gradient. */
static double
compare_with_reference (gsize dim, gsize heads, gboolean causal, gsize steps, gsize batch)
{
  gsize rows = steps * batch, dh = dim / heads, d3 = 3 * dim;
  gsize n_params = mel_attention_n_params (dim);
  g_autofree float *params = g_new (float, n_params);
  g_autofree float *grads = g_new0 (float, n_params);
  g_autofree float *x = g_new (float, rows * dim);
  g_autofree float *dx = g_new0 (float, rows * dim);
  g_autofree float *r = g_new (float, rows * dim);
  g_autofree double *qkv = g_new0 (double, rows * d3);
  g_autofree double *y = g_new0 (double, rows * dim);
  g_autofree double *dy = g_new0 (double, rows * dim);
  g_autofree double *dqkv = g_new0 (double, rows * d3);
  g_autofree double *p = g_new0 (double, steps * steps);
  g_autofree double *dp = g_new0 (double, steps * steps);
  g_autofree double *ref = g_new0 (double, n_params);
  g_autofree double *ref_dx = g_new0 (double, rows * dim);
  double scale = 1.0 / sqrt ((double) dh), max_diff = 0.0, max_grad = 0.0;
  MelAttentionTensors pt, gt;
  MelAttentionLayer layer;
  MelRng rng;
  const float *out;
  double *rw_qkv, *rb_qkv, *rw_out, *rb_out;

  mel_rng_init (&rng, 17);
  mel_attention_bind (&pt, params, dim);
  mel_attention_bind (&gt, grads, dim);
  mel_rng_fill_uniform (&rng, params, n_params, 2.0f / sqrtf ((float) dim));
  mel_rng_fill_normal (&rng, x, rows * dim, 1.0f);
  mel_rng_fill_normal (&rng, r, rows * dim, 1.0f);
  mel_attention_layer_init (&layer, dim, heads, causal, &pt, &gt);
  out = mel_attention_forward (&layer, x, steps, batch);
  mel_attention_backward (&layer, r, dx);

  rw_qkv = ref;
  rb_qkv = rw_qkv + d3 * dim;
  rw_out = rb_qkv + d3;
  rb_out = rw_out + dim * dim;
  for (gsize row = 0; row < rows; row++)
    for (gsize c = 0; c < d3; c++)
      {
        double acc = pt.b_qkv[c];

        for (gsize i = 0; i < dim; i++)
          acc += (double) x[row * dim + i] * pt.w_qkv[c * dim + i];
        qkv[row * d3 + c] = acc;
      }
  for (gsize b = 0; b < batch; b++)
    for (gsize h = 0; h < heads; h++)
      {
#define Q(t, e) qkv[((t) * batch + b) * d3 + h * dh + (e)]
#define K(t, e) qkv[((t) * batch + b) * d3 + dim + h * dh + (e)]
#define V(t, e) qkv[((t) * batch + b) * d3 + 2 * dim + h * dh + (e)]
        for (gsize i = 0; i < steps; i++)
          {
            gsize n = causal ? i + 1 : steps;
            double max = -INFINITY, sum = 0.0;

            for (gsize j = 0; j < n; j++)
              {
                double sc = 0.0;

                for (gsize e = 0; e < dh; e++)
                  sc += Q (i, e) * K (j, e);
                p[i * steps + j] = sc * scale;
                max = MAX (max, p[i * steps + j]);
              }
            for (gsize j = 0; j < n; j++)
              sum += (p[i * steps + j] = exp (p[i * steps + j] - max));
            for (gsize j = 0; j < steps; j++)
              p[i * steps + j] = j < n ? p[i * steps + j] / sum : 0.0;
            for (gsize e = 0; e < dh; e++)
              {
                double acc = 0.0;

                for (gsize j = 0; j < n; j++)
                  acc += p[i * steps + j] * V (j, e);
                y[(i * batch + b) * dim + h * dh + e] = acc;
              }
          }
#undef Q
#undef K
#undef V
      }
  /* out = y W_outᵀ + b_out; check it, then its gradients. */
  for (gsize row = 0; row < rows; row++)
    for (gsize c = 0; c < dim; c++)
      {
        double acc = pt.b_out[c];

        for (gsize i = 0; i < dim; i++)
          acc += y[row * dim + i] * pt.w_out[c * dim + i];
        max_diff = MAX (max_diff, fabs (acc - out[row * dim + c]));
        rb_out[c] += r[row * dim + c];
        for (gsize i = 0; i < dim; i++)
          {
            rw_out[c * dim + i] += r[row * dim + c] * y[row * dim + i];
            dy[row * dim + i] += r[row * dim + c] * pt.w_out[c * dim + i];
          }
      }
  g_assert_cmpfloat (max_diff, <, 1e-4);
  max_diff = 0.0;
  for (gsize b = 0; b < batch; b++)
    for (gsize h = 0; h < heads; h++)
      {
#define Q(t, e) qkv[((t) * batch + b) * d3 + h * dh + (e)]
#define K(t, e) qkv[((t) * batch + b) * d3 + dim + h * dh + (e)]
#define V(t, e) qkv[((t) * batch + b) * d3 + 2 * dim + h * dh + (e)]
#define DQ(t, e) dqkv[((t) * batch + b) * d3 + h * dh + (e)]
#define DK(t, e) dqkv[((t) * batch + b) * d3 + dim + h * dh + (e)]
#define DV(t, e) dqkv[((t) * batch + b) * d3 + 2 * dim + h * dh + (e)]
#define DY(t, e) dy[((t) * batch + b) * dim + h * dh + (e)]
        const float *pr = mel_attention_get_probs (&layer, b, h);

        for (gsize i = 0; i < steps; i++)
          {
            gsize n = causal ? i + 1 : steps;
            double dot = 0.0, max = -INFINITY, sum = 0.0;

            /* the probabilities again, in double */

            for (gsize j = 0; j < n; j++)
              {
                double sc = 0.0;

                for (gsize e = 0; e < dh; e++)
                  sc += Q (i, e) * K (j, e);
                p[j] = sc * scale;
                max = MAX (max, p[j]);
              }
            for (gsize j = 0; j < n; j++)
              sum += (p[j] = exp (p[j] - max));
            for (gsize j = 0; j < n; j++)
              {
                p[j] /= sum;
                max_diff = MAX (max_diff, fabs (p[j] - pr[i * steps + j]));
                dp[j] = 0.0;
                for (gsize e = 0; e < dh; e++)
                  {
                    dp[j] += DY (i, e) * V (j, e);
                    DV (j, e) += p[j] * DY (i, e);
                  }
                dot += p[j] * dp[j];
              }
            for (gsize j = 0; j < n; j++)
              {
                double ds = scale * p[j] * (dp[j] - dot);

                for (gsize e = 0; e < dh; e++)
                  {
                    DQ (i, e) += ds * K (j, e);
                    DK (j, e) += ds * Q (i, e);
                  }
              }
          }
#undef Q
#undef K
#undef V
#undef DQ
#undef DK
#undef DV
#undef DY
      }
  g_assert_cmpfloat (max_diff, <, 1e-5); /* the attention weights */
  for (gsize row = 0; row < rows; row++)
    for (gsize c = 0; c < d3; c++)
      {
        double g = dqkv[row * d3 + c];

        rb_qkv[c] += g;
        for (gsize i = 0; i < dim; i++)
          {
            rw_qkv[c * dim + i] += g * x[row * dim + i];
            ref_dx[row * dim + i] += g * pt.w_qkv[c * dim + i];
          }
      }
  max_diff = 0.0;
  for (gsize i = 0; i < n_params; i++)
    {
      max_diff = MAX (max_diff, fabs (ref[i] - grads[i]));
      max_grad = MAX (max_grad, fabs (ref[i]));
    }
  for (gsize i = 0; i < rows * dim; i++)
    {
      max_diff = MAX (max_diff, fabs (ref_dx[i] - dx[i]));
      max_grad = MAX (max_grad, fabs (ref_dx[i]));
    }
  mel_attention_layer_clear (&layer);
  return max_diff / max_grad;
}

/* Heads 72 wide: the 64-column register blocks of the per-head kernels
 * and their tail, against finite differences (sampled) and against a
 * double-precision reference (every gradient). */
static void
test_gradient_wide_heads (void)
{
  for (int causal = 0; causal < 2; causal++)
    {
      double rel = compare_with_reference (144, 2, causal, 9, 3);

      g_test_message ("attention dim 144, 2 heads, %s vs double reference: max |difference| "
                      "%.3g of the largest gradient", causal ? "causal" : "unmasked", rel);
      /* float32 forward and backward: ~1e-6 of the scale. */
      g_assert_cmpfloat (rel, <, 1e-4);
    }
  check_gradients_sampled (144, 2, TRUE, 300);
  check_gradients_sampled (144, 2, FALSE, 300);
}

/* The per-head kernels work on tiles of 4 rows × 16 (or 8) columns, with
 * T and the head width d rounded up to 8: these shapes reach every edge
 * (T = 1; T = 5 and 17, not multiples of 4 or 8; T = 33 past two
 * 16-column blocks; d = 4 and 10, not multiples of 8; d = 24, one 16-wide
 * and one 8-wide block), masked and not, batch 1 and 3, against the
 * double-precision reference (every gradient and weight). */
static void
test_gradient_tile_edges (void)
{
  static const struct
  {
    gsize dim, heads, steps, batch;
  } shapes[] = {
    { 12, 3, 1, 1 }, { 12, 3, 1, 3 }, { 20, 2, 5, 1 }, { 20, 2, 17, 3 }, { 48, 2, 17, 1 },
    { 48, 2, 33, 2 }, { 8, 1, 17, 2 }, { 30, 3, 9, 2 },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (shapes); i++)
    for (int causal = 0; causal < 2; causal++)
      {
        double rel = compare_with_reference (shapes[i].dim, shapes[i].heads, causal,
                                             shapes[i].steps, shapes[i].batch);

        g_test_message ("attention dim %zu, %zu heads, T %zu, B %zu, %s vs double reference: "
                        "max |difference| %.3g of the largest gradient", shapes[i].dim,
                        shapes[i].heads, shapes[i].steps, shapes[i].batch,
                        causal ? "causal" : "unmasked", rel);
        g_assert_cmpfloat (rel, <, 1e-4);
      }
}

/* The same edges against finite differences (every parameter and input). */
static void
test_gradient_tile_edges_numeric (void)
{
  for (int causal = 0; causal < 2; causal++)
    {
      check_gradients_shaped (12, 3, causal, 1, 1, 0);
      check_gradients_shaped (20, 2, causal, 17, 2, 0);
      check_gradients_shaped (8, 1, causal, 5, 1, 0);
    }
}

/* One layer run at shapes that grow and shrink (its buffers are reused
 * and regrown) gives exactly what a fresh layer gives at each shape. */
static void
test_reuse_across_shapes (void)
{
  static const gsize shapes[][2] = { { 17, 2 }, { 64, 1 }, { 5, 3 }, { 33, 4 }, { 1, 1 } };
  const gsize dim = 24, heads = 3;
  gsize n_params = mel_attention_n_params (dim);
  g_autofree float *params = g_new (float, n_params);
  g_autofree float *grads = g_new0 (float, n_params);
  g_autofree float *grads_fresh = g_new0 (float, n_params);
  MelAttentionTensors p, g, g_fresh;
  MelAttentionLayer layer;
  MelRng rng;

  mel_rng_init (&rng, 5);
  mel_attention_bind (&p, params, dim);
  mel_attention_bind (&g, grads, dim);
  mel_attention_bind (&g_fresh, grads_fresh, dim);
  mel_rng_fill_uniform (&rng, params, n_params, 0.4f);
  mel_attention_layer_init (&layer, dim, heads, TRUE, &p, &g);
  for (gsize i = 0; i < G_N_ELEMENTS (shapes); i++)
    {
      gsize steps = shapes[i][0], batch = shapes[i][1], n = steps * batch * dim;
      g_autofree float *x = g_new (float, n);
      g_autofree float *r = g_new (float, n);
      g_autofree float *dx = g_new0 (float, n);
      g_autofree float *dx_fresh = g_new0 (float, n);
      const float *out, *out_fresh;
      MelAttentionLayer fresh;

      mel_rng_fill_normal (&rng, x, n, 1.0f);
      mel_rng_fill_normal (&rng, r, n, 1.0f);
      memset (grads, 0, n_params * sizeof (float));
      memset (grads_fresh, 0, n_params * sizeof (float));
      mel_attention_layer_init (&fresh, dim, heads, TRUE, &p, &g_fresh);
      out = mel_attention_forward (&layer, x, steps, batch);
      out_fresh = mel_attention_forward (&fresh, x, steps, batch);
      g_assert_cmpmem (out, n * sizeof (float), out_fresh, n * sizeof (float));
      mel_attention_backward (&layer, r, dx);
      mel_attention_backward (&fresh, r, dx_fresh);
      g_assert_cmpmem (dx, n * sizeof (float), dx_fresh, n * sizeof (float));
      g_assert_cmpmem (grads, n_params * sizeof (float), grads_fresh, n_params * sizeof (float));
      mel_attention_layer_clear (&fresh);
    }
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

/* Sequence @batch − 1 stepped through the cache against the forward. */
static void
check_step (gsize dim, gsize heads, gsize steps, gsize batch)
{
  gsize rows = steps * batch, last = batch - 1;
  gsize n_params = mel_attention_n_params (dim);
  g_autofree float *params = g_new (float, n_params);
  g_autofree float *x = g_new (float, rows * dim);
  g_autofree float *weights = g_new (float, heads * steps);
  g_autoptr(MelAttentionCache) cache = mel_attention_cache_new (dim, heads);
  g_autofree float *out = g_new (float, dim);
  MelAttentionTensors p;
  MelAttentionLayer layer;
  const float *full;
  MelRng rng;
  double max_err = 0.0, max_w = 0.0;

  mel_rng_init (&rng, 9);
  mel_attention_bind (&p, params, dim);
  /* scores and outputs O(1) for wide layers too */
  mel_rng_fill_uniform (&rng, params, n_params, MIN (0.5f, 2.0f / sqrtf ((float) dim)));
  mel_rng_fill_normal (&rng, x, rows * dim, 1.0f);
  mel_attention_layer_init (&layer, dim, heads, TRUE, &p, NULL);
  full = mel_attention_forward (&layer, x, steps, batch);
  for (gsize t = 0; t < steps; t++)
    {
      mel_attention_step (&p, cache, x + (t * batch + last) * dim, out, weights);
      for (gsize j = 0; j < dim; j++)
        max_err = MAX (max_err, fabs ((double) out[j] - full[(t * batch + last) * dim + j]));
      for (gsize h = 0; h < heads; h++)
        for (gsize s = 0; s <= t; s++)
          max_w = MAX (max_w, fabs ((double) weights[h * (t + 1) + s]
                                    - mel_attention_get_probs (&layer, last, h)[t * steps + s]));
    }
  g_test_message ("attention step vs forward (dim %zu, %zu heads, %zu steps): max |output "
                  "difference| %.3g, max |weight difference| %.3g", dim, heads, steps, max_err,
                  max_w);
  g_assert_cmpfloat (max_err, <, 1e-5);
  g_assert_cmpfloat (max_w, <, 1e-5);
  mel_attention_layer_clear (&layer);
}

static void
test_step_matches_forward (void)
{
  check_step (16, 4, 70, 2); /* the cache grows past 64 */
  check_step (24, 3, 140, 1); /* and twice: transposed keys move to a new stride */
  check_step (20, 2, 17, 1); /* head width 10: vector and scalar tails */
  check_step (144, 2, 9, 3); /* head width 72: a 64-column block and a tail */
  check_step (12, 3, 1, 1);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/mel/attention/gradient-causal", test_gradient_causal);
  g_test_add_func ("/mel/attention/gradient-unmasked", test_gradient_unmasked);
  g_test_add_func ("/mel/attention/gradient-wide-heads", test_gradient_wide_heads);
  g_test_add_func ("/mel/attention/gradient-tile-edges", test_gradient_tile_edges);
  g_test_add_func ("/mel/attention/gradient-tile-edges-numeric",
                   test_gradient_tile_edges_numeric);
  g_test_add_func ("/mel/attention/reuse-across-shapes", test_reuse_across_shapes);
  g_test_add_func ("/mel/attention/causal-mask", test_causal_mask);
  g_test_add_func ("/mel/attention/step-matches-forward", test_step_matches_forward);
  return g_test_run ();
}
