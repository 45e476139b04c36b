/* mel-song.c — the melody model shared by every part of Melodist.
 * SPDX-License-Identifier: MIT
 */
#include "mel-song.h"

#include <string.h>

static const int step_semitones[7] = { 0, 2, 4, 5, 7, 9, 11 };

int
mel_pitch_step_index (char step)
{
  switch (step)
    {
    case 'C': return 0;
    case 'D': return 1;
    case 'E': return 2;
    case 'F': return 3;
    case 'G': return 4;
    case 'A': return 5;
    case 'B': return 6;
    default: return -1;
    }
}

int
mel_pitch_to_midi (MelPitch pitch)
{
  int idx = mel_pitch_step_index (pitch.step);
  if (idx < 0)
    return -1;
  return (pitch.octave + 1) * 12 + step_semitones[idx] + pitch.alter;
}

MelPitch
mel_pitch_from_midi (int midi, gboolean prefer_sharps)
{
  static const char sharp_steps[12] = { 'C', 'C', 'D', 'D', 'E', 'F', 'F', 'G', 'G', 'A', 'A', 'B' };
  static const gint8 sharp_alters[12] = { 0, 1, 0, 1, 0, 0, 1, 0, 1, 0, 1, 0 };
  static const char flat_steps[12] = { 'C', 'D', 'D', 'E', 'E', 'F', 'G', 'G', 'A', 'A', 'B', 'B' };
  static const gint8 flat_alters[12] = { 0, -1, 0, -1, 0, 0, -1, 0, -1, 0, -1, 0 };
  int pc = ((midi % 12) + 12) % 12;
  int octave = (midi - pc) / 12 - 1;
  MelPitch p;

  p.step = prefer_sharps ? sharp_steps[pc] : flat_steps[pc];
  p.alter = prefer_sharps ? sharp_alters[pc] : flat_alters[pc];
  p.octave = (gint8) octave;
  return p;
}

MelRational
mel_meter_bar_length (const MelMeter *meter)
{
  g_return_val_if_fail (meter != NULL, MEL_RATIONAL_ZERO);
  if (meter->irregular || meter->denominator <= 0 || meter->numerator <= 0)
    return MEL_RATIONAL_ZERO;
  /* numerator beats of 1/denominator whole notes = 4*num/den quarters */
  return mel_rational_new (4 * (gint64) meter->numerator, meter->denominator);
}

void
mel_key_signature_init_fifths (MelKeySignature *sig, int fifths)
{
  /* Order of sharps F C G D A E B; flats the reverse. */
  static const int sharp_order[7] = { 3, 0, 4, 1, 5, 2, 6 };

  g_return_if_fail (sig != NULL);
  g_return_if_fail (fifths >= -7 && fifths <= 7);

  memset (sig->alters, 0, sizeof sig->alters);
  sig->fifths = fifths;
  for (int i = 0; i < fifths; i++)
    sig->alters[sharp_order[i]] = 1;
  for (int i = 0; i < -fifths; i++)
    sig->alters[sharp_order[6 - i]] = -1;
}

int
mel_key_tonic_pitch_class (const MelKey *key)
{
  int idx = mel_pitch_step_index (key->tonic_step);
  if (idx < 0)
    return 0;
  return ((step_semitones[idx] + key->tonic_alter) % 12 + 12) % 12;
}

G_DEFINE_BOXED_TYPE (MelSong, mel_song, mel_song_ref, mel_song_unref)

MelSong *
mel_song_new (const char *id)
{
  MelSong *song = g_new0 (MelSong, 1);

  g_atomic_ref_count_init (&song->ref_count);
  song->id = g_strdup (id != NULL ? id : "");
  song->references = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  song->events = g_array_new (FALSE, TRUE, sizeof (MelEvent));
  song->bars = g_array_new (FALSE, TRUE, sizeof (MelBar));
  song->meters = g_array_new (FALSE, TRUE, sizeof (MelMeter));
  song->key_signatures = g_array_new (FALSE, TRUE, sizeof (MelKeySignature));
  song->keys = g_array_new (FALSE, TRUE, sizeof (MelKey));
  song->pickup = MEL_RATIONAL_ZERO;
  song->duration = MEL_RATIONAL_ZERO;
  return song;
}

MelSong *
mel_song_ref (MelSong *song)
{
  g_return_val_if_fail (song != NULL, NULL);
  g_atomic_ref_count_inc (&song->ref_count);
  return song;
}

void
mel_song_unref (MelSong *song)
{
  g_return_if_fail (song != NULL);
  if (!g_atomic_ref_count_dec (&song->ref_count))
    return;
  g_free (song->id);
  g_free (song->title);
  g_free (song->region);
  g_free (song->genre);
  g_free (song->source_db);
  g_free (song->path);
  g_hash_table_unref (song->references);
  g_array_unref (song->events);
  g_array_unref (song->bars);
  g_array_unref (song->meters);
  g_array_unref (song->key_signatures);
  g_array_unref (song->keys);
  g_free (song);
}

static GArray *
copy_array (GArray *src, gsize element_size)
{
  GArray *dst = g_array_sized_new (FALSE, TRUE, element_size, src->len);
  g_array_append_vals (dst, src->data, src->len);
  return dst;
}

MelSong *
mel_song_copy (const MelSong *song)
{
  g_return_val_if_fail (song != NULL, NULL);

  MelSong *copy = mel_song_new (song->id);
  GHashTableIter iter;
  gpointer key, value;

  copy->title = g_strdup (song->title);
  copy->region = g_strdup (song->region);
  copy->genre = g_strdup (song->genre);
  copy->source_db = g_strdup (song->source_db);
  copy->path = g_strdup (song->path);
  g_hash_table_iter_init (&iter, song->references);
  while (g_hash_table_iter_next (&iter, &key, &value))
    g_hash_table_insert (copy->references, g_strdup (key), g_strdup (value));

  g_array_unref (copy->events);
  g_array_unref (copy->bars);
  g_array_unref (copy->meters);
  g_array_unref (copy->key_signatures);
  g_array_unref (copy->keys);
  copy->events = copy_array (song->events, sizeof (MelEvent));
  copy->bars = copy_array (song->bars, sizeof (MelBar));
  copy->meters = copy_array (song->meters, sizeof (MelMeter));
  copy->key_signatures = copy_array (song->key_signatures, sizeof (MelKeySignature));
  copy->keys = copy_array (song->keys, sizeof (MelKey));
  copy->pickup = song->pickup;
  copy->duration = song->duration;
  return copy;
}

void
mel_song_set_title (MelSong *song, const char *title)
{
  g_return_if_fail (song != NULL);
  g_free (song->title);
  song->title = g_strdup (title);
}

/* Keeps the well-known fields in step with the reference table. */
void
mel_song_set_reference (MelSong *song, const char *key, const char *value)
{
  g_return_if_fail (song != NULL);
  g_return_if_fail (key != NULL);
  g_return_if_fail (value != NULL);

  g_hash_table_insert (song->references, g_strdup (key), g_strdup (value));
  if (g_str_equal (key, "OTL"))
    mel_song_set_title (song, value);
  else if (g_str_equal (key, "SCT"))
    {
      g_free (song->id);
      song->id = g_strdup (value);
    }
  else if (g_str_equal (key, "ARE"))
    {
      g_free (song->region);
      song->region = g_strdup (value);
    }
  else if (g_str_equal (key, "AGN"))
    {
      g_free (song->genre);
      song->genre = g_strdup (value);
    }
  else if (g_str_equal (key, "ONB"))
    {
      g_free (song->source_db);
      song->source_db = g_strdup (value);
    }
}

void
mel_song_add_event (MelSong *song, const MelEvent *event)
{
  g_return_if_fail (song != NULL && event != NULL);
  g_array_append_val (song->events, *event);
  MelRational end = mel_rational_add (event->onset, event->duration);
  if (mel_rational_compare (end, song->duration) > 0)
    song->duration = end;
}

void
mel_song_add_bar (MelSong *song, const MelBar *bar)
{
  g_return_if_fail (song != NULL && bar != NULL);
  g_array_append_val (song->bars, *bar);
}

void
mel_song_add_meter (MelSong *song, const MelMeter *meter)
{
  g_return_if_fail (song != NULL && meter != NULL);
  g_array_append_val (song->meters, *meter);
}

void
mel_song_add_key_signature (MelSong *song, const MelKeySignature *sig)
{
  g_return_if_fail (song != NULL && sig != NULL);
  g_array_append_val (song->key_signatures, *sig);
}

void
mel_song_add_key (MelSong *song, const MelKey *key)
{
  g_return_if_fail (song != NULL && key != NULL);
  g_array_append_val (song->keys, *key);
}

guint
mel_song_get_n_events (const MelSong *song)
{
  g_return_val_if_fail (song != NULL, 0);
  return song->events->len;
}

const MelEvent *
mel_song_get_event (const MelSong *song, guint index)
{
  g_return_val_if_fail (song != NULL, NULL);
  g_return_val_if_fail (index < song->events->len, NULL);
  return &g_array_index (song->events, MelEvent, index);
}

guint
mel_song_get_n_notes (const MelSong *song)
{
  guint n = 0;

  g_return_val_if_fail (song != NULL, 0);
  for (guint i = 0; i < song->events->len; i++)
    if (!mel_event_is_rest (&g_array_index (song->events, MelEvent, i)))
      n++;
  return n;
}

/* The last element of a sorted-by-onset array whose onset is <= @onset.
 * Every timed element type starts with its MelRational onset. */
static gconstpointer
find_in_force (GArray *array, gsize element_size, MelRational onset)
{
  gconstpointer found = NULL;

  for (guint i = 0; i < array->len; i++)
    {
      const MelRational *at = (const MelRational *) (array->data + i * element_size);
      if (mel_rational_compare (*at, onset) > 0)
        break;
      found = at;
    }
  /* Something precedes the first change: use the first one. */
  if (found == NULL && array->len > 0)
    found = array->data;
  return found;
}

const MelMeter *
mel_song_get_meter_at (const MelSong *song, MelRational onset)
{
  g_return_val_if_fail (song != NULL, NULL);
  return find_in_force (song->meters, sizeof (MelMeter), onset);
}

const MelKeySignature *
mel_song_get_key_signature_at (const MelSong *song, MelRational onset)
{
  g_return_val_if_fail (song != NULL, NULL);
  return find_in_force (song->key_signatures, sizeof (MelKeySignature), onset);
}

const MelKey *
mel_song_get_key_at (const MelSong *song, MelRational onset)
{
  g_return_val_if_fail (song != NULL, NULL);
  return find_in_force (song->keys, sizeof (MelKey), onset);
}

gboolean
mel_song_get_range (const MelSong *song, int *lowest, int *highest)
{
  int lo = G_MAXINT, hi = G_MININT;

  g_return_val_if_fail (song != NULL, FALSE);
  for (guint i = 0; i < song->events->len; i++)
    {
      const MelEvent *ev = &g_array_index (song->events, MelEvent, i);
      if (mel_event_is_rest (ev))
        continue;
      lo = MIN (lo, ev->midi);
      hi = MAX (hi, ev->midi);
    }
  if (lo > hi)
    return FALSE;
  if (lowest)
    *lowest = lo;
  if (highest)
    *highest = hi;
  return TRUE;
}

gboolean
mel_song_events_equal (const MelSong *a, const MelSong *b)
{
  g_return_val_if_fail (a != NULL && b != NULL, FALSE);
  if (a->events->len != b->events->len)
    return FALSE;
  for (guint i = 0; i < a->events->len; i++)
    {
      const MelEvent *x = &g_array_index (a->events, MelEvent, i);
      const MelEvent *y = &g_array_index (b->events, MelEvent, i);
      if (!mel_rational_equal (x->onset, y->onset) || !mel_rational_equal (x->duration, y->duration) ||
          x->midi != y->midi || x->tie != y->tie)
        return FALSE;
    }
  return TRUE;
}

static gboolean
is_power_of_two (gint64 x)
{
  return x > 0 && (x & (x - 1)) == 0;
}

/* Whether @d is one plain or dotted binary value (a power of two of
 * quarters up to a maxima of 32, times 1, 3/2, 7/4 or 15/8), as kern,
 * MusicXML and the staff write with one notehead. */
static gboolean
is_single_notated_value (MelRational d)
{
  for (int dots = 0; dots <= MEL_MAX_DOTS; dots++)
    {
      /* d = base · (2^(dots+1) − 1) / 2^dots */
      MelRational base = mel_rational_mul (d, mel_rational_new (G_GINT64_CONSTANT (1) << dots,
                                                                (G_GINT64_CONSTANT (2) << dots) - 1));
      if ((base.num == 1 && is_power_of_two (base.den)) || (base.den == 1 && is_power_of_two (base.num) && base.num <= 32))
        return TRUE;
    }
  return FALSE;
}

GArray *
mel_duration_split_notatable (MelRational d)
{
  GArray *pieces = g_array_new (FALSE, FALSE, sizeof (MelRational));

  if (d.num <= 0 || d.den > (G_GINT64_CONSTANT (1) << 30) || !is_power_of_two (d.den) ||
      is_single_notated_value (d))
    {
      g_array_append_val (pieces, d);
      return pieces;
    }
  /* In units of 1/d.den: take the largest power of two, then dot it while it fits. */
  gint64 rest = d.num;
  gint64 maxima = 32 * d.den; /* the longest single note value */
  while (rest > 0)
    {
      gint64 piece = G_GINT64_CONSTANT (1) << (63 - __builtin_clzll ((unsigned long long) rest));
      piece = MIN (piece, maxima);
      gint64 add = piece / 2;
      for (int dots = 0; dots < MEL_MAX_DOTS && add > 0 && piece + add <= rest; dots++)
        {
          piece += add;
          add /= 2;
        }
      MelRational value = mel_rational_new (piece, d.den);
      g_array_append_val (pieces, value);
      rest -= piece;
    }
  return pieces;
}
