/* mel-memorise.c — longest shared runs through a suffix array.
 *
 * SPDX-License-Identifier: MIT
 */
#include "mel-memorise.h"

#include <string.h>

/* Inter-onset intervals are measured in ticks of 1/240 quarter (exact for
 * every tuplet of 2, 3, 4, 5, 6 and 8), so a token is one positive int. */
#define TICKS_PER_QUARTER 240
#define MAX_TICKS ((1 << 20) - 1)

struct _MelMemoryIndex
{
  GPtrArray *songs;  /* MelSong*, referenced */
  GArray *text;      /* gint32 tokens; song s ends with the sentinel −(s+1) */
  GArray *song_of;   /* guint per text position */
  GArray *note_of;   /* guint per text position: index of the token's first note */
  guint32 *suffixes; /* suffix array over text (token positions only) */
  gsize n_suffixes;
};

typedef struct
{
  GArray *tokens;  /* gint32 */
  GArray *onsets;  /* double quarters, one per note */
  GArray *ends;    /* double quarters per note: the next onset, or its own end */
} NoteSeq;

static gint32
make_token (int interval, MelRational ioi)
{
  gint64 ticks = ioi.num * TICKS_PER_QUARTER / ioi.den;

  return ((gint32) (CLAMP (interval, -127, 127) + 128) << 20) | (gint32) CLAMP (ticks, 0, MAX_TICKS);
}

/* The notes of @song (tied chains merged) as tokens and onsets. */
static void
note_seq_init (NoteSeq *seq, const MelSong *song)
{
  int previous_midi = -1;
  MelRational previous_onset = { 0, 1 };

  seq->tokens = g_array_new (FALSE, FALSE, sizeof (gint32));
  seq->onsets = g_array_new (FALSE, FALSE, sizeof (double));
  seq->ends = g_array_new (FALSE, FALSE, sizeof (double));
  for (guint i = 0; i < song->events->len; i++)
    {
      const MelEvent *ev = &g_array_index (song->events, MelEvent, i);
      double onset = mel_rational_to_double (ev->onset);

      if (mel_event_is_rest (ev))
        continue;
      if (ev->tie & MEL_TIE_STOP)
        {
          /* A tied continuation lengthens the previous note. */
          if (seq->ends->len > 0)
            g_array_index (seq->ends, double, seq->ends->len - 1) = onset + mel_rational_to_double (ev->duration);
          continue;
        }
      if (seq->ends->len > 0)
        g_array_index (seq->ends, double, seq->ends->len - 1) = onset;
      if (previous_midi >= 0)
        {
          gint32 token = make_token (ev->midi - previous_midi, mel_rational_sub (ev->onset, previous_onset));

          g_array_append_val (seq->tokens, token);
        }
      g_array_append_val (seq->onsets, onset);
      {
        double end = onset + mel_rational_to_double (ev->duration);

        g_array_append_val (seq->ends, end);
      }
      previous_midi = ev->midi;
      previous_onset = ev->onset;
    }
}

static void
note_seq_clear (NoteSeq *seq)
{
  g_clear_pointer (&seq->tokens, g_array_unref);
  g_clear_pointer (&seq->onsets, g_array_unref);
  g_clear_pointer (&seq->ends, g_array_unref);
}

static int
compare_suffixes (gconstpointer a, gconstpointer b, gpointer data)
{
  const GArray *text = data;
  const gint32 *t = (const gint32 *) text->data;
  guint32 i = *(const guint32 *) a, j = *(const guint32 *) b;

  /* Sentinels are unique, so two different suffixes differ before either
   * runs past its song's end. */
  while (t[i] == t[j])
    {
      if (t[i] < 0)
        return i < j ? -1 : i > j;
      i++;
      j++;
    }
  return t[i] < t[j] ? -1 : 1;
}

MelMemoryIndex *
mel_memory_index_new (GPtrArray *songs)
{
  MelMemoryIndex *index;

  g_return_val_if_fail (songs != NULL, NULL);

  index = g_new0 (MelMemoryIndex, 1);
  index->songs = g_ptr_array_new_with_free_func ((GDestroyNotify) mel_song_unref);
  index->text = g_array_new (FALSE, FALSE, sizeof (gint32));
  index->song_of = g_array_new (FALSE, FALSE, sizeof (guint));
  index->note_of = g_array_new (FALSE, FALSE, sizeof (guint));
  for (guint s = 0; s < songs->len; s++)
    {
      NoteSeq seq;
      gint32 sentinel = -(gint32) s - 1;

      g_ptr_array_add (index->songs, mel_song_ref (songs->pdata[s]));
      note_seq_init (&seq, songs->pdata[s]);
      for (guint k = 0; k < seq.tokens->len; k++)
        {
          g_array_append_val (index->text, g_array_index (seq.tokens, gint32, k));
          g_array_append_val (index->song_of, s);
          g_array_append_val (index->note_of, k);
        }
      g_array_append_val (index->text, sentinel);
      g_array_append_val (index->song_of, s);
      g_array_append_val (index->note_of, seq.tokens->len);
      note_seq_clear (&seq);
    }
  index->suffixes = g_new (guint32, MAX (index->text->len, 1));
  for (guint32 p = 0; p < index->text->len; p++)
    if (g_array_index (index->text, gint32, p) >= 0)
      index->suffixes[index->n_suffixes++] = p;
  g_qsort_with_data (index->suffixes, (gint) index->n_suffixes, sizeof (guint32), compare_suffixes,
                     index->text);
  return index;
}

void
mel_memory_index_free (MelMemoryIndex *index)
{
  if (index == NULL)
    return;
  g_ptr_array_unref (index->songs);
  g_array_unref (index->text);
  g_array_unref (index->song_of);
  g_array_unref (index->note_of);
  g_free (index->suffixes);
  g_free (index);
}

guint
mel_memory_index_get_n_songs (const MelMemoryIndex *index)
{
  g_return_val_if_fail (index != NULL, 0);
  return index->songs->len;
}

/* Compares the pattern @q (@m tokens) with the suffix at @pos: the sign,
 * and the common prefix length in *lcp. */
static int
compare_pattern (const MelMemoryIndex *index, guint32 pos, const gint32 *q, gsize m, gsize *lcp)
{
  const gint32 *t = (const gint32 *) index->text->data;
  gsize k = 0;

  while (k < m && t[pos + k] == q[k])
    k++;
  *lcp = k;
  if (k == m)
    return 0;
  return q[k] < t[pos + k] ? -1 : 1;
}

static double
bar_quarters (const MelSong *song, double onset)
{
  const MelMeter *meter = mel_song_get_meter_at (song, mel_rational_new ((gint64) (onset * 240), 240));
  double length = meter != NULL ? mel_rational_to_double (mel_meter_bar_length (meter)) : 0.0;

  return length > 0.0 ? length : 4.0;
}

gboolean
mel_memory_index_find (const MelMemoryIndex *index, const MelSong *melody, double threshold_bars,
                       MelMemoryMatch *match)
{
  NoteSeq seq;
  const gint32 *q;
  gsize m;

  g_return_val_if_fail (index != NULL && melody != NULL && match != NULL, FALSE);

  memset (match, 0, sizeof *match);
  match->song_index = -1;
  note_seq_init (&seq, melody);
  q = (const gint32 *) seq.tokens->data;
  m = seq.tokens->len;
  for (gsize i = 0; i < m && index->n_suffixes > 0; i++)
    {
      gsize lo = 0, hi = index->n_suffixes, lcp, best = 0;
      guint32 best_pos = 0;

      /* Lower bound of q[i…] among the suffixes. */
      while (lo < hi)
        {
          gsize mid = lo + (hi - lo) / 2;

          if (compare_pattern (index, index->suffixes[mid], q + i, m - i, &lcp) > 0)
            lo = mid + 1;
          else
            hi = mid;
        }
      /* The longest common prefix is with a neighbour of that point. */
      for (gsize c = lo > 0 ? lo - 1 : 0; c <= lo && c < index->n_suffixes; c++)
        {
          compare_pattern (index, index->suffixes[c], q + i, m - i, &lcp);
          if (lcp > best)
            {
              best = lcp;
              best_pos = index->suffixes[c];
            }
        }
      if (best == 0)
        continue;
      {
        double first = g_array_index (seq.onsets, double, i);
        double span = g_array_index (seq.ends, double, i + best) - first;
        double bars = span / bar_quarters (melody, first);

        match->max_notes = MAX (match->max_notes, (guint) best + 1);
        if (bars > match->n_bars || (bars == match->n_bars && best + 1 > match->n_notes))
          {
            match->n_bars = bars;
            match->n_notes = (guint) best + 1;
            match->song_index = (gint) g_array_index (index->song_of, guint, best_pos);
            match->melody_note = (guint) i;
            match->song_note = g_array_index (index->note_of, guint, best_pos);
          }
      }
    }
  if (match->song_index >= 0)
    match->song_id = ((const MelSong *) index->songs->pdata[match->song_index])->id;
  match->copied = match->n_notes > 0 && match->n_bars >= threshold_bars;
  note_seq_clear (&seq);
  return match->copied;
}
