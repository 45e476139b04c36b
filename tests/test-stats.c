/* test-stats.c — melody statistics on hand-made melodies: exact
 * histograms, KL and overlap values.
 *
 * SPDX-License-Identifier: MIT
 */
#include <math.h>

#include "mel-stats.h"
#include "mel-test-songs.h"

/* C D E C | G C: six notes in C major, ending on the tonic. */
#define SONG_A "M4/4 K0 T:C 4C4 4D4 4E4 4C4 | 2G4 2C4 |"
/* C C♯ D: one note in three outside the scale, ending on D. */
#define SONG_B "M4/4 K0 T:C 4C4 4C#4 2D4 |"

static void
test_histograms (void)
{
  g_autoptr(MelSong) a = test_song_new ("A", NULL, SONG_A);
  MelMelodyStats s;
  double (*c)[MEL_STAT_MAX_BINS] = s.counts;

  mel_melody_stats_init (&s);
  mel_melody_stats_add_song (&s, a);
  g_assert_cmpuint (s.n_songs, ==, 1);
  g_assert_cmpuint (s.n_notes, ==, 6);
  g_assert_cmpfloat (c[MEL_STAT_PITCH_CLASS][0], ==, 3);
  g_assert_cmpfloat (c[MEL_STAT_PITCH_CLASS][2], ==, 1);
  g_assert_cmpfloat (c[MEL_STAT_PITCH_CLASS][4], ==, 1);
  g_assert_cmpfloat (c[MEL_STAT_PITCH_CLASS][7], ==, 1);
  g_assert_cmpfloat (c[MEL_STAT_PITCH_CLASS][1], ==, 0);
  /* Intervals +2 +2 −4 +7 −7 (bin = interval + 12). */
  g_assert_cmpfloat (c[MEL_STAT_INTERVAL][14], ==, 2);
  g_assert_cmpfloat (c[MEL_STAT_INTERVAL][8], ==, 1);
  g_assert_cmpfloat (c[MEL_STAT_INTERVAL][19], ==, 1);
  g_assert_cmpfloat (c[MEL_STAT_INTERVAL][5], ==, 1);
  /* Durations: four quarters (4 sixteenths, bin 3), two halves (8, bin 5). */
  g_assert_cmpfloat (c[MEL_STAT_DURATION][3], ==, 4);
  g_assert_cmpfloat (c[MEL_STAT_DURATION][5], ==, 2);
  /* Bars of 4 and 2 notes; range 7; nothing outside C major; tonic ending. */
  g_assert_cmpfloat (c[MEL_STAT_NOTE_DENSITY][4], ==, 1);
  g_assert_cmpfloat (c[MEL_STAT_NOTE_DENSITY][2], ==, 1);
  g_assert_cmpfloat (c[MEL_STAT_PITCH_RANGE][7], ==, 1);
  g_assert_cmpfloat (c[MEL_STAT_OUT_OF_SCALE][0], ==, 1);
  g_assert_cmpfloat (c[MEL_STAT_TONIC_ENDING][0], ==, 1);
  g_assert_cmpfloat_with_epsilon (mel_melody_stats_mean_density (&s), 3.0, 1e-12);
  g_assert_cmpfloat_with_epsilon (mel_melody_stats_tonic_ending_share (&s), 1.0, 1e-12);
}

static void
test_ties_rests_and_scale (void)
{
  /* C, then C tied over the bar line (8 + 4 sixteenths), D, a rest. */
  g_autoptr(MelSong) song = test_song_new ("T", NULL, "M4/4 K0 T:C 2C4 2C4[ | 4C4] 4D4 2r |");
  g_autoptr(MelSong) b = test_song_new ("B", NULL, SONG_B);
  MelMelodyStats s;
  MelKey a_minor = { { 0, 1 }, 'A', 0, MEL_MODE_MINOR };

  mel_melody_stats_init (&s);
  mel_melody_stats_add_song (&s, song);
  g_assert_cmpuint (s.n_notes, ==, 3);
  g_assert_cmpfloat (s.counts[MEL_STAT_DURATION][5], ==, 1); /* 8 */
  g_assert_cmpfloat (s.counts[MEL_STAT_DURATION][6], ==, 1); /* 12 */
  g_assert_cmpfloat (s.counts[MEL_STAT_DURATION][3], ==, 1); /* 4 */
  g_assert_cmpfloat (s.counts[MEL_STAT_INTERVAL][12], ==, 1);
  g_assert_cmpfloat (s.counts[MEL_STAT_INTERVAL][14], ==, 1);

  mel_melody_stats_init (&s);
  mel_melody_stats_add_song (&s, b);
  g_assert_cmpuint (s.n_out_of_scale, ==, 1);
  g_assert_cmpfloat (s.counts[MEL_STAT_OUT_OF_SCALE][3], ==, 1); /* 1/3 → 30–40 % */
  g_assert_cmpfloat (s.counts[MEL_STAT_TONIC_ENDING][1], ==, 1);

  /* Minor: natural minor plus the raised seventh. */
  g_assert_true (mel_key_contains_pitch_class (&a_minor, 7));  /* G */
  g_assert_true (mel_key_contains_pitch_class (&a_minor, 8));  /* G♯ */
  g_assert_false (mel_key_contains_pitch_class (&a_minor, 6)); /* F♯ */
  g_assert_false (mel_key_contains_pitch_class (&a_minor, 1)); /* C♯ */
}

static void
test_distances (void)
{
  g_autoptr(MelSong) a = test_song_new ("A", NULL, SONG_A);
  g_autoptr(MelSong) b = test_song_new ("B", NULL, SONG_B);
  MelMelodyStats sa, sb, empty;
  MelStatDistance d;

  mel_melody_stats_init (&sa);
  mel_melody_stats_init (&sb);
  mel_melody_stats_init (&empty);
  mel_melody_stats_add_song (&sa, a);
  mel_melody_stats_add_song (&sb, b);

  /* Tonic ending: [1, 0] against [0, 1]: no overlap; smoothed by 0.5 the
   * distributions are (3/4, 1/4) and (1/4, 3/4): KL = ½ log2 3. */
  d = mel_melody_stats_distance (&sa, &sb, MEL_STAT_TONIC_ENDING, 0.5);
  g_assert_cmpfloat_with_epsilon (d.overlap, 0.0, 1e-12);
  g_assert_cmpfloat_with_epsilon (d.kl, 0.5 * log2 (3.0), 1e-12);
  /* Pitch classes: A = (C ½, D ⅙, E ⅙, G ⅙), B = (C ⅓, C♯ ⅓, D ⅓): overlap ⅓ + ⅙. */
  d = mel_melody_stats_distance (&sa, &sb, MEL_STAT_PITCH_CLASS, 0.5);
  g_assert_cmpfloat_with_epsilon (d.overlap, 0.5, 1e-12);
  g_assert_cmpfloat (d.kl, >, 0.0);
  /* A set against itself: overlap 1, KL 0. */
  d = mel_melody_stats_distance (&sa, &sa, MEL_STAT_INTERVAL, 0.5);
  g_assert_cmpfloat_with_epsilon (d.overlap, 1.0, 1e-12);
  g_assert_cmpfloat_with_epsilon (d.kl, 0.0, 1e-12);
  /* Without smoothing a missing bin makes KL infinite. */
  d = mel_melody_stats_distance (&sa, &sb, MEL_STAT_TONIC_ENDING, 0.0);
  g_assert_true (isinf (d.kl));
  /* Empty sets have no distance. */
  d = mel_melody_stats_distance (&sa, &empty, MEL_STAT_PITCH_CLASS, 0.5);
  g_assert_true (isnan (d.kl) && isnan (d.overlap));
  {
    double p[MEL_STAT_MAX_BINS];

    g_assert_true (mel_melody_stats_get_distribution (&sb, MEL_STAT_PITCH_RANGE, 1.0, p));
    /* Range 2, one song, 26 bins each +1: (1 + 1) / (1 + 26). */
    g_assert_cmpfloat_with_epsilon (p[2], 2.0 / 27, 1e-12);
    g_assert_cmpfloat_with_epsilon (p[0], 1.0 / 27, 1e-12);
  }
}

static void
test_labels (void)
{
  for (guint k = 0; k < MEL_N_STATS; k++)
    {
      g_assert_nonnull (mel_stat_kind_to_string (k));
      g_assert_cmpuint (mel_stat_n_bins (k), <=, MEL_STAT_MAX_BINS);
      for (guint b = 0; b < mel_stat_n_bins (k); b++)
        {
          g_autofree char *label = mel_stat_bin_label (k, b);

          g_assert_nonnull (label);
        }
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  (void) test_song_expected_ticks; /* the shared helper header has more than we use */
  g_test_add_func ("/mel/stats/histograms", test_histograms);
  g_test_add_func ("/mel/stats/ties-rests-scale", test_ties_rests_and_scale);
  g_test_add_func ("/mel/stats/distances", test_distances);
  g_test_add_func ("/mel/stats/labels", test_labels);
  return g_test_run ();
}
