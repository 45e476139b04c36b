/* cli-train.c — `melodist-cli train`, `generate` and `eval`: the glue
 * between the corpus and dataset of src/score and the trainer, sampler and
 * metrics of src/model.
 *
 * The checkpoint records how its data was made (corpus, transposition,
 * split seed, pitch range, durations) as a small JSON object, so `eval`
 * and `train --resume` rebuild exactly the same splits without being told
 * again.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <glib/gi18n.h>
#include <glib-unix.h>
#include <inttypes.h>
#include <json-glib/json-glib.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "mel-checkpoint.h"
#include "mel-cli.h"
#include "mel-corpus.h"
#include "mel-dataset.h"
#include "mel-evaluate.h"
#include "mel-stm.h"
#include "mel-distributed.h"
#include "mel-kern.h"
#include "mel-metrics.h"
#include "mel-sampler.h"
#include "mel-trainer.h"
#include "mel-vae.h"

#define EMBEDDED "embedded"
#define HOLDS_NOTE N_("Holds (\"_\") are most symbols and easy to predict; the onset accuracy and " \
                      "pitch bits per note measure the melody itself.")

/* ---- data: corpus or dataset file → dataset ------------------------------ */

typedef struct
{
  char *corpus;             /* folder, kern file, dataset file, or "embedded" */
  MelPreprocessOptions options;
} DataSpec;

static void
data_spec_clear (DataSpec *spec)
{
  g_clear_pointer (&spec->corpus, g_free);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (DataSpec, data_spec_clear)

static gboolean
is_dataset_file (const char *path)
{
  return g_file_test (path, G_FILE_TEST_IS_REGULAR) && !g_str_has_suffix (path, ".krn");
}

/* The JSON stored in checkpoints as the preprocessing description. */
static char *
data_spec_to_json (const DataSpec *spec, const MelDataset *dataset)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonGenerator) generator = json_generator_new ();
  g_autoptr(JsonNode) root = NULL;
  g_autofree char *durations = mel_preprocess_options_format_durations (&dataset->options);
  const MelPreprocessOptions *o = &dataset->options;

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "corpus");
  json_builder_add_string_value (builder, spec->corpus);
  json_builder_set_member_name (builder, "transpose");
  json_builder_add_string_value (builder, mel_transpose_mode_to_string (o->transpose));
  json_builder_set_member_name (builder, "min_shift");
  json_builder_add_int_value (builder, o->min_shift);
  json_builder_set_member_name (builder, "max_shift");
  json_builder_add_int_value (builder, o->max_shift);
  json_builder_set_member_name (builder, "lowest_midi");
  json_builder_add_int_value (builder, o->lowest_midi);
  json_builder_set_member_name (builder, "highest_midi");
  json_builder_add_int_value (builder, o->highest_midi);
  json_builder_set_member_name (builder, "valid_fraction");
  json_builder_add_double_value (builder, o->valid_fraction);
  json_builder_set_member_name (builder, "test_fraction");
  json_builder_add_double_value (builder, o->test_fraction);
  json_builder_set_member_name (builder, "split_seed");
  json_builder_add_int_value (builder, (gint64) o->split_seed);
  json_builder_set_member_name (builder, "durations");
  json_builder_add_string_value (builder, durations);
  json_builder_end_object (builder);
  root = json_builder_get_root (builder);
  json_generator_set_root (generator, root);
  return json_generator_to_data (generator, NULL);
}

/* Reads back what data_spec_to_json() wrote. */
static gboolean
data_spec_from_json (DataSpec *spec, const char *json, GError **error)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  JsonObject *obj;
  MelPreprocessOptions *o = &spec->options;

  mel_preprocess_options_init (o);
  if (!json_parser_load_from_data (parser, json, -1, error))
    return FALSE;
  if (!JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                           _("the checkpoint does not describe its data; pass --corpus"));
      return FALSE;
    }
  obj = json_node_get_object (json_parser_get_root (parser));
  g_free (spec->corpus);
  spec->corpus = g_strdup (json_object_get_string_member_with_default (obj, "corpus", EMBEDDED));
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

/* Set on the ranks of a data-parallel run other than 0: only rank 0 talks. */
static gboolean progress_quiet;

static void
corpus_progress (guint done, guint total, gpointer user_data)
{
  if (progress_quiet)
    return;
  g_autofree char *detail = g_strdup_printf (_("%u/%u files"), done, total);

  mel_cli_progress (_("loading"), total > 0 ? (double) done / total : 0.0, detail);
}

static void
build_progress (double fraction, gpointer user_data)
{
  if (progress_quiet)
    return;
  mel_cli_progress (_("encoding"), fraction, NULL);
}

/* The dataset @spec describes: an encoded dataset file as it is, or a
 * corpus (folder, kern file, embedded) run through the preprocessing. */
static MelDataset *
load_dataset (const DataSpec *spec, GError **error)
{
  g_autoptr(MelCorpus) corpus = NULL;
  g_autoptr(GPtrArray) songs = NULL;
  MelDataset *dataset;

  if (g_strcmp0 (spec->corpus, EMBEDDED) != 0 && is_dataset_file (spec->corpus))
    return mel_dataset_load (spec->corpus, error);

  if (g_strcmp0 (spec->corpus, EMBEDDED) == 0)
    corpus = mel_corpus_load_embedded (error);
  else
    corpus = mel_corpus_load (spec->corpus, 0, corpus_progress, NULL, NULL, error);
  mel_cli_progress_done ();
  if (corpus == NULL)
    return NULL;

  /* Exact duplicates (the same melody filed twice) are kept once, so that
   * no melody can sit in both the training and the test split. */
  songs = g_ptr_array_new ();
  for (guint i = 0; i < corpus->songs->len; i++)
    if (g_array_index (corpus->duplicate_of, gint32, i) < 0)
      g_ptr_array_add (songs, corpus->songs->pdata[i]);
  dataset = mel_dataset_build (songs, &spec->options, build_progress, NULL, NULL, error);
  mel_cli_progress_done ();
  return dataset;
}

static MelVocab *
dataset_vocab (const MelDataset *dataset, GError **error)
{
  return mel_vocab_new ((const char *const *) dataset->vocabulary->pdata, dataset->vocabulary->len, error);
}

/* The ids of @split in the numbering of @vocab (the model's), which may
 * differ from the dataset's when the data was rebuilt from another corpus.
 * For the VAE, whole segments of @segment_steps. */
static GArray *
split_ids (const MelDataset *dataset, MelSplit split, const MelVocab *vocab, const MelModelConfig *config,
           GError **error)
{
  g_autoptr(GArray) ids = NULL;
  g_autofree gint32 *map = g_new (gint32, MAX (dataset->vocabulary->len, 1));

  if (config->kind == MEL_MODEL_VAE)
    {
      guint n_segments = 0;

      ids = mel_dataset_get_segments (dataset, split, config->segment_steps, &n_segments);
    }
  else
    ids = mel_dataset_get_split_ids (dataset, split);

  for (guint i = 0; i < dataset->vocabulary->len; i++)
    map[i] = mel_vocab_lookup (vocab, dataset->vocabulary->pdata[i]);
  for (guint i = 0; i < ids->len; i++)
    {
      gint32 *id = &g_array_index (ids, gint32, i);

      if (*id < 0 || (guint) *id >= dataset->vocabulary->len || map[*id] < 0)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                       _("the %s data holds the symbol “%s”, which the model does not know"),
                       mel_split_to_string (split),
                       *id >= 0 && (guint) *id < dataset->vocabulary->len
                         ? (const char *) dataset->vocabulary->pdata[*id] : "?");
          return NULL;
        }
      *id = map[*id];
    }
  return g_steal_pointer (&ids);
}

/* The data of a checkpoint: --corpus when given (with the checkpoint's
 * preprocessing), else the corpus the checkpoint was trained on. */
static MelDataset *
checkpoint_dataset (const MelCheckpoint *ckpt, const char *corpus_override, GError **error)
{
  g_auto(DataSpec) spec = { 0 };

  if (!data_spec_from_json (&spec, ckpt->preprocessing, error))
    return NULL;
  if (corpus_override != NULL)
    {
      g_free (spec.corpus);
      spec.corpus = g_strdup (corpus_override);
    }
  return load_dataset (&spec, error);
}

/* ---- metrics output ------------------------------------------------------ */

static void
print_json_number (GString *out, const char *name, double value, gboolean last)
{
  if (isfinite (value))
    g_string_append_printf (out, "  \"%s\": %.6f%s\n", name, value, last ? "" : ",");
  else
    g_string_append_printf (out, "  \"%s\": null%s\n", name, last ? "" : ",");
}

static void
append_json_metrics (GString *out, const MelMetrics *m, gboolean last)
{
  print_json_number (out, "bits_per_symbol", mel_metrics_get_bits_per_symbol (m), FALSE);
  print_json_number (out, "cross_entropy_nats", mel_metrics_get_cross_entropy (m), FALSE);
  print_json_number (out, "accuracy", mel_metrics_get_accuracy (m), FALSE);
  print_json_number (out, "onset_accuracy", mel_metrics_get_onset_accuracy (m), FALSE);
  print_json_number (out, "pitch_bits_per_note", mel_metrics_get_pitch_bits (m), last);
}

static void
print_text_metrics (const MelMetrics *m)
{
  mel_cli_print_label (_("bits per symbol"), 28);
  printf ("%8.4f\n", mel_metrics_get_bits_per_symbol (m));
  mel_cli_print_label (_("cross-entropy (nats/symbol)"), 28);
  printf ("%8.4f\n", mel_metrics_get_cross_entropy (m));
  mel_cli_print_label (_("accuracy, all symbols"), 28);
  printf ("%7.2f %%\n", 100 * mel_metrics_get_accuracy (m));
  mel_cli_print_label (_("accuracy, note onsets"), 28);
  printf ("%7.2f %%\n", 100 * mel_metrics_get_onset_accuracy (m));
  mel_cli_print_label (_("pitch bits per note"), 28);
  printf ("%8.4f\n", mel_metrics_get_pitch_bits (m));
}

/* Prints the figures of @m and, when @stm is not NULL, those of the model
 * combined with the short-term model (eval --stm). */
static void
print_metrics_full (const MelMetrics *m, const MelMetrics *stm, const char *split, const char *checkpoint,
                    gboolean json)
{
  if (json)
    {
      g_autoptr(GString) out = g_string_new ("{\n");
      g_autofree char *escaped = g_strescape (checkpoint, NULL);

      g_string_append_printf (out, "  \"checkpoint\": \"%s\",\n", escaped);
      g_string_append_printf (out, "  \"split\": \"%s\",\n", split);
      g_string_append_printf (out, "  \"symbols\": %" G_GUINT64_FORMAT ",\n", m->n_symbols);
      g_string_append_printf (out, "  \"notes\": %" G_GUINT64_FORMAT ",\n", m->n_onsets);
      append_json_metrics (out, m, FALSE);
      if (stm != NULL)
        {
          g_string_append (out, "  \"with_stm\": {\n");
          append_json_metrics (out, stm, TRUE);
          g_string_append (out, "  },\n");
        }
      g_string_append_printf (out, "  \"note\": \"%s\"\n}\n",
                              "Holds dominate the symbols; onset_accuracy and pitch_bits_per_note "
                              "measure the melody.");
      fputs (out->str, stdout);
      return;
    }
  printf (_("%s split: %" PRIu64 " symbols, %" PRIu64 " notes\n"), split, m->n_symbols,
          m->n_onsets);
  print_text_metrics (m);
  if (stm != NULL)
    {
      printf (_("With the short-term model (a PPM over the song so far, mixed into the pitch predictions):\n"));
      print_text_metrics (stm);
    }
  printf ("  %s\n", _(HOLDS_NOTE));
}

static void
print_metrics (const MelMetrics *m, const char *split, const char *checkpoint, gboolean json)
{
  print_metrics_full (m, NULL, split, checkpoint, json);
}

/* The VAE's own figures (cli-vae.c's model, mel-vae.h): KL and
 * reconstruction from μ, teacher-forced and free-running. */
static gboolean
print_vae_metrics (MelModel *model, const MelCheckpoint *ckpt, const MelDataset *dataset, MelSplit split,
                   GError **error)
{
  const MelModelConfig *config = mel_model_get_config (model);
  g_autoptr(GArray) segments = split_ids (dataset, split, ckpt->vocab, config, error);
  MelVaeMetrics vm;

  if (segments == NULL
      || !mel_vae_evaluate (model, (const gint32 *) segments->data, segments->len / config->segment_steps, &vm,
                            NULL, error))
    return FALSE;
  printf (_("VAE, %" PRIu64 " segments of %u sixteenths, decoded from the posterior mean:\n"),
          vm.n_segments, config->segment_steps);
  mel_cli_print_label (_("reconstruction bits/symbol"), 28);
  printf ("%8.4f\n", vm.recon_bits);
  mel_cli_print_label (_("KL to the prior (nats)"), 28);
  printf ("%8.4f\n", vm.kl_nats);
  mel_cli_print_label (_("accuracy, teacher forced"), 28);
  printf ("%7.2f %%\n", 100 * vm.accuracy_teacher);
  mel_cli_print_label (_("accuracy, free running"), 28);
  printf ("%7.2f %%\n", 100 * vm.accuracy_free);
  return TRUE;
}

static gboolean
evaluate_split (MelModel *model, const MelVocab *vocab, const MelDataset *dataset, MelSplit split,
                guint window, guint batch, MelMetrics *metrics, GError **error)
{
  g_autoptr(GArray) ids = split_ids (dataset, split, vocab, mel_model_get_config (model), error);

  mel_metrics_init (metrics);
  if (ids == NULL)
    return FALSE;
  return mel_metrics_evaluate (metrics, model, vocab, (const gint32 *) ids->data, ids->len, window, batch, NULL,
                               error);
}

/* ---- train --------------------------------------------------------------- */

static char *
format_duration (double seconds)
{
  if (!isfinite (seconds) || seconds < 0)
    return g_strdup ("?");
  if (seconds < 60)
    return g_strdup_printf ("%.0fs", seconds);
  if (seconds < 3600)
    return g_strdup_printf ("%dm%02ds", (int) seconds / 60, (int) seconds % 60);
  return g_strdup_printf ("%dh%02dm", (int) seconds / 3600, ((int) seconds % 3600) / 60);
}

static void
train_progress (const MelTrainProgress *p, gpointer user_data)
{
  g_autofree char *eta = format_duration (p->eta_seconds);
  g_autofree char *detail = NULL;
  g_autofree char *valid = NULL;
  g_autofree char *label = g_strdup_printf (_("epoch %u/%u"), p->epoch, p->n_epochs);

  if (p->event == MEL_TRAIN_EVENT_EPOCH)
    {
      const MelEpochRecord *r = p->record;

      mel_cli_progress_done ();
      fprintf (stderr,
               _("epoch %u: step %" PRIu64 ", train %.4f, valid %.4f nats/symbol "
                 "(%.3f bits, onset accuracy %.1f %%, %.3f pitch bits/note), lr %.2g, %.0fs\n"),
               r->epoch, r->step, r->train_loss, r->valid_loss, r->valid_bits, 100 * r->valid_onset_accuracy,
               r->valid_pitch_bits, r->learning_rate, r->seconds);
      return;
    }
  valid = isfinite (p->valid_loss) ? g_strdup_printf ("%.4f", p->valid_loss) : g_strdup ("–");
  detail = g_strdup_printf (_("step %" PRIu64 "/%" PRIu64 "  loss %.4f  valid %s  "
                              "%.0f tokens/s  ETA %s"),
                            p->step, p->total_steps, p->train_loss, valid, p->tokens_per_second, eta);
  mel_cli_progress (label, p->total_steps > 0 ? (double) p->step / p->total_steps : 0.0, detail);
}

typedef struct
{
  MelTrainer *trainer;
  GCancellable *cancellable;
  GMainLoop *loop;
  gboolean ok;
  GError *error;
} TrainJob;

static gboolean
quit_loop (gpointer data)
{
  g_main_loop_quit (data);
  return G_SOURCE_REMOVE;
}

static gpointer
train_thread (gpointer data)
{
  TrainJob *job = data;

  job->ok = mel_trainer_run (job->trainer, job->cancellable, &job->error);
  g_main_context_invoke (NULL, quit_loop, job->loop);
  return NULL;
}

static gboolean
on_interrupt (gpointer data)
{
  TrainJob *job = data;

  if (g_cancellable_is_cancelled (job->cancellable))
    return G_SOURCE_CONTINUE;
  mel_cli_progress_done ();
  fprintf (stderr, _("interrupted: pausing after this step…\n"));
  g_cancellable_cancel (job->cancellable);
  return G_SOURCE_CONTINUE;
}

/* Runs the trainer in a worker thread; Ctrl-C (SIGINT) pauses it. */
static gboolean
run_training (MelTrainer *trainer, GError **error)
{
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  TrainJob job = { trainer, cancellable, loop, FALSE, NULL };
  GThread *thread;
  guint sigint;

  mel_trainer_set_progress_func (trainer, train_progress, NULL);
  sigint = g_unix_signal_add (SIGINT, on_interrupt, &job);
  thread = g_thread_new ("trainer", train_thread, &job);
  g_main_loop_run (loop);
  g_thread_join (thread);
  g_source_remove (sigint);
  mel_cli_progress_done ();
  if (!job.ok)
    g_propagate_error (error, job.error);
  return job.ok;
}

static const char *
stop_reason_text (MelTrainStopReason reason)
{
  switch (reason)
    {
    case MEL_TRAIN_STOP_EPOCHS:
      return _("all epochs done");
    case MEL_TRAIN_STOP_EARLY:
      return _("stopped early: the validation loss stopped improving");
    case MEL_TRAIN_STOP_MAX_STEPS:
      return _("step limit reached");
    case MEL_TRAIN_STOP_NONE:
    default:
      return _("not finished");
    }
}

/* Options of `train`; negative / NULL = not given. */
typedef struct
{
  char *model, *corpus, *output, *resume, *transpose, *optimizer, *schedule;
  int epochs, batch, hidden, layers, embed, window, stride, threads, patience, warmup;
  gint64 max_steps, seed, split_seed;
  double lr, dropout, weight_decay, clip;
  int heads, latent, segment_steps;  /* lstm-attn, vae */
  double free_bits, kl_weight;       /* vae */
  gboolean distributed;              /* under mpirun */
  int check_every, mpi_timeout;
  int ngram_order;                   /* ngram */
} TrainOptions;

static void
train_options_clear (TrainOptions *o)
{
  g_free (o->model);
  g_free (o->corpus);
  g_free (o->output);
  g_free (o->resume);
  g_free (o->transpose);
  g_free (o->optimizer);
  g_free (o->schedule);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (TrainOptions, train_options_clear)

static gboolean
apply_train_options (const TrainOptions *o, MelModelConfig *mc, MelTrainConfig *tc, GError **error)
{
#define SET_POSITIVE(opt, field, name)                                                                \
  if ((opt) >= 0)                                                                                      \
    {                                                                                                  \
      if ((opt) == 0)                                                                                  \
        {                                                                                              \
          g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE, _("%s must be positive"), name); \
          return FALSE;                                                                                \
        }                                                                                              \
      field = (guint32) (opt);                                                                         \
    }
  SET_POSITIVE (o->hidden, mc->hidden_size, "--hidden");
  SET_POSITIVE (o->layers, mc->n_layers, "--layers");
  SET_POSITIVE (o->embed, mc->embed_dim, "--embed");
  SET_POSITIVE (o->epochs, tc->epochs, "--epochs");
  SET_POSITIVE (o->batch, tc->batch_size, "--batch");
  SET_POSITIVE (o->threads, tc->n_threads, "--threads");
  if (o->window >= 0)
    {
      SET_POSITIVE (o->window, tc->window, "--window");
      tc->stride = MAX (tc->window / 2, 1);
    }
  SET_POSITIVE (o->stride, tc->stride, "--stride");
  SET_POSITIVE (o->heads, mc->n_heads, "--heads");
  SET_POSITIVE (o->latent, mc->latent_size, "--latent");
  SET_POSITIVE (o->segment_steps, mc->segment_steps, "--segment-steps");
#undef SET_POSITIVE
  if (o->free_bits >= 0)
    mc->free_bits = (float) o->free_bits;
  if (o->kl_weight >= 0)
    tc->kl_weight = (float) o->kl_weight;
  if (o->dropout >= 0)
    mc->dropout = (float) o->dropout;
  if (o->patience >= 0)
    tc->patience = (guint32) o->patience;
  if (o->warmup >= 0)
    tc->warmup_steps = (guint32) o->warmup;
  if (o->max_steps >= 0)
    tc->max_steps = (guint64) o->max_steps;
  if (o->seed >= 0)
    tc->seed = (guint64) o->seed;
  if (o->lr >= 0)
    tc->learning_rate = (float) o->lr;
  if (o->optimizer != NULL && !mel_optim_kind_from_string (o->optimizer, &tc->optim.kind))
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE, _("unknown optimizer “%s” (adam, adamw)"),
                   o->optimizer);
      return FALSE;
    }
  if (o->weight_decay >= 0)
    tc->optim.weight_decay = (float) o->weight_decay;
  else if (tc->optim.kind == MEL_OPTIM_ADAMW)
    tc->optim.weight_decay = 0.01f;
  if (o->clip >= 0)
    tc->optim.clip_norm = (float) o->clip;
  if (o->schedule != NULL && !mel_lr_decay_from_string (o->schedule, &tc->lr_decay))
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   _("unknown schedule “%s” (cosine, step, constant)"), o->schedule);
      return FALSE;
    }
  return TRUE;
}

/* Kinds that learn by counting (the n-gram baseline): one pass over the
 * training stream instead of epochs, scored once on the validation split,
 * saved as both the last and the best checkpoint. */
static int
fit_counted_model (const MelModelConfig *mc, const MelTrainConfig *tc, const MelVocab *vocab,
                   const MelDataset *dataset, GArray *train, GArray *valid, const char *description,
                   const char *output, const char *best_path)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MelModel) model = mel_model_new (mc, tc->seed, &error);
  g_autoptr(MelCheckpoint) ckpt = NULL;
  gint64 started = g_get_monotonic_time ();
  MelEpochRecord record = { 0 };
  MelEvaluation eval;

  if (model == NULL)
    return mel_cli_fail (error);
  if (!mel_model_fit (model, (const gint32 *) train->data, train->len, NULL, &error))
    return mel_cli_fail (error);
  record.epoch = 1;
  record.train_loss = record.valid_loss = record.valid_bits = NAN;
  record.valid_accuracy = record.valid_onset_accuracy = record.valid_pitch_bits = NAN;
  if (valid->len > 1)
    {
      if (!mel_evaluate (model, vocab, (const gint32 *) valid->data, valid->len,
                         mel_evaluation_window (model, tc->window), 32, NULL, &eval, &error))
        return mel_cli_fail (error);
      record.valid_loss = mel_metrics_get_cross_entropy (&eval.metrics);
      record.valid_bits = eval.bits_per_symbol;
      record.valid_accuracy = eval.accuracy;
      record.valid_onset_accuracy = eval.onset_accuracy;
      record.valid_pitch_bits = eval.pitch_bits;
    }
  record.seconds = (g_get_monotonic_time () - started) / 1e6;
  ckpt = mel_checkpoint_new_from_model (model, vocab, NULL);
  ckpt->train = *tc;
  ckpt->split_seed = dataset->options.split_seed;
  g_free (ckpt->preprocessing);
  ckpt->preprocessing = g_strdup (description);
  ckpt->state.epoch = 1;
  ckpt->state.best_epoch = 1;
  ckpt->state.best_valid_loss = record.valid_loss;
  ckpt->state.seconds = record.seconds;
  ckpt->state.finished = TRUE;
  g_array_append_val (ckpt->history, record);
  if (!mel_checkpoint_save (ckpt, output, &error) || !mel_checkpoint_save (ckpt, best_path, &error))
    return mel_cli_fail (error);
  printf (_("Counted an order-%u n-gram over %u training symbols in %.2fs; wrote %s and %s\n"), mc->ngram_order,
          train->len, record.seconds, output, best_path);
  if (valid->len > 1)
    print_metrics (&eval.metrics, "valid", output, FALSE);
  if (mel_dataset_get_n_songs (dataset, MEL_SPLIT_TEST) > 0)
    {
      MelMetrics metrics;

      if (!evaluate_split (model, vocab, dataset, MEL_SPLIT_TEST, mel_evaluation_window (model, tc->window), 32,
                           &metrics, &error))
        return mel_cli_fail (error);
      print_metrics (&metrics, "test", output, FALSE);
    }
  return 0;
}

static int
report_test (MelTrainer *trainer, const char *best_path, const MelVocab *vocab, const MelDataset *dataset)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MelCheckpoint) best = NULL;
  g_autoptr(MelModel) model = NULL;
  const MelTrainConfig *tc = mel_trainer_get_config (trainer);
  MelModel *use = mel_trainer_get_model (trainer);
  MelMetrics metrics;

  if (mel_dataset_get_n_songs (dataset, MEL_SPLIT_TEST) == 0)
    {
      printf (_("The test split is empty (too few songs); no test figures.\n"));
      return 0;
    }
  if (g_file_test (best_path, G_FILE_TEST_IS_REGULAR))
    {
      best = mel_checkpoint_load (best_path, &error);
      if (best == NULL || (model = mel_checkpoint_create_model (best, &error)) == NULL)
        return mel_cli_fail (error);
      use = model;
      printf (_("Test split, best checkpoint %s (epoch %u):\n"), best_path, best->state.best_epoch);
    }
  if (!evaluate_split (use, vocab, dataset, MEL_SPLIT_TEST, tc->window, tc->batch_size, &metrics, &error))
    return mel_cli_fail (error);
  print_metrics (&metrics, "test", best_path, FALSE);
  return 0;
}

/* The MPI group of a --distributed run (created and freed by
 * mel_cli_train, once per process). */
static MelDistributed *train_dist;

static int
train_run (int argc, char **argv)
{
  g_auto(TrainOptions) o = { 0 };
  g_auto(DataSpec) spec = { 0 };
  g_autoptr(GError) error = NULL;
  g_autoptr(MelDataset) dataset = NULL;
  g_autoptr(MelVocab) vocab = NULL;
  g_autoptr(MelCheckpoint) resume = NULL;
  g_autoptr(MelTrainer) trainer = NULL;
  g_autoptr(GArray) train = NULL;
  g_autoptr(GArray) valid = NULL;
  g_autofree char *best_path = NULL;
  g_autofree char *description = NULL;
  MelModelKind kind = MEL_MODEL_GRU;
  MelModelConfig mc;
  MelTrainConfig tc;
  gint64 started = g_get_monotonic_time ();

  o.epochs = o.batch = o.hidden = o.layers = o.embed = o.window = o.stride = o.threads = -1;
  o.patience = o.warmup = -1;
  o.max_steps = o.seed = o.split_seed = -1;
  o.lr = o.dropout = o.weight_decay = o.clip = -1;
  o.heads = o.latent = o.segment_steps = -1;
  o.ngram_order = -1;
  o.free_bits = o.kl_weight = -1;
  o.check_every = 100;
  o.mpi_timeout = 300;
  GOptionEntry entries[] = {
    { "model", 'm', 0, G_OPTION_ARG_STRING, &o.model, N_("Model kind: gru (default), lstm-attn, vae, ngram"), N_("KIND") },
    { "corpus", 'c', 0, G_OPTION_ARG_FILENAME, &o.corpus,
      N_("Folder of kern files, one kern file, or an encoded dataset file (default: the embedded corpus)"),
      N_("DIR|FILE") },
    { "output", 'o', 0, G_OPTION_ARG_FILENAME, &o.output,
      N_("Checkpoint to write (last state); the best goes to NAME.best.ckpt"), N_("FILE") },
    { "resume", 'r', 0, G_OPTION_ARG_FILENAME, &o.resume, N_("Continue the run saved in this checkpoint"),
      N_("FILE") },
    { "epochs", 'e', 0, G_OPTION_ARG_INT, &o.epochs, N_("Epochs (default 20)"), N_("N") },
    { "batch", 'b', 0, G_OPTION_ARG_INT, &o.batch, N_("Windows per step (default 32)"), N_("B") },
    { "lr", 0, 0, G_OPTION_ARG_DOUBLE, &o.lr, N_("Peak learning rate (default 0.002)"), N_("X") },
    { "hidden", 0, 0, G_OPTION_ARG_INT, &o.hidden, N_("Hidden size (default 256)"), N_("H") },
    { "layers", 0, 0, G_OPTION_ARG_INT, &o.layers, N_("Recurrent layers (default 2)"), N_("L") },
    { "embed", 0, 0, G_OPTION_ARG_INT, &o.embed, N_("Embedding size (default 64)"), N_("E") },
    { "dropout", 0, 0, G_OPTION_ARG_DOUBLE, &o.dropout, N_("Dropout probability (default 0)"), N_("D") },
    { "window", 'w', 0, G_OPTION_ARG_INT, &o.window, N_("Symbols per training window (default 64)"), N_("N") },
    { "stride", 0, 0, G_OPTION_ARG_INT, &o.stride, N_("Symbols between windows (default window/2)"), N_("N") },
    { "threads", 't', 0, G_OPTION_ARG_INT, &o.threads, N_("Worker threads (default 1)"), N_("T") },
    { "seed", 's', 0, G_OPTION_ARG_INT64, &o.seed, N_("Seed of initialisation and shuffling (default 1)"),
      N_("S") },
    { "split-seed", 0, 0, G_OPTION_ARG_INT64, &o.split_seed, N_("Seed of the song-level split (default 42)"),
      N_("S") },
    { "patience", 'p', 0, G_OPTION_ARG_INT, &o.patience,
      N_("Stop after P epochs without validation gain; 0 = never (default 5)"), N_("P") },
    { "transpose", 0, 0, G_OPTION_ARG_STRING, &o.transpose,
      N_("normalise (to C major / A minor), augment or none (default normalise)"), N_("MODE") },
    { "max-steps", 0, 0, G_OPTION_ARG_INT64, &o.max_steps, N_("Stop after N optimizer steps"), N_("N") },
    { "warmup", 0, 0, G_OPTION_ARG_INT, &o.warmup, N_("Warm-up steps (default 100)"), N_("N") },
    { "schedule", 0, 0, G_OPTION_ARG_STRING, &o.schedule, N_("cosine (default), step or constant"), N_("S") },
    { "optimizer", 0, 0, G_OPTION_ARG_STRING, &o.optimizer, N_("adam (default) or adamw"), N_("O") },
    { "weight-decay", 0, 0, G_OPTION_ARG_DOUBLE, &o.weight_decay, N_("Weight decay (default 0; adamw 0.01)"),
      N_("X") },
    { "clip", 0, 0, G_OPTION_ARG_DOUBLE, &o.clip, N_("Gradient-norm limit, 0 = none (default 1)"), N_("X") },
    { "heads", 0, 0, G_OPTION_ARG_INT, &o.heads, N_("lstm-attn: attention heads (default 4)"), N_("N") },
    { "latent", 0, 0, G_OPTION_ARG_INT, &o.latent, N_("vae: latent size (default 32)"), N_("N") },
    { "segment-steps", 0, 0, G_OPTION_ARG_INT, &o.segment_steps,
      N_("vae: sixteenths per segment, from a bar line (default 32 = two bars of 4/4)"), N_("N") },
    { "free-bits", 0, 0, G_OPTION_ARG_DOUBLE, &o.free_bits,
      N_("vae: KL nats per latent dimension left unpenalised (default 0.5)"), N_("X") },
    { "kl-weight", 0, 0, G_OPTION_ARG_DOUBLE, &o.kl_weight, N_("vae: weight β of the KL term (default 1)"),
      N_("X") },
    { "order", 0, 0, G_OPTION_ARG_INT, &o.ngram_order,
      N_("ngram: symbols per n-gram, context + predicted (default 8)"), N_("N") },
    { "distributed", 0, 0, G_OPTION_ARG_NONE, &o.distributed,
      N_("Data-parallel training over MPI: run as mpirun -np N melodist-cli train --distributed …; "
         "--batch is then per process"), NULL },
    { "check-every", 0, 0, G_OPTION_ARG_INT, &o.check_every,
      N_("--distributed: compare the processes' parameters every N steps, 0 = at the start only "
         "(default 100)"), N_("N") },
    { "mpi-timeout", 0, 0, G_OPTION_ARG_INT, &o.mpi_timeout,
      N_("--distributed: abort the job when one exchange takes longer than this (default 300)"),
      N_("SECONDS") },
    { NULL },
  };
  g_autoptr(GOptionContext) context = g_option_context_new (_("— train a melody model"));

  g_option_context_set_summary (context,
                                _("Trains a model on the training split, validates after every epoch, keeps the\n"
                                  "best and the last checkpoint, and prints the test-split figures at the end.\n"
                                  "Ctrl-C pauses: continue with --resume FILE."));
  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    return mel_cli_fail (error);
  if (argc != 1)
    return mel_cli_failf (_("train takes no positional arguments; see --help"));
  if (o.output == NULL && o.resume == NULL)
    return mel_cli_failf (_("train needs an output checkpoint: -o FILE.ckpt"));
  if (o.output == NULL)
    o.output = g_strdup (o.resume);
  best_path = mel_checkpoint_best_path (o.output);
  if (o.distributed)
    {
      if (o.mpi_timeout < 1 || o.check_every < 0)
        return mel_cli_failf (_("--mpi-timeout must be at least 1 and --check-every not negative"));
      train_dist = mel_distributed_new_mpi ((guint) o.mpi_timeout, &error);
      if (train_dist == NULL)
        return mel_cli_fail (error);
      progress_quiet = !mel_distributed_is_root (train_dist);
    }

  if (o.resume != NULL)
    {
      resume = mel_checkpoint_load (o.resume, &error);
      if (resume == NULL)
        return mel_cli_fail (error);
      dataset = checkpoint_dataset (resume, o.corpus, &error);
      if (dataset == NULL)
        return mel_cli_fail (error);
      vocab = mel_vocab_copy (resume->vocab);
      mc = resume->model_config;
      tc = resume->train;
      description = g_strdup (resume->preprocessing);
    }
  else
    {
      if (o.model != NULL && !mel_model_kind_from_string (o.model, &kind))
        return mel_cli_failf (_("unknown model kind “%s”"), o.model);
      /* Absolute, so that eval and --resume find it from anywhere. */
      spec.corpus = o.corpus != NULL ? g_canonicalize_filename (o.corpus, NULL) : g_strdup (EMBEDDED);
      mel_preprocess_options_init (&spec.options);
      spec.options.transpose = MEL_TRANSPOSE_NORMALISE;
      if (o.transpose != NULL && !mel_transpose_mode_from_string (o.transpose, &spec.options.transpose))
        return mel_cli_failf (_("unknown --transpose “%s” (normalise, augment, none)"), o.transpose);
      if (o.split_seed >= 0)
        spec.options.split_seed = (guint64) o.split_seed;
      dataset = load_dataset (&spec, &error);
      if (dataset == NULL)
        return mel_cli_fail (error);
      vocab = dataset_vocab (dataset, &error);
      if (vocab == NULL)
        return mel_cli_fail (error);
      mel_model_config_init (&mc, kind, vocab->size);
      mel_train_config_init (&tc);
      if (!apply_train_options (&o, &mc, &tc, &error))
        return mel_cli_fail (error);
      /* --batch is per process; checkpoints keep the global batch, so a
       * run resumes with any number of processes. */
      if (train_dist != NULL)
        tc.batch_size *= (guint32) mel_distributed_get_size (train_dist);
      description = data_spec_to_json (&spec, dataset);
    }

  if (!progress_quiet)
    fprintf (stderr, _("data: %u training, %u validation, %u test songs; %u symbols\n"),
             mel_dataset_get_n_songs (dataset, MEL_SPLIT_TRAIN), mel_dataset_get_n_songs (dataset, MEL_SPLIT_VALID),
             mel_dataset_get_n_songs (dataset, MEL_SPLIT_TEST), vocab->size);
  train = split_ids (dataset, MEL_SPLIT_TRAIN, vocab, &mc, &error);
  if (train == NULL)
    return mel_cli_fail (error);
  valid = split_ids (dataset, MEL_SPLIT_VALID, vocab, &mc, &error);
  if (valid == NULL)
    return mel_cli_fail (error);

  if (resume == NULL && mc.kind == MEL_MODEL_NGRAM)
    {
      if (o.ngram_order >= 0)
        mc.ngram_order = (guint32) o.ngram_order;
      return fit_counted_model (&mc, &tc, vocab, dataset, train, valid, description, o.output, best_path);
    }
  if (resume != NULL)
    {
      trainer = mel_trainer_new_resume (resume, (const gint32 *) train->data, train->len,
                                        (const gint32 *) valid->data, valid->len, &error);
      if (trainer != NULL && (o.epochs > 0 || o.max_steps >= 0 || o.patience >= 0))
        mel_trainer_set_limits (trainer, o.epochs > 0 ? (guint32) o.epochs : tc.epochs,
                                o.max_steps >= 0 ? (guint64) o.max_steps : tc.max_steps,
                                o.patience >= 0 ? (guint32) o.patience : tc.patience);
    }
  else
    trainer = mel_trainer_new (&mc, &tc, vocab, (const gint32 *) train->data, train->len,
                               (const gint32 *) valid->data, valid->len, &error);
  if (trainer == NULL)
    return mel_cli_fail (error);
  mel_trainer_set_checkpoint_paths (trainer, o.output, best_path);
  mel_trainer_set_data_info (trainer, dataset->options.split_seed, description);
  if (train_dist != NULL)
    {
      mel_trainer_set_distributed (trainer, train_dist, (guint) o.check_every);
      if (!progress_quiet)
        fprintf (stderr, _("distributed: %d processes, global batch %u windows (%u per process)\n"),
                 mel_distributed_get_size (train_dist), mel_trainer_get_config (trainer)->batch_size,
                 (mel_trainer_get_config (trainer)->batch_size + mel_distributed_get_size (train_dist) - 1)
                   / mel_distributed_get_size (train_dist));
    }

  if (!progress_quiet)
    fprintf (stderr, _("model: %s, %zu parameters; %" PRIu64 " steps per epoch\n"),
             mel_model_kind_to_string (mc.kind), mel_model_get_n_params (mel_trainer_get_model (trainer)),
             mel_trainer_get_batches_per_epoch (trainer));
  if (!run_training (trainer, &error))
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        {
          if (!progress_quiet)
            fprintf (stderr, _("paused at step %" PRIu64 "; continue with: melodist-cli train --resume %s\n"),
                     mel_trainer_get_state (trainer)->step, o.output);
          return 130;
        }
      if (train_dist != NULL)
        g_prefix_error (&error, _("process %d of %d: "), mel_distributed_get_rank (train_dist),
                        mel_distributed_get_size (train_dist));
      return mel_cli_fail (error);
    }
  if (progress_quiet)
    return 0;
  if (train_dist != NULL)
    {
      guint64 steps = 0;
      double seconds = mel_trainer_get_comm_seconds (trainer, &steps);

      if (steps > 0)
        fprintf (stderr, _("distributed: the gradient exchange took %.2f ms per step, waiting for the slowest "
                           "process included (%" PRIu64 " steps)\n"), 1e3 * seconds / (double) steps, steps);
    }
  {
    g_autofree char *took = format_duration ((g_get_monotonic_time () - started) / 1e6);

    printf (_("Training finished (%s) after %" PRIu64 " steps in %s; wrote %s and %s\n"),
            stop_reason_text (mel_trainer_get_stop_reason (trainer)), mel_trainer_get_state (trainer)->step, took,
            o.output, best_path);
  }
  return report_test (trainer, best_path, vocab, dataset);
}

int
mel_cli_train (int argc, char **argv)
{
  int status = train_run (argc, argv);

  if (train_dist != NULL)
    {
      /* A process that fails on its own (e.g. it cannot read its copy of
       * the data) would leave the others waiting in the next exchange:
       * end the whole job.  A pause (130) is taken by all together. */
      if (status != 0 && status != 130)
        mel_distributed_abort (train_dist, status);
      g_clear_pointer (&train_dist, mel_distributed_free);
    }
  return status;
}

/* ---- eval ---------------------------------------------------------------- */

int
mel_cli_eval (int argc, char **argv)
{
  g_autofree char *corpus = NULL;
  g_autofree char *split_name = NULL;
  gboolean json = FALSE, use_stm = FALSE;
  int window = 0, batch = 0;
  g_autoptr(GError) error = NULL;
  g_autoptr(MelCheckpoint) ckpt = NULL;
  g_autoptr(MelModel) model = NULL;
  g_autoptr(MelDataset) dataset = NULL;
  MelSplit split = MEL_SPLIT_TEST;
  MelMetrics metrics;
  MelEvaluation evaluation;
  GOptionEntry entries[] = {
    { "corpus", 'c', 0, G_OPTION_ARG_FILENAME, &corpus,
      N_("Evaluate on this corpus or dataset file (default: the data the model was trained on)"),
      N_("DIR|FILE") },
    { "split", 0, 0, G_OPTION_ARG_STRING, &split_name, N_("train, valid or test (default test)"), N_("SPLIT") },
    { "window", 'w', 0, G_OPTION_ARG_INT, &window, N_("Evaluation window (default: the training window)"),
      N_("N") },
    { "batch", 'b', 0, G_OPTION_ARG_INT, &batch, N_("Windows per forward pass (default 32)"), N_("B") },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_("Print JSON"), NULL },
    { "stm", 0, 0, G_OPTION_ARG_NONE, &use_stm,
      N_("Also score the model combined with a short-term model of each song (as IDyOM's LTM + STM; "
         "the defaults of compare --stm)"), NULL },
    { NULL },
  };
  g_autoptr(GOptionContext) context = g_option_context_new (_("CHECKPOINT — score a model on held-out songs"));

  g_option_context_set_summary (context, _("Bits per symbol, accuracy on all symbols and on note onsets, and pitch\n"
                                           "bits per note (comparable to IDyOM's per-note figures)."));
  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    return mel_cli_fail (error);
  if (argc != 2)
    return mel_cli_failf (_("eval needs exactly one checkpoint; see --help"));
  if (split_name != NULL)
    {
      for (split = 0; split < MEL_N_SPLITS; split++)
        if (g_strcmp0 (split_name, mel_split_to_string (split)) == 0)
          break;
      if (split == MEL_N_SPLITS)
        return mel_cli_failf (_("unknown split “%s” (train, valid, test)"), split_name);
    }
  if (window < 0 || batch < 0 || window == 1)
    return mel_cli_failf (_("--window must be at least 2 and --batch positive"));

  ckpt = mel_checkpoint_load (argv[1], &error);
  if (ckpt == NULL)
    return mel_cli_fail (error);
  model = mel_checkpoint_create_model (ckpt, &error);
  if (model == NULL)
    return mel_cli_fail (error);
  dataset = checkpoint_dataset (ckpt, corpus, &error);
  if (dataset == NULL)
    return mel_cli_fail (error);
  if (use_stm && mel_model_get_config (model)->kind == MEL_MODEL_VAE)
    return mel_cli_failf (_("--stm scores language models; a VAE reconstructs segments"));
  if (use_stm)
    {
      g_autoptr(GArray) ids = split_ids (dataset, split, ckpt->vocab, mel_model_get_config (model), &error);
      MelStmConfig stm;

      mel_stm_config_init (&stm);
      if (ids == NULL
          || !mel_evaluate_with_stm (model, ckpt->vocab, (const gint32 *) ids->data, ids->len,
                                     window > 0 ? (guint) window : mel_evaluation_window (model, ckpt->train.window),
                                     batch > 0 ? (guint) batch : 32, &stm, NULL, &evaluation, &error))
        return mel_cli_fail (error);
      print_metrics_full (&evaluation.metrics, &evaluation.stm_metrics, mel_split_to_string (split), argv[1], json);
      return 0;
    }
  if (!evaluate_split (model, ckpt->vocab, dataset, split, window > 0 ? (guint) window : mel_evaluation_window (model, ckpt->train.window),
                       batch > 0 ? (guint) batch : 32, &metrics, &error))
    return mel_cli_fail (error);
  print_metrics (&metrics, mel_split_to_string (split), argv[1], json);
  if (!json && mel_model_get_config (model)->kind == MEL_MODEL_VAE && !print_vae_metrics (model, ckpt, dataset, split, &error))
    return mel_cli_fail (error);
  return 0;
}

/* ---- generate ------------------------------------------------------------ */

/* "out.krn" → "out-3.krn"; a name with "%d" is a template. */
static char *
sample_path (const char *output, guint index, guint n_samples)
{
  const char *dot;

  if (strstr (output, "%d") != NULL)
    {
      g_autoptr(GString) path = g_string_new (output);

      g_string_replace (path, "%d", "", 1);
      {
        g_autofree char *number = g_strdup_printf ("%u", index);
        gsize at = strstr (output, "%d") - output;

        g_string_insert (path, (gssize) at, number);
      }
      return g_string_free (g_steal_pointer (&path), FALSE);
    }
  if (n_samples == 1)
    return g_strdup (output);
  dot = strrchr (output, '.');
  if (dot == NULL || strchr (dot, G_DIR_SEPARATOR) != NULL)
    return g_strdup_printf ("%s-%u", output, index);
  return g_strdup_printf ("%.*s-%u%s", (int) (dot - output), output, index, dot);
}

/* The first @n_steps symbols of song @id (transposed as the model's data
 * were), with its meter and key signature. */
static char **
seed_from_song (const MelCheckpoint *ckpt, const char *corpus_path, const char *id, guint n_steps,
                MelMeter *meter, MelKeySignature *key_signature, gboolean *have_key, GError **error)
{
  g_auto(DataSpec) spec = { 0 };
  g_autoptr(MelCorpus) corpus = NULL;
  g_autoptr(MelSong) song = NULL;
  g_auto(GStrv) symbols = NULL;
  const MelMeter *m;
  const MelKeySignature *k;
  GStrvBuilder *builder;
  MelSong *found;

  if (!data_spec_from_json (&spec, ckpt->preprocessing, error))
    return NULL;
  if (corpus_path != NULL)
    corpus = mel_corpus_load (corpus_path, 0, NULL, NULL, NULL, error);
  else if (g_strcmp0 (spec.corpus, EMBEDDED) == 0 || is_dataset_file (spec.corpus))
    corpus = mel_corpus_load_embedded (error);
  else
    corpus = mel_corpus_load (spec.corpus, 0, NULL, NULL, NULL, error);
  if (corpus == NULL)
    return NULL;
  found = mel_corpus_find (corpus, id);
  if (found == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, _("no song “%s” in the corpus"), id);
      return NULL;
    }
  if (spec.options.transpose == MEL_TRANSPOSE_NORMALISE)
    song = mel_song_transpose (found, mel_song_normalising_shift (found));
  else
    song = mel_song_ref (found);
  symbols = mel_song_encode (song, error);
  if (symbols == NULL)
    return NULL;
  if ((m = mel_song_get_meter_at (song, mel_rational_new (0, 1))) != NULL)
    *meter = *m;
  if ((k = mel_song_get_key_signature_at (song, mel_rational_new (0, 1))) != NULL)
    {
      *key_signature = *k;
      *have_key = TRUE;
    }
  builder = g_strv_builder_new ();
  for (guint i = 0; symbols[i] != NULL && i < n_steps; i++)
    g_strv_builder_add (builder, symbols[i]);
  {
    char **result = g_strv_builder_end (builder);

    g_strv_builder_unref (builder);
    return result;
  }
}

int
mel_cli_generate (int argc, char **argv)
{
  g_autofree char *seed_melody = NULL;
  g_autofree char *seed_song = NULL;
  g_autofree char *corpus = NULL;
  g_autofree char *output = NULL;
  g_autofree gint32 *primer = NULL;
  g_auto(GStrv) seed_symbols = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(MelCheckpoint) ckpt = NULL;
  g_autoptr(MelModel) model = NULL;
  g_autoptr(GPtrArray) samples = NULL;
  int seed_steps = 16, steps = -1, bars = -1, samples_n = 1, top_k = 0;
  double temperature = 1.0;
  gint64 rng_seed = 1;
  MelMeter meter = { .onset = { 0, 1 }, .numerator = 4, .denominator = 4, .irregular = FALSE };
  MelKeySignature key_signature;
  gboolean have_key = FALSE;
  MelSamplerConfig config;
  guint n_primer = 0;
  GOptionEntry entries[] = {
    { "seed-melody", 0, 0, G_OPTION_ARG_STRING, &seed_melody,
      N_("Start from these symbols, e.g. \"67 _ 67 _ 67 _ _ 65 64 _\""), N_("SYMBOLS") },
    { "seed-song", 0, 0, G_OPTION_ARG_STRING, &seed_song, N_("Start from the opening of this corpus song"),
      N_("ID") },
    { "seed-steps", 0, 0, G_OPTION_ARG_INT, &seed_steps, N_("Sixteenths of --seed-song to use (default 16)"),
      N_("N") },
    { "corpus", 'c', 0, G_OPTION_ARG_FILENAME, &corpus, N_("Corpus that holds --seed-song"), N_("DIR") },
    { "temperature", 'T', 0, G_OPTION_ARG_DOUBLE, &temperature,
      N_("Sampling temperature; 0 = always the most likely symbol (default 1)"), N_("T") },
    { "top-k", 'k', 0, G_OPTION_ARG_INT, &top_k, N_("Sample among the K most likely symbols (default: all)"),
      N_("K") },
    { "steps", 'n', 0, G_OPTION_ARG_INT, &steps, N_("Sixteenth steps to generate (default 128)"), N_("N") },
    { "bars", 0, 0, G_OPTION_ARG_INT, &bars, N_("Bars to generate (instead of --steps)"), N_("B") },
    { "samples", 'm', 0, G_OPTION_ARG_INT, &samples_n, N_("Number of melodies (default 1)"), N_("M") },
    { "rng-seed", 's', 0, G_OPTION_ARG_INT64, &rng_seed, N_("Random seed (default 1)"), N_("S") },
    { "output", 'o', 0, G_OPTION_ARG_FILENAME, &output,
      N_("Kern file to write; several samples go to NAME-1.krn, NAME-2.krn… (or a template with %d)"),
      N_("FILE") },
    { NULL },
  };
  g_autoptr(GOptionContext) context = g_option_context_new (_("CHECKPOINT — write new melodies"));

  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    return mel_cli_fail (error);
  if (argc != 2)
    return mel_cli_failf (_("generate needs exactly one checkpoint; see --help"));
  if (seed_melody != NULL && seed_song != NULL)
    return mel_cli_failf (_("give either --seed-melody or --seed-song, not both"));
  if (steps >= 0 && bars >= 0)
    return mel_cli_failf (_("give either --steps or --bars, not both"));
  if (!(temperature >= 0.0 && temperature <= 100.0) || top_k < 0 || samples_n < 1 || samples_n > 10000
      || seed_steps < 0 || steps > 100000 || bars > 10000)
    return mel_cli_failf (_("bad value: temperature 0…100, --top-k ≥ 0, --samples 1…10000, --steps ≤ 100000"));

  ckpt = mel_checkpoint_load (argv[1], &error);
  if (ckpt == NULL)
    return mel_cli_fail (error);
  model = mel_checkpoint_create_model (ckpt, &error);
  if (model == NULL)
    return mel_cli_fail (error);
  /* LSTM + attention sampling overlaps the next recurrent product with
   * this step's attention on a second core; the samples are the same for
   * any thread count. */
  mel_model_set_n_threads (model, MIN (g_get_num_processors (), 2));

  if (seed_melody != NULL)
    seed_symbols = mel_symbols_parse (seed_melody, &error);
  else if (seed_song != NULL)
    seed_symbols = seed_from_song (ckpt, corpus, seed_song, (guint) seed_steps, &meter, &key_signature, &have_key,
                                   &error);
  else
    seed_symbols = g_new0 (char *, 1);
  if (seed_symbols == NULL)
    return mel_cli_fail (error);
  n_primer = g_strv_length (seed_symbols);
  primer = g_new (gint32, MAX (n_primer, 1));
  for (guint i = 0; i < n_primer; i++)
    if ((primer[i] = mel_vocab_lookup (ckpt->vocab, seed_symbols[i])) < 0)
      return mel_cli_failf (_("the model does not know the seed symbol “%s” (its pitches are those of its "
                              "training data)"),
                            seed_symbols[i]);

  mel_sampler_config_init (&config);
  config.temperature = (float) temperature;
  config.top_k = (guint) top_k;
  config.seed = (guint64) rng_seed;
  if (bars >= 0)
    {
      MelRational bar = mel_meter_bar_length (&meter);
      double sixteenths = mel_rational_to_double (bar) * MEL_STEPS_PER_QUARTER;

      config.n_steps = (guint) (bars * (sixteenths > 0 ? sixteenths : 16));
    }
  else if (steps >= 0)
    config.n_steps = (guint) steps;
  samples = mel_sample (model, ckpt->vocab, &config, primer, n_primer, (guint) samples_n, NULL, &error);
  if (samples == NULL)
    return mel_cli_fail (error);

  for (guint s = 0; s < samples->len; s++)
    {
      GArray *ids = samples->pdata[s];
      g_autoptr(GPtrArray) symbols = g_ptr_array_new ();
      g_autoptr(GString) line = g_string_new (NULL);
      g_autoptr(MelSong) song = NULL;
      g_autofree char *song_id = g_strdup_printf ("generated-%u", s + 1);

      for (guint i = 0; i < n_primer; i++)
        if (primer[i] != ckpt->vocab->delimiter_id)
          g_ptr_array_add (symbols, ckpt->vocab->symbols[primer[i]]);
      for (guint i = 0; i < ids->len; i++)
        g_ptr_array_add (symbols, ckpt->vocab->symbols[g_array_index (ids, gint32, i)]);
      for (guint i = 0; i < symbols->len; i++)
        g_string_append_printf (line, "%s%s", i > 0 ? " " : "", (const char *) symbols->pdata[i]);
      printf ("%s: %s\n", song_id, line->str);

      if (output == NULL)
        continue;
      song = mel_song_decode ((const char *const *) symbols->pdata, symbols->len, song_id, &meter,
                              have_key ? &key_signature : NULL, &error);
      if (song == NULL)
        return mel_cli_fail (error);
      {
        g_autofree char *path = sample_path (output, s + 1, samples->len);

        if (!mel_kern_write_file (song, path, &error))
          return mel_cli_fail (error);
        fprintf (stderr, _("wrote %s\n"), path);
      }
    }
  return 0;
}
