/* mel-lstm-attn-model.c — embedding → LSTM layers → causal multi-head
 * self-attention → residual + layer norm → linear, a causal LM.
 *
 * Data flow of one forward (per worker, on its slice of the batch, all
 * buffers time-major [T × Bs × …]):
 *
 *   ids [B×T] ──gather──> ids_tm [T×Bs]
 *   layer 0:  input projection looked up in table [V × 4H] = E·W_ihᵀ + b_ih
 *   layer l:  h_l = LSTM_l (dropout (h_{l-1}))
 *   x = dropout (h_L)
 *   r = x + Attention (x)                  (causal: position t sees 0…t)
 *   logits = LayerNorm (r)·W_outᵀ + b_out ──scatter──> logits [B×T×V]
 *
 * Every position is trained, as in the GRU.  Dropout masks come from a
 * stream per (forward, layer, batch row), so results do not depend on the
 * number of threads.  Threads split the batch; each worker owns its
 * activations and (except worker 0) a private gradient buffer, summed into
 * model->grads after backward.
 *
 * Sampling keeps the LSTM states and a K/V cache of the attention, so a
 * step costs one LSTM step and one attention row, whatever the length.
 * With 2+ threads, the recurrent products of the next step run on a helper
 * thread beside the attention of this one (la_state_new).
 *
 * SPDX-License-Identifier: MIT
 */
#include "mel-model-private.h"

#include <math.h>
#include <string.h>

#include "mel-attention.h"
#include "mel-blas.h"
#include "mel-lstm.h"
#include "mel-simd-private.h"

/* Views into a parameter (or gradient) buffer, in this order. */
typedef struct
{
  float *embedding;         /* [V × E] */
  MelLstmTensors *lstm;     /* n_layers; layer 0 is E → H, the others H → H */
  MelAttentionTensors attn; /* H → H, n_heads */
  float *ln_w;              /* [H] */
  float *ln_b;              /* [H] */
  float *out_w;             /* [V × H] */
  float *out_b;             /* [V] */
} LaTensors;

typedef struct
{
  guint b0, b1;
  float *grad_buffer;       /* private gradients (NULL for worker 0), owned */
  LaTensors grads;
  MelLstmLayer *layers;     /* n_layers */
  MelAttentionLayer attn;
  gsize capacity;           /* T × Bs rows the buffers below hold */
  gint32 *ids;              /* [T × Bs] */
  float **masks;            /* n_layers × [T × Bs × H] dropout masks */
  float **dropped;          /* n_layers × [T × Bs × H] dropout outputs */
  float **dh;               /* n_layers × [T × Bs × H] ∂loss/∂(layer output) */
  float *resid;             /* [T × Bs × H] x + attention */
  float *normed;            /* [T × Bs × H] layer norm output */
  float *mean, *rstd;       /* [T × Bs] */
  float *dresid;            /* [T × Bs × H] */
  float *logits;            /* [T × Bs × V], reused for ∂logits */
  float *dtable;            /* [V × 4H] */
  gboolean dropout_on;
} LaWorker;

typedef struct
{
  MelModel *model;
  LaTensors params;
  guint n_workers;
  LaWorker *workers;
  float *table;             /* [V × 4H] for the last forward */
  float *logits;            /* [B × T × V] */
  gsize logits_capacity;
  const gint32 *inputs;
  const float *dlogits;
  MelHelper *helper;        /* for sampling states (la_state_new), created on demand */
  gint helper_in_use;       /* atomic: a state holds the helper */
} LaModel;

typedef struct
{
  MelModelState base;
  float *table;             /* [V × 4H], from the parameters at state_new */
  float *h, *c;             /* [L × H] */
  float *xp;                /* [4H] */
  float *att;               /* [H] attention output, then the residual */
  float *normed;            /* [H] */
  MelAttentionCache *cache;
  float *gh;                /* [L × 4H] W_hh·h of every layer, for the next step */
  MelHelper *helper;        /* computes gh beside the attention (2+ threads), or NULL */
  gboolean job_started;     /* the helper has the job below */
  float *job_h;             /* [L × H] the job's copy of h */
  float *job_gh;            /* [L × 4H] its result */
} LaState;

static gboolean
la_check_config (const MelModelConfig *c, GError **error)
{
  if (c->n_heads < 1 || c->n_heads > c->hidden_size || c->hidden_size % c->n_heads != 0)
    {
      g_set_error (error, MEL_MODEL_ERROR, MEL_MODEL_ERROR_INVALID_CONFIG,
                   "Hidden size %u must be a multiple of the number of attention heads %u",
                   c->hidden_size, c->n_heads);
      return FALSE;
    }
  return TRUE;
}

static gsize
la_count_params (const MelModelConfig *c)
{
  gsize v = c->vocab_size, e = c->embed_dim, h = c->hidden_size;
  gsize n = v * e + mel_attention_n_params (h) + 2 * h + v * h + v;

  for (guint l = 0; l < c->n_layers; l++)
    n += mel_lstm_n_params (l == 0 ? e : h, h);
  return n;
}

static void
la_bind (LaTensors *t, float *base, const MelModelConfig *c)
{
  gsize v = c->vocab_size, e = c->embed_dim, h = c->hidden_size;
  float *p = base;

  t->embedding = p;
  p += v * e;
  t->lstm = g_new0 (MelLstmTensors, c->n_layers);
  for (guint l = 0; l < c->n_layers; l++)
    p = mel_lstm_bind (&t->lstm[l], p, l == 0 ? e : h, h);
  p = mel_attention_bind (&t->attn, p, h);
  t->ln_w = p;
  p += h;
  t->ln_b = p;
  p += h;
  t->out_w = p;
  p += v * h;
  t->out_b = p;
  p += v;
  g_assert ((gsize) (p - base) == la_count_params (c));
}

static void
la_unbind (LaTensors *t)
{
  g_clear_pointer (&t->lstm, g_free);
}

static void
worker_clear_buffers (LaWorker *w, guint n_layers)
{
  for (guint l = 0; l < n_layers; l++)
    {
      if (w->layers != NULL)
        mel_lstm_layer_clear (&w->layers[l]);
      if (w->masks != NULL)
        {
          g_clear_pointer (&w->masks[l], g_free);
          g_clear_pointer (&w->dropped[l], g_free);
          g_clear_pointer (&w->dh[l], g_free);
        }
    }
  mel_attention_layer_clear (&w->attn);
  g_clear_pointer (&w->ids, g_free);
  g_clear_pointer (&w->resid, g_free);
  g_clear_pointer (&w->normed, g_free);
  g_clear_pointer (&w->mean, g_free);
  g_clear_pointer (&w->rstd, g_free);
  g_clear_pointer (&w->dresid, g_free);
  g_clear_pointer (&w->logits, g_free);
  w->capacity = 0;
}

static void
workers_destroy (LaModel *self)
{
  guint n_layers = self->model->config.n_layers;

  for (guint i = 0; i < self->n_workers; i++)
    {
      LaWorker *w = &self->workers[i];

      worker_clear_buffers (w, n_layers);
      g_free (w->layers);
      g_free (w->masks);
      g_free (w->dropped);
      g_free (w->dh);
      g_free (w->dtable);
      la_unbind (&w->grads);
      g_aligned_free (w->grad_buffer);
    }
  g_clear_pointer (&self->workers, g_free);
  self->n_workers = 0;
}

static void
workers_ensure (LaModel *self)
{
  MelModel *model = self->model;
  const MelModelConfig *c = &model->config;
  guint n = model->n_threads;

  if (self->n_workers == n)
    return;
  workers_destroy (self);
  self->workers = g_new0 (LaWorker, n);
  self->n_workers = n;
  for (guint i = 0; i < n; i++)
    {
      LaWorker *w = &self->workers[i];
      float *grads = model->grads;

      if (i > 0)
        grads = w->grad_buffer = g_aligned_alloc0 (model->n_params, sizeof (float), 64);
      la_bind (&w->grads, grads, c);
      w->layers = g_new0 (MelLstmLayer, c->n_layers);
      for (guint l = 0; l < c->n_layers; l++)
        mel_lstm_layer_init (&w->layers[l], l == 0 ? c->embed_dim : c->hidden_size,
                             c->hidden_size, &self->params.lstm[l], &w->grads.lstm[l]);
      mel_attention_layer_init (&w->attn, c->hidden_size, c->n_heads, TRUE, &self->params.attn,
                                &w->grads.attn);
      w->masks = g_new0 (float *, c->n_layers);
      w->dropped = g_new0 (float *, c->n_layers);
      w->dh = g_new0 (float *, c->n_layers);
      w->dtable = g_new (float, (gsize) c->vocab_size * 4 * c->hidden_size);
    }
}

static void
worker_reserve (LaWorker *w, const MelModelConfig *c, gsize rows, gboolean dropout)
{
  gsize h = c->hidden_size;

  if (rows > w->capacity)
    {
      worker_clear_buffers (w, c->n_layers);
      w->capacity = rows;
      w->ids = g_new (gint32, rows);
      w->resid = g_new (float, rows * h);
      w->normed = g_new (float, rows * h);
      w->mean = g_new (float, rows);
      w->rstd = g_new (float, rows);
      w->dresid = g_new (float, rows * h);
      w->logits = g_new (float, rows * c->vocab_size);
      for (guint l = 0; l < c->n_layers; l++)
        w->dh[l] = g_new (float, rows * h);
    }
  if (dropout && w->masks[0] == NULL)
    for (guint l = 0; l < c->n_layers; l++)
      {
        w->masks[l] = g_new (float, w->capacity * h);
        w->dropped[l] = g_new (float, w->capacity * h);
      }
}

/* ---- forward ------------------------------------------------------------ */

static void
worker_dropout_masks (LaModel *self, LaWorker *w, guint layer, gsize steps)
{
  MelModel *model = self->model;
  gsize h = model->config.hidden_size, bs = w->b1 - w->b0;

  for (gsize b = 0; b < bs; b++)
    {
      MelRng rng;

      mel_rng_init (&rng, mel_rng_mix (model->rng_seed, model->n_forwards, layer, w->b0 + b));
      for (gsize t = 0; t < steps; t++)
        mel_dropout_mask (w->masks[layer] + (t * bs + b) * h, h, model->config.dropout, &rng);
    }
}

static void
worker_forward (gpointer data, guint index, guint n)
{
  LaModel *self = data;
  MelModel *model = self->model;
  const MelModelConfig *c = &model->config;
  LaWorker *w = &self->workers[index];
  gsize steps = model->last_steps, bs, rows, v = c->vocab_size, h = c->hidden_size;
  const float *x, *a;

  _mel_split_batch (model->last_batch, index, n, &w->b0, &w->b1);
  bs = w->b1 - w->b0;
  if (bs == 0)
    return;
  rows = steps * bs;
  w->dropout_on = model->training && c->dropout > 0.0f;
  worker_reserve (w, c, rows, w->dropout_on);

  for (gsize b = 0; b < bs; b++)
    for (gsize t = 0; t < steps; t++)
      w->ids[t * bs + b] = self->inputs[(w->b0 + b) * steps + t];

  x = mel_lstm_forward_table (&w->layers[0], self->table, w->ids, steps, bs);
  for (guint l = 0; l < c->n_layers; l++)
    {
      if (l > 0)
        x = mel_lstm_forward (&w->layers[l], x, steps, bs);
      if (w->dropout_on)
        {
          worker_dropout_masks (self, w, l, steps);
          mel_dropout_forward (w->dropped[l], x, w->masks[l], rows * h);
          x = w->dropped[l];
        }
    }

  a = mel_attention_forward (&w->attn, x, steps, bs);
  for (gsize i = 0; i < rows * h; i++)
    w->resid[i] = x[i] + a[i];
  mel_layernorm_forward (w->normed, w->mean, w->rstd, w->resid, self->params.ln_w,
                         self->params.ln_b, rows, h);
  mel_linear_forward (w->logits, w->normed, self->params.out_w, self->params.out_b, rows, h, v);
  for (gsize b = 0; b < bs; b++)
    for (gsize t = 0; t < steps; t++)
      memcpy (self->logits + ((w->b0 + b) * steps + t) * v, w->logits + (t * bs + b) * v,
              v * sizeof (float));
}

static const float *
la_forward (MelModel *model, const gint32 *inputs, guint batch, guint steps)
{
  LaModel *self = model->priv;
  const MelModelConfig *c = &model->config;
  gsize need = (gsize) batch * steps * c->vocab_size;

  workers_ensure (self);
  if (need > self->logits_capacity)
    {
      g_free (self->logits);
      self->logits = g_new (float, need);
      self->logits_capacity = need;
    }
  mel_lstm_input_table (self->table, self->params.embedding, c->vocab_size, c->embed_dim,
                        &self->params.lstm[0], c->hidden_size);
  model->last_batch = batch;
  model->last_steps = steps;
  self->inputs = inputs;
  mel_workers_run (model->workers, worker_forward, self);
  self->inputs = NULL;
  return self->logits;
}

/* ---- backward ----------------------------------------------------------- */

static void
worker_backward (gpointer data, guint index, guint n)
{
  LaModel *self = data;
  MelModel *model = self->model;
  const MelModelConfig *c = &model->config;
  LaWorker *w = &self->workers[index];
  gsize steps = model->last_steps, bs = w->b1 - w->b0, rows = steps * bs;
  gsize v = c->vocab_size, h = c->hidden_size, e = c->embed_dim;
  guint top = c->n_layers - 1;
  float *dnormed;

  (void) n;
  if (w->grad_buffer != NULL)
    memset (w->grad_buffer, 0, model->n_params * sizeof (float));
  if (bs == 0)
    return;

  for (gsize b = 0; b < bs; b++)
    for (gsize t = 0; t < steps; t++)
      memcpy (w->logits + (t * bs + b) * v, self->dlogits + ((w->b0 + b) * steps + t) * v,
              v * sizeof (float));

  /* The layer norm's input gradient goes to dresid; its output gradient
   * borrows the top layer's ∂ buffer, which is free until then. */
  dnormed = w->dh[top];
  memset (dnormed, 0, rows * h * sizeof (float));
  mel_linear_backward (dnormed, w->grads.out_w, w->grads.out_b, w->logits, w->normed,
                       self->params.out_w, rows, h, v);
  memset (w->dresid, 0, rows * h * sizeof (float));
  mel_layernorm_backward (w->dresid, w->grads.ln_w, w->grads.ln_b, dnormed, w->resid,
                          self->params.ln_w, w->mean, w->rstd, rows, h);
  /* r = x + attention (x): both paths reach x. */
  memcpy (w->dh[top], w->dresid, rows * h * sizeof (float));
  mel_attention_backward (&w->attn, w->dresid, w->dh[top]);

  for (guint l = c->n_layers; l-- > 0;)
    {
      if (w->dropout_on)
        {
          float *restrict d = w->dh[l];
          const float *restrict m = w->masks[l];

          for (gsize i = 0; i < rows * h; i++)
            d[i] *= m[i];
        }
      if (l > 0)
        {
          memset (w->dh[l - 1], 0, rows * h * sizeof (float));
          mel_lstm_backward (&w->layers[l], w->dh[l], w->dh[l - 1], NULL);
        }
      else
        {
          memset (w->dtable, 0, v * 4 * h * sizeof (float));
          mel_lstm_backward (&w->layers[0], w->dh[0], NULL, w->dtable);
          mel_lstm_input_table_backward (&w->grads.lstm[0], w->grads.embedding, w->dtable,
                                         self->params.embedding, &self->params.lstm[0], v, e, h);
        }
    }
}

static void
la_backward (MelModel *model, const float *dlogits, float aux_weight)
{
  LaModel *self = model->priv;
  g_autofree float **extra = g_new0 (float *, self->n_workers);

  (void) aux_weight;
  self->dlogits = dlogits;
  mel_workers_run (model->workers, worker_backward, self);
  self->dlogits = NULL;
  if (self->n_workers > 1)
    {
      for (guint i = 1; i < self->n_workers; i++)
        extra[i - 1] = self->workers[i].grad_buffer;
      _mel_model_reduce_grads (model, extra, self->n_workers - 1);
    }
}

/* ---- life cycle ---------------------------------------------------------- */

static gpointer
la_create (MelModel *model)
{
  LaModel *self = g_new0 (LaModel, 1);
  const MelModelConfig *c = &model->config;

  self->model = model;
  la_bind (&self->params, model->params, c);
  self->table = g_new (float, (gsize) c->vocab_size * 4 * c->hidden_size);
  return self;
}

static void
la_destroy (gpointer priv)
{
  LaModel *self = priv;

  workers_destroy (self);
  mel_helper_free (self->helper);
  la_unbind (&self->params);
  g_free (self->table);
  g_free (self->logits);
  g_free (self);
}

static void
la_init_params (MelModel *model, MelRng *rng)
{
  LaModel *self = model->priv;
  const MelModelConfig *c = &model->config;
  gsize v = c->vocab_size, h = c->hidden_size, e = c->embed_dim;
  float bound = 1.0f / sqrtf ((float) h);

  /* PyTorch's defaults: N(0, 1) embeddings, U(±1/√fan_in) for the LSTM,
   * the attention and the output layer, layer norm w = 1, b = 0. */
  mel_rng_fill_normal (rng, self->params.embedding, v * e, 1.0f);
  for (guint l = 0; l < c->n_layers; l++)
    mel_lstm_init_params (&self->params.lstm[l], l == 0 ? e : h, h, rng);
  mel_attention_init_params (&self->params.attn, h, rng);
  for (gsize i = 0; i < h; i++)
    {
      self->params.ln_w[i] = 1.0f;
      self->params.ln_b[i] = 0.0f;
    }
  mel_rng_fill_uniform (rng, self->params.out_w, v * h, bound);
  mel_rng_fill_uniform (rng, self->params.out_b, v, bound);
}

static void
la_threads_changed (MelModel *model)
{
  workers_destroy (model->priv);
}

/* ---- sampling state ------------------------------------------------------ */

static MelModelState *
la_state_new (MelModel *model, const float *latent)
{
  LaModel *self = model->priv;
  const MelModelConfig *c = &model->config;
  LaState *state = g_new0 (LaState, 1);
  gsize h = c->hidden_size;

  (void) latent;
  state->base.klass = model->klass;
  state->base.model = model;
  state->table = g_new (float, (gsize) c->vocab_size * 4 * h);
  state->h = g_new0 (float, c->n_layers * h);
  state->c = g_new0 (float, c->n_layers * h);
  state->xp = g_new (float, 4 * h);
  state->att = g_new (float, h);
  state->normed = g_new (float, h);
  state->cache = mel_attention_cache_new (h, c->n_heads);
  state->gh = g_new0 (float, c->n_layers * 4 * h); /* W_hh·0 */
  /* A step streams ~2 MB of weights, twice one core's L2.  With a second
   * thread, the recurrent products of the next step (W_hh, 1 MB per layer)
   * run there while this thread does the attention (1 MB): each core keeps
   * its matrices in its own L2, and the products leave the critical path.
   * The helper thread is the model's, kept between states (starting a
   * thread for each sample costs more than it saves on a busy machine);
   * one state at a time uses it, others run alone. */
  if (model->n_threads > 1 && g_atomic_int_compare_and_exchange (&self->helper_in_use, 0, 1))
    {
      if (self->helper == NULL)
        self->helper = mel_helper_new ();
      state->helper = self->helper;
      state->job_h = g_new (float, c->n_layers * h);
      state->job_gh = g_new (float, c->n_layers * 4 * h);
    }
  mel_lstm_input_table (state->table, self->params.embedding, c->vocab_size, c->embed_dim,
                        &self->params.lstm[0], h);
  return &state->base;
}

/* gh_l = W_hh_l · h_l for every layer. */
static void
la_state_recurrent (const LaState *state, const float *hs, float *gh)
{
  LaModel *self = state->base.model->priv;
  const MelModelConfig *c = &state->base.model->config;
  gsize h = c->hidden_size;

  for (guint l = 0; l < c->n_layers; l++)
    mel_lstm_step_recurrent (&self->params.lstm[l], h, hs + l * h, gh + l * 4 * h);
}

/* The helper's job: the same on its own buffers. */
static void
la_state_recurrent_job (gpointer data)
{
  LaState *state = data;

  la_state_recurrent (state, state->job_h, state->job_gh);
}

/* Makes state->gh = W_hh·h for the next step: hands it to the helper when
 * there is one (la_state_recurrent_finish collects it), else computes it. */
static void
la_state_recurrent_start (LaState *state)
{
  const MelModelConfig *c = &state->base.model->config;

  if (state->helper != NULL && mel_helper_acquire (state->helper))
    {
      memcpy (state->job_h, state->h, c->n_layers * c->hidden_size * sizeof (float));
      mel_helper_start (state->helper, la_state_recurrent_job, state);
      state->job_started = TRUE;
    }
  else
    la_state_recurrent (state, state->h, state->gh);
}

static void
la_state_recurrent_finish (LaState *state)
{
  const MelModelConfig *c = &state->base.model->config;

  if (!state->job_started)
    return;
  state->job_started = FALSE;
  if (mel_helper_finish (state->helper))
    memcpy (state->gh, state->job_gh, c->n_layers * 4 * c->hidden_size * sizeof (float));
  else /* abandoned: h has not changed since the job started */
    la_state_recurrent (state, state->h, state->gh);
}

/* One step; @weights (nullable) receives the attention weights of every
 * head for this position ([heads × (t+1)]).  The same arithmetic with and
 * without a helper, so the samples do not depend on the thread count. */
static void
la_state_step_full (LaState *state, gint32 input, float *logits, float *weights)
{
  LaModel *self = state->base.model->priv;
  const MelModelConfig *c = &state->base.model->config;
  gsize h = c->hidden_size;
  const float *top;
  float mean, rstd;

  la_state_recurrent_finish (state); /* gh of the previous step's h */
  mel_lstm_step_gates (&self->params.lstm[0], h, state->table + (gsize) input * 4 * h, state->gh,
                       state->h, state->c);
  for (guint l = 1; l < c->n_layers; l++)
    {
      const MelLstmTensors *p = &self->params.lstm[l];

      memcpy (state->xp, p->b_ih, 4 * h * sizeof (float));
      _mel_matvec (4 * h, h, p->w_ih, h, state->h + (l - 1) * h, state->xp);
      mel_lstm_step_gates (p, h, state->xp, state->gh + l * 4 * h, state->h + l * h,
                           state->c + l * h);
    }
  la_state_recurrent_start (state);
  top = state->h + (c->n_layers - 1) * h;
  mel_attention_step (&self->params.attn, state->cache, top, state->att, weights);
  for (gsize i = 0; i < h; i++)
    state->att[i] += top[i];
  mel_layernorm_forward (state->normed, &mean, &rstd, state->att, self->params.ln_w,
                         self->params.ln_b, 1, h);
  memcpy (logits, self->params.out_b, c->vocab_size * sizeof (float));
  _mel_matvec (c->vocab_size, h, self->params.out_w, h, state->normed, logits);
}

static void
la_state_step (MelModelState *base, gint32 input, float *logits)
{
  la_state_step_full ((LaState *) base, input, logits, NULL);
}

static void
la_state_free (MelModelState *base)
{
  LaState *state = (LaState *) base;

  if (state->helper != NULL)
    {
      LaModel *self = state->base.model->priv;

      mel_helper_sync (state->helper); /* first: a job may still use the buffers */
      g_atomic_int_set (&self->helper_in_use, 0);
    }
  g_free (state->table);
  g_free (state->h);
  g_free (state->c);
  g_free (state->xp);
  g_free (state->att);
  g_free (state->normed);
  mel_attention_cache_free (state->cache);
  g_free (state->gh);
  g_free (state->job_h);
  g_free (state->job_gh);
  g_free (state);
}

/* The weights come from the incremental path, which computes exactly the
 * rows of the causal forward and leaves the training activations alone. */
static gboolean
la_get_attention (MelModel *model, const gint32 *ids, guint steps, float *weights,
                  GError **error)
{
  const MelModelConfig *c = &model->config;
  LaState *state = (LaState *) la_state_new (model, NULL);
  g_autofree float *logits = g_new (float, c->vocab_size);
  g_autofree float *row = g_new (float, (gsize) c->n_heads * steps);
  gsize nh = c->n_heads;

  (void) error;
  memset (weights, 0, nh * steps * steps * sizeof (float));
  for (guint t = 0; t < steps; t++)
    {
      la_state_step_full (state, ids[t], logits, row);
      for (gsize hd = 0; hd < nh; hd++)
        memcpy (weights + (hd * steps + t) * steps, row + hd * (t + 1),
                (t + 1) * sizeof (float));
    }
  la_state_free (&state->base);
  return TRUE;
}

const MelModelClass _mel_lstm_attn_model_class = {
  .name = "lstm-attn",
  .check_config = la_check_config,
  .count_params = la_count_params,
  .create = la_create,
  .destroy = la_destroy,
  .init_params = la_init_params,
  .threads_changed = la_threads_changed,
  .forward = la_forward,
  .backward = la_backward,
  .get_aux_loss = NULL,
  .state_new = la_state_new,
  .state_step = la_state_step,
  .state_free = la_state_free,
  .encode = NULL,
  .get_attention = la_get_attention,
};
