/* mel-comparison.h — every model measured on the same held-out songs,
 * against the n-gram baseline: the engine of `melodist-cli compare`, made
 * to be shown by the app as well (plain result structs, no I/O besides the
 * report writers, runs in a worker thread, cancellable).
 *
 * For a dataset and a list of checkpoints, mel_comparison_run():
 *   1. counts an n-gram baseline on the dataset's training split;
 *   2. scores every run and the baseline on the test split with the shared
 *      evaluator (mel-evaluate.h);
 *   3. draws samples from every run and the baseline, decodes them and
 *      compares their statistics with the held-out songs (mel-stats.h),
 *      next to the corpus's own train-vs-test distance;
 *   4. checks every sample for copies of training songs (mel-memorise.h);
 *   5. optionally cross-validates the baseline over k folds by melody group;
 *   6. optionally scores every run once more combined with a short-term
 *      model that learns each test song as it is predicted (mel-stm.h),
 *      reported as separate "+ STM" figures next to the plain ones.
 *
 * Links src/model and src/score (it is the one place that joins them,
 * besides the CLI and the app).
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include <gio/gio.h>

#include "mel-checkpoint.h"
#include "mel-dataset.h"
#include "mel-evaluate.h"
#include "mel-memorise.h"
#include "mel-stats.h"

G_BEGIN_DECLS

typedef struct
{
  guint n_samples;        /* per run; default 50 (0: no sample statistics) */
  guint sample_steps;     /* sixteenths per sample; default 256 (16 bars of 4/4) */
  float temperature;      /* default 1.0 */
  guint64 seed;           /* sampling; default 1 */
  guint baseline_order;   /* default 8 */
  guint n_folds;          /* baseline cross-validation; 0 = none (default) */
  double threshold_bars;  /* memorisation flag; default 4 */
  guint batch;            /* windows per forward in evaluation; default 32 */
  gboolean cross_validate_runs; /* with n_folds: also retrain every run's configuration
                                 * on each fold (its training configuration, no
                                 * validation split); default FALSE */
  gboolean use_stm;       /* also score every run and the cross-validations "+ STM"; default FALSE */
  MelStmConfig stm;       /* the short-term model; default mel_stm_config_init() */
  gboolean cv_validate;   /* with cross_validate_runs: fold k trains on the folds other than
                           * k and k+1 (mod K), validates on fold k+1 after every epoch,
                           * stops after the run's patience and is scored with its best
                           * epoch (needs n_folds ≥ 3; ignored for kinds that count);
                           * default FALSE (all epochs, no validation) */
} MelComparisonOptions;

void mel_comparison_options_init (MelComparisonOptions *options);

typedef struct
{
  char *name;                 /* label: the checkpoint's file name, or "n-gram baseline" */
  char *path;                 /* checkpoint path; NULL for the baseline */
  gboolean is_baseline;
  MelModelConfig config;
  gsize n_params;             /* float parameters (n-gram: 0, it counts) */
  MelEvaluation test;         /* on the shared test split */
  GArray *history;            /* MelEpochRecord, from the checkpoint; owned */
  GPtrArray *samples;         /* MelSong*, decoded samples; owned */
  MelMelodyStats sample_stats;
  MelStatDistance distance[MEL_N_STATS]; /* held-out songs vs samples */
  GArray *memory;             /* MelMemoryMatch per sample (song_id borrowed from the comparison) */
  guint n_copied;             /* samples flagged as copies */
  double seconds;             /* fitting (baseline) or evaluation time */
  MelCrossValidation *cv;     /* k-fold figures of this configuration, or NULL; owned */
} MelComparisonRun;

typedef struct
{
  GPtrArray *runs;             /* MelComparisonRun*, the checkpoints then the baseline; owned */
  MelComparisonOptions options;
  char *data_description;      /* preprocessing of the shared data (JSON); owned */
  guint n_train_songs, n_test_songs;
  guint64 n_test_symbols, n_test_notes;
  MelMelodyStats train_stats;  /* training songs */
  MelMelodyStats test_stats;   /* held-out songs */
  MelStatDistance reference[MEL_N_STATS]; /* held-out vs training songs: the yardstick */
  MelCrossValidation *baseline_cv; /* NULL without --folds; owned (the same as the
                                    * baseline run's cv) */
  MelMemoryIndex *memory_index;    /* training songs; owned */
} MelComparison;

void mel_comparison_free (MelComparison *comparison);

typedef void (*MelComparisonProgress) (const char *stage, double fraction, gpointer user_data);

/* Runs the comparison described above.  @checkpoints holds MelCheckpoint*
 * (borrowed) and @names their labels (char*, same length).  @dataset is
 * the shared data; @songs (nullable) the MelSong* the dataset was built
 * from, in its input order (MelDatasetSong.song_index), used for the
 * statistics and the memorisation index with their real meters; without
 * them the songs are decoded from the ids in 4/4.  Returns a new
 * comparison or NULL with G_IO_ERROR_CANCELLED, G_IO_ERROR_INVALID_DATA
 * (a run whose vocabulary lacks a symbol of the test data), or a model
 * error. */
MelComparison *mel_comparison_run (GPtrArray *checkpoints, GPtrArray *names, const MelDataset *dataset,
                                   GPtrArray *songs, const char *data_description,
                                   const MelComparisonOptions *options, MelComparisonProgress progress,
                                   gpointer user_data, GCancellable *cancellable, GError **error);

/* The comparison as JSON (pretty-printed).  Caller frees. */
char *mel_comparison_to_json (const MelComparison *comparison);

/* The table printed by the CLI (plain text, one run per row).  Caller frees. */
char *mel_comparison_to_table (const MelComparison *comparison);

/* Writes a self-contained HTML report (tables, inline SVG plots of the
 * loss histories and the sample histograms, memorisation flags) to @path
 * atomically.  FALSE with a G_FILE_ERROR. */
gboolean mel_comparison_write_html (const MelComparison *comparison, const char *path, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MelComparison, mel_comparison_free)

G_END_DECLS
