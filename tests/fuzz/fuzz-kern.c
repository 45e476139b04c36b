/* fuzz-kern.c — libFuzzer target for the **kern reader and writer.
 *
 * Any input must be parsed or refused without a crash, a leak or UB; when
 * it parses, writing it out and parsing that again must give an
 * equivalent song (events, bars, meters, keys, references).
 *
 * Build: meson setup build-fuzz -Dfuzzing=true -Dapp=disabled (CC=clang);
 * run:   build-fuzz/tests/fuzz/fuzz-kern WORKDIR tests/fixtures/kern
 *
 * SPDX-License-Identifier: MIT
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "kern-compare.h"
#include "mel-kern.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MelSong) song = NULL;
  g_autoptr (MelSong) again = NULL;
  g_autofree char *text = NULL;
  g_autofree char *why = NULL;
  guint line = 0;

  /* Criticals from g_return_if_fail are bugs too. */
  g_log_set_always_fatal (G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING | G_LOG_FATAL_MASK);

  song = mel_kern_parse_full ((const char *) data, size, "fuzz.krn", &line, &error);
  if (song == NULL)
    {
      /* A refusal must say where and what. */
      if (error == NULL || error->domain != MEL_KERN_ERROR ||
          !g_str_has_prefix (error->message, "fuzz.krn:"))
        abort ();
      return 0;
    }
  text = mel_kern_write (song);
  again = mel_kern_parse (text, strlen (text), "fuzz.krn", &error);
  if (again == NULL)
    {
      fprintf (stderr, "written kern does not parse: %s\n--\n%s--\n", error->message, text);
      abort ();
    }
  if (!mel_test_songs_equivalent (song, again, &why))
    {
      fprintf (stderr, "round trip changed the song: %s\n--\n%s--\n", why, text);
      abort ();
    }
  return 0;
}
