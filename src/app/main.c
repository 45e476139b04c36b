/* main.c — starts Melodist.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <glib/gi18n.h>
#include <locale.h>

#include "mel-application.h"

int
main (int argc, char *argv[])
{
  g_autoptr(MelApplication) app = NULL;
  /* Lets an uninstalled build find its own catalogues (build/po). */
  const char *localedir = g_getenv ("MELODIST_LOCALEDIR");

  setlocale (LC_ALL, "");
  bindtextdomain (GETTEXT_PACKAGE, localedir != NULL && *localedir != '\0' ? localedir : LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);

  app = mel_application_new (G_APPLICATION_DEFAULT_FLAGS);
  return g_application_run (G_APPLICATION (app), argc, argv);
}
