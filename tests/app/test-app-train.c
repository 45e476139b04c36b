/* test-app-train.c — a short training run started from the Train view
 * updates the loss plot and finishes; pausing writes a checkpoint and
 * resuming finishes the run; runs are listed again after a restart.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <adwaita.h>

#include "app-test-util.h"
#include "mel-loss-plot.h"

#if defined(__SANITIZE_ADDRESS__)
#define MAX_MAIN_LOOP_GAP_US (4000 * 1000)
#else
#define MAX_MAIN_LOOP_GAP_US (500 * 1000)
#endif

static char *data_dir;

static void
test_train_from_ui (void)
{
  MelApplication *app;
  MelWindow *window = app_test_start (&app);
  MelTrainView *view = MEL_TRAIN_VIEW (mel_window_get_view (window, "train"));
  MelLossPlot *plot = mel_train_view_get_plot (view);
  g_autofree char *runs_dir = mel_application_dup_runs_dir ();
  g_autoptr(GListStore) reloaded = NULL;
  g_autoptr(MelRun) again = NULL;
  g_autofree char *run_json = NULL;
  MelRun *run;
  const char *id;

  gtk_window_present (GTK_WINDOW (window));
  mel_window_show_view (window, "train");
  g_assert_true (mel_train_view_kind_available (view, MEL_MODEL_GRU));

  run = app_test_start_tiny_run (window, 30);
  id = mel_run_get_id (run);
  g_assert_true (app_test_wait_for (app_test_run_done, run, 120));
  g_assert_cmpint (mel_run_get_status (run), ==, MEL_RUN_FINISHED);

  /* The plot shows what the run reported. */
  g_assert_cmpuint (mel_run_get_n_points (run, MEL_LOSS_TRAIN), >, 0);
  g_assert_cmpuint (mel_loss_plot_get_n_points (plot, id, MEL_LOSS_TRAIN), ==,
                    mel_run_get_n_points (run, MEL_LOSS_TRAIN));
  g_assert_cmpuint (mel_run_get_step (run), ==, 30);
  g_assert_nonnull (mel_run_get_checkpoint_path (run));
  g_assert_true (g_file_test (mel_run_get_checkpoint_path (run), G_FILE_TEST_IS_REGULAR));
  run_json = g_build_filename (mel_run_get_dir (run), "run.json", NULL);
  g_assert_true (g_file_test (run_json, G_FILE_TEST_IS_REGULAR));
  g_assert_true (g_str_has_prefix (mel_run_get_dir (run), runs_dir));

  /* After a restart the run is found again with its history. */
  reloaded = mel_run_load_all (runs_dir);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (reloaded)), >=, 1);
  again = g_list_model_get_item (G_LIST_MODEL (reloaded), 0);
  g_assert_cmpstr (mel_run_get_id (again), ==, id);
  g_assert_cmpint (mel_run_get_status (again), ==, MEL_RUN_FINISHED);
  g_assert_cmpuint (mel_run_get_n_points (again, MEL_LOSS_TRAIN), ==,
                    mel_run_get_n_points (run, MEL_LOSS_TRAIN));
  g_assert_cmpuint (mel_run_get_step (again), ==, 30);

  /* A finished run cannot be started again. */
  {
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) songs = mel_corpus_store_dup_unique_songs (mel_window_get_corpus_store (window));
    g_assert_false (mel_run_start (run, songs, &error));
    g_assert_nonnull (error);
  }
  app_test_stop (app, window);
}

static gboolean
run_has_stepped (gpointer user_data)
{
  return mel_run_get_step (user_data) > 0 || !mel_run_is_active (user_data);
}

/* How long the main loop goes without running a 10 ms timer: the UI's
 * frame clock needs it to come back every 16 ms. */
typedef struct
{
  gint64 last;
  gint64 worst;
  guint ticks;
} Latency;

static gboolean
latency_tick_cb (gpointer user_data)
{
  Latency *latency = user_data;
  gint64 now = g_get_monotonic_time ();

  if (latency->last != 0)
    latency->worst = MAX (latency->worst, now - latency->last);
  latency->last = now;
  latency->ticks++;
  return G_SOURCE_CONTINUE;
}

static MelRun *resumed_run;

static gboolean
run_is_past (gpointer user_data)
{
  return mel_run_get_step (resumed_run) > *(guint64 *) user_data;
}

static void
test_pause_resume (void)
{
  MelApplication *app;
  MelWindow *window = app_test_start (&app);
  g_autoptr(GPtrArray) songs = NULL;
  g_autoptr(GError) error = NULL;
  MelRun *run;

  gtk_window_present (GTK_WINDOW (window));
  run = app_test_start_tiny_run (window, 20000);
  g_assert_true (app_test_wait_for (run_has_stepped, run, 60));
  mel_run_pause (run);
  g_assert_true (app_test_wait_for (app_test_run_done, run, 60));
  if (mel_run_get_status (run) == MEL_RUN_FINISHED)
    {
      g_test_skip ("the run finished before it could be paused");
      app_test_stop (app, window);
      return;
    }
  g_assert_cmpint (mel_run_get_status (run), ==, MEL_RUN_PAUSED);
  g_assert_true (mel_run_can_resume (run));
  g_assert_nonnull (mel_run_get_checkpoint_path (run));

  songs = mel_corpus_store_dup_unique_songs (mel_window_get_corpus_store (window));
  g_assert_true (mel_run_start (run, songs, &error));
  g_assert_no_error (error);
  resumed_run = run;
  {
    Latency latency = { 0, 0, 0 };
    guint source = g_timeout_add (10, latency_tick_cb, &latency);
    guint64 paused_at = mel_run_get_step (run);

    /* It goes on from where it paused… */
    g_assert_true (app_test_wait_for (run_is_past, &paused_at, 120));
    g_assert_true (mel_run_is_active (run));
    app_test_spin (1.0);
    g_source_remove (source);
    /* The time since the last tick counts too. */
    latency_tick_cb (&latency);
    latency.ticks--;
    g_test_message ("main loop while training: %u ticks in 1 s, longest gap %.1f ms",
                    latency.ticks, latency.worst / 1000.0);
    /* Generous for a loaded CI machine; a blocked main thread stalls for the
     * whole training.  A sanitizer build draws one frame ten times slower. */
    g_assert_cmpint (latency.worst, <, MAX_MAIN_LOOP_GAP_US);
  }
  /* … and Stop ends it for good, with a usable checkpoint. */
  mel_run_stop (run);
  g_assert_true (app_test_wait_for (app_test_run_done, run, 60));
  g_assert_cmpint (mel_run_get_status (run), ==, MEL_RUN_STOPPED);
  g_assert_false (mel_run_can_resume (run));
  g_assert_nonnull (mel_run_get_checkpoint_path (run));
  app_test_stop (app, window);
}

static void
test_loss_plot (void)
{
  MelLossPlot *plot = g_object_ref_sink (MEL_LOSS_PLOT (mel_loss_plot_new ()));
  GdkRGBA a, b;

  mel_loss_plot_add_series (plot, "a", "Run A");
  mel_loss_plot_add_series (plot, "b", "Run B");
  mel_loss_plot_add_point (plot, "a", MEL_LOSS_TRAIN, 1, 2.5);
  mel_loss_plot_add_point (plot, "a", MEL_LOSS_TRAIN, 2, NAN); /* ignored */
  mel_loss_plot_add_point (plot, "a", MEL_LOSS_VALID, 2, 2.0);
  mel_loss_plot_add_point (plot, "missing", MEL_LOSS_TRAIN, 1, 1.0);
  g_assert_cmpuint (mel_loss_plot_get_n_points (plot, "a", MEL_LOSS_TRAIN), ==, 1);
  g_assert_cmpuint (mel_loss_plot_get_n_points (plot, "a", MEL_LOSS_VALID), ==, 1);
  g_assert_cmpuint (mel_loss_plot_get_n_points (plot, "missing", MEL_LOSS_TRAIN), ==, 0);
  g_assert_true (mel_loss_plot_get_series_color (plot, "a", &a));
  g_assert_true (mel_loss_plot_get_series_color (plot, "b", &b));
  g_assert_false (gdk_rgba_equal (&a, &b));
  mel_loss_plot_set_log_scale (plot, TRUE);
  g_assert_true (mel_loss_plot_get_log_scale (plot));
  mel_loss_plot_clear_series (plot, "a");
  g_assert_cmpuint (mel_loss_plot_get_n_points (plot, "a", MEL_LOSS_TRAIN), ==, 0);
  mel_loss_plot_remove_series (plot, "b");
  g_assert_false (mel_loss_plot_get_series_color (plot, "b", NULL));
  g_object_unref (plot);
}

int
main (int argc, char *argv[])
{
  int status;

  data_dir = app_test_isolate ();
  gtk_test_init (&argc, &argv, NULL);
  adw_init ();

  g_test_add_func ("/mel/app/train/loss-plot", test_loss_plot);
  g_test_add_func ("/mel/app/train/from-ui", test_train_from_ui);
  g_test_add_func ("/mel/app/train/pause-resume", test_pause_resume);
  status = g_test_run ();
  app_test_remove_tree (data_dir);
  g_free (data_dir);
  return status;
}
