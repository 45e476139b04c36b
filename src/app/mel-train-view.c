/* mel-train-view.c — the Train view.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include "mel-app-private.h"

#include <glib/gi18n.h>

#include "mel-application.h"
#include "mel-run-card.h"
#include "mel-train-view.h"
#include "mel-window.h"

struct _MelTrainView
{
  AdwBin parent_instance;

  AdwPreferencesGroup *size_group;
  AdwPreferencesGroup *train_group;
  AdwPreferencesGroup *data_group;
  AdwActionRow *gru_row;
  AdwActionRow *lstm_row;
  AdwActionRow *vae_row;
  GtkCheckButton *gru_check;
  GtkCheckButton *lstm_check;
  GtkCheckButton *vae_check;
  AdwComboRow *transpose_row;
  GtkSwitch *log_switch;
  GtkStack *plot_stack;
  MelLossPlot *plot;
  GtkListBox *runs_list;

  GtkSpinButton *embed_spin;
  GtkSpinButton *hidden_spin;
  GtkSpinButton *layers_spin;
  GtkSpinButton *dropout_spin;
  GtkSpinButton *epochs_spin;
  GtkSpinButton *batch_spin;
  GtkSpinButton *window_spin;
  GtkSpinButton *lr_spin;
  GtkSpinButton *max_steps_spin;
  GtkSpinButton *patience_spin;
  GtkSpinButton *seed_spin;
  GtkSpinButton *threads_spin;
  GtkSpinButton *min_shift_spin;
  GtkSpinButton *max_shift_spin;
  gboolean kind_available[MEL_N_MODEL_KINDS];

  MelCorpusStore *store;
  GListStore *runs;
  GSettings *settings;
  GHashTable *plotted; /* run id → TRUE: series present in the plot */
};

G_DEFINE_FINAL_TYPE (MelTrainView, mel_train_view, ADW_TYPE_BIN)

static GtkSpinButton *
add_spin_row (AdwPreferencesGroup *group, const char *title, const char *tooltip, double lower,
              double upper, double step, guint digits)
{
  GtkWidget *row = adw_action_row_new ();
  GtkWidget *spin = gtk_spin_button_new_with_range (lower, upper, step);

  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), title);
  gtk_widget_set_tooltip_text (row, tooltip);
  gtk_spin_button_set_digits (GTK_SPIN_BUTTON (spin), digits);
  gtk_spin_button_set_numeric (GTK_SPIN_BUTTON (spin), TRUE);
  gtk_widget_set_valign (spin, GTK_ALIGN_CENTER);
  gtk_widget_set_tooltip_text (spin, tooltip);
  adw_action_row_add_suffix (ADW_ACTION_ROW (row), spin);
  adw_action_row_set_activatable_widget (ADW_ACTION_ROW (row), spin);
  adw_preferences_group_add (group, row);
  return GTK_SPIN_BUTTON (spin);
}

static gboolean
probe_kind (MelModelKind kind)
{
  MelModelConfig config;
  g_autoptr(MelModel) model = NULL;
  g_autoptr(GError) error = NULL;

  /* A tiny model tells whether the library implements the kind. */
  mel_model_config_init (&config, kind, 8);
  config.embed_dim = 2;
  config.hidden_size = 4;
  config.n_layers = 1;
  config.n_heads = 1;
  config.latent_size = 2;
  config.segment_steps = 4;
  model = mel_model_new (&config, 1, &error);
  return model != NULL;
}

static MelModelKind
selected_kind (MelTrainView *self)
{
  if (gtk_check_button_get_active (self->lstm_check))
    return MEL_MODEL_LSTM_ATTN;
  if (gtk_check_button_get_active (self->vae_check))
    return MEL_MODEL_VAE;
  return MEL_MODEL_GRU;
}

void
mel_train_view_get_config (MelTrainView *self, MelRunConfig *config)
{
  MelModelKind kind;

  g_return_if_fail (MEL_IS_TRAIN_VIEW (self));
  g_return_if_fail (config != NULL);

  kind = selected_kind (self);
  mel_run_config_init (config, kind, gtk_spin_button_get_value_as_int (self->threads_spin));
  config->model.embed_dim = gtk_spin_button_get_value_as_int (self->embed_spin);
  config->model.hidden_size = gtk_spin_button_get_value_as_int (self->hidden_spin);
  config->model.n_layers = gtk_spin_button_get_value_as_int (self->layers_spin);
  config->model.dropout = gtk_spin_button_get_value (self->dropout_spin);
  config->train.epochs = gtk_spin_button_get_value_as_int (self->epochs_spin);
  config->train.batch_size = gtk_spin_button_get_value_as_int (self->batch_spin);
  config->train.window = gtk_spin_button_get_value_as_int (self->window_spin);
  config->train.stride = MAX (config->train.window / 2, 1);
  if (kind == MEL_MODEL_VAE)
    config->train.window = config->model.segment_steps;
  config->train.learning_rate = gtk_spin_button_get_value (self->lr_spin);
  config->train.max_steps = (guint64) gtk_spin_button_get_value (self->max_steps_spin);
  config->train.patience = gtk_spin_button_get_value_as_int (self->patience_spin);
  config->train.seed = (guint64) gtk_spin_button_get_value (self->seed_spin);
  /* Short runs would spend them all warming up. */
  if (config->train.max_steps > 0)
    config->train.warmup_steps = MIN (config->train.warmup_steps,
                                      (guint32) (config->train.max_steps / 10));
  switch (adw_combo_row_get_selected (self->transpose_row))
    {
    case 0:
      config->preprocess.transpose = MEL_TRANSPOSE_NONE;
      break;
    case 2:
      config->preprocess.transpose = MEL_TRANSPOSE_AUGMENT;
      break;
    case 1:
    default:
      config->preprocess.transpose = MEL_TRANSPOSE_NORMALISE;
      break;
    }
  config->preprocess.min_shift = gtk_spin_button_get_value_as_int (self->min_shift_spin);
  config->preprocess.max_shift = gtk_spin_button_get_value_as_int (self->max_shift_spin);
}

void
mel_train_view_set_config (MelTrainView *self, const MelRunConfig *config)
{
  g_return_if_fail (MEL_IS_TRAIN_VIEW (self));
  g_return_if_fail (config != NULL);

  switch (config->model.kind)
    {
    case MEL_MODEL_LSTM_ATTN:
      gtk_check_button_set_active (self->lstm_check, TRUE);
      break;
    case MEL_MODEL_VAE:
      gtk_check_button_set_active (self->vae_check, TRUE);
      break;
    case MEL_MODEL_GRU:
    case MEL_MODEL_NGRAM:
    case MEL_N_MODEL_KINDS:
    default:
      gtk_check_button_set_active (self->gru_check, TRUE);
      break;
    }
  gtk_spin_button_set_value (self->embed_spin, config->model.embed_dim);
  gtk_spin_button_set_value (self->hidden_spin, config->model.hidden_size);
  gtk_spin_button_set_value (self->layers_spin, config->model.n_layers);
  gtk_spin_button_set_value (self->dropout_spin, config->model.dropout);
  gtk_spin_button_set_value (self->epochs_spin, config->train.epochs);
  gtk_spin_button_set_value (self->batch_spin, config->train.batch_size);
  gtk_spin_button_set_value (self->window_spin, config->train.window);
  gtk_spin_button_set_value (self->lr_spin, config->train.learning_rate);
  gtk_spin_button_set_value (self->max_steps_spin, (double) config->train.max_steps);
  gtk_spin_button_set_value (self->patience_spin, config->train.patience);
  gtk_spin_button_set_value (self->seed_spin, (double) config->train.seed);
  gtk_spin_button_set_value (self->threads_spin, config->train.n_threads);
  adw_combo_row_set_selected (self->transpose_row,
                              config->preprocess.transpose == MEL_TRANSPOSE_NONE ? 0
                              : config->preprocess.transpose == MEL_TRANSPOSE_AUGMENT ? 2 : 1);
  gtk_spin_button_set_value (self->min_shift_spin, config->preprocess.min_shift);
  gtk_spin_button_set_value (self->max_shift_spin, config->preprocess.max_shift);
}

MelLossPlot *
mel_train_view_get_plot (MelTrainView *self)
{
  g_return_val_if_fail (MEL_IS_TRAIN_VIEW (self), NULL);
  return self->plot;
}

gboolean
mel_train_view_kind_available (MelTrainView *self, MelModelKind kind)
{
  g_return_val_if_fail (MEL_IS_TRAIN_VIEW (self), FALSE);
  return kind < MEL_N_MODEL_KINDS && self->kind_available[kind];
}

/* ---- the plot follows the runs ----------------------------------------- */

static void
plot_run_points (MelTrainView *self, MelRun *run)
{
  const char *id = mel_run_get_id (run);

  for (MelLossKind kind = MEL_LOSS_TRAIN; kind <= MEL_LOSS_VALID; kind++)
    {
      guint shown = mel_loss_plot_get_n_points (self->plot, id, kind);
      guint n = mel_run_get_n_points (run, kind);

      /* The run thins out old points now and then: draw it afresh. */
      if (n < shown)
        {
          mel_loss_plot_clear_series (self->plot, id);
          plot_run_points (self, run);
          return;
        }
      for (guint i = shown; i < n; i++)
        {
          double step, loss;
          mel_run_get_point (run, kind, i, &step, &loss);
          mel_loss_plot_add_point (self->plot, id, kind, step, loss);
        }
    }
}

static void
run_progress_cb (MelTrainView *self, MelRun *run)
{
  plot_run_points (self, run);
}

static void
update_plot_stack (MelTrainView *self)
{
  gboolean any = self->runs != NULL && g_list_model_get_n_items (G_LIST_MODEL (self->runs)) > 0;
  gtk_stack_set_visible_child_name (self->plot_stack, any ? "plot" : "empty");
}

static void
ensure_series (MelTrainView *self, MelRun *run)
{
  const char *id = mel_run_get_id (run);

  if (g_hash_table_contains (self->plotted, id))
    return;
  g_hash_table_add (self->plotted, g_strdup (id));
  mel_loss_plot_add_series (self->plot, id, mel_run_get_label (run));
  plot_run_points (self, run);
  g_signal_connect_object (run, "progress", G_CALLBACK (run_progress_cb), self, G_CONNECT_SWAPPED);
}

static void
runs_changed_cb (MelTrainView *self, guint position, guint removed, guint added, GListModel *runs)
{
  g_autoptr(GHashTable) present = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr(GPtrArray) gone = g_ptr_array_new_with_free_func (g_free);
  GHashTableIter iter;
  gpointer id;

  for (guint i = 0; i < g_list_model_get_n_items (runs); i++)
    {
      g_autoptr(MelRun) run = g_list_model_get_item (runs, i);
      g_hash_table_add (present, (gpointer) mel_run_get_id (run));
    }
  g_hash_table_iter_init (&iter, self->plotted);
  while (g_hash_table_iter_next (&iter, &id, NULL))
    if (!g_hash_table_contains (present, id))
      g_ptr_array_add (gone, g_strdup (id));
  for (guint i = 0; i < gone->len; i++)
    {
      mel_loss_plot_remove_series (self->plot, g_ptr_array_index (gone, i));
      g_hash_table_remove (self->plotted, g_ptr_array_index (gone, i));
    }
  update_plot_stack (self);
}

/* ---- run cards ------------------------------------------------------------- */

static MelWindow *
get_window (MelTrainView *self)
{
  GtkWidget *window = gtk_widget_get_ancestor (GTK_WIDGET (self), MEL_TYPE_WINDOW);
  return window != NULL ? MEL_WINDOW (window) : NULL;
}

static void
toast (MelTrainView *self, const char *text)
{
  MelWindow *window = get_window (self);
  if (window != NULL)
    mel_window_add_toast (window, text);
}

static gboolean
start_run (MelTrainView *self, MelRun *run)
{
  g_autoptr(GPtrArray) songs = NULL;
  g_autoptr(GError) error = NULL;
  MelCorpus *corpus = mel_corpus_store_get_corpus (self->store);

  if (corpus == NULL || mel_corpus_store_get_loading (self->store))
    {
      toast (self, _("Wait until the songs are loaded"));
      return FALSE;
    }
  if (g_strcmp0 (mel_run_get_corpus_root (run), corpus->root) != 0)
    {
      g_autofree char *text = g_strdup_printf (_("This run was trained on %s: open that corpus "
                                                 "to resume it"),
                                               mel_run_get_corpus_root (run));
      toast (self, text);
      return FALSE;
    }
  songs = mel_corpus_store_dup_unique_songs (self->store);
  if (!mel_run_start (run, songs, &error))
    {
      MelWindow *window = get_window (self);
      if (window != NULL)
        mel_window_show_error (window, _("Could not start training"), error);
      return FALSE;
    }
  return TRUE;
}

static void
card_resume_cb (MelTrainView *self, MelRunCard *card)
{
  start_run (self, mel_run_card_get_run (card));
}

static void
card_generate_cb (MelTrainView *self, MelRunCard *card)
{
  MelWindow *window = get_window (self);

  if (window == NULL)
    return;
  mel_window_show_view (window, "generate");
  gtk_widget_activate_action (GTK_WIDGET (window), "win.select-run", "s",
                              mel_run_get_id (mel_run_card_get_run (card)));
}

static void
delete_response_cb (AdwMessageDialog *dialog, const char *response, gpointer user_data)
{
  MelTrainView *self = g_object_get_data (G_OBJECT (dialog), "view");
  MelRun *run = user_data;
  g_autoptr(GError) error = NULL;
  guint position;

  if (g_strcmp0 (response, "delete") != 0)
    return;
  if (!mel_run_delete (run, &error))
    {
      MelWindow *window = get_window (self);
      if (window != NULL)
        mel_window_show_error (window, _("Could not delete the run"), error);
    }
  if (g_list_store_find (self->runs, run, &position))
    g_list_store_remove (self->runs, position);
}

static void
card_delete_cb (MelTrainView *self, MelRunCard *card)
{
  MelRun *run = mel_run_card_get_run (card);
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));
  GtkWidget *dialog;

  dialog = adw_message_dialog_new (GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL,
                                   _("Delete This Run?"), NULL);
  adw_message_dialog_format_body (ADW_MESSAGE_DIALOG (dialog),
                                  _("“%s” and its checkpoints will be deleted."),
                                  mel_run_get_label (run));
  adw_message_dialog_add_responses (ADW_MESSAGE_DIALOG (dialog), "cancel", _("_Cancel"), "delete",
                                    _("_Delete"), NULL);
  adw_message_dialog_set_response_appearance (ADW_MESSAGE_DIALOG (dialog), "delete",
                                              ADW_RESPONSE_DESTRUCTIVE);
  adw_message_dialog_set_default_response (ADW_MESSAGE_DIALOG (dialog), "cancel");
  g_object_set_data_full (G_OBJECT (dialog), "view", g_object_ref (self), g_object_unref);
  g_signal_connect_data (dialog, "response", G_CALLBACK (delete_response_cb), g_object_ref (run),
                         (GClosureNotify) (void (*) (void)) g_object_unref, 0);
  gtk_window_present (GTK_WINDOW (dialog));
}

static GtkWidget *
create_card (gpointer item, gpointer user_data)
{
  MelTrainView *self = user_data;
  MelRun *run = MEL_RUN (item);
  GtkWidget *card;
  GdkRGBA color;

  ensure_series (self, run);
  mel_loss_plot_get_series_color (self->plot, mel_run_get_id (run), &color);
  card = mel_run_card_new (run, &color);
  g_signal_connect_object (card, "resume", G_CALLBACK (card_resume_cb), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (card, "generate", G_CALLBACK (card_generate_cb), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (card, "delete", G_CALLBACK (card_delete_cb), self, G_CONNECT_SWAPPED);
  return card;
}

/* ---- actions --------------------------------------------------------------- */

static void
start_action (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  MelTrainView *self = MEL_TRAIN_VIEW (widget);
  g_autofree char *runs_dir = mel_application_dup_runs_dir ();
  g_autoptr(MelRun) run = NULL;
  g_autoptr(GError) error = NULL;
  MelRunConfig config;
  MelCorpus *corpus;

  if (self->store == NULL)
    return;
  corpus = mel_corpus_store_get_corpus (self->store);
  if (corpus == NULL || mel_corpus_store_get_loading (self->store))
    {
      toast (self, _("Wait until the songs are loaded"));
      return;
    }
  mel_train_view_get_config (self, &config);
  if (!mel_train_view_kind_available (self, config.model.kind))
    return;
  run = mel_run_new (runs_dir, &config, corpus->root, &error);
  if (run == NULL)
    {
      MelWindow *window = get_window (self);
      if (window != NULL)
        mel_window_show_error (window, _("Could not create the run"), error);
      return;
    }
  g_list_store_insert (self->runs, 0, run);
  start_run (self, run);
}

static void
transpose_changed_cb (MelTrainView *self, GParamSpec *pspec, AdwComboRow *row)
{
  gboolean augment = adw_combo_row_get_selected (row) == 2;

  gtk_widget_set_sensitive (GTK_WIDGET (self->min_shift_spin), augment);
  gtk_widget_set_sensitive (GTK_WIDGET (self->max_shift_spin), augment);
}

static void
kind_toggled_cb (MelTrainView *self, GtkCheckButton *button)
{
  MelModelConfig defaults;

  if (!gtk_check_button_get_active (button))
    return;
  /* Each kind has its own sensible size. */
  mel_model_config_init (&defaults, selected_kind (self), 0);
  gtk_spin_button_set_value (self->embed_spin, defaults.embed_dim);
  gtk_spin_button_set_value (self->hidden_spin, defaults.hidden_size);
  gtk_spin_button_set_value (self->layers_spin, defaults.n_layers);
}

void
mel_train_view_bind (MelTrainView *self, MelCorpusStore *store, GListStore *runs,
                     GSettings *settings)
{
  g_return_if_fail (MEL_IS_TRAIN_VIEW (self));
  g_return_if_fail (MEL_IS_CORPUS_STORE (store));
  g_return_if_fail (G_IS_LIST_STORE (runs));
  g_return_if_fail (self->store == NULL);

  self->store = g_object_ref (store);
  self->runs = g_object_ref (runs);
  self->settings = settings != NULL ? g_object_ref (settings) : NULL;
  if (self->settings != NULL)
    {
      int threads = g_settings_get_int (self->settings, "training-threads");
      if (threads > 0)
        gtk_spin_button_set_value (self->threads_spin, threads);
    }
  gtk_list_box_bind_model (self->runs_list, G_LIST_MODEL (runs), create_card, self, NULL);
  g_signal_connect_object (runs, "items-changed", G_CALLBACK (runs_changed_cb), self,
                           G_CONNECT_SWAPPED);
  update_plot_stack (self);
}

static void
mel_train_view_dispose (GObject *object)
{
  MelTrainView *self = MEL_TRAIN_VIEW (object);

  if (self->runs_list != NULL)
    gtk_list_box_bind_model (self->runs_list, NULL, NULL, NULL, NULL);
  gtk_widget_dispose_template (GTK_WIDGET (self), MEL_TYPE_TRAIN_VIEW);
  g_clear_object (&self->store);
  g_clear_object (&self->runs);
  g_clear_object (&self->settings);
  g_clear_pointer (&self->plotted, g_hash_table_unref);
  G_OBJECT_CLASS (mel_train_view_parent_class)->dispose (object);
}

static void
mel_train_view_class_init (MelTrainViewClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = mel_train_view_dispose;

  g_type_ensure (MEL_TYPE_LOSS_PLOT);
  _mel_app_ensure_resources ();
  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/melodist/Melodist/ui/mel-train-view.ui");
  gtk_widget_class_bind_template_child (widget_class, MelTrainView, size_group);
  gtk_widget_class_bind_template_child (widget_class, MelTrainView, train_group);
  gtk_widget_class_bind_template_child (widget_class, MelTrainView, data_group);
  gtk_widget_class_bind_template_child (widget_class, MelTrainView, gru_row);
  gtk_widget_class_bind_template_child (widget_class, MelTrainView, lstm_row);
  gtk_widget_class_bind_template_child (widget_class, MelTrainView, vae_row);
  gtk_widget_class_bind_template_child (widget_class, MelTrainView, gru_check);
  gtk_widget_class_bind_template_child (widget_class, MelTrainView, lstm_check);
  gtk_widget_class_bind_template_child (widget_class, MelTrainView, vae_check);
  gtk_widget_class_bind_template_child (widget_class, MelTrainView, transpose_row);
  gtk_widget_class_bind_template_child (widget_class, MelTrainView, log_switch);
  gtk_widget_class_bind_template_child (widget_class, MelTrainView, plot_stack);
  gtk_widget_class_bind_template_child (widget_class, MelTrainView, plot);
  gtk_widget_class_bind_template_child (widget_class, MelTrainView, runs_list);

  gtk_widget_class_install_action (widget_class, "train.start", NULL, start_action);
}

static void
mel_train_view_init (MelTrainView *self)
{
  MelRunConfig defaults;
  AdwActionRow *kind_rows[MEL_N_MODEL_KINDS] = { NULL };
  guint cores = g_get_num_processors ();

  gtk_widget_init_template (GTK_WIDGET (self));
  self->plotted = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);

  kind_rows[MEL_MODEL_GRU] = self->gru_row;
  kind_rows[MEL_MODEL_LSTM_ATTN] = self->lstm_row;
  kind_rows[MEL_MODEL_VAE] = self->vae_row;
  for (MelModelKind kind = MEL_MODEL_GRU; kind <= MEL_MODEL_VAE; kind++)
    {
      self->kind_available[kind] = probe_kind (kind);
      gtk_widget_set_sensitive (GTK_WIDGET (kind_rows[kind]), self->kind_available[kind]);
      if (!self->kind_available[kind])
        gtk_widget_set_tooltip_text (GTK_WIDGET (kind_rows[kind]),
                                     _("This model is not available in this version of Melodist yet"));
    }

  self->embed_spin = add_spin_row (self->size_group, _("Embedding size"),
                                   _("Length of the vector each symbol is turned into"), 4, 512, 8, 0);
  self->hidden_spin = add_spin_row (self->size_group, _("Hidden size"),
                                    _("Units per recurrent layer: more learns more, but slower"),
                                    8, 1024, 16, 0);
  self->layers_spin = add_spin_row (self->size_group, _("Layers"),
                                    _("Stacked recurrent layers"), 1, 4, 1, 0);
  self->dropout_spin = add_spin_row (self->size_group, _("Dropout"),
                                     _("Fraction of activations dropped while training, against "
                                       "overfitting"), 0, 0.9, 0.05, 2);
  self->epochs_spin = add_spin_row (self->train_group, _("Epochs"),
                                    _("Passes over the training songs"), 1, 1000, 1, 0);
  self->batch_spin = add_spin_row (self->train_group, _("Batch size"),
                                   _("Windows per optimizer step"), 1, 1024, 8, 0);
  self->window_spin = add_spin_row (self->train_group, _("Window"),
                                    _("Sixteenth-note steps the model sees at once (64 = four "
                                      "bars of 4/4)"), 8, 1024, 8, 0);
  self->lr_spin = add_spin_row (self->train_group, _("Learning rate"),
                                _("Peak step size of Adam (after warm-up, with cosine decay)"),
                                0.00001, 0.1, 0.0005, 5);
  self->max_steps_spin = add_spin_row (self->train_group, _("Step limit"),
                                       _("Stop after this many optimizer steps (0: no limit)"),
                                       0, 10000000, 100, 0);
  self->patience_spin = add_spin_row (self->train_group, _("Patience"),
                                      _("Stop after this many epochs without a better validation "
                                        "loss (0: never)"), 0, 100, 1, 0);
  self->seed_spin = add_spin_row (self->train_group, _("Seed"),
                                  _("Same seed, same data and settings: the same model"),
                                  0, G_MAXINT32, 1, 0);
  self->threads_spin = add_spin_row (self->train_group, _("Threads"),
                                     _("Cores used for training; one is left for the interface "
                                       "by default"), 1, MAX (cores, 1), 1, 0);
  self->min_shift_spin = add_spin_row (self->data_group, _("Lowest shift"),
                                       _("Augmenting: lowest transposition in semitones"),
                                       -12, 12, 1, 0);
  self->max_shift_spin = add_spin_row (self->data_group, _("Highest shift"),
                                       _("Augmenting: highest transposition in semitones"),
                                       -12, 12, 1, 0);

  mel_run_config_init (&defaults, MEL_MODEL_GRU, mel_application_default_threads ());
  mel_train_view_set_config (self, &defaults);
  transpose_changed_cb (self, NULL, self->transpose_row);

  g_object_bind_property (self->log_switch, "active", self->plot, "log-scale",
                          G_BINDING_SYNC_CREATE);
  g_signal_connect_object (self->transpose_row, "notify::selected",
                           G_CALLBACK (transpose_changed_cb), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->gru_check, "toggled", G_CALLBACK (kind_toggled_cb), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (self->lstm_check, "toggled", G_CALLBACK (kind_toggled_cb), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (self->vae_check, "toggled", G_CALLBACK (kind_toggled_cb), self,
                           G_CONNECT_SWAPPED);
}
