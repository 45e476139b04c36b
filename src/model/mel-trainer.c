/* mel-trainer.c — minibatch training with validation, early stopping,
 * checkpoints, exact pause/resume and divergence detection.
 *
 * SPDX-License-Identifier: MIT
 */
#include "mel-trainer.h"

#include <math.h>
#include <string.h>

#include "mel-layers.h" /* MelRng */

G_DEFINE_QUARK (mel-trainer-error-quark, mel_trainer_error)

/* Stream identifiers for mel_rng_mix. */
#define RNG_SHUFFLE 0x5a0ff1eu
#define RNG_DROPOUT 0xd809u

struct _MelTrainer
{
  MelModel *model;
  MelOptimizer *optim;
  MelVocab *vocab;
  MelTrainConfig config;
  MelTrainState state;
  GArray *history; /* MelEpochRecord */

  gint32 *train_ids;
  gsize n_train;
  gint32 *valid_ids;
  gsize n_valid;

  gboolean segments; /* VAE: examples are whole segments, targets = inputs */
  guint window;
  guint64 n_windows;
  guint32 *order; /* this epoch's permutation of the windows */
  guint64 batches_per_epoch;
  guint64 total_steps;
  MelLrSchedule schedule;

  gint32 *inputs;  /* batch_size × window */
  gint32 *targets;
  float *dlogits;  /* batch_size × window × vocab */

  char *last_path;
  char *best_path;
  guint64 split_seed;
  char *preprocessing;

  MelTrainProgressFunc progress;
  gpointer progress_data;
  MelTrainGradHook grad_hook;
  gpointer grad_hook_data;

  MelTrainStopReason stop_reason;
  double last_valid_loss;

  MelDistributed *dist; /* borrowed; NULL: one process */
  guint check_every;
  double comm_seconds;
  guint64 comm_steps;
};

static int
rank_of (const MelTrainer *self)
{
  return self->dist != NULL ? mel_distributed_get_rank (self->dist) : 0;
}

static int
ranks (const MelTrainer *self)
{
  return self->dist != NULL ? mel_distributed_get_size (self->dist) : 1;
}

static guint64
fingerprint (guint64 hash, const gint32 *ids, gsize n)
{
  for (gsize i = 0; i < n; i++)
    {
      hash ^= (guint32) ids[i];
      hash *= G_GUINT64_CONSTANT (0x100000001b3);
    }
  hash ^= n;
  hash *= G_GUINT64_CONSTANT (0x100000001b3);
  return hash;
}

static gboolean
invalid (GError **error, const char *format, ...) G_GNUC_PRINTF (2, 3);

static gboolean
invalid (GError **error, const char *format, ...)
{
  va_list args;
  g_autofree char *message = NULL;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);
  g_set_error_literal (error, MEL_TRAINER_ERROR, MEL_TRAINER_ERROR_INVALID, message);
  return FALSE;
}

static gboolean
check_train_config (const MelTrainConfig *c, GError **error)
{
  if (c->epochs < 1)
    return invalid (error, "at least one epoch is needed");
  if (c->batch_size < 1 || c->batch_size > 65536)
    return invalid (error, "batch size %u is not in 1…65536", c->batch_size);
  if (c->window < 2 || c->window > 65536)
    return invalid (error, "window %u is not in 2…65536", c->window);
  if (c->stride < 1)
    return invalid (error, "the window stride must be at least 1");
  if ((guint64) c->batch_size * c->window > (1u << 24))
    return invalid (error, "batch × window = %" G_GUINT64_FORMAT " symbols is too large",
                    (guint64) c->batch_size * c->window);
  if (c->n_threads < 1 || c->n_threads > 64)
    return invalid (error, "thread count %u is not in 1…64", c->n_threads);
  if (!(c->learning_rate > 0.0f && isfinite (c->learning_rate)))
    return invalid (error, "the learning rate must be a positive number");
  if (!(c->optim.beta1 >= 0.0f && c->optim.beta1 < 1.0f && c->optim.beta2 >= 0.0f && c->optim.beta2 < 1.0f))
    return invalid (error, "Adam's betas must lie in [0, 1)");
  if (!(c->optim.epsilon > 0.0f) || !(c->optim.weight_decay >= 0.0f) || !(c->optim.clip_norm >= 0.0f))
    return invalid (error, "epsilon must be positive, weight decay and clip norm not negative");
  if (!(c->min_lr_ratio >= 0.0f && c->min_lr_ratio <= 1.0f) || !(c->decay_gamma > 0.0f))
    return invalid (error, "bad learning-rate decay parameters");
  if ((guint) c->lr_decay > MEL_LR_STEP || (guint) c->optim.kind > MEL_OPTIM_ADAMW)
    return invalid (error, "unknown optimizer or learning-rate schedule");
  return TRUE;
}

static gboolean
check_ids (const gint32 *ids, gsize n, guint vocab_size, const char *what, GError **error)
{
  for (gsize i = 0; i < n; i++)
    if (ids[i] < 0 || (guint) ids[i] >= vocab_size)
      return invalid (error, "the %s data holds id %d at position %" G_GSIZE_FORMAT
                      ", outside the vocabulary of %u symbols", what, ids[i], i, vocab_size);
  return TRUE;
}

/* Start of window @k in the training stream: every stride ids, plus one
 * final window flush with the end so that no tail is left unseen. */
static gsize
window_start (const MelTrainer *self, guint64 k)
{
  gsize last;

  if (self->segments)
    return (gsize) k * self->window;
  last = self->n_train - 1 - self->window;
  return MIN ((gsize) k * self->config.stride, last);
}

static void
plan (MelTrainer *self)
{
  guint64 warmup;

  if (self->segments)
    self->n_windows = self->n_train / self->window;
  else
    {
      gsize span = self->n_train - 1 - self->window; /* last possible start */

      self->n_windows = span / self->config.stride + 1 + (span % self->config.stride != 0);
    }
  self->batches_per_epoch = (self->n_windows + self->config.batch_size - 1) / self->config.batch_size;
  self->total_steps = (guint64) self->config.epochs * self->batches_per_epoch;
  if (self->config.max_steps > 0)
    self->total_steps = MIN (self->total_steps, self->config.max_steps);

  warmup = MIN ((guint64) self->config.warmup_steps, self->total_steps / 5);
  mel_lr_schedule_init (&self->schedule, self->config.learning_rate);
  self->schedule.decay = self->config.lr_decay;
  self->schedule.warmup_steps = warmup;
  self->schedule.decay_steps = self->total_steps > warmup ? self->total_steps - warmup : 1;
  self->schedule.min_ratio = self->config.min_lr_ratio;
  /* Step decay is defined per epoch but applied per optimizer step. */
  self->schedule.step_size = (guint64) self->config.decay_epochs * self->batches_per_epoch;
  self->schedule.gamma = self->config.decay_gamma;
}

/* Everything but model, optimizer and state; shared by new and resume. */
static MelTrainer *
trainer_alloc (const MelTrainConfig *train_config, const MelModelConfig *model_config,
               const MelVocab *vocab, const gint32 *train_ids, gsize n_train,
               const gint32 *valid_ids, gsize n_valid, GError **error)
{
  g_autoptr(MelTrainer) self = NULL;
  gsize batch_symbols;

  if (!check_train_config (train_config, error))
    return NULL;
  if (vocab->size != model_config->vocab_size)
    {
      invalid (error, "the vocabulary has %u symbols but the model %u", vocab->size,
               model_config->vocab_size);
      return NULL;
    }
  if (!check_ids (train_ids, n_train, vocab->size, "training", error)
      || !check_ids (valid_ids, n_valid, vocab->size, "validation", error))
    return NULL;

  self = g_new0 (MelTrainer, 1);
  self->config = *train_config;
  self->vocab = mel_vocab_copy (vocab);
  self->history = g_array_new (FALSE, TRUE, sizeof (MelEpochRecord));
  self->segments = model_config->kind == MEL_MODEL_VAE;
  if (self->segments)
    self->config.window = model_config->segment_steps;
  self->window = self->config.window;
  self->last_valid_loss = NAN;
  self->preprocessing = g_strdup ("");

  if (self->segments ? n_train < self->window : n_train < (gsize) self->window + 1)
    {
      invalid (error, "the training data (%" G_GSIZE_FORMAT " symbols) is shorter than one window of %u",
               n_train, self->window);
      return NULL;
    }
  self->train_ids = g_memdup2 (train_ids, n_train * sizeof (gint32));
  self->n_train = n_train;
  self->valid_ids = g_memdup2 (valid_ids, MAX (n_valid, 1) * sizeof (gint32));
  self->n_valid = valid_ids != NULL ? n_valid : 0;
  plan (self);
  if (self->n_windows > G_MAXUINT32)
    {
      invalid (error, "too many training windows");
      return NULL;
    }
  self->order = g_new (guint32, self->n_windows);
  batch_symbols = (gsize) self->config.batch_size * self->window;
  self->inputs = g_new (gint32, batch_symbols);
  self->targets = g_new (gint32, batch_symbols);
  self->dlogits = g_new (float, batch_symbols * vocab->size);
  self->state.best_valid_loss = INFINITY;
  self->state.data_hash = fingerprint (fingerprint (G_GUINT64_CONSTANT (0xcbf29ce484222325), train_ids, n_train),
                                       valid_ids, self->n_valid);
  return g_steal_pointer (&self);
}

MelTrainer *
mel_trainer_new (const MelModelConfig *model_config, const MelTrainConfig *train_config,
                 const MelVocab *vocab, const gint32 *train_ids, gsize n_train,
                 const gint32 *valid_ids, gsize n_valid, GError **error)
{
  g_autoptr(MelTrainer) self = NULL;
  MelRng rng;

  g_return_val_if_fail (model_config != NULL && train_config != NULL, NULL);
  g_return_val_if_fail (vocab != NULL, NULL);
  g_return_val_if_fail (train_ids != NULL || n_train == 0, NULL);
  g_return_val_if_fail (valid_ids != NULL || n_valid == 0, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  self = trainer_alloc (train_config, model_config, vocab, train_ids, n_train, valid_ids, n_valid, error);
  if (self == NULL)
    return NULL;
  self->model = mel_model_new (model_config, train_config->seed, error);
  if (self->model == NULL)
    return NULL;
  mel_model_set_n_threads (self->model, self->config.n_threads);
  self->optim = mel_optimizer_new (&self->config.optim, mel_model_get_n_params (self->model));
  mel_rng_init (&rng, mel_rng_mix (train_config->seed, RNG_SHUFFLE, 0, 0));
  memcpy (self->state.epoch_rng, rng.s, sizeof rng.s);
  return g_steal_pointer (&self);
}

MelTrainer *
mel_trainer_new_resume (const MelCheckpoint *checkpoint, const gint32 *train_ids, gsize n_train,
                        const gint32 *valid_ids, gsize n_valid, GError **error)
{
  g_autoptr(MelTrainer) self = NULL;
  guint64 data_hash;
  gsize n;

  g_return_val_if_fail (checkpoint != NULL, NULL);
  g_return_val_if_fail (train_ids != NULL || n_train == 0, NULL);
  g_return_val_if_fail (valid_ids != NULL || n_valid == 0, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!checkpoint->has_optimizer)
    {
      invalid (error, "the checkpoint holds no optimizer state, so training cannot resume from it");
      return NULL;
    }
  self = trainer_alloc (&checkpoint->train, &checkpoint->model_config, checkpoint->vocab, train_ids,
                        n_train, valid_ids, n_valid, error);
  if (self == NULL)
    return NULL;
  data_hash = self->state.data_hash;
  if (checkpoint->state.data_hash != data_hash)
    {
      invalid (error, "the training or validation data differ from those the run started with");
      return NULL;
    }
  if (checkpoint->state.batch_in_epoch > self->batches_per_epoch)
    {
      invalid (error, "the checkpoint's position in the epoch is past its end");
      return NULL;
    }
  self->model = mel_checkpoint_create_model (checkpoint, error);
  if (self->model == NULL)
    return NULL;
  mel_model_set_n_threads (self->model, self->config.n_threads);
  n = mel_model_get_n_params (self->model);
  self->optim = mel_optimizer_new (&self->config.optim, n);
  memcpy (mel_optimizer_get_m (self->optim), checkpoint->adam_m, n * sizeof (float));
  memcpy (mel_optimizer_get_v (self->optim), checkpoint->adam_v, n * sizeof (float));
  mel_optimizer_set_step (self->optim, checkpoint->adam_step);
  self->state = checkpoint->state;
  g_array_append_vals (self->history, checkpoint->history->data, checkpoint->history->len);
  if (self->history->len > 0)
    self->last_valid_loss = g_array_index (self->history, MelEpochRecord, self->history->len - 1).valid_loss;
  mel_trainer_set_data_info (self, checkpoint->split_seed, checkpoint->preprocessing);
  return g_steal_pointer (&self);
}

void
mel_trainer_free (MelTrainer *self)
{
  if (self == NULL)
    return;
  mel_model_free (self->model);
  mel_optimizer_free (self->optim);
  mel_vocab_free (self->vocab);
  g_clear_pointer (&self->history, g_array_unref);
  g_free (self->train_ids);
  g_free (self->valid_ids);
  g_free (self->order);
  g_free (self->inputs);
  g_free (self->targets);
  g_free (self->dlogits);
  g_free (self->last_path);
  g_free (self->best_path);
  g_free (self->preprocessing);
  g_free (self);
}

void
mel_trainer_set_checkpoint_paths (MelTrainer *self, const char *last_path, const char *best_path)
{
  g_return_if_fail (self != NULL);
  g_free (self->last_path);
  g_free (self->best_path);
  self->last_path = g_strdup (last_path);
  if (best_path != NULL)
    self->best_path = g_strdup (best_path);
  else
    self->best_path = last_path != NULL ? mel_checkpoint_best_path (last_path) : NULL;
}

void
mel_trainer_set_data_info (MelTrainer *self, guint64 split_seed, const char *preprocessing)
{
  g_return_if_fail (self != NULL);
  self->split_seed = split_seed;
  g_free (self->preprocessing);
  self->preprocessing = g_strdup (preprocessing != NULL ? preprocessing : "");
}

void
mel_trainer_set_limits (MelTrainer *self, guint32 epochs, guint64 max_steps, guint32 patience)
{
  g_return_if_fail (self != NULL);
  g_return_if_fail (epochs >= 1);
  self->config.epochs = epochs;
  self->config.max_steps = max_steps;
  self->config.patience = patience;
  plan (self);
  /* A finished run may continue when the new limits allow more. */
  if (self->state.finished && self->state.epoch < epochs
      && (max_steps == 0 || self->state.step < max_steps)
      && (patience == 0 || self->state.bad_epochs < patience))
    self->state.finished = FALSE;
}

void
mel_trainer_set_progress_func (MelTrainer *self, MelTrainProgressFunc func, gpointer user_data)
{
  g_return_if_fail (self != NULL);
  self->progress = func;
  self->progress_data = user_data;
}

void
mel_trainer_set_grad_hook (MelTrainer *self, MelTrainGradHook hook, gpointer user_data)
{
  g_return_if_fail (self != NULL);
  self->grad_hook = hook;
  self->grad_hook_data = user_data;
}

MelTrainStopReason
mel_trainer_get_stop_reason (const MelTrainer *self)
{
  g_return_val_if_fail (self != NULL, MEL_TRAIN_STOP_NONE);
  return self->stop_reason;
}

MelModel *
mel_trainer_get_model (MelTrainer *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return self->model;
}

const MelTrainConfig *
mel_trainer_get_config (const MelTrainer *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return &self->config;
}

const MelTrainState *
mel_trainer_get_state (const MelTrainer *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return &self->state;
}

GArray *
mel_trainer_get_history (const MelTrainer *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return self->history;
}

guint64
mel_trainer_get_batches_per_epoch (const MelTrainer *self)
{
  g_return_val_if_fail (self != NULL, 0);
  return self->batches_per_epoch;
}

MelCheckpoint *
mel_trainer_to_checkpoint (MelTrainer *self)
{
  MelCheckpoint *checkpoint;

  g_return_val_if_fail (self != NULL, NULL);
  checkpoint = mel_checkpoint_new_from_model (self->model, self->vocab, self->optim);
  checkpoint->train = self->config;
  checkpoint->state = self->state;
  checkpoint->split_seed = self->split_seed;
  g_free (checkpoint->preprocessing);
  checkpoint->preprocessing = g_strdup (self->preprocessing);
  g_array_append_vals (checkpoint->history, self->history->data, self->history->len);
  return checkpoint;
}

/* Writes a checkpoint.  In a data-parallel run only rank 0 writes, then
 * tells the others whether it could, so that all stop together when not. */
static gboolean
save_to (MelTrainer *self, const char *path, GError **error)
{
  g_autoptr(MelCheckpoint) checkpoint = NULL;
  guint8 written = TRUE;
  gboolean ok = TRUE;

  if (path == NULL)
    return TRUE;
  if (rank_of (self) == 0)
    {
      checkpoint = mel_trainer_to_checkpoint (self);
      ok = mel_checkpoint_save (checkpoint, path, error);
      written = ok;
    }
  if (ranks (self) == 1)
    return ok;
  if (!ok)
    {
      /* Keep rank 0's own error; the broadcast still has to happen. */
      g_autoptr(GError) ignored = NULL;

      mel_distributed_broadcast (self->dist, &written, 1, 0, &ignored);
      return FALSE;
    }
  if (!mel_distributed_broadcast (self->dist, &written, 1, 0, error))
    return FALSE;
  if (!written)
    {
      g_set_error (error, MEL_CHECKPOINT_ERROR, MEL_CHECKPOINT_ERROR_IO,
                   "rank 0 could not write the checkpoint %s; every rank stops", path);
      return FALSE;
    }
  return TRUE;
}

/* ---- the loop ------------------------------------------------------------ */

/* Fisher–Yates with the epoch's RNG. */
static void
shuffle (MelTrainer *self, MelRng *rng)
{
  for (guint64 i = 0; i < self->n_windows; i++)
    self->order[i] = (guint32) i;
  for (guint64 i = self->n_windows; i > 1; i--)
    {
      guint64 j = mel_rng_next (rng) % i;
      guint32 tmp = self->order[i - 1];

      self->order[i - 1] = self->order[j];
      self->order[j] = tmp;
    }
}

/* Copies batch @b of this epoch's order into inputs/targets; returns its size. */
static guint
fill_batch (MelTrainer *self, guint64 b)
{
  guint64 first = b * self->config.batch_size;
  guint n = (guint) MIN ((guint64) self->config.batch_size, self->n_windows - first);
  guint w = self->window;

  for (guint i = 0; i < n; i++)
    {
      gsize start = window_start (self, self->order[first + i]);

      memcpy (self->inputs + (gsize) i * w, self->train_ids + start, w * sizeof (gint32));
      memcpy (self->targets + (gsize) i * w, self->train_ids + start + (self->segments ? 0 : 1),
              w * sizeof (gint32));
    }
  return n;
}

typedef struct
{
  gint64 start_us;
  guint64 steps;
  guint64 tokens;
} Session;

static void
report (MelTrainer *self, const Session *session, MelTrainEvent event, double step_loss, double lr,
        double grad_norm, const MelEpochRecord *record)
{
  MelTrainProgress p = { 0 };
  double elapsed = (g_get_monotonic_time () - session->start_us) / 1e6;

  if (self->progress == NULL || rank_of (self) != 0)
    return;
  p.event = event;
  p.step = self->state.step;
  p.total_steps = MAX (self->total_steps, self->state.step);
  p.epoch = event == MEL_TRAIN_EVENT_EPOCH ? self->state.epoch : self->state.epoch + 1;
  p.n_epochs = self->config.epochs;
  p.batch = self->state.batch_in_epoch;
  p.batches_per_epoch = self->batches_per_epoch;
  p.train_loss = self->state.epoch_batches > 0 ? self->state.epoch_loss_sum / self->state.epoch_batches
                                               : (record != NULL ? record->train_loss : NAN);
  p.step_loss = step_loss;
  p.valid_loss = self->last_valid_loss;
  p.learning_rate = lr;
  p.grad_norm = grad_norm;
  p.tokens_per_second = elapsed > 0 ? session->tokens / elapsed : NAN;
  p.eta_seconds = session->steps > 0 ? (p.total_steps - p.step) * (elapsed / session->steps) : NAN;
  p.record = record;
  self->progress (&p, self->progress_data);
}

static gboolean
diverged (GError **error, guint64 step, const char *what, double value)
{
  g_set_error (error, MEL_TRAINER_ERROR, MEL_TRAINER_ERROR_DIVERGED,
               "training diverged at step %" G_GUINT64_FORMAT ": the %s is %g; the checkpoints on disk "
               "keep the last good state (try a lower learning rate or stronger gradient clipping)",
               step + 1, what, value);
  return FALSE;
}

/* Data-parallel: each rank's loss and gradients are means over its share
 * of the batch; weighted by share = its windows / the batch's and summed,
 * they become the means over the whole batch.  The loss goes first, so
 * that a NaN on any rank stops every rank before the update. */
static gboolean
reduce_loss (MelTrainer *self, double *loss, double share, GError **error)
{
  *loss *= share;
  return mel_distributed_allreduce_doubles (self->dist, loss, 1, FALSE, error);
}

static gboolean
reduce_grads (MelTrainer *self, double share, GError **error)
{
  float *grads = mel_model_get_grads (self->model);
  gsize n = mel_model_get_n_params (self->model);
  gint64 start = g_get_monotonic_time ();
  gboolean ok;

  for (gsize i = 0; i < n; i++)
    grads[i] *= (float) share;
  ok = mel_distributed_allreduce_floats (self->dist, grads, n, error);
  self->comm_seconds += (g_get_monotonic_time () - start) / 1e6;
  self->comm_steps++;
  return ok;
}

/* One optimizer step on batch state.batch_in_epoch. */
static gboolean
train_step (MelTrainer *self, Session *session, GError **error)
{
  guint n = fill_batch (self, self->state.batch_in_epoch);
  guint vocab_size = self->vocab->size;
  /* This rank's share of the batch: windows lo…hi-1 (all for one process). */
  guint lo = (guint) ((guint64) n * rank_of (self) / ranks (self));
  guint hi = (guint) ((guint64) n * (rank_of (self) + 1) / ranks (self));
  gsize offset = (gsize) lo * self->window;
  gsize positions = (gsize) (hi - lo) * self->window;
  const float *logits;
  double loss = 0.0, aux = 0.0, grad_norm = 0.0;
  float lr;

  mel_model_set_training (self->model, TRUE);
  /* Dropout streams depend only on (seed, step, rank), so a resumed run
   * draws the same masks as an uninterrupted one. */
  mel_model_set_rng_seed (self->model,
                          mel_rng_mix (self->config.seed, RNG_DROPOUT, self->state.step, (guint64) rank_of (self)));
  mel_model_zero_grad (self->model);
  if (hi > lo)
    {
      logits = mel_model_forward (self->model, self->inputs + offset, hi - lo, self->window);
      loss = mel_softmax_cross_entropy (logits, self->targets + offset, positions, vocab_size, self->dlogits);
      if (self->segments)
        {
          /* The VAE's KL is per sequence; spread over the symbols so that
           * the reported loss stays per symbol. */
          aux = mel_model_get_aux_loss (self->model);
          loss += self->config.kl_weight * aux / self->window;
        }
    }
  if (ranks (self) > 1 && !reduce_loss (self, &loss, (double) (hi - lo) / n, error))
    return FALSE;
  if (!isfinite (loss))
    return diverged (error, self->state.step, "loss", loss);
  if (hi > lo)
    mel_model_backward (self->model, self->dlogits, self->config.kl_weight / (float) self->window);
  if (ranks (self) > 1 && !reduce_grads (self, (double) (hi - lo) / n, error))
    return FALSE;
  if (self->grad_hook != NULL)
    self->grad_hook (mel_model_get_grads (self->model), mel_model_get_n_params (self->model),
                     self->state.step, self->grad_hook_data);

  lr = mel_lr_schedule_get (&self->schedule, self->state.step);
  if (!mel_optimizer_step (self->optim, mel_model_get_params (self->model), mel_model_get_grads (self->model),
                           lr, &grad_norm))
    return diverged (error, self->state.step, "gradient norm", grad_norm);

  self->state.step++;
  self->state.batch_in_epoch++;
  self->state.epoch_loss_sum += loss;
  self->state.epoch_batches++;
  session->steps++;
  session->tokens += (gsize) n * self->window; /* of all ranks */
  report (self, session, MEL_TRAIN_EVENT_STEP, loss, lr, grad_norm, NULL);
  return TRUE;
}

static gboolean pause_run (MelTrainer *self, Session *session, GError **error);

/* Validation, history, early-stopping bookkeeping and checkpoints at the
 * end of an epoch, whose shuffling left the RNG at @next_rng; NULL
 * @next_rng: the final partial epoch of a step-limited run. */
static gboolean
end_epoch (MelTrainer *self, Session *session, const guint64 *next_rng, GCancellable *cancellable,
           GError **error)
{
  MelEpochRecord record = { 0 };
  g_autoptr(GError) local = NULL;
  MelMetrics metrics;
  gboolean improved, partial = next_rng == NULL;

  record.epoch = self->state.epoch + 1;
  record.step = self->state.step;
  record.train_loss = self->state.epoch_batches > 0 ? self->state.epoch_loss_sum / self->state.epoch_batches : NAN;
  record.learning_rate = mel_lr_schedule_get (&self->schedule, self->state.step > 0 ? self->state.step - 1 : 0);
  record.valid_loss = record.valid_bits = record.valid_accuracy = NAN;
  record.valid_onset_accuracy = record.valid_pitch_bits = NAN;

  mel_metrics_init (&metrics);
  if (self->n_valid > 1)
    {
      /* Shared out between the ranks, which pause only together (at a
       * step boundary, see poll_cancelled), so not here. */
      if (!mel_metrics_evaluate_part (&metrics, self->model, self->vocab, self->valid_ids, self->n_valid,
                                      self->window, (self->config.batch_size + ranks (self) - 1) / ranks (self),
                                      (guint) rank_of (self), (guint) ranks (self),
                                      ranks (self) > 1 ? NULL : cancellable, &local)
          || (ranks (self) > 1 && !mel_distributed_allreduce_metrics (self->dist, &metrics, &local)))
        {
          /* Paused during validation: the saved position (all batches
           * done, RNG of the epoch's start) repeats just the validation. */
          if (g_error_matches (local, G_IO_ERROR, G_IO_ERROR_CANCELLED))
            return pause_run (self, session, error);
          g_propagate_error (error, g_steal_pointer (&local));
          return FALSE;
        }
      mel_model_set_training (self->model, TRUE);
      record.valid_loss = mel_metrics_get_cross_entropy (&metrics);
      record.valid_bits = mel_metrics_get_bits_per_symbol (&metrics);
      record.valid_accuracy = mel_metrics_get_accuracy (&metrics);
      record.valid_onset_accuracy = mel_metrics_get_onset_accuracy (&metrics);
      record.valid_pitch_bits = mel_metrics_get_pitch_bits (&metrics);
      if (!isfinite (record.valid_loss) && metrics.n_symbols > 0)
        return diverged (error, self->state.step - 1, "validation loss", record.valid_loss);
    }

  self->state.seconds += (g_get_monotonic_time () - session->start_us) / 1e6;
  session->start_us = g_get_monotonic_time ();
  session->steps = 0;
  session->tokens = 0;
  record.seconds = self->state.seconds;

  if (!partial)
    {
      self->state.epoch++;
      self->state.batch_in_epoch = 0;
      memcpy (self->state.epoch_rng, next_rng, sizeof self->state.epoch_rng);
    }
  self->state.epoch_loss_sum = 0.0;
  self->state.epoch_batches = 0;
  g_array_append_val (self->history, record);
  self->last_valid_loss = record.valid_loss;

  /* Without validation data every epoch counts as the best so far. */
  improved = isnan (record.valid_loss) || record.valid_loss < self->state.best_valid_loss;
  if (improved)
    {
      if (!isnan (record.valid_loss))
        self->state.best_valid_loss = record.valid_loss;
      self->state.best_epoch = record.epoch;
      self->state.bad_epochs = 0;
    }
  else
    self->state.bad_epochs++;

  if (!partial)
    {
      if (self->state.epoch >= self->config.epochs)
        self->stop_reason = MEL_TRAIN_STOP_EPOCHS;
      else if (self->config.patience > 0 && self->state.bad_epochs >= self->config.patience)
        self->stop_reason = MEL_TRAIN_STOP_EARLY;
      else if (self->config.max_steps > 0 && self->state.step >= self->config.max_steps)
        self->stop_reason = MEL_TRAIN_STOP_MAX_STEPS;
    }
  else
    self->stop_reason = MEL_TRAIN_STOP_MAX_STEPS;
  self->state.finished = self->stop_reason != MEL_TRAIN_STOP_NONE;

  if (improved && !save_to (self, self->best_path, error))
    return FALSE;
  if (!save_to (self, self->last_path, error))
    return FALSE;
  report (self, session, MEL_TRAIN_EVENT_EPOCH, NAN, record.learning_rate, NAN,
          &g_array_index (self->history, MelEpochRecord, self->history->len - 1));
  return TRUE;
}

static gboolean
pause_run (MelTrainer *self, Session *session, GError **error)
{
  self->state.seconds += (g_get_monotonic_time () - session->start_us) / 1e6;
  session->start_us = g_get_monotonic_time ();
  if (!save_to (self, self->last_path, error))
    return FALSE;
  g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_CANCELLED,
                       self->last_path != NULL ? "training paused; the checkpoint can resume it"
                                               : "training cancelled");
  return FALSE;
}

/* Whether to pause now.  The ranks of a data-parallel run must pause at
 * the same step, so they vote: one that was asked pauses them all. */
static gboolean
poll_cancelled (MelTrainer *self, GCancellable *cancellable, gboolean *cancelled, GError **error)
{
  double vote = g_cancellable_is_cancelled (cancellable) ? 1.0 : 0.0;

  if (ranks (self) > 1 && !mel_distributed_allreduce_doubles (self->dist, &vote, 1, TRUE, error))
    return FALSE;
  *cancelled = vote > 0.0;
  return TRUE;
}

static gboolean
distributed_diverged (GError **error, const char *format, ...) G_GNUC_PRINTF (2, 3);

static gboolean
distributed_diverged (GError **error, const char *format, ...)
{
  va_list args;
  g_autofree char *message = NULL;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);
  g_set_error_literal (error, MEL_DISTRIBUTED_ERROR, MEL_DISTRIBUTED_ERROR_DIVERGED, message);
  return FALSE;
}

/* Data-parallel runs: every rank must start from the same data, position
 * and parameters (@at_start), and the parameters must stay the same. */
static gboolean
check_ranks_agree (MelTrainer *self, gboolean at_start, GError **error)
{
  gboolean agree = TRUE;
  guint64 checksum;

  if (ranks (self) == 1)
    return TRUE;
  if (at_start)
    {
      guint64 setup[] = { self->state.data_hash, self->state.step, self->config.batch_size, self->window,
                          self->state.epoch_rng[0] };

      if (!mel_distributed_check_agreement (self->dist, mel_distributed_checksum (setup, sizeof setup), &agree,
                                            error))
        return FALSE;
      if (!agree)
        return distributed_diverged (error, "the ranks were started on different data, batch size or "
                                     "checkpoint; every rank must read the same dataset (and checkpoint)");
    }
  checksum = mel_distributed_checksum (mel_model_get_params (self->model),
                                       mel_model_get_n_params (self->model) * sizeof (float));
  if (!mel_distributed_check_agreement (self->dist, checksum, &agree, error))
    return FALSE;
  if (!agree)
    return distributed_diverged (error, "the parameters of the ranks differ at step %" G_GUINT64_FORMAT
                                 " (different library builds or hardware on the hosts?); stopping",
                                 self->state.step);
  return TRUE;
}

void
mel_trainer_set_distributed (MelTrainer *self, MelDistributed *dist, guint check_every)
{
  g_return_if_fail (self != NULL);
  self->dist = dist;
  self->check_every = check_every;
}

double
mel_trainer_get_comm_seconds (const MelTrainer *self, guint64 *steps)
{
  g_return_val_if_fail (self != NULL, 0.0);
  if (steps != NULL)
    *steps = self->comm_steps;
  return self->comm_seconds;
}

gboolean
mel_trainer_run (MelTrainer *self, GCancellable *cancellable, GError **error)
{
  Session session = { g_get_monotonic_time (), 0, 0 };

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (self->state.finished)
    return invalid (error, "this training run has already finished");
  self->stop_reason = MEL_TRAIN_STOP_NONE;
  if (!check_ranks_agree (self, TRUE, error))
    return FALSE;

  /* Kinds that learn by counting (the n-gram): one counting pass is the
   * whole training, recorded as one epoch (validation and checkpoints as
   * usual); no optimizer step is taken. */
  if (mel_model_can_fit (self->model))
    {
      if (!mel_model_fit (self->model, self->train_ids, self->n_train, cancellable, error))
        return FALSE;
      self->config.epochs = self->state.epoch + 1;
      self->state.batch_in_epoch = self->batches_per_epoch;
      return end_epoch (self, &session, self->state.epoch_rng, cancellable, error);
    }

  while (self->stop_reason == MEL_TRAIN_STOP_NONE)
    {
      MelRng rng;

      /* The epoch's order comes from the RNG state saved at its start, so
       * a resumed run sees the same order. */
      memcpy (rng.s, self->state.epoch_rng, sizeof rng.s);
      shuffle (self, &rng);

      while (self->state.batch_in_epoch < self->batches_per_epoch)
        {
          if (self->config.max_steps > 0 && self->state.step >= self->config.max_steps)
            return end_epoch (self, &session, NULL, cancellable, error);
          gboolean cancelled;

          if (!poll_cancelled (self, cancellable, &cancelled, error))
            return FALSE;
          if (cancelled)
            return pause_run (self, &session, error);
          if (!train_step (self, &session, error))
            return FALSE;
          if (self->check_every > 0 && self->state.step % self->check_every == 0
              && !check_ranks_agree (self, FALSE, error))
            return FALSE;
          if (self->config.checkpoint_every > 0 && self->state.step % self->config.checkpoint_every == 0
              && self->state.batch_in_epoch < self->batches_per_epoch
              && !save_to (self, self->last_path, error))
            return FALSE;
        }
      if (!end_epoch (self, &session, rng.s, cancellable, error))
        return FALSE;
    }
  return TRUE;
}
