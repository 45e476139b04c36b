/* mel-sample-row.c — one generated melody.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <glib/gi18n.h>

#include "mel-app-private.h"
#include "mel-sample-row.h"
#include "mel-window.h"

struct _MelSampleRow
{
  AdwBin parent_instance;

  GtkLabel *title_label;
  GtkSpinner *spinner;
  GtkButton *play_button;
  GtkBox *score_box;
  GtkWidget *score;

  MelSong *song;
  char *title;
  MelPlayer *player;
  double tempo;
  guint n_exports; /* running */
  GtkNativeDialog *chooser;
  GCancellable *cancellable;
};

G_DEFINE_FINAL_TYPE (MelSampleRow, mel_sample_row, ADW_TYPE_BIN)

enum
{
  SIGNAL_EXPORTED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

MelSong *
mel_sample_row_get_song (MelSampleRow *self)
{
  g_return_val_if_fail (MEL_IS_SAMPLE_ROW (self), NULL);
  return self->song;
}

static void
player_changed_cb (MelSampleRow *self, GParamSpec *pspec, MelPlayer *player)
{
  gboolean mine = mel_player_get_song (player) == self->song;
  gboolean busy = mine && mel_player_get_state (player) != MEL_PLAYER_IDLE;

  gtk_button_set_icon_name (self->play_button, busy ? "media-playback-stop-symbolic"
                                                    : "media-playback-start-symbolic");
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->play_button), busy ? _("Stop") : _("Play"));
  _mel_score_widget_set_cursor (self->score, mine ? mel_player_get_position (player) : -1.0);
}

static void
play_action (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  MelSampleRow *self = MEL_SAMPLE_ROW (widget);

  if (mel_player_get_song (self->player) == self->song
      && mel_player_get_state (self->player) != MEL_PLAYER_IDLE)
    mel_player_stop (self->player);
  else
    mel_player_play (self->player, self->song, self->tempo);
}

/* ---- export -------------------------------------------------------------- */

typedef struct
{
  MelSong *song;
  char *path;
  double tempo;
  int program;
  char *soundfont;
} ExportJob;

static void
export_job_free (ExportJob *job)
{
  g_clear_pointer (&job->song, mel_song_unref);
  g_free (job->path);
  g_free (job->soundfont);
  g_free (job);
}

static void
export_worker (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  ExportJob *job = task_data;
  g_autoptr(GError) error = NULL;

  if (_mel_export_song (job->song, job->path, job->tempo, job->program, job->soundfont,
                        cancellable, &error))
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, g_steal_pointer (&error));
}

static void
export_done_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  MelSampleRow *self = MEL_SAMPLE_ROW (source);
  ExportJob *job = g_task_get_task_data (G_TASK (result));
  g_autoptr(GError) error = NULL;
  GtkWidget *window = gtk_widget_get_ancestor (GTK_WIDGET (self), MEL_TYPE_WINDOW);

  if (--self->n_exports == 0)
    gtk_spinner_stop (self->spinner);
  if (!g_task_propagate_boolean (G_TASK (result), &error))
    {
      if (window != NULL && !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        mel_window_show_error (MEL_WINDOW (window), _("Could not export the melody"), error);
    }
  else if (window != NULL)
    {
      g_autofree char *name = g_path_get_basename (job->path);
      g_autofree char *text = g_strdup_printf (_("Saved “%s”"), name);
      mel_window_add_toast (MEL_WINDOW (window), text);
    }
  g_signal_emit (self, signals[SIGNAL_EXPORTED], 0, error);
}

void
mel_sample_row_export (MelSampleRow *self, const char *path)
{
  g_autoptr(GTask) task = NULL;
  GtkWidget *window;
  GSettings *settings = NULL;
  ExportJob *job;

  g_return_if_fail (MEL_IS_SAMPLE_ROW (self));
  g_return_if_fail (path != NULL);

  window = gtk_widget_get_ancestor (GTK_WIDGET (self), MEL_TYPE_WINDOW);
  if (window != NULL)
    settings = mel_window_get_settings (MEL_WINDOW (window));

  job = g_new0 (ExportJob, 1);
  job->song = mel_song_ref (self->song);
  job->path = g_strdup (path);
  job->tempo = self->tempo;
  job->program = settings != NULL ? g_settings_get_int (settings, "default-program") : 73;
  job->soundfont = settings != NULL ? g_settings_get_string (settings, "soundfont") : NULL;

  self->n_exports++;
  gtk_spinner_start (self->spinner);
  task = g_task_new (self, self->cancellable, export_done_cb, NULL);
  g_task_set_source_tag (task, mel_sample_row_export);
  g_task_set_task_data (task, job, (GDestroyNotify) export_job_free);
  g_task_run_in_thread (task, export_worker);
}

static void
chooser_response_cb (MelSampleRow *self, int response, GtkNativeDialog *dialog)
{
  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr(GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog));
      g_autofree char *path = file != NULL ? g_file_get_path (file) : NULL;
      if (path != NULL)
        mel_sample_row_export (self, path);
    }
  g_clear_object (&self->chooser);
}

void
mel_sample_row_export_with_dialog (MelSampleRow *self, const char *extension)
{
  GtkRoot *root;
  GtkFileChooserNative *chooser;
  g_autofree char *name = NULL;
  g_autofree char *base = NULL;

  g_return_if_fail (MEL_IS_SAMPLE_ROW (self));
  g_return_if_fail (extension != NULL);

  if (self->chooser != NULL)
    return;
  root = gtk_widget_get_root (GTK_WIDGET (self));
  chooser = gtk_file_chooser_native_new (_("Export Melody"),
                                         GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL,
                                         GTK_FILE_CHOOSER_ACTION_SAVE, _("_Export"), _("_Cancel"));
  base = g_strdelimit (g_utf8_strdown (self->title, -1), " /\\:", '-');
  name = g_strdup_printf ("%s.%s", base, extension);
  gtk_file_chooser_set_current_name (GTK_FILE_CHOOSER (chooser), name);
  self->chooser = GTK_NATIVE_DIALOG (chooser);
  gtk_native_dialog_set_modal (self->chooser, TRUE);
  g_signal_connect_object (chooser, "response", G_CALLBACK (chooser_response_cb), self,
                           G_CONNECT_SWAPPED);
  gtk_native_dialog_show (self->chooser);
}

static void
export_action (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  mel_sample_row_export_with_dialog (MEL_SAMPLE_ROW (widget), g_variant_get_string (parameter, NULL));
}

/* ---- GObject --------------------------------------------------------------- */

static void
mel_sample_row_dispose (GObject *object)
{
  MelSampleRow *self = MEL_SAMPLE_ROW (object);

  if (self->cancellable != NULL)
    g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  if (self->chooser != NULL)
    gtk_native_dialog_destroy (self->chooser);
  g_clear_object (&self->chooser);
  gtk_widget_dispose_template (GTK_WIDGET (self), MEL_TYPE_SAMPLE_ROW);
  g_clear_object (&self->player);
  G_OBJECT_CLASS (mel_sample_row_parent_class)->dispose (object);
}

static void
mel_sample_row_finalize (GObject *object)
{
  MelSampleRow *self = MEL_SAMPLE_ROW (object);

  g_clear_pointer (&self->song, mel_song_unref);
  g_free (self->title);
  G_OBJECT_CLASS (mel_sample_row_parent_class)->finalize (object);
}

static void
mel_sample_row_class_init (MelSampleRowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = mel_sample_row_dispose;
  object_class->finalize = mel_sample_row_finalize;

  _mel_app_ensure_resources ();
  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/melodist/Melodist/ui/mel-sample-row.ui");
  gtk_widget_class_bind_template_child (widget_class, MelSampleRow, title_label);
  gtk_widget_class_bind_template_child (widget_class, MelSampleRow, spinner);
  gtk_widget_class_bind_template_child (widget_class, MelSampleRow, play_button);
  gtk_widget_class_bind_template_child (widget_class, MelSampleRow, score_box);

  gtk_widget_class_install_action (widget_class, "sample.play", NULL, play_action);
  gtk_widget_class_install_action (widget_class, "sample.export", "s", export_action);

  /* MelSampleRow::exported (GError *error): an export ended (error NULL on success). */
  signals[SIGNAL_EXPORTED] = g_signal_new ("exported", G_TYPE_FROM_CLASS (klass),
                                           G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL, G_TYPE_NONE, 1,
                                           G_TYPE_ERROR);
}

static void
mel_sample_row_init (MelSampleRow *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  self->cancellable = g_cancellable_new ();
  self->score = _mel_score_widget_new ();
  gtk_box_append (self->score_box, self->score);
}

GtkWidget *
mel_sample_row_new (MelSong *song, const char *title, MelPlayer *player, double tempo)
{
  MelSampleRow *self;

  g_return_val_if_fail (song != NULL, NULL);
  g_return_val_if_fail (MEL_IS_PLAYER (player), NULL);

  self = g_object_new (MEL_TYPE_SAMPLE_ROW, NULL);
  self->song = mel_song_ref (song);
  self->title = g_strdup (title);
  self->player = g_object_ref (player);
  self->tempo = tempo;
  {
    /* The score shows the title; the row says what it holds. */
    g_autofree char *summary = g_strdup_printf (_("%s · %u bars · %u notes"), title,
                                                song->bars->len, mel_song_get_n_notes (song));
    gtk_label_set_label (self->title_label, summary);
  }
  _mel_score_widget_set_song (self->score, song);
  g_signal_connect_object (player, "notify::state", G_CALLBACK (player_changed_cb), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (player, "notify::position", G_CALLBACK (player_changed_cb), self,
                           G_CONNECT_SWAPPED);
  return GTK_WIDGET (self);
}

GtkWidget *
mel_sample_row_get_score_view (MelSampleRow *self)
{
  g_return_val_if_fail (MEL_IS_SAMPLE_ROW (self), NULL);
  return self->score;
}

void
mel_sample_row_add_extra (MelSampleRow *self, GtkWidget *child)
{
  g_return_if_fail (MEL_IS_SAMPLE_ROW (self));
  g_return_if_fail (GTK_IS_WIDGET (child));
  gtk_box_append (self->score_box, child);
}
