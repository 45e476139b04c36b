/* mel-checkpoint.c — the checkpoint file: writing, atomic saving, validating loader.
 *
 * SPDX-License-Identifier: MIT
 */
#include "mel-checkpoint.h"

#include <math.h>
#include <string.h>

G_DEFINE_QUARK (mel-checkpoint-error-quark, mel_checkpoint_error)

#define MAGIC_LEN 8
#define HEADER_LEN (MAGIC_LEN + 4 + 8) /* magic, version, file size */
#define CHECKSUM_LEN 8
#define FLAG_OPTIMIZER 1u
#define FLAG_MODEL_DATA 2u

#define MODEL_CONFIG_FIELDS 11 /* 10 before free_bits; both are read */
#define TRAIN_CONFIG_FIELDS 24
#define RECORD_FIELDS 10
#define RECORD_BYTES (4 + 8 + 8 * 8)

/* Limits that keep a hostile file from asking for absurd allocations. */
#define MAX_VOCAB 4096
#define MAX_SYMBOL_LEN 64
#define MAX_DIM (1u << 16)
#define MAX_LAYERS 64

void
mel_train_config_init (MelTrainConfig *config)
{
  g_return_if_fail (config != NULL);
  memset (config, 0, sizeof *config);
  config->epochs = 20;
  config->batch_size = 32;
  config->window = 64;
  config->stride = 32;
  config->patience = 5;
  config->max_steps = 0;
  config->seed = 1;
  config->n_threads = 1;
  mel_optim_config_init (&config->optim, MEL_OPTIM_ADAM);
  config->learning_rate = 2e-3f;
  config->lr_decay = MEL_LR_COSINE;
  config->warmup_steps = 100;
  config->min_lr_ratio = 0.05f;
  config->decay_epochs = 5;
  config->decay_gamma = 0.5f;
  config->kl_weight = 1.0f;
  config->checkpoint_every = 0;
}

MelCheckpoint *
mel_checkpoint_new (void)
{
  MelCheckpoint *checkpoint = g_new0 (MelCheckpoint, 1);

  mel_train_config_init (&checkpoint->train);
  checkpoint->state.best_valid_loss = INFINITY;
  checkpoint->history = g_array_new (FALSE, TRUE, sizeof (MelEpochRecord));
  checkpoint->preprocessing = g_strdup ("");
  return checkpoint;
}

MelCheckpoint *
mel_checkpoint_new_from_model (MelModel *model, const MelVocab *vocab, MelOptimizer *optim)
{
  MelCheckpoint *checkpoint;
  gsize n;

  g_return_val_if_fail (model != NULL, NULL);
  g_return_val_if_fail (vocab != NULL, NULL);
  g_return_val_if_fail (optim == NULL || mel_optimizer_get_n_params (optim) == mel_model_get_n_params (model), NULL);

  checkpoint = mel_checkpoint_new ();
  checkpoint->model_config = *mel_model_get_config (model);
  checkpoint->vocab = mel_vocab_copy (vocab);
  n = mel_model_get_n_params (model);
  checkpoint->n_params = n;
  checkpoint->params = g_memdup2 (mel_model_get_params (model), MAX (n, 1) * sizeof (float));
  if (optim != NULL)
    {
      checkpoint->has_optimizer = TRUE;
      checkpoint->adam_step = mel_optimizer_get_step (optim);
      checkpoint->adam_m = g_memdup2 (mel_optimizer_get_m (optim), MAX (n, 1) * sizeof (float));
      checkpoint->adam_v = g_memdup2 (mel_optimizer_get_v (optim), MAX (n, 1) * sizeof (float));
    }
  checkpoint->model_data = mel_model_save_data (model);
  return checkpoint;
}

void
mel_checkpoint_free (MelCheckpoint *checkpoint)
{
  if (checkpoint == NULL)
    return;
  g_clear_pointer (&checkpoint->vocab, mel_vocab_free);
  g_free (checkpoint->preprocessing);
  g_clear_pointer (&checkpoint->history, g_array_unref);
  g_free (checkpoint->params);
  g_free (checkpoint->adam_m);
  g_free (checkpoint->adam_v);
  g_clear_pointer (&checkpoint->model_data, g_bytes_unref);
  g_free (checkpoint);
}

char *
mel_checkpoint_best_path (const char *path)
{
  g_return_val_if_fail (path != NULL, NULL);
  if (g_str_has_suffix (path, ".ckpt"))
    return g_strdup_printf ("%.*s.best.ckpt", (int) (strlen (path) - 5), path);
  return g_strconcat (path, ".best", NULL);
}

/* ---- FNV-1a, 64 bit: any single changed byte changes the sum ---------- */

static guint64
fnv1a (const guint8 *data, gsize length)
{
  guint64 hash = G_GUINT64_CONSTANT (0xcbf29ce484222325);

  for (gsize i = 0; i < length; i++)
    {
      hash ^= data[i];
      hash *= G_GUINT64_CONSTANT (0x100000001b3);
    }
  return hash;
}

/* ---- writer ------------------------------------------------------------ */

static void
put_u32 (GByteArray *out, guint32 value)
{
  guint32 le = GUINT32_TO_LE (value);

  g_byte_array_append (out, (const guint8 *) &le, 4);
}

static void
put_u64 (GByteArray *out, guint64 value)
{
  guint64 le = GUINT64_TO_LE (value);

  g_byte_array_append (out, (const guint8 *) &le, 8);
}

static void
put_f32 (GByteArray *out, float value)
{
  guint32 bits;

  memcpy (&bits, &value, 4);
  put_u32 (out, bits);
}

static void
put_f64 (GByteArray *out, double value)
{
  guint64 bits;

  memcpy (&bits, &value, 8);
  put_u64 (out, bits);
}

static void
put_string (GByteArray *out, const char *text)
{
  gsize len = text != NULL ? strlen (text) : 0;

  put_u32 (out, (guint32) len);
  if (len > 0)
    g_byte_array_append (out, (const guint8 *) text, (guint) len);
}

static void
put_floats (GByteArray *out, const float *values, gsize n)
{
#if G_BYTE_ORDER == G_LITTLE_ENDIAN
  if (n > 0)
    g_byte_array_append (out, (const guint8 *) values, (guint) (n * sizeof (float)));
#else
  for (gsize i = 0; i < n; i++)
    put_f32 (out, values[i]);
#endif
}

static void
put_model_config (GByteArray *out, const MelModelConfig *c)
{
  put_u32 (out, MODEL_CONFIG_FIELDS);
  put_u32 (out, (guint32) c->kind);
  put_u32 (out, c->vocab_size);
  put_u32 (out, c->embed_dim);
  put_u32 (out, c->hidden_size);
  put_u32 (out, c->n_layers);
  put_u32 (out, c->n_heads);
  put_u32 (out, c->latent_size);
  put_u32 (out, c->segment_steps);
  put_u32 (out, c->ngram_order);
  put_f32 (out, c->dropout);
  put_f32 (out, c->free_bits);
}

static void
put_train_config (GByteArray *out, const MelTrainConfig *c)
{
  put_u32 (out, TRAIN_CONFIG_FIELDS);
  put_u32 (out, c->epochs);
  put_u32 (out, c->batch_size);
  put_u32 (out, c->window);
  put_u32 (out, c->stride);
  put_u32 (out, c->patience);
  put_u64 (out, c->max_steps);
  put_u64 (out, c->seed);
  put_u32 (out, c->n_threads);
  put_u32 (out, (guint32) c->optim.kind);
  put_f32 (out, c->optim.beta1);
  put_f32 (out, c->optim.beta2);
  put_f32 (out, c->optim.epsilon);
  put_f32 (out, c->optim.weight_decay);
  put_f32 (out, c->optim.clip_norm);
  put_f32 (out, c->learning_rate);
  put_u32 (out, (guint32) c->lr_decay);
  put_u32 (out, c->warmup_steps);
  put_f32 (out, c->min_lr_ratio);
  put_u32 (out, c->decay_epochs);
  put_f32 (out, c->decay_gamma);
  put_f32 (out, c->kl_weight);
  put_u32 (out, c->checkpoint_every);
  put_u32 (out, 0); /* reserved */
}

static void
put_state (GByteArray *out, const MelTrainState *s)
{
  put_u64 (out, s->step);
  put_u32 (out, s->epoch);
  put_u64 (out, s->batch_in_epoch);
  for (guint i = 0; i < 4; i++)
    put_u64 (out, s->epoch_rng[i]);
  put_f64 (out, s->best_valid_loss);
  put_u32 (out, s->best_epoch);
  put_u32 (out, s->bad_epochs);
  put_f64 (out, s->epoch_loss_sum);
  put_u64 (out, s->epoch_batches);
  put_f64 (out, s->seconds);
  put_u32 (out, s->finished ? 1 : 0);
  put_u64 (out, s->data_hash);
}

static void
put_record (GByteArray *out, const MelEpochRecord *r)
{
  put_u32 (out, r->epoch);
  put_u64 (out, r->step);
  put_f64 (out, r->train_loss);
  put_f64 (out, r->valid_loss);
  put_f64 (out, r->valid_bits);
  put_f64 (out, r->valid_accuracy);
  put_f64 (out, r->valid_onset_accuracy);
  put_f64 (out, r->valid_pitch_bits);
  put_f64 (out, r->learning_rate);
  put_f64 (out, r->seconds);
}

GBytes *
mel_checkpoint_to_bytes (const MelCheckpoint *checkpoint)
{
  g_autoptr(GByteArray) out = NULL;
  const MelVocab *vocab;
  guint64 size_le, sum;

  g_return_val_if_fail (checkpoint != NULL, NULL);
  g_return_val_if_fail (checkpoint->vocab != NULL, NULL);
  g_return_val_if_fail (checkpoint->params != NULL || checkpoint->n_params == 0, NULL);

  vocab = checkpoint->vocab;
  out = g_byte_array_sized_new (4096 + (guint) MIN (checkpoint->n_params * 12, G_MAXUINT / 2));
  g_byte_array_append (out, (const guint8 *) MEL_CHECKPOINT_MAGIC "", MAGIC_LEN);
  put_u32 (out, MEL_CHECKPOINT_VERSION);
  put_u64 (out, 0); /* file size, patched below */
  put_u32 (out, (checkpoint->has_optimizer ? FLAG_OPTIMIZER : 0)
                 | (checkpoint->model_data != NULL ? FLAG_MODEL_DATA : 0));
  put_u32 (out, (guint32) checkpoint->model_config.kind);
  put_model_config (out, &checkpoint->model_config);

  put_u32 (out, vocab->size);
  for (guint i = 0; i < vocab->size; i++)
    put_string (out, vocab->symbols[i]);
  put_u64 (out, checkpoint->split_seed);
  put_string (out, checkpoint->preprocessing);

  put_train_config (out, &checkpoint->train);
  put_state (out, &checkpoint->state);

  put_u32 (out, checkpoint->history->len);
  for (guint i = 0; i < checkpoint->history->len; i++)
    put_record (out, &g_array_index (checkpoint->history, MelEpochRecord, i));

  put_u64 (out, checkpoint->n_params);
  put_floats (out, checkpoint->params, checkpoint->n_params);
  if (checkpoint->has_optimizer)
    {
      put_u64 (out, checkpoint->adam_step);
      put_floats (out, checkpoint->adam_m, checkpoint->n_params);
      put_floats (out, checkpoint->adam_v, checkpoint->n_params);
    }
  if (checkpoint->model_data != NULL)
    {
      gsize blob_size;
      const guint8 *blob = g_bytes_get_data (checkpoint->model_data, &blob_size);

      put_u64 (out, blob_size);
      if (blob_size > 0)
        g_byte_array_append (out, blob, (guint) blob_size);
    }

  size_le = GUINT64_TO_LE ((guint64) out->len + CHECKSUM_LEN);
  memcpy (out->data + MAGIC_LEN + 4, &size_le, 8);
  sum = fnv1a (out->data, out->len);
  put_u64 (out, sum);
  return g_byte_array_free_to_bytes (g_steal_pointer (&out));
}

gboolean
mel_checkpoint_save (const MelCheckpoint *checkpoint, const char *path, GError **error)
{
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(GError) local = NULL;
  gsize size;
  const char *data;

  g_return_val_if_fail (checkpoint != NULL, FALSE);
  g_return_val_if_fail (path != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  bytes = mel_checkpoint_to_bytes (checkpoint);
  data = g_bytes_get_data (bytes, &size);
  /* CONSISTENT + DURABLE: temporary file, fsync, rename; the temporary
   * file is removed when anything fails. */
  if (!g_file_set_contents_full (path, data, (gssize) size,
                                 G_FILE_SET_CONTENTS_CONSISTENT | G_FILE_SET_CONTENTS_DURABLE, 0644,
                                 &local))
    {
      g_set_error (error, MEL_CHECKPOINT_ERROR, MEL_CHECKPOINT_ERROR_IO,
                   "cannot write checkpoint: %s", local->message);
      return FALSE;
    }
  return TRUE;
}

/* ---- reader ------------------------------------------------------------ */

typedef struct
{
  const guint8 *data;
  gsize length;
  gsize pos;
  const char *failed; /* first field that did not fit, or NULL */
} Reader;

static gboolean
need (Reader *r, gsize n, const char *what)
{
  if (r->failed != NULL)
    return FALSE;
  if (n > r->length - r->pos)
    {
      r->failed = what;
      return FALSE;
    }
  return TRUE;
}

static guint32
get_u32 (Reader *r, const char *what)
{
  guint32 value;

  if (!need (r, 4, what))
    return 0;
  memcpy (&value, r->data + r->pos, 4);
  r->pos += 4;
  return GUINT32_FROM_LE (value);
}

static guint64
get_u64 (Reader *r, const char *what)
{
  guint64 value;

  if (!need (r, 8, what))
    return 0;
  memcpy (&value, r->data + r->pos, 8);
  r->pos += 8;
  return GUINT64_FROM_LE (value);
}

static float
get_f32 (Reader *r, const char *what)
{
  guint32 bits = get_u32 (r, what);
  float value;

  memcpy (&value, &bits, 4);
  return value;
}

static double
get_f64 (Reader *r, const char *what)
{
  guint64 bits = get_u64 (r, what);
  double value;

  memcpy (&value, &bits, 8);
  return value;
}

/* A string of at most @max bytes without NULs; NULL on failure. */
static char *
get_string (Reader *r, guint32 max, const char *what)
{
  guint32 len = get_u32 (r, what);
  char *text;

  if (r->failed != NULL)
    return NULL;
  if (len > max || !need (r, len, what) || memchr (r->data + r->pos, 0, len) != NULL)
    {
      r->failed = what;
      return NULL;
    }
  text = g_strndup ((const char *) r->data + r->pos, len);
  r->pos += len;
  return text;
}

/* @n floats (n already checked to fit) into a new buffer. */
static float *
get_floats (Reader *r, gsize n, const char *what)
{
  float *values;

  if (!need (r, n * sizeof (float), what))
    return NULL;
  values = g_new (float, MAX (n, 1));
#if G_BYTE_ORDER == G_LITTLE_ENDIAN
  memcpy (values, r->data + r->pos, n * sizeof (float));
  r->pos += n * sizeof (float);
#else
  for (gsize i = 0; i < n; i++)
    values[i] = get_f32 (r, what);
#endif
  return values;
}

static gboolean
corrupt (GError **error, const char *format, ...) G_GNUC_PRINTF (2, 3);

static gboolean
corrupt (GError **error, const char *format, ...)
{
  va_list args;
  g_autofree char *message = NULL;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);
  g_set_error (error, MEL_CHECKPOINT_ERROR, MEL_CHECKPOINT_ERROR_CORRUPT,
               "corrupt checkpoint: %s", message);
  return FALSE;
}

/* Magic, version, size and checksum: everything that can be checked
 * before a single field is believed. */
static gboolean
check_envelope (const guint8 *data, gsize length, GError **error)
{
  guint32 version;
  guint64 size, stored, sum;

  if (length < MAGIC_LEN)
    {
      if (length > 0 && memcmp (data, MEL_CHECKPOINT_MAGIC, length) != 0)
        goto bad_magic;
      g_set_error (error, MEL_CHECKPOINT_ERROR, MEL_CHECKPOINT_ERROR_TRUNCATED,
                   "truncated checkpoint: only %" G_GSIZE_FORMAT " bytes", length);
      return FALSE;
    }
  if (memcmp (data, MEL_CHECKPOINT_MAGIC, MAGIC_LEN) != 0)
    goto bad_magic;
  if (length < MAGIC_LEN + 4)
    goto truncated_header;
  memcpy (&version, data + MAGIC_LEN, 4);
  version = GUINT32_FROM_LE (version);
  if (version != MEL_CHECKPOINT_VERSION)
    {
      g_set_error (error, MEL_CHECKPOINT_ERROR, MEL_CHECKPOINT_ERROR_VERSION,
                   "unsupported checkpoint format version %u (this build reads version %u)",
                   version, MEL_CHECKPOINT_VERSION);
      return FALSE;
    }
  if (length < HEADER_LEN)
    goto truncated_header;
  memcpy (&size, data + MAGIC_LEN + 4, 8);
  size = GUINT64_FROM_LE (size);
  if (size < HEADER_LEN + CHECKSUM_LEN)
    return corrupt (error, "header gives an impossible file size of %" G_GUINT64_FORMAT " bytes", size);
  if ((guint64) length < size)
    {
      g_set_error (error, MEL_CHECKPOINT_ERROR, MEL_CHECKPOINT_ERROR_TRUNCATED,
                   "truncated checkpoint: %" G_GSIZE_FORMAT " of %" G_GUINT64_FORMAT " bytes",
                   length, size);
      return FALSE;
    }
  if ((guint64) length > size)
    {
      g_set_error (error, MEL_CHECKPOINT_ERROR, MEL_CHECKPOINT_ERROR_SIZE_MISMATCH,
                   "checkpoint size mismatch: the file has %" G_GSIZE_FORMAT
                   " bytes but its header says %" G_GUINT64_FORMAT,
                   length, size);
      return FALSE;
    }
  memcpy (&stored, data + length - CHECKSUM_LEN, 8);
  stored = GUINT64_FROM_LE (stored);
  sum = fnv1a (data, length - CHECKSUM_LEN);
  if (sum != stored)
    {
      g_set_error (error, MEL_CHECKPOINT_ERROR, MEL_CHECKPOINT_ERROR_CHECKSUM,
                   "checkpoint checksum mismatch (stored %016" G_GINT64_MODIFIER "x, computed %016"
                   G_GINT64_MODIFIER "x): the file is damaged",
                   stored, sum);
      return FALSE;
    }
  return TRUE;

bad_magic:
  g_set_error_literal (error, MEL_CHECKPOINT_ERROR, MEL_CHECKPOINT_ERROR_BAD_MAGIC,
                       "not a Melodist checkpoint (wrong magic number)");
  return FALSE;

truncated_header:
  g_set_error (error, MEL_CHECKPOINT_ERROR, MEL_CHECKPOINT_ERROR_TRUNCATED,
               "truncated checkpoint: the header is cut off after %" G_GSIZE_FORMAT " bytes", length);
  return FALSE;
}

static gboolean
read_model_config (Reader *r, MelModelConfig *c, GError **error)
{
  guint32 n_fields = get_u32 (r, "model configuration");

  if (r->failed == NULL && n_fields != MODEL_CONFIG_FIELDS && n_fields != 10)
    return corrupt (error, "model configuration has %u fields, expected %u", n_fields, MODEL_CONFIG_FIELDS);
  c->kind = (MelModelKind) get_u32 (r, "model kind");
  c->vocab_size = get_u32 (r, "vocabulary size");
  c->embed_dim = get_u32 (r, "embedding size");
  c->hidden_size = get_u32 (r, "hidden size");
  c->n_layers = get_u32 (r, "layer count");
  c->n_heads = get_u32 (r, "head count");
  c->latent_size = get_u32 (r, "latent size");
  c->segment_steps = get_u32 (r, "segment steps");
  c->ngram_order = get_u32 (r, "n-gram order");
  c->dropout = get_f32 (r, "dropout");
  c->free_bits = n_fields >= 11 ? get_f32 (r, "free bits") : 0.0f;
  if (r->failed != NULL)
    return FALSE;
  if ((guint) c->kind >= MEL_N_MODEL_KINDS)
    return corrupt (error, "unknown model kind %u", (guint) c->kind);
  if (c->embed_dim > MAX_DIM || c->hidden_size > MAX_DIM || c->latent_size > MAX_DIM
      || c->segment_steps > MAX_DIM || c->n_heads > MAX_DIM || c->n_layers > MAX_LAYERS
      || c->ngram_order > MAX_LAYERS)
    return corrupt (error, "model configuration out of range");
  if (!(c->dropout >= 0.0f && c->dropout < 1.0f))
    return corrupt (error, "dropout %g is not in [0, 1)", (double) c->dropout);
  if (!(c->free_bits >= 0.0f && c->free_bits <= 1000.0f))
    return corrupt (error, "free bits %g is not in [0, 1000]", (double) c->free_bits);
  return TRUE;
}

static gboolean
read_train_config (Reader *r, MelTrainConfig *c, GError **error)
{
  guint32 n_fields = get_u32 (r, "training configuration");

  if (r->failed == NULL && n_fields != TRAIN_CONFIG_FIELDS)
    return corrupt (error, "training configuration has %u fields, expected %u", n_fields, TRAIN_CONFIG_FIELDS);
  c->epochs = get_u32 (r, "epochs");
  c->batch_size = get_u32 (r, "batch size");
  c->window = get_u32 (r, "window");
  c->stride = get_u32 (r, "stride");
  c->patience = get_u32 (r, "patience");
  c->max_steps = get_u64 (r, "step limit");
  c->seed = get_u64 (r, "seed");
  c->n_threads = get_u32 (r, "threads");
  c->optim.kind = (MelOptimKind) get_u32 (r, "optimizer");
  c->optim.beta1 = get_f32 (r, "beta1");
  c->optim.beta2 = get_f32 (r, "beta2");
  c->optim.epsilon = get_f32 (r, "epsilon");
  c->optim.weight_decay = get_f32 (r, "weight decay");
  c->optim.clip_norm = get_f32 (r, "clip norm");
  c->learning_rate = get_f32 (r, "learning rate");
  c->lr_decay = (MelLrDecay) get_u32 (r, "decay");
  c->warmup_steps = get_u32 (r, "warm-up");
  c->min_lr_ratio = get_f32 (r, "minimum rate");
  c->decay_epochs = get_u32 (r, "decay period");
  c->decay_gamma = get_f32 (r, "decay factor");
  c->kl_weight = get_f32 (r, "KL weight");
  c->checkpoint_every = get_u32 (r, "checkpoint interval");
  (void) get_u32 (r, "reserved");
  if (r->failed != NULL)
    return FALSE;
  if ((guint) c->optim.kind > MEL_OPTIM_ADAMW || (guint) c->lr_decay > MEL_LR_STEP)
    return corrupt (error, "unknown optimizer or learning-rate schedule");
  return TRUE;
}

static void
read_state (Reader *r, MelTrainState *s)
{
  s->step = get_u64 (r, "step");
  s->epoch = get_u32 (r, "epoch");
  s->batch_in_epoch = get_u64 (r, "batch position");
  for (guint i = 0; i < 4; i++)
    s->epoch_rng[i] = get_u64 (r, "RNG state");
  s->best_valid_loss = get_f64 (r, "best loss");
  s->best_epoch = get_u32 (r, "best epoch");
  s->bad_epochs = get_u32 (r, "epochs since best");
  s->epoch_loss_sum = get_f64 (r, "loss sum");
  s->epoch_batches = get_u64 (r, "batch count");
  s->seconds = get_f64 (r, "time");
  s->finished = get_u32 (r, "finished flag") != 0;
  s->data_hash = get_u64 (r, "data fingerprint");
}

static void
read_record (Reader *r, MelEpochRecord *rec)
{
  rec->epoch = get_u32 (r, "history");
  rec->step = get_u64 (r, "history");
  rec->train_loss = get_f64 (r, "history");
  rec->valid_loss = get_f64 (r, "history");
  rec->valid_bits = get_f64 (r, "history");
  rec->valid_accuracy = get_f64 (r, "history");
  rec->valid_onset_accuracy = get_f64 (r, "history");
  rec->valid_pitch_bits = get_f64 (r, "history");
  rec->learning_rate = get_f64 (r, "history");
  rec->seconds = get_f64 (r, "history");
}

static MelVocab *
read_vocab (Reader *r, GError **error)
{
  g_autoptr(GPtrArray) symbols = NULL;
  g_autoptr(GError) local = NULL;
  MelVocab *vocab;
  guint32 n = get_u32 (r, "vocabulary");

  if (r->failed != NULL)
    return NULL;
  if (n == 0 || n > MAX_VOCAB)
    {
      corrupt (error, "vocabulary of %u symbols", n);
      return NULL;
    }
  symbols = g_ptr_array_new_with_free_func (g_free);
  for (guint32 i = 0; i < n; i++)
    {
      char *symbol = get_string (r, MAX_SYMBOL_LEN, "vocabulary symbol");

      if (symbol == NULL)
        return NULL;
      g_ptr_array_add (symbols, symbol);
    }
  vocab = mel_vocab_new ((const char *const *) symbols->pdata, n, &local);
  if (vocab == NULL)
    corrupt (error, "bad vocabulary: %s", local->message);
  return vocab;
}

/* Everything after the envelope; @error may stay unset when a field ran
 * past the end (r->failed names it). */
static gboolean
read_body (Reader *r, MelCheckpoint *checkpoint, GError **error)
{
  guint32 flags, kind, n_records;
  guint64 n_params;

  flags = get_u32 (r, "flags");
  kind = get_u32 (r, "model kind");
  if (r->failed == NULL && (flags & ~(FLAG_OPTIMIZER | FLAG_MODEL_DATA)) != 0)
    return corrupt (error, "unknown flags 0x%x", flags);
  if (!read_model_config (r, &checkpoint->model_config, error))
    return FALSE;
  if (kind != (guint32) checkpoint->model_config.kind)
    return corrupt (error, "model kind %u in the header but %u in the configuration", kind,
                    (guint) checkpoint->model_config.kind);

  checkpoint->vocab = read_vocab (r, error);
  if (checkpoint->vocab == NULL)
    return FALSE;
  if (checkpoint->vocab->size != checkpoint->model_config.vocab_size)
    return corrupt (error, "the model has %u output symbols but the vocabulary %u",
                    checkpoint->model_config.vocab_size, checkpoint->vocab->size);

  checkpoint->split_seed = get_u64 (r, "split seed");
  g_clear_pointer (&checkpoint->preprocessing, g_free);
  checkpoint->preprocessing = get_string (r, G_MAXUINT32, "preprocessing description");
  if (checkpoint->preprocessing == NULL)
    return FALSE;
  if (!read_train_config (r, &checkpoint->train, error))
    return FALSE;
  read_state (r, &checkpoint->state);

  n_records = get_u32 (r, "history");
  if (r->failed == NULL && (guint64) n_records * RECORD_BYTES > r->length - r->pos)
    r->failed = "history";
  for (guint32 i = 0; r->failed == NULL && i < n_records; i++)
    {
      MelEpochRecord record;

      read_record (r, &record);
      g_array_append_val (checkpoint->history, record);
    }

  n_params = get_u64 (r, "parameter count");
  if (r->failed == NULL && n_params > (r->length - r->pos) / sizeof (float))
    r->failed = "parameters";
  if (r->failed != NULL)
    return FALSE;
  checkpoint->n_params = (gsize) n_params;
  checkpoint->params = get_floats (r, checkpoint->n_params, "parameters");
  if (flags & FLAG_OPTIMIZER)
    {
      checkpoint->has_optimizer = TRUE;
      checkpoint->adam_step = get_u64 (r, "optimizer step");
      checkpoint->adam_m = get_floats (r, checkpoint->n_params, "optimizer state");
      checkpoint->adam_v = get_floats (r, checkpoint->n_params, "optimizer state");
    }
  if (r->failed == NULL && (flags & FLAG_MODEL_DATA))
    {
      guint64 blob_size = get_u64 (r, "model data length");

      if (r->failed == NULL && blob_size > r->length - r->pos)
        r->failed = "model data";
      if (r->failed == NULL)
        {
          checkpoint->model_data = g_bytes_new (r->data + r->pos, (gsize) blob_size);
          r->pos += (gsize) blob_size;
        }
    }
  if (r->failed != NULL)
    return FALSE;
  if (r->pos != r->length)
    return corrupt (error, "%" G_GSIZE_FORMAT " unexplained bytes before the checksum", r->length - r->pos);
  return TRUE;
}

MelCheckpoint *
mel_checkpoint_load_from_data (const guint8 *data, gsize length, GError **error)
{
  g_autoptr(MelCheckpoint) checkpoint = NULL;
  g_autoptr(GError) local = NULL;
  Reader r = { data, 0, HEADER_LEN, NULL };

  g_return_val_if_fail (data != NULL || length == 0, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!check_envelope (data, length, error))
    return NULL;
  r.length = length - CHECKSUM_LEN;
  checkpoint = mel_checkpoint_new ();
  if (!read_body (&r, checkpoint, &local))
    {
      if (local == NULL)
        corrupt (&local, "the %s field runs past the end of the data",
                 r.failed != NULL ? r.failed : "last");
      g_propagate_error (error, g_steal_pointer (&local));
      return NULL;
    }
  return g_steal_pointer (&checkpoint);
}

MelCheckpoint *
mel_checkpoint_load (const char *path, GError **error)
{
  g_autofree char *contents = NULL;
  g_autoptr(GError) local = NULL;
  MelCheckpoint *checkpoint;
  gsize length = 0;

  g_return_val_if_fail (path != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  /* Read, not mapped: a file truncated while mapped would be a SIGBUS. */
  if (!g_file_get_contents (path, &contents, &length, &local))
    {
      g_set_error (error, MEL_CHECKPOINT_ERROR, MEL_CHECKPOINT_ERROR_IO, "%s", local->message);
      return NULL;
    }
  checkpoint = mel_checkpoint_load_from_data ((const guint8 *) contents, length, &local);
  if (checkpoint == NULL)
    {
      g_set_error (error, MEL_CHECKPOINT_ERROR, local->code, "%s: %s", path, local->message);
      return NULL;
    }
  return checkpoint;
}

MelModel *
mel_checkpoint_create_model (const MelCheckpoint *checkpoint, GError **error)
{
  g_autoptr(MelModel) model = NULL;
  gsize expected;

  g_return_val_if_fail (checkpoint != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  model = mel_model_new (&checkpoint->model_config, 0, error);
  if (model == NULL)
    return NULL;
  expected = mel_model_get_n_params (model);
  if (expected != checkpoint->n_params)
    {
      g_set_error (error, MEL_CHECKPOINT_ERROR, MEL_CHECKPOINT_ERROR_SIZE_MISMATCH,
                   "parameter size mismatch: the checkpoint holds %" G_GSIZE_FORMAT
                   " parameters but a %s model with its configuration has %" G_GSIZE_FORMAT,
                   checkpoint->n_params, mel_model_kind_to_string (checkpoint->model_config.kind),
                   expected);
      return NULL;
    }
  if (expected > 0)
    memcpy (mel_model_get_params (model), checkpoint->params, expected * sizeof (float));
  if (checkpoint->model_data != NULL && !mel_model_load_data (model, checkpoint->model_data, error))
    return NULL;
  return g_steal_pointer (&model);
}
