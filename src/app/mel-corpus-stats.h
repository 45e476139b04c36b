/* mel-corpus-stats.h — the statistics panel of a corpus: counts,
 * rejections and histograms of keys, meters and pitches.
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include <adwaita.h>

#include "mel-corpus.h"

G_BEGIN_DECLS

#define MEL_TYPE_CORPUS_STATS (mel_corpus_stats_get_type ())
G_DECLARE_FINAL_TYPE (MelCorpusStats, mel_corpus_stats, MEL, CORPUS_STATS, AdwBin)

/* Shows the figures of @corpus (NULL clears).  The panel keeps no
 * reference: everything is computed at once. */
void mel_corpus_stats_set_corpus (MelCorpusStats *self, const MelCorpus *corpus);

/* The number of notes counted for @midi in the pitch histogram (for tests). */
double mel_corpus_stats_get_pitch_count (MelCorpusStats *self, int midi);

G_END_DECLS
