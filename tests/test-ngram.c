/* test-ngram.c — the n-gram baseline: proper distributions, PPM-C escapes,
 * the unigram case, forward = incremental state, checkpoint round trip.
 *
 * SPDX-License-Identifier: MIT
 */
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

#include "mel-checkpoint.h"
#include "mel-evaluate.h"
#include "mel-model.h"
#include "mel-trainer.h"

static MelVocab *
test_vocab (void)
{
  const char *symbols[] = { "/", "_", "r", "60", "62", "64", "65", "67" };

  return mel_vocab_new (symbols, G_N_ELEMENTS (symbols), NULL);
}

static MelModel *
fitted (guint order, const gint32 *ids, gsize n)
{
  g_autoptr(GError) error = NULL;
  MelModelConfig config;
  MelModel *model;

  mel_model_config_init (&config, MEL_MODEL_NGRAM, 8);
  config.ngram_order = order;
  model = mel_model_new (&config, 1, &error);
  g_assert_no_error (error);
  g_assert_true (mel_model_can_fit (model));
  g_assert_true (mel_model_fit (model, ids, n, NULL, &error));
  g_assert_no_error (error);
  return model;
}

/* A small stream: "/ 60 _ 62 _ 64 _ _ _ / 60 _ 64 _ 67 _ _ _ /" and so on. */
static const gint32 stream[] = { 0, 3, 1, 4, 1, 5, 1, 1, 1, 0, 3, 1, 5, 1, 7, 1, 1, 1,
                                 0, 7, 1, 6, 1, 5, 1, 4, 1, 3, 1, 1, 1, 0 };

/* Probabilities from logits: they are log p, so exp gives p directly. */
static void
probabilities (const float *logits, double *p)
{
  for (guint s = 0; s < 8; s++)
    p[s] = exp ((double) logits[s]);
}

static void
test_sums_to_one (void)
{
  g_autoptr(MelModel) model = fitted (4, stream, G_N_ELEMENTS (stream));
  const float *logits = mel_model_forward (model, stream, 1, G_N_ELEMENTS (stream));

  /* Every context of the stream (seen ones), and some never seen. */
  for (guint t = 0; t < G_N_ELEMENTS (stream); t++)
    {
      double p[8], sum = 0;

      probabilities (logits + t * 8, p);
      for (guint s = 0; s < 8; s++)
        {
          g_assert_cmpfloat (p[s], >, 0.0);
          sum += p[s];
        }
      g_assert_cmpfloat_with_epsilon (sum, 1.0, 1e-6);
    }
  {
    const gint32 unseen[] = { 2, 2, 6, 2, 7, 6 };
    const float *l = mel_model_forward (model, unseen, 1, G_N_ELEMENTS (unseen));

    for (guint t = 0; t < G_N_ELEMENTS (unseen); t++)
      {
        double p[8], sum = 0;

        probabilities (l + t * 8, p);
        for (guint s = 0; s < 8; s++)
          sum += p[s];
        g_assert_cmpfloat_with_epsilon (sum, 1.0, 1e-6);
      }
  }
}

/* Order 1: p(s) = (c(s) + T/V) / (N + T), the PPM-C unigram with the
 * escape spread uniformly over the vocabulary. */
static void
test_unigram (void)
{
  g_autoptr(MelModel) model = fitted (1, stream, G_N_ELEMENTS (stream));
  const gint32 context[] = { 5 };
  const float *logits = mel_model_forward (model, context, 1, 1);
  double counts[8] = { 0 }, n = 0, distinct = 0, p[8];

  for (guint t = 1; t < G_N_ELEMENTS (stream); t++)
    {
      counts[stream[t]] += 1;
      n += 1;
    }
  for (guint s = 0; s < 8; s++)
    distinct += counts[s] > 0;
  probabilities (logits, p);
  for (guint s = 0; s < 8; s++)
    g_assert_cmpfloat_with_epsilon (p[s], (counts[s] + distinct / 8) / (n + distinct), 1e-6);
  /* "r" (id 2) never occurs: only the escape gives it probability. */
  g_assert_cmpfloat_with_epsilon (p[2], distinct / 8 / (n + distinct), 1e-7);
}

/* The PPM-C blend at a known context, and the escape to shorter contexts
 * when the context was never seen. */
static void
test_escape (void)
{
  const gint32 ids[] = { 3, 4, 3, 4, 3, 5 };
  g_autoptr(MelModel) model = fitted (2, ids, G_N_ELEMENTS (ids));
  double p[8], uni[8], counts[8] = { 0 };
  /* Unigram over targets 4 3 4 3 5: N = 5, T = 3. */
  counts[3] = 2, counts[4] = 2, counts[5] = 1;
  for (guint s = 0; s < 8; s++)
    uni[s] = (counts[s] + 3.0 / 8) / (5 + 3);

  {
    /* After "3": seen 3 times, followed by 4, 4, 5: N = 3, T = 2. */
    const gint32 context[] = { 3 };

    probabilities (mel_model_forward (model, context, 1, 1), p);
    g_assert_cmpfloat_with_epsilon (p[4], (2 + 2 * uni[4]) / 5, 1e-6);
    g_assert_cmpfloat_with_epsilon (p[5], (1 + 2 * uni[5]) / 5, 1e-6);
    g_assert_cmpfloat_with_epsilon (p[7], 2 * uni[7] / 5, 1e-6);
  }
  {
    /* After "67" (never a context): the unigram itself. */
    const gint32 context[] = { 7 };

    probabilities (mel_model_forward (model, context, 1, 1), p);
    for (guint s = 0; s < 8; s++)
      g_assert_cmpfloat_with_epsilon (p[s], uni[s], 1e-6);
  }
  {
    /* An unfitted model predicts the uniform distribution. */
    MelModelConfig config;
    g_autoptr(MelModel) empty = NULL;
    const gint32 context[] = { 3 };

    mel_model_config_init (&config, MEL_MODEL_NGRAM, 8);
    empty = mel_model_new (&config, 1, NULL);
    probabilities (mel_model_forward (empty, context, 1, 1), p);
    for (guint s = 0; s < 8; s++)
      g_assert_cmpfloat_with_epsilon (p[s], 1.0 / 8, 1e-7);
  }
}

/* The incremental state gives the logits of forward, position by position. */
static void
test_state_matches_forward (void)
{
  g_autoptr(MelModel) model = fitted (5, stream, G_N_ELEMENTS (stream));
  const float *logits = mel_model_forward (model, stream, 1, G_N_ELEMENTS (stream));
  g_autofree float *copy = g_memdup2 (logits, G_N_ELEMENTS (stream) * 8 * sizeof (float));
  g_autoptr(MelModelState) state = mel_model_state_new (model, NULL);
  float step[8];

  for (guint t = 0; t < G_N_ELEMENTS (stream); t++)
    {
      mel_model_state_step (state, stream[t], step);
      for (guint s = 0; s < 8; s++)
        g_assert_cmpfloat_with_epsilon (step[s], copy[t * 8 + s], 1e-6);
    }
}

static void
test_checkpoint_round_trip (void)
{
  g_autoptr(MelModel) model = fitted (6, stream, G_N_ELEMENTS (stream));
  g_autoptr(MelVocab) vocab = test_vocab ();
  g_autoptr(MelCheckpoint) ckpt = mel_checkpoint_new_from_model (model, vocab, NULL);
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(MelCheckpoint) loaded = NULL;
  g_autoptr(MelModel) again = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree float *expected = NULL;
  const float *logits;
  gsize size;
  const guint8 *data;

  g_assert_nonnull (ckpt->model_data);
  bytes = mel_checkpoint_to_bytes (ckpt);
  data = g_bytes_get_data (bytes, &size);
  loaded = mel_checkpoint_load_from_data (data, size, &error);
  g_assert_no_error (error);
  g_assert_nonnull (loaded->model_data);
  g_assert_true (g_bytes_equal (loaded->model_data, ckpt->model_data));
  again = mel_checkpoint_create_model (loaded, &error);
  g_assert_no_error (error);

  expected = g_memdup2 (mel_model_forward (model, stream, 1, G_N_ELEMENTS (stream)),
                        G_N_ELEMENTS (stream) * 8 * sizeof (float));
  logits = mel_model_forward (again, stream, 1, G_N_ELEMENTS (stream));
  g_assert_cmpmem (logits, G_N_ELEMENTS (stream) * 8 * sizeof (float), expected,
                   G_N_ELEMENTS (stream) * 8 * sizeof (float));

  /* Damaged counts are refused with an error, never trusted. */
  {
    gsize blob_size;
    const guint8 *original = g_bytes_get_data (ckpt->model_data, &blob_size);

    for (gsize cut = 0; cut < blob_size; cut += 7)
      {
        g_autoptr(GBytes) truncated = g_bytes_new (original, cut);
        g_autoptr(GError) local = NULL;

        g_assert_false (mel_model_load_data (again, truncated, &local));
        g_assert_error (local, MEL_MODEL_ERROR, MEL_MODEL_ERROR_INVALID_CONFIG);
      }
    {
      g_autofree guint8 *bad = g_memdup2 (original, blob_size);
      g_autoptr(GBytes) changed = NULL;
      g_autoptr(GError) local = NULL;

      bad[20] = 0xff; /* the node count */
      changed = g_bytes_new (bad, blob_size);
      g_assert_false (mel_model_load_data (again, changed, &local));
    }
    /* The model still works after refusing. */
    logits = mel_model_forward (again, stream, 1, G_N_ELEMENTS (stream));
    g_assert_cmpmem (logits, G_N_ELEMENTS (stream) * 8 * sizeof (float), expected,
                     G_N_ELEMENTS (stream) * 8 * sizeof (float));
  }
}

/* Checkpoints without model data (every older file) still load. */
static void
test_old_checkpoints_load (void)
{
  g_autoptr(MelVocab) vocab = test_vocab ();
  g_autoptr(MelCheckpoint) ckpt = NULL;
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(MelCheckpoint) loaded = NULL;
  g_autoptr(GError) error = NULL;
  MelModelConfig config;
  g_autoptr(MelModel) gru = NULL;
  gsize size;
  const guint8 *data;

  mel_model_config_init (&config, MEL_MODEL_GRU, 8);
  config.hidden_size = 4;
  config.embed_dim = 3;
  config.n_layers = 1;
  gru = mel_model_new (&config, 1, &error);
  g_assert_no_error (error);
  g_assert_false (mel_model_can_fit (gru));
  g_assert_null (mel_model_save_data (gru));
  g_assert_false (mel_model_fit (gru, stream, G_N_ELEMENTS (stream), NULL, &error));
  g_assert_error (error, MEL_MODEL_ERROR, MEL_MODEL_ERROR_UNSUPPORTED);
  g_clear_error (&error);
  ckpt = mel_checkpoint_new_from_model (gru, vocab, NULL);
  g_assert_null (ckpt->model_data);
  bytes = mel_checkpoint_to_bytes (ckpt);
  data = g_bytes_get_data (bytes, &size);
  loaded = mel_checkpoint_load_from_data (data, size, &error);
  g_assert_no_error (error);
  g_assert_null (loaded->model_data);
}

static void
test_bad_config (void)
{
  g_autoptr(GError) error = NULL;
  MelModelConfig config;

  mel_model_config_init (&config, MEL_MODEL_NGRAM, 8);
  config.ngram_order = 0;
  g_assert_null (mel_model_new (&config, 1, &error));
  g_assert_error (error, MEL_MODEL_ERROR, MEL_MODEL_ERROR_INVALID_CONFIG);
}

/* Counting learns: on a repetitive stream the n-gram beats the unigram. */
static void
test_higher_order_helps (void)
{
  g_autoptr(GArray) ids = g_array_new (FALSE, FALSE, sizeof (gint32));
  g_autoptr(MelVocab) vocab = test_vocab ();
  MelEvaluation uni, tri;

  for (guint r = 0; r < 50; r++)
    g_array_append_vals (ids, stream, G_N_ELEMENTS (stream));
  {
    g_autoptr(MelModel) m1 = fitted (1, (const gint32 *) ids->data, ids->len);
    g_autoptr(MelModel) m3 = fitted (3, (const gint32 *) ids->data, ids->len);

    g_assert_true (mel_evaluate (m1, vocab, stream, G_N_ELEMENTS (stream), 64, 4, NULL, &uni, NULL));
    g_assert_true (mel_evaluate (m3, vocab, stream, G_N_ELEMENTS (stream), 64, 4, NULL, &tri, NULL));
  }
  g_assert_cmpfloat (tri.bits_per_symbol, <, uni.bits_per_symbol - 0.5);
  g_assert_cmpfloat (tri.pitch_bits, <, uni.pitch_bits);
}

/* The trainer counts an n-gram in one pass: one epoch, no optimizer steps,
 * the same model as mel_model_fit, checkpoints written as usual. */
static void
test_trainer_counts (void)
{
  g_autoptr(MelVocab) vocab = test_vocab ();
  g_autoptr(MelModel) reference = fitted (4, stream, G_N_ELEMENTS (stream));
  g_autoptr(MelTrainer) trainer = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("mel-ngram-XXXXXX", NULL);
  g_autofree char *last = g_build_filename (dir, "n.ckpt", NULL);
  g_autofree char *best = g_build_filename (dir, "n.best.ckpt", NULL);
  g_autoptr(MelCheckpoint) saved = NULL;
  g_autoptr(MelModel) loaded = NULL;
  g_autofree float *expected = NULL;
  MelModelConfig mc;
  MelTrainConfig tc;

  mel_model_config_init (&mc, MEL_MODEL_NGRAM, 8);
  mc.ngram_order = 4;
  mel_train_config_init (&tc);
  tc.window = 8;
  tc.stride = 4;
  tc.batch_size = 2;
  trainer = mel_trainer_new (&mc, &tc, vocab, stream, G_N_ELEMENTS (stream), stream, 12, &error);
  g_assert_no_error (error);
  mel_trainer_set_checkpoint_paths (trainer, last, best);
  g_assert_true (mel_trainer_run (trainer, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpint (mel_trainer_get_stop_reason (trainer), ==, MEL_TRAIN_STOP_EPOCHS);
  g_assert_cmpuint (mel_trainer_get_history (trainer)->len, ==, 1);
  g_assert_cmpuint (mel_trainer_get_state (trainer)->step, ==, 0);
  g_assert_true (mel_trainer_get_state (trainer)->finished);

  expected = g_memdup2 (mel_model_forward (reference, stream, 1, G_N_ELEMENTS (stream)),
                        G_N_ELEMENTS (stream) * 8 * sizeof (float));
  saved = mel_checkpoint_load (best, &error);
  g_assert_no_error (error);
  g_assert_nonnull (saved->model_data);
  loaded = mel_checkpoint_create_model (saved, &error);
  g_assert_no_error (error);
  g_assert_cmpmem (mel_model_forward (loaded, stream, 1, G_N_ELEMENTS (stream)),
                   G_N_ELEMENTS (stream) * 8 * sizeof (float), expected, G_N_ELEMENTS (stream) * 8 * sizeof (float));
  g_remove (last);
  g_remove (best);
  g_rmdir (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/mel/ngram/sums-to-one", test_sums_to_one);
  g_test_add_func ("/mel/ngram/unigram", test_unigram);
  g_test_add_func ("/mel/ngram/escape", test_escape);
  g_test_add_func ("/mel/ngram/state-matches-forward", test_state_matches_forward);
  g_test_add_func ("/mel/ngram/checkpoint-round-trip", test_checkpoint_round_trip);
  g_test_add_func ("/mel/ngram/old-checkpoints", test_old_checkpoints_load);
  g_test_add_func ("/mel/ngram/bad-config", test_bad_config);
  g_test_add_func ("/mel/ngram/higher-order-helps", test_higher_order_helps);
  g_test_add_func ("/mel/ngram/trainer-counts", test_trainer_counts);
  return g_test_run ();
}
