/* mel-engrave-render.c — draws a MelEngraveLayout with cairo and Pango;
 * PNG, SVG and multi-page PDF export.
 *
 * Music symbols come from the "Noto Music" font (Unicode Musical Symbols
 * block).  Each glyph is placed by its ink rectangle, measured once per
 * render at the font size of the layout's staff space (a font em is four
 * staff spaces), so the layout does not depend on the font's baseline
 * conventions.  Everything else (staff lines, stems, beams, ties, ledger
 * lines, bar lines) is drawn as cairo paths; no bitmaps.
 *
 * SPDX-License-Identifier: MIT
 */
#include "mel-engrave.h"

#include <cairo-pdf.h>
#include <cairo-svg.h>
#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <math.h>
#include <pango/pangocairo.h>
#include <string.h>
#include <unistd.h>

#define MUSIC_FAMILY "Noto Music"
#define TEXT_FAMILY "Noto Serif"
#define ACCIDENTAL_SCALE 0.85

/* The characters of each MelEngraveGlyph.  Flags are combining marks:
 * they follow a zero-width space so that shaping does not insert a
 * dotted circle. */
static const char *const glyph_text[MEL_ENGRAVE_N_GLYPHS] = {
  [MEL_ENGRAVE_GLYPH_G_CLEF] = "\U0001D11E",
  [MEL_ENGRAVE_GLYPH_G_CLEF_8VB] = "\U0001D120",
  [MEL_ENGRAVE_GLYPH_F_CLEF] = "\U0001D122",
  [MEL_ENGRAVE_GLYPH_NOTEHEAD_BLACK] = "\U0001D158",
  [MEL_ENGRAVE_GLYPH_NOTEHEAD_HALF] = "\U0001D157",
  [MEL_ENGRAVE_GLYPH_NOTEHEAD_WHOLE] = "\U0001D15D",
  [MEL_ENGRAVE_GLYPH_NOTEHEAD_BREVE] = "\U0001D15C",
  [MEL_ENGRAVE_GLYPH_REST_WHOLE] = "\U0001D13B",
  [MEL_ENGRAVE_GLYPH_REST_HALF] = "\U0001D13C",
  [MEL_ENGRAVE_GLYPH_REST_QUARTER] = "\U0001D13D",
  [MEL_ENGRAVE_GLYPH_REST_8TH] = "\U0001D13E",
  [MEL_ENGRAVE_GLYPH_REST_16TH] = "\U0001D13F",
  [MEL_ENGRAVE_GLYPH_REST_32ND] = "\U0001D140",
  [MEL_ENGRAVE_GLYPH_REST_64TH] = "\U0001D141",
  [MEL_ENGRAVE_GLYPH_FLAG_8TH] = "\u200B\U0001D16E",
  [MEL_ENGRAVE_GLYPH_FLAG_16TH] = "\u200B\U0001D16F",
  [MEL_ENGRAVE_GLYPH_FLAG_32ND] = "\u200B\U0001D170",
  [MEL_ENGRAVE_GLYPH_FLAG_64TH] = "\u200B\U0001D171",
  [MEL_ENGRAVE_GLYPH_SHARP] = "\u266F",
  [MEL_ENGRAVE_GLYPH_FLAT] = "\u266D",
  [MEL_ENGRAVE_GLYPH_NATURAL] = "\u266E",
  [MEL_ENGRAVE_GLYPH_DOUBLE_SHARP] = "\U0001D12A",
  [MEL_ENGRAVE_GLYPH_DOUBLE_FLAT] = "\U0001D12B",
  [MEL_ENGRAVE_GLYPH_DOT] = NULL, /* drawn as a circle */
};

void
mel_engrave_render_options_init (MelEngraveRenderOptions *options)
{
  g_return_if_fail (options != NULL);
  memset (options, 0, sizeof *options);
  options->ink[3] = 1.0;
  options->paper[0] = options->paper[1] = options->paper[2] = options->paper[3] = 1.0;
  options->highlight_event = -1;
  options->highlight[0] = 0.11;
  options->highlight[1] = 0.42;
  options->highlight[2] = 0.85;
  options->highlight[3] = 1.0;
  options->mark_first_bar = -1;
  options->mark_last_bar = -1;
  options->mark[0] = 1.0;
  options->mark[1] = 0.85;
  options->mark[2] = 0.2;
  options->mark[3] = 0.3;
  options->cursor_time = -1.0;
}

void
mel_engrave_value_color (double value, double rgb[3])
{
  /* Blue → teal → green → orange → red, piecewise linear. */
  static const double stops[5][3] = {
    { 0.19, 0.33, 0.85 }, { 0.10, 0.62, 0.66 }, { 0.20, 0.66, 0.20 }, { 0.93, 0.55, 0.08 }, { 0.85, 0.12, 0.10 },
  };
  g_return_if_fail (rgb != NULL);
  if (!(value >= 0))
    value = 0;
  value = MIN (value, 1.0);
  double f = value * 4;
  int i = MIN ((int) f, 3);
  double t = f - i;
  for (int c = 0; c < 3; c++)
    rgb[c] = stops[i][c] * (1 - t) + stops[i + 1][c] * t;
}

gboolean
mel_engrave_check_font (GError **error)
{
  static gsize checked = 0;
  static gboolean present = FALSE;

  if (g_once_init_enter (&checked))
    {
      PangoFontMap *map = pango_cairo_font_map_get_default ();
      PangoFontFamily **families = NULL;
      int n = 0;
      pango_font_map_list_families (map, &families, &n);
      for (int i = 0; i < n; i++)
        if (g_ascii_strcasecmp (pango_font_family_get_name (families[i]), MUSIC_FAMILY) == 0)
          present = TRUE;
      g_free (families);
      g_once_init_leave (&checked, 1);
    }
  if (!present)
    {
      g_set_error_literal (error, MEL_ENGRAVE_ERROR, MEL_ENGRAVE_ERROR_FONT_MISSING,
                           "the font \"" MUSIC_FAMILY "\" is not installed; it draws the music symbols "
                           "(apt-get install fonts-noto-core)");
      return FALSE;
    }
  return TRUE;
}

/* ---- glyph cache for one render call ------------------------------------ */

typedef struct
{
  PangoLayout *layout;
  double ink_x, ink_y, ink_w, ink_h; /* ink rectangle relative to the layout origin */
} GlyphShape;

typedef struct
{
  cairo_t *cr;
  double space;
  GlyphShape glyphs[MEL_ENGRAVE_N_GLYPHS];
  PangoLayout *text[5];
  PangoContext *context;
  double page_width;
  const MelEngraveRenderOptions *opts;
} Painter;

/* One Pango context per render, shared by every layout: unhinted metrics,
 * so positions do not jump with the zoom. */
static PangoContext *
painter_context (Painter *p)
{
  if (p->context == NULL)
    {
      cairo_font_options_t *fo = cairo_font_options_create ();
      cairo_font_options_set_hint_metrics (fo, CAIRO_HINT_METRICS_OFF);
      cairo_font_options_set_hint_style (fo, CAIRO_HINT_STYLE_NONE);
      p->context = pango_cairo_create_context (p->cr);
      pango_cairo_context_set_font_options (p->context, fo);
      cairo_font_options_destroy (fo);
    }
  return p->context;
}

static PangoLayout *
make_layout (Painter *p, const char *family, double px, gboolean bold)
{
  PangoLayout *layout = pango_layout_new (painter_context (p));
  PangoFontDescription *desc = pango_font_description_new ();

  pango_font_description_set_family (desc, family);
  pango_font_description_set_absolute_size (desc, MAX (px, 0.5) * PANGO_SCALE);
  if (bold)
    pango_font_description_set_weight (desc, PANGO_WEIGHT_BOLD);
  pango_layout_set_font_description (layout, desc);
  pango_font_description_free (desc);
  return layout;
}

static GlyphShape *
painter_glyph (Painter *p, int glyph)
{
  GlyphShape *g = &p->glyphs[glyph];
  if (g->layout == NULL)
    {
      double px = 4.0 * p->space;
      if (glyph >= MEL_ENGRAVE_GLYPH_SHARP && glyph <= MEL_ENGRAVE_GLYPH_DOUBLE_FLAT)
        px *= ACCIDENTAL_SCALE;
      g->layout = make_layout (p, MUSIC_FAMILY, px, FALSE);
      pango_layout_set_text (g->layout, glyph_text[glyph], -1);
      PangoRectangle ink;
      pango_layout_get_extents (g->layout, &ink, NULL);
      g->ink_x = ink.x / (double) PANGO_SCALE;
      g->ink_y = ink.y / (double) PANGO_SCALE;
      g->ink_w = ink.width / (double) PANGO_SCALE;
      g->ink_h = ink.height / (double) PANGO_SCALE;
    }
  return g;
}

static void
painter_clear (Painter *p)
{
  for (int i = 0; i < MEL_ENGRAVE_N_GLYPHS; i++)
    g_clear_object (&p->glyphs[i].layout);
  for (guint i = 0; i < G_N_ELEMENTS (p->text); i++)
    g_clear_object (&p->text[i]);
  g_clear_object (&p->context);
}

/* ---- drawing ---------------------------------------------------------- */

static void
draw_glyph (Painter *p, const MelEngraveItem *it)
{
  cairo_t *cr = p->cr;
  double s = p->space;

  if (it->glyph == MEL_ENGRAVE_GLYPH_DOT)
    {
      cairo_new_path (cr);
      cairo_arc (cr, it->x0 + 0.2 * s, it->y0, 0.2 * s, 0, 2 * G_PI);
      cairo_fill (cr);
      return;
    }
  GlyphShape *g = painter_glyph (p, it->glyph);
  double top; /* where the ink's top edge goes */
  switch (it->glyph)
    {
    case MEL_ENGRAVE_GLYPH_G_CLEF:
    case MEL_ENGRAVE_GLYPH_G_CLEF_8VB:
    case MEL_ENGRAVE_GLYPH_F_CLEF:
      {
        /* The font draws clefs on a staff whose bottom line is the
         * baseline: keep that relation. */
        double baseline = pango_layout_get_baseline (g->layout) / (double) PANGO_SCALE;
        cairo_move_to (cr, it->x0 - g->ink_x, it->y0 - baseline);
        pango_cairo_show_layout (cr, g->layout);
        return;
      }
    case MEL_ENGRAVE_GLYPH_REST_WHOLE:
      top = it->y0;
      break;
    case MEL_ENGRAVE_GLYPH_REST_HALF:
      top = it->y0 - g->ink_h;
      break;
    case MEL_ENGRAVE_GLYPH_FLAT:
    case MEL_ENGRAVE_GLYPH_DOUBLE_FLAT:
      /* The bowl is centred on the note: the ink bottom half a space below. */
      top = it->y0 + 0.5 * s - g->ink_h;
      break;
    case MEL_ENGRAVE_GLYPH_FLAG_8TH:
    case MEL_ENGRAVE_GLYPH_FLAG_16TH:
    case MEL_ENGRAVE_GLYPH_FLAG_32ND:
    case MEL_ENGRAVE_GLYPH_FLAG_64TH:
      if (it->flags & MEL_ENGRAVE_ITEM_MIRRORED)
        {
          cairo_save (cr);
          cairo_translate (cr, it->x0 - g->ink_x, it->y0 + g->ink_y);
          cairo_scale (cr, 1, -1);
          cairo_move_to (cr, 0, 0);
          pango_cairo_show_layout (cr, g->layout);
          cairo_restore (cr);
          return;
        }
      top = it->y0;
      break;
    default:
      top = it->y0 - g->ink_h / 2;
      break;
    }
  cairo_move_to (cr, it->x0 - g->ink_x, top - g->ink_y);
  pango_cairo_show_layout (cr, g->layout);
}

static void
draw_text (Painter *p, const MelEngraveItem *it)
{
  static const double sizes[5] = { 2.6, 1.6, 1.25, 1.5, 2.9 }; /* in staff spaces, see styles */
  cairo_t *cr = p->cr;
  int style = CLAMP (it->text_style, 0, 4);

  if (p->text[style] == NULL)
    {
      p->text[style] = make_layout (p, TEXT_FAMILY, sizes[style] * p->space,
                                    style == MEL_ENGRAVE_TEXT_TIME_SIG || style == MEL_ENGRAVE_TEXT_TITLE
                                        || style == MEL_ENGRAVE_TEXT_TUPLET);
      if (style == MEL_ENGRAVE_TEXT_TUPLET || style == MEL_ENGRAVE_TEXT_BAR_NUMBER)
        {
          PangoFontDescription *d = pango_font_description_copy (pango_layout_get_font_description (p->text[style]));
          pango_font_description_set_style (d, PANGO_STYLE_ITALIC);
          pango_layout_set_font_description (p->text[style], d);
          pango_font_description_free (d);
        }
    }
  PangoLayout *l = p->text[style];
  pango_layout_set_text (l, it->text, -1);
  PangoRectangle ink, logical;
  pango_layout_get_extents (l, &ink, &logical);
  double ix = ink.x / (double) PANGO_SCALE, iy = ink.y / (double) PANGO_SCALE;
  double iw = ink.width / (double) PANGO_SCALE, ih = ink.height / (double) PANGO_SCALE;
  double lw = logical.width / (double) PANGO_SCALE;
  double baseline = pango_layout_get_baseline (l) / (double) PANGO_SCALE;

  switch (style)
    {
    case MEL_ENGRAVE_TEXT_TITLE:
    case MEL_ENGRAVE_TEXT_SUBTITLE:
      {
        /* A title wider than the page is shrunk to fit. */
        double room = p->page_width - 4.0 * p->space;
        double k = lw > room && room > 0 ? room / lw : 1.0;
        cairo_save (cr);
        cairo_translate (cr, it->x0, it->y0);
        cairo_scale (cr, k, k);
        cairo_move_to (cr, -lw / 2, 0);
        pango_cairo_show_layout (cr, l);
        cairo_restore (cr);
        return;
      }
    case MEL_ENGRAVE_TEXT_BAR_NUMBER:
      cairo_move_to (cr, it->x0, it->y0 - baseline);
      break;
    case MEL_ENGRAVE_TEXT_TIME_SIG:
      {
        /* Scale so the digits are exactly two spaces high. */
        double k = ih > 0 ? 2.0 * p->space / ih : 1.0;
        cairo_save (cr);
        cairo_translate (cr, it->x0, it->y0);
        cairo_scale (cr, k, k);
        cairo_move_to (cr, -(ix + iw / 2), -(iy + ih / 2));
        pango_cairo_show_layout (cr, l);
        cairo_restore (cr);
        return;
      }
    case MEL_ENGRAVE_TEXT_TUPLET:
    default:
      cairo_move_to (cr, it->x0 - (ix + iw / 2), it->y0 - (iy + ih / 2));
      break;
    }
  pango_cairo_show_layout (cr, l);
}

static void
draw_item (Painter *p, const MelEngraveItem *it)
{
  cairo_t *cr = p->cr;

  switch (it->kind)
    {
    case MEL_ENGRAVE_ITEM_GLYPH:
      draw_glyph (p, it);
      break;
    case MEL_ENGRAVE_ITEM_LINE:
      cairo_new_path (cr);
      cairo_set_line_cap (cr, CAIRO_LINE_CAP_BUTT);
      cairo_set_line_width (cr, it->size);
      cairo_move_to (cr, it->x0, it->y0);
      cairo_line_to (cr, it->x1, it->y1);
      cairo_stroke (cr);
      break;
    case MEL_ENGRAVE_ITEM_BEAM:
      cairo_new_path (cr);
      cairo_move_to (cr, it->x0, it->y0);
      cairo_line_to (cr, it->x1, it->y1);
      cairo_line_to (cr, it->x1, it->y1 + it->size);
      cairo_line_to (cr, it->x0, it->y0 + it->size);
      cairo_close_path (cr);
      cairo_fill (cr);
      break;
    case MEL_ENGRAVE_ITEM_TIE:
      {
        /* A crescent: two cubic Béziers, thicker in the middle. */
        double dx = it->x1 - it->x0;
        double h = it->size;
        double mid_thick = 0.16 * p->space * (h < 0 ? -1 : 1);
        cairo_new_path (cr);
        cairo_move_to (cr, it->x0, it->y0);
        cairo_curve_to (cr, it->x0 + dx * 0.25, it->y0 + h * 1.33, it->x1 - dx * 0.25, it->y1 + h * 1.33, it->x1,
                        it->y1);
        cairo_curve_to (cr, it->x1 - dx * 0.25, it->y1 + (h - mid_thick) * 1.33, it->x0 + dx * 0.25,
                        it->y0 + (h - mid_thick) * 1.33, it->x0, it->y0);
        cairo_close_path (cr);
        cairo_fill_preserve (cr);
        cairo_set_line_width (cr, 0.04 * p->space);
        cairo_stroke (cr);
        break;
      }
    case MEL_ENGRAVE_ITEM_TEXT:
      draw_text (p, it);
      break;
    case MEL_ENGRAVE_ITEM_RECT:
      cairo_rectangle (cr, it->x0, it->y0, it->x1 - it->x0, it->y1 - it->y0);
      cairo_fill (cr);
      break;
    default:
      break;
    }
}

static void
set_rgba (cairo_t *cr, const double c[4])
{
  cairo_set_source_rgba (cr, c[0], c[1], c[2], c[3]);
}

static void
item_color (const Painter *p, const MelEngraveItem *it, double out[4])
{
  const MelEngraveRenderOptions *o = p->opts;
  memcpy (out, o->ink, sizeof o->ink);
  if (it->event < 0)
    return;
  if (it->event == o->highlight_event)
    {
      memcpy (out, o->highlight, sizeof o->highlight);
      return;
    }
  if (o->values != NULL && (guint) it->event < o->n_values && !isnan (o->values[it->event]))
    {
      mel_engrave_value_color (o->values[it->event], out);
      out[3] = o->ink[3];
    }
}

void
mel_engrave_render (const MelEngraveLayout *layout, cairo_t *cr, const MelEngraveRenderOptions *options,
                    guint first_system, guint last_system)
{
  MelEngraveRenderOptions defaults;
  Painter p = { 0 };
  guint n_items, n_bars, n_systems;

  g_return_if_fail (layout != NULL);
  g_return_if_fail (cr != NULL);
  if (options == NULL)
    {
      mel_engrave_render_options_init (&defaults);
      options = &defaults;
    }
  p.cr = cr;
  p.space = mel_engrave_layout_get_space (layout);
  p.page_width = mel_engrave_layout_get_width (layout);
  p.opts = options;
  const MelEngraveItem *items = mel_engrave_layout_get_items (layout, &n_items);
  const MelEngraveBar *bars = mel_engrave_layout_get_bars (layout, &n_bars);
  const MelEngraveSystem *systems = mel_engrave_layout_get_systems (layout, &n_systems);

  cairo_save (cr);
  if (options->paper[3] > 0)
    {
      set_rgba (cr, options->paper);
      cairo_rectangle (cr, 0, 0, mel_engrave_layout_get_width (layout), mel_engrave_layout_get_height (layout));
      cairo_fill (cr);
    }

  /* Marked bars: a tint behind the staff. */
  if (options->mark_first_bar >= 0 && options->mark_last_bar >= options->mark_first_bar)
    {
      set_rgba (cr, options->mark);
      for (guint i = 0; i < n_bars; i++)
        {
          if ((int) i < options->mark_first_bar || (int) i > options->mark_last_bar)
            continue;
          if (bars[i].system < first_system || bars[i].system > last_system)
            continue;
          const MelEngraveSystem *sys = &systems[bars[i].system];
          cairo_rectangle (cr, bars[i].x0, sys->y_top - 1.5 * p.space, bars[i].x1 - bars[i].x0, 7.0 * p.space);
        }
      cairo_fill (cr);
    }

  /* Ink, with per-event colours where asked. */
  double current[4] = { -1, -1, -1, -1 };
  for (guint i = 0; i < n_items; i++)
    {
      const MelEngraveItem *it = &items[i];
      if (it->system < 0 ? first_system != 0
                         : ((guint) it->system < first_system || (guint) it->system > last_system))
        continue;
      double c[4];
      item_color (&p, it, c);
      if (memcmp (c, current, sizeof c) != 0)
        {
          set_rgba (cr, c);
          memcpy (current, c, sizeof c);
        }
      draw_item (&p, it);
    }

  /* Playback cursor. */
  double x, y0, y1;
  guint sys;
  if (options->cursor_time >= 0
      && mel_engrave_layout_time_to_x (layout, options->cursor_time, &x, &y0, &y1, &sys)
      && sys >= first_system && sys <= last_system)
    {
      set_rgba (cr, options->highlight);
      cairo_set_line_width (cr, MAX (0.25 * p.space, 1.0));
      cairo_move_to (cr, x, y0);
      cairo_line_to (cr, x, y1);
      cairo_stroke (cr);
    }
  cairo_restore (cr);
  painter_clear (&p);
}

/* ---- export ------------------------------------------------------------ */

gboolean
mel_engrave_format_from_path (const char *path, MelEngraveFormat *format, GError **error)
{
  g_return_val_if_fail (path != NULL, FALSE);
  const char *dot = strrchr (path, '.');
  MelEngraveFormat f;
  if (dot != NULL && g_ascii_strcasecmp (dot, ".png") == 0)
    f = MEL_ENGRAVE_FORMAT_PNG;
  else if (dot != NULL && g_ascii_strcasecmp (dot, ".svg") == 0)
    f = MEL_ENGRAVE_FORMAT_SVG;
  else if (dot != NULL && g_ascii_strcasecmp (dot, ".pdf") == 0)
    f = MEL_ENGRAVE_FORMAT_PDF;
  else
    {
      g_set_error (error, MEL_ENGRAVE_ERROR, MEL_ENGRAVE_ERROR_FORMAT,
                   "cannot tell the format of '%s': use a .png, .svg or .pdf file name", path);
      return FALSE;
    }
  if (format != NULL)
    *format = f;
  return TRUE;
}

typedef struct
{
  int fd;
  gboolean failed;
  int saved_errno;
} StreamTarget;

static cairo_status_t
write_to_fd (void *closure, const unsigned char *data, unsigned int length)
{
  StreamTarget *t = closure;
  while (length > 0)
    {
      ssize_t n = write (t->fd, data, length);
      if (n < 0)
        {
          if (errno == EINTR)
            continue;
          t->failed = TRUE;
          t->saved_errno = errno;
          return CAIRO_STATUS_WRITE_ERROR;
        }
      data += n;
      length -= (unsigned int) n;
    }
  return CAIRO_STATUS_SUCCESS;
}

/* ---- a fast PNG writer ------------------------------------------------------
 *
 * cairo's PNG writer lets libpng try every row filter at zlib level 6,
 * which costs more than drawing the score.  Engraved music is mostly
 * white rows and repeated staff lines: the "Up" filter and a fast zlib
 * level compress it nearly as well in a fraction of the time. */

static guint32 crc_table[256];

static void
crc_table_init (void)
{
  static gsize done = 0;
  if (g_once_init_enter (&done))
    {
      for (guint32 n = 0; n < 256; n++)
        {
          guint32 c = n;
          for (int k = 0; k < 8; k++)
            c = (c & 1) ? 0xedb88320u ^ (c >> 1) : c >> 1;
          crc_table[n] = c;
        }
      g_once_init_leave (&done, 1);
    }
}

static guint32
crc_update (guint32 crc, const guint8 *data, gsize length)
{
  for (gsize i = 0; i < length; i++)
    crc = crc_table[(crc ^ data[i]) & 0xff] ^ (crc >> 8);
  return crc;
}

static gboolean
png_chunk (StreamTarget *t, const char type[4], const guint8 *data, gsize length)
{
  guint8 head[8];
  guint8 tail[4];
  guint32 crc = 0xffffffffu;

  head[0] = (guint8) (length >> 24);
  head[1] = (guint8) (length >> 16);
  head[2] = (guint8) (length >> 8);
  head[3] = (guint8) length;
  memcpy (head + 4, type, 4);
  crc = crc_update (crc, head + 4, 4);
  crc = crc_update (crc, data, length);
  crc ^= 0xffffffffu;
  tail[0] = (guint8) (crc >> 24);
  tail[1] = (guint8) (crc >> 16);
  tail[2] = (guint8) (crc >> 8);
  tail[3] = (guint8) crc;
  return write_to_fd (t, head, 8) == CAIRO_STATUS_SUCCESS
         && (length == 0 || write_to_fd (t, data, (unsigned int) length) == CAIRO_STATUS_SUCCESS)
         && write_to_fd (t, tail, 4) == CAIRO_STATUS_SUCCESS;
}

/* Writes an ARGB32 image surface as 8-bit RGBA (or RGB when opaque) PNG. */
static gboolean
write_png (cairo_surface_t *surface, gboolean opaque, StreamTarget *t)
{
  static const guint8 signature[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };
  int w = cairo_image_surface_get_width (surface);
  int h = cairo_image_surface_get_height (surface);
  int stride = cairo_image_surface_get_stride (surface);
  int channels = opaque ? 3 : 4;
  gsize row_len = (gsize) w * channels + 1;
  const guint8 *pixels;
  guint8 ihdr[13];

  crc_table_init ();
  cairo_surface_flush (surface);
  pixels = cairo_image_surface_get_data (surface);
  ihdr[0] = (guint8) (w >> 24);
  ihdr[1] = (guint8) (w >> 16);
  ihdr[2] = (guint8) (w >> 8);
  ihdr[3] = (guint8) w;
  ihdr[4] = (guint8) (h >> 24);
  ihdr[5] = (guint8) (h >> 16);
  ihdr[6] = (guint8) (h >> 8);
  ihdr[7] = (guint8) h;
  ihdr[8] = 8;                /* bit depth */
  ihdr[9] = opaque ? 2 : 6;   /* RGB or RGBA */
  ihdr[10] = ihdr[11] = ihdr[12] = 0;
  if (write_to_fd (t, signature, 8) != CAIRO_STATUS_SUCCESS || !png_chunk (t, "IHDR", ihdr, 13))
    return FALSE;

  g_autoptr (GConverter) zlib = G_CONVERTER (g_zlib_compressor_new (G_ZLIB_COMPRESSOR_FORMAT_ZLIB, 3));
  g_autofree guint8 *prev = g_malloc0 (row_len);
  g_autofree guint8 *row = g_malloc (row_len);
  g_autofree guint8 *filtered = g_malloc (row_len);
  gsize out_size = 256 * 1024;
  g_autofree guint8 *out = g_malloc (out_size);
  gsize out_fill = 0;

  for (int y = 0; y <= h; y++)
    {
      const guint8 *in = NULL;
      gsize in_len = 0;
      GConverterFlags flags = G_CONVERTER_NO_FLAGS;
      if (y < h)
        {
          const guint32 *src = (const guint32 *) (const void *) (pixels + (gsize) y * stride);
          guint8 *dst = row + 1;
          for (int x = 0; x < w; x++)
            {
              guint32 px = src[x];
              guint a = px >> 24;
              guint r = (px >> 16) & 0xff, g = (px >> 8) & 0xff, b = px & 0xff;
              if (!opaque && a != 0 && a != 255)
                {
                  /* cairo stores premultiplied alpha; PNG does not. */
                  r = (r * 255 + a / 2) / a;
                  g = (g * 255 + a / 2) / a;
                  b = (b * 255 + a / 2) / a;
                }
              *dst++ = (guint8) r;
              *dst++ = (guint8) g;
              *dst++ = (guint8) b;
              if (!opaque)
                *dst++ = (guint8) a;
            }
          /* Filter "Up": each byte minus the one above it. */
          filtered[0] = 2;
          for (gsize i = 1; i < row_len; i++)
            filtered[i] = (guint8) (row[i] - prev[i]);
          memcpy (prev, row, row_len);
          in = filtered;
          in_len = row_len;
        }
      else
        flags = G_CONVERTER_INPUT_AT_END;

      for (;;)
        {
          gsize read = 0, written = 0;
          g_autoptr (GError) error = NULL;
          GConverterResult r = g_converter_convert (zlib, in, in_len, out + out_fill, out_size - out_fill, flags,
                                                    &read, &written, &error);
          if (r == G_CONVERTER_ERROR)
            {
              if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_NO_SPACE))
                written = 0;
              else
                return FALSE;
            }
          in += read;
          in_len -= read;
          out_fill += written;
          if (out_fill == out_size || (r == G_CONVERTER_ERROR && out_fill > 0))
            {
              if (!png_chunk (t, "IDAT", out, out_fill))
                return FALSE;
              out_fill = 0;
            }
          if (r == G_CONVERTER_FINISHED)
            break;
          if (in_len == 0 && flags != G_CONVERTER_INPUT_AT_END)
            break;
        }
    }
  if (out_fill > 0 && !png_chunk (t, "IDAT", out, out_fill))
    return FALSE;
  return png_chunk (t, "IEND", NULL, 0);
}

#define A4_WIDTH_PT 595.276
#define A4_HEIGHT_PT 841.89
#define PDF_MARGIN_PT 42.0

/* Draws the layout on @surface; for PDF one page per group of systems
 * that fits the A4 page height. */
static cairo_status_t
draw_document (cairo_surface_t *surface, const MelEngraveLayout *layout, const MelEngraveRenderOptions *ropts,
               gboolean paged)
{
  cairo_t *cr = cairo_create (surface);
  guint n_systems;
  const MelEngraveSystem *systems = mel_engrave_layout_get_systems (layout, &n_systems);

  if (!paged)
    mel_engrave_render (layout, cr, ropts, 0, G_MAXUINT);
  else
    {
      MelEngraveRenderOptions page_opts = *ropts;
      page_opts.paper[3] = 0; /* paper is the page itself */
      guint first = 0;
      double usable = A4_HEIGHT_PT - 2 * PDF_MARGIN_PT;
      while (first < n_systems)
        {
          /* The first page also holds the title block above system 0. */
          double page_top = first == 0 ? 0 : systems[first].top;
          guint last = first;
          while (last + 1 < n_systems && systems[last + 1].bottom - page_top <= usable)
            last++;
          cairo_save (cr);
          cairo_translate (cr, 0, PDF_MARGIN_PT - page_top - (first == 0 ? PDF_MARGIN_PT * 0.5 : 0));
          mel_engrave_render (layout, cr, &page_opts, first, last);
          cairo_restore (cr);
          cairo_show_page (cr);
          first = last + 1;
        }
    }
  cairo_status_t status = cairo_status (cr);
  cairo_destroy (cr);
  return status;
}

gboolean
mel_engrave_export_file (const MelSong *song, const char *path, const MelEngraveOptions *options,
                         const MelEngraveRenderOptions *render_options, GError **error)
{
  MelEngraveOptions opts;
  MelEngraveRenderOptions ropts;
  MelEngraveFormat format;

  g_return_val_if_fail (song != NULL, FALSE);
  g_return_val_if_fail (path != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!mel_engrave_format_from_path (path, &format, error) || !mel_engrave_check_font (error))
    return FALSE;
  if (options != NULL)
    opts = *options;
  else
    mel_engrave_options_init (&opts);
  if (render_options != NULL)
    ropts = *render_options;
  else
    mel_engrave_render_options_init (&ropts);
  if (format == MEL_ENGRAVE_FORMAT_PDF)
    {
      opts.width = A4_WIDTH_PT;
      opts.space = 5.0; /* about 1.75 mm, a usual staff size for a song */
      opts.margin = PDF_MARGIN_PT / (opts.space * opts.scale);
    }

  g_autoptr (MelEngraveLayout) layout = mel_engrave_layout_new (song, &opts, error);
  if (layout == NULL)
    return FALSE;
  double w = mel_engrave_layout_get_width (layout);
  double h = mel_engrave_layout_get_height (layout);
  if (format == MEL_ENGRAVE_FORMAT_PNG && (w * h > 400e6 || w > 32000 || h > 32000))
    {
      g_set_error (error, MEL_ENGRAVE_ERROR, MEL_ENGRAVE_ERROR_INVALID,
                   "the image would be %.0f × %.0f pixels; use a smaller --scale or a PDF", w, h);
      return FALSE;
    }

  g_autofree char *tmp_path = g_strconcat (path, ".XXXXXX", NULL);
  StreamTarget target = { -1, FALSE, 0 };
  target.fd = g_mkstemp_full (tmp_path, O_RDWR | O_CLOEXEC, 0666);
  if (target.fd < 0)
    {
      int e = errno;
      g_set_error (error, MEL_ENGRAVE_ERROR, MEL_ENGRAVE_ERROR_IO, "cannot write '%s': %s", path, g_strerror (e));
      return FALSE;
    }

  cairo_status_t status;
  cairo_surface_t *surface = NULL;
  switch (format)
    {
    case MEL_ENGRAVE_FORMAT_PNG:
      surface = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, (int) ceil (w), (int) ceil (h));
      status = cairo_surface_status (surface);
      if (status == CAIRO_STATUS_SUCCESS)
        status = draw_document (surface, layout, &ropts, FALSE);
      if (status == CAIRO_STATUS_SUCCESS && !write_png (surface, ropts.paper[3] >= 1.0, &target))
        status = CAIRO_STATUS_WRITE_ERROR;
      break;
    case MEL_ENGRAVE_FORMAT_SVG:
      surface = cairo_svg_surface_create_for_stream (write_to_fd, &target, w, h);
      status = cairo_surface_status (surface);
      if (status == CAIRO_STATUS_SUCCESS)
        status = draw_document (surface, layout, &ropts, FALSE);
      break;
    case MEL_ENGRAVE_FORMAT_PDF:
    default:
      surface = cairo_pdf_surface_create_for_stream (write_to_fd, &target, A4_WIDTH_PT, A4_HEIGHT_PT);
      status = cairo_surface_status (surface);
      if (status == CAIRO_STATUS_SUCCESS)
        {
          cairo_pdf_surface_set_metadata (surface, CAIRO_PDF_METADATA_TITLE,
                                          song->title != NULL && g_utf8_validate (song->title, -1, NULL)
                                              ? song->title
                                              : song->id);
          cairo_pdf_surface_set_metadata (surface, CAIRO_PDF_METADATA_CREATOR, "Melodist");
          status = draw_document (surface, layout, &ropts, TRUE);
        }
      break;
    }
  if (surface != NULL)
    {
      cairo_surface_finish (surface);
      if (status == CAIRO_STATUS_SUCCESS)
        status = cairo_surface_status (surface);
      cairo_surface_destroy (surface);
    }

  gboolean ok = status == CAIRO_STATUS_SUCCESS && !target.failed;
  if (ok && fsync (target.fd) != 0)
    {
      target.failed = TRUE;
      target.saved_errno = errno;
      ok = FALSE;
    }
  if (close (target.fd) != 0 && ok)
    {
      target.failed = TRUE;
      target.saved_errno = errno;
      ok = FALSE;
    }
  if (ok && g_rename (tmp_path, path) != 0)
    {
      target.failed = TRUE;
      target.saved_errno = errno;
      ok = FALSE;
    }
  if (!ok)
    {
      g_unlink (tmp_path);
      if (target.failed)
        g_set_error (error, MEL_ENGRAVE_ERROR, MEL_ENGRAVE_ERROR_IO, "cannot write '%s': %s", path,
                     g_strerror (target.saved_errno));
      else
        g_set_error (error, MEL_ENGRAVE_ERROR, MEL_ENGRAVE_ERROR_IO, "cannot write '%s': %s", path,
                     cairo_status_to_string (status));
      return FALSE;
    }
  return TRUE;
}
