/* mel-folds.c — cross-validation folds by melody group.
 *
 * SPDX-License-Identifier: MIT
 */
#include "mel-folds.h"

static guint64
splitmix64 (guint64 *state)
{
  guint64 z = (*state += G_GUINT64_CONSTANT (0x9E3779B97F4A7C15));

  z = (z ^ (z >> 30)) * G_GUINT64_CONSTANT (0xBF58476D1CE4E5B9);
  z = (z ^ (z >> 27)) * G_GUINT64_CONSTANT (0x94D049BB133111EB);
  return z ^ (z >> 31);
}

guint *
mel_dataset_assign_folds (const MelDataset *dataset, guint n_folds, guint64 seed)
{
  g_autofree guint *order = NULL;
  g_autofree guint *group_fold = NULL;
  guint *folds;
  guint n_groups = 0;
  guint64 state = seed ^ G_GUINT64_CONSTANT (0x6b2f01d5);

  g_return_val_if_fail (dataset != NULL, NULL);
  g_return_val_if_fail (n_folds >= 2, NULL);

  /* Group ids are small integers; size the table by the largest seen. */
  for (guint i = 0; i < dataset->songs->len; i++)
    n_groups = MAX (n_groups, g_array_index (dataset->songs, MelDatasetSong, i).group + 1);
  order = g_new (guint, MAX (n_groups, 1));
  group_fold = g_new (guint, MAX (n_groups, 1));
  for (guint g = 0; g < n_groups; g++)
    order[g] = g;
  /* Fisher–Yates. */
  for (guint g = n_groups; g > 1; g--)
    {
      guint j = (guint) (splitmix64 (&state) % g), tmp = order[g - 1];

      order[g - 1] = order[j];
      order[j] = tmp;
    }
  for (guint g = 0; g < n_groups; g++)
    group_fold[order[g]] = g % n_folds;
  folds = g_new (guint, MAX (dataset->songs->len, 1));
  for (guint i = 0; i < dataset->songs->len; i++)
    folds[i] = group_fold[g_array_index (dataset->songs, MelDatasetSong, i).group];
  return folds;
}

GArray *
mel_dataset_get_fold_songs (const MelDataset *dataset, const guint *folds, guint fold, gboolean held_out)
{
  GArray *songs;

  g_return_val_if_fail (dataset != NULL && folds != NULL, NULL);

  songs = g_array_new (FALSE, FALSE, sizeof (guint));
  for (guint i = 0; i < dataset->songs->len; i++)
    if ((folds[i] == fold) == !!held_out)
      g_array_append_val (songs, i);
  return songs;
}

GArray *
mel_dataset_get_fold_ids (const MelDataset *dataset, const guint *folds, guint fold, gboolean held_out)
{
  GArray *stream;

  g_return_val_if_fail (dataset != NULL && folds != NULL, NULL);

  stream = g_array_new (FALSE, FALSE, sizeof (gint32));
  for (guint i = 0; i < dataset->songs->len; i++)
    {
      const MelDatasetSong *song = &g_array_index (dataset->songs, MelDatasetSong, i);

      if ((folds[i] == fold) == !!held_out)
        g_array_append_vals (stream, &g_array_index (dataset->ids, gint32, song->offset), song->length + 1);
    }
  if (stream->len > 0)
    {
      gint32 delimiter = 0; /* "/" is always id 0 */

      g_array_append_val (stream, delimiter);
    }
  return stream;
}
