/* melodist-cli — every capability of Melodist, headless.
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <glib/gi18n.h>
#include <locale.h>
#include <stdio.h>
#include <string.h>

#include "mel-cli.h"

/* Command groups; each lives in its own cli-<group>.c.  Keep sorted. */
typedef struct
{
  const char *name;
  MelCliCommand run;
  const char *summary;
} CommandEntry;

static const CommandEntry commands[] = {
  /* COMMANDS: one line per group, added by the file that implements it. */
  { "compare", mel_cli_compare, N_("Compare trained models and an n-gram baseline on the same held-out songs") },
  { "corpus", mel_cli_corpus, N_("Inspect a corpus and encode it as a training dataset") },
  { "engrave", mel_cli_engrave, N_("Engrave a melody as staff notation (PNG, SVG, PDF)") },
  { "eval", mel_cli_eval, N_("Score a trained model on held-out songs (bits/symbol, accuracy)") },
  { "export", mel_cli_export, N_("Write a melody as MIDI, MusicXML (.musicxml/.mxl), kern or ABC") },
  { "generate", mel_cli_generate, N_("Write new melodies with a trained model") },
  { "render", mel_cli_render, N_("Play a melody into an audio file (WAV, FLAC, OGG) with FluidSynth") },
  { "train", mel_cli_train, N_("Train a melody model on a corpus") },
  { "vae", mel_cli_vae, N_("Encode, reconstruct, sample and interpolate melodies with a VAE") },
  { NULL, NULL, NULL },
};

static void
print_usage (FILE *out)
{
  fprintf (out, _("Usage: melodist-cli COMMAND [OPTIONS…]\n\nCommands:\n"));
  for (const CommandEntry *c = commands; c->name != NULL; c++)
    fprintf (out, "  %-10s %s\n", c->name, _(c->summary));
  fprintf (out, _("\nRun 'melodist-cli COMMAND --help' for the options of a command.\n"));
}

int
main (int argc, char **argv)
{
  /* Lets an uninstalled build find its own catalogues (build/po). */
  const char *localedir = g_getenv ("MELODIST_LOCALEDIR");

  setlocale (LC_ALL, "");
  bindtextdomain (GETTEXT_PACKAGE, localedir != NULL && *localedir != '\0' ? localedir : LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);

  if (argc < 2 || strcmp (argv[1], "--help") == 0 || strcmp (argv[1], "-h") == 0)
    {
      print_usage (argc < 2 ? stderr : stdout);
      return argc < 2 ? 2 : 0;
    }
  if (strcmp (argv[1], "--version") == 0)
    {
      printf ("melodist-cli %s\n", PACKAGE_VERSION);
      return 0;
    }
  for (const CommandEntry *c = commands; c->name != NULL; c++)
    if (strcmp (argv[1], c->name) == 0)
      return c->run (argc - 1, argv + 1);

  fprintf (stderr, _("melodist-cli: unknown command '%s'\n\n"), argv[1]);
  print_usage (stderr);
  return 2;
}
