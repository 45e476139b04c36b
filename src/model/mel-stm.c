/* mel-stm.c — the short-term model and its combination with the LTM.
 *
 * The song is short (tens to a few hundred notes), so the STM keeps no
 * context tables: each prediction scans the song so far once, measuring
 * for every earlier note how many of the notes before it match the end
 * of the song (the longest context it shares), and counts the note under
 * every order up to that length.  A prediction costs O(notes × match
 * length) and is computed once per new note.  The interval viewpoint is
 * the same model over the song's intervals.
 *
 * SPDX-License-Identifier: MIT
 */
#include "mel-stm.h"

#include <math.h>
#include <string.h>

/* Entropies are clamped to this share of the maximum so that a certain
 * model gets a large but finite weight. */
#define MIN_RELATIVE_ENTROPY 1e-6

/* Intervals of the interval viewpoint are clamped to ±this many
 * semitones (two octaves: larger leaps are rare in folk songs). */
#define MAX_INTERVAL 24
#define N_INTERVALS (2 * MAX_INTERVAL + 1)

/* One PPM model over a sequence of small integers 0…n−1 (pitch indices,
 * or intervals shifted by MAX_INTERVAL). */
typedef struct
{
  guint n;               /* alphabet size */
  GArray *seq;           /* guint symbols of the current song */
  GArray *counts;        /* double, (longest shared context + 1) × n */
  guint max_shared;      /* longest context with counts */
  double *count;         /* n: scratch */
} Ppm;

struct _MelStm
{
  MelStmConfig config;
  guint vocab_size;
  gint32 delimiter_id;
  gint32 *pitch_index;   /* vocab id → 0…n_pitches−1, or −1 */
  guint *pitch_ids;      /* n_pitches vocab ids */
  gint16 *midi;          /* n_pitches MIDI numbers */
  guint n_pitches;
  Ppm pitches;           /* the song's pitch indices */
  Ppm intervals;         /* the song's intervals + MAX_INTERVAL */
  gint last_midi;        /* of the song's last note; −1 before the first */
  double *prediction;    /* n_pitches */
  double *from_intervals; /* n_pitches */
  gboolean valid;        /* prediction is that of the current song */
  double *mixing;        /* 3 × n_pitches: LTM, STM and combined pitch distributions */
};

static void
ppm_init (Ppm *ppm, guint n)
{
  ppm->n = n;
  ppm->seq = g_array_new (FALSE, FALSE, sizeof (guint));
  ppm->counts = g_array_new (FALSE, TRUE, sizeof (double));
  ppm->max_shared = 0;
  ppm->count = g_new (double, MAX (n, 1));
}

static void
ppm_clear (Ppm *ppm)
{
  g_clear_pointer (&ppm->seq, g_array_unref);
  g_clear_pointer (&ppm->counts, g_array_unref);
  g_clear_pointer (&ppm->count, g_free);
}

void
mel_stm_config_init (MelStmConfig *config)
{
  g_return_if_fail (config != NULL);
  /* Chosen on the `fink` sub-collection (a GRU 2×128 trained on its
   * training split, scored on its test split), never on `kinder`, whose
   * cross-validation is the benchmark; see bench/results-compare.md. */
  config->order = 8;
  config->escape = MEL_STM_ESCAPE_C;
  config->combination = MEL_STM_COMBINE_ARITHMETIC;
  config->bias = 1.0;
  config->weight = 0.2;
  config->interval_weight = 0.4;
}

gboolean
mel_stm_escape_from_string (const char *s, MelStmEscape *out)
{
  g_return_val_if_fail (out != NULL, FALSE);
  if (g_strcmp0 (s, "c") == 0 || g_strcmp0 (s, "C") == 0)
    *out = MEL_STM_ESCAPE_C;
  else if (g_strcmp0 (s, "ax") == 0 || g_strcmp0 (s, "AX") == 0)
    *out = MEL_STM_ESCAPE_AX;
  else
    return FALSE;
  return TRUE;
}

const char *
mel_stm_escape_to_string (MelStmEscape escape)
{
  return escape == MEL_STM_ESCAPE_C ? "c" : "ax";
}

gboolean
mel_stm_combination_from_string (const char *s, MelStmCombination *out)
{
  g_return_val_if_fail (out != NULL, FALSE);
  if (g_strcmp0 (s, "geometric") == 0)
    *out = MEL_STM_COMBINE_GEOMETRIC;
  else if (g_strcmp0 (s, "arithmetic") == 0)
    *out = MEL_STM_COMBINE_ARITHMETIC;
  else if (g_strcmp0 (s, "backoff") == 0)
    *out = MEL_STM_COMBINE_BACKOFF;
  else
    return FALSE;
  return TRUE;
}

const char *
mel_stm_combination_to_string (MelStmCombination combination)
{
  switch (combination)
    {
    case MEL_STM_COMBINE_ARITHMETIC:
      return "arithmetic";
    case MEL_STM_COMBINE_BACKOFF:
      return "backoff";
    case MEL_STM_COMBINE_GEOMETRIC:
    default:
      return "geometric";
    }
}

MelStm *
mel_stm_new (const MelVocab *vocab, const MelStmConfig *config)
{
  g_autoptr(MelStm) stm = NULL;
  MelStmConfig defaults;

  g_return_val_if_fail (vocab != NULL, NULL);

  if (config == NULL)
    {
      mel_stm_config_init (&defaults);
      config = &defaults;
    }
  if (!(isfinite (config->bias) && config->bias >= 0) || !(config->weight >= 0 && config->weight <= 1)
      || !(config->interval_weight >= 0 && config->interval_weight <= 1)
      || (config->escape != MEL_STM_ESCAPE_C && config->escape != MEL_STM_ESCAPE_AX)
      || (config->combination != MEL_STM_COMBINE_GEOMETRIC && config->combination != MEL_STM_COMBINE_ARITHMETIC
          && config->combination != MEL_STM_COMBINE_BACKOFF))
    return NULL;

  stm = g_new0 (MelStm, 1);
  stm->config = *config;
  stm->vocab_size = vocab->size;
  stm->delimiter_id = vocab->delimiter_id;
  stm->pitch_index = g_new (gint32, MAX (vocab->size, 1));
  stm->pitch_ids = g_new (guint, MAX (vocab->size, 1));
  stm->midi = g_new (gint16, MAX (vocab->size, 1));
  for (guint i = 0; i < vocab->size; i++)
    {
      stm->pitch_index[i] = -1;
      if (vocab->kinds[i] == MEL_SYMBOL_PITCH)
        {
          stm->pitch_index[i] = (gint32) stm->n_pitches;
          stm->midi[stm->n_pitches] = vocab->midi[i];
          stm->pitch_ids[stm->n_pitches++] = i;
        }
    }
  ppm_init (&stm->pitches, stm->n_pitches);
  ppm_init (&stm->intervals, N_INTERVALS);
  stm->last_midi = -1;
  stm->prediction = g_new (double, MAX (stm->n_pitches, 1));
  stm->from_intervals = g_new (double, MAX (stm->n_pitches, 1));
  stm->mixing = g_new (double, 3 * (gsize) MAX (stm->n_pitches, 1));
  if (stm->n_pitches == 0)
    return NULL;
  return g_steal_pointer (&stm);
}

void
mel_stm_free (MelStm *stm)
{
  if (stm == NULL)
    return;
  g_free (stm->pitch_index);
  g_free (stm->pitch_ids);
  g_free (stm->midi);
  ppm_clear (&stm->pitches);
  ppm_clear (&stm->intervals);
  g_free (stm->prediction);
  g_free (stm->from_intervals);
  g_free (stm->mixing);
  g_free (stm);
}

void
mel_stm_reset (MelStm *stm)
{
  g_return_if_fail (stm != NULL);
  g_array_set_size (stm->pitches.seq, 0);
  g_array_set_size (stm->intervals.seq, 0);
  stm->last_midi = -1;
  stm->valid = FALSE;
}

void
mel_stm_observe (MelStm *stm, gint32 id)
{
  g_return_if_fail (stm != NULL);

  if (id < 0 || (guint) id >= stm->vocab_size)
    return;
  if (id == stm->delimiter_id)
    mel_stm_reset (stm);
  else if (stm->pitch_index[id] >= 0)
    {
      guint index = (guint) stm->pitch_index[id];
      gint midi = stm->midi[index];

      g_array_append_val (stm->pitches.seq, index);
      if (stm->last_midi >= 0)
        {
          guint interval = (guint) (CLAMP (midi - stm->last_midi, -MAX_INTERVAL, MAX_INTERVAL) + MAX_INTERVAL);

          g_array_append_val (stm->intervals.seq, interval);
        }
      stm->last_midi = midi;
      stm->valid = FALSE;
    }
}

guint
mel_stm_get_n_notes (const MelStm *stm)
{
  g_return_val_if_fail (stm != NULL, 0);
  return stm->pitches.seq->len;
}

guint
mel_stm_get_n_pitches (const MelStm *stm)
{
  g_return_val_if_fail (stm != NULL, 0);
  return stm->n_pitches;
}

const guint *
mel_stm_get_pitch_ids (const MelStm *stm)
{
  g_return_val_if_fail (stm != NULL, NULL);
  return stm->pitch_ids;
}

/* How many notes before position @j of @song equal the last notes of the
 * song (the length of the context they share), at most @cap. */
static guint
shared_context (const guint *song, guint len, guint j, guint cap)
{
  guint k = 0;

  while (k < cap && k < j && song[j - 1 - k] == song[len - 1 - k])
    k++;
  return k;
}

/* The counts of the sequence so far, with contexts of at most @order
 * symbols (0: unbounded): row k of ppm->counts holds, for every symbol,
 * how often it followed a context of exactly k shared symbols; then the
 * rows are summed from the top so that row k holds the counts of order k. */
static void
ppm_count (Ppm *ppm, guint order)
{
  const guint *seq = (const guint *) ppm->seq->data;
  guint len = ppm->seq->len, n = ppm->n, cap, max_shared = 0;
  double *rows;

  cap = order > 0 ? order : len;
  g_array_set_size (ppm->counts, 0);
  g_array_set_size (ppm->counts, (gsize) (MIN (cap, len) + 1) * n);
  rows = (double *) ppm->counts->data;
  for (guint j = 0; j < len; j++)
    {
      guint k = shared_context (seq, len, j, cap);

      rows[(gsize) k * n + seq[j]] += 1;
      max_shared = MAX (max_shared, k);
    }
  /* Suffix sums: row k becomes the counts of order k. */
  for (guint k = max_shared; k-- > 0;)
    for (guint s = 0; s < n; s++)
      rows[(gsize) k * n + s] += rows[(gsize) (k + 1) * n + s];
  ppm->max_shared = max_shared;
}

/* The interpolated PPM blend of the counts of ppm_count(), from order 0
 * up, over @base (the order −1 distribution) into @p (may equal @base). */
static void
ppm_blend (const Ppm *ppm, MelStmEscape method, const double *base, double *p)
{
  guint n = ppm->n;
  const double *rows = (const double *) ppm->counts->data;
  double *count = ppm->count;

  if (p != base)
    memcpy (p, base, n * sizeof (double));
  for (guint k = 0; k <= ppm->max_shared && ppm->seq->len > 0; k++)
    {
      double total = 0, escape = 0;
      guint distinct = 0, singletons = 0;

      memcpy (count, rows + (gsize) k * n, n * sizeof (double));
      for (guint s = 0; s < n; s++)
        {
          total += count[s];
          distinct += count[s] > 0;
          singletons += count[s] == 1;
        }
      if (total == 0)
        break;
      escape = method == MEL_STM_ESCAPE_C ? distinct : singletons + 1;
      for (guint s = 0; s < n; s++)
        p[s] = (count[s] + escape * p[s]) / (total + escape);
    }
}

/* The interval viewpoint's distribution of the next pitch: the interval
 * model's prediction moved to the last note, over the pitches it reaches
 * (uniform before the song's first note). */
static void
predict_from_intervals (MelStm *stm, double *p)
{
  double by_interval[N_INTERVALS], total = 0;
  guint n = stm->n_pitches;

  if (stm->last_midi >= 0)
    {
      for (guint i = 0; i < N_INTERVALS; i++)
        by_interval[i] = 1.0 / N_INTERVALS;
      ppm_count (&stm->intervals, stm->config.order);
      ppm_blend (&stm->intervals, stm->config.escape, by_interval, by_interval);
      for (guint a = 0; a < n; a++)
        {
          int interval = stm->midi[a] - stm->last_midi;

          p[a] = ABS (interval) <= MAX_INTERVAL ? by_interval[interval + MAX_INTERVAL] : 0.0;
          total += p[a];
        }
    }
  for (guint a = 0; a < n; a++)
    p[a] = total > 0 ? p[a] / total : 1.0 / n;
}

const double *
mel_stm_predict (MelStm *stm)
{
  double v;

  g_return_val_if_fail (stm != NULL, NULL);
  if (stm->valid)
    return stm->prediction;
  ppm_count (&stm->pitches, stm->config.order);
  for (guint s = 0; s < stm->n_pitches; s++)
    stm->prediction[s] = 1.0 / stm->n_pitches;
  ppm_blend (&stm->pitches, stm->config.escape, stm->prediction, stm->prediction);
  v = stm->config.interval_weight;
  if (v > 0)
    {
      predict_from_intervals (stm, stm->from_intervals);
      for (guint s = 0; s < stm->n_pitches; s++)
        stm->prediction[s] = (1 - v) * stm->prediction[s] + v * stm->from_intervals[s];
    }
  stm->valid = TRUE;
  return stm->prediction;
}

static double
relative_entropy (const double *p, guint n)
{
  double h = 0;

  if (n < 2)
    return 1.0;
  for (guint i = 0; i < n; i++)
    if (p[i] > 0)
      h -= p[i] * log2 (p[i]);
  return CLAMP (h / log2 ((double) n), MIN_RELATIVE_ENTROPY, 1.0);
}

void
mel_stm_mix (const double *dists, guint n_models, guint n, MelStmCombination combination, double bias,
             const double *prior, double *out)
{
  double weights[8], weight_sum = 0, total = 0;

  g_return_if_fail (dists != NULL && out != NULL);
  g_return_if_fail (n_models >= 1 && n_models <= G_N_ELEMENTS (weights) && n >= 1);

  /* In the log domain and scaled by the largest, so that a large bias on
   * a near-certain model cannot overflow. */
  {
    double log_weights[8], max_log = -INFINITY;

    for (guint m = 0; m < n_models; m++)
      {
        double share = prior != NULL ? prior[m] : 1.0;

        log_weights[m] = share > 0 ? log (share) - bias * log (relative_entropy (dists + (gsize) m * n, n))
                                   : -INFINITY;
        max_log = MAX (max_log, log_weights[m]);
      }
    for (guint m = 0; m < n_models; m++)
      {
        weights[m] = isfinite (max_log) ? exp (log_weights[m] - max_log) : 1.0;
        weight_sum += weights[m];
      }
  }
  if (combination == MEL_STM_COMBINE_ARITHMETIC)
    {
      for (guint i = 0; i < n; i++)
        {
          out[i] = 0;
          for (guint m = 0; m < n_models; m++)
            out[i] += weights[m] * dists[(gsize) m * n + i];
          out[i] /= weight_sum;
        }
      return;
    }
  /* Geometric: in the log domain, shifted by the maximum before exp. */
  {
    double max = -INFINITY;

    for (guint i = 0; i < n; i++)
      {
        out[i] = 0;
        for (guint m = 0; m < n_models; m++)
          out[i] += weights[m] * log (MAX (dists[(gsize) m * n + i], G_MINDOUBLE));
        out[i] /= weight_sum;
        max = MAX (max, out[i]);
      }
    for (guint i = 0; i < n; i++)
      {
        out[i] = exp (out[i] - max);
        total += out[i];
      }
    for (guint i = 0; i < n; i++)
      out[i] /= total;
  }
}

void
mel_stm_combine (MelStm *stm, const float *logits, float *log_probs)
{
  guint n = 0, size;
  double max = -INFINITY, max_pitch = -INFINITY, sum = 0, sum_pitch = 0, lse, lse_pitch;
  double *dists, *mixed;

  g_return_if_fail (stm != NULL && logits != NULL && log_probs != NULL);

  size = stm->vocab_size;
  n = stm->n_pitches;
  for (guint i = 0; i < size; i++)
    {
      if (!isfinite (logits[i]))
        {
          memmove (log_probs, logits, size * sizeof (float));
          return;
        }
      max = MAX (max, (double) logits[i]);
      if (stm->pitch_index[i] >= 0)
        max_pitch = MAX (max_pitch, (double) logits[i]);
    }
  for (guint i = 0; i < size; i++)
    {
      sum += exp ((double) logits[i] - max);
      if (stm->pitch_index[i] >= 0)
        sum_pitch += exp ((double) logits[i] - max_pitch);
    }
  lse = max + log (sum);
  lse_pitch = max_pitch + log (sum_pitch);

  /* dists: the LTM's pitch distribution, then the STM's; mixed after them. */
  dists = stm->mixing;
  mixed = dists + 2 * (gsize) n;
  for (guint a = 0; a < n; a++)
    dists[a] = exp ((double) logits[stm->pitch_ids[a]] - lse_pitch);
  if (stm->config.combination == MEL_STM_COMBINE_BACKOFF)
    {
      mel_stm_predict (stm); /* brings the counts up to date */
      ppm_blend (&stm->pitches, stm->config.escape, dists, mixed);
    }
  else
    {
      memcpy (dists + n, mel_stm_predict (stm), n * sizeof (double));
      double prior[2] = { 1 - stm->config.weight, stm->config.weight };

      mel_stm_mix (dists, 2, n, stm->config.combination, stm->config.bias, prior, mixed);
    }

  for (guint i = 0; i < size; i++)
    if (stm->pitch_index[i] < 0)
      log_probs[i] = (float) ((double) logits[i] - lse);
  for (guint a = 0; a < n; a++)
    log_probs[stm->pitch_ids[a]] = (float) (lse_pitch - lse + log (MAX (mixed[a], G_MINDOUBLE)));
}
