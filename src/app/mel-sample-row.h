/* mel-sample-row.h — one generated melody: its engraved score, playback
 * with a following cursor, and export to audio, MIDI, notation and images.
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include <adwaita.h>

#include "mel-player.h"
#include "mel-song.h"

G_BEGIN_DECLS

#define MEL_TYPE_SAMPLE_ROW (mel_sample_row_get_type ())
G_DECLARE_FINAL_TYPE (MelSampleRow, mel_sample_row, MEL, SAMPLE_ROW, AdwBin)

/* A row showing @song (referenced) titled @title, played with @player
 * (referenced) at @tempo quarter notes per minute. */
GtkWidget *mel_sample_row_new (MelSong *song, const char *title, MelPlayer *player, double tempo);
MelSong *mel_sample_row_get_song (MelSampleRow *self);

/* The MelScoreView showing the song (owned by the row), e.g. to colour its
 * notes with mel_score_view_set_values(). */
GtkWidget *mel_sample_row_get_score_view (MelSampleRow *self);

/* Appends @child (floating or referenced: the row takes it) beneath the
 * score, at the score's width (e.g. an attention map whose x axis is the
 * melody's time). */
void mel_sample_row_add_extra (MelSampleRow *self, GtkWidget *child);

/* Saves the song to @path (format from the extension) in a worker thread;
 * a toast reports the result.  "exported" (GError *error) is emitted when
 * it is done. */
void mel_sample_row_export (MelSampleRow *self, const char *path);
/* Asks for a file name with a save dialog for @extension ("wav", "mid",
 * "musicxml", "krn", "abc", "png", "svg", "pdf"), then exports. */
void mel_sample_row_export_with_dialog (MelSampleRow *self, const char *extension);

G_END_DECLS
