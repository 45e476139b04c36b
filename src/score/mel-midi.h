/* mel-midi.h — Standard MIDI File export (type 0, one track).
 *
 * Times are exact: an onset of t quarter notes becomes t · 480 ticks, which
 * is an integer for every plain, dotted and triplet value down to 1/32
 * triplets.  Only a song with stranger fractions (a quintuplet, say) gets a
 * finer resolution: the smallest multiple of the needed denominator that is
 * at least 480 (at most 32767).
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include <gio/gio.h>

#include "mel-export.h"
#include "mel-song.h"

G_BEGIN_DECLS

#define MEL_MIDI_TICKS_PER_QUARTER 480

typedef struct
{
  double tempo; /* quarter notes per minute; 0 = mel_export_default_tempo() */
  int program;  /* General MIDI program 0…127 (program change on channel 1) */
  int velocity; /* 1…127 */
} MelMidiOptions;

/* Defaults: tempo from the meter, program 73 (flute), velocity 90. */
void mel_midi_options_init (MelMidiOptions *options);

/* Ticks per quarter note the file for @song will use (480 unless the song
 * needs a finer grid, see above). */
int mel_midi_ticks_per_quarter (const MelSong *song);

/* Encodes @song as a type-0 SMF: track name (title, else id), tempo,
 * time signatures and key signatures (with their changes), a program
 * change, then the notes on channel 1 with tied notes merged into one.
 * Note-offs come before note-ons at the same tick.  Irregular meters and
 * non-standard key signatures have no MIDI meta event and are left out.
 * Returns the file's bytes (caller owns) or NULL with MEL_EXPORT_ERROR
 * (EMPTY, or UNSUPPORTED for pitches outside MIDI 0…127). */
GBytes *mel_midi_write (const MelSong *song, const MelMidiOptions *options, GError **error);

/* mel_midi_write() saved to @path atomically (see mel_export_write_bytes). */
gboolean mel_midi_write_file (const MelSong *song, const MelMidiOptions *options, const char *path,
                              GError **error);

G_END_DECLS
