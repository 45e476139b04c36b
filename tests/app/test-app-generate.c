/* test-app-generate.c — Generate writes melodies with a run trained from
 * the UI, shows them as scores, and exports them to valid files.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <string.h>

#include <adwaita.h>

#include "app-test-util.h"
#include "mel-engrave.h"
#include "mel-generate-view.h"
#include "mel-kern.h"
#include "mel-sample-row.h"

static char *data_dir;

static gboolean
generated (gpointer user_data)
{
  MelGenerateView *view = user_data;
  return !mel_generate_view_get_busy (view) && mel_generate_view_get_n_samples (view) > 0;
}

typedef struct
{
  gboolean done;
  GError *error;
} ExportResult;

static void
exported_cb (MelSampleRow *row, const GError *error, ExportResult *result)
{
  result->done = TRUE;
  g_clear_error (&result->error);
  result->error = error != NULL ? g_error_copy (error) : NULL;
}

static gboolean
export_done (gpointer user_data)
{
  return ((ExportResult *) user_data)->done;
}

static void
export_and_check (MelSampleRow *row, const char *dir, const char *extension, const char *magic,
                  gsize magic_offset)
{
  g_autofree char *name = g_strdup_printf ("melody.%s", extension);
  g_autofree char *path = g_build_filename (dir, name, NULL);
  g_autofree char *contents = NULL;
  ExportResult result = { FALSE, NULL };
  gsize length = 0;
  gulong handler;

  handler = g_signal_connect (row, "exported", G_CALLBACK (exported_cb), &result);
  mel_sample_row_export (row, path);
  g_assert_true (app_test_wait_for (export_done, &result, 60));
  g_signal_handler_disconnect (row, handler);
  g_assert_no_error (result.error);
  g_assert_true (g_file_get_contents (path, &contents, &length, NULL));
  g_assert_cmpuint (length, >, magic_offset + strlen (magic));
  g_assert_true (memcmp (contents + magic_offset, magic, strlen (magic)) == 0);
}

static void
test_generate_and_export (void)
{
  MelApplication *app;
  MelWindow *window = app_test_start (&app);
  MelGenerateView *view = MEL_GENERATE_VIEW (mel_window_get_view (window, "generate"));
  g_autoptr(GError) error = NULL;
  g_autofree char *out_dir = NULL;
  g_autofree char *kern_path = NULL;
  g_autoptr(MelSong) reread = NULL;
  MelSampleRow *row;
  MelSong *song;
  MelRun *run;

  gtk_window_present (GTK_WINDOW (window));
  run = app_test_start_tiny_run (window, 20);
  g_assert_true (app_test_wait_for (app_test_run_done, run, 120));
  g_assert_cmpint (mel_run_get_status (run), ==, MEL_RUN_FINISHED);

  mel_window_show_view (window, "generate");
  mel_generate_view_select_run (view, run);
  g_assert_true (mel_generate_view_get_selected_run (view) == run);
  mel_generate_view_set_sampling (view, 1.0, 0, 4, 2);
  /* Fixed, so a failure can be replayed. */
  mel_generate_view_set_random_seed (view, 7);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (view), "generate.run", NULL));
  g_assert_true (app_test_wait_for (generated, view, 60));
  g_assert_cmpuint (mel_generate_view_get_n_samples (view), ==, 2);

  row = mel_generate_view_get_sample (view, 0);
  song = mel_sample_row_get_song (row);
  g_assert_nonnull (song);
  g_assert_cmpuint (song->events->len, >, 0);
  g_assert_cmpuint (song->bars->len, >, 0);
  app_test_spin (0.1); /* draw the scores once */

  out_dir = g_dir_make_tmp ("melodist-export-XXXXXX", &error);
  g_assert_no_error (error);

  /* kern: must read back as the same notes. */
  export_and_check (row, out_dir, "krn", "!!!", 0);
  kern_path = g_build_filename (out_dir, "melody.krn", NULL);
  reread = mel_kern_read_file (kern_path, &error);
  g_assert_no_error (error);
  if (!mel_song_events_equal (reread, song))
    {
      g_autofree char *text = mel_kern_write (song);
      g_printerr ("KERN:\n%s\n", text);
      for (guint i = 0; i < MAX (song->events->len, reread->events->len); i++)
        {
          const MelEvent *a = i < song->events->len ? mel_song_get_event (song, i) : NULL;
          const MelEvent *b = i < reread->events->len ? mel_song_get_event (reread, i) : NULL;
          g_printerr ("%u: %d %ld/%ld %ld/%ld t%d | %d %ld/%ld %ld/%ld t%d\n", i, a ? a->midi : -99,
                      a ? (long) a->onset.num : 0, a ? (long) a->onset.den : 0,
                      a ? (long) a->duration.num : 0, a ? (long) a->duration.den : 0, a ? a->tie : 0,
                      b ? b->midi : -99, b ? (long) b->onset.num : 0, b ? (long) b->onset.den : 0,
                      b ? (long) b->duration.num : 0, b ? (long) b->duration.den : 0, b ? b->tie : 0);
        }
    }
  g_assert_true (mel_song_events_equal (reread, song));

  export_and_check (row, out_dir, "mid", "MThd", 0);
  export_and_check (row, out_dir, "musicxml", "<?xml", 0);
  if (mel_engrave_check_font (NULL))
    {
      export_and_check (row, out_dir, "png", "\x89PNG", 0);
      export_and_check (row, out_dir, "pdf", "%PDF", 0);
    }
  else
    g_test_message ("Noto Music missing: PNG/PDF export not checked");
  if (g_file_test (MEL_DEFAULT_SOUNDFONT, G_FILE_TEST_EXISTS))
    export_and_check (row, out_dir, "wav", "WAVE", 8);
  else
    g_test_message ("no SoundFont: WAV export not checked");

  /* A bad name is an error, not a crash or a partial file. */
  {
    g_autofree char *bad = g_build_filename (out_dir, "melody.unknown", NULL);
    ExportResult result = { FALSE, NULL };
    gulong handler = g_signal_connect (row, "exported", G_CALLBACK (exported_cb), &result);
    mel_sample_row_export (row, bad);
    g_assert_true (app_test_wait_for (export_done, &result, 30));
    g_signal_handler_disconnect (row, handler);
    g_assert_nonnull (result.error);
    g_clear_error (&result.error);
    g_assert_false (g_file_test (bad, G_FILE_TEST_EXISTS));
    /* the error dialog */
    app_test_spin (0.05);
  }

  app_test_remove_tree (out_dir);

  /* Seeded from a corpus song: the melody opens with the song's first bar. */
  {
    MelCorpus *corpus = mel_corpus_store_get_corpus (mel_window_get_corpus_store (window));
    MelSong *seed = g_ptr_array_index (corpus->songs, 0);
    MelSong *sample;

    mel_generate_view_set_seed (view, seed->id, NULL);
    mel_generate_view_set_sampling (view, 0.5, 4, 2, 1);
    g_assert_true (gtk_widget_activate_action (GTK_WIDGET (view), "generate.run", NULL));
    app_test_spin (0.01);
    g_assert_true (app_test_wait_for (generated, view, 60));
    g_assert_cmpuint (mel_generate_view_get_n_samples (view), ==, 1);
    sample = mel_sample_row_get_song (mel_generate_view_get_sample (view, 0));
    g_assert_cmpuint (sample->events->len, >, 0);
    /* Same first interval as the seed (the run normalised keys, so the
     * pitches may be transposed, but the intervals stay). */
    if (mel_song_get_n_notes (seed) >= 2 && mel_song_get_n_notes (sample) >= 2)
      {
        const MelEvent *s0 = mel_song_get_event (seed, 0), *s1 = mel_song_get_event (seed, 1);
        const MelEvent *g0 = mel_song_get_event (sample, 0), *g1 = mel_song_get_event (sample, 1);
        if (!mel_event_is_rest (s0) && !mel_event_is_rest (s1) && !mel_event_is_rest (g0)
            && !mel_event_is_rest (g1))
          g_assert_cmpint (s1->midi - s0->midi, ==, g1->midi - g0->midi);
      }
  }

  /* Typed symbols as the seed. */
  mel_generate_view_set_seed (view, NULL, "67 _ 65 _ 64 _ _ _");
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (view), "generate.run", NULL));
  app_test_spin (0.01);
  g_assert_true (app_test_wait_for (generated, view, 60));
  g_assert_cmpuint (mel_generate_view_get_n_samples (view), ==, 1);
  app_test_stop (app, window);
}

int
main (int argc, char *argv[])
{
  int status;

  data_dir = app_test_isolate ();
  gtk_test_init (&argc, &argv, NULL);
  adw_init ();

  g_test_add_func ("/mel/app/generate/generate-and-export", test_generate_and_export);
  status = g_test_run ();
  app_test_remove_tree (data_dir);
  g_free (data_dir);
  return status;
}
