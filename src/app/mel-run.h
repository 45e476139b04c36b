/* mel-run.h — one training run: its configuration, its worker thread, its
 * live figures, and its folder on disk.
 *
 * A run lives in <runs-dir>/<run-id>/ with run.json (configuration, status,
 * loss history) and the trainer's checkpoints run.ckpt (last) and
 * run.best.ckpt (best validation loss), so runs are listed again after a
 * restart.  Training happens in a worker thread that gets immutable copies
 * of its inputs and reports through the main loop; the MelRun object is
 * touched only on the main thread.  Pausing writes a checkpoint with the
 * exact position, and resuming continues from it bit for bit.
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include <gio/gio.h>

#include "mel-checkpoint.h"
#include "mel-dataset.h"
#include "mel-loss-plot.h"
#include "mel-model.h"

G_BEGIN_DECLS

typedef enum
{
  MEL_RUN_NEW,       /* created, never started */
  MEL_RUN_PREPARING, /* building the dataset */
  MEL_RUN_RUNNING,
  MEL_RUN_PAUSED,    /* checkpoint written; can resume */
  MEL_RUN_FINISHED,  /* ended by its epochs, early stopping or step limit */
  MEL_RUN_STOPPED,   /* stopped by the user; the checkpoint is usable */
  MEL_RUN_FAILED,
} MelRunStatus;

/* Everything a run is started with.  Plain values: copy freely. */
typedef struct
{
  MelModelConfig model;       /* vocab_size is filled in from the dataset */
  MelTrainConfig train;
  MelPreprocessOptions preprocess;
} MelRunConfig;

/* Defaults for the GUI: the library defaults for @kind with the given threads. */
void mel_run_config_init (MelRunConfig *config, MelModelKind kind, guint n_threads);

#define MEL_TYPE_RUN (mel_run_get_type ())
G_DECLARE_FINAL_TYPE (MelRun, mel_run, MEL, RUN, GObject)

/* Creates a new run folder below @runs_dir (made if missing) and writes its
 * run.json.  @corpus_root names the corpus the run trains on ("embedded"
 * for the built-in songs).  Returns a new run or NULL with @error. */
MelRun *mel_run_new (const char *runs_dir, const MelRunConfig *config, const char *corpus_root,
                     GError **error);
/* Loads the run in folder @dir (its run.json). */
MelRun *mel_run_load (const char *dir, GError **error);
/* A read-only run for a checkpoint file opened from elsewhere: it can be
 * generated from but not trained. */
MelRun *mel_run_new_from_checkpoint (const char *path, GError **error);
/* Every run below @runs_dir, newest first; folders that cannot be read are
 * skipped with a warning in the log.  Caller owns the store (of MelRun). */
GListStore *mel_run_load_all (const char *runs_dir);

/* Starts training (or resumes a paused run) in a worker thread, on @songs
 * (MelSong*, referenced; must be the corpus the run was made for).
 * FALSE with @error when the run cannot start in its state. */
gboolean mel_run_start (MelRun *self, GPtrArray *songs, GError **error);
/* Pauses at the next step (a checkpoint is written); resumable. */
void mel_run_pause (MelRun *self);
/* Stops for good at the next step; the last checkpoint stays usable. */
void mel_run_stop (MelRun *self);
/* TRUE while run.json is being written in the background. */
gboolean mel_run_is_saving (MelRun *self);
/* Forgets the run: stops it and deletes its folder. */
gboolean mel_run_delete (MelRun *self, GError **error);

const char *mel_run_get_id (MelRun *self);
/* A short description: "GRU 2×256 · 12 Nov 14:02". */
const char *mel_run_get_label (MelRun *self);
MelRunStatus mel_run_get_status (MelRun *self);
/* The status in words, with the error for a failed run. */
char *mel_run_dup_status_text (MelRun *self);
const MelRunConfig *mel_run_get_config (MelRun *self);
const char *mel_run_get_corpus_root (MelRun *self);
gboolean mel_run_is_active (MelRun *self); /* preparing or running */
gboolean mel_run_can_resume (MelRun *self);
/* Folder of the run (NULL for an imported checkpoint). */
const char *mel_run_get_dir (MelRun *self);
/* The checkpoint to generate from: the best one if written, else the
 * last; NULL when none exists yet.  Owned by the run. */
const char *mel_run_get_checkpoint_path (MelRun *self);

/* Live figures (valid while running, last values afterwards). */
double mel_run_get_fraction (MelRun *self);        /* 0…1 of the planned steps */
guint mel_run_get_epoch (MelRun *self);
guint mel_run_get_n_epochs (MelRun *self);
guint64 mel_run_get_step (MelRun *self);
double mel_run_get_tokens_per_second (MelRun *self);
double mel_run_get_eta_seconds (MelRun *self);     /* NaN when unknown */
/* Best validation figures so far (NaN when none). */
double mel_run_get_best_valid_loss (MelRun *self);
double mel_run_get_best_valid_bits (MelRun *self);
double mel_run_get_best_onset_accuracy (MelRun *self);
guint mel_run_get_best_epoch (MelRun *self);

/* Loss history for the plot: train (smoothed, per step) and validation
 * (per epoch) points, step on x. */
guint mel_run_get_n_points (MelRun *self, MelLossKind kind);
void mel_run_get_point (MelRun *self, MelLossKind kind, guint index, double *step, double *loss);

G_END_DECLS
