/* mel-dataset.h — preprocessing songs into training data, and the encoded dataset file.
 *
 * The pipeline of the research scripts, made exact:
 *   songs ─filter durations─> ─transpose (normalise or augment)─>
 *   ─encode: one symbol per sixteenth note─> symbol stream + vocabulary
 *   ─song-level seeded split─> train / validation / test streams.
 *
 * Symbols are strings: a MIDI number ("60") at a note onset, "_" while a
 * note (or rest) is held, "r" at a rest onset, and "/" as the song
 * delimiter that starts every song in a stream.  src/model never sees a
 * MelSong; it receives id streams and the symbol strings of the vocabulary.
 *
 * Everything here is deterministic: the same songs and options give the
 * same dataset, byte for byte, on every machine and at every thread count.
 * Functions do not keep global state and may be called from any thread.
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include <gio/gio.h>

#include "mel-song.h"

G_BEGIN_DECLS

#define MEL_SYMBOL_HOLD "_"
#define MEL_SYMBOL_REST "r"
#define MEL_SYMBOL_DELIMITER "/"

/* Time step of the encoding: one sixteenth note = 1/4 quarter. */
#define MEL_STEPS_PER_QUARTER 4

#define MEL_DATASET_ERROR (mel_dataset_error_quark ())
GQuark mel_dataset_error_quark (void);

typedef enum
{
  MEL_DATASET_ERROR_NOT_ENCODABLE, /* a duration or onset off the sixteenth grid */
  MEL_DATASET_ERROR_BAD_SYMBOL,    /* text that is not a symbol of the vocabulary */
  MEL_DATASET_ERROR_FORMAT,        /* wrong magic, version, truncated or corrupt file */
  MEL_DATASET_ERROR_IO,
  MEL_DATASET_ERROR_INVALID,       /* impossible options (empty duration list, bad range …) */
} MelDatasetError;

typedef enum
{
  MEL_TRANSPOSE_NONE,      /* keep songs as written */
  MEL_TRANSPOSE_NORMALISE, /* major → C major, minor → A minor (nearest octave) */
  MEL_TRANSPOSE_AUGMENT,   /* every shift in [min_shift, max_shift] that fits the pitch range */
} MelTransposeMode;

/* "none", "normalise", "augment" (static strings). */
const char *mel_transpose_mode_to_string (MelTransposeMode mode);
/* Accepts the names above (and "normalize").  FALSE for anything else. */
gboolean mel_transpose_mode_from_string (const char *text, MelTransposeMode *mode);

typedef enum
{
  MEL_SPLIT_TRAIN,
  MEL_SPLIT_VALID,
  MEL_SPLIT_TEST,
  MEL_N_SPLITS
} MelSplit;

const char *mel_split_to_string (MelSplit split); /* "train", "valid", "test" */

/* What the pipeline did with one input song. */
typedef enum
{
  MEL_PREPROCESS_OK,           /* encoded (with at least one transposed copy) */
  MEL_PREPROCESS_BAD_DURATION, /* a note or rest duration not in the acceptable list */
  MEL_PREPROCESS_OFF_GRID,     /* an onset off the sixteenth grid, or overlapping events */
  MEL_PREPROCESS_OUT_OF_RANGE, /* no allowed transposition fits [lowest_midi, highest_midi] */
  MEL_PREPROCESS_EMPTY,        /* no notes at all */
  MEL_N_PREPROCESS_STATUSES
} MelPreprocessStatus;

/* Short English description ("duration not accepted", …), static. */
const char *mel_preprocess_status_to_string (MelPreprocessStatus status);

#define MEL_PREPROCESS_MAX_DURATIONS 32

typedef struct
{
  /* Accepted note/rest durations in quarters; a song with any other is
   * filtered out.  Default {1/4, 1/2, 3/4, 1, 3/2, 2, 3, 4}. */
  MelRational acceptable[MEL_PREPROCESS_MAX_DURATIONS];
  guint n_acceptable;
  MelTransposeMode transpose;
  int min_shift, max_shift; /* semitones, AUGMENT only (default -5 … +6) */
  int lowest_midi, highest_midi; /* model pitch range (default 48 … 84) */
  double valid_fraction, test_fraction; /* default 0.1 and 0.1 */
  guint64 split_seed;                   /* default 42 */
} MelPreprocessOptions;

/* Fills @options with the defaults listed above. */
void mel_preprocess_options_init (MelPreprocessOptions *options);

/* Checks that @options can be used: 1…32 positive durations, 0 ≤ lowest ≤
 * highest ≤ 127, min_shift ≤ max_shift within ±24, fractions ≥ 0 with a sum
 * below 1.  Returns FALSE with MEL_DATASET_ERROR_INVALID naming the problem. */
gboolean mel_preprocess_options_validate (const MelPreprocessOptions *options, GError **error);

/* Replaces the acceptable durations with the comma-separated list @text of
 * quarter lengths, each a fraction or a decimal: "1/4,1/2,3/4,1,1.5,2,3,4".
 * Returns FALSE with MEL_DATASET_ERROR_INVALID (leaving @options unchanged)
 * for an empty list, a bad number, a non-positive value or more than 32. */
gboolean mel_preprocess_options_set_durations (MelPreprocessOptions *options, const char *text,
                                               GError **error);

/* The acceptable durations as text in the syntax above; caller frees. */
char *mel_preprocess_options_format_durations (const MelPreprocessOptions *options);

/* TRUE when every event duration of @song is acceptable under @options. */
gboolean mel_preprocess_song_is_acceptable (const MelSong *song, const MelPreprocessOptions *options);

/* A transposed deep copy of @song (spelling follows the new key).
 *
 * The transposition is diatonic-aware: the key signature moves to the key
 * with the fewest accidentals for the new tonic (F♯ rather than G♭ for six),
 * and every note keeps its degree in that key, so an F♯ leading note in G
 * major becomes B♮ in C major, not C♭.  Keys (*X:) move with it.
 * @semitones must lie within −127 … 127.  Caller owns the returned song. */
MelSong *mel_song_transpose (const MelSong *song, int semitones);

/* Estimates the key of @song from its duration-weighted pitch classes with
 * the Krumhansl–Schmuckler algorithm (Krumhansl–Kessler profiles).  Fills
 * @key (onset 0) and returns TRUE, or FALSE when the song has no notes.
 * @correlation, when not NULL, receives the winning correlation (−1 … 1). */
gboolean mel_song_estimate_key (const MelSong *song, MelKey *key, double *correlation);

/* The key used for normalisation: the song's first *X: key when it has a
 * known mode, otherwise the Krumhansl–Schmuckler estimate.  Returns FALSE
 * only for a song without notes and without a key.  @estimated (may be
 * NULL) tells which source was used. */
gboolean mel_song_get_tonal_key (const MelSong *song, MelKey *key, gboolean *estimated);

/* Semitone shift that takes @song to C major / A minor, choosing the
 * octave that keeps the melody nearest its original register: the result
 * lies in −6 … +5.  0 for a song without notes. */
int mel_song_normalising_shift (const MelSong *song);

/* Encodes @song as symbols, one per sixteenth step (without delimiter).
 * Ties are merged into holds, and so are consecutive rests (silence has
 * one encoding: "r _ _ _", however the source splits it).  Returns a NULL-terminated string vector
 * (caller frees with g_strfreev) or NULL with MEL_DATASET_ERROR_NOT_ENCODABLE
 * naming the first event whose onset or duration is off the grid (or that
 * overlaps the previous one).  A gap between events is encoded as a rest. */
char **mel_song_encode (const MelSong *song, GError **error);

/* Decodes symbols (as produced by mel_song_encode, or by a model) back to a
 * song with the given meter and key signature (either may be NULL: 4/4,
 * no sharps/flats; an irregular meter is laid out as 4/4).  @symbols must
 * hold @n_symbols strings.  Leading delimiters are skipped, leading holds become
 * rests, and the next delimiter ends the song.  Bars are laid out from the
 * meter starting at a downbeat; notes that cross a bar line, or whose
 * length is no single plain or dotted value (5 sixteenths), are split into
 * tied notes as notation writes them (mel_duration_split_notatable; rests
 * are simply split).  Pitches are spelled from the key
 * signature: scale notes as the signature says, others with sharps in sharp
 * keys and flats in flat keys.  The song gets the meter, the signature and
 * the major or minor key (of that signature) that fits the notes best.
 * Returns a new song, or NULL with MEL_DATASET_ERROR_BAD_SYMBOL. */
MelSong *mel_song_decode (const char *const *symbols, guint n_symbols, const char *id,
                          const MelMeter *meter, const MelKeySignature *key_signature,
                          GError **error);

/* Like mel_song_decode(), but the song opens with a pickup bar of @pickup
 * quarters (0 for none; it must be shorter than a bar of @meter), so that
 * the bars line up with those of the song that was encoded. */
MelSong *mel_song_decode_with_pickup (const char *const *symbols, guint n_symbols, const char *id,
                                      const MelMeter *meter, const MelKeySignature *key_signature,
                                      MelRational pickup, GError **error);

/* Parses symbols written in the research syntax, "67 _ 67 _ _ 65 64 r"
 * (tokens separated by white space; a pitch is a MIDI number 0…127).
 * Returns a NULL-terminated vector (empty for blank text; caller frees with
 * g_strfreev) or NULL with MEL_DATASET_ERROR_BAD_SYMBOL naming the token. */
char **mel_symbols_parse (const char *text, GError **error);

/* ---- The encoded dataset ---------------------------------------------- */

typedef struct
{
  char *song_id;      /* id of the source song */
  guint32 song_index; /* index of the source song in the corpus order */
  gint8 transpose;    /* semitones applied */
  guint8 split;       /* MelSplit */
  guint32 offset;     /* index in ids of the song's delimiter */
  guint32 length;     /* symbols after the delimiter */
  guint32 first_bar;  /* index into bar_starts of the song's first bar */
  guint32 n_bars;
  guint32 group;      /* melody group: same intervals and rhythm (so exact
                         and transposed duplicates) share a group, and a
                         group never straddles two splits */
} MelDatasetSong;

typedef struct _MelDataset MelDataset;

struct _MelDataset
{
  /*< private >*/
  gatomicrefcount ref_count;
  /*< public, read-only >*/
  GPtrArray *vocabulary; /* char*, index = id; "/" is always id 0, then "_", "r",
                            then the MIDI numbers that occur, ascending */
  GArray *ids;           /* gint32: every song as "/" + its symbols, in order */
  GArray *songs;         /* MelDatasetSong, in corpus order, copies by shift */
  GArray *bar_starts;    /* guint32 indices into ids where a full bar starts
                            (every bar but an opening pickup, if on the grid) */
  GArray *status;        /* guint8 MelPreprocessStatus per input song */
  MelPreprocessOptions options;
  guint n_input;            /* songs given to the pipeline */
  guint n_rejected;         /* input songs the duration filter rejected */
  guint n_rejected_off_grid;
  guint n_rejected_range;
  guint n_rejected_empty;
  guint n_groups;           /* distinct melody groups among accepted songs */
};

/* Runs the pipeline over @songs (MelSong*), using up to @n_threads worker
 * threads for encoding (0 = number of cores, 1 = the calling thread only;
 * the result does not depend on it).  @progress, when not NULL, is called
 * in the calling thread now and then with a fraction 0…1.  Returns a new
 * dataset (caller owns the reference), or NULL with MEL_DATASET_ERROR_INVALID
 * for bad @options or G_IO_ERROR_CANCELLED when cancelled. */
MelDataset *mel_dataset_build (GPtrArray *songs, const MelPreprocessOptions *options,
                               void (*progress) (double fraction, gpointer user_data),
                               gpointer user_data, GCancellable *cancellable, GError **error);

/* As mel_dataset_build() with an explicit thread count. */
MelDataset *mel_dataset_build_full (GPtrArray *songs, const MelPreprocessOptions *options,
                                    guint n_threads,
                                    void (*progress) (double fraction, gpointer user_data),
                                    gpointer user_data, GCancellable *cancellable, GError **error);

MelDataset *mel_dataset_ref (MelDataset *dataset);
void mel_dataset_unref (MelDataset *dataset);

/* Id of @symbol, or -1. */
int mel_dataset_lookup (const MelDataset *dataset, const char *symbol);

/* Number of songs (transposed copies included) in @split. */
guint mel_dataset_get_n_songs (const MelDataset *dataset, MelSplit split);

/* The id stream of one split: its songs in order, each starting with "/"
 * and the whole ending with a final "/".  Caller owns the array (gint32).
 * An empty split gives an empty array. */
GArray *mel_dataset_get_split_ids (const MelDataset *dataset, MelSplit split);

/* Training windows of @length symbols with next-symbol targets, cut from the
 * split's stream every @stride symbols: inputs[i*length … ] and
 * targets[i*length …] (targets are the inputs shifted by one).  Returns the
 * window count; caller frees both arrays with g_free.  With no window both
 * are set to NULL. */
guint mel_dataset_get_windows (const MelDataset *dataset, MelSplit split, guint length, guint stride,
                               gint32 **inputs, gint32 **targets);

/* The number of windows mel_dataset_get_windows() would return. */
guint mel_dataset_count_windows (const MelDataset *dataset, MelSplit split, guint length, guint stride);

/* Fixed-length segments for the VAE: @n_steps symbols starting at a bar
 * start, not crossing a song end.  Returns a gint32 array of
 * n_segments × n_steps ids; caller owns it. */
GArray *mel_dataset_get_segments (const MelDataset *dataset, MelSplit split, guint n_steps,
                                  guint *n_segments);

/* Writes the vocabulary as a JSON array of strings (atomically). */
gboolean mel_dataset_save_vocabulary (const MelDataset *dataset, const char *path, GError **error);

/* Reads a vocabulary JSON file as written above.  Returns a NULL-terminated
 * vector (caller frees with g_strfreev), or NULL with MEL_DATASET_ERROR_IO
 * when unreadable or MEL_DATASET_ERROR_FORMAT when it is not a JSON array of
 * distinct valid symbols starting with "/". */
char **mel_dataset_load_vocabulary (const char *path, GError **error);

/* The encoded dataset file: versioned header, options, vocabulary, songs,
 * bar starts, ids.  Saving is atomic; it also writes the vocabulary to
 * "@path.vocab.json".  Loading validates everything and returns NULL with
 * MEL_DATASET_ERROR_FORMAT on any defect (MEL_DATASET_ERROR_IO when the file
 * cannot be read); it never trusts a length or index from the file.
 *
 * Layout (all integers little-endian):
 *   "MELDSET\0"  u32 version (1)  u32 reserved (0)  u64 payload size
 *   u32 CRC-32 (IEEE) of the payload, then the payload:
 *   options, counters, vocabulary, input statuses, songs, bar starts, ids. */
gboolean mel_dataset_save (const MelDataset *dataset, const char *path, GError **error);
MelDataset *mel_dataset_load (const char *path, GError **error);

/* As mel_dataset_load() on @length bytes in memory (for tests and fuzzing). */
MelDataset *mel_dataset_load_from_data (const guint8 *data, gsize length, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MelDataset, mel_dataset_unref)

G_END_DECLS
