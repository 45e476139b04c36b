/* mel-preferences-window.c — Preferences bound to GSettings.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include "mel-app-private.h"

#include <glib/gi18n.h>

#include "mel-preferences-window.h"

struct _MelPreferencesWindow
{
  AdwPreferencesWindow parent_instance;

  AdwActionRow *corpus_row;
  AdwActionRow *soundfont_row;
  GtkSpinButton *tempo_spin;
  AdwComboRow *instrument_row;
  GtkSpinButton *threads_spin;

  GSettings *settings;
  GtkNativeDialog *chooser;
  char *chooser_key; /* the setting the open chooser edits */
};

G_DEFINE_FINAL_TYPE (MelPreferencesWindow, mel_preferences_window, ADW_TYPE_PREFERENCES_WINDOW)

/* General MIDI programs (0-based) that suit a folk melody. */
static const struct
{
  int program;
  const char *name;
} instruments[] = {
  { 73, N_("Flute") },
  { 74, N_("Recorder") },
  { 71, N_("Clarinet") },
  { 68, N_("Oboe") },
  { 40, N_("Violin") },
  { 21, N_("Accordion") },
  { 22, N_("Harmonica") },
  { 24, N_("Nylon guitar") },
  { 46, N_("Harp") },
  { 0, N_("Piano") },
  { 52, N_("Choir aahs") },
  { 109, N_("Bagpipe") },
};

static void
update_path_rows (MelPreferencesWindow *self)
{
  g_autofree char *corpus = NULL;
  g_autofree char *soundfont = NULL;

  if (self->settings == NULL)
    return;
  corpus = g_settings_get_string (self->settings, "corpus-folder");
  soundfont = g_settings_get_string (self->settings, "soundfont");
  adw_action_row_set_subtitle (self->corpus_row, corpus[0] != '\0' ? corpus
                                                                   : _("The embedded songs"));
  adw_action_row_set_subtitle (self->soundfont_row, soundfont[0] != '\0'
                                                    ? soundfont : _("The system's default"));
}

static gboolean
int_to_double (GValue *value, GVariant *variant, gpointer user_data)
{
  g_value_set_double (value, g_variant_get_int32 (variant));
  return TRUE;
}

static GVariant *
double_to_int (const GValue *value, const GVariantType *type, gpointer user_data)
{
  return g_variant_new_int32 ((gint32) (g_value_get_double (value) + 0.5));
}

static gboolean
program_to_index (GValue *value, GVariant *variant, gpointer user_data)
{
  int program = g_variant_get_int32 (variant);

  for (guint i = 0; i < G_N_ELEMENTS (instruments); i++)
    if (instruments[i].program == program)
      {
        g_value_set_uint (value, i);
        return TRUE;
      }
  g_value_set_uint (value, 0);
  return TRUE;
}

static GVariant *
index_to_program (const GValue *value, const GVariantType *type, gpointer user_data)
{
  guint index = g_value_get_uint (value);
  return g_variant_new_int32 (instruments[MIN (index, G_N_ELEMENTS (instruments) - 1)].program);
}

static void
chooser_response_cb (MelPreferencesWindow *self, int response, GtkNativeDialog *dialog)
{
  if (response == GTK_RESPONSE_ACCEPT && self->settings != NULL)
    {
      g_autoptr(GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog));
      g_autofree char *path = file != NULL ? g_file_get_path (file) : NULL;
      if (path != NULL)
        g_settings_set_string (self->settings, self->chooser_key, path);
    }
  g_clear_object (&self->chooser);
}

static void
choose (MelPreferencesWindow *self, const char *key, const char *title,
        GtkFileChooserAction action)
{
  GtkFileChooserNative *chooser;

  if (self->chooser != NULL || self->settings == NULL)
    return;
  chooser = gtk_file_chooser_native_new (title, GTK_WINDOW (self), action, _("_Select"),
                                         _("_Cancel"));
  if (action == GTK_FILE_CHOOSER_ACTION_OPEN)
    {
      GtkFileFilter *filter = gtk_file_filter_new ();
      gtk_file_filter_set_name (filter, _("SoundFonts"));
      gtk_file_filter_add_pattern (filter, "*.sf2");
      gtk_file_filter_add_pattern (filter, "*.SF2");
      gtk_file_filter_add_pattern (filter, "*.sf3");
      gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (chooser), filter);
      g_object_unref (filter);
    }
  g_free (self->chooser_key);
  self->chooser_key = g_strdup (key);
  self->chooser = GTK_NATIVE_DIALOG (chooser);
  gtk_native_dialog_set_modal (self->chooser, TRUE);
  g_signal_connect_object (chooser, "response", G_CALLBACK (chooser_response_cb), self,
                           G_CONNECT_SWAPPED);
  gtk_native_dialog_show (self->chooser);
}

static void
choose_corpus_action (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  choose (MEL_PREFERENCES_WINDOW (widget), "corpus-folder", _("Choose the ESAC Collection"),
          GTK_FILE_CHOOSER_ACTION_SELECT_FOLDER);
}

static void
choose_soundfont_action (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  choose (MEL_PREFERENCES_WINDOW (widget), "soundfont", _("Choose a SoundFont"),
          GTK_FILE_CHOOSER_ACTION_OPEN);
}

static void
reset_action (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  MelPreferencesWindow *self = MEL_PREFERENCES_WINDOW (widget);

  if (self->settings == NULL)
    return;
  g_settings_set_string (self->settings,
                         g_str_equal (action_name, "prefs.reset-corpus") ? "corpus-folder"
                                                                         : "soundfont", "");
}

static void
mel_preferences_window_dispose (GObject *object)
{
  MelPreferencesWindow *self = MEL_PREFERENCES_WINDOW (object);

  if (self->chooser != NULL)
    gtk_native_dialog_destroy (self->chooser);
  g_clear_object (&self->chooser);
  g_clear_object (&self->settings);
  gtk_widget_dispose_template (GTK_WIDGET (self), MEL_TYPE_PREFERENCES_WINDOW);
  G_OBJECT_CLASS (mel_preferences_window_parent_class)->dispose (object);
}

static void
mel_preferences_window_finalize (GObject *object)
{
  MelPreferencesWindow *self = MEL_PREFERENCES_WINDOW (object);

  g_free (self->chooser_key);
  G_OBJECT_CLASS (mel_preferences_window_parent_class)->finalize (object);
}

static void
mel_preferences_window_class_init (MelPreferencesWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = mel_preferences_window_dispose;
  object_class->finalize = mel_preferences_window_finalize;

  _mel_app_ensure_resources ();
  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/melodist/Melodist/ui/mel-preferences-window.ui");
  gtk_widget_class_bind_template_child (widget_class, MelPreferencesWindow, corpus_row);
  gtk_widget_class_bind_template_child (widget_class, MelPreferencesWindow, soundfont_row);
  gtk_widget_class_bind_template_child (widget_class, MelPreferencesWindow, tempo_spin);
  gtk_widget_class_bind_template_child (widget_class, MelPreferencesWindow, instrument_row);
  gtk_widget_class_bind_template_child (widget_class, MelPreferencesWindow, threads_spin);

  gtk_widget_class_install_action (widget_class, "prefs.choose-corpus", NULL, choose_corpus_action);
  gtk_widget_class_install_action (widget_class, "prefs.choose-soundfont", NULL,
                                   choose_soundfont_action);
  gtk_widget_class_install_action (widget_class, "prefs.reset-corpus", NULL, reset_action);
  gtk_widget_class_install_action (widget_class, "prefs.reset-soundfont", NULL, reset_action);
}

static void
mel_preferences_window_init (MelPreferencesWindow *self)
{
  g_autoptr(GtkStringList) names = gtk_string_list_new (NULL);

  gtk_widget_init_template (GTK_WIDGET (self));
  for (guint i = 0; i < G_N_ELEMENTS (instruments); i++)
    gtk_string_list_append (names, _(instruments[i].name));
  adw_combo_row_set_model (self->instrument_row, G_LIST_MODEL (names));
}

GtkWidget *
mel_preferences_window_new (GSettings *settings)
{
  MelPreferencesWindow *self = g_object_new (MEL_TYPE_PREFERENCES_WINDOW, NULL);

  if (settings == NULL)
    {
      GtkWidget *rows[] = { GTK_WIDGET (self->corpus_row), GTK_WIDGET (self->soundfont_row),
                            GTK_WIDGET (self->tempo_spin), GTK_WIDGET (self->instrument_row),
                            GTK_WIDGET (self->threads_spin) };
      for (guint i = 0; i < G_N_ELEMENTS (rows); i++)
        gtk_widget_set_sensitive (rows[i], FALSE);
      return GTK_WIDGET (self);
    }
  self->settings = g_object_ref (settings);
  g_settings_bind_with_mapping (settings, "default-tempo",
                                gtk_spin_button_get_adjustment (self->tempo_spin), "value",
                                G_SETTINGS_BIND_DEFAULT, int_to_double, double_to_int, NULL, NULL);
  g_settings_bind_with_mapping (settings, "training-threads",
                                gtk_spin_button_get_adjustment (self->threads_spin), "value",
                                G_SETTINGS_BIND_DEFAULT, int_to_double, double_to_int, NULL, NULL);
  g_settings_bind_with_mapping (settings, "default-program", self->instrument_row, "selected",
                                G_SETTINGS_BIND_DEFAULT, program_to_index, index_to_program, NULL,
                                NULL);
  g_signal_connect_object (settings, "changed", G_CALLBACK (update_path_rows), self,
                           G_CONNECT_SWAPPED);
  update_path_rows (self);
  return GTK_WIDGET (self);
}
