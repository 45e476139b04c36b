/* mel-corpus-view.c — the Corpus view.
 *
 * The list is a chain of models: the store's songs → GtkFilterListModel
 * (search text, sub-collection, mode, meter) → GtkSortListModel (the
 * column view's sorter) → GtkSingleSelection.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <glib/gi18n.h>

#include "mel-app-private.h"
#include "mel-corpus-stats.h"
#include "mel-corpus-view.h"

struct _MelCorpusView
{
  AdwBin parent_instance;

  GtkSearchEntry *search_entry;
  GtkDropDown *collection_dropdown;
  GtkDropDown *mode_dropdown;
  GtkDropDown *meter_dropdown;
  GtkProgressBar *progress_bar;
  GtkStack *list_stack;
  GtkColumnView *column_view;
  GtkLabel *count_label;
  GtkStack *detail_stack;
  GtkStack *song_stack;
  GtkLabel *title_label;
  GtkLabel *meta_label;
  GtkSpinButton *tempo_spin;
  GtkButton *play_button;
  GtkScrolledWindow *score_scroller;
  MelCorpusStats *stats;
  GtkWidget *score;
  GtkColumnViewColumn *region_column; /* owned: they come and go with the width */
  GtkColumnViewColumn *notes_column;

  MelCorpusStore *store;
  MelPlayer *player;
  GSettings *settings;
  GtkCustomFilter *filter;
  GtkFilterListModel *filter_model;
  GtkSingleSelection *selection;
  GtkStringList *collections; /* "All collections", then the names */
  GtkStringList *meters;      /* "All meters", then the meters */
  char *needle;               /* case-folded search text */
};

G_DEFINE_FINAL_TYPE (MelCorpusView, mel_corpus_view, ADW_TYPE_BIN)

static const char *
selected_string (GtkDropDown *dropdown)
{
  GObject *item = gtk_drop_down_get_selected_item (dropdown);

  /* Position 0 is always "all". */
  if (item == NULL || gtk_drop_down_get_selected (dropdown) == 0)
    return NULL;
  return gtk_string_object_get_string (GTK_STRING_OBJECT (item));
}

static gboolean
filter_song (gpointer item, gpointer user_data)
{
  MelCorpusView *self = user_data;
  MelSongItem *song = MEL_SONG_ITEM (item);
  const char *collection = selected_string (self->collection_dropdown);
  const char *meter = selected_string (self->meter_dropdown);
  guint mode = gtk_drop_down_get_selected (self->mode_dropdown);

  if (!mel_song_item_matches (song, self->needle))
    return FALSE;
  if (collection != NULL && g_strcmp0 (collection, mel_song_item_get_collection (song)) != 0)
    return FALSE;
  if (meter != NULL && g_strcmp0 (meter, mel_song_item_get_meter (song)) != 0)
    return FALSE;
  if (mode == 1 && g_strcmp0 (mel_song_item_get_mode (song), "major") != 0)
    return FALSE;
  if (mode == 2 && g_strcmp0 (mel_song_item_get_mode (song), "minor") != 0)
    return FALSE;
  return TRUE;
}

static void
update_count (MelCorpusView *self)
{
  guint shown, total;
  g_autofree char *text = NULL;

  if (self->filter_model == NULL)
    return;
  shown = g_list_model_get_n_items (G_LIST_MODEL (self->filter_model));
  total = g_list_model_get_n_items (mel_corpus_store_get_songs (self->store));

  if (mel_corpus_store_is_embedded (self->store))
    text = shown == total
           ? g_strdup_printf (ngettext ("%u built-in song", "%u built-in songs", total), total)
           : g_strdup_printf (ngettext ("%u of %u built-in song", "%u of %u built-in songs", total),
                              shown, total);
  else if (shown == total)
    text = g_strdup_printf (ngettext ("%u song in %s", "%u songs in %s", total), total,
                            mel_corpus_store_get_name (self->store));
  else
    text = g_strdup_printf (ngettext ("%u of %u song in %s", "%u of %u songs in %s", total),
                            shown, total, mel_corpus_store_get_name (self->store));
  gtk_label_set_label (self->count_label, text);

  if (self->store != NULL && mel_corpus_store_get_loading (self->store))
    gtk_stack_set_visible_child_name (self->list_stack, "loading");
  else
    gtk_stack_set_visible_child_name (self->list_stack, shown > 0 ? "list" : "empty");
}

static void
refilter (MelCorpusView *self)
{
  if (self->filter == NULL)
    return;
  gtk_filter_changed (GTK_FILTER (self->filter), GTK_FILTER_CHANGE_DIFFERENT);
  update_count (self);
}

static void
search_changed_cb (MelCorpusView *self, GtkSearchEntry *entry)
{
  g_free (self->needle);
  self->needle = g_utf8_casefold (gtk_editable_get_text (GTK_EDITABLE (entry)), -1);
  refilter (self);
}

static void
dropdown_changed_cb (MelCorpusView *self, GParamSpec *pspec, GtkDropDown *dropdown)
{
  refilter (self);
}

/* ---- columns ------------------------------------------------------------ */

static void
setup_label_cb (GtkSignalListItemFactory *factory, GtkListItem *list_item, gpointer user_data)
{
  GtkWidget *label = gtk_label_new (NULL);

  gtk_label_set_xalign (GTK_LABEL (label), GPOINTER_TO_INT (user_data) ? 1.0 : 0.0);
  gtk_label_set_ellipsize (GTK_LABEL (label), PANGO_ELLIPSIZE_END);
  if (GPOINTER_TO_INT (user_data))
    gtk_widget_add_css_class (label, "numeric");
  gtk_list_item_set_child (list_item, label);
}

static void
bind_label_cb (GtkSignalListItemFactory *factory, GtkListItem *list_item, gpointer user_data)
{
  const char *property = g_object_get_data (G_OBJECT (factory), "property");
  GObject *item = gtk_list_item_get_item (list_item);
  GtkLabel *label = GTK_LABEL (gtk_list_item_get_child (list_item));
  GValue value = G_VALUE_INIT;

  g_value_init (&value, G_TYPE_STRING);
  g_object_get_property (item, property, &value); /* uint properties transform to string */
  gtk_label_set_label (label, g_value_get_string (&value));
  g_value_unset (&value);
}

static GtkColumnViewColumn *
add_column (MelCorpusView *self, const char *title, const char *property, gboolean numeric,
            int fixed_width)
{
  GtkListItemFactory *factory = gtk_signal_list_item_factory_new ();
  GtkColumnViewColumn *column;
  GtkExpression *expression;
  GtkSorter *sorter;

  g_object_set_data_full (G_OBJECT (factory), "property", g_strdup (property), g_free);
  g_signal_connect (factory, "setup", G_CALLBACK (setup_label_cb), GINT_TO_POINTER (numeric));
  g_signal_connect (factory, "bind", G_CALLBACK (bind_label_cb), NULL);

  expression = gtk_property_expression_new (MEL_TYPE_SONG_ITEM, NULL, property);
  if (numeric)
    sorter = GTK_SORTER (gtk_numeric_sorter_new (expression));
  else
    sorter = GTK_SORTER (gtk_string_sorter_new (expression));

  column = gtk_column_view_column_new (title, factory);
  gtk_column_view_column_set_sorter (column, sorter);
  /* The title takes what the fixed-width columns leave. */
  gtk_column_view_column_set_expand (column, fixed_width < 0);
  if (fixed_width > 0)
    gtk_column_view_column_set_fixed_width (column, fixed_width);
  gtk_column_view_column_set_resizable (column, TRUE);
  gtk_column_view_append_column (self->column_view, column);
  g_object_unref (sorter);
  g_object_unref (column);
  return column;
}

/* A poor man's breakpoint (libadwaita 1.2 has none): narrow windows drop
 * the columns that matter least, so titles stay readable. */
static void
window_width_changed_cb (MelCorpusView *self, GParamSpec *pspec, GtkWindow *window)
{
  int width = 0, height = 0;
  gboolean wide;

  /* GTK 4.8 does not accept NULL for either size. */
  gtk_window_get_default_size (window, &width, &height);
  wide = width <= 0 || width >= 1000;
  gboolean shown = gtk_column_view_column_get_column_view (self->region_column) != NULL;

  if (wide == shown)
    return;
  /* Hidden columns still take part in GTK 4.8's width sharing, so the
   * title would not grow: take them out instead. */
  if (wide)
    {
      gtk_column_view_insert_column (self->column_view, 2, self->region_column);
      gtk_column_view_append_column (self->column_view, self->notes_column);
    }
  else
    {
      gtk_column_view_remove_column (self->column_view, self->region_column);
      gtk_column_view_remove_column (self->column_view, self->notes_column);
    }
}

static void
realize_cb (MelCorpusView *self)
{
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));

  if (!GTK_IS_WINDOW (root))
    return;
  g_signal_connect_object (root, "notify::default-width", G_CALLBACK (window_width_changed_cb),
                           self, G_CONNECT_SWAPPED);
  window_width_changed_cb (self, NULL, GTK_WINDOW (root));
}

/* ---- the selected song --------------------------------------------------- */

static MelSong *
selected_song (MelCorpusView *self)
{
  MelSongItem *item = mel_corpus_view_get_selected (self);
  return item != NULL ? mel_song_item_get_song (item) : NULL;
}

static void
update_play_button (MelCorpusView *self)
{
  MelSong *song = selected_song (self);
  gboolean playing = song != NULL && self->player != NULL
                     && mel_player_get_song (self->player) == song
                     && mel_player_get_state (self->player) != MEL_PLAYER_IDLE;

  gtk_button_set_icon_name (self->play_button, playing ? "media-playback-stop-symbolic"
                                                       : "media-playback-start-symbolic");
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->play_button),
                               playing ? _("Stop (Ctrl+Space)") : _("Play (Ctrl+Space)"));
}

static void
show_song (MelCorpusView *self, MelSongItem *item)
{
  MelSong *song;
  g_autofree char *meta = NULL;

  if (item == NULL)
    {
      gtk_stack_set_visible_child_name (self->song_stack, "none");
      _mel_score_widget_set_song (self->score, NULL);
      return;
    }
  song = mel_song_item_get_song (item);
  gtk_label_set_label (self->title_label, mel_song_item_get_title (item));
  /* Translators: id · region · key · meter · bars · notes of a song */
  meta = g_strdup_printf (_("%s · %s · %s · %s · %u bars · %u notes"),
                          mel_song_item_get_id (item),
                          mel_song_item_get_region (item)[0] != '\0'
                          ? mel_song_item_get_region (item) : _("unknown region"),
                          mel_song_item_get_key (item), mel_song_item_get_meter (item),
                          mel_song_item_get_n_bars (item), mel_song_item_get_n_notes (item));
  gtk_label_set_label (self->meta_label, meta);
  if (self->settings == NULL)
    gtk_spin_button_set_value (self->tempo_spin, _mel_default_tempo (song));
  _mel_score_widget_set_song (self->score, song);
  gtk_stack_set_visible_child_name (self->song_stack, "song");
  update_play_button (self);
}

static void
selection_changed_cb (MelCorpusView *self, GParamSpec *pspec, GtkSingleSelection *selection)
{
  show_song (self, mel_corpus_view_get_selected (self));
}

static void
play_action (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  MelCorpusView *self = MEL_CORPUS_VIEW (widget);
  MelSong *song = selected_song (self);

  if (song == NULL || self->player == NULL)
    return;
  if (mel_player_get_song (self->player) == song
      && mel_player_get_state (self->player) != MEL_PLAYER_IDLE)
    mel_player_stop (self->player);
  else
    mel_player_play (self->player, song, gtk_spin_button_get_value (self->tempo_spin));
}

static void
cancel_load_action (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  MelCorpusView *self = MEL_CORPUS_VIEW (widget);

  if (self->store != NULL)
    mel_corpus_store_cancel (self->store);
  update_count (self);
}

static void
player_changed_cb (MelCorpusView *self, GParamSpec *pspec, MelPlayer *player)
{
  MelSong *song = selected_song (self);

  update_play_button (self);
  if (song != NULL && mel_player_get_song (player) == song)
    _mel_score_widget_set_cursor (self->score, mel_player_get_position (player));
  else
    _mel_score_widget_set_cursor (self->score, -1.0);
}

/* ---- the corpus ------------------------------------------------------------ */

static int
compare_strings (gconstpointer a, gconstpointer b)
{
  return g_strcmp0 (*(const char *const *) a, *(const char *const *) b);
}

/* Refills a filter drop-down with "all" plus the distinct values of the songs. */
static void
fill_choices (GtkStringList *list, GtkDropDown *dropdown, GListModel *songs,
              const char *(*get) (MelSongItem *))
{
  g_autoptr(GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);
  g_autofree gpointer *values = NULL;
  guint n_values;
  guint n = g_list_model_get_n_items (songs);

  for (guint i = 0; i < n; i++)
    {
      g_autoptr(MelSongItem) item = g_list_model_get_item (songs, i);
      const char *value = get (item);
      if (value != NULL && value[0] != '\0')
        g_hash_table_add (seen, (gpointer) value);
    }
  values = g_hash_table_get_keys_as_array (seen, &n_values);
  qsort (values, n_values, sizeof (gpointer), compare_strings);

  gtk_drop_down_set_selected (dropdown, 0);
  gtk_string_list_splice (list, 1, g_list_model_get_n_items (G_LIST_MODEL (list)) - 1,
                          (const char *const *) values); /* copies the strings */
}

static void
corpus_loaded_cb (MelCorpusView *self, const GError *error, MelCorpusStore *store)
{
  GListModel *songs = mel_corpus_store_get_songs (store);

  gtk_widget_set_visible (GTK_WIDGET (self->progress_bar), FALSE);
  if (error == NULL)
    {
      fill_choices (self->collections, self->collection_dropdown, songs,
                    mel_song_item_get_collection);
      fill_choices (self->meters, self->meter_dropdown, songs,
                    mel_song_item_get_meter);
      mel_corpus_stats_set_corpus (self->stats, mel_corpus_store_get_corpus (store));
    }
  refilter (self);
  /* Show a score straight away rather than an empty page. */
  if (error == NULL && mel_corpus_view_get_selected (self) == NULL
      && g_list_model_get_n_items (G_LIST_MODEL (self->selection)) > 0)
    gtk_single_selection_set_selected (self->selection, 0);
}

static void
loading_changed_cb (MelCorpusView *self, GParamSpec *pspec, MelCorpusStore *store)
{
  gboolean loading = mel_corpus_store_get_loading (store);

  gtk_widget_set_visible (GTK_WIDGET (self->progress_bar), loading);
  gtk_progress_bar_set_fraction (self->progress_bar, mel_corpus_store_get_fraction (store));
  update_count (self);
}

static void
fraction_changed_cb (MelCorpusView *self, GParamSpec *pspec, MelCorpusStore *store)
{
  gtk_progress_bar_set_fraction (self->progress_bar, mel_corpus_store_get_fraction (store));
}

void
mel_corpus_view_bind (MelCorpusView *self, MelCorpusStore *store, MelPlayer *player,
                      GSettings *settings)
{
  GtkSortListModel *sort_model;

  g_return_if_fail (MEL_IS_CORPUS_VIEW (self));
  g_return_if_fail (MEL_IS_CORPUS_STORE (store));
  g_return_if_fail (MEL_IS_PLAYER (player));
  g_return_if_fail (self->store == NULL);

  self->store = g_object_ref (store);
  self->player = g_object_ref (player);
  self->settings = settings != NULL ? g_object_ref (settings) : NULL;
  if (self->settings != NULL)
    {
      gtk_spin_button_set_value (self->tempo_spin,
                                 g_settings_get_int (self->settings, "default-tempo"));
    }

  self->filter = gtk_custom_filter_new (filter_song, self, NULL);
  self->filter_model = gtk_filter_list_model_new (g_object_ref (mel_corpus_store_get_songs (store)),
                                                  g_object_ref (GTK_FILTER (self->filter)));
  sort_model = gtk_sort_list_model_new (g_object_ref (G_LIST_MODEL (self->filter_model)),
                                        g_object_ref (gtk_column_view_get_sorter (self->column_view)));
  self->selection = gtk_single_selection_new (G_LIST_MODEL (sort_model));
  gtk_single_selection_set_autoselect (self->selection, FALSE);
  gtk_single_selection_set_can_unselect (self->selection, TRUE);
  gtk_single_selection_set_selected (self->selection, GTK_INVALID_LIST_POSITION);
  gtk_column_view_set_model (self->column_view, GTK_SELECTION_MODEL (self->selection));
  g_signal_connect_object (self->selection, "notify::selected-item",
                           G_CALLBACK (selection_changed_cb), self, G_CONNECT_SWAPPED);

  g_signal_connect_object (store, "loaded", G_CALLBACK (corpus_loaded_cb), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (store, "notify::loading", G_CALLBACK (loading_changed_cb), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (store, "notify::fraction", G_CALLBACK (fraction_changed_cb), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (player, "notify::state", G_CALLBACK (player_changed_cb), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (player, "notify::position", G_CALLBACK (player_changed_cb), self,
                           G_CONNECT_SWAPPED);
  update_count (self);
}

void
mel_corpus_view_focus_search (MelCorpusView *self)
{
  g_return_if_fail (MEL_IS_CORPUS_VIEW (self));
  gtk_widget_grab_focus (GTK_WIDGET (self->search_entry));
}

void
mel_corpus_view_show_statistics (MelCorpusView *self)
{
  g_return_if_fail (MEL_IS_CORPUS_VIEW (self));
  gtk_stack_set_visible_child_name (self->detail_stack, "statistics");
}

GListModel *
mel_corpus_view_get_visible_songs (MelCorpusView *self)
{
  g_return_val_if_fail (MEL_IS_CORPUS_VIEW (self), NULL);
  return self->selection != NULL ? G_LIST_MODEL (self->selection) : NULL;
}

MelSongItem *
mel_corpus_view_get_selected (MelCorpusView *self)
{
  g_return_val_if_fail (MEL_IS_CORPUS_VIEW (self), NULL);
  if (self->selection == NULL)
    return NULL;
  return gtk_single_selection_get_selected_item (self->selection);
}

void
mel_corpus_view_select (MelCorpusView *self, guint position)
{
  g_return_if_fail (MEL_IS_CORPUS_VIEW (self));
  g_return_if_fail (self->selection != NULL);
  gtk_single_selection_set_selected (self->selection, position);
}

void
mel_corpus_view_set_search_text (MelCorpusView *self, const char *text)
{
  g_return_if_fail (MEL_IS_CORPUS_VIEW (self));
  gtk_editable_set_text (GTK_EDITABLE (self->search_entry), text != NULL ? text : "");
  /* The entry reports changes after a delay; apply at once. */
  search_changed_cb (self, self->search_entry);
}

static void
mel_corpus_view_dispose (GObject *object)
{
  MelCorpusView *self = MEL_CORPUS_VIEW (object);

  if (self->column_view != NULL)
    gtk_column_view_set_model (self->column_view, NULL);
  gtk_widget_dispose_template (GTK_WIDGET (self), MEL_TYPE_CORPUS_VIEW);
  g_clear_object (&self->region_column);
  g_clear_object (&self->notes_column);
  g_clear_object (&self->selection);
  g_clear_object (&self->filter_model);
  g_clear_object (&self->filter);
  g_clear_object (&self->collections);
  g_clear_object (&self->meters);
  g_clear_object (&self->store);
  g_clear_object (&self->player);
  g_clear_object (&self->settings);
  G_OBJECT_CLASS (mel_corpus_view_parent_class)->dispose (object);
}

static void
mel_corpus_view_finalize (GObject *object)
{
  MelCorpusView *self = MEL_CORPUS_VIEW (object);

  g_free (self->needle);
  G_OBJECT_CLASS (mel_corpus_view_parent_class)->finalize (object);
}

static void
mel_corpus_view_class_init (MelCorpusViewClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = mel_corpus_view_dispose;
  object_class->finalize = mel_corpus_view_finalize;

  g_type_ensure (MEL_TYPE_CORPUS_STATS);
  _mel_app_ensure_resources ();
  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/melodist/Melodist/ui/mel-corpus-view.ui");
  gtk_widget_class_bind_template_child (widget_class, MelCorpusView, search_entry);
  gtk_widget_class_bind_template_child (widget_class, MelCorpusView, collection_dropdown);
  gtk_widget_class_bind_template_child (widget_class, MelCorpusView, mode_dropdown);
  gtk_widget_class_bind_template_child (widget_class, MelCorpusView, meter_dropdown);
  gtk_widget_class_bind_template_child (widget_class, MelCorpusView, progress_bar);
  gtk_widget_class_bind_template_child (widget_class, MelCorpusView, list_stack);
  gtk_widget_class_bind_template_child (widget_class, MelCorpusView, column_view);
  gtk_widget_class_bind_template_child (widget_class, MelCorpusView, count_label);
  gtk_widget_class_bind_template_child (widget_class, MelCorpusView, detail_stack);
  gtk_widget_class_bind_template_child (widget_class, MelCorpusView, song_stack);
  gtk_widget_class_bind_template_child (widget_class, MelCorpusView, title_label);
  gtk_widget_class_bind_template_child (widget_class, MelCorpusView, meta_label);
  gtk_widget_class_bind_template_child (widget_class, MelCorpusView, tempo_spin);
  gtk_widget_class_bind_template_child (widget_class, MelCorpusView, play_button);
  gtk_widget_class_bind_template_child (widget_class, MelCorpusView, score_scroller);
  gtk_widget_class_bind_template_child (widget_class, MelCorpusView, stats);

  gtk_widget_class_install_action (widget_class, "corpus.play", NULL, play_action);
  gtk_widget_class_install_action (widget_class, "corpus.cancel-load", NULL, cancel_load_action);
}

static void
mel_corpus_view_init (MelCorpusView *self)
{
  const char *modes[] = { _("Any mode"), _("Major"), _("Minor"), NULL };

  gtk_widget_init_template (GTK_WIDGET (self));

  self->collections = gtk_string_list_new ((const char *[]) { _("All collections"), NULL });
  self->meters = gtk_string_list_new ((const char *[]) { _("All meters"), NULL });
  gtk_drop_down_set_model (self->collection_dropdown, G_LIST_MODEL (self->collections));
  gtk_drop_down_set_model (self->meter_dropdown, G_LIST_MODEL (self->meters));
  gtk_drop_down_set_model (self->mode_dropdown, G_LIST_MODEL (gtk_string_list_new (modes)));
  g_object_unref (gtk_drop_down_get_model (self->mode_dropdown));

  add_column (self, _("Title"), "title", FALSE, -1);
  add_column (self, _("Id"), "id", FALSE, 76);
  self->region_column = g_object_ref (add_column (self, _("Region"), "place", FALSE, 104));
  add_column (self, _("Key"), "key", FALSE, 84);
  add_column (self, _("Meter"), "meter", FALSE, 60);
  add_column (self, _("Bars"), "bars", TRUE, 52);
  self->notes_column = g_object_ref (add_column (self, _("Notes"), "notes", TRUE, 60));
  g_signal_connect (self, "realize", G_CALLBACK (realize_cb), NULL);

  self->score = _mel_score_widget_new ();
  gtk_scrolled_window_set_child (self->score_scroller, self->score);

  g_signal_connect_object (self->search_entry, "search-changed", G_CALLBACK (search_changed_cb),
                           self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->collection_dropdown, "notify::selected",
                           G_CALLBACK (dropdown_changed_cb), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->mode_dropdown, "notify::selected",
                           G_CALLBACK (dropdown_changed_cb), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->meter_dropdown, "notify::selected",
                           G_CALLBACK (dropdown_changed_cb), self, G_CONNECT_SWAPPED);
}
