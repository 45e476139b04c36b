/* mel-score-view.c — engraved staff notation as a height-for-width widget.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <math.h>

#include "mel-score-view.h"

#define BASE_SPACE 8.0
#define MIN_WIDTH 240
#define NATURAL_WIDTH 900
#define N_CACHE 4

struct _MelScoreView
{
  GtkWidget parent_instance;

  MelSong *song;
  double scale;
  double cursor;
  int highlight_event;
  double *values;
  guint n_values;
  int mark_first, mark_last;

  /* Layouts by width (and the scale they were made for); a few entries
   * because measure() asks for other widths than the allocation. */
  MelEngraveLayout *cache[N_CACHE];
  guint cache_next;
  GError *font_error;
};

G_DEFINE_FINAL_TYPE (MelScoreView, mel_score_view, GTK_TYPE_WIDGET)

enum
{
  PROP_0,
  PROP_SONG,
  PROP_SCALE,
  PROP_CURSOR,
  PROP_HIGHLIGHT_EVENT,
  N_PROPS
};

enum
{
  SIGNAL_EVENT_ACTIVATED,
  N_SIGNALS
};

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

static void
clear_cache (MelScoreView *self)
{
  for (guint i = 0; i < N_CACHE; i++)
    g_clear_pointer (&self->cache[i], mel_engrave_layout_unref);
}

/* The layout for @width, from the cache or made now (fast, see header). */
static MelEngraveLayout *
layout_for_width (MelScoreView *self, int width)
{
  MelEngraveOptions opts;
  g_autoptr (GError) error = NULL;

  if (self->song == NULL || width <= 0 || self->font_error != NULL)
    return NULL;
  for (guint i = 0; i < N_CACHE; i++)
    if (self->cache[i] != NULL && mel_engrave_layout_get_width (self->cache[i]) == width)
      return self->cache[i];

  mel_engrave_options_init (&opts);
  opts.width = width;
  opts.space = BASE_SPACE;
  opts.scale = self->scale;
  opts.margin = 2.0;
  MelEngraveLayout *layout = mel_engrave_layout_new (self->song, &opts, &error);
  if (layout == NULL)
    {
      g_debug ("cannot engrave '%s': %s", self->song->id, error->message);
      return NULL;
    }
  g_clear_pointer (&self->cache[self->cache_next], mel_engrave_layout_unref);
  self->cache[self->cache_next] = layout;
  self->cache_next = (self->cache_next + 1) % N_CACHE;
  return layout;
}

static void
mel_score_view_measure (GtkWidget *widget, GtkOrientation orientation, int for_size, int *minimum, int *natural,
                        int *minimum_baseline, int *natural_baseline)
{
  MelScoreView *self = MEL_SCORE_VIEW (widget);

  if (orientation == GTK_ORIENTATION_HORIZONTAL)
    {
      *minimum = MIN_WIDTH;
      *natural = (int) (NATURAL_WIDTH * MAX (self->scale, 1.0));
      return;
    }
  int width = for_size > 0 ? for_size : NATURAL_WIDTH;
  MelEngraveLayout *layout = layout_for_width (self, width);
  int height = layout != NULL ? (int) ceil (mel_engrave_layout_get_height (layout)) : 0;
  if (self->font_error != NULL)
    height = 80;
  *minimum = *natural = height;
}

static GtkSizeRequestMode
mel_score_view_get_request_mode (GtkWidget *widget)
{
  return GTK_SIZE_REQUEST_HEIGHT_FOR_WIDTH;
}

static void
draw_notice (MelScoreView *self, GtkSnapshot *snapshot, const char *text)
{
  PangoLayout *layout = gtk_widget_create_pango_layout (GTK_WIDGET (self), text);
  GdkRGBA color = { 0.75, 0.1, 0.1, 1.0 };

  pango_layout_set_width (layout, MAX (gtk_widget_get_width (GTK_WIDGET (self)) - 24, 50) * PANGO_SCALE);
  pango_layout_set_wrap (layout, PANGO_WRAP_WORD_CHAR);
  gtk_snapshot_save (snapshot);
  gtk_snapshot_translate (snapshot, &GRAPHENE_POINT_INIT (12, 12));
  gtk_snapshot_append_layout (snapshot, layout, &color);
  gtk_snapshot_restore (snapshot);
  g_object_unref (layout);
}

static void
mel_score_view_snapshot (GtkWidget *widget, GtkSnapshot *snapshot)
{
  MelScoreView *self = MEL_SCORE_VIEW (widget);
  int width = gtk_widget_get_width (widget);
  int height = gtk_widget_get_height (widget);
  MelEngraveRenderOptions ropts;

  if (self->font_error != NULL)
    {
      draw_notice (self, snapshot, self->font_error->message);
      return;
    }
  MelEngraveLayout *layout = layout_for_width (self, width);
  if (layout == NULL || height <= 0)
    return;

  mel_engrave_render_options_init (&ropts);
  ropts.cursor_time = self->cursor;
  ropts.highlight_event = self->highlight_event;
  ropts.values = self->values;
  ropts.n_values = self->n_values;
  ropts.mark_first_bar = self->mark_first;
  ropts.mark_last_bar = self->mark_last;
  if (self->cursor >= 0 && ropts.highlight_event < 0)
    {
      /* The sounding note is the one under the cursor. */
      guint n;
      const MelEngraveNote *notes = mel_engrave_layout_get_notes (layout, &n);
      for (guint i = 0; i < n; i++)
        {
          double on = mel_rational_to_double (notes[i].onset);
          if (self->cursor >= on && self->cursor < on + mel_rational_to_double (notes[i].duration))
            {
              ropts.highlight_event = (int) notes[i].event;
              break;
            }
        }
    }
  double h = MAX (height, mel_engrave_layout_get_height (layout));
  cairo_t *cr = gtk_snapshot_append_cairo (snapshot, &GRAPHENE_RECT_INIT (0, 0, width, h));
  mel_engrave_render (layout, cr, &ropts, 0, G_MAXUINT);
  cairo_destroy (cr);
}

static void
click_pressed_cb (GtkGestureClick *gesture, int n_press, double x, double y, MelScoreView *self)
{
  MelEngraveLayout *layout = layout_for_width (self, gtk_widget_get_width (GTK_WIDGET (self)));
  if (layout == NULL)
    return;
  int event = mel_engrave_layout_hit_test (layout, x, y);
  if (event >= 0)
    {
      gtk_gesture_set_state (GTK_GESTURE (gesture), GTK_EVENT_SEQUENCE_CLAIMED);
      g_signal_emit (self, signals[SIGNAL_EVENT_ACTIVATED], 0, (guint) event);
    }
}

static void
mel_score_view_dispose (GObject *object)
{
  MelScoreView *self = MEL_SCORE_VIEW (object);

  clear_cache (self);
  g_clear_pointer (&self->song, mel_song_unref);
  g_clear_pointer (&self->values, g_free);
  g_clear_error (&self->font_error);
  G_OBJECT_CLASS (mel_score_view_parent_class)->dispose (object);
}

static void
mel_score_view_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  MelScoreView *self = MEL_SCORE_VIEW (object);

  switch (prop_id)
    {
    case PROP_SONG:
      g_value_set_boxed (value, self->song);
      break;
    case PROP_SCALE:
      g_value_set_double (value, self->scale);
      break;
    case PROP_CURSOR:
      g_value_set_double (value, self->cursor);
      break;
    case PROP_HIGHLIGHT_EVENT:
      g_value_set_int (value, self->highlight_event);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
mel_score_view_set_property (GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
  MelScoreView *self = MEL_SCORE_VIEW (object);

  switch (prop_id)
    {
    case PROP_SONG:
      mel_score_view_set_song (self, g_value_get_boxed (value));
      break;
    case PROP_SCALE:
      mel_score_view_set_scale (self, g_value_get_double (value));
      break;
    case PROP_CURSOR:
      mel_score_view_set_cursor (self, g_value_get_double (value));
      break;
    case PROP_HIGHLIGHT_EVENT:
      mel_score_view_set_highlight_event (self, g_value_get_int (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
mel_score_view_class_init (MelScoreViewClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = mel_score_view_dispose;
  object_class->get_property = mel_score_view_get_property;
  object_class->set_property = mel_score_view_set_property;
  widget_class->measure = mel_score_view_measure;
  widget_class->get_request_mode = mel_score_view_get_request_mode;
  widget_class->snapshot = mel_score_view_snapshot;

  properties[PROP_SONG] = g_param_spec_boxed ("song", NULL, NULL, MEL_TYPE_SONG,
                                              G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_SCALE] = g_param_spec_double ("scale", NULL, NULL, 0.25, 8.0, 1.0,
                                                G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_CURSOR] = g_param_spec_double ("cursor", NULL, NULL, -1.0, G_MAXDOUBLE, -1.0,
                                                 G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY
                                                     | G_PARAM_STATIC_STRINGS);
  properties[PROP_HIGHLIGHT_EVENT] = g_param_spec_int ("highlight-event", NULL, NULL, -1, G_MAXINT, -1,
                                                       G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY
                                                           | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  signals[SIGNAL_EVENT_ACTIVATED] = g_signal_new ("event-activated", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                                  0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_UINT);

  gtk_widget_class_set_css_name (widget_class, "melscoreview");
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_IMG);
}

static void
mel_score_view_init (MelScoreView *self)
{
  GtkGesture *click = gtk_gesture_click_new ();

  self->scale = 1.0;
  self->cursor = -1.0;
  self->highlight_event = -1;
  self->mark_first = self->mark_last = -1;
  if (!mel_engrave_check_font (&self->font_error))
    g_warning ("%s", self->font_error->message);

  gtk_gesture_single_set_button (GTK_GESTURE_SINGLE (click), GDK_BUTTON_PRIMARY);
  g_signal_connect_object (click, "pressed", G_CALLBACK (click_pressed_cb), self, 0);
  gtk_widget_add_controller (GTK_WIDGET (self), GTK_EVENT_CONTROLLER (click));
}

GtkWidget *
mel_score_view_new (void)
{
  return g_object_new (MEL_TYPE_SCORE_VIEW, NULL);
}

void
mel_score_view_set_song (MelScoreView *self, MelSong *song)
{
  g_return_if_fail (MEL_IS_SCORE_VIEW (self));

  if (self->song == song)
    return;
  if (song != NULL)
    mel_song_ref (song);
  g_clear_pointer (&self->song, mel_song_unref);
  self->song = song;
  clear_cache (self);
  g_clear_pointer (&self->values, g_free);
  self->n_values = 0;
  self->mark_first = self->mark_last = -1;
  self->cursor = -1.0;
  self->highlight_event = -1;
  if (song != NULL && song->title != NULL && g_utf8_validate (song->title, -1, NULL))
    gtk_accessible_update_property (GTK_ACCESSIBLE (self), GTK_ACCESSIBLE_PROPERTY_LABEL, song->title, -1);
  gtk_widget_queue_resize (GTK_WIDGET (self));
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SONG]);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CURSOR]);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_HIGHLIGHT_EVENT]);
}

MelSong *
mel_score_view_get_song (MelScoreView *self)
{
  g_return_val_if_fail (MEL_IS_SCORE_VIEW (self), NULL);
  return self->song;
}

void
mel_score_view_set_scale (MelScoreView *self, double scale)
{
  g_return_if_fail (MEL_IS_SCORE_VIEW (self));
  scale = CLAMP (scale, 0.25, 8.0);
  if (self->scale == scale)
    return;
  self->scale = scale;
  clear_cache (self);
  gtk_widget_queue_resize (GTK_WIDGET (self));
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SCALE]);
}

double
mel_score_view_get_scale (MelScoreView *self)
{
  g_return_val_if_fail (MEL_IS_SCORE_VIEW (self), 1.0);
  return self->scale;
}

void
mel_score_view_set_cursor (MelScoreView *self, double time)
{
  g_return_if_fail (MEL_IS_SCORE_VIEW (self));
  if (!(time >= 0))
    time = -1.0;
  if (self->cursor == time)
    return;
  self->cursor = time;
  gtk_widget_queue_draw (GTK_WIDGET (self));
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CURSOR]);
}

double
mel_score_view_get_cursor (MelScoreView *self)
{
  g_return_val_if_fail (MEL_IS_SCORE_VIEW (self), -1.0);
  return self->cursor;
}

void
mel_score_view_set_highlight_event (MelScoreView *self, int event)
{
  g_return_if_fail (MEL_IS_SCORE_VIEW (self));
  event = MAX (event, -1);
  if (self->highlight_event == event)
    return;
  self->highlight_event = event;
  gtk_widget_queue_draw (GTK_WIDGET (self));
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_HIGHLIGHT_EVENT]);
}

int
mel_score_view_get_highlight_event (MelScoreView *self)
{
  g_return_val_if_fail (MEL_IS_SCORE_VIEW (self), -1);
  return self->highlight_event;
}

void
mel_score_view_set_values (MelScoreView *self, const double *values, guint n_values)
{
  g_return_if_fail (MEL_IS_SCORE_VIEW (self));
  g_return_if_fail (values != NULL || n_values == 0);
  g_clear_pointer (&self->values, g_free);
  self->n_values = 0;
  if (values != NULL && n_values > 0)
    {
      self->values = g_memdup2 (values, sizeof (double) * n_values);
      self->n_values = n_values;
    }
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

void
mel_score_view_set_marked_bars (MelScoreView *self, int first, int last)
{
  g_return_if_fail (MEL_IS_SCORE_VIEW (self));
  self->mark_first = first < 0 || last < first ? -1 : first;
  self->mark_last = first < 0 || last < first ? -1 : last;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

gboolean
mel_score_view_get_cursor_rect (MelScoreView *self, graphene_rect_t *rect)
{
  double x, y0, y1;

  g_return_val_if_fail (MEL_IS_SCORE_VIEW (self), FALSE);
  g_return_val_if_fail (rect != NULL, FALSE);
  MelEngraveLayout *layout = layout_for_width (self, gtk_widget_get_width (GTK_WIDGET (self)));
  if (layout == NULL || self->cursor < 0 || !mel_engrave_layout_time_to_x (layout, self->cursor, &x, &y0, &y1, NULL))
    return FALSE;
  graphene_rect_init (rect, (float) x - 2, (float) y0, 4, (float) (y1 - y0));
  return TRUE;
}

MelEngraveLayout *
mel_score_view_get_layout (MelScoreView *self)
{
  g_return_val_if_fail (MEL_IS_SCORE_VIEW (self), NULL);
  return layout_for_width (self, gtk_widget_get_width (GTK_WIDGET (self)));
}
