/* mel-train-view.h — the Train view: model and hyperparameters, the live
 * loss plot of every run, and one card per run.
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include <adwaita.h>

#include "mel-corpus-store.h"
#include "mel-loss-plot.h"
#include "mel-run.h"

G_BEGIN_DECLS

#define MEL_TYPE_TRAIN_VIEW (mel_train_view_get_type ())
G_DECLARE_FINAL_TYPE (MelTrainView, mel_train_view, MEL, TRAIN_VIEW, AdwBin)

/* Connects the view to the window's corpus and runs (referenced; @settings
 * may be NULL).  Call once. */
void mel_train_view_bind (MelTrainView *self, MelCorpusStore *store, GListStore *runs,
                          GSettings *settings);

/* The configuration the controls describe now. */
void mel_train_view_get_config (MelTrainView *self, MelRunConfig *config);
/* Sets the controls from @config (for tests and "train again like this"). */
void mel_train_view_set_config (MelTrainView *self, const MelRunConfig *config);

MelLossPlot *mel_train_view_get_plot (MelTrainView *self);
/* TRUE when the model kind can be chosen (its implementation exists). */
gboolean mel_train_view_kind_available (MelTrainView *self, MelModelKind kind);

G_END_DECLS
