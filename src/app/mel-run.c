/* mel-run.c — one training run and its worker thread.
 *
 * The worker follows the project's pattern: it receives copies of
 * everything it needs (songs by reference — they are immutable — and the
 * configuration by value), holds only a GWeakRef to the run, checks its
 * GCancellable at every step (inside the trainer), and posts what it has to
 * say with g_idle_add_full.  Reports of a superseded worker are dropped.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <string.h>

#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>

#include "mel-run.h"
#include "mel-vocab.h"
#include "mel-trainer.h"

#define RUN_FILE "run.json"
#define LAST_CHECKPOINT "run.ckpt"
/* Loss points kept per run for the plot; older ones are thinned out. */
#define MAX_TRAIN_POINTS 4000
/* Minimum time between progress reports from the worker. */
#define REPORT_INTERVAL_US (G_USEC_PER_SEC / 10)
/* run.json is rewritten at most this often while a run trains. */
#define SAVE_INTERVAL_US (10 * G_USEC_PER_SEC)
/* Smoothing of the per-step training loss shown in the plot. */
#define LOSS_SMOOTHING 0.1

typedef struct
{
  double x, y;
} Point;

struct _MelRun
{
  GObject parent_instance;

  char *id;
  char *dir;              /* NULL for an imported checkpoint */
  char *label;
  char *corpus_root;
  char *checkpoint_path;  /* imported runs: the file itself */
  char *best_path_cache;
  GDateTime *created;
  MelRunConfig config;
  MelRunStatus status;
  char *error_message;

  /* figures */
  guint epoch, n_epochs;
  guint64 step, total_steps;
  double tokens_per_second;
  double eta_seconds;
  double best_valid_loss, best_valid_bits, best_onset_accuracy;
  guint best_epoch;
  GArray *points[2]; /* Point, by MelLossKind */

  /* the worker */
  GCancellable *cancellable;
  gboolean stop_requested;

  /* saving run.json */
  gboolean saving;
  gboolean save_again;
  gint64 last_save;
};

G_DEFINE_FINAL_TYPE (MelRun, mel_run, G_TYPE_OBJECT)

enum
{
  PROP_0,
  PROP_STATUS,
  N_PROPS
};

enum
{
  SIGNAL_PROGRESS,
  N_SIGNALS
};

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

static const char *const status_names[] = {
  "new", "preparing", "running", "paused", "finished", "stopped", "failed",
};

void
mel_run_config_init (MelRunConfig *config, MelModelKind kind, guint n_threads)
{
  g_return_if_fail (config != NULL);

  memset (config, 0, sizeof *config);
  mel_model_config_init (&config->model, kind, 0);
  mel_train_config_init (&config->train);
  config->train.n_threads = MAX (n_threads, 1);
  mel_preprocess_options_init (&config->preprocess);
  config->preprocess.transpose = MEL_TRANSPOSE_NORMALISE;
}

/* ---- persistence -------------------------------------------------------- */

static void
add_points (JsonBuilder *builder, const char *name, GArray *points)
{
  json_builder_set_member_name (builder, name);
  json_builder_begin_array (builder);
  for (guint i = 0; i < points->len; i++)
    {
      Point *point = &g_array_index (points, Point, i);
      json_builder_begin_array (builder);
      json_builder_add_double_value (builder, point->x);
      json_builder_add_double_value (builder, point->y);
      json_builder_end_array (builder);
    }
  json_builder_end_array (builder);
}

static void
add_int (JsonBuilder *builder, const char *name, gint64 value)
{
  json_builder_set_member_name (builder, name);
  json_builder_add_int_value (builder, value);
}

static void
add_double (JsonBuilder *builder, const char *name, double value)
{
  json_builder_set_member_name (builder, name);
  if (isfinite (value))
    json_builder_add_double_value (builder, value);
  else
    json_builder_add_null_value (builder);
}

static void
add_string (JsonBuilder *builder, const char *name, const char *value)
{
  json_builder_set_member_name (builder, name);
  if (value != NULL)
    json_builder_add_string_value (builder, value);
  else
    json_builder_add_null_value (builder);
}

static char *
build_run_json (MelRun *self)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonGenerator) generator = json_generator_new ();
  g_autoptr(JsonNode) root = NULL;
  g_autofree char *created = g_date_time_format_iso8601 (self->created);
  g_autofree char *durations = mel_preprocess_options_format_durations (&self->config.preprocess);
  const MelRunConfig *c = &self->config;

  json_builder_begin_object (builder);
  add_int (builder, "version", 1);
  add_string (builder, "id", self->id);
  add_string (builder, "created", created);
  add_string (builder, "corpus", self->corpus_root);
  add_string (builder, "status", status_names[self->status]);
  add_string (builder, "error", self->error_message);

  json_builder_set_member_name (builder, "model");
  json_builder_begin_object (builder);
  add_string (builder, "kind", mel_model_kind_to_string (c->model.kind));
  add_int (builder, "embed_dim", c->model.embed_dim);
  add_int (builder, "hidden_size", c->model.hidden_size);
  add_int (builder, "n_layers", c->model.n_layers);
  add_int (builder, "n_heads", c->model.n_heads);
  add_int (builder, "latent_size", c->model.latent_size);
  add_int (builder, "segment_steps", c->model.segment_steps);
  add_int (builder, "ngram_order", c->model.ngram_order);
  add_double (builder, "dropout", c->model.dropout);
  json_builder_end_object (builder);

  json_builder_set_member_name (builder, "train");
  json_builder_begin_object (builder);
  add_int (builder, "epochs", c->train.epochs);
  add_int (builder, "batch_size", c->train.batch_size);
  add_int (builder, "window", c->train.window);
  add_int (builder, "stride", c->train.stride);
  add_int (builder, "patience", c->train.patience);
  add_int (builder, "max_steps", (gint64) c->train.max_steps);
  add_int (builder, "seed", (gint64) c->train.seed);
  add_int (builder, "n_threads", c->train.n_threads);
  add_double (builder, "learning_rate", c->train.learning_rate);
  add_int (builder, "warmup_steps", c->train.warmup_steps);
  json_builder_end_object (builder);

  json_builder_set_member_name (builder, "preprocess");
  json_builder_begin_object (builder);
  add_string (builder, "transpose", mel_transpose_mode_to_string (c->preprocess.transpose));
  add_int (builder, "min_shift", c->preprocess.min_shift);
  add_int (builder, "max_shift", c->preprocess.max_shift);
  add_int (builder, "lowest_midi", c->preprocess.lowest_midi);
  add_int (builder, "highest_midi", c->preprocess.highest_midi);
  add_double (builder, "valid_fraction", c->preprocess.valid_fraction);
  add_double (builder, "test_fraction", c->preprocess.test_fraction);
  add_int (builder, "split_seed", (gint64) c->preprocess.split_seed);
  add_string (builder, "durations", durations);
  json_builder_end_object (builder);

  json_builder_set_member_name (builder, "figures");
  json_builder_begin_object (builder);
  add_int (builder, "epoch", self->epoch);
  add_int (builder, "n_epochs", self->n_epochs);
  add_int (builder, "step", (gint64) self->step);
  add_int (builder, "total_steps", (gint64) self->total_steps);
  add_double (builder, "tokens_per_second", self->tokens_per_second);
  add_double (builder, "best_valid_loss", self->best_valid_loss);
  add_double (builder, "best_valid_bits", self->best_valid_bits);
  add_double (builder, "best_onset_accuracy", self->best_onset_accuracy);
  add_int (builder, "best_epoch", self->best_epoch);
  json_builder_end_object (builder);

  add_points (builder, "train_points", self->points[MEL_LOSS_TRAIN]);
  add_points (builder, "valid_points", self->points[MEL_LOSS_VALID]);
  json_builder_end_object (builder);

  root = json_builder_get_root (builder);
  json_generator_set_root (generator, root);
  json_generator_set_pretty (generator, TRUE);
  return json_generator_to_data (generator, NULL);
}

/* Writes run.json now (when the run is made). */
static gboolean
save_run_file (MelRun *self, GError **error)
{
  g_autofree char *text = build_run_json (self);
  g_autofree char *path = g_build_filename (self->dir, RUN_FILE, NULL);

  /* g_file_set_contents writes a temporary file, syncs and renames it. */
  return g_file_set_contents (path, text, -1, error);
}

typedef struct
{
  char *path;
  char *text;
} SaveJob;

static void
save_job_free (SaveJob *job)
{
  g_free (job->path);
  g_free (job->text);
  g_free (job);
}

static void
save_worker (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  SaveJob *job = task_data;
  g_autoptr(GError) error = NULL;

  if (!g_file_set_contents (job->path, job->text, -1, &error))
    g_task_return_error (task, g_steal_pointer (&error));
  else
    g_task_return_boolean (task, TRUE);
}

static void start_save (MelRun *self);

static void
save_done_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  MelRun *self = MEL_RUN (source);
  g_autoptr(GError) error = NULL;

  if (!g_task_propagate_boolean (G_TASK (result), &error))
    g_warning ("Could not save run %s: %s", self->id, error->message);
  self->saving = FALSE;
  if (self->save_again)
    start_save (self);
}

static void
start_save (MelRun *self)
{
  g_autoptr(GTask) task = NULL;
  SaveJob *job;

  self->saving = TRUE;
  self->save_again = FALSE;
  self->last_save = g_get_monotonic_time ();
  job = g_new0 (SaveJob, 1);
  job->path = g_build_filename (self->dir, RUN_FILE, NULL);
  job->text = build_run_json (self);
  task = g_task_new (self, NULL, save_done_cb, NULL);
  g_task_set_task_data (task, job, (GDestroyNotify) save_job_free);
  g_task_run_in_thread (task, save_worker);
}

/* Saves run.json in a worker, so the disk never stalls the interface; while
 * training at most every SAVE_INTERVAL_US, unless @now.  Writes are kept in
 * order: one at a time, the latest state last. */
static void
schedule_save (MelRun *self, gboolean now)
{
  if (self->dir == NULL)
    return;
  if (!now && g_get_monotonic_time () - self->last_save < SAVE_INTERVAL_US)
    return;
  if (self->saving)
    self->save_again = TRUE;
  else
    start_save (self);
}

gboolean
mel_run_is_saving (MelRun *self)
{
  g_return_val_if_fail (MEL_IS_RUN (self), FALSE);
  return self->saving;
}

static gint64
get_int (JsonObject *object, const char *name, gint64 fallback)
{
  JsonNode *node = object != NULL ? json_object_get_member (object, name) : NULL;
  return node != NULL && JSON_NODE_HOLDS_VALUE (node) ? json_node_get_int (node) : fallback;
}

static double
get_double (JsonObject *object, const char *name, double fallback)
{
  JsonNode *node = object != NULL ? json_object_get_member (object, name) : NULL;
  return node != NULL && JSON_NODE_HOLDS_VALUE (node) ? json_node_get_double (node) : fallback;
}

static const char *
get_string (JsonObject *object, const char *name)
{
  JsonNode *node = object != NULL ? json_object_get_member (object, name) : NULL;
  return node != NULL && JSON_NODE_HOLDS_VALUE (node)
         && json_node_get_value_type (node) == G_TYPE_STRING ? json_node_get_string (node) : NULL;
}

static void
read_points (JsonObject *object, const char *name, GArray *points)
{
  JsonNode *node = json_object_get_member (object, name);
  JsonArray *array;

  if (node == NULL || !JSON_NODE_HOLDS_ARRAY (node))
    return;
  array = json_node_get_array (node);
  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      JsonNode *pair = json_array_get_element (array, i);
      JsonArray *xy;
      Point point;

      if (!JSON_NODE_HOLDS_ARRAY (pair) || json_array_get_length (json_node_get_array (pair)) != 2)
        continue;
      xy = json_node_get_array (pair);
      point.x = json_array_get_double_element (xy, 0);
      point.y = json_array_get_double_element (xy, 1);
      g_array_append_val (points, point);
    }
}

static void
update_label (MelRun *self)
{
  const char *kind_names[] = { N_("GRU"), N_("LSTM + attention"), N_("VAE"), N_("n-gram") };
  const MelModelConfig *model = &self->config.model;
  g_autofree char *when = g_date_time_format (self->created, "%e %b %H:%M");

  g_free (self->label);
  /* Translators: model, layers × hidden size, and when the run was made */
  self->label = g_strdup_printf (_("%s %u×%u · %s"),
                                 model->kind < G_N_ELEMENTS (kind_names)
                                 ? _(kind_names[model->kind]) : "?",
                                 model->n_layers, model->hidden_size, g_strstrip (when));
}

MelRun *
mel_run_load (const char *dir, GError **error)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autofree char *path = NULL;
  g_autoptr(MelRun) self = NULL;
  JsonObject *root, *model, *train, *pre, *figures;
  const char *text;
  MelModelKind kind = MEL_MODEL_GRU;

  g_return_val_if_fail (dir != NULL, NULL);

  path = g_build_filename (dir, RUN_FILE, NULL);
  if (!json_parser_load_from_file (parser, path, error))
    return NULL;
  if (!JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, _("%s is not a run description"),
                   path);
      return NULL;
    }
  root = json_node_get_object (json_parser_get_root (parser));
  model = json_object_get_object_member (root, "model");
  train = json_object_get_object_member (root, "train");
  pre = json_object_get_object_member (root, "preprocess");
  figures = json_object_get_object_member (root, "figures");
  if (get_string (root, "id") == NULL || model == NULL || train == NULL || pre == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, _("%s is incomplete"), path);
      return NULL;
    }

  self = g_object_new (MEL_TYPE_RUN, NULL);
  self->id = g_strdup (get_string (root, "id"));
  self->dir = g_strdup (dir);
  self->corpus_root = g_strdup (get_string (root, "corpus"));
  self->error_message = g_strdup (get_string (root, "error"));
  text = get_string (root, "created");
  self->created = text != NULL ? g_date_time_new_from_iso8601 (text, NULL) : NULL;
  if (self->created == NULL)
    self->created = g_date_time_new_now_local ();
  for (guint i = 0; i < G_N_ELEMENTS (status_names); i++)
    if (g_strcmp0 (get_string (root, "status"), status_names[i]) == 0)
      self->status = i;
  /* A run that was training when the app ended was interrupted between
   * checkpoints: it resumes from the last one. */
  if (self->status == MEL_RUN_RUNNING || self->status == MEL_RUN_PREPARING)
    self->status = g_file_test (mel_run_get_checkpoint_path (self) != NULL
                                ? mel_run_get_checkpoint_path (self) : "", G_FILE_TEST_EXISTS)
                   ? MEL_RUN_PAUSED : MEL_RUN_NEW;

  mel_model_kind_from_string (get_string (model, "kind"), &kind);
  mel_run_config_init (&self->config, kind, get_int (train, "n_threads", 1));
  self->config.model.embed_dim = get_int (model, "embed_dim", self->config.model.embed_dim);
  self->config.model.hidden_size = get_int (model, "hidden_size", self->config.model.hidden_size);
  self->config.model.n_layers = get_int (model, "n_layers", self->config.model.n_layers);
  self->config.model.n_heads = get_int (model, "n_heads", self->config.model.n_heads);
  self->config.model.latent_size = get_int (model, "latent_size", self->config.model.latent_size);
  self->config.model.segment_steps = get_int (model, "segment_steps",
                                              self->config.model.segment_steps);
  self->config.model.ngram_order = get_int (model, "ngram_order", self->config.model.ngram_order);
  self->config.model.dropout = get_double (model, "dropout", self->config.model.dropout);
  self->config.train.epochs = get_int (train, "epochs", self->config.train.epochs);
  self->config.train.batch_size = get_int (train, "batch_size", self->config.train.batch_size);
  self->config.train.window = get_int (train, "window", self->config.train.window);
  self->config.train.stride = get_int (train, "stride", self->config.train.stride);
  self->config.train.patience = get_int (train, "patience", self->config.train.patience);
  self->config.train.max_steps = get_int (train, "max_steps", 0);
  self->config.train.seed = get_int (train, "seed", self->config.train.seed);
  self->config.train.learning_rate = get_double (train, "learning_rate",
                                                 self->config.train.learning_rate);
  self->config.train.warmup_steps = get_int (train, "warmup_steps",
                                             self->config.train.warmup_steps);
  mel_transpose_mode_from_string (get_string (pre, "transpose"),
                                  &self->config.preprocess.transpose);
  self->config.preprocess.min_shift = get_int (pre, "min_shift", self->config.preprocess.min_shift);
  self->config.preprocess.max_shift = get_int (pre, "max_shift", self->config.preprocess.max_shift);
  self->config.preprocess.lowest_midi = get_int (pre, "lowest_midi",
                                                 self->config.preprocess.lowest_midi);
  self->config.preprocess.highest_midi = get_int (pre, "highest_midi",
                                                  self->config.preprocess.highest_midi);
  self->config.preprocess.valid_fraction = get_double (pre, "valid_fraction",
                                                       self->config.preprocess.valid_fraction);
  self->config.preprocess.test_fraction = get_double (pre, "test_fraction",
                                                      self->config.preprocess.test_fraction);
  self->config.preprocess.split_seed = get_int (pre, "split_seed",
                                                self->config.preprocess.split_seed);
  if (get_string (pre, "durations") != NULL)
    mel_preprocess_options_set_durations (&self->config.preprocess, get_string (pre, "durations"),
                                          NULL);

  self->epoch = get_int (figures, "epoch", 0);
  self->n_epochs = get_int (figures, "n_epochs", self->config.train.epochs);
  self->step = get_int (figures, "step", 0);
  self->total_steps = get_int (figures, "total_steps", 0);
  self->tokens_per_second = get_double (figures, "tokens_per_second", NAN);
  self->best_valid_loss = get_double (figures, "best_valid_loss", NAN);
  self->best_valid_bits = get_double (figures, "best_valid_bits", NAN);
  self->best_onset_accuracy = get_double (figures, "best_onset_accuracy", NAN);
  self->best_epoch = get_int (figures, "best_epoch", 0);
  read_points (root, "train_points", self->points[MEL_LOSS_TRAIN]);
  read_points (root, "valid_points", self->points[MEL_LOSS_VALID]);
  update_label (self);
  return g_steal_pointer (&self);
}

static int
compare_runs_newest_first (gconstpointer a, gconstpointer b)
{
  MelRun *run_a = *(MelRun *const *) a;
  MelRun *run_b = *(MelRun *const *) b;
  return g_date_time_compare (run_b->created, run_a->created);
}

GListStore *
mel_run_load_all (const char *runs_dir)
{
  GListStore *store = g_list_store_new (MEL_TYPE_RUN);
  g_autoptr(GPtrArray) runs = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(GDir) dir = NULL;
  const char *name;

  g_return_val_if_fail (runs_dir != NULL, store);

  dir = g_dir_open (runs_dir, 0, NULL);
  if (dir == NULL)
    return store; /* no runs yet */
  while ((name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = g_build_filename (runs_dir, name, NULL);
      g_autoptr(GError) error = NULL;
      MelRun *run;

      if (!g_file_test (path, G_FILE_TEST_IS_DIR))
        continue;
      run = mel_run_load (path, &error);
      if (run == NULL)
        g_message ("Skipping run folder %s: %s", path, error->message);
      else
        g_ptr_array_add (runs, run);
    }
  g_ptr_array_sort (runs, compare_runs_newest_first);
  g_list_store_splice (store, 0, 0, runs->pdata, runs->len);
  return store;
}

MelRun *
mel_run_new (const char *runs_dir, const MelRunConfig *config, const char *corpus_root,
             GError **error)
{
  g_autoptr(MelRun) self = NULL;
  g_autofree char *stamp = NULL;

  g_return_val_if_fail (runs_dir != NULL, NULL);
  g_return_val_if_fail (config != NULL, NULL);

  self = g_object_new (MEL_TYPE_RUN, NULL);
  self->created = g_date_time_new_now_local ();
  stamp = g_date_time_format (self->created, "%Y%m%d-%H%M%S");
  self->id = g_strdup_printf ("%s-%04x", stamp, g_random_int_range (0, 0x10000));
  self->dir = g_build_filename (runs_dir, self->id, NULL);
  self->corpus_root = g_strdup (corpus_root);
  self->config = *config;
  self->n_epochs = config->train.epochs;
  update_label (self);

  if (g_mkdir_with_parents (self->dir, 0700) != 0)
    {
      int saved = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
                   _("Could not create the run folder %s: %s"), self->dir, g_strerror (saved));
      return NULL;
    }
  if (!save_run_file (self, error))
    return NULL;
  return g_steal_pointer (&self);
}

MelRun *
mel_run_new_from_checkpoint (const char *path, GError **error)
{
  g_autoptr(MelRun) self = NULL;

  g_return_val_if_fail (path != NULL, NULL);

  {
    g_autoptr(MelCheckpoint) checkpoint = mel_checkpoint_load (path, error);
    GArray *history;

    if (checkpoint == NULL)
      return NULL;
    self = g_object_new (MEL_TYPE_RUN, NULL);
    self->created = g_date_time_new_now_local ();
    self->id = g_path_get_basename (path);
    self->checkpoint_path = g_strdup (path);
    self->corpus_root = NULL;
    self->config.model = checkpoint->model_config;
    self->config.train = checkpoint->train;
    mel_preprocess_options_init (&self->config.preprocess);
    self->status = MEL_RUN_FINISHED;
    history = checkpoint->history;
    for (guint i = 0; history != NULL && i < history->len; i++)
      {
        const MelEpochRecord *record = &g_array_index (history, MelEpochRecord, i);
        Point train = { record->step, record->train_loss };
        Point valid = { record->step, record->valid_loss };
        g_array_append_val (self->points[MEL_LOSS_TRAIN], train);
        if (isfinite (record->valid_loss))
          g_array_append_val (self->points[MEL_LOSS_VALID], valid);
        self->epoch = record->epoch;
        self->step = record->step;
      }
    self->n_epochs = self->config.train.epochs;
    self->best_epoch = checkpoint->state.best_epoch;
    self->best_valid_loss = checkpoint->state.best_valid_loss;
    update_label (self);
    g_free (self->label);
    self->label = g_path_get_basename (path);
  }
  return g_steal_pointer (&self);
}

/* ---- the worker ----------------------------------------------------------- */

typedef enum
{
  REPORT_PREPARING,
  REPORT_PROGRESS,
  REPORT_DONE,
} ReportKind;

/* One message from the worker to the main thread. */
typedef struct
{
  GWeakRef run;
  GCancellable *cancellable; /* identifies the worker */
  ReportKind kind;
  double fraction;           /* PREPARING */
  /* PROGRESS */
  guint epoch, n_epochs;
  guint64 step, total_steps;
  double tokens_per_second, eta_seconds;
  GArray *train_points;      /* Point */
  gboolean has_epoch;
  MelEpochRecord record;
  /* DONE */
  gboolean finished;
  GError *error;
  GApplication *application; /* held while the worker runs; released with DONE */
} Report;

static void
report_free (Report *report)
{
  g_weak_ref_clear (&report->run);
  g_clear_object (&report->cancellable);
  g_clear_pointer (&report->train_points, g_array_unref);
  g_clear_error (&report->error);
  if (report->application != NULL)
    {
      g_application_release (report->application);
      g_object_unref (report->application);
    }
  g_free (report);
}

typedef struct
{
  GWeakRef run;
  GCancellable *cancellable;
  GPtrArray *songs;          /* MelSong*, immutable */
  MelRunConfig config;
  char *last_path;
  char *best_path;
  char *preprocessing;       /* description stored in the checkpoint */
  gboolean resume;
  GApplication *application; /* held: the app waits for the checkpoint on quit */
  /* progress state, worker thread only */
  gint64 last_report;
  double smoothed_loss;
  GArray *pending_points;
  guint64 last_step;
} Worker;

static void
worker_free (Worker *worker)
{
  g_weak_ref_clear (&worker->run);
  g_clear_object (&worker->cancellable);
  g_clear_pointer (&worker->songs, g_ptr_array_unref);
  g_free (worker->last_path);
  g_free (worker->best_path);
  g_free (worker->preprocessing);
  g_clear_pointer (&worker->pending_points, g_array_unref);
  if (worker->application != NULL)
    {
      g_application_release (worker->application);
      g_object_unref (worker->application);
    }
  g_free (worker);
}

static void set_status (MelRun *self, MelRunStatus status);

static void
thin_points (GArray *points)
{
  /* Keep every other point of the older half: the plot stays detailed
   * where the run is now and memory stays bounded. */
  guint half = points->len / 2;
  guint out = 0;

  for (guint i = 0; i < points->len; i++)
    if (i >= half || i % 2 == 0)
      g_array_index (points, Point, out++) = g_array_index (points, Point, i);
  g_array_set_size (points, out);
}

static gboolean
report_apply (gpointer data)
{
  Report *report = data;
  g_autoptr(MelRun) self = g_weak_ref_get (&report->run);

  if (self == NULL || self->cancellable != report->cancellable)
    return G_SOURCE_REMOVE; /* stale */

  switch (report->kind)
    {
    case REPORT_PREPARING:
      set_status (self, MEL_RUN_PREPARING);
      g_signal_emit (self, signals[SIGNAL_PROGRESS], 0);
      break;

    case REPORT_PROGRESS:
      self->epoch = report->epoch;
      self->n_epochs = report->n_epochs;
      self->step = report->step;
      self->total_steps = report->total_steps;
      self->tokens_per_second = report->tokens_per_second;
      self->eta_seconds = report->eta_seconds;
      if (report->train_points != NULL)
        g_array_append_vals (self->points[MEL_LOSS_TRAIN], report->train_points->data,
                             report->train_points->len);
      if (self->points[MEL_LOSS_TRAIN]->len > MAX_TRAIN_POINTS)
        thin_points (self->points[MEL_LOSS_TRAIN]);
      if (report->has_epoch && isfinite (report->record.valid_loss))
        {
          Point point = { report->record.step, report->record.valid_loss };
          g_array_append_val (self->points[MEL_LOSS_VALID], point);
          if (!isfinite (self->best_valid_loss) || report->record.valid_loss < self->best_valid_loss)
            {
              self->best_valid_loss = report->record.valid_loss;
              self->best_valid_bits = report->record.valid_bits;
              self->best_onset_accuracy = report->record.valid_onset_accuracy;
              self->best_epoch = report->record.epoch;
            }
        }
      set_status (self, MEL_RUN_RUNNING);
      if (report->has_epoch)
        schedule_save (self, FALSE);
      g_signal_emit (self, signals[SIGNAL_PROGRESS], 0);
      break;

    case REPORT_DONE:
      if (report->train_points != NULL)
        g_array_append_vals (self->points[MEL_LOSS_TRAIN], report->train_points->data,
                             report->train_points->len);
      g_clear_object (&self->cancellable);
      g_clear_pointer (&self->error_message, g_free);
      if (report->error == NULL)
        set_status (self, MEL_RUN_FINISHED);
      else if (g_error_matches (report->error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        set_status (self, self->stop_requested ? MEL_RUN_STOPPED : MEL_RUN_PAUSED);
      else
        {
          self->error_message = g_strdup (report->error->message);
          set_status (self, MEL_RUN_FAILED);
        }
      self->eta_seconds = NAN;
      schedule_save (self, TRUE);
      g_signal_emit (self, signals[SIGNAL_PROGRESS], 0);
      break;

    default:
      g_assert_not_reached ();
    }
  return G_SOURCE_REMOVE;
}

static Report *
report_new (Worker *worker, ReportKind kind)
{
  Report *report = g_new0 (Report, 1);
  g_autoptr(GObject) run = g_weak_ref_get (&worker->run);

  g_weak_ref_init (&report->run, run);
  report->cancellable = g_object_ref (worker->cancellable);
  report->kind = kind;
  return report;
}

static void
post_report (Report *report)
{
  g_idle_add_full (G_PRIORITY_DEFAULT, report_apply, report, (GDestroyNotify) report_free);
}

static void
train_progress_cb (const MelTrainProgress *progress, gpointer user_data)
{
  Worker *worker = user_data;
  gint64 now = g_get_monotonic_time ();
  gboolean epoch = progress->event == MEL_TRAIN_EVENT_EPOCH;
  Report *report;

  if (progress->event == MEL_TRAIN_EVENT_STEP && isfinite (progress->step_loss))
    {
      Point point;

      worker->smoothed_loss = isnan (worker->smoothed_loss)
                              ? progress->step_loss
                              : worker->smoothed_loss
                                + LOSS_SMOOTHING * (progress->step_loss - worker->smoothed_loss);
      point.x = progress->step;
      point.y = worker->smoothed_loss;
      g_array_append_val (worker->pending_points, point);
    }
  if (!epoch && now - worker->last_report < REPORT_INTERVAL_US)
    return;
  worker->last_report = now;

  report = report_new (worker, REPORT_PROGRESS);
  report->epoch = progress->epoch;
  report->n_epochs = progress->n_epochs;
  report->step = progress->step;
  report->total_steps = progress->total_steps;
  report->tokens_per_second = progress->tokens_per_second;
  report->eta_seconds = progress->eta_seconds;
  report->train_points = g_steal_pointer (&worker->pending_points);
  worker->pending_points = g_array_new (FALSE, FALSE, sizeof (Point));
  if (epoch && progress->record != NULL)
    {
      report->has_epoch = TRUE;
      report->record = *progress->record;
    }
  post_report (report);
}

static void
prepare_progress_cb (double fraction, gpointer user_data)
{
  Worker *worker = user_data;
  gint64 now = g_get_monotonic_time ();
  Report *report;

  if (now - worker->last_report < REPORT_INTERVAL_US)
    return;
  worker->last_report = now;
  report = report_new (worker, REPORT_PREPARING);
  report->fraction = fraction;
  post_report (report);
}

static gboolean
train (Worker *worker, GError **error)
{
  g_autoptr(MelDataset) dataset = NULL;
  g_autoptr(MelVocab) vocab = NULL;
  g_autoptr(MelTrainer) trainer = NULL;
  g_autoptr(GArray) train_ids = NULL;
  g_autoptr(GArray) valid_ids = NULL;
  MelModelConfig model_config = worker->config.model;
  gboolean vae = model_config.kind == MEL_MODEL_VAE;

  post_report (report_new (worker, REPORT_PREPARING));
  dataset = mel_dataset_build_full (worker->songs, &worker->config.preprocess,
                                    worker->config.train.n_threads, prepare_progress_cb, worker,
                                    worker->cancellable, error);
  if (dataset == NULL)
    return FALSE;
  vocab = mel_vocab_new ((const char *const *) dataset->vocabulary->pdata,
                         dataset->vocabulary->len, error);
  if (vocab == NULL)
    return FALSE;
  if (vae)
    {
      guint n_train = 0, n_valid = 0;
      train_ids = mel_dataset_get_segments (dataset, MEL_SPLIT_TRAIN, model_config.segment_steps,
                                            &n_train);
      valid_ids = mel_dataset_get_segments (dataset, MEL_SPLIT_VALID, model_config.segment_steps,
                                            &n_valid);
    }
  else
    {
      train_ids = mel_dataset_get_split_ids (dataset, MEL_SPLIT_TRAIN);
      valid_ids = mel_dataset_get_split_ids (dataset, MEL_SPLIT_VALID);
    }

  if (worker->resume)
    {
      g_autoptr(MelCheckpoint) checkpoint = mel_checkpoint_load (worker->last_path, error);
      if (checkpoint == NULL)
        return FALSE;
      if (!mel_vocab_equal (checkpoint->vocab, vocab))
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                       _("The corpus is not the one this run was trained on"));
          return FALSE;
        }
      trainer = mel_trainer_new_resume (checkpoint, (const gint32 *) train_ids->data, train_ids->len,
                                        (const gint32 *) valid_ids->data, valid_ids->len, error);
    }
  else
    {
      model_config.vocab_size = vocab->size;
      trainer = mel_trainer_new (&model_config, &worker->config.train, vocab,
                                 (const gint32 *) train_ids->data, train_ids->len,
                                 (const gint32 *) valid_ids->data, valid_ids->len, error);
    }
  if (trainer == NULL)
    return FALSE;

  mel_trainer_set_checkpoint_paths (trainer, worker->last_path, worker->best_path);
  mel_trainer_set_data_info (trainer, worker->config.preprocess.split_seed, worker->preprocessing);
  mel_trainer_set_progress_func (trainer, train_progress_cb, worker);
  return mel_trainer_run (trainer, worker->cancellable, error);
}

static gpointer
worker_main (gpointer data)
{
  Worker *worker = data;
  g_autoptr(GError) error = NULL;
  Report *report;

  train (worker, &error);
  report = report_new (worker, REPORT_DONE);
  /* The last smoothed points, so the plot ends where the run ended. */
  report->train_points = g_steal_pointer (&worker->pending_points);
  /* Released on the main thread, after the last checkpoint is on disk. */
  report->application = g_steal_pointer (&worker->application);
  report->error = g_steal_pointer (&error);
  post_report (report);
  worker_free (worker);
  return NULL;
}

static char *
describe_preprocessing (const MelPreprocessOptions *options)
{
  g_autofree char *durations = mel_preprocess_options_format_durations (options);

  return g_strdup_printf ("{\"transpose\": \"%s\", \"min_shift\": %d, \"max_shift\": %d, "
                          "\"lowest_midi\": %d, \"highest_midi\": %d, \"durations\": \"%s\", "
                          "\"valid_fraction\": %g, \"test_fraction\": %g}",
                          mel_transpose_mode_to_string (options->transpose), options->min_shift,
                          options->max_shift, options->lowest_midi, options->highest_midi,
                          durations, options->valid_fraction, options->test_fraction);
}

gboolean
mel_run_start (MelRun *self, GPtrArray *songs, GError **error)
{
  Worker *worker;
  GThread *thread;

  g_return_val_if_fail (MEL_IS_RUN (self), FALSE);
  g_return_val_if_fail (songs != NULL, FALSE);

  if (self->dir == NULL || mel_run_is_active (self)
      || !(self->status == MEL_RUN_NEW || self->status == MEL_RUN_PAUSED))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, _("This run cannot be started again"));
      return FALSE;
    }

  self->cancellable = g_cancellable_new ();
  self->stop_requested = FALSE;

  worker = g_new0 (Worker, 1);
  g_weak_ref_init (&worker->run, self);
  worker->cancellable = g_object_ref (self->cancellable);
  worker->songs = g_ptr_array_ref (songs);
  worker->config = self->config;
  worker->last_path = g_build_filename (self->dir, LAST_CHECKPOINT, NULL);
  worker->best_path = mel_checkpoint_best_path (worker->last_path);
  worker->preprocessing = describe_preprocessing (&self->config.preprocess);
  worker->resume = self->status == MEL_RUN_PAUSED;
  worker->smoothed_loss = NAN;
  worker->pending_points = g_array_new (FALSE, FALSE, sizeof (Point));
  /* Closing the window cancels the run; the application stays until the
   * worker has written its checkpoint. */
  worker->application = g_application_get_default ();
  if (worker->application != NULL)
    {
      g_object_ref (worker->application);
      g_application_hold (worker->application);
    }

  thread = g_thread_try_new ("melodist-train", worker_main, worker, error);
  if (thread == NULL)
    {
      worker_free (worker);
      g_clear_object (&self->cancellable);
      return FALSE;
    }
  g_thread_unref (thread);
  set_status (self, MEL_RUN_PREPARING);
  return TRUE;
}

void
mel_run_pause (MelRun *self)
{
  g_return_if_fail (MEL_IS_RUN (self));

  if (self->cancellable != NULL)
    g_cancellable_cancel (self->cancellable);
}

void
mel_run_stop (MelRun *self)
{
  g_return_if_fail (MEL_IS_RUN (self));

  if (self->cancellable != NULL)
    {
      self->stop_requested = TRUE;
      g_cancellable_cancel (self->cancellable);
    }
  else if (self->status == MEL_RUN_PAUSED || self->status == MEL_RUN_NEW)
    {
      set_status (self, MEL_RUN_STOPPED);
      schedule_save (self, TRUE);
    }
}

static gboolean
remove_tree (GFile *file, GError **error)
{
  g_autoptr(GFileEnumerator) children = NULL;

  children = g_file_enumerate_children (file, G_FILE_ATTRIBUTE_STANDARD_NAME,
                                        G_FILE_QUERY_INFO_NOFOLLOW_SYMLINKS, NULL, NULL);
  if (children != NULL)
    {
      GFileInfo *info;
      while ((info = g_file_enumerator_next_file (children, NULL, NULL)) != NULL)
        {
          g_autoptr(GFile) child = g_file_get_child (file, g_file_info_get_name (info));
          g_object_unref (info);
          if (!remove_tree (child, error))
            return FALSE;
        }
    }
  return g_file_delete (file, NULL, error);
}

gboolean
mel_run_delete (MelRun *self, GError **error)
{
  g_autoptr(GFile) dir = NULL;

  g_return_val_if_fail (MEL_IS_RUN (self), FALSE);

  mel_run_stop (self);
  if (self->dir == NULL)
    return TRUE;
  dir = g_file_new_for_path (self->dir);
  return remove_tree (dir, error);
}

/* ---- getters ---------------------------------------------------------------- */

static void
set_status (MelRun *self, MelRunStatus status)
{
  if (self->status == status)
    return;
  self->status = status;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STATUS]);
}

const char *
mel_run_get_id (MelRun *self)
{
  g_return_val_if_fail (MEL_IS_RUN (self), NULL);
  return self->id;
}

const char *
mel_run_get_label (MelRun *self)
{
  g_return_val_if_fail (MEL_IS_RUN (self), NULL);
  return self->label;
}

MelRunStatus
mel_run_get_status (MelRun *self)
{
  g_return_val_if_fail (MEL_IS_RUN (self), MEL_RUN_NEW);
  return self->status;
}

char *
mel_run_dup_status_text (MelRun *self)
{
  g_return_val_if_fail (MEL_IS_RUN (self), NULL);

  switch (self->status)
    {
    case MEL_RUN_NEW:
      return g_strdup (_("Not started"));
    case MEL_RUN_PREPARING:
      return g_strdup (_("Preparing the data…"));
    case MEL_RUN_RUNNING:
      return g_strdup_printf (_("Training: epoch %u of %u"), MAX (self->epoch, 1), self->n_epochs);
    case MEL_RUN_PAUSED:
      return g_strdup_printf (_("Paused in epoch %u"), MAX (self->epoch, 1));
    case MEL_RUN_FINISHED:
      return self->dir != NULL ? g_strdup_printf (_("Finished after %u epochs"), self->epoch)
                               : g_strdup (_("Opened checkpoint"));
    case MEL_RUN_STOPPED:
      return g_strdup_printf (_("Stopped in epoch %u"), MAX (self->epoch, 1));
    case MEL_RUN_FAILED:
      return g_strdup_printf (_("Failed: %s"),
                              self->error_message != NULL ? self->error_message : _("unknown error"));
    default:
      g_assert_not_reached ();
    }
}

const MelRunConfig *
mel_run_get_config (MelRun *self)
{
  g_return_val_if_fail (MEL_IS_RUN (self), NULL);
  return &self->config;
}

const char *
mel_run_get_corpus_root (MelRun *self)
{
  g_return_val_if_fail (MEL_IS_RUN (self), NULL);
  return self->corpus_root;
}

gboolean
mel_run_is_active (MelRun *self)
{
  g_return_val_if_fail (MEL_IS_RUN (self), FALSE);
  return self->cancellable != NULL;
}

gboolean
mel_run_can_resume (MelRun *self)
{
  g_return_val_if_fail (MEL_IS_RUN (self), FALSE);
  return self->dir != NULL && self->cancellable == NULL && self->status == MEL_RUN_PAUSED;
}

const char *
mel_run_get_dir (MelRun *self)
{
  g_return_val_if_fail (MEL_IS_RUN (self), NULL);
  return self->dir;
}

const char *
mel_run_get_checkpoint_path (MelRun *self)
{
  g_autofree char *last = NULL;

  g_return_val_if_fail (MEL_IS_RUN (self), NULL);

  if (self->dir == NULL)
    return self->checkpoint_path;
  last = g_build_filename (self->dir, LAST_CHECKPOINT, NULL);
  g_clear_pointer (&self->best_path_cache, g_free);
  self->best_path_cache = mel_checkpoint_best_path (last);
  if (g_file_test (self->best_path_cache, G_FILE_TEST_EXISTS))
    return self->best_path_cache;
  g_free (self->best_path_cache);
  self->best_path_cache = g_steal_pointer (&last);
  return g_file_test (self->best_path_cache, G_FILE_TEST_EXISTS) ? self->best_path_cache : NULL;
}

double
mel_run_get_fraction (MelRun *self)
{
  g_return_val_if_fail (MEL_IS_RUN (self), 0.0);
  return self->total_steps > 0 ? MIN ((double) self->step / self->total_steps, 1.0) : 0.0;
}

guint
mel_run_get_epoch (MelRun *self)
{
  g_return_val_if_fail (MEL_IS_RUN (self), 0);
  return self->epoch;
}

guint
mel_run_get_n_epochs (MelRun *self)
{
  g_return_val_if_fail (MEL_IS_RUN (self), 0);
  return self->n_epochs;
}

guint64
mel_run_get_step (MelRun *self)
{
  g_return_val_if_fail (MEL_IS_RUN (self), 0);
  return self->step;
}

double
mel_run_get_tokens_per_second (MelRun *self)
{
  g_return_val_if_fail (MEL_IS_RUN (self), NAN);
  return self->tokens_per_second;
}

double
mel_run_get_eta_seconds (MelRun *self)
{
  g_return_val_if_fail (MEL_IS_RUN (self), NAN);
  return self->eta_seconds;
}

double
mel_run_get_best_valid_loss (MelRun *self)
{
  g_return_val_if_fail (MEL_IS_RUN (self), NAN);
  return self->best_valid_loss;
}

double
mel_run_get_best_valid_bits (MelRun *self)
{
  g_return_val_if_fail (MEL_IS_RUN (self), NAN);
  return self->best_valid_bits;
}

double
mel_run_get_best_onset_accuracy (MelRun *self)
{
  g_return_val_if_fail (MEL_IS_RUN (self), NAN);
  return self->best_onset_accuracy;
}

guint
mel_run_get_best_epoch (MelRun *self)
{
  g_return_val_if_fail (MEL_IS_RUN (self), 0);
  return self->best_epoch;
}

guint
mel_run_get_n_points (MelRun *self, MelLossKind kind)
{
  g_return_val_if_fail (MEL_IS_RUN (self), 0);
  g_return_val_if_fail (kind == MEL_LOSS_TRAIN || kind == MEL_LOSS_VALID, 0);
  return self->points[kind]->len;
}

void
mel_run_get_point (MelRun *self, MelLossKind kind, guint index, double *step, double *loss)
{
  Point *point;

  g_return_if_fail (MEL_IS_RUN (self));
  g_return_if_fail (kind == MEL_LOSS_TRAIN || kind == MEL_LOSS_VALID);
  g_return_if_fail (index < self->points[kind]->len);

  point = &g_array_index (self->points[kind], Point, index);
  if (step != NULL)
    *step = point->x;
  if (loss != NULL)
    *loss = point->y;
}

/* ---- GObject ---------------------------------------------------------------- */

static void
mel_run_dispose (GObject *object)
{
  MelRun *self = MEL_RUN (object);

  /* The worker notices, writes its checkpoint and ends on its own. */
  if (self->cancellable != NULL)
    g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  G_OBJECT_CLASS (mel_run_parent_class)->dispose (object);
}

static void
mel_run_finalize (GObject *object)
{
  MelRun *self = MEL_RUN (object);

  g_free (self->id);
  g_free (self->dir);
  g_free (self->label);
  g_free (self->corpus_root);
  g_free (self->checkpoint_path);
  g_free (self->best_path_cache);
  g_free (self->error_message);
  g_clear_pointer (&self->created, g_date_time_unref);
  g_array_unref (self->points[0]);
  g_array_unref (self->points[1]);
  G_OBJECT_CLASS (mel_run_parent_class)->finalize (object);
}

static void
mel_run_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  MelRun *self = MEL_RUN (object);

  switch (prop_id)
    {
    case PROP_STATUS:
      g_value_set_int (value, self->status);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
mel_run_class_init (MelRunClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = mel_run_dispose;
  object_class->finalize = mel_run_finalize;
  object_class->get_property = mel_run_get_property;

  /* A MelRunStatus. */
  properties[PROP_STATUS] = g_param_spec_int ("status", NULL, NULL, MEL_RUN_NEW, MEL_RUN_FAILED,
                                              MEL_RUN_NEW,
                                              G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  /* MelRun::progress: figures or loss points changed. */
  signals[SIGNAL_PROGRESS] = g_signal_new ("progress", G_TYPE_FROM_CLASS (klass),
                                           G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL, G_TYPE_NONE, 0);
}

static void
mel_run_init (MelRun *self)
{
  self->points[0] = g_array_new (FALSE, FALSE, sizeof (Point));
  self->points[1] = g_array_new (FALSE, FALSE, sizeof (Point));
  self->tokens_per_second = NAN;
  self->eta_seconds = NAN;
  self->best_valid_loss = NAN;
  self->best_valid_bits = NAN;
  self->best_onset_accuracy = NAN;
}
