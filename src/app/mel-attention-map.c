/* mel-attention-map.c — attention weights as a heat map.
 *
 * The map is rendered once per change into an image of steps × steps
 * pixels and scaled to the widget with nearest-neighbour filtering, so a
 * 256-step melody costs one texture, not 65,536 rectangles per frame.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <math.h>

#include <glib/gi18n.h>

#include "mel-attention-map.h"
#include "mel-dataset.h"

struct _MelAttentionMap
{
  GtkWidget parent_instance;

  float *weights;          /* n_heads × n_steps × n_steps */
  guint n_heads;
  guint n_steps;
  int head;                /* −1: mean of the heads */
  int selected_step;       /* −1: none */
  cairo_surface_t *image;  /* n_steps × n_steps, rebuilt when NULL */
  MelScoreView *score;     /* weak */
  gboolean aligned;        /* the last drawing followed the score */
  double *edges;           /* n_steps + 1 column edges of the last drawing */
};

G_DEFINE_FINAL_TYPE (MelAttentionMap, mel_attention_map, GTK_TYPE_WIDGET)

enum
{
  PROP_0,
  PROP_HEAD,
  PROP_SELECTED_STEP,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

enum
{
  SIGNAL_STEP_SELECTED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

double
mel_attention_map_get_weight (MelAttentionMap *self, guint t, guint s)
{
  gsize plane;
  double sum = 0.0;

  g_return_val_if_fail (MEL_IS_ATTENTION_MAP (self), 0.0);

  if (self->weights == NULL || t >= self->n_steps || s >= self->n_steps)
    return 0.0;
  plane = (gsize) self->n_steps * self->n_steps;
  if (self->head >= 0)
    return self->weights[(gsize) self->head * plane + (gsize) t * self->n_steps + s];
  for (guint h = 0; h < self->n_heads; h++)
    sum += self->weights[(gsize) h * plane + (gsize) t * self->n_steps + s];
  return sum / self->n_heads;
}

/* White → blue → dark red: small weights fade into the background, the
 * strongest stand out. */
static void
ramp (double v, double *r, double *g, double *b)
{
  static const double stops[3][3] = {
    { 0.98, 0.98, 1.00 },
    { 0.21, 0.42, 0.85 },
    { 0.65, 0.05, 0.15 },
  };
  double x = CLAMP (v, 0.0, 1.0) * 2.0;
  int i = x >= 1.0 ? 1 : 0;
  double f = x - i;

  *r = stops[i][0] + (stops[i + 1][0] - stops[i][0]) * f;
  *g = stops[i][1] + (stops[i + 1][1] - stops[i][1]) * f;
  *b = stops[i][2] + (stops[i + 1][2] - stops[i][2]) * f;
}

static cairo_surface_t *
render_image (MelAttentionMap *self)
{
  cairo_surface_t *image = cairo_image_surface_create (CAIRO_FORMAT_RGB24, (int) self->n_steps,
                                                       (int) self->n_steps);
  int stride = cairo_image_surface_get_stride (image);
  guint8 *data;

  cairo_surface_flush (image);
  data = cairo_image_surface_get_data (image);
  for (guint t = 0; t < self->n_steps; t++)
    {
      guint32 *row = (guint32 *) (gpointer) (data + (gsize) t * stride);
      double max = 0.0;

      /* Each row sums to 1: scale it to its own maximum so late rows,
       * spread over many steps, stay as visible as early ones. */
      for (guint s = 0; s <= t; s++)
        max = MAX (max, mel_attention_map_get_weight (self, t, s));
      for (guint s = 0; s < self->n_steps; s++)
        {
          double v = max > 0.0 ? mel_attention_map_get_weight (self, t, s) / max : 0.0;
          double r, g, b;

          ramp (v, &r, &g, &b);
          row[s] = ((guint32) (r * 255.0 + 0.5) << 16) | ((guint32) (g * 255.0 + 0.5) << 8)
                   | (guint32) (b * 255.0 + 0.5);
        }
    }
  cairo_surface_mark_dirty (image);
  return image;
}

static void
invalidate (MelAttentionMap *self)
{
  g_clear_pointer (&self->image, cairo_surface_destroy);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

/* The left edge of every column and the right edge of the last
 * (n_steps + 1 values) in our coordinates, from the score's x of each
 * step's time.  Steps past the song's end (the end-of-song symbol) share
 * the rest of the staff.  FALSE when the score cannot say: several
 * systems, nothing laid out. */
static gboolean
score_edges (MelAttentionMap *self, double *edges)
{
  MelEngraveLayout *layout;
  const MelEngraveSystem *systems;
  graphene_point_t origin;
  guint system = 0, n_systems, good = 0;
  double end;

  if (self->score == NULL
      || (layout = mel_score_view_get_layout (self->score)) == NULL
      || !gtk_widget_compute_point (GTK_WIDGET (self->score), GTK_WIDGET (self),
                                    &GRAPHENE_POINT_INIT (0, 0), &origin))
    return FALSE;
  systems = mel_engrave_layout_get_systems (layout, &n_systems);
  if (n_systems != 1)
    return FALSE;
  for (guint s = 0; s < self->n_steps; s++, good++)
    {
      double x;

      if (!mel_engrave_layout_time_to_x (layout, (double) s / MEL_STEPS_PER_QUARTER, &x, NULL, NULL,
                                         &system))
        break;
      if (system != 0 || (s > 0 && x + origin.x < edges[s - 1]))
        return FALSE;
      edges[s] = x + origin.x;
    }
  if (good == 0)
    return FALSE;
  end = systems[0].x1 + origin.x;
  if (good == self->n_steps)
    {
      double x;

      /* The last column reaches to the end of its note, or of the staff. */
      if (mel_engrave_layout_time_to_x (layout, (double) good / MEL_STEPS_PER_QUARTER, &x, NULL,
                                        NULL, NULL)
          && x + origin.x > edges[good - 1])
        end = x + origin.x;
      edges[good] = MAX (end, edges[good - 1] + 1.0);
      return TRUE;
    }
  if (end <= edges[good - 1])
    return FALSE;
  for (guint j = good; j <= self->n_steps; j++)
    edges[j] = edges[good - 1] + (end - edges[good - 1]) * (j - good + 1) / (self->n_steps - good + 1);
  return TRUE;
}

static void
mel_attention_map_snapshot (GtkWidget *widget, GtkSnapshot *snapshot)
{
  MelAttentionMap *self = MEL_ATTENTION_MAP (widget);
  double width = gtk_widget_get_width (widget);
  double height = gtk_widget_get_height (widget);
  double *edges;
  double frame_x0 = 0.0, frame_x1 = width;
  cairo_t *cr;
  cairo_pattern_t *pattern;

  if (self->n_steps == 0 || width <= 0 || height <= 0)
    return;
  if (self->image == NULL)
    self->image = render_image (self);

  if (self->edges == NULL)
    self->edges = g_new (double, self->n_steps + 1);
  edges = self->edges;
  self->aligned = score_edges (self, edges);
  cr = gtk_snapshot_append_cairo (snapshot, &GRAPHENE_RECT_INIT (0, 0, width, height));
  if (self->aligned)
    {
      /* Column by column under the notes: step s spans the score's x from
       * time s to time s + 1. */
      for (guint s = 0; s < self->n_steps; s++)
        {
          double column_width = edges[s + 1] - edges[s];

          if (column_width <= 0)
            continue;
          cairo_save (cr);
          cairo_rectangle (cr, edges[s], 0, column_width, height);
          cairo_clip (cr);
          cairo_translate (cr, edges[s], 0);
          cairo_scale (cr, column_width, height / self->n_steps);
          cairo_set_source_surface (cr, self->image, -(double) s, 0);
          cairo_pattern_set_filter (cairo_get_source (cr), height >= self->n_steps
                                                             ? CAIRO_FILTER_NEAREST
                                                             : CAIRO_FILTER_GOOD);
          cairo_paint (cr);
          cairo_restore (cr);
        }
      frame_x0 = edges[0];
      frame_x1 = edges[self->n_steps];
    }
  else
    {
      cairo_save (cr);
      cairo_scale (cr, width / self->n_steps, height / self->n_steps);
      cairo_set_source_surface (cr, self->image, 0, 0);
      pattern = cairo_get_source (cr);
      /* Sharp cells when enlarged; averaged when shrunk, so rows do not
       * alias into stripes. */
      cairo_pattern_set_filter (pattern, height >= self->n_steps && width >= self->n_steps
                                           ? CAIRO_FILTER_NEAREST : CAIRO_FILTER_GOOD);
      cairo_paint (cr);
      cairo_restore (cr);
    }

  if (self->selected_step >= 0 && (guint) self->selected_step < self->n_steps)
    {
      double cell = height / self->n_steps;

      cairo_set_source_rgba (cr, 0.1, 0.1, 0.1, 0.9);
      cairo_set_line_width (cr, 1.5);
      cairo_rectangle (cr, frame_x0 + 0.75, self->selected_step * cell, frame_x1 - frame_x0 - 1.5,
                       MAX (cell, 1.0));
      cairo_stroke (cr);
    }
  cairo_set_source_rgba (cr, 0.5, 0.5, 0.5, 0.8);
  cairo_set_line_width (cr, 1.0);
  cairo_rectangle (cr, frame_x0 + 0.5, 0.5, frame_x1 - frame_x0 - 1.0, height - 1.0);
  cairo_stroke (cr);
  cairo_destroy (cr);
}

static void
mel_attention_map_measure (GtkWidget *widget, GtkOrientation orientation, int for_size,
                           int *minimum, int *natural, int *minimum_baseline,
                           int *natural_baseline)
{
  if (orientation == GTK_ORIENTATION_HORIZONTAL)
    {
      *minimum = 64;
      *natural = 400;
    }
  else
    {
      MelAttentionMap *self = MEL_ATTENTION_MAP (widget);

      /* Two pixels a row, within reason: boxes in list rows hand out
       * the minimum only. */
      *minimum = *natural = CLAMP ((int) self->n_steps * 2, 160, 360);
    }
}

static void
pressed_cb (GtkGestureClick *gesture, int n_press, double x, double y, MelAttentionMap *self)
{
  double height = gtk_widget_get_height (GTK_WIDGET (self));
  int step;

  if (self->n_steps == 0 || height <= 0)
    return;
  step = (int) (y / height * self->n_steps);
  mel_attention_map_set_selected_step (self, CLAMP (step, 0, (int) self->n_steps - 1));
}

static gboolean
query_tooltip_cb (GtkWidget *widget, int x, int y, gboolean keyboard, GtkTooltip *tooltip,
                  MelAttentionMap *self)
{
  double width = gtk_widget_get_width (widget), height = gtk_widget_get_height (widget);
  guint t, s;
  g_autofree char *text = NULL;

  if (self->n_steps == 0 || keyboard || width <= 0 || height <= 0)
    return FALSE;
  t = MIN ((guint) (y / height * self->n_steps), self->n_steps - 1);
  if (self->aligned)
    {
      if (x < self->edges[0] || x >= self->edges[self->n_steps])
        return FALSE;
      for (s = 0; s + 1 < self->n_steps && x >= self->edges[s + 1]; s++)
        ;
    }
  else
    s = MIN ((guint) (x / width * self->n_steps), self->n_steps - 1);
  /* Translators: steps are sixteenths of the melody, counted from 1. */
  text = g_strdup_printf (_("Step %u attends to step %u: %.3f"), t + 1, s + 1,
                          mel_attention_map_get_weight (self, t, s));
  gtk_tooltip_set_text (tooltip, text);
  return TRUE;
}

static void
mel_attention_map_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  MelAttentionMap *self = MEL_ATTENTION_MAP (object);

  switch (prop_id)
    {
    case PROP_HEAD:
      g_value_set_int (value, self->head);
      break;
    case PROP_SELECTED_STEP:
      g_value_set_int (value, self->selected_step);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
mel_attention_map_set_property (GObject *object, guint prop_id, const GValue *value,
                                GParamSpec *pspec)
{
  MelAttentionMap *self = MEL_ATTENTION_MAP (object);

  switch (prop_id)
    {
    case PROP_HEAD:
      mel_attention_map_set_head (self, g_value_get_int (value));
      break;
    case PROP_SELECTED_STEP:
      mel_attention_map_set_selected_step (self, g_value_get_int (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
mel_attention_map_finalize (GObject *object)
{
  MelAttentionMap *self = MEL_ATTENTION_MAP (object);

  g_free (self->weights);
  g_clear_pointer (&self->image, cairo_surface_destroy);
  g_clear_weak_pointer (&self->score);
  g_free (self->edges);
  G_OBJECT_CLASS (mel_attention_map_parent_class)->finalize (object);
}

static void
mel_attention_map_class_init (MelAttentionMapClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->get_property = mel_attention_map_get_property;
  object_class->set_property = mel_attention_map_set_property;
  object_class->finalize = mel_attention_map_finalize;
  widget_class->snapshot = mel_attention_map_snapshot;
  widget_class->measure = mel_attention_map_measure;

  properties[PROP_HEAD] = g_param_spec_int ("head", NULL, NULL, -1, G_MAXINT, -1,
                                            G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY
                                            | G_PARAM_STATIC_STRINGS);
  properties[PROP_SELECTED_STEP] = g_param_spec_int ("selected-step", NULL, NULL, -1, G_MAXINT, -1,
                                                     G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY
                                                     | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  signals[SIGNAL_STEP_SELECTED] = g_signal_new ("step-selected", G_TYPE_FROM_CLASS (klass),
                                                G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                                                G_TYPE_NONE, 1, G_TYPE_INT);
  gtk_widget_class_set_css_name (widget_class, "attention-map");
}

static void
mel_attention_map_init (MelAttentionMap *self)
{
  GtkGesture *click = gtk_gesture_click_new ();

  self->head = -1;
  self->selected_step = -1;
  g_signal_connect (click, "pressed", G_CALLBACK (pressed_cb), self);
  gtk_widget_add_controller (GTK_WIDGET (self), GTK_EVENT_CONTROLLER (click));
  gtk_widget_set_has_tooltip (GTK_WIDGET (self), TRUE);
  g_signal_connect (self, "query-tooltip", G_CALLBACK (query_tooltip_cb), self);
}

GtkWidget *
mel_attention_map_new (void)
{
  return g_object_new (MEL_TYPE_ATTENTION_MAP, NULL);
}

void
mel_attention_map_set_weights (MelAttentionMap *self, const float *weights, guint n_heads,
                               guint n_steps)
{
  g_return_if_fail (MEL_IS_ATTENTION_MAP (self));

  g_clear_pointer (&self->weights, g_free);
  g_clear_pointer (&self->edges, g_free);
  self->aligned = FALSE;
  self->n_heads = 0;
  self->n_steps = 0;
  if (weights != NULL && n_heads > 0 && n_steps > 0)
    {
      self->weights = g_memdup2 (weights, sizeof (float) * n_heads * (gsize) n_steps * n_steps);
      self->n_heads = n_heads;
      self->n_steps = n_steps;
    }
  self->head = -1;
  self->selected_step = -1;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_HEAD]);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SELECTED_STEP]);
  invalidate (self);
  gtk_widget_queue_resize (GTK_WIDGET (self));
}

guint
mel_attention_map_get_n_heads (MelAttentionMap *self)
{
  g_return_val_if_fail (MEL_IS_ATTENTION_MAP (self), 0);
  return self->n_heads;
}

guint
mel_attention_map_get_n_steps (MelAttentionMap *self)
{
  g_return_val_if_fail (MEL_IS_ATTENTION_MAP (self), 0);
  return self->n_steps;
}

void
mel_attention_map_set_head (MelAttentionMap *self, int head)
{
  g_return_if_fail (MEL_IS_ATTENTION_MAP (self));

  if (head < 0 || (guint) head >= self->n_heads)
    head = -1;
  if (head == self->head)
    return;
  self->head = head;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_HEAD]);
  invalidate (self);
  /* The notes' colours follow the head too. */
  if (self->selected_step >= 0)
    g_signal_emit (self, signals[SIGNAL_STEP_SELECTED], 0, self->selected_step);
}

int
mel_attention_map_get_head (MelAttentionMap *self)
{
  g_return_val_if_fail (MEL_IS_ATTENTION_MAP (self), -1);
  return self->head;
}

void
mel_attention_map_set_selected_step (MelAttentionMap *self, int step)
{
  g_return_if_fail (MEL_IS_ATTENTION_MAP (self));

  if (step < 0 || (guint) step >= self->n_steps)
    step = -1;
  self->selected_step = step;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SELECTED_STEP]);
  gtk_widget_queue_draw (GTK_WIDGET (self));
  g_signal_emit (self, signals[SIGNAL_STEP_SELECTED], 0, step);
}

int
mel_attention_map_get_selected_step (MelAttentionMap *self)
{
  g_return_val_if_fail (MEL_IS_ATTENTION_MAP (self), -1);
  return self->selected_step;
}

void
mel_attention_map_set_score_view (MelAttentionMap *self, MelScoreView *score)
{
  g_return_if_fail (MEL_IS_ATTENTION_MAP (self));
  g_return_if_fail (score == NULL || MEL_IS_SCORE_VIEW (score));

  g_set_weak_pointer (&self->score, score);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

gboolean
mel_attention_map_get_aligned (MelAttentionMap *self)
{
  g_return_val_if_fail (MEL_IS_ATTENTION_MAP (self), FALSE);
  return self->aligned;
}
