/* mel-app-private.h — small helpers the views share (not GObjects).
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include <gtk/gtk.h>

#include "mel-song.h"

G_BEGIN_DECLS

/* Registers the UI resources once; every templated class calls it. */
void _mel_app_ensure_resources (void);

/* An engraved score of a song (MelScoreView), or a notice when the build
 * has no score view. */
GtkWidget *_mel_score_widget_new (void);
/* Shows @song (NULL clears). */
void _mel_score_widget_set_song (GtkWidget *widget, MelSong *song);
/* Moves the playback cursor to @time quarter notes (< 0 hides it). */
void _mel_score_widget_set_cursor (GtkWidget *widget, double time);

/* "1 h 05 min", "3 min 20 s", "12 s"; "—" for NaN or negative.  Caller frees. */
char *_mel_format_duration (double seconds);

/* The tonic of a key in the UI language: "E♭" or, in German, "Es"; in lower
 * case when @minor ("e♭", "es").  @step is 'C' … 'B', @alter the
 * semitones (−1 flat).  Caller frees. */
char *_mel_tonic_name (char step, int alter, gboolean minor);

/* The tempo to play @song at when the user has chosen none. */
double _mel_default_tempo (const MelSong *song);

/* Saves @song in the format named by the extension of @path: .krn, .mid,
 * .musicxml/.xml, .abc, .wav/.flac/.ogg, .png/.svg/.pdf.  Blocking: call it
 * from a worker thread.  @tempo and @program are used for audio and MIDI. */
gboolean _mel_export_song (MelSong *song, const char *path, double tempo, int program,
                           const char *soundfont, GCancellable *cancellable, GError **error);

G_END_DECLS
