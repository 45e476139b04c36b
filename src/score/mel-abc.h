/* mel-abc.h — ABC notation (2.1) export.
 *
 * One tune: X:1, T: (title, else id), M: (or "none" for an irregular
 * meter), L:1/8, Q:1/4=tempo, K: with the key signature (a mode such as
 * "Ddor" when the key's tonic asks for it, "exp" for a non-standard
 * signature), then the notes with lengths, bars (|, final |]), ties (-),
 * triplets ((3, or (3:2:n for uneven groups), beams by the meter's beat
 * (notes of a beat written together) and inline [M:]/[K:] changes.
 * Accidentals follow ABC's rule (they hold to the end of the bar, for the
 * same octave), so each note sounds at exactly its pitch.
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include <gio/gio.h>

#include "mel-export.h"
#include "mel-song.h"

G_BEGIN_DECLS

/* The ABC text for @song (caller frees), or NULL with MEL_EXPORT_ERROR
 * (EMPTY, or UNSUPPORTED for durations no note value can spell). */
char *mel_abc_write (const MelSong *song, GError **error);

/* mel_abc_write() saved to @path atomically. */
gboolean mel_abc_write_file (const MelSong *song, const char *path, GError **error);

G_END_DECLS
