/* mel-generate-view.h — the Generate view: choose a trained run, a seed
 * melody and sampling settings, and get engraved, playable, exportable
 * melodies.
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include <adwaita.h>

#include "mel-corpus-store.h"
#include "mel-player.h"
#include "mel-run.h"
#include "mel-sample-row.h"

G_BEGIN_DECLS

#define MEL_TYPE_GENERATE_VIEW (mel_generate_view_get_type ())
G_DECLARE_FINAL_TYPE (MelGenerateView, mel_generate_view, MEL, GENERATE_VIEW, AdwBin)

/* Connects the view to the window's shared objects (referenced; @settings
 * may be NULL).  Call once. */
void mel_generate_view_bind (MelGenerateView *self, MelCorpusStore *store, GListStore *runs,
                             MelPlayer *player, GSettings *settings);

/* Chooses @run (it must be in the window's runs and have a checkpoint). */
void mel_generate_view_select_run (MelGenerateView *self, MelRun *run);
/* The chosen run, or NULL. */
MelRun *mel_generate_view_get_selected_run (MelGenerateView *self);

/* TRUE while melodies are being written. */
gboolean mel_generate_view_get_busy (MelGenerateView *self);
/* The rows of the last generation. */
guint mel_generate_view_get_n_samples (MelGenerateView *self);
MelSampleRow *mel_generate_view_get_sample (MelGenerateView *self, guint index);

/* The seed of the next generation: the opening of corpus song @song_id,
 * or the symbols @symbols ("67 _ 65 64"), or nothing when both are NULL. */
void mel_generate_view_set_seed (MelGenerateView *self, const char *song_id, const char *symbols);

/* Settings of the next generation (for tests and scripting). */
void mel_generate_view_set_sampling (MelGenerateView *self, double temperature, guint top_k,
                                     guint bars, guint n_samples);

/* The random seed of the next generations (0: a new one each time). */
void mel_generate_view_set_random_seed (MelGenerateView *self, guint64 seed);

/* VAE runs: the songs (corpus ids) and the number of steps (≥ 2, ends
 * included) of the next interpolation ("generate.interpolate"). */
void mel_generate_view_set_interpolation (MelGenerateView *self, const char *song_a,
                                          const char *song_b, guint n_points);
/* Steps of the last interpolation (0 before the first). */
guint mel_generate_view_get_n_interpolation_steps (MelGenerateView *self);
/* Moves the slider to step @step (0-based) of the last interpolation. */
void mel_generate_view_set_interpolation_step (MelGenerateView *self, guint step);
/* The row showing the slider's step, or NULL (owned by the view). */
MelSampleRow *mel_generate_view_get_interpolation_row (MelGenerateView *self);
/* LSTM + attention runs: the MelAttentionMap under sample @index, or NULL
 * when the run has no attention (owned by the view). */
GtkWidget *mel_generate_view_get_attention_map (MelGenerateView *self, guint index);

G_END_DECLS
