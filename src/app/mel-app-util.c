/* mel-app-util.c — small helpers the views share.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include <glib/gi18n.h>

#include "mel-app-private.h"
#include "mel-app-resources.h"
#include "mel-export.h"
#include "mel-kern.h"
#include "mel-player.h"
#include "mel-score-view.h"
#include "mel-engrave.h"
#include "mel-midi.h"
#include "mel-musicxml.h"
#include "mel-abc.h"

void
_mel_app_ensure_resources (void)
{
  static gsize registered = 0;

  if (g_once_init_enter (&registered))
    {
      mel_app_register_resource ();
      g_once_init_leave (&registered, 1);
    }
}

GtkWidget *
_mel_score_widget_new (void)
{
  return mel_score_view_new ();
}

void
_mel_score_widget_set_song (GtkWidget *widget, MelSong *song)
{
  g_return_if_fail (GTK_IS_WIDGET (widget));
  mel_score_view_set_song (MEL_SCORE_VIEW (widget), song);
}

void
_mel_score_widget_set_cursor (GtkWidget *widget, double time)
{
  g_return_if_fail (GTK_IS_WIDGET (widget));
  mel_score_view_set_cursor (MEL_SCORE_VIEW (widget), time);
}

char *
_mel_format_duration (double seconds)
{
  guint64 s;

  if (isnan (seconds) || seconds < 0 || isinf (seconds))
    return g_strdup ("—");
  s = (guint64) llround (seconds);
  if (s >= 3600)
    /* Translators: hours and minutes */
    return g_strdup_printf (_("%u h %02u min"), (guint) (s / 3600), (guint) (s / 60 % 60));
  if (s >= 60)
    /* Translators: minutes and seconds */
    return g_strdup_printf (_("%u min %02u s"), (guint) (s / 60), (guint) (s % 60));
  /* Translators: seconds */
  return g_strdup_printf (_("%u s"), (guint) s);
}

/* Whole names, not a letter and an accidental: German says "Es" for E♭,
 * "Fis" for F♯ and "H" for B. */
char *
_mel_tonic_name (char step, int alter, gboolean minor)
{
  /* Rows C … B; columns flat, natural, sharp. */
  static const char *const names[7][3] = {
    { NC_("tonic", "C♭"), NC_("tonic", "C"), NC_("tonic", "C♯") },
    { NC_("tonic", "D♭"), NC_("tonic", "D"), NC_("tonic", "D♯") },
    { NC_("tonic", "E♭"), NC_("tonic", "E"), NC_("tonic", "E♯") },
    { NC_("tonic", "F♭"), NC_("tonic", "F"), NC_("tonic", "F♯") },
    { NC_("tonic", "G♭"), NC_("tonic", "G"), NC_("tonic", "G♯") },
    { NC_("tonic", "A♭"), NC_("tonic", "A"), NC_("tonic", "A♯") },
    { NC_("tonic", "B♭"), NC_("tonic", "B"), NC_("tonic", "B♯") },
  };
  static const char letters[] = "CDEFGAB";
  const char *at = step != '\0' ? strchr (letters, g_ascii_toupper (step)) : NULL;
  g_autofree char *name = NULL;

  if (at == NULL)
    return g_strdup ("—");
  if (alter >= -1 && alter <= 1)
    name = g_strdup (g_dpgettext2 (GETTEXT_PACKAGE, "tonic", names[at - letters][alter + 1]));
  else
    {
      /* Double accidentals: too rare in folk songs to name. */
      GString *text = g_string_new (NULL);

      g_string_append_c (text, *at);
      for (int i = 0; i < ABS (alter); i++)
        g_string_append (text, alter > 0 ? "♯" : "♭");
      name = g_string_free (text, FALSE);
    }
  return minor ? g_utf8_strdown (name, -1) : g_steal_pointer (&name);
}

double
_mel_default_tempo (const MelSong *song)
{
  return mel_export_default_tempo (song);
}

gboolean
_mel_export_song (MelSong *song, const char *path, double tempo, int program,
                  const char *soundfont, GCancellable *cancellable, GError **error)
{
  g_autofree char *extension = NULL;

  g_return_val_if_fail (song != NULL, FALSE);
  g_return_val_if_fail (path != NULL, FALSE);

  extension = mel_export_path_extension (path);
  if (g_strcmp0 (extension, "krn") == 0)
    return mel_kern_write_file (song, path, error);
  if (g_strcmp0 (extension, "wav") == 0 || g_strcmp0 (extension, "flac") == 0
      || g_strcmp0 (extension, "ogg") == 0)
    return mel_player_render_wav (song, tempo, soundfont, program, path, cancellable, error);
  if (g_strcmp0 (extension, "png") == 0 || g_strcmp0 (extension, "svg") == 0
      || g_strcmp0 (extension, "pdf") == 0)
    return mel_engrave_export_file (song, path, NULL, NULL, error);
  if (g_strcmp0 (extension, "mid") == 0 || g_strcmp0 (extension, "midi") == 0)
    {
      MelMidiOptions options;

      mel_midi_options_init (&options);
      options.tempo = tempo;
      options.program = CLAMP (program, 0, 127);
      return mel_midi_write_file (song, &options, path, error);
    }
  if (g_strcmp0 (extension, "musicxml") == 0 || g_strcmp0 (extension, "xml") == 0)
    return mel_musicxml_write_file (song, path, error);
  if (g_strcmp0 (extension, "abc") == 0)
    return mel_abc_write_file (song, path, error);
  g_set_error (error, MEL_EXPORT_ERROR, MEL_EXPORT_ERROR_FORMAT,
               _("Cannot save “%s”: unknown or unsupported file type"), path);
  return FALSE;
}
