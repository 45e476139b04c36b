/* test-abc.c — ABC export: the exact text, and abc2midi's reading of it.
 * SPDX-License-Identifier: MIT
 */
#include "mel-abc.h"

#include "mel-test-smf.h"
#include "mel-test-songs.h"

#include <glib/gstdio.h>

static char *
write_abc (const MelSong *song)
{
  g_autoptr (GError) error = NULL;
  char *text = mel_abc_write (song, &error);

  g_assert_no_error (error);
  g_assert_nonnull (text);
  return text;
}

static void
test_text (void)
{
  g_autoptr (MelSong) pickup = test_song_new ("A1", "Pickup tune", TEST_SONG_PICKUP);
  g_autoptr (MelSong) six = test_song_new ("A2", NULL, TEST_SONG_SIX_EIGHT);
  g_autoptr (MelSong) irregular = test_song_new ("A3", "Irregular", TEST_SONG_IRREGULAR);
  g_autoptr (MelSong) odd = test_song_new ("A4", "Odd", TEST_SONG_ODD_KEY);
  g_autofree char *a = write_abc (pickup);
  g_autofree char *b = write_abc (six);
  g_autofree char *c = write_abc (irregular);
  g_autofree char *d = write_abc (odd);

  /* Pickup, beamed eighths, a triplet, a tie over the barline, D# and the
   * F natural / F# against G major, a meter change. */
  g_assert_cmpstr (a, ==,
                   "X:1\nT:Pickup tune\nM:3/4\nL:1/8\nQ:1/4=100\nK:G\n"
                   "D2 | G2 AB c2 | (3dcB A4 | G2 F2 E2- | E2 z2 D^D |\n"
                   "[M:2/4] E=F ^F2 | G4 |]\n");
  /* 6/8 in G minor: dotted rhythms, beams by dotted quarter, the half
   * note split and tied at the barline (with its sharp repeated). */
  g_assert_cmpstr (b, ==,
                   "X:1\nT:A2\nM:6/8\nL:1/8\nQ:1/4=99\nK:Gm\n"
                   "G3/2A/2B c2 d | d3 z ed | cBA G3- | G z3/2 =E/2 ^F3- |\n"
                   "^F G3 z2 |]\n");
  /* No meter, C minor, an inline key change, a double flat. */
  g_assert_cmpstr (c, ==,
                   "X:1\nT:Irregular\nM:none\nL:1/8\nQ:1/4=100\nK:Cm\n"
                   "C2 E2 G2 | AG F2 E2 D2 C4 | [K:D] D2 F2 A__B | A6 |]\n");
  /* A non-standard signature, whole notes and a breve. */
  g_assert_cmpstr (d, ==,
                   "X:1\nT:Odd\nM:4/2\nL:1/8\nQ:1/4=160\nK:C exp _c _e _a\n"
                   "F8 A4 =c4 | F16 |]\n");
}

static void
test_modes_and_uneven_triplets (void)
{
  /* D dorian (no sharps, tonic d); a triplet group of quarter + eighth. */
  g_autoptr (MelSong) dorian = test_song_new ("A5", "Dorian", "M2/4 K0 T:d 6D4 12E4 4F4 | 2D4 |");
  g_autofree char *text = write_abc (dorian);

  g_assert_cmpstr (text, ==, "X:1\nT:Dorian\nM:2/4\nL:1/8\nQ:1/4=100\nK:Ddor\n(3:2:2D2 E F2 | D4 |]\n");
}

static void
test_file_and_errors (void)
{
  g_autoptr (MelSong) song = test_song_new ("A1", "Pickup tune", TEST_SONG_PICKUP);
  g_autoptr (MelSong) empty = mel_song_new ("E");
  g_autofree char *dir = g_dir_make_tmp ("mel-abc-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "t.abc", NULL);
  g_autofree char *bad = g_build_filename (dir, "no", "t.abc", NULL);
  g_autofree char *contents = NULL;
  g_autofree char *text = write_abc (song);
  g_autoptr (GError) error = NULL;

  g_assert_true (mel_abc_write_file (song, path, &error));
  g_assert_no_error (error);
  g_assert_true (g_file_get_contents (path, &contents, NULL, NULL));
  g_assert_cmpstr (contents, ==, text);
  g_assert_false (mel_abc_write_file (song, bad, &error));
  g_assert_error (error, MEL_EXPORT_ERROR, MEL_EXPORT_ERROR_IO);
  g_clear_error (&error);
  g_assert_null (mel_abc_write (empty, &error));
  g_assert_error (error, MEL_EXPORT_ERROR, MEL_EXPORT_ERROR_EMPTY);
  g_unlink (path);
  g_assert_cmpint (g_rmdir (dir), ==, 0);
}

/* abc2midi (package abcmidi) plays exactly our notes. */
static void
test_abc2midi (void)
{
  static const char *const songs[] = { TEST_SONG_PICKUP, TEST_SONG_SIX_EIGHT, TEST_SONG_IRREGULAR,
                                       TEST_SONG_ODD_KEY, "M2/4 K0 T:d 6D4 12E4 4F4 | 2D4 |" };
  g_autofree char *abc2midi = g_find_program_in_path ("abc2midi");
  g_autofree char *dir = NULL;

  if (abc2midi == NULL)
    {
      g_test_skip ("abc2midi is not installed (apt install abcmidi)");
      return;
    }
  dir = g_dir_make_tmp ("mel-abc-XXXXXX", NULL);
  for (guint s = 0; s < G_N_ELEMENTS (songs); s++)
    {
      g_autoptr (MelSong) song = test_song_new ("A", "abc2midi", songs[s]);
      g_autofree char *in = g_build_filename (dir, "t.abc", NULL);
      g_autofree char *out = g_build_filename (dir, "t.mid", NULL);
      g_autofree char *err = NULL;
      g_autoptr (GError) error = NULL;
      int status = 0;

      g_assert_true (mel_abc_write_file (song, in, &error));
      const char *argv[] = { abc2midi, in, "-o", out, NULL };
      g_assert_true (g_spawn_sync (dir, (char **) argv, NULL, G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL, NULL, &err,
                                   &status, &error));
      g_assert_no_error (error);
      g_assert_true (g_spawn_check_wait_status (status, NULL));
      g_autoptr (Smf) smf = smf_read_file (out);
      g_assert_nonnull (smf);
      g_autoptr (GArray) expected = test_song_expected_ticks (song, smf->division);
      g_assert_cmpuint (smf->notes->len * 3, ==, expected->len);
      for (guint i = 0; i < smf->notes->len; i++)
        {
          const SmfNote *n = &g_array_index (smf->notes, SmfNote, i);
          /* abc2midi starts each note one tick late and ends it one early. */
          g_assert_cmpint (ABS (n->on - g_array_index (expected, gint64, 3 * i)), <=, 1);
          g_assert_cmpint (ABS (n->off - g_array_index (expected, gint64, 3 * i + 1)), <=, 1);
          g_assert_cmpint (n->key, ==, g_array_index (expected, gint64, 3 * i + 2));
        }
      g_unlink (in);
      g_unlink (out);
    }
  g_rmdir (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/mel/abc/text", test_text);
  g_test_add_func ("/mel/abc/modes-and-uneven-triplets", test_modes_and_uneven_triplets);
  g_test_add_func ("/mel/abc/file-and-errors", test_file_and_errors);
  g_test_add_func ("/mel/abc/abc2midi", test_abc2midi);
  return g_test_run ();
}
