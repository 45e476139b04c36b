/* app-screenshots.c — drives the application through its views and saves
 * a PNG of the window for each, rendered by GTK itself (no ESAC data: the
 * built-in songs only).  Not a test; run it under Xvfb:
 *
 *   xvfb-run -a -s "-screen 0 1280x3000x24" build/tests/app/app-screenshots docs/screenshots
 *
 * (a screen 3000 px tall for compare-full.png).  With a second argument
 * --new-views it only shoots compare.png, compare-full.png,
 * generate-vae.png and generate-attention.png, on shorter training runs.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <adwaita.h>

#include "app-test-util.h"
#include "mel-attention-map.h"
#include "mel-compare-view.h"
#include "mel-generate-view.h"

static void
save_window (MelWindow *window, const char *dir, const char *name)
{
  GtkWidget *widget = GTK_WIDGET (window);
  g_autoptr(GdkPaintable) paintable = gtk_widget_paintable_new (widget);
  g_autofree char *path = g_build_filename (dir, name, NULL);
  int width = 0, height = 0;
  g_autoptr(GskRenderNode) node = NULL;
  g_autoptr(GdkTexture) texture = NULL;

  /* Let layout and drawing settle; the first frame may not be there yet. */
  for (guint attempt = 0; attempt < 20 && node == NULL; attempt++)
    {
      GtkSnapshot *snapshot = gtk_snapshot_new ();
      app_test_spin (0.3);
      width = gtk_widget_get_width (widget);
      height = gtk_widget_get_height (widget);
      gdk_paintable_snapshot (paintable, snapshot, width, height);
      node = gtk_snapshot_free_to_node (snapshot);
    }
  texture = gsk_renderer_render_texture (gtk_native_get_renderer (GTK_NATIVE (widget)), node,
                                         &GRAPHENE_RECT_INIT (0, 0, width, height));
  if (!gdk_texture_save_to_png (texture, path))
    g_printerr ("could not write %s\n", path);
  else
    g_print ("wrote %s (%d×%d)\n", path, width, height);
}

static gboolean
generated (gpointer user_data)
{
  MelGenerateView *view = user_data;
  return !mel_generate_view_get_busy (view) && mel_generate_view_get_n_samples (view) > 0;
}

static MelRun *
start_run_of_kind (MelWindow *window, MelModelKind kind, guint hidden, float learning_rate,
                   guint max_steps)
{
  MelTrainView *view = MEL_TRAIN_VIEW (mel_window_get_view (window, "train"));
  g_autoptr(MelRun) run = NULL;
  MelRunConfig config;

  mel_train_view_get_config (view, &config);
  config.model.kind = kind;
  config.model.embed_dim = 32;
  config.model.hidden_size = hidden;
  config.model.n_layers = 1;
  config.train.epochs = 40;
  config.train.batch_size = 16;
  config.train.window = 64;
  config.train.max_steps = max_steps;
  config.train.learning_rate = learning_rate;
  config.train.warmup_steps = 20;
  mel_train_view_set_config (view, &config);
  gtk_widget_activate_action (GTK_WIDGET (view), "train.start", NULL);
  run = g_list_model_get_item (G_LIST_MODEL (mel_window_get_runs (window)), 0);
  return run;
}

static MelRun *
start_run (MelWindow *window, guint hidden, float learning_rate, guint max_steps)
{
  return start_run_of_kind (window, MEL_MODEL_GRU, hidden, learning_rate, max_steps);
}

static gboolean
compared (gpointer user_data)
{
  MelCompareView *view = user_data;
  return !mel_compare_view_get_busy (view) && mel_compare_view_get_comparison (view) != NULL;
}

static gboolean
interpolated (gpointer user_data)
{
  MelGenerateView *view = user_data;
  return !mel_generate_view_get_busy (view) && mel_generate_view_get_n_interpolation_steps (view) > 0;
}

/* The views of the issues "Compare models honestly" and the VAE and
 * attention additions of Generate: compare.png, compare-full.png,
 * generate-vae.png and generate-attention.png. */
static void
shoot_new_views (MelWindow *window, const char *out, MelRun *first, MelRun *second,
                 guint max_steps)
{
  MelCompareView *compare_view = MEL_COMPARE_VIEW (mel_window_get_view (window, "compare"));
  MelGenerateView *generate_view = MEL_GENERATE_VIEW (mel_window_get_view (window, "generate"));
  MelRun *vae, *attention;

  mel_window_show_view (window, "compare");
  mel_compare_view_set_run_selected (compare_view, first, TRUE);
  mel_compare_view_set_run_selected (compare_view, second, TRUE);
  mel_compare_view_set_sampling (compare_view, 20, 8);
  mel_compare_view_set_short_term_model (compare_view, TRUE);
  gtk_widget_activate_action (GTK_WIDGET (compare_view), "compare.run", NULL);
  app_test_wait_for (compared, compare_view, 600);
  app_test_spin (5.5); /* until the toast is gone */
  save_window (window, out, "compare.png");
  /* The whole report at once: histograms, samples, memorisation. */
  gtk_window_set_default_size (GTK_WINDOW (window), 1200, 2900);
  app_test_spin (1.0);
  save_window (window, out, "compare-full.png");
  gtk_window_set_default_size (GTK_WINDOW (window), 1200, 760);
  app_test_spin (0.5);

  mel_window_show_view (window, "train");
  vae = start_run_of_kind (window, MEL_MODEL_VAE, 128, 0.003f, max_steps * 6);
  app_test_wait_for (app_test_run_done, vae, 900);
  mel_window_show_view (window, "generate");
  mel_generate_view_select_run (generate_view, vae);
  mel_generate_view_set_interpolation (generate_view, "MEL001", "MEL010", 7);
  gtk_widget_activate_action (GTK_WIDGET (generate_view), "generate.interpolate", NULL);
  app_test_wait_for (interpolated, generate_view, 120);
  mel_generate_view_set_interpolation_step (generate_view, 3);
  app_test_spin (5.5); /* until the toast is gone */
  save_window (window, out, "generate-vae.png");

  mel_window_show_view (window, "train");
  attention = start_run_of_kind (window, MEL_MODEL_LSTM_ATTN, 64, 0.003f, max_steps);
  app_test_wait_for (app_test_run_done, attention, 900);
  mel_window_show_view (window, "generate");
  mel_generate_view_select_run (generate_view, attention);
  mel_generate_view_set_seed (generate_view, "MEL001", NULL);
  mel_generate_view_set_sampling (generate_view, 0.8, 8, 4, 1);
  gtk_widget_activate_action (GTK_WIDGET (generate_view), "generate.run", NULL);
  app_test_wait_for (generated, generate_view, 120);
  if (mel_generate_view_get_attention_map (generate_view, 0) != NULL)
    mel_attention_map_set_selected_step (
      MEL_ATTENTION_MAP (mel_generate_view_get_attention_map (generate_view, 0)), 40);
  app_test_spin (5.5); /* until the toast is gone */
  save_window (window, out, "generate-attention.png");
}

int
main (int argc, char *argv[])
{
  g_autofree char *data_dir = app_test_isolate ();
  const char *out = argc > 1 ? argv[1] : ".";
  MelApplication *app;
  MelWindow *window;
  MelCorpusView *corpus_view;
  MelGenerateView *generate_view;
  MelRun *first, *second;

  gtk_init ();
  adw_init ();
  window = app_test_start (&app);
  gtk_window_set_default_size (GTK_WINDOW (window), 1200, 760);
  gtk_window_present (GTK_WINDOW (window));
  if (!app_test_wait_for (app_test_corpus_loaded, window, 20)
      || !app_test_wait_for (app_test_widget_mapped, window, 20))
    return 1;

  if (argc > 2 && g_strcmp0 (argv[2], "--new-views") == 0)
    {
      /* Only the newer views, with shorter training (minutes, not hours). */
      mel_window_show_view (window, "train");
      first = start_run (window, 64, 0.003f, 300);
      app_test_wait_for (app_test_run_done, first, 600);
      second = start_run (window, 128, 0.001f, 300);
      app_test_wait_for (app_test_run_done, second, 900);
      shoot_new_views (window, out, first, second, 300);
      app_test_stop (app, window);
      app_test_remove_tree (data_dir);
      return 0;
    }

  corpus_view = MEL_CORPUS_VIEW (mel_window_get_view (window, "corpus"));
  mel_corpus_view_select (corpus_view, 4);
  save_window (window, out, "corpus.png");
  mel_corpus_view_show_statistics (corpus_view);
  save_window (window, out, "corpus-statistics.png");

  /* Adaptive: the narrowest width the issue asks for. */
  gtk_window_set_default_size (GTK_WINDOW (window), 800, 600);
  app_test_spin (0.5);
  save_window (window, out, "corpus-800px.png");
  gtk_window_set_default_size (GTK_WINDOW (window), 1200, 760);


  mel_window_show_view (window, "train");
  first = start_run (window, 64, 0.003f, 0);
  app_test_wait_for (app_test_run_done, first, 600);
  second = start_run (window, 128, 0.001f, 0);
  app_test_wait_for (app_test_run_done, second, 900);
  save_window (window, out, "train.png");

  mel_window_show_view (window, "generate");
  generate_view = MEL_GENERATE_VIEW (mel_window_get_view (window, "generate"));
  mel_generate_view_select_run (generate_view, second);
  mel_generate_view_set_seed (generate_view, "MEL001", NULL);
  mel_generate_view_set_sampling (generate_view, 0.8, 8, 6, 3);
  gtk_widget_activate_action (GTK_WIDGET (generate_view), "generate.run", NULL);
  app_test_wait_for (generated, generate_view, 120);
  save_window (window, out, "generate.png");
  shoot_new_views (window, out, first, second, 0);

  app_test_stop (app, window);
  app_test_remove_tree (data_dir);
  return 0;
}
