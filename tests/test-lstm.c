/* test-lstm.c — the LSTM layer: backward against finite differences (plain
 * and table input), the single-sequence step against the forward.
 *
 * SPDX-License-Identifier: MIT
 */
#include <math.h>
#include <string.h>

#include "mel-lstm.h"

/* loss = Σ out ⊙ r, a random linear functional of the outputs: its
 * gradient with respect to out is r. */
static double
project (const float *out, const float *r, gsize n)
{
  double s = 0.0;

  for (gsize i = 0; i < n; i++)
    s += (double) out[i] * r[i];
  return s;
}

typedef struct
{
  gsize in, hs, steps, batch, vocab;
  gboolean table_mode;
  float *params, *grads, *x, *r, *table, *dtable, *dx;
  gint32 *ids;
  MelLstmTensors p, g;
  MelLstmLayer layer;
} Fixture;

static double
run_forward (Fixture *f)
{
  const float *out;

  if (f->table_mode)
    {
      mel_lstm_input_table (f->table, f->x, f->vocab, f->in, &f->p, f->hs);
      out = mel_lstm_forward_table (&f->layer, f->table, f->ids, f->steps, f->batch);
    }
  else
    out = mel_lstm_forward (&f->layer, f->x, f->steps, f->batch);
  return project (out, f->r, f->steps * f->batch * f->hs);
}

/* Checks the gradients of a layer of the given shape against central
 * differences: every parameter and input when @n_sampled is 0, else
 * @n_sampled random coordinates of W_hh (the per-step products) and as
 * many of the other parameters and inputs. */
static void
check_gradients_shape (gboolean table_mode, gsize in, gsize hs, gsize steps, gsize batch,
                       gsize n_sampled)
{
  Fixture f = { .in = in, .hs = hs, .steps = steps, .batch = batch, .vocab = 7,
                .table_mode = table_mode };
  gsize n_params = mel_lstm_n_params (f.in, f.hs);
  gsize n_x = table_mode ? f.vocab * f.in : f.steps * f.batch * f.in;
  MelRng rng;
  double max_rel = 0.0;
  const float eps = 1e-2f;
  const double abs_tol = 2e-4 * MAX (1.0, sqrt ((double) (steps * batch * hs) / 162.0));

  mel_rng_init (&rng, 42);
  f.params = g_new (float, n_params);
  f.grads = g_new0 (float, n_params);
  f.x = g_new (float, n_x);
  f.dx = g_new0 (float, n_x);
  f.r = g_new (float, f.steps * f.batch * f.hs);
  f.table = g_new (float, f.vocab * 4 * f.hs);
  f.dtable = g_new0 (float, f.vocab * 4 * f.hs);
  f.ids = g_new (gint32, f.steps * f.batch);
  mel_lstm_bind (&f.p, f.params, f.in, f.hs);
  mel_lstm_bind (&f.g, f.grads, f.in, f.hs);
  /* Weights ±0.8 (less for wide layers, whose sums grow as √H): the
   * gates leave their linear region. */
  mel_rng_fill_uniform (&rng, f.params, n_params, MIN (0.8f, 2.4f / sqrtf ((float) hs)));
  mel_rng_fill_normal (&rng, f.x, n_x, 1.0f);
  mel_rng_fill_normal (&rng, f.r, f.steps * f.batch * f.hs, 1.0f);
  for (gsize i = 0; i < f.steps * f.batch; i++)
    f.ids[i] = (gint32) (mel_rng_next (&rng) % f.vocab);
  mel_lstm_layer_init (&f.layer, f.in, f.hs, &f.p, &f.g);

  run_forward (&f);
  if (table_mode)
    {
      mel_lstm_backward (&f.layer, f.r, NULL, f.dtable);
      mel_lstm_input_table_backward (&f.g, f.dx, f.dtable, f.x, &f.p, f.vocab, f.in, f.hs);
    }
  else
    mel_lstm_backward (&f.layer, f.r, f.dx, NULL);

  /* Every parameter and every input. */
  for (int which = 0; which < 2; which++)
    {
      float *vals = which == 0 ? f.params : f.x;
      const float *ana = which == 0 ? f.grads : f.dx;
      gsize n = which == 0 ? n_params : n_x;
      gsize n_checks = n_sampled == 0 ? n : 2 * n_sampled;

      for (gsize check = 0; check < n_checks; check++)
        {
          gsize i = check;
          float saved;

          if (n_sampled > 0)
            {
              /* Half in W_hh, half anywhere. */
              gsize w_hh_start = (gsize) (f.p.w_hh - f.params);

              if (which == 0 && check % 2 == 0)
                i = w_hh_start + mel_rng_next (&rng) % (4 * hs * hs);
              else
                i = mel_rng_next (&rng) % n;
            }
          saved = vals[i];
          double lp, lm, lp2, lm2, num, err, scale;

          /* Richardson extrapolation of central differences at ε and
           * 2ε: truncation O(ε⁴), so float rounding noise dominates. */
          vals[i] = saved + eps;
          lp = run_forward (&f);
          vals[i] = saved - eps;
          lm = run_forward (&f);
          vals[i] = saved + 2 * eps;
          lp2 = run_forward (&f);
          vals[i] = saved - 2 * eps;
          lm2 = run_forward (&f);
          vals[i] = saved;
          num = (8.0 * (lp - lm) - (lp2 - lm2)) / (12.0 * eps);
          err = fabs (num - ana[i]);
          scale = MAX (fabs (num), fabs ((double) ana[i]));
          if (scale > 1e-3)
            max_rel = MAX (max_rel, err / scale);
          /* Tolerance: 1e-2 relative + an absolute part for the float
           * rounding of the loss divided by 12ε: 2e-4 for the 162 terms of
           * the smallest shape, growing as the square root of the number
           * of terms (a random walk). */
          if (err > 1e-2 * scale + abs_tol)
            g_error ("%s %zu: analytic %.7g numeric %.7g", which == 0 ? "param" : "input", i,
                     (double) ana[i], num);
        }
    }
  g_test_message ("LSTM layer (%s, I %zu, H %zu, T %zu, B %zu): max relative error %.3g over "
                  "%s parameters and inputs", table_mode ? "table input" : "dense input", in, hs,
                  steps, batch, max_rel, n_sampled == 0 ? "all" : "sampled");
  mel_lstm_layer_clear (&f.layer);
  g_free (f.params);
  g_free (f.grads);
  g_free (f.x);
  g_free (f.dx);
  g_free (f.r);
  g_free (f.table);
  g_free (f.dtable);
  g_free (f.ids);
}

static void
test_gradient_dense (void)
{
  check_gradients_shape (FALSE, 5, 9, 6, 3, 0);
}

static void
test_gradient_table (void)
{
  check_gradients_shape (TRUE, 5, 9, 6, 3, 0);
}

/* Shapes for every edge of the packed per-step products (mel-lstm.c):
 * 6-row tiles plus 3…5 leftover rows or 4 + 3 / 4 + 4 instead of 1 or 2,
 * 16-column panels plus a partial one,
 * 4H > 256 (two K blocks in the backward), batch 1, H not a multiple of 8. */
static void
test_gradient_shapes (void)
{
  static const gsize shapes[][4] = {
    /* in, hs, steps, batch */
    { 4, 70, 4, 7 },  /* 4H = 280: two K blocks, panel of 8 columns; 4 + 3 rows */
    { 3, 13, 5, 1 },  /* batch 1, H = 13 */
    { 6, 33, 3, 11 }, /* 6 + 5 rows, 4H = 132 */
    { 5, 24, 3, 16 }, /* 6 + 6 + 4 rows, full panels only */
    { 3, 16, 3, 8 },  /* 4 + 4 rows (not 6 + 2) */
    { 4, 12, 3, 14 }, /* 6 + 4 + 4 rows */
  };

  for (gsize i = 0; i < G_N_ELEMENTS (shapes); i++)
    {
      check_gradients_shape (i % 2 == 1, shapes[i][0], shapes[i][1], shapes[i][2], shapes[i][3],
                             60);
      check_gradients_shape (i % 2 == 0, shapes[i][0], shapes[i][1], shapes[i][2], shapes[i][3],
                             20);
    }
}

/* Steps of one sequence give the rows of the batch forward (width 20
 * exercises both the vector body and the scalar tail). */
static void
test_step_matches_forward (void)
{
  const gsize in = 6, hs = 20, steps = 12, batch = 2;
  gsize n_params = mel_lstm_n_params (in, hs);
  g_autofree float *params = g_new (float, n_params);
  g_autofree float *x = g_new (float, steps * batch * in);
  float h[20] = { 0 }, c[20] = { 0 }, xp[80], scratch[80];
  MelLstmTensors p;
  MelLstmLayer layer;
  const float *out;
  MelRng rng;
  double max_err = 0.0;

  mel_rng_init (&rng, 5);
  mel_lstm_bind (&p, params, in, hs);
  mel_rng_fill_uniform (&rng, params, n_params, 0.5f);
  mel_rng_fill_normal (&rng, x, steps * batch * in, 1.0f);
  mel_lstm_layer_init (&layer, in, hs, &p, NULL);
  out = mel_lstm_forward (&layer, x, steps, batch);
  for (gsize t = 0; t < steps; t++)
    {
      /* sequence b = 1 */
      memcpy (xp, p.b_ih, 4 * hs * sizeof (float));
      for (gsize k = 0; k < 4 * hs; k++)
        for (gsize j = 0; j < in; j++)
          xp[k] += p.w_ih[k * in + j] * x[(t * batch + 1) * in + j];
      mel_lstm_step (&p, hs, xp, h, c, scratch);
      for (gsize j = 0; j < hs; j++)
        max_err = MAX (max_err, fabs ((double) h[j] - out[(t * batch + 1) * hs + j]));
    }
  g_test_message ("LSTM step vs forward: max |difference| = %.3g", max_err);
  g_assert_cmpfloat (max_err, <, 1e-5);
  mel_lstm_layer_clear (&layer);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/mel/lstm/gradient-dense", test_gradient_dense);
  g_test_add_func ("/mel/lstm/gradient-table", test_gradient_table);
  g_test_add_func ("/mel/lstm/gradient-shapes", test_gradient_shapes);
  g_test_add_func ("/mel/lstm/step-matches-forward", test_step_matches_forward);
  return g_test_run ();
}
