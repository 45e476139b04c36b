/* mel-window.c — the main window.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include "mel-app-private.h"

#include <sys/resource.h>

#include <glib/gi18n.h>

#include "mel-compare-view.h"
#include "mel-corpus-view.h"
#include "mel-generate-view.h"
#include "mel-run.h"
#include "mel-train-view.h"
#include "mel-window.h"

struct _MelWindow
{
  AdwApplicationWindow parent_instance;

  AdwToastOverlay *toast_overlay;
  AdwViewStack *stack;
  GtkInfoBar *banner;
  MelCorpusView *corpus_view;
  MelTrainView *train_view;
  MelGenerateView *generate_view;
  MelCompareView *compare_view;

  GSettings *settings;
  MelCorpusStore *corpus_store;
  MelPlayer *player;
  GListStore *runs;
  GtkNativeDialog *chooser;
  gboolean startup_logged;
};

G_DEFINE_FINAL_TYPE (MelWindow, mel_window, ADW_TYPE_APPLICATION_WINDOW)

void
mel_window_add_toast (MelWindow *self, const char *title)
{
  g_return_if_fail (MEL_IS_WINDOW (self));
  adw_toast_overlay_add_toast (self->toast_overlay, adw_toast_new (title));
}

void
mel_window_show_error (MelWindow *self, const char *heading, const GError *error)
{
  GtkWidget *dialog;

  g_return_if_fail (MEL_IS_WINDOW (self));

  dialog = adw_message_dialog_new (GTK_WINDOW (self), heading,
                                   error != NULL ? error->message : NULL);
  adw_message_dialog_add_response (ADW_MESSAGE_DIALOG (dialog), "close", _("_Close"));
  gtk_window_present (GTK_WINDOW (dialog));
}

void
mel_window_show_view (MelWindow *self, const char *name)
{
  g_return_if_fail (MEL_IS_WINDOW (self));
  g_return_if_fail (name != NULL);

  if (adw_view_stack_get_child_by_name (self->stack, name) != NULL)
    adw_view_stack_set_visible_child_name (self->stack, name);
}

const char *
mel_window_get_visible_view (MelWindow *self)
{
  g_return_val_if_fail (MEL_IS_WINDOW (self), NULL);
  return adw_view_stack_get_visible_child_name (self->stack);
}

GtkWidget *
mel_window_get_view (MelWindow *self, const char *name)
{
  g_return_val_if_fail (MEL_IS_WINDOW (self), NULL);
  g_return_val_if_fail (name != NULL, NULL);
  return adw_view_stack_get_child_by_name (self->stack, name);
}

MelCorpusStore *
mel_window_get_corpus_store (MelWindow *self)
{
  g_return_val_if_fail (MEL_IS_WINDOW (self), NULL);
  return self->corpus_store;
}

MelPlayer *
mel_window_get_player (MelWindow *self)
{
  g_return_val_if_fail (MEL_IS_WINDOW (self), NULL);
  return self->player;
}

GListStore *
mel_window_get_runs (MelWindow *self)
{
  g_return_val_if_fail (MEL_IS_WINDOW (self), NULL);
  return self->runs;
}

MelSong *
mel_window_get_selected_song (MelWindow *self)
{
  MelSongItem *item;

  g_return_val_if_fail (MEL_IS_WINDOW (self), NULL);
  item = mel_corpus_view_get_selected (self->corpus_view);
  return item != NULL ? mel_song_item_get_song (item) : NULL;
}

GSettings *
mel_window_get_settings (MelWindow *self)
{
  g_return_val_if_fail (MEL_IS_WINDOW (self), NULL);
  return self->settings;
}

static void
update_banner (MelWindow *self)
{
  gtk_info_bar_set_revealed (self->banner, mel_corpus_store_is_embedded (self->corpus_store));
}

static void
log_startup (MelWindow *self, const char *what)
{
  GtkApplication *application = gtk_window_get_application (GTK_WINDOW (self));

  /* G_MESSAGES_DEBUG=Melodist shows these; tests/app/app-startup.sh reads them. */
  struct rusage usage;
  double cpu_ms = -1;

  /* CPU time is what the app itself costs, whatever else loads the machine. */
  if (getrusage (RUSAGE_SELF, &usage) == 0)
    cpu_ms = (usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) * 1000.0
             + (usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1000.0;
  if (MEL_IS_APPLICATION (application))
    g_debug ("startup: %s %.1f ms after the application was created (process CPU time %.1f ms)",
             what, mel_application_get_uptime_ms (MEL_APPLICATION (application)), cpu_ms);
}

static void
first_map_cb (MelWindow *self)
{
  log_startup (self, "window mapped");
  g_signal_handlers_disconnect_by_func (self, first_map_cb, NULL);
}

static void
corpus_loaded_cb (MelWindow *self, const GError *error, MelCorpusStore *store)
{
  MelCorpus *corpus = mel_corpus_store_get_corpus (store);
  if (!self->startup_logged)
    {
      self->startup_logged = TRUE;
      log_startup (self, "songs listed");
    }

  update_banner (self);
  if (error != NULL)
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        mel_window_show_error (self, _("Could not open the collection"), error);
      return;
    }
  if (corpus != NULL && corpus->rejections->len > 0)
    {
      g_autofree char *title = NULL;
      AdwToast *toast;

      title = g_strdup_printf (ngettext ("%u song loaded, %u file could not be read",
                                         "%u songs loaded, %u files could not be read",
                                         corpus->rejections->len),
                               corpus->songs->len, corpus->rejections->len);
      toast = adw_toast_new (title);
      adw_toast_set_button_label (toast, _("_Details"));
      adw_toast_set_action_name (toast, "win.show-rejections");
      adw_toast_set_timeout (toast, 8);
      adw_toast_overlay_add_toast (self->toast_overlay, toast);
    }
}

static void
chooser_response_cb (MelWindow *self, int response, GtkNativeDialog *dialog)
{
  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr(GFile) folder = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog));
      g_autofree char *path = folder != NULL ? g_file_get_path (folder) : NULL;

      if (path != NULL)
        {
          if (self->settings != NULL)
            g_settings_set_string (self->settings, "corpus-folder", path);
          mel_corpus_store_load (self->corpus_store, path);
          mel_window_show_view (self, "corpus");
        }
    }
  g_clear_object (&self->chooser);
}

static void
open_corpus_action (GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
  MelWindow *self = MEL_WINDOW (user_data);
  GtkFileChooserNative *chooser;

  if (self->chooser != NULL)
    return;
  chooser = gtk_file_chooser_native_new (_("Open ESAC Collection"), GTK_WINDOW (self),
                                         GTK_FILE_CHOOSER_ACTION_SELECT_FOLDER, _("_Open"),
                                         _("_Cancel"));
  self->chooser = GTK_NATIVE_DIALOG (chooser);
  g_signal_connect_object (chooser, "response", G_CALLBACK (chooser_response_cb), self,
                           G_CONNECT_SWAPPED);
  gtk_native_dialog_set_modal (self->chooser, TRUE);
  gtk_native_dialog_show (self->chooser);
}

static void
load_embedded_action (GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
  MelWindow *self = MEL_WINDOW (user_data);

  if (self->settings != NULL)
    g_settings_set_string (self->settings, "corpus-folder", "");
  mel_corpus_store_load (self->corpus_store, NULL);
}

static void
show_view_action (GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
  mel_window_show_view (MEL_WINDOW (user_data), g_variant_get_string (parameter, NULL));
}

static void
show_rejections_action (GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
  MelWindow *self = MEL_WINDOW (user_data);

  mel_window_show_view (self, "corpus");
  mel_corpus_view_show_statistics (self->corpus_view);
}

static void
search_action (GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
  MelWindow *self = MEL_WINDOW (user_data);

  mel_window_show_view (self, "corpus");
  mel_corpus_view_focus_search (self->corpus_view);
}

static void
play_action (GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
  MelWindow *self = MEL_WINDOW (user_data);
  const char *view = mel_window_get_visible_view (self);

  if (mel_player_get_state (self->player) != MEL_PLAYER_IDLE)
    mel_player_stop (self->player);
  else if (g_strcmp0 (view, "corpus") == 0)
    gtk_widget_activate_action (GTK_WIDGET (self->corpus_view), "corpus.play", NULL);
  else if (g_strcmp0 (view, "generate") == 0)
    gtk_widget_activate_action (GTK_WIDGET (self->generate_view), "generate.play", NULL);
}

static void
generate_action (GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
  MelWindow *self = MEL_WINDOW (user_data);

  mel_window_show_view (self, "generate");
  gtk_widget_activate_action (GTK_WIDGET (self->generate_view), "generate.run", NULL);
}

static void
select_run_action (GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
  MelWindow *self = MEL_WINDOW (user_data);
  const char *id = g_variant_get_string (parameter, NULL);
  guint n = g_list_model_get_n_items (G_LIST_MODEL (self->runs));

  for (guint i = 0; i < n; i++)
    {
      g_autoptr(MelRun) run = g_list_model_get_item (G_LIST_MODEL (self->runs), i);
      if (g_strcmp0 (mel_run_get_id (run), id) == 0)
        {
          mel_window_show_view (self, "generate");
          mel_generate_view_select_run (self->generate_view, run);
          return;
        }
    }
}

static gboolean
is_checkpoint (GFile *file)
{
  g_autofree char *name = g_file_get_basename (file);
  return name != NULL && g_str_has_suffix (name, ".ckpt");
}

void
mel_window_open_file (MelWindow *self, GFile *file)
{
  g_autofree char *path = NULL;

  g_return_if_fail (MEL_IS_WINDOW (self));
  g_return_if_fail (G_IS_FILE (file));

  path = g_file_get_path (file);
  if (path == NULL)
    {
      g_autoptr(GError) error = g_error_new (G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                                             _("Only local files can be opened"));
      mel_window_show_error (self, _("Could not open the file"), error);
      return;
    }
  if (is_checkpoint (file))
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(MelRun) run = mel_run_new_from_checkpoint (path, &error);

      if (run == NULL)
        {
          mel_window_show_error (self, _("Could not open the checkpoint"), error);
          return;
        }
      g_list_store_insert (self->runs, 0, run);
      mel_generate_view_select_run (self->generate_view, run);
      mel_window_show_view (self, "generate");
      return;
    }
  /* A kern file or folder, or a MusicXML file: the store's loader takes
   * each (in its worker thread) and reports errors itself. */
  mel_corpus_store_load (self->corpus_store, path);
  mel_window_show_view (self, "corpus");
}

static void
load_initial_corpus (MelWindow *self)
{
  g_autofree char *folder = NULL;

  if (self->settings != NULL)
    folder = g_settings_get_string (self->settings, "corpus-folder");
  if (folder != NULL && folder[0] != '\0' && g_file_test (folder, G_FILE_TEST_EXISTS))
    mel_corpus_store_load (self->corpus_store, folder);
  else
    mel_corpus_store_load (self->corpus_store, NULL);
}

static void
player_error_cb (MelWindow *self, const GError *error, MelPlayer *player)
{
  mel_window_show_error (self, _("Could not play the song"), error);
}

static void
apply_player_settings (MelWindow *self)
{
  g_autofree char *soundfont = NULL;

  if (self->settings == NULL)
    return;
  soundfont = g_settings_get_string (self->settings, "soundfont");
  mel_player_set_soundfont (self->player, soundfont);
  mel_player_set_program (self->player, g_settings_get_int (self->settings, "default-program"));
}

static void
settings_changed_cb (MelWindow *self, const char *key, GSettings *settings)
{
  if (g_strcmp0 (key, "soundfont") == 0 || g_strcmp0 (key, "default-program") == 0)
    apply_player_settings (self);
}

static void
mel_window_constructed (GObject *object)
{
  MelWindow *self = MEL_WINDOW (object);
  GtkApplication *application = gtk_window_get_application (GTK_WINDOW (self));
  g_autofree char *runs_dir = mel_application_dup_runs_dir ();

  G_OBJECT_CLASS (mel_window_parent_class)->constructed (object);

  if (MEL_IS_APPLICATION (application))
    {
      GSettings *settings = mel_application_get_settings (MEL_APPLICATION (application));
      if (settings != NULL)
        self->settings = g_object_ref (settings);
    }
  if (self->settings != NULL)
    {
      g_settings_bind (self->settings, "window-width", self, "default-width", G_SETTINGS_BIND_DEFAULT);
      g_settings_bind (self->settings, "window-height", self, "default-height", G_SETTINGS_BIND_DEFAULT);
      g_settings_bind (self->settings, "window-maximized", self, "maximized", G_SETTINGS_BIND_DEFAULT);
      g_signal_connect_object (self->settings, "changed", G_CALLBACK (settings_changed_cb), self,
                               G_CONNECT_SWAPPED);
      apply_player_settings (self);
    }

  self->runs = mel_run_load_all (runs_dir);
  mel_corpus_view_bind (self->corpus_view, self->corpus_store, self->player, self->settings);
  mel_train_view_bind (self->train_view, self->corpus_store, self->runs, self->settings);
  mel_generate_view_bind (self->generate_view, self->corpus_store, self->runs, self->player,
                          self->settings);
  mel_compare_view_bind (self->compare_view, self->corpus_store, self->runs, self->player,
                         self->settings);
  load_initial_corpus (self);
}

static void
mel_window_dispose (GObject *object)
{
  MelWindow *self = MEL_WINDOW (object);

  if (self->corpus_store != NULL)
    mel_corpus_store_cancel (self->corpus_store);
  if (self->player != NULL)
    mel_player_stop (self->player);
  if (self->chooser != NULL)
    gtk_native_dialog_destroy (self->chooser);
  g_clear_object (&self->chooser);
  gtk_widget_dispose_template (GTK_WIDGET (self), MEL_TYPE_WINDOW);
  g_clear_object (&self->corpus_store);
  g_clear_object (&self->player);
  g_clear_object (&self->runs);
  g_clear_object (&self->settings);
  G_OBJECT_CLASS (mel_window_parent_class)->dispose (object);
}

static const GActionEntry win_actions[] = {
  { .name = "open-corpus", .activate = open_corpus_action },
  { .name = "load-embedded", .activate = load_embedded_action },
  { .name = "show-view", .activate = show_view_action, .parameter_type = "s" },
  { .name = "show-rejections", .activate = show_rejections_action },
  { .name = "search", .activate = search_action },
  { .name = "play", .activate = play_action },
  { .name = "generate", .activate = generate_action },
  { .name = "select-run", .activate = select_run_action, .parameter_type = "s" },
};

static void
mel_window_class_init (MelWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->constructed = mel_window_constructed;
  object_class->dispose = mel_window_dispose;

  g_type_ensure (MEL_TYPE_CORPUS_VIEW);
  g_type_ensure (MEL_TYPE_TRAIN_VIEW);
  g_type_ensure (MEL_TYPE_GENERATE_VIEW);
  g_type_ensure (MEL_TYPE_COMPARE_VIEW);
  _mel_app_ensure_resources ();
  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/melodist/Melodist/ui/mel-window.ui");
  gtk_widget_class_bind_template_child (widget_class, MelWindow, toast_overlay);
  gtk_widget_class_bind_template_child (widget_class, MelWindow, stack);
  gtk_widget_class_bind_template_child (widget_class, MelWindow, banner);
  gtk_widget_class_bind_template_child (widget_class, MelWindow, corpus_view);
  gtk_widget_class_bind_template_child (widget_class, MelWindow, train_view);
  gtk_widget_class_bind_template_child (widget_class, MelWindow, generate_view);
  gtk_widget_class_bind_template_child (widget_class, MelWindow, compare_view);
}

static void
mel_window_init (MelWindow *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  g_action_map_add_action_entries (G_ACTION_MAP (self), win_actions, G_N_ELEMENTS (win_actions),
                                   self);
  self->corpus_store = mel_corpus_store_new ();
  self->player = mel_player_new ();
  g_signal_connect_object (self->corpus_store, "loaded", G_CALLBACK (corpus_loaded_cb), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (self->player, "error", G_CALLBACK (player_error_cb), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect (self, "map", G_CALLBACK (first_map_cb), NULL);
}

MelWindow *
mel_window_new (MelApplication *application)
{
  return g_object_new (MEL_TYPE_WINDOW, "application", application, NULL);
}
