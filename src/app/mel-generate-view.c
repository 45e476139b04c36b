/* mel-generate-view.c — the Generate view.
 *
 * Generation runs in a worker thread: it loads the run's checkpoint,
 * encodes the seed with the run's preprocessing, samples with mel-sampler
 * and decodes the ids back into songs.  The main thread only shows them.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <math.h>

#include <glib/gi18n.h>

#include "mel-app-private.h"
#include "mel-checkpoint.h"
#include "mel-dataset.h"
#include "mel-generate-view.h"
#include "mel-window.h"
#include "mel-sampler.h"

struct _MelGenerateView
{
  AdwBin parent_instance;

  AdwComboRow *run_row;
  AdwComboRow *seed_kind_row;
  AdwEntryRow *song_entry;
  AdwEntryRow *symbols_entry;
  AdwPreferencesGroup *sampling_group;
  GtkStack *result_stack;
  GtkSpinner *working_spinner;
  GtkListBox *samples_list;

  GtkSpinButton *temperature_spin;
  GtkSpinButton *top_k_spin;
  GtkSpinButton *bars_spin;
  GtkSpinButton *samples_spin;
  GtkSpinButton *seed_bars_spin;
  GtkSpinButton *rng_seed_spin;

  MelCorpusStore *store;
  GListStore *runs;
  MelPlayer *player;
  GSettings *settings;
  GtkCustomFilter *run_filter;
  GtkFilterListModel *usable_runs;
  GCancellable *cancellable; /* of the running generation */
  GPtrArray *rows;           /* MelSampleRow* of the last generation */
  guint generation;          /* counts generations for the titles */
};

G_DEFINE_FINAL_TYPE (MelGenerateView, mel_generate_view, ADW_TYPE_BIN)

enum
{
  SEED_NONE,
  SEED_SONG,
  SEED_SYMBOLS,
};

static MelWindow *
get_window (MelGenerateView *self)
{
  GtkWidget *window = gtk_widget_get_ancestor (GTK_WIDGET (self), MEL_TYPE_WINDOW);
  return window != NULL ? MEL_WINDOW (window) : NULL;
}

static GtkSpinButton *
add_spin_row (AdwPreferencesGroup *group, const char *title, const char *tooltip, double lower,
              double upper, double step, guint digits, double value)
{
  GtkWidget *row = adw_action_row_new ();
  GtkWidget *spin = gtk_spin_button_new_with_range (lower, upper, step);

  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), title);
  gtk_widget_set_tooltip_text (row, tooltip);
  gtk_spin_button_set_digits (GTK_SPIN_BUTTON (spin), digits);
  gtk_spin_button_set_value (GTK_SPIN_BUTTON (spin), value);
  gtk_widget_set_valign (spin, GTK_ALIGN_CENTER);
  gtk_widget_set_tooltip_text (spin, tooltip);
  adw_action_row_add_suffix (ADW_ACTION_ROW (row), spin);
  adw_action_row_set_activatable_widget (ADW_ACTION_ROW (row), spin);
  adw_preferences_group_add (group, row);
  return GTK_SPIN_BUTTON (spin);
}

/* ---- the worker ------------------------------------------------------------ */

typedef struct
{
  char *checkpoint_path;
  MelTransposeMode transpose;
  MelSong *seed_song;   /* may be NULL */
  guint seed_bars;
  char **seed_symbols;  /* may be NULL */
  guint bars;
  guint n_samples;
  double temperature;
  guint top_k;
  guint64 rng_seed;
  guint generation;
} GenerateJob;

static void
generate_job_free (GenerateJob *job)
{
  g_free (job->checkpoint_path);
  g_clear_pointer (&job->seed_song, mel_song_unref);
  g_strfreev (job->seed_symbols);
  g_free (job);
}

/* The seed as symbols plus the meter, signature and pickup the samples get. */
static GPtrArray *
seed_symbols (GenerateJob *job, MelMeter *meter, MelKeySignature *signature, MelRational *pickup,
              GError **error)
{
  GPtrArray *symbols = g_ptr_array_new_with_free_func (g_free);

  meter->onset = MEL_RATIONAL_ZERO;
  meter->numerator = 4;
  meter->denominator = 4;
  meter->irregular = FALSE;
  mel_key_signature_init_fifths (signature, 0);
  *pickup = MEL_RATIONAL_ZERO;

  if (job->seed_song != NULL)
    {
      g_autoptr(MelSong) song = NULL;
      g_auto(GStrv) encoded = NULL;
      const MelKeySignature *song_signature;
      MelRational bar_length;
      guint n_steps, n_encoded;

      song = job->transpose == MEL_TRANSPOSE_NORMALISE
             ? mel_song_transpose (job->seed_song, mel_song_normalising_shift (job->seed_song))
             : mel_song_ref (job->seed_song);
      if (song->meters->len > 0 && !g_array_index (song->meters, MelMeter, 0).irregular)
        *meter = g_array_index (song->meters, MelMeter, 0);
      song_signature = mel_song_get_key_signature_at (song, MEL_RATIONAL_ZERO);
      if (song_signature != NULL && song_signature->fifths != MEL_KEY_SIGNATURE_NONSTANDARD)
        *signature = *song_signature;
      *pickup = song->pickup;
      encoded = mel_song_encode (song, error);
      if (encoded == NULL)
        {
          g_ptr_array_unref (symbols);
          return NULL;
        }
      bar_length = mel_meter_bar_length (meter);
      n_steps = (guint) (mel_rational_to_double (mel_rational_add (
                           *pickup, mel_rational_mul (bar_length,
                                                      mel_rational_new (job->seed_bars, 1))))
                         * MEL_STEPS_PER_QUARTER + 0.5);
      n_encoded = g_strv_length (encoded);
      for (guint i = 0; i < MIN (n_steps, n_encoded); i++)
        g_ptr_array_add (symbols, g_strdup (encoded[i]));
    }
  else if (job->seed_symbols != NULL)
    {
      for (guint i = 0; job->seed_symbols[i] != NULL; i++)
        g_ptr_array_add (symbols, g_strdup (job->seed_symbols[i]));
    }
  return symbols;
}

static GPtrArray *
generate (GenerateJob *job, GCancellable *cancellable, GError **error)
{
  g_autoptr(MelCheckpoint) checkpoint = NULL;
  g_autoptr(MelModel) model = NULL;
  g_autoptr(GPtrArray) primer_symbols = NULL;
  g_autoptr(GPtrArray) samples = NULL;
  g_autoptr(GArray) primer = NULL;
  g_autoptr(GPtrArray) songs = g_ptr_array_new_with_free_func ((GDestroyNotify) mel_song_unref);
  MelSamplerConfig config;
  MelMeter meter;
  MelKeySignature signature;
  MelRational pickup;
  double bar_quarters;

  checkpoint = mel_checkpoint_load (job->checkpoint_path, error);
  if (checkpoint == NULL)
    return NULL;
  model = mel_checkpoint_create_model (checkpoint, error);
  if (model == NULL)
    return NULL;
  primer_symbols = seed_symbols (job, &meter, &signature, &pickup, error);
  if (primer_symbols == NULL)
    return NULL;

  primer = g_array_new (FALSE, FALSE, sizeof (gint32));
  for (guint i = 0; i < primer_symbols->len; i++)
    {
      const char *symbol = g_ptr_array_index (primer_symbols, i);
      gint32 id = mel_vocab_lookup (checkpoint->vocab, symbol);

      if (id < 0)
        {
          g_set_error (error, MEL_DATASET_ERROR, MEL_DATASET_ERROR_BAD_SYMBOL,
                       _("The seed uses “%s”, which this model never saw (a pitch out of its "
                         "range?)"), symbol);
          return NULL;
        }
      g_array_append_val (primer, id);
    }

  bar_quarters = mel_rational_to_double (mel_meter_bar_length (&meter));
  mel_sampler_config_init (&config);
  config.temperature = job->temperature;
  config.top_k = job->top_k;
  config.seed = job->rng_seed;
  config.n_steps = (guint) (job->bars * MAX (bar_quarters, 1.0) * MEL_STEPS_PER_QUARTER + 0.5);
  config.stop_at_delimiter = TRUE;
  samples = mel_sample (model, checkpoint->vocab, &config, (const gint32 *) primer->data,
                        primer->len, job->n_samples, cancellable, error);
  if (samples == NULL)
    return NULL;

  for (guint s = 0; s < samples->len; s++)
    {
      GArray *ids = g_ptr_array_index (samples, s);
      g_autoptr(GPtrArray) symbols = g_ptr_array_new ();
      g_autofree char *id = g_strdup_printf ("sample-%u-%u", job->generation, s + 1);
      g_autofree char *title = g_strdup_printf (_("Melody %u.%u"), job->generation, s + 1);
      MelSong *song;

      for (guint i = 0; i < primer_symbols->len; i++)
        g_ptr_array_add (symbols, g_ptr_array_index (primer_symbols, i));
      for (guint i = 0; i < ids->len; i++)
        g_ptr_array_add (symbols, checkpoint->vocab->symbols[g_array_index (ids, gint32, i)]);
      song = mel_song_decode_with_pickup ((const char *const *) symbols->pdata, symbols->len, id,
                                          &meter, &signature, pickup, error);
      if (song == NULL)
        return NULL;
      mel_song_set_title (song, title);
      g_ptr_array_add (songs, song);
    }
  return g_steal_pointer (&songs);
}

static void
generate_worker (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  g_autoptr(GError) error = NULL;
  GPtrArray *songs = generate (task_data, cancellable, &error);

  if (songs == NULL)
    g_task_return_error (task, g_steal_pointer (&error));
  else
    g_task_return_pointer (task, songs, (GDestroyNotify) g_ptr_array_unref);
}

/* ---- showing the results --------------------------------------------------- */

static void
update_state (MelGenerateView *self)
{
  gboolean busy = self->cancellable != NULL;
  gboolean have_runs = self->usable_runs != NULL
                       && g_list_model_get_n_items (G_LIST_MODEL (self->usable_runs)) > 0;

  gtk_widget_action_set_enabled (GTK_WIDGET (self), "generate.run", !busy && have_runs);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "generate.cancel", busy);
  if (busy)
    {
      gtk_spinner_start (self->working_spinner);
      gtk_stack_set_visible_child_name (self->result_stack, "working");
      return;
    }
  gtk_spinner_stop (self->working_spinner);
  if (self->rows->len > 0)
    gtk_stack_set_visible_child_name (self->result_stack, "samples");
  else
    gtk_stack_set_visible_child_name (self->result_stack, have_runs ? "empty" : "no-runs");
}

static double
playback_tempo (MelGenerateView *self, MelSong *song)
{
  if (self->settings != NULL)
    return g_settings_get_int (self->settings, "default-tempo");
  return _mel_default_tempo (song);
}

static void
generate_done_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  MelGenerateView *self = MEL_GENERATE_VIEW (source);
  GTask *task = G_TASK (result);
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) songs = g_task_propagate_pointer (task, &error);
  GtkWidget *child;

  if (g_task_get_cancellable (task) != self->cancellable)
    return; /* superseded */
  g_clear_object (&self->cancellable);

  if (songs == NULL)
    {
      MelWindow *window = get_window (self);
      if (window != NULL && !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        mel_window_show_error (window, _("Could not write melodies"), error);
      update_state (self);
      return;
    }

  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self->samples_list))) != NULL)
    gtk_list_box_remove (self->samples_list, child);
  g_ptr_array_set_size (self->rows, 0);
  for (guint i = 0; i < songs->len; i++)
    {
      MelSong *song = g_ptr_array_index (songs, i);
      GtkWidget *row = mel_sample_row_new (song, song->title, self->player,
                                           playback_tempo (self, song));
      gtk_list_box_append (self->samples_list, row);
      g_ptr_array_add (self->rows, row);
    }
  update_state (self);
  {
    MelWindow *window = get_window (self);
    g_autofree char *text = g_strdup_printf (ngettext ("%u melody written", "%u melodies written",
                                                       songs->len), songs->len);
    if (window != NULL)
      mel_window_add_toast (window, text);
  }
}

/* ---- actions ----------------------------------------------------------------- */

static MelSong *
find_seed_song (MelGenerateView *self, GError **error)
{
  MelCorpus *corpus = mel_corpus_store_get_corpus (self->store);
  const char *id = gtk_editable_get_text (GTK_EDITABLE (self->song_entry));
  g_autofree char *trimmed = g_strstrip (g_strdup (id));
  MelSong *song;

  if (corpus == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, _("No corpus is loaded"));
      return NULL;
    }
  song = mel_corpus_find (corpus, trimmed);
  if (song == NULL)
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, _("No song “%s” in the corpus"), id);
  return song;
}

static void
run_action (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  MelGenerateView *self = MEL_GENERATE_VIEW (widget);
  MelRun *run = mel_generate_view_get_selected_run (self);
  g_autoptr(GTask) task = NULL;
  g_autoptr(GError) error = NULL;
  GenerateJob *job;

  if (run == NULL || self->cancellable != NULL || mel_run_get_checkpoint_path (run) == NULL)
    return;

  job = g_new0 (GenerateJob, 1);
  job->checkpoint_path = g_strdup (mel_run_get_checkpoint_path (run));
  job->transpose = mel_run_get_config (run)->preprocess.transpose;
  job->seed_bars = gtk_spin_button_get_value_as_int (self->seed_bars_spin);
  job->bars = gtk_spin_button_get_value_as_int (self->bars_spin);
  job->n_samples = gtk_spin_button_get_value_as_int (self->samples_spin);
  job->temperature = gtk_spin_button_get_value (self->temperature_spin);
  job->top_k = gtk_spin_button_get_value_as_int (self->top_k_spin);
  job->rng_seed = (guint64) gtk_spin_button_get_value (self->rng_seed_spin);
  if (job->rng_seed == 0)
    job->rng_seed = g_random_int () + 1; /* 0 means a new seed each time */
  job->generation = ++self->generation;

  switch (adw_combo_row_get_selected (self->seed_kind_row))
    {
    case SEED_SONG:
      {
        MelSong *song = find_seed_song (self, &error);
        if (song == NULL)
          {
            generate_job_free (job);
            if (get_window (self) != NULL)
              mel_window_show_error (get_window (self), _("Could not use the seed"), error);
            return;
          }
        job->seed_song = mel_song_ref (song);
      }
      break;
    case SEED_SYMBOLS:
      job->seed_symbols = mel_symbols_parse (gtk_editable_get_text (GTK_EDITABLE (self->symbols_entry)),
                                             &error);
      if (job->seed_symbols == NULL)
        {
          generate_job_free (job);
          if (get_window (self) != NULL)
            mel_window_show_error (get_window (self), _("Could not use the seed"), error);
          return;
        }
      break;
    case SEED_NONE:
    default:
      break;
    }

  self->cancellable = g_cancellable_new ();
  task = g_task_new (self, self->cancellable, generate_done_cb, NULL);
  g_task_set_source_tag (task, run_action);
  g_task_set_task_data (task, job, (GDestroyNotify) generate_job_free);
  g_task_run_in_thread (task, generate_worker);
  update_state (self);
}

static void
cancel_action (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  MelGenerateView *self = MEL_GENERATE_VIEW (widget);

  if (self->cancellable == NULL)
    return;
  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  update_state (self);
}

static void
play_action (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  MelGenerateView *self = MEL_GENERATE_VIEW (widget);

  if (self->rows->len > 0)
    gtk_widget_activate_action (g_ptr_array_index (self->rows, 0), "sample.play", NULL);
}

static void
use_selected_song_action (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  MelGenerateView *self = MEL_GENERATE_VIEW (widget);
  MelWindow *window = get_window (self);
  MelSong *song = window != NULL ? mel_window_get_selected_song (window) : NULL;

  if (window == NULL)
    return;
  if (song == NULL)
    {
      mel_window_add_toast (window, _("Select a song in the Corpus view first"));
      return;
    }
  gtk_editable_set_text (GTK_EDITABLE (self->song_entry), song->id);
  adw_combo_row_set_selected (self->seed_kind_row, SEED_SONG);
}

static void
seed_kind_changed_cb (MelGenerateView *self, GParamSpec *pspec, AdwComboRow *row)
{
  guint kind = adw_combo_row_get_selected (row);

  gtk_widget_set_visible (GTK_WIDGET (self->song_entry), kind == SEED_SONG);
  gtk_widget_set_visible (GTK_WIDGET (self->symbols_entry), kind == SEED_SYMBOLS);
  gtk_widget_set_sensitive (GTK_WIDGET (self->seed_bars_spin), kind == SEED_SONG);
}

/* ---- runs ---------------------------------------------------------------------- */

static gboolean
run_is_usable (gpointer item, gpointer user_data)
{
  return mel_run_get_checkpoint_path (MEL_RUN (item)) != NULL;
}

static char *
run_label (MelRun *run)
{
  return g_strdup (run != NULL ? mel_run_get_label (run) : "");
}

static void
refresh_runs (MelGenerateView *self)
{
  MelRun *selected = mel_generate_view_get_selected_run (self);
  g_autoptr(MelRun) keep = selected != NULL ? g_object_ref (selected) : NULL;

  gtk_filter_changed (GTK_FILTER (self->run_filter), GTK_FILTER_CHANGE_DIFFERENT);
  if (keep != NULL)
    mel_generate_view_select_run (self, keep);
  update_state (self);
}

static void
runs_changed_cb (MelGenerateView *self, guint position, guint removed, guint added,
                 GListModel *model)
{
  update_state (self);
}

static void
selected_run_changed_cb (MelGenerateView *self, GParamSpec *pspec, AdwComboRow *row)
{
  MelRun *run = mel_generate_view_get_selected_run (self);

  if (run != NULL && self->settings != NULL)
    g_settings_set_string (self->settings, "last-run", mel_run_get_id (run));
}

/* Chooses the run used last time, if it is still there. */
static void
select_last_run (MelGenerateView *self)
{
  g_autofree char *id = NULL;
  guint n = g_list_model_get_n_items (G_LIST_MODEL (self->usable_runs));

  if (self->settings == NULL)
    return;
  id = g_settings_get_string (self->settings, "last-run");
  for (guint i = 0; i < n; i++)
    {
      g_autoptr(MelRun) run = g_list_model_get_item (G_LIST_MODEL (self->usable_runs), i);
      if (g_strcmp0 (mel_run_get_id (run), id) == 0)
        {
          adw_combo_row_set_selected (self->run_row, i);
          return;
        }
    }
}

static void
map_cb (MelGenerateView *self)
{
  /* Runs gain checkpoints while they train: look again when shown. */
  if (self->run_filter != NULL)
    refresh_runs (self);
}

void
mel_generate_view_bind (MelGenerateView *self, MelCorpusStore *store, GListStore *runs,
                        MelPlayer *player, GSettings *settings)
{
  g_return_if_fail (MEL_IS_GENERATE_VIEW (self));
  g_return_if_fail (MEL_IS_CORPUS_STORE (store));
  g_return_if_fail (G_IS_LIST_STORE (runs));
  g_return_if_fail (MEL_IS_PLAYER (player));
  g_return_if_fail (self->store == NULL);

  self->store = g_object_ref (store);
  self->runs = g_object_ref (runs);
  self->player = g_object_ref (player);
  self->settings = settings != NULL ? g_object_ref (settings) : NULL;

  self->run_filter = gtk_custom_filter_new (run_is_usable, NULL, NULL);
  self->usable_runs = gtk_filter_list_model_new (g_object_ref (G_LIST_MODEL (runs)),
                                                 g_object_ref (GTK_FILTER (self->run_filter)));
  adw_combo_row_set_expression (self->run_row,
                                gtk_cclosure_expression_new (G_TYPE_STRING, NULL, 0, NULL,
                                                             G_CALLBACK (run_label), NULL, NULL));
  adw_combo_row_set_model (self->run_row, G_LIST_MODEL (self->usable_runs));
  g_signal_connect_object (self->usable_runs, "items-changed", G_CALLBACK (runs_changed_cb), self,
                           G_CONNECT_SWAPPED);
  select_last_run (self);
  g_signal_connect_object (self->run_row, "notify::selected", G_CALLBACK (selected_run_changed_cb),
                           self, G_CONNECT_SWAPPED);
  update_state (self);
}

void
mel_generate_view_select_run (MelGenerateView *self, MelRun *run)
{
  guint n;

  g_return_if_fail (MEL_IS_GENERATE_VIEW (self));
  g_return_if_fail (MEL_IS_RUN (run));

  if (self->usable_runs == NULL)
    return;
  if (run != mel_generate_view_get_selected_run (self))
    gtk_filter_changed (GTK_FILTER (self->run_filter), GTK_FILTER_CHANGE_DIFFERENT);
  n = g_list_model_get_n_items (G_LIST_MODEL (self->usable_runs));
  for (guint i = 0; i < n; i++)
    {
      g_autoptr(MelRun) item = g_list_model_get_item (G_LIST_MODEL (self->usable_runs), i);
      if (item == run)
        {
          adw_combo_row_set_selected (self->run_row, i);
          break;
        }
    }
  update_state (self);
}

MelRun *
mel_generate_view_get_selected_run (MelGenerateView *self)
{
  g_return_val_if_fail (MEL_IS_GENERATE_VIEW (self), NULL);

  if (self->usable_runs == NULL)
    return NULL;
  return adw_combo_row_get_selected_item (self->run_row);
}

gboolean
mel_generate_view_get_busy (MelGenerateView *self)
{
  g_return_val_if_fail (MEL_IS_GENERATE_VIEW (self), FALSE);
  return self->cancellable != NULL;
}

guint
mel_generate_view_get_n_samples (MelGenerateView *self)
{
  g_return_val_if_fail (MEL_IS_GENERATE_VIEW (self), 0);
  return self->rows->len;
}

MelSampleRow *
mel_generate_view_get_sample (MelGenerateView *self, guint index)
{
  g_return_val_if_fail (MEL_IS_GENERATE_VIEW (self), NULL);
  g_return_val_if_fail (index < self->rows->len, NULL);
  return g_ptr_array_index (self->rows, index);
}

void
mel_generate_view_set_seed (MelGenerateView *self, const char *song_id, const char *symbols)
{
  g_return_if_fail (MEL_IS_GENERATE_VIEW (self));

  if (song_id != NULL)
    {
      gtk_editable_set_text (GTK_EDITABLE (self->song_entry), song_id);
      adw_combo_row_set_selected (self->seed_kind_row, SEED_SONG);
    }
  else if (symbols != NULL)
    {
      gtk_editable_set_text (GTK_EDITABLE (self->symbols_entry), symbols);
      adw_combo_row_set_selected (self->seed_kind_row, SEED_SYMBOLS);
    }
  else
    adw_combo_row_set_selected (self->seed_kind_row, SEED_NONE);
}

void
mel_generate_view_set_random_seed (MelGenerateView *self, guint64 seed)
{
  g_return_if_fail (MEL_IS_GENERATE_VIEW (self));
  gtk_spin_button_set_value (self->rng_seed_spin, (double) MIN (seed, (guint64) G_MAXINT32));
}

void
mel_generate_view_set_sampling (MelGenerateView *self, double temperature, guint top_k,
                                guint bars, guint n_samples)
{
  g_return_if_fail (MEL_IS_GENERATE_VIEW (self));

  gtk_spin_button_set_value (self->temperature_spin, temperature);
  gtk_spin_button_set_value (self->top_k_spin, top_k);
  gtk_spin_button_set_value (self->bars_spin, bars);
  gtk_spin_button_set_value (self->samples_spin, n_samples);
}

static void
mel_generate_view_dispose (GObject *object)
{
  MelGenerateView *self = MEL_GENERATE_VIEW (object);

  if (self->cancellable != NULL)
    g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  gtk_widget_dispose_template (GTK_WIDGET (self), MEL_TYPE_GENERATE_VIEW);
  g_clear_pointer (&self->rows, g_ptr_array_unref);
  g_clear_object (&self->usable_runs);
  g_clear_object (&self->run_filter);
  g_clear_object (&self->store);
  g_clear_object (&self->runs);
  g_clear_object (&self->player);
  g_clear_object (&self->settings);
  G_OBJECT_CLASS (mel_generate_view_parent_class)->dispose (object);
}

static void
mel_generate_view_class_init (MelGenerateViewClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = mel_generate_view_dispose;

  _mel_app_ensure_resources ();
  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/melodist/Melodist/ui/mel-generate-view.ui");
  gtk_widget_class_bind_template_child (widget_class, MelGenerateView, run_row);
  gtk_widget_class_bind_template_child (widget_class, MelGenerateView, seed_kind_row);
  gtk_widget_class_bind_template_child (widget_class, MelGenerateView, song_entry);
  gtk_widget_class_bind_template_child (widget_class, MelGenerateView, symbols_entry);
  gtk_widget_class_bind_template_child (widget_class, MelGenerateView, sampling_group);
  gtk_widget_class_bind_template_child (widget_class, MelGenerateView, result_stack);
  gtk_widget_class_bind_template_child (widget_class, MelGenerateView, working_spinner);
  gtk_widget_class_bind_template_child (widget_class, MelGenerateView, samples_list);

  gtk_widget_class_install_action (widget_class, "generate.run", NULL, run_action);
  gtk_widget_class_install_action (widget_class, "generate.cancel", NULL, cancel_action);
  gtk_widget_class_install_action (widget_class, "generate.play", NULL, play_action);
  gtk_widget_class_install_action (widget_class, "generate.use-selected-song", NULL,
                                   use_selected_song_action);
}

static void
mel_generate_view_init (MelGenerateView *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  self->rows = g_ptr_array_new ();

  self->temperature_spin = add_spin_row (self->sampling_group, _("Temperature"),
                                         _("Below 1: safer, more predictable melodies; above 1: "
                                           "bolder ones"), 0.05, 2.0, 0.05, 2, 1.0);
  self->top_k_spin = add_spin_row (self->sampling_group, _("Top-k"),
                                   _("Choose among the k most likely symbols only (0: all)"),
                                   0, 64, 1, 0, 0);
  self->bars_spin = add_spin_row (self->sampling_group, _("Length in bars"),
                                  _("Bars written after the seed (a melody may end earlier)"),
                                  1, 64, 1, 0, 8);
  self->samples_spin = add_spin_row (self->sampling_group, _("Melodies"),
                                     _("How many melodies to write at once"), 1, 16, 1, 0, 3);
  self->seed_bars_spin = add_spin_row (self->sampling_group, _("Seed bars"),
                                       _("Bars of the corpus song given to the model"),
                                       1, 8, 1, 0, 2);
  self->rng_seed_spin = add_spin_row (self->sampling_group, _("Random seed"),
                                      _("The same seed writes the same melodies (0: a new one "
                                        "each time)"), 0, G_MAXINT32, 1, 0, 0);

  seed_kind_changed_cb (self, NULL, self->seed_kind_row);
  g_signal_connect_object (self->seed_kind_row, "notify::selected",
                           G_CALLBACK (seed_kind_changed_cb), self, G_CONNECT_SWAPPED);
  g_signal_connect (self, "map", G_CALLBACK (map_cb), NULL);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "generate.cancel", FALSE);
}
