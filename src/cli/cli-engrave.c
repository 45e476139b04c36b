/* cli-engrave.c — `melodist-cli engrave`: a melody as staff notation in a
 * PNG, SVG or PDF file.
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <glib/gi18n.h>
#include <stdio.h>

#include "mel-cli.h"
#include "mel-corpus.h"
#include "mel-engrave.h"
#include "mel-kern.h"
#include "mel-musicxml.h"

/* IN is a kern or MusicXML file when such a file exists, else a song id (or file
 * basename) looked up in --corpus DIR or the embedded corpus. */
static MelSong *
load_input (const char *input, const char *corpus_dir, GError **error)
{
  if (corpus_dir == NULL && g_file_test (input, G_FILE_TEST_IS_REGULAR))
    {
      g_autofree char *extension = mel_export_path_extension (input);

      if (g_strcmp0 (extension, "musicxml") == 0 || g_strcmp0 (extension, "xml") == 0
          || g_strcmp0 (extension, "mxl") == 0)
        return mel_musicxml_read_file (input, error);
      return mel_kern_read_file (input, error);
    }

  g_autoptr (MelCorpus) corpus = NULL;
  if (corpus_dir != NULL)
    corpus = mel_corpus_load (corpus_dir, 0, NULL, NULL, NULL, error);
  else
    corpus = mel_corpus_load_embedded (error);
  if (corpus == NULL)
    return NULL;
  MelSong *song = mel_corpus_find (corpus, input);
  if (song == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                   _("'%s' is neither a kern or MusicXML file nor a song id in the %s corpus"), input,
                   corpus_dir != NULL ? corpus_dir : _("embedded"));
      return NULL;
    }
  return mel_song_ref (song);
}

int
mel_cli_engrave (int argc, char **argv)
{
  g_autofree char *output = NULL;
  g_autofree char *corpus_dir = NULL;
  double width = 0, scale = 1.0;
  gboolean no_title = FALSE;
  g_autoptr (GError) error = NULL;
  MelEngraveOptions options;

  mel_engrave_options_init (&options);
  GOptionEntry entries[] = {
    { "output", 'o', 0, G_OPTION_ARG_FILENAME, &output, N_("Output file: .png, .svg or .pdf (A4 pages)"),
      N_("FILE") },
    { "width", 'w', 0, G_OPTION_ARG_DOUBLE, &width, N_("Image width in pixels (PNG) or points (SVG); default 1000"),
      N_("PX") },
    { "scale", 's', 0, G_OPTION_ARG_DOUBLE, &scale, N_("Size of the notation, 1 = 8 px staff space (default 1)"),
      N_("S") },
    { "corpus", 'c', 0, G_OPTION_ARG_FILENAME, &corpus_dir,
      N_("Look IN up as a song id in this folder of kern files (default: the embedded corpus)"), N_("DIR") },
    { "no-title", 0, 0, G_OPTION_ARG_NONE, &no_title, N_("Leave out the title and region"), NULL },
    { NULL },
  };
  g_autoptr (GOptionContext) context = g_option_context_new (_("IN — engrave a melody as staff notation"));
  g_option_context_set_summary (context,
                                _("IN is a **kern or MusicXML file, or a song id from --corpus DIR or the embedded corpus.\n"
                                  "The format follows the extension of -o: PNG, SVG, or PDF (A4, several "
                                  "pages when needed)."));
  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    return mel_cli_fail (error);
  if (argc != 2)
    return mel_cli_failf (_("engrave needs exactly one input (a kern file or a song id); see --help"));
  if (output == NULL)
    return mel_cli_failf (_("engrave needs an output file: -o FILE.png|.svg|.pdf"));
  if (width != 0)
    {
      if (!(width >= 100 && width <= 20000))
        return mel_cli_failf (_("--width must be between 100 and 20000"));
      options.width = width;
    }
  if (!(scale >= 0.1 && scale <= 20))
    return mel_cli_failf (_("--scale must be between 0.1 and 20"));
  options.scale = scale;
  options.show_title = !no_title;

  if (!mel_engrave_format_from_path (output, NULL, &error) || !mel_engrave_check_font (&error))
    return mel_cli_fail (error);
  g_autoptr (MelSong) song = load_input (argv[1], corpus_dir, &error);
  if (song == NULL)
    return mel_cli_fail (error);
  if (!mel_engrave_export_file (song, output, &options, NULL, &error))
    return mel_cli_fail (error);
  return 0;
}
