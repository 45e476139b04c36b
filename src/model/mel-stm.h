/* mel-stm.h — a short-term model (STM) that learns the song being
 * predicted, and its combination with a long-term model's prediction.
 *
 * IDyOM (Pearce 2005, ch. 6; Pearce, Conklin & Wiggins 2005) predicts
 * each note with two models: a long-term model (LTM) trained on the
 * corpus and a short-term model trained only on the notes of the current
 * song so far, so that a phrase that has been heard once becomes cheap
 * the second time.  Folk songs repeat a lot, so this pays.
 *
 * The STM here is a note-level PPM model over the pitch symbols of a
 * MelVocab: it sees the pitches of the song's note onsets in order (holds
 * and rests are skipped, the song delimiter "/" starts a new song), blends
 * all context lengths up to its order bound (interpolated PPM, escape
 * method C or AX, no exclusion) and falls back on a uniform distribution
 * over the vocabulary's pitches.  It only ever sees symbols that precede
 * the one predicted.  Optionally a second PPM model of the same kind over
 * the song's intervals (transposition-invariant: a phrase repeated a step
 * higher is recognised) predicts the next pitch from the last one; the
 * STM's distribution is then the mixture (1 − v)·pitches + v·intervals.
 *
 * The combination touches the pitch symbols only: the LTM's row (logits
 * over the whole vocabulary) keeps its probability that a note starts and
 * of every non-pitch symbol; the pitch distribution given an onset becomes
 * the entropy-weighted mixture of the LTM's (renormalised over the
 * pitches) and the STM's.  Each model gets the weight
 * w = (H / H_max)^−bias, H its entropy and H_max = log2 (number of
 * pitches), times a fixed share (weight for the STM, 1 − weight for the
 * LTM), so the more certain model counts more; the mixture is geometric
 * (a weighted product, renormalised) or arithmetic.  The result is a
 * proper distribution over the vocabulary.
 *
 * Not thread-safe; one MelStm per thread.
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include <glib.h>

#include "mel-vocab.h"

G_BEGIN_DECLS

typedef enum
{
  MEL_STM_ESCAPE_C,  /* escape count = distinct symbols seen in the context */
  MEL_STM_ESCAPE_AX, /* escape count = symbols seen once in the context, plus one */
} MelStmEscape;

typedef enum
{
  MEL_STM_COMBINE_GEOMETRIC,  /* Π p_m^w_m, renormalised */
  MEL_STM_COMBINE_ARITHMETIC, /* Σ w_m p_m / Σ w_m */
  MEL_STM_COMBINE_BACKOFF,    /* the LTM's distribution is the STM's order −1
                               * (instead of the uniform one): no weights, the
                               * song's counts take over as they grow */
} MelStmCombination;

typedef struct
{
  guint order;                   /* longest context in notes; 0 = unbounded. Default 8 */
  MelStmEscape escape;           /* default MEL_STM_ESCAPE_C */
  MelStmCombination combination; /* default MEL_STM_COMBINE_ARITHMETIC */
  double bias;                   /* entropy-weight exponent ≥ 0; default 1 */
  double weight;                 /* the STM's share (0…1) before the entropy weights,
                                  * the LTM's is 1 − weight; default 0.2 */
  double interval_weight;        /* share (0…1) of the interval viewpoint inside the
                                  * STM; default 0.4 (0: pitches only) */
} MelStmConfig;

/* Fills @config with the defaults above (chosen on a development
 * collection, see mel-stm.c). */
void mel_stm_config_init (MelStmConfig *config);

/* TRUE when @s names an escape method ("c", "ax") / a combination
 * ("arithmetic", "geometric", "backoff"); then stores it in @out. */
gboolean mel_stm_escape_from_string (const char *s, MelStmEscape *out);
const char *mel_stm_escape_to_string (MelStmEscape escape);
gboolean mel_stm_combination_from_string (const char *s, MelStmCombination *out);
const char *mel_stm_combination_to_string (MelStmCombination combination);

typedef struct _MelStm MelStm;

/* A new, empty STM over the pitch symbols of @vocab (copied, like
 * @config; @config NULL: defaults).  NULL when @vocab has no pitch symbol
 * or @config is invalid (negative or non-finite bias).  Free with
 * mel_stm_free. */
MelStm *mel_stm_new (const MelVocab *vocab, const MelStmConfig *config);
void mel_stm_free (MelStm *stm);

/* Forgets the current song. */
void mel_stm_reset (MelStm *stm);

/* Feeds the next symbol of the stream: a pitch is appended to the song, the
 * delimiter starts a new song, holds and rests are ignored.  Ids outside
 * the vocabulary are ignored. */
void mel_stm_observe (MelStm *stm, gint32 id);

/* Notes of the current song seen so far. */
guint mel_stm_get_n_notes (const MelStm *stm);

/* The number of pitch symbols, and their ids in @vocab (owned by @stm;
 * the order of the distributions below). */
guint mel_stm_get_n_pitches (const MelStm *stm);
const guint *mel_stm_get_pitch_ids (const MelStm *stm);

/* The STM's distribution of the next note's pitch (n_pitches doubles that
 * sum to 1, in the order of mel_stm_get_pitch_ids()).  Owned by @stm and
 * valid until the next call on it. */
const double *mel_stm_predict (MelStm *stm);

/* Combines a long-term model's row @logits (vocab->size floats, any
 * scale: a softmax is taken) with the STM's prediction as described
 * above and writes the natural-log probabilities of the combined
 * distribution to @log_probs (vocab->size floats; may equal @logits).
 * Infinite or NaN logits give a row of the LTM alone. */
void mel_stm_combine (MelStm *stm, const float *logits, float *log_probs);

/* The entropy-weighted mixture of @n_models (1…8) distributions @dists
 * (each @n doubles summing to 1, one after another) into @out (@n
 * doubles), with weights prior_m · (H_m / log2 n)^−@bias; @prior (nullable:
 * all 1) holds n_models non-negative numbers (all 0 counts as all 1).
 * Exposed for tests. */
void mel_stm_mix (const double *dists, guint n_models, guint n, MelStmCombination combination, double bias,
                  const double *prior, double *out);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MelStm, mel_stm_free)

G_END_DECLS
