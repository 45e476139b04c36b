/* mel-engrave.h — staff notation for one melody: layout, drawing, export.
 *
 * Engraving runs in two steps.
 *
 * 1. mel_engrave_layout_new() turns a MelSong and a page width into a
 *    MelEngraveLayout: a flat list of positioned items (music glyphs,
 *    lines, beams, ties, texts) grouped into systems, plus the notation
 *    decisions behind them (written note values, stems, beams,
 *    accidentals, ties) and the geometry needed for hit-testing and a
 *    playback cursor.  The layout knows nothing about cairo: it is pure
 *    arithmetic and takes well under a millisecond for a folk song, so a
 *    GUI may run it on its main thread whenever the width changes.
 *
 * 2. mel_engrave_render() draws a layout with cairo and Pango, using the
 *    "Noto Music" font (Debian package fonts-noto-core) for the symbols of
 *    the Unicode Musical Symbols block; mel_engrave_export_file() writes
 *    PNG, SVG or (multi-page A4) PDF.
 *
 * Coordinates are in device units (pixels for the screen and PNG, points
 * for PDF/SVG) with the origin at the top left corner of the layout and y
 * growing downwards.  A layout is immutable once built and reference
 * counted, so it may be shared between threads.
 *
 * Notation rules implemented (see docs/sections/engraving.md):
 *  - clef: treble, or "treble 8vb"/bass when the range needs it;
 *  - key signature, time signature and its changes, irregular meters
 *    (*MX: no time signature, bar lines from the source), pickup bars;
 *  - durations re-spelled per meter: a note crossing a bar line or an
 *    important beat is split into tied notatable values;
 *  - accidentals relative to the key signature with the carry-through rule
 *    in a bar and courtesy accidentals in the following bar;
 *  - beams grouped by the meter, stems by staff position, flags, dots,
 *    triplet brackets, ledger lines, whole-bar rests centred;
 *  - spacing logarithmic in duration, systems justified to the width,
 *    breaks at bar lines chosen to even out the spacing.
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include <cairo.h>
#include <gio/gio.h>

#include "mel-song.h"

G_BEGIN_DECLS

#define MEL_ENGRAVE_ERROR (mel_engrave_error_quark ())
GQuark mel_engrave_error_quark (void);

typedef enum
{
  MEL_ENGRAVE_ERROR_FONT_MISSING, /* "Noto Music" not installed */
  MEL_ENGRAVE_ERROR_INVALID,      /* bad options, or a song cairo cannot draw */
  MEL_ENGRAVE_ERROR_FORMAT,       /* unknown export file extension */
  MEL_ENGRAVE_ERROR_IO,           /* the file could not be written */
} MelEngraveError;

/* ---- options --------------------------------------------------------- */

typedef struct
{
  double width;       /* total width in device units, margins included (default 1000) */
  double space;       /* size of one staff space at scale 1 (default 8) */
  double scale;       /* zoom factor applied to everything (default 1) */
  double margin;      /* left/right/top/bottom margin in staff spaces (default 3) */
  gboolean show_title; /* title and region above the first system (default TRUE) */
} MelEngraveOptions;

/* Fills @options with the defaults listed above. */
void mel_engrave_options_init (MelEngraveOptions *options);

/* ---- notation decisions (read-only results of a layout) -------------- */

typedef enum
{
  MEL_ENGRAVE_CLEF_TREBLE,
  MEL_ENGRAVE_CLEF_TREBLE_8VB, /* sounds an octave lower than written */
  MEL_ENGRAVE_CLEF_BASS,
} MelEngraveClef;

/* Written note value (undotted, untupleted). */
typedef enum
{
  MEL_ENGRAVE_VALUE_BREVE,
  MEL_ENGRAVE_VALUE_WHOLE,
  MEL_ENGRAVE_VALUE_HALF,
  MEL_ENGRAVE_VALUE_QUARTER,
  MEL_ENGRAVE_VALUE_EIGHTH,
  MEL_ENGRAVE_VALUE_16TH,
  MEL_ENGRAVE_VALUE_32ND,
  MEL_ENGRAVE_VALUE_64TH,
} MelEngraveValue;

typedef enum
{
  MEL_ENGRAVE_ACCIDENTAL_NONE,
  MEL_ENGRAVE_ACCIDENTAL_SHARP,
  MEL_ENGRAVE_ACCIDENTAL_FLAT,
  MEL_ENGRAVE_ACCIDENTAL_NATURAL,
  MEL_ENGRAVE_ACCIDENTAL_DOUBLE_SHARP,
  MEL_ENGRAVE_ACCIDENTAL_DOUBLE_FLAT,
} MelEngraveAccidental;

/* One written note or rest.  A song event that had to be split (across a
 * bar line or a beat) gives several written notes tied together; they
 * share the same @event.  Consecutive rest events are merged into one
 * silence first, so their written rests all carry the first rest's
 * @event. */
typedef struct
{
  guint event;              /* index of the song event it draws */
  guint bar;                /* index of the written bar (see get_bars) */
  guint system;             /* system (line of music) it sits on */
  MelRational onset;        /* written onset, quarters from the song start */
  MelRational duration;     /* written duration of this piece */
  MelEngraveValue value;
  guint8 dots;              /* 0 or 1 */
  gboolean triplet;         /* member of a triplet (value × 2/3) */
  gboolean is_rest;
  gboolean whole_bar_rest;  /* a rest filling the bar, drawn centred */
  int staff_position;       /* half-spaces above the bottom line (0 = bottom line, 8 = top) */
  MelEngraveAccidental accidental;
  gboolean courtesy;        /* the accidental is a courtesy (cautionary) one */
  gboolean stem_up;
  int beam_group;           /* index of its beam group, or -1 when unbeamed */
  gboolean tie_to_next;     /* tied to the next written note */
  double x;                 /* left edge of the notehead */
  double y;                 /* centre of the notehead */
  double x_next;            /* x where the next written note (or the bar line) is */
} MelEngraveNote;

/* One written bar. */
typedef struct
{
  guint source_bar;    /* index into MelSong.bars, or G_MAXUINT when synthesized */
  int number;          /* printed bar number (0 for a pickup) */
  guint system;
  MelRational onset;
  MelRational duration;
  gboolean pickup;
  double x0, x1;       /* left and right bar line */
} MelEngraveBar;

/* One line of music. */
typedef struct
{
  double y_top;        /* top staff line */
  double top, bottom;  /* vertical extent of everything drawn for it */
  double x0, x1;       /* left and right end of the staff lines */
  double music_x0;     /* where the first note column may start (after clef etc.) */
  guint first_bar, n_bars;
} MelEngraveSystem;

/* ---- drawing items ---------------------------------------------------- */

typedef enum
{
  MEL_ENGRAVE_ITEM_GLYPH, /* a music symbol at (x0, y0); see MelEngraveGlyph */
  MEL_ENGRAVE_ITEM_LINE,  /* straight line (x0,y0)–(x1,y1) of thickness @size, butt caps */
  MEL_ENGRAVE_ITEM_BEAM,  /* parallelogram: top edge (x0,y0)–(x1,y1), vertical thickness @size */
  MEL_ENGRAVE_ITEM_TIE,   /* curve from (x0,y0) to (x1,y1) bulging by @size (negative: upwards) */
  MEL_ENGRAVE_ITEM_TEXT,  /* @text in style @text_style anchored at (x0, y0) */
  MEL_ENGRAVE_ITEM_RECT,  /* filled rectangle (x0,y0)–(x1,y1) (breve rest) */
} MelEngraveItemKind;

/* Music symbols and where their anchor is:
 *  clefs: x0 = left edge, y0 = the bottom staff line (the font's design base);
 *  noteheads, sharp, natural, double sharp, dots: x0 = left edge, y0 = vertical centre;
 *  flat, double flat: x0 = left edge, y0 = centre of the note they alter;
 *  whole rest: y0 = top (hangs from a line); half rest: y0 = bottom (sits on a line);
 *  other rests: y0 = vertical centre;
 *  flags: x0 = the stem's left edge, y0 = stem end; drawn mirrored for stems down. */
typedef enum
{
  MEL_ENGRAVE_GLYPH_G_CLEF,
  MEL_ENGRAVE_GLYPH_G_CLEF_8VB,
  MEL_ENGRAVE_GLYPH_F_CLEF,
  MEL_ENGRAVE_GLYPH_NOTEHEAD_BLACK,
  MEL_ENGRAVE_GLYPH_NOTEHEAD_HALF,
  MEL_ENGRAVE_GLYPH_NOTEHEAD_WHOLE,
  MEL_ENGRAVE_GLYPH_NOTEHEAD_BREVE,
  MEL_ENGRAVE_GLYPH_REST_WHOLE,
  MEL_ENGRAVE_GLYPH_REST_HALF,
  MEL_ENGRAVE_GLYPH_REST_QUARTER,
  MEL_ENGRAVE_GLYPH_REST_8TH,
  MEL_ENGRAVE_GLYPH_REST_16TH,
  MEL_ENGRAVE_GLYPH_REST_32ND,
  MEL_ENGRAVE_GLYPH_REST_64TH,
  MEL_ENGRAVE_GLYPH_FLAG_8TH,
  MEL_ENGRAVE_GLYPH_FLAG_16TH,
  MEL_ENGRAVE_GLYPH_FLAG_32ND,
  MEL_ENGRAVE_GLYPH_FLAG_64TH,
  MEL_ENGRAVE_GLYPH_SHARP,
  MEL_ENGRAVE_GLYPH_FLAT,
  MEL_ENGRAVE_GLYPH_NATURAL,
  MEL_ENGRAVE_GLYPH_DOUBLE_SHARP,
  MEL_ENGRAVE_GLYPH_DOUBLE_FLAT,
  MEL_ENGRAVE_GLYPH_DOT,
  MEL_ENGRAVE_N_GLYPHS
} MelEngraveGlyph;

typedef enum
{
  MEL_ENGRAVE_TEXT_TITLE,      /* centred on x0, top at y0 */
  MEL_ENGRAVE_TEXT_SUBTITLE,   /* centred on x0, top at y0 */
  MEL_ENGRAVE_TEXT_BAR_NUMBER, /* left at x0, baseline at y0 */
  MEL_ENGRAVE_TEXT_TUPLET,     /* centred on (x0, y0) */
  MEL_ENGRAVE_TEXT_TIME_SIG,   /* one number, ink centred on (x0, y0), two spaces high */
} MelEngraveTextStyle;

enum
{
  MEL_ENGRAVE_ITEM_MIRRORED = 1 << 0, /* glyph flipped vertically (flags of down stems) */
};

typedef struct
{
  MelEngraveItemKind kind;
  int glyph;          /* MelEngraveGlyph for GLYPH items */
  int text_style;     /* MelEngraveTextStyle for TEXT items */
  guint flags;
  gint32 event;       /* song event the item belongs to, or -1 (staff, bar lines…) */
  gint32 system;      /* system index, or -1 for the title block */
  double x0, y0, x1, y1;
  double size;        /* LINE/BEAM thickness, TIE bulge */
  const char *text;   /* TEXT: UTF-8, owned by the layout */
} MelEngraveItem;

/* ---- layout ----------------------------------------------------------- */

typedef struct _MelEngraveLayout MelEngraveLayout;

/* Lays out @song for @options (NULL: defaults).  Never fails for a song
 * with events, whatever its durations; fails with MEL_ENGRAVE_ERROR_INVALID
 * for a song without events or absurd options (width not positive, …).
 * Returns a new layout (caller owns the reference) or NULL with @error set. */
MelEngraveLayout *mel_engrave_layout_new (const MelSong *song, const MelEngraveOptions *options,
                                          GError **error);
MelEngraveLayout *mel_engrave_layout_ref (MelEngraveLayout *layout);
void mel_engrave_layout_unref (MelEngraveLayout *layout);

/* Size of the whole layout in device units. */
double mel_engrave_layout_get_width (const MelEngraveLayout *layout);
double mel_engrave_layout_get_height (const MelEngraveLayout *layout);
/* Device units per staff space (options space × scale). */
double mel_engrave_layout_get_space (const MelEngraveLayout *layout);
MelEngraveClef mel_engrave_layout_get_clef (const MelEngraveLayout *layout);
/* The song the layout was made for; owned by the layout. */
const MelSong *mel_engrave_layout_get_song (const MelEngraveLayout *layout);

/* Read-only arrays owned by the layout; @n_out receives the length. */
const MelEngraveItem *mel_engrave_layout_get_items (const MelEngraveLayout *layout, guint *n_out);
const MelEngraveNote *mel_engrave_layout_get_notes (const MelEngraveLayout *layout, guint *n_out);
const MelEngraveBar *mel_engrave_layout_get_bars (const MelEngraveLayout *layout, guint *n_out);
const MelEngraveSystem *mel_engrave_layout_get_systems (const MelEngraveLayout *layout, guint *n_out);

/* The song event drawn nearest to (x, y), or -1 when the point is not on
 * a system or too far from any note. */
int mel_engrave_layout_hit_test (const MelEngraveLayout *layout, double x, double y);

/* Where a playback cursor at @time (quarters from the song start) goes:
 * @x, and the vertical extent @y_top…@y_bottom of its system.  Inside a
 * note the cursor moves linearly towards the next note.  Returns FALSE
 * when @time is before 0 or after the end of the song.  Out parameters may
 * be NULL. */
gboolean mel_engrave_layout_time_to_x (const MelEngraveLayout *layout, double time, double *x,
                                       double *y_top, double *y_bottom, guint *system);

/* The x of the first written note of song event @event, as for the
 * cursor; FALSE when @event is out of range. */
gboolean mel_engrave_layout_event_to_x (const MelEngraveLayout *layout, guint event, double *x,
                                        double *y_top, double *y_bottom, guint *system);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MelEngraveLayout, mel_engrave_layout_unref)

/* ---- rendering -------------------------------------------------------- */

typedef struct
{
  double ink[4];         /* RGBA of the notation (default black) */
  double paper[4];       /* RGBA painted behind everything; alpha 0 = transparent (default white) */
  int highlight_event;   /* song event drawn in @highlight colour (the playback note), or -1 */
  double highlight[4];   /* default a strong blue */
  const double *values;  /* per song event 0…1 (NaN: none), coloured with a ramp; may be NULL; not copied */
  guint n_values;
  int mark_first_bar;    /* written bars mark_first_bar…mark_last_bar get a tinted */
  int mark_last_bar;     /*   background; -1 for none */
  double mark[4];        /* default translucent yellow */
  double cursor_time;    /* draw a vertical cursor line at this time in quarters; < 0: none */
} MelEngraveRenderOptions;

void mel_engrave_render_options_init (MelEngraveRenderOptions *options);

/* The colour of @value (0…1, clamped) on the ramp used for per-note
 * values: blue (0) → green → orange → red (1).  @rgb receives 3 values. */
void mel_engrave_value_color (double value, double rgb[3]);

/* Checks that the "Noto Music" font is installed, through Pango's
 * fontconfig font map.  FALSE with MEL_ENGRAVE_ERROR_FONT_MISSING (the
 * message says to run `apt-get install fonts-noto-core`) when it is not. */
gboolean mel_engrave_check_font (GError **error);

/* Draws @layout on @cr with the layout's origin at the current user-space
 * origin.  Only the systems with indexes @first_system … @last_system
 * (inclusive) are drawn, and the title block only when @first_system is 0;
 * pass 0 and G_MAXUINT for all.  @options may be NULL (defaults).  The
 * paper is painted over the layout's rectangle only.  Does not change the
 * state of @cr (saved and restored). */
void mel_engrave_render (const MelEngraveLayout *layout, cairo_t *cr,
                         const MelEngraveRenderOptions *options,
                         guint first_system, guint last_system);

typedef enum
{
  MEL_ENGRAVE_FORMAT_PNG,
  MEL_ENGRAVE_FORMAT_SVG,
  MEL_ENGRAVE_FORMAT_PDF,
} MelEngraveFormat;

/* The format for @path's extension (.png, .svg, .pdf; case-insensitive). */
gboolean mel_engrave_format_from_path (const char *path, MelEngraveFormat *format, GError **error);

/* Engraves @song into @path, format from the extension.  PNG and SVG are
 * one image @options->width wide (PNG in pixels, SVG in points) and as tall
 * as the music; PDF is A4 portrait with as many pages as needed (the
 * width option is ignored, staff space 5 pt × scale).  The file is written
 * atomically: on error nothing is left at @path. */
gboolean mel_engrave_export_file (const MelSong *song, const char *path,
                                  const MelEngraveOptions *options,
                                  const MelEngraveRenderOptions *render_options, GError **error);

G_END_DECLS
