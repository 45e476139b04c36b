/* test-sampler.c — temperature, top-k, determinism, argmax, delimiter stop.
 *
 * SPDX-License-Identifier: MIT
 */
#include <math.h>
#include <string.h>

#include "mel-sampler.h"

static const char *const symbols[] = { "/", "_", "r", "60", "62", "64", "65", "67" };
#define V G_N_ELEMENTS (symbols)

static MelModel *
make_model (guint64 seed)
{
  MelModelConfig config;
  g_autoptr(GError) error = NULL;
  MelModel *model;

  mel_model_config_init (&config, MEL_MODEL_GRU, V);
  config.embed_dim = 6;
  config.hidden_size = 12;
  config.n_layers = 2;
  model = mel_model_new (&config, seed, &error);
  g_assert_no_error (error);
  return model;
}

static GPtrArray *
sample (MelModel *model, const MelVocab *vocab, float temperature, guint top_k, guint n_steps,
        guint64 seed, gboolean stop, const gint32 *primer, guint n_primer, guint n_samples)
{
  MelSamplerConfig config;
  g_autoptr(GError) error = NULL;
  GPtrArray *out;

  mel_sampler_config_init (&config);
  config.temperature = temperature;
  config.top_k = top_k;
  config.n_steps = n_steps;
  config.seed = seed;
  config.stop_at_delimiter = stop;
  out = mel_sample (model, vocab, &config, primer, n_primer, n_samples, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (out->len, ==, n_samples);
  return out;
}

static gboolean
same_ids (GArray *a, GArray *b)
{
  return a->len == b->len && memcmp (a->data, b->data, a->len * sizeof (gint32)) == 0;
}

static void
test_pick (void)
{
  /* p ∝ (1, 2, 4, 8, 1): softmax of ln weights. */
  const float logits[5] = { 0, logf (2), logf (4), logf (8), 0 };
  guint counts[5] = { 0 };
  const guint n = 16000;

  g_assert_cmpint (mel_sampler_pick (logits, 5, 0.0f, 0, 0.5), ==, 3);
  g_assert_cmpint (mel_sampler_pick (logits, 5, 1.0f, 1, 0.01), ==, 3);

  /* Temperature 1: frequencies over a uniform grid match the weights. */
  for (guint i = 0; i < n; i++)
    counts[mel_sampler_pick (logits, 5, 1.0f, 0, (i + 0.5) / n)]++;
  for (guint k = 0; k < 5; k++)
    g_assert_cmpfloat_with_epsilon (counts[k] / (double) n, (k == 4 ? 1.0 : exp2 (k)) / 16.0, 1e-3);

  /* Temperature 2 (applied once): weights become √w = (1, √2, 2, √8, 1). */
  memset (counts, 0, sizeof counts);
  for (guint i = 0; i < n; i++)
    counts[mel_sampler_pick (logits, 5, 2.0f, 0, (i + 0.5) / n)]++;
  {
    double total = 1 + sqrt (2) + 2 + sqrt (8) + 1;

    g_assert_cmpfloat_with_epsilon (counts[3] / (double) n, sqrt (8) / total, 1e-3);
    g_assert_cmpfloat_with_epsilon (counts[0] / (double) n, 1.0 / total, 1e-3);
  }

  /* Top-2: only ids 3 and 2, in ratio 8 : 4. */
  memset (counts, 0, sizeof counts);
  for (guint i = 0; i < n; i++)
    counts[mel_sampler_pick (logits, 5, 1.0f, 2, (i + 0.5) / n)]++;
  g_assert_cmpuint (counts[0] + counts[1] + counts[4], ==, 0);
  g_assert_cmpfloat_with_epsilon (counts[3] / (double) n, 2.0 / 3.0, 1e-3);
}

static void
test_deterministic (void)
{
  g_autoptr(MelVocab) vocab = mel_vocab_new (symbols, V, NULL);
  g_autoptr(MelModel) model = make_model (11);
  g_autoptr(GPtrArray) a = sample (model, vocab, 1.0f, 0, 64, 5, FALSE, NULL, 0, 3);
  g_autoptr(GPtrArray) b = sample (model, vocab, 1.0f, 0, 64, 5, FALSE, NULL, 0, 3);
  g_autoptr(GPtrArray) one = sample (model, vocab, 1.0f, 0, 64, 5, FALSE, NULL, 0, 1);
  g_autoptr(GPtrArray) other = sample (model, vocab, 1.0f, 0, 64, 6, FALSE, NULL, 0, 3);
  guint differ = 0;

  for (guint i = 0; i < 3; i++)
    {
      g_assert_true (same_ids (a->pdata[i], b->pdata[i]));
      g_assert_cmpuint (((GArray *) a->pdata[i])->len, ==, 64);
      differ += !same_ids (a->pdata[i], other->pdata[i]);
    }
  /* Sample i does not depend on how many samples were asked for. */
  g_assert_true (same_ids (a->pdata[0], one->pdata[0]));
  /* Samples of one call differ from each other, and another seed differs. */
  g_assert_false (same_ids (a->pdata[0], a->pdata[1]));
  g_assert_cmpuint (differ, >=, 2);
}

/* Greedy decoding by full forward passes over the growing sequence: the
 * sampler at temperature 0 must agree with it (and so the incremental
 * state must agree with the forward pass). */
static void
test_argmax_matches_forward (void)
{
  g_autoptr(MelVocab) vocab = mel_vocab_new (symbols, V, NULL);
  g_autoptr(MelModel) model = make_model (3);
  const gint32 primer[3] = { 3, 1, 4 };
  g_autoptr(GPtrArray) greedy = sample (model, vocab, 0.0f, 0, 24, 1, FALSE, primer, 3, 2);
  g_autoptr(GPtrArray) top1 = sample (model, vocab, 1.5f, 1, 24, 99, FALSE, primer, 3, 1);
  g_autoptr(GArray) seq = g_array_new (FALSE, FALSE, sizeof (gint32));
  GArray *got = greedy->pdata[0];
  gint32 delimiter = 0;

  g_array_append_val (seq, delimiter);
  g_array_append_vals (seq, primer, 3);
  mel_model_set_training (model, FALSE);
  for (guint t = 0; t < 24; t++)
    {
      const float *logits = mel_model_forward (model, (const gint32 *) seq->data, 1, seq->len);
      const float *last = logits + (gsize) (seq->len - 1) * V;
      gint32 best = 0;

      for (guint k = 1; k < V; k++)
        if (last[k] > last[best])
          best = (gint32) k;
      g_assert_cmpint (g_array_index (got, gint32, t), ==, best);
      g_array_append_val (seq, best);
    }
  /* Argmax has no randomness: every sample is the same, as is top-1. */
  g_assert_true (same_ids (greedy->pdata[0], greedy->pdata[1]));
  g_assert_true (same_ids (greedy->pdata[0], top1->pdata[0]));
}

static void
test_delimiter_stop_and_primer (void)
{
  g_autoptr(MelVocab) vocab = mel_vocab_new (symbols, V, NULL);
  g_autoptr(MelModel) model = make_model (8);
  g_autoptr(GPtrArray) open = sample (model, vocab, 1.0f, 0, 300, 2, FALSE, NULL, 0, 4);
  g_autoptr(GPtrArray) stopped = sample (model, vocab, 1.0f, 0, 300, 2, TRUE, NULL, 0, 4);
  const gint32 primer[2] = { 5, 1 };
  const gint32 primer_with_delimiter[3] = { 0, 5, 1 };
  g_autoptr(GPtrArray) p1 = sample (model, vocab, 0.8f, 3, 40, 4, TRUE, primer, 2, 1);
  g_autoptr(GPtrArray) p2 = sample (model, vocab, 0.8f, 3, 40, 4, TRUE, primer_with_delimiter, 3, 1);
  guint with_delimiter = 0;

  for (guint s = 0; s < 4; s++)
    {
      GArray *full = open->pdata[s], *cut = stopped->pdata[s];
      guint first = full->len;

      for (guint i = 0; i < full->len; i++)
        if (g_array_index (full, gint32, i) == vocab->delimiter_id)
          {
            first = i;
            break;
          }
      with_delimiter += first < full->len;
      /* The stopped sample is the open one up to (without) the first "/". */
      g_assert_cmpuint (cut->len, ==, first);
      g_assert_cmpmem (cut->data, cut->len * 4, full->data, first * 4);
    }
  /* An untrained model writes "/" about one step in eight. */
  g_assert_cmpuint (with_delimiter, >=, 1);
  g_assert_true (same_ids (p1->pdata[0], p2->pdata[0]));

  /* A primer id outside the vocabulary is an error, not a crash. */
  {
    MelSamplerConfig config;
    const gint32 bad[2] = { 3, 99 };
    g_autoptr(GError) error = NULL;

    mel_sampler_config_init (&config);
    g_assert_null (mel_sample (model, vocab, &config, bad, 2, 1, NULL, &error));
    g_assert_error (error, MEL_MODEL_ERROR, MEL_MODEL_ERROR_INVALID_CONFIG);
  }
}

static void
test_cancel (void)
{
  g_autoptr(MelVocab) vocab = mel_vocab_new (symbols, V, NULL);
  g_autoptr(MelModel) model = make_model (8);
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GError) error = NULL;
  MelSamplerConfig config;

  mel_sampler_config_init (&config);
  g_cancellable_cancel (cancellable);
  g_assert_null (mel_sample (model, vocab, &config, NULL, 0, 2, cancellable, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/mel/sampler/pick", test_pick);
  g_test_add_func ("/mel/sampler/deterministic", test_deterministic);
  g_test_add_func ("/mel/sampler/argmax-matches-forward", test_argmax_matches_forward);
  g_test_add_func ("/mel/sampler/delimiter-stop-and-primer", test_delimiter_stop_and_primer);
  g_test_add_func ("/mel/sampler/cancel", test_cancel);
  return g_test_run ();
}
