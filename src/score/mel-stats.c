/* mel-stats.c — histograms of melody sets and their distances.
 *
 * SPDX-License-Identifier: MIT
 */
#include "mel-stats.h"

#include <math.h>
#include <string.h>

#include "mel-dataset.h" /* mel_song_get_tonal_key */

#define RANGE_BINS 26
#define INTERVAL_BINS 25
#define DENSITY_BINS 17
#define SHARE_BINS 10

static const char *const kind_names[MEL_N_STATS] = {
  "pitch-class", "pitch-range", "interval", "duration", "note-density", "out-of-scale", "tonic-ending",
};

static const char *const kind_titles[MEL_N_STATS] = {
  "Pitch classes", "Pitch range per song (semitones)", "Melodic intervals (semitones)",
  "Note durations (sixteenths)", "Notes per bar", "Share of notes outside the scale", "Ends on the tonic",
};

static const guint kind_bins[MEL_N_STATS] = { 12, RANGE_BINS, INTERVAL_BINS, 9, DENSITY_BINS, SHARE_BINS, 2 };

/* Duration bins in sixteenths; the last bin is "other". */
static const int duration_sixteenths[] = { 1, 2, 3, 4, 6, 8, 12, 16 };

const char *
mel_stat_kind_to_string (MelStatKind kind)
{
  g_return_val_if_fail (kind < MEL_N_STATS, NULL);
  return kind_names[kind];
}

const char *
mel_stat_kind_title (MelStatKind kind)
{
  g_return_val_if_fail (kind < MEL_N_STATS, NULL);
  return kind_titles[kind];
}

guint
mel_stat_n_bins (MelStatKind kind)
{
  g_return_val_if_fail (kind < MEL_N_STATS, 0);
  return kind_bins[kind];
}

char *
mel_stat_bin_label (MelStatKind kind, guint bin)
{
  static const char *const pc[12] = { "C", "C♯", "D", "E♭", "E", "F", "F♯", "G", "A♭", "A", "B♭", "B" };

  g_return_val_if_fail (kind < MEL_N_STATS && bin < kind_bins[kind], NULL);
  switch (kind)
    {
    case MEL_STAT_PITCH_CLASS:
      return g_strdup (pc[bin]);
    case MEL_STAT_PITCH_RANGE:
      return bin + 1 == RANGE_BINS ? g_strdup_printf ("≥%u", bin) : g_strdup_printf ("%u", bin);
    case MEL_STAT_INTERVAL:
      return g_strdup_printf ("%s%d", bin == 0 ? "≤" : bin + 1 == INTERVAL_BINS ? "≥" : "", (int) bin - 12);
    case MEL_STAT_DURATION:
      return bin < G_N_ELEMENTS (duration_sixteenths) ? g_strdup_printf ("%d", duration_sixteenths[bin])
                                                      : g_strdup ("other");
    case MEL_STAT_NOTE_DENSITY:
      return bin + 1 == DENSITY_BINS ? g_strdup_printf ("≥%u", bin) : g_strdup_printf ("%u", bin);
    case MEL_STAT_OUT_OF_SCALE:
      return g_strdup_printf ("%u–%u%%", bin * 10, bin * 10 + 10);
    case MEL_STAT_TONIC_ENDING:
      return g_strdup (bin == 0 ? "tonic" : "other");
    case MEL_N_STATS:
    default:
      return NULL;
    }
}

void
mel_melody_stats_init (MelMelodyStats *stats)
{
  g_return_if_fail (stats != NULL);
  memset (stats, 0, sizeof *stats);
}

gboolean
mel_key_contains_pitch_class (const MelKey *key, int pitch_class)
{
  /* Bit i: pitch class tonic + i is in the scale. */
  const guint major = (1u << 0) | (1u << 2) | (1u << 4) | (1u << 5) | (1u << 7) | (1u << 9) | (1u << 11);
  const guint minor = (1u << 0) | (1u << 2) | (1u << 3) | (1u << 5) | (1u << 7) | (1u << 8) | (1u << 10)
                      | (1u << 11);
  int degree;

  g_return_val_if_fail (key != NULL, FALSE);
  degree = ((pitch_class - mel_key_tonic_pitch_class (key)) % 12 + 12) % 12;
  return ((key->mode == MEL_MODE_MINOR ? minor : major) >> degree) & 1;
}

static guint
duration_bin (MelRational duration)
{
  MelRational sixteenths = mel_rational_mul (duration, mel_rational_new (MEL_STEPS_PER_QUARTER, 1));

  if (sixteenths.den == 1)
    for (guint i = 0; i < G_N_ELEMENTS (duration_sixteenths); i++)
      if (sixteenths.num == duration_sixteenths[i])
        return i;
  return G_N_ELEMENTS (duration_sixteenths);
}

void
mel_melody_stats_add_song (MelMelodyStats *stats, const MelSong *song)
{
  double (*c)[MEL_STAT_MAX_BINS];
  g_autofree guint *bar_notes = NULL;
  int lowest = 0, highest = 0, previous = -1, last = -1;
  guint n_notes = 0, n_out = 0, n_bars;
  gboolean have_key;
  MelKey key;

  g_return_if_fail (stats != NULL && song != NULL);

  if (!mel_song_get_range (song, &lowest, &highest))
    return;
  c = stats->counts;
  have_key = mel_song_get_tonal_key (song, &key, NULL);
  n_bars = song->bars->len;
  bar_notes = g_new0 (guint, MAX (n_bars, 1));

  for (guint i = 0; i < song->events->len; i++)
    {
      const MelEvent *ev = &g_array_index (song->events, MelEvent, i);
      MelRational duration = ev->duration;

      if (mel_event_is_rest (ev) || (ev->tie & MEL_TIE_STOP))
        continue;
      /* A tied chain is one note. */
      for (guint j = i; j + 1 < song->events->len; j++)
        {
          const MelEvent *cur = &g_array_index (song->events, MelEvent, j);
          const MelEvent *next = &g_array_index (song->events, MelEvent, j + 1);

          if (!(cur->tie & MEL_TIE_START) || !(next->tie & MEL_TIE_STOP) || next->midi != ev->midi)
            break;
          duration = mel_rational_add (duration, next->duration);
        }
      n_notes++;
      c[MEL_STAT_PITCH_CLASS][ev->midi % 12] += 1;
      c[MEL_STAT_DURATION][duration_bin (duration)] += 1;
      if (previous >= 0)
        c[MEL_STAT_INTERVAL][CLAMP (ev->midi - previous, -12, 12) + 12] += 1;
      if (have_key && !mel_key_contains_pitch_class (&key, ev->midi % 12))
        n_out++;
      if (ev->bar < n_bars)
        bar_notes[ev->bar]++;
      previous = last = ev->midi;
    }

  for (guint b = 0; b < n_bars; b++)
    {
      const MelBar *bar = &g_array_index (song->bars, MelBar, b);

      if (b == 0 && bar->number == 0 && !mel_rational_is_zero (song->pickup))
        continue;
      c[MEL_STAT_NOTE_DENSITY][MIN (bar_notes[b], DENSITY_BINS - 1)] += 1;
    }
  c[MEL_STAT_PITCH_RANGE][MIN (highest - lowest, RANGE_BINS - 1)] += 1;
  c[MEL_STAT_OUT_OF_SCALE][MIN (n_out * SHARE_BINS / n_notes, SHARE_BINS - 1)] += 1;
  c[MEL_STAT_TONIC_ENDING][have_key && last % 12 == mel_key_tonic_pitch_class (&key) ? 0 : 1] += 1;
  stats->n_songs++;
  stats->n_notes += n_notes;
  stats->n_out_of_scale += n_out;
  stats->n_tonic_endings += have_key && last % 12 == mel_key_tonic_pitch_class (&key);
  stats->range_sum += highest - lowest;
}

void
mel_melody_stats_add_songs (MelMelodyStats *stats, GPtrArray *songs)
{
  g_return_if_fail (stats != NULL && songs != NULL);
  for (guint i = 0; i < songs->len; i++)
    mel_melody_stats_add_song (stats, songs->pdata[i]);
}

gboolean
mel_melody_stats_get_distribution (const MelMelodyStats *stats, MelStatKind kind, double smoothing, double *out)
{
  guint n;
  double total = 0.0;

  g_return_val_if_fail (stats != NULL && kind < MEL_N_STATS && out != NULL, FALSE);
  g_return_val_if_fail (smoothing >= 0.0, FALSE);

  n = kind_bins[kind];
  for (guint i = 0; i < n; i++)
    total += stats->counts[kind][i] + smoothing;
  for (guint i = 0; i < n; i++)
    out[i] = total > 0.0 ? (stats->counts[kind][i] + smoothing) / total : 0.0;
  return total > 0.0;
}

static double
ratio (double a, double b)
{
  return b > 0 ? a / b : NAN;
}

double
mel_melody_stats_out_of_scale_share (const MelMelodyStats *stats)
{
  g_return_val_if_fail (stats != NULL, NAN);
  return ratio ((double) stats->n_out_of_scale, (double) stats->n_notes);
}

double
mel_melody_stats_tonic_ending_share (const MelMelodyStats *stats)
{
  g_return_val_if_fail (stats != NULL, NAN);
  return ratio (stats->n_tonic_endings, stats->n_songs);
}

double
mel_melody_stats_mean_range (const MelMelodyStats *stats)
{
  g_return_val_if_fail (stats != NULL, NAN);
  return ratio (stats->range_sum, stats->n_songs);
}

double
mel_melody_stats_mean_density (const MelMelodyStats *stats)
{
  double bars = 0, notes = 0;

  g_return_val_if_fail (stats != NULL, NAN);
  for (guint i = 0; i < DENSITY_BINS; i++)
    {
      bars += stats->counts[MEL_STAT_NOTE_DENSITY][i];
      notes += i * stats->counts[MEL_STAT_NOTE_DENSITY][i];
    }
  return ratio (notes, bars);
}

MelStatDistance
mel_melody_stats_distance (const MelMelodyStats *reference, const MelMelodyStats *other, MelStatKind kind,
                           double smoothing)
{
  MelStatDistance d = { NAN, NAN };
  double p[MEL_STAT_MAX_BINS], q[MEL_STAT_MAX_BINS], ps[MEL_STAT_MAX_BINS], qs[MEL_STAT_MAX_BINS];
  guint n;

  g_return_val_if_fail (reference != NULL && other != NULL && kind < MEL_N_STATS, d);
  g_return_val_if_fail (smoothing >= 0.0, d);

  if (!mel_melody_stats_get_distribution (reference, kind, 0.0, p)
      || !mel_melody_stats_get_distribution (other, kind, 0.0, q))
    return d;
  mel_melody_stats_get_distribution (reference, kind, smoothing, ps);
  mel_melody_stats_get_distribution (other, kind, smoothing, qs);
  n = kind_bins[kind];
  d.kl = 0.0;
  d.overlap = 0.0;
  for (guint i = 0; i < n; i++)
    {
      if (ps[i] > 0.0)
        d.kl += ps[i] * log2 (ps[i] / qs[i]);
      d.overlap += MIN (p[i], q[i]);
    }
  /* With smoothing 0, a bin the reference has and the other lacks. */
  if (isnan (d.kl))
    d.kl = INFINITY;
  return d;
}
