/* mel-folds.h — k-fold cross-validation folds of an encoded dataset.
 *
 * Folds are made of melody groups (MelDatasetSong.group), like the
 * train/validation/test split: exact and transposed duplicates, and the
 * transposed copies of augmentation, always land in the same fold, so no
 * melody is both trained on and tested.  The groups are shuffled with a
 * seeded generator and dealt to the folds in turn, so fold sizes differ by
 * at most one group.  The dataset's own split is ignored: every accepted
 * song takes part.
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include <glib.h>

#include "mel-dataset.h"

G_BEGIN_DECLS

/* The fold (0 … @n_folds−1) of every song of @dataset (dataset->songs->len
 * entries), from @seed.  @n_folds must be ≥ 2.  Caller frees with g_free. */
guint *mel_dataset_assign_folds (const MelDataset *dataset, guint n_folds, guint64 seed);

/* The id stream (as mel_dataset_get_split_ids: each song "/" + symbols,
 * then a final "/") of the songs in fold @fold when @held_out, or of the
 * songs in every other fold when not.  @folds comes from
 * mel_dataset_assign_folds().  Caller owns the array. */
GArray *mel_dataset_get_fold_ids (const MelDataset *dataset, const guint *folds, guint fold, gboolean held_out);

/* Indices (guint) into dataset->songs of the songs in fold @fold (when
 * @held_out) or outside it.  Caller owns the array. */
GArray *mel_dataset_get_fold_songs (const MelDataset *dataset, const guint *folds, guint fold, gboolean held_out);

G_END_DECLS
