/* mel-run-card.h — one run in the Train view: status, progress, figures,
 * and its Pause/Resume, Stop, Generate and Delete buttons.
 *
 * The card only shows the run and asks: it emits "resume", "generate" and
 * "delete" for the view to act on (resuming needs the corpus, deleting a
 * confirmation); Pause and Stop go to the run directly.
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include <adwaita.h>

#include "mel-run.h"

G_BEGIN_DECLS

#define MEL_TYPE_RUN_CARD (mel_run_card_get_type ())
G_DECLARE_FINAL_TYPE (MelRunCard, mel_run_card, MEL, RUN_CARD, AdwBin)

/* A card for @run (referenced) drawn in @color (may be NULL). */
GtkWidget *mel_run_card_new (MelRun *run, const GdkRGBA *color);
MelRun *mel_run_card_get_run (MelRunCard *self);

G_END_DECLS
