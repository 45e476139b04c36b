/* mel-score-view.h — a GTK widget showing a melody as engraved staff notation.
 *
 * MelScoreView lays the song out for its allocated width (reflowing on
 * resize) and draws it with the engraver's cairo renderer.  It is
 * height-for-width: inside a GtkScrolledWindow (vertical scrolling) it
 * asks for exactly the height the music needs at the given width.
 *
 * Layout runs on the main thread: it takes well under a millisecond for a
 * folk song (about 0.2 ms for 32 bars, see bench/results-engrave.md) and
 * is cached per width and zoom, so resizing and redrawing stay smooth.
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include <gtk/gtk.h>

#include "mel-engrave.h"
#include "mel-song.h"

G_BEGIN_DECLS

#define MEL_TYPE_SCORE_VIEW (mel_score_view_get_type ())
G_DECLARE_FINAL_TYPE (MelScoreView, mel_score_view, MEL, SCORE_VIEW, GtkWidget)

/* A new, empty score view (floating reference, as for every widget). */
GtkWidget *mel_score_view_new (void);

/* The song shown ("song" property); the view takes a reference.  NULL
 * clears it.  Clears the cursor, highlight, values and marked bars. */
void mel_score_view_set_song (MelScoreView *self, MelSong *song);
/* The song shown, owned by the view; may be NULL. */
MelSong *mel_score_view_get_song (MelScoreView *self);

/* Zoom ("scale" property, 0.25 … 8, default 1): the staff space is 8 px × scale. */
void mel_score_view_set_scale (MelScoreView *self, double scale);
double mel_score_view_get_scale (MelScoreView *self);

/* Playback cursor ("cursor" property) in quarter notes from the start of
 * the song; a negative value hides it.  The note under the cursor is
 * drawn in the highlight colour. */
void mel_score_view_set_cursor (MelScoreView *self, double time);
double mel_score_view_get_cursor (MelScoreView *self);

/* Highlights one song event ("highlight-event" property), or -1 for none.
 * Independent of the cursor (e.g. the note the user clicked). */
void mel_score_view_set_highlight_event (MelScoreView *self, int event);
int mel_score_view_get_highlight_event (MelScoreView *self);

/* Colours each note by a value 0…1 (model probability, attention weight)
 * on the engraver's blue→red ramp: @values[i] belongs to song event i;
 * NaN leaves a note black.  The array is copied.  NULL clears. */
void mel_score_view_set_values (MelScoreView *self, const double *values, guint n_values);

/* Tints the written bars @first … @last (indexes into the layout's bars,
 * which are the song's bars); -1, -1 clears. */
void mel_score_view_set_marked_bars (MelScoreView *self, int first, int last);

/* Where the cursor is drawn now, in widget coordinates (for scrolling it
 * into view).  FALSE when there is no cursor or nothing is laid out yet. */
gboolean mel_score_view_get_cursor_rect (MelScoreView *self, graphene_rect_t *rect);

/* The layout for the current width, or NULL before the first allocation
 * or without a song.  Owned by the view; valid until the next resize. */
MelEngraveLayout *mel_score_view_get_layout (MelScoreView *self);

/* Signal "event-activated" (guint event): the user clicked a note or rest;
 * @event is the index of the song event. */

G_END_DECLS
