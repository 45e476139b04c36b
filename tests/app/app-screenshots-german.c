/* app-screenshots-german.c — the application in German: saves a PNG of the
 * Corpus view (song and statistics), the Train, Generate and Compare views,
 * Preferences and the shortcuts window, rendered by GTK itself (built-in songs
 * and a tiny model only, so it takes seconds).  Not a test; it is how the
 * German UI is checked by eye for untranslated or clipped strings.  Run it
 * under Xvfb with the catalogues of the build tree:
 *
 *   LANG=C.UTF-8 LANGUAGE=de MELODIST_LOCALEDIR=$PWD/build/po \
 *     xvfb-run -a -s "-screen 0 1280x800x24" build/tests/app/app-screenshots-german docs/screenshots
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <adwaita.h>
#include <glib/gi18n.h>
#include <locale.h>

#include "app-test-util.h"
#include "mel-generate-view.h"

static gboolean
save_window (GtkWindow *window, const char *dir, const char *name)
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
  if (node == NULL)
    {
      g_printerr ("nothing drawn for %s\n", path);
      return FALSE;
    }
  texture = gsk_renderer_render_texture (gtk_native_get_renderer (GTK_NATIVE (widget)), node,
                                         &GRAPHENE_RECT_INIT (0, 0, width, height));
  if (!gdk_texture_save_to_png (texture, path))
    {
      g_printerr ("could not write %s\n", path);
      return FALSE;
    }
  g_print ("wrote %s (%d×%d)\n", path, width, height);
  return TRUE;
}

/* The first open toplevel of @type, or NULL. */
static GtkWindow *
find_toplevel (GType type)
{
  GListModel *toplevels = gtk_window_get_toplevels ();

  for (guint i = 0; i < g_list_model_get_n_items (toplevels); i++)
    {
      g_autoptr(GtkWindow) window = g_list_model_get_item (toplevels, i);

      if (G_TYPE_CHECK_INSTANCE_TYPE (window, type) && gtk_widget_get_mapped (GTK_WIDGET (window)))
        return window; /* the toplevel list keeps it alive */
    }
  return NULL;
}

static gboolean
has_toplevel (gpointer user_data)
{
  return find_toplevel ((GType) GPOINTER_TO_SIZE (user_data)) != NULL;
}

/* Opens a side window with @action of @group, saves it and closes it. */
static gboolean
save_side_window (GActionGroup *group, const char *action, GType type, const char *dir,
                  const char *name)
{
  GtkWindow *side;
  gboolean ok;

  g_action_group_activate_action (group, action, NULL);
  if (!app_test_wait_for (has_toplevel, GSIZE_TO_POINTER (type), 5))
    {
      g_printerr ("%s did not open a window\n", action);
      return FALSE;
    }
  side = find_toplevel (type);
  ok = save_window (side, dir, name);
  gtk_window_destroy (side);
  app_test_spin (0.1);
  return ok;
}

static gboolean
generated (gpointer user_data)
{
  MelGenerateView *view = user_data;
  return !mel_generate_view_get_busy (view) && mel_generate_view_get_n_samples (view) > 0;
}

int
main (int argc, char *argv[])
{
  g_autofree char *data_dir = NULL;
  const char *out = argc > 1 ? argv[1] : ".";
  const char *localedir = g_getenv ("MELODIST_LOCALEDIR");
  MelApplication *app;
  MelWindow *window;
  MelCorpusView *corpus_view;
  MelGenerateView *generate_view;
  MelRun *run;
  gboolean ok = TRUE;

  /* As main.c does; LANGUAGE=de then picks the German catalogue. */
  setlocale (LC_ALL, "");
  bindtextdomain (GETTEXT_PACKAGE, localedir != NULL && *localedir != '\0' ? localedir : LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);
  if (g_strcmp0 (_("Corpus"), "Corpus") == 0)
    g_printerr ("warning: the UI is not translated: set LANGUAGE (and a LANG other than C) "
                "and MELODIST_LOCALEDIR\n");

  data_dir = app_test_isolate ();
  gtk_init ();
  adw_init ();
  /* Xvfb's default full hinting drops the dots of i and ä at this size. */
  g_object_set (gtk_settings_get_default (), "gtk-xft-hintstyle", "hintnone", NULL);
  window = app_test_start (&app);
  gtk_window_set_default_size (GTK_WINDOW (window), 1200, 760);
  gtk_window_present (GTK_WINDOW (window));
  if (!app_test_wait_for (app_test_corpus_loaded, window, 20)
      || !app_test_wait_for (app_test_widget_mapped, window, 20))
    return 1;

  corpus_view = MEL_CORPUS_VIEW (mel_window_get_view (window, "corpus"));
  mel_corpus_view_select (corpus_view, 4);
  ok &= save_window (GTK_WINDOW (window), out, "german.png");
  mel_corpus_view_show_statistics (corpus_view);
  app_test_spin (1.0); /* the stack cross-fades */
  ok &= save_window (GTK_WINDOW (window), out, "german-statistics.png");

  mel_window_show_view (window, "train");
  run = app_test_start_tiny_run (window, 200);
  app_test_wait_for (app_test_run_done, run, 120);
  ok &= save_window (GTK_WINDOW (window), out, "german-train.png");

  mel_window_show_view (window, "generate");
  generate_view = MEL_GENERATE_VIEW (mel_window_get_view (window, "generate"));
  mel_generate_view_select_run (generate_view, run);
  mel_generate_view_set_seed (generate_view, "MEL001", NULL);
  mel_generate_view_set_sampling (generate_view, 0.8, 8, 4, 2);
  gtk_widget_activate_action (GTK_WIDGET (generate_view), "generate.run", NULL);
  app_test_wait_for (generated, generate_view, 60);
  ok &= save_window (GTK_WINDOW (window), out, "german-generate.png");

  mel_window_show_view (window, "compare");
  app_test_spin (1.0); /* the stack cross-fades */
  ok &= save_window (GTK_WINDOW (window), out, "german-compare.png");

  ok &= save_side_window (G_ACTION_GROUP (app), "preferences", ADW_TYPE_PREFERENCES_WINDOW, out,
                          "german-preferences.png");
  ok &= save_side_window (G_ACTION_GROUP (window), "show-help-overlay", GTK_TYPE_SHORTCUTS_WINDOW,
                          out, "german-shortcuts.png");

  app_test_stop (app, window);
  app_test_remove_tree (data_dir);
  return ok ? 0 : 1;
}
