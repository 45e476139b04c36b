/* mel-export-private.h — internal helpers of the exporters: sounding notes
 * with ties merged, and the "written" layout (measures, note values, ties
 * across barlines, tuplets, beams, accidentals) that MusicXML and ABC share.
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include "mel-export.h"

G_BEGIN_DECLS

/* One sounding note: a chain of tied events merged into one. */
typedef struct
{
  MelRational onset;
  MelRational duration;
  int midi;
} MelSoundingNote;

/* The notes of @song with tie chains merged, sorted by onset.  Returns a
 * new GArray of MelSoundingNote (caller owns). */
GArray *_mel_export_sounding_notes (const MelSong *song);

/* Atomic writing for writers that need a file descriptor (libsndfile):
 * opens a temporary file beside @path (or @path itself when it is a device),
 * returns its descriptor and sets @tmp_path to a newly allocated name (NULL
 * when writing directly); returns -1 with MEL_EXPORT_ERROR_IO on failure.
 * Finish with _mel_export_commit() or _mel_export_abandon(). */
int _mel_export_open_temp (const char *path, char **tmp_path, GError **error);
/* Flushes and closes @fd, then renames @tmp_path over @path; on failure
 * removes @tmp_path.  @tmp_path may be NULL (direct write). */
gboolean _mel_export_commit (int fd, const char *tmp_path, const char *path, GError **error);
/* Closes @fd (if >= 0) and removes @tmp_path (if not NULL). */
void _mel_export_abandon (int fd, const char *tmp_path);

typedef enum
{
  MEL_BEAM_NONE,
  MEL_BEAM_BEGIN,
  MEL_BEAM_CONTINUE,
  MEL_BEAM_END,
  MEL_BEAM_FORWARD_HOOK,
  MEL_BEAM_BACKWARD_HOOK,
} MelBeam;

#define MEL_MAX_BEAMS 4

/* One written note or rest: a piece of an event that lies in one measure
 * and has a single note value (type with dots, possibly a triplet). */
typedef struct
{
  MelRational onset;    /* absolute, quarter notes */
  MelRational duration; /* sounding length, quarter notes */
  MelPitch pitch;
  int midi;             /* -1 for a rest */
  int type_log2;        /* normal value = 2^type_log2 quarters: 0 quarter, -1 eighth, 2 whole */
  int dots;
  gboolean triplet;     /* 3 in the time of 2 */
  gboolean tuplet_start;
  gboolean tuplet_stop;
  gboolean tie_start;
  gboolean tie_stop;
  gboolean measure_rest; /* a rest filling the whole measure */
  gboolean show_accidental;
  guint8 flags;          /* MelEventFlags of the event it comes from (first piece only) */
  MelBeam beams[MEL_MAX_BEAMS];
} MelWrittenNote;

typedef struct
{
  MelRational onset;
  MelRational duration;
  int number;            /* 0 for a pickup, then 1, 2, … */
  gboolean implicit;     /* pickup: not counted */
  MelMeter meter;        /* in force at the onset (numerator 0 when none) */
  gboolean meter_changed;    /* first measure or a different meter */
  gboolean has_key_signature;
  MelKeySignature key_signature;
  gboolean key_changed;
  MelKey key;
  gboolean has_key;
  guint first_note;
  guint n_notes;
} MelWrittenMeasure;

typedef struct
{
  GArray *measures; /* MelWrittenMeasure */
  GArray *notes;    /* MelWrittenNote */
} MelNotation;

/* Lays @song out in measures with notatable values.  Fails with
 * MEL_EXPORT_ERROR_UNSUPPORTED for durations no note value (plain, dotted,
 * double dotted or triplet) can spell, and MEL_EXPORT_ERROR_EMPTY for a
 * song without events. */
MelNotation *_mel_notation_new (const MelSong *song, GError **error);
void _mel_notation_free (MelNotation *notation);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MelNotation, _mel_notation_free)

/* Smallest positive integer d such that every duration of @notation times
 * d is an integer (the MusicXML <divisions>). */
gint64 _mel_notation_divisions (const MelNotation *notation);

gint64 _mel_gcd (gint64 a, gint64 b);

G_END_DECLS
