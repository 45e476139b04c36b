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
} MelDatasetError;

typedef enum
{
  MEL_TRANSPOSE_NONE,      /* keep songs as written */
  MEL_TRANSPOSE_NORMALISE, /* major → C major, minor → A minor (nearest octave) */
  MEL_TRANSPOSE_AUGMENT,   /* every shift in [min_shift, max_shift] that fits the pitch range */
} MelTransposeMode;

typedef enum
{
  MEL_SPLIT_TRAIN,
  MEL_SPLIT_VALID,
  MEL_SPLIT_TEST,
  MEL_N_SPLITS
} MelSplit;

const char *mel_split_to_string (MelSplit split); /* "train", "valid", "test" */

typedef struct
{
  /* Accepted note/rest durations in quarters; a song with any other is
   * filtered out.  Default {1/4, 1/2, 3/4, 1, 3/2, 2, 3, 4}. */
  MelRational acceptable[32];
  guint n_acceptable;
  MelTransposeMode transpose;
  int min_shift, max_shift; /* semitones, AUGMENT only (default -5 … +6) */
  int lowest_midi, highest_midi; /* model pitch range (default 48 … 84) */
  double valid_fraction, test_fraction; /* default 0.1 and 0.1 */
  guint64 split_seed;                   /* default 42 */
} MelPreprocessOptions;

/* Fills @options with the defaults listed above. */
void mel_preprocess_options_init (MelPreprocessOptions *options);

/* TRUE when every event duration of @song is acceptable under @options. */
gboolean mel_preprocess_song_is_acceptable (const MelSong *song, const MelPreprocessOptions *options);

/* A transposed deep copy of @song (spelling follows the new key). */
MelSong *mel_song_transpose (const MelSong *song, int semitones);

/* Semitone shift that takes @song to C major / A minor, choosing the
 * octave that keeps the melody nearest its original register. */
int mel_song_normalising_shift (const MelSong *song);

/* Encodes @song as symbols, one per sixteenth step (without delimiter).
 * Ties are merged into holds.  Returns a NULL-terminated string vector
 * (caller frees with g_strfreev) or NULL with MEL_DATASET_ERROR_NOT_ENCODABLE. */
char **mel_song_encode (const MelSong *song, GError **error);

/* Decodes symbols (as produced by mel_song_encode, or by a model) back to a
 * song with the given meter and key signature (either may be NULL: 4/4,
 * no sharps/flats).  Leading holds become rests; a delimiter ends the song.
 * Returns a new song, or NULL with MEL_DATASET_ERROR_BAD_SYMBOL. */
MelSong *mel_song_decode (const char *const *symbols, guint n_symbols, const char *id,
                          const MelMeter *meter, const MelKeySignature *key_signature,
                          GError **error);

/* Parses symbols written in the research syntax, "67 _ 67 _ _ 65 64 r".
 * Returns a NULL-terminated vector or NULL with MEL_DATASET_ERROR_BAD_SYMBOL. */
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
} MelDatasetSong;

typedef struct _MelDataset MelDataset;

struct _MelDataset
{
  /*< private >*/
  gatomicrefcount ref_count;
  /*< public, read-only >*/
  GPtrArray *vocabulary; /* char*, index = id; "/" is always id 0 */
  GArray *ids;           /* gint32: every song as "/" + its symbols, in order */
  GArray *songs;         /* MelDatasetSong */
  GArray *bar_starts;    /* guint32 indices into ids where a full bar starts */
  MelPreprocessOptions options;
  guint n_rejected; /* corpus songs the duration filter rejected */
};

/* Runs the pipeline over @songs (MelSong*).  @progress, when not NULL, is
 * called now and then with a fraction 0…1.  Returns a new dataset, or NULL
 * when cancelled (G_IO_ERROR_CANCELLED). */
MelDataset *mel_dataset_build (GPtrArray *songs, const MelPreprocessOptions *options,
                               void (*progress) (double fraction, gpointer user_data),
                               gpointer user_data, GCancellable *cancellable, GError **error);

MelDataset *mel_dataset_ref (MelDataset *dataset);
void mel_dataset_unref (MelDataset *dataset);

/* Id of @symbol, or -1. */
int mel_dataset_lookup (const MelDataset *dataset, const char *symbol);

/* The id stream of one split: its songs in order, each starting with "/"
 * and the whole ending with a final "/".  Caller owns the array (gint32). */
GArray *mel_dataset_get_split_ids (const MelDataset *dataset, MelSplit split);

/* Training windows of @length symbols with next-symbol targets, cut from the
 * split's stream every @stride symbols: inputs[i*length … ] and
 * targets[i*length …] (targets are the inputs shifted by one).  Returns the
 * window count; caller frees both arrays with g_free. */
guint mel_dataset_get_windows (const MelDataset *dataset, MelSplit split, guint length, guint stride,
                               gint32 **inputs, gint32 **targets);

/* Fixed-length segments for the VAE: @n_steps symbols starting at a bar
 * start, not crossing a song end.  Returns a gint32 array of
 * n_segments × n_steps ids; caller owns it. */
GArray *mel_dataset_get_segments (const MelDataset *dataset, MelSplit split, guint n_steps,
                                  guint *n_segments);

/* Writes the vocabulary as a JSON array of strings (atomically). */
gboolean mel_dataset_save_vocabulary (const MelDataset *dataset, const char *path, GError **error);

/* The encoded dataset file: versioned header, options, vocabulary, songs,
 * bar starts, ids.  Saving is atomic; loading validates everything and
 * returns NULL with MEL_DATASET_ERROR_FORMAT on any defect. */
gboolean mel_dataset_save (const MelDataset *dataset, const char *path, GError **error);
MelDataset *mel_dataset_load (const char *path, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MelDataset, mel_dataset_unref)

G_END_DECLS
