/* test-engrave.c — engraving: the notation decisions of the layout, hit
 * testing, rendering every corpus song, and speed.
 *
 * The melodies here are written for the tests (inline kern or built note
 * by note); nothing is taken from ESAC.  The ESAC run (MELODIST_ESAC_DIR)
 * lays out every song and renders every 20th one to a cairo recording
 * surface, which exercises all drawing code without PNG encoding costs.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <glib/gstdio.h>
#include <math.h>
#include <string.h>
#include <time.h>

#include "mel-corpus.h"
#include "mel-engrave.h"
#include "mel-kern.h"

/* ---- helpers -------------------------------------------------------------- */

static MelSong *
parse_kern (const char *text)
{
  g_autoptr (GError) error = NULL;
  MelSong *song = mel_kern_parse (text, strlen (text), "test.krn", &error);
  g_assert_no_error (error);
  g_assert_nonnull (song);
  return song;
}

/* A song kern header + @body (tokens separated by spaces, one per line). */
static MelSong *
kern_song (const char *meter, const char *key, const char *body)
{
  g_autoptr (GString) s = g_string_new ("**kern\n");
  g_string_append_printf (s, "*M%s\n*k[%s]\n", meter, key);
  g_auto (GStrv) tokens = g_strsplit (body, " ", -1);
  for (guint i = 0; tokens[i] != NULL; i++)
    if (*tokens[i] != '\0')
      g_string_append_printf (s, "%s\n", tokens[i]);
  g_string_append (s, "*-\n");
  return parse_kern (s->str);
}

typedef struct
{
  int midi; /* -1 rest */
  gint64 num, den;
} Note;

/* A song as a generator would produce it: events only (no bars), pitches
 * unspelled (step 0), meter and key signature given. */
static MelSong *
generated_song (int numerator, int denominator, int fifths, MelRational pickup, const Note *notes, guint n)
{
  MelSong *song = mel_song_new ("generated");
  MelMeter meter = { MEL_RATIONAL_ZERO, numerator, denominator, FALSE };
  MelKeySignature sig = { MEL_RATIONAL_ZERO, 0, { 0 } };
  MelRational t = MEL_RATIONAL_ZERO;

  mel_song_add_meter (song, &meter);
  mel_key_signature_init_fifths (&sig, fifths);
  mel_song_add_key_signature (song, &sig);
  for (guint i = 0; i < n; i++)
    {
      MelEvent ev = { 0 };
      ev.onset = t;
      ev.duration = mel_rational_new (notes[i].num, notes[i].den);
      ev.midi = (gint16) notes[i].midi;
      mel_song_add_event (song, &ev);
      t = mel_rational_add (t, ev.duration);
    }
  song->pickup = pickup;
  song->duration = t;
  return song;
}

static MelEngraveLayout *
layout_of (const MelSong *song, double width)
{
  g_autoptr (GError) error = NULL;
  MelEngraveOptions opts;
  mel_engrave_options_init (&opts);
  opts.width = width;
  MelEngraveLayout *layout = mel_engrave_layout_new (song, &opts, &error);
  g_assert_no_error (error);
  g_assert_nonnull (layout);
  return layout;
}

/* Beam group sizes in order, as "2 2" (unbeamed notes are skipped). */
static char *
beam_pattern (const MelEngraveLayout *layout)
{
  guint n;
  const MelEngraveNote *notes = mel_engrave_layout_get_notes (layout, &n);
  g_autoptr (GString) s = g_string_new (NULL);
  int current = -1, count = 0;

  for (guint i = 0; i <= n; i++)
    {
      int g = i < n ? notes[i].beam_group : -2;
      if (g != current && current >= 0)
        g_string_append_printf (s, "%s%d", s->len ? " " : "", count);
      if (g != current)
        count = 0;
      current = g;
      count++;
    }
  return g_string_free (g_steal_pointer (&s), FALSE);
}

/* Written durations as "1 1/4~" (tilde: tied to the next). */
static char *
duration_pattern (const MelEngraveLayout *layout)
{
  guint n;
  const MelEngraveNote *notes = mel_engrave_layout_get_notes (layout, &n);
  g_autoptr (GString) s = g_string_new (NULL);
  for (guint i = 0; i < n; i++)
    {
      g_autofree char *d = mel_rational_to_string (notes[i].duration);
      g_string_append_printf (s, "%s%s%s", i ? " " : "", d, notes[i].tie_to_next ? "~" : "");
    }
  return g_string_free (g_steal_pointer (&s), FALSE);
}

/* Accidentals as a string: '#', 'b', 'n', '-' none; upper-case courtesy. */
static char *
accidental_pattern (const MelEngraveLayout *layout)
{
  static const char codes[] = "-#bnXB";
  guint n;
  const MelEngraveNote *notes = mel_engrave_layout_get_notes (layout, &n);
  GString *s = g_string_new (NULL);
  for (guint i = 0; i < n; i++)
    {
      char c = codes[notes[i].accidental];
      if (notes[i].courtesy)
        c = c == 'n' ? 'N' : c == '#' ? 'S' : 'F';
      g_string_append_c (s, c);
    }
  return g_string_free (s, FALSE);
}

/* ---- beams ---------------------------------------------------------------- */

static void
test_beams_by_meter (void)
{
  struct
  {
    const char *meter, *body, *expect;
  } cases[] = {
    /* 2/4: eighths by the quarter. */
    { "2/4", "=1 8c 8d 8e 8f =2 4g 4g ==", "2 2" },
    /* 3/4: by the quarter. */
    { "3/4", "=1 8c 8d 8e 8f 8g 8a ==", "2 2 2" },
    /* 4/4: plain eighths by the half bar ... */
    { "4/4", "=1 8c 8d 8e 8f 8g 8a 8b 8cc ==", "4 4" },
    /* ... but by the quarter as soon as sixteenths appear in that half. */
    { "4/4", "=1 16c 16d 8e 8f 8g 8a 8b 8cc 8dd ==", "3 2 4" },
    /* 6/8: by the dotted quarter. */
    { "6/8", "=1 8c 8d 8e 8f 8g 8a ==", "3 3" },
    { "6/8", "=1 4c 8d 8e 8f 8g ==", "3" },
    /* 3/8: the whole bar. */
    { "3/8", "=1 8c 8d 8e =2 16c 16d 16e 16f 8g ==", "3 5" },
    /* Rests and quarters break beams. */
    { "2/4", "=1 8c 8r 8e 8f =2 8c 4d 8e ==", "2" },
    /* 2/2: by the half note. */
    { "2/2", "=1 8c 8d 8e 8f 8g 8a 8b 8cc ==", "4 4" },
    /* Triplet eighths by the quarter. */
    { "2/4", "=1 12c 12d 12e 12f 12g 12a ==", "3 3" },
  };
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (MelSong) song = kern_song (cases[i].meter, "", cases[i].body);
      g_autoptr (MelEngraveLayout) layout = layout_of (song, 2000);
      g_autofree char *got = beam_pattern (layout);
      g_test_message ("%s %s -> %s", cases[i].meter, cases[i].body, got);
      g_assert_cmpstr (got, ==, cases[i].expect);
    }
}

/* ---- stems ---------------------------------------------------------------- */

static void
test_stem_directions (void)
{
  /* a (A4, below the middle line) up; b (B4, on it) down; cc (C5) down;
   * c (C4) up; e (E4) up; ccc down. */
  g_autoptr (MelSong) song = kern_song ("4/4", "", "=1 4a 4b 4cc 4c =2 4e 4ccc 2r ==");
  g_autoptr (MelEngraveLayout) layout = layout_of (song, 2000);
  guint n;
  const MelEngraveNote *notes = mel_engrave_layout_get_notes (layout, &n);
  const gboolean expect[] = { TRUE, FALSE, FALSE, TRUE, TRUE, FALSE };

  g_assert_cmpuint (n, ==, 7);
  for (guint i = 0; i < G_N_ELEMENTS (expect); i++)
    g_assert_cmpint (notes[i].stem_up, ==, expect[i]);
  g_assert_cmpint (notes[0].staff_position, ==, 3);
  g_assert_cmpint (notes[1].staff_position, ==, 4);

  /* A beam group follows its note farthest from the middle line: g a
   * (below) with a high e (four steps above B4): e is farther → down. */
  g_autoptr (MelSong) beamed = kern_song ("2/4", "", "=1 8g 8ee 8f 8a ==");
  g_autoptr (MelEngraveLayout) bl = layout_of (beamed, 2000);
  notes = mel_engrave_layout_get_notes (bl, &n);
  g_assert_cmpint (notes[0].beam_group, ==, notes[1].beam_group);
  g_assert_false (notes[0].stem_up);
  g_assert_false (notes[1].stem_up);
  g_assert_true (notes[2].stem_up); /* f a: both below → up */
  g_assert_true (notes[3].stem_up);
}

/* ---- accidentals ------------------------------------------------------------ */

static void
test_accidentals (void)
{
  struct
  {
    const char *key, *body, *expect;
  } cases[] = {
    /* G major: f# from the signature; f natural; carried through the
     * bar; f# again needs its sharp; the other octave (ff#) is separate. */
    { "f#", "=1 8f# 8fn 8fn 8f# 8ff# 8fn 4g =2 4f# 4g 2a ==", "-n-#-n-S--" },
    /* C major: c# then c# (carried); next bar c natural is a courtesy. */
    { "", "=1 4c# 4c# 2d =2 4c 4d 2e ==", "#--N--" },
    /* A tie over the bar line carries the alteration; a later note in the
     * new bar needs it again. */
    { "", "=1 2d [2f# =2 4f#] 4f# 2r ==", "-#-#-" },
    /* F major: b flat by key, b natural, then b-flat needs its flat. */
    { "b-", "=1 4b- 4bn 4b- 4b- ==", "-nb-" },
    /* Double sharp and double flat. */
    { "", "=1 4f## 4f## 4b-- 4bn ==", "X-Bn" },
  };
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (MelSong) song = kern_song ("4/4", cases[i].key, cases[i].body);
      g_autoptr (MelEngraveLayout) layout = layout_of (song, 2000);
      g_autofree char *got = accidental_pattern (layout);
      g_test_message ("[%s] %s -> %s", cases[i].key, cases[i].body, got);
      g_assert_cmpstr (got, ==, cases[i].expect);
    }
}

/* ---- splitting and tying --------------------------------------------------- */

static void
test_tie_splitting (void)
{
  struct
  {
    int num, den;
    const Note *notes;
    guint n;
    const char *expect;
  } cases[] = {
    /* 5 sixteenths from the downbeat: quarter + 16th, tied; then the bar
     * is filled by a dotted eighth (off-beat, within the beat), a half. */
    { 4, 4, (const Note[]) { { 60, 5, 4 }, { 62, 3, 4 }, { 64, 2, 1 } }, 3, "1~ 1/4 3/4 2" },
    /* A note across the bar line: two halves of two quarters, tied. */
    { 4, 4, (const Note[]) { { 60, 3, 1 }, { 62, 2, 1 }, { 64, 3, 1 } }, 3, "3 1~ 1 1~ 2" },
    /* A dotted half from beat 2 hides the middle of the bar: q + h. */
    { 4, 4, (const Note[]) { { 60, 1, 1 }, { 62, 3, 1 } }, 2, "1 1~ 2" },
    /* 8 q 8 in 2/4 stays a syncopation. */
    { 2, 4, (const Note[]) { { 60, 1, 2 }, { 62, 1, 1 }, { 64, 1, 2 } }, 3, "1/2 1 1/2" },
    /* In 6/8 a quarter from the third eighth crosses the beat: 8~8. */
    { 6, 8, (const Note[]) { { 60, 1, 1 }, { 62, 1, 1 }, { 64, 1, 1 } }, 3, "1 1/2~ 1/2 1" },
    /* A rest across the bar is split but not tied. */
    { 2, 4, (const Note[]) { { 60, 1, 1 }, { -1, 2, 1 }, { 62, 1, 1 } }, 3, "1 1 1 1" },
    /* Two eighth rests on a beat are written as one quarter rest. */
    { 2, 4, (const Note[]) { { 60, 1, 1 }, { -1, 1, 2 }, { -1, 1, 2 }, { 62, 2, 1 } }, 4, "1 1 2" },
    /* Seven sixteenths: quarter + dotted eighth. */
    { 2, 4, (const Note[]) { { 60, 7, 4 }, { 62, 1, 4 } }, 2, "1~ 3/4 1/4" },
  };
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (MelSong) song = generated_song (cases[i].num, cases[i].den, 0, MEL_RATIONAL_ZERO, cases[i].notes,
                                                 cases[i].n);
      g_autoptr (MelEngraveLayout) layout = layout_of (song, 2000);
      g_autofree char *got = duration_pattern (layout);
      g_test_message ("case %u -> %s", i, got);
      g_assert_cmpstr (got, ==, cases[i].expect);
    }
  /* Tied pieces keep their song event; a rest never ties. */
  g_autoptr (MelSong) song = generated_song (4, 4, 0, MEL_RATIONAL_ZERO,
                                             (const Note[]) { { 60, 3, 1 }, { 62, 2, 1 }, { 64, 3, 1 } }, 3);
  g_autoptr (MelEngraveLayout) layout = layout_of (song, 2000);
  guint n;
  const MelEngraveNote *notes = mel_engrave_layout_get_notes (layout, &n);
  g_assert_cmpuint (notes[1].event, ==, 1);
  g_assert_cmpuint (notes[2].event, ==, 1);
  g_assert_cmpuint (notes[1].bar, ==, 0);
  g_assert_cmpuint (notes[2].bar, ==, 1);
  /* Unspelled C major pitches get no accidentals. */
  g_autofree char *acc = accidental_pattern (layout);
  g_assert_cmpstr (acc, ==, "-----");
}

static void
test_note_values (void)
{
  g_autoptr (MelSong) song = kern_song ("4/2", "",
                                       "=1 0c =2 1c 2.c 8c 16c 32c 32c "
                                       "=3 3c 3c 3c 6c 6c 6c 12c 12c 12c 24c 24c 24c 8r ==");
  g_autoptr (MelEngraveLayout) layout = layout_of (song, 3000);
  guint n;
  const MelEngraveNote *notes = mel_engrave_layout_get_notes (layout, &n);
  const MelEngraveValue values[] = {
    MEL_ENGRAVE_VALUE_BREVE, MEL_ENGRAVE_VALUE_WHOLE, MEL_ENGRAVE_VALUE_HALF, MEL_ENGRAVE_VALUE_EIGHTH,
    MEL_ENGRAVE_VALUE_16TH,  MEL_ENGRAVE_VALUE_32ND,  MEL_ENGRAVE_VALUE_32ND, MEL_ENGRAVE_VALUE_HALF,
  };
  g_assert_cmpuint (n, ==, 20);
  for (guint i = 0; i < G_N_ELEMENTS (values); i++)
    g_assert_cmpint (notes[i].value, ==, values[i]);
  g_assert_cmpint (notes[2].dots, ==, 1);
  g_assert_false (notes[2].triplet);
  g_assert_true (notes[7].triplet);
  g_assert_cmpint (notes[10].value, ==, MEL_ENGRAVE_VALUE_QUARTER);
  g_assert_cmpint (notes[13].value, ==, MEL_ENGRAVE_VALUE_EIGHTH);
  g_assert_cmpint (notes[16].value, ==, MEL_ENGRAVE_VALUE_16TH);
  g_assert_true (notes[16].triplet);
  g_assert_true (notes[19].is_rest);
  g_assert_false (notes[19].triplet);

  /* Triplets get a "3" (bracket or number): count the tuplet texts. */
  guint n_items, threes = 0;
  const MelEngraveItem *items = mel_engrave_layout_get_items (layout, &n_items);
  for (guint i = 0; i < n_items; i++)
    if (items[i].kind == MEL_ENGRAVE_ITEM_TEXT && items[i].text_style == MEL_ENGRAVE_TEXT_TUPLET)
      threes++;
  g_assert_cmpuint (threes, ==, 4); /* one per group of three */
}

/* ---- bars: pickup, whole-bar rests, irregular meter ---------------------- */

static void
test_pickup (void)
{
  /* 3/4 with a two-eighth pickup, no bar lines in the song. */
  const Note notes[] = { { 67, 1, 2 }, { 69, 1, 2 }, { 71, 3, 1 }, { 72, 1, 1 }, { 71, 1, 2 }, { 69, 1, 2 }, { 67, 1, 1 } };
  g_autoptr (MelSong) song = generated_song (3, 4, 0, mel_rational_new (1, 1), notes, G_N_ELEMENTS (notes));
  g_autoptr (MelEngraveLayout) layout = layout_of (song, 2000);
  guint n_bars, n;
  const MelEngraveBar *bars = mel_engrave_layout_get_bars (layout, &n_bars);
  const MelEngraveNote *wn = mel_engrave_layout_get_notes (layout, &n);

  g_assert_cmpuint (n_bars, ==, 3);
  g_assert_true (bars[0].pickup);
  g_assert_cmpint (bars[0].number, ==, 0);
  g_assert_true (mel_rational_equal (bars[0].duration, mel_rational_new (1, 1)));
  g_assert_false (bars[1].pickup);
  g_assert_cmpint (bars[1].number, ==, 1);
  g_assert_true (mel_rational_equal (bars[1].onset, mel_rational_new (1, 1)));
  /* The pickup's eighths sit on beat 3 of the meter: beamed together. */
  g_assert_cmpint (wn[0].beam_group, >=, 0);
  g_assert_cmpint (wn[0].beam_group, ==, wn[1].beam_group);
  /* The dotted half fills bar 1 unsplit. */
  g_assert_cmpint (wn[2].value, ==, MEL_ENGRAVE_VALUE_HALF);
  g_assert_cmpint (wn[2].dots, ==, 1);
  /* The last bar: q 8 8 q. */
  g_assert_cmpuint (wn[3].bar, ==, 2);
}

static void
test_bars_and_rests (void)
{
  g_autoptr (MelSong) song = kern_song ("3/4", "", "=1 4c 4d 4e =2 2.r =3 2.c ==");
  g_autoptr (MelEngraveLayout) layout = layout_of (song, 2000);
  guint n, n_bars, n_items;
  const MelEngraveNote *notes = mel_engrave_layout_get_notes (layout, &n);
  const MelEngraveBar *bars = mel_engrave_layout_get_bars (layout, &n_bars);
  const MelEngraveItem *items = mel_engrave_layout_get_items (layout, &n_items);

  g_assert_true (notes[3].whole_bar_rest);
  g_assert_false (notes[4].whole_bar_rest);
  /* Centred in its bar (within a staff space). */
  double centre = notes[3].x + 1.38 * mel_engrave_layout_get_space (layout);
  double bar_centre = (bars[1].x0 + bars[1].x1) / 2;
  g_assert_cmpfloat (fabs (centre - bar_centre), <, mel_engrave_layout_get_space (layout));

  /* One time signature (two numbers), one thick final bar line. */
  guint texts = 0, thick = 0;
  for (guint i = 0; i < n_items; i++)
    {
      if (items[i].kind == MEL_ENGRAVE_ITEM_TEXT && items[i].text_style == MEL_ENGRAVE_TEXT_TIME_SIG)
        texts++;
      if (items[i].kind == MEL_ENGRAVE_ITEM_LINE && items[i].size > 0.4 * mel_engrave_layout_get_space (layout))
        thick++;
    }
  g_assert_cmpuint (texts, ==, 2);
  g_assert_cmpuint (thick, ==, 1);

  /* Meter change: 2/4 then 3/4 → two time signatures. */
  g_autoptr (MelSong) changing = kern_song ("2/4", "", "=1 4c 4d =2 *M3/4 4e 4f 4g =3 2.c ==");
  g_autoptr (MelEngraveLayout) cl = layout_of (changing, 2000);
  items = mel_engrave_layout_get_items (cl, &n_items);
  texts = 0;
  for (guint i = 0; i < n_items; i++)
    if (items[i].kind == MEL_ENGRAVE_ITEM_TEXT && items[i].text_style == MEL_ENGRAVE_TEXT_TIME_SIG)
      texts++;
  g_assert_cmpuint (texts, ==, 4);

  /* Irregular meter: no time signature; the bars are the source's. */
  g_autoptr (MelSong) free_song = kern_song ("X", "", "=1 4c 4d 4e 4f 4g =2 4c 2d =3 1c ==");
  g_autoptr (MelEngraveLayout) fl = layout_of (free_song, 2000);
  items = mel_engrave_layout_get_items (fl, &n_items);
  bars = mel_engrave_layout_get_bars (fl, &n_bars);
  g_assert_cmpuint (n_bars, ==, 3);
  g_assert_true (mel_rational_equal (bars[0].duration, mel_rational_new (5, 1)));
  for (guint i = 0; i < n_items; i++)
    g_assert_false (items[i].kind == MEL_ENGRAVE_ITEM_TEXT && items[i].text_style == MEL_ENGRAVE_TEXT_TIME_SIG);
  /* 5 quarters in one irregular bar are not split. */
  notes = mel_engrave_layout_get_notes (fl, &n);
  g_assert_cmpuint (n, ==, 8);
}

/* ---- property: any durations engrave, and the pieces add up ------------- */

static void
test_random_durations (void)
{
  static const int meters[][2] = { { 2, 4 }, { 3, 4 }, { 4, 4 }, { 6, 8 }, { 3, 8 }, { 2, 2 }, { 4, 2 }, { 5, 4 }, { 9, 8 } };
  /* Durations in 48ths of a quarter: plain, dotted, triplet, and odd ones
   * a generator may produce (5/16, 7/16, 5/12, 1/5 is not representable
   * here but 11/48 is). */
  static const int lengths[] = { 12, 24, 48, 96, 192, 36, 72, 144, 6, 3, 60, 84, 120, 240, 384, /* 64th grid */
                                 16, 32, 8, 20, 11 };
  const guint n_grid = 15;
  GRand *rand = g_rand_new_with_seed (20261125);

  for (guint round = 0; round < 200; round++)
    {
      const int *m = meters[g_rand_int_range (rand, 0, G_N_ELEMENTS (meters))];
      guint n = (guint) g_rand_int_range (rand, 5, 60);
      g_autofree Note *notes = g_new (Note, n);
      /* Lengths off the sixteenth grid (triplets mixed with sixteenths,
       * 11/48) can leave remainders no single value writes exactly; only
       * songs on the 64th grid must come out exact. */
      gboolean odd = FALSE;
      for (guint i = 0; i < n; i++)
        {
          notes[i].midi = g_rand_int_range (rand, 0, 8) == 0 ? -1 : g_rand_int_range (rand, 43, 92);
          /* Every other song stays on the sixteenth/64th grid, as the
           * project's generators do. */
          guint pick = round % 2 == 0 ? n_grid : G_N_ELEMENTS (lengths);
          notes[i].num = lengths[g_rand_int_range (rand, 0, (gint32) pick)];
          notes[i].den = 48;
          odd |= notes[i].num % 3 != 0;
        }
      MelRational pickup = g_rand_boolean (rand) ? mel_rational_new (g_rand_int_range (rand, 1, 4), 2) : MEL_RATIONAL_ZERO;
      g_autoptr (MelSong) song = generated_song (m[0], m[1], g_rand_int_range (rand, -6, 7), pickup, notes, n);
      g_autoptr (MelEngraveLayout) layout = layout_of (song, g_rand_int_range (rand, 200, 2000));
      guint n_written;
      const MelEngraveNote *w = mel_engrave_layout_get_notes (layout, &n_written);

      /* Each event is covered exactly, in order, by its written pieces
       * (a run of rests counts as one event: they are merged). */
      guint k = 0;
      for (guint i = 0; i < n; i++)
        {
          const MelEvent *ev = mel_song_get_event (song, i);
          MelRational t = ev->onset;
          MelRational end = mel_rational_add (ev->onset, ev->duration);
          guint first = i;
          while (mel_event_is_rest (ev) && i + 1 < n && mel_event_is_rest (mel_song_get_event (song, i + 1)))
            {
              i++;
              end = mel_rational_add (end, mel_song_get_event (song, i)->duration);
            }
          while (k < n_written && w[k].event == first)
            {
              g_assert_true (mel_rational_equal (w[k].onset, t));
              g_assert_cmpint (w[k].value, <=, MEL_ENGRAVE_VALUE_64TH);
              if (!odd)
                {
                  /* The written value says exactly how long the piece is. */
                  MelRational len = mel_rational_new (8, (gint64) 1 << w[k].value);
                  if (w[k].dots)
                    len = mel_rational_mul (len, mel_rational_new (3, 2));
                  if (w[k].triplet)
                    len = mel_rational_mul (len, mel_rational_new (2, 3));
                  if (!mel_rational_equal (len, w[k].duration))
                    {
                      g_autofree char *a = mel_rational_to_string (w[k].duration);
                      g_autofree char *o = mel_rational_to_string (w[k].onset);
                      g_autofree char *bo = mel_rational_to_string (mel_engrave_layout_get_bars (layout, NULL)[w[k].bar].onset);
                      g_error ("meter %d/%d: piece %s at %s (bar at %s) has no exact value", m[0], m[1], a, o, bo);
                    }
                }
              if (k + 1 < n_written && w[k + 1].event == first && !w[k].is_rest)
                g_assert_true (w[k].tie_to_next);
              t = mel_rational_add (t, w[k].duration);
              k++;
            }
          g_assert_true (mel_rational_equal (t, end));
        }
      g_assert_cmpuint (k, ==, n_written);
    }
  g_rand_free (rand);
}

/* ---- clef ------------------------------------------------------------------ */

static void
test_clef_choice (void)
{
  g_autoptr (MelSong) treble = kern_song ("4/4", "", "=1 4c 4g 4cc 4a ==");
  g_autoptr (MelSong) high = kern_song ("4/4", "", "=1 4b 4eee 4fff 4a ==");
  g_autoptr (MelSong) bass = kern_song ("4/4", "", "=1 4GG 4AA 4BB 4C =2 4D 4C 2GG ==");
  g_autoptr (MelSong) tenor = kern_song ("4/4", "", "=1 4C 4G 4c 4e =2 4g 4e 2c ==");
  g_autoptr (MelEngraveLayout) lt = layout_of (treble, 1000);
  g_autoptr (MelEngraveLayout) lh = layout_of (high, 1000);
  g_autoptr (MelEngraveLayout) lb = layout_of (bass, 1000);
  g_autoptr (MelEngraveLayout) ln = layout_of (tenor, 1000);

  g_assert_cmpint (mel_engrave_layout_get_clef (lt), ==, MEL_ENGRAVE_CLEF_TREBLE);
  g_assert_cmpint (mel_engrave_layout_get_clef (lh), ==, MEL_ENGRAVE_CLEF_TREBLE);
  g_assert_cmpint (mel_engrave_layout_get_clef (lb), ==, MEL_ENGRAVE_CLEF_BASS);
  g_assert_cmpint (mel_engrave_layout_get_clef (ln), ==, MEL_ENGRAVE_CLEF_TREBLE_8VB);
  guint n;
  const MelEngraveNote *notes = mel_engrave_layout_get_notes (lb, &n);
  g_assert_cmpint (notes[0].staff_position, ==, 0); /* G2 on the bass clef's bottom line */
  notes = mel_engrave_layout_get_notes (ln, &n);
  g_assert_cmpint (notes[0].staff_position, ==, -2); /* C3 written as C4 under 8vb */
}

/* ---- line breaking ------------------------------------------------------------ */

static MelSong *
long_song (guint n_bars)
{
  g_autoptr (GArray) notes = g_array_new (FALSE, FALSE, sizeof (Note));
  static const int scale[] = { 60, 62, 64, 65, 67, 69, 71, 72 };
  for (guint b = 0; b < n_bars; b++)
    {
      /* Alternate bar rhythms: 8 8 8 8 q q | q. 8 h | 16×4 q h */
      const Note pattern[3][6] = {
        { { 0, 1, 2 }, { 1, 1, 2 }, { 2, 1, 2 }, { 3, 1, 2 }, { 4, 1, 1 }, { 5, 1, 1 } },
        { { 4, 3, 2 }, { 3, 1, 2 }, { 2, 2, 1 }, { -1, 0, 0 } },
        { { 1, 1, 4 }, { 2, 1, 4 }, { 3, 1, 4 }, { 4, 1, 4 }, { 5, 1, 1 }, { 6, 2, 1 } },
      };
      const Note *p = pattern[b % 3];
      for (guint k = 0; k < 6 && p[k].num > 0; k++)
        {
          Note note = { scale[(p[k].midi + b) % 8] + (b % 5 == 4 ? 1 : 0), p[k].num, p[k].den };
          g_array_append_val (notes, note);
        }
    }
  return generated_song (4, 4, 0, MEL_RATIONAL_ZERO, (const Note *) (void *) notes->data, notes->len);
}

static void
test_line_breaking (void)
{
  g_autoptr (MelSong) song = long_song (32);
  guint prev_systems = G_MAXUINT;
  const double widths[] = { 400, 700, 1000, 1600, 2600 };

  for (guint w = 0; w < G_N_ELEMENTS (widths); w++)
    {
      g_autoptr (MelEngraveLayout) layout = layout_of (song, widths[w]);
      guint n_sys, n_bars;
      const MelEngraveSystem *systems = mel_engrave_layout_get_systems (layout, &n_sys);
      const MelEngraveBar *bars = mel_engrave_layout_get_bars (layout, &n_bars);
      g_test_message ("width %.0f: %u systems", widths[w], n_sys);
      g_assert_cmpuint (n_bars, ==, 32);
      g_assert_cmpuint (n_sys, <, prev_systems); /* wider → fewer lines */
      prev_systems = n_sys;
      /* Systems are justified: all but the last end at the same x, within
       * the width; bars are consecutive and systems stack downwards. */
      for (guint s = 0; s < n_sys; s++)
        {
          g_assert_cmpfloat (systems[s].x1, <=, widths[w] + 0.01);
          if (s + 1 < n_sys)
            {
              g_assert_cmpfloat (fabs (systems[s].x1 - systems[0].x1), <, 0.5);
              g_assert_cmpfloat (systems[s + 1].top, >, systems[s].bottom);
              g_assert_cmpuint (systems[s + 1].first_bar, ==, systems[s].first_bar + systems[s].n_bars);
            }
        }
      for (guint b = 0; b + 1 < n_bars; b++)
        if (bars[b].system == bars[b + 1].system)
          g_assert_cmpfloat (fabs (bars[b].x1 - bars[b + 1].x0), <, 0.01);
      g_assert_cmpfloat (mel_engrave_layout_get_height (layout), >=, systems[n_sys - 1].bottom);
    }
  /* Spacing grows with duration: in a bar of 8 8 8 8 q q the quarters get
   * more room than the eighths, but less than twice as much. */
  g_autoptr (MelEngraveLayout) layout = layout_of (song, 5000);
  guint n;
  const MelEngraveNote *notes = mel_engrave_layout_get_notes (layout, &n);
  double eighth = notes[0].x_next - notes[0].x, quarter = notes[4].x_next - notes[4].x;
  g_assert_cmpfloat (quarter, >, eighth * 1.2);
  g_assert_cmpfloat (quarter, <, eighth * 2.0);
}

/* ---- hit test and cursor ------------------------------------------------------- */

static void
test_hit_test_and_cursor (void)
{
  g_autoptr (MelSong) song = long_song (12);
  g_autoptr (MelEngraveLayout) layout = layout_of (song, 900);
  guint n;
  const MelEngraveNote *notes = mel_engrave_layout_get_notes (layout, &n);
  double sp = mel_engrave_layout_get_space (layout);

  for (guint i = 0; i < n; i++)
    {
      int hit = mel_engrave_layout_hit_test (layout, notes[i].x + 0.5 * sp, notes[i].y);
      g_assert_cmpint (hit, ==, (int) notes[i].event);
    }
  g_assert_cmpint (mel_engrave_layout_hit_test (layout, 5, 1), ==, -1); /* the top margin */

  /* The cursor moves right within a system and is at the note at its onset. */
  double last_x = -1;
  guint last_sys = 0;
  for (double t = 0; t < mel_rational_to_double (song->duration); t += 0.125)
    {
      double x, y0, y1;
      guint sys;
      g_assert_true (mel_engrave_layout_time_to_x (layout, t, &x, &y0, &y1, &sys));
      g_assert_cmpfloat (y1, >, y0);
      if (sys == last_sys)
        g_assert_cmpfloat (x, >=, last_x);
      else
        g_assert_cmpuint (sys, ==, last_sys + 1);
      last_x = x;
      last_sys = sys;
    }
  double x;
  g_assert_true (mel_engrave_layout_time_to_x (layout, mel_rational_to_double (notes[5].onset), &x, NULL, NULL, NULL));
  g_assert_cmpfloat (fabs (x - notes[5].x), <, 1e-6);
  g_assert_false (mel_engrave_layout_time_to_x (layout, -1, &x, NULL, NULL, NULL));
  g_assert_false (mel_engrave_layout_time_to_x (layout, 1e6, &x, NULL, NULL, NULL));
  g_assert_true (mel_engrave_layout_event_to_x (layout, 3, &x, NULL, NULL, NULL));
  g_assert_false (mel_engrave_layout_event_to_x (layout, 100000, &x, NULL, NULL, NULL));
}

/* ---- errors ---------------------------------------------------------------------- */

static void
test_errors (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MelSong) empty = mel_song_new ("empty");
  MelEngraveOptions opts;

  g_assert_null (mel_engrave_layout_new (empty, NULL, &error));
  g_assert_error (error, MEL_ENGRAVE_ERROR, MEL_ENGRAVE_ERROR_INVALID);
  g_clear_error (&error);

  g_autoptr (MelSong) song = long_song (2);
  mel_engrave_options_init (&opts);
  opts.width = -5;
  g_assert_null (mel_engrave_layout_new (song, &opts, &error));
  g_assert_error (error, MEL_ENGRAVE_ERROR, MEL_ENGRAVE_ERROR_INVALID);
  g_clear_error (&error);

  g_assert_false (mel_engrave_export_file (song, "/tmp/x.bmp", NULL, NULL, &error));
  g_assert_error (error, MEL_ENGRAVE_ERROR, MEL_ENGRAVE_ERROR_FORMAT);
  g_clear_error (&error);

  g_assert_false (mel_engrave_export_file (song, "/nonexistent-dir/x.png", NULL, NULL, &error));
  g_assert_error (error, MEL_ENGRAVE_ERROR, MEL_ENGRAVE_ERROR_IO);
  g_clear_error (&error);

  g_assert_true (mel_engrave_check_font (&error));
  g_assert_no_error (error);
}

/* ---- rendering -------------------------------------------------------------------- */

static void
test_render_embedded_corpus (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MelCorpus) corpus = mel_corpus_load_embedded (&error);
  g_assert_no_error (error);
  g_autofree char *dir = g_dir_make_tmp ("mel-engrave-XXXXXX", &error);
  g_assert_no_error (error);
  static const char *const exts[] = { "png", "svg", "pdf" };
  MelEngraveRenderOptions ropts;

  g_assert_cmpuint (corpus->songs->len, >, 0);
  for (guint i = 0; i < corpus->songs->len; i++)
    {
      MelSong *song = g_ptr_array_index (corpus->songs, i);
      for (guint e = 0; e < G_N_ELEMENTS (exts); e++)
        {
          g_autofree char *name = g_strdup_printf ("%s.%s", song->id, exts[e]);
          g_autofree char *path = g_build_filename (dir, name, NULL);
          g_autofree char *contents = NULL;
          gsize length = 0;
          mel_engrave_render_options_init (&ropts);
          ropts.highlight_event = 2; /* overlays are drawn too */
          ropts.mark_first_bar = 1;
          ropts.mark_last_bar = 2;
          ropts.cursor_time = 1.0;
          g_assert_true (mel_engrave_export_file (song, path, NULL, &ropts, &error));
          g_assert_no_error (error);
          g_assert_true (g_file_get_contents (path, &contents, &length, NULL));
          if (e == 0)
            g_assert_true (length > 8 && memcmp (contents, "\x89PNG", 4) == 0);
          else if (e == 1)
            g_assert_nonnull (strstr (contents, "<svg"));
          else
            g_assert_true (length > 4 && memcmp (contents, "%PDF", 4) == 0);
          g_unlink (path);
        }
    }
  /* Atomic writes leave no temporary files behind. */
  g_assert_cmpint (g_rmdir (dir), ==, 0);
}

static guint
count_substring (const char *haystack, gsize length, const char *needle)
{
  guint n = 0;
  gsize nl = strlen (needle);
  for (gsize i = 0; i + nl <= length; i++)
    if (memcmp (haystack + i, needle, nl) == 0)
      n++;
  return n;
}

/* Page objects of a PDF: "/Type /Page" but not "/Type /Pages". */
static guint
count_pages (const char *pdf, gsize length)
{
  return count_substring (pdf, length, "/Type /Page") - count_substring (pdf, length, "/Type /Pages");
}

static void
test_pdf_pages (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("mel-engrave-XXXXXX", &error);
  g_autofree char *path = g_build_filename (dir, "long.pdf", NULL);
  g_autoptr (MelSong) short_song = long_song (8);
  g_autoptr (MelSong) song = long_song (160);
  g_autofree char *contents = NULL;
  gsize length;

  /* A short song is one page, a long one several. */
  g_assert_true (mel_engrave_export_file (short_song, path, NULL, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (g_file_get_contents (path, &contents, &length, NULL));
  g_assert_cmpuint (count_pages (contents, length), ==, 1);
  g_clear_pointer (&contents, g_free);

  g_assert_true (mel_engrave_export_file (song, path, NULL, NULL, &error));
  g_assert_true (g_file_get_contents (path, &contents, &length, NULL));
  guint pages = count_pages (contents, length);
  g_test_message ("160 bars: %u A4 pages", pages);
  g_assert_cmpuint (pages, >=, 3);
  g_unlink (path);
  g_assert_cmpint (g_rmdir (dir), ==, 0);
}

static void
test_value_colors (void)
{
  double a[3], b[3];
  mel_engrave_value_color (0, a);
  mel_engrave_value_color (1, b);
  g_assert_cmpfloat (a[2], >, a[0]); /* blue end */
  g_assert_cmpfloat (b[0], >, b[2]); /* red end */
  mel_engrave_value_color (NAN, a);
  mel_engrave_value_color (-3, b);
  g_assert_cmpfloat (a[0], ==, b[0]);

  /* Per-note values change the pixels of the notes only. */
  g_autoptr (MelSong) song = long_song (2);
  g_autoptr (MelEngraveLayout) layout = layout_of (song, 600);
  double values[64];
  for (guint i = 0; i < G_N_ELEMENTS (values); i++)
    values[i] = 1.0;
  MelEngraveRenderOptions ropts;
  mel_engrave_render_options_init (&ropts);
  ropts.values = values;
  ropts.n_values = G_N_ELEMENTS (values);
  int w = (int) mel_engrave_layout_get_width (layout), h = (int) mel_engrave_layout_get_height (layout);
  cairo_surface_t *surface = cairo_image_surface_create (CAIRO_FORMAT_RGB24, w, h);
  cairo_t *cr = cairo_create (surface);
  mel_engrave_render (layout, cr, &ropts, 0, G_MAXUINT);
  cairo_destroy (cr);
  cairo_surface_flush (surface);
  guint red = 0;
  const guint8 *data = cairo_image_surface_get_data (surface);
  int stride = cairo_image_surface_get_stride (surface);
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      {
        guint32 px = *(const guint32 *) (const void *) (data + y * stride + x * 4);
        int r = (px >> 16) & 0xff, g = (px >> 8) & 0xff, bl = px & 0xff;
        if (r > 150 && g < 80 && bl < 80)
          red++;
      }
  cairo_surface_destroy (surface);
  g_assert_cmpuint (red, >, 100);
}

static void
test_esac_corpus (void)
{
  const char *dir = g_getenv ("MELODIST_ESAC_DIR");
  g_autoptr (GError) error = NULL;

  if (dir == NULL || !g_file_test (dir, G_FILE_TEST_IS_DIR))
    {
      g_test_skip ("MELODIST_ESAC_DIR does not name the ESAC folder; the full-corpus run is skipped");
      return;
    }
  g_autoptr (MelCorpus) corpus = mel_corpus_load (dir, 0, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  gint64 t0 = g_get_monotonic_time ();
  guint rendered = 0;
  for (guint i = 0; i < corpus->songs->len; i++)
    {
      MelSong *song = g_ptr_array_index (corpus->songs, i);
      g_autoptr (MelEngraveLayout) layout = mel_engrave_layout_new (song, NULL, &error);
      if (layout == NULL)
        g_error ("%s: %s", song->path, error->message);
      guint n_notes;
      mel_engrave_layout_get_notes (layout, &n_notes);
      g_assert_cmpuint (n_notes, >=, mel_song_get_n_notes (song));
      if (i % 20 == 0)
        {
          cairo_surface_t *rec = cairo_recording_surface_create (CAIRO_CONTENT_COLOR_ALPHA, NULL);
          cairo_t *cr = cairo_create (rec);
          mel_engrave_render (layout, cr, NULL, 0, G_MAXUINT);
          g_assert_cmpint (cairo_status (cr), ==, CAIRO_STATUS_SUCCESS);
          cairo_destroy (cr);
          cairo_surface_destroy (rec);
          rendered++;
        }
    }
  g_test_message ("ESAC: %u songs laid out, %u rendered, %.0f ms", corpus->songs->len, rendered,
                  (g_get_monotonic_time () - t0) / 1000.0);
}

/* ---- the fixture melodies ------------------------------------------------ */

static MelSong *
read_fixture (const char *name)
{
  g_autoptr (GError) error = NULL;
  const char *root = g_getenv ("MELODIST_SOURCE_DIR");
  g_autofree char *path = g_build_filename (root != NULL ? root : ".", "tests", "fixtures", name, NULL);
  MelSong *song = mel_kern_read_file (path, &error);
  g_assert_no_error (error);
  return song;
}

static void
test_fixtures (void)
{
  g_autoptr (MelSong) features = read_fixture ("engrave-features.krn");
  g_autoptr (MelSong) low = read_fixture ("engrave-low.krn");
  g_autoptr (MelEngraveLayout) fl = layout_of (features, 700);
  g_autoptr (MelEngraveLayout) ll = layout_of (low, 700);
  guint n_items, ties = 0, beams = 0, brackets = 0, rests = 0, flags = 0;
  const MelEngraveItem *items = mel_engrave_layout_get_items (fl, &n_items);

  g_assert_cmpint (mel_engrave_layout_get_clef (fl), ==, MEL_ENGRAVE_CLEF_TREBLE);
  g_assert_cmpint (mel_engrave_layout_get_clef (ll), ==, MEL_ENGRAVE_CLEF_TREBLE_8VB);
  for (guint i = 0; i < n_items; i++)
    {
      ties += items[i].kind == MEL_ENGRAVE_ITEM_TIE;
      beams += items[i].kind == MEL_ENGRAVE_ITEM_BEAM;
      brackets += items[i].kind == MEL_ENGRAVE_ITEM_TEXT && items[i].text_style == MEL_ENGRAVE_TEXT_TUPLET;
      rests += items[i].kind == MEL_ENGRAVE_ITEM_GLYPH && items[i].glyph == MEL_ENGRAVE_GLYPH_REST_WHOLE;
      flags += items[i].kind == MEL_ENGRAVE_ITEM_GLYPH && items[i].glyph >= MEL_ENGRAVE_GLYPH_FLAG_8TH
               && items[i].glyph <= MEL_ENGRAVE_GLYPH_FLAG_64TH;
    }
  g_assert_cmpuint (ties, >=, 1);
  g_assert_cmpuint (beams, >=, 8);
  g_assert_cmpuint (brackets, ==, 2); /* triplet eighths and triplet halves */
  g_assert_cmpuint (rests, ==, 1);    /* the 6/8 bar of rest */
  g_assert_cmpuint (flags, >=, 1);

  /* Key signature: B-flat major, so the b-flat of bar 1 shows no sign;
   * the e natural of bar 2 does. */
  guint n;
  const MelEngraveNote *notes = mel_engrave_layout_get_notes (fl, &n);
  g_assert_cmpint (notes[2].accidental, ==, MEL_ENGRAVE_ACCIDENTAL_NONE);
  g_assert_cmpint (notes[8].accidental, ==, MEL_ENGRAVE_ACCIDENTAL_NATURAL);
}

/* ---- speed ----------------------------------------------------------------------- */

#if defined(__SANITIZE_ADDRESS__)
#define MEL_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define MEL_SANITIZED 1
#endif
#endif

static int
cmp_double (gconstpointer a, gconstpointer b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return (x > y) - (x < y);
}

/* CPU time of this thread in ms: a loaded machine (CI, parallel builds)
 * stretches wall time but hardly the work done. */
static double
cpu_ms (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void
test_speed (void)
{
  g_autoptr (MelSong) song = long_song (32);
  g_autoptr (GError) error = NULL;
  MelEngraveOptions opts;
  double layout_ms[21], render_ms[11], render_wall[11];

  mel_engrave_options_init (&opts);
  {
    g_autoptr (MelEngraveLayout) probe = mel_engrave_layout_new (song, &opts, &error);
    guint n_sys;
    mel_engrave_layout_get_systems (probe, &n_sys);
    g_test_message ("32 bars: %u systems, image %.0f x %.0f px", n_sys, mel_engrave_layout_get_width (probe),
                    ceil (mel_engrave_layout_get_height (probe)));
  }
  for (guint i = 0; i < G_N_ELEMENTS (layout_ms); i++)
    {
      double t = cpu_ms ();
      g_autoptr (MelEngraveLayout) layout = mel_engrave_layout_new (song, &opts, &error);
      layout_ms[i] = cpu_ms () - t;
      g_assert_nonnull (layout);
    }
  g_autofree char *dir = g_dir_make_tmp ("mel-engrave-XXXXXX", &error);
  g_autofree char *path = g_build_filename (dir, "speed.png", NULL);
  for (guint i = 0; i < G_N_ELEMENTS (render_ms); i++)
    {
      gint64 w = g_get_monotonic_time ();
      double t = cpu_ms ();
      g_assert_true (mel_engrave_export_file (song, path, &opts, NULL, &error));
      render_ms[i] = cpu_ms () - t;
      render_wall[i] = (g_get_monotonic_time () - w) / 1000.0;
    }
  g_unlink (path);
  g_rmdir (dir);
  qsort (layout_ms, G_N_ELEMENTS (layout_ms), sizeof (double), cmp_double);
  qsort (render_ms, G_N_ELEMENTS (render_ms), sizeof (double), cmp_double);
  qsort (render_wall, G_N_ELEMENTS (render_wall), sizeof (double), cmp_double);
  double layout_median = layout_ms[G_N_ELEMENTS (layout_ms) / 2];
  double render_median = render_ms[G_N_ELEMENTS (render_ms) / 2];
  g_test_message ("32 bars, CPU time: layout median %.3f ms; layout + render + PNG file median %.2f ms "
                  "(wall-clock median %.2f ms)",
                  layout_median, render_median, render_wall[G_N_ELEMENTS (render_wall) / 2]);
#ifndef MEL_SANITIZED
  g_assert_cmpfloat (layout_median, <, 5.0);
  g_assert_cmpfloat (render_median, <, 50.0);
#endif
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/mel/engrave/beams-by-meter", test_beams_by_meter);
  g_test_add_func ("/mel/engrave/stem-directions", test_stem_directions);
  g_test_add_func ("/mel/engrave/accidentals", test_accidentals);
  g_test_add_func ("/mel/engrave/tie-splitting", test_tie_splitting);
  g_test_add_func ("/mel/engrave/note-values", test_note_values);
  g_test_add_func ("/mel/engrave/pickup", test_pickup);
  g_test_add_func ("/mel/engrave/bars-and-rests", test_bars_and_rests);
  g_test_add_func ("/mel/engrave/random-durations", test_random_durations);
  g_test_add_func ("/mel/engrave/clef-choice", test_clef_choice);
  g_test_add_func ("/mel/engrave/line-breaking", test_line_breaking);
  g_test_add_func ("/mel/engrave/hit-test-and-cursor", test_hit_test_and_cursor);
  g_test_add_func ("/mel/engrave/errors", test_errors);
  g_test_add_func ("/mel/engrave/value-colors", test_value_colors);
  g_test_add_func ("/mel/engrave/render-embedded-corpus", test_render_embedded_corpus);
  g_test_add_func ("/mel/engrave/fixtures", test_fixtures);
  g_test_add_func ("/mel/engrave/pdf-pages", test_pdf_pages);
  g_test_add_func ("/mel/engrave/esac-corpus", test_esac_corpus);
  g_test_add_func ("/mel/engrave/speed", test_speed);
  return g_test_run ();
}
