/* mel-application.c — application actions, About, Preferences, and opening files.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <glib/gi18n.h>

#include "mel-app-private.h"
#include "mel-application.h"
#include "mel-preferences-window.h"
#include "mel-window.h"

struct _MelApplication
{
  AdwApplication parent_instance;

  GSettings *settings;
  gint64 created_us; /* monotonic time when main() made the application */
};

G_DEFINE_FINAL_TYPE (MelApplication, mel_application, ADW_TYPE_APPLICATION)

char *
mel_application_dup_runs_dir (void)
{
  return g_build_filename (g_get_user_data_dir (), "melodist", "runs", NULL);
}

guint
mel_application_default_threads (void)
{
  guint cores = g_get_num_processors ();
  return cores > 1 ? cores - 1 : 1;
}

double
mel_application_get_uptime_ms (MelApplication *self)
{
  g_return_val_if_fail (MEL_IS_APPLICATION (self), 0.0);
  return (g_get_monotonic_time () - self->created_us) / 1000.0;
}

GSettings *
mel_application_get_settings (MelApplication *self)
{
  g_return_val_if_fail (MEL_IS_APPLICATION (self), NULL);
  return self->settings;
}

static MelWindow *
ensure_window (MelApplication *self)
{
  GtkWindow *window = gtk_application_get_active_window (GTK_APPLICATION (self));

  if (window == NULL)
    window = GTK_WINDOW (mel_window_new (self));
  return MEL_WINDOW (window);
}

static void
mel_application_activate (GApplication *application)
{
  gtk_window_present (GTK_WINDOW (ensure_window (MEL_APPLICATION (application))));
}

static void
mel_application_open (GApplication *application, GFile **files, int n_files, const char *hint)
{
  MelWindow *window = ensure_window (MEL_APPLICATION (application));

  for (int i = 0; i < n_files; i++)
    mel_window_open_file (window, files[i]);
  gtk_window_present (GTK_WINDOW (window));
}

static void
quit_action (GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
  GApplication *application = user_data;
  GList *windows = g_list_copy (gtk_application_get_windows (GTK_APPLICATION (application)));

  /* Closing the windows cancels their workers; a training run holds the
   * application until its checkpoint is written, then it ends by itself. */
  for (GList *l = windows; l != NULL; l = l->next)
    gtk_window_destroy (l->data);
  g_list_free (windows);
}

static void
preferences_action (GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
  MelApplication *self = user_data;
  GtkWindow *parent = gtk_application_get_active_window (GTK_APPLICATION (self));
  GtkWindow *preferences = GTK_WINDOW (mel_preferences_window_new (self->settings));

  gtk_window_set_transient_for (preferences, parent);
  gtk_window_set_modal (preferences, TRUE);
  gtk_window_present (preferences);
}

static void
about_action (GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
  MelApplication *self = user_data;
  GtkWindow *parent = gtk_application_get_active_window (GTK_APPLICATION (self));
  static const char *developers[] = { "The Melodist contributors", NULL };
  AdwAboutWindow *about;

  about = ADW_ABOUT_WINDOW (adw_about_window_new ());
  gtk_window_set_transient_for (GTK_WINDOW (about), parent);
  adw_about_window_set_application_name (about, _("Melodist"));
  adw_about_window_set_application_icon (about, APP_ID);
  adw_about_window_set_version (about, PACKAGE_VERSION);
  adw_about_window_set_developer_name (about, _("The Melodist contributors"));
  adw_about_window_set_developers (about, developers);
  adw_about_window_set_license_type (about, GTK_LICENSE_MIT_X11);
  adw_about_window_set_comments (about, _("Learns to write folk melodies from the Essen folk song "
                                          "collection, and lets you explore, train, listen and "
                                          "engrave."));
  adw_about_window_set_website (about, "https://github.com/melodist/melodist");
  adw_about_window_set_translator_credits (about, _("translator-credits"));
  /* The ESAC licence requires this credit wherever its data is used.
   * (libadwaita 1.2 leaks the copyright string of a legal section, so the
   * whole credit goes into the licence text.) */
  adw_about_window_add_legal_section (about, _("Essen Folk Song Collection (ESAC)"), NULL,
                                      GTK_LICENSE_CUSTOM,
                                      _("Helmut Schaffrath, ed. David Huron. The Essen Folksong "
                                        "Collection in the Humdrum Kern Format. Menlo Park, CA: "
                                        "Center for Computer Assisted Research in the "
                                        "Humanities (CCARH), 1995.\n\n"
                                        "Used for research and education as its licence "
                                        "allows. The collection itself is not distributed with "
                                        "Melodist; the built-in songs are the project's own "
                                        "encodings of traditional melodies."));
  adw_about_window_add_credit_section (about, _("Built with"),
                                       (const char *[]) {
                                         "GTK https://gtk.org",
                                         "libadwaita https://gnome.pages.gitlab.gnome.org/libadwaita/",
                                         "OpenBLAS https://www.openblas.net",
                                         "FluidSynth https://www.fluidsynth.org",
                                         "libsndfile https://libsndfile.github.io/libsndfile/",
                                         NULL });
  gtk_window_present (GTK_WINDOW (about));
}

static const GActionEntry app_actions[] = {
  { .name = "quit", .activate = quit_action },
  { .name = "preferences", .activate = preferences_action },
  { .name = "about", .activate = about_action },
};

static void
mel_application_startup (GApplication *application)
{
  MelApplication *self = MEL_APPLICATION (application);
  GtkApplication *gtk_app = GTK_APPLICATION (application);

  G_APPLICATION_CLASS (mel_application_parent_class)->startup (application);

  g_action_map_add_action_entries (G_ACTION_MAP (self), app_actions, G_N_ELEMENTS (app_actions),
                                   self);
  gtk_application_set_accels_for_action (gtk_app, "app.quit", (const char *[]) { "<Control>q", NULL });
  gtk_application_set_accels_for_action (gtk_app, "app.preferences",
                                         (const char *[]) { "<Control>comma", NULL });
  gtk_application_set_accels_for_action (gtk_app, "win.open-corpus",
                                         (const char *[]) { "<Control>o", NULL });
  gtk_application_set_accels_for_action (gtk_app, "win.show-view::corpus",
                                         (const char *[]) { "<Alt>1", NULL });
  gtk_application_set_accels_for_action (gtk_app, "win.show-view::train",
                                         (const char *[]) { "<Alt>2", NULL });
  gtk_application_set_accels_for_action (gtk_app, "win.show-view::generate",
                                         (const char *[]) { "<Alt>3", NULL });
  gtk_application_set_accels_for_action (gtk_app, "win.show-view::compare",
                                         (const char *[]) { "<Alt>4", NULL });
  gtk_application_set_accels_for_action (gtk_app, "win.search",
                                         (const char *[]) { "<Control>f", NULL });
  gtk_application_set_accels_for_action (gtk_app, "win.play",
                                         (const char *[]) { "<Control>space", NULL });
  gtk_application_set_accels_for_action (gtk_app, "win.generate",
                                         (const char *[]) { "<Control>Return", NULL });
}

static void
mel_application_dispose (GObject *object)
{
  MelApplication *self = MEL_APPLICATION (object);

  g_clear_object (&self->settings);
  G_OBJECT_CLASS (mel_application_parent_class)->dispose (object);
}

static void
mel_application_class_init (MelApplicationClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GApplicationClass *app_class = G_APPLICATION_CLASS (klass);

  /* The shortcuts window (gtk/help-overlay.ui) is looked up at startup. */
  _mel_app_ensure_resources ();
  object_class->dispose = mel_application_dispose;
  app_class->activate = mel_application_activate;
  app_class->open = mel_application_open;
  app_class->startup = mel_application_startup;
}

static void
mel_application_init (MelApplication *self)
{
  GSettingsSchemaSource *source = g_settings_schema_source_get_default ();
  g_autoptr(GSettingsSchema) schema = NULL;

  self->created_us = g_get_monotonic_time ();
  /* Without the installed schema the app still runs, on defaults. */
  if (source != NULL)
    schema = g_settings_schema_source_lookup (source, APP_ID, TRUE);
  if (schema != NULL)
    self->settings = g_settings_new (APP_ID);
}

MelApplication *
mel_application_new (GApplicationFlags flags)
{
  return g_object_new (MEL_TYPE_APPLICATION,
                       "application-id", APP_ID,
                       "flags", G_APPLICATION_HANDLES_OPEN | flags,
                       "resource-base-path", "/io/github/melodist/Melodist",
                       NULL);
}
