/* mel-memorise.h — does a generated melody copy a training song?
 *
 * Melodies are compared as sequences of (interval to the next note,
 * inter-onset interval) pairs, so a transposed copy counts as a copy and
 * rests count through the rhythm; tied notes are one note.  The index is a
 * suffix array over the training songs' pairs (songs separated by unique
 * sentinels), so the longest run shared with any training song at every
 * position of a melody is a binary search away: O(m log n) comparisons for
 * a melody of m notes against n training notes.
 *
 * A run of k pairs is k+1 notes; its length in bars is the time from its
 * first onset to the end of its last note in the melody (the next onset,
 * so a rest after it counts) over the bar length of the melody's meter
 * (4/4 when it has none or an irregular one).
 *
 * The index is immutable once built and may be searched from several
 * threads at once.
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include <glib.h>

#include "mel-song.h"

G_BEGIN_DECLS

#define MEL_MEMORISE_DEFAULT_THRESHOLD_BARS 4.0

typedef struct _MelMemoryIndex MelMemoryIndex;

/* Indexes the MelSong* of @songs (each is referenced, not copied). */
MelMemoryIndex *mel_memory_index_new (GPtrArray *songs);
void mel_memory_index_free (MelMemoryIndex *index);
guint mel_memory_index_get_n_songs (const MelMemoryIndex *index);

typedef struct
{
  guint n_notes;       /* notes of the run with the most bars (0: none; ≥ 2 otherwise) */
  double n_bars;       /* its length in bars */
  guint max_notes;     /* the most notes any shared run has (may be another run) */
  gint song_index;     /* training song of the run, index into the indexed songs; −1 none */
  const char *song_id; /* its id (owned by the song), NULL when none */
  guint melody_note;   /* first note of the run in the melody (0-based, tied chains one note) */
  guint song_note;     /* first note of the run in the training song */
  gboolean copied;     /* n_bars ≥ the threshold */
} MelMemoryMatch;

/* The longest run @melody shares with an indexed song; flags it when it
 * lasts at least @threshold_bars bars.  Fills @match; returns match->copied. */
gboolean mel_memory_index_find (const MelMemoryIndex *index, const MelSong *melody, double threshold_bars,
                                MelMemoryMatch *match);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MelMemoryIndex, mel_memory_index_free)

G_END_DECLS
