/* mel-lstm.c — LSTM layer forward, backward through time and step.
 *
 * Per time step the only GEMM is the recurrent one (B × 4H × H), run by
 * our own kernel on W_hh packed once per pass; the input projections of all
 * steps are one GEMM before the loop (or a table lookup in table mode), and
 * the gradients of W_hh and W_ih are one BLAS GEMM each after the backward
 * loop.  The element-wise gate work is fused into one pass per row on
 * 8-wide vectors, compiled for the baseline ISA and for AVX2+FMA and picked
 * at run time (as the GRU in mel-layers.c).
 *
 * SPDX-License-Identifier: MIT
 */
#include "mel-lstm.h"

#include <math.h>
#include <string.h>

#include "mel-blas.h"
#include "mel-simd-private.h"

gboolean
_mel_simd_use_avx2 (void)
{
#if defined(__x86_64__) && defined(__GNUC__)
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

typedef struct
{
  gsize m, n, lda;
  const float *a, *x;
  float *y;
} MatvecArgs;

MEL_ALWAYS_INLINE void
matvec_body (const MatvecArgs *p)
{
  gsize n = p->n, lda = p->lda, i = 0, n8 = n & ~(gsize) 7;

  for (; i + 4 <= p->m; i += 4)
    {
      const float *r0 = p->a + i * lda, *r1 = r0 + lda, *r2 = r1 + lda, *r3 = r2 + lda;
      MelV8f s0 = { 0 }, s1 = { 0 }, s2 = { 0 }, s3 = { 0 }, xv, av;
      float t0, t1, t2, t3;

      for (gsize j = 0; j < n8; j += 8)
        {
          mel_v_load (&xv, p->x + j);
          mel_v_load (&av, r0 + j);
          s0 += av * xv;
          mel_v_load (&av, r1 + j);
          s1 += av * xv;
          mel_v_load (&av, r2 + j);
          s2 += av * xv;
          mel_v_load (&av, r3 + j);
          s3 += av * xv;
        }
      t0 = mel_v_hsum (&s0);
      t1 = mel_v_hsum (&s1);
      t2 = mel_v_hsum (&s2);
      t3 = mel_v_hsum (&s3);
      for (gsize j = n8; j < n; j++)
        {
          t0 += r0[j] * p->x[j];
          t1 += r1[j] * p->x[j];
          t2 += r2[j] * p->x[j];
          t3 += r3[j] * p->x[j];
        }
      p->y[i] += t0;
      p->y[i + 1] += t1;
      p->y[i + 2] += t2;
      p->y[i + 3] += t3;
    }
  for (; i < p->m; i++)
    {
      const float *r = p->a + i * lda;
      MelV8f s = { 0 }, xv, av;
      float t;

      for (gsize j = 0; j < n8; j += 8)
        {
          mel_v_load (&xv, p->x + j);
          mel_v_load (&av, r + j);
          s += av * xv;
        }
      t = mel_v_hsum (&s);
      for (gsize j = n8; j < n; j++)
        t += r[j] * p->x[j];
      p->y[i] += t;
    }
}

MEL_DEFINE_DISPATCH (matvec, const MatvecArgs *, matvec_body)

void
_mel_matvec (gsize m, gsize n, const float *a, gsize lda, const float *x, float *y)
{
  MatvecArgs args = { m, n, lda, a, x, y };

  matvec (&args);
}

/* ---- recurrent products with W_hh packed once --------------------------- */

/* The per-step products h_{t-1}·W_hhᵀ (forward) and ∂pre_t·W_hh (backward)
 * are small (B × 4H × H) and use the same 1 MB matrix 2 × T times: BLAS
 * packs it again on every call.  Here it is packed once per pass into
 * panels of 16 columns, [⌈N/16⌉ × K × 16] (the last panel padded with
 * zeros), and a 6 × 16 register tile (12 accumulators, 2 loads and 6
 * broadcasts per 12 FMAs) runs over it without any copy of A.  K is cut
 * into blocks of 256 so that one panel block (16 KB) stays in L1 while
 * every row tile passes over it.  Only with AVX2+FMA; otherwise BLAS. */

#define PANEL 16
#define GEMM_KC 256
#define GEMM_MR 6

typedef struct
{
  gsize m, n, k;
  const float *a;   /* [M × K], row stride lda */
  gsize lda;
  const float *bp;  /* packed B */
  float *c;         /* [M × N], row stride ldc */
  gsize ldc;
  gboolean accumulate; /* C += A·B, else C = A·B */
} PackedGemmArgs;

static gsize
packed_size (gsize k, gsize n)
{
  return (n + PANEL - 1) / PANEL * PANEL * k;
}

/* bp ← B [K × N], where B[k][j] = trans_w ? w[j·ldw + k] : w[k·ldw + j]. */
static void
pack_b (float *bp, const float *w, gsize ldw, gsize k, gsize n, gboolean trans_w)
{
  for (gsize p = 0; p < n; p += PANEL)
    {
      gsize cols = MIN (PANEL, n - p);
      float *panel = bp + p * k;

      for (gsize kk = 0; kk < k; kk++)
        {
          float *dst = panel + kk * PANEL;

          for (gsize j = 0; j < cols; j++)
            dst[j] = trans_w ? w[(p + j) * ldw + kk] : w[kk * ldw + p + j];
          for (gsize j = cols; j < PANEL; j++)
            dst[j] = 0.0f;
        }
    }
}

/* C[R rows × cols] (+)= A[R × kc] · panel block [kc × 16]. */
MEL_ALWAYS_INLINE void
gemm_tile (const float *a, gsize lda, const float *bp, gsize kc, float *c, gsize ldc,
           gsize cols, gboolean add, gsize R)
{
  MelV8f acc[GEMM_MR][2] = { { { 0 } } }, b0, b1, cv;

  for (gsize k = 0; k < kc; k++)
    {
      mel_v_load (&b0, bp + k * PANEL);
      mel_v_load (&b1, bp + k * PANEL + 8);
#pragma GCC unroll 6
      for (gsize r = 0; r < R; r++)
        {
          float av = a[r * lda + k];

          acc[r][0] += b0 * av;
          acc[r][1] += b1 * av;
        }
    }
#pragma GCC unroll 6
  for (gsize r = 0; r < R; r++)
    {
      float *cr = c + r * ldc;

      if (cols == PANEL)
        {
          if (add)
            {
              mel_v_load (&cv, cr);
              acc[r][0] += cv;
              mel_v_load (&cv, cr + 8);
              acc[r][1] += cv;
            }
          mel_v_store (cr, &acc[r][0]);
          mel_v_store (cr + 8, &acc[r][1]);
        }
      else
        {
          float t[PANEL];

          mel_v_store (t, &acc[r][0]);
          mel_v_store (t + 8, &acc[r][1]);
          for (gsize j = 0; j < cols; j++)
            cr[j] = add ? cr[j] + t[j] : t[j];
        }
    }
}

MEL_ALWAYS_INLINE void
packed_gemm_body (const PackedGemmArgs *g)
{
  for (gsize k0 = 0; k0 < g->k; k0 += GEMM_KC)
    {
      gsize kc = MIN (GEMM_KC, g->k - k0);
      gboolean add = g->accumulate || k0 > 0;

      for (gsize p = 0; p < g->n; p += PANEL)
        {
          gsize cols = MIN (PANEL, g->n - p), i = 0;
          const float *bp = g->bp + p * g->k + k0 * PANEL;
          const float *a = g->a + k0;
          float *c = g->c + p;

          gsize full = g->m / GEMM_MR, rest = g->m % GEMM_MR;

          /* A tile of 1 or 2 rows has too few accumulators to hide the
           * FMA latency: end with 4 + 3 or 4 + 4 rows instead (a batch of
           * 32, one worker's half of 64, is 4 × 6 + 4 + 4). */
          if (full > 0 && (rest == 1 || rest == 2))
            {
              full--;
              rest += GEMM_MR;
            }
          for (; i < full * GEMM_MR; i += GEMM_MR)
            gemm_tile (a + i * g->lda, g->lda, bp, kc, c + i * g->ldc, g->ldc, cols, add,
                       GEMM_MR);
          if (rest > GEMM_MR)
            {
              gemm_tile (a + i * g->lda, g->lda, bp, kc, c + i * g->ldc, g->ldc, cols, add, 4);
              i += 4;
            }
          switch (g->m - i)
            {
            case 5:
              gemm_tile (a + i * g->lda, g->lda, bp, kc, c + i * g->ldc, g->ldc, cols, add, 5);
              break;
            case 4:
              gemm_tile (a + i * g->lda, g->lda, bp, kc, c + i * g->ldc, g->ldc, cols, add, 4);
              break;
            case 3:
              gemm_tile (a + i * g->lda, g->lda, bp, kc, c + i * g->ldc, g->ldc, cols, add, 3);
              break;
            case 2:
              gemm_tile (a + i * g->lda, g->lda, bp, kc, c + i * g->ldc, g->ldc, cols, add, 2);
              break;
            case 1:
              gemm_tile (a + i * g->lda, g->lda, bp, kc, c + i * g->ldc, g->ldc, cols, add, 1);
              break;
            default:
              break;
            }
        }
    }
}

#if defined(__x86_64__) && defined(__GNUC__)
__attribute__ ((target ("avx2,fma"))) static void
packed_gemm (const PackedGemmArgs *g)
{
  packed_gemm_body (g);
}

static gboolean
use_packed_gemm (void)
{
  return _mel_simd_use_avx2 ();
}
#else
static void
packed_gemm (const PackedGemmArgs *g)
{
  packed_gemm_body (g);
}

static gboolean
use_packed_gemm (void)
{
  return FALSE;
}
#endif

gsize
mel_lstm_n_params (gsize input_size, gsize hidden_size)
{
  return 4 * hidden_size * (input_size + hidden_size + 2);
}

float *
mel_lstm_bind (MelLstmTensors *t, float *base, gsize input_size, gsize hidden_size)
{
  gsize g = 4 * hidden_size;

  t->w_ih = base;
  t->w_hh = t->w_ih + g * input_size;
  t->b_ih = t->w_hh + g * hidden_size;
  t->b_hh = t->b_ih + g;
  return t->b_hh + g;
}

void
mel_lstm_init_params (const MelLstmTensors *t, gsize input_size, gsize hidden_size, MelRng *rng)
{
  float bound = 1.0f / sqrtf ((float) hidden_size);

  /* Adjacent tensors (mel_lstm_bind): one fill covers them all. */
  mel_rng_fill_uniform (rng, t->w_ih, mel_lstm_n_params (input_size, hidden_size), bound);
}

void
mel_lstm_layer_init (MelLstmLayer *layer, gsize input_size, gsize hidden_size,
                     const MelLstmTensors *params, const MelLstmTensors *grads)
{
  memset (layer, 0, sizeof *layer);
  layer->input_size = input_size;
  layer->hidden_size = hidden_size;
  layer->params = params;
  layer->grads = grads;
}

void
mel_lstm_layer_clear (MelLstmLayer *layer)
{
  g_clear_pointer (&layer->h, g_free);
  g_clear_pointer (&layer->c, g_free);
  g_clear_pointer (&layer->gates, g_free);
  g_clear_pointer (&layer->xp, g_free);
  g_clear_pointer (&layer->dg, g_free);
  g_clear_pointer (&layer->dh, g_free);
  g_clear_pointer (&layer->dc, g_free);
  g_clear_pointer (&layer->w_packed, g_aligned_free);
  layer->capacity = 0;
  layer->batch_capacity = 0;
}

static void
lstm_reserve (MelLstmLayer *layer, gsize steps, gsize batch, gboolean need_xp)
{
  gsize rows = steps * batch, hs = layer->hidden_size;

  if (rows > layer->capacity || batch > layer->batch_capacity)
    {
      mel_lstm_layer_clear (layer);
      layer->capacity = rows;
      layer->batch_capacity = batch;
      layer->h = g_new0 (float, (rows + batch) * hs);
      layer->c = g_new0 (float, (rows + batch) * hs);
      layer->gates = g_new (float, rows * 4 * hs);
      layer->dg = g_new (float, rows * 4 * hs);
      layer->dh = g_new (float, batch * hs);
      layer->dc = g_new (float, batch * hs);
    }
  if (need_xp && layer->xp == NULL)
    layer->xp = g_new (float, layer->capacity * 4 * hs);
}

/* ---- gate kernels -------------------------------------------------------- */

/* One row forward: pre-activations xp + gh + b_hh → gates (nullable), c, h. */
MEL_ALWAYS_INLINE void
gates_forward_row (gsize hs, const float *xp, const float *gh, const float *b_hh,
                   const float *cp, float *c, float *h, float *gates)
{
  gsize j = 0;

  for (; j + 8 <= hs; j += 8)
    {
      MelV8f a, b, bb, i, f, g, o, cv, tc, hv;

#define PRE(out, k) \
  mel_v_load (&a, xp + (k) * hs + j); \
  mel_v_load (&b, gh + (k) * hs + j); \
  mel_v_load (&bb, b_hh + (k) * hs + j); \
  out = a + b + bb
      PRE (i, 0);
      PRE (f, 1);
      PRE (g, 2);
      PRE (o, 3);
#undef PRE
      mel_v_sigmoid (&i);
      mel_v_sigmoid (&f);
      mel_v_tanh (&g);
      mel_v_sigmoid (&o);
      mel_v_load (&cv, cp + j);
      cv = f * cv + i * g;
      tc = cv;
      mel_v_tanh (&tc);
      hv = o * tc;
      mel_v_store (c + j, &cv);
      mel_v_store (h + j, &hv);
      if (gates != NULL)
        {
          mel_v_store (gates + j, &i);
          mel_v_store (gates + hs + j, &f);
          mel_v_store (gates + 2 * hs + j, &g);
          mel_v_store (gates + 3 * hs + j, &o);
        }
    }
  for (; j < hs; j++)
    {
      float i = mel_fast_sigmoidf (xp[j] + gh[j] + b_hh[j]);
      float f = mel_fast_sigmoidf (xp[hs + j] + gh[hs + j] + b_hh[hs + j]);
      float g = mel_fast_tanhf (xp[2 * hs + j] + gh[2 * hs + j] + b_hh[2 * hs + j]);
      float o = mel_fast_sigmoidf (xp[3 * hs + j] + gh[3 * hs + j] + b_hh[3 * hs + j]);
      float cv = f * cp[j] + i * g;

      c[j] = cv;
      h[j] = o * mel_fast_tanhf (cv);
      if (gates != NULL)
        {
          gates[j] = i;
          gates[hs + j] = f;
          gates[2 * hs + j] = g;
          gates[3 * hs + j] = o;
        }
    }
}

/* One row backward.  @dh_out ∂loss/∂h_t from above; @dh_carry ∂h_t from
 * step t+1 (read); @dc_carry in: ∂c_t from step t+1, out: ∂c_{t-1}.
 * Writes the pre-activation gradient @dpre [4H], adds it to @db_hh and
 * adds (@accumulate) or writes it to @dxp. */
MEL_ALWAYS_INLINE void
gates_backward_row (gsize hs, const float *gates, const float *cp, const float *c,
                    const float *dh_out, const float *dh_carry, float *dc_carry, float *dpre,
                    float *db_hh, float *dxp, gboolean accumulate)
{
  gsize j = 0;

  for (; j + 8 <= hs; j += 8)
    {
      MelV8f i, f, g, o, cv, cpv, tc, dh, t, dc, di, df, dgv, dov, acc;

      mel_v_load (&i, gates + j);
      mel_v_load (&f, gates + hs + j);
      mel_v_load (&g, gates + 2 * hs + j);
      mel_v_load (&o, gates + 3 * hs + j);
      mel_v_load (&cv, c + j);
      mel_v_load (&cpv, cp + j);
      tc = cv;
      mel_v_tanh (&tc);
      mel_v_load (&dh, dh_out + j);
      mel_v_load (&t, dh_carry + j);
      dh += t;
      mel_v_load (&dc, dc_carry + j);
      dc += dh * o * (1.0f - tc * tc);
      dov = dh * tc * o * (1.0f - o);
      di = dc * g * i * (1.0f - i);
      df = dc * cpv * f * (1.0f - f);
      dgv = dc * i * (1.0f - g * g);
      t = dc * f;
      mel_v_store (dc_carry + j, &t);
      mel_v_store (dpre + j, &di);
      mel_v_store (dpre + hs + j, &df);
      mel_v_store (dpre + 2 * hs + j, &dgv);
      mel_v_store (dpre + 3 * hs + j, &dov);
#define ACC(ptr, k, v) \
  mel_v_load (&acc, (ptr) + (k) * hs + j); \
  acc += v; \
  mel_v_store ((ptr) + (k) * hs + j, &acc)
      ACC (db_hh, 0, di);
      ACC (db_hh, 1, df);
      ACC (db_hh, 2, dgv);
      ACC (db_hh, 3, dov);
      if (accumulate)
        {
          ACC (dxp, 0, di);
          ACC (dxp, 1, df);
          ACC (dxp, 2, dgv);
          ACC (dxp, 3, dov);
        }
      else
        {
          mel_v_store (dxp + j, &di);
          mel_v_store (dxp + hs + j, &df);
          mel_v_store (dxp + 2 * hs + j, &dgv);
          mel_v_store (dxp + 3 * hs + j, &dov);
        }
#undef ACC
    }
  for (; j < hs; j++)
    {
      float i = gates[j], f = gates[hs + j], g = gates[2 * hs + j], o = gates[3 * hs + j];
      float tc = mel_fast_tanhf (c[j]);
      float dh = dh_out[j] + dh_carry[j];
      float dc = dc_carry[j] + dh * o * (1.0f - tc * tc);
      float d[4];

      d[0] = dc * g * i * (1.0f - i);
      d[1] = dc * cp[j] * f * (1.0f - f);
      d[2] = dc * i * (1.0f - g * g);
      d[3] = dh * tc * o * (1.0f - o);
      dc_carry[j] = dc * f;
      for (int k = 0; k < 4; k++)
        {
          dpre[k * hs + j] = d[k];
          db_hh[k * hs + j] += d[k];
          if (accumulate)
            dxp[k * hs + j] += d[k];
          else
            dxp[k * hs + j] = d[k];
        }
    }
}

typedef struct
{
  gsize hs, batch;
  const float *table;  /* table mode, else NULL */
  const gint32 *ids;   /* [B] (table mode) */
  const float *xp;     /* [B × 4H] (not table mode) */
  const float *gh;     /* [B × 4H] */
  const float *b_hh;
  const float *cprev;  /* [B × H] */
  float *c, *h;        /* [B × H] */
  float *gates;        /* [B × 4H], nullable */
} StepForwardArgs;

typedef struct
{
  gsize hs, batch;
  const float *gates, *cprev, *c, *dh_out, *dh_carry;
  float *dc_carry, *dpre, *db_hh;
  float *dtable;       /* table mode, rows by id */
  const gint32 *ids;
  float *dxp;          /* not table mode: [B × 4H] */
} StepBackwardArgs;

MEL_ALWAYS_INLINE void
step_forward_body (const StepForwardArgs *a)
{
  gsize hs = a->hs, g = 4 * hs;

  for (gsize b = 0; b < a->batch; b++)
    {
      const float *xp = a->table != NULL ? a->table + (gsize) a->ids[b] * g : a->xp + b * g;

      gates_forward_row (hs, xp, a->gh + b * g, a->b_hh, a->cprev + b * hs, a->c + b * hs,
                         a->h + b * hs, a->gates != NULL ? a->gates + b * g : NULL);
    }
}

MEL_ALWAYS_INLINE void
step_backward_body (const StepBackwardArgs *a)
{
  gsize hs = a->hs, g = 4 * hs;

  for (gsize b = 0; b < a->batch; b++)
    {
      gboolean table = a->dtable != NULL;
      float *dxp = table ? a->dtable + (gsize) a->ids[b] * g : a->dxp + b * g;

      gates_backward_row (hs, a->gates + b * g, a->cprev + b * hs, a->c + b * hs,
                          a->dh_out + b * hs, a->dh_carry + b * hs, a->dc_carry + b * hs,
                          a->dpre + b * g, a->db_hh, dxp, table);
    }
}

MEL_DEFINE_DISPATCH (step_forward, const StepForwardArgs *, step_forward_body)
MEL_DEFINE_DISPATCH (step_backward, const StepBackwardArgs *, step_backward_body)

/* ---- forward / backward ---------------------------------------------------- */

/* W_hh packed for the forward (B = W_hhᵀ, H × 4H) or the backward (B = W_hh,
 * 4H × H) products; NULL when BLAS does them. */
static const float *
pack_w_hh (MelLstmLayer *layer, gboolean forward)
{
  gsize hs = layer->hidden_size, g = 4 * hs;

  if (!use_packed_gemm ())
    return NULL;
  if (layer->w_packed == NULL)
    layer->w_packed = g_aligned_alloc (MAX (packed_size (hs, g), packed_size (g, hs)),
                                       sizeof (float), 64);
  if (forward)
    pack_b (layer->w_packed, layer->params->w_hh, hs, hs, g, TRUE);
  else
    pack_b (layer->w_packed, layer->params->w_hh, hs, g, hs, FALSE);
  return layer->w_packed;
}

/* C[m × n] = A[m × k] · B, from the packed B or with BLAS: B = W_hhᵀ
 * (forward) or W_hh (backward). */
static void
recurrent_gemm (const float *packed, gboolean forward, gsize m, gsize n, gsize k,
                const float *a, const float *w_hh, float *c)
{
  if (packed != NULL)
    {
      PackedGemmArgs args = {
        .m = m, .n = n, .k = k, .a = a, .lda = k, .bp = packed, .c = c, .ldc = n,
        .accumulate = FALSE,
      };

      packed_gemm (&args);
    }
  else
    mel_sgemm (FALSE, forward, m, n, k, 1.0f, a, k, w_hh, forward ? k : n, 0.0f, c, n);
}

static const float *
lstm_forward_common (MelLstmLayer *layer, const float *table, gsize steps, gsize batch)
{
  gsize hs = layer->hidden_size, g = 4 * hs;
  const MelLstmTensors *p = layer->params;
  const float *packed = steps > 1 ? pack_w_hh (layer, TRUE) : NULL;

  memset (layer->h, 0, batch * hs * sizeof (float));
  memset (layer->c, 0, batch * hs * sizeof (float));
  for (gsize t = 0; t < steps; t++)
    {
      const float *hprev = layer->h + t * batch * hs;
      float *gh = layer->dg + t * batch * g; /* free until backward */

      if (t == 0)
        memset (gh, 0, batch * g * sizeof (float));
      else
        recurrent_gemm (packed, TRUE, batch, g, hs, hprev, p->w_hh, gh);
      {
        StepForwardArgs args = {
          .hs = hs, .batch = batch, .table = table,
          .ids = table != NULL ? layer->ids + t * batch : NULL,
          .xp = table != NULL ? NULL : layer->xp + t * batch * g,
          .gh = gh, .b_hh = p->b_hh, .cprev = layer->c + t * batch * hs,
          .c = layer->c + (t + 1) * batch * hs, .h = layer->h + (t + 1) * batch * hs,
          .gates = layer->gates + t * batch * g,
        };

        step_forward (&args);
      }
    }
  layer->steps = steps;
  layer->batch = batch;
  return layer->h + batch * hs;
}

const float *
mel_lstm_forward (MelLstmLayer *layer, const float *x, gsize steps, gsize batch)
{
  lstm_reserve (layer, steps, batch, TRUE);
  layer->x = x;
  layer->ids = NULL;
  mel_linear_forward (layer->xp, x, layer->params->w_ih, layer->params->b_ih, steps * batch,
                      layer->input_size, 4 * layer->hidden_size);
  return lstm_forward_common (layer, NULL, steps, batch);
}

const float *
mel_lstm_forward_table (MelLstmLayer *layer, const float *table, const gint32 *ids, gsize steps,
                        gsize batch)
{
  lstm_reserve (layer, steps, batch, FALSE);
  layer->x = NULL;
  layer->ids = ids;
  return lstm_forward_common (layer, table, steps, batch);
}

void
mel_lstm_backward (MelLstmLayer *layer, const float *dout, float *dx, float *dtable)
{
  gsize hs = layer->hidden_size, g = 4 * hs;
  gsize steps = layer->steps, batch = layer->batch, rows = steps * batch;
  const MelLstmTensors *p = layer->params;
  const MelLstmTensors *gr = layer->grads;
  gboolean table_mode = layer->ids != NULL;
  float *dxp = table_mode ? NULL : layer->xp; /* the projections are not needed any more */
  const float *packed;

  g_return_if_fail (table_mode ? dtable != NULL : layer->x != NULL);
  packed = steps > 1 ? pack_w_hh (layer, FALSE) : NULL;

  memset (layer->dh, 0, batch * hs * sizeof (float));
  memset (layer->dc, 0, batch * hs * sizeof (float));
  for (gsize t = steps; t-- > 0;)
    {
      StepBackwardArgs args = {
        .hs = hs, .batch = batch, .gates = layer->gates + t * batch * g,
        .cprev = layer->c + t * batch * hs, .c = layer->c + (t + 1) * batch * hs,
        .dh_out = dout + t * batch * hs, .dh_carry = layer->dh, .dc_carry = layer->dc,
        .dpre = layer->dg + t * batch * g, .db_hh = gr->b_hh,
        .dtable = table_mode ? dtable : NULL, .ids = table_mode ? layer->ids + t * batch : NULL,
        .dxp = table_mode ? NULL : dxp + t * batch * g,
      };

      step_backward (&args);
      /* ∂h_{t-1} = ∂pre_t · W_hh (h_0 = 0 needs none). */
      if (t > 0)
        recurrent_gemm (packed, FALSE, batch, hs, g, layer->dg + t * batch * g, p->w_hh,
                        layer->dh);
    }

  /* dW_hh += Σ_{t≥1} ∂pre_tᵀ · h_{t-1}: one GEMM (h_0 = 0 adds nothing). */
  if (steps > 1)
    mel_sgemm (TRUE, FALSE, g, hs, rows - batch, 1.0f, layer->dg + batch * g, g,
               layer->h + batch * hs, hs, 1.0f, gr->w_hh, hs);
  if (!table_mode)
    mel_linear_backward (dx, gr->w_ih, gr->b_ih, dxp, layer->x, p->w_ih, rows,
                         layer->input_size, g);
}

void
mel_lstm_input_table (float *table, const float *emb, gsize vocab, gsize embed_dim,
                      const MelLstmTensors *params, gsize hidden_size)
{
  mel_linear_forward (table, emb, params->w_ih, params->b_ih, vocab, embed_dim, 4 * hidden_size);
}

void
mel_lstm_input_table_backward (const MelLstmTensors *grads, float *demb, const float *dtable,
                               const float *emb, const MelLstmTensors *params, gsize vocab,
                               gsize embed_dim, gsize hidden_size)
{
  mel_linear_backward (demb, grads->w_ih, grads->b_ih, dtable, emb, params->w_ih, vocab,
                       embed_dim, 4 * hidden_size);
}

void
mel_lstm_step_recurrent (const MelLstmTensors *params, gsize hidden_size, const float *h,
                         float *gh)
{
  memset (gh, 0, 4 * hidden_size * sizeof (float));
  _mel_matvec (4 * hidden_size, hidden_size, params->w_hh, hidden_size, h, gh);
}

void
mel_lstm_step_gates (const MelLstmTensors *params, gsize hidden_size, const float *xp,
                     const float *gh, float *h, float *c)
{
  StepForwardArgs args = {
    .hs = hidden_size, .batch = 1, .xp = xp, .gh = gh, .b_hh = params->b_hh, .cprev = c,
    .c = c, .h = h, .gates = NULL,
  };

  /* c is read and written in place row-wise, element by element: safe. */
  step_forward (&args);
}

void
mel_lstm_step (const MelLstmTensors *params, gsize hidden_size, const float *xp, float *h,
               float *c, float *scratch)
{
  mel_lstm_step_recurrent (params, hidden_size, h, scratch);
  mel_lstm_step_gates (params, hidden_size, xp, scratch, h, c);
}
