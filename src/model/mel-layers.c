/* mel-layers.c — forward and backward of the layers (see mel-layers.h).
 *
 * SPDX-License-Identifier: MIT
 */
#include "mel-layers.h"

#include <math.h>
#include <string.h>

#include "mel-blas.h"
#include "mel-simd-private.h"

/* ---- RNG ---------------------------------------------------------------- */

static inline guint64
rotl (guint64 x, int k)
{
  return (x << k) | (x >> (64 - k));
}

static inline guint64
splitmix64 (guint64 *state)
{
  guint64 z = (*state += G_GUINT64_CONSTANT (0x9e3779b97f4a7c15));

  z = (z ^ (z >> 30)) * G_GUINT64_CONSTANT (0xbf58476d1ce4e5b9);
  z = (z ^ (z >> 27)) * G_GUINT64_CONSTANT (0x94d049bb133111eb);
  return z ^ (z >> 31);
}

void
mel_rng_init (MelRng *rng, guint64 seed)
{
  guint64 state = seed;

  for (int i = 0; i < 4; i++)
    rng->s[i] = splitmix64 (&state);
}

guint64
mel_rng_mix (guint64 seed, guint64 a, guint64 b, guint64 c)
{
  guint64 state = seed;
  guint64 h = splitmix64 (&state);

  state = h ^ a;
  h = splitmix64 (&state);
  state = h ^ b;
  h = splitmix64 (&state);
  state = h ^ c;
  return splitmix64 (&state);
}

guint64
mel_rng_next (MelRng *rng)
{
  guint64 *s = rng->s;
  guint64 result = rotl (s[1] * 5, 7) * 9;
  guint64 t = s[1] << 17;

  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = rotl (s[3], 45);
  return result;
}

float
mel_rng_uniform (MelRng *rng)
{
  /* 24 random bits: every value is exactly representable, 1.0 excluded. */
  return (float) (mel_rng_next (rng) >> 40) * (1.0f / 16777216.0f);
}

float
mel_rng_normal (MelRng *rng)
{
  double u1 = ((double) (mel_rng_next (rng) >> 11) + 1.0) * (1.0 / 9007199254740992.0);
  double u2 = (double) (mel_rng_next (rng) >> 11) * (1.0 / 9007199254740992.0);

  return (float) (sqrt (-2.0 * log (u1)) * cos (2.0 * G_PI * u2));
}

void
mel_rng_fill_uniform (MelRng *rng, float *x, gsize n, float bound)
{
  for (gsize i = 0; i < n; i++)
    x[i] = (2.0f * mel_rng_uniform (rng) - 1.0f) * bound;
}

void
mel_rng_fill_normal (MelRng *rng, float *x, gsize n, float stddev)
{
  for (gsize i = 0; i < n; i++)
    x[i] = mel_rng_normal (rng) * stddev;
}

/* ---- embedding ---------------------------------------------------------- */

void
mel_embedding_forward (float *out, const gint32 *ids, const float *table, gsize n, gsize dim)
{
  for (gsize i = 0; i < n; i++)
    memcpy (out + i * dim, table + (gsize) ids[i] * dim, dim * sizeof (float));
}

void
mel_embedding_backward (float *dtable, const float *dout, const gint32 *ids, gsize n, gsize dim)
{
  for (gsize i = 0; i < n; i++)
    {
      float *restrict row = dtable + (gsize) ids[i] * dim;
      const float *restrict d = dout + i * dim;

      for (gsize j = 0; j < dim; j++)
        row[j] += d[j];
    }
}

/* ---- linear ------------------------------------------------------------- */

typedef struct
{
  float *sums;
  const float *x;
  gsize n, dim;
} ColumnSumArgs;

/* sums[j] += Σ_i x[i][j] (the bias gradients of every linear layer, over
 * the 4096 rows of a batch): row by row, so the matrix streams once, and
 * 8 columns per vector add on sums that stay in L1. */
MEL_ALWAYS_INLINE void
column_sums_body (const ColumnSumArgs *a)
{
  gsize dim = a->dim, d8 = dim & ~(gsize) 7;

  for (gsize i = 0; i < a->n; i++)
    {
      const float *row = a->x + i * dim;
      gsize j = 0;

      for (; j < d8; j += 8)
        {
          MelV8f acc, r;

          mel_v_load (&acc, a->sums + j);
          mel_v_load (&r, row + j);
          acc += r;
          mel_v_store (a->sums + j, &acc);
        }
      for (; j < dim; j++)
        a->sums[j] += row[j];
    }
}

MEL_DEFINE_DISPATCH (column_sums, const ColumnSumArgs *, column_sums_body)

static void
add_column_sums (float *sums, const float *x, gsize n, gsize dim)
{
  ColumnSumArgs args = { sums, x, n, dim };

  column_sums (&args);
}

void
mel_linear_forward (float *out, const float *in, const float *w, const float *b, gsize n,
                    gsize in_dim, gsize out_dim)
{
  if (b != NULL)
    for (gsize i = 0; i < n; i++)
      memcpy (out + i * out_dim, b, out_dim * sizeof (float));
  mel_sgemm (FALSE, TRUE, n, out_dim, in_dim, 1.0f, in, in_dim, w, in_dim, b != NULL ? 1.0f : 0.0f,
             out, out_dim);
}

void
mel_linear_backward (float *din, float *dw, float *db, const float *dout, const float *in,
                     const float *w, gsize n, gsize in_dim, gsize out_dim)
{
  if (din != NULL)
    mel_sgemm (FALSE, FALSE, n, in_dim, out_dim, 1.0f, dout, out_dim, w, in_dim, 1.0f, din,
               in_dim);
  mel_sgemm (TRUE, FALSE, out_dim, in_dim, n, 1.0f, dout, out_dim, in, in_dim, 1.0f, dw, in_dim);
  if (db != NULL)
    add_column_sums (db, dout, n, out_dim);
}

/* ---- dropout ------------------------------------------------------------ */

void
mel_dropout_mask (float *mask, gsize n, float p, MelRng *rng)
{
  float keep = p < 1.0f ? 1.0f / (1.0f - p) : 0.0f;

  for (gsize i = 0; i < n; i++)
    mask[i] = mel_rng_uniform (rng) < p ? 0.0f : keep;
}

void
mel_dropout_forward (float *out, const float *in, const float *mask, gsize n)
{
  for (gsize i = 0; i < n; i++)
    out[i] = in[i] * mask[i];
}

void
mel_dropout_backward (float *din, const float *dout, const float *mask, gsize n)
{
  for (gsize i = 0; i < n; i++)
    din[i] += dout[i] * mask[i];
}

/* ---- layer norm --------------------------------------------------------- */

#define LAYERNORM_EPS 1e-5f

/* Layer norm works on rows of c floats, 8 lanes at a time with the rest
 * scalar; sums go through 8 partial sums, so the summation order differs
 * from a plain loop by rounding only. */
typedef struct
{
  gsize n, c;
  float *out, *mean, *rstd, *din, *dw, *db;
  const float *in, *w, *b, *dout;
  const float *saved_mean, *saved_rstd; /* backward: from the forward */
} LayerNormArgs;

MEL_ALWAYS_INLINE void
layernorm_forward_body (const LayerNormArgs *a)
{
  gsize c = a->c, c8 = c & ~(gsize) 7;

  for (gsize i = 0; i < a->n; i++)
    {
      const float *x = a->in + i * c;
      float *y = a->out + i * c;
      MelV8f acc = { 0 }, xv, wv, bv, mv, sv;
      float m, v, s;
      gsize j;

      for (j = 0; j < c8; j += 8)
        {
          mel_v_load (&xv, x + j);
          acc += xv;
        }
      m = mel_v_hsum (&acc);
      for (; j < c; j++)
        m += x[j];
      m /= (float) c;
      mv = MEL_V_SPLAT (m);
      acc = (MelV8f) { 0 };
      for (j = 0; j < c8; j += 8)
        {
          mel_v_load (&xv, x + j);
          xv -= mv;
          acc += xv * xv;
        }
      v = mel_v_hsum (&acc);
      for (; j < c; j++)
        v += (x[j] - m) * (x[j] - m);
      v /= (float) c;
      s = 1.0f / sqrtf (v + LAYERNORM_EPS);
      sv = MEL_V_SPLAT (s);
      for (j = 0; j < c8; j += 8)
        {
          mel_v_load (&xv, x + j);
          mel_v_load (&wv, a->w + j);
          mel_v_load (&bv, a->b + j);
          xv = (xv - mv) * sv * wv + bv;
          mel_v_store (y + j, &xv);
        }
      for (; j < c; j++)
        y[j] = (x[j] - m) * s * a->w[j] + a->b[j];
      a->mean[i] = m;
      a->rstd[i] = s;
    }
}

MEL_ALWAYS_INLINE void
layernorm_backward_body (const LayerNormArgs *a)
{
  gsize c = a->c, c8 = c & ~(gsize) 7;

  for (gsize i = 0; i < a->n; i++)
    {
      const float *x = a->in + i * c;
      const float *dy = a->dout + i * c;
      float *dx = a->din + i * c;
      float m = a->saved_mean[i], r = a->saved_rstd[i];
      MelV8f acc_d = { 0 }, acc_dn = { 0 }, mv = MEL_V_SPLAT (m), rv = MEL_V_SPLAT (r);
      MelV8f xv, dyv, wv, norm, dnorm, t;
      float mean_dnorm, mean_dnorm_norm;
      gsize j;

      for (j = 0; j < c8; j += 8)
        {
          mel_v_load (&xv, x + j);
          mel_v_load (&dyv, dy + j);
          mel_v_load (&wv, a->w + j);
          norm = (xv - mv) * rv;
          dnorm = wv * dyv;
          acc_d += dnorm;
          acc_dn += dnorm * norm;
        }
      mean_dnorm = mel_v_hsum (&acc_d);
      mean_dnorm_norm = mel_v_hsum (&acc_dn);
      for (; j < c; j++)
        {
          float nj = (x[j] - m) * r, dj = a->w[j] * dy[j];

          mean_dnorm += dj;
          mean_dnorm_norm += dj * nj;
        }
      mean_dnorm /= (float) c;
      mean_dnorm_norm /= (float) c;
      {
        MelV8f md = MEL_V_SPLAT (mean_dnorm), mdn = MEL_V_SPLAT (mean_dnorm_norm);

        for (j = 0; j < c8; j += 8)
          {
            mel_v_load (&xv, x + j);
            mel_v_load (&dyv, dy + j);
            mel_v_load (&wv, a->w + j);
            norm = (xv - mv) * rv;
            dnorm = wv * dyv;
            mel_v_load (&t, a->db + j);
            t += dyv;
            mel_v_store (a->db + j, &t);
            mel_v_load (&t, a->dw + j);
            t += norm * dyv;
            mel_v_store (a->dw + j, &t);
            mel_v_load (&t, dx + j);
            t += (dnorm - md - norm * mdn) * rv;
            mel_v_store (dx + j, &t);
          }
      }
      for (; j < c; j++)
        {
          float nj = (x[j] - m) * r, dj = a->w[j] * dy[j];

          a->db[j] += dy[j];
          a->dw[j] += nj * dy[j];
          dx[j] += (dj - mean_dnorm - nj * mean_dnorm_norm) * r;
        }
    }
}

MEL_DEFINE_DISPATCH (layernorm_forward, const LayerNormArgs *, layernorm_forward_body)
MEL_DEFINE_DISPATCH (layernorm_backward, const LayerNormArgs *, layernorm_backward_body)

void
mel_layernorm_forward (float *out, float *mean, float *rstd, const float *in, const float *w,
                       const float *b, gsize n, gsize c)
{
  LayerNormArgs args = { .n = n, .c = c, .out = out, .mean = mean, .rstd = rstd, .in = in,
                         .w = w, .b = b };

  layernorm_forward (&args);
}

void
mel_layernorm_backward (float *din, float *dw, float *db, const float *dout, const float *in,
                        const float *w, const float *mean, const float *rstd, gsize n, gsize c)
{
  LayerNormArgs args = { .n = n, .c = c, .din = din, .dw = dw, .db = db, .dout = dout,
                         .in = in, .w = w, .saved_mean = mean, .saved_rstd = rstd };

  layernorm_backward (&args);
}

/* ---- softmax and cross-entropy ------------------------------------------ */

void
mel_softmax (float *out, const float *logits, gsize v, float temperature)
{
  float max = -INFINITY, sum = 0.0f, inv_t = 1.0f / temperature;

  for (gsize j = 0; j < v; j++)
    max = MAX (max, logits[j]);
  for (gsize j = 0; j < v; j++)
    {
      out[j] = expf ((logits[j] - max) * inv_t);
      sum += out[j];
    }
  for (gsize j = 0; j < v; j++)
    out[j] /= sum;
}

/* log Σ exp(x − max) + max: the exponentials in float (all ≤ 1, so none
 * overflows), their sum and the logarithm in double. */
static double
log_sum_exp (const float *x, gsize v)
{
  float max = -INFINITY;
  double sum = 0.0;

  for (gsize j = 0; j < v; j++)
    max = MAX (max, x[j]);
  for (gsize j = 0; j < v; j++)
    sum += expf (x[j] - max);
  return log (sum) + max;
}

double
mel_cross_entropy_forward (const float *logits, const gint32 *targets, gsize n, gsize v,
                           gsize *n_counted)
{
  double loss = 0.0;
  gsize counted = 0;

  for (gsize i = 0; i < n; i++)
    {
      const float *row = logits + i * v;

      if (targets[i] < 0)
        continue;
      loss += log_sum_exp (row, v) - row[targets[i]];
      counted++;
    }
  if (n_counted != NULL)
    *n_counted = counted;
  return loss;
}

void
mel_cross_entropy_backward (float *dlogits, const float *logits, const gint32 *targets, gsize n,
                            gsize v, float scale)
{
  g_autofree float *probs = g_new (float, v);

  for (gsize i = 0; i < n; i++)
    {
      float *drow = dlogits + i * v;

      if (targets[i] < 0)
        continue;
      mel_softmax (probs, logits + i * v, v, 1.0f);
      for (gsize j = 0; j < v; j++)
        drow[j] += scale * probs[j];
      drow[targets[i]] -= scale;
    }
}

/* ---- GRU ---------------------------------------------------------------- */

gsize
mel_gru_n_params (gsize input_size, gsize hidden_size)
{
  return 3 * hidden_size * (input_size + hidden_size + 2);
}

float *
mel_gru_bind (MelGruTensors *t, float *base, gsize input_size, gsize hidden_size)
{
  gsize g = 3 * hidden_size;

  t->w_ih = base;
  t->w_hh = t->w_ih + g * input_size;
  t->b_ih = t->w_hh + g * hidden_size;
  t->b_hh = t->b_ih + g;
  return t->b_hh + g;
}

void
mel_gru_init_params (const MelGruTensors *t, gsize input_size, gsize hidden_size, MelRng *rng)
{
  float bound = 1.0f / sqrtf ((float) hidden_size);

  /* The tensors are adjacent (mel_gru_bind), so one fill covers them. */
  mel_rng_fill_uniform (rng, t->w_ih, mel_gru_n_params (input_size, hidden_size), bound);
}

void
mel_gru_layer_init (MelGruLayer *layer, gsize input_size, gsize hidden_size,
                    const MelGruTensors *params, const MelGruTensors *grads)
{
  memset (layer, 0, sizeof *layer);
  layer->input_size = input_size;
  layer->hidden_size = hidden_size;
  layer->params = params;
  layer->grads = grads;
}

void
mel_gru_layer_clear (MelGruLayer *layer)
{
  g_clear_pointer (&layer->h, g_free);
  g_clear_pointer (&layer->gates, g_free);
  g_clear_pointer (&layer->ghn, g_free);
  g_clear_pointer (&layer->xp, g_free);
  g_clear_pointer (&layer->dgh, g_free);
  g_clear_pointer (&layer->dhn, g_free);
  layer->capacity = 0;
  layer->batch_capacity = 0;
}

static void
gru_reserve (MelGruLayer *layer, gsize steps, gsize batch, gboolean need_xp)
{
  gsize rows = steps * batch, hs = layer->hidden_size;

  if (rows > layer->capacity || batch > layer->batch_capacity)
    {
      mel_gru_layer_clear (layer);
      layer->capacity = rows;
      layer->batch_capacity = batch;
      layer->h = g_new0 (float, (rows + batch) * hs);
      layer->gates = g_new (float, rows * 3 * hs);
      layer->ghn = g_new (float, rows * hs);
      layer->dgh = g_new (float, rows * 3 * hs);
      layer->dhn = g_new (float, batch * hs);
    }
  if (need_xp && layer->xp == NULL)
    layer->xp = g_new (float, layer->capacity * 3 * hs);
}

/* ---- gate kernels ---------------------------------------------------------
 *
 * The GRU's element-wise work is written once on 8-wide vectors (GCC/Clang
 * vector extensions) and compiled twice: for the baseline ISA and for
 * AVX2+FMA, picked at run time.  exp, σ and tanh use one polynomial exp
 * (Cephes expf: range reduction to |r| ≤ ln2/2, degree-6 polynomial,
 * relative error ≤ 2 ulp on [-87, 88], inputs clamped there) so that the
 * scalar tail, the vector body, the full forward and the sampling step all
 * compute bit-identical functions on a given machine.  tanh(x) is
 * 1 − 2/(e^{2x} + 1): absolute error ≤ 1.2e-7, saturating cleanly. */

typedef float v8f __attribute__ ((vector_size (32)));
typedef gint32 v8i __attribute__ ((vector_size (32)));

#define ALWAYS_INLINE static inline __attribute__ ((always_inline))

#define EXP_LO -87.0f
#define EXP_HI 88.0f
#define LOG2E 1.44269504088896341f
#define LN2_HI 0.693359375f
#define LN2_LO -2.12194440e-4f
#define ROUND_MAGIC 12582912.0f /* 1.5 · 2^23: adding it rounds to an integer */
#define EXP_P0 1.9875691500e-4f
#define EXP_P1 1.3981999507e-3f
#define EXP_P2 8.3334519073e-3f
#define EXP_P3 4.1665795894e-2f
#define EXP_P4 1.6666665459e-1f
#define EXP_P5 5.0000001201e-1f

ALWAYS_INLINE float
fast_expf (float x)
{
  float t, n, r, p;
  gint32 bits;

  x = x < EXP_LO ? EXP_LO : x > EXP_HI ? EXP_HI : x;
  t = x * LOG2E + ROUND_MAGIC;
  n = t - ROUND_MAGIC;
  r = x - n * LN2_HI - n * LN2_LO;
  p = ((((EXP_P0 * r + EXP_P1) * r + EXP_P2) * r + EXP_P3) * r + EXP_P4) * r + EXP_P5;
  p = p * r * r + r + 1.0f;
  memcpy (&bits, &t, sizeof bits);
  bits = (bits - 0x4B400000 + 127) << 23;
  memcpy (&t, &bits, sizeof t);
  return p * t;
}

ALWAYS_INLINE float
fast_sigmoidf (float x)
{
  return 1.0f / (1.0f + fast_expf (-x));
}

ALWAYS_INLINE float
fast_tanhf (float x)
{
  return 1.0f - 2.0f / (fast_expf (2.0f * x) + 1.0f);
}

ALWAYS_INLINE void
v_load (v8f *v, const float *p)
{
  memcpy (v, p, sizeof *v);
}

ALWAYS_INLINE void
v_store (float *p, const v8f *v)
{
  memcpy (p, v, sizeof *v);
}

ALWAYS_INLINE void
v_exp (v8f *x)
{
  const v8f lo = { EXP_LO, EXP_LO, EXP_LO, EXP_LO, EXP_LO, EXP_LO, EXP_LO, EXP_LO };
  const v8f hi = { EXP_HI, EXP_HI, EXP_HI, EXP_HI, EXP_HI, EXP_HI, EXP_HI, EXP_HI };
  v8f v = *x, t, n, r, p;
  v8i m, bits;

  m = v < lo;
  v = (v8f) (((v8i) v & ~m) | ((v8i) lo & m));
  m = v > hi;
  v = (v8f) (((v8i) v & ~m) | ((v8i) hi & m));
  t = v * LOG2E + ROUND_MAGIC;
  n = t - ROUND_MAGIC;
  r = v - n * LN2_HI - n * LN2_LO;
  p = ((((EXP_P0 * r + EXP_P1) * r + EXP_P2) * r + EXP_P3) * r + EXP_P4) * r + EXP_P5;
  p = p * r * r + r + 1.0f;
  bits = ((v8i) t - 0x4B400000 + 127) << 23;
  *x = p * (v8f) bits;
}

ALWAYS_INLINE void
v_sigmoid (v8f *x)
{
  v8f e = -*x;

  v_exp (&e);
  *x = 1.0f / (1.0f + e);
}

ALWAYS_INLINE void
v_tanh (v8f *x)
{
  v8f e = 2.0f * *x;

  v_exp (&e);
  *x = 1.0f - 2.0f / (e + 1.0f);
}

/* One row of the forward gates: @xp input projection (with b_ih), @gh
 * recurrent projection (without b_hh), @hp previous state.  Writes the new
 * state @h and, when @gates is not NULL, r, z, n and W_hn h + b_hn. */
ALWAYS_INLINE void
gates_forward_body (gsize hs, const float *xp, const float *gh, const float *b_hh,
                    const float *hp, float *h, float *gates, float *ghn_out)
{
  gsize j = 0;

  for (; j + 8 <= hs; j += 8)
    {
      v8f a, b, c, r, z, ghn, n, x, hv;

      v_load (&a, xp + j);
      v_load (&b, gh + j);
      v_load (&c, b_hh + j);
      r = a + b + c;
      v_sigmoid (&r);
      v_load (&a, xp + hs + j);
      v_load (&b, gh + hs + j);
      v_load (&c, b_hh + hs + j);
      z = a + b + c;
      v_sigmoid (&z);
      v_load (&b, gh + 2 * hs + j);
      v_load (&c, b_hh + 2 * hs + j);
      ghn = b + c;
      v_load (&a, xp + 2 * hs + j);
      n = a + r * ghn;
      v_tanh (&n);
      v_load (&x, hp + j);
      hv = n + z * (x - n);
      v_store (h + j, &hv);
      if (gates != NULL)
        {
          v_store (gates + j, &r);
          v_store (gates + hs + j, &z);
          v_store (gates + 2 * hs + j, &n);
          v_store (ghn_out + j, &ghn);
        }
    }
  for (; j < hs; j++)
    {
      float r = fast_sigmoidf (xp[j] + gh[j] + b_hh[j]);
      float z = fast_sigmoidf (xp[hs + j] + gh[hs + j] + b_hh[hs + j]);
      float ghn = gh[2 * hs + j] + b_hh[2 * hs + j];
      float n = fast_tanhf (xp[2 * hs + j] + r * ghn);

      h[j] = n + z * (hp[j] - n);
      if (gates != NULL)
        {
          gates[j] = r;
          gates[hs + j] = z;
          gates[2 * hs + j] = n;
          ghn_out[j] = ghn;
        }
    }
}

/* One row of the backward gates.  @dh_out ∂loss/∂h_t from above,
 * @dh_carry in: ∂ through h_t from step t+1, out: the direct part of
 * ∂h_{t-1} (z ⊙ ∂h_t).  Writes ∂gh (the pre-activations' gradient seen
 * by W_hh h + b_hh), adds it to @db_hh, and adds (@accumulate) or writes
 * the input projections' gradient to @dxp. */
ALWAYS_INLINE void
gates_backward_body (gsize hs, const float *gates, const float *ghn, const float *hp,
                     const float *dh_out, float *dh_carry, float *dgh, float *db_hh, float *dxp,
                     gboolean accumulate)
{
  gsize j = 0;

  for (; j + 8 <= hs; j += 8)
    {
      v8f r, z, n, gn, x, dh, c, dn, dz, dr, dgn, acc;

      v_load (&r, gates + j);
      v_load (&z, gates + hs + j);
      v_load (&n, gates + 2 * hs + j);
      v_load (&gn, ghn + j);
      v_load (&x, hp + j);
      v_load (&dh, dh_out + j);
      v_load (&c, dh_carry + j);
      dh += c;
      dn = dh * (1.0f - z) * (1.0f - n * n);
      dz = dh * (x - n) * z * (1.0f - z);
      dr = dn * gn * r * (1.0f - r);
      dgn = dn * r;
      c = dh * z;
      v_store (dh_carry + j, &c);
      v_store (dgh + j, &dr);
      v_store (dgh + hs + j, &dz);
      v_store (dgh + 2 * hs + j, &dgn);
      v_load (&acc, db_hh + j);
      acc += dr;
      v_store (db_hh + j, &acc);
      v_load (&acc, db_hh + hs + j);
      acc += dz;
      v_store (db_hh + hs + j, &acc);
      v_load (&acc, db_hh + 2 * hs + j);
      acc += dgn;
      v_store (db_hh + 2 * hs + j, &acc);
      if (accumulate)
        {
          v_load (&acc, dxp + j);
          dr += acc;
          v_load (&acc, dxp + hs + j);
          dz += acc;
          v_load (&acc, dxp + 2 * hs + j);
          dn += acc;
        }
      v_store (dxp + j, &dr);
      v_store (dxp + hs + j, &dz);
      v_store (dxp + 2 * hs + j, &dn);
    }
  for (; j < hs; j++)
    {
      float r = gates[j], z = gates[hs + j], n = gates[2 * hs + j];
      float dh = dh_out[j] + dh_carry[j];
      float dn = dh * (1.0f - z) * (1.0f - n * n);
      float dz = dh * (hp[j] - n) * z * (1.0f - z);
      float dr = dn * ghn[j] * r * (1.0f - r);

      dh_carry[j] = dh * z;
      dgh[j] = dr;
      dgh[hs + j] = dz;
      dgh[2 * hs + j] = dn * r;
      db_hh[j] += dr;
      db_hh[hs + j] += dz;
      db_hh[2 * hs + j] += dn * r;
      if (accumulate)
        {
          dxp[j] += dr;
          dxp[hs + j] += dz;
          dxp[2 * hs + j] += dn;
        }
      else
        {
          dxp[j] = dr;
          dxp[hs + j] = dz;
          dxp[2 * hs + j] = dn;
        }
    }
}

/* Whole time steps (all B rows of step t) per call, so that dispatch costs
 * nothing.  @xp_rows: table mode looks rows up by id. */
typedef struct
{
  gsize hs, batch;
  const float *table;   /* table mode, else NULL */
  const gint32 *ids;    /* [B] ids of this step (table mode) */
  const float *xp;      /* [B × 3H] (not table mode) */
  const float *gh;      /* [B × 3H] */
  const float *b_hh;
  const float *hprev;   /* [B × H] */
  float *h;             /* [B × H] */
  float *gates;         /* [B × 3H] */
  float *ghn;           /* [B × H] */
} GatesForwardArgs;

typedef struct
{
  gsize hs, batch;
  const float *gates, *ghn, *hprev, *dh_out;
  float *dh_carry, *dgh, *db_hh;
  float *dtable;        /* table mode: rows by id, accumulated */
  const gint32 *ids;
  float *dxp;           /* not table mode: [B × 3H], written */
} GatesBackwardArgs;

ALWAYS_INLINE void
step_forward_body (const GatesForwardArgs *a)
{
  gsize hs = a->hs, g = 3 * hs;

  for (gsize b = 0; b < a->batch; b++)
    {
      const float *xp = a->table != NULL ? a->table + (gsize) a->ids[b] * g : a->xp + b * g;

      gates_forward_body (hs, xp, a->gh + b * g, a->b_hh, a->hprev + b * hs, a->h + b * hs,
                          a->gates != NULL ? a->gates + b * g : NULL,
                          a->ghn != NULL ? a->ghn + b * hs : NULL);
    }
}

ALWAYS_INLINE void
step_backward_body (const GatesBackwardArgs *a)
{
  gsize hs = a->hs, g = 3 * hs;

  for (gsize b = 0; b < a->batch; b++)
    {
      gboolean table = a->dtable != NULL;
      float *dxp = table ? a->dtable + (gsize) a->ids[b] * g : a->dxp + b * g;

      gates_backward_body (hs, a->gates + b * g, a->ghn + b * hs, a->hprev + b * hs,
                           a->dh_out + b * hs, a->dh_carry + b * hs, a->dgh + b * g, a->db_hh,
                           dxp, table);
    }
}

static void
step_forward_generic (const GatesForwardArgs *a)
{
  step_forward_body (a);
}

static void
step_backward_generic (const GatesBackwardArgs *a)
{
  step_backward_body (a);
}

#if defined(__x86_64__) && defined(__GNUC__)
#define HAVE_AVX2_KERNELS 1

__attribute__ ((target ("avx2,fma"))) static void
step_forward_avx2 (const GatesForwardArgs *a)
{
  step_forward_body (a);
}

__attribute__ ((target ("avx2,fma"))) static void
step_backward_avx2 (const GatesBackwardArgs *a)
{
  step_backward_body (a);
}
#endif

static gboolean
use_avx2 (void)
{
#ifdef HAVE_AVX2_KERNELS
  static gsize answer = 0;

  if (g_once_init_enter (&answer))
    {
      gboolean yes = __builtin_cpu_supports ("avx2") && __builtin_cpu_supports ("fma")
                     && g_getenv ("MELODIST_NO_AVX2") == NULL;

      g_once_init_leave (&answer, yes ? 2 : 1);
    }
  return answer == 2;
#else
  return FALSE;
#endif
}

static void
step_forward (const GatesForwardArgs *a)
{
#ifdef HAVE_AVX2_KERNELS
  if (use_avx2 ())
    {
      step_forward_avx2 (a);
      return;
    }
#endif
  step_forward_generic (a);
}

static void
step_backward (const GatesBackwardArgs *a)
{
#ifdef HAVE_AVX2_KERNELS
  if (use_avx2 ())
    {
      step_backward_avx2 (a);
      return;
    }
#endif
  step_backward_generic (a);
}

static const float *
gru_forward_common (MelGruLayer *layer, const float *table, const float *h0, gsize steps,
                    gsize batch)
{
  gsize hs = layer->hidden_size, g = 3 * hs;
  const MelGruTensors *p = layer->params;
  float *gh = layer->dgh; /* free during forward: one [B × 3H] block per step */

  layer->has_h0 = h0 != NULL;
  if (h0 != NULL)
    memcpy (layer->h, h0, batch * hs * sizeof (float));
  else
    memset (layer->h, 0, batch * hs * sizeof (float));

  for (gsize t = 0; t < steps; t++)
    {
      const float *hprev = layer->h + t * batch * hs;
      float *hcur = layer->h + (t + 1) * batch * hs;
      float *ght = gh + t * batch * g;

      if (t == 0 && h0 == NULL)
        memset (ght, 0, batch * g * sizeof (float));
      else
        mel_sgemm (FALSE, TRUE, batch, g, hs, 1.0f, hprev, hs, p->w_hh, hs, 0.0f, ght, g);

      {
        GatesForwardArgs args = {
          .hs = hs, .batch = batch, .table = table,
          .ids = table != NULL ? layer->ids + t * batch : NULL,
          .xp = table != NULL ? NULL : layer->xp + t * batch * g,
          .gh = ght, .b_hh = p->b_hh, .hprev = hprev, .h = hcur,
          .gates = layer->gates + t * batch * g, .ghn = layer->ghn + t * batch * hs,
        };

        step_forward (&args);
      }
    }
  layer->steps = steps;
  layer->batch = batch;
  return layer->h + batch * hs;
}

const float *
mel_gru_forward (MelGruLayer *layer, const float *x, const float *h0, gsize steps, gsize batch)
{
  gsize rows = steps * batch, g = 3 * layer->hidden_size;

  gru_reserve (layer, steps, batch, TRUE);
  layer->x = x;
  layer->ids = NULL;
  /* All steps' input projections in one GEMM. */
  mel_linear_forward (layer->xp, x, layer->params->w_ih, layer->params->b_ih, rows,
                      layer->input_size, g);
  return gru_forward_common (layer, NULL, h0, steps, batch);
}

const float *
mel_gru_forward_table (MelGruLayer *layer, const float *table, const gint32 *ids, const float *h0,
                       gsize steps, gsize batch)
{
  gru_reserve (layer, steps, batch, FALSE);
  layer->x = NULL;
  layer->ids = ids;
  return gru_forward_common (layer, table, h0, steps, batch);
}

void
mel_gru_backward (MelGruLayer *layer, const float *dout, float *dx, float *dtable, float *dh0)
{
  gsize hs = layer->hidden_size, g = 3 * hs;
  gsize steps = layer->steps, batch = layer->batch, rows = steps * batch;
  const MelGruTensors *p = layer->params;
  const MelGruTensors *gr = layer->grads;
  gboolean table_mode = layer->ids != NULL;
  float *dhn = layer->dhn;
  float *dxp = table_mode ? NULL : layer->xp; /* projections are not needed any more */

  g_return_if_fail (table_mode ? dtable != NULL : layer->x != NULL);

  memset (dhn, 0, batch * hs * sizeof (float));
  for (gsize t = steps; t-- > 0;)
    {
      const float *hprev = layer->h + t * batch * hs;

      GatesBackwardArgs args = {
        .hs = hs, .batch = batch,
        .gates = layer->gates + t * batch * g, .ghn = layer->ghn + t * batch * hs,
        .hprev = hprev, .dh_out = dout + t * batch * hs, .dh_carry = dhn,
        .dgh = layer->dgh + t * batch * g, .db_hh = gr->b_hh,
        .dtable = table_mode ? dtable : NULL, .ids = table_mode ? layer->ids + t * batch : NULL,
        .dxp = table_mode ? NULL : dxp + t * batch * g,
      };

      step_backward (&args);
      /* ∂h_{t-1} += ∂gh_t · W_hh; the direct part is already in dhn. */
      if (t > 0 || dh0 != NULL)
        mel_sgemm (FALSE, FALSE, batch, hs, g, 1.0f, layer->dgh + t * batch * g, g, p->w_hh, hs,
                   1.0f, dhn, hs);
    }
  if (dh0 != NULL)
    for (gsize i = 0; i < batch * hs; i++)
      dh0[i] += dhn[i];

  /* dW_hh += Σ_t ∂gh_tᵀ · h_{t-1}, one GEMM over all steps (step 0 only
   * contributes when h0 is not zero). */
  {
    gsize skip = layer->has_h0 ? 0 : batch;

    mel_sgemm (TRUE, FALSE, g, hs, rows - skip, 1.0f, layer->dgh + skip * g, g,
               layer->h + skip * hs, hs, 1.0f, gr->w_hh, hs);
  }
  if (!table_mode)
    {
      mel_sgemm (TRUE, FALSE, g, layer->input_size, rows, 1.0f, dxp, g, layer->x,
                 layer->input_size, 1.0f, gr->w_ih, layer->input_size);
      add_column_sums (gr->b_ih, dxp, rows, g);
      if (dx != NULL)
        mel_sgemm (FALSE, FALSE, rows, layer->input_size, g, 1.0f, dxp, g, p->w_ih,
                   layer->input_size, 1.0f, dx, layer->input_size);
    }
}

void
mel_gru_input_table (float *table, const float *emb, gsize vocab, gsize embed_dim,
                     const MelGruTensors *params, gsize hidden_size)
{
  mel_linear_forward (table, emb, params->w_ih, params->b_ih, vocab, embed_dim, 3 * hidden_size);
}

void
mel_gru_input_table_backward (const MelGruTensors *grads, float *demb, const float *dtable,
                              const float *emb, const MelGruTensors *params, gsize vocab,
                              gsize embed_dim, gsize hidden_size)
{
  mel_linear_backward (demb, grads->w_ih, grads->b_ih, dtable, emb, params->w_ih, vocab,
                       embed_dim, 3 * hidden_size);
}

void
mel_gru_step (const MelGruTensors *params, gsize hidden_size, const float *xp, float *h,
              float *scratch)
{
  gsize hs = hidden_size;
  float *h_new = scratch + 3 * hs;
  GatesForwardArgs args = {
    .hs = hs, .batch = 1, .xp = xp, .gh = scratch, .b_hh = params->b_hh, .hprev = h,
    .h = h_new,
  };

  mel_sgemv (FALSE, 3 * hs, hs, 1.0f, params->w_hh, hs, h, 0.0f, scratch);
  step_forward (&args);
  memcpy (h, h_new, hs * sizeof (float));
}
