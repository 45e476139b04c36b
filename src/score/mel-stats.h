/* mel-stats.h — statistics of sets of melodies, to compare generated
 * melodies with the corpus (after Yang & Lerch, "On the evaluation of
 * generative models in music", Neural Computing and Applications, 2018).
 *
 * Each statistic is a histogram pooled over a set of songs:
 *   pitch-class   notes per pitch class (C = bin 0), absolute;
 *   pitch-range   songs per range (highest − lowest MIDI), 0 … 24, ≥ 25;
 *   interval      melodic intervals between successive notes (rests are
 *                 skipped), −12 … +12 semitones, wider ones in the end bins;
 *   duration      notes per duration in sixteenths (tied notes merged):
 *                 1, 2, 3, 4, 6, 8, 12, 16 and "other";
 *   note-density  bars per number of note onsets, 0 … 15, ≥ 16 (every bar
 *                 but an opening pickup);
 *   out-of-scale  songs per share of notes outside the key's scale, in
 *                 tenths (major: the major scale; minor: natural minor plus
 *                 the raised seventh); the key is the song's own *X: or
 *                 the Krumhansl–Schmuckler estimate (mel_song_get_tonal_key);
 *   tonic-ending  songs whose last note is / is not the key's tonic.
 *
 * Two sets are compared per statistic by the Kullback–Leibler divergence
 * KL(reference ‖ other) of the histograms with additive smoothing (a
 * pseudo-count per bin, so empty bins do not make it infinite) and by the
 * overlapping area Σ min(p, q) of the unsmoothed distributions (1 =
 * identical, 0 = disjoint).  The corpus's own train-vs-test distance is the
 * yardstick: a generator is as close to the corpus as another sample of it
 * when its distance is about that.
 *
 * Plain values, no global state; any thread.
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include <glib.h>

#include "mel-song.h"

G_BEGIN_DECLS

typedef enum
{
  MEL_STAT_PITCH_CLASS,
  MEL_STAT_PITCH_RANGE,
  MEL_STAT_INTERVAL,
  MEL_STAT_DURATION,
  MEL_STAT_NOTE_DENSITY,
  MEL_STAT_OUT_OF_SCALE,
  MEL_STAT_TONIC_ENDING,
  MEL_N_STATS
} MelStatKind;

#define MEL_STAT_MAX_BINS 32

/* "pitch-class", "pitch-range", … (static). */
const char *mel_stat_kind_to_string (MelStatKind kind);
/* English title for reports ("Pitch classes", …; static). */
const char *mel_stat_kind_title (MelStatKind kind);
guint mel_stat_n_bins (MelStatKind kind);
/* Label of @bin ("C", "-12", "16th", …).  Caller frees. */
char *mel_stat_bin_label (MelStatKind kind, guint bin);

/* Histograms of a set of songs (a plain value; copy it freely). */
typedef struct
{
  double counts[MEL_N_STATS][MEL_STAT_MAX_BINS];
  guint n_songs;         /* songs with at least one note */
  guint64 n_notes;
  guint64 n_out_of_scale; /* notes outside the key's scale */
  guint n_tonic_endings;
  double range_sum;      /* Σ pitch range over the songs */
} MelMelodyStats;

void mel_melody_stats_init (MelMelodyStats *stats);
/* Adds @song (songs without notes are ignored). */
void mel_melody_stats_add_song (MelMelodyStats *stats, const MelSong *song);
/* Adds every MelSong* of @songs. */
void mel_melody_stats_add_songs (MelMelodyStats *stats, GPtrArray *songs);

/* The distribution of @kind into @out (mel_stat_n_bins doubles), with
 * @smoothing added to every bin count before normalising (0 for none).
 * Returns FALSE (and fills zeros) when the histogram is empty and
 * @smoothing is 0. */
gboolean mel_melody_stats_get_distribution (const MelMelodyStats *stats, MelStatKind kind, double smoothing,
                                            double *out);

/* Scalars: share of notes outside the scale, share of songs ending on the
 * tonic, mean pitch range (semitones), mean notes per bar.  NaN when empty. */
double mel_melody_stats_out_of_scale_share (const MelMelodyStats *stats);
double mel_melody_stats_tonic_ending_share (const MelMelodyStats *stats);
double mel_melody_stats_mean_range (const MelMelodyStats *stats);
double mel_melody_stats_mean_density (const MelMelodyStats *stats);

#define MEL_STATS_DEFAULT_SMOOTHING 0.5

typedef struct
{
  double kl;      /* KL(reference ‖ other) in bits, smoothed */
  double overlap; /* Σ min(p, q), unsmoothed; 0 … 1 */
} MelStatDistance;

/* Distance of @other from @reference for @kind; NaN fields when either
 * histogram is empty. */
MelStatDistance mel_melody_stats_distance (const MelMelodyStats *reference, const MelMelodyStats *other,
                                           MelStatKind kind, double smoothing);

/* Whether pitch class @pitch_class (0…11) belongs to the scale of @key
 * (see above; an unknown mode counts as major). */
gboolean mel_key_contains_pitch_class (const MelKey *key, int pitch_class);

G_END_DECLS
