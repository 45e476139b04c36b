/* mel-trainer.h — the training loop, made to run in a worker thread.
 *
 * A trainer owns one model and its optimizer.  It is fed symbol-id
 * streams (train and validation splits, as made by
 * mel_dataset_get_split_ids) and a MelVocab; it cuts the training stream
 * into windows of `window` ids every `stride` ids, shuffles them each
 * epoch with its own seeded RNG, and takes one optimizer step per
 * minibatch.  For the VAE the streams are concatenated segments of
 * segment_steps ids (mel_dataset_get_segments) and each segment is one
 * example.
 *
 * After every epoch it scores the validation split (mel_metrics_evaluate),
 * keeps the best checkpoint (lowest validation loss) and the last one, and
 * stops early after `patience` epochs without improvement.
 *
 * Pausing is cancelling: mel_trainer_run() stops at the next step boundary,
 * writes the last checkpoint with the exact position (RNG state at the
 * start of the epoch, batches done, optimizer moments and step), and
 * returns G_IO_ERROR_CANCELLED.  A trainer made from that checkpoint with
 * mel_trainer_new_resume() continues to the same parameters, bit for bit,
 * as a run that was never interrupted (for the same thread count).
 *
 * A NaN or infinite loss or gradient stops the run before the update with
 * MEL_TRAINER_ERROR_DIVERGED; checkpoints on disk stay those of the last
 * good state.
 *
 * Threading: create, configure, then call mel_trainer_run() in one worker
 * thread; the progress callback runs in that thread (post to the main
 * loop from it).  Nothing here is global.
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include <gio/gio.h>

#include "mel-checkpoint.h"
#include "mel-distributed.h"
#include "mel-metrics.h"
#include "mel-model.h"
#include "mel-vocab.h"

G_BEGIN_DECLS

#define MEL_TRAINER_ERROR (mel_trainer_error_quark ())
GQuark mel_trainer_error_quark (void);

typedef enum
{
  MEL_TRAINER_ERROR_INVALID,  /* configuration or data unusable */
  MEL_TRAINER_ERROR_DIVERGED, /* NaN or infinite loss or gradient */
} MelTrainerError;

typedef enum
{
  MEL_TRAIN_STOP_NONE,       /* still running or never started */
  MEL_TRAIN_STOP_EPOCHS,     /* all epochs done */
  MEL_TRAIN_STOP_EARLY,      /* validation loss stopped improving */
  MEL_TRAIN_STOP_MAX_STEPS,  /* the step limit */
} MelTrainStopReason;

typedef enum
{
  MEL_TRAIN_EVENT_STEP,      /* after an optimizer step */
  MEL_TRAIN_EVENT_EPOCH,     /* after an epoch's validation */
} MelTrainEvent;

/* What the progress callback sees (valid during the call only). */
typedef struct
{
  MelTrainEvent event;
  guint64 step;             /* optimizer steps done */
  guint64 total_steps;      /* planned steps (epochs × batches, or the limit) */
  guint32 epoch;            /* 1-based epoch in progress (EPOCH: just finished) */
  guint32 n_epochs;
  guint64 batch;            /* batches done in this epoch */
  guint64 batches_per_epoch;
  double train_loss;        /* mean loss of this epoch's batches so far (nats/symbol) */
  double step_loss;         /* loss of the last batch */
  double valid_loss;        /* last validation loss; NaN before the first */
  double learning_rate;
  double grad_norm;         /* before clipping */
  double tokens_per_second; /* over this session of mel_trainer_run() */
  double eta_seconds;       /* to total_steps at the current speed; NaN when unknown */
  const MelEpochRecord *record; /* EPOCH only: the new history entry */
} MelTrainProgress;

typedef void (*MelTrainProgressFunc) (const MelTrainProgress *progress, gpointer user_data);

/* Called after each backward pass with the gradients (n_params floats)
 * before clipping and the update; may inspect or change them.  For
 * diagnostics and tests (e.g. injecting a NaN). */
typedef void (*MelTrainGradHook) (float *grads, gsize n_params, guint64 step, gpointer user_data);

typedef struct _MelTrainer MelTrainer;

/* A trainer for a new model of @model_config initialised from
 * @train_config->seed.  @train_ids / @valid_ids are the split streams
 * (copied, like @vocab and the configurations; the caller keeps its own); @valid_ids may be empty (then no validation, no early stopping
 * and the last checkpoint is also the best).  Returns NULL with
 * MEL_TRAINER_ERROR_INVALID when the configuration is unusable, the
 * training stream gives no window, or an id lies outside @vocab, or with a
 * MEL_MODEL_ERROR from the model. */
MelTrainer *mel_trainer_new (const MelModelConfig *model_config, const MelTrainConfig *train_config,
                             const MelVocab *vocab, const gint32 *train_ids, gsize n_train,
                             const gint32 *valid_ids, gsize n_valid, GError **error);

/* A trainer that continues the run saved in @checkpoint (which must hold
 * optimizer state) on the same data.  Epochs, step limit and patience may
 * be changed afterwards with mel_trainer_set_limits(). */
MelTrainer *mel_trainer_new_resume (const MelCheckpoint *checkpoint, const gint32 *train_ids,
                                    gsize n_train, const gint32 *valid_ids, gsize n_valid,
                                    GError **error);

void mel_trainer_free (MelTrainer *trainer);

/* Where checkpoints go: @last_path is written after every epoch (and every
 * checkpoint_every steps, and when paused); @best_path (NULL: derived with
 * mel_checkpoint_best_path) when the validation loss improves.  NULL
 * @last_path: nothing is written.  Strings are copied. */
void mel_trainer_set_checkpoint_paths (MelTrainer *trainer, const char *last_path, const char *best_path);

/* Recorded in checkpoints: the dataset's split seed and a description of
 * the preprocessing (opaque to the trainer, e.g. JSON).  Copied. */
void mel_trainer_set_data_info (MelTrainer *trainer, guint64 split_seed, const char *preprocessing);

/* Changes the stopping limits (e.g. to extend a resumed run).  The cosine
 * schedule is recomputed for the new length. */
void mel_trainer_set_limits (MelTrainer *trainer, guint32 epochs, guint64 max_steps, guint32 patience);

void mel_trainer_set_progress_func (MelTrainer *trainer, MelTrainProgressFunc func, gpointer user_data);
void mel_trainer_set_grad_hook (MelTrainer *trainer, MelTrainGradHook hook, gpointer user_data);

/* Runs until the run is finished, cancelled (paused) or diverged; see the
 * file comment.  TRUE when finished (see mel_trainer_get_stop_reason());
 * FALSE with G_IO_ERROR_CANCELLED, MEL_TRAINER_ERROR_DIVERGED,
 * MEL_CHECKPOINT_ERROR_IO (a checkpoint could not be written), or
 * MEL_TRAINER_ERROR_INVALID when the run already finished. */
gboolean mel_trainer_run (MelTrainer *trainer, GCancellable *cancellable, GError **error);

MelTrainStopReason mel_trainer_get_stop_reason (const MelTrainer *trainer);

/* The model being trained (owned by the trainer; do not use it while
 * mel_trainer_run() is running). */
MelModel *mel_trainer_get_model (MelTrainer *trainer);
const MelTrainConfig *mel_trainer_get_config (const MelTrainer *trainer);
const MelTrainState *mel_trainer_get_state (const MelTrainer *trainer);
/* Per-epoch figures so far (MelEpochRecord), owned by the trainer. */
GArray *mel_trainer_get_history (const MelTrainer *trainer);
/* Batches per epoch (the last, partial one included). */
guint64 mel_trainer_get_batches_per_epoch (const MelTrainer *trainer);

/* A checkpoint of the current state (with optimizer state).  Caller owns it. */
MelCheckpoint *mel_trainer_to_checkpoint (MelTrainer *trainer);

/* Data-parallel training over the ranks of @dist (borrowed: it must
 * outlive the trainer; NULL returns to one process).  Every rank must make
 * its trainer from the same data, configuration and seed (or checkpoint).
 * The configured batch size is then the GLOBAL batch: rank r computes the
 * gradient of windows [n·r/N, n·(r+1)/N) of each batch of n windows, the
 * gradients are summed with one allreduce (weighted so that the result is
 * the mean over the whole batch) and every rank takes the same optimizer
 * step, so the run follows the one-process run with that batch (up to
 * float summation order; the VAE's free-bits clamp and dropout masks are
 * per rank).  Validation is shared out and its sums reduced; only the
 * root rank reports progress and writes checkpoints, and tells the others
 * whether the write succeeded.  A checkpoint written by N ranks resumes
 * with any number of ranks.  At the start of mel_trainer_run() and every
 * @check_every steps (0: only at the start) the ranks compare a checksum
 * of the parameters; a difference stops every rank with
 * MEL_DISTRIBUTED_ERROR_DIVERGED, a failed collective with
 * MEL_DISTRIBUTED_ERROR_FAILED.  Call before mel_trainer_run(). */
void mel_trainer_set_distributed (MelTrainer *trainer, MelDistributed *dist, guint check_every);

/* Wall time spent in gradient allreduces since the trainer was made (0
 * for one process); @steps (may be NULL) receives the number of steps
 * it was measured over. */
double mel_trainer_get_comm_seconds (const MelTrainer *trainer, guint64 *steps);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MelTrainer, mel_trainer_free)

G_END_DECLS
