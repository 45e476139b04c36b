/* test-trainer.c — a tiny GRU on a tiny corpus: learning, exact resume,
 * cancellation, divergence, schedule and step limit.
 *
 * SPDX-License-Identifier: MIT
 */
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

#include "mel-trainer.h"

static const char *const symbols[] = { "/", "_", "r", "60", "62", "64", "65", "67" };
#define V G_N_ELEMENTS (symbols)
enum { D = 0, H = 1, R = 2, C = 3, E4 = 4, E = 5, F = 6, G = 7 };

/* Three tunes of our own (ids above); a song is one of them, chosen by a
 * seeded RNG.  After the first note the rest is determined. */
static const gint32 tune_a[] = { C, H, E4, H, E, H, F, H, G, H, H, H, F, H, E, H, E4, H, C, H, H, H };
static const gint32 tune_b[] = { G, H, H, F, E, H, E4, H, C, H, H, H, R, H, C, H, G, H, H, H };
static const gint32 tune_c[] = { E, H, E, H, G, H, G, H, F, H, E, H, E4, H, H, H, C, H, H, H, H, H, H, H };

static GArray *
make_stream (guint n_songs, guint32 seed)
{
  GArray *ids = g_array_new (FALSE, FALSE, sizeof (gint32));
  g_autoptr(GRand) rand = g_rand_new_with_seed (seed);
  const gint32 delimiter = D;

  for (guint s = 0; s < n_songs; s++)
    {
      guint which = g_rand_int_range (rand, 0, 3);

      g_array_append_val (ids, delimiter);
      if (which == 0)
        g_array_append_vals (ids, tune_a, G_N_ELEMENTS (tune_a));
      else if (which == 1)
        g_array_append_vals (ids, tune_b, G_N_ELEMENTS (tune_b));
      else
        g_array_append_vals (ids, tune_c, G_N_ELEMENTS (tune_c));
    }
  g_array_append_val (ids, delimiter);
  return ids;
}

typedef struct
{
  MelVocab *vocab;
  GArray *train;
  GArray *valid;
  MelModelConfig model_config;
  MelTrainConfig train_config;
  char *dir;
} Fixture;

static void
fixture_setup (Fixture *f, gconstpointer data)
{
  f->vocab = mel_vocab_new (symbols, V, NULL);
  f->train = make_stream (40, 1);
  f->valid = make_stream (8, 2);
  mel_model_config_init (&f->model_config, MEL_MODEL_GRU, V);
  f->model_config.embed_dim = 8;
  f->model_config.hidden_size = 24;
  f->model_config.n_layers = 1;
  mel_train_config_init (&f->train_config);
  f->train_config.epochs = 6;
  f->train_config.batch_size = 8;
  f->train_config.window = 24;
  f->train_config.stride = 12;
  f->train_config.learning_rate = 1e-2f;
  f->train_config.warmup_steps = 5;
  f->train_config.patience = 0;
  f->train_config.seed = 17;
  f->dir = g_dir_make_tmp ("mel-trainer-XXXXXX", NULL);
}

static void
fixture_teardown (Fixture *f, gconstpointer data)
{
  g_autoptr(GDir) dir = g_dir_open (f->dir, 0, NULL);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = g_build_filename (f->dir, name, NULL);

      g_remove (path);
    }
  g_rmdir (f->dir);
  g_free (f->dir);
  mel_vocab_free (f->vocab);
  g_array_unref (f->train);
  g_array_unref (f->valid);
}

static MelTrainer *
make_trainer (Fixture *f)
{
  g_autoptr(GError) error = NULL;
  MelTrainer *trainer = mel_trainer_new (&f->model_config, &f->train_config, f->vocab,
                                         (const gint32 *) f->train->data, f->train->len,
                                         (const gint32 *) f->valid->data, f->valid->len, &error);

  g_assert_no_error (error);
  g_assert_nonnull (trainer);
  return trainer;
}

static void
test_loss_falls (Fixture *f, gconstpointer data)
{
  g_autoptr(MelTrainer) trainer = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *last = g_build_filename (f->dir, "run.ckpt", NULL);
  g_autofree char *best = g_build_filename (f->dir, "run.best.ckpt", NULL);
  g_autoptr(MelCheckpoint) saved = NULL;
  GArray *history;
  const MelEpochRecord *first, *final;

  f->train_config.epochs = 30;
  trainer = make_trainer (f);
  mel_trainer_set_checkpoint_paths (trainer, last, NULL);
  mel_trainer_set_data_info (trainer, 42, "{\"test\":true}");
  g_assert_true (mel_trainer_run (trainer, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpint (mel_trainer_get_stop_reason (trainer), ==, MEL_TRAIN_STOP_EPOCHS);

  history = mel_trainer_get_history (trainer);
  g_assert_cmpuint (history->len, ==, 30);
  first = &g_array_index (history, MelEpochRecord, 0);
  final = &g_array_index (history, MelEpochRecord, history->len - 1);
  g_test_message ("train loss %.3f → %.3f, valid %.3f → %.3f nats, onset accuracy %.2f",
                  first->train_loss, final->train_loss, first->valid_loss, final->valid_loss,
                  final->valid_onset_accuracy);
  /* Uniform guessing costs ln 8 = 2.08 nats.  Only the first note of each
   * song is uncertain (one of three tunes): the rest is learnable. */
  g_assert_cmpfloat (final->valid_loss, <, 0.45);
  g_assert_cmpfloat (final->train_loss, <, first->train_loss);
  g_assert_cmpfloat (final->valid_accuracy, >, 0.85);

  g_assert_true (g_file_test (last, G_FILE_TEST_IS_REGULAR));
  g_assert_true (g_file_test (best, G_FILE_TEST_IS_REGULAR));
  saved = mel_checkpoint_load (last, &error);
  g_assert_no_error (error);
  g_assert_true (saved->state.finished);
  g_assert_cmpuint (saved->history->len, ==, 30);
  g_assert_cmpuint (saved->split_seed, ==, 42);
  g_assert_cmpstr (saved->preprocessing, ==, "{\"test\":true}");

  /* A finished run does not run again. */
  g_assert_false (mel_trainer_run (trainer, NULL, &error));
  g_assert_error (error, MEL_TRAINER_ERROR, MEL_TRAINER_ERROR_INVALID);
}

static void
cancel_at_step (const MelTrainProgress *p, gpointer data)
{
  GCancellable *cancellable = data;
  guint64 at = GPOINTER_TO_UINT (g_object_get_data (G_OBJECT (cancellable), "at"));

  if (p->event == MEL_TRAIN_EVENT_STEP && p->step == at)
    g_cancellable_cancel (cancellable);
}

static void
test_resume_exact (Fixture *f, gconstpointer data)
{
  g_autoptr(MelTrainer) straight = NULL;
  g_autoptr(MelTrainer) first = NULL;
  g_autoptr(MelTrainer) second = NULL;
  g_autoptr(MelTrainer) third = NULL;
  g_autoptr(MelCheckpoint) ckpt = NULL;
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *path = g_build_filename (f->dir, "paused.ckpt", NULL);
  GArray *h1, *h2;
  guint64 per_epoch;
  gsize n;

  /* Dropout on, so the resumed run must also replay the masks. */
  f->model_config.dropout = 0.2f;
  f->train_config.epochs = 3;
  straight = make_trainer (f);
  g_assert_true (mel_trainer_run (straight, NULL, &error));
  g_assert_no_error (error);
  per_epoch = mel_trainer_get_batches_per_epoch (straight);
  g_assert_cmpuint (per_epoch, >, 4);

  /* Pause in the middle of epoch 2, resume from the file, pause again in
   * epoch 3, resume again. */
  first = make_trainer (f);
  mel_trainer_set_checkpoint_paths (first, path, NULL);
  g_object_set_data (G_OBJECT (cancellable), "at", GUINT_TO_POINTER ((guint) (per_epoch + 3)));
  mel_trainer_set_progress_func (first, cancel_at_step, cancellable);
  g_assert_false (mel_trainer_run (first, cancellable, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error (&error);
  g_assert_cmpuint (mel_trainer_get_state (first)->step, ==, per_epoch + 3);

  ckpt = mel_checkpoint_load (path, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (ckpt->state.batch_in_epoch, ==, 3);
  second = mel_trainer_new_resume (ckpt, (const gint32 *) f->train->data, f->train->len,
                                   (const gint32 *) f->valid->data, f->valid->len, &error);
  g_assert_no_error (error);
  mel_trainer_set_checkpoint_paths (second, path, NULL);
  g_cancellable_reset (cancellable);
  g_object_set_data (G_OBJECT (cancellable), "at", GUINT_TO_POINTER ((guint) (2 * per_epoch + 1)));
  mel_trainer_set_progress_func (second, cancel_at_step, cancellable);
  g_assert_false (mel_trainer_run (second, cancellable, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error (&error);

  g_clear_pointer (&ckpt, mel_checkpoint_free);
  ckpt = mel_checkpoint_load (path, &error);
  g_assert_no_error (error);
  third = mel_trainer_new_resume (ckpt, (const gint32 *) f->train->data, f->train->len,
                                  (const gint32 *) f->valid->data, f->valid->len, &error);
  g_assert_no_error (error);
  g_assert_true (mel_trainer_run (third, NULL, &error));
  g_assert_no_error (error);

  n = mel_model_get_n_params (mel_trainer_get_model (straight));
  g_assert_cmpmem (mel_model_get_params (mel_trainer_get_model (third)), n * 4,
                   mel_model_get_params (mel_trainer_get_model (straight)), n * 4);
  g_assert_cmpuint (mel_trainer_get_state (third)->step, ==, mel_trainer_get_state (straight)->step);
  h1 = mel_trainer_get_history (straight);
  h2 = mel_trainer_get_history (third);
  g_assert_cmpuint (h1->len, ==, h2->len);
  for (guint i = 0; i < h1->len; i++)
    {
      g_assert_cmpfloat (g_array_index (h1, MelEpochRecord, i).train_loss, ==,
                         g_array_index (h2, MelEpochRecord, i).train_loss);
      g_assert_cmpfloat (g_array_index (h1, MelEpochRecord, i).valid_loss, ==,
                         g_array_index (h2, MelEpochRecord, i).valid_loss);
    }

  /* Resuming on other data is refused. */
  g_clear_pointer (&ckpt, mel_checkpoint_free);
  ckpt = mel_checkpoint_load (path, &error);
  g_assert_no_error (error);
  {
    g_autoptr(MelTrainer) wrong = mel_trainer_new_resume (ckpt, (const gint32 *) f->valid->data,
                                                          f->valid->len, NULL, 0, &error);

    g_assert_null (wrong);
    g_assert_error (error, MEL_TRAINER_ERROR, MEL_TRAINER_ERROR_INVALID);
  }
}

typedef struct
{
  MelTrainer *trainer;
  GCancellable *cancellable;
  GError *error;
  gboolean result;
  gint64 returned_us;
} RunData;

static gpointer
run_thread (gpointer data)
{
  RunData *run = data;

  run->result = mel_trainer_run (run->trainer, run->cancellable, &run->error);
  run->returned_us = g_get_monotonic_time ();
  return NULL;
}

static void
test_cancel_prompt (Fixture *f, gconstpointer data)
{
  g_autoptr(MelTrainer) trainer = NULL;
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  RunData run = { 0 };
  GThread *thread;
  gint64 cancelled_us;

  f->train_config.epochs = 100000;
  trainer = make_trainer (f);
  run.trainer = trainer;
  run.cancellable = cancellable;
  thread = g_thread_new ("trainer", run_thread, &run);
  g_usleep (150000);
  cancelled_us = g_get_monotonic_time ();
  g_cancellable_cancel (cancellable);
  g_thread_join (thread);

  g_assert_false (run.result);
  g_assert_error (run.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error (&run.error);
  g_assert_cmpuint (mel_trainer_get_state (trainer)->step, >, 0);
  /* One step of this model takes about a millisecond; allow for a whole
   * validation pass and a slow sanitizer build. */
  g_test_message ("returned %.1f ms after the cancel", (run.returned_us - cancelled_us) / 1000.0);
  g_assert_cmpint (run.returned_us - cancelled_us, <, 500000);
}

typedef struct
{
  guint64 at;
  char *path;
  GBytes *good; /* the last checkpoint as written before the NaN */
} NanData;

static void
inject_nan (float *grads, gsize n, guint64 step, gpointer data)
{
  NanData *nan_data = data;

  if (step == nan_data->at)
    grads[n / 2] = NAN;
}

static void
remember_checkpoint (const MelTrainProgress *p, gpointer data)
{
  NanData *nan_data = data;

  if (p->event == MEL_TRAIN_EVENT_EPOCH)
    {
      g_autofree char *contents = NULL;
      gsize length;

      g_assert_true (g_file_get_contents (nan_data->path, &contents, &length, NULL));
      g_clear_pointer (&nan_data->good, g_bytes_unref);
      nan_data->good = g_bytes_new_take (g_steal_pointer (&contents), length);
    }
}

static void
test_nan_stops (Fixture *f, gconstpointer data)
{
  g_autoptr(MelTrainer) trainer = make_trainer (f);
  g_autoptr(GError) error = NULL;
  g_autoptr(MelCheckpoint) ckpt = NULL;
  g_autofree char *contents = NULL;
  g_autofree char *path = g_build_filename (f->dir, "nan.ckpt", NULL);
  NanData nan_data = { 0, path, NULL };
  guint64 per_epoch = mel_trainer_get_batches_per_epoch (trainer);
  gsize length;

  nan_data.at = per_epoch + 2; /* in epoch 2: epoch 1's checkpoint exists */
  mel_trainer_set_checkpoint_paths (trainer, path, NULL);
  mel_trainer_set_grad_hook (trainer, inject_nan, &nan_data);
  mel_trainer_set_progress_func (trainer, remember_checkpoint, &nan_data);
  g_assert_false (mel_trainer_run (trainer, NULL, &error));
  g_assert_error (error, MEL_TRAINER_ERROR, MEL_TRAINER_ERROR_DIVERGED);
  g_assert_nonnull (strstr (error->message, "gradient"));
  g_assert_nonnull (strstr (error->message, "last good"));
  g_clear_error (&error);
  /* The update with the NaN was not applied. */
  g_assert_cmpuint (mel_trainer_get_state (trainer)->step, ==, per_epoch + 2);
  {
    MelModel *model = mel_trainer_get_model (trainer);
    const float *p = mel_model_get_params (model);

    for (gsize i = 0; i < mel_model_get_n_params (model); i++)
      g_assert_true (isfinite (p[i]));
  }

  /* The file on disk is byte for byte the epoch-1 checkpoint and loads. */
  g_assert_nonnull (nan_data.good);
  g_assert_true (g_file_get_contents (path, &contents, &length, NULL));
  g_assert_cmpmem (contents, length, g_bytes_get_data (nan_data.good, NULL), g_bytes_get_size (nan_data.good));
  ckpt = mel_checkpoint_load (path, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (ckpt->state.step, ==, per_epoch);
  g_bytes_unref (nan_data.good);
}

static void
test_schedule_per_epoch (Fixture *f, gconstpointer data)
{
  g_autoptr(MelTrainer) trainer = NULL;
  g_autoptr(GError) error = NULL;
  GArray *history;

  /* Step decay "halve every epoch" must halve once per epoch, not once
   * per batch. */
  f->train_config.epochs = 3;
  f->train_config.lr_decay = MEL_LR_STEP;
  f->train_config.decay_epochs = 1;
  f->train_config.decay_gamma = 0.5f;
  f->train_config.warmup_steps = 0;
  trainer = make_trainer (f);
  g_assert_true (mel_trainer_run (trainer, NULL, &error));
  g_assert_no_error (error);
  history = mel_trainer_get_history (trainer);
  for (guint e = 0; e < 3; e++)
    g_assert_cmpfloat_with_epsilon (g_array_index (history, MelEpochRecord, e).learning_rate,
                                    1e-2 * pow (0.5, e), 1e-9);
}

static void
test_max_steps (Fixture *f, gconstpointer data)
{
  g_autoptr(MelTrainer) trainer = NULL;
  g_autoptr(GError) error = NULL;
  GArray *history;

  f->train_config.max_steps = 7;
  trainer = make_trainer (f);
  g_assert_true (mel_trainer_run (trainer, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpint (mel_trainer_get_stop_reason (trainer), ==, MEL_TRAIN_STOP_MAX_STEPS);
  g_assert_cmpuint (mel_trainer_get_state (trainer)->step, ==, 7);
  history = mel_trainer_get_history (trainer);
  g_assert_cmpuint (history->len, ==, 1);
  g_assert_false (isnan (g_array_index (history, MelEpochRecord, 0).valid_loss));
}

static GArray *
repeat_tune (const gint32 *tune, guint length, guint n_songs)
{
  GArray *ids = g_array_new (FALSE, FALSE, sizeof (gint32));
  const gint32 delimiter = D;

  for (guint s = 0; s < n_songs; s++)
    {
      g_array_append_val (ids, delimiter);
      g_array_append_vals (ids, tune, length);
    }
  g_array_append_val (ids, delimiter);
  return ids;
}

static void
test_early_stopping (Fixture *f, gconstpointer data)
{
  g_autoptr(MelTrainer) trainer = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(MelCheckpoint) best = NULL;
  g_autofree char *last = g_build_filename (f->dir, "early.ckpt", NULL);
  g_autofree char *best_path = g_build_filename (f->dir, "early.best.ckpt", NULL);
  const MelTrainState *state;
  GArray *history;
  double lowest = INFINITY;
  guint lowest_epoch = 0;

  /* Learn tune A only, validate on tune C: the validation loss improves
   * while the model learns what the tunes share, then worsens as it
   * memorises A. */
  g_array_unref (f->train);
  g_array_unref (f->valid);
  f->train = repeat_tune (tune_a, G_N_ELEMENTS (tune_a), 20);
  f->valid = repeat_tune (tune_c, G_N_ELEMENTS (tune_c), 4);
  f->train_config.epochs = 300;
  f->train_config.patience = 3;
  f->train_config.lr_decay = MEL_LR_CONSTANT;
  trainer = make_trainer (f);
  mel_trainer_set_checkpoint_paths (trainer, last, NULL);
  g_assert_true (mel_trainer_run (trainer, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpint (mel_trainer_get_stop_reason (trainer), ==, MEL_TRAIN_STOP_EARLY);

  history = mel_trainer_get_history (trainer);
  state = mel_trainer_get_state (trainer);
  g_assert_cmpuint (history->len, <, 300);
  for (guint i = 0; i < history->len; i++)
    if (g_array_index (history, MelEpochRecord, i).valid_loss < lowest)
      {
        lowest = g_array_index (history, MelEpochRecord, i).valid_loss;
        lowest_epoch = i + 1;
      }
  /* Stopped exactly `patience` epochs after the best one, which is the
   * one kept in the best checkpoint. */
  g_assert_cmpuint (state->best_epoch, ==, lowest_epoch);
  g_assert_cmpuint (history->len, ==, lowest_epoch + 3);
  g_assert_cmpfloat (state->best_valid_loss, ==, lowest);
  best = mel_checkpoint_load (best_path, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (best->history->len, ==, lowest_epoch);
  g_assert_cmpuint (best->state.best_epoch, ==, lowest_epoch);
}

static void
test_invalid_input (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  const gint32 bad[40] = { 0, 3, 1, 9 };
  MelTrainer *trainer;

  trainer = mel_trainer_new (&f->model_config, &f->train_config, f->vocab, bad, 40, NULL, 0, &error);
  g_assert_null (trainer);
  g_assert_error (error, MEL_TRAINER_ERROR, MEL_TRAINER_ERROR_INVALID);
  g_clear_error (&error);

  trainer = mel_trainer_new (&f->model_config, &f->train_config, f->vocab, (const gint32 *) f->train->data,
                             10, NULL, 0, &error);
  g_assert_null (trainer);
  g_assert_error (error, MEL_TRAINER_ERROR, MEL_TRAINER_ERROR_INVALID);
  g_clear_error (&error);

  f->train_config.batch_size = 0;
  trainer = mel_trainer_new (&f->model_config, &f->train_config, f->vocab, (const gint32 *) f->train->data,
                             f->train->len, NULL, 0, &error);
  g_assert_null (trainer);
  g_assert_error (error, MEL_TRAINER_ERROR, MEL_TRAINER_ERROR_INVALID);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
#define ADD(path, func) g_test_add (path, Fixture, NULL, fixture_setup, func, fixture_teardown)
  ADD ("/mel/trainer/loss-falls", test_loss_falls);
  ADD ("/mel/trainer/resume-exact", test_resume_exact);
  ADD ("/mel/trainer/cancel-prompt", test_cancel_prompt);
  ADD ("/mel/trainer/nan-stops", test_nan_stops);
  ADD ("/mel/trainer/schedule-per-epoch", test_schedule_per_epoch);
  ADD ("/mel/trainer/max-steps", test_max_steps);
  ADD ("/mel/trainer/early-stopping", test_early_stopping);
  ADD ("/mel/trainer/invalid-input", test_invalid_input);
  return g_test_run ();
}
