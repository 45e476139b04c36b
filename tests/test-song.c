/* test-song.c — the rational time and song model basics.
 * SPDX-License-Identifier: MIT
 */
#include "mel-song.h"

static void
test_rational_arithmetic (void)
{
  MelRational dotted_eighth = mel_rational_new (3, 4);
  MelRational triplet_eighth = mel_rational_new (1, 3);
  MelRational sum = mel_rational_add (dotted_eighth, triplet_eighth);
  g_autofree char *text = mel_rational_to_string (sum);

  g_assert_cmpstr (text, ==, "13/12");
  g_assert_true (mel_rational_equal (mel_rational_new (6, 8), dotted_eighth));
  g_assert_true (mel_rational_equal (mel_rational_new (-2, -4), mel_rational_new (1, 2)));
  g_assert_cmpint (mel_rational_compare (triplet_eighth, dotted_eighth), <, 0);
  g_assert_cmpint (mel_rational_floor (mel_rational_new (-1, 3)), ==, -1);
  g_assert_cmpint (mel_rational_floor (mel_rational_new (7, 3)), ==, 2);
  g_assert_true (mel_rational_is_multiple_of (mel_rational_new (3, 2), mel_rational_new (1, 4)));
  g_assert_false (mel_rational_is_multiple_of (triplet_eighth, mel_rational_new (1, 4)));
  g_assert_true (mel_rational_equal (mel_rational_div (mel_rational_new (3, 2), mel_rational_new (1, 4)),
                                     mel_rational_new (6, 1)));
  g_assert_true (mel_rational_is_zero (mel_rational_sub (sum, sum)));
}

static void
test_pitch_midi (void)
{
  MelPitch c4 = { 'C', 0, 4 };
  MelPitch bflat3 = { 'B', -1, 3 };
  MelPitch bsharp3 = { 'B', 1, 3 };

  g_assert_cmpint (mel_pitch_to_midi (c4), ==, 60);
  g_assert_cmpint (mel_pitch_to_midi (bflat3), ==, 58);
  g_assert_cmpint (mel_pitch_to_midi (bsharp3), ==, 60);
  for (int midi = 21; midi <= 108; midi++)
    {
      g_assert_cmpint (mel_pitch_to_midi (mel_pitch_from_midi (midi, TRUE)), ==, midi);
      g_assert_cmpint (mel_pitch_to_midi (mel_pitch_from_midi (midi, FALSE)), ==, midi);
    }
  MelPitch fs = mel_pitch_from_midi (66, TRUE);
  g_assert_cmpint (fs.step, ==, 'F');
  g_assert_cmpint (fs.alter, ==, 1);
  MelPitch gb = mel_pitch_from_midi (66, FALSE);
  g_assert_cmpint (gb.step, ==, 'G');
  g_assert_cmpint (gb.alter, ==, -1);
}

static void
test_key_signature (void)
{
  MelKeySignature sig;
  MelKey g_minor = { MEL_RATIONAL_ZERO, 'G', 0, MEL_MODE_MINOR };
  MelKey b_flat = { MEL_RATIONAL_ZERO, 'B', -1, MEL_MODE_MAJOR };

  mel_key_signature_init_fifths (&sig, 2);
  g_assert_cmpint (sig.alters[3], ==, 1); /* F# */
  g_assert_cmpint (sig.alters[0], ==, 1); /* C# */
  g_assert_cmpint (sig.alters[4], ==, 0);
  mel_key_signature_init_fifths (&sig, -3);
  g_assert_cmpint (sig.alters[6], ==, -1); /* Bb */
  g_assert_cmpint (sig.alters[2], ==, -1); /* Eb */
  g_assert_cmpint (sig.alters[5], ==, -1); /* Ab */
  g_assert_cmpint (sig.alters[1], ==, 0);
  g_assert_cmpint (mel_key_tonic_pitch_class (&g_minor), ==, 7);
  g_assert_cmpint (mel_key_tonic_pitch_class (&b_flat), ==, 10);
}

static MelSong *
make_song (void)
{
  MelSong *song = mel_song_new ("T1");
  MelMeter three_four = { MEL_RATIONAL_ZERO, 3, 4, FALSE };
  MelMeter two_four = { mel_rational_new (3, 1), 2, 4, FALSE };
  MelEvent ev = { 0 };

  mel_song_set_reference (song, "OTL", "Test");
  mel_song_set_reference (song, "SCT", "X0001");
  mel_song_add_meter (song, &three_four);
  mel_song_add_meter (song, &two_four);
  for (int i = 0; i < 4; i++)
    {
      ev.onset = mel_rational_new (i, 1);
      ev.duration = mel_rational_new (1, 1);
      ev.midi = i == 2 ? -1 : 60 + i;
      if (ev.midi >= 0)
        ev.pitch = mel_pitch_from_midi (ev.midi, TRUE);
      mel_song_add_event (song, &ev);
    }
  return song;
}

static void
test_song_model (void)
{
  g_autoptr (MelSong) song = make_song ();
  g_autoptr (MelSong) copy = mel_song_copy (song);
  int lo = 0, hi = 0;

  g_assert_cmpstr (song->id, ==, "X0001");
  g_assert_cmpstr (song->title, ==, "Test");
  g_assert_cmpuint (mel_song_get_n_events (song), ==, 4);
  g_assert_cmpuint (mel_song_get_n_notes (song), ==, 3);
  g_assert_true (mel_rational_equal (song->duration, mel_rational_new (4, 1)));
  g_assert_true (mel_song_get_range (song, &lo, &hi));
  g_assert_cmpint (lo, ==, 60);
  g_assert_cmpint (hi, ==, 63);
  g_assert_cmpint (mel_song_get_meter_at (song, mel_rational_new (2, 1))->numerator, ==, 3);
  g_assert_cmpint (mel_song_get_meter_at (song, mel_rational_new (3, 1))->numerator, ==, 2);
  g_assert_true (mel_rational_equal (mel_meter_bar_length (mel_song_get_meter_at (song, MEL_RATIONAL_ZERO)),
                                     mel_rational_new (3, 1)));
  g_assert_null (mel_song_get_key_at (song, MEL_RATIONAL_ZERO));
  g_assert_true (mel_song_events_equal (song, copy));
  g_assert_cmpstr (copy->title, ==, "Test");
  g_array_index (copy->events, MelEvent, 3).midi = 70;
  g_assert_false (mel_song_events_equal (song, copy));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/mel/song/rational", test_rational_arithmetic);
  g_test_add_func ("/mel/song/pitch-midi", test_pitch_midi);
  g_test_add_func ("/mel/song/key-signature", test_key_signature);
  g_test_add_func ("/mel/song/model", test_song_model);
  return g_test_run ();
}
