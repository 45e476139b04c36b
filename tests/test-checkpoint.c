/* test-checkpoint.c — round trip, every kind of damaged file, atomic writes.
 *
 * SPDX-License-Identifier: MIT
 */
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

#include "mel-checkpoint.h"

static const char *const symbols[] = { "/", "_", "r", "60", "62", "64", "65", "67" };

static MelVocab *
make_vocab (void)
{
  return mel_vocab_new (symbols, G_N_ELEMENTS (symbols), NULL);
}

static MelModel *
make_model (guint64 seed)
{
  MelModelConfig config;
  g_autoptr(GError) error = NULL;
  MelModel *model;

  mel_model_config_init (&config, MEL_MODEL_GRU, G_N_ELEMENTS (symbols));
  config.embed_dim = 4;
  config.hidden_size = 8;
  config.n_layers = 1;
  model = mel_model_new (&config, seed, &error);
  g_assert_no_error (error);
  return model;
}

/* A checkpoint with every section filled: a model after one Adam step,
 * two history records, a non-trivial training state. */
static MelCheckpoint *
make_checkpoint (MelModel *model)
{
  g_autoptr(MelVocab) vocab = make_vocab ();
  g_autoptr(MelOptimizer) optim = NULL;
  MelOptimConfig oc;
  MelCheckpoint *ckpt;
  float *grads = mel_model_get_grads (model);
  gsize n = mel_model_get_n_params (model);

  mel_optim_config_init (&oc, MEL_OPTIM_ADAMW);
  optim = mel_optimizer_new (&oc, n);
  for (gsize i = 0; i < n; i++)
    grads[i] = sinf ((float) i);
  g_assert_true (mel_optimizer_step (optim, mel_model_get_params (model), grads, 1e-3f, NULL));

  ckpt = mel_checkpoint_new_from_model (model, vocab, optim);
  ckpt->split_seed = 42;
  g_free (ckpt->preprocessing);
  ckpt->preprocessing = g_strdup ("{\"transpose\":\"normalise\",\"note\":\"Ä\"}");
  ckpt->train.epochs = 7;
  ckpt->train.learning_rate = 3e-3f;
  ckpt->state.step = 123;
  ckpt->state.epoch = 2;
  ckpt->state.batch_in_epoch = 5;
  for (guint i = 0; i < 4; i++)
    ckpt->state.epoch_rng[i] = G_GUINT64_CONSTANT (0x0123456789abcdef) * (i + 1);
  ckpt->state.best_valid_loss = 1.25;
  ckpt->state.data_hash = 99;
  for (guint e = 1; e <= 2; e++)
    {
      MelEpochRecord r = { 0 };

      r.epoch = e;
      r.step = 50 * e;
      r.train_loss = 2.0 / e;
      r.valid_loss = 1.5 / e;
      r.valid_pitch_bits = NAN;
      g_array_append_val (ckpt->history, r);
    }
  return ckpt;
}

static GBytes *
make_bytes (void)
{
  g_autoptr(MelModel) model = make_model (3);
  g_autoptr(MelCheckpoint) ckpt = make_checkpoint (model);

  return mel_checkpoint_to_bytes (ckpt);
}

static void
test_round_trip (void)
{
  g_autoptr(MelModel) model = make_model (7);
  g_autoptr(MelCheckpoint) ckpt = make_checkpoint (model);
  g_autoptr(MelCheckpoint) back = NULL;
  g_autoptr(MelModel) restored = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("mel-ckpt-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "run.ckpt", NULL);
  g_autofree float *logits_a = NULL;
  const gint32 inputs[6] = { 0, 3, 1, 4, 1, 1 };
  gsize n = mel_model_get_n_params (model), vocab = G_N_ELEMENTS (symbols);

  g_assert_true (mel_checkpoint_save (ckpt, path, &error));
  g_assert_no_error (error);
  back = mel_checkpoint_load (path, &error);
  g_assert_no_error (error);
  g_assert_nonnull (back);

  g_assert_cmpmem (&back->model_config, sizeof back->model_config, &ckpt->model_config, sizeof ckpt->model_config);
  g_assert_true (mel_vocab_equal (back->vocab, ckpt->vocab));
  g_assert_cmpuint (back->split_seed, ==, 42);
  g_assert_cmpstr (back->preprocessing, ==, ckpt->preprocessing);
  g_assert_cmpmem (&back->train, sizeof back->train, &ckpt->train, sizeof ckpt->train);
  g_assert_cmpmem (&back->state, sizeof back->state, &ckpt->state, sizeof ckpt->state);
  g_assert_cmpuint (back->history->len, ==, 2);
  g_assert_cmpfloat (g_array_index (back->history, MelEpochRecord, 1).valid_loss, ==, 0.75);
  g_assert_true (isnan (g_array_index (back->history, MelEpochRecord, 0).valid_pitch_bits));
  g_assert_true (back->has_optimizer);
  g_assert_cmpuint (back->adam_step, ==, 1);
  g_assert_cmpmem (back->params, n * 4, mel_model_get_params (model), n * 4);
  g_assert_cmpmem (back->adam_m, n * 4, ckpt->adam_m, n * 4);
  g_assert_cmpmem (back->adam_v, n * 4, ckpt->adam_v, n * 4);

  /* Same parameters, bit for bit, so the same logits, bit for bit. */
  restored = mel_checkpoint_create_model (back, &error);
  g_assert_no_error (error);
  g_assert_cmpmem (mel_model_get_params (restored), n * 4, mel_model_get_params (model), n * 4);
  mel_model_set_training (model, FALSE);
  mel_model_set_training (restored, FALSE);
  logits_a = g_memdup2 (mel_model_forward (model, inputs, 1, 6), 6 * vocab * sizeof (float));
  g_assert_cmpmem (mel_model_forward (restored, inputs, 1, 6), 6 * vocab * 4, logits_a, 6 * vocab * 4);

  /* Saving over an existing file replaces it. */
  g_assert_true (mel_checkpoint_save (ckpt, path, &error));
  g_assert_no_error (error);

  /* Without optimizer state. */
  {
    g_autoptr(MelVocab) v = make_vocab ();
    g_autoptr(MelCheckpoint) bare = mel_checkpoint_new_from_model (model, v, NULL);
    g_autoptr(GBytes) bytes = mel_checkpoint_to_bytes (bare);
    g_autoptr(MelCheckpoint) bare_back = mel_checkpoint_load_from_data (g_bytes_get_data (bytes, NULL),
                                                                        g_bytes_get_size (bytes), &error);

    g_assert_no_error (error);
    g_assert_false (bare_back->has_optimizer);
    g_assert_null (bare_back->adam_m);
  }

  g_assert_cmpint (g_remove (path), ==, 0);
  g_assert_cmpint (g_rmdir (dir), ==, 0);
}

static void
expect_error (const guint8 *data, gsize length, MelCheckpointError code, const char *fragment)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MelCheckpoint) ckpt = mel_checkpoint_load_from_data (data, length, &error);

  g_assert_null (ckpt);
  g_assert_error (error, MEL_CHECKPOINT_ERROR, (int) code);
  if (strstr (error->message, fragment) == NULL)
    g_test_message ("message “%s” lacks “%s”", error->message, fragment);
  g_assert_nonnull (strstr (error->message, fragment));
}

static guint64
fnv1a (const guint8 *data, gsize length)
{
  guint64 hash = G_GUINT64_CONSTANT (0xcbf29ce484222325);

  for (gsize i = 0; i < length; i++)
    hash = (hash ^ data[i]) * G_GUINT64_CONSTANT (0x100000001b3);
  return hash;
}

/* After editing a body field, re-sign the file so only the field is wrong. */
static void
reseal (guint8 *data, gsize length)
{
  guint64 sum = GUINT64_TO_LE (fnv1a (data, length - 8));

  memcpy (data + length - 8, &sum, 8);
}

static void
test_bad_magic_and_version (void)
{
  g_autoptr(GBytes) bytes = make_bytes ();
  gsize len;
  g_autofree guint8 *data = g_memdup2 (g_bytes_get_data (bytes, &len), g_bytes_get_size (bytes));
  const char *text = "**kern\n*M4/4\n";

  expect_error ((const guint8 *) text, strlen (text), MEL_CHECKPOINT_ERROR_BAD_MAGIC, "not a Melodist checkpoint");
  data[1] ^= 0x20;
  expect_error (data, len, MEL_CHECKPOINT_ERROR_BAD_MAGIC, "wrong magic");
  data[1] ^= 0x20;
  data[8] = 2; /* version 2 */
  expect_error (data, len, MEL_CHECKPOINT_ERROR_VERSION, "version 2");
  data[8] = 1;
  data[11] = 0x80;
  expect_error (data, len, MEL_CHECKPOINT_ERROR_VERSION, "unsupported checkpoint format version");
}

static void
test_truncated (void)
{
  g_autoptr(GBytes) bytes = make_bytes ();
  gsize len;
  const guint8 *data = g_bytes_get_data (bytes, &len);

  /* Every length below the full one: all header cuts, then every 7th. */
  for (gsize cut = 0; cut < len; cut += cut < 64 ? 1 : 7)
    {
      g_autofree guint8 *copy = g_memdup2 (data, MAX (cut, 1));

      expect_error (copy, cut, MEL_CHECKPOINT_ERROR_TRUNCATED, "truncated");
    }
  expect_error (data, len - 1, MEL_CHECKPOINT_ERROR_TRUNCATED, "truncated");
}

static void
test_size_mismatch (void)
{
  g_autoptr(GBytes) bytes = make_bytes ();
  gsize len;
  const guint8 *data = g_bytes_get_data (bytes, &len);
  g_autofree guint8 *longer = g_malloc0 (len + 3);
  g_autoptr(MelModel) model = make_model (1);
  g_autoptr(MelCheckpoint) ckpt = make_checkpoint (model);
  g_autoptr(MelCheckpoint) back = NULL;
  g_autoptr(GBytes) other = NULL;
  g_autoptr(GError) error = NULL;

  memcpy (longer, data, len);
  expect_error (longer, len + 3, MEL_CHECKPOINT_ERROR_SIZE_MISMATCH, "size mismatch");

  /* A well-formed file whose parameter count does not fit its model. */
  ckpt->model_config.hidden_size = 9;
  other = mel_checkpoint_to_bytes (ckpt);
  back = mel_checkpoint_load_from_data (g_bytes_get_data (other, NULL), g_bytes_get_size (other), &error);
  g_assert_no_error (error);
  g_assert_null (mel_checkpoint_create_model (back, &error));
  g_assert_error (error, MEL_CHECKPOINT_ERROR, MEL_CHECKPOINT_ERROR_SIZE_MISMATCH);
  g_assert_nonnull (strstr (error->message, "parameter size mismatch"));
}

static void
test_flipped_bytes (void)
{
  g_autoptr(GBytes) bytes = make_bytes ();
  gsize len;
  g_autofree guint8 *data = g_memdup2 (g_bytes_get_data (bytes, &len), g_bytes_get_size (bytes));

  /* Past magic (8), version (4) and size (8): every byte, including the
   * parameters and the checksum itself, is covered by the checksum. */
  for (gsize i = 20; i < len; i++)
    {
      data[i] ^= 0x01 << (i % 8);
      expect_error (data, len, MEL_CHECKPOINT_ERROR_CHECKSUM, "checksum mismatch");
      data[i] ^= 0x01 << (i % 8);
    }
  /* A flipped size byte is a size error. */
  data[12] ^= 0x04;
  {
    g_autoptr(GError) error = NULL;

    g_assert_null (mel_checkpoint_load_from_data (data, len, &error));
    g_assert_true (g_error_matches (error, MEL_CHECKPOINT_ERROR, MEL_CHECKPOINT_ERROR_TRUNCATED)
                   || g_error_matches (error, MEL_CHECKPOINT_ERROR, MEL_CHECKPOINT_ERROR_SIZE_MISMATCH));
  }
}

static void
test_corrupt_fields (void)
{
  g_autoptr(GBytes) bytes = make_bytes ();
  gsize len;
  g_autofree guint8 *data = g_memdup2 (g_bytes_get_data (bytes, &len), g_bytes_get_size (bytes));
  /* Offsets: header 20, flags 4, kind 4, config count 4 + 11 fields of 4. */
  const gsize kind_in_config = 20 + 8 + 4;
  const gsize vocab_count = 20 + 8 + 4 + 44;
  guint32 value;

  value = GUINT32_TO_LE (99);
  memcpy (data + kind_in_config, &value, 4);
  reseal (data, len);
  expect_error (data, len, MEL_CHECKPOINT_ERROR_CORRUPT, "unknown model kind 99");

  memcpy (data, g_bytes_get_data (bytes, NULL), len);
  value = GUINT32_TO_LE (0x7fffffff);
  memcpy (data + vocab_count, &value, 4);
  reseal (data, len);
  expect_error (data, len, MEL_CHECKPOINT_ERROR_CORRUPT, "vocabulary of");

  /* A symbol that is no symbol. */
  memcpy (data, g_bytes_get_data (bytes, NULL), len);
  g_assert_cmpint (data[vocab_count + 8], ==, '/');
  data[vocab_count + 8] = 'x';
  reseal (data, len);
  expect_error (data, len, MEL_CHECKPOINT_ERROR_CORRUPT, "bad vocabulary");

  /* A huge parameter count. */
  memcpy (data, g_bytes_get_data (bytes, NULL), len);
  {
    g_autoptr(MelModel) model = make_model (3);
    gsize n = mel_model_get_n_params (model);
    gsize count_at = len - 8 - 8 - 3 * n * 4 - 8;
    guint64 huge = GUINT64_TO_LE (G_GUINT64_CONSTANT (1) << 60);
    guint64 stored;

    memcpy (&stored, data + count_at, 8);
    g_assert_cmpuint (GUINT64_FROM_LE (stored), ==, n);
    memcpy (data + count_at, &huge, 8);
    reseal (data, len);
    expect_error (data, len, MEL_CHECKPOINT_ERROR_CORRUPT, "parameters");
  }
}

static void
test_atomic_write (void)
{
  g_autoptr(MelModel) model = make_model (5);
  g_autoptr(MelCheckpoint) ckpt = make_checkpoint (model);
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("mel-ckpt-XXXXXX", NULL);
  g_autofree char *missing = g_build_filename (dir, "no-such-dir", "run.ckpt", NULL);
  g_autofree char *blocker = g_build_filename (dir, "blocker", NULL);
  g_autofree char *inside = g_build_filename (blocker, "x", NULL);
  g_autoptr(GDir) listing = NULL;
  const char *name;

  /* The parent does not exist: error, nothing created. */
  g_assert_false (mel_checkpoint_save (ckpt, missing, &error));
  g_assert_error (error, MEL_CHECKPOINT_ERROR, MEL_CHECKPOINT_ERROR_IO);
  g_clear_error (&error);
  g_assert_false (g_file_test (missing, G_FILE_TEST_EXISTS));

  /* The target is a non-empty directory: the temporary file is written,
   * the rename fails, and the temporary file must be gone again. */
  g_assert_cmpint (g_mkdir (blocker, 0755), ==, 0);
  g_assert_true (g_file_set_contents (inside, "x", 1, NULL));
  g_assert_false (mel_checkpoint_save (ckpt, blocker, &error));
  g_assert_error (error, MEL_CHECKPOINT_ERROR, MEL_CHECKPOINT_ERROR_IO);
  listing = g_dir_open (dir, 0, NULL);
  while ((name = g_dir_read_name (listing)) != NULL)
    g_assert_cmpstr (name, ==, "blocker");

  /* Unreadable path on load. */
  g_clear_error (&error);
  g_assert_null (mel_checkpoint_load (missing, &error));
  g_assert_error (error, MEL_CHECKPOINT_ERROR, MEL_CHECKPOINT_ERROR_IO);

  g_remove (inside);
  g_rmdir (blocker);
  g_rmdir (dir);
}

static void
test_load_message_names_file (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("mel-ckpt-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "junk.ckpt", NULL);

  g_assert_true (g_file_set_contents (path, "MELCKPT", 7, NULL));
  g_assert_null (mel_checkpoint_load (path, &error));
  g_assert_error (error, MEL_CHECKPOINT_ERROR, MEL_CHECKPOINT_ERROR_TRUNCATED);
  g_assert_true (g_str_has_prefix (error->message, path));
  g_remove (path);
  g_rmdir (dir);
}

static void
test_best_path (void)
{
  g_autofree char *a = mel_checkpoint_best_path ("runs/run.ckpt");
  g_autofree char *b = mel_checkpoint_best_path ("model.bin");

  g_assert_cmpstr (a, ==, "runs/run.best.ckpt");
  g_assert_cmpstr (b, ==, "model.bin.best");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/mel/checkpoint/round-trip", test_round_trip);
  g_test_add_func ("/mel/checkpoint/bad-magic-and-version", test_bad_magic_and_version);
  g_test_add_func ("/mel/checkpoint/truncated", test_truncated);
  g_test_add_func ("/mel/checkpoint/size-mismatch", test_size_mismatch);
  g_test_add_func ("/mel/checkpoint/flipped-bytes", test_flipped_bytes);
  g_test_add_func ("/mel/checkpoint/corrupt-fields", test_corrupt_fields);
  g_test_add_func ("/mel/checkpoint/atomic-write", test_atomic_write);
  g_test_add_func ("/mel/checkpoint/load-message-names-file", test_load_message_names_file);
  g_test_add_func ("/mel/checkpoint/best-path", test_best_path);
  return g_test_run ();
}
