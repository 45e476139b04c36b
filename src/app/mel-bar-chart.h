/* mel-bar-chart.h — a small labelled bar chart (histograms of the corpus).
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define MEL_TYPE_BAR_CHART (mel_bar_chart_get_type ())
G_DECLARE_FINAL_TYPE (MelBarChart, mel_bar_chart, MEL, BAR_CHART, GtkWidget)

GtkWidget *mel_bar_chart_new (void);

/* Replaces the bars: @n values with their @labels (both copied; @labels may
 * hold NULL entries for bars without a label under them). */
void mel_bar_chart_set_data (MelBarChart *self, const char *const *labels, const double *values,
                             guint n);
guint mel_bar_chart_get_n_bars (MelBarChart *self);
/* Value of bar @index (0 when out of range). */
double mel_bar_chart_get_value (MelBarChart *self, guint index);

const char *mel_bar_chart_get_title (MelBarChart *self);
void mel_bar_chart_set_title (MelBarChart *self, const char *title);

G_END_DECLS
