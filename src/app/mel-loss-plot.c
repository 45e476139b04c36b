/* mel-loss-plot.c — loss curves of several runs, drawn with cairo.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <math.h>

#include <glib/gi18n.h>

#include "mel-loss-plot.h"

#define MARGIN_LEFT 52.0
#define MARGIN_RIGHT 14.0
#define MARGIN_TOP 10.0
#define MARGIN_BOTTOM 26.0

typedef struct
{
  double x, y;
} Point;

typedef struct
{
  char *id;
  char *label;
  guint colour;
  GArray *points[2]; /* Point, by MelLossKind, x ascending */
} Series;

struct _MelLossPlot
{
  GtkWidget parent_instance;

  GPtrArray *series; /* Series* */
  guint next_colour;
  gboolean log_scale;
  double hover_x;    /* widget x of the pointer, or -1 */
};

G_DEFINE_FINAL_TYPE (MelLossPlot, mel_loss_plot, GTK_TYPE_WIDGET)

enum
{
  PROP_0,
  PROP_LOG_SCALE,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

/* The GNOME palette: blue, orange, green, purple, red, brown, yellow. */
static const GdkRGBA palette[] = {
  { 0x1c / 255.0, 0x71 / 255.0, 0xd8 / 255.0, 1 },
  { 0xe6 / 255.0, 0x61 / 255.0, 0x00 / 255.0, 1 },
  { 0x2e / 255.0, 0xc2 / 255.0, 0x7e / 255.0, 1 },
  { 0x91 / 255.0, 0x41 / 255.0, 0xac / 255.0, 1 },
  { 0xe0 / 255.0, 0x1b / 255.0, 0x24 / 255.0, 1 },
  { 0x98 / 255.0, 0x6a / 255.0, 0x44 / 255.0, 1 },
  { 0xf5 / 255.0, 0xc2 / 255.0, 0x11 / 255.0, 1 },
};

static void
series_free (Series *series)
{
  g_free (series->id);
  g_free (series->label);
  g_array_unref (series->points[0]);
  g_array_unref (series->points[1]);
  g_free (series);
}

static Series *
find_series (MelLossPlot *self, const char *id)
{
  for (guint i = 0; i < self->series->len; i++)
    {
      Series *series = g_ptr_array_index (self->series, i);
      if (g_strcmp0 (series->id, id) == 0)
        return series;
    }
  return NULL;
}

typedef struct
{
  double x0, x1, y0, y1; /* data range (y already log10 when log scale) */
  double left, right, top, bottom; /* plot area in widget coordinates */
} Frame;

static double
transform_y (MelLossPlot *self, double y)
{
  return self->log_scale ? log10 (MAX (y, 1e-6)) : y;
}

static gboolean
compute_frame (MelLossPlot *self, double width, double height, Frame *frame)
{
  gboolean any = FALSE;

  frame->x0 = 0;
  frame->x1 = 1;
  frame->y0 = G_MAXDOUBLE;
  frame->y1 = -G_MAXDOUBLE;
  for (guint i = 0; i < self->series->len; i++)
    {
      Series *series = g_ptr_array_index (self->series, i);
      for (guint k = 0; k < 2; k++)
        for (guint p = 0; p < series->points[k]->len; p++)
          {
            Point *point = &g_array_index (series->points[k], Point, p);
            double y = transform_y (self, point->y);
            frame->x1 = MAX (frame->x1, point->x);
            frame->y0 = MIN (frame->y0, y);
            frame->y1 = MAX (frame->y1, y);
            any = TRUE;
          }
    }
  if (!any)
    return FALSE;
  if (frame->y1 - frame->y0 < 1e-6)
    {
      frame->y0 -= 0.5;
      frame->y1 += 0.5;
    }
  else
    {
      double pad = (frame->y1 - frame->y0) * 0.05;
      frame->y0 -= pad;
      frame->y1 += pad;
    }
  if (!self->log_scale)
    frame->y0 = MAX (frame->y0, 0.0);
  frame->left = MARGIN_LEFT;
  frame->right = width - MARGIN_RIGHT;
  frame->top = MARGIN_TOP;
  frame->bottom = height - MARGIN_BOTTOM;
  return frame->right > frame->left && frame->bottom > frame->top;
}

static double
frame_x (const Frame *frame, double x)
{
  return frame->left + (x - frame->x0) / (frame->x1 - frame->x0) * (frame->right - frame->left);
}

static double
frame_y (const Frame *frame, double y)
{
  return frame->bottom - (y - frame->y0) / (frame->y1 - frame->y0) * (frame->bottom - frame->top);
}

/* A "nice" tick spacing (1, 2 or 5 × 10^n) for about @count ticks over @range. */
static double
nice_step (double range, int count)
{
  double raw = range / MAX (count, 1);
  double magnitude = pow (10, floor (log10 (raw)));
  double fraction = raw / magnitude;

  if (fraction < 1.5)
    return magnitude;
  if (fraction < 3.5)
    return 2 * magnitude;
  if (fraction < 7.5)
    return 5 * magnitude;
  return 10 * magnitude;
}

static void
show_text (cairo_t *cr, PangoLayout *layout, const char *text, double x, double y, double align_x,
           double align_y)
{
  int w, h;

  pango_layout_set_text (layout, text, -1);
  pango_layout_get_pixel_size (layout, &w, &h);
  cairo_move_to (cr, x - w * align_x, y - h * align_y);
  pango_cairo_show_layout (cr, layout);
}

static void
draw_axes (MelLossPlot *self, cairo_t *cr, PangoLayout *layout, const Frame *frame,
           const GdkRGBA *fg)
{
  double step;

  cairo_set_line_width (cr, 1.0);
  /* y grid and labels */
  step = nice_step (frame->y1 - frame->y0, 5);
  for (double y = ceil (frame->y0 / step) * step; y <= frame->y1 + 1e-9; y += step)
    {
      char text[32];
      double py = round (frame_y (frame, y)) + 0.5;

      cairo_set_source_rgba (cr, fg->red, fg->green, fg->blue, 0.12);
      cairo_move_to (cr, frame->left, py);
      cairo_line_to (cr, frame->right, py);
      cairo_stroke (cr);
      g_snprintf (text, sizeof text, "%.3g", self->log_scale ? pow (10, y) : y);
      cairo_set_source_rgba (cr, fg->red, fg->green, fg->blue, 0.7);
      show_text (cr, layout, text, frame->left - 6, py, 1.0, 0.5);
    }
  /* x labels */
  step = MAX (nice_step (frame->x1 - frame->x0, 6), 1.0);
  for (double x = ceil (frame->x0 / step) * step; x <= frame->x1 + 1e-9; x += step)
    {
      char text[32];
      double px = round (frame_x (frame, x)) + 0.5;

      cairo_set_source_rgba (cr, fg->red, fg->green, fg->blue, 0.12);
      cairo_move_to (cr, px, frame->top);
      cairo_line_to (cr, px, frame->bottom);
      cairo_stroke (cr);
      g_snprintf (text, sizeof text, "%.0f", x);
      cairo_set_source_rgba (cr, fg->red, fg->green, fg->blue, 0.7);
      show_text (cr, layout, text, px, frame->bottom + 4, 0.5, 0.0);
    }
  cairo_set_source_rgba (cr, fg->red, fg->green, fg->blue, 0.4);
  cairo_rectangle (cr, frame->left + 0.5, frame->top + 0.5, frame->right - frame->left - 1,
                   frame->bottom - frame->top - 1);
  cairo_stroke (cr);
}

static void
draw_series (MelLossPlot *self, cairo_t *cr, const Frame *frame, Series *series)
{
  const GdkRGBA *colour = &palette[series->colour % G_N_ELEMENTS (palette)];

  for (guint k = 0; k < 2; k++)
    {
      GArray *points = series->points[k];
      gboolean valid = k == MEL_LOSS_VALID;

      if (points->len == 0)
        continue;
      cairo_set_source_rgba (cr, colour->red, colour->green, colour->blue, valid ? 1.0 : 0.55);
      cairo_set_line_width (cr, valid ? 2.5 : 1.2);
      if (valid)
        cairo_set_dash (cr, (double[]) { 6.0, 3.0 }, 2, 0);
      for (guint p = 0; p < points->len; p++)
        {
          Point *point = &g_array_index (points, Point, p);
          double px = frame_x (frame, point->x);
          double py = frame_y (frame, transform_y (self, point->y));
          if (p == 0)
            cairo_move_to (cr, px, py);
          else
            cairo_line_to (cr, px, py);
        }
      cairo_stroke (cr);
      cairo_set_dash (cr, NULL, 0, 0);
      if (valid)
        for (guint p = 0; p < points->len; p++)
          {
            Point *point = &g_array_index (points, Point, p);
            cairo_arc (cr, frame_x (frame, point->x),
                       frame_y (frame, transform_y (self, point->y)), 3.5, 0, 2 * G_PI);
            cairo_fill (cr);
          }
    }
}

static void
draw_legend (MelLossPlot *self, cairo_t *cr, PangoLayout *layout, const Frame *frame,
             const GdkRGBA *fg)
{
  double y = frame->top + 6;
  int widest = 0;

  /* Loss curves fall from the top left: the top right corner is free. */
  for (guint i = 0; i < self->series->len; i++)
    {
      Series *series = g_ptr_array_index (self->series, i);
      int w, h;
      pango_layout_set_text (layout, series->label, -1);
      pango_layout_get_pixel_size (layout, &w, &h);
      widest = MAX (widest, w);
    }
  for (guint i = 0; i < self->series->len; i++)
    {
      Series *series = g_ptr_array_index (self->series, i);
      const GdkRGBA *colour = &palette[series->colour % G_N_ELEMENTS (palette)];
      double x = frame->right - widest - 34;

      gdk_cairo_set_source_rgba (cr, colour);
      cairo_rectangle (cr, x, y + 5, 14, 4);
      cairo_fill (cr);
      cairo_set_source_rgba (cr, fg->red, fg->green, fg->blue, 0.85);
      show_text (cr, layout, series->label, x + 20, y, 0.0, 0.0);
      y += 16;
    }
}

/* The last point of @points at or before @x, or NULL. */
static Point *
point_before (GArray *points, double x)
{
  Point *found = NULL;

  for (guint p = 0; p < points->len; p++)
    {
      Point *point = &g_array_index (points, Point, p);
      if (point->x > x)
        break;
      found = point;
    }
  return found;
}

static void
draw_hover (MelLossPlot *self, cairo_t *cr, PangoLayout *layout, const Frame *frame,
            const GdkRGBA *fg)
{
  double step;
  g_autoptr(GString) text = g_string_new (NULL);
  int w, h;
  double bx, by;

  if (self->hover_x < frame->left || self->hover_x > frame->right)
    return;
  step = frame->x0 + (self->hover_x - frame->left) / (frame->right - frame->left)
                     * (frame->x1 - frame->x0);

  cairo_set_source_rgba (cr, fg->red, fg->green, fg->blue, 0.5);
  cairo_set_line_width (cr, 1.0);
  cairo_move_to (cr, round (self->hover_x) + 0.5, frame->top);
  cairo_line_to (cr, round (self->hover_x) + 0.5, frame->bottom);
  cairo_stroke (cr);

  g_string_append_printf (text, _("step %.0f"), step);
  for (guint i = 0; i < self->series->len; i++)
    {
      Series *series = g_ptr_array_index (self->series, i);
      Point *train = point_before (series->points[MEL_LOSS_TRAIN], step);
      Point *valid = point_before (series->points[MEL_LOSS_VALID], step);

      g_string_append_printf (text, "\n%s: ", series->label);
      if (train != NULL)
        g_string_append_printf (text, _("train %.3f"), train->y);
      if (valid != NULL)
        g_string_append_printf (text, _("  valid %.3f"), valid->y);
      if (train == NULL && valid == NULL)
        g_string_append (text, "—");
    }

  pango_layout_set_text (layout, text->str, -1);
  pango_layout_get_pixel_size (layout, &w, &h);
  bx = self->hover_x + 10 + w + 12 > frame->right ? self->hover_x - w - 22 : self->hover_x + 10;
  by = frame->top + 6;
  cairo_set_source_rgba (cr, 1 - fg->red, 1 - fg->green, 1 - fg->blue, 0.9);
  cairo_rectangle (cr, bx, by, w + 12, h + 8);
  cairo_fill (cr);
  cairo_set_source_rgba (cr, fg->red, fg->green, fg->blue, 0.95);
  cairo_move_to (cr, bx + 6, by + 4);
  pango_cairo_show_layout (cr, layout);
}

static void
mel_loss_plot_snapshot (GtkWidget *widget, GtkSnapshot *snapshot)
{
  MelLossPlot *self = MEL_LOSS_PLOT (widget);
  double width = gtk_widget_get_width (widget);
  double height = gtk_widget_get_height (widget);
  g_autoptr(PangoLayout) layout = NULL;
  PangoFontDescription *font;
  Frame frame;
  cairo_t *cr;
  GdkRGBA fg;

  if (!compute_frame (self, width, height, &frame))
    return;

  gtk_style_context_get_color (gtk_widget_get_style_context (widget), &fg);
  cr = gtk_snapshot_append_cairo (snapshot, &GRAPHENE_RECT_INIT (0, 0, width, height));
  layout = gtk_widget_create_pango_layout (widget, NULL);
  font = pango_font_description_from_string ("9");
  pango_layout_set_font_description (layout, font);
  pango_font_description_free (font);

  draw_axes (self, cr, layout, &frame, &fg);
  cairo_save (cr);
  cairo_rectangle (cr, frame.left, frame.top, frame.right - frame.left, frame.bottom - frame.top);
  cairo_clip (cr);
  for (guint i = 0; i < self->series->len; i++)
    draw_series (self, cr, &frame, g_ptr_array_index (self->series, i));
  cairo_restore (cr);
  draw_legend (self, cr, layout, &frame, &fg);
  draw_hover (self, cr, layout, &frame, &fg);
  cairo_destroy (cr);
}

static void
mel_loss_plot_measure (GtkWidget *widget, GtkOrientation orientation, int for_size, int *minimum,
                       int *natural, int *minimum_baseline, int *natural_baseline)
{
  *minimum = orientation == GTK_ORIENTATION_HORIZONTAL ? 240 : 160;
  *natural = orientation == GTK_ORIENTATION_HORIZONTAL ? 600 : 300;
}

static void
motion_cb (GtkEventControllerMotion *controller, double x, double y, MelLossPlot *self)
{
  self->hover_x = x;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

static void
leave_cb (GtkEventControllerMotion *controller, MelLossPlot *self)
{
  self->hover_x = -1;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

static void
mel_loss_plot_finalize (GObject *object)
{
  MelLossPlot *self = MEL_LOSS_PLOT (object);

  g_ptr_array_unref (self->series);
  G_OBJECT_CLASS (mel_loss_plot_parent_class)->finalize (object);
}

static void
mel_loss_plot_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  MelLossPlot *self = MEL_LOSS_PLOT (object);

  switch (prop_id)
    {
    case PROP_LOG_SCALE:
      g_value_set_boolean (value, self->log_scale);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
mel_loss_plot_set_property (GObject *object, guint prop_id, const GValue *value,
                            GParamSpec *pspec)
{
  MelLossPlot *self = MEL_LOSS_PLOT (object);

  switch (prop_id)
    {
    case PROP_LOG_SCALE:
      mel_loss_plot_set_log_scale (self, g_value_get_boolean (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
mel_loss_plot_class_init (MelLossPlotClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->finalize = mel_loss_plot_finalize;
  object_class->get_property = mel_loss_plot_get_property;
  object_class->set_property = mel_loss_plot_set_property;
  widget_class->snapshot = mel_loss_plot_snapshot;
  widget_class->measure = mel_loss_plot_measure;

  properties[PROP_LOG_SCALE] = g_param_spec_boolean ("log-scale", NULL, NULL, FALSE,
                                                     G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY
                                                     | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);
  gtk_widget_class_set_css_name (widget_class, "lossplot");
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_IMG);
}

static void
mel_loss_plot_init (MelLossPlot *self)
{
  GtkEventController *motion = gtk_event_controller_motion_new ();

  self->series = g_ptr_array_new_with_free_func ((GDestroyNotify) series_free);
  self->hover_x = -1;
  g_signal_connect (motion, "motion", G_CALLBACK (motion_cb), self);
  g_signal_connect (motion, "leave", G_CALLBACK (leave_cb), self);
  gtk_widget_add_controller (GTK_WIDGET (self), motion);
}

GtkWidget *
mel_loss_plot_new (void)
{
  return g_object_new (MEL_TYPE_LOSS_PLOT, NULL);
}

void
mel_loss_plot_add_series (MelLossPlot *self, const char *series_id, const char *label)
{
  Series *series;

  g_return_if_fail (MEL_IS_LOSS_PLOT (self));
  g_return_if_fail (series_id != NULL);

  series = find_series (self, series_id);
  if (series == NULL)
    {
      series = g_new0 (Series, 1);
      series->id = g_strdup (series_id);
      series->colour = self->next_colour++;
      series->points[0] = g_array_new (FALSE, FALSE, sizeof (Point));
      series->points[1] = g_array_new (FALSE, FALSE, sizeof (Point));
      g_ptr_array_add (self->series, series);
    }
  g_free (series->label);
  series->label = g_strdup (label != NULL ? label : series_id);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

void
mel_loss_plot_remove_series (MelLossPlot *self, const char *series_id)
{
  Series *series;

  g_return_if_fail (MEL_IS_LOSS_PLOT (self));

  series = find_series (self, series_id);
  if (series != NULL)
    {
      g_ptr_array_remove (self->series, series);
      gtk_widget_queue_draw (GTK_WIDGET (self));
    }
}

void
mel_loss_plot_clear_series (MelLossPlot *self, const char *series_id)
{
  Series *series;

  g_return_if_fail (MEL_IS_LOSS_PLOT (self));

  series = find_series (self, series_id);
  if (series != NULL)
    {
      g_array_set_size (series->points[0], 0);
      g_array_set_size (series->points[1], 0);
      gtk_widget_queue_draw (GTK_WIDGET (self));
    }
}

void
mel_loss_plot_add_point (MelLossPlot *self, const char *series_id, MelLossKind kind, double step,
                         double loss)
{
  Series *series;
  Point point = { step, loss };

  g_return_if_fail (MEL_IS_LOSS_PLOT (self));
  g_return_if_fail (kind == MEL_LOSS_TRAIN || kind == MEL_LOSS_VALID);

  series = find_series (self, series_id);
  if (series == NULL || !isfinite (loss) || !isfinite (step))
    return;
  g_array_append_val (series->points[kind], point);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

guint
mel_loss_plot_get_n_points (MelLossPlot *self, const char *series_id, MelLossKind kind)
{
  Series *series;

  g_return_val_if_fail (MEL_IS_LOSS_PLOT (self), 0);
  g_return_val_if_fail (kind == MEL_LOSS_TRAIN || kind == MEL_LOSS_VALID, 0);

  series = find_series (self, series_id);
  return series != NULL ? series->points[kind]->len : 0;
}

gboolean
mel_loss_plot_get_series_color (MelLossPlot *self, const char *series_id, GdkRGBA *color)
{
  Series *series;

  g_return_val_if_fail (MEL_IS_LOSS_PLOT (self), FALSE);

  series = find_series (self, series_id);
  if (series == NULL)
    return FALSE;
  if (color != NULL)
    *color = palette[series->colour % G_N_ELEMENTS (palette)];
  return TRUE;
}

gboolean
mel_loss_plot_get_log_scale (MelLossPlot *self)
{
  g_return_val_if_fail (MEL_IS_LOSS_PLOT (self), FALSE);
  return self->log_scale;
}

void
mel_loss_plot_set_log_scale (MelLossPlot *self, gboolean log_scale)
{
  g_return_if_fail (MEL_IS_LOSS_PLOT (self));

  log_scale = !!log_scale;
  if (self->log_scale == log_scale)
    return;
  self->log_scale = log_scale;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_LOG_SCALE]);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}
