/* app-screenshots.c — drives the application through its views and saves
 * a PNG of the window for each, rendered by GTK itself (no ESAC data: the
 * built-in songs only).  Not a test; run it under Xvfb:
 *
 *   xvfb-run -a -s "-screen 0 1280x800x24" build/tests/app/app-screenshots docs/screenshots
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <adwaita.h>

#include "app-test-util.h"
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
start_run (MelWindow *window, guint hidden, float learning_rate, guint max_steps)
{
  MelTrainView *view = MEL_TRAIN_VIEW (mel_window_get_view (window, "train"));
  g_autoptr(MelRun) run = NULL;
  MelRunConfig config;

  mel_train_view_get_config (view, &config);
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

  app_test_stop (app, window);
  app_test_remove_tree (data_dir);
  return 0;
}
