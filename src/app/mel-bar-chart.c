/* mel-bar-chart.c — a small labelled bar chart drawn with cairo.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <math.h>

#include "mel-bar-chart.h"

#define TITLE_HEIGHT 18.0
#define LABEL_HEIGHT 16.0

struct _MelBarChart
{
  GtkWidget parent_instance;

  char *title;
  GPtrArray *labels; /* char*, may hold NULL */
  GArray *values;    /* double */
};

G_DEFINE_FINAL_TYPE (MelBarChart, mel_bar_chart, GTK_TYPE_WIDGET)

enum
{
  PROP_0,
  PROP_TITLE,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static double
max_value (MelBarChart *self)
{
  double max = 0.0;

  for (guint i = 0; i < self->values->len; i++)
    max = MAX (max, g_array_index (self->values, double, i));
  return max;
}

/* The horizontal slot of bar @i in a widget @width wide. */
static void
bar_slot (MelBarChart *self, double width, guint i, double *x, double *w)
{
  double slot = width / MAX (self->values->len, 1);

  *x = i * slot + slot * 0.12;
  *w = MAX (slot * 0.76, 1.0);
}

static void
draw_text (cairo_t *cr, PangoLayout *layout, const char *text, double cx, double y,
           gboolean centred)
{
  int tw, th;

  pango_layout_set_text (layout, text, -1);
  pango_layout_get_pixel_size (layout, &tw, &th);
  cairo_move_to (cr, centred ? cx - tw / 2.0 : cx, y);
  pango_cairo_show_layout (cr, layout);
}

static void
mel_bar_chart_snapshot (GtkWidget *widget, GtkSnapshot *snapshot)
{
  MelBarChart *self = MEL_BAR_CHART (widget);
  double width = gtk_widget_get_width (widget);
  double height = gtk_widget_get_height (widget);
  double plot_top = TITLE_HEIGHT + 4.0;
  double plot_bottom = height - LABEL_HEIGHT;
  double max = max_value (self);
  g_autoptr(PangoLayout) layout = NULL;
  cairo_t *cr;
  GdkRGBA fg;
  /* Fewer labels than bars when they would not fit. */
  guint label_every;

  if (width <= 0 || height <= plot_top + LABEL_HEIGHT)
    return;

  gtk_style_context_get_color (gtk_widget_get_style_context (widget), &fg);
  cr = gtk_snapshot_append_cairo (snapshot, &GRAPHENE_RECT_INIT (0, 0, width, height));
  layout = gtk_widget_create_pango_layout (widget, NULL);

  if (self->title != NULL)
    {
      PangoAttrList *attrs = pango_attr_list_new ();
      pango_attr_list_insert (attrs, pango_attr_weight_new (PANGO_WEIGHT_BOLD));
      pango_layout_set_attributes (layout, attrs);
      gdk_cairo_set_source_rgba (cr, &fg);
      draw_text (cr, layout, self->title, 0, 0, FALSE);
      pango_layout_set_attributes (layout, NULL);
      pango_attr_list_unref (attrs);
    }

  /* Base line. */
  cairo_set_source_rgba (cr, fg.red, fg.green, fg.blue, 0.3);
  cairo_rectangle (cr, 0, plot_bottom, width, 1);
  cairo_fill (cr);

  label_every = 1;
  while (self->values->len / label_every > MAX (width / 26.0, 1.0))
    label_every++;

  for (guint i = 0; i < self->values->len; i++)
    {
      double value = g_array_index (self->values, double, i);
      double x, w, h;
      const char *label = g_ptr_array_index (self->labels, i);

      bar_slot (self, width, i, &x, &w);
      h = max > 0 ? (plot_bottom - plot_top) * value / max : 0.0;
      /* Adwaita's accent blue. */
      cairo_set_source_rgb (cr, 0x35 / 255.0, 0x84 / 255.0, 0xe4 / 255.0);
      cairo_rectangle (cr, x, plot_bottom - h, w, h);
      cairo_fill (cr);

      if (label != NULL && i % label_every == 0)
        {
          PangoFontDescription *font = pango_font_description_from_string ("8");
          pango_layout_set_font_description (layout, font);
          pango_font_description_free (font);
          cairo_set_source_rgba (cr, fg.red, fg.green, fg.blue, 0.75);
          draw_text (cr, layout, label, x + w / 2, plot_bottom + 2, TRUE);
          pango_layout_set_font_description (layout, NULL);
        }
    }
  cairo_destroy (cr);
}

static void
mel_bar_chart_measure (GtkWidget *widget, GtkOrientation orientation, int for_size, int *minimum,
                       int *natural, int *minimum_baseline, int *natural_baseline)
{
  if (orientation == GTK_ORIENTATION_HORIZONTAL)
    {
      *minimum = 120;
      *natural = 260;
    }
  else
    {
      *minimum = 90;
      *natural = 130;
    }
}

static gboolean
query_tooltip_cb (GtkWidget *widget, int x, int y, gboolean keyboard, GtkTooltip *tooltip,
                  gpointer user_data)
{
  MelBarChart *self = MEL_BAR_CHART (widget);
  double width = gtk_widget_get_width (widget);
  g_autofree char *text = NULL;
  guint i;

  if (self->values->len == 0 || width <= 0)
    return FALSE;
  i = (guint) CLAMP (x / (width / self->values->len), 0, self->values->len - 1);
  text = g_strdup_printf ("%s: %g",
                          g_ptr_array_index (self->labels, i) != NULL
                          ? (const char *) g_ptr_array_index (self->labels, i) : "",
                          g_array_index (self->values, double, i));
  gtk_tooltip_set_text (tooltip, text);
  return TRUE;
}

static void
mel_bar_chart_finalize (GObject *object)
{
  MelBarChart *self = MEL_BAR_CHART (object);

  g_free (self->title);
  g_ptr_array_unref (self->labels);
  g_array_unref (self->values);
  G_OBJECT_CLASS (mel_bar_chart_parent_class)->finalize (object);
}

static void
mel_bar_chart_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  MelBarChart *self = MEL_BAR_CHART (object);

  switch (prop_id)
    {
    case PROP_TITLE:
      g_value_set_string (value, self->title);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
mel_bar_chart_set_property (GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
  MelBarChart *self = MEL_BAR_CHART (object);

  switch (prop_id)
    {
    case PROP_TITLE:
      mel_bar_chart_set_title (self, g_value_get_string (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
mel_bar_chart_class_init (MelBarChartClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->finalize = mel_bar_chart_finalize;
  object_class->get_property = mel_bar_chart_get_property;
  object_class->set_property = mel_bar_chart_set_property;
  widget_class->snapshot = mel_bar_chart_snapshot;
  widget_class->measure = mel_bar_chart_measure;

  properties[PROP_TITLE] = g_param_spec_string ("title", NULL, NULL, NULL,
                                                G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY
                                                | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);
  gtk_widget_class_set_css_name (widget_class, "barchart");
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_IMG);
}

static void
mel_bar_chart_init (MelBarChart *self)
{
  self->labels = g_ptr_array_new_with_free_func (g_free);
  self->values = g_array_new (FALSE, FALSE, sizeof (double));
  gtk_widget_set_has_tooltip (GTK_WIDGET (self), TRUE);
  g_signal_connect (self, "query-tooltip", G_CALLBACK (query_tooltip_cb), NULL);
}

GtkWidget *
mel_bar_chart_new (void)
{
  return g_object_new (MEL_TYPE_BAR_CHART, NULL);
}

void
mel_bar_chart_set_data (MelBarChart *self, const char *const *labels, const double *values,
                        guint n)
{
  g_return_if_fail (MEL_IS_BAR_CHART (self));
  g_return_if_fail (n == 0 || values != NULL);

  g_ptr_array_set_size (self->labels, 0);
  g_array_set_size (self->values, 0);
  for (guint i = 0; i < n; i++)
    {
      g_ptr_array_add (self->labels, g_strdup (labels != NULL ? labels[i] : NULL));
      g_array_append_val (self->values, values[i]);
    }
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

guint
mel_bar_chart_get_n_bars (MelBarChart *self)
{
  g_return_val_if_fail (MEL_IS_BAR_CHART (self), 0);
  return self->values->len;
}

double
mel_bar_chart_get_value (MelBarChart *self, guint index)
{
  g_return_val_if_fail (MEL_IS_BAR_CHART (self), 0.0);
  return index < self->values->len ? g_array_index (self->values, double, index) : 0.0;
}

const char *
mel_bar_chart_get_title (MelBarChart *self)
{
  g_return_val_if_fail (MEL_IS_BAR_CHART (self), NULL);
  return self->title;
}

void
mel_bar_chart_set_title (MelBarChart *self, const char *title)
{
  g_return_if_fail (MEL_IS_BAR_CHART (self));

  if (g_strcmp0 (self->title, title) != 0)
    {
      g_free (self->title);
      self->title = g_strdup (title);
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_TITLE]);
      gtk_widget_queue_draw (GTK_WIDGET (self));
    }
}
