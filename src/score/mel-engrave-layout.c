/* mel-engrave-layout.c — from a MelSong to positioned glyphs and lines.
 *
 * The pipeline, one pass each:
 *   1. written bars (from the song's bar lines, or from the meter);
 *   2. written notes: events cut at bar lines and at beats the meter does
 *      not allow them to cross, as tied notatable values;
 *   3. triplet groups, clef, staff positions, accidentals;
 *   4. beam groups by the meter, stem directions;
 *   5. horizontal spacing per bar (power law in the duration), line
 *      breaking by dynamic programming, justification;
 *   6. items per system in staff spaces, then scaled to device units.
 *
 * Everything is computed in staff spaces with y = 0 on the top staff line
 * of the system being built, and converted at the very end.
 *
 * SPDX-License-Identifier: MIT
 */
#include "mel-engrave.h"

#include <math.h>
#include <string.h>

G_DEFINE_QUARK (mel-engrave-error-quark, mel_engrave_error)

/* ---- engraving constants, in staff spaces ---------------------------- */

#define STAFF_LINE_W 0.13
#define STEM_W 0.12
#define LEDGER_W 0.18
#define LEDGER_EXT 0.35
#define BARLINE_W 0.16
#define THICK_BARLINE_W 0.5
#define BEAM_W 0.5
#define BEAM_STEP 0.75
#define STEM_LEN 3.5
#define BEAMLET_LEN 1.1
#define SYSTEM_GAP 3.0
#define BAR_PAD_LEFT 1.3
#define ACCIDENTAL_GAP 0.25
#define DOT_GAP 0.35
#define DOT_STEP 0.5

/* Ink widths of the Noto Music glyphs at the size the renderer uses
 * (font em = 4 staff spaces; accidentals at 0.85 of that). */
static const double glyph_width[MEL_ENGRAVE_N_GLYPHS] = {
  [MEL_ENGRAVE_GLYPH_G_CLEF] = 2.48,
  [MEL_ENGRAVE_GLYPH_G_CLEF_8VB] = 2.48,
  [MEL_ENGRAVE_GLYPH_F_CLEF] = 2.8,
  [MEL_ENGRAVE_GLYPH_NOTEHEAD_BLACK] = 1.2,
  [MEL_ENGRAVE_GLYPH_NOTEHEAD_HALF] = 1.2,
  [MEL_ENGRAVE_GLYPH_NOTEHEAD_WHOLE] = 1.68,
  [MEL_ENGRAVE_GLYPH_NOTEHEAD_BREVE] = 2.48,
  [MEL_ENGRAVE_GLYPH_REST_WHOLE] = 2.76,
  [MEL_ENGRAVE_GLYPH_REST_HALF] = 2.76,
  [MEL_ENGRAVE_GLYPH_REST_QUARTER] = 1.04,
  [MEL_ENGRAVE_GLYPH_REST_8TH] = 1.08,
  [MEL_ENGRAVE_GLYPH_REST_16TH] = 1.32,
  [MEL_ENGRAVE_GLYPH_REST_32ND] = 1.64,
  [MEL_ENGRAVE_GLYPH_REST_64TH] = 1.9,
  [MEL_ENGRAVE_GLYPH_FLAG_8TH] = 1.16,
  [MEL_ENGRAVE_GLYPH_FLAG_16TH] = 1.16,
  [MEL_ENGRAVE_GLYPH_FLAG_32ND] = 1.16,
  [MEL_ENGRAVE_GLYPH_FLAG_64TH] = 1.16,
  [MEL_ENGRAVE_GLYPH_SHARP] = 1.56,
  [MEL_ENGRAVE_GLYPH_FLAT] = 0.85,
  [MEL_ENGRAVE_GLYPH_NATURAL] = 0.88,
  [MEL_ENGRAVE_GLYPH_DOUBLE_SHARP] = 1.0,
  [MEL_ENGRAVE_GLYPH_DOUBLE_FLAT] = 1.6,
  [MEL_ENGRAVE_GLYPH_DOT] = 0.45,
};

/* ---- the layout object ------------------------------------------------ */

struct _MelEngraveLayout
{
  gatomicrefcount ref_count;
  MelSong *song;
  double width, height, space;
  MelEngraveClef clef;
  GArray *items;   /* MelEngraveItem */
  GArray *notes;   /* MelEngraveNote */
  GArray *bars;    /* MelEngraveBar */
  GArray *systems; /* MelEngraveSystem */
  GStringChunk *strings;
};

void
mel_engrave_options_init (MelEngraveOptions *options)
{
  g_return_if_fail (options != NULL);
  options->width = 1000.0;
  options->space = 8.0;
  options->scale = 1.0;
  options->margin = 3.0;
  options->show_title = TRUE;
}

/* ---- rational helpers ------------------------------------------------- */

static inline MelRational
rat (gint64 num, gint64 den)
{
  return mel_rational_new (num, den);
}

static inline gboolean
rat_lt (MelRational a, MelRational b)
{
  return mel_rational_compare (a, b) < 0;
}

static inline gboolean
rat_le (MelRational a, MelRational b)
{
  return mel_rational_compare (a, b) <= 0;
}

static inline gboolean
rat_positive (MelRational a)
{
  return a.num > 0;
}

static inline MelRational
rat_min (MelRational a, MelRational b)
{
  return rat_lt (a, b) ? a : b;
}

static inline MelRational
rat_max (MelRational a, MelRational b)
{
  return rat_lt (a, b) ? b : a;
}

/* ---- meters ----------------------------------------------------------- */

typedef struct
{
  MelRational len;       /* one full bar */
  MelRational beat;      /* the counted beat (dotted in compound meters) */
  MelRational half;      /* the half-bar a note should not hide, or 0 */
  MelRational beam_unit; /* span of a beam group of plain eighths */
  gboolean compound;
  gboolean regular;      /* FALSE for *MX and missing meters */
  int numerator, denominator;
} Metric;

static void
metric_init (Metric *m, const MelMeter *meter, MelRational bar_duration)
{
  memset (m, 0, sizeof *m);
  m->half = MEL_RATIONAL_ZERO;
  if (meter == NULL || meter->irregular || meter->numerator <= 0 || meter->denominator <= 0)
    {
      m->regular = FALSE;
      m->len = rat_positive (bar_duration) ? bar_duration : rat (4, 1);
      m->beat = mel_rational_is_multiple_of (m->len, rat (1, 1)) ? rat (1, 1) : rat (1, 2);
      m->beam_unit = m->beat;
      return;
    }
  m->regular = TRUE;
  m->numerator = meter->numerator;
  m->denominator = meter->denominator;
  m->len = mel_meter_bar_length (meter);
  MelRational unit = rat (4, meter->denominator);
  m->compound = meter->numerator % 3 == 0 && meter->numerator > 3;
  if (m->compound)
    m->beat = mel_rational_mul (unit, rat (3, 1));
  else if (meter->numerator == 3 && meter->denominator == 8)
    m->beat = m->len; /* 3/8 is felt in one */
  else
    m->beat = unit;
  int beats = (int) mel_rational_floor (mel_rational_div (m->len, m->beat));
  if (beats == 4)
    m->half = mel_rational_mul (m->beat, rat (2, 1));

  /* Beam groups of eighths: the dotted quarter in compound x/8; the half
   * bar in 4/4 (relaxed to the beat when shorter values occur, see
   * beam_span()); the quarter elsewhere in x/4 and x/8; the half note in
   * x/2 and x/1 meters. */
  if (m->compound && meter->denominator >= 8)
    m->beam_unit = m->beat;
  else if (meter->numerator == 3 && meter->denominator == 8)
    m->beam_unit = m->len;
  else if (meter->denominator <= 2)
    m->beam_unit = rat (2, 1);
  else if (meter->numerator == 4 && meter->denominator == 4)
    m->beam_unit = rat (2, 1);
  else
    m->beam_unit = rat (1, 1);
}

static gboolean
metric_equal (const Metric *a, const Metric *b)
{
  if (a->regular != b->regular)
    return FALSE;
  if (!a->regular)
    return TRUE;
  return a->numerator == b->numerator && a->denominator == b->denominator;
}

/* ---- note values ------------------------------------------------------ */

typedef struct
{
  MelEngraveValue value;
  int dots;
  gboolean triplet;
} Notation;

/* Quarter-note length of @value undotted: breve 8 … 64th 1/16. */
static MelRational
value_length (MelEngraveValue value)
{
  return rat (8, (gint64) 1 << value);
}

/* TRUE when @d is written as one note: a power of two from a 64th to a
 * breve, optionally dotted, optionally a triplet member. */
static gboolean
notation_for (MelRational d, Notation *out)
{
  static const MelRational dot_factor[2] = { { 1, 1 }, { 2, 3 } };
  static const MelRational trip_factor[2] = { { 1, 1 }, { 3, 2 } };

  for (int trip = 0; trip < 2; trip++)
    for (int dots = 0; dots < 2; dots++)
      {
        MelRational base = mel_rational_mul (mel_rational_mul (d, dot_factor[dots]), trip_factor[trip]);
        for (int v = MEL_ENGRAVE_VALUE_BREVE; v <= MEL_ENGRAVE_VALUE_64TH; v++)
          if (mel_rational_equal (base, value_length (v)))
            {
              if (out != NULL)
                {
                  out->value = v;
                  out->dots = dots;
                  out->triplet = trip;
                }
              return TRUE;
            }
      }
  return FALSE;
}

/* The value drawn for a length nothing can express exactly (only for
 * absurd input): the longest plain value not longer than @d. */
static Notation
approximate_notation (MelRational d)
{
  Notation n = { MEL_ENGRAVE_VALUE_64TH, 0, FALSE };
  for (int v = MEL_ENGRAVE_VALUE_BREVE; v <= MEL_ENGRAVE_VALUE_64TH; v++)
    if (rat_le (value_length (v), d))
      {
        n.value = v;
        break;
      }
  return n;
}

static gboolean
is_triplet_length (MelRational d)
{
  return d.den % 3 == 0;
}

/* ---- written bars ----------------------------------------------------- */

typedef struct
{
  MelRational onset, duration;
  MelRational shift; /* metric position of the bar's start (a pickup starts late) */
  int number;
  guint source;
  gboolean pickup;
  Metric metric;
  MelKeySignature keysig;
  gboolean show_time; /* time signature printed at this bar */
  gboolean show_key;  /* key signature (change) printed at this bar */
  gboolean cancel_key; /* the new key is C: naturals for the old one */
  MelKeySignature old_keysig;
  guint first_note, n_notes;
  /* spacing */
  double fixed;   /* width that does not stretch */
  double stretch; /* width that stretches (note distances) */
  double whole_rest_min;
  guint system;
  double x0, x1;
} WBar;

typedef struct
{
  MelEngraveNote pub;
  int tuplet;       /* tuplet group index or -1 */
  int flags_n;      /* number of beams/flags the value needs (0 for ≥ quarter) */
  int glyph;        /* notehead or rest glyph */
  int acc_glyph;    /* -1 or accidental glyph */
  double head_w;    /* ink width of the head/rest */
  double pre_w;     /* accidental width + gap */
  double space;     /* distance to the next note (unjustified) */
  double stem_x, stem_tip; /* stem geometry once placed */
  gboolean has_stem;
} WNote;

typedef struct
{
  guint first, last; /* written note indexes */
  gboolean stem_up;
} Group;

typedef struct
{
  const MelSong *song;
  MelEngraveOptions opts;
  GArray *bars;   /* WBar */
  GArray *notes;  /* WNote */
  GArray *beams;  /* Group */
  GArray *tuplets; /* Group */
  MelEngraveClef clef;
  int clef_bottom; /* diatonic index of the bottom staff line (E4 = 30) */
  GArray *items;   /* MelEngraveItem, staff-space units */
  GStringChunk *strings;
  double header_w_first, header_w; /* clef + key (+ time) */
} Builder;

static const MelKeySignature *
keysig_at (const MelSong *song, MelRational onset, MelKeySignature *fallback)
{
  const MelKeySignature *sig = mel_song_get_key_signature_at (song, onset);
  if (sig == NULL && song->key_signatures->len > 0)
    sig = &g_array_index (song->key_signatures, MelKeySignature, 0);
  if (sig != NULL)
    return sig;
  memset (fallback, 0, sizeof *fallback);
  mel_key_signature_init_fifths (fallback, 0);
  return fallback;
}

static const MelMeter *
meter_at (const MelSong *song, MelRational onset)
{
  const MelMeter *m = mel_song_get_meter_at (song, onset);
  if (m == NULL && song->meters->len > 0)
    m = &g_array_index (song->meters, MelMeter, 0);
  return m;
}

static void
add_bar (Builder *b, MelRational onset, MelRational duration, int number, guint source)
{
  WBar bar = { 0 };
  MelKeySignature fallback;
  const MelMeter *meter = meter_at (b->song, onset);

  bar.onset = onset;
  bar.duration = duration;
  bar.number = number;
  bar.source = source;
  bar.shift = MEL_RATIONAL_ZERO;
  metric_init (&bar.metric, meter, duration);
  /* A bar whose length differs from its meter (mixed-meter songs whose *M
   * sits in the wrong place) is measured by its own length instead. */
  if (bar.metric.regular && !mel_rational_equal (bar.metric.len, duration))
    {
      gboolean first = b->bars->len == 0;
      if (first && rat_lt (duration, bar.metric.len))
        {
          bar.pickup = TRUE;
          bar.shift = mel_rational_sub (bar.metric.len, duration);
        }
      else if (rat_lt (bar.metric.len, duration))
        bar.metric.len = duration;
    }
  if (number == 0 && b->bars->len == 0)
    bar.pickup = TRUE;
  bar.keysig = *keysig_at (b->song, onset, &fallback);
  g_array_append_val (b->bars, bar);
}

static void
build_bars (Builder *b)
{
  const MelSong *song = b->song;
  MelRational end = song->duration;

  for (guint i = 0; i < song->events->len; i++)
    {
      const MelEvent *ev = &g_array_index (song->events, MelEvent, i);
      end = rat_max (end, mel_rational_add (ev->onset, ev->duration));
    }

  MelRational t = MEL_RATIONAL_ZERO;
  int number = 1;
  for (guint i = 0; i < song->bars->len; i++)
    {
      const MelBar *sb = &g_array_index (song->bars, MelBar, i);
      /* Bars should be contiguous from 0; if the input has a gap or an
       * overlap, the written bar runs from the previous bar's end. */
      MelRational sb_end = mel_rational_add (sb->onset, sb->duration);
      if (!rat_lt (t, sb_end))
        continue;
      add_bar (b, t, mel_rational_sub (sb_end, t), sb->number, i);
      t = sb_end;
      number = sb->number + 1;
    }
  if (b->bars->len == 0 && rat_positive (song->pickup))
    {
      add_bar (b, MEL_RATIONAL_ZERO, song->pickup, 0, G_MAXUINT);
      t = song->pickup;
    }
  /* Music after the last bar line (generated songs have none): bars of
   * the meter in force. */
  while (rat_lt (t, end))
    {
      const MelMeter *meter = meter_at (song, t);
      MelRational len = meter != NULL ? mel_meter_bar_length (meter) : MEL_RATIONAL_ZERO;
      if (!rat_positive (len))
        len = rat (4, 1);
      len = rat_min (len, mel_rational_sub (end, t));
      add_bar (b, t, len, number++, G_MAXUINT);
      t = mel_rational_add (t, len);
    }

  /* Which bars show a time or key signature. */
  for (guint i = 0; i < b->bars->len; i++)
    {
      WBar *bar = &g_array_index (b->bars, WBar, i);
      WBar *prev = i > 0 ? &g_array_index (b->bars, WBar, i - 1) : NULL;
      if (prev == NULL)
        bar->show_time = bar->metric.regular;
      else
        bar->show_time = bar->metric.regular && !metric_equal (&prev->metric, &bar->metric);
      if (prev != NULL && memcmp (prev->keysig.alters, bar->keysig.alters, sizeof bar->keysig.alters) != 0)
        {
          bar->show_key = TRUE;
          bar->old_keysig = prev->keysig;
          gboolean any = FALSE;
          for (int s = 0; s < 7; s++)
            any |= bar->keysig.alters[s] != 0;
          bar->cancel_key = !any;
        }
    }
}

/* ---- splitting events into written notes ------------------------------ */

/* Levels of metric boundaries inside a bar, strongest first. */
static gboolean
strongest_boundary (const Metric *m, MelRational o, MelRational d, MelRational *split)
{
  MelRational end = mel_rational_add (o, d);
  MelRational units[8];
  int n = 0;

  if (rat_positive (m->half))
    units[n++] = m->half;
  units[n++] = m->beat;
  MelRational sub = m->compound ? mel_rational_div (m->beat, rat (3, 1)) : mel_rational_div (m->beat, rat (2, 1));
  for (int k = 0; k < 5; k++)
    {
      units[n++] = sub;
      sub = mel_rational_div (sub, rat (2, 1));
    }
  for (int i = 0; i < n; i++)
    {
      MelRational u = units[i];
      gint64 k = mel_rational_floor (mel_rational_div (o, u)) + 1;
      MelRational p = mel_rational_mul (u, rat (k, 1));
      if (rat_lt (p, end) && rat_lt (o, p))
        {
          *split = p;
          return TRUE;
        }
    }
  return FALSE;
}

static gboolean
crosses (MelRational o, MelRational d, MelRational unit)
{
  if (!rat_positive (unit))
    return FALSE;
  MelRational end = mel_rational_add (o, d);
  gint64 k = mel_rational_floor (mel_rational_div (o, unit)) + 1;
  return rat_lt (mel_rational_mul (unit, rat (k, 1)), end);
}

/* May a note of length @d start at metric position @o of a bar as one
 * written value?  Lenient on purpose: the corpus is already notated, and
 * its usual syncopations (q h q in 4/4, 8 q 8 in 2/4) stay as they are. */
static gboolean
acceptable (const Metric *m, MelRational o, MelRational d)
{
  Notation n;

  if (!notation_for (d, &n))
    return FALSE;
  if (n.triplet || is_triplet_length (o))
    return !crosses (o, d, m->half) || mel_rational_is_multiple_of (o, m->half);
  if (mel_rational_is_multiple_of (o, m->beat))
    {
      /* On the beat: fine, unless it hides the middle of a 4-beat bar
       * while starting off it and lasting more than two beats. */
      if (rat_positive (m->half) && crosses (o, d, m->half) && !mel_rational_is_multiple_of (o, m->half)
          && rat_lt (mel_rational_mul (m->beat, rat (2, 1)), d))
        return FALSE;
      return TRUE;
    }
  /* Off the beat: within one beat, or a syncopation of up to a beat that
   * ends on a half beat without hiding the half bar. */
  if (!crosses (o, d, m->beat))
    return TRUE;
  if (m->compound)
    return FALSE;
  MelRational half_beat = mel_rational_div (m->beat, rat (2, 1));
  return rat_le (d, m->beat) && !crosses (o, d, m->half)
         && mel_rational_is_multiple_of (mel_rational_add (o, d), half_beat)
         && mel_rational_is_multiple_of (o, half_beat);
}

typedef struct
{
  MelRational o; /* metric position in the bar */
  MelRational d;
} Piece;

static void
split_in_bar (const Metric *m, MelRational o, MelRational d, GArray *out, int depth)
{
  MelRational p;

  if (!rat_positive (d))
    return;
  if (depth > 40 || acceptable (m, o, d))
    {
      Piece piece = { o, d };
      g_array_append_val (out, piece);
      return;
    }
  if (strongest_boundary (m, o, d, &p))
    {
      split_in_bar (m, o, mel_rational_sub (p, o), out, depth + 1);
      split_in_bar (m, p, mel_rational_sub (mel_rational_add (o, d), p), out, depth + 1);
      return;
    }
  /* No boundary inside and no single value (e.g. 5/8 of a beat): the
   * longest value that fits, then the rest. */
  for (int v = MEL_ENGRAVE_VALUE_BREVE; v <= MEL_ENGRAVE_VALUE_64TH; v++)
    {
      MelRational len = value_length (v);
      MelRational dotted = mel_rational_mul (len, rat (3, 2));
      if (rat_le (dotted, d))
        len = dotted;
      else if (!rat_le (len, d))
        continue;
      if (mel_rational_equal (len, d))
        break;
      Piece piece = { o, len };
      g_array_append_val (out, piece);
      split_in_bar (m, mel_rational_add (o, len), mel_rational_sub (d, len), out, depth + 1);
      return;
    }
  Piece piece = { o, d };
  g_array_append_val (out, piece);
}

static void
append_written (Builder *b, guint event_index, const MelEvent *ev, guint bar_index, MelRational onset,
                MelRational duration, gboolean tie_to_next)
{
  WBar *bar = &g_array_index (b->bars, WBar, bar_index);
  g_autoptr (GArray) pieces = g_array_new (FALSE, FALSE, sizeof (Piece));
  MelRational rel = mel_rational_sub (onset, bar->onset);
  MelRational o = mel_rational_add (rel, bar->shift);

  split_in_bar (&bar->metric, o, duration, pieces, 0);
  for (guint k = 0; k < pieces->len; k++)
    {
      const Piece *pc = &g_array_index (pieces, Piece, k);
      WNote n = { 0 };
      Notation nt;
      if (!notation_for (pc->d, &nt))
        nt = approximate_notation (pc->d);
      n.pub.event = event_index;
      n.pub.bar = bar_index;
      n.pub.onset = mel_rational_add (bar->onset, mel_rational_sub (pc->o, bar->shift));
      n.pub.duration = pc->d;
      n.pub.value = nt.value;
      n.pub.dots = (guint8) nt.dots;
      n.pub.triplet = nt.triplet;
      n.pub.is_rest = mel_event_is_rest (ev);
      n.pub.beam_group = -1;
      n.pub.tie_to_next = !n.pub.is_rest && (k + 1 < pieces->len || tie_to_next);
      n.tuplet = -1;
      n.acc_glyph = -1;
      n.flags_n = nt.value >= MEL_ENGRAVE_VALUE_EIGHTH ? (int) nt.value - MEL_ENGRAVE_VALUE_QUARTER : 0;
      g_array_append_val (b->notes, n);
    }
}

static void
build_notes (Builder *b)
{
  const MelSong *song = b->song;
  guint bar_index = 0;

  for (guint i = 0; i < song->events->len; i++)
    {
      const MelEvent *ev = &g_array_index (song->events, MelEvent, i);
      if (!rat_positive (ev->duration) || ev->onset.num < 0)
        continue;
      MelRational start = ev->onset;
      MelRational end = mel_rational_add (ev->onset, ev->duration);
      guint first = i;
      /* Consecutive rests are one silence, written as the meter wants it
       * (two eighth rests on a beat become a quarter rest); the written
       * rests belong to the first of them. */
      while (mel_event_is_rest (ev) && i + 1 < song->events->len)
        {
          const MelEvent *next = &g_array_index (song->events, MelEvent, i + 1);
          if (!mel_event_is_rest (next) || !rat_positive (next->duration) || !mel_rational_equal (next->onset, end))
            break;
          end = mel_rational_add (end, next->duration);
          i++;
        }
      while (bar_index + 1 < b->bars->len
             && rat_le (mel_rational_add (g_array_index (b->bars, WBar, bar_index).onset,
                                          g_array_index (b->bars, WBar, bar_index).duration),
                        start))
        bar_index++;
      /* An event that starts before the current bar (overlapping input) is
       * clipped to it. */
      guint bi = bar_index;
      while (rat_lt (start, end) && bi < b->bars->len)
        {
          WBar *bar = &g_array_index (b->bars, WBar, bi);
          MelRational bar_end = mel_rational_add (bar->onset, bar->duration);
          MelRational s = rat_max (start, bar->onset);
          MelRational e = rat_min (end, bar_end);
          if (rat_lt (s, e))
            {
              gboolean more = rat_lt (e, end) && bi + 1 < b->bars->len;
              append_written (b, first, ev, bi, s, mel_rational_sub (e, s),
                              more || (ev->tie & MEL_TIE_START) != 0);
            }
          start = e;
          bi++;
        }
    }
  /* A tie to nothing (the last note, or a rest next) is dropped. */
  for (guint i = 0; i < b->notes->len; i++)
    {
      WNote *n = &g_array_index (b->notes, WNote, i);
      if (n->pub.tie_to_next
          && (i + 1 >= b->notes->len || g_array_index (b->notes, WNote, i + 1).pub.is_rest))
        n->pub.tie_to_next = FALSE;
    }
  /* Bar membership. */
  for (guint i = 0; i < b->notes->len; i++)
    {
      WNote *n = &g_array_index (b->notes, WNote, i);
      WBar *bar = &g_array_index (b->bars, WBar, n->pub.bar);
      if (bar->n_notes == 0)
        bar->first_note = i;
      bar->n_notes++;
    }
}

/* ---- tuplets ------------------------------------------------------------ */

static void
build_tuplets (Builder *b)
{
  for (guint bi = 0; bi < b->bars->len; bi++)
    {
      WBar *bar = &g_array_index (b->bars, WBar, bi);
      guint i = bar->first_note, end = bar->first_note + bar->n_notes;
      while (i < end)
        {
          WNote *n = &g_array_index (b->notes, WNote, i);
          if (!n->pub.triplet)
            {
              i++;
              continue;
            }
          Group g = { i, i, FALSE };
          MelRational sum = n->pub.duration;
          guint j = i + 1;
          while (is_triplet_length (sum) && j < end && g_array_index (b->notes, WNote, j).pub.triplet)
            {
              sum = mel_rational_add (sum, g_array_index (b->notes, WNote, j).pub.duration);
              g.last = j++;
            }
          for (guint k = g.first; k <= g.last; k++)
            g_array_index (b->notes, WNote, k).tuplet = (int) b->tuplets->len;
          g_array_append_val (b->tuplets, g);
          i = j;
        }
    }
}

/* ---- pitch: clef, staff positions, accidentals ------------------------- */

static MelPitch
spelled_pitch (const MelEvent *ev, const MelKeySignature *sig)
{
  if (mel_pitch_step_index (ev->pitch.step) >= 0)
    return ev->pitch;
  /* Unspelled (generated) note: the key's own degree when it has one,
   * else sharps in sharp keys and flats in flat keys. */
  static const int step_semitones[7] = { 0, 2, 4, 5, 7, 9, 11 };
  int pc = ((ev->midi % 12) + 12) % 12;
  for (int s = 0; s < 7; s++)
    if (((step_semitones[s] + sig->alters[s]) % 12 + 12) % 12 == pc)
      {
        MelPitch p = { "CDEFGAB"[s], sig->alters[s], 0 };
        p.octave = (gint8) ((ev->midi - step_semitones[s] - sig->alters[s]) / 12 - 1);
        return p;
      }
  return mel_pitch_from_midi (ev->midi, sig->fifths >= 0);
}

static int
diatonic (MelPitch p)
{
  return p.octave * 7 + mel_pitch_step_index (p.step);
}

/* Ledger lines a note at staff position @pos needs. */
static int
ledgers_for (int pos)
{
  if (pos < -1)
    return (-pos) / 2;
  if (pos > 9)
    return (pos - 8) / 2;
  return 0;
}

static void
choose_clef (Builder *b)
{
  /* Diatonic index of each clef's bottom line: E4, E3 (treble 8vb), G2. */
  static const int bottoms[3] = { 4 * 7 + 2, 3 * 7 + 2, 2 * 7 + 4 };
  int max_ledgers[3] = { 0, 0, 0 };
  int sum_ledgers[3] = { 0, 0, 0 };
  const MelSong *song = b->song;
  MelKeySignature fallback;

  for (guint i = 0; i < song->events->len; i++)
    {
      const MelEvent *ev = &g_array_index (song->events, MelEvent, i);
      if (mel_event_is_rest (ev))
        continue;
      MelPitch p = spelled_pitch (ev, keysig_at (song, ev->onset, &fallback));
      for (int c = 0; c < 3; c++)
        {
          int l = ledgers_for (diatonic (p) - bottoms[c]);
          max_ledgers[c] = MAX (max_ledgers[c], l);
          sum_ledgers[c] += l;
        }
    }
  /* Treble unless a note needs more than three ledger lines; then the
   * clef with fewer ledger lines overall (8vb on a tie: the melody stays
   * in the familiar treble picture). */
  if (max_ledgers[0] <= 3)
    b->clef = MEL_ENGRAVE_CLEF_TREBLE;
  else if (sum_ledgers[2] < sum_ledgers[1] && max_ledgers[2] < max_ledgers[1] + 2)
    b->clef = MEL_ENGRAVE_CLEF_BASS;
  else
    b->clef = MEL_ENGRAVE_CLEF_TREBLE_8VB;
  b->clef_bottom = bottoms[b->clef];
}

static int
accidental_glyph (MelEngraveAccidental a)
{
  switch (a)
    {
    case MEL_ENGRAVE_ACCIDENTAL_SHARP: return MEL_ENGRAVE_GLYPH_SHARP;
    case MEL_ENGRAVE_ACCIDENTAL_FLAT: return MEL_ENGRAVE_GLYPH_FLAT;
    case MEL_ENGRAVE_ACCIDENTAL_NATURAL: return MEL_ENGRAVE_GLYPH_NATURAL;
    case MEL_ENGRAVE_ACCIDENTAL_DOUBLE_SHARP: return MEL_ENGRAVE_GLYPH_DOUBLE_SHARP;
    case MEL_ENGRAVE_ACCIDENTAL_DOUBLE_FLAT: return MEL_ENGRAVE_GLYPH_DOUBLE_FLAT;
    case MEL_ENGRAVE_ACCIDENTAL_NONE:
    default: return -1;
    }
}

static MelEngraveAccidental
accidental_for_alter (int alter)
{
  switch (alter)
    {
    case 0: return MEL_ENGRAVE_ACCIDENTAL_NATURAL;
    case 1: return MEL_ENGRAVE_ACCIDENTAL_SHARP;
    case -1: return MEL_ENGRAVE_ACCIDENTAL_FLAT;
    case 2: return MEL_ENGRAVE_ACCIDENTAL_DOUBLE_SHARP;
    default: return alter > 0 ? MEL_ENGRAVE_ACCIDENTAL_DOUBLE_SHARP : MEL_ENGRAVE_ACCIDENTAL_DOUBLE_FLAT;
    }
}

/* Accidentals: what the key signature says, overridden within a bar by
 * the last accidental on the same line or space (carry-through).  A tied
 * continuation shows none.  In the bar after an accidental, the first
 * note on that line or space returning to the key gets a courtesy sign. */
#define N_DIATONIC 128
static void
build_pitches (Builder *b)
{
  gint8 state[N_DIATONIC];
  gboolean set[N_DIATONIC];
  gboolean altered_prev[N_DIATONIC]; /* altered against the key in the previous bar */
  gboolean altered_now[N_DIATONIC];

  memset (altered_prev, 0, sizeof altered_prev);
  for (guint bi = 0; bi < b->bars->len; bi++)
    {
      WBar *bar = &g_array_index (b->bars, WBar, bi);
      memset (set, 0, sizeof set);
      memset (altered_now, 0, sizeof altered_now);
      for (guint i = bar->first_note; i < bar->first_note + bar->n_notes; i++)
        {
          WNote *n = &g_array_index (b->notes, WNote, i);
          const MelEvent *ev = mel_song_get_event (b->song, n->pub.event);
          gboolean continuation = i > 0 && g_array_index (b->notes, WNote, i - 1).pub.tie_to_next;

          if (n->pub.is_rest)
            {
              n->pub.staff_position = 4;
              continue;
            }
          MelPitch p = spelled_pitch (ev, &bar->keysig);
          int dia = CLAMP (diatonic (p), 0, N_DIATONIC - 1);
          int step = mel_pitch_step_index (p.step);
          n->pub.staff_position = diatonic (p) - b->clef_bottom;
          int current = set[dia] ? state[dia] : bar->keysig.alters[step];
          if (continuation)
            {
              /* The tie carries the alteration; it does not set the bar's
               * state for later notes (the usual convention). */
              continue;
            }
          if (p.alter != current)
            n->pub.accidental = accidental_for_alter (p.alter);
          else if (altered_prev[dia] && !set[dia] && p.alter == bar->keysig.alters[step])
            {
              n->pub.accidental = accidental_for_alter (p.alter);
              n->pub.courtesy = TRUE;
            }
          set[dia] = TRUE;
          state[dia] = p.alter;
          if (p.alter != bar->keysig.alters[step])
            altered_now[dia] = TRUE;
        }
      memcpy (altered_prev, altered_now, sizeof altered_prev);
    }
}

/* ---- beams and stems ---------------------------------------------------- */

static gboolean
beamable (const WNote *n)
{
  return !n->pub.is_rest && n->flags_n > 0;
}

/* The span of beam groups in @bar for the note at metric position @o. */
static MelRational
beam_span (Builder *b, const WBar *bar, MelRational o)
{
  const Metric *m = &bar->metric;
  MelRational unit = m->beam_unit;

  /* 4/4 and x/2: eighths go by the half bar / half note, but as soon as a
   * shorter value or a triplet appears in that span, by the beat. */
  if (rat_lt (m->beat, unit) && !m->compound)
    {
      gint64 k = mel_rational_floor (mel_rational_div (o, unit));
      MelRational s0 = mel_rational_mul (unit, rat (k, 1));
      MelRational s1 = mel_rational_add (s0, unit);
      for (guint i = bar->first_note; i < bar->first_note + bar->n_notes; i++)
        {
          const WNote *n = &g_array_index (b->notes, WNote, i);
          MelRational no = mel_rational_add (mel_rational_sub (n->pub.onset, bar->onset), bar->shift);
          if (rat_lt (no, s0) || !rat_lt (no, s1))
            continue;
          if (n->flags_n > 1 || n->pub.triplet || (n->pub.is_rest && n->pub.value >= MEL_ENGRAVE_VALUE_EIGHTH)
              || (n->flags_n == 0 && !n->pub.is_rest && !mel_rational_is_multiple_of (no, m->beat)))
            return m->beat;
        }
    }
  return unit;
}

static gint64
beam_slot (Builder *b, const WBar *bar, const WNote *n)
{
  MelRational o = mel_rational_add (mel_rational_sub (n->pub.onset, bar->onset), bar->shift);
  MelRational span = beam_span (b, bar, o);
  /* Slots of different spans must not compare equal: scale by the span. */
  return mel_rational_floor (mel_rational_div (o, span)) * 1000 + (gint64) (mel_rational_to_double (span) * 16);
}

static void
build_beams (Builder *b)
{
  for (guint bi = 0; bi < b->bars->len; bi++)
    {
      WBar *bar = &g_array_index (b->bars, WBar, bi);
      guint end = bar->first_note + bar->n_notes;
      guint i = bar->first_note;
      while (i < end)
        {
          WNote *n = &g_array_index (b->notes, WNote, i);
          if (!beamable (n))
            {
              i++;
              continue;
            }
          gint64 slot = beam_slot (b, bar, n);
          guint j = i + 1;
          while (j < end && beamable (&g_array_index (b->notes, WNote, j))
                 && beam_slot (b, bar, &g_array_index (b->notes, WNote, j)) == slot)
            j++;
          if (j - i >= 2)
            {
              Group g = { i, j - 1, FALSE };
              for (guint k = i; k < j; k++)
                g_array_index (b->notes, WNote, k).pub.beam_group = (int) b->beams->len;
              g_array_append_val (b->beams, g);
            }
          i = j;
        }
    }
}

/* Stems: down from the middle line up, up below it; a beam group follows
 * the note farthest from the middle line (down on a tie). */
static void
build_stems (Builder *b)
{
  for (guint i = 0; i < b->notes->len; i++)
    {
      WNote *n = &g_array_index (b->notes, WNote, i);
      n->has_stem = !n->pub.is_rest && n->pub.value >= MEL_ENGRAVE_VALUE_HALF;
      n->pub.stem_up = n->pub.staff_position < 4;
    }
  for (guint g = 0; g < b->beams->len; g++)
    {
      Group *grp = &g_array_index (b->beams, Group, g);
      int hi = G_MININT, lo = G_MAXINT;
      for (guint k = grp->first; k <= grp->last; k++)
        {
          int pos = g_array_index (b->notes, WNote, k).pub.staff_position;
          hi = MAX (hi, pos);
          lo = MIN (lo, pos);
        }
      grp->stem_up = (4 - lo) > (hi - 4);
      for (guint k = grp->first; k <= grp->last; k++)
        g_array_index (b->notes, WNote, k).pub.stem_up = grp->stem_up;
    }
}

/* ---- horizontal spacing ------------------------------------------------ */

/* Distance after a note of @d quarters: a power law (Gourlay-style), an
 * eighth 3.1 spaces, each doubling of the duration ×1.46. */
static double
ideal_space (MelRational d)
{
  double q = mel_rational_to_double (d);
  return 3.1 * pow (2.0 * q, 0.55);
}

static int
head_glyph (const WNote *n)
{
  static const int rests[] = {
    MEL_ENGRAVE_GLYPH_REST_WHOLE, MEL_ENGRAVE_GLYPH_REST_WHOLE, MEL_ENGRAVE_GLYPH_REST_HALF,
    MEL_ENGRAVE_GLYPH_REST_QUARTER, MEL_ENGRAVE_GLYPH_REST_8TH, MEL_ENGRAVE_GLYPH_REST_16TH,
    MEL_ENGRAVE_GLYPH_REST_32ND, MEL_ENGRAVE_GLYPH_REST_64TH,
  };
  if (n->pub.is_rest)
    return rests[n->pub.value];
  switch (n->pub.value)
    {
    case MEL_ENGRAVE_VALUE_BREVE: return MEL_ENGRAVE_GLYPH_NOTEHEAD_BREVE;
    case MEL_ENGRAVE_VALUE_WHOLE: return MEL_ENGRAVE_GLYPH_NOTEHEAD_WHOLE;
    case MEL_ENGRAVE_VALUE_HALF: return MEL_ENGRAVE_GLYPH_NOTEHEAD_HALF;
    default: return MEL_ENGRAVE_GLYPH_NOTEHEAD_BLACK;
    }
}

/* Width of a key signature: accidentals stepped 1.15 (sharps) or 0.95
 * (flats) apart, plus the full ink of the last one (flats come first). */
static double
key_signature_width (const MelKeySignature *sig)
{
  int sharps = 0, flats = 0;
  for (int s = 0; s < 7; s++)
    {
      sharps += sig->alters[s] > 0;
      flats += sig->alters[s] < 0;
    }
  if (sharps > 0)
    return flats * 0.95 + (sharps - 1) * 1.15 + glyph_width[MEL_ENGRAVE_GLYPH_SHARP];
  if (flats > 0)
    return (flats - 1) * 0.95 + glyph_width[MEL_ENGRAVE_GLYPH_FLAT];
  return 0;
}

static double
time_signature_width (const Metric *m)
{
  int digits = MAX (m->numerator >= 10 ? 2 : 1, m->denominator >= 10 ? 2 : 1);
  return 1.7 * digits;
}

static double
clef_width (Builder *b)
{
  return b->clef == MEL_ENGRAVE_CLEF_BASS ? 2.8 : 2.48;
}

/* Width of the system start: clef, key signature (and time signature for
 * the first system), not counting the bar's own padding. */
static double
header_width (Builder *b, const WBar *bar, gboolean with_time)
{
  double w = 0.6 + clef_width (b) + 0.8;
  double k = key_signature_width (&bar->keysig);
  if (k > 0)
    w += k + 0.9;
  if (with_time)
    w += time_signature_width (&bar->metric) + 0.8;
  return w;
}

static gboolean
is_whole_bar_rest (Builder *b, const WBar *bar)
{
  if (bar->n_notes != 1)
    return FALSE;
  const WNote *n = &g_array_index (b->notes, WNote, bar->first_note);
  return n->pub.is_rest && mel_rational_equal (n->pub.duration, bar->duration) && !bar->pickup;
}

static void
space_bars (Builder *b)
{
  for (guint i = 0; i < b->notes->len; i++)
    {
      WNote *n = &g_array_index (b->notes, WNote, i);
      n->glyph = head_glyph (n);
      n->head_w = glyph_width[n->glyph];
      n->acc_glyph = accidental_glyph (n->pub.accidental);
      n->pre_w = n->acc_glyph >= 0 ? glyph_width[n->acc_glyph] + ACCIDENTAL_GAP : 0;
    }
  for (guint bi = 0; bi < b->bars->len; bi++)
    {
      WBar *bar = &g_array_index (b->bars, WBar, bi);
      guint end = bar->first_note + bar->n_notes;
      bar->fixed = BAR_PAD_LEFT;
      if (bar->show_key)
        bar->fixed += (bar->cancel_key ? key_signature_width (&bar->old_keysig) : key_signature_width (&bar->keysig)) + 0.8;
      if (bar->show_time && bi > 0)
        bar->fixed += time_signature_width (&bar->metric) + 0.8;
      bar->stretch = 0;
      if (is_whole_bar_rest (b, bar))
        {
          WNote *n = &g_array_index (b->notes, WNote, bar->first_note);
          n->pub.whole_bar_rest = TRUE;
          n->glyph = n->pub.value == MEL_ENGRAVE_VALUE_BREVE ? n->glyph : MEL_ENGRAVE_GLYPH_REST_WHOLE;
          n->head_w = glyph_width[n->glyph];
          n->space = MAX (ideal_space (bar->duration), n->head_w + 3.0);
          bar->stretch = n->space;
          continue;
        }
      if (bar->n_notes > 0)
        bar->fixed += g_array_index (b->notes, WNote, bar->first_note).pre_w;
      for (guint i = bar->first_note; i < end; i++)
        {
          WNote *n = &g_array_index (b->notes, WNote, i);
          double post = 0.45;
          if (n->pub.dots > 0)
            post += DOT_GAP + DOT_STEP * n->pub.dots;
          if (n->pub.stem_up && n->pub.beam_group < 0 && n->flags_n > 0 && !n->pub.is_rest)
            post += glyph_width[MEL_ENGRAVE_GLYPH_FLAG_8TH] - 0.3;
          double next_pre = i + 1 < end ? g_array_index (b->notes, WNote, i + 1).pre_w : 0.6;
          double min = n->head_w + post + next_pre;
          n->space = MAX (ideal_space (n->pub.duration), min);
          bar->stretch += n->space;
        }
      if (bar->n_notes == 0)
        bar->stretch = ideal_space (bar->duration);
    }
}

/* Width of the courtesy time signature at the end of a system whose next
 * bar, @next, starts the next system with a new time signature. */
static double
courtesy_time_width (Builder *b, guint next)
{
  if (next == 0 || next >= b->bars->len)
    return 0;
  const WBar *bar = &g_array_index (b->bars, WBar, next);
  return bar->show_time ? time_signature_width (&bar->metric) + 1.0 : 0;
}

/* Line breaking: minimise the squared stretch of every system but the
 * last (which may stay ragged if it is short), breaks only at bar lines. */
static void
break_lines (Builder *b, double avail)
{
  guint n = b->bars->len;
  g_autofree double *cost = g_new (double, n + 1);
  g_autofree guint *from = g_new (guint, n + 1);

  cost[0] = 0;
  for (guint j = 1; j <= n; j++)
    {
      cost[j] = G_MAXDOUBLE;
      from[j] = j - 1;
      double fixed = 0, stretch = 0;
      for (guint i = j; i-- > 0;)
        {
          const WBar *bar = &g_array_index (b->bars, WBar, i);
          fixed += bar->fixed;
          stretch += bar->stretch;
          double head = header_width (b, &g_array_index (b->bars, WBar, i), i == 0);
          double total_fixed = fixed + head + courtesy_time_width (b, j);
          double natural = total_fixed + stretch;
          double c;
          if (natural > avail)
            {
              if (i + 1 != j)
                break; /* more than one bar no longer fits */
              c = 1e6 * (natural / avail); /* a single bar wider than the line */
            }
          else
            {
              double ratio = (avail - total_fixed) / MAX (stretch, 1e-6);
              double fill = natural / avail;
              if (j == n && ratio > 1.5)
                {
                  /* A short last line stays ragged, but a lonely bar or
                   * two on it looks forgotten. */
                  c = fill >= 0.6 ? 0 : (0.6 - fill) * (0.6 - fill) * 300.0;
                }
              else
                c = (ratio - 1.0) * (ratio - 1.0) * 30.0;
            }
          c += 1.0; /* each system costs a little: fewer lines when equal */
          if (cost[i] + c < cost[j])
            {
              cost[j] = cost[i] + c;
              from[j] = i;
            }
        }
    }
  /* Walk back the breaks. */
  g_autoptr (GArray) starts = g_array_new (FALSE, FALSE, sizeof (guint));
  for (guint j = n; j > 0; j = from[j])
    g_array_prepend_val (starts, from[j]);
  guint system = 0;
  for (guint s = 0; s < starts->len; s++)
    {
      guint first = g_array_index (starts, guint, s);
      guint last = s + 1 < starts->len ? g_array_index (starts, guint, s + 1) : n;
      for (guint i = first; i < last; i++)
        g_array_index (b->bars, WBar, i).system = system;
      system++;
    }
}

/* ---- items ------------------------------------------------------------- */

static MelEngraveItem *
add_item (Builder *b, MelEngraveItemKind kind, int system, int event)
{
  MelEngraveItem it = { 0 };
  it.kind = kind;
  it.system = system;
  it.event = event;
  g_array_append_val (b->items, it);
  return &g_array_index (b->items, MelEngraveItem, b->items->len - 1);
}

static void
add_line (Builder *b, int system, int event, double x0, double y0, double x1, double y1, double w)
{
  MelEngraveItem *it = add_item (b, MEL_ENGRAVE_ITEM_LINE, system, event);
  it->x0 = x0;
  it->y0 = y0;
  it->x1 = x1;
  it->y1 = y1;
  it->size = w;
}

static void
add_glyph (Builder *b, int system, int event, int glyph, double x, double y, guint flags)
{
  MelEngraveItem *it = add_item (b, MEL_ENGRAVE_ITEM_GLYPH, system, event);
  it->glyph = glyph;
  it->x0 = x;
  it->y0 = y;
  it->x1 = x + glyph_width[glyph];
  it->y1 = y;
  it->flags = flags;
}

static void
add_text (Builder *b, int system, int style, double x, double y, const char *text)
{
  MelEngraveItem *it = add_item (b, MEL_ENGRAVE_ITEM_TEXT, system, -1);
  it->text_style = style;
  it->x0 = x;
  it->y0 = y;
  it->text = g_string_chunk_insert (b->strings, text);
}

/* y of staff position @pos, relative to the top staff line. */
static inline double
pos_y (int pos)
{
  return (8 - pos) * 0.5;
}

static void
emit_key_signature (Builder *b, int system, double x, const MelKeySignature *sig, gboolean naturals)
{
  /* Treble positions of each step's accidental in a signature. */
  static const int sharp_pos[7] = { 5, 6, 7, 8, 9, 3, 4 }; /* C D E F G A B */
  static const int flat_pos[7] = { 5, 6, 7, 1, 2, 3, 4 };
  static const int sharp_order[7] = { 3, 0, 4, 1, 5, 2, 6 };
  static const int flat_order[7] = { 6, 2, 5, 1, 4, 0, 3 };
  int shift = b->clef == MEL_ENGRAVE_CLEF_BASS ? -2 : 0;

  for (int k = 0; k < 7; k++)
    {
      int s = flat_order[k];
      if (sig->alters[s] < 0)
        {
          add_glyph (b, system, -1, naturals ? MEL_ENGRAVE_GLYPH_NATURAL : MEL_ENGRAVE_GLYPH_FLAT, x,
                     pos_y (flat_pos[s] + shift), 0);
          x += 0.95;
        }
    }
  for (int k = 0; k < 7; k++)
    {
      int s = sharp_order[k];
      if (sig->alters[s] > 0)
        {
          add_glyph (b, system, -1, naturals ? MEL_ENGRAVE_GLYPH_NATURAL : MEL_ENGRAVE_GLYPH_SHARP, x,
                     pos_y (sharp_pos[s] + shift), 0);
          x += 1.15;
        }
    }
}

static void
emit_time_signature (Builder *b, int system, double x, const Metric *m)
{
  char num[16], den[16];
  double w = time_signature_width (m);
  g_snprintf (num, sizeof num, "%d", m->numerator);
  g_snprintf (den, sizeof den, "%d", m->denominator);
  add_text (b, system, MEL_ENGRAVE_TEXT_TIME_SIG, x + w / 2, 1.0, num);
  add_text (b, system, MEL_ENGRAVE_TEXT_TIME_SIG, x + w / 2, 3.0, den);
}

/* Stem end for an unbeamed note: 3.5 spaces, longer for many flags, and
 * reaching the middle line from notes far outside the staff. */
static double
free_stem_tip (const WNote *n)
{
  double y = n->pub.y;
  double len = STEM_LEN + (n->flags_n > 2 ? 0.75 * (n->flags_n - 2) : 0);
  if (n->pub.stem_up)
    return MIN (y - len, y > 2.0 + len ? 2.0 : y - len);
  return MAX (y + len, y < 2.0 - len ? 2.0 : y + len);
}

static void
place_beam (Builder *b, int system, const Group *g)
{
  WNote *first = &g_array_index (b->notes, WNote, g->first);
  WNote *last = &g_array_index (b->notes, WNote, g->last);
  gboolean up = g->stem_up;
  double dir = up ? -1.0 : 1.0;
  int max_beams = 1;

  for (guint k = g->first; k <= g->last; k++)
    {
      WNote *n = &g_array_index (b->notes, WNote, k);
      n->stem_x = up ? n->pub.x + n->head_w - STEM_W / 2 : n->pub.x + STEM_W / 2;
      max_beams = MAX (max_beams, n->flags_n);
    }
  /* Slope: follows first→last, at most half a space per note step and one
   * space overall; flat when an inner note is more extreme than both ends. */
  double dx = last->stem_x - first->stem_x;
  double dy = last->pub.y - first->pub.y;
  gboolean inner_extreme = FALSE;
  for (guint k = g->first + 1; k < g->last; k++)
    {
      double y = g_array_index (b->notes, WNote, k).pub.y;
      if (up ? (y < first->pub.y && y < last->pub.y) : (y > first->pub.y && y > last->pub.y))
        inner_extreme = TRUE;
    }
  double slope = 0;
  if (!inner_extreme && dx > 0.1)
    {
      double total = CLAMP (dy * 0.5, -1.0, 1.0);
      slope = total / dx;
    }
  /* Intercept: the shortest stem gets its minimum length. */
  double min_len = 3.25 + (max_beams > 2 ? BEAM_STEP * (max_beams - 2) : 0);
  double c = up ? G_MAXDOUBLE : -G_MAXDOUBLE;
  for (guint k = g->first; k <= g->last; k++)
    {
      WNote *n = &g_array_index (b->notes, WNote, k);
      double want = n->pub.y + dir * min_len - slope * (n->stem_x - first->stem_x);
      c = up ? MIN (c, want) : MAX (c, want);
    }
  /* Beams of notes far outside the staff reach the middle line. */
  double mid = c + slope * dx / 2;
  if (up && mid > 2.0)
    c -= mid - 2.0;
  if (!up && mid < 2.0)
    c += 2.0 - mid;

  for (guint k = g->first; k <= g->last; k++)
    {
      WNote *n = &g_array_index (b->notes, WNote, k);
      n->stem_tip = c + slope * (n->stem_x - first->stem_x);
    }
  /* Primary beam: its outer edge at the stem tips. */
  for (int level = 1; level <= max_beams; level++)
    {
      double off = (level - 1) * BEAM_STEP;
      guint k = g->first;
      while (k <= g->last)
        {
          WNote *n = &g_array_index (b->notes, WNote, k);
          if (n->flags_n < level)
            {
              k++;
              continue;
            }
          guint e = k;
          while (e + 1 <= g->last && g_array_index (b->notes, WNote, e + 1).flags_n >= level)
            e++;
          double xa = n->stem_x, xb = g_array_index (b->notes, WNote, e).stem_x;
          if (e == k)
            {
              /* A beamlet: towards the next note, unless the note is last
               * or follows a dotted one (8. 16 → the hook points back). */
              gboolean left = k == g->last
                              || (k > g->first && g_array_index (b->notes, WNote, k - 1).pub.dots > 0);
              if (left)
                xa = xb - BEAMLET_LEN;
              else
                xb = xa + BEAMLET_LEN;
            }
          double ya = c + slope * (xa - first->stem_x) - dir * off;
          double yb = c + slope * (xb - first->stem_x) - dir * off;
          MelEngraveItem *it = add_item (b, MEL_ENGRAVE_ITEM_BEAM, system, -1);
          double half_stem = STEM_W / 2;
          it->x0 = xa - (xa == n->stem_x ? half_stem : 0);
          it->x1 = xb + (xb == g_array_index (b->notes, WNote, e).stem_x ? half_stem : 0);
          it->y0 = up ? ya : ya - BEAM_W;
          it->y1 = up ? yb : yb - BEAM_W;
          it->y0 += slope * (it->x0 - xa);
          it->y1 += slope * (it->x1 - xb);
          it->size = BEAM_W;
          k = e + 1;
        }
    }
}

static void
emit_note (Builder *b, int system, WNote *n)
{
  int ev = (int) n->pub.event;
  double x = n->pub.x, y = n->pub.y;

  if (n->pub.is_rest)
    {
      if (n->pub.value == MEL_ENGRAVE_VALUE_BREVE && !n->pub.whole_bar_rest)
        {
          MelEngraveItem *it = add_item (b, MEL_ENGRAVE_ITEM_RECT, system, ev);
          it->x0 = x;
          it->x1 = x + 0.5;
          it->y0 = 1.0;
          it->y1 = 2.0;
        }
      else
        {
          double ry = 2.0;
          if (n->glyph == MEL_ENGRAVE_GLYPH_REST_WHOLE)
            ry = 1.0;
          add_glyph (b, system, ev, n->glyph, x, ry, 0);
        }
      for (int d = 0; d < n->pub.dots && !n->pub.whole_bar_rest; d++)
        add_glyph (b, system, ev, MEL_ENGRAVE_GLYPH_DOT, x + n->head_w + DOT_GAP + d * DOT_STEP, 1.5, 0);
      return;
    }

  int pos = n->pub.staff_position;
  /* Ledger lines. */
  for (int p = -2; p >= pos; p -= 2)
    add_line (b, system, -1, x - LEDGER_EXT, pos_y (p), x + n->head_w + LEDGER_EXT, pos_y (p), LEDGER_W);
  for (int p = 10; p <= pos; p += 2)
    add_line (b, system, -1, x - LEDGER_EXT, pos_y (p), x + n->head_w + LEDGER_EXT, pos_y (p), LEDGER_W);

  if (n->acc_glyph >= 0)
    add_glyph (b, system, ev, n->acc_glyph, x - n->pre_w, y, 0);
  add_glyph (b, system, ev, n->glyph, x, y, 0);
  for (int d = 0; d < n->pub.dots; d++)
    {
      double dy = (pos % 2 == 0) ? y - 0.5 : y; /* dots sit in a space */
      double dx = x + n->head_w + DOT_GAP + d * DOT_STEP;
      if (n->pub.stem_up && n->pub.beam_group < 0 && n->flags_n > 0)
        dx += glyph_width[MEL_ENGRAVE_GLYPH_FLAG_8TH] - 0.4;
      add_glyph (b, system, ev, MEL_ENGRAVE_GLYPH_DOT, dx, dy, 0);
    }
  if (!n->has_stem)
    return;
  if (n->pub.beam_group < 0)
    {
      n->stem_x = n->pub.stem_up ? x + n->head_w - STEM_W / 2 : x + STEM_W / 2;
      n->stem_tip = free_stem_tip (n);
      if (n->flags_n > 0)
        add_glyph (b, system, ev, MEL_ENGRAVE_GLYPH_FLAG_8TH + n->flags_n - 1, n->stem_x - STEM_W / 2,
                   n->stem_tip, n->pub.stem_up ? 0 : MEL_ENGRAVE_ITEM_MIRRORED);
    }
  /* The stem starts a little inside the head, where the head's edge is. */
  double y0 = n->pub.stem_up ? y + 0.15 : y - 0.15;
  add_line (b, system, ev, n->stem_x, y0, n->stem_x, n->stem_tip, STEM_W);
}

static void
emit_tie (Builder *b, int system, double x0, double x1, double y, gboolean below)
{
  double len = x1 - x0;
  if (len < 0.5)
    {
      x1 = x0 + 0.5;
      len = 0.5;
    }
  double bulge = MIN (0.3 + 0.04 * len, 0.9);
  double yy = below ? y + 0.55 : y - 0.55;
  MelEngraveItem *it = add_item (b, MEL_ENGRAVE_ITEM_TIE, system, -1);
  it->x0 = x0;
  it->x1 = x1;
  it->y0 = yy;
  it->y1 = yy;
  it->size = below ? bulge : -bulge;
}

static void
emit_ties (Builder *b)
{
  for (guint i = 0; i + 1 < b->notes->len; i++)
    {
      WNote *a = &g_array_index (b->notes, WNote, i);
      WNote *c = &g_array_index (b->notes, WNote, i + 1);
      if (!a->pub.tie_to_next)
        continue;
      /* Ties curve away from the stems. */
      gboolean below = a->pub.value <= MEL_ENGRAVE_VALUE_WHOLE ? a->pub.staff_position < 4 : a->pub.stem_up;
      if (a->pub.system == c->pub.system)
        emit_tie (b, (int) a->pub.system, a->pub.x + a->head_w + 0.15, c->pub.x - 0.15, a->pub.y, below);
      else
        {
          const WBar *bar_a = &g_array_index (b->bars, WBar, a->pub.bar);
          const WBar *bar_c = &g_array_index (b->bars, WBar, c->pub.bar);
          emit_tie (b, (int) a->pub.system, a->pub.x + a->head_w + 0.15, bar_a->x1 - 0.3, a->pub.y, below);
          emit_tie (b, (int) c->pub.system, MAX (bar_c->x0 - 0.2, c->pub.x - 2.5), c->pub.x - 0.15, c->pub.y,
                    below);
        }
    }
}

static void
emit_tuplets (Builder *b)
{
  for (guint t = 0; t < b->tuplets->len; t++)
    {
      const Group *g = &g_array_index (b->tuplets, Group, t);
      WNote *first = &g_array_index (b->notes, WNote, g->first);
      WNote *last = &g_array_index (b->notes, WNote, g->last);
      int system = (int) first->pub.system;
      int ups = 0, downs = 0;
      gboolean one_beam = first->pub.beam_group >= 0;
      for (guint k = g->first; k <= g->last; k++)
        {
          WNote *n = &g_array_index (b->notes, WNote, k);
          if (n->pub.is_rest)
            continue;
          if (n->pub.stem_up)
            ups++;
          else
            downs++;
          if (n->pub.beam_group != first->pub.beam_group)
            one_beam = FALSE;
        }
      if (last->pub.beam_group != first->pub.beam_group
          || (last->pub.beam_group >= 0
              && g_array_index (b->beams, Group, last->pub.beam_group).last != g->last)
          || (first->pub.beam_group >= 0
              && g_array_index (b->beams, Group, first->pub.beam_group).first != g->first))
        one_beam = FALSE;
      gboolean above = ups >= downs;
      double x0 = first->pub.x - 0.2, x1 = last->pub.x + last->head_w + 0.2;
      /* Clear of everything in the group. */
      double y = above ? 0.0 - 1.2 : 4.0 + 1.2;
      for (guint k = g->first; k <= g->last; k++)
        {
          WNote *n = &g_array_index (b->notes, WNote, k);
          double top = n->pub.y - 0.6, bottom = n->pub.y + 0.6;
          if (n->has_stem)
            {
              top = MIN (top, n->stem_tip);
              bottom = MAX (bottom, n->stem_tip);
            }
          if (above)
            y = MIN (y, top - 1.0);
          else
            y = MAX (y, bottom + 1.0);
        }
      double xm = (x0 + x1) / 2;
      if (one_beam)
        {
          add_text (b, system, MEL_ENGRAVE_TEXT_TUPLET, xm, above ? y + 0.2 : y - 0.2, "3");
          continue;
        }
      double hook = above ? 0.6 : -0.6;
      add_line (b, system, -1, x0, y + hook, x0, y, 0.12);
      add_line (b, system, -1, x0, y, xm - 0.7, y, 0.12);
      add_line (b, system, -1, xm + 0.7, y, x1, y, 0.12);
      add_line (b, system, -1, x1, y, x1, y + hook, 0.12);
      add_text (b, system, MEL_ENGRAVE_TEXT_TUPLET, xm, y, "3");
    }
}

/* ---- putting systems together ------------------------------------------ */

static void
emit_system (Builder *b, MelEngraveLayout *layout, guint system, guint first_bar, guint last_bar, double x_left,
             double avail, gboolean last_system)
{
  MelEngraveSystem sys = { 0 };
  WBar *fb = &g_array_index (b->bars, WBar, first_bar);
  double header = header_width (b, fb, first_bar == 0);
  double courtesy = courtesy_time_width (b, last_bar + 1);
  double fixed = header + courtesy, stretch = 0;

  for (guint i = first_bar; i <= last_bar; i++)
    {
      WBar *bar = &g_array_index (b->bars, WBar, i);
      fixed += bar->fixed;
      stretch += bar->stretch;
    }
  double factor = (avail - fixed) / MAX (stretch, 1e-6);
  if (last_system && factor > 1.5)
    factor = 1.0; /* short last line: natural spacing, ragged right */
  factor = MAX (factor, 0.6);

  /* Header: clef, key, time. */
  int sy = (int) system;
  double x = x_left + 0.6;
  static const int clef_glyph[3] = { MEL_ENGRAVE_GLYPH_G_CLEF, MEL_ENGRAVE_GLYPH_G_CLEF_8VB,
                                     MEL_ENGRAVE_GLYPH_F_CLEF };
  add_glyph (b, sy, -1, clef_glyph[b->clef], x, 4.0, 0);
  x += clef_width (b) + 0.8;
  double k = key_signature_width (&fb->keysig);
  if (k > 0)
    {
      emit_key_signature (b, sy, x, &fb->keysig, FALSE);
      x += k + 0.9;
    }
  if (first_bar == 0 && fb->show_time)
    {
      emit_time_signature (b, sy, x, &fb->metric);
      x += time_signature_width (&fb->metric) + 0.8;
    }
  if (first_bar > 0 && fb->number > 0)
    {
      char num[16];
      g_snprintf (num, sizeof num, "%d", fb->number);
      add_text (b, sy, MEL_ENGRAVE_TEXT_BAR_NUMBER, x_left, -1.6, num);
    }
  sys.music_x0 = x;
  sys.first_bar = first_bar;
  sys.n_bars = last_bar - first_bar + 1;

  for (guint i = first_bar; i <= last_bar; i++)
    {
      WBar *bar = &g_array_index (b->bars, WBar, i);
      bar->system = system;
      bar->x0 = x;
      gboolean at_start = i == first_bar;
      double ks_w = bar->cancel_key ? key_signature_width (&bar->old_keysig) : key_signature_width (&bar->keysig);
      if (bar->show_key)
        {
          /* At a system start the header already shows the new key. */
          if (!at_start)
            emit_key_signature (b, sy, x + 0.8, bar->cancel_key ? &bar->old_keysig : &bar->keysig,
                                bar->cancel_key);
          x += ks_w + 0.8;
        }
      if (bar->show_time && i > 0)
        {
          emit_time_signature (b, sy, at_start ? x : x + 0.8, &bar->metric);
          x += time_signature_width (&bar->metric) + 0.8;
        }
      if (at_start)
        {
          sys.music_x0 = x;
          bar->x0 = x;
        }
      x += BAR_PAD_LEFT;
      if (bar->n_notes > 0)
        x += g_array_index (b->notes, WNote, bar->first_note).pre_w;
      for (guint n_i = bar->first_note; n_i < bar->first_note + bar->n_notes; n_i++)
        {
          WNote *n = &g_array_index (b->notes, WNote, n_i);
          n->pub.system = system;
          n->pub.x = x;
          n->pub.y = n->pub.is_rest ? 2.0 : pos_y (n->pub.staff_position);
          x += n->space * factor;
          n->pub.x_next = x;
        }
      if (bar->n_notes == 0)
        x += bar->stretch * factor;
      bar->x1 = x;
      /* Whole-bar rest: centred between the bar's start and its bar line. */
      if (bar->n_notes == 1)
        {
          WNote *n = &g_array_index (b->notes, WNote, bar->first_note);
          if (n->pub.whole_bar_rest)
            n->pub.x = (bar->x0 + bar->x1) / 2 - n->head_w / 2;
        }
      gboolean final = i + 1 == b->bars->len;
      if (final)
        {
          add_line (b, sy, -1, x - THICK_BARLINE_W - 0.6, 0, x - THICK_BARLINE_W - 0.6, 4.0, BARLINE_W);
          add_line (b, sy, -1, x - THICK_BARLINE_W / 2, 0, x - THICK_BARLINE_W / 2, 4.0, THICK_BARLINE_W);
        }
      else
        add_line (b, sy, -1, x - BARLINE_W / 2, 0, x - BARLINE_W / 2, 4.0, BARLINE_W);
    }
  /* A time signature change at the start of the next system is announced
   * at the end of this one, after the bar line. */
  if (courtesy > 0)
    {
      const WBar *next = &g_array_index (b->bars, WBar, last_bar + 1);
      emit_time_signature (b, sy, x + 0.7, &next->metric);
      x += courtesy;
    }
  sys.x0 = x_left;
  sys.x1 = x;
  for (int l = 0; l < 5; l++)
    add_line (b, sy, -1, x_left, l, x, l, STAFF_LINE_W);
  /* The left edge of the system. */
  add_line (b, sy, -1, x_left + BARLINE_W / 2, 0, x_left + BARLINE_W / 2, 4.0, BARLINE_W);

  for (guint i = first_bar; i <= last_bar; i++)
    {
      WBar *bar = &g_array_index (b->bars, WBar, i);
      for (guint n_i = bar->first_note; n_i < bar->first_note + bar->n_notes; n_i++)
        {
          WNote *n = &g_array_index (b->notes, WNote, n_i);
          n->has_stem = !n->pub.is_rest && n->pub.value >= MEL_ENGRAVE_VALUE_HALF;
        }
    }
  for (guint g = 0; g < b->beams->len; g++)
    {
      const Group *grp = &g_array_index (b->beams, Group, g);
      guint bar = g_array_index (b->notes, WNote, grp->first).pub.bar;
      if (bar >= first_bar && bar <= last_bar)
        place_beam (b, sy, grp);
    }
  for (guint i = first_bar; i <= last_bar; i++)
    {
      WBar *bar = &g_array_index (b->bars, WBar, i);
      for (guint n_i = bar->first_note; n_i < bar->first_note + bar->n_notes; n_i++)
        emit_note (b, sy, &g_array_index (b->notes, WNote, n_i));
    }
  g_array_append_val (layout->systems, sys);
}

/* Rough vertical extent of an item, for stacking systems. */
static void
item_extent (const MelEngraveItem *it, double *top, double *bottom)
{
  double y0 = MIN (it->y0, it->y1), y1 = MAX (it->y0, it->y1);
  switch (it->kind)
    {
    case MEL_ENGRAVE_ITEM_GLYPH:
      if (it->glyph <= MEL_ENGRAVE_GLYPH_F_CLEF)
        {
          y0 = it->y0 - 6.5;
          y1 = it->y0 + (it->glyph == MEL_ENGRAVE_GLYPH_G_CLEF_8VB ? 2.9 : 1.7);
        }
      else if (it->glyph >= MEL_ENGRAVE_GLYPH_FLAG_8TH && it->glyph <= MEL_ENGRAVE_GLYPH_FLAG_64TH)
        {
          y0 -= 1.0;
          y1 += 1.0;
        }
      else
        {
          y0 -= 1.4;
          y1 += 1.0;
        }
      break;
    case MEL_ENGRAVE_ITEM_BEAM:
      y1 += it->size;
      break;
    case MEL_ENGRAVE_ITEM_TIE:
      y0 -= fabs (it->size);
      y1 += fabs (it->size);
      break;
    case MEL_ENGRAVE_ITEM_TEXT:
      y0 -= 1.6;
      y1 += 1.0;
      break;
    case MEL_ENGRAVE_ITEM_LINE:
    case MEL_ENGRAVE_ITEM_RECT:
    default:
      break;
    }
  *top = y0;
  *bottom = y1;
}

/* "Rheinpfalz,    Otternberg" → "Rheinpfalz, Otternberg" (the corpus pads
 * region names with runs of spaces). */
static char *
collapse_spaces (const char *text)
{
  GString *s = g_string_new (NULL);
  gboolean space = FALSE;
  for (const char *p = text; *p != '\0'; p++)
    {
      if (g_ascii_isspace (*p))
        {
          space = s->len > 0;
          continue;
        }
      if (space)
        g_string_append_c (s, ' ');
      space = FALSE;
      g_string_append_c (s, *p);
    }
  return g_string_free (s, FALSE);
}

static void
finish_layout (Builder *b, MelEngraveLayout *layout, double page_width, double margin)
{
  double space = layout->space;
  double y = margin;
  const MelSong *song = b->song;

  /* Title block (in staff spaces; text sizes are set by the renderer). */
  if (b->opts.show_title && song->title != NULL && *song->title != '\0')
    {
      g_autofree char *title = g_utf8_make_valid (song->title, -1);
      add_text (b, -1, MEL_ENGRAVE_TEXT_TITLE, page_width / 2, y, title);
      y += 3.4;
      if (song->region != NULL && *song->region != '\0')
        {
          g_autofree char *region = g_utf8_make_valid (song->region, -1);
          g_autofree char *tidy = collapse_spaces (region);
          add_text (b, -1, MEL_ENGRAVE_TEXT_SUBTITLE, page_width / 2, y, tidy);
          y += 2.2;
        }
      y += 1.5;
    }

  /* Stack systems: each one placed below the previous one's lowest ink. */
  guint n_sys = layout->systems->len;
  g_autofree double *tops = g_new0 (double, n_sys);
  g_autofree double *bottoms = g_new0 (double, n_sys);
  for (guint s = 0; s < n_sys; s++)
    {
      tops[s] = -2.0;
      bottoms[s] = 6.0;
    }
  for (guint i = 0; i < b->items->len; i++)
    {
      const MelEngraveItem *it = &g_array_index (b->items, MelEngraveItem, i);
      if (it->system < 0)
        continue;
      double t, bo;
      item_extent (it, &t, &bo);
      tops[it->system] = MIN (tops[it->system], t);
      bottoms[it->system] = MAX (bottoms[it->system], bo);
    }
  g_autofree double *offsets = g_new0 (double, n_sys);
  for (guint s = 0; s < n_sys; s++)
    {
      offsets[s] = y - tops[s];
      MelEngraveSystem *sys = &g_array_index (layout->systems, MelEngraveSystem, s);
      sys->y_top = offsets[s] * space;
      sys->top = y * space;
      sys->bottom = (offsets[s] + bottoms[s]) * space;
      sys->x0 *= space;
      sys->x1 *= space;
      sys->music_x0 *= space;
      y = offsets[s] + bottoms[s] + SYSTEM_GAP;
    }
  layout->height = (y - SYSTEM_GAP + margin) * space;

  for (guint i = 0; i < b->items->len; i++)
    {
      MelEngraveItem it = g_array_index (b->items, MelEngraveItem, i);
      double off = it.system >= 0 ? offsets[it.system] : 0;
      it.x0 *= space;
      it.x1 *= space;
      it.y0 = (it.y0 + off) * space;
      it.y1 = (it.y1 + off) * space;
      it.size *= space;
      g_array_append_val (layout->items, it);
    }
  for (guint i = 0; i < b->notes->len; i++)
    {
      MelEngraveNote n = g_array_index (b->notes, WNote, i).pub;
      double off = offsets[n.system];
      n.x *= space;
      n.x_next *= space;
      n.y = (n.y + off) * space;
      g_array_append_val (layout->notes, n);
    }
  for (guint i = 0; i < b->bars->len; i++)
    {
      const WBar *wb = &g_array_index (b->bars, WBar, i);
      MelEngraveBar bar = { 0 };
      bar.source_bar = wb->source;
      bar.number = wb->number;
      bar.system = wb->system;
      bar.onset = wb->onset;
      bar.duration = wb->duration;
      bar.pickup = wb->pickup;
      bar.x0 = wb->x0 * space;
      bar.x1 = wb->x1 * space;
      g_array_append_val (layout->bars, bar);
    }
}

MelEngraveLayout *
mel_engrave_layout_new (const MelSong *song, const MelEngraveOptions *options, GError **error)
{
  MelEngraveOptions defaults;
  Builder b = { 0 };

  g_return_val_if_fail (song != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (options == NULL)
    {
      mel_engrave_options_init (&defaults);
      options = &defaults;
    }
  if (!(options->width > 0 && options->space > 0 && options->scale > 0 && options->margin >= 0)
      || !isfinite (options->width) || !isfinite (options->space * options->scale))
    {
      g_set_error (error, MEL_ENGRAVE_ERROR, MEL_ENGRAVE_ERROR_INVALID,
                   "invalid engraving options (width %g, space %g, scale %g)", options->width, options->space,
                   options->scale);
      return NULL;
    }
  if (song->events->len == 0)
    {
      g_set_error (error, MEL_ENGRAVE_ERROR, MEL_ENGRAVE_ERROR_INVALID, "song '%s' has no notes to engrave",
                   song->id);
      return NULL;
    }

  b.song = song;
  b.opts = *options;
  b.bars = g_array_new (FALSE, TRUE, sizeof (WBar));
  b.notes = g_array_new (FALSE, TRUE, sizeof (WNote));
  b.beams = g_array_new (FALSE, FALSE, sizeof (Group));
  b.tuplets = g_array_new (FALSE, FALSE, sizeof (Group));
  b.items = g_array_new (FALSE, FALSE, sizeof (MelEngraveItem));

  MelEngraveLayout *layout = g_new0 (MelEngraveLayout, 1);
  g_atomic_ref_count_init (&layout->ref_count);
  layout->song = mel_song_ref ((MelSong *) song);
  layout->space = options->space * options->scale;
  layout->width = options->width;
  layout->items = g_array_new (FALSE, FALSE, sizeof (MelEngraveItem));
  layout->notes = g_array_new (FALSE, FALSE, sizeof (MelEngraveNote));
  layout->bars = g_array_new (FALSE, FALSE, sizeof (MelEngraveBar));
  layout->systems = g_array_new (FALSE, FALSE, sizeof (MelEngraveSystem));
  layout->strings = g_string_chunk_new (256);
  b.strings = layout->strings;

  double page_w = options->width / layout->space;
  double margin = MIN (options->margin, page_w / 8);
  double avail = MAX (page_w - 2 * margin, 10.0);

  build_bars (&b);
  build_notes (&b);
  build_tuplets (&b);
  choose_clef (&b);
  layout->clef = b.clef;
  build_pitches (&b);
  build_beams (&b);
  build_stems (&b);
  space_bars (&b);
  break_lines (&b, avail);

  guint first = 0;
  guint system = 0;
  for (guint i = 0; i < b.bars->len; i++)
    {
      WBar *bar = &g_array_index (b.bars, WBar, i);
      gboolean end = i + 1 == b.bars->len || g_array_index (b.bars, WBar, i + 1).system != bar->system;
      if (end)
        {
          emit_system (&b, layout, system, first, i, margin, avail, i + 1 == b.bars->len);
          system++;
          first = i + 1;
        }
    }
  emit_ties (&b);
  emit_tuplets (&b);
  finish_layout (&b, layout, page_w, margin);

  g_array_unref (b.bars);
  g_array_unref (b.notes);
  g_array_unref (b.beams);
  g_array_unref (b.tuplets);
  g_array_unref (b.items);
  return layout;
}

MelEngraveLayout *
mel_engrave_layout_ref (MelEngraveLayout *layout)
{
  g_return_val_if_fail (layout != NULL, NULL);
  g_atomic_ref_count_inc (&layout->ref_count);
  return layout;
}

void
mel_engrave_layout_unref (MelEngraveLayout *layout)
{
  g_return_if_fail (layout != NULL);
  if (!g_atomic_ref_count_dec (&layout->ref_count))
    return;
  mel_song_unref (layout->song);
  g_array_unref (layout->items);
  g_array_unref (layout->notes);
  g_array_unref (layout->bars);
  g_array_unref (layout->systems);
  g_string_chunk_free (layout->strings);
  g_free (layout);
}

double
mel_engrave_layout_get_width (const MelEngraveLayout *layout)
{
  g_return_val_if_fail (layout != NULL, 0);
  return layout->width;
}

double
mel_engrave_layout_get_height (const MelEngraveLayout *layout)
{
  g_return_val_if_fail (layout != NULL, 0);
  return layout->height;
}

double
mel_engrave_layout_get_space (const MelEngraveLayout *layout)
{
  g_return_val_if_fail (layout != NULL, 0);
  return layout->space;
}

MelEngraveClef
mel_engrave_layout_get_clef (const MelEngraveLayout *layout)
{
  g_return_val_if_fail (layout != NULL, MEL_ENGRAVE_CLEF_TREBLE);
  return layout->clef;
}

const MelSong *
mel_engrave_layout_get_song (const MelEngraveLayout *layout)
{
  g_return_val_if_fail (layout != NULL, NULL);
  return layout->song;
}

#define DEFINE_ARRAY_GETTER(name, type, field)                                                     \
  const type *name (const MelEngraveLayout *layout, guint *n_out)                                  \
  {                                                                                                \
    g_return_val_if_fail (layout != NULL, NULL);                                                   \
    if (n_out != NULL)                                                                             \
      *n_out = layout->field->len;                                                                 \
    return (const type *) (void *) layout->field->data;                                            \
  }

DEFINE_ARRAY_GETTER (mel_engrave_layout_get_items, MelEngraveItem, items)
DEFINE_ARRAY_GETTER (mel_engrave_layout_get_notes, MelEngraveNote, notes)
DEFINE_ARRAY_GETTER (mel_engrave_layout_get_bars, MelEngraveBar, bars)
DEFINE_ARRAY_GETTER (mel_engrave_layout_get_systems, MelEngraveSystem, systems)

static const MelEngraveSystem *
system_at_y (const MelEngraveLayout *layout, double y, guint *index)
{
  for (guint s = 0; s < layout->systems->len; s++)
    {
      const MelEngraveSystem *sys = &g_array_index (layout->systems, MelEngraveSystem, s);
      if (y >= sys->top - layout->space && y <= sys->bottom + layout->space)
        {
          *index = s;
          return sys;
        }
    }
  return NULL;
}

int
mel_engrave_layout_hit_test (const MelEngraveLayout *layout, double x, double y)
{
  guint s;
  int best = -1;
  double best_d = G_MAXDOUBLE;

  g_return_val_if_fail (layout != NULL, -1);
  if (system_at_y (layout, y, &s) == NULL)
    return -1;
  for (guint i = 0; i < layout->notes->len; i++)
    {
      const MelEngraveNote *n = &g_array_index (layout->notes, MelEngraveNote, i);
      if (n->system != s)
        continue;
      double cx = n->x + 0.6 * layout->space;
      double d = fabs (x - cx);
      if (d < best_d)
        {
          best_d = d;
          best = (int) n->event;
        }
    }
  return best_d <= 2.5 * layout->space ? best : -1;
}

static void
system_extent (const MelEngraveLayout *layout, guint s, double *y_top, double *y_bottom)
{
  const MelEngraveSystem *sys = &g_array_index (layout->systems, MelEngraveSystem, s);
  if (y_top != NULL)
    *y_top = sys->y_top - 2.0 * layout->space;
  if (y_bottom != NULL)
    *y_bottom = sys->y_top + 6.0 * layout->space;
}

gboolean
mel_engrave_layout_time_to_x (const MelEngraveLayout *layout, double time, double *x, double *y_top,
                              double *y_bottom, guint *system)
{
  g_return_val_if_fail (layout != NULL, FALSE);
  if (!(time >= 0) || layout->notes->len == 0)
    return FALSE;
  /* Binary search for the last written note starting at or before time. */
  guint lo = 0, hi = layout->notes->len;
  while (hi - lo > 1)
    {
      guint mid = (lo + hi) / 2;
      if (mel_rational_to_double (g_array_index (layout->notes, MelEngraveNote, mid).onset) <= time)
        lo = mid;
      else
        hi = mid;
    }
  const MelEngraveNote *n = &g_array_index (layout->notes, MelEngraveNote, lo);
  double on = mel_rational_to_double (n->onset), dur = mel_rational_to_double (n->duration);
  if (time < on || time > on + dur + 1e-9)
    return FALSE;
  double f = dur > 0 ? (time - on) / dur : 0;
  if (x != NULL)
    *x = n->x + f * (n->x_next - n->x);
  if (system != NULL)
    *system = n->system;
  system_extent (layout, n->system, y_top, y_bottom);
  return TRUE;
}

gboolean
mel_engrave_layout_event_to_x (const MelEngraveLayout *layout, guint event, double *x, double *y_top,
                               double *y_bottom, guint *system)
{
  g_return_val_if_fail (layout != NULL, FALSE);
  for (guint i = 0; i < layout->notes->len; i++)
    {
      const MelEngraveNote *n = &g_array_index (layout->notes, MelEngraveNote, i);
      if (n->event != event)
        continue;
      if (x != NULL)
        *x = n->x;
      if (system != NULL)
        *system = n->system;
      system_extent (layout, n->system, y_top, y_bottom);
      return TRUE;
    }
  return FALSE;
}
