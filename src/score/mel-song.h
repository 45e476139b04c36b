/* mel-song.h — one monophonic melody with its metadata: the music model of src/score.
 *
 * A MelSong is built once (by the kern reader, the decoder of generated
 * symbols, or a test) and is then treated as immutable, so it can be shared
 * between threads by reference counting.  All times are exact MelRational
 * quarter-note values measured from the start of the song (the first
 * event of a pickup bar has onset 0).
 *
 * Ownership: functions named *_new / *_copy / *_dup return a reference or
 * allocation the caller owns; getters return pointers owned by the song.
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include <glib-object.h>

#include "mel-rational.h"

G_BEGIN_DECLS

/* A spelled pitch.  step is 'C', 'D', 'E', 'F', 'G', 'A' or 'B'; alter is the
 * chromatic alteration in semitones (-2 … +2); octave is in scientific pitch
 * notation, so middle C is C4 = MIDI 60. */
typedef struct
{
  char step;
  gint8 alter;
  gint8 octave;
} MelPitch;

/* MIDI key number of @pitch (may lie outside 0…127 for absurd input). */
int mel_pitch_to_midi (MelPitch pitch);
/* The usual spelling of MIDI key @midi: sharps when @prefer_sharps, else flats. */
MelPitch mel_pitch_from_midi (int midi, gboolean prefer_sharps);
/* Index of the step letter: C=0 … B=6, or -1 for anything else. */
int mel_pitch_step_index (char step);

typedef enum
{
  MEL_TIE_NONE = 0,
  MEL_TIE_START = 1 << 0, /* this note is tied to the next one */
  MEL_TIE_STOP = 1 << 1,  /* this note continues the previous one */
} MelTieFlags;            /* a middle note of a tie chain has both flags */

typedef enum
{
  MEL_EVENT_FLAG_NONE = 0,
  MEL_EVENT_PHRASE_START = 1 << 0, /* kern "{" */
  MEL_EVENT_PHRASE_END = 1 << 1,   /* kern "}" */
} MelEventFlags;

/* A note or a rest.  midi is -1 for a rest (then pitch is all zero). */
typedef struct
{
  MelRational onset;
  MelRational duration;
  MelPitch pitch;
  gint16 midi;
  guint8 tie;   /* MelTieFlags */
  guint8 flags; /* MelEventFlags */
  guint32 bar;  /* index into MelSong.bars of the bar holding the onset */
  guint32 line; /* 1-based line in the source file, 0 when not from a file */
} MelEvent;

#define mel_event_is_rest(ev) ((ev)->midi < 0)

/* A bar as written in the source.  Bars are contiguous: the first starts
 * at 0 and each starts where the previous one ends. */
typedef struct
{
  MelRational onset;
  MelRational duration; /* the length of what the bar actually holds */
  gint32 number;        /* the number written (=N); 0 for a pickup */
  guint32 line;         /* line of the bar line that opens it (0 if none) */
} MelBar;

/* Time signature in force from @onset.  An irregular meter (kern *MX) has
 * irregular = TRUE and numerator = denominator = 0: bars then come only from
 * the bar lines of the source. */
typedef struct
{
  MelRational onset;
  int numerator;
  int denominator;
  gboolean irregular;
} MelMeter;

/* Quarter-note length of one full bar of @meter, or 0 when irregular. */
MelRational mel_meter_bar_length (const MelMeter *meter);

/* Key signature in force from @onset.  alters[i] is the alteration the
 * signature gives step i (C=0 … B=6).  fifths is the number of sharps
 * (> 0) or flats (< 0) for a standard signature, or MEL_KEY_SIGNATURE_NONSTANDARD
 * for anything else (the corpus has "*k[c-e-a-]"). */
#define MEL_KEY_SIGNATURE_NONSTANDARD G_MININT
typedef struct
{
  MelRational onset;
  int fifths;
  gint8 alters[7];
} MelKeySignature;

/* Fill alters[] from fifths (-7 … 7). */
void mel_key_signature_init_fifths (MelKeySignature *sig, int fifths);

typedef enum
{
  MEL_MODE_UNKNOWN,
  MEL_MODE_MAJOR,
  MEL_MODE_MINOR,
} MelMode;

/* Key designation (kern *X: — "*G:" major, "*g:" minor) from @onset. */
typedef struct
{
  MelRational onset;
  char tonic_step; /* 'C' … 'B' */
  gint8 tonic_alter;
  MelMode mode;
} MelKey;

/* Pitch class 0…11 of the key's tonic. */
int mel_key_tonic_pitch_class (const MelKey *key);

typedef struct _MelSong MelSong;

struct _MelSong
{
  /*< private >*/
  gatomicrefcount ref_count;

  /*< public, read-only once built >*/
  char *id;        /* !!!SCT (e.g. "K0001"), else the file's basename; never NULL */
  char *title;     /* !!!OTL, UTF-8; may be NULL */
  char *region;    /* !!!ARE; may be NULL */
  char *genre;     /* !!!AGN; may be NULL */
  char *source_db; /* !!!ONB; may be NULL */
  char *path;      /* file it was read from; may be NULL */
  /* every reference record (!!!KEY: value) as UTF-8 key → value */
  GHashTable *references;

  GArray *events;         /* MelEvent, sorted by onset */
  GArray *bars;           /* MelBar, sorted by onset */
  GArray *meters;         /* MelMeter, sorted by onset; may be empty */
  GArray *key_signatures; /* MelKeySignature, sorted by onset; may be empty */
  GArray *keys;           /* MelKey, sorted by onset; may be empty */

  MelRational pickup;   /* length of an opening partial bar; 0 when none */
  MelRational duration; /* end of the last event */
};

GType mel_song_get_type (void) G_GNUC_CONST;
#define MEL_TYPE_SONG (mel_song_get_type ())

/* A new, empty song with the given id (copied).  Caller owns the reference. */
MelSong *mel_song_new (const char *id);
MelSong *mel_song_ref (MelSong *song);
void mel_song_unref (MelSong *song);
/* A deep copy, for building a changed song (transposition etc.). */
MelSong *mel_song_copy (const MelSong *song);

/* Builders: the song takes copies of the strings and values. */
void mel_song_set_title (MelSong *song, const char *title);
void mel_song_set_reference (MelSong *song, const char *key, const char *value);
void mel_song_add_event (MelSong *song, const MelEvent *event);
void mel_song_add_bar (MelSong *song, const MelBar *bar);
void mel_song_add_meter (MelSong *song, const MelMeter *meter);
void mel_song_add_key_signature (MelSong *song, const MelKeySignature *sig);
void mel_song_add_key (MelSong *song, const MelKey *key);

/* Convenience accessors. */
guint mel_song_get_n_events (const MelSong *song);
const MelEvent *mel_song_get_event (const MelSong *song, guint index);
guint mel_song_get_n_notes (const MelSong *song); /* events that are not rests */
/* The meter / key signature / key in force at @onset, or NULL. */
const MelMeter *mel_song_get_meter_at (const MelSong *song, MelRational onset);
const MelKeySignature *mel_song_get_key_signature_at (const MelSong *song, MelRational onset);
const MelKey *mel_song_get_key_at (const MelSong *song, MelRational onset);
/* Lowest and highest MIDI note; FALSE when the song has no notes. */
gboolean mel_song_get_range (const MelSong *song, int *lowest, int *highest);

/* Event-level equality of two songs: same onsets, durations, MIDI pitches
 * and ties (metadata is ignored).  Used by round-trip tests and duplicate
 * detection. */
gboolean mel_song_events_equal (const MelSong *a, const MelSong *b);

/* The most dots a single notated value has in Melodist's writers. */
#define MEL_MAX_DOTS 3

/* Splits a duration @d (in quarters) into the note values notation writes
 * for it, tied together: a plain or dotted value (up to MEL_MAX_DOTS dots)
 * or a tuplet length (denominator not a power of two) stays whole; any
 * other binary length (5/4 quarters) becomes the fewest plain and dotted
 * values, longest first.  The kern writer and the symbol decoder both use
 * it, so a decoded melody is written and read back note for note.
 * Returns a new array of MelRational (free with g_array_unref). */
GArray *mel_duration_split_notatable (MelRational d);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MelSong, mel_song_unref)

G_END_DECLS
