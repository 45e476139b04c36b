/* mel-vae-model.c — a sequence VAE over fixed-length segments.
 *
 *   encoder:  bidirectional GRU over the segment (H/2 per direction, the
 *             first layer's input projections looked up in tables);
 *             e = [h_fwd(T) ; h_bwd(T)]                         [H]
 *   posterior: [μ ; log σ²] = e·W_postᵀ + b_post                 [2 × latent]
 *   z = μ + ε ⊙ exp(½ log σ²) in training, z = μ in evaluation
 *   decoder:  GRU layers; initial states tanh(z·W_zhᵀ + b_zh) (one H block
 *             per layer); layer 0's input at t is [emb(prev_t) ; z] with
 *             prev_0 = "/" (id 0, the song delimiter: "a melody starts
 *             here") and prev_t = segment[t−1] (teacher forcing).  The
 *             embedding part is looked up in a [V × 3H] table and the z
 *             part, z·W_zᵀ, is computed once per sequence.
 *   logits_t = h_top(t)·W_outᵀ + b_out predicts segment[t].
 *
 * Auxiliary loss: KL(q(z|x) ‖ N(0, I)) with free bits: per latent dimension
 * the batch-mean KL counts at least config.free_bits nats, so dimensions
 * under that floor get no gradient towards the prior and the decoder
 * cannot ignore z (the posterior collapse that made the research VAE copy
 * its input symbol by symbol).  mel_model_get_aux_loss returns Σ_d
 * max(KL_d, free_bits); the trainer weights it with its β schedule.
 *
 * ε comes from a stream per (forward, batch row): results do not depend on
 * the number of threads, and mel_model_set_rng_seed makes it repeatable.
 *
 * SPDX-License-Identifier: MIT
 */
#include "mel-model-private.h"

#include <math.h>
#include <string.h>

#define VAE_START_ID 0 /* "/" opens every segment for the decoder */
#define RNG_EPS 0xE95

typedef struct
{
  float *embedding;      /* [V × E] */
  MelGruTensors enc_f;   /* E → H/2 */
  MelGruTensors enc_b;   /* E → H/2, over the reversed segment */
  float *post_w;         /* [2L × H]: rows 0…L−1 give μ, L…2L−1 log σ² */
  float *post_b;         /* [2L] */
  float *zh_w;           /* [nl·H × L] */
  float *zh_b;           /* [nl·H] */
  float *zin_w;          /* [3H × L]: z's part of decoder layer 0's W_ih */
  MelGruTensors *dec;    /* n_layers: layer 0 E → H (plus zin_w), others H → H */
  float *out_w;          /* [V × H] */
  float *out_b;          /* [V] */
} VaeTensors;

typedef struct
{
  guint b0, b1;
  float *grad_buffer;
  VaeTensors grads;
  MelGruLayer enc_f, enc_b;
  MelGruLayer *dec;
  gsize capacity;        /* T × Bs rows */
  gsize batch_capacity;  /* Bs */
  gint32 *ids;           /* [T × Bs] segment, time-major */
  gint32 *ids_rev;       /* [T × Bs] reversed in time */
  gint32 *prev;          /* [T × Bs] decoder inputs */
  gint32 *rows;          /* [T × Bs] 0, 1, 2, … (identity lookup into xp) */
  float *xp;             /* [T × Bs × 3H] decoder layer 0 input projections */
  float *dxp;            /* [T × Bs × 3H] their gradient */
  float *enc;            /* [Bs × H] */
  float *eps;            /* [Bs × L] */
  float *z;              /* [Bs × L] */
  float *zp;             /* [Bs × 3H] */
  float *h0;             /* [Bs × nl·H] */
  float *dh0;            /* [Bs × nl·H] */
  float *dz;             /* [Bs × L] */
  float *dpost;          /* [Bs × 2L] */
  float *denc;           /* [Bs × H] */
  float *dhalf;          /* [T × Bs × H/2] encoder output gradient */
  float **dh;            /* n_layers × [T × Bs × H] */
  float *logits;         /* [T × Bs × V] */
  float *dtable_dec;     /* [V × 3H] */
  float *dtable_f, *dtable_b; /* [V × 3H/2] */
} VaeWorker;

typedef struct
{
  MelModel *model;
  VaeTensors params;
  guint n_workers;
  VaeWorker *workers;
  float *table_dec;      /* [V × 3H] */
  float *table_f, *table_b; /* [V × 3H/2] */
  float *logits;         /* [B × T × V] */
  gsize logits_capacity;
  float *post;           /* [B × 2L] μ and log σ² of the last forward */
  gsize post_capacity;
  double kl;             /* free-bits KL of the last forward */
  const gint32 *inputs;
  const float *dlogits;
  float aux_weight;
} VaeModel;

typedef struct
{
  MelModelState base;
  float *table;          /* [V × 3H] */
  float *zp;             /* [3H] */
  float *h;              /* [nl × H] */
  float *xp;             /* [3H] */
  float *scratch;        /* [4H] */
} VaeState;

static gsize
half_h (const MelModelConfig *c)
{
  return c->hidden_size / 2;
}

static gboolean
vae_check_config (const MelModelConfig *c, GError **error)
{
  if (c->hidden_size < 2 || c->hidden_size % 2 != 0)
    {
      g_set_error (error, MEL_MODEL_ERROR, MEL_MODEL_ERROR_INVALID_CONFIG,
                   "The VAE's hidden size %u must be even (half per encoder direction)",
                   c->hidden_size);
      return FALSE;
    }
  if (c->latent_size < 1 || c->latent_size > 4096)
    {
      g_set_error (error, MEL_MODEL_ERROR, MEL_MODEL_ERROR_INVALID_CONFIG,
                   "Latent size %u is outside 1…4096", c->latent_size);
      return FALSE;
    }
  if (c->segment_steps < 2 || c->segment_steps > 256)
    {
      g_set_error (error, MEL_MODEL_ERROR, MEL_MODEL_ERROR_INVALID_CONFIG,
                   "Segment length %u is outside 2…256", c->segment_steps);
      return FALSE;
    }
  if (!(c->free_bits >= 0.0f && c->free_bits <= 1000.0f))
    {
      g_set_error (error, MEL_MODEL_ERROR, MEL_MODEL_ERROR_INVALID_CONFIG,
                   "Free bits %g is outside 0…1000 nats", (double) c->free_bits);
      return FALSE;
    }
  if (c->dropout != 0.0f)
    {
      g_set_error (error, MEL_MODEL_ERROR, MEL_MODEL_ERROR_INVALID_CONFIG,
                   "The VAE does not use dropout (its regulariser is the KL term)");
      return FALSE;
    }
  return TRUE;
}

static gsize
vae_count_params (const MelModelConfig *c)
{
  gsize v = c->vocab_size, e = c->embed_dim, h = c->hidden_size, l = c->latent_size;
  gsize n = v * e + 2 * mel_gru_n_params (e, half_h (c)) + 2 * l * h + 2 * l
            + c->n_layers * h * l + c->n_layers * h + 3 * h * l + v * h + v;

  for (guint k = 0; k < c->n_layers; k++)
    n += mel_gru_n_params (k == 0 ? e : h, h);
  return n;
}

static void
vae_bind (VaeTensors *t, float *base, const MelModelConfig *c)
{
  gsize v = c->vocab_size, e = c->embed_dim, h = c->hidden_size, l = c->latent_size;
  float *p = base;

  t->embedding = p;
  p += v * e;
  p = mel_gru_bind (&t->enc_f, p, e, half_h (c));
  p = mel_gru_bind (&t->enc_b, p, e, half_h (c));
  t->post_w = p;
  p += 2 * l * h;
  t->post_b = p;
  p += 2 * l;
  t->zh_w = p;
  p += c->n_layers * h * l;
  t->zh_b = p;
  p += c->n_layers * h;
  t->zin_w = p;
  p += 3 * h * l;
  t->dec = g_new0 (MelGruTensors, c->n_layers);
  for (guint k = 0; k < c->n_layers; k++)
    p = mel_gru_bind (&t->dec[k], p, k == 0 ? e : h, h);
  t->out_w = p;
  p += v * h;
  t->out_b = p;
  p += v;
  g_assert ((gsize) (p - base) == vae_count_params (c));
}

static void
vae_unbind (VaeTensors *t)
{
  g_clear_pointer (&t->dec, g_free);
}

static void
worker_clear_buffers (VaeWorker *w, guint n_layers)
{
  mel_gru_layer_clear (&w->enc_f);
  mel_gru_layer_clear (&w->enc_b);
  for (guint k = 0; k < n_layers; k++)
    {
      if (w->dec != NULL)
        mel_gru_layer_clear (&w->dec[k]);
      if (w->dh != NULL)
        g_clear_pointer (&w->dh[k], g_free);
    }
  g_clear_pointer (&w->ids, g_free);
  g_clear_pointer (&w->ids_rev, g_free);
  g_clear_pointer (&w->prev, g_free);
  g_clear_pointer (&w->rows, g_free);
  g_clear_pointer (&w->xp, g_free);
  g_clear_pointer (&w->dxp, g_free);
  g_clear_pointer (&w->enc, g_free);
  g_clear_pointer (&w->eps, g_free);
  g_clear_pointer (&w->z, g_free);
  g_clear_pointer (&w->zp, g_free);
  g_clear_pointer (&w->h0, g_free);
  g_clear_pointer (&w->dh0, g_free);
  g_clear_pointer (&w->dz, g_free);
  g_clear_pointer (&w->dpost, g_free);
  g_clear_pointer (&w->denc, g_free);
  g_clear_pointer (&w->dhalf, g_free);
  g_clear_pointer (&w->logits, g_free);
  w->capacity = 0;
  w->batch_capacity = 0;
}

static void
workers_destroy (VaeModel *self)
{
  guint n_layers = self->model->config.n_layers;

  for (guint i = 0; i < self->n_workers; i++)
    {
      VaeWorker *w = &self->workers[i];

      worker_clear_buffers (w, n_layers);
      g_free (w->dec);
      g_free (w->dh);
      g_free (w->dtable_dec);
      g_free (w->dtable_f);
      g_free (w->dtable_b);
      vae_unbind (&w->grads);
      g_aligned_free (w->grad_buffer);
    }
  g_clear_pointer (&self->workers, g_free);
  self->n_workers = 0;
}

static void
workers_ensure (VaeModel *self)
{
  MelModel *model = self->model;
  const MelModelConfig *c = &model->config;
  gsize v = c->vocab_size, h = c->hidden_size, e = c->embed_dim;
  guint n = model->n_threads;

  if (self->n_workers == n)
    return;
  workers_destroy (self);
  self->workers = g_new0 (VaeWorker, n);
  self->n_workers = n;
  for (guint i = 0; i < n; i++)
    {
      VaeWorker *w = &self->workers[i];
      float *grads = model->grads;

      if (i > 0)
        grads = w->grad_buffer = g_aligned_alloc0 (model->n_params, sizeof (float), 64);
      vae_bind (&w->grads, grads, c);
      mel_gru_layer_init (&w->enc_f, e, half_h (c), &self->params.enc_f, &w->grads.enc_f);
      mel_gru_layer_init (&w->enc_b, e, half_h (c), &self->params.enc_b, &w->grads.enc_b);
      w->dec = g_new0 (MelGruLayer, c->n_layers);
      for (guint k = 0; k < c->n_layers; k++)
        mel_gru_layer_init (&w->dec[k], k == 0 ? e : h, h, &self->params.dec[k],
                            &w->grads.dec[k]);
      w->dh = g_new0 (float *, c->n_layers);
      w->dtable_dec = g_new (float, v * 3 * h);
      w->dtable_f = g_new (float, v * 3 * half_h (c));
      w->dtable_b = g_new (float, v * 3 * half_h (c));
    }
}

static void
worker_reserve (VaeWorker *w, const MelModelConfig *c, gsize steps, gsize bs)
{
  gsize rows = steps * bs, h = c->hidden_size, l = c->latent_size, nl = c->n_layers;

  if (rows <= w->capacity && bs <= w->batch_capacity)
    return;
  worker_clear_buffers (w, c->n_layers);
  w->capacity = rows;
  w->batch_capacity = bs;
  w->ids = g_new (gint32, rows);
  w->ids_rev = g_new (gint32, rows);
  w->prev = g_new (gint32, rows);
  w->rows = g_new (gint32, rows);
  w->xp = g_new (float, rows * 3 * h);
  w->dxp = g_new (float, rows * 3 * h);
  w->enc = g_new (float, bs * h);
  w->eps = g_new (float, bs * l);
  w->z = g_new (float, bs * l);
  w->zp = g_new (float, bs * 3 * h);
  w->h0 = g_new (float, bs * nl * h);
  w->dh0 = g_new (float, bs * nl * h);
  w->dz = g_new (float, bs * l);
  w->dpost = g_new (float, bs * 2 * l);
  w->denc = g_new (float, bs * h);
  w->dhalf = g_new (float, rows * half_h (c));
  for (guint k = 0; k < c->n_layers; k++)
    w->dh[k] = g_new (float, rows * h);
  w->logits = g_new (float, rows * c->vocab_size);
}

/* ---- forward ------------------------------------------------------------ */

/* e [bs × H] = [final forward state ; final backward state] of the
 * segments @ids / @ids_rev [T × bs] (time-major). */
static void
encode_rows (VaeModel *self, MelGruLayer *enc_f, MelGruLayer *enc_b, const gint32 *ids,
             const gint32 *ids_rev, gsize steps, gsize bs, float *e)
{
  gsize h = self->model->config.hidden_size, hh = h / 2;
  const float *of, *ob;

  of = mel_gru_forward_table (enc_f, self->table_f, ids, NULL, steps, bs);
  ob = mel_gru_forward_table (enc_b, self->table_b, ids_rev, NULL, steps, bs);
  for (gsize b = 0; b < bs; b++)
    {
      memcpy (e + b * h, of + ((steps - 1) * bs + b) * hh, hh * sizeof (float));
      memcpy (e + b * h + hh, ob + ((steps - 1) * bs + b) * hh, hh * sizeof (float));
    }
}

static void
worker_forward (gpointer data, guint index, guint n)
{
  VaeModel *self = data;
  MelModel *model = self->model;
  const MelModelConfig *c = &model->config;
  VaeWorker *w = &self->workers[index];
  gsize steps = model->last_steps, bs, rows, v = c->vocab_size, h = c->hidden_size;
  gsize l = c->latent_size, nl = c->n_layers, g = 3 * h;
  const float *x = NULL;
  float *post;

  _mel_split_batch (model->last_batch, index, n, &w->b0, &w->b1);
  bs = w->b1 - w->b0;
  if (bs == 0)
    return;
  rows = steps * bs;
  worker_reserve (w, c, steps, bs);

  for (gsize b = 0; b < bs; b++)
    for (gsize t = 0; t < steps; t++)
      {
        const gint32 *seq = self->inputs + (w->b0 + b) * steps;

        w->ids[t * bs + b] = seq[t];
        w->ids_rev[t * bs + b] = seq[steps - 1 - t];
        w->prev[t * bs + b] = t == 0 ? VAE_START_ID : seq[t - 1];
      }
  for (gsize i = 0; i < rows; i++)
    w->rows[i] = (gint32) i;

  /* Encoder and posterior. */
  encode_rows (self, &w->enc_f, &w->enc_b, w->ids, w->ids_rev, steps, bs, w->enc);
  post = self->post + w->b0 * 2 * l;
  mel_linear_forward (post, w->enc, self->params.post_w, self->params.post_b, bs, h, 2 * l);

  /* Reparameterisation. */
  for (gsize b = 0; b < bs; b++)
    {
      const float *mu = post + b * 2 * l, *lv = mu + l;
      float *eps = w->eps + b * l, *z = w->z + b * l;

      if (model->training)
        {
          MelRng rng;

          mel_rng_init (&rng, mel_rng_mix (model->rng_seed, model->n_forwards, RNG_EPS, w->b0 + b));
          for (gsize k = 0; k < l; k++)
            {
              eps[k] = mel_rng_normal (&rng);
              z[k] = mu[k] + eps[k] * expf (0.5f * lv[k]);
            }
        }
      else
        for (gsize k = 0; k < l; k++)
          {
            eps[k] = 0.0f;
            z[k] = mu[k];
          }
    }

  /* Decoder. */
  mel_linear_forward (w->h0, w->z, self->params.zh_w, self->params.zh_b, bs, l, nl * h);
  for (gsize i = 0; i < bs * nl * h; i++)
    w->h0[i] = tanhf (w->h0[i]);
  mel_linear_forward (w->zp, w->z, self->params.zin_w, NULL, bs, l, g);
  for (gsize t = 0; t < steps; t++)
    for (gsize b = 0; b < bs; b++)
      {
        const float *tab = self->table_dec + (gsize) w->prev[t * bs + b] * g;
        const float *zp = w->zp + b * g;
        float *xp = w->xp + (t * bs + b) * g;

        for (gsize j = 0; j < g; j++)
          xp[j] = tab[j] + zp[j];
      }
  for (guint k = 0; k < nl; k++)
    {
      /* Layer k's initial state is block k of h0, gathered to [bs × H]. */
      float *h0k = w->dh0; /* free until backward */

      for (gsize b = 0; b < bs; b++)
        memcpy (h0k + b * h, w->h0 + (b * nl + k) * h, h * sizeof (float));
      if (k == 0)
        x = mel_gru_forward_table (&w->dec[0], w->xp, w->rows, h0k, steps, bs);
      else
        x = mel_gru_forward (&w->dec[k], x, h0k, steps, bs);
    }
  mel_linear_forward (w->logits, x, self->params.out_w, self->params.out_b, rows, h, v);
  for (gsize b = 0; b < bs; b++)
    for (gsize t = 0; t < steps; t++)
      memcpy (self->logits + ((w->b0 + b) * steps + t) * v, w->logits + (t * bs + b) * v,
              v * sizeof (float));
}

static void
update_tables (VaeModel *self)
{
  const MelModelConfig *c = &self->model->config;
  gsize v = c->vocab_size, e = c->embed_dim;

  mel_gru_input_table (self->table_dec, self->params.embedding, v, e, &self->params.dec[0],
                       c->hidden_size);
  mel_gru_input_table (self->table_f, self->params.embedding, v, e, &self->params.enc_f,
                       half_h (c));
  mel_gru_input_table (self->table_b, self->params.embedding, v, e, &self->params.enc_b,
                       half_h (c));
}

/* Σ_d max(mean_b KL_bd, free_bits) over the batch's posteriors. */
static double
free_bits_kl (const float *post, gsize batch, gsize l, float free_bits, gboolean *active)
{
  double total = 0.0;

  for (gsize k = 0; k < l; k++)
    {
      double kl = 0.0;

      for (gsize b = 0; b < batch; b++)
        {
          double mu = post[b * 2 * l + k], lv = post[b * 2 * l + l + k];

          kl += 0.5 * (mu * mu + exp (lv) - 1.0 - lv);
        }
      kl /= (double) batch;
      if (active != NULL)
        active[k] = kl > free_bits;
      total += MAX (kl, (double) free_bits);
    }
  return total;
}

static const float *
vae_forward (MelModel *model, const gint32 *inputs, guint batch, guint steps)
{
  VaeModel *self = model->priv;
  const MelModelConfig *c = &model->config;
  gsize need = (gsize) batch * steps * c->vocab_size, l = c->latent_size;

  workers_ensure (self);
  if (need > self->logits_capacity)
    {
      g_free (self->logits);
      self->logits = g_new (float, need);
      self->logits_capacity = need;
    }
  if ((gsize) batch * 2 * l > self->post_capacity)
    {
      g_free (self->post);
      self->post = g_new (float, (gsize) batch * 2 * l);
      self->post_capacity = (gsize) batch * 2 * l;
    }
  update_tables (self);
  model->last_batch = batch;
  model->last_steps = steps;
  self->inputs = inputs;
  mel_workers_run (model->workers, worker_forward, self);
  self->inputs = NULL;
  self->kl = free_bits_kl (self->post, batch, l, c->free_bits, NULL);
  return self->logits;
}

/* ---- backward ----------------------------------------------------------- */

static void
worker_backward (gpointer data, guint index, guint n)
{
  VaeModel *self = data;
  MelModel *model = self->model;
  const MelModelConfig *c = &model->config;
  VaeWorker *w = &self->workers[index];
  gsize steps = model->last_steps, bs = w->b1 - w->b0, rows = steps * bs;
  gsize v = c->vocab_size, h = c->hidden_size, e = c->embed_dim, l = c->latent_size;
  gsize nl = c->n_layers, g = 3 * h, hh = h / 2;
  const float *post = self->post + w->b0 * 2 * l;
  guint top = nl - 1;

  (void) n;
  if (w->grad_buffer != NULL)
    memset (w->grad_buffer, 0, model->n_params * sizeof (float));
  if (bs == 0)
    return;

  for (gsize b = 0; b < bs; b++)
    for (gsize t = 0; t < steps; t++)
      memcpy (w->logits + (t * bs + b) * v, self->dlogits + ((w->b0 + b) * steps + t) * v,
              v * sizeof (float));

  /* Output layer and decoder layers, top down; ∂h0 gathered per layer. */
  memset (w->dh[top], 0, rows * h * sizeof (float));
  mel_linear_backward (w->dh[top], w->grads.out_w, w->grads.out_b, w->logits,
                       w->dec[top].h + bs * h, self->params.out_w, rows, h, v);
  memset (w->dh0, 0, bs * nl * h * sizeof (float));
  for (guint k = nl; k-- > 0;)
    {
      g_autofree float *dh0k = g_new0 (float, bs * h);

      if (k > 0)
        {
          memset (w->dh[k - 1], 0, rows * h * sizeof (float));
          mel_gru_backward (&w->dec[k], w->dh[k], w->dh[k - 1], NULL, dh0k);
        }
      else
        {
          memset (w->dxp, 0, rows * g * sizeof (float));
          mel_gru_backward (&w->dec[0], w->dh[0], NULL, w->dxp, dh0k);
        }
      for (gsize b = 0; b < bs; b++)
        memcpy (w->dh0 + (b * nl + k) * h, dh0k + b * h, h * sizeof (float));
    }

  /* Decoder layer 0's input projections: the table part by symbol, the z
   * part summed over time. */
  memset (w->dtable_dec, 0, v * g * sizeof (float));
  memset (w->dz, 0, bs * l * sizeof (float));
  {
    g_autofree float *dzp = g_new0 (float, bs * g);

    for (gsize t = 0; t < steps; t++)
      for (gsize b = 0; b < bs; b++)
        {
          const float *d = w->dxp + (t * bs + b) * g;
          float *dt = w->dtable_dec + (gsize) w->prev[t * bs + b] * g;
          float *dzr = dzp + b * g;

          for (gsize j = 0; j < g; j++)
            {
              dt[j] += d[j];
              dzr[j] += d[j];
            }
        }
    mel_gru_input_table_backward (&w->grads.dec[0], w->grads.embedding, w->dtable_dec,
                                  self->params.embedding, &self->params.dec[0], v, e, h);
    mel_linear_backward (w->dz, w->grads.zin_w, NULL, dzp, w->z, self->params.zin_w, bs, l, g);
  }

  /* h0 = tanh (z·W_zhᵀ + b_zh) */
  for (gsize i = 0; i < bs * nl * h; i++)
    w->dh0[i] *= 1.0f - w->h0[i] * w->h0[i];
  mel_linear_backward (w->dz, w->grads.zh_w, w->grads.zh_b, w->dh0, w->z, self->params.zh_w, bs,
                       l, nl * h);

  /* Reparameterisation and the KL term's gradient (precomputed in dpost
   * by vae_backward). */
  for (gsize b = 0; b < bs; b++)
    {
      const float *lv = post + b * 2 * l + l;
      float *dmu = w->dpost + b * 2 * l, *dlv = dmu + l;
      const float *dz = w->dz + b * l, *eps = w->eps + b * l;

      for (gsize k = 0; k < l; k++)
        {
          dmu[k] += dz[k];
          dlv[k] += dz[k] * eps[k] * 0.5f * expf (0.5f * lv[k]);
        }
    }

  /* Posterior and encoder. */
  memset (w->denc, 0, bs * h * sizeof (float));
  mel_linear_backward (w->denc, w->grads.post_w, w->grads.post_b, w->dpost, w->enc,
                       self->params.post_w, bs, h, 2 * l);
  for (int dir = 0; dir < 2; dir++)
    {
      MelGruLayer *layer = dir == 0 ? &w->enc_f : &w->enc_b;
      float *dtable = dir == 0 ? w->dtable_f : w->dtable_b;
      const MelGruTensors *p = dir == 0 ? &self->params.enc_f : &self->params.enc_b;
      const MelGruTensors *gr = dir == 0 ? &w->grads.enc_f : &w->grads.enc_b;

      memset (w->dhalf, 0, rows * hh * sizeof (float));
      for (gsize b = 0; b < bs; b++)
        memcpy (w->dhalf + ((steps - 1) * bs + b) * hh, w->denc + b * h + dir * hh,
                hh * sizeof (float));
      memset (dtable, 0, v * 3 * hh * sizeof (float));
      mel_gru_backward (layer, w->dhalf, NULL, dtable, NULL);
      mel_gru_input_table_backward (gr, w->grads.embedding, dtable, self->params.embedding, p, v,
                                    e, hh);
    }
}

static void
vae_backward (MelModel *model, const float *dlogits, float aux_weight)
{
  VaeModel *self = model->priv;
  const MelModelConfig *c = &model->config;
  gsize batch = model->last_batch, l = c->latent_size;
  g_autofree float **extra = g_new0 (float *, self->n_workers);
  g_autofree gboolean *active = g_new (gboolean, l);

  /* ∂(aux_weight · Σ_d max (mean_b KL_bd, λ)) / ∂[μ ; log σ²], into each
   * worker's dpost rows. */
  free_bits_kl (self->post, batch, l, c->free_bits, active);
  for (guint i = 0; i < self->n_workers; i++)
    {
      VaeWorker *w = &self->workers[i];

      for (gsize b = w->b0; b < w->b1; b++)
        {
          const float *mu = self->post + b * 2 * l, *lv = mu + l;
          float *dmu = w->dpost + (b - w->b0) * 2 * l, *dlv = dmu + l;

          for (gsize k = 0; k < l; k++)
            {
              float s = active[k] ? aux_weight / (float) batch : 0.0f;

              dmu[k] = s * mu[k];
              dlv[k] = s * 0.5f * (expf (lv[k]) - 1.0f);
            }
        }
    }

  self->dlogits = dlogits;
  self->aux_weight = aux_weight;
  mel_workers_run (model->workers, worker_backward, self);
  self->dlogits = NULL;
  if (self->n_workers > 1)
    {
      for (guint i = 1; i < self->n_workers; i++)
        extra[i - 1] = self->workers[i].grad_buffer;
      _mel_model_reduce_grads (model, extra, self->n_workers - 1);
    }
}

static double
vae_get_aux_loss (const MelModel *model)
{
  const VaeModel *self = model->priv;

  return self->kl;
}

/* ---- life cycle ---------------------------------------------------------- */

static gpointer
vae_create (MelModel *model)
{
  VaeModel *self = g_new0 (VaeModel, 1);
  const MelModelConfig *c = &model->config;
  gsize v = c->vocab_size;

  self->model = model;
  vae_bind (&self->params, model->params, c);
  self->table_dec = g_new (float, v * 3 * c->hidden_size);
  self->table_f = g_new (float, v * 3 * half_h (c));
  self->table_b = g_new (float, v * 3 * half_h (c));
  return self;
}

static void
vae_destroy (gpointer priv)
{
  VaeModel *self = priv;

  workers_destroy (self);
  vae_unbind (&self->params);
  g_free (self->table_dec);
  g_free (self->table_f);
  g_free (self->table_b);
  g_free (self->logits);
  g_free (self->post);
  g_free (self);
}

static void
vae_init_params (MelModel *model, MelRng *rng)
{
  VaeModel *self = model->priv;
  const MelModelConfig *c = &model->config;
  gsize v = c->vocab_size, h = c->hidden_size, e = c->embed_dim, l = c->latent_size;
  gsize nl = c->n_layers;

  /* PyTorch's defaults: N(0, 1) embeddings, U(±1/√fan) for GRUs and
   * linears (fan = hidden size for GRUs, input width for linears). */
  mel_rng_fill_normal (rng, self->params.embedding, v * e, 1.0f);
  mel_gru_init_params (&self->params.enc_f, e, half_h (c), rng);
  mel_gru_init_params (&self->params.enc_b, e, half_h (c), rng);
  mel_rng_fill_uniform (rng, self->params.post_w, 2 * l * h, 1.0f / sqrtf ((float) h));
  mel_rng_fill_uniform (rng, self->params.post_b, 2 * l, 1.0f / sqrtf ((float) h));
  mel_rng_fill_uniform (rng, self->params.zh_w, nl * h * l, 1.0f / sqrtf ((float) l));
  mel_rng_fill_uniform (rng, self->params.zh_b, nl * h, 1.0f / sqrtf ((float) l));
  /* Decoder layer 0 sees [emb ; z]: its W_ih columns for z share the
   * GRU's bound 1/√H. */
  mel_rng_fill_uniform (rng, self->params.zin_w, 3 * h * l, 1.0f / sqrtf ((float) h));
  for (guint k = 0; k < nl; k++)
    mel_gru_init_params (&self->params.dec[k], k == 0 ? e : h, h, rng);
  mel_rng_fill_uniform (rng, self->params.out_w, v * h, 1.0f / sqrtf ((float) h));
  mel_rng_fill_uniform (rng, self->params.out_b, v, 1.0f / sqrtf ((float) h));
}

static void
vae_threads_changed (MelModel *model)
{
  workers_destroy (model->priv);
}

/* ---- encode ------------------------------------------------------------- */

static gboolean
vae_encode (MelModel *model, const gint32 *segments, guint n, float *mu, float *logvar,
            GError **error)
{
  VaeModel *self = model->priv;
  const MelModelConfig *c = &model->config;
  gsize steps = c->segment_steps, h = c->hidden_size, l = c->latent_size;
  const gsize chunk = 64;
  MelGruLayer enc_f, enc_b;
  g_autofree gint32 *ids = g_new (gint32, steps * chunk);
  g_autofree gint32 *ids_rev = g_new (gint32, steps * chunk);
  g_autofree float *e = g_new (float, chunk * h);
  g_autofree float *post = g_new (float, chunk * 2 * l);

  for (gsize i = 0; i < (gsize) n * steps; i++)
    if (segments[i] < 0 || (guint32) segments[i] >= c->vocab_size)
      {
        g_set_error (error, MEL_MODEL_ERROR, MEL_MODEL_ERROR_INVALID_CONFIG,
                     "Symbol id %d of the segments lies outside the vocabulary", segments[i]);
        return FALSE;
      }
  update_tables (self);
  /* Private layers: the activations of the last forward stay intact. */
  mel_gru_layer_init (&enc_f, c->embed_dim, half_h (c), &self->params.enc_f, NULL);
  mel_gru_layer_init (&enc_b, c->embed_dim, half_h (c), &self->params.enc_b, NULL);
  for (gsize s0 = 0; s0 < n; s0 += chunk)
    {
      gsize bs = MIN (chunk, n - s0);

      for (gsize b = 0; b < bs; b++)
        for (gsize t = 0; t < steps; t++)
          {
            const gint32 *seq = segments + (s0 + b) * steps;

            ids[t * bs + b] = seq[t];
            ids_rev[t * bs + b] = seq[steps - 1 - t];
          }
      encode_rows (self, &enc_f, &enc_b, ids, ids_rev, steps, bs, e);
      mel_linear_forward (post, e, self->params.post_w, self->params.post_b, bs, h, 2 * l);
      for (gsize b = 0; b < bs; b++)
        {
          if (mu != NULL)
            memcpy (mu + (s0 + b) * l, post + b * 2 * l, l * sizeof (float));
          if (logvar != NULL)
            memcpy (logvar + (s0 + b) * l, post + b * 2 * l + l, l * sizeof (float));
        }
    }
  mel_gru_layer_clear (&enc_f);
  mel_gru_layer_clear (&enc_b);
  return TRUE;
}

/* ---- decoding state ------------------------------------------------------ */

static MelModelState *
vae_state_new (MelModel *model, const float *latent)
{
  VaeModel *self = model->priv;
  const MelModelConfig *c = &model->config;
  VaeState *state = g_new0 (VaeState, 1);
  gsize h = c->hidden_size, l = c->latent_size, nl = c->n_layers;
  g_autofree float *z = g_new0 (float, l);

  if (latent != NULL)
    memcpy (z, latent, l * sizeof (float));
  state->base.klass = model->klass;
  state->base.model = model;
  state->table = g_new (float, (gsize) c->vocab_size * 3 * h);
  state->zp = g_new (float, 3 * h);
  state->h = g_new (float, nl * h);
  state->xp = g_new (float, 3 * h);
  state->scratch = g_new (float, 4 * h);
  mel_gru_input_table (state->table, self->params.embedding, c->vocab_size, c->embed_dim,
                       &self->params.dec[0], h);
  mel_linear_forward (state->h, z, self->params.zh_w, self->params.zh_b, 1, l, nl * h);
  for (gsize i = 0; i < nl * h; i++)
    state->h[i] = tanhf (state->h[i]);
  mel_linear_forward (state->zp, z, self->params.zin_w, NULL, 1, l, 3 * h);
  return &state->base;
}

static void
vae_state_step (MelModelState *base, gint32 input, float *logits)
{
  VaeState *state = (VaeState *) base;
  VaeModel *self = base->model->priv;
  const MelModelConfig *c = &base->model->config;
  gsize h = c->hidden_size, g = 3 * h;
  const float *tab = state->table + (gsize) input * g;

  for (gsize j = 0; j < g; j++)
    state->xp[j] = tab[j] + state->zp[j];
  mel_gru_step (&self->params.dec[0], h, state->xp, state->h, state->scratch);
  for (guint k = 1; k < c->n_layers; k++)
    {
      const MelGruTensors *p = &self->params.dec[k];

      memcpy (state->xp, p->b_ih, g * sizeof (float));
      mel_sgemv (FALSE, g, h, 1.0f, p->w_ih, h, state->h + (k - 1) * h, 1.0f, state->xp);
      mel_gru_step (p, h, state->xp, state->h + k * h, state->scratch);
    }
  memcpy (logits, self->params.out_b, c->vocab_size * sizeof (float));
  mel_sgemv (FALSE, c->vocab_size, h, 1.0f, self->params.out_w, h,
             state->h + (c->n_layers - 1) * h, 1.0f, logits);
}

static void
vae_state_free (MelModelState *base)
{
  VaeState *state = (VaeState *) base;

  g_free (state->table);
  g_free (state->zp);
  g_free (state->h);
  g_free (state->xp);
  g_free (state->scratch);
  g_free (state);
}

const MelModelClass _mel_vae_model_class = {
  .name = "vae",
  .check_config = vae_check_config,
  .count_params = vae_count_params,
  .create = vae_create,
  .destroy = vae_destroy,
  .init_params = vae_init_params,
  .threads_changed = vae_threads_changed,
  .forward = vae_forward,
  .backward = vae_backward,
  .get_aux_loss = vae_get_aux_loss,
  .state_new = vae_state_new,
  .state_step = vae_state_step,
  .state_free = vae_state_free,
  .encode = vae_encode,
  .get_attention = NULL,
};
