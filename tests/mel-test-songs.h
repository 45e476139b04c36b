/* mel-test-songs.h — test melodies for the export tests, written in a tiny
 * notation of our own (header-only):
 *
 *   M3/4  meter from here      MX   irregular meter
 *   K-2   key signature (fifths)     Kn  the non-standard [c- e- a-]
 *   T:G   key G major, T:g minor
 *   |     barline
 *   4G4   a note: kern-like recip (4 quarter, 8 eighth, 12 triplet eighth,
 *         2. dotted half, 0 breve) then the pitch (G4, F#4, Bb3, Ebb5) or r;
 *         a trailing [ starts a tie, ] ends one, _ does both.
 *
 * The bars come from the barlines; an opening bar shorter than the meter
 * is the pickup.  All melodies here are our own.
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include "mel-song.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static MelPitch
test_parse_pitch (const char *s)
{
  MelPitch p = { s[0], 0, 4 };
  const char *c = s + 1;

  for (; *c == '#' || *c == 'b'; c++)
    p.alter += *c == '#' ? 1 : -1;
  p.octave = (gint8) atoi (c);
  return p;
}

static MelSong *
test_song_new (const char *id, const char *title, const char *spec)
{
  MelSong *song = mel_song_new (id);
  g_auto (GStrv) tokens = g_strsplit_set (spec, " \n", -1);
  MelRational t = MEL_RATIONAL_ZERO, bar_start = MEL_RATIONAL_ZERO;
  int bar_number = 1;
  gboolean first_bar = TRUE, any_bar = FALSE;

  if (title != NULL)
    mel_song_set_title (song, title);
  for (guint i = 0; tokens[i] != NULL; i++)
    {
      const char *tok = tokens[i];
      if (*tok == '\0')
        continue;
      if (tok[0] == 'M')
        {
          MelMeter m = { t, 0, 0, FALSE };
          if (tok[1] == 'X')
            m.irregular = TRUE;
          else
            g_assert_true (sscanf (tok + 1, "%d/%d", &m.numerator, &m.denominator) == 2);
          mel_song_add_meter (song, &m);
        }
      else if (tok[0] == 'K')
        {
          MelKeySignature sig = { 0 };
          if (tok[1] == 'n')
            {
              sig.fifths = MEL_KEY_SIGNATURE_NONSTANDARD;
              sig.alters[0] = sig.alters[2] = sig.alters[5] = -1;
            }
          else
            mel_key_signature_init_fifths (&sig, atoi (tok + 1));
          sig.onset = t;
          mel_song_add_key_signature (song, &sig);
        }
      else if (tok[0] == 'T' && tok[1] == ':')
        {
          MelKey key = { t, g_ascii_toupper (tok[2]), 0, g_ascii_isupper (tok[2]) ? MEL_MODE_MAJOR : MEL_MODE_MINOR };
          if (tok[3] == '#' || tok[3] == '-')
            key.tonic_alter = tok[3] == '#' ? 1 : -1;
          mel_song_add_key (song, &key);
        }
      else if (tok[0] == '|')
        {
          MelBar bar = { bar_start, mel_rational_sub (t, bar_start), 0, 0 };
          const MelMeter *m = mel_song_get_meter_at (song, bar_start);
          MelRational full = m != NULL ? mel_meter_bar_length (m) : MEL_RATIONAL_ZERO;
          if (first_bar && !mel_rational_is_zero (full) && mel_rational_compare (bar.duration, full) < 0)
            {
              song->pickup = bar.duration;
              bar.number = 0;
            }
          else
            bar.number = bar_number++;
          first_bar = FALSE;
          any_bar = TRUE;
          mel_song_add_bar (song, &bar);
          bar_start = t;
        }
      else
        {
          char *rest = NULL;
          long recip = strtol (tok, &rest, 10);
          MelEvent ev = { 0 };
          ev.onset = t;
          ev.duration = recip == 0 ? mel_rational_new (8, 1) : mel_rational_new (4, recip);
          while (*rest == '.')
            {
              ev.duration = mel_rational_mul (ev.duration, mel_rational_new (3, 2));
              rest++;
            }
          if (*rest == 'r')
            {
              ev.midi = -1;
              rest++;
            }
          else
            {
              ev.pitch = test_parse_pitch (rest);
              ev.midi = (gint16) mel_pitch_to_midi (ev.pitch);
            }
          const char *end = tok + strlen (tok) - 1;
          if (*end == '[')
            ev.tie = MEL_TIE_START;
          else if (*end == ']')
            ev.tie = MEL_TIE_STOP;
          else if (*end == '_')
            ev.tie = MEL_TIE_START | MEL_TIE_STOP;
          ev.bar = song->bars->len;
          mel_song_add_event (song, &ev);
          t = mel_rational_add (t, ev.duration);
        }
    }
  if (any_bar && mel_rational_compare (t, bar_start) > 0)
    {
      MelBar bar = { bar_start, mel_rational_sub (t, bar_start), bar_number, 0 };
      mel_song_add_bar (song, &bar);
    }
  return song;
}

/* A 3/4 tune in G with a pickup, a triplet, a tie over the barline, a
 * sharp and a natural against the key, and a change to 2/4. */
#define TEST_SONG_PICKUP \
  "M3/4 K1 T:G 4D4 | 4G4 8A4 8B4 4C5 | 12D5 12C5 12B4 2A4 | 4G4 4F#4 4E4[ | 4E4] 4r 8D4 8D#4 | " \
  "M2/4 8E4 8F4 4F#4 | 2G4 |"

/* 6/8 in G minor (two flats) without barlines (bars come from the meter):
 * dotted rhythms, sixteenths, rests, a half note that crosses the barline
 * without a tie in the source, an E natural. */
#define TEST_SONG_SIX_EIGHT \
  "M6/8 K-2 T:g 8.G4 16A4 8Bb4 4C5 8D5 4.D5 8r 8Eb5 8D5 8C5 8Bb4 8A4 2G4 8.r 16E4 2F#4 4.G4 4r"

/* Irregular bars and a key change, with flats and a double flat. */
#define TEST_SONG_IRREGULAR \
  "MX K-3 T:c 4C4 4Eb4 4G4 | 8Ab4 8G4 4F4 4Eb4 4D4 2C4 | K2 T:D 4D4 4F#4 8A4 8Bbb4 | 2.A4 |"

/* The non-standard signature [c- e- a-] and long values. */
#define TEST_SONG_ODD_KEY \
  "M4/2 Kn T:f 1F4 2Ab4 2C5 | 0F4 |"

/* The sounding notes of @song in ticks (tied notes merged), computed here
 * independently of the library, as SmfNote-like triples in a GArray of
 * gint64 [on, off, key]. */
static GArray *
test_song_expected_ticks (const MelSong *song, int tpq)
{
  GArray *out = g_array_new (FALSE, FALSE, sizeof (gint64));
  gboolean open = FALSE;

  for (guint i = 0; i < song->events->len; i++)
    {
      const MelEvent *ev = &g_array_index (song->events, MelEvent, i);
      MelRational on = mel_rational_mul (ev->onset, mel_rational_new (tpq, 1));
      MelRational off = mel_rational_mul (mel_rational_add (ev->onset, ev->duration), mel_rational_new (tpq, 1));
      g_assert_cmpint (on.den, ==, 1);
      g_assert_cmpint (off.den, ==, 1);
      if (mel_event_is_rest (ev))
        {
          open = FALSE;
          continue;
        }
      if (open && (ev->tie & MEL_TIE_STOP))
        g_array_index (out, gint64, out->len - 2) = off.num;
      else
        {
          gint64 triple[3] = { on.num, off.num, ev->midi };
          g_array_append_vals (out, triple, 3);
        }
      open = (ev->tie & MEL_TIE_START) != 0;
    }
  return out;
}
