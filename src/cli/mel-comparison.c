/* mel-comparison.c — the shared measurement of `compare`, and its reports.
 *
 * SPDX-License-Identifier: MIT
 */
#include "mel-comparison.h"

#include <json-glib/json-glib.h>
#include <math.h>
#include <string.h>

#include "mel-folds.h"
#include "mel-sampler.h"
#include "mel-vae.h"

void
mel_comparison_options_init (MelComparisonOptions *options)
{
  g_return_if_fail (options != NULL);
  memset (options, 0, sizeof *options);
  options->n_samples = 50;
  options->sample_steps = 256;
  options->temperature = 1.0f;
  options->seed = 1;
  options->baseline_order = 8;
  options->n_folds = 0;
  options->threshold_bars = MEL_MEMORISE_DEFAULT_THRESHOLD_BARS;
  options->batch = 32;
  mel_stm_config_init (&options->stm);
}

static void
run_free (MelComparisonRun *run)
{
  if (run == NULL)
    return;
  g_free (run->name);
  g_free (run->path);
  g_clear_pointer (&run->history, g_array_unref);
  g_clear_pointer (&run->samples, g_ptr_array_unref);
  g_clear_pointer (&run->memory, g_array_unref);
  g_clear_pointer (&run->cv, mel_cross_validation_free);
  g_free (run);
}

void
mel_comparison_free (MelComparison *comparison)
{
  if (comparison == NULL)
    return;
  g_clear_pointer (&comparison->runs, g_ptr_array_unref);
  g_free (comparison->data_description);
  g_clear_pointer (&comparison->memory_index, mel_memory_index_free);
  g_free (comparison);
}

/* ---- data ------------------------------------------------------------------ */

/* @ids (dataset numbering) in @vocab's numbering, or NULL with an error. */
static GArray *
map_ids (const MelDataset *dataset, GArray *ids, const MelVocab *vocab, const char *run, GError **error)
{
  g_autoptr(GArray) out = g_array_sized_new (FALSE, FALSE, sizeof (gint32), ids->len);
  g_autofree gint32 *map = g_new (gint32, MAX (dataset->vocabulary->len, 1));

  for (guint i = 0; i < dataset->vocabulary->len; i++)
    map[i] = mel_vocab_lookup (vocab, dataset->vocabulary->pdata[i]);
  for (guint i = 0; i < ids->len; i++)
    {
      gint32 id = g_array_index (ids, gint32, i), mapped;

      mapped = id >= 0 && (guint) id < dataset->vocabulary->len ? map[id] : -1;
      if (mapped < 0)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                       "%s: the test songs hold the symbol “%s”, which the model does not know", run,
                       id >= 0 && (guint) id < dataset->vocabulary->len ? (const char *) dataset->vocabulary->pdata[id]
                                                                         : "?");
          return NULL;
        }
      g_array_append_val (out, mapped);
    }
  return g_steal_pointer (&out);
}

/* The songs of @split, one per source song (the first transposed copy),
 * transposed as the data were. */
static GPtrArray *
split_songs (const MelDataset *dataset, GPtrArray *songs, MelSplit split)
{
  GPtrArray *out = g_ptr_array_new_with_free_func ((GDestroyNotify) mel_song_unref);
  g_autoptr(GHashTable) seen = g_hash_table_new (NULL, NULL);

  for (guint i = 0; i < dataset->songs->len; i++)
    {
      const MelDatasetSong *ds = &g_array_index (dataset->songs, MelDatasetSong, i);
      MelSong *song = NULL;

      if (ds->split != split || !g_hash_table_add (seen, GUINT_TO_POINTER (ds->song_index + 1)))
        continue;
      if (songs != NULL && ds->song_index < songs->len)
        song = ds->transpose == 0 ? mel_song_ref (songs->pdata[ds->song_index])
                                  : mel_song_transpose (songs->pdata[ds->song_index], ds->transpose);
      else
        {
          g_autoptr(GPtrArray) symbols = g_ptr_array_new ();

          for (guint k = 1; k <= ds->length; k++)
            g_ptr_array_add (symbols,
                             dataset->vocabulary->pdata[g_array_index (dataset->ids, gint32, ds->offset + k)]);
          song = mel_song_decode ((const char *const *) symbols->pdata, symbols->len, ds->song_id, NULL, NULL,
                                  NULL);
        }
      if (song != NULL)
        g_ptr_array_add (out, song);
    }
  return out;
}

/* ---- samples ---------------------------------------------------------------- */

static MelSong *
decode_sample (const MelVocab *vocab, const gint32 *ids, guint n, guint index)
{
  g_autoptr(GPtrArray) symbols = g_ptr_array_new ();
  g_autofree char *id = g_strdup_printf ("sample-%u", index + 1);

  for (guint i = 0; i < n; i++)
    if (ids[i] != vocab->delimiter_id)
      g_ptr_array_add (symbols, vocab->symbols[ids[i]]);
  if (symbols->len == 0)
    return NULL;
  return mel_song_decode ((const char *const *) symbols->pdata, symbols->len, id, NULL, NULL, NULL);
}

static gboolean
draw_samples (MelComparisonRun *run, MelModel *model, const MelVocab *vocab, const MelComparisonOptions *o,
              GCancellable *cancellable, GError **error)
{
  run->samples = g_ptr_array_new_with_free_func ((GDestroyNotify) mel_song_unref);
  if (o->n_samples == 0)
    return TRUE;
  if (run->config.kind == MEL_MODEL_VAE)
    {
      g_autofree gint32 *out = g_new (gint32, run->config.segment_steps);

      for (guint s = 0; s < o->n_samples; s++)
        {
          MelSong *song;

          if (!mel_vae_sample_prior (model, o->seed + s, o->temperature, out, NULL, error))
            return FALSE;
          if ((song = decode_sample (vocab, out, run->config.segment_steps, s)) != NULL)
            g_ptr_array_add (run->samples, song);
        }
      return TRUE;
    }
  {
    MelSamplerConfig config;
    g_autoptr(GPtrArray) ids = NULL;

    mel_sampler_config_init (&config);
    config.temperature = o->temperature;
    config.n_steps = o->sample_steps;
    config.seed = o->seed;
    ids = mel_sample (model, vocab, &config, NULL, 0, o->n_samples, cancellable, error);
    if (ids == NULL)
      return FALSE;
    for (guint s = 0; s < ids->len; s++)
      {
        GArray *a = ids->pdata[s];
        MelSong *song = decode_sample (vocab, (const gint32 *) a->data, a->len, s);

        if (song != NULL)
          g_ptr_array_add (run->samples, song);
      }
  }
  return TRUE;
}

/* Scores, samples and checks one model. */
static gboolean
measure_run (MelComparison *cmp, MelComparisonRun *run, MelModel *model, const MelVocab *vocab,
             const MelDataset *dataset, guint train_window, GCancellable *cancellable, GError **error)
{
  const MelComparisonOptions *o = &cmp->options;
  g_autoptr(GArray) raw = NULL;
  g_autoptr(GArray) ids = NULL;
  gint64 started = g_get_monotonic_time ();

  run->config = *mel_model_get_config (model);
  run->n_params = mel_model_get_n_params (model);
  if (run->config.kind == MEL_MODEL_VAE)
    {
      guint n_segments = 0;

      raw = mel_dataset_get_segments (dataset, MEL_SPLIT_TEST, run->config.segment_steps, &n_segments);
    }
  else
    raw = mel_dataset_get_split_ids (dataset, MEL_SPLIT_TEST);
  ids = map_ids (dataset, raw, vocab, run->name, error);
  if (ids == NULL)
    return FALSE;
  if (!mel_evaluate_with_stm (model, vocab, (const gint32 *) ids->data, ids->len,
                              mel_evaluation_window (model, train_window), o->batch,
                              o->use_stm && run->config.kind != MEL_MODEL_VAE ? &o->stm : NULL, cancellable,
                              &run->test, error))
    return FALSE;
  if (!run->is_baseline)
    run->seconds = (g_get_monotonic_time () - started) / 1e6;
  if (!draw_samples (run, model, vocab, o, cancellable, error))
    return FALSE;

  mel_melody_stats_init (&run->sample_stats);
  mel_melody_stats_add_songs (&run->sample_stats, run->samples);
  for (guint k = 0; k < MEL_N_STATS; k++)
    run->distance[k] = mel_melody_stats_distance (&cmp->test_stats, &run->sample_stats, k,
                                                  MEL_STATS_DEFAULT_SMOOTHING);
  run->memory = g_array_new (FALSE, TRUE, sizeof (MelMemoryMatch));
  for (guint s = 0; s < run->samples->len; s++)
    {
      MelMemoryMatch match;

      run->n_copied += mel_memory_index_find (cmp->memory_index, run->samples->pdata[s], o->threshold_bars, &match);
      g_array_append_val (run->memory, match);
    }
  return TRUE;
}

typedef struct
{
  MelComparisonProgress progress;
  gpointer user_data;
  const char *name;
} FoldProgress;

static void
fold_progress (guint fold, guint n_folds, const MelEvaluation *result, gpointer data)
{
  FoldProgress *fp = data;
  g_autofree char *stage = g_strdup_printf ("%s: fold %u/%u", fp->name, fold, n_folds);

  if (fp->progress != NULL)
    fp->progress (stage, (double) fold / n_folds, fp->user_data);
}

/* k-fold cross-validation of @config (trained with @train_config unless
 * it counts) on every song of @dataset. */
static MelCrossValidation *
cross_validate (MelComparison *cmp, const MelDataset *dataset, const MelVocab *vocab, const char *name,
                const MelModelConfig *config, const MelTrainConfig *train_config, MelComparisonProgress progress,
                gpointer user_data, GCancellable *cancellable, GError **error)
{
  guint n_folds = cmp->options.n_folds;
  g_autofree guint *folds = mel_dataset_assign_folds (dataset, n_folds, dataset->options.split_seed);
  g_autoptr(GPtrArray) train = g_ptr_array_new_with_free_func ((GDestroyNotify) g_array_unref);
  g_autoptr(GPtrArray) valid = g_ptr_array_new_with_free_func ((GDestroyNotify) g_array_unref);
  g_autoptr(GPtrArray) test = g_ptr_array_new_with_free_func ((GDestroyNotify) g_array_unref);
  gboolean validate = cmp->options.cv_validate && train_config != NULL && n_folds >= 3;
  MelCrossValidationOptions cvo = { cmp->options.use_stm ? &cmp->options.stm : NULL, validate ? valid : NULL };
  FoldProgress fp = { progress, user_data, name };

  for (guint k = 0; k < n_folds; k++)
    {
      g_ptr_array_add (test, mel_dataset_get_fold_ids (dataset, folds, k, TRUE));
      if (!validate)
        {
          g_ptr_array_add (train, mel_dataset_get_fold_ids (dataset, folds, k, FALSE));
          continue;
        }
      /* The inner validation fold is the next one, also by melody group:
       * relabelled as fold k, its songs leave the training stream too. */
      {
        guint next = (k + 1) % n_folds;
        g_autofree guint *inner = g_memdup2 (folds, dataset->songs->len * sizeof (guint));

        for (guint s = 0; s < dataset->songs->len; s++)
          if (inner[s] == next)
            inner[s] = k;
        g_ptr_array_add (train, mel_dataset_get_fold_ids (dataset, inner, k, FALSE));
        g_ptr_array_add (valid, mel_dataset_get_fold_ids (dataset, folds, next, TRUE));
      }
    }
  return mel_cross_validate_full (config, train_config, vocab, train, test, &cvo, fold_progress, &fp, cancellable,
                                  error);
}

/* Each run's configuration retrained on the folds (same vocabulary only:
 * the folds are in the dataset's numbering). */
static gboolean
cross_validate_runs (MelComparison *cmp, GPtrArray *checkpoints, const MelDataset *dataset, const MelVocab *vocab,
                     MelComparisonProgress progress, gpointer user_data, GCancellable *cancellable,
                     GError **error)
{
  for (guint i = 0; i < checkpoints->len; i++)
    {
      const MelCheckpoint *ckpt = checkpoints->pdata[i];
      MelComparisonRun *run = cmp->runs->pdata[i];

      if (ckpt->model_config.kind == MEL_MODEL_VAE)
        continue; /* the folds are song streams, not segments */
      if (!mel_vocab_equal (ckpt->vocab, vocab))
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                       "%s: its vocabulary differs from the data's, so it cannot be cross-validated on them",
                       run->name);
          return FALSE;
        }
      run->cv = cross_validate (cmp, dataset, vocab, run->name, &ckpt->model_config, &ckpt->train, progress,
                                user_data, cancellable, error);
      if (run->cv == NULL)
        return FALSE;
    }
  return TRUE;
}

MelComparison *
mel_comparison_run (GPtrArray *checkpoints, GPtrArray *names, const MelDataset *dataset, GPtrArray *songs,
                    const char *data_description, const MelComparisonOptions *options,
                    MelComparisonProgress progress, gpointer user_data, GCancellable *cancellable,
                    GError **error)
{
  g_autoptr(MelComparison) cmp = NULL;
  g_autoptr(MelVocab) vocab = NULL;
  g_autoptr(GPtrArray) train_songs = NULL;
  g_autoptr(GPtrArray) test_songs = NULL;
  guint n_steps;

  g_return_val_if_fail (checkpoints != NULL && names != NULL && checkpoints->len == names->len, NULL);
  g_return_val_if_fail (dataset != NULL && options != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  vocab = mel_vocab_new ((const char *const *) dataset->vocabulary->pdata, dataset->vocabulary->len, error);
  if (vocab == NULL)
    return NULL;
  cmp = g_new0 (MelComparison, 1);
  cmp->options = *options;
  cmp->data_description = g_strdup (data_description != NULL ? data_description : "");
  cmp->runs = g_ptr_array_new_with_free_func ((GDestroyNotify) run_free);

  /* The yardstick: the corpus against itself. */
  train_songs = split_songs (dataset, songs, MEL_SPLIT_TRAIN);
  test_songs = split_songs (dataset, songs, MEL_SPLIT_TEST);
  cmp->n_train_songs = train_songs->len;
  cmp->n_test_songs = test_songs->len;
  mel_melody_stats_init (&cmp->train_stats);
  mel_melody_stats_init (&cmp->test_stats);
  mel_melody_stats_add_songs (&cmp->train_stats, train_songs);
  mel_melody_stats_add_songs (&cmp->test_stats, test_songs);
  for (guint k = 0; k < MEL_N_STATS; k++)
    cmp->reference[k] = mel_melody_stats_distance (&cmp->test_stats, &cmp->train_stats, k,
                                                   MEL_STATS_DEFAULT_SMOOTHING);
  cmp->memory_index = mel_memory_index_new (train_songs);

  n_steps = checkpoints->len + 1 + (options->n_folds >= 2);
  for (guint i = 0; i < checkpoints->len; i++)
    {
      const MelCheckpoint *ckpt = checkpoints->pdata[i];
      MelComparisonRun *run = g_new0 (MelComparisonRun, 1);
      g_autoptr(MelModel) model = NULL;

      g_ptr_array_add (cmp->runs, run);
      run->name = g_strdup (names->pdata[i]);
      run->history = g_array_copy (ckpt->history);
      if (progress != NULL)
        progress (run->name, (double) i / n_steps, user_data);
      model = mel_checkpoint_create_model (ckpt, error);
      if (model == NULL
          || !measure_run (cmp, run, model, ckpt->vocab, dataset, ckpt->train.window, cancellable, error))
        return NULL;
    }

  /* The baseline, counted on the same training split. */
  {
    MelComparisonRun *run = g_new0 (MelComparisonRun, 1);
    g_autoptr(GArray) train = mel_dataset_get_split_ids (dataset, MEL_SPLIT_TRAIN);
    g_autoptr(MelModel) model = NULL;
    MelModelConfig config;
    gint64 started = g_get_monotonic_time ();

    g_ptr_array_add (cmp->runs, run);
    run->is_baseline = TRUE;
    run->name = g_strdup_printf ("n-gram baseline (order %u)", options->baseline_order);
    run->history = g_array_new (FALSE, TRUE, sizeof (MelEpochRecord));
    if (progress != NULL)
      progress (run->name, (double) checkpoints->len / n_steps, user_data);
    mel_model_config_init (&config, MEL_MODEL_NGRAM, vocab->size);
    config.ngram_order = options->baseline_order;
    model = mel_model_new (&config, 1, error);
    if (model == NULL || !mel_model_fit (model, (const gint32 *) train->data, train->len, cancellable, error))
      return NULL;
    run->seconds = (g_get_monotonic_time () - started) / 1e6;
    if (!measure_run (cmp, run, model, vocab, dataset, 64, cancellable, error))
      return NULL;
    cmp->n_test_symbols = run->test.metrics.n_symbols;
    cmp->n_test_notes = run->test.metrics.n_onsets;
  }

  if (options->n_folds >= 2)
    {
      MelComparisonRun *baseline = cmp->runs->pdata[cmp->runs->len - 1];

      baseline->cv = cross_validate (cmp, dataset, vocab, baseline->name, &baseline->config, NULL, progress,
                                     user_data, cancellable, error);
      if (baseline->cv == NULL)
        return NULL;
      cmp->baseline_cv = baseline->cv;
      if (options->cross_validate_runs
          && !cross_validate_runs (cmp, checkpoints, dataset, vocab, progress, user_data, cancellable, error))
        return NULL;
    }
  if (progress != NULL)
    progress ("done", 1.0, user_data);
  return g_steal_pointer (&cmp);
}

/* ---- text and JSON ------------------------------------------------------------ */

static double
mean_overlap (const MelStatDistance *d)
{
  double sum = 0;
  guint n = 0;

  for (guint k = 0; k < MEL_N_STATS; k++)
    if (isfinite (d[k].overlap))
      {
        sum += d[k].overlap;
        n++;
      }
  return n > 0 ? sum / n : NAN;
}

/* A VAE's bits/symbol is a reconstruction from the segment's own code, not
 * a prediction: this line says so and gives the comparable figure, the
 * ELBO bound (reconstruction + KL spread over the segment's symbols). */
static char *
vae_note (const MelComparisonRun *r)
{
  return g_strdup_printf ("vae: reconstructs %u-step segments from their own code (not a prediction); "
                          "ELBO bound %.4f bits/symbol, KL %.2f nats, free-running reconstruction %.2f %%",
                          r->config.segment_steps, r->test.vae.elbo_bits, r->test.vae.kl_nats,
                          100 * r->test.vae.accuracy_free);
}

char *
mel_comparison_to_table (const MelComparison *cmp)
{
  GString *out = g_string_new (NULL);

  g_return_val_if_fail (cmp != NULL, NULL);

  g_string_append_printf (out, "Test split: %u songs, %" G_GUINT64_FORMAT " symbols, %" G_GUINT64_FORMAT
                          " notes; training split: %u songs\n\n",
                          cmp->n_test_songs, cmp->n_test_symbols, cmp->n_test_notes, cmp->n_train_songs);
  g_string_append_printf (out, "%-32s %-9s %9s %9s %8s %8s %10s %8s %8s\n", "run", "kind", "params", "bits/sym",
                          "acc %", "onset %", "pitch b/n", "overlap", "copies");
  for (guint i = 0; i < cmp->runs->len; i++)
    {
      const MelComparisonRun *r = cmp->runs->pdata[i];
      g_autofree char *copies = g_strdup_printf ("%u/%u", r->n_copied, r->samples->len);

      g_string_append_printf (out, "%-32.32s %-9s %9" G_GSIZE_FORMAT " %9.4f %8.2f %8.2f %10.4f %8.3f %8s\n", r->name,
                              mel_model_kind_to_string (r->config.kind), r->n_params, r->test.bits_per_symbol,
                              100 * r->test.accuracy, 100 * r->test.onset_accuracy, r->test.pitch_bits,
                              mean_overlap (r->distance), copies);
      if (r->test.has_vae)
        {
          g_autofree char *note = vae_note (r);

          g_string_append_printf (out, "  %s\n", note);
        }
      if (r->test.has_stm)
        {
          g_autofree char *name = g_strdup_printf ("%.25s + STM", r->name);

          g_string_append_printf (out, "%-32.32s %-9s %9" G_GSIZE_FORMAT " %9.4f %8.2f %8.2f %10.4f %8s %8s\n", name,
                                  mel_model_kind_to_string (r->config.kind), r->n_params, r->test.stm_bits_per_symbol,
                                  100 * r->test.stm_accuracy, 100 * r->test.stm_onset_accuracy,
                                  r->test.stm_pitch_bits, "", "");
        }
    }
  g_string_append_printf (out, "%-32s %-9s %9s %9s %8s %8s %10s %8.3f\n", "corpus: training vs test songs", "",
                          "", "", "", "", "", mean_overlap (cmp->reference));
  g_string_append (out, "\noverlap: mean overlapping area of the sample histograms with the test songs' "
                        "(1 = identical); copies: samples sharing a run of at least ");
  g_string_append_printf (out, "%g bars with a training song.\n", cmp->options.threshold_bars);
  for (guint i = 0; i < cmp->runs->len; i++)
    {
      const MelComparisonRun *r = cmp->runs->pdata[i];

      if (r->cv == NULL)
        continue;
      g_string_append_printf (out,
                              "\n%u-fold cross-validation of %s (folds by melody group): pitch %.4f "
                              "bits/note pooled (fold mean %.4f ± %.4f), %.4f bits/symbol, onset accuracy %.2f %%, "
                              "%.1f s\n",
                              r->cv->n_folds, r->is_baseline ? "the baseline" : r->name, r->cv->pooled.pitch_bits,
                              r->cv->pitch_bits_mean, r->cv->pitch_bits_sd, r->cv->pooled.bits_per_symbol,
                              100 * r->cv->pooled.onset_accuracy, r->cv->seconds);
      if (r->cv->pooled.has_stm)
        g_string_append_printf (out,
                                "  + STM: pitch %.4f bits/note pooled (fold mean %.4f ± %.4f), %.4f bits/symbol, "
                                "onset accuracy %.2f %%\n",
                                r->cv->pooled.stm_pitch_bits, r->cv->stm_pitch_bits_mean, r->cv->stm_pitch_bits_sd,
                                r->cv->pooled.stm_bits_per_symbol, 100 * r->cv->pooled.stm_onset_accuracy);
      if (r->cv->epochs_run_max > 0)
        g_string_append_printf (out, "  epochs trained per fold: %u–%u\n", r->cv->epochs_run_min,
                                r->cv->epochs_run_max);
    }
  if (cmp->options.use_stm)
    {
      const MelStmConfig *stm = &cmp->options.stm;
      g_autofree char *order = stm->order == 0 ? g_strdup ("unbounded") : g_strdup_printf ("%u", stm->order);

      g_string_append_printf (out, "\nSTM: short-term model of each test song (order %s, escape %s, %s "
                              "combination, bias %g, weight %g, interval viewpoint %g).\n",
                              order, mel_stm_escape_to_string (stm->escape),
                              mel_stm_combination_to_string (stm->combination), stm->bias, stm->weight,
                              stm->interval_weight);
    }
  return g_string_free (out, FALSE);
}

static void
add_number (JsonBuilder *b, const char *name, double value)
{
  json_builder_set_member_name (b, name);
  if (isfinite (value))
    json_builder_add_double_value (b, value);
  else
    json_builder_add_null_value (b);
}

static void
add_evaluation (JsonBuilder *b, const char *name, const MelEvaluation *e)
{
  json_builder_set_member_name (b, name);
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "symbols");
  json_builder_add_int_value (b, (gint64) e->metrics.n_symbols);
  json_builder_set_member_name (b, "notes");
  json_builder_add_int_value (b, (gint64) e->metrics.n_onsets);
  add_number (b, "bits_per_symbol", e->bits_per_symbol);
  add_number (b, "accuracy", e->accuracy);
  add_number (b, "onset_accuracy", e->onset_accuracy);
  add_number (b, "pitch_bits_per_note", e->pitch_bits);
  if (e->has_vae)
    {
      add_number (b, "vae_reconstruction_bits", e->vae.recon_bits);
      add_number (b, "vae_kl_nats", e->vae.kl_nats);
      add_number (b, "vae_elbo_bits", e->vae.elbo_bits);
      add_number (b, "vae_accuracy_teacher", e->vae.accuracy_teacher);
      add_number (b, "vae_accuracy_free", e->vae.accuracy_free);
    }
  if (e->has_stm)
    {
      json_builder_set_member_name (b, "stm");
      json_builder_begin_object (b);
      add_number (b, "bits_per_symbol", e->stm_bits_per_symbol);
      add_number (b, "accuracy", e->stm_accuracy);
      add_number (b, "onset_accuracy", e->stm_onset_accuracy);
      add_number (b, "pitch_bits_per_note", e->stm_pitch_bits);
      json_builder_end_object (b);
    }
  json_builder_end_object (b);
}

static void
add_histogram (JsonBuilder *b, const MelMelodyStats *stats, MelStatKind kind)
{
  double p[MEL_STAT_MAX_BINS];

  mel_melody_stats_get_distribution (stats, kind, 0.0, p);
  json_builder_begin_array (b);
  for (guint i = 0; i < mel_stat_n_bins (kind); i++)
    json_builder_add_double_value (b, p[i]);
  json_builder_end_array (b);
}

static void
add_stats (JsonBuilder *b, const MelMelodyStats *stats, const MelStatDistance *distance)
{
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "songs");
  json_builder_add_int_value (b, stats->n_songs);
  add_number (b, "out_of_scale_share", mel_melody_stats_out_of_scale_share (stats));
  add_number (b, "tonic_ending_share", mel_melody_stats_tonic_ending_share (stats));
  add_number (b, "mean_range", mel_melody_stats_mean_range (stats));
  add_number (b, "mean_notes_per_bar", mel_melody_stats_mean_density (stats));
  json_builder_set_member_name (b, "histograms");
  json_builder_begin_object (b);
  for (guint k = 0; k < MEL_N_STATS; k++)
    {
      json_builder_set_member_name (b, mel_stat_kind_to_string (k));
      add_histogram (b, stats, k);
    }
  json_builder_end_object (b);
  if (distance != NULL)
    {
      json_builder_set_member_name (b, "distance_to_test");
      json_builder_begin_object (b);
      for (guint k = 0; k < MEL_N_STATS; k++)
        {
          json_builder_set_member_name (b, mel_stat_kind_to_string (k));
          json_builder_begin_object (b);
          add_number (b, "kl_bits", distance[k].kl);
          add_number (b, "overlap", distance[k].overlap);
          json_builder_end_object (b);
        }
      json_builder_end_object (b);
    }
  json_builder_end_object (b);
}

char *
mel_comparison_to_json (const MelComparison *cmp)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(JsonGenerator) gen = json_generator_new ();
  g_autoptr(JsonNode) root = NULL;

  g_return_val_if_fail (cmp != NULL, NULL);

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "data");
  json_builder_add_string_value (b, cmp->data_description);
  json_builder_set_member_name (b, "train_songs");
  json_builder_add_int_value (b, cmp->n_train_songs);
  json_builder_set_member_name (b, "test_songs");
  json_builder_add_int_value (b, cmp->n_test_songs);
  json_builder_set_member_name (b, "memorisation_threshold_bars");
  json_builder_add_double_value (b, cmp->options.threshold_bars);
  if (cmp->options.use_stm)
    {
      json_builder_set_member_name (b, "short_term_model");
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "order");
      json_builder_add_int_value (b, cmp->options.stm.order);
      json_builder_set_member_name (b, "escape");
      json_builder_add_string_value (b, mel_stm_escape_to_string (cmp->options.stm.escape));
      json_builder_set_member_name (b, "combination");
      json_builder_add_string_value (b, mel_stm_combination_to_string (cmp->options.stm.combination));
      add_number (b, "bias", cmp->options.stm.bias);
      add_number (b, "weight", cmp->options.stm.weight);
      add_number (b, "interval_weight", cmp->options.stm.interval_weight);
      json_builder_end_object (b);
    }
  json_builder_set_member_name (b, "cross_validation_inner_validation");
  json_builder_add_boolean_value (b, cmp->options.cv_validate);
  json_builder_set_member_name (b, "runs");
  json_builder_begin_array (b);
  for (guint i = 0; i < cmp->runs->len; i++)
    {
      const MelComparisonRun *r = cmp->runs->pdata[i];

      json_builder_begin_object (b);
      json_builder_set_member_name (b, "name");
      json_builder_add_string_value (b, r->name);
      json_builder_set_member_name (b, "checkpoint");
      if (r->path != NULL)
        json_builder_add_string_value (b, r->path);
      else
        json_builder_add_null_value (b);
      json_builder_set_member_name (b, "baseline");
      json_builder_add_boolean_value (b, r->is_baseline);
      json_builder_set_member_name (b, "kind");
      json_builder_add_string_value (b, mel_model_kind_to_string (r->config.kind));
      json_builder_set_member_name (b, "parameters");
      json_builder_add_int_value (b, (gint64) r->n_params);
      if (r->config.kind == MEL_MODEL_NGRAM)
        {
          json_builder_set_member_name (b, "order");
          json_builder_add_int_value (b, r->config.ngram_order);
        }
      add_evaluation (b, "test", &r->test);
      json_builder_set_member_name (b, "loss_history");
      json_builder_begin_array (b);
      for (guint e = 0; e < r->history->len; e++)
        {
          const MelEpochRecord *rec = &g_array_index (r->history, MelEpochRecord, e);

          json_builder_begin_object (b);
          json_builder_set_member_name (b, "epoch");
          json_builder_add_int_value (b, rec->epoch);
          add_number (b, "train_loss", rec->train_loss);
          add_number (b, "valid_loss", rec->valid_loss);
          json_builder_end_object (b);
        }
      json_builder_end_array (b);
      json_builder_set_member_name (b, "samples");
      add_stats (b, &r->sample_stats, r->distance);
      if (r->cv != NULL)
        {
          json_builder_set_member_name (b, "cross_validation");
          json_builder_begin_object (b);
          json_builder_set_member_name (b, "folds");
          json_builder_add_int_value (b, r->cv->n_folds);
          add_evaluation (b, "pooled", &r->cv->pooled);
          add_number (b, "pitch_bits_fold_mean", r->cv->pitch_bits_mean);
          add_number (b, "pitch_bits_fold_sd", r->cv->pitch_bits_sd);
          add_number (b, "stm_pitch_bits_fold_mean", r->cv->stm_pitch_bits_mean);
          add_number (b, "stm_pitch_bits_fold_sd", r->cv->stm_pitch_bits_sd);
          json_builder_set_member_name (b, "epochs_run_min");
          json_builder_add_int_value (b, r->cv->epochs_run_min);
          json_builder_set_member_name (b, "epochs_run_max");
          json_builder_add_int_value (b, r->cv->epochs_run_max);
          add_number (b, "seconds", r->cv->seconds);
          json_builder_end_object (b);
        }
      json_builder_set_member_name (b, "copied_samples");
      json_builder_add_int_value (b, r->n_copied);
      json_builder_set_member_name (b, "memorisation");
      json_builder_begin_array (b);
      for (guint s = 0; s < r->memory->len; s++)
        {
          const MelMemoryMatch *m = &g_array_index (r->memory, MelMemoryMatch, s);

          json_builder_begin_object (b);
          json_builder_set_member_name (b, "notes");
          json_builder_add_int_value (b, m->n_notes);
          add_number (b, "bars", m->n_bars);
          json_builder_set_member_name (b, "max_notes");
          json_builder_add_int_value (b, m->max_notes);
          json_builder_set_member_name (b, "song");
          if (m->song_id != NULL)
            json_builder_add_string_value (b, m->song_id);
          else
            json_builder_add_null_value (b);
          json_builder_set_member_name (b, "copied");
          json_builder_add_boolean_value (b, m->copied);
          json_builder_end_object (b);
        }
      json_builder_end_array (b);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  json_builder_set_member_name (b, "corpus_test");
  add_stats (b, &cmp->test_stats, NULL);
  json_builder_set_member_name (b, "corpus_train");
  add_stats (b, &cmp->train_stats, cmp->reference);
  json_builder_set_member_name (b, "baseline_cross_validation");
  if (cmp->baseline_cv != NULL)
    {
      const MelCrossValidation *cv = cmp->baseline_cv;

      json_builder_begin_object (b);
      json_builder_set_member_name (b, "folds");
      json_builder_add_int_value (b, cv->n_folds);
      add_evaluation (b, "pooled", &cv->pooled);
      add_number (b, "pitch_bits_fold_mean", cv->pitch_bits_mean);
      add_number (b, "pitch_bits_fold_sd", cv->pitch_bits_sd);
      add_number (b, "seconds", cv->seconds);
      json_builder_set_member_name (b, "per_fold");
      json_builder_begin_array (b);
      for (guint k = 0; k < cv->folds->len; k++)
        {
          json_builder_begin_object (b);
          add_evaluation (b, "test", &g_array_index (cv->folds, MelEvaluation, k));
          json_builder_end_object (b);
        }
      json_builder_end_array (b);
      json_builder_end_object (b);
    }
  else
    json_builder_add_null_value (b);
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  json_generator_set_root (gen, root);
  json_generator_set_pretty (gen, TRUE);
  return json_generator_to_data (gen, NULL);
}

/* ---- HTML with inline SVG ------------------------------------------------------ */

static const char *const palette[] = { "#1c71d8", "#e66100", "#2ec27e", "#9141ac", "#c01c28", "#986a44",
                                       "#f5c211", "#33d17a" };
#define CORPUS_COLOUR "#77767b"

static const char *
colour (guint i)
{
  return palette[i % G_N_ELEMENTS (palette)];
}

static void
append_escaped (GString *out, const char *text)
{
  g_autofree char *escaped = g_markup_escape_text (text, -1);

  g_string_append (out, escaped);
}

/* Loss curves of every run with a history: train solid, validation dashed. */
static void
svg_loss_plot (GString *out, const MelComparison *cmp)
{
  const double w = 640, h = 300, left = 56, right = 16, top = 16, bottom = 40;
  double lo = INFINITY, hi = -INFINITY;
  guint max_epoch = 1;

  for (guint i = 0; i < cmp->runs->len; i++)
    {
      const MelComparisonRun *r = cmp->runs->pdata[i];

      for (guint e = 0; e < r->history->len; e++)
        {
          const MelEpochRecord *rec = &g_array_index (r->history, MelEpochRecord, e);

          max_epoch = MAX (max_epoch, rec->epoch);
          if (isfinite (rec->train_loss))
            lo = MIN (lo, rec->train_loss), hi = MAX (hi, rec->train_loss);
          if (isfinite (rec->valid_loss))
            lo = MIN (lo, rec->valid_loss), hi = MAX (hi, rec->valid_loss);
        }
    }
  if (!isfinite (lo))
    {
      g_string_append (out, "<p>No run has a loss history.</p>\n");
      return;
    }
  if (hi - lo < 1e-6)
    hi = lo + 1e-3;
  g_string_append_printf (out, "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"plot\" width=\"%g\" height=\"%g\" "
                          "viewBox=\"0 0 %g %g\" role=\"img\" aria-label=\"loss curves\">\n", w, h, w, h);
  g_string_append_printf (out, "<rect x=\"%g\" y=\"%g\" width=\"%g\" height=\"%g\" fill=\"none\" stroke=\"#ccc\"/>\n",
                          left, top, w - left - right, h - top - bottom);
  for (guint t = 0; t <= 4; t++)
    {
      double v = lo + (hi - lo) * t / 4, y = top + (h - top - bottom) * (1 - t / 4.0);

      g_string_append_printf (out, "<text x=\"%g\" y=\"%g\" font-size=\"11\" text-anchor=\"end\">%.3f</text>\n",
                              left - 4, y + 4, v);
    }
  g_string_append_printf (out, "<text x=\"%g\" y=\"%g\" font-size=\"11\" text-anchor=\"middle\">epoch (1 … %u); "
                          "loss in nats/symbol: solid train, dashed validation</text>\n",
                          left + (w - left - right) / 2, h - 8, max_epoch);
#define PX(epoch) (left + (w - left - right) * (max_epoch > 1 ? ((epoch) - 1.0) / (max_epoch - 1.0) : 0.5))
#define PY(v) (top + (h - top - bottom) * (1 - ((v) - lo) / (hi - lo)))
  for (guint i = 0; i < cmp->runs->len; i++)
    {
      const MelComparisonRun *r = cmp->runs->pdata[i];

      for (guint series = 0; series < 2; series++)
        {
          g_autoptr(GString) points = g_string_new (NULL);
          guint n = 0;

          for (guint e = 0; e < r->history->len; e++)
            {
              const MelEpochRecord *rec = &g_array_index (r->history, MelEpochRecord, e);
              double v = series == 0 ? rec->train_loss : rec->valid_loss;

              if (!isfinite (v))
                continue;
              g_string_append_printf (points, "%.1f,%.1f ", PX (rec->epoch), PY (v));
              g_string_append_printf (out, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"2.5\" fill=\"%s\"/>\n", PX (rec->epoch),
                                      PY (v), colour (i));
              n++;
            }
          if (n > 1)
            g_string_append_printf (out, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"1.5\"%s points=\"%s\"/>\n",
                                    colour (i), series == 1 ? " stroke-dasharray=\"5,3\"" : "", points->str);
        }
    }
#undef PX
#undef PY
  g_string_append (out, "</svg>\n");
}

/* Grouped bars: the held-out songs (grey) and every run's samples. */
static void
svg_histogram (GString *out, const MelComparison *cmp, MelStatKind kind)
{
  guint bins = mel_stat_n_bins (kind), series = cmp->runs->len + 1;
  const double w = 640, h = 220, left = 40, right = 8, top = 12, bottom = 36;
  double dist[MEL_STAT_MAX_BINS], hi = 0, group = (w - left - right) / bins, bar = group * 0.85 / series;

  for (guint s = 0; s < series; s++)
    {
      const MelMelodyStats *stats = s == 0 ? &cmp->test_stats
                                           : &((const MelComparisonRun *) cmp->runs->pdata[s - 1])->sample_stats;

      mel_melody_stats_get_distribution (stats, kind, 0.0, dist);
      for (guint b = 0; b < bins; b++)
        hi = MAX (hi, dist[b]);
    }
  if (hi <= 0)
    hi = 1;
  g_string_append_printf (out, "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"plot\" width=\"%g\" height=\"%g\" "
                          "viewBox=\"0 0 %g %g\" role=\"img\" aria-label=\"%s\">\n", w, h, w, h,
                          mel_stat_kind_to_string (kind));
  g_string_append_printf (out, "<line x1=\"%g\" y1=\"%g\" x2=\"%g\" y2=\"%g\" stroke=\"#999\"/>\n", left,
                          h - bottom, w - right, h - bottom);
  g_string_append_printf (out, "<text x=\"%g\" y=\"%g\" font-size=\"10\" text-anchor=\"end\">%.2f</text>\n", left - 3,
                          top + 8, hi);
  for (guint s = 0; s < series; s++)
    {
      const MelMelodyStats *stats = s == 0 ? &cmp->test_stats
                                           : &((const MelComparisonRun *) cmp->runs->pdata[s - 1])->sample_stats;

      mel_melody_stats_get_distribution (stats, kind, 0.0, dist);
      for (guint b = 0; b < bins; b++)
        {
          double bh = (h - top - bottom) * dist[b] / hi;

          g_string_append_printf (out, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\"/>\n",
                                  left + b * group + s * bar, h - bottom - bh, MAX (bar - 0.5, 0.5), bh,
                                  s == 0 ? CORPUS_COLOUR : colour (s - 1));
        }
    }
  for (guint b = 0; b < bins; b++)
    {
      g_autofree char *label = mel_stat_bin_label (kind, b);

      g_string_append_printf (out, "<text x=\"%.1f\" y=\"%g\" font-size=\"9\" text-anchor=\"middle\">", left + (b + 0.5) * group,
                              h - bottom + 12);
      append_escaped (out, label);
      g_string_append (out, "</text>\n");
    }
  g_string_append (out, "</svg>\n");
}

static void
html_legend (GString *out, const MelComparison *cmp)
{
  g_string_append_printf (out, "<p class=\"legend\"><span style=\"color:%s\">■</span> held-out songs", CORPUS_COLOUR);
  for (guint i = 0; i < cmp->runs->len; i++)
    {
      const MelComparisonRun *r = cmp->runs->pdata[i];

      g_string_append_printf (out, " &#160; <span style=\"color:%s\">■</span> ", colour (i));
      append_escaped (out, r->name);
    }
  g_string_append (out, "</p>\n");
}

static void
html_cell (GString *out, double value, const char *format)
{
  g_string_append (out, "<td>");
  if (isfinite (value))
    g_string_append_printf (out, format, value);
  else
    g_string_append (out, "–");
  g_string_append (out, "</td>");
}

gboolean
mel_comparison_write_html (const MelComparison *cmp, const char *path, GError **error)
{
  g_autoptr(GString) out = g_string_new (NULL);

  g_return_val_if_fail (cmp != NULL && path != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  g_string_append (out, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                        "<title>Melodist: model comparison</title>\n<style>\n"
                        "body{font-family:sans-serif;max-width:60em;margin:2em auto;color:#222}\n"
                        "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.2em .5em;"
                        "text-align:right}th{background:#f4f4f4}td:first-child{text-align:left}\n"
                        ".flag{color:#c01c28;font-weight:bold}\n</style>\n</head>\n<body>\n"
                        "<h1>Model comparison</h1>\n");
  g_string_append_printf (out, "<p>Every model is scored on the same %u held-out songs (%" G_GUINT64_FORMAT
                          " symbols, %" G_GUINT64_FORMAT " notes); the n-gram baseline is counted on the same "
                          "%u training songs. Data: <code>",
                          cmp->n_test_songs, cmp->n_test_symbols, cmp->n_test_notes, cmp->n_train_songs);
  append_escaped (out, cmp->data_description);
  g_string_append (out, "</code></p>\n<h2>Prediction of held-out songs</h2>\n<table>\n<tr><th>run</th><th>kind</th>"
                        "<th>parameters</th><th>bits/symbol</th><th>accuracy %</th><th>onset accuracy %</th>"
                        "<th>pitch bits/note</th><th>sample overlap</th><th>copies</th></tr>\n");
  for (guint i = 0; i < cmp->runs->len; i++)
    {
      const MelComparisonRun *r = cmp->runs->pdata[i];

      g_string_append_printf (out, "<tr><td><span style=\"color:%s\">■</span> ", colour (i));
      append_escaped (out, r->name);
      g_string_append_printf (out, "</td><td>%s</td><td>%" G_GSIZE_FORMAT "</td>",
                              mel_model_kind_to_string (r->config.kind), r->n_params);
      html_cell (out, r->test.bits_per_symbol, "%.4f");
      html_cell (out, 100 * r->test.accuracy, "%.2f");
      html_cell (out, 100 * r->test.onset_accuracy, "%.2f");
      html_cell (out, r->test.pitch_bits, "%.4f");
      html_cell (out, mean_overlap (r->distance), "%.3f");
      g_string_append_printf (out, "<td%s>%u/%u</td></tr>\n", r->n_copied > 0 ? " class=\"flag\"" : "", r->n_copied,
                              r->samples->len);
      if (r->test.has_vae)
        {
          g_autofree char *note = vae_note (r);

          g_string_append (out, "<tr><td colspan=\"9\"><small>");
          append_escaped (out, note);
          g_string_append (out, "</small></td></tr>\n");
        }
      if (r->test.has_stm)
        {
          g_string_append (out, "<tr><td>");
          append_escaped (out, r->name);
          g_string_append_printf (out, " + STM</td><td>%s</td><td>%" G_GSIZE_FORMAT "</td>",
                                  mel_model_kind_to_string (r->config.kind), r->n_params);
          html_cell (out, r->test.stm_bits_per_symbol, "%.4f");
          html_cell (out, 100 * r->test.stm_accuracy, "%.2f");
          html_cell (out, 100 * r->test.stm_onset_accuracy, "%.2f");
          html_cell (out, r->test.stm_pitch_bits, "%.4f");
          g_string_append (out, "<td></td><td></td></tr>\n");
        }
    }
  g_string_append (out, "<tr><td>corpus: training vs held-out songs</td><td></td><td></td><td></td><td></td><td></td>"
                        "<td></td>");
  html_cell (out, mean_overlap (cmp->reference), "%.3f");
  g_string_append (out, "<td></td></tr>\n</table>\n<p>Holds (“_”) are most symbols and easy to predict: onset "
                        "accuracy and pitch bits per note measure the melody. Pitch bits per note: −log₂ of the "
                        "true pitch’s probability renormalised over the pitch symbols at every note onset.</p>\n");
  for (guint i = 0; i < cmp->runs->len; i++)
    {
      const MelComparisonRun *r = cmp->runs->pdata[i];

      if (r->cv == NULL)
        continue;
      g_string_append_printf (out, "<p>%u-fold cross-validation (folds by melody group) of ", r->cv->n_folds);
      append_escaped (out, r->name);
      g_string_append_printf (out, ": <b>%.4f</b> pitch bits/note pooled (fold mean %.4f ± %.4f), %.4f bits/symbol.</p>\n",
                              r->cv->pooled.pitch_bits, r->cv->pitch_bits_mean, r->cv->pitch_bits_sd,
                              r->cv->pooled.bits_per_symbol);
      if (r->cv->pooled.has_stm)
        g_string_append_printf (out, "<p>… with the short-term model: <b>%.4f</b> pitch bits/note pooled (fold mean "
                                "%.4f ± %.4f), %.4f bits/symbol.</p>\n",
                                r->cv->pooled.stm_pitch_bits, r->cv->stm_pitch_bits_mean, r->cv->stm_pitch_bits_sd,
                                r->cv->pooled.stm_bits_per_symbol);
    }

  g_string_append (out, "<h2>Loss curves</h2>\n");
  html_legend (out, cmp);
  svg_loss_plot (out, cmp);

  g_string_append (out, "<h2>Generated samples against the held-out songs</h2>\n<p>After Yang &amp; Lerch (2018). "
                        "KL(held-out ‖ samples) in bits with 0.5 added to every bin; overlap = Σ min(p, q). The "
                        "corpus row is the training songs against the held-out songs: the distance of two samples "
                        "of the same music.</p>\n<table>\n<tr><th>statistic</th>");
  for (guint i = 0; i < cmp->runs->len; i++)
    {
      g_string_append (out, "<th>");
      append_escaped (out, ((const MelComparisonRun *) cmp->runs->pdata[i])->name);
      g_string_append (out, "<br>KL / overlap</th>");
    }
  g_string_append (out, "<th>corpus<br>KL / overlap</th></tr>\n");
  for (guint k = 0; k < MEL_N_STATS; k++)
    {
      g_string_append_printf (out, "<tr><td>%s</td>", mel_stat_kind_title (k));
      for (guint i = 0; i <= cmp->runs->len; i++)
        {
          const MelStatDistance *d = i < cmp->runs->len ? &((const MelComparisonRun *) cmp->runs->pdata[i])->distance[k]
                                                        : &cmp->reference[k];

          g_string_append_printf (out, "<td>%.3f / %.3f</td>", d->kl, d->overlap);
        }
      g_string_append (out, "</tr>\n");
    }
  g_string_append (out, "</table>\n");
  html_legend (out, cmp);
  for (guint k = 0; k < MEL_N_STATS; k++)
    {
      g_string_append_printf (out, "<h3>%s</h3>\n", mel_stat_kind_title (k));
      svg_histogram (out, cmp, k);
    }

  g_string_append_printf (out, "<h2>Memorisation</h2>\n<p>The longest run each sample shares with a training song, "
                          "compared as intervals and rhythm (so transposed copies count). Flagged from %g bars.</p>\n",
                          cmp->options.threshold_bars);
  for (guint i = 0; i < cmp->runs->len; i++)
    {
      const MelComparisonRun *r = cmp->runs->pdata[i];

      g_string_append (out, "<h3>");
      append_escaped (out, r->name);
      g_string_append (out, "</h3>\n<table>\n<tr><th>sample</th><th>bars</th><th>notes</th><th>song</th></tr>\n");
      for (guint s = 0; s < r->memory->len; s++)
        {
          const MelMemoryMatch *m = &g_array_index (r->memory, MelMemoryMatch, s);

          g_string_append_printf (out, "<tr%s><td>%u</td><td>%.2f</td><td>%u</td><td>", m->copied ? " class=\"flag\"" : "",
                                  s + 1, m->n_bars, m->n_notes);
          append_escaped (out, m->song_id != NULL ? m->song_id : "–");
          g_string_append (out, "</td></tr>\n");
        }
      g_string_append (out, "</table>\n");
    }
  g_string_append (out, "</body>\n</html>\n");
  return g_file_set_contents_full (path, out->str, (gssize) out->len, G_FILE_SET_CONTENTS_CONSISTENT, 0644, error);
}
