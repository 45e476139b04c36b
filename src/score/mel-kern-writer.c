/* mel-kern-writer.c — writes a MelSong as a single **kern spine.
 *
 * The output is what mel-kern-reader.c reads back to the same song:
 * reference records first, then **kern, the interpretations in force at
 * the start, and one line per bar line, note or rest, with meter, key
 * signature and key changes placed at their onsets.
 *
 * SPDX-License-Identifier: MIT
 */
#include "mel-kern.h"

#include <string.h>

#define MAX_DOTS MEL_MAX_DOTS

/* ---- durations ---------------------------------------------------------- */

static gboolean
is_power_of_two (gint64 x)
{
  return x > 0 && (x & (x - 1)) == 0;
}

/* Appends the single kern recip for @d when it is an integer recip (or
 * breve 0, longa 00, maxima 000) with up to MAX_DOTS dots, fewest dots
 * first.  A length without tuplet gets a power-of-two recip only: 5/4
 * quarters is "6..." in theory, but tied notes in practice. */
static gboolean
append_plain_recip (GString *out, MelRational d)
{
  gboolean binary = is_power_of_two (d.den);

  for (int dots = 0; dots <= MAX_DOTS; dots++)
    {
      MelRational dot_factor = mel_rational_new (G_GINT64_CONSTANT (1) << dots,
                                                 (G_GINT64_CONSTANT (2) << dots) - 1);
      MelRational base = mel_rational_mul (d, dot_factor);
      MelRational recip = mel_rational_div (mel_rational_new (4, 1), base);
      if (recip.den == 1 && (!binary || is_power_of_two (recip.num)))
        g_string_append_printf (out, "%" G_GINT64_FORMAT, recip.num);
      else if (recip.num == 1 && recip.den == 2)
        g_string_append (out, "0");
      else if (recip.num == 1 && recip.den == 4)
        g_string_append (out, "00");
      else if (recip.num == 1 && recip.den == 8)
        g_string_append (out, "000");
      else
        continue;
      for (int i = 0; i < dots; i++)
        g_string_append_c (out, '.');
      return TRUE;
    }
  return FALSE;
}

/* Any positive duration as one token: plain if possible, else the
 * Humdrum rational recip "N%M" (4 / d whole notes). */
static void
append_recip (GString *out, MelRational d)
{
  if (append_plain_recip (out, d))
    return;
  MelRational recip = mel_rational_div (mel_rational_new (4, 1), d);
  g_string_append_printf (out, "%" G_GINT64_FORMAT "%%%" G_GINT64_FORMAT, recip.num, recip.den);
}

/* ---- pitches ------------------------------------------------------------- */

/* The spelling to write: the event's own when it matches its MIDI number,
 * else one derived from the MIDI number in the direction of the key. */
static MelPitch
event_pitch (const MelEvent *event, const MelKeySignature *sig)
{
  if (mel_pitch_step_index (event->pitch.step) >= 0 && event->pitch.alter >= -2 &&
      event->pitch.alter <= 2 && mel_pitch_to_midi (event->pitch) == event->midi)
    return event->pitch;
  gboolean sharps = sig == NULL || sig->fifths == MEL_KEY_SIGNATURE_NONSTANDARD || sig->fifths >= 0;
  return mel_pitch_from_midi (event->midi, sharps);
}

static void
append_pitch (GString *out, MelPitch pitch, const MelKeySignature *sig)
{
  int step = mel_pitch_step_index (pitch.step);
  char upper = pitch.step;
  char lower = g_ascii_tolower (pitch.step);

  if (pitch.octave >= 4)
    for (int i = 0; i < pitch.octave - 3; i++)
      g_string_append_c (out, lower);
  else
    for (int i = 0; i < 4 - pitch.octave; i++)
      g_string_append_c (out, upper);
  for (int i = 0; i < pitch.alter; i++)
    g_string_append_c (out, '#');
  for (int i = 0; i < -pitch.alter; i++)
    g_string_append_c (out, '-');
  /* Kern spells every note fully; the natural sign only helps readers
   * where the signature alters the step. */
  if (pitch.alter == 0 && sig != NULL && step >= 0 && sig->alters[step] != 0)
    g_string_append_c (out, 'n');
}

/* ---- interpretations ------------------------------------------------------ */

static void
append_meter (GString *out, const MelMeter *meter)
{
  if (meter->irregular || meter->numerator <= 0 || meter->denominator <= 0)
    g_string_append (out, "*MX\n");
  else
    g_string_append_printf (out, "*M%d/%d\n", meter->numerator, meter->denominator);
}

static void
append_step_alter (GString *out, int step, int alter, gboolean upper)
{
  char letter = "CDEFGAB"[step];

  g_string_append_c (out, upper ? letter : g_ascii_tolower (letter));
  for (int i = 0; i < alter; i++)
    g_string_append_c (out, '#');
  for (int i = 0; i < -alter; i++)
    g_string_append_c (out, '-');
}

static void
append_key_signature (GString *out, const MelKeySignature *sig)
{
  /* The order in which sharps are added; flats come in reverse. */
  static const int sharp_order[7] = { 3, 0, 4, 1, 5, 2, 6 };

  g_string_append (out, "*k[");
  if (sig->fifths != MEL_KEY_SIGNATURE_NONSTANDARD && sig->fifths >= -7 && sig->fifths <= 7)
    {
      for (int i = 0; i < sig->fifths; i++)
        append_step_alter (out, sharp_order[i], 1, FALSE);
      for (int i = 0; i < -sig->fifths; i++)
        append_step_alter (out, sharp_order[6 - i], -1, FALSE);
    }
  else
    {
      for (int step = 0; step < 7; step++)
        if (sig->alters[step] != 0)
          append_step_alter (out, step, CLAMP (sig->alters[step], -2, 2), FALSE);
    }
  g_string_append (out, "]\n");
}

static void
append_key (GString *out, const MelKey *key)
{
  int step = mel_pitch_step_index (key->tonic_step);

  if (step < 0)
    return;
  g_string_append_c (out, '*');
  /* kern has no "unknown mode": such keys are written as major */
  append_step_alter (out, step, CLAMP (key->tonic_alter, -2, 2), key->mode != MEL_MODE_MINOR);
  g_string_append (out, ":\n");
}

/* Cursor over the three timed arrays, to write each change once, in time order. */
typedef struct
{
  const MelSong *song;
  guint meter, signature, key;
} Pending;

static void
flush_interpretations (GString *out, Pending *pending, MelRational until, gboolean inclusive)
{
  const MelSong *song = pending->song;

#define DUE(array, type, index)                                                          \
  ((index) < (array)->len &&                                                             \
   mel_rational_compare (g_array_index ((array), type, (index)).onset, until) < (inclusive ? 1 : 0))

  while (DUE (song->meters, MelMeter, pending->meter))
    append_meter (out, &g_array_index (song->meters, MelMeter, pending->meter++));
  while (DUE (song->key_signatures, MelKeySignature, pending->signature))
    append_key_signature (out, &g_array_index (song->key_signatures, MelKeySignature,
                                               pending->signature++));
  while (DUE (song->keys, MelKey, pending->key))
    append_key (out, &g_array_index (song->keys, MelKey, pending->key++));
#undef DUE
}

/* ---- references ------------------------------------------------------------ */

/* Record keys and values never contain line breaks or (keys) colons. */
static char *
one_line (const char *text, gboolean is_key)
{
  char *copy = g_utf8_make_valid (text, -1);

  for (char *p = copy; *p != '\0'; p++)
    if (*p == '\n' || *p == '\r' || (is_key && (*p == ':' || g_ascii_isspace (*p))))
      *p = is_key ? '_' : ' ';
  return copy;
}

static void
append_reference (GString *out, const char *key, const char *value)
{
  g_autofree char *clean_key = one_line (key, TRUE);
  g_autofree char *clean_value = one_line (value, FALSE);

  g_strstrip (clean_value);
  if (*clean_key == '\0')
    return;
  if (*clean_value == '\0')
    g_string_append_printf (out, "!!!%s:\n", clean_key);
  else
    g_string_append_printf (out, "!!!%s: %s\n", clean_key, clean_value);
}

static int
compare_strings (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

/* Well-known records first, in the order the corpus uses, then the rest
 * sorted, so that the output does not depend on hash order. */
static void
append_references (GString *out, const MelSong *song)
{
  static const char *const first[] = { "COM", "OTL", "ARE", "SCT", "YEM", NULL };
  g_autofree gpointer *keys = NULL;
  guint n_keys = 0;

  for (guint i = 0; first[i] != NULL; i++)
    {
      const char *value = g_hash_table_lookup (song->references, first[i]);
      if (value != NULL)
        append_reference (out, first[i], value);
    }
  /* Fields set without a reference record (songs not read from kern). */
  if (song->title != NULL && !g_hash_table_contains (song->references, "OTL"))
    append_reference (out, "OTL", song->title);
  if (song->region != NULL && !g_hash_table_contains (song->references, "ARE"))
    append_reference (out, "ARE", song->region);
  /* The reader names a song without path or SCT "untitled". */
  if (song->path == NULL && song->id != NULL && *song->id != '\0' &&
      !g_str_equal (song->id, "untitled") && !g_hash_table_contains (song->references, "SCT"))
    append_reference (out, "SCT", song->id);
  if (song->genre != NULL && !g_hash_table_contains (song->references, "AGN"))
    append_reference (out, "AGN", song->genre);
  if (song->source_db != NULL && !g_hash_table_contains (song->references, "ONB"))
    append_reference (out, "ONB", song->source_db);

  keys = g_hash_table_get_keys_as_array (song->references, &n_keys);
  qsort (keys, n_keys, sizeof (gpointer), compare_strings);
  for (guint i = 0; i < n_keys; i++)
    {
      gboolean known = FALSE;
      for (guint j = 0; first[j] != NULL; j++)
        known |= g_str_equal (keys[i], first[j]);
      if (!known)
        append_reference (out, keys[i], g_hash_table_lookup (song->references, keys[i]));
    }
}

/* ---- events and bars --------------------------------------------------------- */

static void
append_tie (GString *out, guint8 tie, gboolean opening)
{
  if (opening && tie == MEL_TIE_START)
    g_string_append_c (out, '[');
  else if (!opening && tie == MEL_TIE_STOP)
    g_string_append_c (out, ']');
  else if (!opening && tie == (MEL_TIE_START | MEL_TIE_STOP))
    g_string_append_c (out, '_');
}

static void
append_event (GString *out, const MelEvent *event, const MelKeySignature *sig)
{
  g_autoptr (GArray) pieces = mel_duration_split_notatable (event->duration);
  gboolean rest = mel_event_is_rest (event);
  MelPitch pitch = { 0 };

  if (!rest)
    pitch = event_pitch (event, sig);
  for (guint i = 0; i < pieces->len; i++)
    {
      gboolean first = i == 0, last = i + 1 == pieces->len;
      guint8 tie = MEL_TIE_NONE;

      if (!rest)
        {
          tie |= first ? (event->tie & MEL_TIE_STOP) : MEL_TIE_STOP;
          tie |= last ? (event->tie & MEL_TIE_START) : MEL_TIE_START;
        }
      if (first && (event->flags & MEL_EVENT_PHRASE_START))
        g_string_append_c (out, '{');
      append_tie (out, tie, TRUE);
      append_recip (out, g_array_index (pieces, MelRational, i));
      if (rest)
        g_string_append_c (out, 'r');
      else
        append_pitch (out, pitch, sig);
      append_tie (out, tie, FALSE);
      if (last && (event->flags & MEL_EVENT_PHRASE_END))
        g_string_append_c (out, '}');
      g_string_append_c (out, '\n');
    }
}

/* The reader makes an opening bar without bar line only for music before
 * the first bar line, and numbers it 0. */
static gboolean
bar_is_implicit (const MelSong *song, guint index)
{
  const MelBar *bar = &g_array_index (song->bars, MelBar, index);
  return index == 0 && bar->number == 0 && !mel_rational_is_zero (bar->duration);
}

static void
append_bar (GString *out, const MelSong *song, guint index, Pending *pending)
{
  const MelBar *bar = &g_array_index (song->bars, MelBar, index);

  flush_interpretations (out, pending, bar->onset, FALSE);
  if (!bar_is_implicit (song, index))
    g_string_append_printf (out, "=%d\n", MAX (bar->number, 0));
  flush_interpretations (out, pending, bar->onset, TRUE);
}

char *
mel_kern_write (const MelSong *song)
{
  GString *out;
  Pending pending = { song, 0, 0, 0 };
  guint next_bar = 0;

  g_return_val_if_fail (song != NULL, NULL);

  out = g_string_sized_new (64 + 16 * song->events->len);
  append_references (out, song);
  g_string_append (out, "**kern\n");
  flush_interpretations (out, &pending, MEL_RATIONAL_ZERO, TRUE);
  for (guint i = 0; i < song->events->len; i++)
    {
      const MelEvent *event = &g_array_index (song->events, MelEvent, i);
      /* The event's bar index decides; the onsets too, for built songs
       * that leave the index at 0. */
      while (next_bar < song->bars->len &&
             (next_bar <= event->bar ||
              mel_rational_compare (g_array_index (song->bars, MelBar, next_bar).onset,
                                    event->onset) <= 0))
        append_bar (out, song, next_bar++, &pending);
      flush_interpretations (out, &pending, event->onset, TRUE);
      append_event (out, event, mel_song_get_key_signature_at (song, event->onset));
    }
  while (next_bar < song->bars->len)
    append_bar (out, song, next_bar++, &pending);
  flush_interpretations (out, &pending, song->duration, TRUE);
  /* anything left lies beyond the end: it still belongs to the song */
  while (pending.meter < song->meters->len || pending.signature < song->key_signatures->len ||
         pending.key < song->keys->len)
    flush_interpretations (out, &pending,
                           mel_rational_new (G_MAXINT32, 1), TRUE);
  g_string_append (out, "==\n*-\n");
  return g_string_free (out, FALSE);
}

gboolean
mel_kern_write_file (const MelSong *song, const char *path, GError **error)
{
  g_autofree char *text = NULL;
  g_autoptr (GError) local_error = NULL;

  g_return_val_if_fail (song != NULL, FALSE);
  g_return_val_if_fail (path != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  text = mel_kern_write (song);
  /* g_file_set_contents writes a temporary file and renames it. */
  if (!g_file_set_contents (path, text, -1, &local_error))
    {
      g_set_error (error, MEL_KERN_ERROR, MEL_KERN_ERROR_IO, "%s", local_error->message);
      return FALSE;
    }
  return TRUE;
}
