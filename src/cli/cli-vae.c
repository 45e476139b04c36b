/* cli-vae.c — `melodist-cli vae encode|reconstruct|sample|interpolate`:
 * what a trained melody VAE does with two-bar segments.
 *
 * A segment is config.segment_steps sixteenths of a corpus song starting at
 * a bar line (--song ID, --bar N), encoded as the checkpoint's training
 * data were (same transposition), so the model knows its symbols.
 * Decoded segments are printed as symbols and, with --output, written as
 * kern files.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <glib/gi18n.h>
#include <json-glib/json-glib.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "mel-checkpoint.h"
#include "mel-cli.h"
#include "mel-corpus.h"
#include "mel-dataset.h"
#include "mel-kern.h"
#include "mel-layers.h"
#include "mel-vae.h"

typedef struct
{
  char *corpus;
  char *song, *song_b;
  int bar, bar_b;
  int points;
  gboolean slerp;
  double temperature;
  int samples;
  gint64 rng_seed;
  char *output;
} VaeOptions;

static void
vae_options_clear (VaeOptions *o)
{
  g_free (o->corpus);
  g_free (o->song);
  g_free (o->song_b);
  g_free (o->output);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (VaeOptions, vae_options_clear)

/* A segment of a song and how to write decoded segments like it. */
typedef struct
{
  gint32 *ids;               /* segment_steps ids, owned */
  MelMeter meter;
  MelKeySignature key;
  gboolean have_key;
} Segment;

static void
segment_clear (Segment *s)
{
  g_clear_pointer (&s->ids, g_free);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Segment, segment_clear)

/* The corpus the segments come from: --corpus, else the checkpoint's
 * corpus folder when it was one, else the embedded corpus. */
static MelCorpus *
load_corpus (const MelCheckpoint *ckpt, const char *override, GError **error)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  const char *path = override;

  if (path == NULL && ckpt->preprocessing != NULL
      && json_parser_load_from_data (parser, ckpt->preprocessing, -1, NULL)
      && JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    {
      JsonObject *obj = json_node_get_object (json_parser_get_root (parser));
      const char *c = json_object_get_string_member_with_default (obj, "corpus", NULL);

      if (c != NULL && g_file_test (c, G_FILE_TEST_IS_DIR))
        path = c;
    }
  if (path != NULL)
    return mel_corpus_load (path, 0, NULL, NULL, NULL, error);
  return mel_corpus_load_embedded (error);
}

static gboolean
checkpoint_normalises (const MelCheckpoint *ckpt)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  MelTransposeMode mode = MEL_TRANSPOSE_NONE;

  if (ckpt->preprocessing != NULL
      && json_parser_load_from_data (parser, ckpt->preprocessing, -1, NULL)
      && JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    {
      JsonObject *obj = json_node_get_object (json_parser_get_root (parser));

      mel_transpose_mode_from_string (
        json_object_get_string_member_with_default (obj, "transpose", "none"), &mode);
    }
  return mode == MEL_TRANSPOSE_NORMALISE;
}

/* The segment of song @id starting at bar @bar (−1: the first full bar). */
static gboolean
segment_from_song (const MelCheckpoint *ckpt, MelCorpus *corpus, const char *id, int bar,
                   Segment *out, GError **error)
{
  guint steps = ckpt->model_config.segment_steps;
  g_autoptr(MelSong) song = NULL;
  g_auto(GStrv) symbols = NULL;
  const MelMeter *meter;
  const MelKeySignature *key;
  MelSong *found = mel_corpus_find (corpus, id);
  const MelBar *b;
  MelRational onset;
  gint64 start;

  if (found == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, _("no song “%s” in the corpus"), id);
      return FALSE;
    }
  song = checkpoint_normalises (ckpt)
           ? mel_song_transpose (found, mel_song_normalising_shift (found))
           : mel_song_ref (found);
  if (song->bars->len == 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, _("song “%s” has no bars"), id);
      return FALSE;
    }
  if (bar < 0)
    bar = (song->bars->len > 1 && g_array_index (song->bars, MelBar, 0).number == 0) ? 1 : 0;
  if ((guint) bar >= song->bars->len)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   _("song “%s” has bars 0…%u; there is no bar %d"), id, song->bars->len - 1, bar);
      return FALSE;
    }
  b = &g_array_index (song->bars, MelBar, bar);
  onset = mel_rational_mul (b->onset, mel_rational_new (MEL_STEPS_PER_QUARTER, 1));
  if (onset.den != 1)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   _("bar %d of “%s” does not start on a sixteenth"), bar, id);
      return FALSE;
    }
  start = onset.num;
  symbols = mel_song_encode (song, error);
  if (symbols == NULL)
    return FALSE;
  if (start + steps > g_strv_length (symbols))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   _("from bar %d, song “%s” is shorter than the model's %u-sixteenth segments"),
                   bar, id, steps);
      return FALSE;
    }
  out->ids = g_new (gint32, steps);
  for (guint t = 0; t < steps; t++)
    if ((out->ids[t] = mel_vocab_lookup (ckpt->vocab, symbols[start + t])) < 0)
      {
        g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                     _("the model does not know the symbol “%s” of “%s”"), symbols[start + t], id);
        return FALSE;
      }
  out->meter = (MelMeter) { .onset = { 0, 1 }, .numerator = 4, .denominator = 4 };
  if ((meter = mel_song_get_meter_at (song, b->onset)) != NULL)
    out->meter = *meter;
  if ((key = mel_song_get_key_signature_at (song, b->onset)) != NULL)
    {
      out->key = *key;
      out->have_key = TRUE;
    }
  return TRUE;
}

static char *
format_ids (const MelVocab *vocab, const gint32 *ids, guint n)
{
  g_autoptr(GString) line = g_string_new (NULL);

  for (guint i = 0; i < n; i++)
    g_string_append_printf (line, "%s%s", i > 0 ? " " : "", vocab->symbols[ids[i]]);
  return g_string_free (g_steal_pointer (&line), FALSE);
}

/* "out.krn" → "out-3.krn" when there are several. */
static char *
numbered_path (const char *output, guint index, guint n)
{
  const char *dot = strrchr (output, '.');

  if (n == 1)
    return g_strdup (output);
  if (dot == NULL || strchr (dot, G_DIR_SEPARATOR) != NULL)
    return g_strdup_printf ("%s-%u", output, index);
  return g_strdup_printf ("%.*s-%u%s", (int) (dot - output), output, index, dot);
}

/* Prints @ids as line "@label: symbols" and writes them to the index-th
 * output file when asked. */
static gboolean
emit (const MelCheckpoint *ckpt, const VaeOptions *o, const char *label, const gint32 *ids,
      const Segment *like, guint index, guint n, GError **error)
{
  guint steps = ckpt->model_config.segment_steps;
  g_autofree char *line = format_ids (ckpt->vocab, ids, steps);
  g_autoptr(GPtrArray) symbols = g_ptr_array_new ();
  g_autoptr(MelSong) song = NULL;
  g_autofree char *path = NULL;
  MelMeter four_four = { .onset = { 0, 1 }, .numerator = 4, .denominator = 4 };

  printf ("%s: %s\n", label, line);
  if (o->output == NULL)
    return TRUE;
  for (guint t = 0; t < steps; t++)
    g_ptr_array_add (symbols, ckpt->vocab->symbols[ids[t]]);
  song = mel_song_decode ((const char *const *) symbols->pdata, symbols->len, label,
                          like != NULL ? &like->meter : &four_four,
                          like != NULL && like->have_key ? &like->key : NULL, error);
  if (song == NULL)
    return FALSE;
  path = numbered_path (o->output, index, n);
  return mel_kern_write_file (song, path, error);
}

static int
run_encode (MelModel *model, const MelCheckpoint *ckpt, const Segment *seg)
{
  guint l = ckpt->model_config.latent_size;
  g_autofree float *mu = g_new (float, l);
  g_autofree float *logvar = g_new (float, l);
  g_autoptr(GError) error = NULL;

  if (!mel_model_encode (model, seg->ids, 1, mu, logvar, &error))
    return mel_cli_fail (error);
  printf ("mu:");
  for (guint k = 0; k < l; k++)
    printf (" %.5f", (double) mu[k]);
  printf ("\nsigma:");
  for (guint k = 0; k < l; k++)
    printf (" %.5f", exp (0.5 * logvar[k]));
  printf ("\n");
  return 0;
}

static int
run_reconstruct (MelModel *model, const MelCheckpoint *ckpt, const VaeOptions *o,
                 const Segment *seg)
{
  guint steps = ckpt->model_config.segment_steps, same = 0;
  g_autofree gint32 *out = g_new (gint32, steps);
  g_autoptr(GError) error = NULL;
  g_autofree char *orig = format_ids (ckpt->vocab, seg->ids, steps);

  if (!mel_vae_reconstruct (model, seg->ids, (float) o->temperature, (guint64) o->rng_seed, out,
                            &error))
    return mel_cli_fail (error);
  printf ("original: %s\n", orig);
  if (!emit (ckpt, o, "reconstruction", out, seg, 1, 1, &error))
    return mel_cli_fail (error);
  for (guint t = 0; t < steps; t++)
    same += out[t] == seg->ids[t];
  printf (_("%u of %u symbols as in the original (%.1f %%)\n"), same, steps, 100.0 * same / steps);
  return 0;
}

static int
run_sample (MelModel *model, const MelCheckpoint *ckpt, const VaeOptions *o)
{
  guint steps = ckpt->model_config.segment_steps;
  g_autofree gint32 *out = g_new (gint32, steps);
  g_autoptr(GError) error = NULL;

  for (int i = 0; i < o->samples; i++)
    {
      g_autofree char *label = g_strdup_printf ("sample-%d", i + 1);

      if (!mel_vae_sample_prior (model, mel_rng_mix ((guint64) o->rng_seed, (guint64) i, 0, 0),
                                 (float) o->temperature, out, NULL, &error)
          || !emit (ckpt, o, label, out, NULL, (guint) i + 1, (guint) o->samples, &error))
        return mel_cli_fail (error);
    }
  return 0;
}

static int
run_interpolate (MelModel *model, const MelCheckpoint *ckpt, const VaeOptions *o,
                 const Segment *a, const Segment *b)
{
  guint steps = ckpt->model_config.segment_steps, n = (guint) o->points;
  g_autofree gint32 *out = g_new (gint32, (gsize) n * steps);
  g_autoptr(GError) error = NULL;

  if (!mel_vae_interpolate (model, a->ids, b->ids, n, o->slerp ? MEL_VAE_SLERP : MEL_VAE_LERP,
                            (float) o->temperature, (guint64) o->rng_seed, out, NULL, &error))
    return mel_cli_fail (error);
  for (guint i = 0; i < n; i++)
    {
      g_autofree char *label = g_strdup_printf ("point-%u", i + 1);

      if (!emit (ckpt, o, label, out + (gsize) i * steps, a, i + 1, n, &error))
        return mel_cli_fail (error);
    }
  return 0;
}

int
mel_cli_vae (int argc, char **argv)
{
  g_auto(VaeOptions) o = { .bar = -1, .bar_b = -1, .points = 5, .temperature = 0.0, .samples = 1,
                           .rng_seed = 1 };
  GOptionEntry entries[] = {
    { "corpus", 'c', 0, G_OPTION_ARG_FILENAME, &o.corpus,
      N_("Corpus folder holding the songs (default: the training corpus, else the embedded one)"),
      N_("DIR") },
    { "song", 0, 0, G_OPTION_ARG_STRING, &o.song, N_("Song the segment comes from"), N_("ID") },
    { "bar", 0, 0, G_OPTION_ARG_INT, &o.bar, N_("Bar index where the segment starts (default: the "
                                                 "first full bar)"), N_("N") },
    { "song-b", 0, 0, G_OPTION_ARG_STRING, &o.song_b, N_("interpolate: the second song"), N_("ID") },
    { "bar-b", 0, 0, G_OPTION_ARG_INT, &o.bar_b, N_("interpolate: bar of the second song"), N_("N") },
    { "points", 'p', 0, G_OPTION_ARG_INT, &o.points,
      N_("interpolate: segments from the first to the second, ends included (default 5)"), N_("N") },
    { "slerp", 0, 0, G_OPTION_ARG_NONE, &o.slerp,
      N_("interpolate: along a great circle instead of a straight line"), NULL },
    { "temperature", 'T', 0, G_OPTION_ARG_DOUBLE, &o.temperature,
      N_("Decoding temperature; 0 = the most likely symbol (default 0)"), N_("T") },
    { "samples", 'm', 0, G_OPTION_ARG_INT, &o.samples, N_("sample: how many (default 1)"), N_("M") },
    { "rng-seed", 's', 0, G_OPTION_ARG_INT64, &o.rng_seed, N_("Random seed (default 1)"), N_("S") },
    { "output", 'o', 0, G_OPTION_ARG_FILENAME, &o.output,
      N_("Kern file to write; several segments go to NAME-1.krn, NAME-2.krn…"), N_("FILE") },
    { NULL },
  };
  g_autoptr(GOptionContext) context
    = g_option_context_new (_("encode|reconstruct|sample|interpolate CHECKPOINT — use a melody VAE"));
  g_autoptr(GError) error = NULL;
  g_autoptr(MelCheckpoint) ckpt = NULL;
  g_autoptr(MelModel) model = NULL;
  g_autoptr(MelCorpus) corpus = NULL;
  g_auto(Segment) seg_a = { 0 };
  g_auto(Segment) seg_b = { 0 };
  const char *command;

  g_option_context_set_summary (context,
                                _("encode       print the latent mean and spread of a segment\n"
                                  "reconstruct  encode a segment and decode it again\n"
                                  "sample       decode latents drawn from the prior\n"
                                  "interpolate  decode points on the way between two segments"));
  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    return mel_cli_fail (error);
  if (argc != 3)
    return mel_cli_failf (_("vae needs a command and a checkpoint; see --help"));
  command = argv[1];
  if (strcmp (command, "encode") != 0 && strcmp (command, "reconstruct") != 0
      && strcmp (command, "sample") != 0 && strcmp (command, "interpolate") != 0)
    return mel_cli_failf (_("unknown vae command “%s” (encode, reconstruct, sample, interpolate)"),
                          command);
  if (!(o.temperature >= 0.0 && o.temperature <= 100.0) || o.samples < 1 || o.samples > 10000
      || o.points < 2 || o.points > 1000)
    return mel_cli_failf (_("bad value: temperature 0…100, --samples 1…10000, --points 2…1000"));

  ckpt = mel_checkpoint_load (argv[2], &error);
  if (ckpt == NULL)
    return mel_cli_fail (error);
  if (ckpt->model_config.kind != MEL_MODEL_VAE)
    return mel_cli_failf (_("%s holds a “%s” model, not a VAE"), argv[2],
                          mel_model_kind_to_string (ckpt->model_config.kind));
  model = mel_checkpoint_create_model (ckpt, &error);
  if (model == NULL)
    return mel_cli_fail (error);
  mel_model_set_training (model, FALSE);

  if (strcmp (command, "sample") == 0)
    return run_sample (model, ckpt, &o);

  if (o.song == NULL)
    return mel_cli_failf (_("%s needs --song"), command);
  if (strcmp (command, "interpolate") == 0 && o.song_b == NULL)
    return mel_cli_failf (_("interpolate needs --song and --song-b"));
  corpus = load_corpus (ckpt, o.corpus, &error);
  if (corpus == NULL || !segment_from_song (ckpt, corpus, o.song, o.bar, &seg_a, &error))
    return mel_cli_fail (error);
  if (strcmp (command, "encode") == 0)
    return run_encode (model, ckpt, &seg_a);
  if (strcmp (command, "reconstruct") == 0)
    return run_reconstruct (model, ckpt, &o, &seg_a);
  if (!segment_from_song (ckpt, corpus, o.song_b, o.bar_b, &seg_b, &error))
    return mel_cli_fail (error);
  return run_interpolate (model, ckpt, &o, &seg_a, &seg_b);
}
