/* mel-run-card.c — one run in the Train view.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <inttypes.h>
#include <math.h>

#include <glib/gi18n.h>

#include "mel-app-private.h"
#include "mel-run-card.h"

struct _MelRunCard
{
  AdwBin parent_instance;

  GtkLabel *swatch;
  GtkLabel *title_label;
  GtkLabel *status_label;
  GtkButton *pause_button;
  GtkButton *stop_button;
  GtkButton *generate_button;
  GtkButton *delete_button;
  GtkProgressBar *progress_bar;
  GtkLabel *figures_label;

  MelRun *run;
};

G_DEFINE_FINAL_TYPE (MelRunCard, mel_run_card, ADW_TYPE_BIN)

enum
{
  SIGNAL_RESUME,
  SIGNAL_GENERATE,
  SIGNAL_DELETE,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static char *
describe_figures (MelRun *run)
{
  g_autoptr(GString) text = g_string_new (NULL);
  double best = mel_run_get_best_valid_loss (run);

  g_string_append_printf (text, _("Epoch %u of %u · step %" PRIu64),
                          mel_run_get_epoch (run), mel_run_get_n_epochs (run),
                          mel_run_get_step (run));
  if (mel_run_is_active (run) && isfinite (mel_run_get_tokens_per_second (run)))
    {
      g_autofree char *eta = _mel_format_duration (mel_run_get_eta_seconds (run));
      g_string_append_printf (text, _(" · %.0f symbols/s · %s left"),
                              mel_run_get_tokens_per_second (run), eta);
    }
  if (isfinite (best))
    g_string_append_printf (text, _("\nBest validation (epoch %u): %.3f nats = %.3f bits per "
                                    "symbol, %.1f %% of note onsets right"),
                            mel_run_get_best_epoch (run), best, mel_run_get_best_valid_bits (run),
                            100.0 * mel_run_get_best_onset_accuracy (run));
  return g_string_free (g_steal_pointer (&text), FALSE);
}

static void
update (MelRunCard *self)
{
  MelRun *run = self->run;
  MelRunStatus status = mel_run_get_status (run);
  gboolean active = mel_run_is_active (run);
  gboolean has_dir = mel_run_get_dir (run) != NULL;
  g_autofree char *status_text = mel_run_dup_status_text (run);
  g_autofree char *figures = describe_figures (run);

  gtk_label_set_label (self->title_label, mel_run_get_label (run));
  gtk_label_set_label (self->status_label, status_text);
  gtk_label_set_label (self->figures_label, figures);
  gtk_progress_bar_set_fraction (self->progress_bar, mel_run_get_fraction (run));
  gtk_widget_set_visible (GTK_WIDGET (self->progress_bar), has_dir);

  gtk_button_set_icon_name (self->pause_button, active ? "media-playback-pause-symbolic"
                                                       : "media-playback-start-symbolic");
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->pause_button), active ? _("Pause") : _("Resume"));
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "card.pause-resume",
                                 active || mel_run_can_resume (run));
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "card.stop",
                                 active || status == MEL_RUN_PAUSED);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "card.generate",
                                 mel_run_get_checkpoint_path (run) != NULL);
  gtk_widget_set_visible (GTK_WIDGET (self->pause_button), has_dir);
  gtk_widget_set_visible (GTK_WIDGET (self->stop_button), has_dir);
}

static void
pause_resume_action (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  MelRunCard *self = MEL_RUN_CARD (widget);

  if (mel_run_is_active (self->run))
    mel_run_pause (self->run);
  else
    g_signal_emit (self, signals[SIGNAL_RESUME], 0);
}

static void
stop_action (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  mel_run_stop (MEL_RUN_CARD (widget)->run);
}

static void
generate_action (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  g_signal_emit (widget, signals[SIGNAL_GENERATE], 0);
}

static void
delete_action (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  g_signal_emit (widget, signals[SIGNAL_DELETE], 0);
}

static void
mel_run_card_dispose (GObject *object)
{
  MelRunCard *self = MEL_RUN_CARD (object);

  gtk_widget_dispose_template (GTK_WIDGET (self), MEL_TYPE_RUN_CARD);
  g_clear_object (&self->run);
  G_OBJECT_CLASS (mel_run_card_parent_class)->dispose (object);
}

static void
mel_run_card_class_init (MelRunCardClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = mel_run_card_dispose;

  _mel_app_ensure_resources ();
  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/melodist/Melodist/ui/mel-run-card.ui");
  gtk_widget_class_bind_template_child (widget_class, MelRunCard, swatch);
  gtk_widget_class_bind_template_child (widget_class, MelRunCard, title_label);
  gtk_widget_class_bind_template_child (widget_class, MelRunCard, status_label);
  gtk_widget_class_bind_template_child (widget_class, MelRunCard, pause_button);
  gtk_widget_class_bind_template_child (widget_class, MelRunCard, stop_button);
  gtk_widget_class_bind_template_child (widget_class, MelRunCard, generate_button);
  gtk_widget_class_bind_template_child (widget_class, MelRunCard, delete_button);
  gtk_widget_class_bind_template_child (widget_class, MelRunCard, progress_bar);
  gtk_widget_class_bind_template_child (widget_class, MelRunCard, figures_label);

  gtk_widget_class_install_action (widget_class, "card.pause-resume", NULL, pause_resume_action);
  gtk_widget_class_install_action (widget_class, "card.stop", NULL, stop_action);
  gtk_widget_class_install_action (widget_class, "card.generate", NULL, generate_action);
  gtk_widget_class_install_action (widget_class, "card.delete", NULL, delete_action);

  /* MelRunCard::resume / ::generate / ::delete: the user asked for it. */
  signals[SIGNAL_RESUME] = g_signal_new ("resume", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                         0, NULL, NULL, NULL, G_TYPE_NONE, 0);
  signals[SIGNAL_GENERATE] = g_signal_new ("generate", G_TYPE_FROM_CLASS (klass),
                                           G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL, G_TYPE_NONE, 0);
  signals[SIGNAL_DELETE] = g_signal_new ("delete", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                         0, NULL, NULL, NULL, G_TYPE_NONE, 0);
}

static void
mel_run_card_init (MelRunCard *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
}

GtkWidget *
mel_run_card_new (MelRun *run, const GdkRGBA *color)
{
  MelRunCard *self;
  g_autofree char *markup = NULL;

  g_return_val_if_fail (MEL_IS_RUN (run), NULL);

  self = g_object_new (MEL_TYPE_RUN_CARD, NULL);
  self->run = g_object_ref (run);
  if (color != NULL)
    {
      g_autofree char *hex = g_strdup_printf ("#%02x%02x%02x", (int) (color->red * 255),
                                              (int) (color->green * 255),
                                              (int) (color->blue * 255));
      markup = g_strdup_printf ("<span foreground=\"%s\" size=\"x-large\">●</span>", hex);
      gtk_label_set_markup (self->swatch, markup);
    }
  g_signal_connect_object (run, "progress", G_CALLBACK (update), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (run, "notify::status", G_CALLBACK (update), self, G_CONNECT_SWAPPED);
  update (self);
  return GTK_WIDGET (self);
}

MelRun *
mel_run_card_get_run (MelRunCard *self)
{
  g_return_val_if_fail (MEL_IS_RUN_CARD (self), NULL);
  return self->run;
}
