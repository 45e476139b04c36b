/* mel-checkpoint.h — one file that holds a training run: the model and
 * everything needed to use it, judge it and continue training it exactly.
 *
 * Layout (all little-endian; strings are u32 length + bytes):
 *   "MELCKPT\0"  u32 version  u64 file size  u32 flags  u32 model kind
 *   MelModelConfig (u32 field count, then the fields)
 *   vocabulary (u32 count, symbols)
 *   u64 corpus split seed, preprocessing description (string)
 *   MelTrainConfig (u32 field count, then the fields)
 *   MelTrainState (step, epoch, position in the epoch, RNG state, early
 *     stopping state, running loss sums, elapsed time)
 *   metrics history (u32 count, one MelEpochRecord each)
 *   u64 parameter count, float32 parameters
 *   [flags & 1: u64 Adam step, float32 m, float32 v]
 *   [flags & 2: u64 length, the model's data blob (mel_model_save_data)]
 *   u64 FNV-1a checksum of every byte before it
 *
 * Files are written atomically (temporary file, fsync, rename).  Loading
 * checks magic, version, size and checksum before it interprets anything,
 * then bounds every count, so a damaged or hostile file gives a GError
 * naming the problem, never a crash.
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include <gio/gio.h>

#include "mel-model.h"
#include "mel-optim.h"
#include "mel-vocab.h"

G_BEGIN_DECLS

#define MEL_CHECKPOINT_MAGIC "MELCKPT"
#define MEL_CHECKPOINT_VERSION 1

#define MEL_CHECKPOINT_ERROR (mel_checkpoint_error_quark ())
GQuark mel_checkpoint_error_quark (void);

typedef enum
{
  MEL_CHECKPOINT_ERROR_IO,            /* cannot read or write the file */
  MEL_CHECKPOINT_ERROR_BAD_MAGIC,     /* not a Melodist checkpoint */
  MEL_CHECKPOINT_ERROR_VERSION,       /* written by an unknown format version */
  MEL_CHECKPOINT_ERROR_TRUNCATED,     /* shorter than its header says */
  MEL_CHECKPOINT_ERROR_SIZE_MISMATCH, /* longer than its header says, or parameter count ≠ model */
  MEL_CHECKPOINT_ERROR_CHECKSUM,      /* contents changed after writing */
  MEL_CHECKPOINT_ERROR_CORRUPT,       /* checksum fine but a field is impossible */
} MelCheckpointError;

/* Hyperparameters of training (not of the architecture).  Stored field by
 * field; add fields only at the end. */
typedef struct
{
  guint32 epochs;         /* default 20 */
  guint32 batch_size;     /* windows per step; default 32 */
  guint32 window;         /* symbols per window (VAE: segment_steps); default 64 */
  guint32 stride;         /* between training windows; default window/2 */
  guint32 patience;       /* epochs without validation gain before stopping; 0 = never; default 5 */
  guint64 max_steps;      /* stop after this many optimizer steps; 0 = no limit */
  guint64 seed;           /* initialisation, shuffling and dropout; default 1 */
  guint32 n_threads;      /* model worker threads; default 1 */
  MelOptimConfig optim;
  float learning_rate;    /* peak; default 2e-3 */
  MelLrDecay lr_decay;    /* default MEL_LR_COSINE */
  guint32 warmup_steps;   /* default 100; at most a fifth of the planned steps is used */
  float min_lr_ratio;     /* cosine floor; default 0.05 */
  guint32 decay_epochs;   /* MEL_LR_STEP: period in epochs; default 5 */
  float decay_gamma;      /* MEL_LR_STEP: factor per period; default 0.5 */
  float kl_weight;        /* VAE β; default 1 */
  guint32 checkpoint_every; /* also write the last checkpoint every N steps; 0 = per epoch only */
} MelTrainConfig;

/* Fills @config with the defaults listed above. */
void mel_train_config_init (MelTrainConfig *config);

/* Figures after one epoch (or the final partial epoch). */
typedef struct
{
  guint32 epoch;         /* 1-based */
  guint64 step;          /* optimizer steps done at the end of it */
  double train_loss;     /* mean cross-entropy (nats/symbol) over its batches */
  double valid_loss;     /* nats/symbol on the validation split; NaN without one */
  double valid_bits;     /* bits/symbol */
  double valid_accuracy;
  double valid_onset_accuracy;
  double valid_pitch_bits; /* per note */
  double learning_rate;  /* at its last step */
  double seconds;        /* wall time of training so far */
} MelEpochRecord;

/* Where a run stands, enough to continue it bit for bit. */
typedef struct
{
  guint64 step;             /* optimizer steps done */
  guint32 epoch;            /* epochs completed */
  guint64 batch_in_epoch;   /* batches of the current epoch done */
  guint64 epoch_rng[4];     /* shuffling RNG at the start of the current epoch */
  double best_valid_loss;   /* +inf before the first validation */
  guint32 best_epoch;       /* 0 = none */
  guint32 bad_epochs;       /* epochs since the best */
  double epoch_loss_sum;    /* Σ batch losses in the current epoch */
  guint64 epoch_batches;    /* batches in that sum */
  double seconds;           /* training wall time so far */
  gboolean finished;        /* the run ended (epochs, early stop or step limit) */
  guint64 data_hash;        /* fingerprint of the training and validation ids */
} MelTrainState;

typedef struct
{
  MelModelConfig model_config;
  MelVocab *vocab;           /* owned */
  guint64 split_seed;        /* the dataset's split seed */
  char *preprocessing;       /* owned; opaque description from the caller (e.g. JSON) */
  MelTrainConfig train;
  MelTrainState state;
  GArray *history;           /* MelEpochRecord; owned */
  float *params;             /* n_params; owned */
  gsize n_params;
  gboolean has_optimizer;    /* adam_m, adam_v and adam_step are valid */
  guint64 adam_step;
  float *adam_m;             /* n_params; owned or NULL */
  float *adam_v;
  GBytes *model_data;        /* what the model learnt beside its parameters
                                (mel_model_save_data: the n-gram's counts);
                                owned or NULL */
} MelCheckpoint;

/* An empty checkpoint (no vocabulary, no parameters, default training
 * configuration, empty history).  Free with mel_checkpoint_free(). */
MelCheckpoint *mel_checkpoint_new (void);

/* A checkpoint of @model's configuration and parameters (copied) with a
 * copy of @vocab; @optim (nullable) adds the optimizer state. */
MelCheckpoint *mel_checkpoint_new_from_model (MelModel *model, const MelVocab *vocab,
                                              MelOptimizer *optim);

void mel_checkpoint_free (MelCheckpoint *checkpoint);

/* Serialises @checkpoint (the exact file bytes).  Caller owns the result. */
GBytes *mel_checkpoint_to_bytes (const MelCheckpoint *checkpoint);

/* Writes @checkpoint to @path atomically: on failure @path is untouched and
 * no temporary file remains.  MEL_CHECKPOINT_ERROR_IO on failure. */
gboolean mel_checkpoint_save (const MelCheckpoint *checkpoint, const char *path, GError **error);

/* Parses checkpoint bytes.  Returns a new checkpoint or NULL with one of
 * the MEL_CHECKPOINT_ERROR codes. */
MelCheckpoint *mel_checkpoint_load_from_data (const guint8 *data, gsize length, GError **error);

/* Reads and parses the file at @path (MEL_CHECKPOINT_ERROR_IO when it
 * cannot be read; messages start with the file name). */
MelCheckpoint *mel_checkpoint_load (const char *path, GError **error);

/* A model with the checkpoint's configuration and parameters.  Returns NULL
 * with MEL_CHECKPOINT_ERROR_SIZE_MISMATCH when the parameter count does
 * not match the configuration, or a MEL_MODEL_ERROR.  Caller owns it. */
MelModel *mel_checkpoint_create_model (const MelCheckpoint *checkpoint, GError **error);

/* "run.ckpt" → "run.best.ckpt" (any other name gets ".best" appended).
 * Caller frees. */
char *mel_checkpoint_best_path (const char *path);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MelCheckpoint, mel_checkpoint_free)

G_END_DECLS
