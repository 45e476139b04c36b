/* test-memorise.c — the memorisation search finds a planted transposed
 * copy of a known length, and no false one.
 *
 * SPDX-License-Identifier: MIT
 */
#include "mel-memorise.h"
#include "mel-test-songs.h"

/* Seven bars of our own; bars 2–5 are copied below. */
#define TRAINING                                                                   \
  "M4/4 K0 T:C 4C4 4D4 4E4 4F4 | 4G4 4A4 4G4 4F4 | 4E4 4F4 4G4 4E4 | 4D4 4E4 4F4 4D4 | " \
  "4C4 4E4 4G4 4C5 | 4B4 4G4 4E4 4D4 | 2C4 2C4 |"
#define OTHER "M3/4 K0 T:C 2C4 4E4 | 2.G4 | 4A4 4G4 4F4 | 2.E4 |"

/* Bars 2–5 a fourth higher (16 notes), between leaps found nowhere. */
#define PLANTED                                                                  \
  "M4/4 K0 T:C 4C2 4C6 4C2 4C6 | 4C5 4D5 4C5 4Bb4 | 4A4 4Bb4 4C5 4A4 | 4G4 4A4 4Bb4 4G4 | " \
  "4F4 4A4 4C5 4F5 | 4C2 4C6 4C2 4C6 |"

static GPtrArray *
training (void)
{
  GPtrArray *songs = g_ptr_array_new_with_free_func ((GDestroyNotify) mel_song_unref);

  g_ptr_array_add (songs, test_song_new ("OTHER", NULL, OTHER));
  g_ptr_array_add (songs, test_song_new ("TRAIN", NULL, TRAINING));
  return songs;
}

static void
test_planted_copy (void)
{
  g_autoptr(GPtrArray) songs = training ();
  g_autoptr(MelMemoryIndex) index = mel_memory_index_new (songs);
  g_autoptr(MelSong) melody = test_song_new ("GEN", NULL, PLANTED);
  MelMemoryMatch match;

  g_assert_cmpuint (mel_memory_index_get_n_songs (index), ==, 2);
  g_assert_true (mel_memory_index_find (index, melody, 4.0, &match));
  g_assert_true (match.copied);
  g_assert_cmpuint (match.n_notes, ==, 16);
  g_assert_cmpfloat_with_epsilon (match.n_bars, 4.0, 1e-9);
  g_assert_cmpuint (match.max_notes, ==, 16);
  g_assert_cmpint (match.song_index, ==, 1);
  g_assert_cmpstr (match.song_id, ==, "TRAIN");
  g_assert_cmpuint (match.melody_note, ==, 4);
  g_assert_cmpuint (match.song_note, ==, 4);
  /* A higher threshold does not flag it. */
  g_assert_false (mel_memory_index_find (index, melody, 4.5, &match));
  g_assert_cmpuint (match.n_notes, ==, 16);
}

static void
test_rhythm_matters (void)
{
  g_autoptr(GPtrArray) songs = training ();
  g_autoptr(MelMemoryIndex) index = mel_memory_index_new (songs);
  /* The same pitches as bars 2–5, but in eighths: not a copy. */
  g_autoptr(MelSong) melody = test_song_new ("GEN", NULL,
                                             "M4/4 K0 T:C 8G4 8A4 8G4 8F4 8E4 8F4 8G4 8E4 | "
                                             "8D4 8E4 8F4 8D4 8C4 8E4 8G4 8C5 |");
  MelMemoryMatch match;

  g_assert_false (mel_memory_index_find (index, melody, 4.0, &match));
  g_assert_cmpfloat (match.n_bars, <, 1.0);
}

static void
test_no_false_copy (void)
{
  g_autoptr(GPtrArray) songs = training ();
  g_autoptr(MelMemoryIndex) index = mel_memory_index_new (songs);
  /* Our own tune: shares at most a step or two with the training songs. */
  g_autoptr(MelSong) melody = test_song_new ("GEN", NULL,
                                             "M4/4 K0 T:C 4E4 4G4 2C5 | 4A4 8F4 8A4 2G4 | 4D5 4B4 4G4 4D4 | 1C4 |");
  g_autoptr(MelSong) empty = mel_song_new ("EMPTY");
  MelMemoryMatch match;

  g_assert_false (mel_memory_index_find (index, melody, 4.0, &match));
  g_assert_cmpuint (match.max_notes, <=, 3);
  g_assert_cmpfloat (match.n_bars, <, 2.0);
  g_assert_false (mel_memory_index_find (index, empty, 4.0, &match));
  g_assert_cmpuint (match.n_notes, ==, 0);
  g_assert_cmpint (match.song_index, ==, -1);
  g_assert_null (match.song_id);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  (void) test_song_expected_ticks; /* the shared helper header has more than we use */
  g_test_add_func ("/mel/memorise/planted-copy", test_planted_copy);
  g_test_add_func ("/mel/memorise/rhythm-matters", test_rhythm_matters);
  g_test_add_func ("/mel/memorise/no-false-copy", test_no_false_copy);
  return g_test_run ();
}
