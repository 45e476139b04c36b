/* mel-dataset.c — the encoded dataset: building it from songs (in parallel),
 * the song-level split, windows and segments for training, and the file.
 *
 * SPDX-License-Identifier: MIT
 */
#include "mel-dataset-private.h"

#include <json-glib/json-glib.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- per-song work (runs in worker threads) ---------------------------- */

typedef struct
{
  guint8 status;        /* MelPreprocessStatus */
  GArray *codes;        /* gint16, NULL unless accepted */
  GArray *bar_steps;    /* guint32, NULL unless accepted */
  guint64 pitches[2];   /* bit p: MIDI p occurs */
  guint64 melody_hash;  /* of intervals and rhythm: transposition-invariant */
  int shift_from, shift_to;
} SongResult;

static void
song_result_clear (SongResult *result)
{
  g_clear_pointer (&result->codes, g_array_unref);
  g_clear_pointer (&result->bar_steps, g_array_unref);
}

#define FNV_OFFSET G_GUINT64_CONSTANT (0xcbf29ce484222325)
#define FNV_PRIME G_GUINT64_CONSTANT (0x100000001b3)

static guint64
fnv1a_u16 (guint64 hash, guint16 value)
{
  hash = (hash ^ (value & 0xff)) * FNV_PRIME;
  hash = (hash ^ (value >> 8)) * FNV_PRIME;
  return hash;
}

/* The melody with every pitch replaced by its distance from the first
 * pitch: exact duplicates and transposed duplicates hash alike. */
static guint64
melody_hash (GArray *codes)
{
  guint64 hash = FNV_OFFSET;
  int first_pitch = -1;

  for (guint i = 0; i < codes->len; i++)
    {
      gint16 code = g_array_index (codes, gint16, i);
      guint16 value;
      if (code >= 0)
        {
          if (first_pitch < 0)
            first_pitch = code;
          value = (guint16) (1024 + code - first_pitch);
        }
      else
        value = (guint16) (-code);
      hash = fnv1a_u16 (hash, value);
    }
  return hash;
}

static gboolean
shift_fits (int lowest, int highest, int shift, const MelPreprocessOptions *options)
{
  return lowest + shift >= options->lowest_midi && highest + shift <= options->highest_midi;
}

/* The transpositions to use, as the range [from, to]; FALSE when none fits. */
static gboolean
choose_shifts (const MelSong *song, int lowest, int highest, const MelPreprocessOptions *options, int *from,
               int *to)
{
  switch (options->transpose)
    {
    case MEL_TRANSPOSE_NONE:
      *from = *to = 0;
      return shift_fits (lowest, highest, 0, options);

    case MEL_TRANSPOSE_NORMALISE:
      {
        int shift = mel_song_normalising_shift (song);
        /* The nearer octave first, else the other one. */
        int other = shift < 0 ? shift + 12 : shift - 12;
        if (shift_fits (lowest, highest, shift, options))
          *from = *to = shift;
        else if (shift_fits (lowest, highest, other, options))
          *from = *to = other;
        else
          return FALSE;
        return TRUE;
      }

    case MEL_TRANSPOSE_AUGMENT:
    default:
      *from = MAX (options->min_shift, options->lowest_midi - lowest);
      *to = MIN (options->max_shift, options->highest_midi - highest);
      return *from <= *to;
    }
}

static void
process_song (const MelSong *song, const MelPreprocessOptions *options, SongResult *result)
{
  int lowest, highest;

  memset (result, 0, sizeof *result);
  if (!mel_preprocess_song_is_acceptable (song, options))
    {
      result->status = MEL_PREPROCESS_BAD_DURATION;
      return;
    }

  g_autoptr (GArray) codes = g_array_sized_new (FALSE, FALSE, sizeof (gint16), 256);
  g_autoptr (GArray) bar_steps = g_array_sized_new (FALSE, FALSE, sizeof (guint32), 32);
  if (!_mel_song_encode_codes (song, codes, bar_steps, NULL))
    {
      result->status = MEL_PREPROCESS_OFF_GRID;
      return;
    }
  if (!mel_song_get_range (song, &lowest, &highest))
    {
      result->status = MEL_PREPROCESS_EMPTY;
      return;
    }
  if (!choose_shifts (song, lowest, highest, options, &result->shift_from, &result->shift_to))
    {
      result->status = MEL_PREPROCESS_OUT_OF_RANGE;
      return;
    }

  for (guint i = 0; i < codes->len; i++)
    {
      gint16 code = g_array_index (codes, gint16, i);
      if (code >= 0)
        result->pitches[code >> 6] |= G_GUINT64_CONSTANT (1) << (code & 63);
    }
  result->melody_hash = melody_hash (codes);
  result->status = MEL_PREPROCESS_OK;
  result->codes = g_steal_pointer (&codes);
  result->bar_steps = g_steal_pointer (&bar_steps);
}

/* Songs are handed out in chunks from a shared counter, so the threads
 * balance themselves; each result lands at its song's index, which keeps
 * the outcome independent of scheduling. */
#define CHUNK 32

typedef struct
{
  GPtrArray *songs;
  const MelPreprocessOptions *options;
  SongResult *results;
  GCancellable *cancellable;
  gint next; /* atomic */
  gint done; /* atomic */
} BuildShared;

static gboolean
work_chunk (BuildShared *shared)
{
  guint total = shared->songs->len;
  guint start = (guint) g_atomic_int_add (&shared->next, CHUNK);

  if (start >= total || g_cancellable_is_cancelled (shared->cancellable))
    return FALSE;
  guint end = MIN (start + CHUNK, total);
  for (guint i = start; i < end; i++)
    process_song (g_ptr_array_index (shared->songs, i), shared->options, &shared->results[i]);
  g_atomic_int_add (&shared->done, (gint) (end - start));
  return TRUE;
}

static gpointer
build_worker (gpointer data)
{
  BuildShared *shared = data;
  while (work_chunk (shared))
    ;
  return NULL;
}

/* ---- assembling the dataset -------------------------------------------- */

static void
dataset_song_clear (gpointer data)
{
  MelDatasetSong *song = data;
  g_free (song->song_id);
}

static MelDataset *
dataset_new (void)
{
  MelDataset *dataset = g_new0 (MelDataset, 1);

  g_atomic_ref_count_init (&dataset->ref_count);
  dataset->vocabulary = g_ptr_array_new_with_free_func (g_free);
  dataset->ids = g_array_new (FALSE, FALSE, sizeof (gint32));
  dataset->songs = g_array_new (FALSE, TRUE, sizeof (MelDatasetSong));
  g_array_set_clear_func (dataset->songs, dataset_song_clear);
  dataset->bar_starts = g_array_new (FALSE, FALSE, sizeof (guint32));
  dataset->status = g_array_new (FALSE, TRUE, sizeof (guint8));
  return dataset;
}

MelDataset *
mel_dataset_ref (MelDataset *dataset)
{
  g_return_val_if_fail (dataset != NULL, NULL);
  g_atomic_ref_count_inc (&dataset->ref_count);
  return dataset;
}

void
mel_dataset_unref (MelDataset *dataset)
{
  g_return_if_fail (dataset != NULL);
  if (!g_atomic_ref_count_dec (&dataset->ref_count))
    return;
  g_ptr_array_unref (dataset->vocabulary);
  g_array_unref (dataset->ids);
  g_array_unref (dataset->songs);
  g_array_unref (dataset->bar_starts);
  g_array_unref (dataset->status);
  g_free (dataset);
}

/* SplitMix64 finaliser: a well-mixed, platform-independent 64-bit hash. */
static guint64
mix64 (guint64 x)
{
  x += G_GUINT64_CONSTANT (0x9e3779b97f4a7c15);
  x = (x ^ (x >> 30)) * G_GUINT64_CONSTANT (0xbf58476d1ce4e5b9);
  x = (x ^ (x >> 27)) * G_GUINT64_CONSTANT (0x94d049bb133111eb);
  return x ^ (x >> 31);
}

typedef struct
{
  guint64 key;
  guint32 group;
} GroupRank;

static int
compare_group_rank (gconstpointer a, gconstpointer b)
{
  const GroupRank *x = a, *y = b;
  if (x->key != y->key)
    return x->key < y->key ? -1 : 1;
  return (x->group > y->group) - (x->group < y->group);
}

static guint
split_count (guint n_groups, double fraction)
{
  guint n = (guint) floor (n_groups * fraction + 0.5);
  /* A small corpus still gets one melody to measure on. */
  if (n == 0 && fraction > 0 && n_groups >= 3)
    n = 1;
  return n;
}

/* Assigns every melody group to a split: groups are ranked by a hash of
 * their melody and the seed; the first ones go to test, the next to
 * validation, the rest to training. */
static guint8 *
assign_splits (const guint64 *group_hashes, guint n_groups, const MelPreprocessOptions *options)
{
  guint8 *splits = g_new0 (guint8, MAX (n_groups, 1));
  g_autofree GroupRank *ranks = g_new (GroupRank, MAX (n_groups, 1));
  guint64 seed_mix = mix64 (options->split_seed);

  for (guint g = 0; g < n_groups; g++)
    {
      ranks[g].key = mix64 (group_hashes[g] ^ seed_mix);
      ranks[g].group = g;
    }
  qsort (ranks, n_groups, sizeof (GroupRank), compare_group_rank);

  guint n_test = split_count (n_groups, options->test_fraction);
  guint n_valid = split_count (n_groups, options->valid_fraction);
  while (n_test + n_valid >= n_groups && n_test + n_valid > 0)
    {
      /* Never leave training empty. */
      if (n_valid >= n_test && n_valid > 0)
        n_valid--;
      else
        n_test--;
    }
  for (guint r = 0; r < n_groups; r++)
    splits[ranks[r].group] = r < n_test ? MEL_SPLIT_TEST : r < n_test + n_valid ? MEL_SPLIT_VALID : MEL_SPLIT_TRAIN;
  return splits;
}

static gboolean
assemble (MelDataset *dataset, GPtrArray *songs, SongResult *results, GError **error)
{
  const MelPreprocessOptions *options = &dataset->options;
  guint64 used[2] = { 0, 0 };
  gint32 pitch_ids[128];

  /* Vocabulary: "/", "_", "r", then every pitch that occurs, ascending. */
  for (guint i = 0; i < songs->len; i++)
    {
      SongResult *r = &results[i];
      if (r->status != MEL_PREPROCESS_OK)
        continue;
      for (int p = 0; p < 128; p++)
        if (r->pitches[p >> 6] & (G_GUINT64_CONSTANT (1) << (p & 63)))
          for (int s = r->shift_from; s <= r->shift_to; s++)
            {
              int q = p + s; /* inside [lowest, highest] ⊂ 0…127 by choose_shifts */
              used[q >> 6] |= G_GUINT64_CONSTANT (1) << (q & 63);
            }
    }
  g_ptr_array_add (dataset->vocabulary, g_strdup (MEL_SYMBOL_DELIMITER));
  g_ptr_array_add (dataset->vocabulary, g_strdup (MEL_SYMBOL_HOLD));
  g_ptr_array_add (dataset->vocabulary, g_strdup (MEL_SYMBOL_REST));
  for (int p = 0; p < 128; p++)
    {
      pitch_ids[p] = -1;
      if (used[p >> 6] & (G_GUINT64_CONSTANT (1) << (p & 63)))
        {
          pitch_ids[p] = (gint32) dataset->vocabulary->len;
          g_ptr_array_add (dataset->vocabulary, g_strdup_printf ("%d", p));
        }
    }

  /* Melody groups, numbered in order of first appearance. */
  g_autoptr (GHashTable) group_of = g_hash_table_new (g_int64_hash, g_int64_equal);
  g_autoptr (GArray) group_hashes = g_array_new (FALSE, FALSE, sizeof (guint64));
  g_autofree guint32 *song_group = g_new0 (guint32, MAX (songs->len, 1));
  for (guint i = 0; i < songs->len; i++)
    {
      SongResult *r = &results[i];
      gpointer found;
      if (r->status != MEL_PREPROCESS_OK)
        continue;
      if (g_hash_table_lookup_extended (group_of, &r->melody_hash, NULL, &found))
        song_group[i] = GPOINTER_TO_UINT (found);
      else
        {
          song_group[i] = group_hashes->len;
          g_hash_table_insert (group_of, &r->melody_hash, GUINT_TO_POINTER (group_hashes->len));
          g_array_append_val (group_hashes, r->melody_hash);
        }
    }
  dataset->n_groups = group_hashes->len;
  g_autofree guint8 *group_split = assign_splits ((const guint64 *) (void *) group_hashes->data,
                                                  group_hashes->len, options);

  /* The id stream: every accepted song once per shift, written in place. */
  guint64 n_ids = 0, n_bar_starts = 0, n_entries = 0;
  for (guint i = 0; i < songs->len; i++)
    if (results[i].status == MEL_PREPROCESS_OK)
      {
        guint copies = (guint) (results[i].shift_to - results[i].shift_from + 1);
        n_entries += copies;
        n_ids += (guint64) copies * (1 + results[i].codes->len);
        n_bar_starts += (guint64) copies * results[i].bar_steps->len;
      }
  /* Offsets in the file and in MelDatasetSong are 32-bit. */
  if (n_ids >= G_MAXUINT32 || n_entries >= G_MAXUINT32)
    {
      g_set_error (error, MEL_DATASET_ERROR, MEL_DATASET_ERROR_INVALID,
                   "the dataset would hold %" G_GUINT64_FORMAT " symbols, more than a dataset file can", n_ids);
      return FALSE;
    }
  g_array_set_size (dataset->ids, (guint) n_ids);
  g_array_set_size (dataset->bar_starts, (guint) n_bar_starts);
  g_array_set_size (dataset->songs, (guint) n_entries);
  gint32 *ids = (gint32 *) (void *) dataset->ids->data;
  guint32 *bar_starts = (guint32 *) (void *) dataset->bar_starts->data;
  guint offset = 0, first_bar = 0, entry_index = 0;
  for (guint i = 0; i < songs->len; i++)
    {
      SongResult *r = &results[i];
      const MelSong *song = g_ptr_array_index (songs, i);
      if (r->status != MEL_PREPROCESS_OK)
        continue;
      const gint16 *codes = (const gint16 *) (void *) r->codes->data;
      const guint32 *steps = (const guint32 *) (void *) r->bar_steps->data;
      for (int s = r->shift_from; s <= r->shift_to; s++)
        {
          MelDatasetSong *entry = &g_array_index (dataset->songs, MelDatasetSong, entry_index++);
          entry->song_id = g_strdup (song->id);
          entry->song_index = i;
          entry->transpose = (gint8) s;
          entry->split = group_split[song_group[i]];
          entry->offset = offset;
          entry->length = r->codes->len;
          entry->first_bar = first_bar;
          entry->n_bars = r->bar_steps->len;
          entry->group = song_group[i];

          ids[offset] = 0; /* "/" */
          for (guint k = 0; k < r->codes->len; k++)
            {
              gint16 code = codes[k];
              ids[offset + 1 + k] = code == MEL_CODE_HOLD ? 1 : code == MEL_CODE_REST ? 2 : pitch_ids[code + s];
            }
          for (guint k = 0; k < r->bar_steps->len; k++)
            bar_starts[first_bar + k] = offset + 1 + steps[k];
          offset += 1 + r->codes->len;
          first_bar += r->bar_steps->len;
        }
    }
  return TRUE;
}

MelDataset *
mel_dataset_build_full (GPtrArray *songs, const MelPreprocessOptions *options, guint n_threads,
                        void (*progress) (double fraction, gpointer user_data), gpointer user_data,
                        GCancellable *cancellable, GError **error)
{
  g_return_val_if_fail (songs != NULL, NULL);
  g_return_val_if_fail (options != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!mel_preprocess_options_validate (options, error))
    return NULL;
  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return NULL;

  guint n = songs->len;
  g_autofree SongResult *results = g_new0 (SongResult, MAX (n, 1));
  BuildShared shared = { songs, options, results, cancellable, 0, 0 };

  if (n_threads == 0)
    n_threads = g_get_num_processors ();
  /* A thread costs more than a chunk of songs takes. */
  n_threads = CLAMP (MIN (n_threads, n / (4 * CHUNK) + 1), 1, 64);
  g_autoptr (GPtrArray) threads = g_ptr_array_new ();
  if (progress != NULL)
    progress (0.0, user_data);
  for (guint t = 1; t < n_threads; t++)
    {
      GThread *thread = g_thread_try_new ("mel-dataset", build_worker, &shared, NULL);
      if (thread == NULL)
        break; /* fewer helpers; the calling thread does the rest */
      g_ptr_array_add (threads, thread);
    }
  while (work_chunk (&shared))
    if (progress != NULL)
      progress (0.9 * g_atomic_int_get (&shared.done) / MAX (n, 1), user_data);
  for (guint t = 0; t < threads->len; t++)
    g_thread_join (g_ptr_array_index (threads, t));

  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    {
      for (guint i = 0; i < n; i++)
        song_result_clear (&results[i]);
      return NULL;
    }

  g_autoptr (MelDataset) dataset = dataset_new ();
  dataset->options = *options;
  dataset->n_input = n;
  g_array_set_size (dataset->status, n);
  for (guint i = 0; i < n; i++)
    {
      guint8 status = results[i].status;
      g_array_index (dataset->status, guint8, i) = status;
      dataset->n_rejected += status == MEL_PREPROCESS_BAD_DURATION;
      dataset->n_rejected_off_grid += status == MEL_PREPROCESS_OFF_GRID;
      dataset->n_rejected_range += status == MEL_PREPROCESS_OUT_OF_RANGE;
      dataset->n_rejected_empty += status == MEL_PREPROCESS_EMPTY;
    }
  gboolean assembled = assemble (dataset, songs, results, error);
  for (guint i = 0; i < n; i++)
    song_result_clear (&results[i]);
  if (!assembled)
    return NULL;
  if (progress != NULL)
    progress (1.0, user_data);
  return g_steal_pointer (&dataset);
}

MelDataset *
mel_dataset_build (GPtrArray *songs, const MelPreprocessOptions *options,
                   void (*progress) (double fraction, gpointer user_data), gpointer user_data,
                   GCancellable *cancellable, GError **error)
{
  return mel_dataset_build_full (songs, options, 0, progress, user_data, cancellable, error);
}

/* ---- queries ------------------------------------------------------------ */

int
mel_dataset_lookup (const MelDataset *dataset, const char *symbol)
{
  g_return_val_if_fail (dataset != NULL, -1);
  g_return_val_if_fail (symbol != NULL, -1);

  for (guint i = 0; i < dataset->vocabulary->len; i++)
    if (strcmp (g_ptr_array_index (dataset->vocabulary, i), symbol) == 0)
      return (int) i;
  return -1;
}

guint
mel_dataset_get_n_songs (const MelDataset *dataset, MelSplit split)
{
  guint n = 0;

  g_return_val_if_fail (dataset != NULL, 0);
  for (guint i = 0; i < dataset->songs->len; i++)
    n += g_array_index (dataset->songs, MelDatasetSong, i).split == split;
  return n;
}

/* Length of the split's stream: every song's delimiter and symbols, plus
 * the final delimiter (0 for an empty split). */
static gsize
split_stream_length (const MelDataset *dataset, MelSplit split)
{
  gsize n = 0;

  for (guint i = 0; i < dataset->songs->len; i++)
    {
      const MelDatasetSong *song = &g_array_index (dataset->songs, MelDatasetSong, i);
      if (song->split == split)
        n += 1 + (gsize) song->length;
    }
  return n > 0 ? n + 1 : 0;
}

GArray *
mel_dataset_get_split_ids (const MelDataset *dataset, MelSplit split)
{
  g_return_val_if_fail (dataset != NULL, NULL);
  g_return_val_if_fail (split < MEL_N_SPLITS, NULL);

  gsize total = split_stream_length (dataset, split);
  GArray *stream = g_array_sized_new (FALSE, FALSE, sizeof (gint32), (guint) total);
  for (guint i = 0; i < dataset->songs->len; i++)
    {
      const MelDatasetSong *song = &g_array_index (dataset->songs, MelDatasetSong, i);
      if (song->split == split)
        g_array_append_vals (stream, &g_array_index (dataset->ids, gint32, song->offset), song->length + 1);
    }
  if (stream->len > 0)
    {
      gint32 delimiter = 0;
      g_array_append_val (stream, delimiter);
    }
  return stream;
}

static guint
windows_in (gsize stream_length, guint length, guint stride)
{
  if (length == 0 || stride == 0 || stream_length < (gsize) length + 1)
    return 0;
  gsize n = (stream_length - length - 1) / stride + 1;
  return (guint) MIN (n, (gsize) G_MAXUINT);
}

guint
mel_dataset_count_windows (const MelDataset *dataset, MelSplit split, guint length, guint stride)
{
  g_return_val_if_fail (dataset != NULL, 0);
  g_return_val_if_fail (split < MEL_N_SPLITS, 0);
  return windows_in (split_stream_length (dataset, split), length, stride);
}

guint
mel_dataset_get_windows (const MelDataset *dataset, MelSplit split, guint length, guint stride,
                         gint32 **inputs, gint32 **targets)
{
  g_return_val_if_fail (inputs != NULL && targets != NULL, 0);
  *inputs = NULL;
  *targets = NULL;
  g_return_val_if_fail (dataset != NULL, 0);
  g_return_val_if_fail (split < MEL_N_SPLITS, 0);

  g_autoptr (GArray) stream = mel_dataset_get_split_ids (dataset, split);
  guint n = windows_in (stream->len, length, stride);
  if (n == 0)
    return 0;

  /* Big augmented sets with stride 1 can exceed memory: fail softly. */
  gsize count = (gsize) n * length;
  if (count / length != n)
    return 0;
  g_autofree gint32 *in = g_try_malloc_n (count, sizeof (gint32));
  g_autofree gint32 *out = g_try_malloc_n (count, sizeof (gint32));
  if (in == NULL || out == NULL)
    return 0;
  const gint32 *ids = (const gint32 *) (void *) stream->data;
  for (guint w = 0; w < n; w++)
    {
      gsize start = (gsize) w * stride;
      memcpy (in + (gsize) w * length, ids + start, length * sizeof (gint32));
      memcpy (out + (gsize) w * length, ids + start + 1, length * sizeof (gint32));
    }
  *inputs = g_steal_pointer (&in);
  *targets = g_steal_pointer (&out);
  return n;
}

GArray *
mel_dataset_get_segments (const MelDataset *dataset, MelSplit split, guint n_steps, guint *n_segments)
{
  guint count = 0;

  g_return_val_if_fail (dataset != NULL, NULL);
  g_return_val_if_fail (split < MEL_N_SPLITS, NULL);

  GArray *segments = g_array_new (FALSE, FALSE, sizeof (gint32));
  for (guint i = 0; i < dataset->songs->len && n_steps > 0; i++)
    {
      const MelDatasetSong *song = &g_array_index (dataset->songs, MelDatasetSong, i);
      if (song->split != split)
        continue;
      gsize song_end = (gsize) song->offset + 1 + song->length;
      for (guint b = song->first_bar; b < song->first_bar + song->n_bars; b++)
        {
          guint32 start = g_array_index (dataset->bar_starts, guint32, b);
          if ((gsize) start + n_steps > song_end)
            break; /* bar starts ascend: no later one fits either */
          g_array_append_vals (segments, &g_array_index (dataset->ids, gint32, start), n_steps);
          count++;
        }
    }
  if (n_segments != NULL)
    *n_segments = count;
  return segments;
}

/* ---- vocabulary JSON ---------------------------------------------------- */

static gboolean
write_atomically (const char *path, const char *data, gsize length, GError **error)
{
  g_autoptr (GError) local = NULL;

  /* g_file_set_contents writes a temporary file and renames it. */
  if (!g_file_set_contents (path, data, (gssize) length, &local))
    {
      g_set_error (error, MEL_DATASET_ERROR, MEL_DATASET_ERROR_IO, "cannot write %s: %s", path, local->message);
      return FALSE;
    }
  return TRUE;
}

gboolean
mel_dataset_save_vocabulary (const MelDataset *dataset, const char *path, GError **error)
{
  g_return_val_if_fail (dataset != NULL, FALSE);
  g_return_val_if_fail (path != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  g_autoptr (JsonBuilder) builder = json_builder_new ();
  json_builder_begin_array (builder);
  for (guint i = 0; i < dataset->vocabulary->len; i++)
    json_builder_add_string_value (builder, g_ptr_array_index (dataset->vocabulary, i));
  json_builder_end_array (builder);

  g_autoptr (JsonNode) root = json_builder_get_root (builder);
  g_autoptr (JsonGenerator) generator = json_generator_new ();
  json_generator_set_root (generator, root);
  gsize length = 0;
  g_autofree char *text = json_generator_to_data (generator, &length);
  g_autofree char *with_newline = g_strconcat (text, "\n", NULL);
  return write_atomically (path, with_newline, length + 1, error);
}

char **
mel_dataset_load_vocabulary (const char *path, GError **error)
{
  g_autoptr (GError) local = NULL;
  g_autofree char *text = NULL;
  gsize length = 0;

  g_return_val_if_fail (path != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!g_file_get_contents (path, &text, &length, &local))
    {
      g_set_error (error, MEL_DATASET_ERROR, MEL_DATASET_ERROR_IO, "cannot read %s: %s", path, local->message);
      return NULL;
    }
  g_autoptr (JsonParser) parser = json_parser_new ();
  if (!json_parser_load_from_data (parser, text, (gssize) length, &local))
    {
      g_set_error (error, MEL_DATASET_ERROR, MEL_DATASET_ERROR_FORMAT, "%s: not JSON: %s", path, local->message);
      return NULL;
    }
  JsonNode *root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_ARRAY (root))
    {
      g_set_error (error, MEL_DATASET_ERROR, MEL_DATASET_ERROR_FORMAT, "%s: not a JSON array of symbols", path);
      return NULL;
    }
  JsonArray *array = json_node_get_array (root);
  guint n = json_array_get_length (array);
  g_autoptr (GPtrArray) symbols = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);
  for (guint i = 0; i < n; i++)
    {
      JsonNode *node = json_array_get_element (array, i);
      gint16 code;
      const char *symbol = JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_STRING
                               ? json_node_get_string (node)
                               : NULL;
      if (symbol == NULL || !_mel_symbol_to_code (symbol, &code) || g_hash_table_contains (seen, symbol) ||
          (i == 0) != (code == MEL_CODE_DELIMITER))
        {
          g_set_error (error, MEL_DATASET_ERROR, MEL_DATASET_ERROR_FORMAT,
                       "%s: entry %u is not a valid, new symbol (\"/\" must come first, and only there)", path, i);
          return NULL;
        }
      char *copy = g_strdup (symbol);
      g_ptr_array_add (symbols, copy);
      g_hash_table_add (seen, copy);
    }
  if (n == 0)
    {
      g_set_error (error, MEL_DATASET_ERROR, MEL_DATASET_ERROR_FORMAT, "%s: the vocabulary is empty", path);
      return NULL;
    }
  g_ptr_array_add (symbols, NULL);
  return (char **) g_ptr_array_free (g_steal_pointer (&symbols), FALSE);
}

/* ---- the binary file ---------------------------------------------------- */

#define MAGIC "MELDSET\0"
#define MAGIC_LENGTH 8
#define FORMAT_VERSION 1
#define HEADER_LENGTH (MAGIC_LENGTH + 4 + 4 + 8 + 4)

/* CRC-32 by "slicing by 8": eight tables let the loop take 8 bytes a step. */
static guint32 crc_tables[8][256];

static gpointer
init_crc_tables (gpointer data)
{
  for (guint32 i = 0; i < 256; i++)
    {
      guint32 c = i;
      for (int k = 0; k < 8; k++)
        c = (c & 1) ? 0xedb88320u ^ (c >> 1) : c >> 1;
      crc_tables[0][i] = c;
    }
  for (guint32 i = 0; i < 256; i++)
    for (int t = 1; t < 8; t++)
      crc_tables[t][i] = (crc_tables[t - 1][i] >> 8) ^ crc_tables[0][crc_tables[t - 1][i] & 0xff];
  return NULL;
}

guint32
_mel_crc32 (guint32 crc, const guint8 *data, gsize length)
{
  static GOnce once = G_ONCE_INIT;

  g_once (&once, init_crc_tables, NULL);
  crc = ~crc;
  while (length >= 8)
    {
      guint32 lo = crc ^ ((guint32) data[0] | (guint32) data[1] << 8 | (guint32) data[2] << 16 |
                          (guint32) data[3] << 24);
      guint32 hi = (guint32) data[4] | (guint32) data[5] << 8 | (guint32) data[6] << 16 | (guint32) data[7] << 24;
      crc = crc_tables[7][lo & 0xff] ^ crc_tables[6][(lo >> 8) & 0xff] ^ crc_tables[5][(lo >> 16) & 0xff] ^
            crc_tables[4][lo >> 24] ^ crc_tables[3][hi & 0xff] ^ crc_tables[2][(hi >> 8) & 0xff] ^
            crc_tables[1][(hi >> 16) & 0xff] ^ crc_tables[0][hi >> 24];
      data += 8;
      length -= 8;
    }
  while (length-- > 0)
    crc = crc_tables[0][(crc ^ *data++) & 0xff] ^ (crc >> 8);
  return ~crc;
}

static void
put_u8 (GByteArray *out, guint8 value)
{
  g_byte_array_append (out, &value, 1);
}

static void
put_u16 (GByteArray *out, guint16 value)
{
  guint8 b[2] = { value & 0xff, value >> 8 };
  g_byte_array_append (out, b, 2);
}

static void
put_u32 (GByteArray *out, guint32 value)
{
  guint8 b[4] = { value & 0xff, (value >> 8) & 0xff, (value >> 16) & 0xff, value >> 24 };
  g_byte_array_append (out, b, 4);
}

static void
put_u64 (GByteArray *out, guint64 value)
{
  put_u32 (out, (guint32) value);
  put_u32 (out, (guint32) (value >> 32));
}

/* A count and @n values, in bulk: one resize, then little-endian stores. */
static void
put_u32_array (GByteArray *out, const guint32 *values, guint n)
{
  put_u32 (out, n);
  guint at = out->len;
  g_byte_array_set_size (out, at + 4 * n);
  guint8 *p = out->data + at;
  for (guint i = 0; i < n; i++, p += 4)
    {
      p[0] = values[i] & 0xff;
      p[1] = (values[i] >> 8) & 0xff;
      p[2] = (values[i] >> 16) & 0xff;
      p[3] = values[i] >> 24;
    }
}

static void
put_f64 (GByteArray *out, double value)
{
  guint64 bits;
  memcpy (&bits, &value, sizeof bits);
  put_u64 (out, bits);
}

static void
put_string (GByteArray *out, const char *text)
{
  gsize n = MIN (strlen (text), (gsize) G_MAXUINT16);
  put_u16 (out, (guint16) n);
  g_byte_array_append (out, (const guint8 *) text, (guint) n);
}

static void
write_payload (const MelDataset *dataset, GByteArray *out)
{
  const MelPreprocessOptions *o = &dataset->options;

  /* options */
  put_u32 (out, o->n_acceptable);
  for (guint i = 0; i < o->n_acceptable; i++)
    {
      put_u64 (out, (guint64) o->acceptable[i].num);
      put_u64 (out, (guint64) o->acceptable[i].den);
    }
  put_u32 (out, (guint32) o->transpose);
  put_u32 (out, (guint32) o->min_shift);
  put_u32 (out, (guint32) o->max_shift);
  put_u32 (out, (guint32) o->lowest_midi);
  put_u32 (out, (guint32) o->highest_midi);
  put_f64 (out, o->valid_fraction);
  put_f64 (out, o->test_fraction);
  put_u64 (out, o->split_seed);

  /* counters */
  put_u32 (out, dataset->n_input);
  put_u32 (out, dataset->n_rejected);
  put_u32 (out, dataset->n_rejected_off_grid);
  put_u32 (out, dataset->n_rejected_range);
  put_u32 (out, dataset->n_rejected_empty);
  put_u32 (out, dataset->n_groups);

  /* vocabulary */
  put_u32 (out, dataset->vocabulary->len);
  for (guint i = 0; i < dataset->vocabulary->len; i++)
    put_string (out, g_ptr_array_index (dataset->vocabulary, i));

  /* input statuses */
  put_u32 (out, dataset->status->len);
  g_byte_array_append (out, (const guint8 *) dataset->status->data, dataset->status->len);

  /* songs */
  put_u32 (out, dataset->songs->len);
  for (guint i = 0; i < dataset->songs->len; i++)
    {
      const MelDatasetSong *s = &g_array_index (dataset->songs, MelDatasetSong, i);
      put_string (out, s->song_id);
      put_u32 (out, s->song_index);
      put_u8 (out, (guint8) s->transpose);
      put_u8 (out, s->split);
      put_u32 (out, s->offset);
      put_u32 (out, s->length);
      put_u32 (out, s->first_bar);
      put_u32 (out, s->n_bars);
      put_u32 (out, s->group);
    }

  /* bar starts and ids */
  put_u32_array (out, (const guint32 *) (void *) dataset->bar_starts->data, dataset->bar_starts->len);
  put_u32_array (out, (const guint32 *) (void *) dataset->ids->data, dataset->ids->len);
}

gboolean
mel_dataset_save (const MelDataset *dataset, const char *path, GError **error)
{
  g_return_val_if_fail (dataset != NULL, FALSE);
  g_return_val_if_fail (path != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  g_autoptr (GByteArray) payload = g_byte_array_sized_new (64 + dataset->ids->len * 4);
  write_payload (dataset, payload);

  g_autoptr (GByteArray) file = g_byte_array_sized_new (HEADER_LENGTH + payload->len);
  g_byte_array_append (file, (const guint8 *) MAGIC, MAGIC_LENGTH);
  put_u32 (file, FORMAT_VERSION);
  put_u32 (file, 0);
  put_u64 (file, payload->len);
  put_u32 (file, _mel_crc32 (0, payload->data, payload->len));
  g_byte_array_append (file, payload->data, payload->len);

  /* The vocabulary first: whenever the dataset exists, so does its vocabulary. */
  g_autofree char *vocab_path = g_strconcat (path, ".vocab.json", NULL);
  if (!mel_dataset_save_vocabulary (dataset, vocab_path, error))
    return FALSE;
  return write_atomically (path, (const char *) file->data, file->len, error);
}

/* A bounds-checked little-endian reader: every get fails softly once the
 * data runs out, and the first failure's message is kept. */
typedef struct
{
  const guint8 *p;
  gsize left;
  const char *section;
  GError **error;
  gboolean failed;
} Reader;

static gboolean
reader_fail (Reader *r, const char *format, ...) G_GNUC_PRINTF (2, 3);

static gboolean
reader_fail (Reader *r, const char *format, ...)
{
  if (!r->failed)
    {
      va_list args;
      va_start (args, format);
      g_autofree char *message = g_strdup_vprintf (format, args);
      va_end (args);
      g_set_error (r->error, MEL_DATASET_ERROR, MEL_DATASET_ERROR_FORMAT, "corrupt dataset file: %s: %s",
                   r->section, message);
    }
  r->failed = TRUE;
  return FALSE;
}

static gboolean
take (Reader *r, gsize n, const guint8 **bytes)
{
  if (r->failed)
    return FALSE;
  if (n > r->left)
    return reader_fail (r, "data ends early (truncated)");
  *bytes = r->p;
  r->p += n;
  r->left -= n;
  return TRUE;
}

static guint32
get_u32 (Reader *r)
{
  const guint8 *b = NULL;
  if (!take (r, 4, &b))
    return 0;
  return (guint32) b[0] | ((guint32) b[1] << 8) | ((guint32) b[2] << 16) | ((guint32) b[3] << 24);
}

static guint8
get_u8 (Reader *r)
{
  const guint8 *b = NULL;
  return take (r, 1, &b) ? b[0] : 0;
}

static guint64
get_u64 (Reader *r)
{
  guint64 lo = get_u32 (r);
  guint64 hi = get_u32 (r);
  return lo | (hi << 32);
}

static double
get_f64 (Reader *r)
{
  guint64 bits = get_u64 (r);
  double value;
  memcpy (&value, &bits, sizeof value);
  return value;
}

/* A count of items of @item_size bytes that must fit in what is left. */
static guint32
get_count (Reader *r, gsize item_size)
{
  guint32 n = get_u32 (r);
  if (!r->failed && item_size > 0 && (gsize) n > r->left / item_size)
    {
      reader_fail (r, "count %u does not fit in the %" G_GSIZE_FORMAT " bytes left", n, r->left);
      return 0;
    }
  return n;
}

static char *
get_string (Reader *r)
{
  const guint8 *b = NULL, *length_bytes = NULL;
  if (!take (r, 2, &length_bytes))
    return NULL;
  gsize n = length_bytes[0] | ((gsize) length_bytes[1] << 8);
  if (!take (r, n, &b))
    return NULL;
  if (memchr (b, '\0', n) != NULL || !g_utf8_validate ((const char *) b, (gssize) n, NULL))
    {
      reader_fail (r, "a string is not valid UTF-8");
      return NULL;
    }
  return g_strndup ((const char *) b, n);
}

static gboolean
read_options (Reader *r, MelPreprocessOptions *o)
{
  GError *invalid = NULL;

  r->section = "options";
  memset (o, 0, sizeof *o);
  guint32 n = get_u32 (r);
  if (!r->failed && (n == 0 || n > MEL_PREPROCESS_MAX_DURATIONS))
    return reader_fail (r, "%u acceptable durations", n);
  o->n_acceptable = n;
  for (guint i = 0; i < n && !r->failed; i++)
    {
      gint64 num = (gint64) get_u64 (r);
      gint64 den = (gint64) get_u64 (r);
      if (!r->failed && (den <= 0 || den > 1024 || num <= 0 || num > 1024))
        return reader_fail (r, "duration %u is not a valid quarter length", i + 1);
      o->acceptable[i] = mel_rational_new (num, den);
    }
  guint32 mode = get_u32 (r);
  if (!r->failed && mode > MEL_TRANSPOSE_AUGMENT)
    return reader_fail (r, "unknown transposition mode %u", mode);
  o->transpose = (MelTransposeMode) mode;
  o->min_shift = (gint32) get_u32 (r);
  o->max_shift = (gint32) get_u32 (r);
  o->lowest_midi = (gint32) get_u32 (r);
  o->highest_midi = (gint32) get_u32 (r);
  o->valid_fraction = get_f64 (r);
  o->test_fraction = get_f64 (r);
  o->split_seed = get_u64 (r);
  if (r->failed)
    return FALSE;
  if (!mel_preprocess_options_validate (o, &invalid))
    {
      reader_fail (r, "%s", invalid->message);
      g_error_free (invalid);
      return FALSE;
    }
  return TRUE;
}

static gboolean
read_vocabulary (Reader *r, MelDataset *dataset)
{
  r->section = "vocabulary";
  guint32 n = get_count (r, 3);
  if (!r->failed && (n < 3 || n > 3 + 128))
    return reader_fail (r, "%u symbols (must be 3 to 131)", n);
  g_autoptr (GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);
  for (guint i = 0; i < n && !r->failed; i++)
    {
      char *symbol = get_string (r);
      gint16 code;
      if (symbol == NULL)
        return FALSE;
      g_ptr_array_add (dataset->vocabulary, symbol);
      if (!_mel_symbol_to_code (symbol, &code))
        return reader_fail (r, "entry %u is not a symbol", i);
      if ((i == 0) != (code == MEL_CODE_DELIMITER))
        return reader_fail (r, "\"/\" must be the first symbol and only there");
      if (!g_hash_table_add (seen, symbol))
        return reader_fail (r, "symbol '%s' appears twice", symbol);
    }
  return !r->failed;
}

static gboolean
read_counters_and_status (Reader *r, MelDataset *dataset)
{
  guint counts[MEL_N_PREPROCESS_STATUSES] = { 0 };

  r->section = "counters";
  dataset->n_input = get_u32 (r);
  dataset->n_rejected = get_u32 (r);
  dataset->n_rejected_off_grid = get_u32 (r);
  dataset->n_rejected_range = get_u32 (r);
  dataset->n_rejected_empty = get_u32 (r);
  dataset->n_groups = get_u32 (r);
  if (!read_vocabulary (r, dataset))
    return FALSE;

  r->section = "input statuses";
  guint32 n = get_count (r, 1);
  const guint8 *bytes = NULL;
  if (!r->failed && n != dataset->n_input)
    return reader_fail (r, "%u statuses for %u input songs", n, dataset->n_input);
  if (!take (r, n, &bytes))
    return FALSE;
  for (guint i = 0; i < n; i++)
    {
      if (bytes[i] >= MEL_N_PREPROCESS_STATUSES)
        return reader_fail (r, "unknown status %u", bytes[i]);
      counts[bytes[i]]++;
    }
  g_array_append_vals (dataset->status, bytes, n);
  if (counts[MEL_PREPROCESS_BAD_DURATION] != dataset->n_rejected ||
      counts[MEL_PREPROCESS_OFF_GRID] != dataset->n_rejected_off_grid ||
      counts[MEL_PREPROCESS_OUT_OF_RANGE] != dataset->n_rejected_range ||
      counts[MEL_PREPROCESS_EMPTY] != dataset->n_rejected_empty)
    return reader_fail (r, "the rejection counters do not match the statuses");
  if (dataset->n_groups > counts[MEL_PREPROCESS_OK])
    return reader_fail (r, "%u melody groups for %u accepted songs", dataset->n_groups, counts[MEL_PREPROCESS_OK]);
  return TRUE;
}

static gboolean
read_songs (Reader *r, MelDataset *dataset)
{
  r->section = "songs";
  /* each entry is at least 2 + 4 + 1 + 1 + 5 × 4 bytes */
  guint32 n = get_count (r, 28);
  for (guint i = 0; i < n && !r->failed; i++)
    {
      MelDatasetSong s = { 0 };
      s.song_id = get_string (r);
      if (s.song_id == NULL)
        return FALSE;
      s.song_index = get_u32 (r);
      s.transpose = (gint8) get_u8 (r);
      s.split = get_u8 (r);
      s.offset = get_u32 (r);
      s.length = get_u32 (r);
      s.first_bar = get_u32 (r);
      s.n_bars = get_u32 (r);
      s.group = get_u32 (r);
      g_array_append_val (dataset->songs, s); /* owns song_id from here */
      if (r->failed)
        return FALSE;
      if (s.song_index >= dataset->n_input ||
          g_array_index (dataset->status, guint8, s.song_index) != MEL_PREPROCESS_OK)
        return reader_fail (r, "song %u refers to input song %u, which was not accepted", i, s.song_index);
      if (s.split >= MEL_N_SPLITS)
        return reader_fail (r, "song %u has unknown split %u", i, s.split);
      if (s.group >= dataset->n_groups)
        return reader_fail (r, "song %u has melody group %u of %u", i, s.group, dataset->n_groups);
      if (s.transpose < -24 || s.transpose > 24)
        return reader_fail (r, "song %u is transposed by %d semitones", i, s.transpose);
    }
  return !r->failed;
}

/* The songs must tile the id stream exactly, each starting with "/" and
 * holding no other delimiter, and own ascending bar starts inside it. */
static gboolean
check_layout (Reader *r, MelDataset *dataset)
{
  guint64 expected_offset = 0, expected_bar = 0;
  guint vocab_size = dataset->vocabulary->len;
  const gint32 *ids = (const gint32 *) (void *) dataset->ids->data;

  r->section = "ids";
  for (guint i = 0; i < dataset->ids->len; i++)
    if (ids[i] < 0 || (guint) ids[i] >= vocab_size)
      return reader_fail (r, "id %d at %u is outside the vocabulary of %u", ids[i], i, vocab_size);

  r->section = "song layout";
  for (guint i = 0; i < dataset->songs->len; i++)
    {
      const MelDatasetSong *s = &g_array_index (dataset->songs, MelDatasetSong, i);
      guint64 end = (guint64) s->offset + 1 + s->length;
      if (s->offset != expected_offset || end > dataset->ids->len)
        return reader_fail (r, "song %u does not follow the previous one in the id stream", i);
      if (ids[s->offset] != 0)
        return reader_fail (r, "song %u does not start with the delimiter", i);
      for (guint64 k = s->offset + 1; k < end; k++)
        if (ids[k] == 0)
          return reader_fail (r, "song %u holds a delimiter", i);
      if (s->first_bar != expected_bar || (guint64) s->first_bar + s->n_bars > dataset->bar_starts->len)
        return reader_fail (r, "song %u has bars outside the bar table", i);
      guint64 previous = s->offset;
      for (guint b = s->first_bar; b < s->first_bar + s->n_bars; b++)
        {
          guint32 start = g_array_index (dataset->bar_starts, guint32, b);
          if (start <= previous || start >= end)
            return reader_fail (r, "bar start %u of song %u lies outside the song or out of order", b, i);
          previous = start;
        }
      expected_offset = end;
      expected_bar += s->n_bars;
    }
  if (expected_offset != dataset->ids->len || expected_bar != dataset->bar_starts->len)
    return reader_fail (r, "the songs do not cover the id stream and bar table exactly");
  return TRUE;
}

MelDataset *
_mel_dataset_parse (const guint8 *data, gsize length, gboolean check_checksum, GError **error)
{
  if (length == 0)
    {
      g_set_error_literal (error, MEL_DATASET_ERROR, MEL_DATASET_ERROR_FORMAT,
                           "truncated dataset file: the file is empty");
      return NULL;
    }
  if (length < MAGIC_LENGTH ? memcmp (data, MAGIC, length) != 0 : memcmp (data, MAGIC, MAGIC_LENGTH) != 0)
    {
      g_set_error_literal (error, MEL_DATASET_ERROR, MEL_DATASET_ERROR_FORMAT,
                           "not a Melodist dataset file (wrong magic)");
      return NULL;
    }
  if (length < HEADER_LENGTH)
    {
      g_set_error (error, MEL_DATASET_ERROR, MEL_DATASET_ERROR_FORMAT,
                   "truncated dataset file: %" G_GSIZE_FORMAT " bytes, shorter than its %d-byte header", length,
                   HEADER_LENGTH);
      return NULL;
    }

  Reader header = { data + MAGIC_LENGTH, HEADER_LENGTH - MAGIC_LENGTH, "header", error, FALSE };
  guint32 version = get_u32 (&header);
  guint32 reserved = get_u32 (&header);
  guint64 payload_length = get_u64 (&header);
  guint32 checksum = get_u32 (&header);
  if (version != FORMAT_VERSION)
    {
      g_set_error (error, MEL_DATASET_ERROR, MEL_DATASET_ERROR_FORMAT,
                   "unsupported dataset format version %u (this build reads version %d)", version, FORMAT_VERSION);
      return NULL;
    }
  if (reserved != 0)
    {
      g_set_error (error, MEL_DATASET_ERROR, MEL_DATASET_ERROR_FORMAT,
                   "corrupt dataset file: header field 'reserved' is %u, not 0", reserved);
      return NULL;
    }
  gsize actual = length - HEADER_LENGTH;
  if (payload_length > actual)
    {
      g_set_error (error, MEL_DATASET_ERROR, MEL_DATASET_ERROR_FORMAT,
                   "truncated dataset file: the header announces %" G_GUINT64_FORMAT " bytes of data, only %"
                   G_GSIZE_FORMAT " are present", payload_length, actual);
      return NULL;
    }
  if (payload_length < actual)
    {
      g_set_error (error, MEL_DATASET_ERROR, MEL_DATASET_ERROR_FORMAT,
                   "dataset file size mismatch: %" G_GSIZE_FORMAT " unexpected bytes after the data",
                   (gsize) (actual - payload_length));
      return NULL;
    }
  const guint8 *payload = data + HEADER_LENGTH;
  if (check_checksum && _mel_crc32 (0, payload, actual) != checksum)
    {
      g_set_error_literal (error, MEL_DATASET_ERROR, MEL_DATASET_ERROR_FORMAT,
                           "dataset file checksum mismatch: the data is corrupt");
      return NULL;
    }

  g_autoptr (MelDataset) dataset = dataset_new ();
  Reader r = { payload, actual, "options", error, FALSE };
  if (!read_options (&r, &dataset->options) || !read_counters_and_status (&r, dataset) ||
      !read_songs (&r, dataset))
    return NULL;

  r.section = "bar starts";
  guint32 n_bars = get_count (&r, 4);
  g_array_set_size (dataset->bar_starts, n_bars);
  for (guint i = 0; i < n_bars; i++)
    g_array_index (dataset->bar_starts, guint32, i) = get_u32 (&r);
  r.section = "ids";
  guint32 n_ids = get_count (&r, 4);
  g_array_set_size (dataset->ids, n_ids);
  for (guint i = 0; i < n_ids; i++)
    g_array_index (dataset->ids, gint32, i) = (gint32) get_u32 (&r);
  if (r.failed)
    return NULL;
  if (r.left != 0)
    {
      reader_fail (&r, "%" G_GSIZE_FORMAT " bytes left over after the ids", r.left);
      return NULL;
    }
  if (!check_layout (&r, dataset))
    return NULL;
  return g_steal_pointer (&dataset);
}

MelDataset *
mel_dataset_load_from_data (const guint8 *data, gsize length, GError **error)
{
  g_return_val_if_fail (data != NULL || length == 0, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);
  return _mel_dataset_parse (data, length, TRUE, error);
}

MelDataset *
mel_dataset_load (const char *path, GError **error)
{
  g_autoptr (GError) local = NULL;
  g_autofree char *contents = NULL;
  gsize length = 0;

  g_return_val_if_fail (path != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!g_file_get_contents (path, &contents, &length, &local))
    {
      g_set_error (error, MEL_DATASET_ERROR, MEL_DATASET_ERROR_IO, "cannot read %s: %s", path, local->message);
      return NULL;
    }
  MelDataset *dataset = _mel_dataset_parse ((const guint8 *) contents, length, TRUE, &local);
  if (dataset == NULL)
    {
      g_set_error (error, MEL_DATASET_ERROR, MEL_DATASET_ERROR_FORMAT, "%s: %s", path, local->message);
      return NULL;
    }
  return dataset;
}
