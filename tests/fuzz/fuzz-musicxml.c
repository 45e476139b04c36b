/* fuzz-musicxml.c — libFuzzer target for the MusicXML reader.
 *
 * Any input must be read or refused without a crash, a leak or UB; a
 * refusal must be a MEL_EXPORT_ERROR or G_FILE_ERROR naming the source,
 * and a song that is read must be well formed (sorted events, positive
 * durations, the song's duration at the end of the last event).
 *
 * Build: meson setup build-fuzz -Dfuzzing=true -Dapp=disabled (CC=clang);
 * run:   build-fuzz/tests/fuzz/fuzz-musicxml WORKDIR SEEDS (e.g. files written
 *        by `melodist-cli render SONG out.musicxml`)
 *
 * SPDX-License-Identifier: MIT
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mel-musicxml.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MelSong) song = NULL;
  MelRational end = MEL_RATIONAL_ZERO;

  /* Criticals from g_return_if_fail are bugs too. */
  g_log_set_always_fatal (G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING | G_LOG_FATAL_MASK);

  song = mel_musicxml_parse ((const char *) data, size, "fuzz.musicxml", &error);
  if (song == NULL)
    {
      if (error == NULL || error->domain != MEL_EXPORT_ERROR || strstr (error->message, "fuzz.musicxml") == NULL)
        abort ();
      return 0;
    }
  if (error != NULL || mel_song_get_n_events (song) == 0)
    abort ();
  for (guint i = 0; i < mel_song_get_n_events (song); i++)
    {
      const MelEvent *ev = mel_song_get_event (song, i);

      if (mel_rational_compare (ev->onset, end) != 0 || ev->duration.num <= 0 || ev->bar > song->bars->len)
        abort ();
      end = mel_rational_add (ev->onset, ev->duration);
    }
  if (!mel_rational_equal (end, song->duration))
    abort ();
  return 0;
}
