/* mel-compare-view.h — the Compare view: trained runs and the n-gram
 * baseline measured on the same held-out songs (mel-comparison.h).
 *
 * The user ticks runs; Compare builds the shared data from the corpus with
 * the first run's preprocessing and runs the comparison in a worker thread
 * (cancellable).  The view shows the metrics table (sortable, best value
 * per column highlighted), the loss histories from the checkpoints,
 * histograms of generated samples against the held-out songs with their
 * KL divergence and overlap, samples side by side as playable scores, and
 * the samples flagged as copies of training songs, each with a link to the
 * song in the Corpus view.  The report can be exported as HTML.
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include <adwaita.h>

#include "mel-comparison.h"
#include "mel-corpus-store.h"
#include "mel-player.h"
#include "mel-run.h"

G_BEGIN_DECLS

#define MEL_TYPE_COMPARE_VIEW (mel_compare_view_get_type ())
G_DECLARE_FINAL_TYPE (MelCompareView, mel_compare_view, MEL, COMPARE_VIEW, AdwBin)

/* Connects the view to the window's shared objects (referenced; @settings
 * may be NULL).  Call once. */
void mel_compare_view_bind (MelCompareView *self, MelCorpusStore *store, GListStore *runs,
                            MelPlayer *player, GSettings *settings);

/* Ticks or unticks @run (it must have a checkpoint) for the next comparison. */
void mel_compare_view_set_run_selected (MelCompareView *self, MelRun *run, gboolean selected);

/* Samples per run and their length in bars (4/4) of the next comparison. */
void mel_compare_view_set_sampling (MelCompareView *self, guint n_samples, guint bars);

/* Whether the next comparison also scores every run combined with the
 * short-term model ("+ STM" rows in the table), as compare --stm. */
void mel_compare_view_set_short_term_model (MelCompareView *self, gboolean enabled);

/* TRUE while a comparison or an export runs. */
gboolean mel_compare_view_get_busy (MelCompareView *self);

/* The last comparison, or NULL (owned by the view; valid until the next). */
const MelComparison *mel_compare_view_get_comparison (MelCompareView *self);

/* Rows in the metrics table (the runs and the baseline, each followed by
 * its "+ STM" row when the short-term model was on). */
guint mel_compare_view_get_n_table_rows (MelCompareView *self);

/* Writes the last comparison as an HTML report to @path in a worker
 * thread (atomically); "exported" (GError *error, NULL on success) is
 * emitted when done and a toast reports it. */
void mel_compare_view_export (MelCompareView *self, const char *path);

G_END_DECLS
