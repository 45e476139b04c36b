/* mel-attention-map.h — the attention weights of an LSTM + attention model
 * over one melody, as a heat map.
 *
 * Columns are the attended positions s and rows the attending positions t
 * (steps × steps, one sixteenth each), so the x axis is the melody's time
 * like the score above it.  Given that score (mel_attention_map_set_score_view)
 * and a melody laid out on one system, column s is drawn exactly under the
 * score's x of time s/4 quarters (the cursor's x), so notes and columns line
 * up; otherwise the columns share the width evenly.  Each row is scaled to its own maximum, because
 * a row sums to 1 and early rows would otherwise outshine the rest.  One
 * head or the mean of all heads is shown.  Clicking a cell selects its row
 * (the step whose attention is of interest) and emits "step-selected".
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include <gtk/gtk.h>

#include "mel-score-view.h"

G_BEGIN_DECLS

#define MEL_TYPE_ATTENTION_MAP (mel_attention_map_get_type ())
G_DECLARE_FINAL_TYPE (MelAttentionMap, mel_attention_map, MEL, ATTENTION_MAP, GtkWidget)

/* A new, empty map (floating reference, as for every widget). */
GtkWidget *mel_attention_map_new (void);

/* Replaces the weights: @weights holds @n_heads × @n_steps × @n_steps
 * floats laid out [head][t][s] as mel_model_get_attention() writes them;
 * they are copied.  NULL (or 0 heads or steps) clears the map.  The
 * selected step and head are reset. */
void mel_attention_map_set_weights (MelAttentionMap *self, const float *weights, guint n_heads,
                                    guint n_steps);
guint mel_attention_map_get_n_heads (MelAttentionMap *self);
guint mel_attention_map_get_n_steps (MelAttentionMap *self);

/* The head shown ("head" property): 0 … n_heads − 1, or −1 for the mean of
 * all heads (the default).  Out-of-range values are clamped to −1. */
void mel_attention_map_set_head (MelAttentionMap *self, int head);
int mel_attention_map_get_head (MelAttentionMap *self);

/* The weight step @t pays to step @s under the shown head (or the mean);
 * 0 out of range. */
double mel_attention_map_get_weight (MelAttentionMap *self, guint t, guint s);

/* The selected (attending) step ("selected-step" property), −1 for none.
 * Setting it emits "step-selected" (int step) like a click. */
void mel_attention_map_set_selected_step (MelAttentionMap *self, int step);
int mel_attention_map_get_selected_step (MelAttentionMap *self);

/* The score the map is drawn under (not referenced: the map forgets it
 * when it is finalized), or NULL.  Both widgets should share an x origin,
 * e.g. as children of one vertical box without margins. */
void mel_attention_map_set_score_view (MelAttentionMap *self, MelScoreView *score);

/* TRUE when the last drawing placed the columns under the score's notes
 * (one system, every step inside the song), FALSE when it spread them
 * evenly. */
gboolean mel_attention_map_get_aligned (MelAttentionMap *self);

G_END_DECLS
