/* test-app-compare.c — the Compare view measures two tiny runs trained
 * from the UI and the n-gram baseline on the same held-out songs, fills
 * its table, links a corpus song, and exports the HTML report.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include <adwaita.h>

#include "app-test-util.h"
#include "mel-compare-view.h"
#include "mel-song-item.h"

static char *data_dir;

static gboolean
compared (gpointer user_data)
{
  MelCompareView *view = user_data;
  return !mel_compare_view_get_busy (view) && mel_compare_view_get_comparison (view) != NULL;
}

typedef struct
{
  gboolean done;
  GError *error;
} ExportResult;

static void
exported_cb (MelCompareView *view, const GError *error, ExportResult *result)
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
test_compare_two_runs (void)
{
  MelApplication *app;
  MelWindow *window = app_test_start (&app);
  MelCompareView *view = MEL_COMPARE_VIEW (mel_window_get_view (window, "compare"));
  const MelComparison *comparison;
  g_autoptr(GError) error = NULL;
  g_autofree char *out_dir = NULL, *path = NULL, *html = NULL;
  ExportResult result = { FALSE, NULL };
  MelCorpus *corpus;
  MelSongItem *selected;
  MelRun *a, *b;
  const char *id;
  gulong handler;

  gtk_window_present (GTK_WINDOW (window));
  a = app_test_start_tiny_run (window, 10);
  g_assert_true (app_test_wait_for (app_test_run_done, a, 120));
  b = app_test_start_tiny_run (window, 20);
  g_assert_true (app_test_wait_for (app_test_run_done, b, 120));

  mel_window_show_view (window, "compare");
  g_assert_cmpstr (mel_window_get_visible_view (window), ==, "compare");
  /* Nothing ticked: nothing to compare. */
  gtk_widget_activate_action (GTK_WIDGET (view), "compare.run", NULL);
  g_assert_false (mel_compare_view_get_busy (view));
  mel_compare_view_set_run_selected (view, a, TRUE);
  mel_compare_view_set_run_selected (view, b, TRUE);
  mel_compare_view_set_sampling (view, 4, 2);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (view), "compare.run", NULL));
  g_assert_true (mel_compare_view_get_busy (view));
  g_assert_true (app_test_wait_for (compared, view, 120));

  comparison = mel_compare_view_get_comparison (view);
  g_assert_cmpuint (comparison->runs->len, ==, 3);
  g_assert_cmpuint (mel_compare_view_get_n_table_rows (view), ==, 3);
  g_assert_true (((MelComparisonRun *) comparison->runs->pdata[2])->is_baseline);
  g_assert_cmpuint (comparison->n_test_songs, >, 0);
  for (guint i = 0; i < comparison->runs->len; i++)
    {
      const MelComparisonRun *run = comparison->runs->pdata[i];
      g_assert_true (isfinite (run->test.bits_per_symbol));
      g_assert_cmpfloat (run->test.bits_per_symbol, >, 0.0);
      g_assert_cmpuint (run->samples->len, ==, 4);
      if (!run->is_baseline)
        g_assert_cmpuint (run->history->len, >, 0);
    }
  app_test_spin (0.2); /* lay the results out and draw them once */

  /* With the short-term model: every run and the baseline get a "+ STM" row. */
  mel_compare_view_set_short_term_model (view, TRUE);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (view), "compare.run", NULL));
  g_assert_true (app_test_wait_for (compared, view, 120));
  comparison = mel_compare_view_get_comparison (view);
  g_assert_cmpuint (comparison->runs->len, ==, 3);
  g_assert_cmpuint (mel_compare_view_get_n_table_rows (view), ==, 6);
  for (guint i = 0; i < comparison->runs->len; i++)
    {
      const MelComparisonRun *run = comparison->runs->pdata[i];
      g_assert_true (run->test.has_stm);
      g_assert_true (isfinite (run->test.stm_bits_per_symbol));
      g_assert_cmpfloat (run->test.stm_bits_per_symbol, >, 0.0);
    }
  app_test_spin (0.2);

  /* The link to a corpus song selects it in the Corpus view. */
  corpus = mel_corpus_store_get_corpus (mel_window_get_corpus_store (window));
  id = ((MelSong *) corpus->songs->pdata[corpus->songs->len / 2])->id;
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (view), "compare.show-song", "s", id));
  g_assert_cmpstr (mel_window_get_visible_view (window), ==, "corpus");
  selected = mel_corpus_view_get_selected (MEL_CORPUS_VIEW (mel_window_get_view (window, "corpus")));
  g_assert_nonnull (selected);
  g_assert_cmpstr (mel_song_item_get_id (selected), ==, id);

  /* The report. */
  out_dir = g_dir_make_tmp ("melodist-compare-XXXXXX", &error);
  g_assert_no_error (error);
  path = g_build_filename (out_dir, "report.html", NULL);
  handler = g_signal_connect (view, "exported", G_CALLBACK (exported_cb), &result);
  mel_compare_view_export (view, path);
  g_assert_true (app_test_wait_for (export_done, &result, 60));
  g_signal_handler_disconnect (view, handler);
  g_assert_no_error (result.error);
  g_assert_true (g_file_get_contents (path, &html, NULL, &error));
  g_assert_no_error (error);
  g_assert_nonnull (strstr (html, "<html"));
  g_assert_nonnull (strstr (html, "baseline"));

  /* A folder is no file: an error, and no partial report left behind. */
  result.done = FALSE;
  handler = g_signal_connect (view, "exported", G_CALLBACK (exported_cb), &result);
  mel_compare_view_export (view, out_dir);
  g_assert_true (app_test_wait_for (export_done, &result, 60));
  g_signal_handler_disconnect (view, handler);
  g_assert_nonnull (result.error);
  g_clear_error (&result.error);

  g_unlink (path);
  g_rmdir (out_dir);
  app_test_stop (app, window);
}

int
main (int argc, char *argv[])
{
  int status;

  data_dir = app_test_isolate ();
  gtk_test_init (&argc, &argv, NULL);
  adw_init ();

  g_test_add_func ("/mel/app/compare/two-runs", test_compare_two_runs);
  status = g_test_run ();
  app_test_remove_tree (data_dir);
  g_free (data_dir);
  return status;
}
