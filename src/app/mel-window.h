/* mel-window.h — the main window: Corpus · Train · Generate · Compare.
 *
 * The window owns what its views share: the corpus (MelCorpusStore), the
 * player, and the list of training runs.
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include <adwaita.h>

#include "mel-application.h"
#include "mel-corpus-store.h"
#include "mel-player.h"

G_BEGIN_DECLS

#define MEL_TYPE_WINDOW (mel_window_get_type ())
G_DECLARE_FINAL_TYPE (MelWindow, mel_window, MEL, WINDOW, AdwApplicationWindow)

MelWindow *mel_window_new (MelApplication *application);

/* Shows the view named "corpus", "train", "generate" or "compare". */
void mel_window_show_view (MelWindow *self, const char *name);
const char *mel_window_get_visible_view (MelWindow *self);
/* The view widget named @name (MelCorpusView, MelTrainView,
 * MelGenerateView or MelCompareView), or NULL; owned by the window. */
GtkWidget *mel_window_get_view (MelWindow *self, const char *name);

/* Opens @file: a **kern file or folder becomes the corpus, a checkpoint
 * (*.ckpt) is added to the runs and selected for generating. */
void mel_window_open_file (MelWindow *self, GFile *file);

/* Shows a toast with @title. */
void mel_window_add_toast (MelWindow *self, const char *title);
/* Shows an error dialog with @heading and the error's message. */
void mel_window_show_error (MelWindow *self, const char *heading, const GError *error);

/* The song selected in the Corpus view, or NULL (owned by the corpus). */
MelSong *mel_window_get_selected_song (MelWindow *self);

/* Shared state, owned by the window. */
MelCorpusStore *mel_window_get_corpus_store (MelWindow *self);
MelPlayer *mel_window_get_player (MelWindow *self);
/* The training runs (MelRun), newest first. */
GListStore *mel_window_get_runs (MelWindow *self);
/* The settings, or NULL without the schema. */
GSettings *mel_window_get_settings (MelWindow *self);

G_END_DECLS
