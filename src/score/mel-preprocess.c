/* mel-preprocess.c — duration filter, transposition, key estimation, and the
 * sixteenth-step symbol encoding and decoding of single songs.
 *
 * SPDX-License-Identifier: MIT
 */
#include "mel-dataset-private.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

G_DEFINE_QUARK (mel-dataset-error-quark, mel_dataset_error)

/* Semitones above C of the natural steps C D E F G A B. */
static const int natural_semitones[7] = { 0, 2, 4, 5, 7, 9, 11 };
/* Position of the natural steps on the line of fifths (C = 0, G = 1, F = −1). */
static const int natural_fifths[7] = { 0, 2, 4, -1, 1, 3, 5 };
static const char step_letters[7] = { 'C', 'D', 'E', 'F', 'G', 'A', 'B' };

static int
mod_floor (int a, int m)
{
  int r = a % m;
  return r < 0 ? r + m : r;
}

static int
div_floor (int a, int m)
{
  return (a - mod_floor (a, m)) / m;
}

/* ---- names -------------------------------------------------------------- */

const char *
mel_transpose_mode_to_string (MelTransposeMode mode)
{
  switch (mode)
    {
    case MEL_TRANSPOSE_NONE: return "none";
    case MEL_TRANSPOSE_NORMALISE: return "normalise";
    case MEL_TRANSPOSE_AUGMENT: return "augment";
    default: return "unknown";
    }
}

gboolean
mel_transpose_mode_from_string (const char *text, MelTransposeMode *mode)
{
  g_return_val_if_fail (mode != NULL, FALSE);
  if (text == NULL)
    return FALSE;
  if (g_ascii_strcasecmp (text, "none") == 0)
    *mode = MEL_TRANSPOSE_NONE;
  else if (g_ascii_strcasecmp (text, "normalise") == 0 || g_ascii_strcasecmp (text, "normalize") == 0)
    *mode = MEL_TRANSPOSE_NORMALISE;
  else if (g_ascii_strcasecmp (text, "augment") == 0)
    *mode = MEL_TRANSPOSE_AUGMENT;
  else
    return FALSE;
  return TRUE;
}

const char *
mel_split_to_string (MelSplit split)
{
  switch (split)
    {
    case MEL_SPLIT_TRAIN: return "train";
    case MEL_SPLIT_VALID: return "valid";
    case MEL_SPLIT_TEST: return "test";
    case MEL_N_SPLITS:
    default: return "unknown";
    }
}

const char *
mel_preprocess_status_to_string (MelPreprocessStatus status)
{
  switch (status)
    {
    case MEL_PREPROCESS_OK: return "accepted";
    case MEL_PREPROCESS_BAD_DURATION: return "duration not accepted";
    case MEL_PREPROCESS_OFF_GRID: return "onset off the sixteenth grid";
    case MEL_PREPROCESS_OUT_OF_RANGE: return "does not fit the pitch range";
    case MEL_PREPROCESS_EMPTY: return "no notes";
    case MEL_N_PREPROCESS_STATUSES:
    default: return "unknown";
    }
}

/* ---- options ------------------------------------------------------------ */

void
mel_preprocess_options_init (MelPreprocessOptions *options)
{
  static const gint64 quarters[][2] = {
    { 1, 4 }, { 1, 2 }, { 3, 4 }, { 1, 1 }, { 3, 2 }, { 2, 1 }, { 3, 1 }, { 4, 1 },
  };

  g_return_if_fail (options != NULL);
  memset (options, 0, sizeof *options);
  for (guint i = 0; i < G_N_ELEMENTS (quarters); i++)
    options->acceptable[i] = mel_rational_new (quarters[i][0], quarters[i][1]);
  options->n_acceptable = G_N_ELEMENTS (quarters);
  options->transpose = MEL_TRANSPOSE_NONE;
  options->min_shift = -5;
  options->max_shift = 6;
  options->lowest_midi = 48;
  options->highest_midi = 84;
  options->valid_fraction = 0.1;
  options->test_fraction = 0.1;
  options->split_seed = 42;
}

gboolean
mel_preprocess_options_validate (const MelPreprocessOptions *options, GError **error)
{
  g_return_val_if_fail (options != NULL, FALSE);

  if (options->n_acceptable == 0 || options->n_acceptable > MEL_PREPROCESS_MAX_DURATIONS)
    {
      g_set_error (error, MEL_DATASET_ERROR, MEL_DATASET_ERROR_INVALID,
                   "the list of acceptable durations must hold 1 to %d values, not %u",
                   MEL_PREPROCESS_MAX_DURATIONS, options->n_acceptable);
      return FALSE;
    }
  for (guint i = 0; i < options->n_acceptable; i++)
    {
      MelRational d = options->acceptable[i];
      if (d.den <= 0 || d.num <= 0 || d.num > 1024 || d.den > 1024)
        {
          g_set_error (error, MEL_DATASET_ERROR, MEL_DATASET_ERROR_INVALID,
                       "acceptable duration %u is not a positive quarter length", i + 1);
          return FALSE;
        }
    }
  if ((guint) options->transpose > MEL_TRANSPOSE_AUGMENT)
    {
      g_set_error (error, MEL_DATASET_ERROR, MEL_DATASET_ERROR_INVALID, "unknown transposition mode %d",
                   (int) options->transpose);
      return FALSE;
    }
  if (options->lowest_midi < 0 || options->highest_midi > 127 || options->lowest_midi > options->highest_midi)
    {
      g_set_error (error, MEL_DATASET_ERROR, MEL_DATASET_ERROR_INVALID,
                   "pitch range %d…%d is not within MIDI 0…127 with lowest ≤ highest", options->lowest_midi,
                   options->highest_midi);
      return FALSE;
    }
  if (options->min_shift < -24 || options->max_shift > 24 || options->min_shift > options->max_shift)
    {
      g_set_error (error, MEL_DATASET_ERROR, MEL_DATASET_ERROR_INVALID,
                   "transposition shifts %d…%d must lie within −24…24 with min ≤ max", options->min_shift,
                   options->max_shift);
      return FALSE;
    }
  if (!isfinite (options->valid_fraction) || !isfinite (options->test_fraction) || options->valid_fraction < 0 ||
      options->test_fraction < 0 || options->valid_fraction + options->test_fraction >= 1.0)
    {
      g_set_error (error, MEL_DATASET_ERROR, MEL_DATASET_ERROR_INVALID,
                   "validation and test fractions (%g, %g) must be ≥ 0 and sum to less than 1",
                   options->valid_fraction, options->test_fraction);
      return FALSE;
    }
  return TRUE;
}

/* Parses "3/2", "1.5", "1" or ".25" into a positive rational with a
 * denominator of at most 1024. */
static gboolean
parse_quarter_length (const char *text, MelRational *value)
{
  const char *slash = strchr (text, '/');
  char *end = NULL;

  if (slash != NULL)
    {
      g_autofree char *num_text = g_strndup (text, slash - text);
      guint64 num, den;
      if (!g_ascii_string_to_unsigned (num_text, 10, 1, 4096, &num, NULL) ||
          !g_ascii_string_to_unsigned (slash + 1, 10, 1, 1024, &den, NULL))
        return FALSE;
      *value = mel_rational_new ((gint64) num, (gint64) den);
      return value->den <= 1024 && value->num <= 1024;
    }

  double d = g_ascii_strtod (text, &end);
  if (end == text || *end != '\0' || !isfinite (d) || d <= 0 || d > 1024)
    return FALSE;
  /* Decimals must be exact in 1/1024 steps: 0.25, 1.5, 0.375 … */
  double scaled = d * 1024.0;
  if (fabs (scaled - nearbyint (scaled)) > 1e-6)
    return FALSE;
  *value = mel_rational_new ((gint64) nearbyint (scaled), 1024);
  return TRUE;
}

gboolean
mel_preprocess_options_set_durations (MelPreprocessOptions *options, const char *text, GError **error)
{
  MelRational values[MEL_PREPROCESS_MAX_DURATIONS];
  guint n = 0;

  g_return_val_if_fail (options != NULL, FALSE);
  g_return_val_if_fail (text != NULL, FALSE);

  g_auto (GStrv) parts = g_strsplit (text, ",", -1);
  for (guint i = 0; parts[i] != NULL; i++)
    {
      g_strstrip (parts[i]);
      if (parts[i][0] == '\0')
        continue;
      if (n == MEL_PREPROCESS_MAX_DURATIONS)
        {
          g_set_error (error, MEL_DATASET_ERROR, MEL_DATASET_ERROR_INVALID,
                       "more than %d acceptable durations", MEL_PREPROCESS_MAX_DURATIONS);
          return FALSE;
        }
      if (!parse_quarter_length (parts[i], &values[n]))
        {
          g_set_error (error, MEL_DATASET_ERROR, MEL_DATASET_ERROR_INVALID,
                       "'%s' is not a positive quarter length such as 1/4, 0.5 or 3/2", parts[i]);
          return FALSE;
        }
      n++;
    }
  if (n == 0)
    {
      g_set_error_literal (error, MEL_DATASET_ERROR, MEL_DATASET_ERROR_INVALID,
                           "the list of acceptable durations is empty");
      return FALSE;
    }
  memcpy (options->acceptable, values, n * sizeof values[0]);
  options->n_acceptable = n;
  return TRUE;
}

char *
mel_preprocess_options_format_durations (const MelPreprocessOptions *options)
{
  g_return_val_if_fail (options != NULL, NULL);

  GString *text = g_string_new (NULL);
  for (guint i = 0; i < options->n_acceptable && i < MEL_PREPROCESS_MAX_DURATIONS; i++)
    {
      g_autofree char *value = mel_rational_to_string (options->acceptable[i]);
      if (i > 0)
        g_string_append_c (text, ',');
      g_string_append (text, value);
    }
  return g_string_free (text, FALSE);
}

gboolean
mel_preprocess_song_is_acceptable (const MelSong *song, const MelPreprocessOptions *options)
{
  g_return_val_if_fail (song != NULL, FALSE);
  g_return_val_if_fail (options != NULL, FALSE);

  guint n = MIN (options->n_acceptable, MEL_PREPROCESS_MAX_DURATIONS);
  const MelEvent *events = (const MelEvent *) (void *) song->events->data;
  for (guint i = 0; i < song->events->len; i++)
    {
      /* Rationals are kept reduced, so equal values have equal fields; this
       * loop runs for every event of the corpus, hence no function calls. */
      MelRational d = events[i].duration;
      guint j = 0;
      while (j < n && (options->acceptable[j].num != d.num || options->acceptable[j].den != d.den))
        j++;
      if (j == n)
        return FALSE;
    }
  return TRUE;
}

/* ---- transposition ------------------------------------------------------ */

/* Line-of-fifths position of a spelled pitch class (C 0, G 1, F −1, F♯ 6). */
static int
spelled_fifths (int step_index, int alter)
{
  return natural_fifths[step_index] + 7 * alter;
}

/* The signature (in fifths) the transposition should be chosen against:
 * the first standard key signature, else the first key's, else C. */
static int
reference_fifths (const MelSong *song)
{
  if (song->key_signatures->len > 0)
    {
      const MelKeySignature *sig = &g_array_index (song->key_signatures, MelKeySignature, 0);
      if (sig->fifths != MEL_KEY_SIGNATURE_NONSTANDARD)
        return sig->fifths;
    }
  if (song->keys->len > 0)
    {
      const MelKey *key = &g_array_index (song->keys, MelKey, 0);
      int step = mel_pitch_step_index (key->tonic_step);
      if (step >= 0)
        return spelled_fifths (step, key->tonic_alter) - (key->mode == MEL_MODE_MINOR ? 3 : 0);
    }
  return 0;
}

/* The number of diatonic steps to move for @semitones: among the spellings
 * of the interval, the one whose new signature has the fewest accidentals
 * (sharps on a tie, so F♯ major rather than G♭ major). */
static int
choose_diatonic_steps (int semitones, int fifths)
{
  int base = div_floor (semitones * 7, 12);
  int best_d = base, best_f = G_MAXINT;

  for (int d = base - 1; d <= base + 2; d++)
    {
      /* An interval of d steps and c semitones spans 7c − 12d fifths. */
      int f = fifths + 7 * semitones - 12 * d;
      if (abs (f) < abs (best_f) || (abs (f) == abs (best_f) && f > best_f))
        {
          best_f = f;
          best_d = d;
        }
    }
  return best_d;
}

/* Moves a pitch class spelling by @d steps and @semitones; the alteration is
 * whatever the new step needs (kept within −6 … +5). */
static void
transpose_spelling (int step_index, int alter, int d, int semitones, int *new_step, int *new_alter)
{
  int pc = natural_semitones[step_index] + alter + semitones;
  int s = mod_floor (step_index + d, 7);
  int a = mod_floor (pc - natural_semitones[s], 12);

  if (a > 5)
    a -= 12;
  *new_step = s;
  *new_alter = a;
}

static MelPitch
transpose_pitch (const MelEvent *ev, int d, int semitones, gboolean prefer_sharps)
{
  int step = mel_pitch_step_index (ev->pitch.step);
  int midi = ev->midi + semitones;

  if (step < 0 || mel_pitch_to_midi (ev->pitch) != ev->midi)
    return mel_pitch_from_midi (midi, prefer_sharps);

  int diatonic = ev->pitch.octave * 7 + step + d;
  int new_step = mod_floor (diatonic, 7);
  int octave = div_floor (diatonic, 7);
  int alter = midi - ((octave + 1) * 12 + natural_semitones[new_step]);
  if (alter < -2 || alter > 2)
    return mel_pitch_from_midi (midi, prefer_sharps);

  MelPitch p = { step_letters[new_step], (gint8) alter, (gint8) octave };
  return p;
}

static void
transpose_key_signature (MelKeySignature *sig, int d, int semitones)
{
  if (sig->fifths != MEL_KEY_SIGNATURE_NONSTANDARD)
    {
      int f = sig->fifths + 7 * semitones - 12 * d;
      if (f >= -7 && f <= 7)
        {
          MelRational onset = sig->onset;
          mel_key_signature_init_fifths (sig, f);
          sig->onset = onset;
          return;
        }
    }

  /* A signature we cannot name: move every step's alteration along. */
  gint8 alters[7] = { 0 };
  for (int i = 0; i < 7; i++)
    {
      int s, a;
      transpose_spelling (i, sig->alters[i], d, semitones, &s, &a);
      alters[s] = (gint8) CLAMP (a, -2, 2);
    }
  memcpy (sig->alters, alters, sizeof alters);
  sig->fifths = MEL_KEY_SIGNATURE_NONSTANDARD;
}

MelSong *
mel_song_transpose (const MelSong *song, int semitones)
{
  g_return_val_if_fail (song != NULL, NULL);
  g_return_val_if_fail (semitones >= -127 && semitones <= 127, NULL);

  MelSong *copy = mel_song_copy (song);
  if (semitones == 0)
    return copy;

  int fifths = reference_fifths (song);
  int d = choose_diatonic_steps (semitones, fifths);
  gboolean prefer_sharps = fifths + 7 * semitones - 12 * d >= 0;

  for (guint i = 0; i < copy->events->len; i++)
    {
      MelEvent *ev = &g_array_index (copy->events, MelEvent, i);
      if (mel_event_is_rest (ev))
        continue;
      ev->pitch = transpose_pitch (ev, d, semitones, prefer_sharps);
      ev->midi = (gint16) (ev->midi + semitones);
    }
  for (guint i = 0; i < copy->key_signatures->len; i++)
    transpose_key_signature (&g_array_index (copy->key_signatures, MelKeySignature, i), d, semitones);
  for (guint i = 0; i < copy->keys->len; i++)
    {
      MelKey *key = &g_array_index (copy->keys, MelKey, i);
      int step = mel_pitch_step_index (key->tonic_step);
      if (step < 0)
        continue;
      int s, a;
      transpose_spelling (step, key->tonic_alter, d, semitones, &s, &a);
      key->tonic_step = step_letters[s];
      key->tonic_alter = (gint8) a;
    }
  return copy;
}

/* ---- key estimation ----------------------------------------------------- */

/* Krumhansl & Kessler (1982) probe-tone profiles, tonic first. */
static const double major_profile[12] = { 6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88 };
static const double minor_profile[12] = { 6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17 };

static double
profile_correlation (const double histogram[12], const double profile[12], int tonic)
{
  double mx = 0, my = 0, sxy = 0, sxx = 0, syy = 0;

  for (int i = 0; i < 12; i++)
    {
      mx += histogram[i];
      my += profile[i];
    }
  mx /= 12;
  my /= 12;
  for (int pc = 0; pc < 12; pc++)
    {
      double x = histogram[pc] - mx;
      double y = profile[mod_floor (pc - tonic, 12)] - my;
      sxy += x * y;
      sxx += x * x;
      syy += y * y;
    }
  if (sxx <= 0 || syy <= 0)
    return 0;
  return sxy / sqrt (sxx * syy);
}

static gboolean
pitch_class_histogram (const MelSong *song, double histogram[12])
{
  gboolean any = FALSE;

  memset (histogram, 0, 12 * sizeof (double));
  for (guint i = 0; i < song->events->len; i++)
    {
      const MelEvent *ev = &g_array_index (song->events, MelEvent, i);
      if (mel_event_is_rest (ev))
        continue;
      histogram[mod_floor (ev->midi, 12)] += mel_rational_to_double (ev->duration);
      any = TRUE;
    }
  return any;
}

/* The usual name of a tonic pitch class in each mode. */
static void
spell_tonic (int pc, MelMode mode, char *step, gint8 *alter)
{
  static const char major_steps[12] = { 'C', 'D', 'D', 'E', 'E', 'F', 'F', 'G', 'A', 'A', 'B', 'B' };
  static const gint8 major_alters[12] = { 0, -1, 0, -1, 0, 0, 1, 0, -1, 0, -1, 0 };
  static const char minor_steps[12] = { 'C', 'C', 'D', 'E', 'E', 'F', 'F', 'G', 'G', 'A', 'B', 'B' };
  static const gint8 minor_alters[12] = { 0, 1, 0, -1, 0, 0, 1, 0, 1, 0, -1, 0 };

  *step = mode == MEL_MODE_MINOR ? minor_steps[pc] : major_steps[pc];
  *alter = mode == MEL_MODE_MINOR ? minor_alters[pc] : major_alters[pc];
}

gboolean
mel_song_estimate_key (const MelSong *song, MelKey *key, double *correlation)
{
  double histogram[12];
  double best = -2;
  int best_tonic = 0;
  MelMode best_mode = MEL_MODE_MAJOR;

  g_return_val_if_fail (song != NULL, FALSE);
  g_return_val_if_fail (key != NULL, FALSE);

  if (!pitch_class_histogram (song, histogram))
    return FALSE;
  for (int tonic = 0; tonic < 12; tonic++)
    {
      double r_major = profile_correlation (histogram, major_profile, tonic);
      double r_minor = profile_correlation (histogram, minor_profile, tonic);
      if (r_major > best)
        {
          best = r_major;
          best_tonic = tonic;
          best_mode = MEL_MODE_MAJOR;
        }
      if (r_minor > best)
        {
          best = r_minor;
          best_tonic = tonic;
          best_mode = MEL_MODE_MINOR;
        }
    }
  memset (key, 0, sizeof *key);
  key->onset = MEL_RATIONAL_ZERO;
  key->mode = best_mode;
  spell_tonic (best_tonic, best_mode, &key->tonic_step, &key->tonic_alter);
  if (correlation != NULL)
    *correlation = best;
  return TRUE;
}

gboolean
mel_song_get_tonal_key (const MelSong *song, MelKey *key, gboolean *estimated)
{
  g_return_val_if_fail (song != NULL, FALSE);
  g_return_val_if_fail (key != NULL, FALSE);

  if (song->keys->len > 0)
    {
      const MelKey *first = &g_array_index (song->keys, MelKey, 0);
      if (first->mode != MEL_MODE_UNKNOWN && mel_pitch_step_index (first->tonic_step) >= 0)
        {
          *key = *first;
          if (estimated != NULL)
            *estimated = FALSE;
          return TRUE;
        }
    }
  if (estimated != NULL)
    *estimated = TRUE;
  return mel_song_estimate_key (song, key, NULL);
}

int
mel_song_normalising_shift (const MelSong *song)
{
  MelKey key;

  g_return_val_if_fail (song != NULL, 0);
  if (!mel_song_get_tonal_key (song, &key, NULL))
    return 0;

  int target = key.mode == MEL_MODE_MINOR ? 9 : 0;
  int shift = mod_floor (target - mel_key_tonic_pitch_class (&key), 12);
  /* The nearer octave: −6 … +5 (a tritone goes down). */
  return shift > 5 ? shift - 12 : shift;
}

/* ---- encoding ----------------------------------------------------------- */

/* Sixteenth steps in @value, or FALSE when it is not on the grid. */
static gboolean
to_steps (MelRational value, gint64 *steps)
{
  if (value.den <= 0 || MEL_STEPS_PER_QUARTER % value.den != 0)
    return FALSE;
  if (value.num > G_MAXINT64 / MEL_STEPS_PER_QUARTER || value.num < -(G_MAXINT64 / MEL_STEPS_PER_QUARTER))
    return FALSE;
  *steps = value.num * (MEL_STEPS_PER_QUARTER / value.den);
  return TRUE;
}

/* "K0001: event 12 (line 40)", for messages. */
static char *
describe_event (const MelSong *song, guint index, const MelEvent *ev)
{
  if (ev->line > 0)
    return g_strdup_printf ("%s: event %u (line %u)", song->id, index + 1, ev->line);
  return g_strdup_printf ("%s: event %u", song->id, index + 1);
}

static void
set_not_encodable (GError **error, const MelSong *song, guint index, const MelEvent *ev, const char *what,
                   MelRational value)
{
  g_autofree char *text = mel_rational_to_string (value);
  g_autofree char *where = describe_event (song, index, ev);

  g_set_error (error, MEL_DATASET_ERROR, MEL_DATASET_ERROR_NOT_ENCODABLE,
               "%s: %s %s quarters is not on the sixteenth grid", where, what, text);
}

/* An opening partial bar: the song says it has a pickup, or the first bar
 * is numbered 0 and is shorter than its meter's bar. */
static gboolean
is_pickup_bar (const MelSong *song, const MelBar *bar)
{
  if (mel_rational_compare (song->pickup, MEL_RATIONAL_ZERO) > 0)
    return TRUE;
  if (bar->number != 0)
    return FALSE;
  const MelMeter *meter = mel_song_get_meter_at (song, bar->onset);
  if (meter == NULL)
    return FALSE;
  MelRational full = mel_meter_bar_length (meter);
  return !mel_rational_is_zero (full) && mel_rational_compare (bar->duration, full) < 0;
}

/* The song time span a symbol series of this many steps may reach; keeps
 * hostile inputs from asking for gigabytes. */
#define MAX_SONG_STEPS (1 << 22)

gboolean
_mel_song_encode_codes (const MelSong *song, GArray *codes, GArray *bar_steps, GError **error)
{
  gint64 cursor = 0;
  const MelEvent *previous = NULL;
  guint start = codes->len;
  gboolean in_rest = FALSE;

  for (guint i = 0; i < song->events->len; i++)
    {
      const MelEvent *ev = &g_array_index (song->events, MelEvent, i);
      gint64 onset, duration;

      if (!to_steps (ev->onset, &onset))
        {
          set_not_encodable (error, song, i, ev, "onset", ev->onset);
          return FALSE;
        }
      if (!to_steps (ev->duration, &duration))
        {
          set_not_encodable (error, song, i, ev, "duration", ev->duration);
          return FALSE;
        }
      if (duration <= 0 || onset < cursor || onset + duration > MAX_SONG_STEPS)
        {
          g_autofree char *where = describe_event (song, i, ev);
          g_set_error (error, MEL_DATASET_ERROR, MEL_DATASET_ERROR_NOT_ENCODABLE, "%s %s", where,
                       duration <= 0 ? "has no duration"
                       : onset < cursor ? "overlaps the previous event"
                                        : "lies too far from the start");
          return FALSE;
        }
      if (!mel_event_is_rest (ev) && (ev->midi < 0 || ev->midi > 127))
        {
          g_autofree char *where = describe_event (song, i, ev);
          g_set_error (error, MEL_DATASET_ERROR, MEL_DATASET_ERROR_NOT_ENCODABLE,
                       "%s has MIDI pitch %d outside 0…127",
                       where, ev->midi);
          return FALSE;
        }

      /* Room for the gap and the event, written in place below. */
      g_array_set_size (codes, start + (guint) (onset + duration));
      gint16 *out = &g_array_index (codes, gint16, start);

      /* A gap between events sounds as a rest. */
      if (onset > cursor)
        {
          out[cursor] = in_rest ? MEL_CODE_HOLD : MEL_CODE_REST;
          for (gint64 s = cursor + 1; s < onset; s++)
            out[s] = MEL_CODE_HOLD;
          previous = NULL;
          in_rest = TRUE;
        }

      /* Ties merge into one note, and consecutive rests into one silence
       * (a rest split at a bar line is still one rest), so every sound has
       * exactly one encoding and decoding then encoding is the identity. */
      gboolean continues_tie = previous != NULL && !mel_event_is_rest (ev) && !mel_event_is_rest (previous) &&
                               previous->midi == ev->midi &&
                               ((previous->tie & MEL_TIE_START) || (ev->tie & MEL_TIE_STOP));
      gboolean continues_rest = mel_event_is_rest (ev) && in_rest;
      gint16 code = continues_tie || continues_rest ? MEL_CODE_HOLD
                    : mel_event_is_rest (ev)        ? MEL_CODE_REST
                                                    : (gint16) ev->midi;
      in_rest = mel_event_is_rest (ev);
      out[onset] = code;
      for (gint64 s = onset + 1; s < onset + duration; s++)
        out[s] = MEL_CODE_HOLD;
      cursor = onset + duration;
      previous = ev;
    }

  if (bar_steps != NULL)
    for (guint b = 0; b < song->bars->len; b++)
      {
        const MelBar *bar = &g_array_index (song->bars, MelBar, b);
        gint64 step;
        if (b == 0 && is_pickup_bar (song, bar))
          continue;
        if (!to_steps (bar->onset, &step) || step < 0 || step >= cursor || bar->duration.num <= 0)
          continue;
        guint32 s = (guint32) step;
        /* Bars must ascend; a malformed song must not give repeated starts. */
        if (bar_steps->len > 0 && g_array_index (bar_steps, guint32, bar_steps->len - 1) >= s)
          continue;
        g_array_append_val (bar_steps, s);
      }
  g_assert (codes->len - start == (guint) cursor);
  return TRUE;
}

char *
_mel_code_to_symbol (gint16 code)
{
  switch (code)
    {
    case MEL_CODE_HOLD: return g_strdup (MEL_SYMBOL_HOLD);
    case MEL_CODE_REST: return g_strdup (MEL_SYMBOL_REST);
    case MEL_CODE_DELIMITER: return g_strdup (MEL_SYMBOL_DELIMITER);
    default: return g_strdup_printf ("%d", code);
    }
}

gboolean
_mel_symbol_to_code (const char *symbol, gint16 *code)
{
  if (symbol == NULL || symbol[0] == '\0')
    return FALSE;
  if (strcmp (symbol, MEL_SYMBOL_HOLD) == 0)
    *code = MEL_CODE_HOLD;
  else if (strcmp (symbol, MEL_SYMBOL_REST) == 0)
    *code = MEL_CODE_REST;
  else if (strcmp (symbol, MEL_SYMBOL_DELIMITER) == 0)
    *code = MEL_CODE_DELIMITER;
  else
    {
      /* Plain decimal 0…127: no sign, no leading zeros, no spaces. */
      size_t n = strlen (symbol);
      if (n > 3 || (n > 1 && symbol[0] == '0'))
        return FALSE;
      int value = 0;
      for (size_t i = 0; i < n; i++)
        {
          if (!g_ascii_isdigit (symbol[i]))
            return FALSE;
          value = value * 10 + (symbol[i] - '0');
        }
      if (value > 127)
        return FALSE;
      *code = (gint16) value;
    }
  return TRUE;
}

char **
mel_song_encode (const MelSong *song, GError **error)
{
  g_return_val_if_fail (song != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  g_autoptr (GArray) codes = g_array_new (FALSE, FALSE, sizeof (gint16));
  if (!_mel_song_encode_codes (song, codes, NULL, error))
    return NULL;

  char **symbols = g_new (char *, codes->len + 1);
  for (guint i = 0; i < codes->len; i++)
    symbols[i] = _mel_code_to_symbol (g_array_index (codes, gint16, i));
  symbols[codes->len] = NULL;
  return symbols;
}

char **
mel_symbols_parse (const char *text, GError **error)
{
  g_return_val_if_fail (text != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  g_autoptr (GPtrArray) symbols = g_ptr_array_new_with_free_func (g_free);
  const char *p = text;
  guint position = 0;

  for (;;)
    {
      while (*p != '\0' && g_ascii_isspace (*p))
        p++;
      if (*p == '\0')
        break;
      const char *start = p;
      while (*p != '\0' && !g_ascii_isspace (*p))
        p++;
      g_autofree char *token = g_strndup (start, p - start);
      gint16 code;
      position++;
      if (!_mel_symbol_to_code (token, &code))
        {
          g_autofree char *shown = g_utf8_make_valid (token, -1);
          g_set_error (error, MEL_DATASET_ERROR, MEL_DATASET_ERROR_BAD_SYMBOL,
                       "symbol %u '%s' is not a MIDI number 0…127, '_', 'r' or '/'", position, shown);
          return NULL;
        }
      g_ptr_array_add (symbols, g_steal_pointer (&token));
    }
  g_ptr_array_add (symbols, NULL);
  return (char **) g_ptr_array_free (g_steal_pointer (&symbols), FALSE);
}

/* ---- decoding ----------------------------------------------------------- */

typedef struct
{
  gint16 code;  /* MIDI number or MEL_CODE_REST */
  guint start;  /* in steps */
  guint length; /* in steps */
} Run;

/* Spells @midi in the key of @sig: a scale note as the signature says;
 * others with sharps in sharp keys and flats in flat keys (in C: C♯ E♭ F♯
 * G♯ B♭). */
static MelPitch
spell_in_key (int midi, const MelKeySignature *sig)
{
  int pc = mod_floor (midi, 12);
  int balance = 0;

  for (int i = 0; i < 7; i++)
    {
      int alter = sig->alters[i];
      balance += alter;
      if (mod_floor (natural_semitones[i] + alter, 12) != pc)
        continue;
      /* octave such that (octave + 1) * 12 + natural + alter == midi */
      int octave = (midi - natural_semitones[i] - alter) / 12 - 1;
      MelPitch p = { step_letters[i], (gint8) alter, (gint8) octave };
      if (mel_pitch_to_midi (p) == midi)
        return p;
    }
  if (balance == 0)
    {
      /* C major: the customary chromatic spellings. */
      gboolean sharp = pc == 1 || pc == 6 || pc == 8;
      return mel_pitch_from_midi (midi, sharp);
    }
  return mel_pitch_from_midi (midi, balance > 0);
}

/* The major or relative minor key of a standard signature that fits the
 * decoded notes better. */
static gboolean
key_for_signature (const MelSong *song, const MelKeySignature *sig, MelKey *key)
{
  double histogram[12];

  if (sig->fifths == MEL_KEY_SIGNATURE_NONSTANDARD || sig->fifths < -7 || sig->fifths > 7)
    return FALSE;

  int major_pc = mod_floor (7 * sig->fifths, 12);
  int minor_pc = mod_floor (major_pc + 9, 12);
  gboolean minor = FALSE;
  if (pitch_class_histogram (song, histogram))
    minor = profile_correlation (histogram, minor_profile, minor_pc) >
            profile_correlation (histogram, major_profile, major_pc);

  /* The tonic is the scale degree of the signature: step from fifths. */
  int tonic_fifths = sig->fifths + (minor ? 3 : 0);
  int step = mod_floor (tonic_fifths * 4, 7); /* each fifth is four steps up from C */
  int alter = div_floor (tonic_fifths + 1, 7);
  memset (key, 0, sizeof *key);
  key->onset = MEL_RATIONAL_ZERO;
  key->tonic_step = step_letters[step];
  key->tonic_alter = (gint8) alter;
  key->mode = minor ? MEL_MODE_MINOR : MEL_MODE_MAJOR;
  return TRUE;
}

MelSong *
mel_song_decode_with_pickup (const char *const *symbols, guint n_symbols, const char *id, const MelMeter *meter,
                             const MelKeySignature *key_signature, MelRational pickup, GError **error)
{
  MelMeter common_time = { MEL_RATIONAL_ZERO, 4, 4, FALSE };
  MelKeySignature c_major;

  g_return_val_if_fail (symbols != NULL || n_symbols == 0, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  mel_key_signature_init_fifths (&c_major, 0);
  c_major.onset = MEL_RATIONAL_ZERO;
  MelMeter used_meter = meter != NULL ? *meter : common_time;
  MelRational bar_length = mel_meter_bar_length (&used_meter);
  if (mel_rational_compare (bar_length, MEL_RATIONAL_ZERO) <= 0)
    {
      used_meter = common_time;
      bar_length = mel_meter_bar_length (&used_meter);
    }
  used_meter.onset = MEL_RATIONAL_ZERO;
  MelKeySignature sig = key_signature != NULL ? *key_signature : c_major;
  sig.onset = MEL_RATIONAL_ZERO;
  if (pickup.den <= 0 || mel_rational_compare (pickup, MEL_RATIONAL_ZERO) < 0 ||
      mel_rational_compare (pickup, bar_length) >= 0)
    pickup = MEL_RATIONAL_ZERO;

  /* Symbols → runs of one note or rest each. */
  g_autoptr (GArray) runs = g_array_new (FALSE, FALSE, sizeof (Run));
  guint step = 0;
  gboolean started = FALSE;
  for (guint i = 0; i < n_symbols; i++)
    {
      gint16 code;
      if (!_mel_symbol_to_code (symbols[i], &code))
        {
          g_autofree char *shown = symbols[i] != NULL ? g_utf8_make_valid (symbols[i], -1) : g_strdup ("(null)");
          g_set_error (error, MEL_DATASET_ERROR, MEL_DATASET_ERROR_BAD_SYMBOL,
                       "symbol %u '%s' is not a MIDI number 0…127, '_', 'r' or '/'", i + 1, shown);
          return NULL;
        }
      if (code == MEL_CODE_DELIMITER)
        {
          if (started)
            break;
          continue;
        }
      started = TRUE;
      if (code == MEL_CODE_HOLD && runs->len > 0)
        g_array_index (runs, Run, runs->len - 1).length++;
      else
        {
          Run run = { code == MEL_CODE_HOLD ? MEL_CODE_REST : code, step, 1 };
          g_array_append_val (runs, run);
        }
      step++;
    }

  g_autoptr (MelSong) song = mel_song_new (id != NULL ? id : "decoded");
  mel_song_add_meter (song, &used_meter);
  mel_song_add_key_signature (song, &sig);
  song->pickup = pickup;
  if (step == 0)
    return g_steal_pointer (&song);

  /* Bars from the meter: an optional pickup, then full bars. */
  MelRational end = mel_rational_new (step, MEL_STEPS_PER_QUARTER);
  MelRational onset = MEL_RATIONAL_ZERO;
  gint32 number = mel_rational_is_zero (pickup) ? 1 : 0;
  while (mel_rational_compare (onset, end) < 0)
    {
      MelRational length = number == 0 ? pickup : bar_length;
      MelRational bar_end = mel_rational_add (onset, length);
      if (mel_rational_compare (bar_end, end) > 0)
        bar_end = end;
      MelBar bar = { onset, mel_rational_sub (bar_end, onset), number, 0 };
      mel_song_add_bar (song, &bar);
      onset = bar_end;
      number++;
    }

  /* Runs → events, split at bar lines. */
  guint bar_index = 0;
  for (guint r = 0; r < runs->len; r++)
    {
      const Run *run = &g_array_index (runs, Run, r);
      MelRational t = mel_rational_new (run->start, MEL_STEPS_PER_QUARTER);
      MelRational run_end = mel_rational_new (run->start + run->length, MEL_STEPS_PER_QUARTER);
      gboolean first = TRUE;
      while (mel_rational_compare (t, run_end) < 0)
        {
          const MelBar *bar = &g_array_index (song->bars, MelBar, bar_index);
          MelRational bar_end = mel_rational_add (bar->onset, bar->duration);
          while (mel_rational_compare (t, bar_end) >= 0 && bar_index + 1 < song->bars->len)
            {
              bar_index++;
              bar = &g_array_index (song->bars, MelBar, bar_index);
              bar_end = mel_rational_add (bar->onset, bar->duration);
            }
          MelRational piece_end = mel_rational_compare (run_end, bar_end) < 0 ? run_end : bar_end;
          /* Within the bar, one event per notated value (5 sixteenths are
           * a quarter tied to a sixteenth), as the writers notate it. */
          g_autoptr (GArray) values = mel_duration_split_notatable (mel_rational_sub (piece_end, t));
          for (guint v = 0; v < values->len; v++)
            {
              MelRational value_end = mel_rational_add (t, g_array_index (values, MelRational, v));
              MelEvent ev;
              memset (&ev, 0, sizeof ev);
              ev.onset = t;
              ev.duration = g_array_index (values, MelRational, v);
              ev.bar = bar_index;
              if (run->code == MEL_CODE_REST)
                ev.midi = -1;
              else
                {
                  ev.midi = run->code;
                  ev.pitch = spell_in_key (run->code, &sig);
                  if (!first)
                    ev.tie |= MEL_TIE_STOP;
                  if (mel_rational_compare (value_end, run_end) < 0)
                    ev.tie |= MEL_TIE_START;
                }
              mel_song_add_event (song, &ev);
              t = value_end;
              first = FALSE;
            }
        }
    }

  MelKey key;
  if (key_for_signature (song, &sig, &key))
    mel_song_add_key (song, &key);
  return g_steal_pointer (&song);
}

MelSong *
mel_song_decode (const char *const *symbols, guint n_symbols, const char *id, const MelMeter *meter,
                 const MelKeySignature *key_signature, GError **error)
{
  return mel_song_decode_with_pickup (symbols, n_symbols, id, meter, key_signature, MEL_RATIONAL_ZERO, error);
}
