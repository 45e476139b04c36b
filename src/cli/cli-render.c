/* cli-render.c — `melodist-cli render` (audio) and `melodist-cli export`
 * (MIDI, MusicXML, .mxl, kern, ABC).
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <glib/gi18n.h>
#include <stdio.h>
#include <string.h>

#include "mel-abc.h"
#include "mel-cli.h"
#include "mel-corpus.h"
#include "mel-export.h"
#include "mel-kern.h"
#include "mel-midi.h"
#include "mel-musicxml.h"
#include "mel-synth.h"

/* IN is a kern or MusicXML file (a corpus file or a generated melody), or a song id
 * looked up in --corpus DIR or in the embedded corpus. */
static MelSong *
load_song (const char *input, const char *corpus_dir, GError **error)
{
  g_autoptr (MelCorpus) corpus = NULL;
  MelSong *song;

  if (g_file_test (input, G_FILE_TEST_IS_REGULAR))
    {
      g_autofree char *extension = mel_export_path_extension (input);

      if (g_strcmp0 (extension, "musicxml") == 0 || g_strcmp0 (extension, "xml") == 0
          || g_strcmp0 (extension, "mxl") == 0)
        return mel_musicxml_read_file (input, error);
      return mel_kern_read_file (input, error);
    }
  if (corpus_dir != NULL)
    corpus = mel_corpus_load (corpus_dir, 0, NULL, NULL, NULL, error);
  else
    corpus = mel_corpus_load_embedded (error);
  if (corpus == NULL)
    return NULL;
  song = mel_corpus_find (corpus, input);
  if (song == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                   _("'%s' is neither a kern or MusicXML file nor a song id in the %s corpus"), input,
                   corpus_dir != NULL ? corpus_dir : _("embedded"));
      return NULL;
    }
  return mel_song_ref (song);
}

static gboolean
parse_sample_format (const char *text, MelSampleFormat *format)
{
  if (text == NULL || g_str_equal (text, "16"))
    *format = MEL_SAMPLE_FORMAT_PCM16;
  else if (g_str_equal (text, "24"))
    *format = MEL_SAMPLE_FORMAT_PCM24;
  else if (g_str_equal (text, "float") || g_str_equal (text, "32"))
    *format = MEL_SAMPLE_FORMAT_FLOAT;
  else
    return FALSE;
  return TRUE;
}

int
mel_cli_render (int argc, char **argv)
{
  g_autofree char *output = NULL, *soundfont = NULL, *corpus_dir = NULL, *format_text = NULL;
  double tempo = 0.0, fade = 0.0, tail = -1.0;
  int program = MEL_SYNTH_DEFAULT_PROGRAM, rate = 44100, velocity = 90;
  gboolean mono = FALSE, count_in = FALSE, dry = FALSE;
  GOptionEntry entries[] = {
    { "output", 'o', 0, G_OPTION_ARG_FILENAME, &output, N_("Audio file to write (.wav, .flac, .ogg, .aiff)"), N_("FILE") },
    { "tempo", 't', 0, G_OPTION_ARG_DOUBLE, &tempo, N_("Quarter notes per minute (default: from the meter)"), N_("BPM") },
    { "program", 'p', 0, G_OPTION_ARG_INT, &program, N_("General MIDI program 0-127 (default 73, flute)"), N_("N") },
    { "velocity", 0, 0, G_OPTION_ARG_INT, &velocity, N_("Note velocity 1-127 (default 90)"), N_("N") },
    { "soundfont", 's', 0, G_OPTION_ARG_FILENAME, &soundfont, N_("SoundFont to play with"), N_("FILE") },
    { "rate", 'r', 0, G_OPTION_ARG_INT, &rate, N_("Sample rate: 22050, 44100 (default) or 48000"), N_("HZ") },
    { "format", 'f', 0, G_OPTION_ARG_STRING, &format_text, N_("Samples: 16 (default), 24 or float"), N_("FORMAT") },
    { "mono", 0, 0, G_OPTION_ARG_NONE, &mono, N_("One channel instead of two"), NULL },
    { "count-in", 0, 0, G_OPTION_ARG_NONE, &count_in, N_("One bar of clicks before the melody"), NULL },
    { "fade", 0, 0, G_OPTION_ARG_DOUBLE, &fade, N_("Fade out over the last SECONDS"), N_("SECONDS") },
    { "tail", 0, 0, G_OPTION_ARG_DOUBLE, &tail, N_("Seconds after the last note (default 1.5)"), N_("SECONDS") },
    { "dry", 0, 0, G_OPTION_ARG_NONE, &dry, N_("No reverb"), NULL },
    { "corpus", 'c', 0, G_OPTION_ARG_FILENAME, &corpus_dir,
      N_("Look IN up as a song id in this folder of kern files (default: the embedded corpus)"), N_("DIR") },
    { NULL },
  };
  g_autoptr (GOptionContext) context = g_option_context_new (_("IN — play a melody into an audio file"));
  g_autoptr (GError) error = NULL;
  g_autoptr (MelSong) song = NULL;
  MelSynthOptions options;
  MelSampleFormat format;

  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  g_option_context_set_description (context,
                                    _("IN is a **kern or MusicXML file, or a song id from --corpus DIR or the embedded corpus.\n"
                                      "SoundFont: --soundfont, else $MELODIST_SOUNDFONT, else "
                                      "/usr/share/sounds/sf2/TimGM6mb.sf2 or FluidR3_GM.sf2.\n"));
  if (!g_option_context_parse (context, &argc, &argv, &error))
    return mel_cli_fail (error);
  if (argc != 2 || output == NULL)
    return mel_cli_failf (_("usage: melodist-cli render IN -o OUT.wav (see --help)"));
  if (!parse_sample_format (format_text, &format))
    return mel_cli_failf (_("--format must be 16, 24 or float, not '%s'"), format_text);

  song = load_song (argv[1], corpus_dir, &error);
  if (song == NULL)
    return mel_cli_fail (error);
  mel_synth_options_init (&options);
  options.soundfont = soundfont;
  options.tempo = tempo;
  options.program = program;
  options.velocity = velocity;
  options.sample_rate = rate > 0 ? (guint) rate : 0;
  options.channels = mono ? 1 : 2;
  options.count_in = count_in;
  options.fade_out = fade;
  options.reverb = !dry;
  if (tail >= 0.0)
    options.tail = tail;
  if (!mel_synth_render_file (song, &options, output, format, NULL, &error))
    return mel_cli_fail (error);
  return 0;
}

/* Writes @song in the format the extension of @path names. */
static gboolean
export_song (const MelSong *song, const char *path, const MelMidiOptions *midi, GError **error)
{
  g_autofree char *ext = mel_export_path_extension (path);

  if (g_str_equal (ext, "mid") || g_str_equal (ext, "midi"))
    return mel_midi_write_file (song, midi, path, error);
  if (g_str_equal (ext, "musicxml") || g_str_equal (ext, "xml") || g_str_equal (ext, "mxl"))
    return mel_musicxml_write_file (song, path, error);
  if (g_str_equal (ext, "krn"))
    return mel_kern_write_file (song, path, error);
  if (g_str_equal (ext, "abc"))
    return mel_abc_write_file (song, path, error);
  g_set_error (error, MEL_EXPORT_ERROR, MEL_EXPORT_ERROR_FORMAT,
               _("Unknown file type '%s': use .mid, .musicxml, .mxl, .krn or .abc"), path);
  return FALSE;
}

int
mel_cli_export (int argc, char **argv)
{
  g_autofree char *output = NULL, *corpus_dir = NULL;
  double tempo = 0.0;
  int program = MEL_SYNTH_DEFAULT_PROGRAM;
  GOptionEntry entries[] = {
    { "output", 'o', 0, G_OPTION_ARG_FILENAME, &output,
      N_("File to write: .mid, .musicxml, .mxl, .krn or .abc"), N_("FILE") },
    { "tempo", 't', 0, G_OPTION_ARG_DOUBLE, &tempo, N_("MIDI: quarter notes per minute (default: from the meter)"),
      N_("BPM") },
    { "program", 'p', 0, G_OPTION_ARG_INT, &program, N_("MIDI: General MIDI program 0-127 (default 73, flute)"),
      N_("N") },
    { "corpus", 'c', 0, G_OPTION_ARG_FILENAME, &corpus_dir,
      N_("Look IN up as a song id in this folder of kern files (default: the embedded corpus)"), N_("DIR") },
    { NULL },
  };
  g_autoptr (GOptionContext) context = g_option_context_new (_("IN — write a melody as MIDI, MusicXML, kern or ABC"));
  g_autoptr (GError) error = NULL;
  g_autoptr (MelSong) song = NULL;
  MelMidiOptions midi;

  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  g_option_context_set_description (context,
                                    _("IN is a **kern or MusicXML file, or a song id from --corpus DIR or the embedded corpus.\n"
                                      "The format follows the extension of FILE.\n"));
  if (!g_option_context_parse (context, &argc, &argv, &error))
    return mel_cli_fail (error);
  if (argc != 2 || output == NULL)
    return mel_cli_failf (_("usage: melodist-cli export IN -o OUT.mid|.musicxml|.mxl|.krn|.abc (see --help)"));
  if (program < 0 || program > 127)
    return mel_cli_failf (_("--program must lie between 0 and 127"));
  if (tempo < 0.0 || tempo > 1000.0)
    return mel_cli_failf (_("--tempo must lie between 1 and 1000"));

  song = load_song (argv[1], corpus_dir, &error);
  if (song == NULL)
    return mel_cli_fail (error);
  mel_midi_options_init (&midi);
  midi.tempo = tempo;
  midi.program = program;
  if (!export_song (song, output, &midi, &error))
    return mel_cli_fail (error);
  return 0;
}
