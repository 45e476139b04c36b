/* cli-corpus.c — `melodist-cli corpus`: look at a corpus and turn it into
 * an encoded dataset.
 *
 *   corpus stats  [DIR] [--json] [preprocessing options]
 *   corpus list   [DIR] [--filter TEXT] [--key KEY] [--meter M/N] [--collection NAME] [--tsv]
 *   corpus show   [DIR] ID [--symbols]
 *   corpus encode [DIR] -o FILE [preprocessing options]
 *
 * Without DIR the embedded default corpus is used.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <glib/gi18n.h>
#include <inttypes.h>
#include <json-glib/json-glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mel-cli.h"
#include "mel-corpus.h"
#include "mel-dataset.h"

/* ---- names of musical things ------------------------------------------- */

static const char *
accidental_text (int alter)
{
  switch (alter)
    {
    case -2: return "bb";
    case -1: return "b";
    case 1: return "#";
    case 2: return "##";
    default: return "";
    }
}

static char *
pitch_name (const MelEvent *ev)
{
  if (mel_event_is_rest (ev))
    return g_strdup (_("rest"));
  if (mel_pitch_step_index (ev->pitch.step) < 0)
    return g_strdup_printf ("%d", ev->midi);
  return g_strdup_printf ("%c%s%d", ev->pitch.step, accidental_text (ev->pitch.alter), ev->pitch.octave);
}

static char *
midi_name (int midi)
{
  MelPitch p = mel_pitch_from_midi (midi, TRUE);
  return g_strdup_printf ("%c%s%d", p.step, accidental_text (p.alter), p.octave);
}

static char *
key_name (const MelKey *key)
{
  if (key == NULL || mel_pitch_step_index (key->tonic_step) < 0)
    return g_strdup (_("unknown"));
  const char *mode = key->mode == MEL_MODE_MAJOR ? _("major") : key->mode == MEL_MODE_MINOR ? _("minor") : "";
  return g_strdup_printf ("%c%s%s%s", key->tonic_step, accidental_text (key->tonic_alter), *mode ? " " : "", mode);
}

static char *
meter_name (const MelMeter *meter)
{
  if (meter == NULL)
    return g_strdup (_("none"));
  if (meter->irregular)
    return g_strdup (_("irregular"));
  return g_strdup_printf ("%d/%d", meter->numerator, meter->denominator);
}

static char *
signature_name (const MelKeySignature *sig)
{
  if (sig == NULL)
    return g_strdup (_("none"));
  if (sig->fifths == MEL_KEY_SIGNATURE_NONSTANDARD)
    {
      GString *text = g_string_new (_("non-standard:"));
      for (int i = 0; i < 7; i++)
        if (sig->alters[i] != 0)
          g_string_append_printf (text, " %c%s", "CDEFGAB"[i], accidental_text (sig->alters[i]));
      return g_string_free (text, FALSE);
    }
  if (sig->fifths == 0)
    return g_strdup (_("no sharps or flats"));
  int n = ABS (sig->fifths);
  return g_strdup_printf (sig->fifths > 0 ? g_dngettext (GETTEXT_PACKAGE, "%d sharp", "%d sharps", n)
                                          : g_dngettext (GETTEXT_PACKAGE, "%d flat", "%d flats", n),
                          n);
}

/* "3/2 (dotted quarter)": a quarter length with its usual name. */
static char *
duration_name (MelRational d)
{
  static const struct
  {
    gint64 num, den;
    const char *name;
  } names[] = {
    { 1, 8, N_("thirty-second") },      { 1, 6, N_("triplet sixteenth") },  { 1, 4, N_("sixteenth") },
    { 1, 3, N_("triplet eighth") },      { 3, 8, N_("dotted sixteenth") },   { 1, 2, N_("eighth") },
    { 2, 3, N_("triplet quarter") },     { 3, 4, N_("dotted eighth") },      { 1, 1, N_("quarter") },
    { 4, 3, N_("triplet half") },        { 3, 2, N_("dotted quarter") },     { 2, 1, N_("half") },
    { 8, 3, N_("two-thirds of a whole, kern 1.5") }, { 3, 1, N_("dotted half") }, { 4, 1, N_("whole") },
    { 6, 1, N_("dotted whole") },        { 8, 1, N_("breve") },              { 12, 1, N_("dotted breve") },
  };
  g_autofree char *value = mel_rational_to_string (d);

  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    if (names[i].num == d.num && names[i].den == d.den)
      return g_strdup_printf ("%s (%s)", value, _(names[i].name));
  return g_steal_pointer (&value);
}

/* The folder a song's file lies in ("kinder"), or the corpus name. */
static char *
collection_name (const MelCorpus *corpus, const MelSong *song)
{
  if (song->path != NULL && g_str_has_prefix (song->path, "resource://"))
    return g_strdup ("embedded");
  if (song->path != NULL)
    {
      g_autofree char *dir = g_path_get_dirname (song->path);
      if (strcmp (dir, ".") != 0 && strcmp (dir, "/") != 0)
        return g_path_get_basename (dir);
    }
  return g_path_get_basename (corpus->root != NULL ? corpus->root : "embedded");
}

/* @path without the corpus root in front, for shorter messages. */
static const char *
relative_path (const MelCorpus *corpus, const char *path)
{
  gsize n = corpus->root != NULL ? strlen (corpus->root) : 0;
  if (path != NULL && n > 0 && strncmp (path, corpus->root, n) == 0 && path[n] == G_DIR_SEPARATOR)
    return path + n + 1;
  return path != NULL ? path : "";
}

/* ---- loading ------------------------------------------------------------ */

static GMutex progress_mutex;

static void
on_load_progress (guint done, guint total, gpointer user_data)
{
  /* The loader reports from its worker threads. */
  g_mutex_lock (&progress_mutex);
  g_autofree char *detail = g_strdup_printf (_("%u of %u files"), done, total);
  mel_cli_progress (_("loading"), total > 0 ? (double) done / total : 1.0, detail);
  g_mutex_unlock (&progress_mutex);
}

static void
on_build_progress (double fraction, gpointer user_data)
{
  mel_cli_progress (_("encoding"), fraction, NULL);
}

static MelCorpus *
load_corpus (const char *dir, GError **error)
{
  if (dir == NULL)
    return mel_corpus_load_embedded (error);
  MelCorpus *corpus = mel_corpus_load (dir, 0, on_load_progress, NULL, NULL, error);
  mel_cli_progress_done ();
  return corpus;
}

/* ---- preprocessing options ---------------------------------------------- */

typedef struct
{
  char *transpose;
  char *durations;
  int min_shift, max_shift, lowest, highest;
  gint64 seed;
  double valid, test;
} PreprocessArgs;

static void
preprocess_args_init (PreprocessArgs *args)
{
  MelPreprocessOptions defaults;
  mel_preprocess_options_init (&defaults);
  memset (args, 0, sizeof *args);
  args->min_shift = defaults.min_shift;
  args->max_shift = defaults.max_shift;
  args->lowest = defaults.lowest_midi;
  args->highest = defaults.highest_midi;
  args->seed = (gint64) defaults.split_seed;
  args->valid = defaults.valid_fraction;
  args->test = defaults.test_fraction;
}

static void
preprocess_args_clear (PreprocessArgs *args)
{
  g_clear_pointer (&args->transpose, g_free);
  g_clear_pointer (&args->durations, g_free);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (PreprocessArgs, preprocess_args_clear)

static void
add_preprocess_options (GOptionContext *context, PreprocessArgs *args)
{
  GOptionEntry entries[] = {
    { "transpose", 't', 0, G_OPTION_ARG_STRING, &args->transpose,
      N_("none (as written), normalise (to C major / A minor) or augment (every shift that fits); default none"),
      N_("MODE") },
    { "min-shift", 0, 0, G_OPTION_ARG_INT, &args->min_shift, N_("Lowest shift in semitones for augment (default -5)"),
      N_("N") },
    { "max-shift", 0, 0, G_OPTION_ARG_INT, &args->max_shift, N_("Highest shift in semitones for augment (default 6)"),
      N_("N") },
    { "lowest", 0, 0, G_OPTION_ARG_INT, &args->lowest, N_("Lowest MIDI note the model knows (default 48)"),
      N_("MIDI") },
    { "highest", 0, 0, G_OPTION_ARG_INT, &args->highest, N_("Highest MIDI note the model knows (default 84)"),
      N_("MIDI") },
    { "durations", 0, 0, G_OPTION_ARG_STRING, &args->durations,
      N_("Accepted note and rest lengths in quarters (default 1/4,1/2,3/4,1,3/2,2,3,4)"), N_("LIST") },
    { "seed", 0, 0, G_OPTION_ARG_INT64, &args->seed, N_("Seed of the train/validation/test split (default 42)"),
      N_("S") },
    { "valid", 0, 0, G_OPTION_ARG_DOUBLE, &args->valid, N_("Fraction of melodies for validation (default 0.1)"),
      N_("F") },
    { "test", 0, 0, G_OPTION_ARG_DOUBLE, &args->test, N_("Fraction of melodies for testing (default 0.1)"),
      N_("F") },
    { NULL },
  };
  /* In the main group, so that plain --help lists them. */
  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
}

static gboolean
preprocess_args_to_options (const PreprocessArgs *args, MelPreprocessOptions *options, GError **error)
{
  mel_preprocess_options_init (options);
  if (args->transpose != NULL && !mel_transpose_mode_from_string (args->transpose, &options->transpose))
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   _("--transpose must be none, normalise or augment, not '%s'"), args->transpose);
      return FALSE;
    }
  if (args->durations != NULL && !mel_preprocess_options_set_durations (options, args->durations, error))
    return FALSE;
  if (args->seed < 0)
    {
      g_set_error_literal (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE, _("--seed must not be negative"));
      return FALSE;
    }
  options->min_shift = args->min_shift;
  options->max_shift = args->max_shift;
  options->lowest_midi = args->lowest;
  options->highest_midi = args->highest;
  options->split_seed = (guint64) args->seed;
  options->valid_fraction = args->valid;
  options->test_fraction = args->test;
  return mel_preprocess_options_validate (options, error);
}

static MelDataset *
build_dataset (MelCorpus *corpus, const MelPreprocessOptions *options, GError **error)
{
  gboolean show = mel_cli_is_interactive ();
  MelDataset *dataset = mel_dataset_build (corpus->songs, options, show ? on_build_progress : NULL, NULL, NULL, error);
  mel_cli_progress_done ();
  return dataset;
}

/* ---- a counting helper ------------------------------------------------- */

typedef struct
{
  char *name;
  guint count;
} Tally;

static int
compare_tally (gconstpointer a, gconstpointer b)
{
  const Tally *x = *(const Tally *const *) a, *y = *(const Tally *const *) b;
  if (x->count != y->count)
    return x->count > y->count ? -1 : 1;
  return g_utf8_collate (x->name, y->name);
}

static void
tally_free (gpointer data)
{
  Tally *t = data;
  g_free (t->name);
  g_free (t);
}

/* A histogram of names; tally_sorted() gives it by count, then name. */
static void
tally_add (GHashTable *tallies, const char *name)
{
  Tally *t = g_hash_table_lookup (tallies, name);
  if (t == NULL)
    {
      t = g_new0 (Tally, 1);
      t->name = g_strdup (name);
      g_hash_table_insert (tallies, t->name, t);
    }
  t->count++;
}

static GHashTable *
tally_new (void)
{
  return g_hash_table_new_full (g_str_hash, g_str_equal, NULL, tally_free);
}

static GPtrArray *
tally_sorted (GHashTable *tallies)
{
  GPtrArray *sorted = g_ptr_array_new ();
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, tallies);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    g_ptr_array_add (sorted, value);
  g_ptr_array_sort (sorted, compare_tally);
  return sorted;
}

/* ---- stats -------------------------------------------------------------- */

typedef struct
{
  guint n_notes, n_rests, n_bars;
  int lowest, highest;
  guint notes_min, notes_median, notes_max;
  guint n_pickups, n_meter_changes, n_key_changes, n_irregular, n_ties;
  guint n_major, n_minor, n_other_mode;
  GHashTable *keys, *meters, *durations, *collections, *bad_durations;
} CorpusFacts;

static void
corpus_facts_clear (CorpusFacts *facts)
{
  g_clear_pointer (&facts->keys, g_hash_table_unref);
  g_clear_pointer (&facts->meters, g_hash_table_unref);
  g_clear_pointer (&facts->durations, g_hash_table_unref);
  g_clear_pointer (&facts->collections, g_hash_table_unref);
  g_clear_pointer (&facts->bad_durations, g_hash_table_unref);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (CorpusFacts, corpus_facts_clear)

static int
compare_uint (gconstpointer a, gconstpointer b)
{
  guint x = *(const guint *) a, y = *(const guint *) b;
  return (x > y) - (x < y);
}

static gboolean
is_acceptable_duration (MelRational d, const MelPreprocessOptions *options)
{
  for (guint j = 0; j < options->n_acceptable; j++)
    if (mel_rational_equal (d, options->acceptable[j]))
      return TRUE;
  return FALSE;
}

static void
gather_facts (const MelCorpus *corpus, const MelDataset *dataset, CorpusFacts *facts)
{
  guint n = corpus->songs->len;
  g_autofree guint *notes_per_song = g_new0 (guint, MAX (n, 1));

  memset (facts, 0, sizeof *facts);
  facts->lowest = G_MAXINT;
  facts->highest = G_MININT;
  facts->keys = tally_new ();
  facts->meters = tally_new ();
  facts->durations = tally_new ();
  facts->collections = tally_new ();
  facts->bad_durations = tally_new ();

  for (guint i = 0; i < n; i++)
    {
      const MelSong *song = g_ptr_array_index (corpus->songs, i);
      guint notes = mel_song_get_n_notes (song);
      int lo, hi;

      notes_per_song[i] = notes;
      facts->n_notes += notes;
      facts->n_rests += song->events->len - notes;
      facts->n_bars += song->bars->len;
      if (mel_song_get_range (song, &lo, &hi))
        {
          facts->lowest = MIN (facts->lowest, lo);
          facts->highest = MAX (facts->highest, hi);
        }
      facts->n_pickups += mel_rational_compare (song->pickup, MEL_RATIONAL_ZERO) > 0;
      facts->n_key_changes += song->keys->len > 1;

      const MelKey *key = song->keys->len > 0 ? &g_array_index (song->keys, MelKey, 0) : NULL;
      g_autofree char *kname = key_name (key);
      tally_add (facts->keys, kname);
      if (key != NULL && key->mode == MEL_MODE_MAJOR)
        facts->n_major++;
      else if (key != NULL && key->mode == MEL_MODE_MINOR)
        facts->n_minor++;
      else
        facts->n_other_mode++;

      const MelMeter *meter = song->meters->len > 0 ? &g_array_index (song->meters, MelMeter, 0) : NULL;
      g_autofree char *mname = meter_name (meter);
      tally_add (facts->meters, mname);
      gboolean irregular = FALSE, changes = FALSE;
      for (guint m = 0; m < song->meters->len; m++)
        {
          const MelMeter *x = &g_array_index (song->meters, MelMeter, m);
          irregular |= x->irregular;
          changes |= x->numerator != meter->numerator || x->denominator != meter->denominator ||
                     x->irregular != meter->irregular;
        }
      facts->n_irregular += irregular;
      facts->n_meter_changes += changes;

      g_autofree char *cname = collection_name (corpus, song);
      tally_add (facts->collections, cname);

      /* durations of all events, and the unaccepted ones once per song */
      g_autoptr (GHashTable) bad_here = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
      for (guint e = 0; e < song->events->len; e++)
        {
          const MelEvent *ev = &g_array_index (song->events, MelEvent, e);
          g_autofree char *dname = duration_name (ev->duration);
          tally_add (facts->durations, dname);
          facts->n_ties += (ev->tie & MEL_TIE_START) != 0;
          if (!is_acceptable_duration (ev->duration, &dataset->options))
            g_hash_table_add (bad_here, g_steal_pointer (&dname));
        }
      GHashTableIter iter;
      gpointer bad;
      g_hash_table_iter_init (&iter, bad_here);
      while (g_hash_table_iter_next (&iter, &bad, NULL))
        tally_add (facts->bad_durations, bad);
    }
  if (n > 0)
    {
      qsort (notes_per_song, n, sizeof (guint), compare_uint);
      facts->notes_min = notes_per_song[0];
      facts->notes_median = notes_per_song[n / 2];
      facts->notes_max = notes_per_song[n - 1];
    }
}

#define STATS_WINDOW 64

static void
print_tallies (const char *label, GHashTable *tallies, guint limit)
{
  g_autoptr (GPtrArray) sorted = tally_sorted (tallies);
  GString *line = g_string_new (NULL);

  for (guint i = 0; i < sorted->len && i < limit; i++)
    {
      const Tally *t = g_ptr_array_index (sorted, i);
      g_string_append_printf (line, "%s%s %u", i > 0 ? ", " : "", t->name, t->count);
    }
  if (sorted->len > limit)
    g_string_append_printf (line, _(", … (%u more)"), sorted->len - limit);
  mel_cli_print_label (label, 22);
  printf ("%s\n", sorted->len > 0 ? line->str : "—");
  g_string_free (line, TRUE);
}

static void
print_stats_text (const MelCorpus *corpus, const MelDataset *dataset, const CorpusFacts *facts, guint window)
{
  const MelPreprocessOptions *o = &dataset->options;
  guint n_songs = corpus->songs->len;
  guint accepted = dataset->n_input - dataset->n_rejected - dataset->n_rejected_off_grid -
                   dataset->n_rejected_range - dataset->n_rejected_empty;

  printf (_("Corpus: %s\n"), corpus->root);
  mel_cli_print_label (_("files"), 22);
  printf ("%u\n", corpus->n_files);
  mel_cli_print_label (_("songs read"), 22);
  printf ("%u\n", n_songs);
  mel_cli_print_label (_("unreadable files"), 22);
  printf ("%u\n", corpus->rejections->len);
  for (guint i = 0; i < corpus->rejections->len; i++)
    {
      const MelCorpusRejection *r = g_ptr_array_index (corpus->rejections, i);
      const char *message = r->message != NULL ? r->message : "";
      /* messages usually start with the path: shorten it */
      gsize root_len = corpus->root != NULL ? strlen (corpus->root) : 0;
      if (root_len > 0 && strncmp (message, corpus->root, root_len) == 0 && message[root_len] == G_DIR_SEPARATOR)
        message += root_len + 1;
      printf ("    %s\n", message);
    }
  mel_cli_print_label (_("exact duplicates"), 22);
  printf ("%u\n", mel_corpus_count_duplicates (corpus));
  print_tallies (_("collections"), facts->collections, 20);
  mel_cli_print_label (_("notes"), 22);
  printf ("%u\n", facts->n_notes);
  mel_cli_print_label (_("rests"), 22);
  printf ("%u\n", facts->n_rests);
  mel_cli_print_label (_("bars"), 22);
  printf ("%u\n", facts->n_bars);
  mel_cli_print_label (_("ties"), 22);
  printf ("%u\n", facts->n_ties);
  if (n_songs > 0)
    {
      mel_cli_print_label (_("notes per song"), 22);
      printf ("%s %u, %s %u, %s %u\n", _("min"), facts->notes_min, _("median"), facts->notes_median,
              _("max"), facts->notes_max);
    }
  if (facts->lowest <= facts->highest)
    {
      g_autofree char *lo = midi_name (facts->lowest);
      g_autofree char *hi = midi_name (facts->highest);
      mel_cli_print_label (_("pitch range"), 22);
      printf ("%s–%s (MIDI %d–%d)\n", lo, hi, facts->lowest, facts->highest);
    }
  mel_cli_print_label (_("modes"), 22);
  printf ("%s %u, %s %u, %s %u\n", _("major"), facts->n_major, _("minor"), facts->n_minor,
          _("unknown"), facts->n_other_mode);
  print_tallies (_("keys"), facts->keys, 24);
  mel_cli_print_label (_("songs changing key"), 22);
  printf ("%u\n", facts->n_key_changes);
  print_tallies (_("meters (first)"), facts->meters, 24);
  mel_cli_print_label (_("songs changing meter"), 22);
  printf ("%u\n", facts->n_meter_changes);
  mel_cli_print_label (_("irregular meter"), 22);
  printf ("%u\n", facts->n_irregular);
  mel_cli_print_label (_("songs with a pickup"), 22);
  printf ("%u\n", facts->n_pickups);
  print_tallies (_("durations (events)"), facts->durations, 24);

  g_autofree char *durations = mel_preprocess_options_format_durations (o);
  printf (_("\nPreprocessing (transpose %s, durations %s, pitch range %d–%d):\n"),
          mel_transpose_mode_to_string (o->transpose), durations, o->lowest_midi, o->highest_midi);
  mel_cli_print_label (_("songs accepted"), 22);
  printf ("%u\n", accepted);
  mel_cli_print_label (_("filtered by duration"), 22);
  printf ("%u\n", dataset->n_rejected);
  if (g_hash_table_size (facts->bad_durations) > 0)
    print_tallies (_("  unaccepted lengths"), facts->bad_durations, 12);
  mel_cli_print_label (_("off the 16th grid"), 22);
  printf ("%u\n", dataset->n_rejected_off_grid);
  mel_cli_print_label (_("out of pitch range"), 22);
  printf ("%u\n", dataset->n_rejected_range);
  mel_cli_print_label (_("without notes"), 22);
  printf ("%u\n", dataset->n_rejected_empty);
  if (o->transpose == MEL_TRANSPOSE_AUGMENT)
    {
      mel_cli_print_label (_("transposed copies"), 22);
      printf ("%u (%s %d…%d)\n", dataset->songs->len - accepted, _("shifts"), o->min_shift,
              o->max_shift);
    }
  else if (o->transpose == MEL_TRANSPOSE_NORMALISE)
    {
      guint moved = 0;
      for (guint i = 0; i < dataset->songs->len; i++)
        moved += g_array_index (dataset->songs, MelDatasetSong, i).transpose != 0;
      mel_cli_print_label (_("transposed"), 22);
      printf ("%u (%s)\n", moved, _("to C major / A minor"));
    }
  else
    {
      mel_cli_print_label (_("transposed copies"), 22);
      printf ("0\n");
    }
  mel_cli_print_label (_("melody groups"), 22);
  printf ("%u (%u %s)\n", dataset->n_groups, accepted - MIN (accepted, dataset->n_groups),
          _("songs repeat an earlier melody, maybe transposed"));
  mel_cli_print_label (_("vocabulary"), 22);
  printf ("%u (\"/\", \"_\", \"r\" %s %u %s)\n", dataset->vocabulary->len, _("and"),
          dataset->vocabulary->len - 3, _("pitches"));
  if (dataset->vocabulary->len > 3)
    {
      mel_cli_print_label (_("pitches used"), 22);
      printf ("%s–%s\n", (const char *) g_ptr_array_index (dataset->vocabulary, 3),
              (const char *) g_ptr_array_index (dataset->vocabulary, dataset->vocabulary->len - 1));
    }
  mel_cli_print_label (_("symbols"), 22);
  printf ("%u\n", dataset->ids->len);

  printf (_("\nSplit (seed %" PRIu64 ", by melody group; windows of %u, stride 1):\n"), o->split_seed,
          window);
  for (int s = 0; s < MEL_N_SPLITS; s++)
    {
      g_autoptr (GArray) stream = mel_dataset_get_split_ids (dataset, (MelSplit) s);
      printf ("  %-6s %6u %s %9u %s %9u %s\n", mel_split_to_string ((MelSplit) s),
              mel_dataset_get_n_songs (dataset, (MelSplit) s), _("songs"), stream->len, _("symbols"),
              mel_dataset_count_windows (dataset, (MelSplit) s, window, 1), _("windows"));
    }
}

static void
json_add_tallies (JsonBuilder *b, const char *name, GHashTable *tallies)
{
  g_autoptr (GPtrArray) sorted = tally_sorted (tallies);
  json_builder_set_member_name (b, name);
  json_builder_begin_object (b);
  for (guint i = 0; i < sorted->len; i++)
    {
      const Tally *t = g_ptr_array_index (sorted, i);
      json_builder_set_member_name (b, t->name);
      json_builder_add_int_value (b, t->count);
    }
  json_builder_end_object (b);
}

static void
json_add_int (JsonBuilder *b, const char *name, gint64 value)
{
  json_builder_set_member_name (b, name);
  json_builder_add_int_value (b, value);
}

static void
print_stats_json (const MelCorpus *corpus, const MelDataset *dataset, const CorpusFacts *facts, guint window)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  const MelPreprocessOptions *o = &dataset->options;

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "corpus");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "root");
  json_builder_add_string_value (b, corpus->root);
  json_add_int (b, "files", corpus->n_files);
  json_add_int (b, "songs", corpus->songs->len);
  json_builder_set_member_name (b, "unreadable");
  json_builder_begin_array (b);
  for (guint i = 0; i < corpus->rejections->len; i++)
    {
      const MelCorpusRejection *r = g_ptr_array_index (corpus->rejections, i);
      g_autofree char *message = g_utf8_make_valid (r->message != NULL ? r->message : "", -1);
      g_autofree char *path = g_utf8_make_valid (relative_path (corpus, r->path), -1);
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "path");
      json_builder_add_string_value (b, path);
      json_add_int (b, "line", r->line);
      json_builder_set_member_name (b, "message");
      json_builder_add_string_value (b, message);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  json_add_int (b, "duplicates", mel_corpus_count_duplicates (corpus));
  json_add_int (b, "notes", facts->n_notes);
  json_add_int (b, "rests", facts->n_rests);
  json_add_int (b, "bars", facts->n_bars);
  json_add_int (b, "ties", facts->n_ties);
  json_add_int (b, "notes_per_song_min", facts->notes_min);
  json_add_int (b, "notes_per_song_median", facts->notes_median);
  json_add_int (b, "notes_per_song_max", facts->notes_max);
  if (facts->lowest <= facts->highest)
    {
      json_add_int (b, "lowest_midi", facts->lowest);
      json_add_int (b, "highest_midi", facts->highest);
    }
  json_add_int (b, "major", facts->n_major);
  json_add_int (b, "minor", facts->n_minor);
  json_add_int (b, "songs_with_pickup", facts->n_pickups);
  json_add_int (b, "songs_changing_meter", facts->n_meter_changes);
  json_add_int (b, "songs_changing_key", facts->n_key_changes);
  json_add_int (b, "songs_with_irregular_meter", facts->n_irregular);
  json_add_tallies (b, "collections", facts->collections);
  json_add_tallies (b, "keys", facts->keys);
  json_add_tallies (b, "meters", facts->meters);
  json_add_tallies (b, "durations", facts->durations);
  json_builder_end_object (b);

  g_autofree char *durations = mel_preprocess_options_format_durations (o);
  json_builder_set_member_name (b, "preprocessing");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "transpose");
  json_builder_add_string_value (b, mel_transpose_mode_to_string (o->transpose));
  json_builder_set_member_name (b, "durations");
  json_builder_add_string_value (b, durations);
  json_add_int (b, "lowest_midi", o->lowest_midi);
  json_add_int (b, "highest_midi", o->highest_midi);
  json_add_int (b, "min_shift", o->min_shift);
  json_add_int (b, "max_shift", o->max_shift);
  json_add_int (b, "accepted", dataset->n_input - dataset->n_rejected - dataset->n_rejected_off_grid -
                                   dataset->n_rejected_range - dataset->n_rejected_empty);
  json_add_int (b, "filtered_by_duration", dataset->n_rejected);
  json_add_tallies (b, "songs_with_unaccepted_duration", facts->bad_durations);
  json_add_int (b, "off_grid", dataset->n_rejected_off_grid);
  json_add_int (b, "out_of_range", dataset->n_rejected_range);
  json_add_int (b, "empty", dataset->n_rejected_empty);
  json_add_int (b, "encoded_songs", dataset->songs->len);
  json_add_int (b, "melody_groups", dataset->n_groups);
  json_add_int (b, "symbols", dataset->ids->len);
  json_builder_set_member_name (b, "vocabulary");
  json_builder_begin_array (b);
  for (guint i = 0; i < dataset->vocabulary->len; i++)
    json_builder_add_string_value (b, g_ptr_array_index (dataset->vocabulary, i));
  json_builder_end_array (b);
  json_builder_end_object (b);

  json_builder_set_member_name (b, "splits");
  json_builder_begin_object (b);
  for (int s = 0; s < MEL_N_SPLITS; s++)
    {
      g_autoptr (GArray) stream = mel_dataset_get_split_ids (dataset, (MelSplit) s);
      json_builder_set_member_name (b, mel_split_to_string ((MelSplit) s));
      json_builder_begin_object (b);
      json_add_int (b, "songs", mel_dataset_get_n_songs (dataset, (MelSplit) s));
      json_add_int (b, "symbols", stream->len);
      json_add_int (b, "windows", mel_dataset_count_windows (dataset, (MelSplit) s, window, 1));
      json_builder_end_object (b);
    }
  json_builder_end_object (b);
  json_add_int (b, "window_length", window);
  json_builder_end_object (b);

  g_autoptr (JsonNode) root = json_builder_get_root (b);
  g_autoptr (JsonGenerator) generator = json_generator_new ();
  json_generator_set_pretty (generator, TRUE);
  json_generator_set_root (generator, root);
  g_autofree char *text = json_generator_to_data (generator, NULL);
  printf ("%s\n", text);
}

/* Prints a usage problem like mel_cli_failf() and gives exit status 2. */
static int usage_error (const char *format, ...) G_GNUC_PRINTF (1, 2);

static int
usage_error (const char *format, ...)
{
  va_list args;
  va_start (args, format);
  g_autofree char *message = g_strdup_vprintf (format, args);
  va_end (args);
  mel_cli_failf ("%s", message);
  return 2;
}

/* Parses the options, leaving the positional arguments in argv. */
static gboolean
parse_options (GOptionContext *context, int *argc, char ***argv, int *status)
{
  g_autoptr (GError) error = NULL;
  if (!g_option_context_parse (context, argc, argv, &error))
    {
      mel_cli_fail (error);
      *status = 2;
      return FALSE;
    }
  return TRUE;
}

static int
corpus_stats (int argc, char **argv)
{
  g_auto (PreprocessArgs) args = { 0 };
  gboolean json = FALSE;
  int window = STATS_WINDOW, status = 0;
  MelPreprocessOptions options;
  g_autoptr (GError) error = NULL;

  preprocess_args_init (&args);
  GOptionEntry entries[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_("Print the report as JSON"), NULL },
    { "window", 0, 0, G_OPTION_ARG_INT, &window, N_("Training window length for the window counts (default 64)"),
      N_("N") },
    { NULL },
  };
  g_autoptr (GOptionContext) context = g_option_context_new (_("[DIR] — report on a corpus and its preprocessing"));
  g_option_context_set_summary (context, _("Reads every *.krn file below DIR (default: the embedded corpus), runs "
                                           "the preprocessing pipeline and reports what it found."));
  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  add_preprocess_options (context, &args);
  if (!parse_options (context, &argc, &argv, &status))
    return status;
  if (argc > 2)
    return usage_error (_("stats takes at most one folder; see --help"));
  if (window < 1)
    return usage_error (_("--window must be at least 1"));
  if (!preprocess_args_to_options (&args, &options, &error))
    return usage_error ("%s", error->message);

  g_autoptr (MelCorpus) corpus = load_corpus (argc > 1 ? argv[1] : NULL, &error);
  if (corpus == NULL)
    return mel_cli_fail (error);
  g_autoptr (MelDataset) dataset = build_dataset (corpus, &options, &error);
  if (dataset == NULL)
    return mel_cli_fail (error);

  g_auto (CorpusFacts) facts = { 0 };
  gather_facts (corpus, dataset, &facts);
  if (json)
    print_stats_json (corpus, dataset, &facts, (guint) window);
  else
    print_stats_text (corpus, dataset, &facts, (guint) window);
  return 0;
}

/* ---- list --------------------------------------------------------------- */

typedef struct
{
  MelMode mode; /* MEL_MODE_UNKNOWN: any */
  gboolean has_tonic;
  int tonic_pc;
} KeyFilter;

/* "major", "minor", or a key: "G", "g" (kern: lower case is minor), "F#",
 * "Bb", "B-", optionally followed by "major" or "minor". */
static gboolean
parse_key_filter (const char *text, KeyFilter *filter)
{
  static const int letter_pc[7] = { 9, 11, 0, 2, 4, 5, 7 }; /* A … G */
  g_autofree char *lower = g_ascii_strdown (text, -1);
  g_strstrip (lower);

  memset (filter, 0, sizeof *filter);
  if (strcmp (lower, "major") == 0 || strcmp (lower, "minor") == 0)
    {
      filter->mode = lower[1] == 'a' ? MEL_MODE_MAJOR : MEL_MODE_MINOR;
      return TRUE;
    }
  const char *p = text;
  while (g_ascii_isspace (*p))
    p++;
  char letter = g_ascii_toupper (*p);
  if (letter < 'A' || letter > 'G')
    return FALSE;
  filter->has_tonic = TRUE;
  filter->mode = g_ascii_isupper (*p) ? MEL_MODE_MAJOR : MEL_MODE_MINOR;
  int pc = letter_pc[letter - 'A'];
  for (p++; *p == '#' || *p == 'b' || *p == '-'; p++)
    pc += *p == '#' ? 1 : -1;
  filter->tonic_pc = ((pc % 12) + 12) % 12;
  while (g_ascii_isspace (*p))
    p++;
  if (*p == '\0')
    return TRUE;
  if (g_ascii_strcasecmp (p, "major") == 0 || g_ascii_strcasecmp (p, "maj") == 0)
    filter->mode = MEL_MODE_MAJOR;
  else if (g_ascii_strcasecmp (p, "minor") == 0 || g_ascii_strcasecmp (p, "min") == 0)
    filter->mode = MEL_MODE_MINOR;
  else
    return FALSE;
  return TRUE;
}

static gboolean
key_matches (const MelSong *song, const KeyFilter *filter)
{
  const MelKey *key = song->keys->len > 0 ? &g_array_index (song->keys, MelKey, 0) : NULL;
  if (key == NULL)
    return FALSE;
  if (filter->mode != MEL_MODE_UNKNOWN && key->mode != filter->mode)
    return FALSE;
  return !filter->has_tonic || mel_key_tonic_pitch_class (key) == filter->tonic_pc;
}

/* "3/4", "X" or "irregular": any meter of the song matches. */
static gboolean
meter_matches (const MelSong *song, const char *text)
{
  gboolean want_irregular = g_ascii_strcasecmp (text, "x") == 0 || g_ascii_strcasecmp (text, "irregular") == 0;
  int num = 0, den = 0;

  if (!want_irregular && sscanf (text, "%d/%d", &num, &den) != 2)
    return FALSE;
  for (guint m = 0; m < song->meters->len; m++)
    {
      const MelMeter *meter = &g_array_index (song->meters, MelMeter, m);
      if (want_irregular ? meter->irregular
                         : !meter->irregular && meter->numerator == num && meter->denominator == den)
        return TRUE;
    }
  return FALSE;
}

static gboolean
text_matches (const MelSong *song, const char *needle)
{
  const char *fields[] = { song->id, song->title, song->region, song->genre, song->path };
  for (guint i = 0; i < G_N_ELEMENTS (fields); i++)
    {
      if (fields[i] == NULL)
        continue;
      g_autofree char *valid = g_utf8_make_valid (fields[i], -1);
      g_autofree char *folded = g_utf8_casefold (valid, -1);
      if (strstr (folded, needle) != NULL)
        return TRUE;
    }
  return FALSE;
}

/* @text cut or padded to @width characters (UTF-8 aware).  Regions run
 * from the general to the particular ("Europa, Mitteleuropa, Deutschland,
 * Hessen"), so @keep_end keeps their end. */
static char *
fit_full (const char *text, guint width, gboolean keep_end)
{
  g_autofree char *valid = g_utf8_make_valid (text != NULL ? text : "", -1);
  glong n = g_utf8_strlen (valid, -1);
  if ((guint) n > width)
    {
      if (keep_end)
        {
          /* Drop whole leading parts ("Europa, ") while that helps. */
          const char *rest = valid;
          const char *comma;
          while ((guint) g_utf8_strlen (rest, -1) + 2 > width && (comma = strstr (rest, ", ")) != NULL)
            rest = comma + 2;
          g_autofree char *tail = NULL;
          glong m = g_utf8_strlen (rest, -1);
          if ((guint) m + 2 <= width)
            tail = g_strconcat ("… ", rest, NULL);
          else
            {
              g_autofree char *end = g_utf8_substring (rest, m - (width - 1), m);
              tail = g_strconcat ("…", end, NULL);
            }
          return fit_full (tail, width, FALSE);
        }
      g_autofree char *cut = g_utf8_substring (valid, 0, width - 1);
      return g_strconcat (cut, "…", NULL);
    }
  GString *padded = g_string_new (valid);
  for (glong i = n; i < (glong) width; i++)
    g_string_append_c (padded, ' ');
  return g_string_free (padded, FALSE);
}

static char *
fit (const char *text, guint width)
{
  return fit_full (text, width, FALSE);
}

static int
corpus_list (int argc, char **argv)
{
  g_autofree char *filter = NULL, *key = NULL, *meter = NULL, *collection = NULL;
  gboolean tsv = FALSE;
  int status = 0;
  KeyFilter key_filter;
  g_autoptr (GError) error = NULL;

  GOptionEntry entries[] = {
    { "filter", 'f', 0, G_OPTION_ARG_STRING, &filter,
      N_("Only songs whose id, title, region, genre or file contains TEXT"),
      N_("TEXT") },
    { "key", 'k', 0, G_OPTION_ARG_STRING, &key,
      N_("Only songs in this key or mode: major, minor, G, g (minor), F#, Bb, \"D minor\""), N_("KEY") },
    { "meter", 'm', 0, G_OPTION_ARG_STRING, &meter, N_("Only songs using this meter: 3/4, 6/8, X (irregular)"),
      N_("M/N") },
    { "collection", 'c', 0, G_OPTION_ARG_STRING, &collection, N_("Only songs from this folder (e.g. kinder)"),
      N_("NAME") },
    { "tsv", 0, 0, G_OPTION_ARG_NONE, &tsv, N_("Tab-separated, untruncated columns"), NULL },
    { NULL },
  };
  g_autoptr (GOptionContext) context = g_option_context_new (_("[DIR] — one line per song"));
  g_option_context_set_summary (context, _("Columns: id, title, region, key, meter, bars, notes."));
  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  if (!parse_options (context, &argc, &argv, &status))
    return status;
  if (argc > 2)
    return usage_error (_("list takes at most one folder; see --help"));
  if (key != NULL && !parse_key_filter (key, &key_filter))
    return usage_error (_("--key: '%s' is not a key (G, g, F#, Bb, \"D minor\") or major/minor"), key);
  if (meter != NULL && g_ascii_strcasecmp (meter, "x") != 0 && g_ascii_strcasecmp (meter, "irregular") != 0)
    {
      int num, den;
      char extra;
      if (sscanf (meter, "%d/%d%c", &num, &den, &extra) != 2 || num <= 0 || den <= 0)
        return usage_error (_("--meter: '%s' is not a meter such as 3/4 or X"), meter);
    }

  g_autoptr (MelCorpus) corpus = load_corpus (argc > 1 ? argv[1] : NULL, &error);
  if (corpus == NULL)
    return mel_cli_fail (error);

  g_autofree char *needle = NULL;
  if (filter != NULL)
    {
      g_autofree char *valid = g_utf8_make_valid (filter, -1);
      needle = g_utf8_casefold (valid, -1);
    }
  guint shown = 0;
  if (!tsv)
    {
      g_autofree char *h_title = fit (_("title"), 36), *h_region = fit (_("region"), 20);
      printf ("%-10s %s %s %-10s %-9s %5s %5s\n", _("id"), h_title, h_region, _("key"), _("meter"), _("bars"),
              _("notes"));
    }
  for (guint i = 0; i < corpus->songs->len; i++)
    {
      const MelSong *song = g_ptr_array_index (corpus->songs, i);
      if (needle != NULL && !text_matches (song, needle))
        continue;
      if (key != NULL && !key_matches (song, &key_filter))
        continue;
      if (meter != NULL && !meter_matches (song, meter))
        continue;
      if (collection != NULL)
        {
          g_autofree char *name = collection_name (corpus, song);
          if (g_ascii_strcasecmp (name, collection) != 0)
            continue;
        }
      const MelKey *k = song->keys->len > 0 ? &g_array_index (song->keys, MelKey, 0) : NULL;
      const MelMeter *m = song->meters->len > 0 ? &g_array_index (song->meters, MelMeter, 0) : NULL;
      g_autofree char *kname = key_name (k);
      g_autofree char *mname = meter_name (m);
      if (tsv)
        {
          g_autofree char *title = g_utf8_make_valid (song->title != NULL ? song->title : "", -1);
          g_autofree char *region = g_utf8_make_valid (song->region != NULL ? song->region : "", -1);
          printf ("%s\t%s\t%s\t%s\t%s\t%u\t%u\n", song->id, title, region, kname, mname, song->bars->len,
                  mel_song_get_n_notes (song));
        }
      else
        {
          g_autofree char *title = fit (song->title, 36);
          g_autofree char *region = fit_full (song->region, 20, TRUE);
          printf ("%-10s %s %s %-10s %-9s %5u %5u\n", song->id, title, region, kname, mname, song->bars->len,
                  mel_song_get_n_notes (song));
        }
      shown++;
    }
  fprintf (stderr, g_dngettext (GETTEXT_PACKAGE, "%u of %u song\n", "%u of %u songs\n", corpus->songs->len), shown,
           corpus->songs->len);
  return 0;
}

/* ---- show --------------------------------------------------------------- */

static void
print_field (const char *label, const char *value)
{
  if (value == NULL)
    return;
  g_autofree char *valid = g_utf8_make_valid (value, -1);
  printf ("%-14s %s\n", label, valid);
}

static int
compare_strings (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

static void
print_preprocessing (const MelSong *song)
{
  MelPreprocessOptions options;
  g_autoptr (GError) error = NULL;
  int lo, hi;

  mel_preprocess_options_init (&options);
  if (!mel_preprocess_song_is_acceptable (song, &options))
    {
      print_field (_("pipeline"), _("filtered out: a duration outside 1/4,1/2,3/4,1,3/2,2,3,4 quarters"));
      return;
    }
  g_auto (GStrv) symbols = mel_song_encode (song, &error);
  if (symbols == NULL)
    {
      print_field (_("pipeline"), error->message);
      return;
    }
  if (mel_song_get_range (song, &lo, &hi) && (lo < options.lowest_midi || hi > options.highest_midi))
    print_field (_("pipeline"),
                 _("outside the default pitch range 48–84 (kept by normalise/augment if a shift fits)"));
  else
    print_field (_("pipeline"), _("accepted with the default options"));
  g_autofree char *text = g_strjoinv (" ", symbols);
  printf (_("\nEncoding (%u sixteenth steps, normalising shift %+d):\n%s\n"), g_strv_length (symbols),
          mel_song_normalising_shift (song), text);
}

static int
corpus_show (int argc, char **argv)
{
  int status = 0;
  g_autoptr (GError) error = NULL;

  g_autoptr (GOptionContext) context = g_option_context_new (_("[DIR] ID — a song's metadata and notes"));
  g_option_context_set_summary (context, _("ID is the catalogue id (!!!SCT, e.g. E0001) or the file name without "
                                           ".krn (deut0001).  Shows the metadata, every note and rest with its "
                                           "onset, length, pitch and bar, and the song's encoding."));
  if (!parse_options (context, &argc, &argv, &status))
    return status;
  if (argc < 2 || argc > 3)
    return usage_error (_("show needs a song id (and optionally a folder before it); see --help"));
  const char *dir = argc == 3 ? argv[1] : NULL;
  const char *id = argv[argc - 1];

  g_autoptr (MelCorpus) corpus = load_corpus (dir, &error);
  if (corpus == NULL)
    return mel_cli_fail (error);
  MelSong *song = mel_corpus_find (corpus, id);
  for (guint i = 0; song == NULL && i < corpus->rejections->len; i++)
    {
      /* a file that exists but could not be read: say why */
      const MelCorpusRejection *rejection = g_ptr_array_index (corpus->rejections, i);
      g_autofree char *base = g_path_get_basename (rejection->path != NULL ? rejection->path : "");
      if (g_str_has_suffix (base, ".krn"))
        base[strlen (base) - 4] = '\0';
      if (strcmp (base, id) == 0)
        return mel_cli_failf (_("%s could not be read: %s"), id, rejection->message);
    }
  if (song == NULL)
    return mel_cli_failf (_("no song '%s' in %s (try 'melodist-cli corpus list')"), id, corpus->root);

  const MelKey *key = song->keys->len > 0 ? &g_array_index (song->keys, MelKey, 0) : NULL;
  const MelMeter *meter = song->meters->len > 0 ? &g_array_index (song->meters, MelMeter, 0) : NULL;
  const MelKeySignature *sig =
      song->key_signatures->len > 0 ? &g_array_index (song->key_signatures, MelKeySignature, 0) : NULL;
  g_autofree char *kname = key_name (key);
  g_autofree char *mname = meter_name (meter);
  g_autofree char *sname = signature_name (sig);
  g_autofree char *collection = collection_name (corpus, song);
  g_autofree char *pickup = mel_rational_to_string (song->pickup);
  g_autofree char *length = mel_rational_to_string (song->duration);
  MelKey estimate;
  double r = 0;
  g_autofree char *ename = mel_song_estimate_key (song, &estimate, &r) ? key_name (&estimate) : g_strdup ("—");
  int lo = 0, hi = 0;
  gboolean has_notes = mel_song_get_range (song, &lo, &hi);

  print_field (_("id"), song->id);
  print_field (_("title"), song->title);
  print_field (_("region"), song->region);
  print_field (_("genre"), song->genre);
  print_field (_("source"), song->source_db);
  print_field (_("file"), relative_path (corpus, song->path));
  print_field (_("collection"), collection);
  g_autofree char *key_line = g_strdup_printf (_("%s (estimated from the notes: %s, r = %.2f)"), kname, ename, r);
  print_field (_("key"), key_line);
  print_field (_("signature"), sname);
  GString *meters = g_string_new (mname);
  for (guint m = 1; m < song->meters->len; m++)
    {
      const MelMeter *x = &g_array_index (song->meters, MelMeter, m);
      g_autofree char *xname = meter_name (x);
      g_autofree char *at = mel_rational_to_string (x->onset);
      g_string_append_printf (meters, _(", %s from quarter %s"), xname, at);
    }
  print_field (_("meter"), meters->str);
  g_string_free (meters, TRUE);
  g_autofree char *shape = g_strdup_printf (_("%u bars, %s quarters, pickup %s"), song->bars->len, length, pickup);
  print_field (_("length"), shape);
  g_autofree char *lo_name = midi_name (lo), *hi_name = midi_name (hi);
  g_autofree char *notes = has_notes ? g_strdup_printf (_("%u notes, %u rests, range %s–%s (MIDI %d–%d)"),
                                                        mel_song_get_n_notes (song),
                                                        song->events->len - mel_song_get_n_notes (song), lo_name,
                                                        hi_name, lo, hi)
                                     : g_strdup (_("no notes"));
  print_field (_("notes"), notes);

  /* the other reference records, sorted */
  g_autoptr (GPtrArray) keys = g_ptr_array_new ();
  GHashTableIter iter;
  gpointer rkey;
  g_hash_table_iter_init (&iter, song->references);
  while (g_hash_table_iter_next (&iter, &rkey, NULL))
    g_ptr_array_add (keys, rkey);
  g_ptr_array_sort (keys, compare_strings);
  for (guint i = 0; i < keys->len; i++)
    {
      const char *name = g_ptr_array_index (keys, i);
      /* these five are shown above already */
      if (g_strv_contains ((const char *const[]) { "OTL", "SCT", "ARE", "AGN", "ONB", NULL }, name))
        continue;
      g_autofree char *label = g_strdup_printf ("!!!%s", name);
      print_field (label, g_hash_table_lookup (song->references, name));
    }

  printf ("\n%5s %5s %8s %16s %-6s %4s  %s\n", "#", _("bar"), _("onset"), _("duration"), _("pitch"), "midi",
          _("marks"));
  for (guint i = 0; i < song->events->len; i++)
    {
      const MelEvent *ev = &g_array_index (song->events, MelEvent, i);
      const MelBar *bar = ev->bar < song->bars->len ? &g_array_index (song->bars, MelBar, ev->bar) : NULL;
      g_autofree char *onset = mel_rational_to_string (ev->onset);
      g_autofree char *dur = duration_name (ev->duration);
      g_autofree char *pname = pitch_name (ev);
      GString *marks = g_string_new (NULL);
      if (ev->flags & MEL_EVENT_PHRASE_START)
        g_string_append (marks, _("phrase-start "));
      if (ev->flags & MEL_EVENT_PHRASE_END)
        g_string_append (marks, _("phrase-end "));
      if (ev->tie & MEL_TIE_START)
        g_string_append (marks, _("tie-start "));
      if (ev->tie & MEL_TIE_STOP)
        g_string_append (marks, _("tie-stop "));
      g_autofree char *midi = mel_event_is_rest (ev) ? g_strdup ("") : g_strdup_printf ("%d", ev->midi);
      printf ("%5u %5d %8s %16s %-6s %4s  %s\n", i + 1, bar != NULL ? bar->number : -1, onset, dur, pname, midi,
              marks->str);
      g_string_free (marks, TRUE);
    }
  print_preprocessing (song);

  /* ESAC catalogue ids are not unique (118 occur twice): say so. */
  g_autoptr (GString) others = g_string_new (NULL);
  for (guint i = 0; i < corpus->songs->len; i++)
    {
      const MelSong *other = g_ptr_array_index (corpus->songs, i);
      if (other != song && strcmp (other->id, song->id) == 0 && other->path != NULL)
        {
          g_autofree char *base = g_path_get_basename (other->path);
          if (g_str_has_suffix (base, ".krn"))
            base[strlen (base) - 4] = '\0';
          g_string_append_printf (others, " %s", base);
        }
    }
  if (others->len > 0)
    printf (_("\nOther songs with the id %s (show them by file name):%s\n"), song->id, others->str);
  return 0;
}

/* ---- encode ------------------------------------------------------------- */

static int
corpus_encode (int argc, char **argv)
{
  g_auto (PreprocessArgs) args = { 0 };
  g_autofree char *output = NULL;
  int status = 0;
  MelPreprocessOptions options;
  g_autoptr (GError) error = NULL;

  preprocess_args_init (&args);
  GOptionEntry entries[] = {
    { "output", 'o', 0, G_OPTION_ARG_FILENAME, &output,
      N_("Dataset file to write; the vocabulary goes to FILE.vocab.json"), N_("FILE") },
    { NULL },
  };
  g_autoptr (GOptionContext) context = g_option_context_new (_("[DIR] -o FILE — encode a corpus as a dataset"));
  g_option_context_set_summary (context,
                                _("Filters, transposes and encodes every song of DIR (default: the embedded "
                                  "corpus) as one symbol per sixteenth note, splits the melodies into "
                                  "train/validation/test and writes the dataset file and its vocabulary."));
  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  add_preprocess_options (context, &args);
  if (!parse_options (context, &argc, &argv, &status))
    return status;
  if (argc > 2)
    return mel_cli_failf (_("encode takes at most one folder; see --help"));
  if (output == NULL)
    return usage_error (_("encode needs an output file: -o FILE"));
  if (!preprocess_args_to_options (&args, &options, &error))
    return usage_error ("%s", error->message);

  g_autoptr (MelCorpus) corpus = load_corpus (argc > 1 ? argv[1] : NULL, &error);
  if (corpus == NULL)
    return mel_cli_fail (error);
  g_autoptr (MelDataset) dataset = build_dataset (corpus, &options, &error);
  if (dataset == NULL)
    return mel_cli_fail (error);
  if (!mel_dataset_save (dataset, output, &error))
    return mel_cli_fail (error);

  guint rejected = dataset->n_rejected + dataset->n_rejected_off_grid + dataset->n_rejected_range +
                   dataset->n_rejected_empty;
  printf (_("wrote %s and %s.vocab.json\n"), output, output);
  printf (_("  %u of %u songs encoded (%u filtered by duration, %u off the grid, %u out of range, %u empty)\n"),
          dataset->n_input - rejected, dataset->n_input, dataset->n_rejected, dataset->n_rejected_off_grid,
          dataset->n_rejected_range, dataset->n_rejected_empty);
  printf (_("  %u sequences (transpose %s), %u symbols, vocabulary %u, %u melody groups\n"), dataset->songs->len,
          mel_transpose_mode_to_string (options.transpose), dataset->ids->len, dataset->vocabulary->len,
          dataset->n_groups);
  for (int s = 0; s < MEL_N_SPLITS; s++)
    printf ("  %-6s %u %s, %u %s\n", mel_split_to_string ((MelSplit) s),
            mel_dataset_get_n_songs (dataset, (MelSplit) s), _("sequences"),
            mel_dataset_count_windows (dataset, (MelSplit) s, STATS_WINDOW, 1), _("windows of 64"));
  return 0;
}

/* ---- dispatch ----------------------------------------------------------- */

static const struct
{
  const char *name;
  int (*run) (int argc, char **argv);
  const char *summary;
} subcommands[] = {
  { "stats", corpus_stats, N_("Report on a corpus: songs, rejections, keys, meters, pipeline counts") },
  { "list", corpus_list, N_("One line per song, with filters") },
  { "show", corpus_show, N_("Metadata, notes and encoding of one song") },
  { "encode", corpus_encode, N_("Write the encoded dataset (and its vocabulary)") },
};

static void
print_corpus_usage (FILE *out)
{
  fprintf (out, _("Usage: melodist-cli corpus SUBCOMMAND [DIR] [OPTIONS…]\n\n"
                  "Without DIR the embedded default corpus is used.\n\nSubcommands:\n"));
  for (guint i = 0; i < G_N_ELEMENTS (subcommands); i++)
    fprintf (out, "  %-8s %s\n", subcommands[i].name, _(subcommands[i].summary));
  fprintf (out, _("\nRun 'melodist-cli corpus SUBCOMMAND --help' for its options.\n"));
}

int
mel_cli_corpus (int argc, char **argv)
{
  if (argc < 2 || strcmp (argv[1], "--help") == 0 || strcmp (argv[1], "-h") == 0 ||
      strcmp (argv[1], "help") == 0)
    {
      print_corpus_usage (argc < 2 ? stderr : stdout);
      return argc < 2 ? 2 : 0;
    }
  for (guint i = 0; i < G_N_ELEMENTS (subcommands); i++)
    if (strcmp (argv[1], subcommands[i].name) == 0)
      {
        /* GOptionContext wants the program name first: "corpus stats". */
        g_autofree char *name = g_strdup_printf ("%s %s", argv[0], argv[1]);
        g_autofree char **sub_argv = g_new0 (char *, argc);
        sub_argv[0] = name;
        for (int k = 2; k < argc; k++)
          sub_argv[k - 1] = argv[k];
        return subcommands[i].run (argc - 1, sub_argv);
      }
  fprintf (stderr, _("melodist-cli: unknown corpus subcommand '%s'\n\n"), argv[1]);
  print_corpus_usage (stderr);
  return 2;
}
