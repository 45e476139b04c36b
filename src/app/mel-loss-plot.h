/* mel-loss-plot.h — live training and validation loss of several runs.
 *
 * Each run is a series named by its run id, drawn in its own colour:
 * training loss as a thin line over optimizer steps, validation loss as a
 * thicker line with dots at the ends of epochs.  Hovering shows the values
 * nearest to the pointer.  The y axis can be logarithmic.
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

typedef enum
{
  MEL_LOSS_TRAIN,
  MEL_LOSS_VALID,
} MelLossKind;

#define MEL_TYPE_LOSS_PLOT (mel_loss_plot_get_type ())
G_DECLARE_FINAL_TYPE (MelLossPlot, mel_loss_plot, MEL, LOSS_PLOT, GtkWidget)

GtkWidget *mel_loss_plot_new (void);

/* Adds a series (or renames it when @series_id exists).  @label is shown
 * in the legend.  Colours are assigned in order of addition. */
void mel_loss_plot_add_series (MelLossPlot *self, const char *series_id, const char *label);
void mel_loss_plot_remove_series (MelLossPlot *self, const char *series_id);
/* Forgets the points of a series. */
void mel_loss_plot_clear_series (MelLossPlot *self, const char *series_id);
/* Appends a point: @step on the x axis, @loss in nats per symbol.
 * Non-finite losses are ignored. */
void mel_loss_plot_add_point (MelLossPlot *self, const char *series_id, MelLossKind kind,
                              double step, double loss);
/* Number of points of one kind in a series (0 for an unknown series). */
guint mel_loss_plot_get_n_points (MelLossPlot *self, const char *series_id, MelLossKind kind);
/* The colour of a series (for the run cards); FALSE when unknown. */
gboolean mel_loss_plot_get_series_color (MelLossPlot *self, const char *series_id, GdkRGBA *color);

gboolean mel_loss_plot_get_log_scale (MelLossPlot *self);
void mel_loss_plot_set_log_scale (MelLossPlot *self, gboolean log_scale);

G_END_DECLS
