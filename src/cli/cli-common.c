/* cli-common.c — progress lines and error reporting shared by the commands.
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include "mel-cli.h"

#include <glib/gi18n.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static gint64 last_progress_us;
static gboolean progress_open;

gboolean
mel_cli_is_interactive (void)
{
  return isatty (STDERR_FILENO);
}

void
mel_cli_progress (const char *label, double fraction, const char *detail)
{
  gint64 now = g_get_monotonic_time ();
  gboolean tty = mel_cli_is_interactive ();

  /* On a terminal redraw at most 10 times a second; in a log once a second. */
  if (now - last_progress_us < (tty ? 100000 : 1000000) && fraction < 1.0)
    return;
  last_progress_us = now;
  fraction = CLAMP (fraction, 0.0, 1.0);
  if (tty)
    {
      fprintf (stderr, "\r\033[K%s %5.1f%%%s%s", label, 100.0 * fraction, detail ? "  " : "", detail ? detail : "");
      progress_open = TRUE;
    }
  else
    fprintf (stderr, "%s %5.1f%%%s%s\n", label, 100.0 * fraction, detail ? "  " : "", detail ? detail : "");
  fflush (stderr);
}

void
mel_cli_progress_done (void)
{
  if (progress_open)
    fputc ('\n', stderr);
  progress_open = FALSE;
  last_progress_us = 0;
}

int
mel_cli_fail (const GError *error)
{
  mel_cli_progress_done ();
  fprintf (stderr, "melodist-cli: %s\n", error != NULL ? error->message : _("unknown error"));
  return 1;
}

int
mel_cli_failf (const char *format, ...)
{
  va_list args;
  g_autofree char *message = NULL;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);
  mel_cli_progress_done ();
  fprintf (stderr, "melodist-cli: %s\n", message);
  return 1;
}

void
mel_cli_print_label (const char *label, int width)
{
  glong chars = g_utf8_validate (label, -1, NULL) ? g_utf8_strlen (label, -1) : (glong) strlen (label);

  fputs ("  ", stdout);
  fputs (label, stdout);
  for (glong i = chars; i < width; i++)
    fputc (' ', stdout);
  fputc (' ', stdout);
}
