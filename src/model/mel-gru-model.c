/* mel-gru-model.c — embedding → GRU layers → linear, a causal LM.
 *
 * Data flow of one forward (per worker, on its slice of the batch):
 *
 *   ids [B×T] ──gather (time-major)──> ids_tm [T×Bs]
 *   layer 0:  input projection looked up in table [V × 3H] = E·W_ihᵀ + b_ih
 *   layer l:  h_l = GRU_l (dropout (h_{l-1}))
 *   logits_tm [T×Bs×V] = dropout (h_L)·W_outᵀ + b_out ──scatter──> logits [B×T×V]
 *
 * Dropout (when config.dropout > 0 and training) follows every GRU layer,
 * so it sits between recurrent layers and before the output projection.
 * Its masks come from a stream per (forward, layer, batch row), so the
 * result does not depend on the number of threads.
 *
 * Threads: the batch is split across the model's MelWorkers; each worker
 * owns its activations (MelGruLayer caches) and, except worker 0, a private
 * gradient buffer that is summed into model->grads after backward.
 *
 * SPDX-License-Identifier: MIT
 */
#include "mel-model-private.h"

#include <math.h>
#include <string.h>

/* Views into a parameter (or gradient) buffer, in this order. */
typedef struct
{
  float *embedding;   /* [V × E] */
  MelGruTensors *gru; /* n_layers; layer 0 is E → H, the others H → H */
  float *out_w;       /* [V × H] */
  float *out_b;       /* [V] */
} GruTensors;

typedef struct
{
  guint b0, b1;          /* batch rows of this worker in the last forward */
  float *grad_buffer;    /* private gradients (NULL for worker 0), owned */
  GruTensors grads;      /* views into model->grads or grad_buffer */
  MelGruLayer *layers;   /* n_layers */
  gsize capacity;        /* T × Bs rows the buffers below hold */
  gint32 *ids;           /* [T × Bs] */
  float **masks;         /* n_layers × [T × Bs × H] dropout masks */
  float **dropped;       /* n_layers × [T × Bs × H] dropout outputs */
  float **dh;            /* n_layers × [T × Bs × H] ∂loss/∂(layer output) */
  float *logits;         /* [T × Bs × V], reused for ∂logits in backward */
  float *dtable;         /* [V × 3H] */
  gboolean dropout_on;   /* dropout was applied in the last forward */
} GruWorker;

typedef struct
{
  MelModel *model;
  GruTensors params;
  guint n_workers;
  GruWorker *workers;
  float *table;          /* [V × 3H] for the last forward */
  float *logits;         /* [B × T × V] */
  gsize logits_capacity;
  /* the job being run */
  const gint32 *inputs;
  const float *dlogits;
} GruModel;

typedef struct
{
  MelModelState base;
  float *table;          /* [V × 3H], from the parameters at state_new */
  float *h;              /* [L × H] */
  float *xp;             /* [3H] */
  float *scratch;        /* [4H] */
} GruState;

static gsize
gru_count_params (const MelModelConfig *c)
{
  gsize v = c->vocab_size, e = c->embed_dim, h = c->hidden_size;
  gsize n = v * e + v * h + v;

  for (guint l = 0; l < c->n_layers; l++)
    n += mel_gru_n_params (l == 0 ? e : h, h);
  return n;
}

static void
gru_bind (GruTensors *t, float *base, const MelModelConfig *c)
{
  gsize v = c->vocab_size, e = c->embed_dim, h = c->hidden_size;
  float *p = base;

  t->embedding = p;
  p += v * e;
  t->gru = g_new0 (MelGruTensors, c->n_layers);
  for (guint l = 0; l < c->n_layers; l++)
    p = mel_gru_bind (&t->gru[l], p, l == 0 ? e : h, h);
  t->out_w = p;
  p += v * h;
  t->out_b = p;
  p += v;
  g_assert ((gsize) (p - base) == gru_count_params (c));
}

static void
gru_unbind (GruTensors *t)
{
  g_clear_pointer (&t->gru, g_free);
}

static void
worker_clear_buffers (GruWorker *w, guint n_layers)
{
  for (guint l = 0; l < n_layers; l++)
    {
      if (w->layers != NULL)
        mel_gru_layer_clear (&w->layers[l]);
      if (w->masks != NULL)
        {
          g_clear_pointer (&w->masks[l], g_free);
          g_clear_pointer (&w->dropped[l], g_free);
          g_clear_pointer (&w->dh[l], g_free);
        }
    }
  g_clear_pointer (&w->ids, g_free);
  g_clear_pointer (&w->logits, g_free);
  w->capacity = 0;
}

static void
workers_destroy (GruModel *self)
{
  guint n_layers = self->model->config.n_layers;

  for (guint i = 0; i < self->n_workers; i++)
    {
      GruWorker *w = &self->workers[i];

      worker_clear_buffers (w, n_layers);
      g_free (w->layers);
      g_free (w->masks);
      g_free (w->dropped);
      g_free (w->dh);
      g_free (w->dtable);
      gru_unbind (&w->grads);
      g_aligned_free (w->grad_buffer);
    }
  g_clear_pointer (&self->workers, g_free);
  self->n_workers = 0;
}

static void
workers_ensure (GruModel *self)
{
  MelModel *model = self->model;
  const MelModelConfig *c = &model->config;
  guint n = model->n_threads;

  if (self->n_workers == n)
    return;
  workers_destroy (self);
  self->workers = g_new0 (GruWorker, n);
  self->n_workers = n;
  for (guint i = 0; i < n; i++)
    {
      GruWorker *w = &self->workers[i];
      float *grads = model->grads;

      if (i > 0)
        grads = w->grad_buffer = g_aligned_alloc0 (model->n_params, sizeof (float), 64);
      gru_bind (&w->grads, grads, c);
      w->layers = g_new0 (MelGruLayer, c->n_layers);
      for (guint l = 0; l < c->n_layers; l++)
        mel_gru_layer_init (&w->layers[l], l == 0 ? c->embed_dim : c->hidden_size,
                            c->hidden_size, &self->params.gru[l], &w->grads.gru[l]);
      w->masks = g_new0 (float *, c->n_layers);
      w->dropped = g_new0 (float *, c->n_layers);
      w->dh = g_new0 (float *, c->n_layers);
      w->dtable = g_new (float, (gsize) c->vocab_size * 3 * c->hidden_size);
    }
}

static void
worker_reserve (GruWorker *w, const MelModelConfig *c, gsize rows, gboolean dropout)
{
  gsize h = c->hidden_size;

  if (rows > w->capacity)
    {
      worker_clear_buffers (w, c->n_layers);
      w->capacity = rows;
      w->ids = g_new (gint32, rows);
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
worker_dropout_masks (GruModel *self, GruWorker *w, guint layer, gsize steps)
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
  GruModel *self = data;
  MelModel *model = self->model;
  const MelModelConfig *c = &model->config;
  GruWorker *w = &self->workers[index];
  gsize steps = model->last_steps, batch, bs, v = c->vocab_size, h = c->hidden_size;
  const float *x;

  batch = model->last_batch;
  _mel_split_batch ((guint) batch, index, n, &w->b0, &w->b1);
  bs = w->b1 - w->b0;
  if (bs == 0)
    return;
  w->dropout_on = model->training && c->dropout > 0.0f;
  worker_reserve (w, c, steps * bs, w->dropout_on);

  for (gsize b = 0; b < bs; b++)
    for (gsize t = 0; t < steps; t++)
      w->ids[t * bs + b] = self->inputs[(w->b0 + b) * steps + t];

  x = mel_gru_forward_table (&w->layers[0], self->table, w->ids, NULL, steps, bs);
  for (guint l = 0; l < c->n_layers; l++)
    {
      if (l > 0)
        x = mel_gru_forward (&w->layers[l], x, NULL, steps, bs);
      if (w->dropout_on)
        {
          worker_dropout_masks (self, w, l, steps);
          mel_dropout_forward (w->dropped[l], x, w->masks[l], steps * bs * h);
          x = w->dropped[l];
        }
    }

  mel_linear_forward (w->logits, x, self->params.out_w, self->params.out_b, steps * bs, h, v);
  for (gsize b = 0; b < bs; b++)
    for (gsize t = 0; t < steps; t++)
      memcpy (self->logits + ((w->b0 + b) * steps + t) * v, w->logits + (t * bs + b) * v,
              v * sizeof (float));
}

static const float *
gru_forward (MelModel *model, const gint32 *inputs, guint batch, guint steps)
{
  GruModel *self = model->priv;
  const MelModelConfig *c = &model->config;
  gsize need = (gsize) batch * steps * c->vocab_size;

  workers_ensure (self);
  if (need > self->logits_capacity)
    {
      g_free (self->logits);
      self->logits = g_new (float, need);
      self->logits_capacity = need;
    }
  mel_gru_input_table (self->table, self->params.embedding, c->vocab_size, c->embed_dim,
                       &self->params.gru[0], c->hidden_size);
  /* The workers read the shape from the model. */
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
  GruModel *self = data;
  MelModel *model = self->model;
  const MelModelConfig *c = &model->config;
  GruWorker *w = &self->workers[index];
  gsize steps = model->last_steps, bs = w->b1 - w->b0, rows = steps * bs;
  gsize v = c->vocab_size, h = c->hidden_size, e = c->embed_dim;
  guint top = c->n_layers - 1;
  const float *x_top;

  if (w->grad_buffer != NULL)
    memset (w->grad_buffer, 0, model->n_params * sizeof (float));
  if (bs == 0)
    return;

  for (gsize b = 0; b < bs; b++)
    for (gsize t = 0; t < steps; t++)
      memcpy (w->logits + (t * bs + b) * v, self->dlogits + ((w->b0 + b) * steps + t) * v,
              v * sizeof (float));

  x_top = w->dropout_on ? w->dropped[top] : w->layers[top].h + bs * h;
  memset (w->dh[top], 0, rows * h * sizeof (float));
  mel_linear_backward (w->dh[top], w->grads.out_w, w->grads.out_b, w->logits, x_top,
                       self->params.out_w, rows, h, v);

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
          mel_gru_backward (&w->layers[l], w->dh[l], w->dh[l - 1], NULL, NULL);
        }
      else
        {
          memset (w->dtable, 0, v * 3 * h * sizeof (float));
          mel_gru_backward (&w->layers[0], w->dh[0], NULL, w->dtable, NULL);
          mel_gru_input_table_backward (&w->grads.gru[0], w->grads.embedding, w->dtable,
                                        self->params.embedding, &self->params.gru[0], v, e, h);
        }
    }
}

static void
gru_backward (MelModel *model, const float *dlogits, float aux_weight)
{
  GruModel *self = model->priv;
  g_autofree float **extra = g_new0 (float *, self->n_workers);

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
gru_create (MelModel *model)
{
  GruModel *self = g_new0 (GruModel, 1);
  const MelModelConfig *c = &model->config;

  self->model = model;
  gru_bind (&self->params, model->params, c);
  self->table = g_new (float, (gsize) c->vocab_size * 3 * c->hidden_size);
  return self;
}

static void
gru_destroy (gpointer priv)
{
  GruModel *self = priv;

  workers_destroy (self);
  gru_unbind (&self->params);
  g_free (self->table);
  g_free (self->logits);
  g_free (self);
}

static void
gru_init_params (MelModel *model, MelRng *rng)
{
  GruModel *self = model->priv;
  const MelModelConfig *c = &model->config;
  gsize v = c->vocab_size, h = c->hidden_size, e = c->embed_dim;
  float bound = 1.0f / sqrtf ((float) h);

  /* PyTorch's defaults: N(0, 1) embeddings, U(±1/√H) for the GRU and the
   * output layer (whose input is H wide). */
  mel_rng_fill_normal (rng, self->params.embedding, v * e, 1.0f);
  for (guint l = 0; l < c->n_layers; l++)
    mel_gru_init_params (&self->params.gru[l], l == 0 ? e : h, h, rng);
  mel_rng_fill_uniform (rng, self->params.out_w, v * h, bound);
  mel_rng_fill_uniform (rng, self->params.out_b, v, bound);
}

static void
gru_threads_changed (MelModel *model)
{
  /* Workers are rebuilt at the next forward. */
  workers_destroy (model->priv);
}

/* ---- sampling state ------------------------------------------------------ */

static MelModelState *
gru_state_new (MelModel *model, const float *latent)
{
  GruModel *self = model->priv;
  const MelModelConfig *c = &model->config;
  GruState *state = g_new0 (GruState, 1);
  gsize h = c->hidden_size;

  state->base.klass = model->klass;
  state->base.model = model;
  state->table = g_new (float, (gsize) c->vocab_size * 3 * h);
  state->h = g_new0 (float, c->n_layers * h);
  state->xp = g_new (float, 3 * h);
  state->scratch = g_new (float, 4 * h);
  mel_gru_input_table (state->table, self->params.embedding, c->vocab_size, c->embed_dim,
                       &self->params.gru[0], h);
  return &state->base;
}

static void
gru_state_step (MelModelState *base, gint32 input, float *logits)
{
  GruState *state = (GruState *) base;
  GruModel *self = base->model->priv;
  const MelModelConfig *c = &base->model->config;
  gsize h = c->hidden_size;

  mel_gru_step (&self->params.gru[0], h, state->table + (gsize) input * 3 * h, state->h,
                state->scratch);
  for (guint l = 1; l < c->n_layers; l++)
    {
      const MelGruTensors *p = &self->params.gru[l];

      memcpy (state->xp, p->b_ih, 3 * h * sizeof (float));
      mel_sgemv (FALSE, 3 * h, h, 1.0f, p->w_ih, h, state->h + (l - 1) * h, 1.0f, state->xp);
      mel_gru_step (p, h, state->xp, state->h + l * h, state->scratch);
    }
  memcpy (logits, self->params.out_b, c->vocab_size * sizeof (float));
  mel_sgemv (FALSE, c->vocab_size, h, 1.0f, self->params.out_w, h,
             state->h + (c->n_layers - 1) * h, 1.0f, logits);
}

static void
gru_state_free (MelModelState *base)
{
  GruState *state = (GruState *) base;

  g_free (state->table);
  g_free (state->h);
  g_free (state->xp);
  g_free (state->scratch);
  g_free (state);
}

const MelModelClass _mel_gru_model_class = {
  .name = "gru",
  .check_config = NULL,
  .count_params = gru_count_params,
  .create = gru_create,
  .destroy = gru_destroy,
  .init_params = gru_init_params,
  .threads_changed = gru_threads_changed,
  .forward = gru_forward,
  .backward = gru_backward,
  .get_aux_loss = NULL,
  .state_new = gru_state_new,
  .state_step = gru_state_step,
  .state_free = gru_state_free,
  .encode = NULL,
};
