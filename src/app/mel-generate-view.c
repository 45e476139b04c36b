/* mel-generate-view.c — the Generate view.
 *
 * Generation runs in a worker thread: it loads the run's checkpoint,
 * encodes the seed with the run's preprocessing, samples with mel-sampler
 * and decodes the ids back into songs.  The main thread only shows them.
 *
 * For an LSTM + attention run the worker also asks the model for the
 * attention weights over each melody, shown as a heat map under its score.
 * For a VAE run, Generate samples from the prior (mel-vae), and the
 * Latent Space group interpolates between bar-aligned segments of two
 * corpus songs; a slider walks through the decoded steps.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <math.h>

#include <glib/gi18n.h>

#include "mel-app-private.h"
#include "mel-attention-map.h"
#include "mel-score-view.h"
#include "mel-vae.h"
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

  AdwPreferencesGroup *seed_group;
  AdwPreferencesGroup *vae_group;  /* shown for VAE runs */
  AdwEntryRow *vae_song_a_entry;
  AdwEntryRow *vae_song_b_entry;
  GtkSpinButton *vae_points_spin;
  GtkSwitch *vae_slerp_switch;
  GtkWidget *interpolation_page;
  GtkLabel *interpolation_label;
  GtkScale *interpolation_scale;
  GtkStack *interpolation_stack;
  GPtrArray *interpolation_rows; /* MelSampleRow* of the last interpolation */
  GPtrArray *attention_maps;     /* MelAttentionMap* per row, NULL entries for none */

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

/* Attention maps beyond this many steps would be unreadable and slow. */
#define MAX_ATTENTION_STEPS 512

typedef enum
{
  JOB_CONTINUE,    /* sample after the seed (mel-sampler) */
  JOB_PRIOR,       /* VAE: decode z ~ N(0, I) */
  JOB_INTERPOLATE, /* VAE: decode the way between two segments */
} JobKind;

typedef struct
{
  JobKind kind;
  char *checkpoint_path;
  MelSong *song_a;      /* JOB_INTERPOLATE */
  MelSong *song_b;
  guint n_points;
  gboolean slerp;
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
  g_clear_pointer (&job->song_a, mel_song_unref);
  g_clear_pointer (&job->song_b, mel_song_unref);
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

typedef struct
{
  JobKind kind;
  GPtrArray *songs;     /* MelSong* */
  GPtrArray *attention; /* GBytes* per song (n_heads × steps × steps floats), or NULL */
  guint n_heads;
} GenerateResult;

static void
generate_result_free (GenerateResult *result)
{
  g_clear_pointer (&result->songs, g_ptr_array_unref);
  g_clear_pointer (&result->attention, g_ptr_array_unref);
  g_free (result);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (GenerateResult, generate_result_free)

static GenerateResult *
generate_result_new (JobKind kind)
{
  GenerateResult *result = g_new0 (GenerateResult, 1);

  result->kind = kind;
  result->songs = g_ptr_array_new_with_free_func ((GDestroyNotify) mel_song_unref);
  return result;
}

/* The attention weights of @ids (primer and sample) for the heat map. */
static GBytes *
attention_of (MelModel *model, const gint32 *ids, guint n_ids, GError **error)
{
  guint n_heads = mel_model_get_config (model)->n_heads;
  guint steps = MIN (n_ids, MAX_ATTENTION_STEPS);
  gsize n_floats = (gsize) n_heads * steps * steps;
  g_autofree float *weights = NULL;

  if (steps == 0)
    return g_bytes_new (NULL, 0);
  weights = g_new (float, n_floats);
  if (!mel_model_get_attention (model, ids, steps, weights, error))
    return NULL;
  return g_bytes_new_take (g_steal_pointer (&weights), n_floats * sizeof (float));
}

/* The symbols of @ids decoded into a song titled @title. */
static MelSong *
decode_ids (const MelCheckpoint *checkpoint, const gint32 *ids, guint n, const char *id,
            const char *title, const MelMeter *meter, const MelKeySignature *signature,
            GError **error)
{
  g_autofree const char **symbols = g_new (const char *, MAX (n, 1));
  MelSong *song;

  for (guint i = 0; i < n; i++)
    symbols[i] = checkpoint->vocab->symbols[ids[i]];
  song = mel_song_decode (symbols, n, id, meter, signature, error);
  if (song != NULL)
    mel_song_set_title (song, title);
  return song;
}

/* The segment_steps ids of @found from its first full bar, encoded as the
 * run was trained (as `melodist-cli vae` takes it), with its meter and key
 * signature there. */
static gint32 *
segment_of (const MelCheckpoint *checkpoint, MelTransposeMode transpose, MelSong *found,
            MelMeter *meter, MelKeySignature *signature, GError **error)
{
  guint steps = checkpoint->model_config.segment_steps;
  g_autoptr(MelSong) song = NULL;
  g_auto(GStrv) symbols = NULL;
  g_autofree gint32 *ids = NULL;
  const MelMeter *song_meter;
  const MelKeySignature *song_signature;
  const MelBar *bar;
  MelRational onset;
  guint first;

  song = transpose == MEL_TRANSPOSE_NORMALISE
         ? mel_song_transpose (found, mel_song_normalising_shift (found))
         : mel_song_ref (found);
  if (song->bars->len == 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, _("Song “%s” has no bars"), found->id);
      return NULL;
    }
  first = (song->bars->len > 1 && g_array_index (song->bars, MelBar, 0).number == 0) ? 1 : 0;
  bar = &g_array_index (song->bars, MelBar, first);
  onset = mel_rational_mul (bar->onset, mel_rational_new (MEL_STEPS_PER_QUARTER, 1));
  symbols = mel_song_encode (song, error);
  if (symbols == NULL)
    return NULL;
  if (onset.den != 1 || onset.num < 0 || (guint64) onset.num + steps > g_strv_length (symbols))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   _("Song “%s” is shorter than the model’s segments of %u sixteenths"), found->id,
                   steps);
      return NULL;
    }
  ids = g_new (gint32, steps);
  for (guint t = 0; t < steps; t++)
    if ((ids[t] = mel_vocab_lookup (checkpoint->vocab, symbols[onset.num + t])) < 0)
      {
        g_set_error (error, MEL_DATASET_ERROR, MEL_DATASET_ERROR_BAD_SYMBOL,
                     _("Song “%s” uses “%s”, which this model never saw"), found->id,
                     symbols[onset.num + t]);
        return NULL;
      }
  *meter = (MelMeter) { .onset = MEL_RATIONAL_ZERO, .numerator = 4, .denominator = 4 };
  if ((song_meter = mel_song_get_meter_at (song, bar->onset)) != NULL && !song_meter->irregular)
    *meter = *song_meter;
  meter->onset = MEL_RATIONAL_ZERO;
  mel_key_signature_init_fifths (signature, 0);
  if ((song_signature = mel_song_get_key_signature_at (song, bar->onset)) != NULL
      && song_signature->fifths != MEL_KEY_SIGNATURE_NONSTANDARD)
    *signature = *song_signature;
  return g_steal_pointer (&ids);
}

static GenerateResult *
sample_prior (GenerateJob *job, const MelCheckpoint *checkpoint, MelModel *model,
              GCancellable *cancellable, GError **error)
{
  g_autoptr(GenerateResult) result = generate_result_new (JOB_PRIOR);
  guint steps = checkpoint->model_config.segment_steps;
  g_autofree gint32 *ids = g_new (gint32, steps);
  MelMeter meter = { .onset = MEL_RATIONAL_ZERO, .numerator = 4, .denominator = 4 };
  MelKeySignature signature;

  mel_key_signature_init_fifths (&signature, 0);
  for (guint s = 0; s < job->n_samples; s++)
    {
      g_autofree char *id = g_strdup_printf ("prior-%u-%u", job->generation, s + 1);
      g_autofree char *title = g_strdup_printf (_("Prior Sample %u.%u"), job->generation, s + 1);
      MelSong *song;

      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        return NULL;
      if (!mel_vae_sample_prior (model, job->rng_seed + s, job->temperature, ids, NULL, error))
        return NULL;
      song = decode_ids (checkpoint, ids, steps, id, title, &meter, &signature, error);
      if (song == NULL)
        return NULL;
      g_ptr_array_add (result->songs, song);
    }
  return g_steal_pointer (&result);
}

static GenerateResult *
interpolate (GenerateJob *job, const MelCheckpoint *checkpoint, MelModel *model, GError **error)
{
  g_autoptr(GenerateResult) result = generate_result_new (JOB_INTERPOLATE);
  guint steps = checkpoint->model_config.segment_steps;
  g_autofree gint32 *a = NULL, *b = NULL, *out = NULL;
  MelMeter meter, meter_b;
  MelKeySignature signature, signature_b;

  a = segment_of (checkpoint, job->transpose, job->song_a, &meter, &signature, error);
  if (a == NULL)
    return NULL;
  b = segment_of (checkpoint, job->transpose, job->song_b, &meter_b, &signature_b, error);
  if (b == NULL)
    return NULL;
  out = g_new (gint32, (gsize) job->n_points * steps);
  /* Greedy decoding (temperature 0): the steps differ only by their latents. */
  if (!mel_vae_interpolate (model, a, b, job->n_points, job->slerp ? MEL_VAE_SLERP : MEL_VAE_LERP,
                            0.0f, job->rng_seed, out, NULL, error))
    return NULL;
  for (guint p = 0; p < job->n_points; p++)
    {
      g_autofree char *id = g_strdup_printf ("interpolation-%u-%u", job->generation, p + 1);
      g_autofree char *title = NULL;
      MelSong *song;

      if (p == 0)
        title = g_strdup_printf (_("Step 1 of %u: “%s”"), job->n_points, job->song_a->id);
      else if (p + 1 == job->n_points)
        title = g_strdup_printf (_("Step %u of %u: “%s”"), p + 1, job->n_points, job->song_b->id);
      else
        title = g_strdup_printf (_("Step %u of %u"), p + 1, job->n_points);
      song = decode_ids (checkpoint, out + (gsize) p * steps, steps, id, title, &meter, &signature,
                         error);
      if (song == NULL)
        return NULL;
      g_ptr_array_add (result->songs, song);
    }
  return g_steal_pointer (&result);
}

static GenerateResult *
generate (GenerateJob *job, GCancellable *cancellable, GError **error)
{
  g_autoptr(MelCheckpoint) checkpoint = NULL;
  g_autoptr(MelModel) model = NULL;
  g_autoptr(GPtrArray) primer_symbols = NULL;
  g_autoptr(GPtrArray) samples = NULL;
  g_autoptr(GArray) primer = NULL;
  g_autoptr(GenerateResult) result = generate_result_new (JOB_CONTINUE);
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
  /* A second core takes LSTM + attention's next recurrent product while
   * this thread does the attention; samples do not depend on it. */
  mel_model_set_n_threads (model, MIN (g_get_num_processors (), 2));
  if (job->kind == JOB_PRIOR)
    return sample_prior (job, checkpoint, model, cancellable, error);
  if (job->kind == JOB_INTERPOLATE)
    return interpolate (job, checkpoint, model, error);
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

  if (checkpoint->model_config.kind == MEL_MODEL_LSTM_ATTN)
    {
      result->attention = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
      result->n_heads = checkpoint->model_config.n_heads;
    }
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
      g_ptr_array_add (result->songs, song);
      if (result->attention != NULL)
        {
          g_autoptr(GArray) all = g_array_new (FALSE, FALSE, sizeof (gint32));
          GBytes *weights;

          if (g_cancellable_set_error_if_cancelled (cancellable, error))
            return NULL;
          g_array_append_vals (all, primer->data, primer->len);
          g_array_append_vals (all, ids->data, ids->len);
          weights = attention_of (model, (const gint32 *) all->data, all->len, error);
          if (weights == NULL)
            return NULL;
          g_ptr_array_add (result->attention, weights);
        }
    }
  return g_steal_pointer (&result);
}

static void
generate_worker (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  g_autoptr(GError) error = NULL;
  GenerateResult *result = generate (task_data, cancellable, &error);

  if (result == NULL)
    g_task_return_error (task, g_steal_pointer (&error));
  else
    g_task_return_pointer (task, result, (GDestroyNotify) generate_result_free);
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
  if (self->interpolation_rows->len > 0
      && g_strcmp0 (gtk_stack_get_visible_child_name (self->result_stack), "interpolation") == 0)
    return;
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

/* Colours the notes of @row's score by the attention step @step pays to
 * them: the weights of the sixteenths each note lasts, summed, scaled to
 * the strongest note; the cursor marks the attending step. */
static void
attention_step_selected_cb (MelAttentionMap *map, int step, MelSampleRow *row)
{
  MelScoreView *score = MEL_SCORE_VIEW (mel_sample_row_get_score_view (row));
  MelSong *song = mel_sample_row_get_song (row);
  g_autofree double *values = NULL;
  guint n_events = song->events->len;
  guint n_steps = mel_attention_map_get_n_steps (map);
  double max = 0.0;

  if (step < 0)
    {
      mel_score_view_set_values (score, NULL, 0);
      mel_score_view_set_cursor (score, -1.0);
      return;
    }
  values = g_new (double, MAX (n_events, 1));
  for (guint i = 0; i < n_events; i++)
    {
      const MelEvent *event = &g_array_index (song->events, MelEvent, i);
      guint first = (guint) (mel_rational_to_double (event->onset) * MEL_STEPS_PER_QUARTER + 0.5);
      guint last = (guint) (mel_rational_to_double (mel_rational_add (event->onset, event->duration))
                            * MEL_STEPS_PER_QUARTER + 0.5);
      double sum = 0.0;

      values[i] = NAN;
      if (mel_event_is_rest (event) || first > (guint) step || first >= n_steps)
        continue;
      for (guint s = first; s < MIN (last, n_steps); s++)
        sum += mel_attention_map_get_weight (map, (guint) step, s);
      values[i] = sum;
      max = MAX (max, sum);
    }
  for (guint i = 0; i < n_events; i++)
    if (!isnan (values[i]))
      values[i] = max > 0.0 ? values[i] / max : 0.0;
  mel_score_view_set_values (score, values, n_events);
  mel_score_view_set_cursor (score, (double) step / MEL_STEPS_PER_QUARTER);
}

static void
head_selected_cb (GtkDropDown *drop_down, GParamSpec *pspec, MelAttentionMap *map)
{
  /* Item 0 is the mean of the heads. */
  mel_attention_map_set_head (map, (int) gtk_drop_down_get_selected (drop_down) - 1);
}

/* A heat map of @weights under the score of @row, with a head chooser. */
static GtkWidget *
attach_attention (MelSampleRow *row, GBytes *weights, guint n_heads)
{
  gsize size = 0;
  const float *data = g_bytes_get_data (weights, &size);
  guint n_steps = n_heads > 0 ? (guint) (sqrt ((double) size / sizeof (float) / n_heads) + 0.5) : 0;
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 6);
  GtkWidget *header = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 12);
  GtkWidget *label = gtk_label_new (_("Attention: each row is a step of the melody, each column a "
                                      "step it looks back at (x is time, as in the score). Click a "
                                      "row to colour the notes it attends to."));
  g_autoptr(GtkStringList) heads = gtk_string_list_new (NULL);
  GtkWidget *drop_down;
  GtkWidget *map = mel_attention_map_new ();

  gtk_string_list_append (heads, _("Mean of All Heads"));
  for (guint h = 0; h < n_heads; h++)
    {
      g_autofree char *name = g_strdup_printf (_("Head %u"), h + 1);
      gtk_string_list_append (heads, name);
    }
  drop_down = gtk_drop_down_new (G_LIST_MODEL (g_steal_pointer (&heads)), NULL);
  gtk_widget_set_tooltip_text (drop_down, _("Attention head shown"));
  gtk_label_set_wrap (GTK_LABEL (label), TRUE);
  gtk_label_set_xalign (GTK_LABEL (label), 0.0f);
  gtk_widget_set_hexpand (label, TRUE);
  gtk_widget_add_css_class (label, "dim-label");
  gtk_widget_add_css_class (label, "caption");
  gtk_box_append (GTK_BOX (header), label);
  gtk_box_append (GTK_BOX (header), drop_down);
  gtk_widget_set_margin_start (header, 12);
  gtk_widget_set_margin_end (header, 12);
  gtk_box_append (GTK_BOX (box), header);
  gtk_box_append (GTK_BOX (box), map);
  /* No side margins: the map shares the score's x origin, so its columns
   * can sit under the notes. */
  gtk_widget_set_margin_bottom (box, 12);
  mel_attention_map_set_score_view (MEL_ATTENTION_MAP (map),
                                    MEL_SCORE_VIEW (mel_sample_row_get_score_view (row)));

  if (n_steps > 0 && (gsize) n_heads * n_steps * n_steps * sizeof (float) == size)
    mel_attention_map_set_weights (MEL_ATTENTION_MAP (map), data, n_heads, n_steps);
  g_signal_connect_object (map, "step-selected", G_CALLBACK (attention_step_selected_cb), row, 0);
  g_signal_connect_object (drop_down, "notify::selected", G_CALLBACK (head_selected_cb), map, 0);
  mel_sample_row_add_extra (row, box);
  return map;
}

static void
show_samples (MelGenerateView *self, GenerateResult *result)
{
  GtkWidget *child;

  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self->samples_list))) != NULL)
    gtk_list_box_remove (self->samples_list, child);
  g_ptr_array_set_size (self->rows, 0);
  g_ptr_array_set_size (self->attention_maps, 0);
  for (guint i = 0; i < result->songs->len; i++)
    {
      MelSong *song = g_ptr_array_index (result->songs, i);
      GtkWidget *row = mel_sample_row_new (song, song->title, self->player,
                                           playback_tempo (self, song));
      GtkWidget *map = NULL;

      if (result->attention != NULL && i < result->attention->len)
        map = attach_attention (MEL_SAMPLE_ROW (row), g_ptr_array_index (result->attention, i),
                                result->n_heads);
      gtk_list_box_append (self->samples_list, row);
      g_ptr_array_add (self->rows, row);
      g_ptr_array_add (self->attention_maps, map);
    }
  gtk_stack_set_visible_child_name (self->result_stack, "samples");
}

static void
interpolation_step_changed_cb (MelGenerateView *self, GtkRange *range)
{
  guint n = self->interpolation_rows->len;
  guint step = (guint) CLAMP (gtk_range_get_value (range) + 0.5, 1.0, (double) MAX (n, 1)) - 1;
  g_autofree char *text = NULL;

  if (n == 0)
    return;
  gtk_stack_set_visible_child (self->interpolation_stack,
                               g_ptr_array_index (self->interpolation_rows, step));
  text = g_strdup_printf (_("Step %u of %u"), step + 1, n);
  gtk_label_set_text (self->interpolation_label, text);
}

static void
show_interpolation (MelGenerateView *self, GenerateResult *result)
{
  GtkWidget *child;
  guint n = result->songs->len;

  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self->interpolation_stack))) != NULL)
    gtk_stack_remove (self->interpolation_stack, child);
  g_ptr_array_set_size (self->interpolation_rows, 0);
  for (guint i = 0; i < n; i++)
    {
      MelSong *song = g_ptr_array_index (result->songs, i);
      GtkWidget *row = mel_sample_row_new (song, song->title, self->player,
                                           playback_tempo (self, song));

      gtk_stack_add_child (self->interpolation_stack, row);
      g_ptr_array_add (self->interpolation_rows, row);
    }
  gtk_scale_clear_marks (self->interpolation_scale);
  for (guint i = 1; i <= n; i++)
    gtk_scale_add_mark (self->interpolation_scale, i, GTK_POS_BOTTOM, NULL);
  gtk_range_set_range (GTK_RANGE (self->interpolation_scale), 1, MAX (n, 2));
  gtk_range_set_value (GTK_RANGE (self->interpolation_scale), 1);
  interpolation_step_changed_cb (self, GTK_RANGE (self->interpolation_scale));
  gtk_stack_set_visible_child_name (self->result_stack, "interpolation");
}

static void
generate_done_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  MelGenerateView *self = MEL_GENERATE_VIEW (source);
  GTask *task = G_TASK (result);
  g_autoptr(GError) error = NULL;
  g_autoptr(GenerateResult) generated = g_task_propagate_pointer (task, &error);
  MelWindow *window = get_window (self);
  g_autofree char *text = NULL;

  if (g_task_get_cancellable (task) != self->cancellable)
    return; /* superseded */
  g_clear_object (&self->cancellable);

  if (generated == NULL)
    {
      if (window != NULL && !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        mel_window_show_error (window, _("Could not write melodies"), error);
      update_state (self);
      return;
    }

  if (generated->kind == JOB_INTERPOLATE)
    {
      show_interpolation (self, generated);
      text = g_strdup_printf (ngettext ("%u step decoded", "%u steps decoded", generated->songs->len),
                              generated->songs->len);
    }
  else
    {
      show_samples (self, generated);
      text = g_strdup_printf (ngettext ("%u melody written", "%u melodies written",
                                        generated->songs->len), generated->songs->len);
    }
  update_state (self);
  if (window != NULL)
    mel_window_add_toast (window, text);
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

static gboolean
run_is_vae (MelRun *run)
{
  return run != NULL && mel_run_get_config (run)->model.kind == MEL_MODEL_VAE;
}

static void
start_job (MelGenerateView *self, GenerateJob *job)
{
  g_autoptr(GTask) task = NULL;

  self->cancellable = g_cancellable_new ();
  task = g_task_new (self, self->cancellable, generate_done_cb, NULL);
  g_task_set_source_tag (task, start_job);
  g_task_set_task_data (task, job, (GDestroyNotify) generate_job_free);
  g_task_run_in_thread (task, generate_worker);
  update_state (self);
}

/* A job for the selected run with the sampling settings, or NULL when no
 * run can be used now. */
static GenerateJob *
new_job (MelGenerateView *self, JobKind kind)
{
  MelRun *run = mel_generate_view_get_selected_run (self);
  GenerateJob *job;

  if (run == NULL || self->cancellable != NULL || mel_run_get_checkpoint_path (run) == NULL)
    return NULL;

  job = g_new0 (GenerateJob, 1);
  job->kind = kind;
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
  return job;
}

static void
sample_prior_action (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  MelGenerateView *self = MEL_GENERATE_VIEW (widget);
  GenerateJob *job;

  if (!run_is_vae (mel_generate_view_get_selected_run (self)))
    return;
  job = new_job (self, JOB_PRIOR);
  if (job != NULL)
    start_job (self, job);
}

static MelSong *
find_song (MelGenerateView *self, AdwEntryRow *entry, GError **error)
{
  MelCorpus *corpus = mel_corpus_store_get_corpus (self->store);
  g_autofree char *id = g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (entry))));
  MelSong *song;

  if (corpus == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, _("No corpus is loaded"));
      return NULL;
    }
  song = mel_corpus_find (corpus, id);
  if (song == NULL)
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, _("No song “%s” in the corpus"), id);
  return song;
}

static void
interpolate_action (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  MelGenerateView *self = MEL_GENERATE_VIEW (widget);
  g_autoptr(GError) error = NULL;
  MelSong *a, *b;
  GenerateJob *job;

  if (!run_is_vae (mel_generate_view_get_selected_run (self)) || self->cancellable != NULL)
    return;
  if ((a = find_song (self, self->vae_song_a_entry, &error)) == NULL
      || (b = find_song (self, self->vae_song_b_entry, &error)) == NULL)
    {
      if (get_window (self) != NULL)
        mel_window_show_error (get_window (self), _("Could not interpolate"), error);
      return;
    }
  job = new_job (self, JOB_INTERPOLATE);
  if (job == NULL)
    return;
  job->song_a = mel_song_ref (a);
  job->song_b = mel_song_ref (b);
  job->n_points = gtk_spin_button_get_value_as_int (self->vae_points_spin);
  job->slerp = gtk_switch_get_active (self->vae_slerp_switch);
  start_job (self, job);
}

static void
run_action (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  MelGenerateView *self = MEL_GENERATE_VIEW (widget);
  g_autoptr(GError) error = NULL;
  GenerateJob *job;

  /* A VAE writes from its latent space, not after a seed. */
  if (run_is_vae (mel_generate_view_get_selected_run (self)))
    {
      sample_prior_action (widget, "generate.sample-prior", NULL);
      return;
    }
  job = new_job (self, JOB_CONTINUE);
  if (job == NULL)
    return;

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
  start_job (self, job);
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

/* The seed is for sequence models; the latent space for a VAE. */
static void
update_kind (MelGenerateView *self)
{
  gboolean vae = run_is_vae (mel_generate_view_get_selected_run (self));

  gtk_widget_set_visible (GTK_WIDGET (self->seed_group), !vae);
  gtk_widget_set_visible (GTK_WIDGET (self->vae_group), vae);
  /* A VAE decodes segments of a fixed length from its full distribution. */
  gtk_widget_set_visible (gtk_widget_get_ancestor (GTK_WIDGET (self->top_k_spin), ADW_TYPE_ACTION_ROW),
                          !vae);
  gtk_widget_set_visible (gtk_widget_get_ancestor (GTK_WIDGET (self->bars_spin), ADW_TYPE_ACTION_ROW),
                          !vae);
  gtk_widget_set_visible (gtk_widget_get_ancestor (GTK_WIDGET (self->seed_bars_spin),
                                                   ADW_TYPE_ACTION_ROW), !vae);
}

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
  update_kind (self);
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
  update_kind (self);
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

static GtkWidget *
add_button_row (AdwPreferencesGroup *group, const char *label, const char *action,
                const char *tooltip)
{
  GtkWidget *button = gtk_button_new_with_mnemonic (label);

  gtk_actionable_set_action_name (GTK_ACTIONABLE (button), action);
  gtk_widget_set_tooltip_text (button, tooltip);
  gtk_widget_set_margin_top (button, 6);
  gtk_widget_add_css_class (button, "pill");
  adw_preferences_group_add (group, button);
  return button;
}

/* The VAE's group in the settings column and the page with the slider. */
static void
build_latent_space (MelGenerateView *self)
{
  GtkWidget *parent = gtk_widget_get_parent (GTK_WIDGET (self->sampling_group));
  GtkWidget *row, *page, *header, *scrolled;

  self->vae_group = ADW_PREFERENCES_GROUP (adw_preferences_group_new ());
  adw_preferences_group_set_title (self->vae_group, _("Latent Space"));
  adw_preferences_group_set_description (self->vae_group,
                                         _("Generate draws melodies from the VAE’s prior. "
                                           "Interpolate decodes the way between the first full "
                                           "bars of two corpus songs."));
  self->vae_song_a_entry = ADW_ENTRY_ROW (adw_entry_row_new ());
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (self->vae_song_a_entry), _("From song id"));
  adw_preferences_group_add (self->vae_group, GTK_WIDGET (self->vae_song_a_entry));
  self->vae_song_b_entry = ADW_ENTRY_ROW (adw_entry_row_new ());
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (self->vae_song_b_entry), _("To song id"));
  adw_preferences_group_add (self->vae_group, GTK_WIDGET (self->vae_song_b_entry));
  self->vae_points_spin = add_spin_row (self->vae_group, _("Steps"),
                                        _("Melodies on the way, both ends included"), 2, 32, 1, 0,
                                        7);
  row = adw_action_row_new ();
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), _("Spherical"));
  adw_action_row_set_subtitle (ADW_ACTION_ROW (row), _("Along the great circle (slerp), not a "
                                                       "straight line"));
  self->vae_slerp_switch = GTK_SWITCH (gtk_switch_new ());
  gtk_switch_set_active (self->vae_slerp_switch, TRUE);
  gtk_widget_set_valign (GTK_WIDGET (self->vae_slerp_switch), GTK_ALIGN_CENTER);
  adw_action_row_add_suffix (ADW_ACTION_ROW (row), GTK_WIDGET (self->vae_slerp_switch));
  adw_action_row_set_activatable_widget (ADW_ACTION_ROW (row), GTK_WIDGET (self->vae_slerp_switch));
  adw_preferences_group_add (self->vae_group, row);
  add_button_row (self->vae_group, _("_Interpolate"), "generate.interpolate",
                  _("Decode the steps between the two songs"));
  add_button_row (self->vae_group, _("Sample from the _Prior"), "generate.sample-prior",
                  _("Decode melodies from random points of the latent space"));
  gtk_box_insert_child_after (GTK_BOX (parent), GTK_WIDGET (self->vae_group),
                              GTK_WIDGET (self->seed_group));
  gtk_widget_set_visible (GTK_WIDGET (self->vae_group), FALSE);

  page = gtk_box_new (GTK_ORIENTATION_VERTICAL, 6);
  header = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 12);
  gtk_widget_set_margin_top (header, 12);
  gtk_widget_set_margin_start (header, 12);
  gtk_widget_set_margin_end (header, 12);
  self->interpolation_label = GTK_LABEL (gtk_label_new (NULL));
  gtk_widget_add_css_class (GTK_WIDGET (self->interpolation_label), "heading");
  gtk_label_set_width_chars (self->interpolation_label, 12);
  self->interpolation_scale = GTK_SCALE (gtk_scale_new_with_range (GTK_ORIENTATION_HORIZONTAL, 1, 2,
                                                                   1));
  gtk_scale_set_draw_value (self->interpolation_scale, FALSE);
  gtk_range_set_round_digits (GTK_RANGE (self->interpolation_scale), 0);
  gtk_widget_set_hexpand (GTK_WIDGET (self->interpolation_scale), TRUE);
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->interpolation_scale),
                               _("Walk from the first song to the second"));
  g_signal_connect_object (self->interpolation_scale, "value-changed",
                           G_CALLBACK (interpolation_step_changed_cb), self, G_CONNECT_SWAPPED);
  gtk_box_append (GTK_BOX (header), GTK_WIDGET (self->interpolation_label));
  gtk_box_append (GTK_BOX (header), GTK_WIDGET (self->interpolation_scale));
  gtk_box_append (GTK_BOX (page), header);
  self->interpolation_stack = GTK_STACK (gtk_stack_new ());
  gtk_stack_set_transition_type (self->interpolation_stack, GTK_STACK_TRANSITION_TYPE_CROSSFADE);
  gtk_widget_set_margin_start (GTK_WIDGET (self->interpolation_stack), 12);
  gtk_widget_set_margin_end (GTK_WIDGET (self->interpolation_stack), 12);
  gtk_widget_set_margin_bottom (GTK_WIDGET (self->interpolation_stack), 12);
  gtk_widget_set_valign (GTK_WIDGET (self->interpolation_stack), GTK_ALIGN_START);
  gtk_widget_add_css_class (GTK_WIDGET (self->interpolation_stack), "card");
  scrolled = gtk_scrolled_window_new ();
  gtk_scrolled_window_set_policy (GTK_SCROLLED_WINDOW (scrolled), GTK_POLICY_NEVER,
                                  GTK_POLICY_AUTOMATIC);
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (scrolled),
                                 GTK_WIDGET (self->interpolation_stack));
  gtk_widget_set_vexpand (scrolled, TRUE);
  gtk_box_append (GTK_BOX (page), scrolled);
  self->interpolation_page = page;
  gtk_stack_add_named (self->result_stack, page, "interpolation");
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
  g_clear_pointer (&self->attention_maps, g_ptr_array_unref);
  g_clear_pointer (&self->interpolation_rows, g_ptr_array_unref);
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
  gtk_widget_class_bind_template_child (widget_class, MelGenerateView, seed_group);
  gtk_widget_class_bind_template_child (widget_class, MelGenerateView, result_stack);
  gtk_widget_class_bind_template_child (widget_class, MelGenerateView, working_spinner);
  gtk_widget_class_bind_template_child (widget_class, MelGenerateView, samples_list);

  gtk_widget_class_install_action (widget_class, "generate.run", NULL, run_action);
  gtk_widget_class_install_action (widget_class, "generate.cancel", NULL, cancel_action);
  gtk_widget_class_install_action (widget_class, "generate.sample-prior", NULL, sample_prior_action);
  gtk_widget_class_install_action (widget_class, "generate.interpolate", NULL, interpolate_action);
  gtk_widget_class_install_action (widget_class, "generate.play", NULL, play_action);
  gtk_widget_class_install_action (widget_class, "generate.use-selected-song", NULL,
                                   use_selected_song_action);
}

static void
mel_generate_view_init (MelGenerateView *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  self->rows = g_ptr_array_new ();
  self->attention_maps = g_ptr_array_new ();
  self->interpolation_rows = g_ptr_array_new ();

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

  build_latent_space (self);
  seed_kind_changed_cb (self, NULL, self->seed_kind_row);
  g_signal_connect_object (self->seed_kind_row, "notify::selected",
                           G_CALLBACK (seed_kind_changed_cb), self, G_CONNECT_SWAPPED);
  g_signal_connect (self, "map", G_CALLBACK (map_cb), NULL);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "generate.cancel", FALSE);
}

void
mel_generate_view_set_interpolation (MelGenerateView *self, const char *song_a, const char *song_b,
                                     guint n_points)
{
  g_return_if_fail (MEL_IS_GENERATE_VIEW (self));
  g_return_if_fail (song_a != NULL && song_b != NULL);

  gtk_editable_set_text (GTK_EDITABLE (self->vae_song_a_entry), song_a);
  gtk_editable_set_text (GTK_EDITABLE (self->vae_song_b_entry), song_b);
  gtk_spin_button_set_value (self->vae_points_spin, n_points);
}

guint
mel_generate_view_get_n_interpolation_steps (MelGenerateView *self)
{
  g_return_val_if_fail (MEL_IS_GENERATE_VIEW (self), 0);
  return self->interpolation_rows->len;
}

void
mel_generate_view_set_interpolation_step (MelGenerateView *self, guint step)
{
  g_return_if_fail (MEL_IS_GENERATE_VIEW (self));
  gtk_range_set_value (GTK_RANGE (self->interpolation_scale), step + 1);
}

MelSampleRow *
mel_generate_view_get_interpolation_row (MelGenerateView *self)
{
  GtkWidget *child;

  g_return_val_if_fail (MEL_IS_GENERATE_VIEW (self), NULL);
  child = gtk_stack_get_visible_child (self->interpolation_stack);
  return child != NULL ? MEL_SAMPLE_ROW (child) : NULL;
}

GtkWidget *
mel_generate_view_get_attention_map (MelGenerateView *self, guint index)
{
  g_return_val_if_fail (MEL_IS_GENERATE_VIEW (self), NULL);
  if (index >= self->attention_maps->len)
    return NULL;
  return g_ptr_array_index (self->attention_maps, index);
}
