/* mel-corpus-stats.c — counts, rejections and histograms of a corpus.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include "mel-app-private.h"

#include <glib/gi18n.h>

#include "mel-bar-chart.h"
#include "mel-corpus-stats.h"

/* The rejection list shows this many rows; a corpus that rejects more is
 * almost certainly the wrong folder, and the summary says how many. */
#define MAX_REJECTION_ROWS 200

/* The pitch histogram spans this MIDI range (wider than any folk song). */
#define LOWEST_PITCH 36
#define HIGHEST_PITCH 96

struct _MelCorpusStats
{
  AdwBin parent_instance;

  GtkLabel *songs_label;
  GtkLabel *duplicates_label;
  GtkLabel *notes_label;
  GtkLabel *rejections_label;
  AdwExpanderRow *rejections_row;
  GtkListBox *rejections_list;
  MelBarChart *keys_chart;
  MelBarChart *meters_chart;
  MelBarChart *pitches_chart;
};

G_DEFINE_FINAL_TYPE (MelCorpusStats, mel_corpus_stats, ADW_TYPE_BIN)

static void
set_count (GtkLabel *label, guint count)
{
  g_autofree char *text = g_strdup_printf ("%u", count);
  gtk_label_set_label (label, text);
}

static void
fill_rejections (MelCorpusStats *self, const MelCorpus *corpus)
{
  GtkWidget *child;
  guint n = corpus != NULL ? corpus->rejections->len : 0;

  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self->rejections_list))) != NULL)
    gtk_list_box_remove (self->rejections_list, child);

  for (guint i = 0; i < MIN (n, MAX_REJECTION_ROWS); i++)
    {
      const MelCorpusRejection *rejection = g_ptr_array_index (corpus->rejections, i);
      g_autofree char *name = g_path_get_basename (rejection->path);
      GtkWidget *row = adw_action_row_new ();

      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), name);
      adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
      adw_action_row_set_subtitle (ADW_ACTION_ROW (row), rejection->message);
      adw_action_row_set_subtitle_lines (ADW_ACTION_ROW (row), 3);
      gtk_widget_set_tooltip_text (row, rejection->path);
      gtk_list_box_append (self->rejections_list, row);
    }
  if (n > MAX_REJECTION_ROWS)
    {
      g_autofree char *more = g_strdup_printf (ngettext ("… and %u more file",
                                                         "… and %u more files",
                                                         n - MAX_REJECTION_ROWS),
                                               n - MAX_REJECTION_ROWS);
      GtkWidget *row = adw_action_row_new ();
      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), more);
      gtk_list_box_append (self->rejections_list, row);
    }
  set_count (self->rejections_label, n);
  gtk_widget_set_sensitive (GTK_WIDGET (self->rejections_row), n > 0);
}

/* Key histogram: the 12 major and 12 minor tonics that occur, in circle order. */
static void
fill_keys (MelCorpusStats *self, const MelCorpus *corpus)
{
  /* The spelling of each pitch class as a tonic: step and alteration. */
  static const char major_steps[] = "CDDEEFFGAABB", minor_steps[] = "CCDEEFFGGABB";
  static const gint8 major_alters[12] = { 0, -1, 0, -1, 0, 0, 1, 0, -1, 0, -1, 0 };
  static const gint8 minor_alters[12] = { 0, 1, 0, -1, 0, 0, 1, 0, 1, 0, -1, 0 };
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  double counts[24] = { 0 };
  const char *labels[24];
  double values[24];
  guint n = 0;

  for (guint i = 0; corpus != NULL && i < corpus->songs->len; i++)
    {
      const MelSong *song = g_ptr_array_index (corpus->songs, i);
      const MelKey *key;

      if (song->keys->len == 0)
        continue;
      key = &g_array_index (song->keys, MelKey, 0);
      if (key->mode == MEL_MODE_MINOR)
        counts[12 + mel_key_tonic_pitch_class (key)]++;
      else
        counts[mel_key_tonic_pitch_class (key)]++;
    }
  for (guint i = 0; i < 24; i++)
    if (counts[i] > 0)
      {
        char *name = i < 12 ? _mel_tonic_name (major_steps[i], major_alters[i], FALSE)
                            : _mel_tonic_name (minor_steps[i - 12], minor_alters[i - 12], TRUE);

        g_ptr_array_add (names, name);
        labels[n] = name;
        values[n++] = counts[i];
      }
  mel_bar_chart_set_data (self->keys_chart, labels, values, n);
}

static int
compare_meter_names (gconstpointer a, gconstpointer b)
{
  return g_strcmp0 (*(const char *const *) a, *(const char *const *) b);
}

static void
fill_meters (MelCorpusStats *self, const MelCorpus *corpus)
{
  g_autoptr(GHashTable) counts = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autofree gpointer *names = NULL;
  g_autofree double *values = NULL;
  guint n;

  for (guint i = 0; corpus != NULL && i < corpus->songs->len; i++)
    {
      const MelSong *song = g_ptr_array_index (corpus->songs, i);
      const MelMeter *meter;
      char *name;
      guint count;

      if (song->meters->len == 0)
        continue;
      meter = &g_array_index (song->meters, MelMeter, 0);
      name = meter->irregular ? g_strdup ("MX")
                              : g_strdup_printf ("%d/%d", meter->numerator, meter->denominator);
      count = GPOINTER_TO_UINT (g_hash_table_lookup (counts, name));
      g_hash_table_replace (counts, name, GUINT_TO_POINTER (count + 1));
    }
  names = g_hash_table_get_keys_as_array (counts, &n);
  qsort (names, n, sizeof (gpointer), compare_meter_names);
  values = g_new0 (double, MAX (n, 1));
  for (guint i = 0; i < n; i++)
    values[i] = GPOINTER_TO_UINT (g_hash_table_lookup (counts, names[i]));
  mel_bar_chart_set_data (self->meters_chart, (const char *const *) names, values, n);
}

static guint
fill_pitches (MelCorpusStats *self, const MelCorpus *corpus)
{
  double values[HIGHEST_PITCH - LOWEST_PITCH + 1] = { 0 };
  char *labels_storage[HIGHEST_PITCH - LOWEST_PITCH + 1] = { NULL };
  const char *labels[HIGHEST_PITCH - LOWEST_PITCH + 1];
  guint n_notes = 0;

  for (guint i = 0; corpus != NULL && i < corpus->songs->len; i++)
    {
      const MelSong *song = g_ptr_array_index (corpus->songs, i);

      for (guint e = 0; e < song->events->len; e++)
        {
          const MelEvent *event = &g_array_index (song->events, MelEvent, e);
          /* A tied continuation is not a new note. */
          if (mel_event_is_rest (event) || (event->tie & MEL_TIE_STOP))
            continue;
          n_notes++;
          if (event->midi >= LOWEST_PITCH && event->midi <= HIGHEST_PITCH)
            values[event->midi - LOWEST_PITCH]++;
        }
    }
  for (int midi = LOWEST_PITCH; midi <= HIGHEST_PITCH; midi++)
    {
      /* Label the Cs only: C3, C4, C5 … */
      if (midi % 12 == 0)
        labels_storage[midi - LOWEST_PITCH] = g_strdup_printf ("C%d", midi / 12 - 1);
      labels[midi - LOWEST_PITCH] = labels_storage[midi - LOWEST_PITCH];
    }
  mel_bar_chart_set_data (self->pitches_chart, labels, values, G_N_ELEMENTS (values));
  for (guint i = 0; i < G_N_ELEMENTS (labels_storage); i++)
    g_free (labels_storage[i]);
  return n_notes;
}

void
mel_corpus_stats_set_corpus (MelCorpusStats *self, const MelCorpus *corpus)
{
  g_return_if_fail (MEL_IS_CORPUS_STATS (self));

  set_count (self->songs_label, corpus != NULL ? corpus->songs->len : 0);
  set_count (self->duplicates_label, corpus != NULL ? mel_corpus_count_duplicates (corpus) : 0);
  fill_rejections (self, corpus);
  fill_keys (self, corpus);
  fill_meters (self, corpus);
  set_count (self->notes_label, fill_pitches (self, corpus));
}

double
mel_corpus_stats_get_pitch_count (MelCorpusStats *self, int midi)
{
  g_return_val_if_fail (MEL_IS_CORPUS_STATS (self), 0.0);
  if (midi < LOWEST_PITCH || midi > HIGHEST_PITCH)
    return 0.0;
  return mel_bar_chart_get_value (self->pitches_chart, midi - LOWEST_PITCH);
}

static void
mel_corpus_stats_class_init (MelCorpusStatsClass *klass)
{
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  g_type_ensure (MEL_TYPE_BAR_CHART);
  _mel_app_ensure_resources ();
  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/melodist/Melodist/ui/mel-corpus-stats.ui");
  gtk_widget_class_bind_template_child (widget_class, MelCorpusStats, songs_label);
  gtk_widget_class_bind_template_child (widget_class, MelCorpusStats, duplicates_label);
  gtk_widget_class_bind_template_child (widget_class, MelCorpusStats, notes_label);
  gtk_widget_class_bind_template_child (widget_class, MelCorpusStats, rejections_label);
  gtk_widget_class_bind_template_child (widget_class, MelCorpusStats, rejections_row);
  gtk_widget_class_bind_template_child (widget_class, MelCorpusStats, rejections_list);
  gtk_widget_class_bind_template_child (widget_class, MelCorpusStats, keys_chart);
  gtk_widget_class_bind_template_child (widget_class, MelCorpusStats, meters_chart);
  gtk_widget_class_bind_template_child (widget_class, MelCorpusStats, pitches_chart);
}

static void
mel_corpus_stats_init (MelCorpusStats *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
}
