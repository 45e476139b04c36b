/* test-app-window.c — the window opens, views switch, the embedded corpus
 * fills the song list, search and filters narrow it, and the side windows
 * (preferences, about, shortcuts) open.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <adwaita.h>
#include <glib/gstdio.h>

#include "app-test-util.h"
#include "mel-bar-chart.h"
#include "mel-corpus-stats.h"
#include "mel-musicxml.h"
#include "mel-song-item.h"

static char *data_dir;

static void
test_window_opens (void)
{
  MelApplication *app;
  MelWindow *window = app_test_start (&app);
  gint64 start = g_get_monotonic_time ();

  gtk_window_present (GTK_WINDOW (window));
  g_assert_true (app_test_wait_for (app_test_widget_mapped, window, 10));
  g_assert_true (app_test_wait_for (app_test_corpus_loaded, window, 10));
  g_test_message ("window mapped and embedded corpus loaded after %.0f ms",
                  (g_get_monotonic_time () - start) / 1000.0);
  g_assert_cmpstr (mel_window_get_visible_view (window), ==, "corpus");
  app_test_stop (app, window);
}

static void
test_switch_views (void)
{
  MelApplication *app;
  MelWindow *window = app_test_start (&app);
  const char *views[] = { "train", "generate", "compare", "corpus" };

  gtk_window_present (GTK_WINDOW (window));
  for (guint i = 0; i < G_N_ELEMENTS (views); i++)
    {
      g_action_group_activate_action (G_ACTION_GROUP (window), "show-view",
                                      g_variant_new_string (views[i]));
      app_test_spin (0.02);
      g_assert_cmpstr (mel_window_get_visible_view (window), ==, views[i]);
    }
  /* An unknown view changes nothing. */
  g_action_group_activate_action (G_ACTION_GROUP (window), "show-view",
                                  g_variant_new_string ("no-such-view"));
  g_assert_cmpstr (mel_window_get_visible_view (window), ==, "corpus");
  app_test_stop (app, window);
}

static void
test_embedded_corpus_fills_list (void)
{
  MelApplication *app;
  MelWindow *window = app_test_start (&app);
  MelCorpusStore *store = mel_window_get_corpus_store (window);
  MelCorpusView *view;
  GListModel *visible;
  MelCorpus *corpus;
  guint n_all;
  g_autoptr(MelSongItem) first = NULL;
  g_autofree char *needle = NULL;

  gtk_window_present (GTK_WINDOW (window));
  g_assert_true (app_test_wait_for (app_test_corpus_loaded, window, 10));
  corpus = mel_corpus_store_get_corpus (store);
  g_assert_nonnull (corpus);
  g_assert_cmpstr (corpus->root, ==, "embedded");
  g_assert_true (mel_corpus_store_is_embedded (store));
  g_assert_cmpuint (corpus->songs->len, >, 0);

  view = MEL_CORPUS_VIEW (mel_window_get_view (window, "corpus"));
  visible = mel_corpus_view_get_visible_songs (view);
  n_all = g_list_model_get_n_items (visible);
  g_assert_cmpuint (n_all, ==, corpus->songs->len);

  /* Searching for one song's title keeps it and drops unrelated ones. */
  first = g_list_model_get_item (visible, 0);
  needle = g_strdup (mel_song_item_get_title (first));
  mel_corpus_view_set_search_text (view, needle);
  g_assert_cmpuint (g_list_model_get_n_items (visible), >=, 1);
  g_assert_cmpuint (g_list_model_get_n_items (visible), <=, n_all);
  for (guint i = 0; i < g_list_model_get_n_items (visible); i++)
    {
      g_autoptr(MelSongItem) item = g_list_model_get_item (visible, i);
      g_autofree char *folded = g_utf8_casefold (needle, -1);
      g_assert_true (mel_song_item_matches (item, folded));
    }
  mel_corpus_view_set_search_text (view, "no song is called like this, surely");
  g_assert_cmpuint (g_list_model_get_n_items (visible), ==, 0);
  mel_corpus_view_set_search_text (view, "");
  g_assert_cmpuint (g_list_model_get_n_items (visible), ==, n_all);

  /* Selecting shows the song. */
  mel_corpus_view_select (view, 0);
  g_assert_nonnull (mel_corpus_view_get_selected (view));
  g_assert_true (mel_window_get_selected_song (window)
                 == mel_song_item_get_song (mel_corpus_view_get_selected (view)));
  app_test_spin (0.1);
  app_test_stop (app, window);
}

static void
test_statistics (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MelCorpus) corpus = mel_corpus_load_embedded (&error);
  MelCorpusStats *stats;
  double expected_c4 = 0, shown_c4;

  g_assert_no_error (error);
  stats = g_object_ref_sink (g_object_new (MEL_TYPE_CORPUS_STATS, NULL));
  mel_corpus_stats_set_corpus (stats, corpus);

  /* The pitch histogram counts note onsets (not tied continuations). */
  for (guint i = 0; i < corpus->songs->len; i++)
    {
      MelSong *song = g_ptr_array_index (corpus->songs, i);
      for (guint e = 0; e < song->events->len; e++)
        {
          const MelEvent *event = &g_array_index (song->events, MelEvent, e);
          if (event->midi == 60 && !(event->tie & MEL_TIE_STOP))
            expected_c4++;
        }
    }
  shown_c4 = mel_corpus_stats_get_pitch_count (stats, 60);
  g_assert_cmpfloat (shown_c4, ==, expected_c4);
  g_object_unref (stats);
}

static void
test_bar_chart (void)
{
  MelBarChart *chart = g_object_ref_sink (MEL_BAR_CHART (mel_bar_chart_new ()));
  const char *labels[] = { "a", NULL, "c" };
  const double values[] = { 1, 5, 2 };

  mel_bar_chart_set_data (chart, labels, values, 3);
  g_assert_cmpuint (mel_bar_chart_get_n_bars (chart), ==, 3);
  g_assert_cmpfloat (mel_bar_chart_get_value (chart, 1), ==, 5);
  g_assert_cmpfloat (mel_bar_chart_get_value (chart, 7), ==, 0);
  mel_bar_chart_set_title (chart, "Keys");
  g_assert_cmpstr (mel_bar_chart_get_title (chart), ==, "Keys");
  g_object_unref (chart);
}

static gboolean
player_busy_or_done (gpointer user_data)
{
  MelPlayer *player = user_data;
  return mel_player_get_state (player) == MEL_PLAYER_PLAYING
         || mel_player_get_state (player) == MEL_PLAYER_IDLE;
}

static gboolean
position_moved (gpointer user_data)
{
  MelPlayer *player = user_data;
  return mel_player_get_position (player) > 0.25 || mel_player_get_state (player) == MEL_PLAYER_IDLE;
}

static void
track_position_cb (MelPlayer *player, GParamSpec *pspec, double *furthest)
{
  *furthest = MAX (*furthest, mel_player_get_position (player));
}

static void
player_error_cb (MelPlayer *player, const GError *error, gboolean *failed)
{
  g_test_message ("player: %s", error->message);
  *failed = TRUE;
}

/* Play renders the song in a worker, then plays the WAV; the position the
 * score cursor follows moves.  GStreamer warns about plugins a machine may
 * lack (scaletempo, audio sinks), which is the environment and not the app:
 * the test runs in a subprocess where only our own domains and GTK's treat
 * warnings as fatal. */
static void test_play_body (void);

static void
test_play (void)
{
  if (g_test_subprocess ())
    {
      /* g_test_init() made every warning fatal; narrow that down. */
      g_log_set_always_fatal (G_LOG_FATAL_MASK | G_LOG_LEVEL_CRITICAL);
      g_log_set_fatal_mask ("Melodist", G_LOG_LEVEL_WARNING | G_LOG_LEVEL_CRITICAL);
      g_log_set_fatal_mask ("Gtk", G_LOG_LEVEL_WARNING | G_LOG_LEVEL_CRITICAL);
      g_log_set_fatal_mask ("Adwaita", G_LOG_LEVEL_WARNING | G_LOG_LEVEL_CRITICAL);
      test_play_body ();
      return;
    }
  g_test_trap_subprocess (NULL, 60 * G_USEC_PER_SEC,
                          G_TEST_SUBPROCESS_INHERIT_STDOUT | G_TEST_SUBPROCESS_INHERIT_STDERR);
  g_test_trap_assert_passed ();
}

static void
test_play_body (void)
{
  MelApplication *app;
  MelWindow *window;
  MelPlayer *player;
  MelCorpusView *view;
  gboolean failed = FALSE;

  if (!g_file_test (MEL_DEFAULT_SOUNDFONT, G_FILE_TEST_EXISTS))
    {
      g_test_skip ("no SoundFont installed");
      return;
    }
  window = app_test_start (&app);
  player = mel_window_get_player (window);
  view = MEL_CORPUS_VIEW (mel_window_get_view (window, "corpus"));
  gtk_window_present (GTK_WINDOW (window));
  g_assert_true (app_test_wait_for (app_test_corpus_loaded, window, 10));
  g_signal_connect (player, "error", G_CALLBACK (player_error_cb), &failed);

  mel_corpus_view_select (view, 0);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (view), "corpus.play", NULL));
  g_assert_cmpint (mel_player_get_state (player), ==, MEL_PLAYER_RENDERING);
  g_assert_true (mel_player_get_song (player) == mel_window_get_selected_song (window));
  g_assert_true (app_test_wait_for (player_busy_or_done, player, 30));
  if (failed)
    {
      /* GStreamer could not play the rendered file (no audio output?);
       * the error was reported and the player is idle again. */
      g_assert_cmpint (mel_player_get_state (player), ==, MEL_PLAYER_IDLE);
    }
  else
    {
      double furthest = 0.0;
      gulong handler;

      g_assert_cmpint (mel_player_get_state (player), ==, MEL_PLAYER_PLAYING);
      handler = g_signal_connect (player, "notify::position", G_CALLBACK (track_position_cb),
                                  &furthest);
      g_assert_true (app_test_wait_for (position_moved, player, 10));
      g_signal_handler_disconnect (player, handler);
      g_test_message ("cursor position reached %.2f quarters", furthest);
      /* Without an audio device GStreamer may end the stream at once; the
       * player must then be idle again, with no cursor. */
      if (mel_player_get_state (player) == MEL_PLAYER_IDLE && furthest <= 0.0)
        g_assert_cmpfloat (mel_player_get_position (player), <, 0.0);
      else
        g_assert_cmpfloat (furthest, >, 0.0);
      if (mel_player_get_state (player) == MEL_PLAYER_PLAYING)
        {
          /* The same action stops it. */
          gtk_widget_activate_action (GTK_WIDGET (view), "corpus.play", NULL);
          g_assert_cmpint (mel_player_get_state (player), ==, MEL_PLAYER_IDLE);
          g_assert_cmpfloat (mel_player_get_position (player), <, 0.0);
        }
    }
  g_signal_handlers_disconnect_by_func (player, player_error_cb, &failed);
  app_test_stop (app, window);
}

static gboolean
corpus_is_esac (gpointer user_data)
{
  MelCorpusStore *store = mel_window_get_corpus_store (user_data);
  return !mel_corpus_store_get_loading (store) && !mel_corpus_store_is_embedded (store)
         && mel_corpus_store_get_corpus (store) != NULL;
}

/* Opening the ESAC folder as a user would (the path given on the command
 * line goes the same way): the list fills, bad files become a summary. */
static void
test_open_esac_folder (void)
{
  const char *esac = g_getenv ("MELODIST_ESAC_DIR");
  g_autofree char *deutschl = esac != NULL ? g_build_filename (esac, "deutschl", NULL) : NULL;
  g_autoptr(GFile) folder = NULL;
  MelApplication *app;
  MelWindow *window;
  MelCorpusView *view;
  MelCorpus *corpus;
  GListModel *visible;

  if (deutschl == NULL || !g_file_test (deutschl, G_FILE_TEST_IS_DIR))
    {
      g_test_skip ("MELODIST_ESAC_DIR/deutschl not found: ESAC loading not tested");
      return;
    }
  window = app_test_start (&app);
  gtk_window_present (GTK_WINDOW (window));
  g_assert_true (app_test_wait_for (app_test_corpus_loaded, window, 10));

  folder = g_file_new_for_path (deutschl);
  mel_window_open_file (window, folder);
  g_assert_true (mel_corpus_store_get_loading (mel_window_get_corpus_store (window)));
  g_assert_true (app_test_wait_for (corpus_is_esac, window, 120));
  corpus = mel_corpus_store_get_corpus (mel_window_get_corpus_store (window));
  g_assert_cmpuint (corpus->songs->len, >, 5000);
  g_test_message ("ESAC: %u songs, %u rejections", corpus->songs->len, corpus->rejections->len);

  view = MEL_CORPUS_VIEW (mel_window_get_view (window, "corpus"));
  visible = mel_corpus_view_get_visible_songs (view);
  g_assert_cmpuint (g_list_model_get_n_items (visible), ==, corpus->songs->len);
  mel_corpus_view_set_search_text (view, "wiegenlied");
  g_assert_cmpuint (g_list_model_get_n_items (visible), <, corpus->songs->len);
  mel_corpus_view_set_search_text (view, NULL);
  app_test_spin (0.2);
  app_test_stop (app, window);
}

static gboolean
corpus_is_single_file (gpointer user_data)
{
  MelCorpusStore *store = mel_window_get_corpus_store (user_data);
  MelCorpus *corpus = mel_corpus_store_get_corpus (store);

  return !mel_corpus_store_get_loading (store) && !mel_corpus_store_is_embedded (store)
         && corpus != NULL && corpus->songs->len == 1;
}

/* Opening a MusicXML file (as from the command line or the Open dialog)
 * shows that one melody, with the same notes as the song it was written from. */
static void
test_open_musicxml (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("melodist-mxl-XXXXXX", &error);
  g_autofree char *path = NULL;
  g_autoptr(GFile) file = NULL;
  MelApplication *app;
  MelWindow *window;
  MelCorpus *embedded;
  MelCorpus *opened;
  MelSong *source;

  g_assert_no_error (error);
  window = app_test_start (&app);
  gtk_window_present (GTK_WINDOW (window));
  g_assert_true (app_test_wait_for (app_test_corpus_loaded, window, 10));
  embedded = mel_corpus_ref (mel_corpus_store_get_corpus (mel_window_get_corpus_store (window)));
  source = g_ptr_array_index (embedded->songs, 0);
  path = g_build_filename (dir, "song.musicxml", NULL);
  g_assert_true (mel_musicxml_write_file (source, path, &error));
  g_assert_no_error (error);

  file = g_file_new_for_path (path);
  mel_window_open_file (window, file);
  g_assert_true (app_test_wait_for (corpus_is_single_file, window, 30));
  opened = mel_corpus_store_get_corpus (mel_window_get_corpus_store (window));
  g_assert_cmpuint (mel_song_get_n_notes (g_ptr_array_index (opened->songs, 0)), ==,
                    mel_song_get_n_notes (source));
  g_assert_cmpstr (((MelSong *) g_ptr_array_index (opened->songs, 0))->title, ==, source->title);

  app_test_spin (0.1);
  app_test_stop (app, window);
  mel_corpus_unref (embedded);
  g_assert_cmpint (g_remove (path), ==, 0);
  g_assert_cmpint (g_rmdir (dir), ==, 0);
}

static gboolean
has_toplevel_of_type (gpointer user_data)
{
  GType type = GPOINTER_TO_SIZE (user_data);
  GListModel *toplevels = gtk_window_get_toplevels ();

  for (guint i = 0; i < g_list_model_get_n_items (toplevels); i++)
    {
      g_autoptr(GObject) window = g_list_model_get_item (toplevels, i);
      if (G_TYPE_CHECK_INSTANCE_TYPE (window, type) && gtk_widget_get_visible (GTK_WIDGET (window)))
        return TRUE;
    }
  return FALSE;
}

static void
close_toplevels_of_type (GType type)
{
  GListModel *toplevels = gtk_window_get_toplevels ();

  for (guint i = g_list_model_get_n_items (toplevels); i > 0; i--)
    {
      g_autoptr(GObject) window = g_list_model_get_item (toplevels, i - 1);
      if (G_TYPE_CHECK_INSTANCE_TYPE (window, type))
        gtk_window_destroy (GTK_WINDOW (window));
    }
}

static void
test_side_windows (void)
{
  MelApplication *app;
  MelWindow *window = app_test_start (&app);

  gtk_window_present (GTK_WINDOW (window));
  g_action_group_activate_action (G_ACTION_GROUP (app), "about", NULL);
  g_assert_true (app_test_wait_for (has_toplevel_of_type, GSIZE_TO_POINTER (ADW_TYPE_ABOUT_WINDOW), 5));
  close_toplevels_of_type (ADW_TYPE_ABOUT_WINDOW);

  g_action_group_activate_action (G_ACTION_GROUP (app), "preferences", NULL);
  g_assert_true (app_test_wait_for (has_toplevel_of_type,
                                    GSIZE_TO_POINTER (ADW_TYPE_PREFERENCES_WINDOW), 5));
  close_toplevels_of_type (ADW_TYPE_PREFERENCES_WINDOW);

  /* GtkApplicationWindow adds this action when gtk/help-overlay.ui exists. */
  g_assert_true (g_action_group_has_action (G_ACTION_GROUP (window), "show-help-overlay"));
  g_action_group_activate_action (G_ACTION_GROUP (window), "show-help-overlay", NULL);
  g_assert_true (app_test_wait_for (has_toplevel_of_type,
                                    GSIZE_TO_POINTER (GTK_TYPE_SHORTCUTS_WINDOW), 5));
  close_toplevels_of_type (GTK_TYPE_SHORTCUTS_WINDOW);
  app_test_stop (app, window);
}

int
main (int argc, char *argv[])
{
  int status;

  data_dir = app_test_isolate ();
  gtk_test_init (&argc, &argv, NULL);
  adw_init ();

  g_test_add_func ("/mel/app/window/opens", test_window_opens);
  g_test_add_func ("/mel/app/window/switch-views", test_switch_views);
  g_test_add_func ("/mel/app/window/embedded-corpus", test_embedded_corpus_fills_list);
  g_test_add_func ("/mel/app/window/statistics", test_statistics);
  g_test_add_func ("/mel/app/window/bar-chart", test_bar_chart);
  g_test_add_func ("/mel/app/window/side-windows", test_side_windows);
  g_test_add_func ("/mel/app/window/esac-folder", test_open_esac_folder);
  g_test_add_func ("/mel/app/window/open-musicxml", test_open_musicxml);
  g_test_add_func ("/mel/app/window/play", test_play);
  status = g_test_run ();
  app_test_remove_tree (data_dir);
  g_free (data_dir);
  return status;
}
