/* test-cli-export.c — `melodist-cli export` and `melodist-cli render` run as
 * a user would, on our own fixtures in tests/fixtures/sound/.
 *
 * SPDX-License-Identifier: MIT
 */
#include "mel-corpus.h"
#include "mel-kern.h"
#include "mel-synth.h"

#include "mel-test-smf.h"

#include <glib/gstdio.h>
#include <sndfile.h>
#include <string.h>
#include <sys/wait.h>

static char *
fixture (const char *name)
{
  const char *src = g_getenv ("MELODIST_SOURCE_DIR");
  g_assert_nonnull (src);
  return g_build_filename (src, "tests", "fixtures", "sound", name, NULL);
}

/* Runs melodist-cli with @args; returns the exit status, stderr in @err. */
static int
run_cli (const char *const *args, char **err)
{
  const char *build = g_getenv ("MELODIST_BUILD_DIR");
  g_autofree char *cli = NULL;
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  g_autoptr (GError) error = NULL;
  int status = 0;

  g_assert_nonnull (build);
  cli = g_build_filename (build, "src", "cli", "melodist-cli", NULL);
  g_ptr_array_add (argv, cli);
  for (guint i = 0; args[i] != NULL; i++)
    g_ptr_array_add (argv, (gpointer) args[i]);
  g_ptr_array_add (argv, NULL);
  g_assert_true (g_spawn_sync (NULL, (char **) argv->pdata, NULL, G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL, NULL,
                               err, &status, &error));
  g_assert_no_error (error);
  return g_spawn_check_wait_status (status, NULL) ? 0 : (WIFEXITED (status) ? WEXITSTATUS (status) : -1);
}

static void
test_export_formats (void)
{
  g_autofree char *waltz = fixture ("pickup-waltz.krn");
  g_autofree char *dir = g_dir_make_tmp ("mel-cli-export-XXXXXX", NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (MelSong) original = mel_kern_read_file (waltz, &error);
  static const char *const exts[] = { "mid", "musicxml", "mxl", "krn", "abc" };

  g_assert_no_error (error);
  for (guint i = 0; i < G_N_ELEMENTS (exts); i++)
    {
      g_autofree char *out = g_strdup_printf ("%s/waltz.%s", dir, exts[i]);
      g_autofree char *err = NULL;
      g_autofree char *contents = NULL;
      gsize length = 0;
      const char *args[] = { "export", waltz, "-o", out, NULL };

      g_assert_cmpint (run_cli (args, &err), ==, 0);
      g_assert_cmpstr (err, ==, "");
      g_assert_true (g_file_get_contents (out, &contents, &length, NULL));
      g_assert_cmpuint (length, >, 50);
      if (g_str_equal (exts[i], "mid"))
        {
          g_autoptr (Smf) smf = smf_parse ((const guint8 *) contents, length);
          g_assert_nonnull (smf);
          /* 20 events, one tie and three rests-free notes merged: 18 notes,
           * the tied E4 from 9 to 11 quarters. */
          g_assert_cmpuint (smf->notes->len, ==, 18);
          g_assert_cmpint (g_array_index (smf->notes, SmfNote, 11).on, ==, 9 * 480);
          g_assert_cmpint (g_array_index (smf->notes, SmfNote, 11).off, ==, 11 * 480);
        }
      else if (g_str_equal (exts[i], "krn"))
        {
          g_autoptr (MelSong) back = mel_kern_read_file (out, &error);
          g_assert_no_error (error);
          g_assert_true (mel_song_events_equal (original, back));
        }
      else if (g_str_equal (exts[i], "abc"))
        g_assert_true (g_str_has_prefix (contents, "X:1\nT:Sound test waltz\nM:3/4\n"));
      else if (g_str_equal (exts[i], "musicxml"))
        g_assert_nonnull (strstr (contents, "<score-partwise version=\"4.0\">"));
      else
        g_assert_cmpmem (contents, 4, "PK\x03\x04", 4);
      g_unlink (out);
    }

  /* --tempo and --program reach the MIDI file. */
  g_autofree char *mid = g_strdup_printf ("%s/fast.mid", dir);
  g_autofree char *err = NULL;
  const char *args[] = { "export", waltz, "-o", mid, "--tempo", "120", "--program", "0", NULL };
  g_assert_cmpint (run_cli (args, &err), ==, 0);
  g_autoptr (Smf) smf = smf_read_file (mid);
  g_assert_nonnull (smf);
  g_assert_cmpint (g_array_index (smf->programs, int, 0), ==, 0);
  for (guint i = 0; i < smf->metas->len; i++)
    {
      const SmfMeta *m = &g_array_index (smf->metas, SmfMeta, i);
      if (m->type == 0x51)
        g_assert_cmpmem (g_bytes_get_data (m->data, NULL), 3, "\x07\xA1\x20", 3);
    }
  g_unlink (mid);
  g_assert_cmpint (g_rmdir (dir), ==, 0);
}

static void
test_export_errors (void)
{
  g_autofree char *waltz = fixture ("pickup-waltz.krn");
  g_autofree char *dir = g_dir_make_tmp ("mel-cli-export-XXXXXX", NULL);
  g_autofree char *bad_ext = g_build_filename (dir, "x.docx", NULL);
  g_autofree char *bad_dir = g_build_filename (dir, "missing", "x.mid", NULL);
  g_autofree char *err = NULL;

  const char *a1[] = { "export", waltz, "-o", bad_ext, NULL };
  g_assert_cmpint (run_cli (a1, &err), ==, 1);
  g_assert_nonnull (strstr (err, "Unknown file type"));
  g_clear_pointer (&err, g_free);
  const char *a2[] = { "export", waltz, "-o", bad_dir, NULL };
  g_assert_cmpint (run_cli (a2, &err), ==, 1);
  g_assert_nonnull (strstr (err, "missing"));
  g_clear_pointer (&err, g_free);
  const char *a3[] = { "export", "NO-SUCH-SONG-ID", "-o", bad_ext, NULL };
  g_assert_cmpint (run_cli (a3, &err), ==, 1);
  g_assert_nonnull (strstr (err, "NO-SUCH-SONG-ID"));
  g_clear_pointer (&err, g_free);
  const char *a4[] = { "export", waltz, NULL };
  g_assert_cmpint (run_cli (a4, &err), !=, 0);
  g_clear_pointer (&err, g_free);
  const char *a5[] = { "render", waltz, "-o", bad_ext, "--format", "12", NULL };
  g_assert_cmpint (run_cli (a5, &err), ==, 1);
  g_assert_nonnull (strstr (err, "--format"));
  /* Nothing was left behind. */
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  g_assert_null (g_dir_read_name (d));
  g_rmdir (dir);
}

/* A song id from the embedded corpus works as IN. */
static void
test_export_corpus_id (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MelCorpus) corpus = mel_corpus_load_embedded (&error);
  g_autofree char *dir = NULL, *out = NULL, *err = NULL;

  if (corpus == NULL || corpus->songs->len == 0)
    {
      g_test_skip ("the embedded corpus is empty or unavailable");
      return;
    }
  const MelSong *song = g_ptr_array_index (corpus->songs, 0);
  dir = g_dir_make_tmp ("mel-cli-export-XXXXXX", NULL);
  out = g_build_filename (dir, "song.mid", NULL);
  const char *args[] = { "export", song->id, "-o", out, NULL };
  g_assert_cmpint (run_cli (args, &err), ==, 0);
  g_autoptr (Smf) smf = smf_read_file (out);
  g_assert_nonnull (smf);
  g_assert_cmpuint (smf->notes->len, >, 0);
  g_unlink (out);
  g_rmdir (dir);
}

static void
test_render (void)
{
  g_autofree char *jig = fixture ("jig-minor.krn");
  g_autofree char *soundfont = mel_synth_find_soundfont (NULL, NULL);
  g_autofree char *dir = NULL, *wav = NULL, *flac = NULL, *err = NULL;
  SF_INFO info = { 0 };
  SNDFILE *f;

  if (soundfont == NULL)
    {
      g_test_skip ("no SoundFont installed (apt install timgm6mb-soundfont, or set MELODIST_SOUNDFONT)");
      return;
    }
  dir = g_dir_make_tmp ("mel-cli-render-XXXXXX", NULL);
  wav = g_build_filename (dir, "jig.wav", NULL);
  flac = g_build_filename (dir, "jig.flac", NULL);

  /* 12 quarters at 90 per minute = 8 s, a count-in bar of 2 s, 0.5 s tail. */
  const char *args[] = { "render", jig, "-o", wav, "--tempo", "90", "--rate", "22050", "--format", "24", "--mono",
                         "--count-in", "--fade", "0.5", "--tail", "0.5", NULL };
  g_assert_cmpint (run_cli (args, &err), ==, 0);
  g_assert_cmpstr (err, ==, "");
  f = sf_open (wav, SFM_READ, &info);
  g_assert_nonnull (f);
  sf_close (f);
  g_assert_cmpint (info.samplerate, ==, 22050);
  g_assert_cmpint (info.channels, ==, 1);
  g_assert_cmpint (info.format, ==, SF_FORMAT_WAV | SF_FORMAT_PCM_24);
  g_assert_cmpint (info.frames, ==, (sf_count_t) (10.5 * 22050));

  g_clear_pointer (&err, g_free);
  const char *args2[] = { "render", jig, "-o", flac, "--soundfont", soundfont, NULL };
  g_assert_cmpint (run_cli (args2, &err), ==, 0);
  memset (&info, 0, sizeof info);
  f = sf_open (flac, SFM_READ, &info);
  g_assert_nonnull (f);
  sf_close (f);
  g_assert_cmpint (info.format & SF_FORMAT_TYPEMASK, ==, SF_FORMAT_FLAC);
  g_assert_cmpint (info.channels, ==, 2);
  g_assert_cmpint (info.samplerate, ==, 44100);

  g_clear_pointer (&err, g_free);
  const char *args3[] = { "render", jig, "-o", wav, "--soundfont", "/nonexistent.sf2", NULL };
  g_assert_cmpint (run_cli (args3, &err), ==, 1);
  g_assert_nonnull (strstr (err, "/nonexistent.sf2"));
  g_unlink (wav);
  g_unlink (flac);
  g_assert_cmpint (g_rmdir (dir), ==, 0);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/mel/cli-export/formats", test_export_formats);
  g_test_add_func ("/mel/cli-export/errors", test_export_errors);
  g_test_add_func ("/mel/cli-export/corpus-id", test_export_corpus_id);
  g_test_add_func ("/mel/cli-export/render", test_render);
  return g_test_run ();
}
