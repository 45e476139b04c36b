/* mel-compare-view.c — the Compare view.
 *
 * The measuring is mel-comparison's (the engine of `melodist-cli compare`):
 * this file only collects the inputs on the main thread, runs it in a
 * worker and lays out what it returns.  The comparison is shared with
 * export workers through an atomic reference-counted box, so replacing it
 * while a report is written is safe.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <math.h>

#include <glib/gi18n.h>

#include "mel-app-private.h"
#include "mel-bar-chart.h"
#include "mel-compare-view.h"
#include "mel-corpus-view.h"
#include "mel-loss-plot.h"
#include "mel-sample-row.h"
#include "mel-song-item.h"
#include "mel-window.h"

/* ---- the metrics ------------------------------------------------------------ */

typedef enum
{
  COL_BITS,
  COL_ACCURACY,
  COL_ONSET,
  COL_PITCH_BITS,
  COL_VAE_RECON,
  COL_VAE_KL,
  COL_COPIED,
  N_COLS
} Column;

typedef struct
{
  const char *title;
  const char *tooltip;
  gboolean lower_is_better;
  gboolean percent;
} ColumnInfo;

static const ColumnInfo column_info[N_COLS] = {
  { N_("Bits/Symbol"), N_("Cross-entropy on the held-out songs, bits per sixteenth (lower is better); "
                          "for a VAE its ELBO bound"),
    TRUE, FALSE },
  { N_("Accuracy"), N_("Share of held-out symbols predicted right"), FALSE, TRUE },
  { N_("Onset Accuracy"), N_("Share of note onsets predicted right"), FALSE, TRUE },
  { N_("Pitch Bits/Note"), N_("Bits per note for the pitches of the held-out songs"), TRUE, FALSE },
  { N_("VAE Reconstruction"), N_("VAE only: bits per symbol reconstructing held-out segments from "
                                 "their latent means"), TRUE, FALSE },
  { N_("VAE KL"), N_("VAE only: mean KL divergence of the posterior from the prior, nats per "
                     "segment"), TRUE, FALSE },
  { N_("Copied Samples"), N_("Share of samples that repeat a training song for the threshold's "
                             "bars or more"), TRUE, TRUE },
};

/* A VAE's plain figures score the reconstruction of each held-out segment
 * from its own code, not a prediction: they would win every column.  Its
 * bits/symbol shows the ELBO bound instead, the prediction columns stay
 * empty, and the VAE columns hold its own figures. */
static double
metric (const MelComparisonRun *run, Column column)
{
  gboolean vae = run->test.has_vae;

  switch (column)
    {
    case COL_BITS:
      return vae ? run->test.vae.elbo_bits : run->test.bits_per_symbol;
    case COL_ACCURACY:
      return vae ? NAN : run->test.accuracy;
    case COL_ONSET:
      return vae ? NAN : run->test.onset_accuracy;
    case COL_PITCH_BITS:
      return vae ? NAN : run->test.pitch_bits;
    case COL_VAE_RECON:
      return run->test.has_vae ? run->test.vae.recon_bits : NAN;
    case COL_VAE_KL:
      return run->test.has_vae ? run->test.vae.kl_nats : NAN;
    case COL_COPIED:
      return run->samples != NULL && run->samples->len > 0
             ? (double) run->n_copied / run->samples->len : NAN;
    case N_COLS:
    default:
      return NAN;
    }
}

/* One row of the table: a run of the comparison (borrowed; the view keeps
 * the comparison alive as long as its items). */
#define MEL_TYPE_COMPARE_ITEM (mel_compare_item_get_type ())
G_DECLARE_FINAL_TYPE (MelCompareItem, mel_compare_item, MEL, COMPARE_ITEM, GObject)

struct _MelCompareItem
{
  GObject parent_instance;
  const MelComparisonRun *run;
  gboolean stm;                /* the run combined with the short-term model */
  char *name;
  double values[N_COLS];
  gboolean best[N_COLS];
};

G_DEFINE_FINAL_TYPE (MelCompareItem, mel_compare_item, G_TYPE_OBJECT)

static void
mel_compare_item_finalize (GObject *object)
{
  g_free (MEL_COMPARE_ITEM (object)->name);
  G_OBJECT_CLASS (mel_compare_item_parent_class)->finalize (object);
}

static void
mel_compare_item_class_init (MelCompareItemClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = mel_compare_item_finalize;
}

static void
mel_compare_item_init (MelCompareItem *self)
{
}

/* The figures of @run combined with the short-term model (compare's
 * "+ STM" rows): prediction columns only. */
static double
stm_metric (const MelComparisonRun *run, Column column)
{
  switch (column)
    {
    case COL_BITS:
      return run->test.stm_bits_per_symbol;
    case COL_ACCURACY:
      return run->test.stm_accuracy;
    case COL_ONSET:
      return run->test.stm_onset_accuracy;
    case COL_PITCH_BITS:
      return run->test.stm_pitch_bits;
    case COL_VAE_RECON:
    case COL_VAE_KL:
    case COL_COPIED:
    case N_COLS:
    default:
      return NAN;
    }
}

static MelCompareItem *
mel_compare_item_new (const MelComparisonRun *run, gboolean stm)
{
  MelCompareItem *self = g_object_new (MEL_TYPE_COMPARE_ITEM, NULL);

  self->run = run;
  self->stm = stm;
  /* TRANSLATORS: a model's name with the short-term model added */
  self->name = stm ? g_strdup_printf (_("%s + STM"), run->name) : g_strdup (run->name);
  for (guint c = 0; c < N_COLS; c++)
    self->values[c] = stm ? stm_metric (run, c) : metric (run, c);
  return self;
}

/* ---- shared state between the view and its workers ----------------------------- */

typedef struct
{
  MelComparison *comparison;
} SharedComparison;

static void
shared_comparison_clear (gpointer data)
{
  SharedComparison *shared = data;
  g_clear_pointer (&shared->comparison, mel_comparison_free);
}

static void
shared_comparison_release (SharedComparison *shared)
{
  g_atomic_rc_box_release_full (shared, shared_comparison_clear);
}

typedef struct
{
  GMutex lock;
  char *stage;
  double fraction;
} Progress;

static void
progress_clear (gpointer data)
{
  Progress *progress = data;
  g_mutex_clear (&progress->lock);
  g_free (progress->stage);
}

static void
progress_release (Progress *progress)
{
  g_atomic_rc_box_release_full (progress, progress_clear);
}

/* ---- the view ----------------------------------------------------------------- */

struct _MelCompareView
{
  AdwBin parent_instance;

  AdwPreferencesGroup *runs_group;
  GtkWidget *no_runs_label;
  GPtrArray *run_rows;            /* AdwActionRow* with "run" and "check" data */
  GtkSpinButton *samples_spin;
  GtkSpinButton *bars_spin;
  GtkSwitch *stm_switch;
  GtkStack *stack;
  GtkProgressBar *progress_bar;
  GtkBox *results_box;
  GtkSpinButton *sample_index_spin;
  GtkGrid *samples_grid;          /* two runs a line */

  MelCorpusStore *store;
  GListStore *runs;
  MelPlayer *player;
  GSettings *settings;
  GHashTable *selected;           /* run id → TRUE */
  GCancellable *cancellable;      /* of the comparison or export running */
  Progress *progress;             /* of the comparison running */
  guint progress_timeout;
  SharedComparison *shared;       /* the last comparison, or NULL */
  GListStore *items;              /* MelCompareItem */
};

G_DEFINE_FINAL_TYPE (MelCompareView, mel_compare_view, ADW_TYPE_BIN)

enum
{
  SIGNAL_EXPORTED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static MelWindow *
get_window (MelCompareView *self)
{
  GtkWidget *window = gtk_widget_get_ancestor (GTK_WIDGET (self), MEL_TYPE_WINDOW);
  return window != NULL ? MEL_WINDOW (window) : NULL;
}

static void
toast (MelCompareView *self, const char *text)
{
  MelWindow *window = get_window (self);
  if (window != NULL)
    mel_window_add_toast (window, text);
}

static void
show_error (MelCompareView *self, const char *heading, const GError *error)
{
  MelWindow *window = get_window (self);
  if (window != NULL)
    mel_window_show_error (window, heading, error);
  else
    g_debug ("%s: %s", heading, error->message);
}

static guint
n_selected_runs (MelCompareView *self)
{
  guint n = 0;

  for (guint i = 0; i < self->run_rows->len; i++)
    if (gtk_check_button_get_active (g_object_get_data (self->run_rows->pdata[i], "check")))
      n++;
  return n;
}

static void
update_state (MelCompareView *self)
{
  gboolean busy = self->cancellable != NULL;

  gtk_widget_action_set_enabled (GTK_WIDGET (self), "compare.run",
                                 !busy && n_selected_runs (self) > 0);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "compare.cancel", busy);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "compare.export",
                                 !busy && self->shared != NULL);
}

/* ---- the run list ---------------------------------------------------------------- */

static void
run_toggled_cb (GtkCheckButton *check, GParamSpec *pspec, MelCompareView *self)
{
  MelRun *run = g_object_get_data (G_OBJECT (check), "run");

  if (gtk_check_button_get_active (check))
    g_hash_table_add (self->selected, g_strdup (mel_run_get_id (run)));
  else
    g_hash_table_remove (self->selected, mel_run_get_id (run));
  update_state (self);
}

/* One row per run with a checkpoint, ticked as before. */
static void
refresh_runs (MelCompareView *self)
{
  guint n = self->runs != NULL ? g_list_model_get_n_items (G_LIST_MODEL (self->runs)) : 0;

  for (guint i = 0; i < self->run_rows->len; i++)
    adw_preferences_group_remove (self->runs_group, self->run_rows->pdata[i]);
  g_ptr_array_set_size (self->run_rows, 0);

  for (guint i = 0; i < n; i++)
    {
      g_autoptr(MelRun) run = g_list_model_get_item (G_LIST_MODEL (self->runs), i);
      g_autofree char *status = NULL;
      GtkWidget *row, *check;

      if (mel_run_get_checkpoint_path (run) == NULL)
        continue;
      row = adw_action_row_new ();
      check = gtk_check_button_new ();
      status = mel_run_dup_status_text (run);
      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), mel_run_get_label (run));
      adw_action_row_set_subtitle (ADW_ACTION_ROW (row), status);
      gtk_widget_set_valign (check, GTK_ALIGN_CENTER);
      gtk_check_button_set_active (GTK_CHECK_BUTTON (check),
                                   g_hash_table_contains (self->selected, mel_run_get_id (run)));
      g_object_set_data_full (G_OBJECT (check), "run", g_object_ref (run), g_object_unref);
      g_signal_connect_object (check, "notify::active", G_CALLBACK (run_toggled_cb), self, 0);
      adw_action_row_add_prefix (ADW_ACTION_ROW (row), check);
      adw_action_row_set_activatable_widget (ADW_ACTION_ROW (row), check);
      g_object_set_data (G_OBJECT (row), "check", check);
      adw_preferences_group_add (self->runs_group, row);
      g_ptr_array_add (self->run_rows, row);
    }
  gtk_widget_set_visible (self->no_runs_label, self->run_rows->len == 0);
  update_state (self);
}

static void
runs_changed_cb (MelCompareView *self, guint position, guint removed, guint added, GListModel *model)
{
  refresh_runs (self);
}

static void
map_cb (MelCompareView *self)
{
  /* Runs gain checkpoints while they train: look again when shown. */
  if (self->cancellable == NULL)
    refresh_runs (self);
}

/* ---- the worker -------------------------------------------------------------------- */

typedef struct
{
  GPtrArray *paths;   /* char*, checkpoints */
  GPtrArray *names;   /* char*, their labels */
  GPtrArray *songs;   /* MelSong*, the corpus without duplicates */
  MelPreprocessOptions preprocess;
  MelComparisonOptions options;
  Progress *progress;
} CompareJob;

static void
compare_job_free (CompareJob *job)
{
  g_ptr_array_unref (job->paths);
  g_ptr_array_unref (job->names);
  g_ptr_array_unref (job->songs);
  progress_release (job->progress);
  g_free (job);
}

static void
report_progress (const char *stage, double fraction, gpointer user_data)
{
  Progress *progress = user_data;

  g_mutex_lock (&progress->lock);
  if (g_strcmp0 (progress->stage, stage) != 0)
    {
      g_free (progress->stage);
      progress->stage = g_strdup (stage);
    }
  progress->fraction = fraction;
  g_mutex_unlock (&progress->lock);
}

static void
dataset_progress (double fraction, gpointer user_data)
{
  report_progress (_("Preparing the data"), fraction, user_data);
}

static MelComparison *
compare (CompareJob *job, GCancellable *cancellable, GError **error)
{
  g_autoptr(GPtrArray) checkpoints = g_ptr_array_new_with_free_func ((GDestroyNotify) mel_checkpoint_free);
  g_autoptr(MelDataset) dataset = NULL;
  const char *description = NULL;

  for (guint i = 0; i < job->paths->len; i++)
    {
      MelCheckpoint *checkpoint = mel_checkpoint_load (job->paths->pdata[i], error);

      if (checkpoint == NULL)
        return NULL;
      g_ptr_array_add (checkpoints, checkpoint);
      /* Held-out songs are only held out for runs that split the data alike. */
      if (i == 0)
        description = checkpoint->preprocessing;
      else if (g_strcmp0 (checkpoint->preprocessing, description) != 0)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                       _("“%s” was trained on differently prepared data than “%s”, so they cannot "
                         "be measured on the same held-out songs"),
                       (const char *) job->names->pdata[i], (const char *) job->names->pdata[0]);
          return NULL;
        }
    }
  dataset = mel_dataset_build (job->songs, &job->preprocess, dataset_progress, job->progress,
                               cancellable, error);
  if (dataset == NULL)
    return NULL;
  if (mel_dataset_get_n_songs (dataset, MEL_SPLIT_TEST) == 0
      || mel_dataset_get_n_songs (dataset, MEL_SPLIT_TRAIN) == 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   _("The corpus has no held-out or no training songs; load a larger corpus"));
      return NULL;
    }
  return mel_comparison_run (checkpoints, job->names, dataset, job->songs, description,
                             &job->options, report_progress, job->progress, cancellable, error);
}

static void
compare_worker (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  g_autoptr(GError) error = NULL;
  MelComparison *comparison = compare (task_data, cancellable, &error);

  if (comparison == NULL)
    g_task_return_error (task, g_steal_pointer (&error));
  else
    g_task_return_pointer (task, comparison, (GDestroyNotify) mel_comparison_free);
}

/* ---- the results ----------------------------------------------------------------- */

static char *
format_value (Column column, double value, const MelComparisonRun *run)
{
  if (isnan (value))
    return g_strdup ("—");
  if (column == COL_COPIED)
    return g_strdup_printf ("%u / %u", run->n_copied, run->samples->len);
  if (column_info[column].percent)
    return g_strdup_printf ("%.1f %%", 100.0 * value);
  return g_strdup_printf ("%.3f", value);
}

static void
setup_label_cb (GtkSignalListItemFactory *factory, GtkListItem *item, gpointer user_data)
{
  GtkWidget *label = gtk_label_new (NULL);

  gtk_label_set_xalign (GTK_LABEL (label), GPOINTER_TO_INT (user_data) < 0 ? 0.0f : 1.0f);
  if (GPOINTER_TO_INT (user_data) < 0)
    gtk_label_set_width_chars (GTK_LABEL (label), 22);
  /* Names end in what tells rows apart ("+ STM", the date): cut the middle. */
  gtk_label_set_ellipsize (GTK_LABEL (label), GPOINTER_TO_INT (user_data) < 0 ? PANGO_ELLIPSIZE_MIDDLE
                                                                              : PANGO_ELLIPSIZE_END);
  gtk_widget_add_css_class (label, "numeric");
  gtk_list_item_set_child (item, label);
}

static void
bind_label_cb (GtkSignalListItemFactory *factory, GtkListItem *list_item, gpointer user_data)
{
  int column = GPOINTER_TO_INT (user_data);
  MelCompareItem *item = gtk_list_item_get_item (list_item);
  GtkWidget *label = gtk_list_item_get_child (list_item);
  g_autofree char *text = NULL;

  if (column < 0)
    {
      gtk_label_set_text (GTK_LABEL (label), item->name);
      gtk_widget_set_tooltip_text (label, item->stm ? _("The model combined with a short-term model of "
                                                        "each song (a PPM over the notes so far), as "
                                                        "IDyOM's LTM + STM")
                                                    : item->name);
      return;
    }
  text = format_value (column, item->values[column], item->run);
  gtk_label_set_text (GTK_LABEL (label), text);
  if (item->best[column])
    {
      gtk_widget_add_css_class (label, "success");
      gtk_widget_add_css_class (label, "heading");
      gtk_widget_set_tooltip_text (label, _("Best in this column"));
    }
  else
    {
      gtk_widget_remove_css_class (label, "success");
      gtk_widget_remove_css_class (label, "heading");
      gtk_widget_set_tooltip_text (label, NULL);
    }
}

/* NaN (not applicable) sorts last either way round. */
static int
compare_items (gconstpointer a, gconstpointer b, gpointer user_data)
{
  int column = GPOINTER_TO_INT (user_data);
  const MelCompareItem *x = a, *y = b;

  if (column < 0)
    return g_utf8_collate (x->name, y->name);
  if (isnan (x->values[column]) || isnan (y->values[column]))
    return isnan (x->values[column]) - isnan (y->values[column]);
  return (x->values[column] > y->values[column]) - (x->values[column] < y->values[column]);
}

static GtkColumnViewColumn *
new_column (const char *title, int column)
{
  GtkListItemFactory *factory = gtk_signal_list_item_factory_new ();
  g_autoptr(GtkSorter) sorter = GTK_SORTER (gtk_custom_sorter_new (compare_items,
                                                                    GINT_TO_POINTER (column), NULL));
  GtkColumnViewColumn *view_column;

  g_signal_connect (factory, "setup", G_CALLBACK (setup_label_cb), GINT_TO_POINTER (column));
  g_signal_connect (factory, "bind", G_CALLBACK (bind_label_cb), GINT_TO_POINTER (column));
  view_column = gtk_column_view_column_new (title, factory);
  gtk_column_view_column_set_sorter (view_column, sorter);
  gtk_column_view_column_set_resizable (view_column, TRUE);
  gtk_column_view_column_set_expand (view_column, column < 0);
  return view_column;
}

static GtkWidget *
build_table (MelCompareView *self, const MelComparison *comparison)
{
  GtkWidget *view = gtk_column_view_new (NULL);
  GtkWidget *scrolled;
  GtkSortListModel *sorted;

  g_list_store_remove_all (self->items);
  for (guint i = 0; i < comparison->runs->len; i++)
    {
      const MelComparisonRun *run = comparison->runs->pdata[i];
      g_autoptr(MelCompareItem) item = mel_compare_item_new (run, FALSE);

      g_list_store_append (self->items, item);
      if (run->test.has_stm)
        {
          g_autoptr(MelCompareItem) combined = mel_compare_item_new (run, TRUE);

          g_list_store_append (self->items, combined);
        }
    }
  /* The best value of every column (ties all count). */
  for (guint c = 0; c < N_COLS; c++)
    {
      guint n = g_list_model_get_n_items (G_LIST_MODEL (self->items));
      double best = NAN;
      guint n_valid = 0;

      for (guint i = 0; i < n; i++)
        {
          g_autoptr(MelCompareItem) item = g_list_model_get_item (G_LIST_MODEL (self->items), i);
          double v = item->values[c];

          if (isnan (v))
            continue;
          n_valid++;
          if (isnan (best) || (column_info[c].lower_is_better ? v < best : v > best))
            best = v;
        }
      for (guint i = 0; i < n && n_valid > 1; i++)
        {
          g_autoptr(MelCompareItem) item = g_list_model_get_item (G_LIST_MODEL (self->items), i);
          item->best[c] = !isnan (item->values[c]) && item->values[c] == best;
        }
    }

  {
    g_autoptr(GtkColumnViewColumn) name_column = new_column (_("Model"), -1);
    gtk_column_view_append_column (GTK_COLUMN_VIEW (view), name_column);
  }
  for (guint c = 0; c < N_COLS; c++)
    {
      g_autoptr(GtkColumnViewColumn) column = new_column (_(column_info[c].title), (int) c);
      gtk_column_view_append_column (GTK_COLUMN_VIEW (view), column);
    }
  sorted = gtk_sort_list_model_new (g_object_ref (G_LIST_MODEL (self->items)),
                                    g_object_ref (gtk_column_view_get_sorter (GTK_COLUMN_VIEW (view))));
  gtk_column_view_set_model (GTK_COLUMN_VIEW (view),
                             GTK_SELECTION_MODEL (gtk_no_selection_new (G_LIST_MODEL (sorted))));
  gtk_column_view_set_reorderable (GTK_COLUMN_VIEW (view), FALSE);
  /* Scrolls sideways in a narrow window rather than widening it. */
  scrolled = gtk_scrolled_window_new ();
  gtk_scrolled_window_set_policy (GTK_SCROLLED_WINDOW (scrolled), GTK_POLICY_AUTOMATIC,
                                  GTK_POLICY_NEVER);
  gtk_scrolled_window_set_propagate_natural_height (GTK_SCROLLED_WINDOW (scrolled), TRUE);
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (scrolled), view);
  gtk_widget_add_css_class (scrolled, "card");
  return scrolled;
}

static GtkWidget *
heading (const char *text)
{
  GtkWidget *label = gtk_label_new (text);

  gtk_label_set_xalign (GTK_LABEL (label), 0.0f);
  gtk_widget_add_css_class (label, "title-4");
  gtk_widget_set_margin_top (label, 12);
  return label;
}

static GtkWidget *
caption (const char *text)
{
  GtkWidget *label = gtk_label_new (text);

  gtk_label_set_xalign (GTK_LABEL (label), 0.0f);
  gtk_label_set_wrap (GTK_LABEL (label), TRUE);
  gtk_widget_add_css_class (label, "dim-label");
  gtk_widget_add_css_class (label, "caption");
  return label;
}

static GtkWidget *
build_legend (const MelComparison *comparison)
{
  g_autoptr(GString) text = g_string_new (NULL);
  /* xgettext cannot see through G_GUINT64_FORMAT: format the counts apart. */
  g_autofree char *symbols = g_strdup_printf ("%" G_GUINT64_FORMAT, comparison->n_test_symbols);
  g_autofree char *notes = g_strdup_printf ("%" G_GUINT64_FORMAT, comparison->n_test_notes);

  g_string_append_printf (text, _("Measured on %u held-out songs (%s symbols, %s notes); the "
                                  "n-gram baseline is counted on the same %u training songs. The "
                                  "best value of each column is highlighted."),
                          comparison->n_test_songs, symbols, notes, comparison->n_train_songs);
  for (guint c = 0; c < N_COLS; c++)
    g_string_append_printf (text, "\n%s: %s", _(column_info[c].title), _(column_info[c].tooltip));
  return caption (text->str);
}

/* The loss histories stored in the checkpoints, one series per run. */
static GtkWidget *
build_loss_plot (const MelComparison *comparison)
{
  GtkWidget *plot = mel_loss_plot_new ();
  guint n_series = 0;

  for (guint i = 0; i < comparison->runs->len; i++)
    {
      const MelComparisonRun *run = comparison->runs->pdata[i];
      g_autofree char *id = g_strdup_printf ("run-%u", i);

      if (run->history == NULL || run->history->len == 0)
        continue;
      mel_loss_plot_add_series (MEL_LOSS_PLOT (plot), id, run->name);
      n_series++;
      for (guint e = 0; e < run->history->len; e++)
        {
          const MelEpochRecord *record = &g_array_index (run->history, MelEpochRecord, e);
          mel_loss_plot_add_point (MEL_LOSS_PLOT (plot), id, MEL_LOSS_TRAIN, (double) record->step,
                                   record->train_loss);
          mel_loss_plot_add_point (MEL_LOSS_PLOT (plot), id, MEL_LOSS_VALID, (double) record->step,
                                   record->valid_loss);
        }
    }
  if (n_series == 0)
    {
      g_object_ref_sink (plot);
      g_object_unref (plot);
      return caption (_("None of the runs has a loss history."));
    }
  gtk_widget_set_size_request (plot, -1, 240);
  return plot;
}

/* A histogram titled @title with @figures (the distance) beneath it. */
static GtkWidget *
bar_chart (MelStatKind kind, const MelMelodyStats *stats, const char *title, const char *figures)
{
  guint n = mel_stat_n_bins (kind);
  g_autofree double *values = g_new0 (double, n);
  g_autoptr(GPtrArray) labels = g_ptr_array_new_with_free_func (g_free);
  GtkWidget *chart = mel_bar_chart_new ();
  GtkWidget *box, *label;

  mel_melody_stats_get_distribution (stats, kind, 0.0, values);
  for (guint b = 0; b < n; b++)
    g_ptr_array_add (labels, mel_stat_bin_label (kind, b));
  mel_bar_chart_set_data (MEL_BAR_CHART (chart), (const char *const *) labels->pdata, values, n);
  mel_bar_chart_set_title (MEL_BAR_CHART (chart), title);
  gtk_widget_set_tooltip_text (chart, title);
  gtk_widget_set_size_request (chart, 280, 170);
  box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 2);
  gtk_box_append (GTK_BOX (box), chart);
  label = caption (figures);
  /* A wrapped label asks for its whole width otherwise, and the flow box
   * would show one chart a line. */
  gtk_label_set_max_width_chars (GTK_LABEL (label), 30);
  gtk_box_append (GTK_BOX (box), label);
  return box;
}

static const char *
stat_title (MelStatKind kind)
{
  switch (kind)
    {
    case MEL_STAT_PITCH_CLASS:
      return _("Pitch Classes");
    case MEL_STAT_INTERVAL:
      return _("Intervals");
    case MEL_STAT_DURATION:
      return _("Durations");
    case MEL_STAT_PITCH_RANGE:
    case MEL_STAT_NOTE_DENSITY:
    case MEL_STAT_OUT_OF_SCALE:
    case MEL_STAT_TONIC_ENDING:
    case MEL_N_STATS:
    default:
      return mel_stat_kind_title (kind);
    }
}

static GtkWidget *
flow_box (guint max_per_line)
{
  GtkWidget *flow = gtk_flow_box_new ();

  gtk_flow_box_set_selection_mode (GTK_FLOW_BOX (flow), GTK_SELECTION_NONE);
  gtk_flow_box_set_homogeneous (GTK_FLOW_BOX (flow), TRUE);
  gtk_flow_box_set_max_children_per_line (GTK_FLOW_BOX (flow), MAX (max_per_line, 1));
  gtk_flow_box_set_column_spacing (GTK_FLOW_BOX (flow), 12);
  gtk_flow_box_set_row_spacing (GTK_FLOW_BOX (flow), 12);
  return flow;
}

/* Per statistic: the held-out songs, then every run's samples with their
 * distance from them. */
static void
add_histograms (GtkBox *box, const MelComparison *comparison)
{
  static const MelStatKind kinds[] = { MEL_STAT_PITCH_CLASS, MEL_STAT_INTERVAL, MEL_STAT_DURATION };

  for (guint k = 0; k < G_N_ELEMENTS (kinds); k++)
    {
      MelStatKind kind = kinds[k];
      GtkWidget *flow = flow_box (4);
      const MelStatDistance *reference = &comparison->reference[kind];
      g_autofree char *figures = g_strdup_printf (_("The yardstick: training songs against them, "
                                                    "KL %.3f bits · overlap %.0f %%"),
                                                  reference->kl, 100.0 * reference->overlap);

      gtk_box_append (box, caption (stat_title (kind)));
      gtk_flow_box_append (GTK_FLOW_BOX (flow), bar_chart (kind, &comparison->test_stats,
                                                           _("Held-out songs"), figures));
      for (guint i = 0; i < comparison->runs->len; i++)
        {
          const MelComparisonRun *run = comparison->runs->pdata[i];
          g_autofree char *run_figures = NULL;

          if (run->samples == NULL || run->samples->len == 0)
            continue;
          run_figures = g_strdup_printf (_("Its samples against the held-out songs: KL %.3f bits · "
                                           "overlap %.0f %%"),
                                         run->distance[kind].kl, 100.0 * run->distance[kind].overlap);
          gtk_flow_box_append (GTK_FLOW_BOX (flow), bar_chart (kind, &run->sample_stats, run->name,
                                                               run_figures));
        }
      gtk_box_append (box, flow);
    }
}

static double
playback_tempo (MelCompareView *self, MelSong *song)
{
  if (self->settings != NULL)
    return g_settings_get_int (self->settings, "default-tempo");
  return _mel_default_tempo (song);
}

/* Sample number "sample index" of every run, side by side. */
static void
fill_samples (MelCompareView *self)
{
  const MelComparison *comparison = self->shared != NULL ? self->shared->comparison : NULL;
  guint index = (guint) gtk_spin_button_get_value_as_int (self->sample_index_spin) - 1;
  guint shown = 0;
  GtkWidget *child;

  if (self->samples_grid == NULL)
    return;
  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self->samples_grid))) != NULL)
    gtk_grid_remove (self->samples_grid, child);
  if (comparison == NULL)
    return;
  for (guint i = 0; i < comparison->runs->len; i++)
    {
      const MelComparisonRun *run = comparison->runs->pdata[i];
      MelSong *song;
      g_autofree char *title = NULL;
      GtkWidget *row;

      if (run->samples == NULL || index >= run->samples->len)
        continue;
      song = run->samples->pdata[index];
      title = g_strdup_printf (_("%s, sample %u"), run->name, index + 1);
      row = mel_sample_row_new (song, title, self->player, playback_tempo (self, song));
      gtk_widget_add_css_class (row, "card");
      gtk_widget_set_valign (row, GTK_ALIGN_START);
      gtk_grid_attach (self->samples_grid, row, (int) (shown % 2), (int) (shown / 2), 1, 1);
      shown++;
    }
}

static void
sample_index_changed_cb (MelCompareView *self, GtkSpinButton *spin)
{
  fill_samples (self);
}

static void
add_samples (MelCompareView *self, GtkBox *box, const MelComparison *comparison)
{
  GtkWidget *row = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 12);
  GtkWidget *label = gtk_label_new_with_mnemonic (_("_Sample"));
  guint most = 0;

  for (guint i = 0; i < comparison->runs->len; i++)
    {
      const MelComparisonRun *run = comparison->runs->pdata[i];
      if (run->samples != NULL)
        most = MAX (most, run->samples->len);
    }
  if (most == 0)
    {
      gtk_box_append (box, caption (_("No samples were drawn.")));
      return;
    }
  self->sample_index_spin = GTK_SPIN_BUTTON (gtk_spin_button_new_with_range (1, most, 1));
  gtk_label_set_mnemonic_widget (GTK_LABEL (label), GTK_WIDGET (self->sample_index_spin));
  g_signal_connect_object (self->sample_index_spin, "value-changed",
                           G_CALLBACK (sample_index_changed_cb), self, G_CONNECT_SWAPPED);
  gtk_box_append (GTK_BOX (row), label);
  gtk_box_append (GTK_BOX (row), GTK_WIDGET (self->sample_index_spin));
  gtk_box_append (box, row);
  /* Side by side in two equal columns (the scores reflow to their width):
   * wide enough for a score, narrow enough for an 800 px window. */
  self->samples_grid = GTK_GRID (gtk_grid_new ());
  gtk_grid_set_column_homogeneous (self->samples_grid, TRUE);
  gtk_grid_set_column_spacing (self->samples_grid, 12);
  gtk_grid_set_row_spacing (self->samples_grid, 12);
  gtk_box_append (box, GTK_WIDGET (self->samples_grid));
  fill_samples (self);
}

/* The flagged samples, each with a button to the training song it copies. */
static void
add_memorisation (GtkBox *box, const MelComparison *comparison)
{
  GtkWidget *list = gtk_list_box_new ();
  guint n_flagged = 0;
  g_autofree char *text = NULL;

  gtk_list_box_set_selection_mode (GTK_LIST_BOX (list), GTK_SELECTION_NONE);
  gtk_widget_add_css_class (list, "boxed-list");
  for (guint i = 0; i < comparison->runs->len; i++)
    {
      const MelComparisonRun *run = comparison->runs->pdata[i];

      for (guint s = 0; run->memory != NULL && s < run->memory->len; s++)
        {
          const MelMemoryMatch *match = &g_array_index (run->memory, MelMemoryMatch, s);
          g_autofree char *title = NULL, *subtitle = NULL;
          GtkWidget *row, *button;

          if (!match->copied || match->song_id == NULL)
            continue;
          n_flagged++;
          row = adw_action_row_new ();
          title = g_strdup_printf (_("%s, sample %u"), run->name, s + 1);
          subtitle = g_strdup_printf (_("%.1f bars (%u notes) as in training song %s, from its "
                                        "note %u"), match->n_bars, match->n_notes, match->song_id,
                                      match->song_note + 1);
          adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), title);
          adw_action_row_set_subtitle (ADW_ACTION_ROW (row), subtitle);
          button = gtk_button_new_with_label (_("Show in Corpus"));
          gtk_widget_set_valign (button, GTK_ALIGN_CENTER);
          gtk_actionable_set_action_name (GTK_ACTIONABLE (button), "compare.show-song");
          gtk_actionable_set_action_target (GTK_ACTIONABLE (button), "s", match->song_id);
          adw_action_row_add_suffix (ADW_ACTION_ROW (row), button);
          gtk_list_box_append (GTK_LIST_BOX (list), row);
        }
    }
  text = g_strdup_printf (_("A sample is flagged when it repeats %.0f bars or more of a training "
                            "song."), comparison->options.threshold_bars);
  gtk_box_append (box, caption (text));
  if (n_flagged == 0)
    {
      g_object_ref_sink (list);
      g_object_unref (list);
      gtk_box_append (box, caption (_("No sample copies a training song.")));
      return;
    }
  gtk_box_append (box, list);
}

static void
show_comparison (MelCompareView *self)
{
  const MelComparison *comparison = self->shared->comparison;
  GtkWidget *child;

  self->samples_grid = NULL;
  self->sample_index_spin = NULL;
  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self->results_box))) != NULL)
    gtk_box_remove (self->results_box, child);

  gtk_box_append (self->results_box, heading (_("Metrics")));
  gtk_box_append (self->results_box, build_table (self, comparison));
  gtk_box_append (self->results_box, build_legend (comparison));
  gtk_box_append (self->results_box, heading (_("Loss During Training")));
  gtk_box_append (self->results_box, build_loss_plot (comparison));
  gtk_box_append (self->results_box, heading (_("Samples Against the Held-out Songs")));
  add_histograms (self->results_box, comparison);
  gtk_box_append (self->results_box, heading (_("Samples Side by Side")));
  add_samples (self, self->results_box, comparison);
  gtk_box_append (self->results_box, heading (_("Memorisation")));
  add_memorisation (self->results_box, comparison);
  gtk_stack_set_visible_child_name (self->stack, "results");
}

static void
stop_progress (MelCompareView *self)
{
  if (self->progress_timeout != 0)
    g_source_remove (self->progress_timeout);
  self->progress_timeout = 0;
  g_clear_pointer (&self->progress, progress_release);
}

static void
compare_done_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  MelCompareView *self = MEL_COMPARE_VIEW (source);
  GTask *task = G_TASK (result);
  g_autoptr(GError) error = NULL;
  MelComparison *comparison = g_task_propagate_pointer (task, &error);

  if (g_task_get_cancellable (task) != self->cancellable)
    {
      g_clear_pointer (&comparison, mel_comparison_free);
      return; /* cancelled and superseded */
    }
  g_clear_object (&self->cancellable);
  stop_progress (self);

  if (comparison == NULL)
    {
      gtk_stack_set_visible_child_name (self->stack, self->shared != NULL ? "results" : "empty");
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        show_error (self, _("Could not compare the models"), error);
      update_state (self);
      return;
    }
  g_clear_pointer (&self->shared, shared_comparison_release);
  self->shared = g_atomic_rc_box_new0 (SharedComparison);
  self->shared->comparison = comparison;
  show_comparison (self);
  update_state (self);
  toast (self, _("Comparison done"));
}

static gboolean
progress_tick_cb (gpointer user_data)
{
  MelCompareView *self = user_data;
  g_autofree char *stage = NULL;
  double fraction;

  g_mutex_lock (&self->progress->lock);
  stage = g_strdup (self->progress->stage);
  fraction = self->progress->fraction;
  g_mutex_unlock (&self->progress->lock);
  gtk_progress_bar_set_fraction (self->progress_bar, CLAMP (fraction, 0.0, 1.0));
  gtk_progress_bar_set_text (self->progress_bar, stage != NULL ? stage : _("Starting"));
  return G_SOURCE_CONTINUE;
}

/* ---- actions ------------------------------------------------------------------------ */

static void
run_action (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  MelCompareView *self = MEL_COMPARE_VIEW (widget);
  g_autoptr(GTask) task = NULL;
  CompareJob *job;
  MelRun *first = NULL;

  if (self->cancellable != NULL || self->store == NULL)
    return;
  job = g_new0 (CompareJob, 1);
  job->paths = g_ptr_array_new_with_free_func (g_free);
  job->names = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 0; i < self->run_rows->len; i++)
    {
      GtkCheckButton *check = g_object_get_data (self->run_rows->pdata[i], "check");
      MelRun *run = g_object_get_data (G_OBJECT (check), "run");

      if (!gtk_check_button_get_active (check) || mel_run_get_checkpoint_path (run) == NULL)
        continue;
      if (first == NULL)
        first = run;
      g_ptr_array_add (job->paths, g_strdup (mel_run_get_checkpoint_path (run)));
      g_ptr_array_add (job->names, g_strdup (mel_run_get_label (run)));
    }
  if (first == NULL)
    {
      job->songs = g_ptr_array_new ();
      job->progress = g_atomic_rc_box_new0 (Progress);
      g_mutex_init (&job->progress->lock);
      compare_job_free (job);
      toast (self, _("Tick at least one run to compare"));
      return;
    }
  job->songs = mel_corpus_store_dup_unique_songs (self->store);
  job->preprocess = mel_run_get_config (first)->preprocess;
  mel_comparison_options_init (&job->options);
  job->options.use_stm = gtk_switch_get_active (self->stm_switch);
  job->options.n_samples = gtk_spin_button_get_value_as_int (self->samples_spin);
  job->options.sample_steps = gtk_spin_button_get_value_as_int (self->bars_spin) * 4
                              * MEL_STEPS_PER_QUARTER;
  job->progress = g_atomic_rc_box_new0 (Progress);
  g_mutex_init (&job->progress->lock);

  self->progress = g_atomic_rc_box_acquire (job->progress);
  self->progress_timeout = g_timeout_add (100, progress_tick_cb, self);
  gtk_progress_bar_set_fraction (self->progress_bar, 0.0);
  gtk_progress_bar_set_text (self->progress_bar, _("Starting"));
  gtk_stack_set_visible_child_name (self->stack, "working");

  self->cancellable = g_cancellable_new ();
  task = g_task_new (self, self->cancellable, compare_done_cb, NULL);
  g_task_set_source_tag (task, run_action);
  g_task_set_task_data (task, job, (GDestroyNotify) compare_job_free);
  g_task_run_in_thread (task, compare_worker);
  update_state (self);
}

static void
cancel_action (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  MelCompareView *self = MEL_COMPARE_VIEW (widget);

  if (self->cancellable == NULL)
    return;
  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  stop_progress (self);
  gtk_stack_set_visible_child_name (self->stack, self->shared != NULL ? "results" : "empty");
  update_state (self);
}

static void
show_song_action (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  MelCompareView *self = MEL_COMPARE_VIEW (widget);
  MelWindow *window = get_window (self);
  const char *id = g_variant_get_string (parameter, NULL);
  MelCorpusView *corpus_view;
  GListModel *visible;
  guint n;

  if (window == NULL)
    return;
  corpus_view = MEL_CORPUS_VIEW (mel_window_get_view (window, "corpus"));
  mel_window_show_view (window, "corpus");
  mel_corpus_view_set_search_text (corpus_view, id);
  visible = mel_corpus_view_get_visible_songs (corpus_view);
  n = g_list_model_get_n_items (visible);
  for (guint i = 0; i < n; i++)
    {
      g_autoptr(MelSongItem) item = g_list_model_get_item (visible, i);
      if (g_strcmp0 (mel_song_item_get_id (item), id) == 0)
        {
          mel_corpus_view_select (corpus_view, i);
          return;
        }
    }
  toast (self, _("The song is not in the loaded corpus"));
}

/* ---- export --------------------------------------------------------------------------- */

typedef struct
{
  SharedComparison *shared;
  char *path;
} ExportJob;

static void
export_job_free (ExportJob *job)
{
  shared_comparison_release (job->shared);
  g_free (job->path);
  g_free (job);
}

static void
export_worker (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  ExportJob *job = task_data;
  g_autoptr(GError) error = NULL;

  if (mel_comparison_write_html (job->shared->comparison, job->path, &error))
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, g_steal_pointer (&error));
}

static void
export_done_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  MelCompareView *self = MEL_COMPARE_VIEW (source);
  GTask *task = G_TASK (result);
  ExportJob *job = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;

  g_task_propagate_boolean (task, &error);
  if (g_task_get_cancellable (task) != self->cancellable)
    return; /* cancelled, or the view is gone */
  g_clear_object (&self->cancellable);
  if (error != NULL)
    show_error (self, _("Could not export the report"), error);
  else
    {
      g_autofree char *name = g_path_get_basename (job->path);
      g_autofree char *text = g_strdup_printf (_("Report saved as %s"), name);
      toast (self, text);
    }
  update_state (self);
  g_signal_emit (self, signals[SIGNAL_EXPORTED], 0, error);
}

void
mel_compare_view_export (MelCompareView *self, const char *path)
{
  g_autoptr(GTask) task = NULL;
  ExportJob *job;

  g_return_if_fail (MEL_IS_COMPARE_VIEW (self));
  g_return_if_fail (path != NULL);
  g_return_if_fail (self->shared != NULL);
  g_return_if_fail (self->cancellable == NULL);

  job = g_new0 (ExportJob, 1);
  job->shared = g_atomic_rc_box_acquire (self->shared);
  job->path = g_strdup (path);
  self->cancellable = g_cancellable_new ();
  task = g_task_new (self, self->cancellable, export_done_cb, NULL);
  g_task_set_source_tag (task, mel_compare_view_export);
  g_task_set_task_data (task, job, (GDestroyNotify) export_job_free);
  g_task_run_in_thread (task, export_worker);
  update_state (self);
}

static void
export_response_cb (GtkNativeDialog *dialog, int response, MelCompareView *self)
{
  if (response == GTK_RESPONSE_ACCEPT && self->shared != NULL && self->cancellable == NULL)
    {
      g_autoptr(GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog));
      g_autofree char *path = file != NULL ? g_file_get_path (file) : NULL;

      if (path != NULL)
        mel_compare_view_export (self, path);
    }
  gtk_native_dialog_destroy (dialog);
  g_object_unref (dialog);
  g_object_unref (self);
}

static void
export_action (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  MelCompareView *self = MEL_COMPARE_VIEW (widget);
  GtkRoot *root = gtk_widget_get_root (widget);
  GtkFileChooserNative *dialog;
  g_autoptr(GtkFileFilter) filter = gtk_file_filter_new ();

  if (self->shared == NULL || self->cancellable != NULL)
    return;
  dialog = gtk_file_chooser_native_new (_("Export Comparison"),
                                        GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL,
                                        GTK_FILE_CHOOSER_ACTION_SAVE, _("_Export"), _("_Cancel"));
  gtk_file_filter_set_name (filter, _("HTML report"));
  gtk_file_filter_add_suffix (filter, "html");
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (dialog), filter);
  gtk_file_chooser_set_current_name (GTK_FILE_CHOOSER (dialog), "comparison.html");
  g_signal_connect (dialog, "response", G_CALLBACK (export_response_cb), g_object_ref (self));
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (dialog));
}

/* ---- public API -------------------------------------------------------------------------- */

void
mel_compare_view_bind (MelCompareView *self, MelCorpusStore *store, GListStore *runs,
                       MelPlayer *player, GSettings *settings)
{
  g_return_if_fail (MEL_IS_COMPARE_VIEW (self));
  g_return_if_fail (MEL_IS_CORPUS_STORE (store));
  g_return_if_fail (G_IS_LIST_STORE (runs));
  g_return_if_fail (MEL_IS_PLAYER (player));
  g_return_if_fail (self->store == NULL);

  self->store = g_object_ref (store);
  self->runs = g_object_ref (runs);
  self->player = g_object_ref (player);
  self->settings = settings != NULL ? g_object_ref (settings) : NULL;
  g_signal_connect_object (runs, "items-changed", G_CALLBACK (runs_changed_cb), self,
                           G_CONNECT_SWAPPED);
  refresh_runs (self);
}

void
mel_compare_view_set_run_selected (MelCompareView *self, MelRun *run, gboolean selected)
{
  g_return_if_fail (MEL_IS_COMPARE_VIEW (self));
  g_return_if_fail (MEL_IS_RUN (run));

  refresh_runs (self);
  for (guint i = 0; i < self->run_rows->len; i++)
    {
      GtkCheckButton *check = g_object_get_data (self->run_rows->pdata[i], "check");
      if (g_object_get_data (G_OBJECT (check), "run") == run)
        gtk_check_button_set_active (check, selected);
    }
}

void
mel_compare_view_set_sampling (MelCompareView *self, guint n_samples, guint bars)
{
  g_return_if_fail (MEL_IS_COMPARE_VIEW (self));
  gtk_spin_button_set_value (self->samples_spin, n_samples);
  gtk_spin_button_set_value (self->bars_spin, bars);
}

void
mel_compare_view_set_short_term_model (MelCompareView *self, gboolean enabled)
{
  g_return_if_fail (MEL_IS_COMPARE_VIEW (self));
  gtk_switch_set_active (self->stm_switch, enabled);
}

gboolean
mel_compare_view_get_busy (MelCompareView *self)
{
  g_return_val_if_fail (MEL_IS_COMPARE_VIEW (self), FALSE);
  return self->cancellable != NULL;
}

const MelComparison *
mel_compare_view_get_comparison (MelCompareView *self)
{
  g_return_val_if_fail (MEL_IS_COMPARE_VIEW (self), NULL);
  return self->shared != NULL ? self->shared->comparison : NULL;
}

guint
mel_compare_view_get_n_table_rows (MelCompareView *self)
{
  g_return_val_if_fail (MEL_IS_COMPARE_VIEW (self), 0);
  return g_list_model_get_n_items (G_LIST_MODEL (self->items));
}

/* ---- construction ------------------------------------------------------------------------ */

static GtkSpinButton *
add_spin_row (AdwPreferencesGroup *group, const char *title, const char *tooltip, double lower,
              double upper, double value)
{
  GtkWidget *row = adw_action_row_new ();
  GtkWidget *spin = gtk_spin_button_new_with_range (lower, upper, 1);

  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), title);
  gtk_widget_set_tooltip_text (row, tooltip);
  gtk_spin_button_set_value (GTK_SPIN_BUTTON (spin), value);
  gtk_widget_set_valign (spin, GTK_ALIGN_CENTER);
  adw_action_row_add_suffix (ADW_ACTION_ROW (row), spin);
  adw_action_row_set_activatable_widget (ADW_ACTION_ROW (row), spin);
  adw_preferences_group_add (group, row);
  return GTK_SPIN_BUTTON (spin);
}

static GtkWidget *
pill_button (const char *label, const char *action, const char *tooltip, gboolean suggested)
{
  GtkWidget *button = gtk_button_new_with_mnemonic (label);

  gtk_actionable_set_action_name (GTK_ACTIONABLE (button), action);
  gtk_widget_set_tooltip_text (button, tooltip);
  gtk_widget_add_css_class (button, "pill");
  if (suggested)
    gtk_widget_add_css_class (button, "suggested-action");
  return button;
}

static GtkWidget *
build_settings (MelCompareView *self)
{
  GtkWidget *column = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);
  GtkWidget *scrolled = gtk_scrolled_window_new ();
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 18);
  GtkWidget *buttons = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  AdwPreferencesGroup *sampling = ADW_PREFERENCES_GROUP (adw_preferences_group_new ());

  self->runs_group = ADW_PREFERENCES_GROUP (adw_preferences_group_new ());
  adw_preferences_group_set_title (self->runs_group, _("Runs"));
  adw_preferences_group_set_description (self->runs_group,
                                         _("Measured on the held-out songs of the loaded corpus, "
                                           "next to an n-gram baseline counted on the same "
                                           "training songs"));
  self->no_runs_label = caption (_("No run has a checkpoint yet: train one in the Train view."));
  adw_preferences_group_add (self->runs_group, self->no_runs_label);

  adw_preferences_group_set_title (sampling, _("Samples"));
  self->samples_spin = add_spin_row (sampling, _("Samples per run"),
                                     _("Melodies drawn from every run for the statistics and the "
                                       "memorisation check"), 1, 500, 50);
  self->bars_spin = add_spin_row (sampling, _("Length in bars"),
                                  _("Length of every sample, in bars of 4/4"), 1, 64, 16);
  {
    GtkWidget *row = adw_action_row_new ();
    GtkWidget *toggle = gtk_switch_new ();

    adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), _("Short-term model"));
    adw_action_row_set_subtitle (ADW_ACTION_ROW (row),
                                 _("Also score every model combined with a model of the song so far, "
                                   "as IDyOM does"));
    gtk_widget_set_valign (toggle, GTK_ALIGN_CENTER);
    adw_action_row_add_suffix (ADW_ACTION_ROW (row), toggle);
    adw_action_row_set_activatable_widget (ADW_ACTION_ROW (row), toggle);
    adw_preferences_group_add (sampling, row);
    self->stm_switch = GTK_SWITCH (toggle);
  }

  gtk_box_append (GTK_BOX (box), GTK_WIDGET (self->runs_group));
  gtk_box_append (GTK_BOX (box), GTK_WIDGET (sampling));
  gtk_widget_set_margin_top (box, 12);
  gtk_widget_set_margin_bottom (box, 12);
  gtk_widget_set_margin_start (box, 12);
  gtk_widget_set_margin_end (box, 12);
  gtk_scrolled_window_set_policy (GTK_SCROLLED_WINDOW (scrolled), GTK_POLICY_NEVER,
                                  GTK_POLICY_AUTOMATIC);
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (scrolled), box);
  gtk_widget_set_vexpand (scrolled, TRUE);

  gtk_box_set_homogeneous (GTK_BOX (buttons), TRUE);
  gtk_widget_set_margin_top (buttons, 12);
  gtk_widget_set_margin_bottom (buttons, 12);
  gtk_widget_set_margin_start (buttons, 12);
  gtk_widget_set_margin_end (buttons, 12);
  gtk_box_append (GTK_BOX (buttons), pill_button (_("C_ompare"), "compare.run",
                                                  _("Measure the ticked runs and the baseline"),
                                                  TRUE));
  gtk_box_append (GTK_BOX (buttons), pill_button (_("_Cancel"), "compare.cancel", NULL, FALSE));
  gtk_box_append (GTK_BOX (buttons), pill_button (_("_Export…"), "compare.export",
                                                  _("Save the comparison as an HTML report"),
                                                  FALSE));
  gtk_box_append (GTK_BOX (column), scrolled);
  gtk_box_append (GTK_BOX (column), buttons);
  gtk_widget_set_size_request (column, 300, -1);
  return column;
}

static GtkWidget *
build_results (MelCompareView *self)
{
  GtkWidget *empty = adw_status_page_new ();
  GtkWidget *working = adw_status_page_new ();
  GtkWidget *scrolled = gtk_scrolled_window_new ();
  GtkWidget *clamp = adw_clamp_new ();

  self->stack = GTK_STACK (gtk_stack_new ());
  adw_status_page_set_icon_name (ADW_STATUS_PAGE (empty), "view-list-symbolic");
  adw_status_page_set_title (ADW_STATUS_PAGE (empty), _("Compare Models Honestly"));
  adw_status_page_set_description (ADW_STATUS_PAGE (empty),
                                   _("Tick runs and press Compare: every model is scored on the "
                                     "same held-out songs, against an n-gram baseline."));
  gtk_stack_add_named (self->stack, empty, "empty");

  adw_status_page_set_title (ADW_STATUS_PAGE (working), _("Comparing…"));
  self->progress_bar = GTK_PROGRESS_BAR (gtk_progress_bar_new ());
  gtk_progress_bar_set_show_text (self->progress_bar, TRUE);
  gtk_widget_set_size_request (GTK_WIDGET (self->progress_bar), 320, -1);
  gtk_widget_set_halign (GTK_WIDGET (self->progress_bar), GTK_ALIGN_CENTER);
  adw_status_page_set_child (ADW_STATUS_PAGE (working), GTK_WIDGET (self->progress_bar));
  gtk_stack_add_named (self->stack, working, "working");

  self->results_box = GTK_BOX (gtk_box_new (GTK_ORIENTATION_VERTICAL, 6));
  gtk_widget_set_margin_top (GTK_WIDGET (self->results_box), 6);
  gtk_widget_set_margin_bottom (GTK_WIDGET (self->results_box), 18);
  gtk_widget_set_margin_start (GTK_WIDGET (self->results_box), 12);
  gtk_widget_set_margin_end (GTK_WIDGET (self->results_box), 12);
  adw_clamp_set_maximum_size (ADW_CLAMP (clamp), 1400);
  adw_clamp_set_child (ADW_CLAMP (clamp), GTK_WIDGET (self->results_box));
  gtk_scrolled_window_set_policy (GTK_SCROLLED_WINDOW (scrolled), GTK_POLICY_NEVER,
                                  GTK_POLICY_AUTOMATIC);
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (scrolled), clamp);
  gtk_stack_add_named (self->stack, scrolled, "results");
  gtk_stack_set_visible_child_name (self->stack, "empty");
  gtk_widget_set_size_request (GTK_WIDGET (self->stack), 420, -1);
  return GTK_WIDGET (self->stack);
}

static void
mel_compare_view_dispose (GObject *object)
{
  MelCompareView *self = MEL_COMPARE_VIEW (object);

  if (self->cancellable != NULL)
    g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  stop_progress (self);
  adw_bin_set_child (ADW_BIN (self), NULL);
  g_clear_pointer (&self->run_rows, g_ptr_array_unref);
  g_clear_object (&self->items);
  g_clear_pointer (&self->shared, shared_comparison_release);
  g_clear_pointer (&self->selected, g_hash_table_unref);
  g_clear_object (&self->store);
  g_clear_object (&self->runs);
  g_clear_object (&self->player);
  g_clear_object (&self->settings);
  G_OBJECT_CLASS (mel_compare_view_parent_class)->dispose (object);
}

static void
mel_compare_view_class_init (MelCompareViewClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = mel_compare_view_dispose;

  /* "exported" (GError *error): a report was written (error NULL) or not. */
  signals[SIGNAL_EXPORTED] = g_signal_new ("exported", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                           0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_ERROR);

  gtk_widget_class_install_action (widget_class, "compare.run", NULL, run_action);
  gtk_widget_class_install_action (widget_class, "compare.cancel", NULL, cancel_action);
  gtk_widget_class_install_action (widget_class, "compare.export", NULL, export_action);
  gtk_widget_class_install_action (widget_class, "compare.show-song", "s", show_song_action);
}

static void
mel_compare_view_init (MelCompareView *self)
{
  GtkWidget *paned = gtk_paned_new (GTK_ORIENTATION_HORIZONTAL);

  self->run_rows = g_ptr_array_new ();
  self->items = g_list_store_new (MEL_TYPE_COMPARE_ITEM);
  self->selected = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);

  gtk_paned_set_start_child (GTK_PANED (paned), build_settings (self));
  gtk_paned_set_end_child (GTK_PANED (paned), build_results (self));
  gtk_paned_set_position (GTK_PANED (paned), 360);
  gtk_paned_set_resize_start_child (GTK_PANED (paned), FALSE);
  gtk_paned_set_shrink_start_child (GTK_PANED (paned), FALSE);
  gtk_paned_set_shrink_end_child (GTK_PANED (paned), FALSE);
  adw_bin_set_child (ADW_BIN (self), paned);
  g_signal_connect (self, "map", G_CALLBACK (map_cb), NULL);
  update_state (self);
}
