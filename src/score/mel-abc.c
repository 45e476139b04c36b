/* mel-abc.c — ABC notation writer, on the shared written layout.
 * SPDX-License-Identifier: MIT
 */
#include "mel-abc.h"
#include "mel-export-private.h"

#include <string.h>

#define BARS_PER_LINE 4

static const char *const major_names[15] = { "Cb", "Gb", "Db", "Ab", "Eb", "Bb", "F", "C",
                                             "G",  "D",  "A",  "E",  "B",  "F#", "C#" };
static const int major_pcs[15] = { 11, 6, 1, 8, 3, 10, 5, 0, 7, 2, 9, 4, 11, 6, 1 };

/* "K:" value: the signature's major key, or the key's tonic with the mode
 * that has this signature ("Ador", "Em"), or an explicit list. */
static char *
key_field (const MelWrittenMeasure *m)
{
  const MelKeySignature *sig = &m->key_signature;

  if (sig->fifths < -7 || sig->fifths > 7)
    {
      static const char steps[] = "cdefgab";
      GString *k = g_string_new ("C exp");
      for (int s = 0; s < 7; s++)
        if (sig->alters[s] != 0)
          g_string_append_printf (k, " %s%c", sig->alters[s] > 0 ? "^" : "_", steps[s]);
      return g_string_free (k, FALSE);
    }
  if (m->has_key)
    {
      static const char *const modes[12] = { "", NULL, "dor", NULL, "phr", "lyd", NULL, "mix", NULL, "m", NULL, "loc" };
      int interval = (mel_key_tonic_pitch_class (&m->key) - major_pcs[sig->fifths + 7] + 12) % 12;
      if (modes[interval] != NULL && m->key.tonic_alter >= -1 && m->key.tonic_alter <= 1)
        return g_strdup_printf ("%c%s%s", m->key.tonic_step,
                                m->key.tonic_alter > 0 ? "#" : m->key.tonic_alter < 0 ? "b" : "", modes[interval]);
    }
  return g_strdup (major_names[sig->fifths + 7]);
}

static void
append_length (GString *out, MelRational units)
{
  if (units.num == 1 && units.den == 1)
    return;
  if (units.num != 1)
    g_string_append_printf (out, "%" G_GINT64_FORMAT, units.num);
  if (units.den != 1)
    g_string_append_printf (out, "/%" G_GINT64_FORMAT, units.den);
}

static void
append_pitch (GString *out, MelPitch pitch)
{
  if (pitch.octave >= 5)
    {
      g_string_append_c (out, g_ascii_tolower (pitch.step));
      for (int o = 5; o < pitch.octave; o++)
        g_string_append_c (out, '\'');
    }
  else
    {
      g_string_append_c (out, pitch.step);
      for (int o = pitch.octave; o < 4; o++)
        g_string_append_c (out, ',');
    }
}

static void
append_accidental (GString *out, int alter)
{
  switch (alter)
    {
    case -2: g_string_append (out, "__"); break;
    case -1: g_string_append_c (out, '_'); break;
    case 0: g_string_append_c (out, '='); break;
    case 1: g_string_append_c (out, '^'); break;
    case 2: g_string_append (out, "^^"); break;
    default: break;
    }
}

static void
append_meter (GString *out, const MelMeter *meter)
{
  if (meter->irregular || meter->numerator <= 0 || meter->denominator <= 0)
    g_string_append (out, "none");
  else
    g_string_append_printf (out, "%d/%d", meter->numerator, meter->denominator);
}

static void
append_text_field (GString *out, char field, const char *text)
{
  g_autofree char *flat = g_strdup (text);
  g_strdelimit (flat, "\r\n", ' ');
  g_string_append_printf (out, "%c:%s\n", field, flat);
}

static void
write_measure (GString *out, const MelNotation *notation, const MelWrittenMeasure *m)
{
  /* ABC accidentals hold for the rest of the bar at the same octave, and
   * are not carried by ties, so we track our own state. */
  gint8 state[7][12];
  const MelWrittenNote *notes = &g_array_index (notation->notes, MelWrittenNote, 0);
  /* One unit of L:1/8 is half a quarter note. */
  const MelRational per_quarter = mel_rational_new (2, 1);

  for (int s = 0; s < 7; s++)
    for (int o = 0; o < 12; o++)
      state[s][o] = m->key_signature.alters[s];

  for (guint i = m->first_note; i < m->first_note + m->n_notes; i++)
    {
      const MelWrittenNote *n = &notes[i];
      gboolean beamed_to_previous = n->beams[0] == MEL_BEAM_CONTINUE || n->beams[0] == MEL_BEAM_END;

      if (!beamed_to_previous && i > m->first_note)
        g_string_append_c (out, ' ');
      if (n->tuplet_start)
        {
          guint count = 0;
          for (guint k = i; k < m->first_note + m->n_notes; k++)
            {
              count++;
              if (notes[k].tuplet_stop)
                break;
            }
          if (count == 3)
            g_string_append (out, "(3");
          else
            g_string_append_printf (out, "(3:2:%u", count);
        }
      MelRational written = n->triplet ? mel_rational_mul (n->duration, mel_rational_new (3, 2)) : n->duration;
      if (n->midi < 0)
        g_string_append_c (out, 'z');
      else
        {
          int step = mel_pitch_step_index (n->pitch.step);
          int octave = CLAMP (n->pitch.octave + 1, 0, 11);
          if (step >= 0 && state[step][octave] != n->pitch.alter)
            {
              append_accidental (out, n->pitch.alter);
              state[step][octave] = n->pitch.alter;
            }
          append_pitch (out, n->pitch);
        }
      append_length (out, mel_rational_mul (written, per_quarter));
      if (n->midi >= 0 && n->tie_start)
        g_string_append_c (out, '-');
    }
}

char *
mel_abc_write (const MelSong *song, GError **error)
{
  g_autoptr (MelNotation) notation = NULL;
  g_autofree char *key = NULL;
  GString *out;
  const MelWrittenMeasure *first;

  g_return_val_if_fail (song != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  notation = _mel_notation_new (song, error);
  if (notation == NULL)
    return NULL;
  first = &g_array_index (notation->measures, MelWrittenMeasure, 0);

  out = g_string_new ("X:1\n");
  append_text_field (out, 'T', song->title != NULL && *song->title != '\0' ? song->title : song->id);
  if (song->region != NULL)
    append_text_field (out, 'O', song->region);
  g_string_append (out, "M:");
  append_meter (out, &first->meter);
  g_string_append_printf (out, "\nL:1/8\nQ:1/4=%g\n", mel_export_default_tempo (song));
  key = key_field (first);
  g_string_append_printf (out, "K:%s\n", key);

  for (guint i = 0; i < notation->measures->len; i++)
    {
      const MelWrittenMeasure *m = &g_array_index (notation->measures, MelWrittenMeasure, i);
      if (i > 0 && m->meter_changed)
        {
          g_string_append (out, "[M:");
          append_meter (out, &m->meter);
          g_string_append (out, "] ");
        }
      if (i > 0 && m->key_changed)
        {
          g_autofree char *k = key_field (m);
          g_string_append_printf (out, "[K:%s] ", k);
        }
      write_measure (out, notation, m);
      if (i + 1 == notation->measures->len)
        g_string_append (out, " |]\n");
      else if (m->number > 0 && m->number % BARS_PER_LINE == 0)
        g_string_append (out, " |\n");
      else
        g_string_append (out, " | ");
    }
  return g_string_free (out, FALSE);
}

gboolean
mel_abc_write_file (const MelSong *song, const char *path, GError **error)
{
  g_autofree char *text = NULL;

  g_return_val_if_fail (song != NULL, FALSE);
  g_return_val_if_fail (path != NULL, FALSE);
  text = mel_abc_write (song, error);
  if (text == NULL)
    return FALSE;
  return mel_export_write_bytes (path, text, strlen (text), error);
}
