/* test-evaluate.c — the shared evaluator on distributions known exactly,
 * and k-fold folds by melody group (disjoint, covering, groups whole).
 *
 * SPDX-License-Identifier: MIT
 */
#include <math.h>
#include <string.h>

#include "mel-evaluate.h" /* before mel-dataset.h: its MEL_SYMBOL_HOLD macro shadows the enum */
#include "mel-dataset.h"
#include "mel-folds.h"
#include "mel-test-songs.h"

static MelVocab *
test_vocab (void)
{
  const char *symbols[] = { "/", "_", "r", "60", "62", "64", "65", "67" };

  return mel_vocab_new (symbols, G_N_ELEMENTS (symbols), NULL);
}

static MelModel *
ngram (guint order)
{
  MelModelConfig config;

  mel_model_config_init (&config, MEL_MODEL_NGRAM, 8);
  config.ngram_order = order;
  return mel_model_new (&config, 1, NULL);
}

/* An unfitted n-gram is uniform: log2 V bits per symbol, log2 (pitches)
 * bits per note, and argmax (the first id on a tie) is "/". */
static void
test_uniform (void)
{
  const gint32 ids[] = { 0, 3, 1, 4, 1, 2, 1, 0, 5, 0 };
  g_autoptr(MelVocab) vocab = test_vocab ();
  g_autoptr(MelModel) model = ngram (3);
  g_autoptr(GError) error = NULL;
  MelEvaluation e;

  g_assert_true (mel_evaluate (model, vocab, ids, G_N_ELEMENTS (ids), 4, 2, NULL, &e, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (e.metrics.n_symbols, ==, G_N_ELEMENTS (ids) - 1);
  g_assert_cmpuint (e.metrics.n_onsets, ==, 3);
  g_assert_cmpfloat_with_epsilon (e.bits_per_symbol, 3.0, 1e-6);
  g_assert_cmpfloat_with_epsilon (e.pitch_bits, log2 (5.0), 1e-6);
  g_assert_cmpfloat_with_epsilon (e.accuracy, 2.0 / 9, 1e-9); /* the two "/" targets */
  g_assert_cmpfloat_with_epsilon (e.onset_accuracy, 0.0, 1e-9);
  g_assert_false (e.has_vae);
}

/* A unigram with known counts: every figure by hand. */
static void
test_unigram_figures (void)
{
  /* Targets: 3 1 3 1 4 → c(3) = 2, c(1) = 2, c(4) = 1; N = 5, T = 3. */
  const gint32 train[] = { 0, 3, 1, 3, 1, 4 };
  const gint32 test[] = { 0, 3, 4, 6 };
  g_autoptr(MelVocab) vocab = test_vocab ();
  g_autoptr(MelModel) model = ngram (1);
  double p[8], c[8] = { 0, 2, 0, 2, 1, 0, 0, 0 }, bits = 0, pitch_bits = 0, pitch_mass;
  MelEvaluation e;

  g_assert_true (mel_model_fit (model, train, G_N_ELEMENTS (train), NULL, NULL));
  for (guint s = 0; s < 8; s++)
    p[s] = (c[s] + 3.0 / 8) / 8.0;
  pitch_mass = p[3] + p[4] + p[5] + p[6] + p[7];
  for (guint t = 1; t < G_N_ELEMENTS (test); t++)
    {
      bits -= log2 (p[test[t]]);
      pitch_bits -= log2 (p[test[t]] / pitch_mass);
    }
  g_assert_true (mel_evaluate (model, vocab, test, G_N_ELEMENTS (test), 8, 1, NULL, &e, NULL));
  g_assert_cmpfloat_with_epsilon (e.bits_per_symbol, bits / 3, 1e-5);
  g_assert_cmpfloat_with_epsilon (e.pitch_bits, pitch_bits / 3, 1e-5);
  /* argmax is "_" (id 1) ties with "60" (id 3): the first wins, so no target is right. */
  g_assert_cmpfloat_with_epsilon (e.accuracy, 0.0, 1e-9);
}

/* Ten melodies, two of them transposed twins (one melody group). */
static GPtrArray *
test_songs (void)
{
  static const char *const melodies[] = {
    "M4/4 K0 T:C 4C4 4D4 4E4 4F4 | 2G4 2G4 |",
    "M4/4 K0 T:C 4E4 4E4 4D4 4D4 | 2C4 2C4 |",
    "M4/4 K0 T:C 8C4 8D4 8E4 8F4 4G4 4G4 | 1C4 |",
    "M3/4 K0 T:C 4G4 4E4 4C4 | 2.G4 |",
    "M3/4 K0 T:C 4C4 4C4 4G4 | 2.C4 |",
    "M4/4 K0 T:C 2E4 2D4 | 1C4 |",
    "M4/4 K0 T:C 4D4 4E4 4F4 4G4 | 1A4 |",
    "M2/4 K0 T:C 4C4 4E4 | 4G4 4C5 |",
    "M4/4 K0 T:C 4C4 4D4 4E4 4C4 | 1C4 |",
    "M4/4 K2 T:D 4D4 4E4 4F#4 4D4 | 1D4 |", /* the one above, a tone higher */
  };
  GPtrArray *songs = g_ptr_array_new_with_free_func ((GDestroyNotify) mel_song_unref);

  for (guint i = 0; i < G_N_ELEMENTS (melodies); i++)
    {
      g_autofree char *id = g_strdup_printf ("T%02u", i);

      g_ptr_array_add (songs, test_song_new (id, NULL, melodies[i]));
    }
  return songs;
}

static void
test_folds (void)
{
  g_autoptr(GPtrArray) songs = test_songs ();
  g_autoptr(GError) error = NULL;
  g_autoptr(MelDataset) dataset = NULL;
  g_autofree guint *folds = NULL;
  g_autofree guint *again = NULL;
  MelPreprocessOptions options;
  guint k = 3, total = 0;
  gsize symbols = 0;

  mel_preprocess_options_init (&options);
  options.transpose = MEL_TRANSPOSE_NONE;
  dataset = mel_dataset_build (songs, &options, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (dataset->songs->len, ==, 10);
  folds = mel_dataset_assign_folds (dataset, k, 7);
  again = mel_dataset_assign_folds (dataset, k, 7);
  g_assert_cmpmem (folds, 10 * sizeof (guint), again, 10 * sizeof (guint));

  for (guint f = 0; f < k; f++)
    {
      g_autoptr(GArray) in = mel_dataset_get_fold_songs (dataset, folds, f, TRUE);
      g_autoptr(GArray) out = mel_dataset_get_fold_songs (dataset, folds, f, FALSE);
      g_autoptr(GArray) ids = mel_dataset_get_fold_ids (dataset, folds, f, TRUE);
      g_autoptr(GArray) rest = mel_dataset_get_fold_ids (dataset, folds, f, FALSE);

      /* Disjoint and covering. */
      g_assert_cmpuint (in->len + out->len, ==, 10);
      for (guint i = 0; i < in->len; i++)
        for (guint j = 0; j < out->len; j++)
          g_assert_cmpuint (g_array_index (in, guint, i), !=, g_array_index (out, guint, j));
      g_assert_cmpuint (in->len, >=, 1);
      total += in->len;
      /* Streams: "/" + symbols per song, plus the final "/". */
      {
        gsize expect = 1, expect_rest = 1;

        for (guint i = 0; i < in->len; i++)
          expect += g_array_index (dataset->songs, MelDatasetSong, g_array_index (in, guint, i)).length + 1;
        for (guint i = 0; i < out->len; i++)
          expect_rest += g_array_index (dataset->songs, MelDatasetSong, g_array_index (out, guint, i)).length + 1;
        g_assert_cmpuint (ids->len, ==, expect);
        g_assert_cmpuint (rest->len, ==, expect_rest);
        g_assert_cmpint (g_array_index (ids, gint32, 0), ==, 0);
        symbols += ids->len - 1;
      }
    }
  g_assert_cmpuint (total, ==, 10);
  g_assert_cmpuint (symbols, ==, dataset->ids->len);
  /* The transposed twins form one group, so they share a fold. */
  {
    const MelDatasetSong *a = &g_array_index (dataset->songs, MelDatasetSong, 8);
    const MelDatasetSong *b = &g_array_index (dataset->songs, MelDatasetSong, 9);

    g_assert_cmpuint (a->group, ==, b->group);
    g_assert_cmpuint (folds[8], ==, folds[9]);
  }
}

/* Cross-validation of the n-gram: every held-out target is scored once. */
static void
test_cross_validate (void)
{
  g_autoptr(GPtrArray) songs = test_songs ();
  g_autoptr(MelDataset) dataset = NULL;
  g_autoptr(MelVocab) vocab = NULL;
  g_autoptr(GPtrArray) train = g_ptr_array_new_with_free_func ((GDestroyNotify) g_array_unref);
  g_autoptr(GPtrArray) test = g_ptr_array_new_with_free_func ((GDestroyNotify) g_array_unref);
  g_autoptr(MelCrossValidation) cv = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree guint *folds = NULL;
  MelPreprocessOptions options;
  MelModelConfig config;
  guint64 targets = 0;

  mel_preprocess_options_init (&options);
  options.transpose = MEL_TRANSPOSE_NONE;
  dataset = mel_dataset_build (songs, &options, NULL, NULL, NULL, NULL);
  vocab = mel_vocab_new ((const char *const *) dataset->vocabulary->pdata, dataset->vocabulary->len, NULL);
  folds = mel_dataset_assign_folds (dataset, 4, 1);
  for (guint f = 0; f < 4; f++)
    {
      GArray *t = mel_dataset_get_fold_ids (dataset, folds, f, TRUE);

      targets += t->len > 0 ? t->len - 1 : 0;
      g_ptr_array_add (test, t);
      g_ptr_array_add (train, mel_dataset_get_fold_ids (dataset, folds, f, FALSE));
    }
  mel_model_config_init (&config, MEL_MODEL_NGRAM, vocab->size);
  config.ngram_order = 4;
  cv = mel_cross_validate (&config, NULL, vocab, train, test, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (cv->n_folds, ==, 4);
  g_assert_cmpuint (cv->pooled.metrics.n_symbols, ==, targets);
  g_assert_true (isfinite (cv->pooled.pitch_bits) && cv->pooled.pitch_bits > 0);
  {
    double nats = 0;

    for (guint f = 0; f < cv->folds->len; f++)
      nats += g_array_index (cv->folds, MelEvaluation, f).metrics.nats_sum;
    g_assert_cmpfloat_with_epsilon (cv->pooled.metrics.nats_sum, nats, 1e-9);
    g_assert_true (isfinite (cv->pitch_bits_mean) && isfinite (cv->pitch_bits_sd));
  }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  (void) test_song_expected_ticks; /* the shared helper header has more than we use */
  g_test_add_func ("/mel/evaluate/uniform", test_uniform);
  g_test_add_func ("/mel/evaluate/unigram-figures", test_unigram_figures);
  g_test_add_func ("/mel/evaluate/folds", test_folds);
  g_test_add_func ("/mel/evaluate/cross-validate", test_cross_validate);
  return g_test_run ();
}
