/* cli-compare.c — `melodist-cli compare`: every run and the n-gram
 * baseline on the same held-out songs (the engine is mel-comparison.c).
 *
 * The shared data are those of the first checkpoint (its preprocessing
 * record: corpus, transposition, split seed…), or --corpus with it; runs
 * trained on another split are measured on this one all the same, with a
 * warning.  Without checkpoints only the baseline is measured, on --corpus
 * (default: the embedded corpus) with --transpose / --split-seed.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <glib/gi18n.h>
#include <json-glib/json-glib.h>
#include <stdio.h>
#include <string.h>

#include "mel-cli.h"
#include "mel-comparison.h"
#include "mel-corpus.h"

#define EMBEDDED "embedded"

/* The songs and dataset of @corpus_path with @options ("embedded" for the
 * embedded corpus; an encoded dataset file gives no songs). */
static MelDataset *
load_data (const char *corpus_path, const MelPreprocessOptions *options, GPtrArray **songs_out, GError **error)
{
  g_autoptr(MelCorpus) corpus = NULL;
  g_autoptr(GPtrArray) songs = NULL;
  MelDataset *dataset;

  *songs_out = NULL;
  if (g_strcmp0 (corpus_path, EMBEDDED) != 0 && g_file_test (corpus_path, G_FILE_TEST_IS_REGULAR)
      && !g_str_has_suffix (corpus_path, ".krn"))
    return mel_dataset_load (corpus_path, error);
  if (g_strcmp0 (corpus_path, EMBEDDED) == 0)
    corpus = mel_corpus_load_embedded (error);
  else
    corpus = mel_corpus_load (corpus_path, 0, NULL, NULL, NULL, error);
  if (corpus == NULL)
    return NULL;
  /* As `train` does: each exact duplicate once. */
  songs = g_ptr_array_new_with_free_func ((GDestroyNotify) mel_song_unref);
  for (guint i = 0; i < corpus->songs->len; i++)
    if (g_array_index (corpus->duplicate_of, gint32, i) < 0)
      g_ptr_array_add (songs, mel_song_ref (corpus->songs->pdata[i]));
  dataset = mel_dataset_build (songs, options, NULL, NULL, NULL, error);
  if (dataset != NULL)
    *songs_out = g_steal_pointer (&songs);
  return dataset;
}

/* Reads the preprocessing record `train` stores in checkpoints. */
static gboolean
options_from_description (const char *json, char **corpus, MelPreprocessOptions *o, GError **error)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  JsonObject *obj;

  mel_preprocess_options_init (o);
  if (json == NULL || *json == '\0' || !json_parser_load_from_data (parser, json, -1, NULL)
      || !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                           _("the checkpoint does not describe its data; pass --corpus"));
      return FALSE;
    }
  obj = json_node_get_object (json_parser_get_root (parser));
  *corpus = g_strdup (json_object_get_string_member_with_default (obj, "corpus", EMBEDDED));
  if (!mel_transpose_mode_from_string (json_object_get_string_member_with_default (obj, "transpose", "none"),
                                       &o->transpose))
    o->transpose = MEL_TRANSPOSE_NONE;
  o->min_shift = (int) json_object_get_int_member_with_default (obj, "min_shift", o->min_shift);
  o->max_shift = (int) json_object_get_int_member_with_default (obj, "max_shift", o->max_shift);
  o->lowest_midi = (int) json_object_get_int_member_with_default (obj, "lowest_midi", o->lowest_midi);
  o->highest_midi = (int) json_object_get_int_member_with_default (obj, "highest_midi", o->highest_midi);
  o->valid_fraction = json_object_get_double_member_with_default (obj, "valid_fraction", o->valid_fraction);
  o->test_fraction = json_object_get_double_member_with_default (obj, "test_fraction", o->test_fraction);
  o->split_seed = (guint64) json_object_get_int_member_with_default (obj, "split_seed", (gint64) o->split_seed);
  if (json_object_has_member (obj, "durations")
      && !mel_preprocess_options_set_durations (o, json_object_get_string_member (obj, "durations"), error))
    return FALSE;
  return mel_preprocess_options_validate (o, error);
}

static void
compare_progress (const char *stage, double fraction, gpointer user_data)
{
  mel_cli_progress (_("comparing"), fraction, stage);
}

int
mel_cli_compare (int argc, char **argv)
{
  g_autofree char *corpus = NULL;
  g_autofree char *html = NULL;
  g_autofree char *transpose = NULL;
  g_autofree char *data_corpus = NULL;
  g_autofree char *description = NULL;
  g_autofree char *stm_escape = NULL;
  g_autofree char *stm_combination = NULL;
  gboolean json = FALSE, cv_runs = FALSE, use_stm = FALSE, cv_validate = FALSE;
  int samples = -1, folds = 0, order = -1, steps = -1, stm_order = -1;
  double threshold = -1, temperature = -1, stm_bias = -1, stm_weight = -1, stm_intervals = -1;
  gint64 split_seed = -1, seed = -1;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) checkpoints = g_ptr_array_new_with_free_func ((GDestroyNotify) mel_checkpoint_free);
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) songs = NULL;
  g_autoptr(MelDataset) dataset = NULL;
  g_autoptr(MelComparison) cmp = NULL;
  MelPreprocessOptions options;
  MelComparisonOptions co;
  GOptionEntry entries[] = {
    { "corpus", 'c', 0, G_OPTION_ARG_FILENAME, &corpus,
      N_("Corpus folder, kern file or dataset file (default: the first run's data, else the embedded corpus)"),
      N_("DIR|FILE") },
    { "samples", 'm', 0, G_OPTION_ARG_INT, &samples, N_("Samples per run for the statistics (default 50)"), N_("N") },
    { "steps", 'n', 0, G_OPTION_ARG_INT, &steps, N_("Sixteenths per sample (default 256)"), N_("N") },
    { "temperature", 'T', 0, G_OPTION_ARG_DOUBLE, &temperature, N_("Sampling temperature (default 1)"), N_("T") },
    { "rng-seed", 's', 0, G_OPTION_ARG_INT64, &seed, N_("Sampling seed (default 1)"), N_("S") },
    { "folds", 'k', 0, G_OPTION_ARG_INT, &folds,
      N_("Also cross-validate the baseline over K folds by melody group (default: none)"), N_("K") },
    { "cv-runs", 0, 0, G_OPTION_ARG_NONE, &cv_runs,
      N_("With --folds: also retrain every run's configuration on each fold (slow for neural models)"), NULL },
    { "cv-validate", 0, 0, G_OPTION_ARG_NONE, &cv_validate,
      N_("With --cv-runs: validate each fold's training on the next fold and keep its best epoch (early stopping)"),
      NULL },
    { "stm", 0, 0, G_OPTION_ARG_NONE, &use_stm,
      N_("Also score every run combined with a short-term model that learns each test song as it goes"), NULL },
    { "stm-order", 0, 0, G_OPTION_ARG_INT, &stm_order,
      N_("Longest context of the short-term model in notes, 0 = unbounded (default 8)"), N_("N") },
    { "stm-escape", 0, 0, G_OPTION_ARG_STRING, &stm_escape,
      N_("Escape method of the short-term model: c (default) or ax"), N_("METHOD") },
    { "stm-combination", 0, 0, G_OPTION_ARG_STRING, &stm_combination,
      N_("How the short-term model is combined: arithmetic (default), geometric or backoff"), N_("HOW") },
    { "stm-bias", 0, 0, G_OPTION_ARG_DOUBLE, &stm_bias,
      N_("Entropy-weight exponent of the combination (default 1)"), N_("B") },
    { "stm-weight", 0, 0, G_OPTION_ARG_DOUBLE, &stm_weight,
      N_("Share of the short-term model before the entropy weights, 0…1 (default 0.2)"), N_("W") },
    { "stm-intervals", 0, 0, G_OPTION_ARG_DOUBLE, &stm_intervals,
      N_("Share of the interval viewpoint inside the short-term model, 0…1 (default 0.4)"), N_("W") },
    { "baseline-order", 0, 0, G_OPTION_ARG_INT, &order, N_("Order of the n-gram baseline (default 8)"), N_("N") },
    { "threshold", 0, 0, G_OPTION_ARG_DOUBLE, &threshold,
      N_("Flag samples sharing at least this many bars with a training song (default 4)"), N_("BARS") },
    { "transpose", 0, 0, G_OPTION_ARG_STRING, &transpose,
      N_("Without checkpoints: normalise (default), augment or none"), N_("MODE") },
    { "split-seed", 0, 0, G_OPTION_ARG_INT64, &split_seed, N_("Without checkpoints: split seed (default 42)"),
      N_("S") },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_("Print JSON instead of the table"), NULL },
    { "html", 0, 0, G_OPTION_ARG_FILENAME, &html, N_("Write an HTML report with plots"), N_("FILE") },
    { NULL },
  };
  g_autoptr(GOptionContext) context = g_option_context_new (_("[RUN.ckpt…] — compare models on the same held-out songs"));

  g_option_context_set_summary (context,
                                _("Scores every run and an n-gram baseline counted on the same training split on\n"
                                  "the same test songs (bits/symbol, accuracy, onset accuracy, pitch bits/note),\n"
                                  "compares the statistics of generated samples with the held-out songs, and flags\n"
                                  "samples that copy training songs."));
  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    return mel_cli_fail (error);
  if (samples > 10000 || steps == 0 || steps > 100000 || folds == 1 || folds < 0 || folds > 100 || order == 0
      || order > 64 || (temperature != -1 && !(temperature >= 0 && temperature <= 100)))
    return mel_cli_failf (_("bad value: --samples ≤ 10000, --steps 1…100000, --folds 2…100, --baseline-order 1…64, "
                            "--temperature 0…100"));

  for (int i = 1; i < argc; i++)
    {
      MelCheckpoint *ckpt = mel_checkpoint_load (argv[i], &error);

      if (ckpt == NULL)
        return mel_cli_fail (error);
      g_ptr_array_add (checkpoints, ckpt);
      g_ptr_array_add (names, g_path_get_basename (argv[i]));
    }

  if (checkpoints->len > 0)
    {
      const MelCheckpoint *first = checkpoints->pdata[0];

      if (!options_from_description (first->preprocessing, &data_corpus, &options, &error))
        return mel_cli_fail (error);
      description = g_strdup (first->preprocessing);
      for (guint i = 1; i < checkpoints->len; i++)
        if (g_strcmp0 (((const MelCheckpoint *) checkpoints->pdata[i])->preprocessing, first->preprocessing) != 0)
          fprintf (stderr, _("warning: %s was trained on other data or another split; it is measured on the "
                             "test songs of %s\n"),
                   (const char *) names->pdata[i], (const char *) names->pdata[0]);
    }
  else
    {
      mel_preprocess_options_init (&options);
      options.transpose = MEL_TRANSPOSE_NORMALISE;
      if (transpose != NULL && !mel_transpose_mode_from_string (transpose, &options.transpose))
        return mel_cli_failf (_("unknown --transpose “%s” (normalise, augment, none)"), transpose);
      if (split_seed >= 0)
        options.split_seed = (guint64) split_seed;
      data_corpus = g_strdup (EMBEDDED);
    }
  if (corpus != NULL)
    {
      g_free (data_corpus);
      data_corpus = g_canonicalize_filename (corpus, NULL);
    }
  if (description == NULL)
    description = g_strdup_printf ("{\"corpus\": \"%s\", \"transpose\": \"%s\", \"split_seed\": %" G_GUINT64_FORMAT "}",
                                   data_corpus, mel_transpose_mode_to_string (options.transpose), options.split_seed);

  mel_cli_progress (_("loading"), 0.0, data_corpus);
  dataset = load_data (data_corpus, &options, &songs, &error);
  mel_cli_progress_done ();
  if (dataset == NULL)
    return mel_cli_fail (error);
  if (mel_dataset_get_n_songs (dataset, MEL_SPLIT_TEST) == 0 || mel_dataset_get_n_songs (dataset, MEL_SPLIT_TRAIN) == 0)
    return mel_cli_failf (_("the data have no test or no training songs; use a larger corpus"));

  mel_comparison_options_init (&co);
  if (samples >= 0)
    co.n_samples = (guint) samples;
  if (steps > 0)
    co.sample_steps = (guint) steps;
  if (temperature >= 0)
    co.temperature = (float) temperature;
  if (seed >= 0)
    co.seed = (guint64) seed;
  if (order > 0)
    co.baseline_order = (guint) order;
  if (threshold >= 0)
    co.threshold_bars = threshold;
  co.n_folds = (guint) folds;
  co.cross_validate_runs = cv_runs;
  co.cv_validate = cv_validate;
  co.use_stm = use_stm;
  if (stm_order < -1 || stm_order > 1000 || (stm_bias != -1 && !(stm_bias >= 0 && stm_bias <= 100))
      || (stm_weight != -1 && !(stm_weight >= 0 && stm_weight <= 1))
      || (stm_intervals != -1 && !(stm_intervals >= 0 && stm_intervals <= 1)))
    return mel_cli_failf (_("bad value: --stm-order 0…1000, --stm-bias 0…100, --stm-weight and --stm-intervals 0…1"));
  if (stm_order >= 0)
    co.stm.order = (guint) stm_order;
  if (stm_bias >= 0)
    co.stm.bias = stm_bias;
  if (stm_weight >= 0)
    co.stm.weight = stm_weight;
  if (stm_intervals >= 0)
    co.stm.interval_weight = stm_intervals;
  if (stm_escape != NULL && !mel_stm_escape_from_string (stm_escape, &co.stm.escape))
    return mel_cli_failf (_("unknown --stm-escape “%s” (ax, c)"), stm_escape);
  if (stm_combination != NULL && !mel_stm_combination_from_string (stm_combination, &co.stm.combination))
    return mel_cli_failf (_("unknown --stm-combination “%s” (arithmetic, geometric, backoff)"), stm_combination);
  cmp = mel_comparison_run (checkpoints, names, dataset, songs, description, &co, compare_progress, NULL, NULL,
                            &error);
  mel_cli_progress_done ();
  if (cmp == NULL)
    return mel_cli_fail (error);
  for (guint i = 0; i < checkpoints->len; i++)
    ((MelComparisonRun *) cmp->runs->pdata[i])->path = g_canonicalize_filename (argv[i + 1], NULL);

  if (json)
    {
      g_autofree char *text = mel_comparison_to_json (cmp);

      puts (text);
    }
  else
    {
      g_autofree char *table = mel_comparison_to_table (cmp);

      fputs (table, stdout);
    }
  if (html != NULL)
    {
      if (!mel_comparison_write_html (cmp, html, &error))
        return mel_cli_fail (error);
      fprintf (stderr, _("wrote %s\n"), html);
    }
  return 0;
}
