/* mel-song-item.h — a MelSong as a GObject, for list models and column views.
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include <glib-object.h>

#include "mel-song.h"

G_BEGIN_DECLS

#define MEL_TYPE_SONG_ITEM (mel_song_item_get_type ())
G_DECLARE_FINAL_TYPE (MelSongItem, mel_song_item, MEL, SONG_ITEM, GObject)

/* A new item holding a reference to @song.  The text properties ("title",
 * "id", "collection", "region", "place", "key", "mode", "meter") and the counts
 * ("bars", "notes") are computed once here, so sorting and filtering never
 * touch the song again. */
MelSongItem *mel_song_item_new (MelSong *song);

/* The wrapped song (owned by the item). */
MelSong *mel_song_item_get_song (MelSongItem *self);
const char *mel_song_item_get_title (MelSongItem *self);
const char *mel_song_item_get_id (MelSongItem *self);
/* Sub-collection: the folder the file was in ("altdeu1"), or "". */
const char *mel_song_item_get_collection (MelSongItem *self);
const char *mel_song_item_get_region (MelSongItem *self);
/* The last, most specific part of the region ("Deutschland"), or "". */
const char *mel_song_item_get_place (MelSongItem *self);
/* "G major", "d minor" or "—"; the mode alone is "major", "minor" or "". */
const char *mel_song_item_get_key (MelSongItem *self);
const char *mel_song_item_get_mode (MelSongItem *self);
/* "3/4", "irregular" or "—" (the first meter of the song). */
const char *mel_song_item_get_meter (MelSongItem *self);
guint mel_song_item_get_n_bars (MelSongItem *self);
guint mel_song_item_get_n_notes (MelSongItem *self);

/* TRUE when @needle (already case-folded) occurs in the title, id or region. */
gboolean mel_song_item_matches (MelSongItem *self, const char *needle);

G_END_DECLS
