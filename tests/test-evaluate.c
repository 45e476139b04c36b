/* test-evaluate.c — the shared evaluator on distributions known exactly,
 * k-fold folds by melody group (disjoint, covering, groups whole), and the
 * short-term model (PPM by hand, the combination is a distribution, the
 * STM learns within a song and forgets between songs).
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

/* ---- the short-term model ------------------------------------------------ */

static MelStm *
stm_new (guint order, MelStmEscape escape)
{
  g_autoptr(MelVocab) vocab = test_vocab ();
  MelStmConfig config;

  mel_stm_config_init (&config);
  config.order = order;
  config.escape = escape;
  config.interval_weight = 0; /* the pitch model alone */
  return mel_stm_new (vocab, &config);
}

static double
sum_of (const double *p, guint n)
{
  double sum = 0;

  for (guint i = 0; i < n; i++)
    sum += p[i];
  return sum;
}

/* Pitch index of MIDI @midi in test_vocab (ids 3… are 60 62 64 65 67). */
static guint
pitch_of (guint id)
{
  return id - 3;
}

static void
test_stm_empty (void)
{
  g_autoptr(MelStm) stm = stm_new (0, MEL_STM_ESCAPE_AX);
  const double *p;

  g_assert_nonnull (stm);
  g_assert_cmpuint (mel_stm_get_n_pitches (stm), ==, 5);
  g_assert_cmpuint (mel_stm_get_pitch_ids (stm)[0], ==, 3);
  p = mel_stm_predict (stm);
  for (guint i = 0; i < 5; i++)
    g_assert_cmpfloat_with_epsilon (p[i], 0.2, 1e-12);
  /* Holds, rests and ids outside the vocabulary are not notes. */
  mel_stm_observe (stm, 1);
  mel_stm_observe (stm, 2);
  mel_stm_observe (stm, 99);
  mel_stm_observe (stm, -1);
  g_assert_cmpuint (mel_stm_get_n_notes (stm), ==, 0);
}

/* Song 60 62 60 (A B A): the interpolated PPM worked out by hand. */
static void
test_stm_by_hand (void)
{
  const gint32 song[] = { 0, 3, 1, 4, 2, 1, 3 };
  g_autoptr(MelStm) c = stm_new (1, MEL_STM_ESCAPE_C);
  g_autoptr(MelStm) ax = stm_new (1, MEL_STM_ESCAPE_AX);
  const double *p;

  for (guint i = 0; i < G_N_ELEMENTS (song); i++)
    {
      mel_stm_observe (c, song[i]);
      mel_stm_observe (ax, song[i]);
    }
  g_assert_cmpuint (mel_stm_get_n_notes (c), ==, 3);
  /* Order 0: A 2, B 1 of 3, two distinct, so p0 = (c + 2/5) / 5:
   * A .48, B .28, others .08.  Order 1, context A: B once; escape C = 1,
   * so p1 = (c + p0) / 2: B .64, A .24, others .04. */
  p = mel_stm_predict (c);
  g_assert_cmpfloat_with_epsilon (p[pitch_of (4)], 0.64, 1e-12);
  g_assert_cmpfloat_with_epsilon (p[pitch_of (3)], 0.24, 1e-12);
  g_assert_cmpfloat_with_epsilon (p[pitch_of (5)], 0.04, 1e-12);
  g_assert_cmpfloat_with_epsilon (sum_of (p, 5), 1.0, 1e-12);
  /* AX: order 0 has one singleton (B), escape 2 as for C; order 1 one
   * singleton, escape 2: p1 = (c + 2 p0) / 3. */
  p = mel_stm_predict (ax);
  g_assert_cmpfloat_with_epsilon (p[pitch_of (4)], (1 + 2 * 0.28) / 3, 1e-12);
  g_assert_cmpfloat_with_epsilon (p[pitch_of (3)], 2 * 0.48 / 3, 1e-12);
  g_assert_cmpfloat_with_epsilon (p[pitch_of (7)], 2 * 0.08 / 3, 1e-12);
  g_assert_cmpfloat_with_epsilon (sum_of (p, 5), 1.0, 1e-12);
}

/* A phrase heard once is far cheaper the second time, more so for an
 * unbounded order than for order 1; the delimiter forgets it. */
static void
test_stm_learns_song (void)
{
  const gint32 phrase[] = { 3, 5, 4, 6, 7, 5 };
  g_autoptr(MelStm) unbounded = stm_new (0, MEL_STM_ESCAPE_AX);
  g_autoptr(MelStm) order1 = stm_new (1, MEL_STM_ESCAPE_AX);
  double first = 0, second = 0, second1 = 0;

  mel_stm_observe (unbounded, 0);
  for (guint pass = 0; pass < 2; pass++)
    for (guint i = 0; i < G_N_ELEMENTS (phrase); i++)
      {
        double bits = -log2 (mel_stm_predict (unbounded)[pitch_of (phrase[i])]);
        double bits1 = -log2 (mel_stm_predict (order1)[pitch_of (phrase[i])]);

        g_assert_cmpfloat_with_epsilon (sum_of (mel_stm_predict (unbounded), 5), 1.0, 1e-12);
        if (pass == 0)
          first += bits;
        else
          {
            second += bits;
            second1 += bits1;
          }
        mel_stm_observe (unbounded, phrase[i]);
        mel_stm_observe (unbounded, 1); /* a hold between notes changes nothing */
        mel_stm_observe (order1, phrase[i]);
      }
  g_assert_cmpfloat (first, >, 6 * log2 (5.0) - 3); /* little to learn from at first */
  g_assert_cmpfloat (second, <, first / 2);
  g_assert_cmpfloat (second, <, second1);
  /* Next after the phrase twice: its first note, most likely of all. */
  {
    const double *p = mel_stm_predict (unbounded);

    for (guint i = 0; i < 5; i++)
      if (i != pitch_of (3))
        g_assert_cmpfloat (p[pitch_of (3)], >, p[i]);
  }
  mel_stm_observe (unbounded, 0);
  g_assert_cmpuint (mel_stm_get_n_notes (unbounded), ==, 0);
  g_assert_cmpfloat_with_epsilon (mel_stm_predict (unbounded)[0], 0.2, 1e-12);
}

/* The interval viewpoint recognises a phrase repeated at another pitch,
 * which the pitch model cannot. */
static void
test_stm_intervals (void)
{
  /* 60 62 60, then the same a fourth higher: 65 67 65. */
  const gint32 song[] = { 0, 3, 4, 3, 6 };
  g_autoptr(MelVocab) vocab = test_vocab ();
  g_autoptr(MelStm) pitches = NULL;
  g_autoptr(MelStm) intervals = NULL;
  MelStmConfig config;
  const double *p;

  mel_stm_config_init (&config);
  config.order = 0;
  pitches = mel_stm_new (vocab, &config);
  config.interval_weight = 1.0;
  intervals = mel_stm_new (vocab, &config);
  for (guint i = 0; i < G_N_ELEMENTS (song); i++)
    {
      mel_stm_observe (pitches, song[i]);
      mel_stm_observe (intervals, song[i]);
    }
  /* After 65 the intervals say "up a tone": 67. */
  p = mel_stm_predict (intervals);
  g_assert_cmpfloat_with_epsilon (sum_of (p, 5), 1.0, 1e-12);
  for (guint i = 0; i < 5; i++)
    if (i != pitch_of (7))
      g_assert_cmpfloat (p[pitch_of (7)], >, p[i]);
  g_assert_cmpfloat (p[pitch_of (7)], >, 2 * mel_stm_predict (pitches)[pitch_of (7)]);
  mel_stm_observe (pitches, 7);
  mel_stm_observe (intervals, 7);
  /* Then "down a tone": back to 65. */
  p = mel_stm_predict (intervals);
  g_assert_cmpfloat (p[pitch_of (6)], >, mel_stm_predict (pitches)[pitch_of (6)]);
  /* A new song forgets the intervals too. */
  mel_stm_observe (intervals, 0);
  g_assert_cmpfloat_with_epsilon (mel_stm_predict (intervals)[0], 0.2, 1e-12);
  /* A share outside 0…1 is refused. */
  config.interval_weight = 1.5;
  g_assert_null (mel_stm_new (vocab, &config));
}

static void
test_stm_mix (void)
{
  /* A sharp and a flat distribution over three symbols. */
  const double dists[6] = { 0.90, 0.05, 0.05, 0.4, 0.3, 0.3 };
  double out[3], weighted[3], geo[3], z = 0;

  mel_stm_mix (dists, 2, 3, MEL_STM_COMBINE_ARITHMETIC, 0.0, NULL, out);
  for (guint i = 0; i < 3; i++)
    g_assert_cmpfloat_with_epsilon (out[i], (dists[i] + dists[3 + i]) / 2, 1e-12);

  mel_stm_mix (dists, 2, 3, MEL_STM_COMBINE_GEOMETRIC, 0.0, NULL, out);
  for (guint i = 0; i < 3; i++)
    z += geo[i] = sqrt (dists[i] * dists[3 + i]);
  for (guint i = 0; i < 3; i++)
    g_assert_cmpfloat_with_epsilon (out[i], geo[i] / z, 1e-12);

  /* A prior share of 0 leaves the other model alone. */
  {
    const double prior[2] = { 0.0, 1.0 };

    mel_stm_mix (dists, 2, 3, MEL_STM_COMBINE_ARITHMETIC, 2.0, prior, out);
    for (guint i = 0; i < 3; i++)
      g_assert_cmpfloat_with_epsilon (out[i], dists[3 + i], 1e-12);
  }

  /* A near-certain model and the largest bias the CLI accepts: no overflow. */
  {
    const double certain[6] = { 1.0, 0.0, 0.0, 0.4, 0.3, 0.3 };

    mel_stm_mix (certain, 2, 3, MEL_STM_COMBINE_ARITHMETIC, 100.0, NULL, out);
    g_assert_cmpfloat_with_epsilon (sum_of (out, 3), 1.0, 1e-12);
    g_assert_cmpfloat_with_epsilon (out[0], 1.0, 1e-9);
  }

  /* With a bias the sharper model weighs more, in both combinations. */
  for (guint c = 0; c < 2; c++)
    {
      MelStmCombination combination = c == 0 ? MEL_STM_COMBINE_ARITHMETIC : MEL_STM_COMBINE_GEOMETRIC;

      mel_stm_mix (dists, 2, 3, combination, 0.0, NULL, out);
      mel_stm_mix (dists, 2, 3, combination, 3.0, NULL, weighted);
      g_assert_cmpfloat_with_epsilon (sum_of (weighted, 3), 1.0, 1e-12);
      g_assert_cmpfloat (weighted[0], >, out[0]);
    }
}

/* The combined row is a distribution; the non-pitch symbols keep the LTM's
 * probabilities and the pitches its total pitch mass. */
static void
test_stm_combine (void)
{
  const float logits[8] = { -1.0f, 2.0f, 0.5f, 1.0f, 0.0f, -0.5f, 0.3f, -2.0f };
  const gint32 song[] = { 0, 5, 6, 5, 6 };
  g_autoptr(MelStm) stm = stm_new (0, MEL_STM_ESCAPE_AX);
  float out[8];
  double z = 0, total = 0, pitch_in = 0, pitch_out = 0;

  for (guint i = 0; i < G_N_ELEMENTS (song); i++)
    mel_stm_observe (stm, song[i]);
  mel_stm_combine (stm, logits, out);
  for (guint i = 0; i < 8; i++)
    z += exp (logits[i]);
  for (guint i = 0; i < 8; i++)
    {
      total += exp (out[i]);
      if (i >= 3)
        {
          pitch_in += exp (logits[i]) / z;
          pitch_out += exp (out[i]);
        }
      else
        g_assert_cmpfloat_with_epsilon (out[i], logits[i] - log (z), 1e-5);
    }
  g_assert_cmpfloat_with_epsilon (total, 1.0, 1e-5);
  g_assert_cmpfloat_with_epsilon (pitch_out, pitch_in, 1e-5);
  /* The song alternates 64 65: after 65 the STM expects 64, which the
   * LTM alone rates below 60. */
  g_assert_cmpfloat (out[5] - out[3], >, logits[5] - logits[3]);
  /* The same row in place. */
  {
    float row[8];

    memcpy (row, logits, sizeof row);
    mel_stm_combine (stm, row, row);
    g_assert_cmpmem (row, sizeof row, out, sizeof out);
  }
}

/* mel_evaluate_with_stm: the plain figures are mel_evaluate's, and a
 * repetitive test song is cheaper with the STM. */
static void
test_evaluate_stm (void)
{
  const gint32 train[] = { 0, 3, 1, 4, 1, 5, 1, 6, 1, 7, 0, 7, 1, 6, 1, 5, 1, 4, 1, 3, 0 };
  /* One song that states a phrase three times, then a second song. */
  const gint32 test[] = { 0, 3, 5, 4, 6, 3, 5, 4, 6, 3, 5, 4, 6, 0, 7, 1, 3, 1, 0 };
  g_autoptr(MelVocab) vocab = test_vocab ();
  g_autoptr(MelModel) model = ngram (3);
  g_autoptr(GError) error = NULL;
  MelStmConfig config;
  MelEvaluation plain, with;

  g_assert_true (mel_model_fit (model, train, G_N_ELEMENTS (train), NULL, NULL));
  mel_stm_config_init (&config);
  g_assert_true (mel_evaluate (model, vocab, test, G_N_ELEMENTS (test), 6, 2, NULL, &plain, NULL));
  g_assert_false (plain.has_stm);
  g_assert_true (isnan (plain.stm_pitch_bits));
  g_assert_true (mel_evaluate_with_stm (model, vocab, test, G_N_ELEMENTS (test), 6, 2, &config, NULL, &with,
                                        &error));
  g_assert_no_error (error);
  g_assert_true (with.has_stm);
  g_assert_cmpuint (with.metrics.n_symbols, ==, plain.metrics.n_symbols);
  g_assert_cmpuint (with.metrics.n_onsets, ==, plain.metrics.n_onsets);
  g_assert_cmpfloat_with_epsilon (with.metrics.nats_sum, plain.metrics.nats_sum, 1e-9);
  g_assert_cmpfloat_with_epsilon (with.pitch_bits, plain.pitch_bits, 1e-9);
  g_assert_cmpuint (with.stm_metrics.n_symbols, ==, plain.metrics.n_symbols);
  g_assert_cmpuint (with.stm_metrics.n_onsets, ==, plain.metrics.n_onsets);
  g_assert_cmpfloat (with.stm_pitch_bits, <, plain.pitch_bits - 0.3);

  /* An invalid configuration is an error, not a crash. */
  config.bias = -1;
  g_assert_false (mel_evaluate_with_stm (model, vocab, test, G_N_ELEMENTS (test), 6, 2, &config, NULL, &with,
                                         &error));
  g_assert_error (error, MEL_MODEL_ERROR, MEL_MODEL_ERROR_INVALID_CONFIG);
}

/* Cross-validation with the STM, and with an inner validation stream for a
 * (tiny) GRU: it is trained with early stopping and scored with its best
 * epoch. */
static void
test_cross_validate_stm (void)
{
  const gint32 a[] = { 0, 3, 1, 4, 1, 5, 1, 3, 1, 4, 1, 5, 1, 0, 6, 1, 7, 1, 6, 1, 7, 1, 0 };
  const gint32 b[] = { 0, 5, 1, 4, 1, 3, 1, 5, 1, 4, 1, 3, 1, 0, 7, 1, 1, 6, 1, 1, 7, 0 };
  g_autoptr(MelVocab) vocab = test_vocab ();
  g_autoptr(GPtrArray) train = g_ptr_array_new_with_free_func ((GDestroyNotify) g_array_unref);
  g_autoptr(GPtrArray) test = g_ptr_array_new_with_free_func ((GDestroyNotify) g_array_unref);
  g_autoptr(GPtrArray) valid = g_ptr_array_new_with_free_func ((GDestroyNotify) g_array_unref);
  g_autoptr(GPtrArray) short_valid = g_ptr_array_new_with_free_func ((GDestroyNotify) g_array_unref);
  g_autoptr(MelCrossValidation) cv = NULL;
  g_autoptr(GError) error = NULL;
  MelModelConfig config;
  MelTrainConfig train_config;
  MelStmConfig stm;
  MelCrossValidationOptions options = { &stm, NULL };

  for (guint k = 0; k < 2; k++)
    {
      GArray *tr = g_array_new (FALSE, FALSE, sizeof (gint32));
      GArray *te = g_array_new (FALSE, FALSE, sizeof (gint32));
      GArray *va = g_array_new (FALSE, FALSE, sizeof (gint32));

      g_array_append_vals (tr, k == 0 ? a : b, k == 0 ? G_N_ELEMENTS (a) : G_N_ELEMENTS (b));
      g_array_append_vals (tr, k == 0 ? a : b, k == 0 ? G_N_ELEMENTS (a) : G_N_ELEMENTS (b));
      g_array_append_vals (te, k == 0 ? b : a, k == 0 ? G_N_ELEMENTS (b) : G_N_ELEMENTS (a));
      g_array_append_vals (va, k == 0 ? a : b, 14);
      g_ptr_array_add (train, tr);
      g_ptr_array_add (test, te);
      g_ptr_array_add (valid, va);
    }
  mel_stm_config_init (&stm);
  mel_model_config_init (&config, MEL_MODEL_NGRAM, vocab->size);
  config.ngram_order = 3;
  cv = mel_cross_validate_full (&config, NULL, vocab, train, test, &options, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (cv->pooled.has_stm);
  g_assert_cmpuint (cv->pooled.stm_metrics.n_onsets, ==, cv->pooled.metrics.n_onsets);
  g_assert_true (isfinite (cv->pooled.stm_pitch_bits) && isfinite (cv->stm_pitch_bits_mean));
  g_assert_cmpuint (cv->epochs_run_max, ==, 0); /* counted, not trained */
  g_clear_pointer (&cv, mel_cross_validation_free);

  /* A tiny GRU with the inner validation streams. */
  mel_model_config_init (&config, MEL_MODEL_GRU, vocab->size);
  config.hidden_size = 8;
  config.embed_dim = 4;
  config.n_layers = 1;
  mel_train_config_init (&train_config);
  train_config.epochs = 4;
  train_config.window = 8;
  train_config.stride = 4;
  train_config.batch_size = 2;
  train_config.patience = 1;
  train_config.warmup_steps = 0;
  options.valid_folds = valid;
  cv = mel_cross_validate_full (&config, &train_config, vocab, train, test, &options, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (cv->epochs_run_min, >=, 1);
  g_assert_cmpuint (cv->epochs_run_max, <=, 4);
  g_assert_true (isfinite (cv->pooled.pitch_bits) && isfinite (cv->pooled.stm_pitch_bits));
  g_clear_pointer (&cv, mel_cross_validation_free);

  /* Validation streams must match the folds. */
  g_ptr_array_add (short_valid, g_array_ref (valid->pdata[0]));
  options.valid_folds = short_valid;
  cv = mel_cross_validate_full (&config, &train_config, vocab, train, test, &options, NULL, NULL, NULL, &error);
  g_assert_null (cv);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
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
  g_test_add_func ("/mel/evaluate/stm/empty", test_stm_empty);
  g_test_add_func ("/mel/evaluate/stm/by-hand", test_stm_by_hand);
  g_test_add_func ("/mel/evaluate/stm/learns-song", test_stm_learns_song);
  g_test_add_func ("/mel/evaluate/stm/intervals", test_stm_intervals);
  g_test_add_func ("/mel/evaluate/stm/mix", test_stm_mix);
  g_test_add_func ("/mel/evaluate/stm/combine", test_stm_combine);
  g_test_add_func ("/mel/evaluate/stm/evaluate", test_evaluate_stm);
  g_test_add_func ("/mel/evaluate/stm/cross-validate", test_cross_validate_stm);
  return g_test_run ();
}
