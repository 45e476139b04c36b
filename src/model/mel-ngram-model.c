/* mel-ngram-model.c — the baseline: a variable-order n-gram over the same
 * symbols, smoothed the PPM way.
 *
 * Counting, not learning: mel_model_fit() counts, for every position of the
 * training stream and every context length k = 0 … order−1, how often each
 * symbol followed the k preceding symbols.  Contexts live in a trie read
 * backwards (the child of context c through symbol x is the context x·c),
 * so one walk from the root visits the contexts of a position from the
 * shortest to the longest.
 *
 * Prediction blends the orders with PPM's escape method C (Moffat 1990;
 * the interpolated form is Witten–Bell smoothing):
 *
 *   p₋₁(s) = 1 / V
 *   p_k(s) = (c_k(s) + T_k · p_{k−1}(s)) / (N_k + T_k)
 *
 * where c_k(s) is the count of s after the length-k context, N_k the sum of
 * those counts and T_k the number of distinct symbols seen there (the
 * escape count).  Orders whose context was never seen are skipped (their
 * escape probability is 1).  Every distribution is a proper one: each
 * blend is a convex combination of a distribution and the counts
 * normalised by N_k.  There is no exclusion; with order 1 the model is the
 * unigram (c(s) + T/V) / (N + T).
 *
 * The counts are not float parameters (count_params is 0): they travel in
 * checkpoints as the model's data blob (mel_model_save_data), whose layout
 * is below, and are validated field by field when loaded.
 *
 * SPDX-License-Identifier: MIT
 */
#include "mel-model-private.h"

#include <math.h>
#include <string.h>

#define MAX_ORDER 64
#define DATA_MAGIC "MELNGRM"
#define DATA_VERSION 1u
#define NO_NODE G_MAXUINT32

/* ---- an open-addressing map from (node, symbol) to a 32-bit value ---- */

typedef struct
{
  guint64 *keys;   /* 0 = empty; else ((node << 16) | symbol) + 1 */
  guint32 *values;
  gsize capacity;  /* a power of two */
  gsize count;
} PairMap;

static guint64
pair_key (guint32 node, guint32 symbol)
{
  return (((guint64) node << 16) | symbol) + 1;
}

static gsize
pair_slot (guint64 key, gsize capacity)
{
  /* Fibonacci hashing spreads the nearly sequential keys. */
  return (gsize) ((key * G_GUINT64_CONSTANT (0x9E3779B97F4A7C15)) >> 20) & (capacity - 1);
}

static void
pair_map_clear (PairMap *map)
{
  g_clear_pointer (&map->keys, g_free);
  g_clear_pointer (&map->values, g_free);
  map->capacity = map->count = 0;
}

static void
pair_map_init (PairMap *map, gsize capacity)
{
  gsize c = 16;

  while (c < capacity * 2)
    c *= 2;
  map->keys = g_new0 (guint64, c);
  map->values = g_new (guint32, c);
  map->capacity = c;
  map->count = 0;
}

/* The slot of @key: where it is, or the empty slot where it would go. */
static gsize
pair_map_find (const PairMap *map, guint64 key)
{
  gsize i = pair_slot (key, map->capacity);

  while (map->keys[i] != 0 && map->keys[i] != key)
    i = (i + 1) & (map->capacity - 1);
  return i;
}

static void pair_map_insert_at (PairMap *map, gsize slot, guint64 key, guint32 value);

static void
pair_map_grow (PairMap *map)
{
  PairMap bigger;

  pair_map_init (&bigger, map->capacity);
  for (gsize i = 0; i < map->capacity; i++)
    if (map->keys[i] != 0)
      pair_map_insert_at (&bigger, pair_map_find (&bigger, map->keys[i]), map->keys[i], map->values[i]);
  pair_map_clear (map);
  *map = bigger;
}

static void
pair_map_insert_at (PairMap *map, gsize slot, guint64 key, guint32 value)
{
  map->keys[slot] = key;
  map->values[slot] = value;
  map->count++;
}

/* The value of (node, symbol), or NO_NODE. */
static guint32
pair_map_get (const PairMap *map, guint32 node, guint32 symbol)
{
  gsize slot;

  if (map->capacity == 0)
    return NO_NODE;
  slot = pair_map_find (map, pair_key (node, symbol));
  return map->keys[slot] != 0 ? map->values[slot] : NO_NODE;
}

/* Pointer to the value of (node, symbol), inserted as @initial when new. */
static guint32 *
pair_map_lookup_or_insert (PairMap *map, guint32 node, guint32 symbol, guint32 initial, gboolean *inserted)
{
  guint64 key = pair_key (node, symbol);
  gsize slot;

  if ((map->count + 1) * 2 > map->capacity)
    pair_map_grow (map);
  slot = pair_map_find (map, key);
  *inserted = map->keys[slot] == 0;
  if (*inserted)
    pair_map_insert_at (map, slot, key, initial);
  return &map->values[slot];
}

/* ---- the model ------------------------------------------------------------ */

typedef struct
{
  MelModel *model;
  guint max_context;   /* order − 1 */
  PairMap edges;       /* (node, symbol) → child node */
  GArray *parent;      /* guint32 per node (root: NO_NODE), for serialising */
  GArray *edge_symbol; /* guint32 per node: the symbol that leads to it */
  /* counts, CSR by node */
  guint32 *offsets;    /* [n_nodes + 1] */
  guint32 *symbols;    /* [n_entries] */
  guint32 *counts;     /* [n_entries] */
  guint64 *totals;     /* [n_nodes]: N of the node */
  float *logits;       /* [B × T × V] of the last forward */
  gsize logits_capacity;
  double *dist;        /* [V] */
} NgramModel;

typedef struct
{
  MelModelState base;
  gint32 *history;     /* the last max_context inputs, oldest first */
  guint n_history;
  double *dist;        /* [V] */
} NgramState;

static guint
ngram_n_nodes (const NgramModel *self)
{
  return self->parent->len;
}

static void
ngram_reset (NgramModel *self)
{
  guint32 root_parent = NO_NODE, root_symbol = 0;

  pair_map_clear (&self->edges);
  pair_map_init (&self->edges, 64);
  g_array_set_size (self->parent, 0);
  g_array_set_size (self->edge_symbol, 0);
  g_array_append_val (self->parent, root_parent);
  g_array_append_val (self->edge_symbol, root_symbol);
  g_free (self->offsets);
  g_free (self->symbols);
  g_free (self->counts);
  g_free (self->totals);
  self->offsets = g_new0 (guint32, 2);
  self->symbols = NULL;
  self->counts = NULL;
  self->totals = g_new0 (guint64, 1);
}

static gboolean
ngram_check_config (const MelModelConfig *config, GError **error)
{
  if (config->ngram_order < 1 || config->ngram_order > MAX_ORDER)
    {
      g_set_error (error, MEL_MODEL_ERROR, MEL_MODEL_ERROR_INVALID_CONFIG,
                   "N-gram order %u is outside 1…%u", config->ngram_order, MAX_ORDER);
      return FALSE;
    }
  return TRUE;
}

static gsize
ngram_count_params (const MelModelConfig *config)
{
  return 0;
}

static gpointer
ngram_create (MelModel *model)
{
  NgramModel *self = g_new0 (NgramModel, 1);

  self->model = model;
  self->max_context = model->config.ngram_order - 1;
  self->parent = g_array_new (FALSE, FALSE, sizeof (guint32));
  self->edge_symbol = g_array_new (FALSE, FALSE, sizeof (guint32));
  self->dist = g_new (double, model->config.vocab_size);
  ngram_reset (self);
  return self;
}

static void
ngram_destroy (gpointer priv)
{
  NgramModel *self = priv;

  pair_map_clear (&self->edges);
  g_array_unref (self->parent);
  g_array_unref (self->edge_symbol);
  g_free (self->offsets);
  g_free (self->symbols);
  g_free (self->counts);
  g_free (self->totals);
  g_free (self->logits);
  g_free (self->dist);
  g_free (self);
}

static void
ngram_init_params (MelModel *model, MelRng *rng)
{
  /* Nothing to draw: an unfitted n-gram predicts the uniform distribution. */
}

/* The blended distribution after @history (@n symbols, most recent last)
 * into @p (vocab_size doubles). */
static void
ngram_distribution (const NgramModel *self, const gint32 *history, gsize n, double *p)
{
  guint v = self->model->config.vocab_size;
  guint32 node = 0;
  gsize depth = 0;

  for (guint s = 0; s < v; s++)
    p[s] = 1.0 / v;
  for (;;)
    {
      guint64 total = self->totals[node];

      if (total > 0)
        {
          guint32 first = self->offsets[node], last = self->offsets[node + 1];
          double distinct = last - first, denominator = (double) total + distinct;
          double escape = distinct / denominator;

          for (guint s = 0; s < v; s++)
            p[s] *= escape;
          for (guint32 e = first; e < last; e++)
            p[self->symbols[e]] += self->counts[e] / denominator;
        }
      if (depth == n || depth == self->max_context)
        break;
      node = pair_map_get (&self->edges, node, (guint32) history[n - 1 - depth]);
      if (node == NO_NODE)
        break;
      depth++;
    }
}

static void
write_logits (const double *p, guint v, float *logits)
{
  for (guint s = 0; s < v; s++)
    logits[s] = (float) log (p[s]);
}

static const float *
ngram_forward (MelModel *model, const gint32 *inputs, guint batch, guint steps)
{
  NgramModel *self = model->priv;
  guint v = model->config.vocab_size;
  gsize need = (gsize) batch * steps * v;

  if (need > self->logits_capacity)
    {
      g_free (self->logits);
      self->logits = g_new (float, need);
      self->logits_capacity = need;
    }
  for (guint b = 0; b < batch; b++)
    for (guint t = 0; t < steps; t++)
      {
        ngram_distribution (self, inputs + (gsize) b * steps, t + 1, self->dist);
        write_logits (self->dist, v, self->logits + ((gsize) b * steps + t) * v);
      }
  return self->logits;
}

static void
ngram_backward (MelModel *model, const float *dlogits, float aux_weight)
{
  /* Counts have no gradient: there is nothing to accumulate. */
}

/* ---- fitting -------------------------------------------------------------- */

static guint32
child_or_create (NgramModel *self, guint32 node, guint32 symbol)
{
  gboolean inserted;
  guint32 next = ngram_n_nodes (self);
  guint32 *child = pair_map_lookup_or_insert (&self->edges, node, symbol, next, &inserted);

  if (inserted)
    {
      g_array_append_val (self->parent, node);
      g_array_append_val (self->edge_symbol, symbol);
    }
  return *child;
}

static void
count_entry (PairMap *counts, guint32 node, guint32 symbol)
{
  gboolean inserted;
  guint32 *count = pair_map_lookup_or_insert (counts, node, symbol, 0, &inserted);

  if (*count < G_MAXUINT32)
    (*count)++;
}

/* Turns the (node, symbol) → count map into the CSR arrays. */
static void
build_tables (NgramModel *self, const PairMap *counts)
{
  guint n_nodes = ngram_n_nodes (self);
  g_autofree guint32 *fill = g_new0 (guint32, n_nodes);

  g_free (self->offsets);
  g_free (self->symbols);
  g_free (self->counts);
  g_free (self->totals);
  self->offsets = g_new0 (guint32, n_nodes + 1);
  self->symbols = g_new (guint32, MAX (counts->count, 1));
  self->counts = g_new (guint32, MAX (counts->count, 1));
  self->totals = g_new0 (guint64, n_nodes);
  for (gsize i = 0; i < counts->capacity; i++)
    if (counts->keys[i] != 0)
      self->offsets[((counts->keys[i] - 1) >> 16) + 1]++;
  for (guint n = 0; n < n_nodes; n++)
    self->offsets[n + 1] += self->offsets[n];
  for (gsize i = 0; i < counts->capacity; i++)
    if (counts->keys[i] != 0)
      {
        guint32 node = (guint32) ((counts->keys[i] - 1) >> 16);
        guint32 at = self->offsets[node] + fill[node]++;

        self->symbols[at] = (guint32) ((counts->keys[i] - 1) & 0xffff);
        self->counts[at] = counts->values[i];
        self->totals[node] += counts->values[i];
      }
}

static gboolean
ngram_fit (MelModel *model, const gint32 *ids, gsize n, GCancellable *cancellable, GError **error)
{
  NgramModel *self = model->priv;
  PairMap counts = { 0 };

  ngram_reset (self);
  pair_map_init (&counts, 1024);
  for (gsize t = 1; t < n; t++)
    {
      guint32 target = (guint32) ids[t], node = 0;

      if ((t & 0xffff) == 0 && g_cancellable_is_cancelled (cancellable))
        {
          pair_map_clear (&counts);
          ngram_reset (self);
          return !g_cancellable_set_error_if_cancelled (cancellable, error);
        }
      count_entry (&counts, 0, target);
      for (gsize k = 0; k < self->max_context && k < t; k++)
        {
          node = child_or_create (self, node, (guint32) ids[t - 1 - k]);
          count_entry (&counts, node, target);
        }
    }
  build_tables (self, &counts);
  pair_map_clear (&counts);
  return TRUE;
}

/* ---- the data blob ---------------------------------------------------------
 *
 *   "MELNGRM\0"  u32 version (1)  u32 vocab size  u32 max context (order−1)
 *   u32 node count (root included)
 *   per node after the root: u32 parent, u32 symbol (parents come first)
 *   u64 entry count
 *   per node: u32 entries; then per entry u32 symbol, u32 count
 * all little-endian. */

static void
put_u32 (GByteArray *out, guint32 value)
{
  guint32 le = GUINT32_TO_LE (value);

  g_byte_array_append (out, (const guint8 *) &le, 4);
}

static GBytes *
ngram_save_data (MelModel *model)
{
  NgramModel *self = model->priv;
  guint n_nodes = ngram_n_nodes (self);
  guint64 n_entries = self->offsets[n_nodes];
  GByteArray *out = g_byte_array_new ();

  g_byte_array_append (out, (const guint8 *) DATA_MAGIC "", 8);
  put_u32 (out, DATA_VERSION);
  put_u32 (out, model->config.vocab_size);
  put_u32 (out, self->max_context);
  put_u32 (out, n_nodes);
  for (guint i = 1; i < n_nodes; i++)
    {
      put_u32 (out, g_array_index (self->parent, guint32, i));
      put_u32 (out, g_array_index (self->edge_symbol, guint32, i));
    }
  put_u32 (out, (guint32) (n_entries & 0xffffffffu));
  put_u32 (out, (guint32) (n_entries >> 32));
  for (guint i = 0; i < n_nodes; i++)
    put_u32 (out, self->offsets[i + 1] - self->offsets[i]);
  for (guint64 e = 0; e < n_entries; e++)
    {
      put_u32 (out, self->symbols[e]);
      put_u32 (out, self->counts[e]);
    }
  return g_byte_array_free_to_bytes (out);
}

typedef struct
{
  const guint8 *data;
  gsize length, pos;
  gboolean short_read;
} BlobReader;

static guint32
get_u32 (BlobReader *r)
{
  guint32 le;

  if (r->length - r->pos < 4)
    {
      r->short_read = TRUE;
      return 0;
    }
  memcpy (&le, r->data + r->pos, 4);
  r->pos += 4;
  return GUINT32_FROM_LE (le);
}

static gboolean
bad_data (GError **error, const char *what)
{
  g_set_error (error, MEL_MODEL_ERROR, MEL_MODEL_ERROR_INVALID_CONFIG, "damaged n-gram counts: %s", what);
  return FALSE;
}

static gboolean
ngram_load_data (MelModel *model, GBytes *bytes, GError **error)
{
  NgramModel *self = model->priv;
  BlobReader r = { 0 };
  guint32 version, vocab, max_context, n_nodes;
  guint64 n_entries, sum = 0;
  g_autoptr(GArray) parent = g_array_new (FALSE, FALSE, sizeof (guint32));
  g_autoptr(GArray) edge_symbol = g_array_new (FALSE, FALSE, sizeof (guint32));
  g_autofree guint32 *depth = NULL;
  g_autofree guint32 *offsets = NULL;
  g_autofree guint32 *symbols = NULL;
  g_autofree guint32 *counts = NULL;
  g_autofree guint64 *totals = NULL;
  PairMap edges = { 0 };
  guint32 root = NO_NODE, zero = 0;

  r.data = g_bytes_get_data (bytes, &r.length);
  if (r.length < 8 || memcmp (r.data, DATA_MAGIC "", 8) != 0)
    return bad_data (error, "not n-gram data");
  r.pos = 8;
  version = get_u32 (&r);
  vocab = get_u32 (&r);
  max_context = get_u32 (&r);
  n_nodes = get_u32 (&r);
  if (r.short_read || version != DATA_VERSION)
    return bad_data (error, "unknown version");
  if (vocab != model->config.vocab_size || max_context != self->max_context)
    return bad_data (error, "vocabulary or order differ from the configuration");
  if (n_nodes < 1 || (guint64) (n_nodes - 1) * 8 > r.length - r.pos)
    return bad_data (error, "node count");

  depth = g_new0 (guint32, n_nodes);
  g_array_append_val (parent, root);
  g_array_append_val (edge_symbol, zero);
  pair_map_init (&edges, n_nodes);
  for (guint32 i = 1; i < n_nodes; i++)
    {
      guint32 p = get_u32 (&r), s = get_u32 (&r);
      gboolean inserted;

      if (p >= i || s >= vocab || depth[p] >= max_context)
        {
          pair_map_clear (&edges);
          return bad_data (error, "a context that cannot exist");
        }
      pair_map_lookup_or_insert (&edges, p, s, i, &inserted);
      if (!inserted)
        {
          pair_map_clear (&edges);
          return bad_data (error, "a context stored twice");
        }
      depth[i] = depth[p] + 1;
      g_array_append_val (parent, p);
      g_array_append_val (edge_symbol, s);
    }
  n_entries = get_u32 (&r);
  n_entries |= (guint64) get_u32 (&r) << 32;
  if (r.short_read || n_entries > (r.length - r.pos) / 8 || n_entries > (guint64) n_nodes * vocab)
    {
      pair_map_clear (&edges);
      return bad_data (error, "entry count");
    }
  offsets = g_new0 (guint32, (gsize) n_nodes + 1);
  totals = g_new0 (guint64, n_nodes);
  for (guint32 i = 0; i < n_nodes; i++)
    {
      guint32 k = get_u32 (&r);

      sum += k;
      if (r.short_read || k > vocab || sum > n_entries)
        {
          pair_map_clear (&edges);
          return bad_data (error, "entries per context");
        }
      offsets[i + 1] = (guint32) sum;
    }
  if (sum != n_entries)
    {
      pair_map_clear (&edges);
      return bad_data (error, "entry total");
    }
  symbols = g_new (guint32, MAX (n_entries, 1));
  counts = g_new (guint32, MAX (n_entries, 1));
  for (guint32 i = 0; i < n_nodes; i++)
    for (guint32 e = offsets[i]; e < offsets[i + 1]; e++)
      {
        symbols[e] = get_u32 (&r);
        counts[e] = get_u32 (&r);
        if (r.short_read || symbols[e] >= vocab || counts[e] == 0)
          {
            pair_map_clear (&edges);
            return bad_data (error, "an entry");
          }
        totals[i] += counts[e];
      }
  if (r.pos != r.length)
    {
      pair_map_clear (&edges);
      return bad_data (error, "trailing bytes");
    }

  pair_map_clear (&self->edges);
  self->edges = edges;
  g_array_unref (self->parent);
  g_array_unref (self->edge_symbol);
  self->parent = g_steal_pointer (&parent);
  self->edge_symbol = g_steal_pointer (&edge_symbol);
  g_free (self->offsets);
  g_free (self->symbols);
  g_free (self->counts);
  g_free (self->totals);
  self->offsets = g_steal_pointer (&offsets);
  self->symbols = g_steal_pointer (&symbols);
  self->counts = g_steal_pointer (&counts);
  self->totals = g_steal_pointer (&totals);
  return TRUE;
}

/* ---- sampling state --------------------------------------------------------- */

static MelModelState *
ngram_state_new (MelModel *model, const float *latent)
{
  NgramModel *self = model->priv;
  NgramState *state = g_new0 (NgramState, 1);

  state->base.klass = model->klass;
  state->base.model = model;
  state->history = g_new (gint32, MAX (self->max_context, 1));
  state->dist = g_new (double, model->config.vocab_size);
  return &state->base;
}

static void
ngram_state_step (MelModelState *base, gint32 input, float *logits)
{
  NgramState *state = (NgramState *) base;
  NgramModel *self = base->model->priv;

  if (self->max_context > 0)
    {
      if (state->n_history == self->max_context)
        memmove (state->history, state->history + 1, (state->n_history - 1) * sizeof (gint32));
      else
        state->n_history++;
      state->history[state->n_history - 1] = input;
    }
  ngram_distribution (self, state->history, state->n_history, state->dist);
  write_logits (state->dist, base->model->config.vocab_size, logits);
}

static void
ngram_state_free (MelModelState *base)
{
  NgramState *state = (NgramState *) base;

  g_free (state->history);
  g_free (state->dist);
  g_free (state);
}

const MelModelClass _mel_ngram_model_class = {
  .name = "ngram",
  .check_config = ngram_check_config,
  .count_params = ngram_count_params,
  .create = ngram_create,
  .destroy = ngram_destroy,
  .init_params = ngram_init_params,
  .threads_changed = NULL,
  .forward = ngram_forward,
  .backward = ngram_backward,
  .get_aux_loss = NULL,
  .state_new = ngram_state_new,
  .state_step = ngram_state_step,
  .state_free = ngram_state_free,
  .encode = NULL,
  .fit = ngram_fit,
  .save_data = ngram_save_data,
  .load_data = ngram_load_data,
};
