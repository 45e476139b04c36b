/* test-layers.c — every layer's backward against central finite differences.
 *
 * Method: the layer's outputs are reduced to a scalar loss
 * L = Σ out ⊙ R with fixed random weights R, accumulated in double.  The
 * analytic gradient comes from backward with ∂L/∂out = R; the numerical one
 * from (L(p + ε) − L(p − ε)) / 2ε with ε = 1e-3 applied to the float
 * parameter (the difference actually stored in float is used as the
 * denominator).  The forward pass itself runs in float, so the numerical
 * gradient carries ~1e-7·|L|/ε of rounding noise; sizes are kept small and
 * an element passes when |a − n| ≤ 1e-2·max(|a|, |n|) + 2e-4.  The largest
 * relative error of each check is printed (g_test_message).
 *
 * SPDX-License-Identifier: MIT
 */
#include <math.h>
#include <string.h>

#include "mel-blas.h"
#include "mel-layers.h"

#define FD_EPS 1e-2f
#define FD_REL_TOL 1e-2
#define FD_ABS_TOL 5e-5

typedef double (*LossFunc) (gpointer ctx);

/* Checks up to @max_checks entries of @param (spread evenly) against
 * @grad, the analytic gradient of @loss.  Returns the max relative error. */
static double
check_gradient (const char *what, LossFunc loss, gpointer ctx, float *param, const float *grad,
                gsize n, gsize max_checks)
{
  gsize stride = MAX (1, n / MAX (max_checks, 1));
  double max_rel = 0.0, max_abs = 0.0;
  gsize n_bad = 0;

  for (gsize i = 0; i < n; i += stride)
    {
      float saved = param[i];
      float up, down;
      double lp, lm, numeric, analytic = grad[i], err, rel;


      param[i] = saved + FD_EPS;
      up = param[i];
      lp = loss (ctx);
      param[i] = saved - FD_EPS;
      down = param[i];
      lm = loss (ctx);
      param[i] = saved;
      numeric = (lp - lm) / ((double) up - (double) down);
      err = fabs (numeric - analytic);
      rel = err / MAX (MAX (fabs (numeric), fabs (analytic)), 1e-30);
      max_abs = MAX (max_abs, err);
      if (MAX (fabs (numeric), fabs (analytic)) > 10 * FD_ABS_TOL)
        max_rel = MAX (max_rel, rel);
      if (err > FD_REL_TOL * MAX (fabs (numeric), fabs (analytic)) + FD_ABS_TOL)
        {
          g_test_message ("%s[%zu]: analytic %.7g, numeric %.7g", what, i, analytic, numeric);
          n_bad++;
        }
    }
  g_test_message ("%s: max relative error %.3g (over entries > %.0e), max absolute error %.3g",
                  what, max_rel, 10 * FD_ABS_TOL, max_abs);
  g_assert_cmpuint (n_bad, ==, 0);
  return max_rel;
}

static double
dot (const float *a, const float *b, gsize n)
{
  double s = 0.0;

  for (gsize i = 0; i < n; i++)
    s += (double) a[i] * b[i];
  return s;
}

static float *
random_floats (MelRng *rng, gsize n, float scale)
{
  float *x = g_new (float, n);

  mel_rng_fill_uniform (rng, x, n, scale);
  return x;
}

/* ---- embedding ------------------------------------------------------------ */

typedef struct
{
  gsize n, v, d;
  gint32 *ids;
  float *table, *out, *r;
} EmbeddingCase;

static double
embedding_loss (gpointer data)
{
  EmbeddingCase *c = data;

  mel_embedding_forward (c->out, c->ids, c->table, c->n, c->d);
  return dot (c->out, c->r, c->n * c->d);
}

static void
test_embedding (void)
{
  EmbeddingCase c = { 9, 5, 4 };
  MelRng rng;
  g_autofree gint32 *ids = g_new (gint32, c.n);
  g_autofree float *dtable = g_new0 (float, c.v * c.d);

  mel_rng_init (&rng, 1);
  for (gsize i = 0; i < c.n; i++)
    ids[i] = (gint32) (i * 3 % c.v); /* ids repeat, so gradients accumulate */
  c.ids = ids;
  c.table = random_floats (&rng, c.v * c.d, 1.0f);
  c.out = g_new (float, c.n * c.d);
  c.r = random_floats (&rng, c.n * c.d, 1.0f);
  mel_embedding_backward (dtable, c.r, c.ids, c.n, c.d);
  check_gradient ("embedding table", embedding_loss, &c, c.table, dtable, c.v * c.d, 1000);
  g_free (c.table);
  g_free (c.out);
  g_free (c.r);
}

/* ---- linear --------------------------------------------------------------- */

typedef struct
{
  gsize n, in, out;
  float *x, *w, *b, *y, *r;
} LinearCase;

static double
linear_loss (gpointer data)
{
  LinearCase *c = data;

  mel_linear_forward (c->y, c->x, c->w, c->b, c->n, c->in, c->out);
  return dot (c->y, c->r, c->n * c->out);
}

static void
test_linear (void)
{
  LinearCase c = { 6, 7, 5 };
  MelRng rng;
  g_autofree float *dx = NULL, *dw = NULL, *db = NULL;

  mel_rng_init (&rng, 2);
  c.x = random_floats (&rng, c.n * c.in, 1.0f);
  c.w = random_floats (&rng, c.out * c.in, 0.5f);
  c.b = random_floats (&rng, c.out, 0.5f);
  c.y = g_new (float, c.n * c.out);
  c.r = random_floats (&rng, c.n * c.out, 1.0f);
  /* Non-zero starting gradients: backward must add, not overwrite. */
  dx = random_floats (&rng, c.n * c.in, 1.0f);
  dw = random_floats (&rng, c.out * c.in, 1.0f);
  db = random_floats (&rng, c.out, 1.0f);
  {
    g_autofree float *dx0 = g_memdup2 (dx, c.n * c.in * sizeof (float));
    g_autofree float *dw0 = g_memdup2 (dw, c.out * c.in * sizeof (float));
    g_autofree float *db0 = g_memdup2 (db, c.out * sizeof (float));

    mel_linear_backward (dx, dw, db, c.r, c.x, c.w, c.n, c.in, c.out);
    for (gsize i = 0; i < c.n * c.in; i++)
      dx[i] -= dx0[i];
    for (gsize i = 0; i < c.out * c.in; i++)
      dw[i] -= dw0[i];
    for (gsize i = 0; i < c.out; i++)
      db[i] -= db0[i];
  }
  check_gradient ("linear input", linear_loss, &c, c.x, dx, c.n * c.in, 1000);
  check_gradient ("linear weight", linear_loss, &c, c.w, dw, c.out * c.in, 1000);
  check_gradient ("linear bias", linear_loss, &c, c.b, db, c.out, 1000);
  g_free (c.x);
  g_free (c.w);
  g_free (c.b);
  g_free (c.y);
  g_free (c.r);
}

/* ---- dropout -------------------------------------------------------------- */

typedef struct
{
  gsize n;
  float *x, *mask, *y, *r;
} DropoutCase;

static double
dropout_loss (gpointer data)
{
  DropoutCase *c = data;

  mel_dropout_forward (c->y, c->x, c->mask, c->n);
  return dot (c->y, c->r, c->n);
}

static void
test_dropout (void)
{
  DropoutCase c = { 200 };
  MelRng rng;
  g_autofree float *dx = g_new0 (float, c.n);
  gsize dropped = 0;

  mel_rng_init (&rng, 3);
  c.x = random_floats (&rng, c.n, 1.0f);
  c.mask = g_new (float, c.n);
  mel_dropout_mask (c.mask, c.n, 0.25f, &rng);
  for (gsize i = 0; i < c.n; i++)
    {
      g_assert_true (c.mask[i] == 0.0f || fabsf (c.mask[i] - 1.0f / 0.75f) < 1e-6f);
      dropped += c.mask[i] == 0.0f;
    }
  /* 200 draws at p = 0.25: 50 ± 6.1 expected; ±5σ can only fail for a bug. */
  g_assert_cmpuint (dropped, >, 19);
  g_assert_cmpuint (dropped, <, 81);
  c.y = g_new (float, c.n);
  c.r = random_floats (&rng, c.n, 1.0f);
  mel_dropout_backward (dx, c.r, c.mask, c.n);
  check_gradient ("dropout input", dropout_loss, &c, c.x, dx, c.n, 1000);
  g_free (c.x);
  g_free (c.mask);
  g_free (c.y);
  g_free (c.r);
}

/* ---- layer norm ----------------------------------------------------------- */

typedef struct
{
  gsize n, c;
  float *x, *w, *b, *y, *mean, *rstd, *r;
} LayerNormCase;

static double
layernorm_loss (gpointer data)
{
  LayerNormCase *c = data;

  mel_layernorm_forward (c->y, c->mean, c->rstd, c->x, c->w, c->b, c->n, c->c);
  return dot (c->y, c->r, c->n * c->c);
}

static void
check_layernorm (gsize rows, gsize width)
{
  LayerNormCase c = { rows, width };
  MelRng rng;
  g_autofree float *dx = NULL, *dw = NULL, *db = NULL;

  mel_rng_init (&rng, 4 + width);
  c.x = random_floats (&rng, c.n * c.c, 2.0f);
  c.w = random_floats (&rng, c.c, 1.0f);
  c.b = random_floats (&rng, c.c, 1.0f);
  c.y = g_new (float, c.n * c.c);
  c.mean = g_new (float, c.n);
  c.rstd = g_new (float, c.n);
  c.r = random_floats (&rng, c.n * c.c, 1.0f);
  dx = g_new0 (float, c.n * c.c);
  dw = g_new0 (float, c.c);
  db = g_new0 (float, c.c);
  layernorm_loss (&c);
  mel_layernorm_backward (dx, dw, db, c.r, c.x, c.w, c.mean, c.rstd, c.n, c.c);
  check_gradient ("layernorm input", layernorm_loss, &c, c.x, dx, c.n * c.c, 1000);
  check_gradient ("layernorm weight", layernorm_loss, &c, c.w, dw, c.c, 1000);
  check_gradient ("layernorm bias", layernorm_loss, &c, c.b, db, c.c, 1000);
  /* Normalised rows: mean 0, variance 1 before the affine part. */
  for (gsize i = 0; i < c.n; i++)
    g_assert_cmpfloat (c.rstd[i], >, 0.0f);
  g_free (c.x);
  g_free (c.w);
  g_free (c.b);
  g_free (c.y);
  g_free (c.mean);
  g_free (c.rstd);
  g_free (c.r);
}

/* Widths that are, are not, and are less than a multiple of the 8 lanes
 * of the vector code. */
static void
test_layernorm (void)
{
  check_layernorm (4, 8);
  check_layernorm (3, 13);
  check_layernorm (2, 3);
  check_layernorm (2, 24);
}

/* ---- softmax cross-entropy ------------------------------------------------ */

typedef struct
{
  gsize n, v;
  float *logits;
  gint32 *targets;
} XentCase;

static double
xent_loss (gpointer data)
{
  XentCase *c = data;

  return mel_cross_entropy_forward (c->logits, c->targets, c->n, c->v, NULL);
}

static void
test_cross_entropy (void)
{
  XentCase c = { 6, 7 };
  MelRng rng;
  gint32 targets[6] = { 0, 6, 3, -1, 2, 2 };
  g_autofree float *dlogits = NULL;
  gsize counted = 0;
  float probs[7];
  float huge[3] = { 1e30f, -1e30f, 80.0f };
  double loss;

  mel_rng_init (&rng, 5);
  c.logits = random_floats (&rng, c.n * c.v, 3.0f);
  c.targets = targets;
  dlogits = g_new0 (float, c.n * c.v);
  mel_cross_entropy_backward (dlogits, c.logits, c.targets, c.n, c.v, 1.0f);
  check_gradient ("cross-entropy logits", xent_loss, &c, c.logits, dlogits, c.n * c.v, 1000);
  mel_cross_entropy_forward (c.logits, c.targets, c.n, c.v, &counted);
  g_assert_cmpuint (counted, ==, 5);
  /* The ignored row gets no gradient. */
  for (gsize j = 0; j < c.v; j++)
    g_assert_cmpfloat (dlogits[3 * c.v + j], ==, 0.0f);
  /* Uniform logits cost ln V. */
  memset (c.logits, 0, c.n * c.v * sizeof (float));
  loss = mel_cross_entropy_forward (c.logits, c.targets, 1, c.v, NULL);
  g_assert_cmpfloat_with_epsilon (loss, log (7.0), 1e-9);
  /* Extreme logits: no NaN or infinity, thanks to max subtraction. */
  mel_softmax (probs, huge, 3, 1.0f);
  g_assert_cmpfloat_with_epsilon (probs[0], 1.0, 1e-7);
  g_assert_cmpfloat (probs[1], ==, 0.0f);
  loss = mel_cross_entropy_forward (huge, (gint32[]) { 2 }, 1, 3, NULL);
  g_assert_true (isfinite (loss));
  mel_softmax (probs, c.logits, 7, 0.5f);
  for (int j = 0; j < 7; j++)
    g_assert_cmpfloat_with_epsilon (probs[j], 1.0 / 7.0, 1e-7);
  g_free (c.logits);
}

/* ---- GRU ------------------------------------------------------------------ */

/* Two stacked GRU layers: layer 0 in table mode (embedding → table), layer
 * 1 on layer 0's outputs, with a given initial state h0 for layer 1. */
typedef struct
{
  gsize v, e, h, steps, batch;
  gint32 *ids;
  float *params, *grads;
  float *emb, *demb;
  MelGruTensors p[2], g[2];
  float *table, *dtable;
  float *h0, *dh0;
  float *r;
  MelGruLayer layers[2];
  gboolean use_h0;
} GruCase;

static double
gru_loss (gpointer data)
{
  GruCase *c = data;
  const float *y0, *y1;

  mel_gru_input_table (c->table, c->emb, c->v, c->e, &c->p[0], c->h);
  y0 = mel_gru_forward_table (&c->layers[0], c->table, c->ids, NULL, c->steps, c->batch);
  y1 = mel_gru_forward (&c->layers[1], y0, c->use_h0 ? c->h0 : NULL, c->steps, c->batch);
  /* Both layers' outputs enter the loss, so layer 0 gets two gradients. */
  return dot (y1, c->r, c->steps * c->batch * c->h)
         + 0.5 * dot (y0, c->r, c->steps * c->batch * c->h);
}

static void
gru_case_run (gboolean use_h0)
{
  GruCase c = { 6, 3, 5, 4, 3 };
  MelRng rng;
  gsize n0 = mel_gru_n_params (c.e, c.h), n1 = mel_gru_n_params (c.h, c.h);
  gsize rows = c.steps * c.batch;
  g_autofree float *dy0 = NULL;
  g_autofree float *half_r = NULL;

  c.use_h0 = use_h0;
  mel_rng_init (&rng, 6);
  c.ids = g_new (gint32, rows);
  for (gsize i = 0; i < rows; i++)
    c.ids[i] = (gint32) (mel_rng_next (&rng) % c.v);
  c.params = g_new (float, n0 + n1);
  c.grads = g_new0 (float, n0 + n1);
  mel_gru_bind (&c.p[1], mel_gru_bind (&c.p[0], c.params, c.e, c.h), c.h, c.h);
  mel_gru_bind (&c.g[1], mel_gru_bind (&c.g[0], c.grads, c.e, c.h), c.h, c.h);
  /* Larger than the default init so that the gates are not all ~linear. */
  mel_rng_fill_uniform (&rng, c.params, n0 + n1, 0.8f);
  c.emb = random_floats (&rng, c.v * c.e, 1.0f);
  c.demb = g_new0 (float, c.v * c.e);
  c.table = g_new (float, c.v * 3 * c.h);
  c.dtable = g_new0 (float, c.v * 3 * c.h);
  c.h0 = random_floats (&rng, c.batch * c.h, 0.8f);
  c.dh0 = g_new0 (float, c.batch * c.h);
  c.r = random_floats (&rng, rows * c.h, 1.0f);
  mel_gru_layer_init (&c.layers[0], c.e, c.h, &c.p[0], &c.g[0]);
  mel_gru_layer_init (&c.layers[1], c.h, c.h, &c.p[1], &c.g[1]);

  gru_loss (&c);
  dy0 = g_new (float, rows * c.h);
  half_r = g_new (float, rows * c.h);
  for (gsize i = 0; i < rows * c.h; i++)
    dy0[i] = half_r[i] = 0.5f * c.r[i];
  mel_gru_backward (&c.layers[1], c.r, dy0, NULL, use_h0 ? c.dh0 : NULL);
  mel_gru_backward (&c.layers[0], dy0, NULL, c.dtable, NULL);
  mel_gru_input_table_backward (&c.g[0], c.demb, c.dtable, c.emb, &c.p[0], c.v, c.e, c.h);

  check_gradient ("gru embedding (via table)", gru_loss, &c, c.emb, c.demb, c.v * c.e, 200);
  check_gradient ("gru layer 0 w_ih (via table)", gru_loss, &c, c.p[0].w_ih, c.g[0].w_ih,
                  3 * c.h * c.e, 200);
  check_gradient ("gru layer 0 w_hh", gru_loss, &c, c.p[0].w_hh, c.g[0].w_hh, 3 * c.h * c.h, 200);
  check_gradient ("gru layer 0 b_ih (via table)", gru_loss, &c, c.p[0].b_ih, c.g[0].b_ih,
                  3 * c.h, 200);
  check_gradient ("gru layer 0 b_hh", gru_loss, &c, c.p[0].b_hh, c.g[0].b_hh, 3 * c.h, 200);
  check_gradient ("gru layer 1 w_ih", gru_loss, &c, c.p[1].w_ih, c.g[1].w_ih, 3 * c.h * c.h, 200);
  check_gradient ("gru layer 1 w_hh", gru_loss, &c, c.p[1].w_hh, c.g[1].w_hh, 3 * c.h * c.h, 200);
  check_gradient ("gru layer 1 b_ih", gru_loss, &c, c.p[1].b_ih, c.g[1].b_ih, 3 * c.h, 200);
  check_gradient ("gru layer 1 b_hh", gru_loss, &c, c.p[1].b_hh, c.g[1].b_hh, 3 * c.h, 200);
  if (use_h0)
    check_gradient ("gru layer 1 h0", gru_loss, &c, c.h0, c.dh0, c.batch * c.h, 200);

  /* One step at a time reproduces the sequence (batch row 0, layer 0). */
  {
    float hstate[5] = { 0 };
    float scratch[20];
    const float *y0;

    gru_loss (&c);
    y0 = c.layers[0].h + c.batch * c.h;
    for (gsize t = 0; t < c.steps; t++)
      {
        mel_gru_step (&c.p[0], c.h, c.table + (gsize) c.ids[t * c.batch] * 3 * c.h, hstate,
                      scratch);
        for (gsize j = 0; j < c.h; j++)
          g_assert_cmpfloat_with_epsilon (hstate[j], y0[(t * c.batch) * c.h + j], 1e-6);
      }
  }

  for (int l = 0; l < 2; l++)
    mel_gru_layer_clear (&c.layers[l]);
  g_free (c.ids);
  g_free (c.params);
  g_free (c.grads);
  g_free (c.emb);
  g_free (c.demb);
  g_free (c.table);
  g_free (c.dtable);
  g_free (c.h0);
  g_free (c.dh0);
  g_free (c.r);
}

static void
test_gru (void)
{
  gru_case_run (FALSE);
}

static void
test_gru_h0 (void)
{
  gru_case_run (TRUE);
}

/* The same checks on the portable kernels (the AVX2+FMA ones are chosen
 * at run time when the CPU has them; MELODIST_NO_AVX2 turns them off and is
 * read once per process, hence the subprocess). */
static void
test_gru_generic (void)
{
  if (g_test_subprocess ())
    {
      gru_case_run (TRUE);
      return;
    }
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
}

/* ---- workers and RNG ------------------------------------------------------ */

static void
count_index (gpointer data, guint index, guint n)
{
  gint *counts = data;

  g_atomic_int_add (&counts[index], 1);
  g_assert_cmpuint (n, ==, 3);
}

static void
test_workers (void)
{
  g_autoptr(MelWorkers) workers = mel_workers_new (3);
  gint counts[3] = { 0 };

  for (int i = 0; i < 100; i++)
    mel_workers_run (workers, count_index, counts);
  for (int i = 0; i < 3; i++)
    g_assert_cmpint (counts[i], ==, 100);
}

static void
test_rng (void)
{
  MelRng a, b;
  double sum = 0.0, sum2 = 0.0;

  mel_rng_init (&a, 42);
  mel_rng_init (&b, 42);
  for (int i = 0; i < 1000; i++)
    g_assert_cmpuint (mel_rng_next (&a), ==, mel_rng_next (&b));
  g_assert_cmpuint (mel_rng_mix (1, 2, 3, 4), !=, mel_rng_mix (1, 2, 3, 5));
  for (int i = 0; i < 20000; i++)
    {
      float u = mel_rng_uniform (&a), x = mel_rng_normal (&a);

      g_assert_true (u >= 0.0f && u < 1.0f);
      sum += x;
      sum2 += (double) x * x;
    }
  /* Mean 0 ± 0.007 (1σ), variance 1 ± 0.01: bounds at ~5σ. */
  g_assert_cmpfloat (fabs (sum / 20000), <, 0.04);
  g_assert_cmpfloat (fabs (sum2 / 20000 - 1.0), <, 0.06);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  if (g_test_subprocess ())
    g_setenv ("MELODIST_NO_AVX2", "1", TRUE);
  mel_blas_init ();

  g_test_add_func ("/mel/layers/embedding", test_embedding);
  g_test_add_func ("/mel/layers/linear", test_linear);
  g_test_add_func ("/mel/layers/dropout", test_dropout);
  g_test_add_func ("/mel/layers/layernorm", test_layernorm);
  g_test_add_func ("/mel/layers/cross-entropy", test_cross_entropy);
  g_test_add_func ("/mel/layers/gru", test_gru);
  g_test_add_func ("/mel/layers/gru-h0", test_gru_h0);
  g_test_add_func ("/mel/layers/gru-generic", test_gru_generic);
  g_test_add_func ("/mel/layers/workers", test_workers);
  g_test_add_func ("/mel/layers/rng", test_rng);
  return g_test_run ();
}
